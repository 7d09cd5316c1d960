//! Conversion of a [`Value`] into a Rust type, used by [`Row::get`](crate::Row::get).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use half::f16;

use crate::value::{Decimal, Value};

/// Why a [`Value`] could not be converted: the value's type and the requested Rust type.
///
/// [`Row::get`](crate::Row::get) turns it into an [`Error`](crate::Error) that also names the
/// column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromValueError {
    /// The variant name of the value (see [`Value::type_name`]).
    pub value_type: &'static str,
    /// The requested Rust type.
    pub target: &'static str,
    /// Why, when more than a type mismatch: e.g. `"value 300 is out of range"`.
    pub detail: Option<String>,
}

impl std::fmt::Display for FromValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read a {} value as {}",
            self.value_type, self.target
        )?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for FromValueError {}

/// A Rust type that can be read from a [`Value`].
///
/// Conversions never lose information: integers convert to any integer type that holds the
/// value, `f16` and `f32` widen to `f64`; anything else is a [`FromValueError`]. NULL converts
/// only into `Option<T>` (as `None`) or into [`Value`].
pub trait FromValue: Sized {
    /// Converts the value.
    ///
    /// # Errors
    /// When the value's type does not convert to `Self`, or its value does not fit.
    fn from_value(value: &Value) -> Result<Self, FromValueError>;
}

fn mismatch<T>(value: &Value) -> FromValueError {
    FromValueError {
        value_type: value.type_name(),
        target: std::any::type_name::<T>(),
        detail: None,
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, FromValueError> {
                let wide: i128 = match value {
                    Value::Int8(v) => (*v).into(),
                    Value::Int16(v) => (*v).into(),
                    Value::Int32(v) => (*v).into(),
                    Value::Int64(v) => (*v).into(),
                    Value::UInt8(v) => (*v).into(),
                    Value::UInt16(v) => (*v).into(),
                    Value::UInt32(v) => (*v).into(),
                    Value::UInt64(v) => (*v).into(),
                    other => return Err(mismatch::<$t>(other)),
                };
                <$t>::try_from(wide).map_err(|_| FromValueError {
                    detail: Some(format!("value {wide} is out of range")),
                    ..mismatch::<$t>(value)
                })
            }
        }
    )*};
}

integer!(i8, i16, i32, i64, u8, u16, u32, u64, i128);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Float16(v) => Ok(v.to_f64()),
            Value::Float32(v) => Ok((*v).into()),
            Value::Float64(v) => Ok(*v),
            other => Err(mismatch::<f64>(other)),
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Float16(v) => Ok(v.to_f32()),
            Value::Float32(v) => Ok(*v),
            other => Err(mismatch::<f32>(other)),
        }
    }
}

macro_rules! exact {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, FromValueError> {
                match value {
                    Value::$variant(v) => Ok(v.clone()),
                    other => Err(mismatch::<$t>(other)),
                }
            }
        }
    )*};
}

exact!(
    bool => Bool, f16 => Float16, String => String, Vec<u8> => Binary,
    NaiveDate => Date, NaiveTime => Time, NaiveDateTime => Timestamp, TimeDelta => Duration,
    Vec<Value> => List,
);

impl FromValue for Decimal {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Decimal(v) => Ok(**v),
            other => Err(mismatch::<Decimal>(other)),
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::TimestampTz(v, _) => Ok(*v),
            other => Err(mismatch::<DateTime<Utc>>(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_and_narrow_only_when_exact() {
        assert_eq!(i64::from_value(&Value::Int8(-3)), Ok(-3));
        assert_eq!(u8::from_value(&Value::Int64(200)), Ok(200));
        let e = u8::from_value(&Value::Int64(300)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read a Int64 value as u8 (value 300 is out of range)"
        );
        assert!(i32::from_value(&Value::Float64(1.0)).is_err());
    }

    #[test]
    fn null_needs_option() {
        assert_eq!(Option::<i32>::from_value(&Value::Null), Ok(None));
        let e = i32::from_value(&Value::Null).unwrap_err();
        assert_eq!(e.value_type, "Null");
    }

    #[test]
    fn floats_widen() {
        assert_eq!(f64::from_value(&Value::Float32(0.5)), Ok(0.5));
        assert!(f32::from_value(&Value::Float64(0.5)).is_err());
    }

    #[test]
    fn strings_are_not_numbers() {
        let e = String::from_value(&Value::Int32(1)).unwrap_err();
        assert_eq!(e.target, "alloc::string::String");
    }
}

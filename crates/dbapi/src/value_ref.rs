//! Reading one value of a row straight from its Arrow array into a Rust type.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use half::f16;

use crate::reader::Reader;
use crate::{Decimal, Error, FromValue, FromValueError, Result, Value};

/// One value of a [`Row`](crate::Row), not yet read: [`FromValueRef`] implementations read
/// it into their type, borrowing from the Arrow buffers where they can.
#[derive(Clone, Copy)]
pub struct ValueRef<'a> {
    reader: &'a Reader,
    index: usize,
}

impl std::fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_value() {
            Ok(v) => f.debug_tuple("ValueRef").field(&v).finish(),
            Err(e) => f.debug_tuple("ValueRef").field(&e.to_string()).finish(),
        }
    }
}

impl<'a> ValueRef<'a> {
    #[inline]
    pub(crate) fn new(reader: &'a Reader, index: usize) -> ValueRef<'a> {
        ValueRef { reader, index }
    }

    /// Whether the value is NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.reader.is_null(self.index)
    }

    /// The value read into a [`Value`].
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error for a value that has no `Value`
    /// (e.g. a timestamp out of `chrono`'s range).
    pub fn to_value(&self) -> Result<Value> {
        self.reader.read(self.index)
    }

    /// The Arrow array holding the value and the value's index in it (`None` for rows made of
    /// values).
    pub fn array(&self) -> Option<(&'a dyn arrow::array::Array, usize)> {
        self.reader.array().map(|a| (a, self.index))
    }

    /// The text, borrowed from the Arrow buffer, when the value is text (`Utf8`,
    /// `LargeUtf8`, `Utf8View`) and not NULL.
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        self.reader.str(self.index)
    }

    /// The bytes, borrowed from the Arrow buffer, when the value is binary and not NULL.
    #[inline]
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        self.reader.bytes(self.index)
    }

    /// The name of the [`Value`] variant the value reads as (`"Int64"`, `"String"`,
    /// `"Null"`...), as [`Value::type_name`].
    pub fn type_name(&self) -> &'static str {
        self.reader.type_name(self.index)
    }

    #[inline]
    pub(crate) fn int(&self) -> Option<i128> {
        self.reader.int(self.index)
    }

    #[inline]
    pub(crate) fn float(&self) -> Option<f64> {
        self.reader.float(self.index)
    }

    #[inline]
    pub(crate) fn timestamp(&self) -> Option<Result<NaiveDateTime>> {
        self.reader.timestamp(self.index)
    }

    /// A mismatch error: this value cannot be read as `T`.
    pub(crate) fn mismatch<T>(&self, detail: Option<String>) -> Error {
        conversion_error(FromValueError {
            value_type: self.type_name(),
            target: std::any::type_name::<T>(),
            detail,
        })
    }

    /// Reads the value through [`Value`] and [`FromValue`].
    fn via_value<T: FromValue>(&self) -> Result<T> {
        T::from_value(&self.to_value()?).map_err(conversion_error)
    }
}

/// The [`Error`] of a failed conversion.
pub(crate) fn conversion_error(e: FromValueError) -> Error {
    Error::data(e.to_string()).with_source(e)
}

/// A Rust type that can be read from one value of a row, as [`Row::get`](crate::Row::get)
/// does. `'a` is the row's lifetime: `&'a str` and `&'a [u8]` borrow from it.
///
/// Conversions never lose information (as [`FromValue`]): integers convert to any integer
/// type that holds the value, floats widen; NULL converts only into `Option<T>` or [`Value`].
pub trait FromValueRef<'a>: Sized {
    /// Reads the value.
    ///
    /// # Errors
    /// An [`ErrorKind::Data`](crate::ErrorKind::Data) error when the value's type does not
    /// convert to `Self` or its value does not fit, naming both types.
    fn from_value_ref(value: ValueRef<'a>) -> Result<Self>;
}

impl<'a, T: FromValueRef<'a>> FromValueRef<'a> for Option<T> {
    fn from_value_ref(value: ValueRef<'a>) -> Result<Self> {
        if value.is_null() {
            Ok(None)
        } else {
            T::from_value_ref(value).map(Some)
        }
    }
}

impl FromValueRef<'_> for Value {
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        value.to_value()
    }
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromValueRef<'_> for $t {
            #[inline]
            fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
                match value.int() {
                    Some(wide) => <$t>::try_from(wide).map_err(|_| {
                        value.mismatch::<$t>(Some(format!("value {wide} is out of range")))
                    }),
                    None => value.via_value(),
                }
            }
        }
    )*};
}

integer!(i8, i16, i32, i64, u8, u16, u32, u64, i128);

impl FromValueRef<'_> for f64 {
    #[inline]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.float() {
            Some(v) => Ok(v),
            None => value.via_value(),
        }
    }
}

impl FromValueRef<'_> for String {
    #[inline]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.as_str() {
            Some(s) => Ok(s.to_owned()),
            None => value.via_value(),
        }
    }
}

impl FromValueRef<'_> for Vec<u8> {
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.as_bytes() {
            Some(b) => Ok(b.to_vec()),
            None => value.via_value(),
        }
    }
}

impl<'a> FromValueRef<'a> for &'a str {
    #[inline]
    fn from_value_ref(value: ValueRef<'a>) -> Result<Self> {
        value.as_str().ok_or_else(|| {
            let hint = (!value.is_null()
                && value.to_value().is_ok_and(|v| v.type_name() == "String"))
            .then(|| "the text is not stored as such; read it as String".to_owned());
            value.mismatch::<&str>(hint)
        })
    }
}

impl<'a> FromValueRef<'a> for &'a [u8] {
    fn from_value_ref(value: ValueRef<'a>) -> Result<Self> {
        value
            .as_bytes()
            .ok_or_else(|| value.mismatch::<&[u8]>(None))
    }
}

impl FromValueRef<'_> for NaiveDateTime {
    #[inline]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.timestamp() {
            Some(t) => t,
            None => value.via_value(),
        }
    }
}

macro_rules! via_value {
    ($($t:ty),*) => {$(
        impl FromValueRef<'_> for $t {
            fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
                value.via_value()
            }
        }
    )*};
}

via_value!(
    bool,
    f32,
    f16,
    Decimal,
    NaiveDate,
    NaiveTime,
    TimeDelta,
    DateTime<Utc>,
    Vec<Value>
);

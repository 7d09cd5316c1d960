//! Reading one value of a row straight from its Arrow array into a Rust type.

use arrow::array::Array;
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

    /// The column's reader and the row's index in it.
    #[inline]
    pub(crate) fn parts(&self) -> (&'a Reader, usize) {
        (self.reader, self.index)
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
    #[cold]
    #[inline(never)]
    pub(crate) fn mismatch<T>(&self, detail: Option<String>) -> Error {
        conversion_error(FromValueError {
            value_type: self.type_name(),
            target: std::any::type_name::<T>(),
            detail,
        })
    }

    /// Reads the value through [`Value`] and [`FromValue`]: the slow path of the direct
    /// readers, kept out of line so that they inline where they are called.
    #[cold]
    #[inline(never)]
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
    ($($t:ty => $variant:ident),*) => {$(
        impl FromValueRef<'_> for $t {
            #[inline(always)]
            fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
                // The column of exactly this type first: no widening, no range check.
                if let Reader::$variant(a) = value.reader
                    && !a.is_null(value.index)
                {
                    return Ok(a.value(value.index));
                }
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

integer!(
    i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => UInt8, u16 => UInt16, u32 => UInt32, u64 => UInt64
);

impl FromValueRef<'_> for i128 {
    #[inline]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.int() {
            Some(wide) => Ok(wide),
            None => value.via_value(),
        }
    }
}

impl FromValueRef<'_> for f64 {
    #[inline(always)]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        match value.float() {
            Some(v) => Ok(v),
            None => value.via_value(),
        }
    }
}

impl FromValueRef<'_> for String {
    #[inline(always)]
    fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
        if let Reader::Utf8(a) = value.reader
            && !a.is_null(value.index)
        {
            return Ok(a.value(value.index).to_owned());
        }
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

/// Types read straight from the arrays that hold them (`$read`: `None` for any other
/// array), and through [`Value`] from any other.
macro_rules! direct {
    ($($t:ty => |$v:ident| $read:expr),* $(,)?) => {$(
        impl FromValueRef<'_> for $t {
            #[inline(always)]
            fn from_value_ref($v: ValueRef<'_>) -> Result<Self> {
                match $read {
                    Some(read) => read,
                    None => $v.via_value(),
                }
            }
        }
    )*};
}

direct!(
    NaiveDateTime => |v| v.timestamp(),
    NaiveDate => |v| v.reader.date(v.index),
    bool => |v| v.reader.bool(v.index).map(Ok::<_, Error>),
    f32 => |v| v.reader.f32(v.index).map(Ok::<_, Error>),
    Decimal => |v| v.reader.decimal(v.index).map(Ok::<_, Error>),
);

macro_rules! via_value {
    ($($t:ty),*) => {$(
        impl FromValueRef<'_> for $t {
            fn from_value_ref(value: ValueRef<'_>) -> Result<Self> {
                value.via_value()
            }
        }
    )*};
}

via_value!(f16, NaiveTime, TimeDelta, DateTime<Utc>, Vec<Value>);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
        Int32Array, TimestampMicrosecondArray,
    };
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::Row;
    use crate::row::describe;

    fn rows(columns: Vec<(&str, ArrayRef)>) -> Vec<Row> {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let described = describe(&batch.schema());
        (0..batch.num_rows())
            .map(|i| Row::from_batch(&described, &batch, i).unwrap())
            .collect()
    }

    /// What `T` reads through [`Value`], for comparison with the direct reading.
    fn via<T: FromValue>(row: &Row, n: usize) -> Result<T> {
        T::from_value(&row.values()?[n]).map_err(conversion_error)
    }

    /// Each column read as `T` straight from its array and through `Value`: the same value,
    /// or both an error (NULL, or a type that does not convert).
    fn agree<T>(row: &Row, n: usize)
    where
        T: FromValue + for<'a> FromValueRef<'a> + PartialEq + std::fmt::Debug,
    {
        let direct = row.get::<T, _>(n);
        let through = via::<T>(row, n);
        match (&direct, &through) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "column {n}"),
            (Err(_), Err(_)) => {}
            _ => panic!("column {n}: {direct:?} against {through:?}"),
        }
        let direct = row.get::<Option<T>, _>(n).map_err(|e| e.to_string());
        let through = match row.values().unwrap()[n] {
            Value::Null => Ok(None),
            ref v => T::from_value(v).map(Some).map_err(|e| e.to_string()),
        };
        assert_eq!(direct.is_ok(), through.is_ok(), "column {n}: Option");
        if let (Ok(a), Ok(b)) = (direct, through) {
            assert_eq!(a, b, "column {n}: Option");
        }
    }

    #[test]
    fn direct_readers_agree_with_values() {
        let rows = rows(vec![
            (
                "b",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])) as _,
            ),
            (
                "f32",
                Arc::new(Float32Array::from(vec![Some(0.5), None, Some(-2.0)])) as _,
            ),
            (
                "f64",
                Arc::new(Float64Array::from(vec![Some(0.5), None, Some(1e300)])) as _,
            ),
            (
                "d",
                Arc::new(
                    Decimal128Array::from(vec![Some(12_345), None, Some(-1)])
                        .with_precision_and_scale(12, 2)
                        .unwrap(),
                ) as _,
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![Some(20_000), None, Some(-1)])) as _,
            ),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(1),
                    None,
                    Some(-1),
                ])) as _,
            ),
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(7), None, Some(-7)])) as _,
            ),
        ]);
        for row in &rows {
            for n in 0..row.len() {
                agree::<bool>(row, n);
                agree::<f32>(row, n);
                agree::<f64>(row, n);
                agree::<Decimal>(row, n);
                agree::<NaiveDate>(row, n);
                agree::<NaiveDateTime>(row, n);
                agree::<i64>(row, n);
            }
        }
        // The values themselves, and the mismatches named.
        let first = &rows[0];
        assert!(first.get::<bool, _>("b").unwrap());
        assert_eq!(first.get::<f32, _>("f32").unwrap(), 0.5);
        assert_eq!(first.get::<Decimal, _>("d").unwrap().to_string(), "123.45");
        assert_eq!(
            first.get::<NaiveDate, _>("day").unwrap(),
            NaiveDate::from_ymd_opt(2024, 10, 4).unwrap()
        );
        let e = first.get::<f32, _>("f64").unwrap_err().to_string();
        assert!(e.contains("Float64") && e.contains("f32"), "{e}");
        let e = first.get::<NaiveDate, _>("ts").unwrap_err().to_string();
        assert!(e.contains("Timestamp") && e.contains("NaiveDate"), "{e}");
        let e = rows[1].get::<bool, _>("b").unwrap_err().to_string();
        assert!(e.contains("Null"), "{e}");
        assert_eq!(rows[1].get::<Option<Decimal>, _>("d").unwrap(), None);
    }
}

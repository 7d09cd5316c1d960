//! Typed values read from Arrow arrays.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal256Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTime, IntervalDayTimeType,
    IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type, i256,
};
use arrow::temporal_conversions::{as_datetime, as_duration, as_time};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use half::f16;

use crate::{Error, Result};

/// An exact decimal number: an integer mantissa scaled by `10^-scale`, with the precision of
/// the Arrow type it came from (`Decimal32`, `Decimal64`, `Decimal128` or `Decimal256`).
///
/// `Display` prints the exact value (`12.340` for mantissa 12340, scale 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i256,
    precision: u8,
    scale: i8,
}

impl Decimal {
    /// Creates a decimal from its mantissa, precision and scale.
    pub fn new(mantissa: i256, precision: u8, scale: i8) -> Self {
        Decimal {
            mantissa,
            precision,
            scale,
        }
    }

    /// Creates a decimal from a 128-bit mantissa.
    pub fn from_i128(mantissa: i128, precision: u8, scale: i8) -> Self {
        Self::new(i256::from_i128(mantissa), precision, scale)
    }

    /// The unscaled integer value.
    pub fn mantissa(&self) -> i256 {
        self.mantissa
    }

    /// The mantissa as an `i128`, when it fits.
    pub fn mantissa_i128(&self) -> Option<i128> {
        self.mantissa.to_i128()
    }

    /// The total number of decimal digits of the type.
    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// The number of digits after the decimal point (negative: powers of ten before it).
    pub fn scale(&self) -> i8 {
        self.scale
    }

    /// The nearest `f64` (may lose precision; it is never chosen implicitly).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Decimal {
    /// Every digit of the mantissa, whatever the precision says (a server may send more
    /// digits than its type declares, or a scale larger than the precision: nothing is
    /// dropped and nothing panics).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.mantissa.to_string();
        let (sign, digits) = match text.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", text.as_str()),
        };
        let scale = i32::from(self.scale);
        if scale <= 0 {
            let zeros = if digits == "0" { 0 } else { -scale as usize };
            return write!(f, "{sign}{digits}{}", "0".repeat(zeros));
        }
        let scale = scale as usize;
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{whole}.{fraction}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

/// One value of a row.
///
/// Every Arrow type a server can send maps to one variant (see `docs/types.md`): integers
/// keep their width and signedness, decimals stay exact, temporal values use `chrono`, nested
/// types are decoded recursively, dictionary and run-end encoded values are decoded to their
/// value, a union value is the value of its selected child.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL (and every value of the Arrow `Null` type).
    Null,
    /// `Boolean`.
    Bool(bool),
    /// `Int8`.
    Int8(i8),
    /// `Int16`.
    Int16(i16),
    /// `Int32`.
    Int32(i32),
    /// `Int64`.
    Int64(i64),
    /// `UInt8`.
    UInt8(u8),
    /// `UInt16`.
    UInt16(u16),
    /// `UInt32`.
    UInt32(u32),
    /// `UInt64`.
    UInt64(u64),
    /// `Float16`.
    Float16(f16),
    /// `Float32`.
    Float32(f32),
    /// `Float64`.
    Float64(f64),
    /// `Decimal32`, `Decimal64`, `Decimal128`, `Decimal256`, exact (boxed: it is four times
    /// the size of the other variants).
    Decimal(Box<Decimal>),
    /// `Utf8`, `LargeUtf8`, `Utf8View`.
    String(String),
    /// `Binary`, `LargeBinary`, `BinaryView`, `FixedSizeBinary`.
    Binary(Vec<u8>),
    /// `Date32`, `Date64`.
    Date(NaiveDate),
    /// `Time32`, `Time64` of any unit.
    Time(NaiveTime),
    /// `Timestamp` of any unit without a time zone: a wall-clock date and time.
    Timestamp(NaiveDateTime),
    /// `Timestamp` of any unit with a time zone: the instant, and the column's time zone
    /// (an IANA name such as `"Europe/Paris"` or an offset such as `"+02:00"`).
    TimestampTz(DateTime<Utc>, Arc<str>),
    /// `Duration` of any unit.
    Duration(TimeDelta),
    /// `Interval(YearMonth)`: a number of months.
    IntervalYearMonth(i32),
    /// `Interval(DayTime)`: days and milliseconds.
    IntervalDayTime(IntervalDayTime),
    /// `Interval(MonthDayNano)`: months, days and nanoseconds.
    IntervalMonthDayNano(IntervalMonthDayNano),
    /// `List`, `LargeList`, `FixedSizeList`, `ListView`, `LargeListView`.
    List(Vec<Value>),
    /// `Struct`: field names and values, in field order.
    Struct(Vec<(String, Value)>),
    /// `Map`: key/value pairs, in stored order.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// About how many bytes the value takes, for chunking parameter sets.
    pub(crate) fn approx_size(&self) -> usize {
        const SCALAR: usize = 16;
        match self {
            Value::String(s) => SCALAR + s.len(),
            Value::Binary(b) => SCALAR + b.len(),
            Value::List(items) => SCALAR + items.iter().map(Value::approx_size).sum::<usize>(),
            Value::Struct(fields) => {
                SCALAR
                    + fields
                        .iter()
                        .map(|(n, v)| n.len() + v.approx_size())
                        .sum::<usize>()
            }
            Value::Map(entries) => {
                SCALAR
                    + entries
                        .iter()
                        .map(|(k, v)| k.approx_size() + v.approx_size())
                        .sum::<usize>()
            }
            _ => SCALAR,
        }
    }
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the variant, as used in conversion errors (e.g. `"Int32"`, `"String"`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Bool",
            Value::Int8(_) => "Int8",
            Value::Int16(_) => "Int16",
            Value::Int32(_) => "Int32",
            Value::Int64(_) => "Int64",
            Value::UInt8(_) => "UInt8",
            Value::UInt16(_) => "UInt16",
            Value::UInt32(_) => "UInt32",
            Value::UInt64(_) => "UInt64",
            Value::Float16(_) => "Float16",
            Value::Float32(_) => "Float32",
            Value::Float64(_) => "Float64",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Binary(_) => "Binary",
            Value::Date(_) => "Date",
            Value::Time(_) => "Time",
            Value::Timestamp(_) => "Timestamp",
            Value::TimestampTz(..) => "TimestampTz",
            Value::Duration(_) => "Duration",
            Value::IntervalYearMonth(_) => "IntervalYearMonth",
            Value::IntervalDayTime(_) => "IntervalDayTime",
            Value::IntervalMonthDayNano(_) => "IntervalMonthDayNano",
            Value::List(_) => "List",
            Value::Struct(_) => "Struct",
            Value::Map(_) => "Map",
        }
    }

    /// Reads the value at `index` of an Arrow array.
    ///
    /// # Errors
    /// - [`ErrorKind::Interface`](crate::ErrorKind::Interface) if `index` is out of bounds;
    /// - [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) for an Arrow type with
    ///   no `Value` (none today, but Arrow grows);
    /// - [`ErrorKind::Data`](crate::ErrorKind::Data) for a value outside what `chrono` can
    ///   represent (e.g. a timestamp beyond year 262143), or a `Date64` that is not a whole
    ///   number of days.
    pub fn from_arrow(array: &dyn Array, index: usize) -> Result<Value> {
        if index >= array.len() {
            return Err(Error::interface(format!(
                "row {index} is out of bounds for an array of {} rows",
                array.len()
            )));
        }
        read(array, index)
    }
}

fn out_of_range(dt: &DataType, raw: impl fmt::Display) -> Error {
    Error::data(format!(
        "{dt} value {raw} is out of the representable range"
    ))
}

fn read(array: &dyn Array, i: usize) -> Result<Value> {
    let dt = array.data_type();
    if array.is_null(i) || matches!(dt, DataType::Null) {
        return Ok(Value::Null);
    }
    Ok(match dt {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Value::Int8(array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => Value::Int16(array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => Value::Int32(array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::Int64(array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Value::UInt8(array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => Value::UInt16(array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => Value::UInt32(array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => Value::UInt64(array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float16 => Value::Float16(array.as_primitive::<Float16Type>().value(i)),
        DataType::Float32 => Value::Float32(array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => Value::Float64(array.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal32(p, s) => {
            let v = array
                .as_primitive::<arrow::datatypes::Decimal32Type>()
                .value(i);
            Value::Decimal(Box::new(Decimal::from_i128(v.into(), *p, *s)))
        }
        DataType::Decimal64(p, s) => {
            let v = array
                .as_primitive::<arrow::datatypes::Decimal64Type>()
                .value(i);
            Value::Decimal(Box::new(Decimal::from_i128(v.into(), *p, *s)))
        }
        DataType::Decimal128(p, s) => {
            let v = array
                .as_primitive::<arrow::datatypes::Decimal128Type>()
                .value(i);
            Value::Decimal(Box::new(Decimal::from_i128(v, *p, *s)))
        }
        DataType::Decimal256(p, s) => {
            let v = array.as_primitive::<Decimal256Type>().value(i);
            Value::Decimal(Box::new(Decimal::new(v, *p, *s)))
        }
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(i).to_owned()),
        DataType::Binary => Value::Binary(array.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Value::Binary(array.as_binary::<i64>().value(i).to_vec()),
        DataType::BinaryView => Value::Binary(array.as_binary_view().value(i).to_vec()),
        DataType::FixedSizeBinary(_) => {
            Value::Binary(array.as_fixed_size_binary().value(i).to_vec())
        }
        DataType::Date32 => {
            let v = array.as_primitive::<Date32Type>().value(i);
            Value::Date(Date32Type::to_naive_date_opt(v).ok_or_else(|| out_of_range(dt, v))?)
        }
        DataType::Date64 => {
            let v = array.as_primitive::<Date64Type>().value(i);
            if v % 86_400_000 != 0 {
                return Err(Error::data(format!(
                    "Date64 value {v} is not a whole number of days (milliseconds since the epoch must be divisible by 86400000)"
                )));
            }
            Value::Date(Date64Type::to_naive_date_opt(v).ok_or_else(|| out_of_range(dt, v))?)
        }
        DataType::Time32(unit) => {
            let v = i64::from(match unit {
                TimeUnit::Second => array.as_primitive::<Time32SecondType>().value(i),
                _ => array.as_primitive::<Time32MillisecondType>().value(i),
            });
            let t = match unit {
                TimeUnit::Second => as_time::<Time32SecondType>(v),
                _ => as_time::<Time32MillisecondType>(v),
            };
            Value::Time(t.ok_or_else(|| out_of_range(dt, v))?)
        }
        DataType::Time64(unit) => {
            let (v, t) = match unit {
                TimeUnit::Nanosecond => {
                    let v = array.as_primitive::<Time64NanosecondType>().value(i);
                    (v, as_time::<Time64NanosecondType>(v))
                }
                _ => {
                    let v = array.as_primitive::<Time64MicrosecondType>().value(i);
                    (v, as_time::<Time64MicrosecondType>(v))
                }
            };
            Value::Time(t.ok_or_else(|| out_of_range(dt, v))?)
        }
        DataType::Timestamp(unit, tz) => {
            let (v, t) = match unit {
                TimeUnit::Second => {
                    let v = array.as_primitive::<TimestampSecondType>().value(i);
                    (v, as_datetime::<TimestampSecondType>(v))
                }
                TimeUnit::Millisecond => {
                    let v = array.as_primitive::<TimestampMillisecondType>().value(i);
                    (v, as_datetime::<TimestampMillisecondType>(v))
                }
                TimeUnit::Microsecond => {
                    let v = array.as_primitive::<TimestampMicrosecondType>().value(i);
                    (v, as_datetime::<TimestampMicrosecondType>(v))
                }
                TimeUnit::Nanosecond => {
                    let v = array.as_primitive::<TimestampNanosecondType>().value(i);
                    (v, as_datetime::<TimestampNanosecondType>(v))
                }
            };
            let t = t.ok_or_else(|| out_of_range(dt, v))?;
            match tz {
                None => Value::Timestamp(t),
                Some(tz) => Value::TimestampTz(t.and_utc(), Arc::clone(tz)),
            }
        }
        DataType::Duration(unit) => {
            let (v, d) = match unit {
                TimeUnit::Second => {
                    let v = array.as_primitive::<DurationSecondType>().value(i);
                    (v, TimeDelta::try_seconds(v))
                }
                TimeUnit::Millisecond => {
                    let v = array.as_primitive::<DurationMillisecondType>().value(i);
                    (v, TimeDelta::try_milliseconds(v))
                }
                TimeUnit::Microsecond => {
                    let v = array.as_primitive::<DurationMicrosecondType>().value(i);
                    (v, as_duration::<DurationMicrosecondType>(v))
                }
                TimeUnit::Nanosecond => {
                    let v = array.as_primitive::<DurationNanosecondType>().value(i);
                    (v, as_duration::<DurationNanosecondType>(v))
                }
            };
            Value::Duration(d.ok_or_else(|| out_of_range(dt, v))?)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            Value::IntervalYearMonth(array.as_primitive::<IntervalYearMonthType>().value(i))
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            Value::IntervalDayTime(array.as_primitive::<IntervalDayTimeType>().value(i))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            Value::IntervalMonthDayNano(array.as_primitive::<IntervalMonthDayNanoType>().value(i))
        }
        DataType::List(_) => list(array.as_list::<i32>().value(i).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(i).as_ref())?,
        DataType::ListView(_) => list(array.as_list_view::<i32>().value(i).as_ref())?,
        DataType::LargeListView(_) => list(array.as_list_view::<i64>().value(i).as_ref())?,
        DataType::FixedSizeList(..) => list(array.as_fixed_size_list().value(i).as_ref())?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut out = Vec::with_capacity(fields.len());
            for (field, column) in fields.iter().zip(s.columns()) {
                out.push((field.name().clone(), read(column.as_ref(), i)?));
            }
            Value::Struct(out)
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut out = Vec::with_capacity(entries.len());
            for j in 0..entries.len() {
                out.push((read(keys.as_ref(), j)?, read(values.as_ref(), j)?));
            }
            Value::Map(out)
        }
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            let key = dictionary_key(dict.keys(), i)?;
            let values = dict.values();
            if key >= values.len() {
                return Err(Error::data(format!(
                    "dictionary key {key} is out of bounds for a dictionary of {} values",
                    values.len()
                )));
            }
            read(values.as_ref(), key)?
        }
        DataType::RunEndEncoded(run_ends, _) => {
            let physical = match run_ends.data_type() {
                DataType::Int16 => array.as_run::<Int16Type>().get_physical_index(i),
                DataType::Int32 => array.as_run::<Int32Type>().get_physical_index(i),
                DataType::Int64 => array.as_run::<Int64Type>().get_physical_index(i),
                other => {
                    return Err(Error::not_supported(format!(
                        "run-end encoded arrays with {other} run ends"
                    )));
                }
            };
            read(array.as_any_ree().values().as_ref(), physical)?
        }
        DataType::Union(..) => {
            let u = array.as_union();
            let child = u.child(u.type_id(i));
            read(child.as_ref(), u.value_offset(i))?
        }
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::not_supported(format!(
                "Arrow type {other} has no dbapi Value"
            )));
        }
    })
}

fn list(values: &dyn Array) -> Result<Value> {
    (0..values.len())
        .map(|j| read(values, j))
        .collect::<Result<Vec<_>>>()
        .map(Value::List)
}

fn dictionary_key(keys: &dyn Array, i: usize) -> Result<usize> {
    let key: i128 = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => keys.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => keys.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => keys.as_primitive::<UInt64Type>().value(i).into(),
        other => {
            return Err(Error::not_supported(format!(
                "dictionary arrays with {other} keys"
            )));
        }
    };
    usize::try_from(key).map_err(|_| Error::data(format!("dictionary key {key} is negative")))
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Int16(v) => write!(f, "{v}"),
            Value::Int32(v) => write!(f, "{v}"),
            Value::Int64(v) => write!(f, "{v}"),
            Value::UInt8(v) => write!(f, "{v}"),
            Value::UInt16(v) => write!(f, "{v}"),
            Value::UInt32(v) => write!(f, "{v}"),
            Value::UInt64(v) => write!(f, "{v}"),
            Value::Float16(v) => write!(f, "{v}"),
            Value::Float32(v) => write!(f, "{v}"),
            Value::Float64(v) => write!(f, "{v}"),
            Value::Decimal(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Binary(v) => {
                f.write_str("0x")?;
                v.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Value::Date(v) => write!(f, "{v}"),
            Value::Time(v) => write!(f, "{v}"),
            Value::Timestamp(v) => write!(f, "{v}"),
            Value::TimestampTz(v, tz) => write!(f, "{} [{tz}]", v.to_rfc3339()),
            Value::Duration(v) => write!(f, "{v}"),
            Value::IntervalYearMonth(m) => write!(f, "{m} months"),
            Value::IntervalDayTime(v) => write!(f, "{} days {} ms", v.days, v.milliseconds),
            Value::IntervalMonthDayNano(v) => {
                write!(
                    f,
                    "{} months {} days {} ns",
                    v.months, v.days, v.nanoseconds
                )
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Struct(fields) => {
                f.write_str("{")?;
                for (n, (name, item)) in fields.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {item}")?;
                }
                f.write_str("}")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (n, (k, v)) in entries.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v)
            }
        })*
    };
}

value_from!(
    bool => Bool, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => UInt8, u16 => UInt16, u32 => UInt32, u64 => UInt64,
    f16 => Float16, f32 => Float32, f64 => Float64,
    String => String, Vec<u8> => Binary, NaiveDate => Date, NaiveTime => Time,
    NaiveDateTime => Timestamp, TimeDelta => Duration,
);

impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(Box::new(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Binary(v.to_vec())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<DateTime<Utc>> for Value {
    /// A timestamp in UTC (time zone `"UTC"`).
    fn from(v: DateTime<Utc>) -> Self {
        Value::TimestampTz(v, Arc::from("UTC"))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        ArrayRef, BooleanArray, Date64Array, DictionaryArray, Int32Array, ListArray, NullArray,
        RunArray, StringArray, StructArray, TimestampSecondArray, UnionArray,
    };
    use arrow::buffer::ScalarBuffer;
    use arrow::datatypes::{Field, UnionFields};

    #[test]
    fn nulls_are_null_in_every_wrapper() {
        let a = Int32Array::from(vec![Some(1), None]);
        assert_eq!(Value::from_arrow(&a, 0).unwrap(), Value::Int32(1));
        assert_eq!(Value::from_arrow(&a, 1).unwrap(), Value::Null);
        assert_eq!(
            Value::from_arrow(&NullArray::new(2), 1).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn out_of_bounds_is_an_interface_error() {
        let a = BooleanArray::from(vec![true]);
        let e = Value::from_arrow(&a, 3).unwrap_err();
        assert!(e.is_interface());
        assert!(e.to_string().contains("row 3"));
    }

    #[test]
    fn decimals_print_every_digit_whatever_their_type_says() {
        let d = |m: i128, p: u8, s: i8| Decimal::from_i128(m, p, s).to_string();
        assert_eq!(d(12340, 10, 3), "12.340");
        assert_eq!(d(-5, 10, 3), "-0.005");
        assert_eq!(d(0, 10, 2), "0.00");
        assert_eq!(d(7, 5, -2), "700");
        assert_eq!(d(0, 5, -2), "0");
        // Scale above precision, and more digits than the precision allows.
        assert_eq!(d(123, 2, 10), "0.0000000123");
        assert_eq!(d(-123_456_789, 3, 2), "-1234567.89");
        let min = d(i128::MIN, 38, 38);
        assert!(
            min.starts_with("-1.70141183460469231731687303715884105728"),
            "{min}"
        );
        let big = Decimal::new(i256::MIN, 76, 76).to_string();
        assert!(
            big.starts_with(
                "-5.7896044618658097711785492504343953926634992332820282019728792003956564819968"
            ),
            "{big}"
        );
    }

    #[test]
    fn decimal_keeps_precision_and_scale() {
        let a = arrow::array::Decimal128Array::from(vec![12340_i128, -5])
            .with_precision_and_scale(10, 3)
            .unwrap();
        let Value::Decimal(d) = Value::from_arrow(&a, 0).unwrap() else {
            panic!("not a decimal")
        };
        assert_eq!(d.to_string(), "12.340");
        assert_eq!((d.precision(), d.scale()), (10, 3));
        let Value::Decimal(d) = Value::from_arrow(&a, 1).unwrap() else {
            panic!("not a decimal")
        };
        assert_eq!(d.to_string(), "-0.005");
    }

    #[test]
    fn timestamp_with_zone_keeps_the_zone() {
        let a = TimestampSecondArray::from(vec![86_400]).with_timezone("Europe/Paris");
        let v = Value::from_arrow(&a, 0).unwrap();
        let expected = DateTime::<Utc>::from_timestamp(86_400, 0).unwrap();
        assert_eq!(v, Value::TimestampTz(expected, Arc::from("Europe/Paris")));
    }

    #[test]
    fn date64_that_is_not_whole_days_is_an_error() {
        let a = Date64Array::from(vec![86_400_000, 86_400_001]);
        assert_eq!(
            Value::from_arrow(&a, 0).unwrap(),
            Value::Date(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap())
        );
        let e = Value::from_arrow(&a, 1).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data);
        assert!(e.to_string().contains("Date64"));
    }

    #[test]
    fn timestamp_out_of_chrono_range_is_a_data_error() {
        let a = TimestampSecondArray::from(vec![i64::MAX]);
        let e = Value::from_arrow(&a, 0).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Data);
        assert!(e.to_string().contains("Timestamp"), "{e}");
    }

    #[test]
    fn dictionary_values_are_decoded_not_blobs() {
        let d: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")]
            .into_iter()
            .collect();
        let got: Vec<Value> = (0..4).map(|i| Value::from_arrow(&d, i).unwrap()).collect();
        assert_eq!(got, vec!["a".into(), Value::Null, "b".into(), "a".into()]);
    }

    #[test]
    fn run_end_encoded_values_are_decoded() {
        let values = StringArray::from(vec![Some("x"), None]);
        let ends = Int32Array::from(vec![2, 3]);
        let r = RunArray::<Int32Type>::try_new(&ends, &values).unwrap();
        let got: Vec<Value> = (0..3).map(|i| Value::from_arrow(&r, i).unwrap()).collect();
        assert_eq!(got, vec!["x".into(), "x".into(), Value::Null]);
    }

    #[test]
    fn nested_list_and_struct() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
        ]);
        assert_eq!(
            Value::from_arrow(&list, 0).unwrap(),
            Value::List(vec![Value::Int32(1), Value::Null])
        );
        assert_eq!(Value::from_arrow(&list, 1).unwrap(), Value::Null);
        let s = StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![7])) as ArrayRef,
        )]);
        assert_eq!(
            Value::from_arrow(&s, 0).unwrap(),
            Value::Struct(vec![("a".to_owned(), Value::Int32(7))])
        );
    }

    #[test]
    fn union_selects_the_child() {
        let fields = UnionFields::try_new(
            vec![0, 1],
            vec![
                Field::new("i", DataType::Int32, true),
                Field::new("s", DataType::Utf8, true),
            ],
        )
        .unwrap();
        let children: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![5, 0])),
            Arc::new(StringArray::from(vec!["", "z"])),
        ];
        let u =
            UnionArray::try_new(fields, ScalarBuffer::from(vec![0_i8, 1]), None, children).unwrap();
        assert_eq!(Value::from_arrow(&u, 0).unwrap(), Value::Int32(5));
        assert_eq!(Value::from_arrow(&u, 1).unwrap(), Value::String("z".into()));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(Value::Binary(vec![0xde, 0xad]).to_string(), "0xdead");
        assert_eq!(
            Value::List(vec![Value::Int8(1), Value::Null]).to_string(),
            "[1, NULL]"
        );
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn docs_types_lists_every_variant() {
        let Some(doc) = crate::repo_docs::read("types.md") else {
            return;
        };
        let variants = [
            "Null",
            "Bool",
            "Int8",
            "Int64",
            "UInt8",
            "UInt64",
            "Float16",
            "Float32",
            "Float64",
            "Decimal",
            "String",
            "Binary",
            "Date",
            "Time",
            "Timestamp",
            "TimestampTz",
            "Duration",
            "IntervalYearMonth",
            "IntervalDayTime",
            "IntervalMonthDayNano",
            "List",
            "Struct",
            "Map",
        ];
        for v in variants {
            assert!(
                doc.contains(&format!("`Value::{v}")),
                "docs/types.md lacks Value::{v}"
            );
        }
    }
}

#[cfg(test)]
mod prop_tests {
    //! Arbitrary Arrow arrays, sliced at arbitrary offsets, read back as the values they hold.
    use super::*;
    use arrow::array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
        Float64Array, Int8Array, Int64Array, LargeStringArray, ListArray, StringArray,
        StringViewArray, TimestampMicrosecondArray, UInt64Array,
    };
    use proptest::prelude::*;

    /// Reads every slot of `array[offset..offset + len]` and compares with `expected`.
    fn check(
        array: ArrayRef,
        expected: &[Value],
        offset: usize,
        len: usize,
    ) -> Result<(), TestCaseError> {
        let offset = offset.min(expected.len());
        let len = len.min(expected.len() - offset);
        let sliced = array.slice(offset, len);
        for i in 0..len {
            let got = Value::from_arrow(sliced.as_ref(), i)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                &got,
                &expected[offset + i],
                "slot {} of a slice at {}",
                i,
                offset
            );
        }
        prop_assert!(Value::from_arrow(sliced.as_ref(), len).is_err());
        Ok(())
    }

    fn opt<T, F: Fn(T) -> Value>(v: Option<T>, f: F) -> Value {
        v.map_or(Value::Null, f)
    }

    proptest! {
        #[test]
        fn integers(v in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..40), o in 0_usize..40, l in 0_usize..40) {
            let expected: Vec<Value> = v.iter().map(|x| opt(*x, Value::Int64)).collect();
            check(Arc::new(Int64Array::from(v.clone())), &expected, o, l)?;
            let small: Vec<Option<i8>> = v.iter().map(|x| x.map(|x| x as i8)).collect();
            let expected: Vec<Value> = small.iter().map(|x| opt(*x, Value::Int8)).collect();
            check(Arc::new(Int8Array::from(small)), &expected, o, l)?;
            let unsigned: Vec<Option<u64>> = v.iter().map(|x| x.map(|x| x as u64)).collect();
            let expected: Vec<Value> = unsigned.iter().map(|x| opt(*x, Value::UInt64)).collect();
            check(Arc::new(UInt64Array::from(unsigned)), &expected, o, l)?;
        }

        #[test]
        fn floats_and_booleans(v in proptest::collection::vec(proptest::option::of(any::<f64>().prop_filter("NaN", |f| !f.is_nan())), 0..40), o in 0_usize..40, l in 0_usize..40) {
            let expected: Vec<Value> = v.iter().map(|x| opt(*x, Value::Float64)).collect();
            check(Arc::new(Float64Array::from(v.clone())), &expected, o, l)?;
            let b: Vec<Option<bool>> = v.iter().map(|x| x.map(|x| x > 0.0)).collect();
            let expected: Vec<Value> = b.iter().map(|x| opt(*x, Value::Bool)).collect();
            check(Arc::new(BooleanArray::from(b)), &expected, o, l)?;
        }

        #[test]
        fn strings_and_bytes(v in proptest::collection::vec(proptest::option::of("\\PC{0,20}"), 0..30), o in 0_usize..30, l in 0_usize..30) {
            let expected: Vec<Value> = v.iter().map(|x| opt(x.clone(), Value::String)).collect();
            check(Arc::new(StringArray::from(v.clone())), &expected, o, l)?;
            check(Arc::new(LargeStringArray::from(v.clone())), &expected, o, l)?;
            check(Arc::new(StringViewArray::from(v.clone())), &expected, o, l)?;
            let dict: DictionaryArray<Int32Type> = v.iter().map(|x| x.as_deref()).collect();
            check(Arc::new(dict), &expected, o, l)?;
            let bytes: Vec<Option<&[u8]>> = v.iter().map(|x| x.as_deref().map(str::as_bytes)).collect();
            let expected: Vec<Value> = bytes.iter().map(|x| opt(*x, |b| Value::Binary(b.to_vec()))).collect();
            check(Arc::new(BinaryArray::from(bytes)), &expected, o, l)?;
        }

        #[test]
        fn temporal_and_decimal(v in proptest::collection::vec(proptest::option::of(-3_000_000_i64..3_000_000), 0..30), scale in 0_i8..10, o in 0_usize..30, l in 0_usize..30) {
            let days: Vec<Option<i32>> = v.iter().map(|x| x.map(|x| x as i32)).collect();
            let expected: Vec<Value> = days
                .iter()
                .map(|d| opt(*d, |d| Value::Date(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + TimeDelta::days(d.into()))))
                .collect();
            check(Arc::new(Date32Array::from(days)), &expected, o, l)?;
            let micros: Vec<Option<i64>> = v.iter().map(|x| x.map(|x| x * 86_400_000_007)).collect();
            let expected: Vec<Value> = micros
                .iter()
                .map(|m| opt(*m, |m| Value::Timestamp(DateTime::from_timestamp_micros(m).unwrap().naive_utc())))
                .collect();
            check(Arc::new(TimestampMicrosecondArray::from(micros)), &expected, o, l)?;
            let mantissas: Vec<Option<i128>> = v.iter().map(|x| x.map(|x| i128::from(x) * 1_000_003)).collect();
            let expected: Vec<Value> = mantissas.iter().map(|m| opt(*m, |m| Value::from(Decimal::from_i128(m, 38, scale)))).collect();
            let array = Decimal128Array::from(mantissas).with_precision_and_scale(38, scale).unwrap();
            check(Arc::new(array), &expected, o, l)?;
        }

        #[test]
        fn lists(v in proptest::collection::vec(proptest::option::of(proptest::collection::vec(proptest::option::of(any::<i32>()), 0..5)), 0..20), o in 0_usize..20, l in 0_usize..20) {
            let expected: Vec<Value> = v
                .iter()
                .map(|x| opt(x.clone(), |items| Value::List(items.into_iter().map(|i| opt(i, Value::Int32)).collect())))
                .collect();
            check(Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(v.clone())), &expected, o, l)?;
        }
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn value_is_small() {
        // Rows hold one `Value` per column: keep it at four words.
        assert!(
            std::mem::size_of::<super::Value>() <= 32,
            "{}",
            std::mem::size_of::<super::Value>()
        );
    }
}

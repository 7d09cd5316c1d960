//! Fast row reading: the columns of one batch, downcast once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::PrimitiveArray;
use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Decimal128Array,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    StringArray, StringViewArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array,
    UInt64Array,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    ArrowTimestampType, DataType, Date32Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::as_datetime;

use crate::{Column, Decimal, Error, Result, Value};

/// The date of a `Date32` value; an error for one out of `chrono`'s range.
#[inline]
fn date32(v: i32) -> Result<chrono::NaiveDate> {
    Date32Type::to_naive_date_opt(v).ok_or_else(|| {
        Error::data(format!(
            "Date32 value {v} is out of the representable range"
        ))
    })
}

/// The arms of a `match` on a [`Reader`] that holds a concrete array, binding it as `$a`.
macro_rules! concrete {
    ($reader:expr, $a:ident => $body:expr, $($rest:tt)*) => {
        match $reader {
            Reader::Bool($a) => $body,
            Reader::Int8($a) => $body,
            Reader::Int16($a) => $body,
            Reader::Int32($a) => $body,
            Reader::Int64($a) => $body,
            Reader::UInt8($a) => $body,
            Reader::UInt16($a) => $body,
            Reader::UInt32($a) => $body,
            Reader::UInt64($a) => $body,
            Reader::Float32($a) => $body,
            Reader::Float64($a) => $body,
            Reader::Utf8($a) => $body,
            Reader::LargeUtf8($a) => $body,
            Reader::Utf8View($a) => $body,
            Reader::Binary($a) => $body,
            Reader::Date32($a) => $body,
            Reader::Decimal128($a, ..) => $body,
            Reader::TimestampS($a, _) => $body,
            Reader::TimestampMs($a, _) => $body,
            Reader::TimestampUs($a, _) => $body,
            Reader::TimestampNs($a, _) => $body,
            $($rest)*
        }
    };
}

/// One column, downcast to its concrete array type when it is a common one.
pub(crate) enum Reader {
    Bool(BooleanArray),
    Int8(Int8Array),
    Int16(Int16Array),
    Int32(Int32Array),
    Int64(Int64Array),
    UInt8(UInt8Array),
    UInt16(UInt16Array),
    UInt32(UInt32Array),
    UInt64(UInt64Array),
    Float32(Float32Array),
    Float64(Float64Array),
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    Binary(BinaryArray),
    Date32(Date32Array),
    /// With the column's precision and scale.
    Decimal128(Decimal128Array, u8, i8),
    TimestampS(TimestampSecondArray, DayCache),
    TimestampMs(TimestampMillisecondArray, DayCache),
    TimestampUs(TimestampMicrosecondArray, DayCache),
    TimestampNs(TimestampNanosecondArray, DayCache),
    /// Everything else, through [`Value::from_arrow`], with its logical nulls (computed once
    /// per batch: a `Null` array, a run-end encoded or a dictionary array have NULLs that
    /// their own validity buffer does not show).
    Other(ArrayRef, Option<NullBuffer>),
    /// A value given as such (a row made of values, not read from a batch).
    Given(Value),
}

impl Reader {
    fn new(array: &ArrayRef) -> Reader {
        let a = array.as_ref();
        match a.data_type() {
            DataType::Boolean => Reader::Bool(a.as_boolean().clone()),
            DataType::Int8 => Reader::Int8(a.as_primitive().clone()),
            DataType::Int16 => Reader::Int16(a.as_primitive().clone()),
            DataType::Int32 => Reader::Int32(a.as_primitive().clone()),
            DataType::Int64 => Reader::Int64(a.as_primitive().clone()),
            DataType::UInt8 => Reader::UInt8(a.as_primitive().clone()),
            DataType::UInt16 => Reader::UInt16(a.as_primitive().clone()),
            DataType::UInt32 => Reader::UInt32(a.as_primitive().clone()),
            DataType::UInt64 => Reader::UInt64(a.as_primitive().clone()),
            DataType::Float32 => Reader::Float32(a.as_primitive().clone()),
            DataType::Float64 => Reader::Float64(a.as_primitive().clone()),
            DataType::Utf8 => Reader::Utf8(a.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Reader::LargeUtf8(a.as_string::<i64>().clone()),
            DataType::Utf8View => Reader::Utf8View(a.as_string_view().clone()),
            DataType::Binary => Reader::Binary(a.as_binary::<i32>().clone()),
            DataType::Date32 => Reader::Date32(a.as_primitive().clone()),
            DataType::Decimal128(p, s) => Reader::Decimal128(a.as_primitive().clone(), *p, *s),
            DataType::Timestamp(TimeUnit::Second, None) => {
                Reader::TimestampS(a.as_primitive().clone(), DayCache::new())
            }
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                Reader::TimestampMs(a.as_primitive().clone(), DayCache::new())
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Reader::TimestampUs(a.as_primitive().clone(), DayCache::new())
            }
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                Reader::TimestampNs(a.as_primitive().clone(), DayCache::new())
            }
            _ => Reader::Other(Arc::clone(array), a.logical_nulls()),
        }
    }

    /// The value at `i`, which the caller has checked is in bounds.
    // Inlined into both row builders: a call per value costs a fifth of `fetchone`.
    #[inline(always)]
    pub(crate) fn read(&self, i: usize) -> Result<Value> {
        // NULL, or the slot's value mapped into a `Value`.
        macro_rules! plain {
            ($a:expr, $variant:ident) => {
                mapped!($a, Value::$variant)
            };
        }
        macro_rules! mapped {
            ($a:expr, $to_value:expr) => {
                if $a.is_null(i) {
                    Value::Null
                } else {
                    $to_value($a.value(i))
                }
            };
        }
        macro_rules! timestamp {
            ($a:expr, $cache:expr, $t:ty) => {
                if $a.is_null(i) {
                    Value::Null
                } else {
                    Value::Timestamp($cache.read::<$t>($a, i)?)
                }
            };
        }
        Ok(match self {
            Reader::Bool(a) => plain!(a, Bool),
            Reader::Int8(a) => plain!(a, Int8),
            Reader::Int16(a) => plain!(a, Int16),
            Reader::Int32(a) => plain!(a, Int32),
            Reader::Int64(a) => plain!(a, Int64),
            Reader::UInt8(a) => plain!(a, UInt8),
            Reader::UInt16(a) => plain!(a, UInt16),
            Reader::UInt32(a) => plain!(a, UInt32),
            Reader::UInt64(a) => plain!(a, UInt64),
            Reader::Float32(a) => plain!(a, Float32),
            Reader::Float64(a) => plain!(a, Float64),
            Reader::Utf8(a) => mapped!(a, |v: &str| Value::String(v.to_owned())),
            Reader::LargeUtf8(a) => mapped!(a, |v: &str| Value::String(v.to_owned())),
            Reader::Utf8View(a) => mapped!(a, |v: &str| Value::String(v.to_owned())),
            Reader::Binary(a) => mapped!(a, |v: &[u8]| Value::Binary(v.to_vec())),
            Reader::Date32(a) => {
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Date(date32(a.value(i))?)
                }
            }
            Reader::Decimal128(a, p, s) => {
                mapped!(a, |v| Value::Decimal(Box::new(Decimal::from_i128(
                    v, *p, *s
                ))))
            }
            Reader::TimestampS(a, c) => timestamp!(a, c, TimestampSecondType),
            Reader::TimestampMs(a, c) => timestamp!(a, c, TimestampMillisecondType),
            Reader::TimestampUs(a, c) => timestamp!(a, c, TimestampMicrosecondType),
            Reader::TimestampNs(a, c) => timestamp!(a, c, TimestampNanosecondType),
            Reader::Other(a, _) => Value::from_arrow(a.as_ref(), i)?,
            Reader::Given(v) => v.clone(),
        })
    }

    /// Whether the value at `i` is NULL.
    #[inline]
    pub(crate) fn is_null(&self, i: usize) -> bool {
        // On the concrete arrays: no virtual call per value.
        concrete!(self, a => a.is_null(i),
            Reader::Given(v) => matches!(v, Value::Null),
            Reader::Other(_, nulls) => nulls.as_ref().is_some_and(|n| n.is_null(i)),
        )
    }

    /// The array read, unless the value was given.
    pub(crate) fn array(&self) -> Option<&dyn Array> {
        Some(concrete!(self, a => a,
            Reader::Other(a, _) => a.as_ref(),
            Reader::Given(_) => return None,
        ))
    }

    /// The integer at `i` (widened), when the column holds integers and the value is not NULL.
    #[inline]
    pub(crate) fn int(&self, i: usize) -> Option<i128> {
        macro_rules! int {
            ($a:expr) => {
                if $a.is_null(i) {
                    None
                } else {
                    Some(i128::from($a.value(i)))
                }
            };
        }
        match self {
            Reader::Int8(a) => int!(a),
            Reader::Int16(a) => int!(a),
            Reader::Int32(a) => int!(a),
            Reader::Int64(a) => int!(a),
            Reader::UInt8(a) => int!(a),
            Reader::UInt16(a) => int!(a),
            Reader::UInt32(a) => int!(a),
            Reader::UInt64(a) => int!(a),
            _ => None,
        }
    }

    /// The text at `i`, borrowed, when the column holds text and the value is not NULL.
    #[inline]
    pub(crate) fn str(&self, i: usize) -> Option<&str> {
        match self {
            Reader::Utf8(a) if !a.is_null(i) => Some(a.value(i)),
            Reader::LargeUtf8(a) if !a.is_null(i) => Some(a.value(i)),
            Reader::Utf8View(a) if !a.is_null(i) => Some(a.value(i)),
            Reader::Given(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The bytes at `i`, borrowed, when the column holds binary values and the value is not
    /// NULL.
    #[inline]
    pub(crate) fn bytes(&self, i: usize) -> Option<&[u8]> {
        match self {
            Reader::Binary(a) if !a.is_null(i) => Some(a.value(i)),
            Reader::Other(a, _) if !self.is_null(i) => match a.data_type() {
                DataType::LargeBinary => Some(a.as_binary::<i64>().value(i)),
                DataType::BinaryView => Some(a.as_binary_view().value(i)),
                DataType::FixedSizeBinary(_) => Some(a.as_fixed_size_binary().value(i)),
                _ => None,
            },
            Reader::Given(Value::Binary(b)) => Some(b),
            _ => None,
        }
    }

    /// The float at `i`, when the column holds `Float32`/`Float64` and the value is not NULL.
    #[inline]
    pub(crate) fn float(&self, i: usize) -> Option<f64> {
        match self {
            Reader::Float64(a) if !a.is_null(i) => Some(a.value(i)),
            Reader::Float32(a) if !a.is_null(i) => Some(a.value(i).into()),
            _ => None,
        }
    }

    /// The `f32` at `i`, when the column holds `Float32` and the value is not NULL.
    #[inline]
    pub(crate) fn f32(&self, i: usize) -> Option<f32> {
        match self {
            Reader::Float32(a) if !a.is_null(i) => Some(a.value(i)),
            _ => None,
        }
    }

    /// The boolean at `i`, when the column holds booleans and the value is not NULL.
    #[inline]
    pub(crate) fn bool(&self, i: usize) -> Option<bool> {
        match self {
            Reader::Bool(a) if !a.is_null(i) => Some(a.value(i)),
            _ => None,
        }
    }

    /// The date at `i`, when the column holds `Date32` and the value is not NULL.
    #[inline]
    pub(crate) fn date(&self, i: usize) -> Option<Result<chrono::NaiveDate>> {
        match self {
            Reader::Date32(a) if !a.is_null(i) => Some(date32(a.value(i))),
            _ => None,
        }
    }

    /// The decimal at `i`, when the column holds `Decimal128` and the value is not NULL.
    #[inline]
    pub(crate) fn decimal(&self, i: usize) -> Option<Decimal> {
        match self {
            Reader::Decimal128(a, p, s) if !a.is_null(i) => {
                Some(Decimal::from_i128(a.value(i), *p, *s))
            }
            _ => None,
        }
    }

    /// A timestamp without time zone at `i`, when the column holds one and it is not NULL.
    #[inline]
    pub(crate) fn timestamp(&self, i: usize) -> Option<Result<chrono::NaiveDateTime>> {
        match self {
            Reader::TimestampS(a, c) if !a.is_null(i) => Some(c.read::<TimestampSecondType>(a, i)),
            Reader::TimestampMs(a, c) if !a.is_null(i) => {
                Some(c.read::<TimestampMillisecondType>(a, i))
            }
            Reader::TimestampUs(a, c) if !a.is_null(i) => {
                Some(c.read::<TimestampMicrosecondType>(a, i))
            }
            Reader::TimestampNs(a, c) if !a.is_null(i) => {
                Some(c.read::<TimestampNanosecondType>(a, i))
            }
            _ => None,
        }
    }

    /// A timestamp without time zone at `i` as nanoseconds since the epoch, when the column
    /// holds one, the value is not NULL and its nanoseconds fit an `i64` (then it is also in
    /// chrono's range, and [`timestamp`](Self::timestamp) would give the same instant): no
    /// calendar arithmetic.
    #[inline]
    pub(crate) fn timestamp_nanos(&self, i: usize) -> Option<i64> {
        match self {
            Reader::TimestampS(a, _) if !a.is_null(i) => a.value(i).checked_mul(1_000_000_000),
            Reader::TimestampMs(a, _) if !a.is_null(i) => a.value(i).checked_mul(1_000_000),
            Reader::TimestampUs(a, _) if !a.is_null(i) => a.value(i).checked_mul(1_000),
            Reader::TimestampNs(a, _) if !a.is_null(i) => Some(a.value(i)),
            _ => None,
        }
    }

    /// The name of the [`Value`] variant this column's values read as (for error messages;
    /// reads the value at `i` for columns without a fast reader).
    pub(crate) fn type_name(&self, i: usize) -> &'static str {
        if self.is_null(i) {
            return "Null";
        }
        match self {
            Reader::Bool(_) => "Bool",
            Reader::Int8(_) => "Int8",
            Reader::Int16(_) => "Int16",
            Reader::Int32(_) => "Int32",
            Reader::Int64(_) => "Int64",
            Reader::UInt8(_) => "UInt8",
            Reader::UInt16(_) => "UInt16",
            Reader::UInt32(_) => "UInt32",
            Reader::UInt64(_) => "UInt64",
            Reader::Float32(_) => "Float32",
            Reader::Float64(_) => "Float64",
            Reader::Utf8(_) | Reader::LargeUtf8(_) | Reader::Utf8View(_) => "String",
            Reader::Binary(_) => "Binary",
            Reader::Date32(_) => "Date",
            Reader::Decimal128(..) => "Decimal",
            Reader::TimestampS(..)
            | Reader::TimestampMs(..)
            | Reader::TimestampUs(..)
            | Reader::TimestampNs(..) => "Timestamp",
            Reader::Other(a, _) => Value::from_arrow(a.as_ref(), i).map_or("?", |v| v.type_name()),
            Reader::Given(v) => v.type_name(),
        }
    }
}

/// The date of the last timestamp read: neighbouring timestamps mostly share a day, and
/// computing a calendar date is the costly part of a conversion. Shared by the rows of a
/// batch (possibly on several threads): the day and its date are packed in one atomic word.
pub(crate) struct DayCache(AtomicU64);

/// No day cached: a day number no timestamp reaches with a valid date.
const NO_DAY: u64 = u64::MAX;

impl DayCache {
    fn new() -> DayCache {
        DayCache(AtomicU64::new(NO_DAY))
    }

    /// The timestamp at `i` of `array` (not NULL), through the cache; an error for a value
    /// out of chrono's range.
    #[inline]
    fn read<T: ArrowTimestampType>(
        &self,
        array: &PrimitiveArray<T>,
        i: usize,
    ) -> Result<chrono::NaiveDateTime> {
        let v = array.value(i);
        let per_second = match T::UNIT {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        };
        self.datetime(v, per_second)
            .or_else(|| as_datetime::<T>(v))
            .ok_or_else(|| {
                Error::data(format!(
                    "{} value {v} is out of the representable range",
                    array.data_type()
                ))
            })
    }

    /// `value` in units of `1 / per_second` s since the epoch, when its day is the cached one
    /// (or can be cached); `None` lets the caller use the general conversion. Inlined, so
    /// that the divisions by the constant `per_second` become multiplications.
    #[inline(always)]
    fn datetime(&self, value: i64, per_second: i64) -> Option<chrono::NaiveDateTime> {
        const SECONDS_PER_DAY: i64 = 86_400;
        let per_day = per_second.checked_mul(SECONDS_PER_DAY)?;
        let day = i32::try_from(value.div_euclid(per_day)).ok()?;
        let within = value.rem_euclid(per_day);
        // The cache holds the day number with its year and ordinal: rebuilding a date from
        // those is a table lookup, unlike the calendar arithmetic from a day number.
        const YEAR_OFFSET: i32 = 1 << 22;
        let cached = self.0.load(Ordering::Relaxed);
        let date = if cached != NO_DAY && (cached >> 32) as u32 as i32 == day {
            let year = ((cached >> 9) & 0x7f_ffff) as i32 - YEAR_OFFSET;
            chrono::NaiveDate::from_yo_opt(year, (cached & 0x1ff) as u32)?
        } else {
            use chrono::Datelike;
            let ce = day.checked_add(719_163)?;
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(ce)?;
            let year = u64::from((date.year() + YEAR_OFFSET) as u32 & 0x7f_ffff);
            let packed = (u64::from(day as u32) << 32) | (year << 9) | u64::from(date.ordinal());
            if packed != NO_DAY {
                self.0.store(packed, Ordering::Relaxed);
            }
            date
        };
        let seconds = u32::try_from(within / per_second).ok()?;
        let nanos = u32::try_from((within % per_second) * (1_000_000_000 / per_second)).ok()?;
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos)?;
        Some(chrono::NaiveDateTime::new(date, time))
    }
}

/// What rows of one batch share: the column descriptions and the columns, downcast once.
/// A [`Row`] is this, shared, and an index.
pub(crate) struct RowData {
    pub(crate) columns: Arc<[Column]>,
    pub(crate) readers: Box<[Reader]>,
    /// The batch, for zero-copy access (`None` for a row made of values).
    pub(crate) batch: Option<RecordBatch>,
    pub(crate) len: usize,
}

impl std::fmt::Debug for RowData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowData")
            .field("columns", &self.columns.len())
            .field("len", &self.len)
            .finish()
    }
}

impl RowData {
    /// The rows of a batch, whose schema `columns` describes.
    pub(crate) fn new(columns: &Arc<[Column]>, batch: &RecordBatch) -> Result<RowData> {
        if batch.num_columns() != columns.len() {
            return Err(Error::interface(format!(
                "a batch of {} columns cannot be described by {} columns",
                batch.num_columns(),
                columns.len()
            )));
        }
        Ok(RowData::described(Arc::clone(columns), batch))
    }

    /// The rows of a batch whose columns `columns` describes (one per column of the batch:
    /// the caller made them from its schema).
    pub(crate) fn described(columns: Arc<[Column]>, batch: &RecordBatch) -> RowData {
        RowData {
            columns,
            readers: batch.columns().iter().map(Reader::new).collect(),
            batch: Some(batch.clone()),
            len: batch.num_rows(),
        }
    }

    /// One row made of values.
    pub(crate) fn given(columns: Arc<[Column]>, values: Vec<Value>) -> RowData {
        RowData {
            columns,
            readers: values.into_iter().map(Reader::Given).collect(),
            batch: None,
            len: 1,
        }
    }

    /// The value of column `n` in row `i`; an error names the column.
    pub(crate) fn value(&self, n: usize, i: usize) -> Result<Value> {
        let reader = self
            .readers
            .get(n)
            .ok_or_else(|| Error::interface(format!("no column {n}")))?;
        reader.read(i).map_err(|e| {
            let name = self.columns.get(n).map_or("?", Column::name);
            e.context(format_args!("column {n} ({name:?})"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Row;
    use crate::row::describe;
    use arrow::array::{Decimal128Array, TimestampSecondArray};
    use arrow::datatypes::{Field, Schema};

    /// The fast readers give exactly what `Value::from_arrow` gives.
    #[test]
    fn fast_readers_agree_with_from_arrow() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(Int8Array::from(vec![Some(-1), None])),
            Arc::new(UInt64Array::from(vec![Some(u64::MAX), None])),
            Arc::new(Float32Array::from(vec![Some(0.5), None])),
            Arc::new(StringArray::from(vec![Some("s"), None])),
            Arc::new(LargeStringArray::from(vec![Some("l"), None])),
            Arc::new(StringViewArray::from(vec![Some("v"), None])),
            Arc::new(BinaryArray::from(vec![Some(&b"b"[..]), None])),
            Arc::new(Date32Array::from(vec![Some(1), None])),
            Arc::new(TimestampSecondArray::from(vec![Some(1), None])),
            Arc::new(TimestampNanosecondArray::from(vec![Some(1), None])),
            Arc::new(TimestampNanosecondArray::from(vec![Some(1), None]).with_timezone("UTC")),
            Arc::new(Decimal128Array::from(vec![Some(1), None])),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let described = describe(&batch.schema());
        let data = Arc::new(RowData::new(&described, &batch).unwrap());
        for i in 0..2 {
            let fast = Row::view(&data, i).unwrap().values().unwrap();
            for (c, column) in batch.columns().iter().enumerate() {
                assert_eq!(fast[c], Value::from_arrow(column.as_ref(), i).unwrap());
                assert_eq!(
                    data.readers[c].type_name(i),
                    fast[c].type_name(),
                    "column {c}"
                );
                assert_eq!(data.readers[c].is_null(i), fast[c] == Value::Null);
            }
        }
        assert!(Row::view(&data, 2).is_err());
    }

    #[test]
    fn day_cache_agrees_with_chrono() {
        let cache = DayCache::new();
        for (v, per) in [
            (0_i64, 1_i64),
            (-1, 1),
            (86_399, 1),
            (86_400, 1),
            (1_700_000_000_123, 1_000),
            (-1_700_000_000_123_456, 1_000_000),
            (1_700_000_000_123_456_789, 1_000_000_000),
            (1_700_000_000_123_456_790, 1_000_000_000),
        ] {
            let expected = chrono::DateTime::from_timestamp(
                v.div_euclid(per),
                (v.rem_euclid(per) * (1_000_000_000 / per)) as u32,
            )
            .unwrap()
            .naive_utc();
            assert_eq!(cache.datetime(v, per), Some(expected), "{v} / {per}");
        }
    }

    #[test]
    fn batches_without_columns_still_have_rows() {
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(3)),
        )
        .unwrap();
        let data = Arc::new(RowData::new(&describe(&batch.schema()), &batch).unwrap());
        let mut got = Vec::new();
        Row::views(&data, 0..3, &mut got);
        assert_eq!(got.len(), 3);
        assert!(got[0].is_empty());
    }

    #[test]
    fn views_of_one_batch_read_their_own_row() {
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "b",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let data = Arc::new(RowData::new(&describe(&batch.schema()), &batch).unwrap());
        let mut got = Vec::new();
        Row::views(&data, 1..3, &mut got);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].values().unwrap(),
            [Value::Int64(3), Value::String("z".into())]
        );
        assert_eq!(got[0].get::<&str, _>("b").unwrap(), "y");
        assert_eq!(got[0], Row::view(&data, 1).unwrap());
        let (b, i) = got[0].batch().unwrap();
        assert_eq!((b.num_rows(), i), (3, 1));
    }

    #[test]
    fn out_of_range_timestamp_names_the_column() {
        let batch = RecordBatch::try_from_iter([(
            "ts",
            Arc::new(TimestampSecondArray::from(vec![i64::MAX])) as ArrayRef,
        )])
        .unwrap();
        let row = Row::from_batch(&describe(&batch.schema()), &batch, 0).unwrap();
        let e = row.values().unwrap_err();
        assert!(e.to_string().contains("column 0 (\"ts\")"), "{e}");
        let e = row.get::<chrono::NaiveDateTime, _>("ts").unwrap_err();
        assert!(e.to_string().contains("column 0 (\"ts\")"), "{e}");
        assert!(
            e.to_string().contains("out of the representable range"),
            "{e}"
        );
    }

    #[test]
    fn the_day_cache_is_shared_by_threads() {
        let values: Vec<i64> = (0..2_000).map(|i| i * 43_200 - 40_000_000).collect();
        let batch = RecordBatch::try_from_iter([(
            "ts",
            Arc::new(TimestampSecondArray::from(values.clone())) as ArrayRef,
        )])
        .unwrap();
        let data = Arc::new(RowData::new(&describe(&batch.schema()), &batch).unwrap());
        std::thread::scope(|scope| {
            for t in 0..4 {
                let data = Arc::clone(&data);
                let values = &values;
                scope.spawn(move || {
                    for i in (t..values.len()).step_by(3) {
                        let row = Row::view(&data, i).unwrap();
                        let expected = as_datetime::<TimestampSecondType>(values[i]).unwrap();
                        assert_eq!(row.get::<chrono::NaiveDateTime, _>(0).unwrap(), expected);
                    }
                });
            }
        });
    }
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn day_cache_matches_arrow(values in proptest::collection::vec(prop_oneof![any::<i64>(), -100_000_000_000_000_i64..100_000_000_000_000], 1..20), unit in 0_usize..4) {
            let cache = DayCache::new();
            for v in values {
                let (per, expected) = match unit {
                    0 => (1, as_datetime::<TimestampSecondType>(v)),
                    1 => (1_000, as_datetime::<TimestampMillisecondType>(v)),
                    2 => (1_000_000, as_datetime::<TimestampMicrosecondType>(v)),
                    _ => (1_000_000_000, as_datetime::<TimestampNanosecondType>(v)),
                };
                if let Some(got) = cache.datetime(v, per) {
                    prop_assert_eq!(Some(got), expected);
                }
                // Neighbours share the cached day.
                let next = v.saturating_add(1);
                if let Some(got) = cache.datetime(next, per) {
                    let expected = match unit {
                        0 => as_datetime::<TimestampSecondType>(next),
                        1 => as_datetime::<TimestampMillisecondType>(next),
                        2 => as_datetime::<TimestampMicrosecondType>(next),
                        _ => as_datetime::<TimestampNanosecondType>(next),
                    };
                    prop_assert_eq!(Some(got), expected);
                }
            }
        }

        #[test]
        fn timestamp_nanos_match_the_calendar(values in proptest::collection::vec(prop_oneof![any::<i64>(), -10_000_000_000_000_i64..10_000_000_000_000], 1..20), unit in 0_usize..4) {
            let array: ArrayRef = match unit {
                0 => Arc::new(arrow::array::TimestampSecondArray::from(values)),
                1 => Arc::new(arrow::array::TimestampMillisecondArray::from(values)),
                2 => Arc::new(arrow::array::TimestampMicrosecondArray::from(values)),
                _ => Arc::new(arrow::array::TimestampNanosecondArray::from(values)),
            };
            let reader = Reader::new(&array);
            for i in 0..array.len() {
                let through_calendar = reader
                    .timestamp(i)
                    .and_then(|t| t.ok())
                    .and_then(|t| t.and_utc().timestamp_nanos_opt());
                // Straight from the value whenever the calendar's answer fits an i64.
                prop_assert_eq!(reader.timestamp_nanos(i), through_calendar, "{}", i);
            }
        }
    }
}

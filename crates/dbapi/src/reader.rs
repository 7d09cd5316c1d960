//! Fast row reading: the columns of one batch, downcast once.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, StringArray, StringViewArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{
    DataType, Date32Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::as_datetime;

use crate::{Column, Error, Result, Row, Value};

/// One column, downcast to its concrete array type when it is a common one.
enum Reader {
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
    TimestampS(TimestampSecondArray, DayCache),
    TimestampMs(TimestampMillisecondArray, DayCache),
    TimestampUs(TimestampMicrosecondArray, DayCache),
    TimestampNs(TimestampNanosecondArray, DayCache),
    /// Everything else, through [`Value::from_arrow`].
    Other(ArrayRef),
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
            DataType::Timestamp(TimeUnit::Second, None) => {
                Reader::TimestampS(a.as_primitive().clone(), DayCache::default())
            }
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                Reader::TimestampMs(a.as_primitive().clone(), DayCache::default())
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Reader::TimestampUs(a.as_primitive().clone(), DayCache::default())
            }
            DataType::Timestamp(TimeUnit::Nanosecond, None) => {
                Reader::TimestampNs(a.as_primitive().clone(), DayCache::default())
            }
            _ => Reader::Other(Arc::clone(array)),
        }
    }

    /// The value at `i`, which the caller has checked is in bounds.
    // Inlined into both row builders: a call per value costs a fifth of `fetchone`.
    #[inline(always)]
    fn read(&self, i: usize) -> Result<Value> {
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
            ($a:expr, $cache:expr, $t:ty, $per_second:expr) => {
                if $a.is_null(i) {
                    Value::Null
                } else {
                    let v = $a.value(i);
                    let t = $cache
                        .datetime(v, $per_second)
                        .or_else(|| as_datetime::<$t>(v))
                        .ok_or_else(|| {
                            Error::data(format!(
                                "{} value {v} is out of the representable range",
                                $a.data_type()
                            ))
                        })?;
                    Value::Timestamp(t)
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
                    let v = a.value(i);
                    Value::Date(Date32Type::to_naive_date_opt(v).ok_or_else(|| {
                        Error::data(format!(
                            "Date32 value {v} is out of the representable range"
                        ))
                    })?)
                }
            }
            Reader::TimestampS(a, c) => timestamp!(a, c, TimestampSecondType, 1),
            Reader::TimestampMs(a, c) => timestamp!(a, c, TimestampMillisecondType, 1_000),
            Reader::TimestampUs(a, c) => timestamp!(a, c, TimestampMicrosecondType, 1_000_000),
            Reader::TimestampNs(a, c) => timestamp!(a, c, TimestampNanosecondType, 1_000_000_000),
            Reader::Other(a) => Value::from_arrow(a.as_ref(), i)?,
        })
    }
}

/// The date of the last timestamp read: neighbouring timestamps mostly share a day, and
/// computing a calendar date is the costly part of a conversion.
#[derive(Default)]
struct DayCache(std::cell::Cell<Option<(i64, chrono::NaiveDate)>>);

impl DayCache {
    /// `value` in units of `1 / per_second` s since the epoch, when its day is the cached one
    /// (or can be cached); `None` lets the caller use the general conversion.
    fn datetime(&self, value: i64, per_second: i64) -> Option<chrono::NaiveDateTime> {
        const SECONDS_PER_DAY: i64 = 86_400;
        let per_day = per_second.checked_mul(SECONDS_PER_DAY)?;
        let day = value.div_euclid(per_day);
        let within = value.rem_euclid(per_day);
        let date = match self.0.get() {
            Some((d, date)) if d == day => date,
            _ => {
                let date = chrono::NaiveDate::from_num_days_from_ce_opt(
                    i32::try_from(day.checked_add(719_163)?).ok()?,
                )?;
                self.0.set(Some((day, date)));
                date
            }
        };
        let seconds = u32::try_from(within / per_second).ok()?;
        let nanos = u32::try_from((within % per_second) * (1_000_000_000 / per_second)).ok()?;
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos)?;
        Some(chrono::NaiveDateTime::new(date, time))
    }
}

/// The rows of one record batch: built once per batch, then each row costs one allocation
/// for its values (plus one per string or binary value).
pub(crate) struct BatchRows {
    columns: Arc<[Column]>,
    readers: Vec<Reader>,
    len: usize,
}

impl std::fmt::Debug for BatchRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchRows")
            .field("columns", &self.columns.len())
            .field("len", &self.len)
            .finish()
    }
}

impl BatchRows {
    pub(crate) fn new(columns: &Arc<[Column]>, batch: &RecordBatch) -> Result<BatchRows> {
        if batch.num_columns() != columns.len() {
            return Err(Error::interface(format!(
                "a batch of {} columns cannot be described by {} columns",
                batch.num_columns(),
                columns.len()
            )));
        }
        Ok(BatchRows {
            columns: Arc::clone(columns),
            readers: batch.columns().iter().map(Reader::new).collect(),
            len: batch.num_rows(),
        })
    }

    /// Appends the values of row `i` to `out`; an error names the column.
    #[inline(always)]
    fn push_row(&self, i: usize, out: &mut Vec<Value>) -> Result<()> {
        for (n, reader) in self.readers.iter().enumerate() {
            let value = reader.read(i).map_err(|e| {
                let name = self.columns.get(n).map_or("?", Column::name);
                e.context(format_args!("column {n} ({name:?})"))
            })?;
            out.push(value);
        }
        Ok(())
    }

    /// Rows `range` of the batch, sharing one block of values. On a conversion error, the rows
    /// before the failing one come back with the error.
    pub(crate) fn rows(&self, range: std::ops::Range<usize>) -> (Vec<Row>, Option<Error>) {
        let end = range.end.min(self.len);
        let width = self.readers.len();
        let mut count = end.saturating_sub(range.start);
        let mut block = Vec::with_capacity(count * width);
        let mut error = None;
        for i in range.start..end {
            if let Err(e) = self.push_row(i, &mut block) {
                error = Some(e);
                count = i - range.start;
                block.truncate(count * width);
                break;
            }
        }
        (Row::from_block(&self.columns, block, count), error)
    }

    /// Row `i` of the batch.
    pub(crate) fn row(&self, i: usize) -> Result<Row> {
        if i >= self.len {
            return Err(Error::interface(format!(
                "row {i} is out of bounds for a batch of {} rows",
                self.len
            )));
        }
        let mut values = Vec::with_capacity(self.readers.len());
        self.push_row(i, &mut values)?;
        Row::new(Arc::clone(&self.columns), values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let rows = BatchRows::new(&described, &batch).unwrap();
        for i in 0..2 {
            let fast = rows.row(i).unwrap();
            for (c, column) in batch.columns().iter().enumerate() {
                assert_eq!(
                    fast.values()[c],
                    Value::from_arrow(column.as_ref(), i).unwrap()
                );
            }
        }
        assert!(rows.row(2).is_err());
    }

    #[test]
    fn day_cache_agrees_with_chrono() {
        let cache = DayCache::default();
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
        let rows = BatchRows::new(&describe(&batch.schema()), &batch).unwrap();
        let (got, error) = rows.rows(0..3);
        assert!(error.is_none());
        assert_eq!(got.len(), 3);
        assert!(got[0].is_empty());
    }

    #[test]
    fn shared_blocks_give_each_row_its_values() {
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "b",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let rows = BatchRows::new(&describe(&batch.schema()), &batch).unwrap();
        let (got, error) = rows.rows(1..3);
        assert!(error.is_none());
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].values(),
            &[Value::Int64(3), Value::String("z".into())]
        );
        assert_eq!(got[0].get::<String, _>("b").unwrap(), "y");
        assert_eq!(got[0], rows.row(1).unwrap());
        assert_eq!(
            got[0].clone().into_values(),
            rows.row(1).unwrap().into_values()
        );
    }

    #[test]
    fn out_of_range_timestamp_names_the_column() {
        let batch = RecordBatch::try_from_iter([(
            "ts",
            Arc::new(TimestampSecondArray::from(vec![i64::MAX])) as ArrayRef,
        )])
        .unwrap();
        let rows = BatchRows::new(&describe(&batch.schema()), &batch).unwrap();
        let e = rows.row(0).unwrap_err();
        assert!(e.to_string().contains("column 0 (\"ts\")"), "{e}");
    }
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn day_cache_matches_arrow(values in proptest::collection::vec(prop_oneof![any::<i64>(), -100_000_000_000_000_i64..100_000_000_000_000], 1..20), unit in 0_usize..4) {
            let cache = DayCache::default();
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
    }
}

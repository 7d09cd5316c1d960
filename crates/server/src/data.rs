//! Data sets the server can serve.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

/// The demo dataset: a `readings` table of sensor measurements (4 sensors × 25 readings).
///
/// Columns: `time` (timestamp ns, UTC), `sensor` (utf8), `location` (utf8), `temperature`
/// (float64) and `humidity` (float64, NULL for every 10th reading).
///
/// # Errors
/// Never in practice; the batch is built from arrays of matching lengths.
pub fn demo_readings() -> Result<RecordBatch, ArrowError> {
    let sensors = [
        ("s1", "kitchen"),
        ("s2", "garage"),
        ("s3", "attic"),
        ("s4", "cellar"),
    ];
    let n = 100;
    let base = 1_767_225_600_000_000_000_i64; // 2026-01-01T00:00:00Z
    let time: Vec<i64> = (0..n).map(|i| base + i * 60_000_000_000).collect();
    let sensor: Vec<&str> = (0..n).map(|i| sensors[(i % 4) as usize].0).collect();
    let location: Vec<&str> = (0..n).map(|i| sensors[(i % 4) as usize].1).collect();
    let temperature: Vec<f64> = (0..n).map(|i| 15.0 + (i % 17) as f64 * 0.5).collect();
    let humidity: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 10 != 9).then_some(40.0 + (i % 7) as f64))
        .collect();
    let schema = Schema::new(vec![
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("sensor", DataType::Utf8, false),
        Field::new("location", DataType::Utf8, false),
        Field::new("temperature", DataType::Float64, false),
        Field::new("humidity", DataType::Float64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(TimestampNanosecondArray::from(time).with_timezone("UTC")) as ArrayRef,
            Arc::new(StringArray::from(sensor)),
            Arc::new(StringArray::from(location)),
            Arc::new(Float64Array::from(temperature)),
            Arc::new(Float64Array::from(humidity)),
        ],
    )
}

/// A generated table of `rows` rows in batches of `batch_rows`: `id` (int64, 0..rows),
/// `value` (float64, `id * 0.5`), `name` (utf8, `"name-<id>"`), `ts` (timestamp µs,
/// `id` seconds after 2026-01-01).
///
/// # Errors
/// Never in practice; arrays are built with matching lengths.
pub fn generated(rows: usize, batch_rows: usize) -> Result<Vec<RecordBatch>, ArrowError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
    ]));
    let batch_rows = batch_rows.max(1);
    let mut out = Vec::with_capacity(rows.div_ceil(batch_rows));
    let mut start = 0_i64;
    let total = i64::try_from(rows).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
    while start < total {
        let end = (start + batch_rows as i64).min(total);
        let ids: Vec<i64> = (start..end).collect();
        out.push(RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(ids.clone())) as ArrayRef,
                Arc::new(Float64Array::from_iter_values(
                    ids.iter().map(|&i| i as f64 * 0.5),
                )),
                Arc::new(StringArray::from_iter_values(
                    ids.iter().map(|i| format!("name-{i}")),
                )),
                Arc::new(TimestampMicrosecondArray::from_iter_values(
                    ids.iter().map(|&i| 1_767_225_600_000_000 + i * 1_000_000),
                )),
            ],
        )?);
        start = end;
    }
    Ok(out)
}

/// The columns of [`wide`]: 22 of the types a table of business data mixes, some with NULLs.
pub const WIDE_COLUMNS: usize = 22;

/// A generated wide table of `rows` rows in batches of `batch_rows`, 22 columns of mixed
/// types as published benchmarks of database drivers use (integers, floats, decimals,
/// strings, dates, timestamps, booleans, NULLs): `id` (int64, 0..rows), `i8` … `i64`
/// integers, `f32` and `f64` floats, `price` (decimal(12, 2)) and `rate` (decimal(7, 4)),
/// `code`, `name`, `comment` and `country` strings, `day` (date32), `created` and `updated`
/// (timestamp µs), `flag` and `active` booleans, `qty` (int32), `discount` (float64) and
/// `note` (utf8). `big`, `comment`, `updated`, `active`, `discount` and `note` are NULL in
/// every 10th, 7th, 5th, 3rd, 4th and 2nd row (counting from 1).
///
/// # Errors
/// Never in practice; arrays are built with matching lengths.
pub fn wide(rows: usize, batch_rows: usize) -> Result<Vec<RecordBatch>, ArrowError> {
    use arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Float32Array, Int8Array, Int16Array, Int32Array,
    };
    let countries = ["DE", "FR", "US", "JP", "BR", "IN", "NG", "CA"];
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("i8", DataType::Int8, false),
        Field::new("i16", DataType::Int16, false),
        Field::new("i32", DataType::Int32, false),
        Field::new("big", DataType::Int64, true),
        Field::new("f32", DataType::Float32, false),
        Field::new("f64", DataType::Float64, false),
        Field::new("price", DataType::Decimal128(12, 2), false),
        Field::new("rate", DataType::Decimal128(7, 4), false),
        Field::new("code", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("comment", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, false),
        Field::new("day", DataType::Date32, false),
        Field::new(
            "created",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new(
            "updated",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("flag", DataType::Boolean, false),
        Field::new("active", DataType::Boolean, true),
        Field::new("qty", DataType::Int32, false),
        Field::new("discount", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("seq", DataType::Int64, false),
    ]));
    let batch_rows = batch_rows.max(1);
    let total = i64::try_from(rows).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
    let mut out = Vec::with_capacity(rows.div_ceil(batch_rows));
    let mut start = 0_i64;
    // Every `n`th row (counting from 1) is NULL.
    let nth = |i: i64, n: i64| (i + 1) % n != 0;
    let created = |i: i64| 1_767_225_600_000_000 + i * 1_000_000;
    while start < total {
        let end = (start + batch_rows as i64).min(total);
        let ids = start..end;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(ids.clone())),
            Arc::new(Int8Array::from_iter_values(
                ids.clone().map(|i| (i % 128) as i8),
            )),
            Arc::new(Int16Array::from_iter_values(
                ids.clone().map(|i| (i % 30_000) as i16),
            )),
            Arc::new(Int32Array::from_iter_values(
                ids.clone().map(|i| (i * 7 % 2_000_000_000) as i32),
            )),
            Arc::new(Int64Array::from_iter(
                ids.clone().map(|i| nth(i, 10).then_some(i * 1_000_003)),
            )),
            Arc::new(Float32Array::from_iter_values(
                ids.clone().map(|i| (i % 1000) as f32 * 0.25),
            )),
            Arc::new(Float64Array::from_iter_values(
                ids.clone().map(|i| i as f64 * 1.5),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(ids.clone().map(|i| i128::from(i % 10_000_000)))
                    .with_precision_and_scale(12, 2)?,
            ),
            Arc::new(
                Decimal128Array::from_iter_values(ids.clone().map(|i| i128::from(i % 100_000)))
                    .with_precision_and_scale(7, 4)?,
            ),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("C-{}", i % 1000)),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("customer-{i:08}")),
            )),
            Arc::new(StringArray::from_iter(ids.clone().map(|i| {
                nth(i, 7).then(|| format!("comment about order {i} and its delivery"))
            }))),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| countries[(i % 8) as usize]),
            )),
            Arc::new(Date32Array::from_iter_values(
                ids.clone().map(|i| 20_454 + (i % 3650) as i32),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                ids.clone().map(created),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter(
                ids.clone()
                    .map(|i| nth(i, 5).then_some(created(i) + 3_600_000_000)),
            )),
            Arc::new(BooleanArray::from_iter(
                ids.clone().map(|i| Some(i % 2 == 0)),
            )),
            Arc::new(BooleanArray::from_iter(
                ids.clone().map(|i| nth(i, 3).then_some(i % 5 == 0)),
            )),
            Arc::new(Int32Array::from_iter_values(
                ids.clone().map(|i| (i % 50) as i32 + 1),
            )),
            Arc::new(Float64Array::from_iter(
                ids.clone()
                    .map(|i| nth(i, 4).then_some((i % 10) as f64 / 100.0)),
            )),
            Arc::new(StringArray::from_iter(
                ids.clone()
                    .map(|i| nth(i, 2).then(|| format!("n{}", i % 97))),
            )),
            Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| total - i))),
        ];
        out.push(RecordBatch::try_new(Arc::clone(&schema), columns)?);
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;

    use super::*;

    #[test]
    fn the_wide_table_has_its_columns_and_nulls_where_documented() {
        let batches = wide(100, 30).unwrap();
        assert_eq!(batches.len(), 4);
        assert_eq!(
            batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
            100
        );
        let schema = batches[0].schema();
        assert_eq!(schema.fields().len(), WIDE_COLUMNS);
        let nulls = |name: &str| -> usize {
            let i = schema.index_of(name).unwrap();
            batches.iter().map(|b| b.column(i).null_count()).sum()
        };
        // Every 10th, 7th, 5th, 3rd, 4th and 2nd row of 100.
        let expected = [
            ("big", 10),
            ("comment", 14),
            ("updated", 20),
            ("active", 33),
            ("discount", 25),
            ("note", 50),
            ("id", 0),
            ("price", 0),
        ];
        for (name, n) in expected {
            assert_eq!(nulls(name), n, "{name}");
        }
        // Ids run on across batches.
        let last = batches[3]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(last.value(last.len() - 1), 99);
    }
}

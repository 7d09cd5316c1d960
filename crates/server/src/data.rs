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

//! The wide-table figures: a 22-column table of mixed types and TPC-H `lineitem`, read whole
//! through every path of the driver and through every Python peer the machine has, each read
//! in a process of its own (so that its peak memory is its own), checked by row count and by
//! a checksum every reader computes the same way (the sum of the first column plus the number
//! of non-NULL values).

use std::process::Command;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use arrow::record_batch::RecordBatch;
use dbapi::{Connection, CursorExt, Params, Value};

use crate::{BoxError, Figure, PythonPeers, median, registry, rss_kib, secs};

/// The driver's own paths, as `wide-read --path` names them.
pub(crate) const RUST_PATHS: [&str; 5] = ["arrow", "fetchall", "fetchone", "typed", "serde"];

/// The generated tables: `wide` (`rows` rows) and `lineitem` (TPC-H at `scale_factor`; none
/// when it is 0).
pub(crate) fn tables(
    rows: usize,
    scale_factor: f64,
) -> Result<Vec<(&'static str, Vec<RecordBatch>)>, BoxError> {
    let mut tables = vec![("wide", dbapi_flightsql_server::wide(rows, 8192)?)];
    if scale_factor > 0.0 {
        let generator = tpchgen::generators::LineItemGenerator::new(scale_factor, 1, 1);
        let batches = tpchgen_arrow::LineItemArrow::new(generator)
            .with_batch_size(8192)
            .collect::<Result<Vec<_>, _>>()?;
        tables.push(("lineitem", batches));
    }
    Ok(tables)
}

/// A row of `wide`, read with `#[derive(FromRow)]`.
#[derive(dbapi::FromRow)]
struct WideRow {
    id: i64,
    i8: i8,
    i16: i16,
    i32: i32,
    big: Option<i64>,
    f32: f32,
    f64: f64,
    price: dbapi::Decimal,
    rate: dbapi::Decimal,
    code: String,
    name: String,
    comment: Option<String>,
    country: String,
    day: chrono::NaiveDate,
    created: chrono::NaiveDateTime,
    updated: Option<chrono::NaiveDateTime>,
    flag: bool,
    active: Option<bool>,
    qty: i32,
    discount: Option<f64>,
    note: Option<String>,
    seq: i64,
}

/// A row of `wide`, deserialized (decimals as their exact text, as serde reads them).
#[derive(serde::Deserialize)]
struct WideSerde {
    id: i64,
    i8: i8,
    i16: i16,
    i32: i32,
    big: Option<i64>,
    f32: f32,
    f64: f64,
    price: String,
    rate: String,
    code: String,
    name: String,
    comment: Option<String>,
    country: String,
    day: chrono::NaiveDate,
    #[serde(deserialize_with = "dbapi::serde_with::naive_datetime")]
    created: chrono::NaiveDateTime,
    #[serde(default, deserialize_with = "dbapi::serde_with::option_naive_datetime")]
    updated: Option<chrono::NaiveDateTime>,
    flag: bool,
    active: Option<bool>,
    qty: i32,
    discount: Option<f64>,
    note: Option<String>,
    seq: i64,
}

/// A row of TPC-H `lineitem`, read with `#[derive(FromRow)]`.
#[derive(dbapi::FromRow)]
struct LineItemRow {
    l_orderkey: i64,
    l_partkey: i64,
    l_suppkey: i64,
    l_linenumber: i32,
    l_quantity: dbapi::Decimal,
    l_extendedprice: dbapi::Decimal,
    l_discount: dbapi::Decimal,
    l_tax: dbapi::Decimal,
    l_returnflag: String,
    l_linestatus: String,
    l_shipdate: chrono::NaiveDate,
    l_commitdate: chrono::NaiveDate,
    l_receiptdate: chrono::NaiveDate,
    l_shipinstruct: String,
    l_shipmode: String,
    l_comment: String,
}

/// A row of TPC-H `lineitem`, deserialized.
#[derive(serde::Deserialize)]
struct LineItemSerde {
    l_orderkey: i64,
    l_partkey: i64,
    l_suppkey: i64,
    l_linenumber: i32,
    l_quantity: String,
    l_extendedprice: String,
    l_discount: String,
    l_tax: String,
    l_returnflag: String,
    l_linestatus: String,
    l_shipdate: chrono::NaiveDate,
    l_commitdate: chrono::NaiveDate,
    l_receiptdate: chrono::NaiveDate,
    l_shipinstruct: String,
    l_shipmode: String,
    l_comment: String,
}

/// The checksum of a typed row: its first field plus its non-NULL values. Every field is
/// read, so that the compiler keeps the reads.
trait Checksum {
    fn checksum(&self) -> i128;
}

fn present<T>(v: &Option<T>) -> i128 {
    i128::from(v.is_some())
}

/// A value folded into a hash that keeps it read (its length for text).
fn touch(acc: &mut u64, bits: u64) {
    *acc = acc.rotate_left(5) ^ bits;
}

impl Checksum for WideRow {
    fn checksum(&self) -> i128 {
        let mut h = 0_u64;
        touch(&mut h, self.i8 as u64 ^ self.i16 as u64 ^ self.i32 as u64);
        touch(&mut h, u64::from(self.f32.to_bits()) ^ self.f64.to_bits());
        touch(
            &mut h,
            self.price.mantissa_i128().unwrap_or_default() as u64 ^ self.rate.scale() as u64,
        );
        touch(
            &mut h,
            (self.code.len() + self.name.len() + self.country.len()) as u64,
        );
        touch(
            &mut h,
            self.day.to_epoch_days() as u64 ^ self.created.and_utc().timestamp() as u64,
        );
        touch(
            &mut h,
            u64::from(self.flag) ^ self.qty as u64 ^ self.seq as u64,
        );
        std::hint::black_box(h);
        i128::from(self.id)
            + 16
            + present(&self.big)
            + present(&self.comment)
            + present(&self.updated)
            + present(&self.active)
            + present(&self.discount)
            + present(&self.note)
    }
}

impl Checksum for WideSerde {
    fn checksum(&self) -> i128 {
        let mut h = 0_u64;
        touch(&mut h, self.i8 as u64 ^ self.i16 as u64 ^ self.i32 as u64);
        touch(&mut h, u64::from(self.f32.to_bits()) ^ self.f64.to_bits());
        touch(&mut h, (self.price.len() + self.rate.len()) as u64);
        touch(
            &mut h,
            (self.code.len() + self.name.len() + self.country.len()) as u64,
        );
        touch(
            &mut h,
            self.day.to_epoch_days() as u64 ^ self.created.and_utc().timestamp() as u64,
        );
        touch(
            &mut h,
            u64::from(self.flag) ^ self.qty as u64 ^ self.seq as u64,
        );
        std::hint::black_box(h);
        i128::from(self.id)
            + 16
            + present(&self.big)
            + present(&self.comment)
            + present(&self.updated)
            + present(&self.active)
            + present(&self.discount)
            + present(&self.note)
    }
}

impl Checksum for LineItemRow {
    fn checksum(&self) -> i128 {
        let mut h = 0_u64;
        touch(&mut h, self.l_partkey as u64 ^ self.l_suppkey as u64);
        touch(&mut h, self.l_linenumber as u64);
        touch(
            &mut h,
            (self.l_quantity.mantissa_i128().unwrap_or_default()
                ^ self.l_extendedprice.mantissa_i128().unwrap_or_default()
                ^ self.l_discount.mantissa_i128().unwrap_or_default()
                ^ self.l_tax.mantissa_i128().unwrap_or_default()) as u64,
        );
        touch(
            &mut h,
            (self.l_returnflag.len()
                + self.l_linestatus.len()
                + self.l_shipinstruct.len()
                + self.l_shipmode.len()
                + self.l_comment.len()) as u64,
        );
        touch(
            &mut h,
            (self.l_shipdate.to_epoch_days()
                ^ self.l_commitdate.to_epoch_days()
                ^ self.l_receiptdate.to_epoch_days()) as u64,
        );
        std::hint::black_box(h);
        i128::from(self.l_orderkey) + 16
    }
}

impl Checksum for LineItemSerde {
    fn checksum(&self) -> i128 {
        let mut h = 0_u64;
        touch(&mut h, self.l_partkey as u64 ^ self.l_suppkey as u64);
        touch(&mut h, self.l_linenumber as u64);
        touch(
            &mut h,
            (self.l_quantity.len()
                + self.l_extendedprice.len()
                + self.l_discount.len()
                + self.l_tax.len()) as u64,
        );
        touch(
            &mut h,
            (self.l_returnflag.len()
                + self.l_linestatus.len()
                + self.l_shipinstruct.len()
                + self.l_shipmode.len()
                + self.l_comment.len()) as u64,
        );
        touch(
            &mut h,
            (self.l_shipdate.to_epoch_days()
                ^ self.l_commitdate.to_epoch_days()
                ^ self.l_receiptdate.to_epoch_days()) as u64,
        );
        std::hint::black_box(h);
        i128::from(self.l_orderkey) + 16
    }
}

/// What one read found: rows, checksum, and (for the Arrow path) the Arrow bytes it held.
struct Read {
    rows: usize,
    checksum: i128,
    bytes: usize,
}

/// A whole row of values, read as `Value`s: the first as an integer, the non-NULL counted.
fn row_checksum(row: &dbapi::Row) -> Result<i128, BoxError> {
    let mut sum = 0_i128;
    for i in 0..row.len() {
        let value = row.get_value(i)?;
        if i == 0 {
            sum += match value {
                Value::Int64(v) => i128::from(v),
                Value::Int32(v) => i128::from(v),
                _ => return Err("the first column is not an integer".into()),
            };
        }
        if !value.is_null() {
            sum += 1;
        }
        std::hint::black_box(&value);
    }
    Ok(sum)
}

/// The bytes an array's data takes: its buffers, validity and children, as sliced (arrays
/// decoded from one message share its body, which `get_array_memory_size` counts for each).
fn data_bytes(data: &arrow::array::ArrayData) -> usize {
    data.buffers().iter().map(|b| b.len()).sum::<usize>()
        + data.nulls().map_or(0, |n| n.buffer().len())
        + data.child_data().iter().map(data_bytes).sum::<usize>()
}

fn typed_sum<T: Checksum>(rows: &[T]) -> i128 {
    rows.iter().map(Checksum::checksum).sum()
}

/// Reads `SELECT * FROM table` whole through `path`.
async fn read(conn: &dyn Connection, table: &str, path: &str) -> Result<Read, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor
        .execute(&format!("SELECT * FROM {table}"), Params::None)
        .await?;
    let mut read = Read {
        rows: 0,
        checksum: 0,
        bytes: 0,
    };
    match (path, table) {
        ("arrow", _) => {
            while let Some(batch) = cursor.fetch_batch().await? {
                let first = batch
                    .column(0)
                    .as_primitive_opt::<Int64Type>()
                    .ok_or("the first column is not int64")?;
                read.checksum += first.iter().flatten().map(i128::from).sum::<i128>();
                read.checksum += batch
                    .columns()
                    .iter()
                    .map(|c| (c.len() - c.null_count()) as i128)
                    .sum::<i128>();
                read.rows += batch.num_rows();
                read.bytes += batch
                    .columns()
                    .iter()
                    .map(|c| data_bytes(&c.to_data()))
                    .sum::<usize>();
            }
        }
        ("fetchall", _) => {
            let rows = cursor.fetchall().await?;
            for row in &rows {
                read.checksum += row_checksum(row)?;
            }
            read.rows = rows.len();
        }
        ("fetchone", _) => {
            while let Some(row) = cursor.fetchone().await? {
                read.checksum += row_checksum(&row)?;
                read.rows += 1;
            }
        }
        ("typed", "wide") => {
            let rows: Vec<WideRow> = cursor.fetchall_typed().await?;
            (read.rows, read.checksum) = (rows.len(), typed_sum(&rows));
        }
        ("typed", "lineitem") => {
            let rows: Vec<LineItemRow> = cursor.fetchall_typed().await?;
            (read.rows, read.checksum) = (rows.len(), typed_sum(&rows));
        }
        ("serde", "wide") => {
            let rows: Vec<WideSerde> = cursor.fetchall_as().await?;
            (read.rows, read.checksum) = (rows.len(), typed_sum(&rows));
        }
        ("serde", "lineitem") => {
            let rows: Vec<LineItemSerde> = cursor.fetchall_as().await?;
            (read.rows, read.checksum) = (rows.len(), typed_sum(&rows));
        }
        _ => return Err(format!("no path {path:?} for table {table:?}").into()),
    }
    Ok(read)
}

/// One read in this process (the `wide-read` child): connects, runs `SELECT 1`, resets the
/// peak RSS, times the read; prints the same JSON line as `python/wide_fetch.py`.
pub(crate) async fn read_once(url: &str, table: &str, path: &str) -> Result<(), BoxError> {
    let conn = registry().connect(url).await?;
    let mut cursor = conn.cursor()?;
    cursor.execute("SELECT 1", Params::None).await?;
    cursor.fetchall().await?;
    drop(cursor);
    let idle = rss_kib("VmRSS:")?;
    std::fs::write("/proc/self/clear_refs", "5")?;
    let started = Instant::now();
    let read = read(conn.as_ref(), table, path).await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = rss_kib("VmHWM:")?;
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds, "rows": read.rows, "checksum": read.checksum.to_string(),
            "idle_kib": idle, "peak_kib": peak, "bytes": read.bytes,
        })
    );
    Ok(())
}

/// The JSON line of one read (Rust child or Python peer).
#[derive(serde::Deserialize)]
struct Run {
    seconds: f64,
    rows: usize,
    /// As text (Rust's `i128`) or a number (Python's).
    checksum: serde_json::Value,
    idle_kib: Option<u64>,
    peak_kib: Option<u64>,
    #[serde(default)]
    bytes: usize,
}

/// The readers measured: the driver's paths and the Python peers the machine has.
fn readers(peers: Option<&PythonPeers>) -> Vec<String> {
    let mut all: Vec<String> = RUST_PATHS.iter().map(|p| format!("rust:{p}")).collect();
    if peers.is_some() {
        all.extend(
            ["pyarrow", "go", "ours", "flightsql-dbapi"]
                .iter()
                .map(|p| format!("python:{p}")),
        );
    }
    all
}

fn run_reader(
    reader: &str,
    addr: &str,
    table: &str,
    peers: Option<&PythonPeers>,
) -> Result<Run, BoxError> {
    let output = match (reader.split_once(':'), peers) {
        (Some(("rust", path)), _) => Command::new(std::env::current_exe()?)
            .args([
                "wide-read",
                "--url",
                &format!("flightsql://{addr}?tls=false"),
            ])
            .args(["--table", table, "--path", path])
            .output()?,
        (Some(("python", peer)), Some(peers)) => {
            let (host, port) = addr.rsplit_once(':').ok_or("no port in the address")?;
            let script =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/wide_fetch.py");
            let peer = if peer == "ours" {
                peers.ours.display().to_string()
            } else {
                peer.to_owned()
            };
            Command::new(&peers.python)
                .arg(script)
                .args([peer.as_str(), host, port, &format!("SELECT * FROM {table}")])
                .output()?
        }
        _ => return Err(format!("unknown reader {reader:?}").into()),
    };
    if !output.status.success() {
        return Err(format!(
            "{reader} reading {table}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The wide-table figures: every reader on each table, `reps` times in turns (the order
/// rotating), medians; each checked against the Arrow path's row count and checksum.
pub(crate) fn figures(
    addr: &str,
    tables: &[&str],
    reps: usize,
    peers: Option<&PythonPeers>,
) -> Result<Vec<Figure>, BoxError> {
    let readers = readers(peers);
    let mut figures = Vec::new();
    for &table in tables {
        eprintln!("wide tables: {table} ...");
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); readers.len()];
        let mut peaks: Vec<Option<u64>> = vec![Some(0); readers.len()];
        let mut reference: Option<(usize, String)> = None;
        let mut bytes = 0;
        for rep in 0..reps {
            for k in 0..readers.len() {
                let i = (k + rep) % readers.len();
                let run = run_reader(&readers[i], addr, table, peers)?;
                let checksum = match &run.checksum {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match &reference {
                    None => reference = Some((run.rows, checksum)),
                    Some((rows, sum)) if *rows == run.rows && *sum == checksum => {}
                    Some((rows, sum)) => {
                        return Err(format!(
                            "{} read {table} as {} rows (checksum {checksum}) where another \
                             reader read {rows} (checksum {sum})",
                            readers[i], run.rows
                        )
                        .into());
                    }
                }
                bytes = bytes.max(run.bytes);
                times[i].push(Duration::from_secs_f64(run.seconds));
                peaks[i] = peaks[i]
                    .zip(run.peak_kib.zip(run.idle_kib))
                    .map(|(kept, (peak, idle))| kept.max(peak.saturating_sub(idle)));
            }
        }
        let rows = reference.map_or(0, |(rows, _)| rows);
        let arrow = median(times[0].clone());
        println!(
            "{table}: {rows} rows, {:.1} MB of Arrow data; median of {reps}",
            bytes as f64 / 1e6
        );
        println!(
            "  {:<24} {:>9} {:>12} {:>9} {:>12} {:>22}",
            "reader", "seconds", "rows/s", "MB/s", "× arrow", "peak MiB above idle"
        );
        for (i, reader) in readers.iter().enumerate() {
            let t = median(times[i].clone());
            let peak = peaks[i].map_or("not measured".to_owned(), |kib| {
                format!("{:.1}", kib as f64 / 1024.0)
            });
            println!(
                "  {:<24} {:>9.3} {:>12.0} {:>9.1} {:>12.2} {:>22}",
                reader,
                secs(t),
                rows as f64 / secs(t),
                bytes as f64 / 1e6 / secs(t),
                secs(t) / secs(arrow),
                peak
            );
            let name = format!("wide_{table}_{}", reader.replace([':', '-'], "_"));
            figures.push(Figure::against(&name, t, "rust:arrow", arrow));
            figures.push(Figure::plain(
                &format!("{name}_rows_per_s"),
                rows as f64 / secs(t),
                "rows/s",
            ));
            figures.push(match peaks[i] {
                Some(kib) => Figure::plain(
                    &format!("{name}_peak_rss_above_idle"),
                    kib as f64 / 1024.0,
                    "MiB",
                ),
                None => Figure::unmeasured(
                    &format!("{name}_peak_rss_above_idle"),
                    "no /proc/self/status VmHWM to reset",
                ),
            });
        }
    }
    Ok(figures)
}

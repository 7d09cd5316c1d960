//! The ADBC figures: `dbapi-adbc` against the ADBC driver manager used directly from Rust,
//! on the same database in the same process (SQLite: `SELECT *`; PostgreSQL: bulk ingest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use adbc_core::options::{AdbcVersion, IngestMode, OptionDatabase, OptionStatement, OptionValue};
use adbc_core::{
    Connection as _, Database as _, Driver as _, LOAD_FLAG_DEFAULT, Optionable, Statement as _,
};
use adbc_driver_manager::{ManagedConnection, ManagedDriver};
use arrow::array::{Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::{RecordBatch, RecordBatchIterator};
use dbapi::{Params, Registry};
use dbapi_adbc::AdbcDriver;
use dbapi_tests::adbc::{Postgres, manifest, scratch, sqlite_url};
use futures::StreamExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Rows per generated batch.
const BATCH: usize = 65_536;

/// Timings of one measurement, ours and the direct baseline's, taken in turn.
pub(crate) struct Samples {
    pub(crate) ours: Vec<Duration>,
    pub(crate) direct: Vec<Duration>,
}

/// `rows` rows of (id BIGINT, name TEXT, value DOUBLE) in batches of [`BATCH`].
fn batches(rows: usize) -> Result<Vec<RecordBatch>, BoxError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows {
        let end = (start + BATCH).min(rows);
        let ids = (start..end).map(|i| i64::try_from(i).unwrap_or(i64::MAX));
        out.push(RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(ids.clone())),
                Arc::new(StringArray::from_iter_values(
                    ids.clone().map(|i| format!("name {i}")),
                )),
                Arc::new(Float64Array::from_iter_values(ids.map(|i| i as f64 * 0.5))),
            ],
        )?);
        start = end;
    }
    Ok(out)
}

/// A connection of the driver manager itself.
fn direct(driver: &str, uri: &str) -> Result<ManagedConnection, BoxError> {
    let mut driver = ManagedDriver::load_from_name(
        manifest(driver)?,
        None,
        AdbcVersion::V110,
        LOAD_FLAG_DEFAULT,
        None,
    )?;
    let database =
        driver.new_database_with_opts([(OptionDatabase::Uri, OptionValue::String(uri.into()))])?;
    Ok(database.new_connection()?)
}

fn direct_ingest(
    conn: &mut ManagedConnection,
    table: &str,
    data: &[RecordBatch],
) -> Result<Option<i64>, BoxError> {
    let schema = data.first().ok_or("no batches")?.schema();
    let mut statement = conn.new_statement()?;
    statement.set_option(OptionStatement::TargetTable, table.into())?;
    statement.set_option(OptionStatement::IngestMode, IngestMode::Create.into())?;
    let reader = RecordBatchIterator::new(data.iter().cloned().map(Ok).collect::<Vec<_>>(), schema);
    statement.bind_stream(Box::new(reader))?;
    Ok(statement.execute_update()?)
}

fn direct_update(conn: &mut ManagedConnection, sql: &str) -> Result<(), BoxError> {
    let mut statement = conn.new_statement()?;
    statement.set_sql_query(sql)?;
    statement.execute_update()?;
    Ok(())
}

/// `SELECT *` of a `rows`-row SQLite table read as Arrow batches: through `dbapi-adbc`
/// (`execute` + `fetch_batch`) and through the driver manager (`execute` + the reader).
pub(crate) async fn sqlite_select(rows: usize, reps: usize) -> Result<Samples, BoxError> {
    let dir = scratch("bench-sqlite")?;
    let db = dir.join("bench.db");
    let uri = format!("file:{}", db.display());
    let mut conn = direct("sqlite", &uri)?;
    direct_ingest(&mut conn, "t", &batches(rows)?)?;
    let extra = std::env::var("BENCH_SQLITE_EXTRA").unwrap_or_default();
    let ours = Registry::new()
        .with(AdbcDriver::new().allow_paths())
        .connect(&format!("{}&{extra}", sqlite_url(&db)?))
        .await?;
    let sql = "SELECT * FROM t";
    let mut samples = Samples {
        ours: Vec::new(),
        direct: Vec::new(),
    };
    for rep in 0..reps {
        for ours_first in [rep % 2 == 0, rep % 2 != 0] {
            let started = Instant::now();
            let n = if ours_first {
                let mut cursor = ours.cursor()?;
                cursor.execute(sql, Params::None).await?;
                let mut n = 0;
                while let Some(batch) = cursor.fetch_batch().await? {
                    n += batch.num_rows();
                }
                samples.ours.push(started.elapsed());
                n
            } else {
                let mut statement = conn.new_statement()?;
                if let Some((k, v)) = extra.split_once('=') {
                    statement.set_option(OptionStatement::Other(k.into()), v.into())?;
                }
                statement.set_sql_query(sql)?;
                let mut n = 0;
                for batch in statement.execute()? {
                    n += batch?.num_rows();
                }
                samples.direct.push(started.elapsed());
                n
            };
            if n != rows {
                return Err(format!("SELECT * read {n} of {rows} rows").into());
            }
        }
    }
    ours.close().await?;
    drop(conn);
    let _ = std::fs::remove_dir_all(dir);
    Ok(samples)
}

/// Bulk ingest of `rows` rows into a new PostgreSQL table: through `dbapi-adbc`
/// (`Connection::ingest` of a stream) and through the driver manager (`bind_stream`), on a
/// server started for the purpose.
pub(crate) async fn postgres_ingest(rows: usize, reps: usize) -> Result<Samples, BoxError> {
    let pg = Postgres::start()?;
    let data = batches(rows)?;
    let mut conn = direct("postgresql", &pg.uri(&pg.password))?;
    let ours = Registry::new()
        .with(AdbcDriver::new().allow_paths())
        .connect(&pg.url()?)
        .await?;
    let mut samples = Samples {
        ours: Vec::new(),
        direct: Vec::new(),
    };
    for rep in 0..reps {
        for ours_first in [rep % 2 == 0, rep % 2 != 0] {
            let table = format!("ingest_{rep}_{}", u8::from(ours_first));
            let started = Instant::now();
            if ours_first {
                let stream = futures::stream::iter(data.clone().into_iter().map(Ok)).boxed();
                ours.ingest(&table, dbapi::IngestMode::Create, stream)
                    .await?;
                samples.ours.push(started.elapsed());
            } else {
                direct_ingest(&mut conn, &table, &data)?;
                samples.direct.push(started.elapsed());
            }
            let mut cursor = ours.cursor()?;
            cursor
                .execute(&format!("SELECT count(*) FROM {table}"), Params::None)
                .await?;
            let n: i64 = dbapi::CursorExt::fetch_scalar(cursor.as_mut()).await?;
            if usize::try_from(n).ok() != Some(rows) {
                return Err(format!("the ingest into {table} loaded {n} of {rows} rows").into());
            }
            direct_update(&mut conn, &format!("DROP TABLE {table}"))?;
        }
    }
    ours.close().await?;
    Ok(samples)
}

//! One conformance suite, written against `dyn Connection`, run for every driver: Flight SQL
//! (the bundled server), SQLite and PostgreSQL through ADBC. Each run prints one line:
//! passed, failed, and skipped with the reason (a database that lacks a feature).

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use dbapi::metadata::{TableFilter, TableRef};
use dbapi::{
    Connection, ConnectionExt, CursorExt, ErrorKind, IngestMode, ParamSets, Params, Value, params,
};
use futures::StreamExt;

/// What a database has; a check of a feature it lacks is skipped, with this as the reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lacks {
    /// No constraints (primary keys, uniqueness): why integrity errors are not checked.
    pub constraints: Option<&'static str>,
    /// No boolean type.
    pub booleans: Option<&'static str>,
    /// Declared column types are not kept (SQLite's affinities).
    pub strict_types: Option<&'static str>,
    /// No savepoints.
    pub savepoints: Option<&'static str>,
}

/// Opens connections to one database, as many as a check asks for.
pub type Opener =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Box<dyn Connection>> + Send>> + Send + Sync>;

/// Connections to `url` through `registry`.
pub fn opener(registry: dbapi::Registry, url: String) -> Opener {
    let connector = Arc::new(dbapi::driver::UrlConnector::new(url, registry));
    Arc::new(move || {
        let connector = Arc::clone(&connector);
        Box::pin(async move {
            dbapi::driver::Connector::connect(connector.as_ref())
                .await
                .unwrap()
        })
    })
}

type CheckResult = Result<Outcome, String>;

enum Outcome {
    Passed,
    Skipped(&'static str),
}

type Check = fn(Opener, Lacks) -> Pin<Box<dyn Future<Output = CheckResult> + Send>>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), (|open, lacks| Box::pin($name(open, lacks))) as Check)),*]
    };
}

/// `Err` with a message unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Runs every check against the database `open` reaches; prints one line and fails the test
/// on any failure.
pub async fn run(driver: &str, open: Opener, lacks: Lacks) {
    let mut passed = 0;
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for (name, check) in checks![
        types_and_nulls,
        declared_types,
        booleans,
        parameters,
        updates_count_rows,
        executemany_counts_every_set,
        prepared_statements,
        rows_and_batches_mix,
        transactions,
        savepoints,
        ingest,
        metadata,
        error_kinds,
        integrity_errors,
    ] {
        match check(Arc::clone(&open), lacks).await {
            Ok(Outcome::Passed) => passed += 1,
            Ok(Outcome::Skipped(why)) => skipped.push(format!("{name} ({why})")),
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    let line = format!(
        "conformance {driver}: {passed} passed, {} failed, {} skipped{}{}\n",
        failed.len(),
        skipped.len(),
        if skipped.is_empty() { "" } else { ": " },
        skipped.join("; "),
    );
    // Around the test harness's capture, so that a test run shows it.
    let _ = std::io::stderr().write_all(line.as_bytes());
    assert!(failed.is_empty(), "{driver}: {}", failed.join("\n"));
}

async fn exec(conn: &dyn Connection, sql: &str) -> Result<(), String> {
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute(sql, Params::None)
        .await
        .map_err(|e| format!("{sql}: {e}"))
}

async fn count(conn: &dyn Connection, table: &str) -> Result<i64, String> {
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute(&format!("SELECT count(*) FROM {table}"), Params::None)
        .await
        .map_err(fail)?;
    cursor.fetch_scalar::<i64>().await.map_err(fail)
}

async fn types_and_nulls(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_types (i BIGINT, f DOUBLE PRECISION, s VARCHAR)",
    )
    .await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    for p in [
        params![1_i64, 1.5_f64, "one"],
        params![2_i64, Value::Null, "twó 🦀"],
        params![Value::Null, -0.25_f64, Value::Null],
    ] {
        cursor
            .execute_update("INSERT INTO conf_types VALUES ($1, $2, $3)", p)
            .await
            .map_err(fail)?;
    }
    cursor
        .execute(
            "SELECT i, f, s FROM conf_types ORDER BY f NULLS FIRST",
            Params::None,
        )
        .await
        .map_err(fail)?;
    let names: Vec<String> = cursor
        .description()
        .unwrap_or_default()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    ensure!(names == ["i", "f", "s"], "description {names:?}");
    let rows = cursor.fetchall().await.map_err(fail)?;
    ensure!(rows.len() == 3, "{} rows", rows.len());
    let got: Vec<(Option<i64>, Option<f64>, Option<String>)> = rows
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect::<dbapi::Result<_>>()
        .map_err(fail)?;
    ensure!(
        got == [
            (Some(2), None, Some("twó 🦀".to_owned())),
            (None, Some(-0.25), None),
            (Some(1), Some(1.5), Some("one".to_owned())),
        ],
        "{got:?}"
    );
    Ok(Outcome::Passed)
}

async fn declared_types(open: Opener, lacks: Lacks) -> CheckResult {
    if let Some(why) = lacks.strict_types {
        return Ok(Outcome::Skipped(why));
    }
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_declared (i BIGINT, f DOUBLE PRECISION, s VARCHAR)",
    )
    .await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute("SELECT i, f, s FROM conf_declared", Params::None)
        .await
        .map_err(fail)?;
    // An empty result still has its columns' types.
    ensure!(
        cursor.fetchone().await.map_err(fail)?.is_none(),
        "rows in a new table"
    );
    let schema = cursor.schema().ok_or("no schema")?;
    let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
    ensure!(
        matches!(
            types[..],
            [
                DataType::Int64,
                DataType::Float64,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ]
        ),
        "types {types:?}"
    );
    Ok(Outcome::Passed)
}

async fn booleans(open: Opener, lacks: Lacks) -> CheckResult {
    if let Some(why) = lacks.booleans {
        return Ok(Outcome::Skipped(why));
    }
    let conn = open().await;
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute("SELECT 1 = 1, 1 = 2", Params::None)
        .await
        .map_err(fail)?;
    let row = cursor.fetch_one().await.map_err(fail)?;
    let (t, f): (bool, bool) = (row.get(0).map_err(fail)?, row.get(1).map_err(fail)?);
    ensure!(t && !f, "booleans {t} {f}");
    Ok(Outcome::Passed)
}

async fn parameters(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_params (id BIGINT, name VARCHAR)",
    )
    .await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    for (id, name) in [
        (1_i64, "a"),
        (2, "b'; DROP TABLE conf_params; --"),
        (3, "c"),
    ] {
        cursor
            .execute("INSERT INTO conf_params VALUES ($1, $2)", params![id, name])
            .await
            .map_err(fail)?;
    }
    cursor
        .execute(
            "SELECT name FROM conf_params WHERE id >= $1 AND name <> $2 ORDER BY id",
            params![2_i64, "c"],
        )
        .await
        .map_err(fail)?;
    let names: Vec<String> = cursor.fetchall_as().await.map_err(fail)?;
    ensure!(
        names == ["b'; DROP TABLE conf_params; --"],
        "parameters pasted or lost: {names:?}"
    );
    ensure!(count(conn.as_ref(), "conf_params").await? == 3, "rows lost");
    Ok(Outcome::Passed)
}

async fn updates_count_rows(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(conn.as_ref(), "CREATE TABLE conf_updates (id BIGINT)").await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    let inserted = cursor
        .execute_update(
            "INSERT INTO conf_updates VALUES (1), (2), (3), (4)",
            Params::None,
        )
        .await
        .map_err(fail)?;
    ensure!(inserted == 4, "INSERT counted {inserted}");
    let updated = cursor
        .execute_update(
            "UPDATE conf_updates SET id = id + 10 WHERE id > $1",
            params![2_i64],
        )
        .await
        .map_err(fail)?;
    ensure!(updated == 2, "UPDATE counted {updated}");
    cursor
        .execute("DELETE FROM conf_updates WHERE id < 10", Params::None)
        .await
        .map_err(fail)?;
    ensure!(
        cursor.rowcount() == 2,
        "DELETE through execute counted {}",
        cursor.rowcount()
    );
    ensure!(count(conn.as_ref(), "conf_updates").await? == 2, "count");
    Ok(Outcome::Passed)
}

async fn executemany_counts_every_set(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_many (id BIGINT, name VARCHAR)",
    )
    .await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    let sets =
        ParamSets::new((0..1000_i64).map(|i| params![i, format!("n{i}")])).with_chunk_rows(300);
    cursor
        .executemany("INSERT INTO conf_many VALUES ($1, $2)", sets)
        .await
        .map_err(fail)?;
    ensure!(cursor.rowcount() == 1000, "rowcount {}", cursor.rowcount());
    cursor
        .execute(
            "SELECT CAST(sum(id) AS BIGINT), count(DISTINCT name) FROM conf_many",
            Params::None,
        )
        .await
        .map_err(fail)?;
    let row = cursor.fetch_one().await.map_err(fail)?;
    let (sum, names): (i64, i64) = (row.get(0).map_err(fail)?, row.get(1).map_err(fail)?);
    ensure!(
        sum == 999 * 1000 / 2 && names == 1000,
        "sum {sum}, names {names}"
    );
    Ok(Outcome::Passed)
}

async fn prepared_statements(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_prepared (id BIGINT, name VARCHAR)",
    )
    .await?;
    let mut insert = conn
        .prepare("INSERT INTO conf_prepared VALUES ($1, $2)")
        .await
        .map_err(fail)?;
    for i in 0..5_i64 {
        let n = insert
            .execute_update(params![i, format!("p{i}")])
            .await
            .map_err(fail)?;
        ensure!(n == 1, "prepared INSERT counted {n}");
    }
    let n = insert
        .executemany(ParamSets::new((5..8_i64).map(|i| params![i, "many"])))
        .await
        .map_err(fail)?;
    ensure!(n == 3, "prepared executemany counted {n}");
    insert.close().await.map_err(fail)?;
    let mut select = conn
        .prepare("SELECT name FROM conf_prepared WHERE id = $1")
        .await
        .map_err(fail)?;
    // Two results of one statement open at once: each keeps its own rows.
    let mut first = select.execute(params![1_i64]).await.map_err(fail)?;
    let mut second = select.execute(params![6_i64]).await.map_err(fail)?;
    let a: String = first.fetch_scalar().await.map_err(fail)?;
    let b: String = second.fetch_scalar().await.map_err(fail)?;
    ensure!(a == "p1" && b == "many", "{a} {b}");
    Ok(Outcome::Passed)
}

async fn rows_and_batches_mix(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(conn.as_ref(), "CREATE TABLE conf_mix (id BIGINT)").await?;
    let batch =
        RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from_iter_values(0..5000)) as _)])
            .map_err(fail)?;
    let stream = futures::stream::iter([Ok(batch)]).boxed();
    conn.ingest("conf_mix", IngestMode::Append, stream)
        .await
        .map_err(fail)?;
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute("SELECT id FROM conf_mix ORDER BY id", Params::None)
        .await
        .map_err(fail)?;
    let mut seen: Vec<i64> = Vec::new();
    let first = cursor.fetchone().await.map_err(fail)?.ok_or("no rows")?;
    seen.push(first.get(0).map_err(fail)?);
    for row in cursor.fetchmany(Some(9)).await.map_err(fail)? {
        seen.push(row.get(0).map_err(fail)?);
    }
    while let Some(batch) = cursor.fetch_batch().await.map_err(fail)? {
        let ids = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or("not int64")?;
        seen.extend(ids.values().iter().copied());
    }
    ensure!(
        seen.len() == 5000 && seen.iter().copied().eq(0..5000),
        "{} rows, in order: {}",
        seen.len(),
        seen.iter().copied().eq(0..5000)
    );
    ensure!(
        cursor.fetchone().await.map_err(fail)?.is_none(),
        "more rows after the end"
    );
    Ok(Outcome::Passed)
}

async fn transactions(open: Opener, _: Lacks) -> CheckResult {
    let a = open().await;
    let b = open().await;
    exec(a.as_ref(), "CREATE TABLE conf_tx (id BIGINT)").await?;
    a.set_autocommit(false).await.map_err(fail)?;
    exec(a.as_ref(), "INSERT INTO conf_tx VALUES (1)").await?;
    ensure!(
        count(a.as_ref(), "conf_tx").await? == 1,
        "a sees its own row"
    );
    a.rollback().await.map_err(fail)?;
    ensure!(count(a.as_ref(), "conf_tx").await? == 0, "rolled back");
    exec(a.as_ref(), "INSERT INTO conf_tx VALUES (2)").await?;
    a.commit().await.map_err(fail)?;
    ensure!(
        count(b.as_ref(), "conf_tx").await? == 1,
        "b sees the commit"
    );
    // The guard: dropped without commit, it rolls back.
    a.set_autocommit(true).await.map_err(fail)?;
    {
        let tx = a.begin().await.map_err(fail)?;
        exec(a.as_ref(), "INSERT INTO conf_tx VALUES (3)").await?;
        drop(tx);
    }
    ensure!(a.autocommit(), "autocommit back on after the guard");
    ensure!(
        count(a.as_ref(), "conf_tx").await? == 1,
        "the guard rolled back"
    );
    Ok(Outcome::Passed)
}

async fn savepoints(open: Opener, lacks: Lacks) -> CheckResult {
    if let Some(why) = lacks.savepoints {
        return Ok(Outcome::Skipped(why));
    }
    let conn = open().await;
    exec(conn.as_ref(), "CREATE TABLE conf_sp (id BIGINT)").await?;
    let e = conn
        .savepoint("outside")
        .await
        .err()
        .ok_or("a savepoint in autocommit mode")?;
    ensure!(
        matches!(e.kind(), ErrorKind::Interface | ErrorKind::Programming),
        "savepoint outside a transaction: {e}"
    );
    conn.set_autocommit(false).await.map_err(fail)?;
    exec(conn.as_ref(), "INSERT INTO conf_sp VALUES (1)").await?;
    conn.savepoint("s1").await.map_err(fail)?;
    exec(conn.as_ref(), "INSERT INTO conf_sp VALUES (2)").await?;
    conn.rollback_to_savepoint("s1").await.map_err(fail)?;
    exec(conn.as_ref(), "INSERT INTO conf_sp VALUES (3)").await?;
    conn.commit().await.map_err(fail)?;
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute("SELECT id FROM conf_sp ORDER BY id", Params::None)
        .await
        .map_err(fail)?;
    let ids: Vec<i64> = cursor.fetchall_as().await.map_err(fail)?;
    ensure!(ids == [1, 3], "{ids:?}");
    Ok(Outcome::Passed)
}

fn people(range: std::ops::Range<i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(range.clone())),
            Arc::new(StringArray::from_iter(
                range.map(|i| (i % 7 != 0).then(|| format!("person {i}"))),
            )),
        ],
    )
    .unwrap_or_else(|e| unreachable!("a fixed schema: {e}"))
}

async fn ingest(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    let batches =
        |n: i64| futures::stream::iter((0..n).map(|i| Ok(people(i * 500..(i + 1) * 500)))).boxed();
    let n = conn
        .ingest("conf_ingest", IngestMode::Create, batches(4))
        .await
        .map_err(fail)?;
    ensure!(n == 2000 || n == -1, "create reported {n}");
    ensure!(count(conn.as_ref(), "conf_ingest").await? == 2000, "create");
    conn.ingest("conf_ingest", IngestMode::Append, batches(2))
        .await
        .map_err(fail)?;
    ensure!(count(conn.as_ref(), "conf_ingest").await? == 3000, "append");
    let e = conn
        .ingest("conf_ingest", IngestMode::Create, batches(1))
        .await
        .err()
        .ok_or("create over an existing table succeeded")?;
    ensure!(
        !matches!(e.kind(), ErrorKind::Interface | ErrorKind::Internal),
        "create over an existing table: {e}"
    );
    conn.ingest("conf_ingest", IngestMode::Replace, batches(1))
        .await
        .map_err(fail)?;
    ensure!(count(conn.as_ref(), "conf_ingest").await? == 500, "replace");
    let mut cursor = conn.cursor().map_err(fail)?;
    cursor
        .execute(
            "SELECT count(*) FROM conf_ingest WHERE name IS NULL",
            Params::None,
        )
        .await
        .map_err(fail)?;
    let nulls: i64 = cursor.fetch_scalar().await.map_err(fail)?;
    ensure!(nulls == 72, "NULLs kept: {nulls}");
    // A stream that fails half-way fails the ingest with its own error.
    let failing = futures::stream::iter([
        Ok(people(0..10)),
        Err(dbapi::Error::data("the source broke")),
    ])
    .boxed();
    let e = conn
        .ingest("conf_ingest_broken", IngestMode::Create, failing)
        .await
        .err()
        .ok_or("a failing stream was loaded")?;
    ensure!(e.to_string().contains("the source broke"), "{e}");
    Ok(Outcome::Passed)
}

async fn metadata(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_meta (id BIGINT NOT NULL, label VARCHAR)",
    )
    .await?;
    let tables = conn
        .tables(&TableFilter::new().table("conf_meta").with_columns())
        .await
        .map_err(fail)?;
    ensure!(tables.len() == 1, "tables {tables:?}");
    let columns: Vec<&str> = tables[0].columns.iter().map(|c| c.name.as_str()).collect();
    ensure!(columns == ["id", "label"], "columns {columns:?}");
    let all = conn.tables(&TableFilter::new()).await.map_err(fail)?;
    ensure!(
        all.iter().any(|t| t.name == "conf_meta"),
        "conf_meta not among all tables"
    );
    let mut table = TableRef::new("conf_meta");
    table.schema.clone_from(&tables[0].schema);
    table.catalog.clone_from(&tables[0].catalog);
    let schema = conn.table_schema(&table).await.map_err(fail)?;
    ensure!(schema.fields().len() == 2, "table schema {schema:?}");
    let types = conn.table_types().await.map_err(fail)?;
    ensure!(!types.is_empty(), "no table types");
    ensure!(
        !conn.catalogs().await.map_err(fail)?.is_empty() || tables[0].catalog.is_none(),
        "no catalogs, though the table has one"
    );
    let info = conn.server_info().await.map_err(fail)?;
    ensure!(info.name.is_some(), "server info without a name: {info:?}");
    Ok(Outcome::Passed)
}

async fn error_kinds(open: Opener, _: Lacks) -> CheckResult {
    let conn = open().await;
    let mut cursor = conn.cursor().map_err(fail)?;
    let e = cursor
        .execute("SELECT * FROM conf_no_such_table", Params::None)
        .await
        .err()
        .ok_or("a missing table")?;
    ensure!(
        e.kind() == ErrorKind::Programming,
        "missing table: {:?} {e}",
        e.kind()
    );
    let e = cursor
        .execute("SELEKT 1", Params::None)
        .await
        .err()
        .ok_or("a syntax error")?;
    ensure!(
        e.kind() == ErrorKind::Programming,
        "syntax error: {:?} {e}",
        e.kind()
    );
    cursor
        .execute("SELECT 1", Params::None)
        .await
        .map_err(|e| format!("the cursor after errors: {e}"))?;
    cursor.close().await.map_err(fail)?;
    let e = cursor
        .execute("SELECT 1", Params::None)
        .await
        .err()
        .ok_or("a closed cursor")?;
    ensure!(e.kind() == ErrorKind::Interface, "closed cursor: {e}");
    conn.close().await.map_err(fail)?;
    let e = conn
        .cursor()
        .err()
        .ok_or("a cursor of a closed connection")?;
    ensure!(e.kind() == ErrorKind::Interface, "closed connection: {e}");
    Ok(Outcome::Passed)
}

async fn integrity_errors(open: Opener, lacks: Lacks) -> CheckResult {
    if let Some(why) = lacks.constraints {
        return Ok(Outcome::Skipped(why));
    }
    let conn = open().await;
    exec(
        conn.as_ref(),
        "CREATE TABLE conf_keys (id BIGINT PRIMARY KEY)",
    )
    .await?;
    exec(conn.as_ref(), "INSERT INTO conf_keys VALUES (1)").await?;
    let mut cursor = conn.cursor().map_err(fail)?;
    let e = cursor
        .execute("INSERT INTO conf_keys VALUES (1)", Params::None)
        .await
        .err()
        .ok_or("a duplicate key")?;
    ensure!(
        e.kind() == ErrorKind::Integrity,
        "duplicate key: {:?} {e}",
        e.kind()
    );
    let keys = conn
        .primary_keys(&TableRef::new("conf_keys"))
        .await
        .map_err(fail)?;
    ensure!(
        keys.len() == 1 && keys[0].column == "id",
        "primary key {keys:?}"
    );
    Ok(Outcome::Passed)
}

#[tokio::test]
async fn conformance_flightsql() {
    let server = crate::server(dbapi_flightsql_server::Options::default()).await;
    let open = opener(crate::registry(), server.url());
    run(
        "flightsql",
        open,
        Lacks {
            constraints: Some("the bundled DataFusion server enforces no keys"),
            ..Lacks::default()
        },
    )
    .await;
}

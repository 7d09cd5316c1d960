//! `dbapi-datafusion`: remote tables in DataFusion SQL. The bundled server records the
//! statements it receives, which shows what was pushed down; an SQLite table through `adbc:`
//! joins a Flight SQL table.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use dbapi::metadata::TableRef;
use dbapi::{Connection, Params};
use dbapi_datafusion::{DbapiScan, DbapiTable, RemoteParts};
use dbapi_flightsql_server::Options;

use crate::{NUMBERS, registry, server};

async fn numbers_table(url: &str) -> Arc<DbapiTable> {
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(url).await.unwrap());
    Arc::new(
        DbapiTable::new(conn, TableRef::new("numbers").in_schema("public"))
            .await
            .unwrap(),
    )
}

/// The batches of `sql` run by `ctx`.
async fn collect(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_filters_and_limit_go_to_the_server_and_parts_are_read_in_parallel() {
    let server = server(Options {
        endpoints: 4,
        ..Options::default()
    })
    .await;
    let ctx = SessionContext::new();
    ctx.register_table("numbers", numbers_table(&server.url()).await)
        .unwrap();
    // Planning and explaining run nothing remotely.
    let before = server.statements().len();
    collect(&ctx, "EXPLAIN SELECT id FROM numbers WHERE id < 10").await;
    assert_eq!(server.statements().len(), before, "EXPLAIN ran a statement");
    let gets = server.stats().do_get;
    let bytes_before = server.stats().bytes_sent;
    let batches = collect(
        &ctx,
        "SELECT id, name FROM numbers WHERE id >= 100 AND id < 300 LIMIT 150",
    )
    .await;
    let got = ids(&batches);
    assert_eq!(got.len(), 150);
    assert!(got.iter().all(|id| (100..300).contains(id)), "{got:?}");
    let sql = server.statements().last().cloned().unwrap();
    assert!(sql.starts_with("SELECT \"id\", \"name\" FROM"), "{sql}");
    assert!(
        sql.contains("\"id\" >= 100") && sql.contains("\"id\" < 300"),
        "{sql}"
    );
    assert!(sql.contains("LIMIT 150"), "{sql}");
    assert!(!sql.contains("value"), "only the columns needed: {sql}");
    // Every endpoint read, each a part of its own.
    assert_eq!(server.stats().do_get - gets, 4);
    let pushed_bytes = server.stats().bytes_sent - bytes_before;
    let before = server.stats().bytes_sent;
    collect(&ctx, "SELECT * FROM numbers").await;
    let whole_bytes = server.stats().bytes_sent - before;
    assert!(
        pushed_bytes * 5 < whole_bytes,
        "pushed down: {pushed_bytes} bytes, the whole table: {whole_bytes}"
    );
    // A whole table: every row once, in parts.
    let batches = collect(&ctx, "SELECT id FROM numbers").await;
    let mut all = ids(&batches);
    all.sort_unstable();
    assert_eq!(all, (0..NUMBERS as i64).collect::<Vec<_>>());
    // A filter the remote server may not run alike stays in DataFusion, and says so.
    let batches = collect(
        &ctx,
        "SELECT id FROM numbers WHERE upper(name) = name AND id < 3 ORDER BY id",
    )
    .await;
    let sql = server.statements().last().cloned().unwrap();
    assert!(!sql.contains("upper"), "{sql}");
    assert!(sql.contains("\"id\" < 3"), "{sql}");
    assert!(ids(&batches).len() <= 3);
    // count(*) needs no column.
    let batches = collect(&ctx, "SELECT count(*) FROM numbers WHERE id < 10").await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        10
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_parts_at_planning_runs_its_statement_when_planned_and_only_then() {
    let server = server(Options {
        endpoints: 5,
        send_total_records: true,
        ..Options::default()
    })
    .await;
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&server.url()).await.unwrap());
    let schema = conn
        .table_schema(&TableRef::new("numbers").in_schema("public"))
        .await
        .unwrap();
    // Built from a known schema (as a plan received from another process): nothing asked.
    let before = server.stats();
    let table = DbapiTable::with_schema(conn, TableRef::new("numbers").in_schema("public"), schema)
        .with_parts_at_planning();
    assert_eq!(server.stats().get_flight_info, before.get_flight_info);
    let ctx = SessionContext::new();
    ctx.register_table("numbers", Arc::new(table)).unwrap();
    let statements = server.statements().len();
    let plan = ctx
        .sql("SELECT id FROM numbers WHERE id >= 10")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    assert_eq!(
        server.statements().len(),
        statements + 1,
        "run when planned"
    );
    // One partition per part, the parts in the plan.
    let mut scans = Vec::new();
    let mut stack = vec![Arc::clone(&plan)];
    while let Some(node) = stack.pop() {
        if let Some(scan) = node.downcast_ref::<DbapiScan>() {
            scans.push((
                datafusion::physical_plan::ExecutionPlan::properties(scan)
                    .partitioning
                    .partition_count(),
                scan.remote_parts().cloned(),
                datafusion::physical_plan::StatisticsContext::new()
                    .compute(scan, &datafusion::physical_plan::StatisticsArgs::new())
                    .unwrap()
                    .num_rows,
            ));
        }
        stack.extend(node.children().into_iter().cloned());
    }
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].0, 5);
    assert!(matches!(&scans[0].1, Some(RemoteParts::Parts(p)) if p.len() == 5));
    // The server's total, an estimate DataFusion may plan with but never answer from.
    assert_eq!(
        scans[0].2,
        datafusion::common::stats::Precision::Inexact(NUMBERS - 10)
    );
    let gets = server.stats().do_get;
    let batches = datafusion::physical_plan::collect(Arc::clone(&plan), ctx.task_ctx())
        .await
        .unwrap();
    let mut got = ids(&batches);
    got.sort_unstable();
    assert_eq!(got, (10..NUMBERS as i64).collect::<Vec<_>>());
    assert_eq!(server.statements().len(), statements + 1, "not run again");
    assert_eq!(server.stats().do_get - gets, 5);
    // Reset for another execution, it reads the same parts again.
    let plan = datafusion::physical_plan::execution_plan::reset_plan_states(plan).unwrap();
    let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx())
        .await
        .unwrap();
    let mut again = ids(&batches);
    again.sort_unstable();
    assert_eq!(again, got);
    assert_eq!(server.statements().len(), statements + 1, "not run again");
    assert_eq!(server.stats().do_get - gets, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_read_after_they_expired_say_so() {
    // Tickets live 200 ms and are not renewed: a plan holding its parts (as a cluster's
    // does) executed later fails, naming the expiry.
    let server = server(Options {
        endpoints: 2,
        expiration: Some(std::time::Duration::from_millis(200)),
        renew_endpoints: false,
        ..Options::default()
    })
    .await;
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&server.url()).await.unwrap());
    let table = DbapiTable::new(conn, TableRef::new("numbers").in_schema("public"))
        .await
        .unwrap()
        .with_parts_at_planning();
    let ctx = SessionContext::new();
    ctx.register_table("numbers", Arc::new(table)).unwrap();
    let plan = ctx
        .sql("SELECT id FROM numbers")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let e = datafusion::physical_plan::collect(plan, ctx.task_ctx())
        .await
        .unwrap_err();
    let e = e.to_string();
    assert!(e.contains("expired") && e.contains("not renewed"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_run_again_runs_its_statement_again() {
    // Tickets live 200 ms and are not renewed: a plan kept and run again after they expired
    // runs its statement again (DataFusion's reset_plan_states) rather than reading them.
    let server = server(Options {
        endpoints: 3,
        expiration: Some(std::time::Duration::from_millis(200)),
        renew_endpoints: false,
        ..Options::default()
    })
    .await;
    let ctx = SessionContext::new();
    ctx.register_table("numbers", numbers_table(&server.url()).await)
        .unwrap();
    let plan = ctx
        .sql("SELECT id FROM numbers WHERE id < 50")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let statements = server.statements().len();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let plan = datafusion::physical_plan::execution_plan::reset_plan_states(Arc::clone(&plan))
            .unwrap();
        let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx())
            .await
            .unwrap();
        let mut got = ids(&batches);
        got.sort_unstable();
        runs.push(got);
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    assert_eq!(runs[0], (0..50).collect::<Vec<_>>());
    assert_eq!(runs[1], runs[0]);
    assert_eq!(
        server.statements().len(),
        statements + 2,
        "run once per execution"
    );
    // The recursive term of a recursive query is such a plan: the table read afresh in each
    // iteration that has rows to join it with (four: the fifth joins nothing).
    let recursive = "WITH RECURSIVE r(n) AS (SELECT CAST(0 AS BIGINT) UNION ALL \
                     SELECT r.n + 1 FROM r JOIN numbers ON numbers.id = r.n WHERE r.n < 4) \
                     SELECT n FROM r ORDER BY n";
    let statements = server.statements().len();
    let batches = collect(&ctx, recursive).await;
    assert_eq!(ids(&batches), [0, 1, 2, 3, 4]);
    assert!(
        server.statements().len() >= statements + 4,
        "{} statements for 4 iterations",
        server.statements().len() - statements
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flight_sql_table_joins_an_sqlite_table() {
    let server = server(Options {
        endpoints: 3,
        ..Options::default()
    })
    .await;
    let dir = dbapi_tests::adbc::scratch("datafusion").unwrap();
    let url = dbapi_tests::adbc::sqlite_url(&dir.join("labels.db")).unwrap();
    let sqlite: Arc<dyn Connection> =
        Arc::from(crate::adbc::registry().connect(&url).await.unwrap());
    let mut cursor = sqlite.cursor().unwrap();
    cursor
        .execute("CREATE TABLE labels (id INTEGER, label TEXT)", Params::None)
        .await
        .unwrap();
    cursor
        .execute(
            "INSERT INTO labels VALUES (1, 'one'), (2, 'two'), (5, 'five'), (5000, 'none')",
            Params::None,
        )
        .await
        .unwrap();
    let ctx = SessionContext::new();
    ctx.register_table("numbers", numbers_table(&server.url()).await)
        .unwrap();
    ctx.register_table(
        "labels",
        Arc::new(
            DbapiTable::new(sqlite, TableRef::new("labels"))
                .await
                .unwrap(),
        ),
    )
    .unwrap();
    let batches = collect(
        &ctx,
        "SELECT n.id, l.label FROM numbers n JOIN labels l ON n.id = l.id \
             WHERE n.id < 100 ORDER BY n.id",
    )
    .await;
    assert_eq!(ids(&batches), [1, 2, 5]);
    let labels: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let column = datafusion::arrow::compute::cast(
                b.column(1),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            column
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(labels, ["one", "two", "five"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_keep_their_kind_through_datafusion() {
    let server = server(Options::default()).await;
    let ctx = SessionContext::new();
    ctx.register_table("numbers", numbers_table(&server.url()).await)
        .unwrap();
    server.set_options(|o| o.faults.answers.unavailable_every = 1);
    let e = ctx
        .sql("SELECT id FROM numbers")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err();
    let root = e.find_root();
    let DataFusionError::External(inner) = root else {
        panic!("{e:?}");
    };
    let dbapi_error = inner
        .downcast_ref::<Arc<dbapi::Error>>()
        .map(|e| e.as_ref())
        .or_else(|| inner.downcast_ref::<dbapi::Error>())
        .unwrap_or_else(|| panic!("{inner:?}"));
    assert!(dbapi_error.is_transient(), "{dbapi_error:?}");
    assert_eq!(dbapi_error.code(), Some("UNAVAILABLE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_external_table_stored_as_dbapi() {
    let server = server(Options::default()).await;
    let ctx = SessionContext::new();
    dbapi_datafusion::DbapiTableFactory::new(registry()).register(&ctx);
    let url = server.url();
    collect(&ctx, &format!(
        "CREATE EXTERNAL TABLE nums STORED AS DBAPI LOCATION '{url}' OPTIONS ('table' 'public.numbers')"
    )).await;
    let batches = collect(
        &ctx,
        "SELECT id FROM nums WHERE id BETWEEN 10 AND 12 ORDER BY id",
    )
    .await;
    assert_eq!(ids(&batches), [10, 11, 12]);
    let sql = server.statements().last().cloned().unwrap();
    assert!(
        sql.contains("\"id\" >= 10") && sql.contains("\"id\" <= 12"),
        "{sql}"
    );
    // Unknown options and tables are errors that say so.
    let e = ctx
        .sql(&format!(
            "CREATE EXTERNAL TABLE x STORED AS DBAPI LOCATION '{url}' OPTIONS ('tabel' 'numbers')"
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown option \"tabel\""), "{e}");
    let e = ctx
        .sql(&format!(
            "CREATE EXTERNAL TABLE y STORED AS DBAPI LOCATION '{url}' OPTIONS ('table' 'public.no_such')"
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_catalog_is_listed_by_show_tables() {
    let server = server(Options::default()).await;
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&server.url()).await.unwrap());
    let catalog = dbapi_datafusion::DbapiCatalog::new(Arc::clone(&conn), None)
        .await
        .unwrap();
    let ctx = SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new().with_information_schema(true),
    );
    ctx.register_catalog("remote", Arc::new(catalog));
    let batches = collect(&ctx, "SHOW TABLES").await;
    let listed: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let catalogs = b.column(0).as_string::<i32>();
            let schemas = b.column(1).as_string::<i32>();
            let tables = b.column(2).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| {
                    format!(
                        "{}.{}.{}",
                        catalogs.value(i),
                        schemas.value(i),
                        tables.value(i)
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        listed.iter().any(|t| t == "remote.public.numbers"),
        "{listed:?}"
    );
    let batches = collect(
        &ctx,
        "SELECT count(*) FROM remote.public.numbers WHERE id < 7",
    )
    .await;
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 7);
    let e = ctx
        .sql("SELECT * FROM remote.public.no_such_table")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
    // The listing is kept for its time to live: a table made since is seen by a catalog
    // whose listing expired, not by one whose listing is fresh.
    let live = dbapi_datafusion::DbapiCatalog::with_ttl(
        Arc::clone(&conn),
        None,
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    ctx.register_catalog("live", Arc::new(live));
    crate::execute(conn.as_ref(), "CREATE TABLE fresh (x BIGINT)").await;
    collect(&ctx, "SELECT * FROM live.public.fresh").await;
    let e = ctx
        .sql("SELECT * FROM remote.public.fresh")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("fresh"), "{e}");
}

/// Federation: queries whose tables all live on one connection go to the server as one
/// statement, for each shape federation takes (joins, aggregates, `ORDER BY … LIMIT`,
/// subqueries), and give the rows DataFusion gives running the same query itself; a query
/// that also reads a local table sends the remote part and joins locally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_on_one_connection_go_to_its_server_whole() {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::execution::SessionStateBuilder;

    let server = server(Options {
        endpoints: 3,
        ..Options::default()
    })
    .await;
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&server.url()).await.unwrap());
    let table = |name: &str| {
        let conn = Arc::clone(&conn);
        let name = name.to_owned();
        async move {
            Arc::new(
                DbapiTable::new(conn, TableRef::new(name).in_schema("public"))
                    .await
                    .unwrap(),
            )
        }
    };
    let plain = SessionContext::new();
    let federated = SessionContext::new_with_state(
        dbapi_datafusion::federate(SessionStateBuilder::new().with_default_features()).build(),
    );
    for ctx in [&plain, &federated] {
        ctx.register_table("numbers", table("numbers").await)
            .unwrap();
        ctx.register_table("readings", table("readings").await)
            .unwrap();
    }
    let run = |ctx: &SessionContext, sql: &str| {
        let (ctx, sql) = (ctx.clone(), sql.to_owned());
        async move {
            let batches = ctx
                .sql(&sql)
                .await
                .unwrap()
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            pretty_format_batches(&batches).unwrap().to_string()
        }
    };
    // (query, what the one remote statement must hold)
    let shapes = [
        (
            "SELECT a.id, b.name FROM numbers a JOIN numbers b ON a.id = b.id + 1 \
             WHERE a.id < 20 ORDER BY a.id",
            "JOIN",
        ),
        (
            "SELECT sensor, count(*) AS n, avg(temperature) AS t, max(humidity) AS h \
             FROM readings GROUP BY sensor ORDER BY sensor",
            "GROUP BY",
        ),
        (
            "SELECT id, name FROM numbers WHERE id > 10 ORDER BY value DESC, id LIMIT 5",
            "LIMIT 5",
        ),
        (
            "SELECT s.sensor, s.hot FROM (SELECT sensor, max(temperature) AS hot FROM \
             readings GROUP BY sensor) s WHERE s.hot > 20 ORDER BY s.sensor",
            "max(",
        ),
        (
            "SELECT r.location, count(*) AS n FROM readings r JOIN numbers x \
             ON x.value = r.humidity WHERE r.humidity IS NOT NULL GROUP BY r.location \
             ORDER BY r.location",
            "GROUP BY",
        ),
    ];
    for (sql, holds) in shapes {
        let expected = run(&plain, sql).await;
        let before = server.statements().len();
        let got = run(&federated, sql).await;
        assert_eq!(got, expected, "{sql}");
        let sent = server.statements()[before..].to_vec();
        assert_eq!(sent.len(), 1, "one statement for {sql}: {sent:#?}");
        assert!(sent[0].contains(holds), "{sql}\nsent: {}", sent[0]);
        let explained = run(&federated, &format!("EXPLAIN {sql}")).await;
        assert!(explained.contains("RemoteQuery"), "{explained}");
    }
    // A local table among the remote ones: the remote part goes as one statement (the
    // filter and the aggregate with it), the join runs in DataFusion.
    let local = datafusion::arrow::array::RecordBatch::try_from_iter(vec![(
        "sensor",
        Arc::new(datafusion::arrow::array::StringArray::from(vec![
            "s1", "s3",
        ])) as datafusion::arrow::array::ArrayRef,
    )])
    .unwrap();
    for ctx in [&plain, &federated] {
        ctx.register_batch("wanted", local.clone()).unwrap();
    }
    let sql = "SELECT w.sensor, r.n FROM wanted w JOIN (SELECT sensor, count(*) AS n FROM \
               readings WHERE temperature > 16 GROUP BY sensor) r ON r.sensor = w.sensor \
               ORDER BY w.sensor";
    let expected = run(&plain, sql).await;
    let before = server.statements().len();
    assert_eq!(run(&federated, sql).await, expected);
    let sent = server.statements()[before..].to_vec();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].contains("GROUP BY"), "{}", sent[0]);
    // What federation does not take stays in DataFusion, with the same rows.
    for sql in [
        "SELECT upper(name) AS u FROM numbers WHERE id < 3 ORDER BY u",
        "SELECT id FROM numbers WHERE id IN (SELECT id * 2 FROM numbers WHERE id < 10) \
         ORDER BY id",
        "SELECT id, name FROM numbers WHERE value > (SELECT avg(value) FROM numbers) \
         ORDER BY id DESC LIMIT 3",
    ] {
        assert_eq!(run(&federated, sql).await, run(&plain, sql).await, "{sql}");
    }
}

/// A PostgreSQL table through ADBC, whose driver has no partitions (and must not be asked:
/// see `dbapi-adbc`'s partitions): scanned, and joined with itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_table_scanned_and_joined_with_itself() {
    let pg = dbapi_tests::adbc::Postgres::start().unwrap();
    let conn: Arc<dyn Connection> = Arc::from(
        crate::adbc::registry()
            .connect(&pg.url().unwrap())
            .await
            .unwrap(),
    );
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "CREATE TABLE series AS SELECT n::bigint AS id, repeat('x', 100) AS pad \
             FROM generate_series(1, 300000) AS n",
            Params::None,
        )
        .await
        .unwrap();
    drop(cursor);
    let ctx = SessionContext::new();
    ctx.register_table(
        "series",
        Arc::new(
            DbapiTable::new(conn, TableRef::new("series").in_schema("public"))
                .await
                .unwrap(),
        ),
    )
    .unwrap();
    let batches = collect(&ctx, "SELECT count(*) FROM series WHERE id > 10").await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        299_990
    );
    let batches = collect(
        &ctx,
        "SELECT count(*), sum(a.id) FROM series a JOIN series b ON b.id = a.id + 1",
    )
    .await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        299_999
    );
    // Two scans read at once by two partitions, on one connection whose driver reads one
    // result at a time.
    let batches = collect(
        &ctx,
        "SELECT count(*) FROM (SELECT id FROM series UNION ALL SELECT id FROM series)",
    )
    .await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        600_000
    );
    // The same table over a pool: the two scans each take a connection of their own, and
    // stream side by side.
    let manager = dbapi::pool::Manager::new(pg.url().unwrap()).registry(crate::adbc::registry());
    let pool = dbapi::pool::Pool::builder(manager)
        .max_size(4)
        .build()
        .unwrap();
    let home: Arc<dyn Connection> = Arc::from(
        crate::adbc::registry()
            .connect(&pg.url().unwrap())
            .await
            .unwrap(),
    );
    let pooled = DbapiTable::new(home, TableRef::new("series").in_schema("public"))
        .await
        .unwrap()
        .with_pool(pool.clone());
    ctx.register_table("pooled", Arc::new(pooled)).unwrap();
    let batches = collect(
        &ctx,
        "SELECT count(*) FROM (SELECT id FROM pooled UNION ALL SELECT id FROM pooled)",
    )
    .await;
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        600_000
    );
    let status = pool.status();
    assert!(status.size >= 2, "{status:?}");
    // Every connection back in the pool once the streams are gone.
    for _ in 0..200 {
        if pool.status().available == pool.status().size {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let status = pool.status();
    assert_eq!(status.available, status.size, "{status:?}");
}

//! The ADBC driver against real databases: SQLite (a file in a temporary folder) and
//! PostgreSQL (a server these tests start with `initdb`/`pg_ctl` on a free port and stop at
//! the end), through the ADBC drivers `.ci/adbc_drivers.py` installs under `target/adbc`
//! (the harness: `dbapi_tests::adbc`).

use dbapi::{Connection, ErrorKind, Params, Registry};
use dbapi_adbc::AdbcDriver;
use dbapi_tests::adbc::{Postgres, manifest, scratch, sqlite_url};

use crate::conformance::{self, Lacks};

pub fn registry() -> Registry {
    // The tests name the installed drivers' manifests by path.
    Registry::new().with(AdbcDriver::new().allow_paths())
}

/// On a multi-threaded runtime, where results are read on the task's own thread (the
/// PostgreSQL run, on a current-thread runtime, reads them through the reading thread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_sqlite() {
    let dir = scratch("sqlite").unwrap();
    let url = sqlite_url(&dir.join("conformance.db")).unwrap();
    conformance::run(
        "adbc sqlite",
        conformance::opener(registry(), url),
        Lacks {
            constraints: None,
            booleans: Some("SQLite has no boolean type"),
            strict_types: Some("SQLite keeps no declared types in results"),
            savepoints: None,
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn conformance_postgresql() {
    let pg = Postgres::start().unwrap();
    conformance::run(
        "adbc postgresql",
        conformance::opener(registry(), pg.url().unwrap()),
        Lacks::default(),
    )
    .await;
}

/// The reference Flight SQL driver (Go) against the bundled server: a third ADBC driver.
#[tokio::test]
async fn conformance_go_flightsql() {
    let server = crate::server(dbapi_flightsql_server::Options::default()).await;
    conformance::run(
        "adbc flightsql (Go)",
        conformance::opener(registry(), crate::partitions::go_url(&server)),
        Lacks {
            constraints: Some("the bundled DataFusion server enforces no keys"),
            savepoints: Some(
                "ADBC has no call for savepoints, and the bundled server takes no SAVEPOINT \
                 statement (Flight SQL's savepoint actions are for Flight SQL clients)",
            ),
            ..Lacks::default()
        },
    )
    .await;
}

#[tokio::test]
async fn passwords_stay_out_of_errors_and_debug() {
    let pg = Postgres::start().unwrap();
    let wrong = "not-the-Pa55word";
    let url = format!(
        "adbc:{}?uri={}",
        manifest("postgresql").unwrap().display(),
        crate::url_encode(&pg.uri(wrong))
    );
    let e = registry().connect(&url).await.unwrap_err();
    assert!(e.is_auth() || e.kind() == ErrorKind::Operational, "{e:?}");
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        e.report().lines().join("\n"),
    ] {
        assert!(!shown.contains(wrong), "{shown}");
    }
    let conn = registry().connect(&pg.url().unwrap()).await.unwrap();
    let shown = format!("{conn:?}");
    assert!(!shown.contains(&pg.password), "{shown}");
    let config = dbapi_adbc::Config::from_url(&pg.url().unwrap()).unwrap();
    assert!(!format!("{config:?}").contains(&pg.password));
    assert!(!dbapi::redact_url(&pg.url().unwrap()).contains(&pg.password));
}

#[tokio::test]
async fn bad_urls_and_missing_drivers_are_named() {
    let e = registry()
        .connect("adbc:no_such_adbc_driver?uri=x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interface, "{e}");
    assert!(e.to_string().contains("no_such_adbc_driver"), "{e}");
    let e = registry()
        .connect(&format!(
            "adbc:{}?uri=:memory:&bogus=1",
            manifest("sqlite").unwrap().display()
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown option \"bogus\""), "{e}");
    let e = registry()
        .connect(&format!(
            "adbc:{}?uri=:memory:&adbc.sqlite.no_such_option=1",
            manifest("sqlite").unwrap().display()
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_option"), "{e}");
}

#[tokio::test]
async fn a_long_query_is_cancelled_from_another_task() {
    let pg = Postgres::start().unwrap();
    let conn: Box<dyn Connection> = registry().connect(&pg.url().unwrap()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    let token = cursor.cancel_token().unwrap();
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel().await
    });
    let started = std::time::Instant::now();
    // The driver may run the query at execute or as the result is read: either fails.
    let outcome = match cursor.execute("SELECT pg_sleep(30)", Params::None).await {
        Ok(()) => cursor.fetchall().await.map(drop),
        Err(e) => Err(e),
    };
    let e = outcome.unwrap_err();
    cancel.await.unwrap().unwrap();
    assert!(e.is_cancelled(), "{e:?}");
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    cursor.execute("SELECT 1", Params::None).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
}

/// Loading code from a URL is the application's choice: a relative path never, an absolute
/// path or an entry point only when allowed (`entrypoint=abort` would end the process).
#[tokio::test]
async fn urls_load_drivers_by_name_only_unless_allowed() {
    let default = Registry::new().with(AdbcDriver::new());
    let sqlite = manifest("sqlite").unwrap();
    for (url, names) in [
        (
            "adbc:./libadbc_driver_sqlite.so?uri=:memory:".to_owned(),
            "never loaded",
        ),
        ("adbc:../x.so".to_owned(), "never loaded"),
        (
            format!("adbc:{}?uri=:memory:", sqlite.display()),
            "allow_paths",
        ),
        (
            "adbc:sqlite?uri=:memory:&entrypoint=abort".to_owned(),
            "allow_entrypoints",
        ),
    ] {
        let e = default.connect(&url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Interface, "{url}: {e}");
        assert!(e.to_string().contains(names), "{url}: {e}");
    }
    // Allowed by the application: the absolute path loads; a relative one still never.
    let trusting = registry();
    let conn = trusting
        .connect(&format!("adbc:{}?uri=:memory:", sqlite.display()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor.execute("SELECT 1", Params::None).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
    let e = trusting.connect("adbc:./x.so").await.unwrap_err();
    assert!(e.to_string().contains("never loaded"), "{e}");
}

/// On a current-thread runtime a result is read ahead by a reading thread: a result left
/// mid-way (the cursor run again, or dropped) is released before the connection's next
/// statement starts, whatever that thread is doing at that moment.
#[tokio::test]
async fn a_result_left_mid_way_is_released_before_the_next_statement() {
    let pg = Postgres::start().unwrap();
    let conn: Box<dyn Connection> = registry().connect(&pg.url().unwrap()).await.unwrap();
    // Several batches (the driver's are about 16 MiB), so that the reading thread is still
    // reading when the result is left.
    let big = "SELECT n, repeat('x', 200) AS pad FROM generate_series(1, 300000) AS n";
    for round in 0..10 {
        let mut cursor = conn.cursor().unwrap();
        cursor.execute(big, Params::None).await.unwrap();
        assert!(cursor.fetch_batch().await.unwrap().is_some());
        // Run again mid-result: the old stream goes first.
        cursor
            .execute("SELECT 41 + 1 AS answer", Params::None)
            .await
            .unwrap_or_else(|e| panic!("round {round}, run again: {e}"));
        let rows = cursor.fetchall().await.unwrap();
        assert_eq!(rows.len(), 1, "round {round}");
        assert_eq!(rows[0].get::<i32, _>(0).unwrap(), 42, "round {round}");
        // Dropped mid-result: the next cursor's statement finds the connection free.
        cursor.execute(big, Params::None).await.unwrap();
        assert!(cursor.fetch_batch().await.unwrap().is_some());
        drop(cursor);
        let mut next = conn.cursor().unwrap();
        next.execute("SELECT count(*) FROM generate_series(1, 10)", Params::None)
            .await
            .unwrap_or_else(|e| panic!("round {round}, after a drop: {e}"));
        let rows = next.fetchall().await.unwrap();
        assert_eq!(rows[0].get::<i64, _>(0).unwrap(), 10, "round {round}");
    }
}

/// The PostgreSQL driver has no partitions, and asking it for them would end the process (it
/// answers with a bare status, then reads the error's details through a null pointer): a
/// query is one part holding the query, and bytes that are no such part are refused, the
/// driver never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_partitions_are_one_query_part_and_foreign_bytes_an_error() {
    let pg = Postgres::start().unwrap();
    let conn: Box<dyn Connection> = registry().connect(&pg.url().unwrap()).await.unwrap();
    let parts = conn
        .execute_partitions("SELECT generate_series(1, 10) AS n", Params::None)
        .await
        .unwrap();
    assert_eq!(parts.parts.len(), 1);
    let mut cursor = conn.read_partition(&parts.parts[0]).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 10);
    for foreign in [&b"\x0a\x05bytes"[..], b"", b"\xff\x00\xfe"] {
        let e = conn.read_partition(foreign).await.err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
        assert!(e.to_string().contains("no partitions of its own"), "{e}");
    }
}

/// PostgreSQL's driver reads one result at a time: a result still open when another
/// statement runs on the connection is read into memory first, so that both cursors give
/// every row (read ahead by a thread on a current-thread runtime, inline on a multi-threaded
/// one).
async fn two_cursors_of_one_postgresql_connection(pg: &Postgres) {
    let conn: Box<dyn Connection> = registry().connect(&pg.url().unwrap()).await.unwrap();
    let big = "SELECT n::bigint AS n, repeat('x', 100) AS pad FROM generate_series(1, 400000) AS n";
    let mut a = conn.cursor().unwrap();
    a.execute(big, Params::None).await.unwrap();
    let mut seen = a.fetch_batch().await.unwrap().unwrap().num_rows();
    let mut b = conn.cursor().unwrap();
    b.execute("SELECT count(*) FROM generate_series(1, 10)", Params::None)
        .await
        .unwrap();
    assert_eq!(b.fetchall().await.unwrap()[0].get::<i64, _>(0).unwrap(), 10);
    // Metadata is another call on the connection too.
    assert!(!conn.table_types().await.unwrap().is_empty());
    while let Some(batch) = a.fetch_batch().await.unwrap() {
        seen += batch.num_rows();
    }
    assert_eq!(seen, 400_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cursors_of_one_postgresql_connection_read_at_once() {
    let pg = Postgres::start().unwrap();
    two_cursors_of_one_postgresql_connection(&pg).await;
}

#[tokio::test]
async fn two_cursors_of_one_postgresql_connection_read_at_once_on_one_thread() {
    let pg = Postgres::start().unwrap();
    two_cursors_of_one_postgresql_connection(&pg).await;
}

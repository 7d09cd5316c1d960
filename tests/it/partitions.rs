//! Partitions through the driver-neutral traits: a result as parts, each read on another
//! connection (in another task), async and blocking; refused inside a transaction; and
//! `NotSupported` from a driver without them.

use dbapi::{ErrorKind, Params, params};

use crate::{all_ids, connect, ids, server_with_endpoints};

#[tokio::test]
async fn a_result_in_parts_read_by_other_connections() {
    let server = server_with_endpoints(4).await;
    let conn = connect(&server).await;
    let partitions = conn
        .execute_partitions("SELECT id FROM numbers WHERE id >= 0", Params::None)
        .await
        .unwrap();
    assert_eq!(partitions.parts.len(), 4);
    assert_eq!(partitions.schema.field(0).name(), "id");
    // The server gives no totals (-1): none claimed.
    assert_eq!(
        (partitions.total_rows, partitions.total_bytes),
        (None, None)
    );
    // The server announced the schema: nothing was read before the parts are.
    let stats = server.stats();
    assert_eq!(stats.do_get, 0, "{stats:?}");
    // Each part on a connection of its own, in a task of its own.
    let mut tasks = Vec::new();
    for part in partitions.parts.clone() {
        let url = server.url();
        tasks.push(tokio::spawn(async move {
            let other = crate::connect_url(&url).await;
            let mut cursor = other.read_partition(&part).await.unwrap();
            ids(cursor.as_mut()).await
        }));
    }
    let mut got = Vec::new();
    for task in tasks {
        got.extend(task.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, all_ids(), "every row once");
    // The parts' DoGets, together or not, ran the query once between them.
    let stats = server.stats();
    assert_eq!(
        (stats.do_get, stats.queries_run_at_do_get),
        (4, 1),
        "{stats:?}"
    );
    // Inside a transaction: refused, naming why.
    conn.set_autocommit(false).await.unwrap();
    let e = conn
        .execute_partitions("SELECT id FROM numbers", Params::None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
    assert!(e.to_string().contains("transaction"), "{e}");
    conn.set_autocommit(true).await.unwrap();
    // Bytes that are no part.
    let e = conn.read_partition(b"\xff\xfe").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
}

#[test]
fn parts_through_the_blocking_facade() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(server_with_endpoints(3));
    let url = server.url();
    let conn = dbapi::blocking::Connection::connect_with(&crate::registry(), &url).unwrap();
    let partitions = conn
        .execute_partitions("SELECT id FROM numbers WHERE id >= $1", params![0_i64])
        .unwrap();
    assert_eq!(partitions.parts.len(), 3);
    let mut got: Vec<i64> = Vec::new();
    for part in &partitions.parts {
        let other = dbapi::blocking::Connection::connect_with(&crate::registry(), &url).unwrap();
        for row in other.read_partition(part).unwrap() {
            got.push(row.unwrap().get(0).unwrap());
        }
    }
    got.sort_unstable();
    assert_eq!(got, all_ids());
    drop(rt);
}

/// An ADBC driver without partitions (SQLite): one part, holding the query, read on another
/// connection; parameters and transactions refused, saying why.
#[tokio::test]
async fn a_driver_without_partitions_gives_one_part() {
    let dir = dbapi_tests::adbc::scratch("partitions").unwrap();
    let url = dbapi_tests::adbc::sqlite_url(&dir.join("p.db")).unwrap();
    let registry = crate::adbc::registry();
    let conn = registry.connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("CREATE TABLE t (id INTEGER)", Params::None)
        .await
        .unwrap();
    cursor
        .executemany(
            "INSERT INTO t VALUES (?)",
            (0..50_i64).map(|i| params![i]).collect::<Vec<_>>().into(),
        )
        .await
        .unwrap();
    let partitions = conn
        .execute_partitions("SELECT id FROM t WHERE id % 2 = 0", Params::None)
        .await
        .unwrap();
    assert_eq!(partitions.parts.len(), 1);
    assert_eq!(partitions.schema.field(0).name(), "id");
    let other = registry.connect(&url).await.unwrap();
    let mut cursor = other.read_partition(&partitions.parts[0]).await.unwrap();
    let got = ids(cursor.as_mut()).await;
    assert_eq!(got, (0..50).step_by(2).collect::<Vec<_>>());
    // Bytes that are no part: refused, saying why.
    for foreign in [&b"\x0a\x05bytes"[..], b"", b"\xff\x00\xfe"] {
        let e = other.read_partition(foreign).await.err().unwrap();
        assert_eq!(e.kind(), dbapi::ErrorKind::Programming, "{e}");
        assert!(e.to_string().contains("no partitions of its own"), "{e}");
    }
    let e = conn
        .execute_partitions("SELECT id FROM t WHERE id > ?", params![3_i64])
        .await
        .unwrap_err();
    assert!(e.is_not_supported(), "{e}");
    assert!(e.to_string().contains("parameters"), "{e}");
    conn.set_autocommit(false).await.unwrap();
    let e = conn
        .execute_partitions("SELECT id FROM t", Params::None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
    assert!(e.to_string().contains("transaction"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The reference Flight SQL driver (Go, through ADBC) has partitions of its own, in the same
/// form as this project's Flight SQL driver: parts of either are read by the other, and a
/// query with a parameter is planned once with its value.
#[tokio::test]
async fn the_go_drivers_parts_and_ours_are_the_same_bytes() {
    let server = server_with_endpoints(4).await;
    let registry = crate::adbc::registry();
    let go = registry.connect(&go_url(&server)).await.unwrap();
    let partitions = go
        .execute_partitions("SELECT id FROM numbers WHERE id >= $1", params![10_i64])
        .await
        .unwrap();
    assert_eq!(partitions.parts.len(), 4);
    assert_eq!(partitions.schema.field(0).name(), "id");
    let ours = connect(&server).await;
    let other_go = registry.connect(&go_url(&server)).await.unwrap();
    let mut got = Vec::new();
    for (i, part) in partitions.parts.iter().enumerate() {
        let reader = if i % 2 == 0 { &ours } else { &other_go };
        let mut cursor = reader.read_partition(part).await.unwrap();
        got.extend(ids(cursor.as_mut()).await);
    }
    got.sort_unstable();
    assert_eq!(got, (10..crate::NUMBERS as i64).collect::<Vec<_>>());
    // Ours, read by the Go driver.
    let partitions = ours
        .execute_partitions("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    let mut got = Vec::new();
    for part in &partitions.parts {
        let mut cursor = go.read_partition(part).await.unwrap();
        got.extend(ids(cursor.as_mut()).await);
    }
    got.sort_unstable();
    assert_eq!(got, all_ids());
}

/// The `adbc:` URL of the bundled server through the Go Flight SQL driver.
pub fn go_url(server: &dbapi_flightsql_server::Server) -> String {
    format!(
        "adbc:{}?uri={}",
        dbapi_tests::adbc::manifest("flightsql").unwrap().display(),
        crate::url_encode(&format!("grpc://{}", server.addr()))
    )
}

/// Parts serialized, sent to another process and read there: a Python process reads them
/// through the Go Flight SQL ADBC driver (`tests/python/read_parts.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_are_read_in_another_process() {
    let server = server_with_endpoints(4).await;
    let conn = connect(&server).await;
    let partitions = conn
        .execute_partitions("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    let mut args = vec![format!("grpc://{}", server.addr())];
    args.extend(
        partitions
            .parts
            .iter()
            .map(|part| part.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    );
    let sum: i64 = all_ids().iter().sum();
    let expect = format!("parts 4 rows {} sum {sum}", crate::NUMBERS);
    crate::python::run_script("read_parts.py", args, &expect).await;
}

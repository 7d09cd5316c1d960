//! The blocking facade.

use dbapi::blocking::Connection;
use dbapi_flightsql_server::Options;

use crate::{all_ids, registry};

/// A server on its own runtime, for synchronous tests.
fn background_server(
    options: Options,
) -> (tokio::runtime::Runtime, dbapi_flightsql_server::Server) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(crate::server(options));
    (rt, server)
}

#[test]
fn blocking_cursor_iterates_rows() {
    let (_rt, server) = background_server(Options {
        endpoints: 3,
        ..Options::default()
    });
    let conn = Connection::connect_with(&registry(), &server.url()).unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor.execute("SELECT id FROM numbers", ()).unwrap();
    assert_eq!(server.stats().do_get, 0);
    let first = cursor.fetchone().unwrap().unwrap();
    assert_eq!(first.get::<i64, _>(0).unwrap(), 0);
    assert_eq!(cursor.fetchmany(Some(9)).unwrap().len(), 9);
    let rest: Vec<i64> = cursor
        .by_ref()
        .map(|r| r.unwrap().get::<i64, _>("id").unwrap())
        .collect();
    assert_eq!(rest, all_ids()[10..].to_vec());
    assert_eq!(cursor.rowcount(), 1000);
    cursor.execute("SELECT id FROM numbers", ()).unwrap();
    assert_eq!(cursor.fetchall().unwrap().len(), 1000);
    cursor.execute("SELECT id FROM numbers", ()).unwrap();
    let n: usize = cursor
        .fetch_all_batches()
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(n, 1000);
    // Typed rows, parameters from a tuple.
    cursor
        .execute("SELECT id FROM numbers WHERE id < $1 ORDER BY id", (5_i64,))
        .unwrap();
    assert_eq!(cursor.fetchone_as::<i64>().unwrap(), Some(0));
    assert_eq!(
        cursor.fetchall_as::<(i64,)>().unwrap(),
        [(1,), (2,), (3,), (4,)]
    );
    cursor.execute("SELECT id FROM numbers", ()).unwrap();
    assert_eq!(cursor.description().unwrap()[0].name(), "id");
    cursor.close().unwrap();
    assert!(cursor.fetchone().is_err());
}

#[test]
fn blocking_iterator_stops_after_an_error() {
    let (_rt, server) = background_server(Options::default());
    let conn = Connection::connect_with(&registry(), &server.url()).unwrap();
    let mut cursor = conn.cursor().unwrap();
    // No execute yet: the first item is the error, then the iterator ends.
    let first = cursor.next().unwrap();
    assert!(first.unwrap_err().is_interface());
    assert!(cursor.next().is_none());
    conn.commit().unwrap();
    conn.close().unwrap();
    assert!(conn.is_closed());
}

#[test]
fn blocking_connect_errors_are_returned() {
    let e = Connection::connect_with(&registry(), "nope://x").unwrap_err();
    assert!(e.is_interface());
}

#[test]
fn blocking_api_inside_an_async_runtime_works_on_a_helper_thread() {
    // The server runs elsewhere: blocking the outer runtime must not stall it.
    let (_rt, server) = background_server(Options::default());
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    outer.block_on(async {
        let conn = Connection::connect_with(&registry(), &server.url()).unwrap();
        let mut cursor = conn.cursor().unwrap();
        cursor.execute("SELECT id FROM numbers", ()).unwrap();
        assert_eq!(cursor.by_ref().count(), 1000);
        // Inside spawn_blocking too.
        let url = server.url();
        let n = tokio::task::spawn_blocking(move || {
            let conn = Connection::connect_with(&registry(), &url).unwrap();
            let mut cursor = conn.cursor().unwrap();
            cursor.execute("SELECT id FROM numbers", ()).unwrap();
            cursor.count()
        })
        .await
        .unwrap();
        assert_eq!(n, 1000);
        // Dropping blocking objects inside a runtime does not panic.
        drop(cursor);
        drop(conn);
    });
}

#[test]
fn blocking_metadata() {
    let (_rt, server) = background_server(Options::default());
    let conn = Connection::connect_with(&registry(), &server.url()).unwrap();
    assert_eq!(conn.catalogs().unwrap(), ["archive", "datafusion"]);
    let filter = dbapi::metadata::TableFilter::new()
        .schema("shop")
        .table("orders");
    let tables = conn.tables(&filter).unwrap();
    assert_eq!(tables.len(), 1);
    let orders = dbapi::metadata::TableRef::from(&tables[0]);
    assert_eq!(conn.primary_keys(&orders).unwrap()[0].column, "id");
    assert_eq!(
        conn.server_info().unwrap().name.as_deref(),
        Some("dbapi-flightsql-server")
    );
    let mut cursor = conn
        .metadata(&dbapi::metadata::MetadataRequest::Catalogs)
        .unwrap();
    assert_eq!(cursor.fetchall().unwrap().len(), 2);
}

#[test]
fn blocking_transactions_commit_roll_back_and_roll_back_when_dropped() {
    let (_rt, server) = background_server(Options::default());
    let conn = Connection::connect_with(&registry(), &server.url()).unwrap();
    conn.cursor()
        .unwrap()
        .execute("CREATE TABLE g (id BIGINT)", ())
        .unwrap();
    let insert = |conn: &Connection, id: i64| {
        conn.cursor()
            .unwrap()
            .execute_update("INSERT INTO g VALUES ($1)", dbapi::params![id])
            .unwrap()
    };
    let count = |conn: &Connection| -> i64 {
        let mut cursor = conn.cursor().unwrap();
        cursor.execute("SELECT count(*) FROM g", ()).unwrap();
        cursor.fetch_scalar().unwrap()
    };
    let tx = conn.begin().unwrap();
    insert(&tx, 1);
    tx.commit().unwrap();
    assert!(conn.autocommit());
    {
        let tx = conn.begin().unwrap();
        insert(&tx, 2);
        let sp = tx.savepoint("a").unwrap();
        insert(&sp, 3);
        drop(sp);
        assert_eq!(count(&tx), 2, "rolled back to the savepoint");
    }
    assert!(conn.autocommit());
    let other = Connection::connect_with(&registry(), &server.url()).unwrap();
    assert_eq!(count(&other), 1);
    let e = conn
        .transaction(|tx| {
            insert(tx, 4);
            Err::<(), _>(dbapi::Error::data("refused by the application"))
        })
        .unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
    conn.transaction(|tx| {
        insert(tx, 5);
        Ok::<_, dbapi::Error>(())
    })
    .unwrap();
    let mut cursor = other.cursor().unwrap();
    cursor.execute("SELECT id FROM g ORDER BY id", ()).unwrap();
    assert_eq!(cursor.fetchall_as::<(i64,)>().unwrap(), [(1,), (5,)]);
    assert_eq!(server.open_transactions(), 0);
    cursor.execute("SELECT id FROM g WHERE id = 9", ()).unwrap();
    assert!(cursor.fetch_optional().unwrap().is_none());
}

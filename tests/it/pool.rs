//! The connection pool against the server: shared connections, health checks, recycling.

use std::sync::Arc;
use std::time::Duration;

use dbapi::pool::{HealthCheck, Manager, Pool};
use dbapi::{CursorExt, Params};
use dbapi_flightsql_server::{Options, Server, generated};

use crate::registry;

const TASKS: usize = 256;
const POOL: usize = 8;

fn pool(server: &Server, size: usize, check: HealthCheck) -> Pool {
    Pool::builder(
        Manager::new(server.url())
            .registry(registry())
            .health_check(check),
    )
    .max_size(size)
    .build()
    .unwrap()
}

#[test]
fn two_hundred_fifty_six_tasks_share_eight_connections() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Server::builder()
            .table("load", generated(2_000, 250).unwrap())
            .options(Options {
                endpoints: 2,
                ..Options::default()
            })
            .start()
            .await
            .unwrap();
        let pool = pool(&server, POOL, HealthCheck::default());
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for q in 0..2 {
                        let n = (t * 7 + q * 131) % 2_000;
                        let conn = pool.get().await.unwrap();
                        let mut cursor = conn.cursor().unwrap();
                        cursor
                            .execute("SELECT id FROM load WHERE id < $1", (n as i64,).into())
                            .await
                            .unwrap();
                        let ids: Vec<i64> = cursor.fetchall_as().await.unwrap();
                        assert_eq!(ids.len(), n, "task {t} query {q}");
                        let sum: i64 = ids.iter().sum();
                        assert_eq!(sum, (n as i64) * (n as i64 - 1) / 2, "task {t} query {q}");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let status = pool.status();
        assert!(status.size <= POOL, "{status:?}");
        assert_eq!(status.available, status.size, "{status:?}");
        // Health checks ran on reuse: one `SELECT 1` per reuse.
        let stats = server.stats();
        let queries = TASKS * 2;
        let checks = stats.get_flight_info as usize - queries;
        assert!(
            checks >= queries - POOL,
            "{checks} health checks for {queries} queries"
        );
        // Nothing is left streaming.
        crate::faults::wait_for(|| server.stats().streams_open == 0).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
}

#[tokio::test]
async fn closed_and_failing_connections_are_replaced() {
    let server = crate::server(Options::default()).await;
    let pool = pool(&server, 1, HealthCheck::Query("SELECT 1".into()));
    let first = pool.get().await.unwrap();
    first.close().await.unwrap();
    drop(first);
    // The closed connection is not handed out again.
    let second = pool.get().await.unwrap();
    assert!(!second.is_closed());
    let mut cursor = second.cursor().unwrap();
    cursor.execute("SELECT 1", Params::None).await.unwrap();
    drop(cursor);
    drop(second);

    // A health check that fails makes the pool open a new connection.
    let failing = pool_with_bad_check(&server);
    let conn = failing.get().await.unwrap();
    drop(conn);
    let conn = failing.get().await.unwrap();
    assert!(!conn.is_closed());
    assert_eq!(failing.status().size, 1);

    // A transaction left open is rolled back before reuse.
    let conn = pool.get().await.unwrap();
    conn.set_autocommit(false).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "INSERT INTO numbers SELECT id + 5000, value, name, ts FROM numbers WHERE id = 0",
            Params::None,
        )
        .await
        .unwrap();
    drop(cursor);
    drop(conn);
    let conn = pool.get().await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT count(*) FROM numbers WHERE id = 5000", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.fetchone_as::<i64>().await.unwrap(), Some(0));
    let shared = Arc::new(pool);
    assert_eq!(shared.status().max_size, 1);
}

fn pool_with_bad_check(server: &Server) -> Pool {
    pool(
        server,
        1,
        HealthCheck::Query("SELECT * FROM no_such_table".into()),
    )
}

#[tokio::test]
async fn a_pool_and_a_blocking_connection_from_a_typed_config() {
    use dbapi::pool::{Manager, Pool};
    use dbapi_flightsql::{Config, FlightSqlConnection, FlightSqlCursor};
    let server = crate::server(dbapi_flightsql_server::Options::default()).await;
    let config: Config = server.url().parse().unwrap();
    let pool = Pool::builder(Manager::from_connector(config.clone()))
        .max_size(2)
        .build()
        .unwrap();
    let conn = pool.get().await.unwrap();
    // The driver's own type behind the trait object, for driver-specific calls.
    let flight = conn
        .downcast_ref::<FlightSqlConnection>()
        .expect("a Flight SQL connection");
    assert_eq!(flight.client().config().port(), server.addr().port());
    let mut cursor = conn.cursor().unwrap();
    assert!(cursor.downcast_mut::<FlightSqlCursor>().is_some());
    cursor.execute("SELECT 1", dbapi::params![]).await.unwrap();
    assert_eq!(
        dbapi::CursorExt::fetch_scalar::<i64>(cursor.as_mut())
            .await
            .unwrap(),
        1
    );
    let blocking = tokio::task::spawn_blocking(move || {
        let conn = dbapi::blocking::Connection::connect_to(&config).unwrap();
        assert!(
            conn.as_async()
                .downcast_ref::<FlightSqlConnection>()
                .is_some()
        );
        let mut cursor = conn.cursor().unwrap();
        cursor.execute("SELECT 2", ()).unwrap();
        cursor.fetch_scalar::<i64>().unwrap()
    });
    assert_eq!(blocking.await.unwrap(), 2);
}

/// A cursor kept past its connection's return to the pool, its statement still streaming:
/// the next borrower's connection has nothing running (the statement was cancelled, on the
/// server too) and runs a query at once.
#[tokio::test]
async fn a_connection_is_handed_out_with_no_statement_running() {
    let server = crate::server(Options {
        faults: dbapi_flightsql_server::Faults {
            streams: dbapi_flightsql_server::StreamFaults {
                delay_between_batches: Duration::from_secs(3),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let pool = pool(&server, 1, HealthCheck::None);
    let conn = pool.get().await.unwrap();
    let mut kept = conn.cursor().unwrap();
    kept.execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert!(kept.fetchone().await.unwrap().is_some());
    drop(conn);
    let started = std::time::Instant::now();
    let conn = pool.get().await.unwrap();
    assert_eq!(
        server.stats().cancel_flight_info,
        1,
        "the statement left running"
    );
    let mut cursor = conn.cursor().unwrap();
    cursor.execute("SELECT 1", Params::None).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    // The kept cursor's statement is over.
    let e = kept.fetchall().await.unwrap_err();
    assert!(e.is_cancelled(), "{e:?}");
}

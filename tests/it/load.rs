//! Load: 64 concurrent cursors, on one connection and on separate connections, 100 queries
//! each, mixed small and large results: every result exact, nothing left running afterwards.

use std::sync::Arc;
use std::time::Duration;

use dbapi::{Connection, Params};
use dbapi_flightsql_server::{Options, Server, generated};

const CURSORS: usize = 64;
const QUERIES: usize = 100;
const LARGE: usize = 5_000;

/// One cursor's work: 100 queries, every 10th a large result over 3 endpoints.
async fn work(conn: Arc<dyn Connection>, worker: usize) {
    let mut cursor = conn.cursor().unwrap();
    for q in 0..QUERIES {
        let n = if q % 10 == 0 {
            LARGE
        } else {
            (worker + q) % 50
        };
        cursor
            .execute(&format!("SELECT id FROM load WHERE id < {n}"), Params::None)
            .await
            .unwrap();
        let rows = cursor.fetchall().await.unwrap();
        assert_eq!(rows.len(), n, "worker {worker} query {q}");
        let sum: i64 = rows.iter().map(|r| r.get::<i64, _>(0).unwrap()).sum();
        assert_eq!(sum, (n as i64) * (n as i64 - 1) / 2, "checksum");
    }
}

#[test]
fn sixty_four_cursors_on_one_connection_and_on_separate_connections() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = Server::builder()
            .table("load", generated(LARGE, 1_000).unwrap())
            .options(Options {
                endpoints: 3,
                ..Options::default()
            })
            .start()
            .await
            .unwrap();
        let metrics = tokio::runtime::Handle::current().metrics();
        let idle_tasks = metrics.num_alive_tasks();

        // One shared connection.
        let conn: Arc<dyn Connection> = Arc::from(crate::connect(&server).await);
        let tasks: Vec<_> = (0..CURSORS)
            .map(|w| tokio::spawn(work(Arc::clone(&conn), w)))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        drop(conn);

        // One connection per cursor.
        let mut tasks = Vec::new();
        for w in 0..CURSORS {
            let conn: Arc<dyn Connection> = Arc::from(crate::connect(&server).await);
            tasks.push(tokio::spawn(work(conn, w)));
        }
        for t in tasks {
            t.await.unwrap();
        }

        let stats = server.stats();
        assert_eq!(stats.get_flight_info as usize, 2 * CURSORS * QUERIES);
        assert_eq!(stats.do_get as usize, 3 * 2 * CURSORS * QUERIES);
        assert_eq!(stats.do_get_cancelled, 0);
        // Nothing keeps running: no open streams on the server, no leftover client tasks.
        crate::faults::wait_for(|| {
            server.stats().streams_open == 0 && metrics.num_alive_tasks() <= idle_tasks
        })
        .await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
}

//! Fault injection: broken, stalled, corrupt and retried streams, restarts. Each case ends
//! in the complete, exact result or a clear error; never a hang, a panic, or a short or
//! duplicated result.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use dbapi::{Cursor, Params};
use dbapi_flightsql_server::{Corruption, Options, Server, generated};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{connect_url, execute, registry};

/// Rows of the `big` table: about 8 MB of Arrow data in 20 batches.
const BIG: usize = 200_000;

async fn big_server(options: Options) -> Server {
    big_server_at(options, None).await
}

async fn big_server_at(options: Options, addr: Option<SocketAddr>) -> Server {
    let mut builder = Server::builder()
        .table("big", generated(BIG, 10_000).unwrap())
        .options(options);
    if let Some(addr) = addr {
        builder = builder.addr(addr);
    }
    builder.start().await.unwrap()
}

/// Reads every remaining batch; returns the ids read so far and the error, if any.
async fn read_ids(cursor: &mut dyn Cursor) -> (Vec<i64>, Option<dbapi::Error>) {
    let mut ids = Vec::new();
    loop {
        match cursor.fetch_batch().await {
            Ok(Some(batch)) => ids.extend(batch.column(0).as_primitive::<Int64Type>().values()),
            Ok(None) => return (ids, None),
            Err(e) => return (ids, Some(e)),
        }
    }
}

/// The ids are exactly 0..n: complete, in order, no duplicates (count and checksum).
fn assert_exact(ids: &[i64], n: usize) {
    assert_eq!(ids.len(), n, "row count");
    let sum: i64 = ids.iter().sum();
    assert_eq!(sum, (n as i64) * (n as i64 - 1) / 2, "checksum");
    assert!(
        ids.iter().enumerate().all(|(i, id)| *id == i as i64),
        "order"
    );
}

/// A prefix of 0..n: what was delivered before an error is correct and not repeated.
fn assert_prefix(ids: &[i64]) {
    assert!(
        ids.iter().enumerate().all(|(i, id)| *id == i as i64),
        "delivered rows are a clean prefix"
    );
}

/// A TCP proxy in front of a server that can cut or stall its connections.
struct Proxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
}

struct ProxyState {
    target: Mutex<SocketAddr>,
    /// Bytes server→client still allowed before every connection is cut.
    budget: AtomicI64,
    stalled: AtomicBool,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ProxyState {
            target: Mutex::new(target),
            budget: AtomicI64::new(i64::MAX),
            stalled: AtomicBool::new(false),
        });
        let accept_state = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let state = Arc::clone(&accept_state);
                tokio::spawn(async move {
                    let target = *state.target.lock().unwrap();
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (mut ci, mut co) = inbound.into_split();
                    let (mut si, mut so) = outbound.into_split();
                    let up = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut ci, &mut so).await;
                    });
                    let mut buf = vec![0_u8; 16 * 1024];
                    loop {
                        while state.stalled.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        let n = match si.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if state.budget.fetch_sub(n as i64, Ordering::SeqCst) < n as i64 {
                            break; // cut: drop both directions
                        }
                        if co.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    up.abort();
                });
            }
        });
        Proxy { addr, state }
    }

    fn url(&self) -> String {
        format!("flightsql://{}?tls=false", self.addr)
    }

    fn cut_after(&self, bytes: i64) {
        self.state.budget.store(bytes, Ordering::SeqCst);
    }

    fn heal(&self) {
        self.state.budget.store(i64::MAX, Ordering::SeqCst);
        self.state.stalled.store(false, Ordering::SeqCst);
    }

    fn stall(&self) {
        self.state.stalled.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn connection_dropped_mid_endpoint_is_an_error_not_a_short_result() {
    let server = big_server(Options::default()).await;
    let proxy = Proxy::start(server.addr()).await;
    let conn = connect_url(&proxy.url()).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    proxy.cut_after(2 * 1024 * 1024);
    let (ids, error) = read_ids(cursor.as_mut()).await;
    let e = error.expect("a broken stream must be an error");
    assert!(ids.len() < BIG, "{} rows", ids.len());
    assert_prefix(&ids);
    assert!(e.to_string().contains("endpoint 1 of 1"), "{e}");
    // The connection recovers once the network does.
    proxy.heal();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    let (ids, error) = read_ids(cursor.as_mut()).await;
    assert!(error.is_none(), "{error:?}");
    assert_exact(&ids, BIG);
}

#[tokio::test]
async fn transient_failure_of_an_expiring_endpoint_is_retried_without_duplicates() {
    let server = big_server(Options {
        endpoints: 3,
        expiration: Some(Duration::from_secs(60)),
        ..Options::default()
    })
    .await;
    // The first two streams break after 3 batches each.
    server.fail_next_streams(2, 3);
    let conn = crate::connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    let (ids, error) = read_ids(cursor.as_mut()).await;
    assert!(error.is_none(), "{error:?}");
    assert_exact(&ids, BIG);
    assert_eq!(server.stats().do_get, 5, "3 endpoints + 2 retries");
}

#[tokio::test]
async fn transient_failure_without_expiration_is_an_error_naming_the_endpoint() {
    let server = big_server(Options {
        endpoints: 3,
        ..Options::default()
    })
    .await;
    server.fail_next_streams(1, 2);
    let conn = registry()
        .connect(&format!("{}&read_ahead=0", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    let (ids, error) = read_ids(cursor.as_mut()).await;
    let e = error.expect("no retry without expiration_time");
    assert!(e.to_string().contains("endpoint 1 of 3"), "{e}");
    assert!(e.to_string().contains("injected fault"), "{e}");
    assert_prefix(&ids);
    assert!(
        ids.len() <= 20_000,
        "at most the two batches sent before the fault"
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = big_server(Options {
        expiration: Some(Duration::from_secs(60)),
        ..Options::default()
    })
    .await;
    server.fail_next_streams(100, 1);
    let conn = crate::connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    let (ids, error) = read_ids(cursor.as_mut()).await;
    let e = error.expect("gives up");
    assert!(e.to_string().contains("after 3 retries"), "{e}");
    assert_prefix(&ids);
    // The first batch (DataFusion re-chunks to 8192 rows), delivered once despite 4 reads.
    assert!(!ids.is_empty() && ids.len() <= 10_000, "{} rows", ids.len());
    assert_eq!(server.stats().do_get, 4);
}

#[tokio::test]
async fn corrupt_or_truncated_messages_are_errors_naming_the_endpoint() {
    for corruption in [Corruption::GarbageHeader, Corruption::TruncatedBody] {
        let server = big_server(
            Options {
                endpoints: 3,
                ..Options::default()
            }
            .with_faults(|f| {
                f.streams.corrupt_endpoint = Some((1, corruption));
            }),
        )
        .await;
        let conn = crate::connect(&server).await;
        let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
        let (ids, error) = read_ids(cursor.as_mut()).await;
        let e = error.unwrap_or_else(|| panic!("{corruption:?} must be an error"));
        let msg = e.to_string();
        assert!(msg.contains("endpoint 2 of 3"), "{corruption:?}: {msg}");
        assert!(msg.contains("cannot decode"), "{corruption:?}: {msg}");
        assert_eq!(e.kind(), dbapi::ErrorKind::Internal);
        assert_prefix(&ids);
        assert_eq!(ids.len(), BIG / 3, "the first endpoint only");
    }
}

#[tokio::test]
async fn stalled_network_hits_the_timeout_and_says_which() {
    let server = big_server(Options::default()).await;
    let proxy = Proxy::start(server.addr()).await;
    let conn = registry()
        .connect(&format!("{}&timeout=500ms", proxy.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    proxy.stall();
    let started = std::time::Instant::now();
    let (ids, error) = read_ids(cursor.as_mut()).await;
    let e = error.expect("stall must time out");
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("URL option timeout"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_prefix(&ids);
    proxy.heal();
}

#[tokio::test]
async fn server_restart_between_execute_and_first_fetch() {
    let server = big_server(Options::default()).await;
    let addr = server.addr();
    let conn = crate::connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    server.shutdown().await;
    let restarted = big_server_at(Options::default(), Some(addr)).await;
    let (ids, error) = read_ids(cursor.as_mut()).await;
    assert!(error.is_none(), "{error:?}");
    assert_exact(&ids, BIG);
    assert_eq!(restarted.stats().do_get, 1);
}

#[tokio::test]
async fn closing_a_cursor_mid_result_cancels_its_streams_and_the_connection_stays_usable() {
    let server = big_server(
        Options {
            endpoints: 4,
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_between_batches = Duration::from_millis(20);
        }),
    )
    .await;
    let conn = crate::connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM big").await;
    cursor.fetchmany(Some(100)).await.unwrap();
    assert!(server.stats().streams_open >= 1);
    cursor.close().await.unwrap();
    wait_for(|| server.stats().streams_open == 0).await;
    assert!(server.stats().do_get_cancelled >= 1);
    cursor
        .execute("SELECT count(*) AS n FROM big", Params::None)
        .await
        .unwrap_err();
    let mut other = execute(conn.as_ref(), "SELECT count(*) AS n FROM big").await;
    let row = other.fetchone().await.unwrap().unwrap();
    assert_eq!(row.get::<i64, _>("n").unwrap(), BIG as i64);
}

/// Waits up to 5 s for a condition.
pub async fn wait_for(mut condition: impl FnMut() -> bool) {
    for _ in 0..250 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(condition(), "condition not reached within 5 s");
}

//! Several hosts in one URL (`flightsql://h1:p1,h2:p2`): failover when a host refuses or
//! accepts and never answers, spreading by `host_selection`, and the remembered-dead list,
//! for hosts and for endpoint locations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbapi::Params;
use dbapi_flightsql_server::{Locations, Options, Server};
use tokio::net::TcpListener;

use crate::{connect_url, execute, registry, server};

/// A port on 127.0.0.1 that refuses connections (bound, then closed).
async fn refusing_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A port on 127.0.0.1 that accepts connections and never sends a byte; counts them.
async fn silent_port() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (port, accepted)
}

/// Connects to `url` `n` times, each connection running one query that must give one row.
async fn connect_and_query(url: &str, n: usize) {
    for i in 0..n {
        let conn = registry()
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        let mut cursor = execute(conn.as_ref(), "SELECT 1").await;
        assert_eq!(cursor.fetchall().await.unwrap().len(), 1, "connection {i}");
    }
}

fn live(server: &Server) -> String {
    server.addr().to_string()
}

#[tokio::test]
async fn the_next_host_when_the_first_refuses() {
    let server = server(Options::default()).await;
    let dead = refusing_port().await;
    let url = format!("flightsql://127.0.0.1:{dead},{}?tls=false", live(&server));
    connect_and_query(&url, 20).await;
    assert_eq!(server.stats().get_flight_info, 20);
    // Every host refusing: each named.
    let other = refusing_port().await;
    let e = registry()
        .connect(&format!(
            "flightsql://127.0.0.1:{dead},127.0.0.1:{other}?tls=false"
        ))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("none of the 2 hosts"), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{dead}")) && text.contains(&format!("127.0.0.1:{other}")),
        "{text}"
    );
    assert!(e.is_connection(), "{e:?}");
}

#[tokio::test]
async fn the_next_host_when_the_first_accepts_and_never_answers() {
    let server = server(Options::default()).await;
    let (silent, accepted) = silent_port().await;
    let url = format!(
        "flightsql://127.0.0.1:{silent},{}?tls=false&connect_timeout=300ms",
        live(&server)
    );
    let started = std::time::Instant::now();
    connect_and_query(&url, 20).await;
    let elapsed = started.elapsed();
    assert_eq!(server.stats().get_flight_info, 20);
    // The silent host cost its connect timeout once, then was tried last while remembered
    // as dead (1 s after its first failure, then 2 s).
    let tried = accepted.load(Ordering::SeqCst);
    assert!(tried >= 1, "the silent host was tried first");
    assert!(
        tried < 20 && tried as u128 <= elapsed.as_millis() / 1000 + 1,
        "tried {tried} times in {elapsed:?}"
    );
    // Alone, the silent host is an error naming the cause, not a hang.
    let e = registry()
        .connect(&format!(
            "flightsql://127.0.0.1:{silent}?tls=false&connect_timeout=200ms"
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sent nothing within"), "{e}");
    assert!(e.is_timeout() && e.is_connection(), "{e:?}");
}

#[tokio::test]
async fn round_robin_spreads_connections_and_random_reaches_every_host() {
    let a = server(Options::default()).await;
    let b = server(Options::default()).await;
    let hosts = format!("{},{}", live(&a), live(&b));
    connect_and_query(
        &format!("flightsql://{hosts}?tls=false&host_selection=round_robin"),
        100,
    )
    .await;
    let (on_a, on_b) = (a.stats().get_flight_info, b.stats().get_flight_info);
    assert_eq!(on_a + on_b, 100);
    assert!((45..=55).contains(&on_a), "{on_a} / {on_b}");
    // `first`: always the first that answers.
    connect_and_query(&format!("flightsql://{hosts}?tls=false"), 10).await;
    assert_eq!(a.stats().get_flight_info, on_a + 10);
    assert_eq!(b.stats().get_flight_info, on_b);
    connect_and_query(
        &format!("flightsql://{hosts}?tls=false&host_selection=random"),
        40,
    )
    .await;
    assert!(a.stats().get_flight_info > on_a + 10, "random reached a");
    assert!(b.stats().get_flight_info > on_b, "random reached b");
}

#[tokio::test]
async fn a_silent_location_costs_its_timeout_once() {
    let main = server(Options::default()).await;
    let (silent, accepted) = silent_port().await;
    let port = main.addr().port();
    main.set_options(|o| {
        o.endpoints = 2;
        o.locations = Locations::Fixed(vec![
            format!("grpc+tcp://127.0.0.1:{silent}"),
            format!("grpc+tcp://127.0.0.1:{port}"),
        ]);
    });
    let conn = connect_url(&format!("{}&connect_timeout=300ms", main.url())).await;
    let mut cursor = conn.cursor().unwrap();
    let started = std::time::Instant::now();
    for i in 0..10 {
        cursor
            .execute("SELECT id FROM numbers", Params::None)
            .await
            .unwrap();
        let rows = cursor.fetchall().await.unwrap();
        assert_eq!(rows.len(), crate::NUMBERS, "query {i}");
    }
    let elapsed = started.elapsed();
    let tried = accepted.load(Ordering::SeqCst);
    assert!(tried >= 1, "the silent location comes first");
    // Both endpoints are opened at once (read ahead), so the first query tried it twice.
    assert!(
        tried as u128 <= 2 * (elapsed.as_millis() / 1000 + 1),
        "tried {tried} times in {elapsed:?}: the dead location is tried last"
    );
}

/// Trying locations one after another is bounded as a whole (twice `connect_timeout`): a list
/// of silent locations is not tried to its end, and the error says which were not tried.
#[tokio::test]
async fn trying_locations_one_after_another_is_bounded() {
    let main = server(Options::default()).await;
    let mut silent = Vec::new();
    for _ in 0..6 {
        silent.push(silent_port().await);
    }
    main.set_options(|o| {
        o.locations = Locations::Fixed(
            silent
                .iter()
                .map(|(port, _)| format!("grpc+tcp://127.0.0.1:{port}"))
                .collect(),
        );
    });
    let conn = connect_url(&format!("{}&connect_timeout=200ms&retries=0", main.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("all 6 locations failed"), "{text}");
    assert!(text.contains("not tried"), "{text}");
    let tried: usize = silent
        .iter()
        .map(|(_, accepted)| accepted.load(Ordering::SeqCst))
        .sum();
    assert!((2..6).contains(&tried), "{tried} of 6 tried: {text}");
}

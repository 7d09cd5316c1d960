//! Cancellation from another task, server-side cancellation on close, PollFlightInfo.

use std::time::Duration;

use dbapi::Params;
use dbapi_flightsql_server::Options;

use crate::statements::eventually;
use crate::{all_ids, connect, connect_url, execute, ids, server};

/// A server whose streams send a batch every 50 ms (1000 rows in batches of 100).
async fn slow_server(options: Options) -> dbapi_flightsql_server::Server {
    server(options.with_faults(|f| {
        f.streams.delay_between_batches = Duration::from_millis(50);
    }))
    .await
}

#[tokio::test]
async fn cancel_mid_fetch_from_another_task() {
    let server = slow_server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert!(cursor.fetchone().await.unwrap().is_some());
    let token = cursor.cancel_token().unwrap();
    let fetching = tokio::spawn(async move {
        let outcome = cursor.fetchall().await;
        (cursor, outcome)
    });
    tokio::time::sleep(Duration::from_millis(120)).await;
    token.cancel().await.unwrap();
    let (mut cursor, outcome) = fetching.await.unwrap();
    let e = outcome.unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert!(cursor.fetchone().await.unwrap_err().is_cancelled());
    assert_eq!(server.stats().cancel_flight_info, 1);
    // The server stopped the query's stream.
    eventually("the stream to close", || server.stats().streams_open == 0).await;
    // The cursor runs the next statement normally.
    server.set_options(|o| o.faults.streams.delay_between_batches = Duration::ZERO);
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    // Cancelling when nothing runs does nothing.
    token.cancel().await.unwrap();
}

#[tokio::test]
async fn servers_with_only_cancel_query_are_asked_that_way() {
    let server = slow_server(Options {
        cancel_flight_info: false,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    for round in 1..=2 {
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        cursor.fetchone().await.unwrap();
        cursor.cancel_token().unwrap().cancel().await.unwrap();
        assert!(cursor.fetchall().await.unwrap_err().is_cancelled());
        assert_eq!(server.stats().cancel_query, round);
    }
    assert_eq!(
        server.stats().cancel_flight_info,
        1,
        "the refusal is remembered"
    );
}

#[tokio::test]
async fn servers_that_say_they_cannot_cancel_are_not_asked() {
    let server = slow_server(Options {
        says_it_cancels: false,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    // What the server says about itself is learned once, here.
    assert_eq!(conn.server_info().await.unwrap().cancel, Some(false));
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    cursor.fetchone().await.unwrap();
    cursor.cancel_token().unwrap().cancel().await.unwrap();
    // Cancelled here all the same, without a call the server said it cannot serve.
    assert!(cursor.fetchall().await.unwrap_err().is_cancelled());
    let stats = server.stats();
    assert_eq!((stats.cancel_flight_info, stats.cancel_query), (0, 0));
}

#[tokio::test]
async fn closing_an_undrained_cursor_cancels_on_the_server() {
    let server = slow_server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    cursor.fetchone().await.unwrap();
    cursor.close().await.unwrap();
    eventually("a CancelFlightInfo", || {
        server.stats().cancel_flight_info == 1
    })
    .await;

    // A drained cursor has nothing to cancel.
    server.set_options(|o| o.faults.streams.delay_between_batches = Duration::ZERO);
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    cursor.fetchall().await.unwrap();
    cursor.close().await.unwrap();
    drop(cursor);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.stats().cancel_flight_info, 1);
}

#[tokio::test]
async fn poll_flight_info_reads_endpoints_as_they_appear() {
    let server = server(Options {
        endpoints: 4,
        poll_delay: Duration::from_millis(20),
        ..Options::default()
    })
    .await;
    let conn = connect_url(&format!("{}&poll=true", server.url())).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    let first = cursor.progress().unwrap();
    assert!((0.0..1.0).contains(&first), "{first}");
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert_eq!(cursor.progress(), Some(1.0));
    let stats = server.stats();
    assert_eq!(stats.poll_flight_info, 4, "one poll per new endpoint");
    assert_eq!(stats.get_flight_info, 0);
    assert_eq!(stats.do_get, 4);
}

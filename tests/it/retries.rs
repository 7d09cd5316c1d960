//! Retries with a budget, against the bundled server failing calls on purpose
//! (`AnswerFaults::unavailable_every`, `StreamFaults::reset_every`), counted by the server.

use dbapi::{ErrorKind, Params};
use dbapi_flightsql_server::{AnswerFaults, Options, StreamFaults};

use crate::{faulty, first_error, registry, server, statement_error};

fn flaky(every: u64, resets: u64) -> Options {
    faulty(
        AnswerFaults {
            unavailable_every: every,
            ..AnswerFaults::default()
        },
        StreamFaults {
            reset_every: resets,
            ..StreamFaults::default()
        },
    )
}

#[tokio::test]
async fn a_thousand_queries_through_a_flaky_server_all_succeed() {
    // Every 20th call of each kind fails UNAVAILABLE, and every 20th stream is reset before
    // its first message.
    let server = server(flaky(20, 20)).await;
    let url = format!("{}&retry_backoff=2ms", server.url());
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    for i in 0..1000_i64 {
        let sql = format!("SELECT id FROM numbers WHERE id < {}", i % 7 + 1);
        cursor
            .execute(&sql, Params::None)
            .await
            .unwrap_or_else(|e| panic!("query {i}: {e}"));
        let rows = cursor
            .fetchall()
            .await
            .unwrap_or_else(|e| panic!("query {i}: {e}"));
        assert_eq!(rows.len() as i64, i % 7 + 1, "query {i}");
    }
    let stats = server.stats();
    // GetFlightInfo: 1000 queries and their retries, every 20th failed; DoGet the same.
    assert!(stats.faults_injected >= 100, "{stats:?}");
    assert!(stats.streams_reset >= 45, "{stats:?}");
    assert!(
        stats.get_flight_info >= 1000 && stats.do_get >= 1000,
        "{stats:?}"
    );
}

#[tokio::test]
async fn only_what_is_safe_to_repeat_is_repeated() {
    // Every call fails: what is retried is tried 1 + `retries` times, what changes data once.
    let server = server(flaky(1, 0)).await;
    let conn = registry()
        .connect(&format!("{}&retry_backoff=1ms", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.execute("SELECT 1", Params::None).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(e.code(), Some("UNAVAILABLE"));
    assert!(e.to_string().contains("after 3 retries"), "{e}");
    assert_eq!(
        server.stats().faults_injected,
        4,
        "the first try and 3 retries"
    );
    for update in [
        "INSERT INTO numbers VALUES (1, 1.0, 'x', now())",
        "DELETE FROM numbers",
    ] {
        let before = server.stats().faults_injected;
        let e = cursor
            .execute_update(update, Params::None)
            .await
            .unwrap_err();
        assert!(e.is_transient(), "{e:?}");
        assert!(!e.to_string().contains("retries"), "{e}");
        assert_eq!(
            server.stats().faults_injected,
            before + 1,
            "{update}: sent once"
        );
        let before = server.stats().faults_injected;
        cursor.execute(update, Params::None).await.unwrap_err();
        assert_eq!(
            server.stats().faults_injected,
            before + 1,
            "{update}: sent once"
        );
    }
    // retries=0: once.
    let before = server.stats().faults_injected;
    let e = first_error(&format!("{}&retries=0", server.url())).await;
    assert!(e.is_transient());
    assert_eq!(server.stats().faults_injected, before + 1);
    // The budget bounds the retries whatever their number.
    let before = server.stats().faults_injected;
    let started = std::time::Instant::now();
    first_error(&format!(
        "{}&retries=1000&retry_backoff=20ms&retry_budget=200ms",
        server.url()
    ))
    .await;
    let tries = server.stats().faults_injected - before;
    assert!((2..=12).contains(&tries), "{tries} tries in 200 ms");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn errors_that_are_not_transient_are_not_retried() {
    let server = server(Options::default()).await;
    let before = server.stats().get_flight_info;
    let e = statement_error(&server.url(), "SELECT * FROM no_such_table").await;
    assert_eq!(e.kind(), ErrorKind::Programming);
    assert!(!e.is_transient());
    assert_eq!(server.stats().get_flight_info, before + 1);
}

//! Statement timeouts (`statement_timeout`, `Cursor::set_timeout`) against the bundled
//! server made slow on purpose: a timeout error within the bound, the statement cancelled on
//! the server, the connection clean afterwards.

use std::time::{Duration, Instant};

use dbapi::{Cursor, Params};
use dbapi_flightsql_server::{AnswerFaults, Options, StreamFaults};

use crate::{faulty, registry, server};

fn slow(plan: Duration, stream: Duration) -> Options {
    faulty(
        AnswerFaults {
            plan_delay: plan,
            ..AnswerFaults::default()
        },
        StreamFaults {
            delay_between_batches: stream,
            ..StreamFaults::default()
        },
    )
}

/// Runs `sql` and reads it whole; the error and how long it took.
async fn timed_out(cursor: &mut dyn Cursor, sql: &str) -> (dbapi::Error, Duration) {
    let started = Instant::now();
    let outcome = async {
        cursor.execute(sql, Params::None).await?;
        cursor.fetchall().await
    }
    .await;
    let e = outcome.expect_err("the statement should time out");
    (e, started.elapsed())
}

#[tokio::test]
async fn a_statement_that_plans_for_30_s_ends_at_its_timeout() {
    let server = server(slow(Duration::from_secs(30), Duration::ZERO)).await;
    let conn = registry()
        .connect(&format!("{}&statement_timeout=1s", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    let (e, took) = timed_out(cursor.as_mut(), "SELECT id FROM numbers").await;
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        !e.is_cancelled(),
        "a timeout, not the caller's cancel: {e:?}"
    );
    assert!(e.to_string().contains("statement_timeout"), "{e}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test]
async fn a_statement_that_streams_for_30_s_is_cancelled_on_the_server() {
    // 10 batches, 3 s apart.
    let server = server(slow(Duration::ZERO, Duration::from_secs(3))).await;
    let conn = crate::connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor.set_timeout(Some(Duration::from_secs(1))).unwrap();
    let (e, took) = timed_out(cursor.as_mut(), "SELECT id FROM numbers").await;
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        e.to_string().contains("set on the cursor"),
        "names where the timeout came from: {e}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    // The server was asked to cancel it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats().cancel_flight_info == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().cancel_flight_info, 1);
    // The connection is clean: the next statement runs at once (its timeout off).
    cursor.set_timeout(None).unwrap();
    let started = Instant::now();
    cursor
        .execute("SELECT 1 AS one", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_statement_read_before_its_timeout_is_not_disturbed_by_it() {
    let server = server(Options::default()).await;
    let conn = registry()
        .connect(&format!("{}&statement_timeout=300ms", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), crate::NUMBERS);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The result read whole stays read; a fetch past its end is no timeout.
    assert!(cursor.fetchone().await.unwrap().is_none());
    assert_eq!(server.stats().cancel_flight_info, 0);
}

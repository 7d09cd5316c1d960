//! Bulk ingest: modes, row counts, failing streams, transactions.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use dbapi::{Error, IngestMode, Params};
use dbapi_flightsql_server::Options;
use futures::StreamExt;
use futures::stream::{self, BoxStream};

use crate::statements::count;
use crate::{connect, ids, server};

fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let names: Vec<String> = ids.clone().map(|i| format!("n{i}")).collect();
    RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef,
        ),
        ("name", Arc::new(StringArray::from(names)) as ArrayRef),
    ])
    .unwrap()
}

/// Batches of the ids `start..end` of each pair.
fn batches(ranges: &[(i64, i64)]) -> BoxStream<'static, dbapi::Result<RecordBatch>> {
    let batches: Vec<dbapi::Result<RecordBatch>> = ranges
        .iter()
        .map(|&(start, end)| Ok(batch(start..end)))
        .collect();
    stream::iter(batches).boxed()
}

#[tokio::test]
async fn ingest_modes() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let n = conn
        .ingest(
            "loaded",
            IngestMode::Create,
            batches(&[(0, 100), (100, 250)]),
        )
        .await
        .unwrap();
    assert_eq!(n, 250);
    assert_eq!(count(conn.as_ref(), "loaded").await, 250);
    let e = conn
        .ingest("loaded", IngestMode::Create, batches(&[(0, 1)]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let n = conn
        .ingest("loaded", IngestMode::Append, batches(&[(250, 260)]))
        .await
        .unwrap();
    assert_eq!(n, 10);
    assert_eq!(count(conn.as_ref(), "loaded").await, 260);
    let n = conn
        .ingest("loaded", IngestMode::Replace, batches(&[(0, 5)]))
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(count(conn.as_ref(), "loaded").await, 5);
    let e = conn
        .ingest("missing", IngestMode::Append, batches(&[(0, 1)]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let n = conn
        .ingest("fresh", IngestMode::CreateAppend, batches(&[(0, 3)]))
        .await
        .unwrap();
    assert_eq!(n, 3);
    let n = conn
        .ingest("fresh", IngestMode::CreateAppend, batches(&[(3, 4)]))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM fresh ORDER BY id", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [0, 1, 2, 3]);
    assert_eq!(server.stats().ingests, 7);
}

#[tokio::test]
async fn a_failing_stream_ingests_nothing() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let failing = stream::iter([
        Ok(batch(0..10)),
        Ok(batch(10..20)),
        Err(Error::data("row 20 is bad")),
    ])
    .boxed();
    let e = conn
        .ingest("partial", IngestMode::Create, failing)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("row 20 is bad"), "{e}");
    assert_eq!(e.kind(), dbapi::ErrorKind::Data);
    // The call was abandoned, not completed short: the table does not exist.
    let mut cursor = conn.cursor().unwrap();
    let e = cursor
        .execute("SELECT count(*) FROM partial", Params::None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("partial"), "{e}");
}

#[tokio::test]
async fn ingest_in_a_transaction_shows_at_commit() {
    let server = server(Options::default()).await;
    let a = connect(&server).await;
    a.set_autocommit(false).await.unwrap();
    a.ingest("txn_loaded", IngestMode::Create, batches(&[(0, 10)]))
        .await
        .unwrap();
    let b = connect(&server).await;
    let mut cursor = b.cursor().unwrap();
    assert!(
        cursor
            .execute("SELECT * FROM txn_loaded", Params::None)
            .await
            .is_err()
    );
    a.commit().await.unwrap();
    assert_eq!(count(b.as_ref(), "txn_loaded").await, 10);
}

//! Owned streams (outliving their cursor), the blocking Arrow reader and its C stream export,
//! and ingest from an Arrow reader.

use arrow::array::{Array, Int64Array, RecordBatchIterator};
use arrow::ffi_stream::ArrowArrayStreamReader;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use dbapi::blocking::Connection as BlockingConnection;
use dbapi::{ConnectionExt, IngestMode, IntoStreams, params};
use dbapi_flightsql_server::Options;
use futures::TryStreamExt;

use crate::statements::count;
use crate::{all_ids, connect, registry, server, server_with_endpoints};

fn ids_of(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            ids.values().to_vec()
        })
        .collect()
}

#[tokio::test]
async fn owned_streams_outlive_their_cursor_and_carry_the_schema() {
    let server = server_with_endpoints(3).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers ORDER BY id", params![])
        .await
        .unwrap();
    // Half a batch read as rows first: the stream goes on from there, nothing lost.
    let first = cursor.fetchmany(Some(50)).await.unwrap();
    let batches = cursor.into_batches().await.unwrap();
    assert_eq!(batches.schema().field(0).name(), "id");
    let batches: Vec<RecordBatch> = tokio::spawn(batches.try_collect()).await.unwrap().unwrap();
    let mut ids: Vec<i64> = first.iter().map(|r| r.get(0).unwrap()).collect();
    ids.extend(ids_of(&batches));
    assert_eq!(ids, all_ids());

    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id, name FROM numbers ORDER BY id", params![])
        .await
        .unwrap();
    let rows = cursor.into_rows_as::<(i64, String)>().await.unwrap();
    assert_eq!(rows.schema().fields().len(), 2);
    let rows: Vec<(i64, String)> = tokio::spawn(rows.try_collect()).await.unwrap().unwrap();
    assert_eq!(rows.len(), all_ids().len());
    assert_eq!(rows[7].0, 7);

    // A typed stream stops at the first row that does not convert, saying why.
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT name FROM numbers", params![])
        .await
        .unwrap();
    let rows = cursor.into_rows_as::<(i64,)>().await.unwrap();
    let all: Vec<dbapi::Result<(i64,)>> = futures::StreamExt::collect(rows).await;
    assert_eq!(all.len(), 1);
    assert!(all[0].is_err());
}

#[tokio::test]
async fn an_empty_result_still_has_its_schema() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers WHERE id < 0", params![])
        .await
        .unwrap();
    let batches = cursor.into_batches().await.unwrap();
    assert_eq!(batches.schema().field(0).name(), "id");
    let rest: Vec<RecordBatch> = batches.try_collect().await.unwrap();
    assert_eq!(rest.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[tokio::test]
async fn ingest_from_an_arrow_reader() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers", params![])
        .await
        .unwrap();
    let batches = cursor.fetch_all_batches().await.unwrap();
    let schema = batches[0].schema();
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let n = conn
        .ingest_reader("copied", IngestMode::Create, reader)
        .await
        .unwrap();
    assert_eq!(n, i64::try_from(all_ids().len()).unwrap());
    assert_eq!(count(conn.as_ref(), "copied").await, n);
}

#[test]
fn the_blocking_reader_is_a_record_batch_reader_and_an_arrow_c_stream() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(server_with_endpoints(4));
    let conn = BlockingConnection::connect_with(&registry(), &server.url()).unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers ORDER BY id", ())
        .unwrap();
    let reader = cursor.into_reader().unwrap();
    assert_eq!(reader.schema().field(0).name(), "id");
    // Through the C stream interface and back, as another Arrow library would read it.
    let back = ArrowArrayStreamReader::try_new(reader.into_ffi()).unwrap();
    assert_eq!(back.schema().field(0).name(), "id");
    let batches: Vec<RecordBatch> = back.collect::<Result<_, _>>().unwrap();
    assert_eq!(ids_of(&batches), all_ids());

    // And a reader loads a table.
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers WHERE id < 10", ())
        .unwrap();
    let reader = cursor.into_reader().unwrap();
    let n = conn.ingest("ten", IngestMode::Create, reader).unwrap();
    assert_eq!(n, 10);
    let mut cursor = conn.cursor().unwrap();
    cursor.execute("SELECT count(*) FROM ten", ()).unwrap();
    assert_eq!(cursor.fetch_scalar::<i64>().unwrap(), 10);
}

//! Cursor behaviour: fetch boundaries, arraysize, description, rowcount, reuse, closing.

use dbapi::{Params, TypeCode};
use dbapi_flightsql_server::Options;
use futures::StreamExt;

use crate::{all_ids, connect, connect_url, execute, ids, server, server_with_endpoints};

#[tokio::test]
async fn fetchmany_crosses_batch_and_endpoint_edges() {
    // 1000 rows, batches of 100, 3 endpoints (333/333/334 rows): sizes that straddle both.
    let server = server_with_endpoints(3).await;
    let conn = connect(&server).await;
    for size in [1, 7, 99, 100, 101, 333, 334, 999, 1000, 5000] {
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        let mut got = Vec::new();
        loop {
            let rows = cursor.fetchmany(Some(size)).await.unwrap();
            let n = rows.len();
            got.extend(rows.iter().map(|r| r.get::<i64, _>(0).unwrap()));
            if n < size {
                break;
            }
            assert_eq!(n, size, "fetchmany returns fewer rows only at the end");
        }
        assert_eq!(got, all_ids(), "size {size}");
        assert!(cursor.fetchmany(Some(size)).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn arraysize_is_the_default_fetchmany_size() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(cursor.arraysize(), 1);
    assert_eq!(cursor.fetchmany(None).await.unwrap().len(), 1);
    cursor.set_arraysize(250);
    assert_eq!(cursor.arraysize(), 250);
    let rows = cursor.fetchmany(None).await.unwrap();
    assert_eq!(rows.len(), 250);
    assert_eq!(rows[0].get::<i64, _>("id").unwrap(), 1);
    cursor.set_arraysize(0);
    assert_eq!(cursor.arraysize(), 1);
}

#[tokio::test]
async fn description_describes_columns() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let cursor = execute(
        conn.as_ref(),
        "SELECT id, value, name, ts, CAST(value AS DECIMAL(10, 2)) AS d FROM numbers",
    )
    .await;
    let d = cursor.description().expect("description after execute");
    let names: Vec<&str> = d.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["id", "value", "name", "ts", "d"]);
    assert_eq!(d[0].type_code(), TypeCode::Number);
    assert_eq!(d[0].internal_size(), Some(8));
    assert!(!d[0].nullable());
    assert_eq!(d[2].type_code(), TypeCode::String);
    assert_eq!(d[3].type_code(), TypeCode::Datetime);
    assert_eq!((d[4].precision(), d[4].scale()), (Some(10), Some(2)));
}

#[tokio::test]
async fn rowcount_is_unknown_until_exhausted() {
    let server = server_with_endpoints(2).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    assert_eq!(cursor.rowcount(), -1);
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), -1);
    cursor.fetchmany(Some(10)).await.unwrap();
    assert_eq!(cursor.rowcount(), -1);
    cursor.fetchall().await.unwrap();
    assert_eq!(cursor.rowcount(), 1000);
}

#[tokio::test]
async fn rowcount_uses_total_records_when_the_server_gives_it() {
    let server = server(Options {
        send_total_records: true,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let cursor = execute(conn.as_ref(), "SELECT id FROM numbers WHERE id < 42").await;
    assert_eq!(cursor.rowcount(), 42);
}

#[tokio::test]
async fn cursor_is_reusable_for_another_execute() {
    let server = server_with_endpoints(2).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    cursor.fetchmany(Some(5)).await.unwrap();
    cursor
        .execute("SELECT id FROM numbers WHERE id >= 990", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, (990..1000).collect::<Vec<_>>());
    assert_eq!(cursor.rowcount(), 10);
    cursor
        .execute("SELECT name FROM numbers WHERE id = 7", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.description().unwrap()[0].name(), "name");
    let row = cursor.fetchone().await.unwrap().unwrap();
    assert_eq!(row.get::<String, _>("name").unwrap(), "name-7");
}

#[tokio::test]
async fn rows_and_batches_can_be_mixed_without_loss() {
    let server = server_with_endpoints(3).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let mut got: Vec<i64> = Vec::new();
    got.push(cursor.fetchone().await.unwrap().unwrap().get(0).unwrap());
    let batch = cursor.fetch_batch().await.unwrap().unwrap();
    let col = batch
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap();
    got.extend(col.values().iter());
    got.extend(
        cursor
            .fetchmany(Some(250))
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>(0).unwrap()),
    );
    for batch in cursor.fetch_all_batches().await.unwrap() {
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        got.extend(col.values().iter());
    }
    assert_eq!(got, all_ids());
    assert_eq!(cursor.rowcount(), 1000);
}

#[tokio::test]
async fn batch_and_row_streams() {
    let server = server_with_endpoints(2).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let rows: usize = cursor
        .batches()
        .map(|b| b.unwrap().num_rows())
        .fold(0, |a, b| async move { a + b })
        .await;
    assert_eq!(rows, 1000);
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    let got: Vec<i64> = cursor
        .rows()
        .map(|r| r.unwrap().get::<i64, _>("id").unwrap())
        .collect()
        .await;
    assert_eq!(got, all_ids());
}

#[tokio::test]
async fn fetch_before_execute_is_an_interface_error() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.fetchone().await.unwrap_err();
    assert!(e.is_interface());
    assert!(e.to_string().contains("execute"), "{e}");
    assert!(cursor.description().is_none());
}

#[tokio::test]
async fn closed_cursor_refuses_work_and_closing_twice_is_fine() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    cursor.close().await.unwrap();
    assert!(cursor.is_closed());
    cursor.close().await.unwrap();
    for e in [
        cursor.fetchone().await.unwrap_err(),
        cursor.execute("SELECT 1", Params::None).await.unwrap_err(),
        cursor.fetch_batch().await.map(|_| ()).unwrap_err(),
    ] {
        assert!(e.is_interface(), "{e}");
        assert!(e.to_string().contains("cursor is closed"), "{e}");
    }
    // Other cursors are unaffected.
    let mut other = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(other.as_mut()).await.len(), 1000);
}

#[tokio::test]
async fn closed_connection_refuses_work() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    conn.close().await.unwrap();
    assert!(conn.is_closed());
    conn.close().await.unwrap();
    assert!(cursor.is_closed());
    let e = cursor.fetchone().await.unwrap_err();
    assert!(e.to_string().contains("connection is closed"), "{e}");
    let e = conn.cursor().unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(conn.commit().await.is_err());
}

#[tokio::test]
async fn in_autocommit_mode_commit_and_rollback_do_nothing() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    assert!(conn.autocommit());
    conn.commit().await.unwrap();
    conn.rollback().await.unwrap();
    let stats = server.stats();
    assert_eq!(
        stats.transactions_begun + stats.commits + stats.rollbacks,
        0
    );
}

#[tokio::test]
async fn many_cursors_on_one_connection() {
    let server = server_with_endpoints(3).await;
    let conn = connect_url(&server.url()).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut cursor = conn.cursor().unwrap();
        tasks.push(tokio::spawn(async move {
            cursor
                .execute("SELECT id FROM numbers", Params::None)
                .await
                .unwrap();
            ids(cursor.as_mut()).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), all_ids());
    }
}

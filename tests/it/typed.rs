//! Typed rows over gRPC: rows read in place with `get`, deserialized with serde, parameters
//! from tuples; every row exact, mixed with batch fetches.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use dbapi::{CursorExt, Params};
use dbapi_flightsql_server::Options;
use serde::Deserialize;

use crate::{NUMBERS, connect, execute, server};

#[derive(Debug, Deserialize, PartialEq)]
struct Number {
    id: i64,
    value: f64,
    name: String,
    ts: NaiveDateTime,
}

#[derive(Debug, Deserialize)]
struct Reading<'a> {
    time: DateTime<Utc>,
    sensor: &'a str,
    temperature: f64,
    humidity: Option<f64>,
}

#[tokio::test]
async fn fetchall_as_reads_every_row_into_structs() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM numbers ORDER BY id").await;
    // Rows, then a batch, then typed rows: nothing lost or repeated.
    let first: Option<Number> = cursor.fetchone_as().await.unwrap();
    assert_eq!(first.unwrap().id, 0);
    let batch = cursor.fetch_batch().await.unwrap().unwrap();
    let after_batch = 1 + batch.num_rows();
    let rest: Vec<Number> = cursor.fetchall_as().await.unwrap();
    assert_eq!(after_batch + rest.len(), NUMBERS);
    for (i, n) in rest.iter().enumerate() {
        let id = (after_batch + i) as i64;
        assert_eq!(n.id, id);
        assert_eq!(n.value, id as f64 * 0.5);
        assert_eq!(n.name, format!("name-{id}"));
    }
    assert!(rest.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[tokio::test]
async fn rows_borrow_text_and_keep_time_zones_and_nulls() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(
        conn.as_ref(),
        "SELECT time, sensor, temperature, humidity FROM readings ORDER BY time",
    )
    .await;
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(rows.len(), 100);
    let mut per_sensor: HashMap<&str, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let r: Reading<'_> = row.deserialize().unwrap();
        assert_eq!(r.time.timestamp(), 1_767_225_600 + 60 * i as i64);
        assert_eq!(r.temperature, 15.0 + (i % 17) as f64 * 0.5);
        assert_eq!(r.humidity.is_none(), i % 10 == 9, "row {i}");
        // `get` reads the same values in place.
        let sensor: &str = row.get("sensor").unwrap();
        assert_eq!(sensor, r.sensor);
        assert_eq!(row.get::<Option<f64>, _>("humidity").unwrap(), r.humidity);
        *per_sensor.entry(r.sensor).or_default() += 1;
    }
    assert_eq!(per_sensor.len(), 4);
    assert!(per_sensor.values().all(|n| *n == 25));
}

#[tokio::test]
async fn typed_streams_tuples_and_tuple_parameters() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT id, name FROM numbers WHERE id >= $1 AND name <> $2 ORDER BY id",
            (990_i64, "name-995").into(),
        )
        .await
        .unwrap();
    use futures::TryStreamExt;
    let pairs: Vec<(i64, String)> = cursor.rows_as().try_collect().await.unwrap();
    let ids: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    assert_eq!(ids, [990, 991, 992, 993, 994, 996, 997, 998, 999]);
    assert!(pairs.iter().all(|(id, name)| *name == format!("name-{id}")));

    // A single column is a value; counting rows the typed way.
    cursor
        .execute("SELECT count(*) FROM numbers", Params::None)
        .await
        .unwrap();
    let count: Option<i64> = cursor.fetchone_as().await.unwrap();
    assert_eq!(count, Some(NUMBERS as i64));
}

#[tokio::test]
async fn type_errors_name_the_column_and_field() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        id: i64,
        name: i64,
    }
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id, name FROM numbers").await;
    let e = cursor.fetchone_as::<Wrong>().await.unwrap_err();
    assert_eq!(e.kind(), dbapi::ErrorKind::Data);
    let text = e.to_string();
    assert!(text.contains(r#"column 1 ("name")"#), "{text}");
    assert!(text.contains("name-0"), "{text}");
    let row = cursor.fetchone().await.unwrap().unwrap();
    let e = row.get::<i64, _>("name").unwrap_err();
    assert!(e.to_string().contains("String"), "{e}");
    assert!(e.to_string().contains("i64"), "{e}");
}

//! InfluxDB 3's own ticket (`query_path=influxdb`, `query_language=influxql`) against the
//! bundled server, which reads the JSON ticket as InfluxDB does: parameters named and
//! positional, in SQL and InfluxQL, and the statements that path cannot run refused.

use dbapi::{CursorExt, ErrorKind, ParamSets, Params, Value, params};
use dbapi_flightsql_server::Options;

use crate::{execute, first_error, ids, registry, server, statement_error};

fn database_required() -> Options {
    Options {
        required_header: Some(("database".into(), "sensors".into())),
        ..Options::default()
    }
}

/// The one value of a one-row, one-column result.
async fn single(cursor: &mut dyn dbapi::Cursor) -> Value {
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(rows.len(), 1);
    rows[0].get::<Value, _>(0).unwrap()
}

#[tokio::test]
async fn parameters_named_and_positional_travel_in_the_ticket() {
    let server = server(database_required()).await;
    let base = format!("{}&database=sensors", server.url());
    let native = registry()
        .connect(&format!("{base}&query_path=influxdb"))
        .await
        .unwrap();
    let mut cursor = native.cursor().unwrap();
    cursor
        .execute(
            "SELECT id FROM numbers WHERE id >= $low AND id < $high ORDER BY id",
            params! { "low" => 5_i64, "high" => 8_i64 },
        )
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [5, 6, 7]);
    cursor
        .execute(
            "SELECT id, name FROM numbers WHERE id >= $1 AND id < $2 ORDER BY id",
            params![990_i64, 1000_i64],
        )
        .await
        .unwrap();
    let description: Vec<String> = cursor
        .description()
        .unwrap()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    assert_eq!(description, ["id", "name"], "known after execute");
    let typed: Vec<(i64, String)> = cursor.fetchall_typed().await.unwrap();
    assert_eq!(typed.len(), 10);
    assert_eq!(typed[0].0, 990);
    // Text, booleans and NULL parameters, and a query without any.
    cursor
        .execute(
            "SELECT count(*) AS n FROM numbers WHERE name = $name OR $all",
            params! { "name" => typed[0].1.clone(), "all" => false },
        )
        .await
        .unwrap();
    assert_eq!(single(cursor.as_mut()).await, Value::Int64(1));
    cursor
        .execute("SELECT count(*) AS n FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(single(cursor.as_mut()).await, Value::Int64(1000));
    let stats = server.stats();
    assert_eq!(stats.influx_tickets, 4);
    assert_eq!(
        (stats.get_flight_info, stats.prepared_created),
        (0, 0),
        "nothing went through Flight SQL statements"
    );
}

#[tokio::test]
async fn influxql_goes_through_the_ticket_with_parameters() {
    let server = server(database_required()).await;
    let url = format!("{}&database=sensors&query_language=influxql", server.url());
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT MEAN(value) AS mean FROM numbers WHERE id < $max",
            params! { "max" => 10_i64 },
        )
        .await
        .unwrap();
    let mean = single(cursor.as_mut()).await;
    // The same mean through Flight SQL.
    let plain = registry()
        .connect(&format!("{}&database=sensors", server.url()))
        .await
        .unwrap();
    let mut check = execute(
        plain.as_ref(),
        "SELECT avg(value) AS mean FROM numbers WHERE id < 10",
    )
    .await;
    assert_eq!(mean, single(check.as_mut()).await);
    assert_eq!(server.stats().influxql_tickets, 1);
    // What the bundled server does not answer is refused naming InfluxQL.
    let e = cursor
        .execute("SHOW MEASUREMENTS", Params::None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("INVALID_ARGUMENT"));
    assert!(e.to_string().contains("InfluxQL"), "{e}");
}

#[tokio::test]
async fn what_the_ticket_cannot_run_is_refused_by_name() {
    let server = server(database_required()).await;
    let base = format!("{}&query_path=influxdb", server.url());
    let conn = registry()
        .connect(&format!("{base}&database=sensors"))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    let e = cursor
        .execute_update("DELETE FROM numbers", Params::None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
    assert!(e.to_string().contains("change data"), "{e}");
    let sets = vec![params![1_i64], params![2_i64]];
    let e = cursor
        .executemany("SELECT $1", ParamSets::from(sets))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
    assert!(e.to_string().contains("executemany"), "{e}");
    let e = conn.prepare("SELECT $1").await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
    assert!(e.to_string().contains("prepared statements"), "{e}");
    let e = cursor
        .execute(
            "SELECT $x",
            Params::Named(vec![("x".into(), Value::Binary(vec![1]))]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
    assert!(e.to_string().contains("$x"), "{e}");
    // The database: required, and checked by the server.
    let e = first_error(&base).await;
    assert_eq!(e.kind(), ErrorKind::Interface);
    assert!(e.to_string().contains("database="), "{e}");
    let e = first_error(&format!("{base}&database=other")).await;
    assert_eq!(e.code(), Some("NOT_FOUND"), "{e}");
    // A server error names its cause.
    let e = statement_error(
        &format!("{base}&database=sensors"),
        "SELECT * FROM no_such_table",
    )
    .await;
    assert!(e.to_string().contains("no_such_table"), "{e}");
}

/// `query_path=auto` (the default): a query with parameters to a server that says it is
/// InfluxDB goes through InfluxDB's ticket, where InfluxDB binds them; everything else, and
/// every other server, takes Flight SQL.
#[tokio::test]
async fn parameters_take_the_ticket_by_themselves_on_a_server_named_influxdb() {
    let server = server(Options {
        server_name: Some("InfluxDB 3 Core".into()),
        parameters_by_name: true,
        ..database_required()
    })
    .await;
    let conn = registry()
        .connect(&format!("{}&database=sensors", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT id FROM numbers WHERE id >= $1 AND id < $2 ORDER BY id",
            params![5_i64, 8_i64],
        )
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [5, 6, 7]);
    let stats = server.stats();
    assert_eq!(stats.influx_tickets, 1, "{stats:?}");
    // Without parameters, updates, inside a transaction: Flight SQL.
    execute(conn.as_ref(), "SELECT 1").await;
    cursor
        .execute_update("DELETE FROM numbers WHERE id = $1", params![999_i64])
        .await
        .unwrap();
    let stats = server.stats();
    assert_eq!(stats.influx_tickets, 1, "{stats:?}");
    // Forced off: Flight SQL prepared statements, which InfluxDB does not bind by position.
    let forced = registry()
        .connect(&format!(
            "{}&database=sensors&query_path=flightsql",
            server.url()
        ))
        .await
        .unwrap();
    let mut cursor = forced.cursor().unwrap();
    let _ = cursor
        .execute("SELECT id FROM numbers WHERE id = $1", params![5_i64])
        .await;
    assert_eq!(server.stats().influx_tickets, 1);
    // Another server: Flight SQL whatever the parameters.
    let other = crate::server(Options::default()).await;
    let conn = registry().connect(&other.url()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM numbers WHERE id = $1", params![5_i64])
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [5]);
    assert_eq!(other.stats().influx_tickets, 0);
}

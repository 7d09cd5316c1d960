//! Parameters, prepared statements, updates with row counts, executemany.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta};
use dbapi::{Connection, Decimal, ErrorKind, Params, Value};
use dbapi_flightsql_server::{Options, Server};

use crate::{connect, connect_url, ids, server};

fn named(pairs: &[(&str, Value)]) -> Params {
    Params::Named(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
    )
}

/// Waits until `done` holds (background work: closing statements, rolling back).
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen within 2 s");
}

/// The number of rows of a table.
pub async fn count(conn: &dyn Connection, table: &str) -> i64 {
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(&format!("SELECT count(*) AS n FROM {table}"), Params::None)
        .await
        .unwrap();
    cursor.fetchone().await.unwrap().unwrap().get("n").unwrap()
}

/// A server with an empty table `t (id BIGINT, name VARCHAR)`.
pub async fn server_with_t(options: Options) -> Server {
    let server = server(options).await;
    let conn = connect(&server).await;
    conn.cursor()
        .unwrap()
        .execute("CREATE TABLE t (id BIGINT, name VARCHAR)", Params::None)
        .await
        .unwrap();
    server
}

#[tokio::test]
async fn positional_parameters_are_converted_to_the_announced_types() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    // id is Int64, name Utf8: an Int32 and a string bind to them.
    cursor
        .execute(
            "SELECT id, name FROM numbers WHERE id = $1 AND name = $2",
            Params::from([Value::Int32(7), "name-7".into()]),
        )
        .await
        .unwrap();
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<i64, _>("id").unwrap(), 7);
    let stats = server.stats();
    assert_eq!((stats.prepared_created, stats.prepared_bound), (1, 1));
}

#[tokio::test]
async fn named_parameters_match_by_name_in_any_order() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    for params in [
        named(&[("hi", 13_i64.into()), ("lo", 10_i64.into())]),
        named(&[("$lo", 10_i64.into()), (":hi", 13_i64.into())]),
    ] {
        cursor
            .execute(
                "SELECT id FROM numbers WHERE id >= $lo AND id < $hi ORDER BY id",
                params,
            )
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [10, 11, 12]);
    }
}

#[tokio::test]
async fn every_parameter_type_and_null_round_trips() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let values = [
        Value::Null,
        Value::Bool(true),
        Value::Int8(-8),
        Value::Int16(-16),
        Value::Int32(-32),
        Value::Int64(i64::MIN),
        Value::UInt8(8),
        Value::UInt16(16),
        Value::UInt32(32),
        Value::UInt64(u64::MAX),
        Value::Float32(1.5),
        Value::Float64(-2.25),
        Value::String("héllo, wörld".into()),
        Value::String(String::new()),
        Value::Binary(vec![0, 159, 146, 150]),
        Value::Date(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        Value::Time(NaiveTime::from_hms_nano_opt(23, 59, 58, 123_456_789).unwrap()),
        Value::Timestamp(
            DateTime::from_timestamp(1_767_225_600, 5)
                .unwrap()
                .naive_utc(),
        ),
        Value::TimestampTz(
            DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
            "Europe/Paris".into(),
        ),
        Value::Duration(TimeDelta::milliseconds(1500)),
        Value::from(Decimal::from_i128(-12_345, 10, 3)),
    ];
    for value in values {
        cursor
            .execute("SELECT $1 AS v", Params::from([value.clone()]))
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let row = cursor.fetchone().await.unwrap().unwrap();
        assert_eq!(row.get_value(0).unwrap(), value, "{value:?}");
    }
}

#[tokio::test]
async fn wrong_parameters_are_errors_that_name_them() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let sql = "SELECT id FROM numbers WHERE id = $1 AND name = $2";
    let e = cursor
        .execute(sql, Params::from([Value::Int64(1)]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
    assert!(
        e.to_string()
            .contains("2 parameters ($1: Int64, $2: Utf8), 1 value given"),
        "{e}"
    );
    let e = cursor
        .execute(
            sql,
            Params::from([Value::Int64(1), "a".into(), Value::Int64(2)]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming, "{e}");
    let e = cursor
        .execute(sql, Params::from([Value::Float64(1.5), "a".into()]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Data, "{e}");
    assert!(
        e.to_string()
            .contains("parameter $1: cannot bind a Float64 value to a parameter of type Int64"),
        "{e}"
    );
    let e = cursor
        .execute(
            "SELECT id FROM numbers WHERE id = $id",
            named(&[("idd", 1_i64.into())]),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown parameter \"idd\""), "{e}");
    assert_eq!(server.stats().get_flight_info, 0, "nothing was executed");
    // The cursor is usable after such errors.
    cursor
        .execute(sql, Params::from([Value::Int64(3), "name-3".into()]))
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [3]);
}

/// Looks up ids `0..n` one by one with a parameterised query on one cursor.
async fn look_up_ids(conn: &dyn Connection, n: i64) {
    let mut cursor = conn.cursor().unwrap();
    for i in 0..n {
        cursor
            .execute(
                "SELECT id FROM numbers WHERE id = $1",
                Params::from([Value::Int64(i)]),
            )
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [i]);
    }
}

#[tokio::test]
async fn repeated_executes_prepare_once_with_the_cache() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    look_up_ids(conn.as_ref(), 10).await;
    let stats = server.stats();
    assert_eq!((stats.prepared_created, stats.prepared_bound), (1, 10));

    // Without the cache, each execute prepares and closes its statement.
    let conn = connect_url(&format!("{}&statement_cache=0", server.url())).await;
    look_up_ids(conn.as_ref(), 5).await;
    assert_eq!(server.stats().prepared_created, 6);
    eventually("closing uncached statements", || {
        server.stats().prepared_closed == 5
    })
    .await;
}

#[tokio::test]
async fn stateless_servers_hand_out_a_new_handle_per_binding() {
    let server = server(Options {
        stateless_statements: true,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let mut statement = conn
        .prepare("SELECT id FROM numbers WHERE id BETWEEN $1 AND $2 ORDER BY id")
        .await
        .unwrap();
    for (lo, hi) in [(1_i64, 3_i64), (500, 501)] {
        let mut cursor = statement
            .execute(Params::from([Value::Int64(lo), Value::Int64(hi)]))
            .await
            .unwrap();
        // The old handle has no parameters: only the new one gives these rows.
        assert_eq!(ids(cursor.as_mut()).await, (lo..=hi).collect::<Vec<_>>());
    }
    assert_eq!(server.open_statements(), 0, "the server keeps nothing");
}

#[tokio::test]
async fn prepared_statements_tell_their_schemas_and_close() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut statement = conn
        .prepare("SELECT id, name FROM numbers WHERE id < $1")
        .await
        .unwrap();
    assert_eq!(
        statement.sql(),
        "SELECT id, name FROM numbers WHERE id < $1"
    );
    let parameters = statement.parameter_schema().unwrap();
    assert_eq!(parameters.fields().len(), 1);
    assert_eq!(parameters.field(0).name(), "$1");
    assert_eq!(
        parameters.field(0).data_type(),
        &arrow::datatypes::DataType::Int64
    );
    let result = statement.result_schema().unwrap();
    let names: Vec<&str> = result.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "name"]);
    assert_eq!(
        server.stats().get_flight_info,
        0,
        "schemas without executing"
    );
    assert_eq!(server.open_statements(), 1);

    for n in [3_i64, 5, 0] {
        let mut cursor = statement
            .execute(Params::from([Value::Int64(n)]))
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await.len(), n as usize);
    }
    statement.close().await.unwrap();
    statement.close().await.unwrap();
    assert_eq!(server.open_statements(), 0);
    assert_eq!(server.stats().prepared_closed, 1);
    let e = statement
        .execute(Params::from([Value::Int64(1)]))
        .await
        .unwrap_err();
    assert!(e.is_interface(), "{e}");

    // Dropping closes too, in the background.
    let dropped = conn.prepare("SELECT 1").await.unwrap();
    assert_eq!(server.open_statements(), 1);
    drop(dropped);
    eventually("closing a dropped statement", || {
        server.open_statements() == 0
    })
    .await;
}

#[tokio::test]
async fn the_result_schema_can_be_asked_with_get_schema() {
    let server = server(Options::default()).await;
    let conn = dbapi_flightsql::FlightSqlConnection::connect(&server.url())
        .await
        .unwrap();
    let statement = conn
        .prepare_flight("SELECT name, value FROM numbers WHERE id = $1")
        .await
        .unwrap();
    let schema = statement.fetch_result_schema().await.unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["name", "value"]);
    assert_eq!(server.stats().get_schema, 1);
}

async fn updates_give_row_counts(updates: bool) {
    let server = server_with_t(Options {
        updates,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let before = server.stats();
    cursor
        .execute(
            "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
            Params::None,
        )
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 3);
    assert!(cursor.description().is_none());
    let e = cursor.fetchone().await.unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(e.to_string().contains("produced no rows"), "{e}");
    cursor
        .execute("UPDATE t SET name = 'x' WHERE id >= 2", Params::None)
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 2);
    let n = cursor
        .execute_update(
            "DELETE FROM t WHERE id = $1",
            Params::from([Value::Int32(1)]),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = cursor
        .execute_update(
            "INSERT INTO t VALUES ($1, $2)",
            Params::from([Value::Int64(9), "nine".into()]),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count(conn.as_ref(), "t").await, 3);
    // A query still gives rows, and its rowcount counts them.
    cursor
        .execute("SELECT id FROM t ORDER BY id", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, [2, 3, 9]);
    assert_eq!(cursor.rowcount(), 3);
    let updates_tried = server.stats().updates - before.updates;
    if updates {
        assert_eq!(updates_tried, 4, "every change went through DoPut");
    } else {
        assert_eq!(updates_tried, 1, "the refusal is remembered");
    }
}

#[tokio::test]
async fn updates_give_row_counts_on_servers_with_doput_updates() {
    updates_give_row_counts(true).await;
}

#[tokio::test]
async fn updates_give_row_counts_on_servers_that_refuse_them() {
    updates_give_row_counts(false).await;
}

#[tokio::test]
async fn ddl_has_no_rows_and_an_unknown_count() {
    for updates in [true, false] {
        let server = server(Options {
            updates,
            ..Options::default()
        })
        .await;
        let conn = connect(&server).await;
        let mut cursor = conn.cursor().unwrap();
        cursor
            .execute("CREATE TABLE u AS SELECT id FROM numbers", Params::None)
            .await
            .unwrap();
        assert!(cursor.fetchone().await.is_err());
        cursor.execute("DROP TABLE u", Params::None).await.unwrap();
        assert_eq!(cursor.rowcount(), -1, "updates: {updates}");
    }
}

async fn executemany_counts_all_and_is_atomic(updates: bool) {
    let server = server_with_t(Options {
        updates,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let sets: Vec<Params> = (0..100_i64)
        .map(|i| Params::from([Value::Int64(i), Value::String(format!("n{i}"))]))
        .collect();
    let puts = server.stats().do_put;
    cursor
        .executemany("INSERT INTO t VALUES ($1, $2)", sets.into())
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 100);
    assert_eq!(count(conn.as_ref(), "t").await, 100);
    if updates {
        assert_eq!(
            server.stats().do_put - puts,
            2,
            "one DoPut for all the rows (and, the first time, one empty update asking \
             whether the server runs updates through DoPut)"
        );
        let puts = server.stats().do_put;
        cursor
            .executemany(
                "INSERT INTO t VALUES ($1, $2)",
                vec![Params::from([Value::Int64(500), "x".into()]); 3].into(),
            )
            .await
            .unwrap();
        assert_eq!(
            server.stats().do_put - puts,
            1,
            "one DoPut for all the rows"
        );
        cursor
            .execute("DELETE FROM t WHERE id = 500", Params::None)
            .await
            .unwrap();
        assert_eq!(cursor.rowcount(), 3);
    }
    // The second parameter set fails (division by zero): nothing of the first stays.
    let e = cursor
        .executemany(
            "INSERT INTO t (id) VALUES (100 / $1)",
            vec![
                Params::from([Value::Int64(1)]),
                Params::from([Value::Int64(0)]),
                Params::from([Value::Int64(2)]),
            ]
            .into(),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().to_lowercase().contains("divide by zero"),
        "{e}"
    );
    assert_eq!(count(conn.as_ref(), "t").await, 100);
    cursor
        .executemany("INSERT INTO t VALUES ($1, $2)", Vec::<Params>::new().into())
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 0);
}

#[tokio::test]
async fn executemany_counts_all_rows_and_is_atomic_with_doput_updates() {
    executemany_counts_all_and_is_atomic(true).await;
}

#[tokio::test]
async fn executemany_counts_all_rows_and_is_atomic_through_the_query_path() {
    executemany_counts_all_and_is_atomic(false).await;
}

#[tokio::test]
async fn arrow_batches_bind_as_parameters() {
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])) as ArrayRef,
        ),
    ])
    .unwrap();
    cursor
        .execute_arrow("INSERT INTO t VALUES ($1, $2)", batch.clone())
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 3);
    let mut statement = conn
        .prepare("SELECT id FROM t WHERE id = $1")
        .await
        .unwrap();
    let one = batch.project(&[0]).unwrap().slice(1, 1);
    let mut rows = statement.execute_arrow(one).await.unwrap();
    assert_eq!(ids(rows.as_mut()).await, [2]);
    let n = conn
        .prepare("DELETE FROM t WHERE id = $1")
        .await
        .unwrap()
        .executemany(
            vec![
                Params::from([Value::Int64(1)]),
                Params::from([Value::Int64(3)]),
            ]
            .into(),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(count(conn.as_ref(), "t").await, 1);
}

#[tokio::test]
async fn parameters_work_through_the_blocking_api() {
    let server = server_with_t(Options::default()).await;
    let url = server.url();
    tokio::task::spawn_blocking(move || {
        let conn = dbapi::blocking::Connection::connect_with(&crate::registry(), &url).unwrap();
        let mut cursor = conn.cursor().unwrap();
        let n = cursor
            .execute_update(
                "INSERT INTO t VALUES ($1, $2)",
                [Value::Int64(5), "five".into()],
            )
            .unwrap();
        assert_eq!(n, 1);
        cursor
            .execute("SELECT name FROM t WHERE id = $1", [Value::Int64(5)])
            .unwrap();
        let names: Vec<String> = cursor.map(|r| r.unwrap().get("name").unwrap()).collect();
        assert_eq!(names, ["five"]);
        let mut statement = conn.prepare("SELECT id FROM t WHERE name = $1").unwrap();
        assert_eq!(statement.parameter_schema().unwrap().fields().len(), 1);
        let mut rows = statement.execute([Value::from("five")]).unwrap();
        assert_eq!(
            rows.fetchone().unwrap().unwrap().get::<i64, _>(0).unwrap(),
            5
        );
        let n = statement
            .executemany(vec![Params::from([Value::from("x")])])
            .unwrap();
        assert_eq!(n, -1, "a query has no row count");
        statement.close().unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn statement_objects_and_errors_never_show_the_token() {
    let token = "s3cr3t-statement-token";
    let server = server_with_t(Options::default()).await;
    server.set_options(|o| o.auth = dbapi_flightsql_server::Auth::Bearer(token.into()));
    let conn = connect_url(&format!("{}&token={token}", server.url())).await;
    let mut cursor = conn.cursor().unwrap();
    let e = cursor
        .execute(
            "SELECT * FROM t WHERE id = $1",
            Params::from([Value::Float64(0.5)]),
        )
        .await
        .unwrap_err();
    let statement = conn
        .prepare("SELECT * FROM nowhere WHERE id = $1")
        .await
        .unwrap_err();
    let prepared = conn.prepare("SELECT * FROM t WHERE id = $1").await.unwrap();
    conn.set_autocommit(false).await.unwrap();
    cursor
        .execute("INSERT INTO t VALUES (1, 'a')", Params::None)
        .await
        .unwrap();
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        statement.to_string(),
        format!("{statement:?}"),
        format!("{prepared:?}"),
        format!("{cursor:?}"),
        format!("{conn:?}"),
    ] {
        assert!(!shown.contains(token), "{shown}");
    }
    assert!(server.stats().with_authorization > 0);
}

/// Servers imitated by the test server's modes: each must work, not only the bundled one.
mod real_servers {
    use dbapi::{Params, Value};
    use dbapi_flightsql_server::Options;

    use super::{count, server_with_t};
    use crate::{connect, ids};

    #[tokio::test]
    async fn a_server_matching_parameters_by_name_without_the_sigil() {
        // InfluxDB 3: no parameter schema; `$1` takes the column named `1`.
        let server = server_with_t(Options {
            parameters_by_name: true,
            ..Options::default()
        })
        .await;
        let conn = connect(&server).await;
        let mut cursor = conn.cursor().unwrap();
        cursor
            .executemany(
                "INSERT INTO t VALUES ($1, $2)",
                vec![
                    Params::from([Value::Int64(1), "a".into()]),
                    Params::from([Value::Int64(2), "b".into()]),
                ]
                .into(),
            )
            .await
            .unwrap();
        assert_eq!(cursor.rowcount(), 2);
        cursor
            .execute(
                "SELECT id FROM t WHERE id > $1 ORDER BY id",
                Params::from([Value::Int64(0)]),
            )
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [1, 2]);
        cursor
            .execute(
                "SELECT id FROM t WHERE name = $name",
                Params::Named(vec![("name".into(), "b".into())]),
            )
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [2]);
    }

    #[tokio::test]
    async fn a_server_taking_one_parameter_row_per_execution() {
        let server = server_with_t(Options {
            single_parameter_row: true,
            ..Options::default()
        })
        .await;
        let conn = connect(&server).await;
        let mut cursor = conn.cursor().unwrap();
        for round in 0..2_i64 {
            let before = server.stats();
            let sets = dbapi::ParamSets::new(
                (0..5).map(|i| Params::from([Value::Int64(round * 10 + i), "x".into()])),
            );
            cursor
                .executemany("INSERT INTO t VALUES ($1, $2)", sets)
                .await
                .unwrap();
            assert_eq!(cursor.rowcount(), 5);
            let stats = server.stats();
            // One prepared statement per connection, whatever the number of executions.
            assert_eq!(stats.prepared_created, 1);
            if round == 1 {
                assert_eq!(
                    stats.updates - before.updates,
                    5,
                    "the refusal is remembered: one execution per row at once"
                );
            }
        }
        assert_eq!(count(conn.as_ref(), "t").await, 10);
    }

    #[tokio::test]
    async fn a_server_that_answers_prepared_updates_without_running_them() {
        // It refuses CommandStatementUpdate and answers CommandPreparedStatementUpdate with
        // -1, running nothing: prepared updates must go through the query path too.
        let server = server_with_t(Options {
            prepared_updates_ignored: true,
            ..Options::default()
        })
        .await;
        let conn = connect(&server).await;
        let mut cursor = conn.cursor().unwrap();
        cursor
            .execute_update(
                "INSERT INTO t VALUES ($1, 'a'), ($2, 'b'), ($3, 'c')",
                Params::from([Value::Int64(1), Value::Int64(2), Value::Int64(3)]),
            )
            .await
            .unwrap();
        assert_eq!(cursor.rowcount(), 3);
        let n = cursor
            .execute_update(
                "UPDATE t SET name = 'y' WHERE id > $1",
                Params::from([Value::Int64(1)]),
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        cursor
            .execute(
                "SELECT id FROM t WHERE name = 'y' ORDER BY id",
                Params::None,
            )
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [2, 3]);
    }
}

#[tokio::test]
async fn executemany_sends_an_iterator_in_chunks_and_sums_the_counts() {
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let insert = "INSERT INTO t VALUES ($1, $2)";
    // Learn once whether the server runs updates through DoPut (one empty update).
    cursor
        .executemany(insert, vec![dbapi::params![0_i64, "x"]].into())
        .await
        .unwrap();
    let puts = server.stats().do_put;
    let sets =
        dbapi::ParamSets::new((1..=10_i64).map(|i| dbapi::params![i, "x"])).with_chunk_rows(3);
    cursor.executemany(insert, sets).await.unwrap();
    assert_eq!(cursor.rowcount(), 10);
    assert_eq!(server.stats().do_put - puts, 4, "chunks of 3, 3, 3 and 1");
    assert_eq!(count(conn.as_ref(), "t").await, 11);
    // A prepared statement chunks the same way, on one handle.
    let mut statement = conn.prepare("DELETE FROM t WHERE id = $1").await.unwrap();
    let puts = server.stats().do_put;
    let n = statement
        .executemany(
            dbapi::ParamSets::new((1..=5_i64).map(|i| dbapi::params![i])).with_chunk_rows(2),
        )
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(server.stats().do_put - puts, 3);
    // A failing chunk is named, and the chunks before it ran.
    let e = cursor
        .executemany(
            "INSERT INTO t (id) VALUES (100 / $1)",
            dbapi::ParamSets::new([1_i64, 2, 0, 4].map(|i| dbapi::params![i])).with_chunk_rows(2),
        )
        .await
        .unwrap_err();
    let shown = e.report().to_string();
    assert!(
        shown.contains("parameter sets 2 to 3 (the 2 before them ran)"),
        "{shown}"
    );
    assert_eq!(count(conn.as_ref(), "t").await, 8);
}

#[tokio::test]
async fn serde_structs_and_tuples_bind_as_parameters() {
    use dbapi::CursorExt;
    #[derive(serde::Serialize)]
    struct Row<'a> {
        id: i64,
        name: Option<&'a str>,
    }
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    // A struct binds by name, whatever the order of the placeholders. (The bundled
    // server's planner takes named placeholders in `INSERT … SELECT`, not in `VALUES`.)
    let one = Params::from_serialize(&Row {
        id: 1,
        name: Some("one"),
    })
    .unwrap();
    cursor
        .execute("INSERT INTO t (name, id) SELECT $name, $id", one)
        .await
        .unwrap();
    // Many structs stream through executemany, a chunk at a time.
    let puts = server.stats().do_put;
    let rows = (2..=6_i64).map(|id| Row { id, name: None });
    cursor
        .executemany(
            "INSERT INTO t SELECT $id, $name",
            dbapi::ParamSets::from_serialize(rows).with_chunk_rows(2),
        )
        .await
        .unwrap();
    assert_eq!(cursor.rowcount(), 5);
    assert!(server.stats().do_put - puts >= 3, "chunks of 2, 2 and 1");
    // A tuple binds by position.
    cursor
        .execute(
            "SELECT id, name FROM t WHERE id < $1 ORDER BY id",
            Params::from_serialize(&(3_i64,)).unwrap(),
        )
        .await
        .unwrap();
    let got: Vec<(i64, Option<String>)> = cursor.fetchall_typed().await.unwrap();
    assert_eq!(got, [(1, Some("one".to_owned())), (2, None)]);
    // A set that cannot be serialized ends the run with its error, after the chunks before it.
    let sets = dbapi::ParamSets::from_serialize(
        (10..15_u128).map(|i| if i == 13 { (u128::MAX,) } else { (i,) }),
    )
    .with_chunk_rows(2);
    let e = cursor
        .executemany("INSERT INTO t (id) VALUES ($1)", sets)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming);
    let shown = e.to_string();
    assert!(
        shown.contains("after 2 parameter sets, which ran"),
        "{shown}"
    );
    assert!(shown.contains("out of the range"), "{shown}");
    assert_eq!(count(conn.as_ref(), "t").await, 8);
}

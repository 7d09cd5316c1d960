//! Integration tests: the Flight SQL driver against the bundled Flight SQL server over gRPC
//! on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use dbapi::{Connection, Cursor, Params, Registry};
use dbapi_flightsql::FlightSqlDriver;
use dbapi_flightsql_server::{Options, Server, generated};

mod adbc;
mod auth;
mod blocking;
mod cancel;
mod client;
mod conformance;
mod cursor;
mod datafusion;
mod deadlines;
mod endpoints;
mod errors;
mod failover;
mod faults;
mod guards;
mod hostile;
mod influxdb;
mod ingest;
mod load;
mod metadata;
mod partitions;
mod policy;
mod pool;
mod python;
mod retries;
mod statements;
mod streams;
mod telemetry;
mod transactions;
mod transport;
mod typed;
mod types;

/// Rows in the `numbers` table: 1000 rows in batches of 100.
pub const NUMBERS: usize = 1000;

pub fn registry() -> Registry {
    Registry::new().with(FlightSqlDriver)
}

/// A server with the demo data and `numbers` (ids 0..1000, batches of 100).
pub async fn server(options: Options) -> Server {
    Server::builder()
        .demo()
        .table("numbers", generated(NUMBERS, 100).unwrap())
        .options(options)
        .start()
        .await
        .unwrap()
}

/// [`server`] with results split into `endpoints` endpoints.
pub async fn server_with_endpoints(endpoints: usize) -> Server {
    server(Options {
        endpoints,
        ..Options::default()
    })
    .await
}

pub async fn connect(server: &Server) -> Box<dyn Connection> {
    connect_url(&server.url()).await
}

pub async fn connect_url(url: &str) -> Box<dyn Connection> {
    registry().connect(url).await.unwrap()
}

pub async fn execute(conn: &dyn Connection, sql: &str) -> Box<dyn Cursor> {
    let mut cursor = conn.cursor().unwrap();
    cursor.execute(sql, Params::None).await.unwrap();
    cursor
}

/// The error of connecting to `url`, or, when connecting succeeds (channels connect
/// lazily), of its first statement.
pub async fn first_error(url: &str) -> dbapi::Error {
    statement_error(url, "SELECT 1").await
}

/// The error of connecting to `url`, or, when connecting succeeds, of running `sql` on it.
pub async fn statement_error(url: &str, sql: &str) -> dbapi::Error {
    match registry().connect(url).await {
        Err(e) => e,
        Ok(conn) => conn
            .cursor()
            .unwrap()
            .execute(sql, Params::None)
            .await
            .unwrap_err(),
    }
}

/// Options of a server breaking answers and streams as asked.
pub fn faulty(
    answers: dbapi_flightsql_server::AnswerFaults,
    streams: dbapi_flightsql_server::StreamFaults,
) -> Options {
    Options {
        faults: dbapi_flightsql_server::Faults {
            answers,
            streams,
            ..Default::default()
        },
        ..Options::default()
    }
}

/// The column names of the cursor's result.
pub fn column_names(cursor: &dyn Cursor) -> Vec<String> {
    cursor
        .description()
        .expect("a description after execute")
        .iter()
        .map(|c| c.name().to_owned())
        .collect()
}

/// The `id` column of every remaining row.
pub async fn ids(cursor: &mut dyn Cursor) -> Vec<i64> {
    cursor
        .fetchall()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>("id").unwrap())
        .collect()
}

pub use dbapi_tests::url_encode;

/// Checks that no error of the driver repeats its source's text (third-party errors often
/// do: the report skips those), and that the report prints each cause once.
pub fn assert_causes_once(e: &dbapi::Error) {
    fn text(e: &(dyn std::error::Error + 'static)) -> String {
        match e.downcast_ref::<dbapi::Error>() {
            Some(d) => d.message().to_owned(),
            None => e.to_string(),
        }
    }
    let mut current: &(dyn std::error::Error + 'static) = e;
    while let Some(source) = current.source() {
        if current.is::<dbapi::Error>() {
            let (outer, inner) = (text(current), text(source));
            assert!(
                inner.trim().is_empty() || !outer.contains(inner.trim()),
                "{outer:?} repeats its source {inner:?}"
            );
        }
        current = source;
    }
    let lines = e.report().lines();
    for (i, line) in lines.iter().enumerate() {
        assert!(
            lines[..i].iter().all(|l| !l.contains(line.as_str())),
            "{lines:?}"
        );
    }
}

pub fn all_ids() -> Vec<i64> {
    (0..NUMBERS as i64).collect()
}

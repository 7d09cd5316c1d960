//! Typed rows: query the bundled server and read each row straight into a struct with serde,
//! with parameters from a tuple.
//!
//! Run with `cargo run --example typed_rows`.

use chrono::{DateTime, Utc};
use dbapi::CursorExt;
use dbapi_flightsql_server::Server;
use serde::Deserialize;

/// One reading; `humidity` may be NULL.
#[derive(Debug, Deserialize)]
struct Reading {
    time: DateTime<Utc>,
    sensor: String,
    temperature: f64,
    humidity: Option<f64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = Server::builder().demo().start().await?;
    dbapi_flightsql::register();
    let conn = dbapi::connect(&server.url()).await?;

    let mut cursor = conn.cursor()?;
    cursor
        .execute(
            "SELECT time, sensor, temperature, humidity FROM readings \
             WHERE sensor = $1 AND temperature > $2 ORDER BY time",
            ("s1", 20.0).into(),
        )
        .await?;
    let readings: Vec<Reading> = cursor.fetchall_as().await?;
    for r in &readings {
        let humidity = r.humidity.map_or("-".to_owned(), |h| format!("{h:.0}%"));
        println!("{} {} {:.1} °C {humidity}", r.time, r.sensor, r.temperature);
    }
    println!("({} readings)", readings.len());

    // Tuples read by position; a single column is a value.
    cursor
        .execute(
            "SELECT sensor, count(*) FROM readings GROUP BY sensor ORDER BY sensor",
            dbapi::Params::None,
        )
        .await?;
    let counts: Vec<(String, i64)> = cursor.fetchall_as().await?;
    println!("{counts:?}");
    Ok(())
}

//! Rows and values: read columns in place with `row.get`, borrowing text from the Arrow
//! buffers, or as dynamically typed `Value`s when the columns are not known in advance.
//!
//! Run with `cargo run --example values`.

use dbapi::{Params, Value};
use dbapi_flightsql_server::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = Server::builder().demo().start().await?;
    dbapi_flightsql::register();
    let conn = dbapi::connect(&server.url()).await?;

    let mut cursor = conn.cursor()?;
    cursor
        .execute(
            "SELECT sensor, location, temperature, humidity FROM readings LIMIT 5",
            Params::None,
        )
        .await?;
    while let Some(row) = cursor.fetchone().await? {
        // Typed, in place: `&str` borrows from the batch the row is a view of.
        let sensor: &str = row.get("sensor")?;
        let temperature: f64 = row.get("temperature")?;
        let humidity: Option<f64> = row.get("humidity")?;
        println!("{sensor}: {temperature} °C, humidity {humidity:?}");
        // Dynamically typed: every column as a `Value`.
        let values: Vec<Value> = row.values()?;
        let shown: Vec<String> = values.iter().map(Value::to_string).collect();
        println!("  values: {}", shown.join(" | "));
    }
    Ok(())
}

//! Quick start: start the bundled Flight SQL server in-process, connect through the driver
//! registry with a URL, run a query and print the rows.
//!
//! Run with `cargo run --example quickstart`.

use dbapi::{Params, Value};
use dbapi_flightsql_server::{Options, Server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // A server that, like InfluxDB 3, wants a `database` header, and splits every result
    // into two endpoints.
    let server = Server::builder()
        .demo()
        .options(Options {
            endpoints: 2,
            required_header: Some(("database".into(), "sensors".into())),
            ..Options::default()
        })
        .start()
        .await?;

    dbapi_flightsql::register();
    let url = format!("flightsql://{}/sensors?tls=false", server.addr());
    println!("connecting to {url}");
    let conn = dbapi::connect(&url).await?;

    let mut cursor = conn.cursor()?;
    cursor
        .execute(
            "SELECT sensor, location, count(*) AS readings, \
                    round(avg(temperature), 2) AS avg_temperature, \
                    max(time) AS last_reading \
             FROM readings GROUP BY sensor, location ORDER BY sensor",
            Params::None,
        )
        .await?;

    let header: Vec<&str> = cursor
        .description()
        .unwrap_or_default()
        .iter()
        .map(|c| c.name())
        .collect();
    println!("{}", header.join(" | "));
    while let Some(row) = cursor.fetchone().await? {
        let cells: Vec<String> = row.values()?.iter().map(Value::to_string).collect();
        println!("{}", cells.join(" | "));
    }
    println!("({} rows)", cursor.rowcount());
    Ok(())
}

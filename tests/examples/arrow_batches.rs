//! Arrow record batches: the zero-copy path, for analytics and for handing results to other
//! Arrow tools.
//!
//! Run with `cargo run --example arrow_batches`.

use arrow::array::AsArray;
use arrow::datatypes::Float64Type;
use dbapi::Params;
use dbapi_flightsql_server::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = Server::builder().demo().start().await?;
    dbapi_flightsql::register();
    let conn = dbapi::connect(&server.url()).await?;

    let mut cursor = conn.cursor()?;
    cursor
        .execute("SELECT sensor, temperature FROM readings", Params::None)
        .await?;
    let (mut rows, mut sum) = (0, 0.0);
    while let Some(batch) = cursor.fetch_batch().await? {
        let temperature = batch.column(1).as_primitive::<Float64Type>();
        sum += temperature.values().iter().sum::<f64>();
        rows += batch.num_rows();
    }
    println!("{rows} rows, mean temperature {:.2} °C", sum / rows as f64);

    // The whole result, printed by Arrow's own formatter.
    cursor
        .execute(
            "SELECT sensor, max(temperature) AS max FROM readings GROUP BY sensor ORDER BY sensor",
            Params::None,
        )
        .await?;
    let batches = cursor.fetch_all_batches().await?;
    println!("{}", arrow::util::pretty::pretty_format_batches(&batches)?);
    Ok(())
}

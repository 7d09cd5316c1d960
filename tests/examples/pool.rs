//! A connection pool shared by many tasks, as a server's request handlers would share it.
//!
//! Run with `cargo run --example pool`.

use dbapi::CursorExt;
use dbapi::pool::{Manager, Pool};
use dbapi_flightsql_server::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = Server::builder().demo().start().await?;
    dbapi_flightsql::register();
    let pool = Pool::builder(Manager::new(server.url()))
        .max_size(4)
        .build()?;

    let tasks: Vec<_> = ["s1", "s2", "s3", "s4"]
        .into_iter()
        .cycle()
        .take(32)
        .map(|sensor| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let conn = pool.get().await?;
                let mut cursor = conn.cursor()?;
                cursor
                    .execute(
                        "SELECT max(temperature) FROM readings WHERE sensor = $1",
                        (sensor,).into(),
                    )
                    .await?;
                let max: Option<f64> = cursor.fetchone_as().await?;
                Ok::<_, dbapi::Error>((sensor, max))
            })
        })
        .collect();
    for task in tasks {
        let (sensor, max) = task.await??;
        println!("{sensor}: max {max:?}");
    }
    println!("{:?}", pool.status());
    Ok(())
}

//! Any [ADBC](https://arrow.apache.org/adbc/) driver — SQLite, PostgreSQL, Snowflake, DuckDB,
//! BigQuery, Flight SQL, ... — behind the [`dbapi`] traits.
//!
//! Connect with an `adbc:` URL naming the driver and giving its options (the reference is
//! `docs/url.md`): `adbc:sqlite?uri=file:/tmp/app.db`,
//! `adbc:postgresql?uri=postgresql://me@localhost:5432/app`, or
//! `adbc:/opt/adbc/libadbc_driver_sqlite.so?uri=:memory:`. A name is found as ADBC driver
//! managers find it: a manifest `NAME.toml` on `ADBC_DRIVER_PATH` or in the user's and the
//! system's ADBC driver folders, else a library the system loader finds. Loading a driver runs
//! its code, so a URL loads drivers by name only unless the application allows absolute paths
//! and `entrypoint=` ([`AdbcDriver::allow_paths`], [`AdbcDriver::allow_entrypoints`]); a
//! relative path is never loaded. The driver's C library
//! is called off the async executor (blocking threads, or the fetching task's worker through
//! `block_in_place` on a multi-threaded runtime), one call at a time per connection; result
//! batches are passed on as the driver exported them, without copying.
//!
//! ```
//! use dbapi::{Cursor, Params, params};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let drivers = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/adbc/drivers");
//! # // SAFETY: the example's process has no other thread yet.
//! # unsafe { std::env::set_var("ADBC_DRIVER_PATH", drivers) };
//! // The SQLite driver's manifest (sqlite.toml) is on ADBC_DRIVER_PATH.
//! dbapi_adbc::register();
//! let conn = dbapi::connect("adbc:sqlite?uri=:memory:").await?;
//! let mut cursor = conn.cursor()?;
//! cursor.execute("CREATE TABLE t (id INTEGER, name TEXT)", Params::None).await?;
//! cursor.executemany("INSERT INTO t VALUES (?, ?)", vec![params![1, "a"], params![2, "b"]].into()).await?;
//! assert_eq!(cursor.rowcount(), 2);
//! cursor.execute("SELECT name FROM t WHERE id > ?", params![1]).await?;
//! let row = cursor.fetchone().await?.expect("one row");
//! assert_eq!(row.get::<String, _>("name")?, "b");
//! # Ok(())
//! # }
//! ```
//!
//! Savepoints are SQL statements (`SAVEPOINT "name"`), as ADBC has no call for them; keys
//! other than primary keys are not listed (ADBC's `GetObjects` does not give their rules).
//! Partitioned results ([`dbapi::Connection::execute_partitions`]) are the driver's own
//! partitions where it has them (the Flight SQL driver's: one per endpoint), else one part
//! holding the query (without parameters), run by the connection that reads it.

mod catalog;
mod config;
mod connection;
mod cursor;
mod driver;
mod error;
mod ingest;
mod native;
mod objects;
mod partitions;
mod result;
mod slot;
mod statement;

pub use crate::config::Config;
pub use crate::connection::AdbcConnection;
pub use crate::cursor::AdbcCursor;
pub use crate::driver::{AdbcDriver, register, register_in};
pub use crate::statement::AdbcPrepared;

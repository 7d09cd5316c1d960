//! The `dbapi` Flight SQL driver as an [ADBC](https://arrow.apache.org/adbc/) driver: a C
//! library (`libadbc_driver_dbapi_flightsql.so`, entry point `AdbcDriverDbapiFlightsqlInit`)
//! that every ADBC driver manager loads — Python's `adbc_driver_manager` (and through it
//! pandas and polars), R, Go, C++, Java, Rust.
//!
//! Database options: `uri` (a Flight SQL URL: `grpc://host:port`, `grpc+tls://...`,
//! `flightsql://...`), `username`, `password`, and any key of the driver's URLs (`token`,
//! `database`, `header.NAME`, `tls_root_certs`, ... — `docs/url.md`). Statements run SQL with
//! parameters (`bind`, `bind_stream`), prepared or not, updates with row counts, bulk ingest
//! (`adbc.ingest.target_table`, `adbc.ingest.mode`), and results read lazily through the
//! driver's cursors; `execute_partitions` gives one partition per Flight endpoint, which
//! `read_partition` reads at its locations. Metadata: `GetInfo`, `GetObjects` at every depth,
//! `GetTableSchema`, `GetTableTypes`; transactions through autocommit, commit and rollback;
//! cancellation of a running statement. Errors carry the status of their PEP 249 kind, an
//! SQLSTATE, and the gRPC status code as the vendor code.
//!
//! ```
//! use adbc_core::{Connection, Database, Driver, Statement};
//! use adbc_core::options::{OptionDatabase, OptionValue};
//! use adbc_driver_dbapi_flightsql::FlightSqlAdbcDriver;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let rt = tokio::runtime::Runtime::new()?;
//! # let server = rt.block_on(dbapi_flightsql_server::Server::builder().demo().start())?;
//! # let uri = server.url();
//! // uri is e.g. "flightsql://127.0.0.1:50051?tls=false"
//! let mut driver = FlightSqlAdbcDriver;
//! let database = driver.new_database_with_opts([(OptionDatabase::Uri, OptionValue::String(uri))])?;
//! let mut connection = database.new_connection()?;
//! let mut statement = connection.new_statement()?;
//! statement.set_sql_query("SELECT count(*) AS n FROM readings")?;
//! let batches: Vec<_> = statement.execute()?.collect::<Result<_, _>>()?;
//! assert_eq!(batches[0].num_rows(), 1);
//! # Ok(())
//! # }
//! ```

mod answers;
mod driver;
mod error;
mod options;

pub use crate::driver::{
    FlightSqlAdbcConnection, FlightSqlAdbcDatabase, FlightSqlAdbcDriver, FlightSqlAdbcStatement,
};

// The C entry points: `AdbcDriverDbapiFlightsqlInit` and the fallback `AdbcDriverInit`.
#[allow(unsafe_code, missing_docs)]
mod export {
    adbc_ffi::export_driver!(AdbcDriverDbapiFlightsqlInit, crate::FlightSqlAdbcDriver);
}

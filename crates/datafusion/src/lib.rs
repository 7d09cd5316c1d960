//! Any [`dbapi`] connection's tables in DataFusion SQL: a Flight SQL server, an ADBC
//! database (SQLite, PostgreSQL, ...), joined with each other and with local data.
//!
//! ```
//! use std::sync::Arc;
//!
//! use datafusion::prelude::SessionContext;
//! use dbapi::metadata::TableRef;
//! use dbapi_datafusion::DbapiTable;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let server = dbapi_flightsql_server::Server::builder().demo().start().await?;
//! # let url = server.url();
//! // url is e.g. "flightsql://127.0.0.1:50051?tls=false"
//! dbapi_flightsql::register();
//! let conn: Arc<dyn dbapi::Connection> = Arc::from(dbapi::connect(&url).await?);
//! let readings = DbapiTable::new(conn, TableRef::new("readings").in_schema("public")).await?;
//! let ctx = SessionContext::new();
//! ctx.register_table("readings", Arc::new(readings))?;
//! // The column, the filter and the limit go to the server in one statement.
//! let batches = ctx
//!     .sql("SELECT sensor FROM readings WHERE sensor = 's1' LIMIT 3")
//!     .await?
//!     .collect()
//!     .await?;
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
//! # Ok(()) }
//! ```
//!
//! [`DbapiTable`] is the `TableProvider`; [`DbapiScan`] its execution plan, which runs the
//! remote statement when executed and reads its result in parts
//! ([`dbapi::Connection::execute_partitions`]) spread over DataFusion's partitions;
//! [`DbapiTableFactory`] declares remote tables in SQL (`CREATE EXTERNAL TABLE … STORED AS
//! DBAPI`); [`DbapiCatalog`] makes a whole remote catalog a DataFusion catalog.

mod catalog;
mod exec;
mod factory;
mod federation;
mod sql;
mod table;

pub use crate::catalog::{DEFAULT_LISTING_TTL, DbapiCatalog};
pub use crate::exec::{DbapiScan, RemoteParts, Totals};
pub use crate::factory::DbapiTableFactory;
pub use crate::federation::{Federation, FederationPlanner, RemoteQuery, federate};
pub use crate::sql::Dialect;
pub use crate::table::DbapiTable;

//! `dbapi` tables in a [Ballista](https://datafusion.apache.org/ballista/) cluster: the table
//! and its scan serialized, the scheduler running the remote statement once, each executor
//! reading the result's parts at their locations.
//!
//! ```
//! use std::sync::Arc;
//!
//! use ballista_core::extension::SessionConfigExt;
//! use datafusion::prelude::SessionConfig;
//! use dbapi::metadata::TableRef;
//! use dbapi_ballista::DbapiCodec;
//! use dbapi_datafusion::DbapiTable;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let server = dbapi_flightsql_server::Server::builder().demo().start().await?;
//! # let url = server.url();
//! dbapi_flightsql::register();
//! let conn: Arc<dyn dbapi::Connection> = Arc::from(dbapi::connect(&url).await?);
//! // Every process of the cluster (client, scheduler, executors) builds its codec with its
//! // own connection under the same source name: plans name the source, never a URL or a
//! // credential.
//! let codec = DbapiCodec::new().with_source("sensors", Arc::clone(&conn));
//! let config = codec.configure(SessionConfig::new_with_ballista());
//! let logical = config.ballista_logical_extension_codec();
//! assert!((logical.as_ref() as &dyn std::any::Any).is::<DbapiCodec>());
//! let readings = DbapiTable::new(conn, TableRef::new("readings").in_schema("public")).await?;
//! // A client registers `readings` in a `SessionContext::remote_with_state` built from
//! // `config`; the scheduler and executors take their state from the same kind of config.
//! # drop(readings);
//! # Ok(()) }
//! ```
//!
//! How a query runs (`docs/datafusion.md`, "Ballista"):
//! - the client serializes its logical plan: a [`DbapiTable`](dbapi_datafusion::DbapiTable) as its source name, table and
//!   dialect ([`DbapiCodec`] as the `LogicalExtensionCodec`); the schema travels with the plan;
//! - the scheduler decodes the table on its own connection to that source, with
//!   [`DbapiTable::with_parts_at_planning`](dbapi_datafusion::DbapiTable::with_parts_at_planning): planning runs the statement once
//!   (`execute_partitions`), one partition per part of the result;
//! - its scan is a [`DbapiPartsExec`] over an in-memory source holding the parts, one per
//!   partition: Ballista gives each task its slice of that source (as it does with files),
//!   and the reader travels with its statement and schema ([`DbapiCodec`] as the
//!   `PhysicalExtensionCodec`); each executor reads the parts of its tasks
//!   ([`dbapi::Connection::read_partition`]) on its own connection, at the parts' locations,
//!   under its own credentials.
//!
//! - federated parts of a query ([`dbapi_datafusion::RemoteQuery`], from a client whose
//!   session has the [`Federation`](dbapi_datafusion::Federation) rule) travel as their
//!   source name and statement; the scheduler's [`ClusterPlanner`] runs each once when it
//!   plans and hands its parts to the tasks as it does a table's (in one partition, in
//!   order, when the statement sorts).
//!
//! Credentials never travel: a plan names a source, and each process resolves the name to a
//! connection it opened itself. A source missing in a process is an error naming it.

mod codec;
mod parts;

pub use crate::codec::DbapiCodec;
pub use crate::parts::{ClusterPlanner, DbapiPartsExec};

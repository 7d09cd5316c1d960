//! A Flight SQL server on DataFusion, for tests, examples and benchmarks.
//!
//! It executes real SQL over real gRPC, and can be told how to shape its answers: split each
//! result into N endpoints, put endpoints on other instances (replicas) or behind the
//! reuse-connection location, set `ordered`, require a bearer token, a Basic handshake or a
//! header, delay streams; and it counts the RPCs it receives.
//!
//! Beyond queries it serves the statement half of Flight SQL: prepared statements with `$1` /
//! `$name` placeholders (stateful or stateless handles), updates through `DoPut` (or refused as
//! `UNIMPLEMENTED`, as DataFusion-based servers do), transactions and savepoints on private
//! copies of the tables, bulk ingest, `CancelFlightInfo` / `CancelQuery`, `PollFlightInfo`
//! that reveals endpoints over time, `GetSchema` and `GetSqlInfo`.
//!
//! Metadata commands answer from DataFusion's catalogs (every `CommandGet*`, with keys
//! declared through the builder), and session options (`catalog`, `schema`, or any other
//! name) live in sessions named by the `arrow_flight_session_id` cookie. Options imitate
//! servers that list tables only per catalog, leave commands unimplemented or order the
//! `SqlInfo` union differently. An HTTP instance can serve endpoints at `http(s)://`
//! locations (a GET answering an Arrow IPC stream).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), dbapi_flightsql_server::BoxError> {
//! use dbapi_flightsql_server::{Options, Server};
//!
//! let server = Server::builder()
//!     .demo()
//!     .options(Options { endpoints: 3, ..Options::default() })
//!     .start()
//!     .await?;
//! println!("serving on {}", server.url());
//! assert_eq!(server.stats().do_get, 0);
//! # Ok(()) }
//! ```

pub use crate::catalog::{ForeignKey, PrimaryKey, TableName};
pub use crate::data::{WIDE_COLUMNS, demo_readings, generated, wide};
pub use crate::faults::{AnswerFaults, Corruption, Faults, HttpFaults, StreamFaults};
pub use crate::http::HttpReplica;
pub use crate::identity::{BoxError, TlsIdentity};
pub use crate::options::{Auth, Locations, Options, REUSE_CONNECTION};
pub use crate::server::{CompressionEncoding, Server, ServerBuilder};
pub use crate::service::{Stats, overrides};

mod catalog;
mod data;
mod engine;
mod faults;
pub mod hostile;
mod http;
mod identity;
mod influx;
mod options;
mod server;
mod service;
mod ticket_urls;

//! The low-level client as a connection lends it: every call that leaves the connection's
//! state alone.

use std::collections::BTreeMap;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_flight::{FlightEndpoint, FlightInfo, Ticket};
use bytes::Bytes;
use dbapi::metadata::{InfoValue, MetadataRequest};
use dbapi::{IngestMode, Result};
use futures::stream::BoxStream;

use crate::client::{CancelOutcome, FlightSqlClient, PreparedHandle, SessionValue};
use crate::config::Config;
use crate::decode::FlightStreamReader;

/// The low-level client of a [`FlightSqlConnection`](crate::FlightSqlConnection), from
/// [`FlightSqlConnection::client`](crate::FlightSqlConnection::client): every call of
/// [`FlightSqlClient`] except those that change what the connection keeps track of —
/// transactions and savepoints, setting session options, closing the session or the client.
/// Those go through the connection ([`dbapi::Connection::set_autocommit`],
/// [`FlightSqlConnection::set_session_options`](crate::FlightSqlConnection::set_session_options),
/// ...), so that its transaction rules hold and a pool's reset undoes them. A
/// [`FlightSqlClient`] connected on its own keeps every call.
///
/// Statements run here run outside the connection's transaction unless given a
/// transaction handle (`execute_in`, `prepare`, `execute_update`, `ingest`).
///
/// ```compile_fail
/// # async fn f(conn: dbapi_flightsql::FlightSqlConnection) {
/// // Transactions go through the connection, not around it.
/// let _ = conn.client().begin_transaction().await;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ConnectionClient<'a> {
    client: &'a FlightSqlClient,
}

impl<'a> ConnectionClient<'a> {
    pub(crate) fn new(client: &'a FlightSqlClient) -> ConnectionClient<'a> {
        ConnectionClient { client }
    }
}

/// Forwards calls to the client, each documented by a link to the call it forwards to.
macro_rules! forward {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl<'a> ConnectionClient<'a> {
            $(
                #[doc = concat!("As [`FlightSqlClient::", stringify!($name), "`].")]
                ///
                /// # Errors
                #[doc = concat!("As [`FlightSqlClient::", stringify!($name), "`].")]
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    self.client.$name($($arg),*).await
                }
            )*
        }
    };
}

forward! {
    fn execute(&self, sql: &str) -> Result<FlightInfo>;
    fn execute_in(&self, sql: &str, transaction: Option<&Bytes>) -> Result<FlightInfo>;
    fn do_get(&self, ticket: &Ticket) -> Result<FlightStreamReader>;
    fn do_get_endpoint(&self, endpoint: &FlightEndpoint) -> Result<FlightStreamReader>;
    fn metadata(&self, request: &MetadataRequest) -> Result<FlightInfo>;
    fn sql_info(&self, ids: &[u32]) -> Result<BTreeMap<u32, InfoValue>>;
    fn session_options(&self) -> Result<BTreeMap<String, SessionValue>>;
    fn prepare(&self, sql: &str, transaction: Option<&Bytes>) -> Result<PreparedHandle>;
    fn bind(&self, statement: &mut PreparedHandle, params: RecordBatch) -> Result<()>;
    fn execute_prepared(&self, statement: &PreparedHandle) -> Result<FlightInfo>;
    fn prepared_schema(&self, statement: &PreparedHandle) -> Result<SchemaRef>;
    fn execute_prepared_update(
        &self,
        statement: &PreparedHandle,
        params: Option<RecordBatch>
    ) -> Result<i64>;
    fn close_prepared(&self, statement: &PreparedHandle) -> Result<()>;
    fn execute_update(&self, sql: &str, transaction: Option<&Bytes>) -> Result<i64>;
    fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        transaction: Option<&Bytes>,
        batches: BoxStream<'static, Result<RecordBatch>>
    ) -> Result<i64>;
    fn cancel_flight_info(&self, info: &FlightInfo) -> Result<CancelOutcome>;
    fn renew_flight_endpoint(&self, endpoint: &FlightEndpoint) -> Result<FlightEndpoint>;
    fn cancel_query(&self, info: &FlightInfo) -> Result<CancelOutcome>;
}

impl ConnectionClient<'_> {
    /// As [`FlightSqlClient::config`].
    pub fn config(&self) -> &Config {
        self.client.config()
    }

    /// As [`FlightSqlClient::is_closed`].
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

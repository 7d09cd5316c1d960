//! The Flight SQL connection.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::{Connection, Cursor, IngestMode, PreparedStatement, Result};
use futures::stream::BoxStream;

use crate::client::FlightSqlClient;
use crate::config::Config;
use crate::cursor::FlightSqlCursor;
use crate::prepared::FlightSqlPreparedStatement;
use crate::session::Session;

/// A connection to a Flight SQL server.
///
/// Statements run in autocommit mode until [`set_autocommit(false)`](Connection::set_autocommit),
/// which needs a server that advertises transactions (its `SqlInfo`, probed once per
/// connection). A transaction then begins at the next statement (`BeginTransaction`), every
/// statement carries its id, and [`commit`](Connection::commit) /
/// [`rollback`](Connection::rollback) end it (`EndTransaction`). Dropping or closing a
/// connection with an open transaction rolls it back.
///
/// Clones share the connection (and its transaction).
#[derive(Debug, Clone)]
pub struct FlightSqlConnection {
    session: Arc<Session>,
}

impl FlightSqlConnection {
    /// Connects with a URL (see `docs/url.md`).
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect`].
    pub async fn connect(url: &str) -> Result<FlightSqlConnection> {
        Self::connect_with(url.parse()?).await
    }

    /// Connects with a [`Config`].
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect_with`].
    pub async fn connect_with(config: Config) -> Result<FlightSqlConnection> {
        let client = FlightSqlClient::connect_with(config).await?;
        Ok(FlightSqlConnection {
            session: Arc::new(Session::new(client)),
        })
    }

    /// The low-level client of this connection.
    pub fn client(&self) -> &FlightSqlClient {
        self.session.client()
    }

    /// A new cursor, as its concrete type (for [`FlightSqlCursor::flight_info`]).
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error if the connection is
    /// closed.
    pub fn flight_cursor(&self) -> Result<FlightSqlCursor> {
        self.session.check_open()?;
        Ok(FlightSqlCursor::new(Arc::clone(&self.session)))
    }

    /// Prepares a statement, as its concrete type.
    ///
    /// # Errors
    /// As [`Connection::prepare`].
    pub async fn prepare_flight(&self, sql: &str) -> Result<FlightSqlPreparedStatement> {
        FlightSqlPreparedStatement::prepare(Arc::clone(&self.session), sql).await
    }
}

#[async_trait]
impl Connection for FlightSqlConnection {
    fn cursor(&self) -> Result<Box<dyn Cursor>> {
        Ok(Box::new(self.flight_cursor()?))
    }

    async fn prepare(&self, sql: &str) -> Result<Box<dyn PreparedStatement>> {
        Ok(Box::new(self.prepare_flight(sql).await?))
    }

    fn autocommit(&self) -> bool {
        self.session.autocommit()
    }

    async fn set_autocommit(&self, on: bool) -> Result<()> {
        self.session.set_autocommit(on).await
    }

    async fn commit(&self) -> Result<()> {
        self.session.end_transaction(true).await
    }

    async fn rollback(&self) -> Result<()> {
        self.session.end_transaction(false).await
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        self.session.savepoint(name).await
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.session.end_savepoint(name, true).await
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        self.session.end_savepoint(name, false).await
    }

    async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        self.session.check_open()?;
        let transaction = self.session.transaction().await?;
        self.session
            .client()
            .ingest(table, mode, transaction.as_ref(), batches)
            .await
    }

    async fn close(&self) -> Result<()> {
        self.session.close().await
    }

    fn is_closed(&self) -> bool {
        self.session.client().is_closed()
    }
}

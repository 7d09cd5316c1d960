//! Prepared statements.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::{Cursor, Error, ParamSets, Params, PreparedStatement, Result};

use crate::client::PreparedHandle;
use crate::config::QueryPath;
use dbapi::driver::changes_data;

use crate::conn::cursor::{Bound, FlightSqlCursor};
use crate::conn::state::{Session, close_in_background};

/// A statement prepared on a Flight SQL server (`CreatePreparedStatement`).
///
/// Each execution binds its parameters with a `DoPut` (taking the new handle a stateless
/// server answers with) and runs the statement; statements that change data run as prepared
/// updates where the server supports them. Dropping it closes it on the server
/// (`ClosePreparedStatement`, in the background).
#[derive(Debug)]
pub struct FlightSqlPreparedStatement {
    session: Arc<Session>,
    sql: String,
    handle: Option<PreparedHandle>,
}

impl FlightSqlPreparedStatement {
    pub(crate) async fn prepare(session: Arc<Session>, sql: &str) -> Result<Self> {
        session.check_open()?;
        if let QueryPath::InfluxDb(_) = session.client().config().query_path() {
            return Err(Error::not_supported(
                "prepared statements through InfluxDB's own ticket (query_path=influxdb): \
                 execute the query with its parameters instead",
            ));
        }
        let transaction = session.transaction().await?;
        let handle = session.client().prepare(sql, transaction.as_ref()).await?;
        Ok(FlightSqlPreparedStatement {
            session,
            sql: sql.to_owned(),
            handle: Some(handle),
        })
    }

    /// The server's handle, as it stands after the last binding.
    pub fn handle(&self) -> Option<&PreparedHandle> {
        self.handle.as_ref()
    }

    /// The statement's result schema asked of the server without running it (`GetSchema`;
    /// the schema announced at prepare time is [`PreparedStatement::result_schema`]).
    ///
    /// # Errors
    /// The server's error (`GetSchema` is optional: many servers answer `UNIMPLEMENTED`).
    pub async fn fetch_result_schema(&self) -> Result<SchemaRef> {
        let handle = self.open()?;
        self.session.client().prepared_schema(handle).await
    }

    fn open(&self) -> Result<&PreparedHandle> {
        self.session.check_open()?;
        self.handle
            .as_ref()
            .ok_or_else(|| Error::interface("the prepared statement is closed"))
    }

    /// Runs the statement on a new cursor.
    async fn run(&mut self, bound: Bound, update: bool) -> Result<FlightSqlCursor> {
        self.open()?;
        let mut cursor = FlightSqlCursor::new(Arc::clone(&self.session));
        let Some(handle) = self.handle.as_mut() else {
            return Err(Error::interface("the prepared statement is closed"));
        };
        cursor.run(&self.sql, bound, update, Some(handle)).await?;
        Ok(cursor)
    }
}

#[async_trait]
impl PreparedStatement for FlightSqlPreparedStatement {
    fn sql(&self) -> &str {
        &self.sql
    }

    fn parameter_schema(&self) -> Option<SchemaRef> {
        self.handle.as_ref()?.parameter_schema().cloned()
    }

    fn result_schema(&self) -> Option<SchemaRef> {
        self.handle.as_ref()?.dataset_schema().cloned()
    }

    async fn execute(&mut self, params: Params) -> Result<Box<dyn Cursor>> {
        let update = changes_data(&self.sql);
        Ok(Box::new(self.run(Bound::Sets(vec![params]), update).await?))
    }

    async fn execute_update(&mut self, params: Params) -> Result<i64> {
        Ok(self.run(Bound::Sets(vec![params]), true).await?.rowcount())
    }

    async fn executemany(&mut self, params: ParamSets<'_>) -> Result<i64> {
        self.open()?;
        let mut cursor = FlightSqlCursor::new(Arc::clone(&self.session));
        let Some(handle) = self.handle.as_mut() else {
            return Err(Error::interface("the prepared statement is closed"));
        };
        cursor
            .run_chunks(&self.sql, params, true, Some(handle))
            .await?;
        Ok(cursor.rowcount())
    }

    async fn execute_arrow(&mut self, params: RecordBatch) -> Result<Box<dyn Cursor>> {
        let update = changes_data(&self.sql);
        Ok(Box::new(self.run(Bound::Arrow(params), update).await?))
    }

    async fn close(&mut self) -> Result<()> {
        match self.handle.take() {
            Some(handle) if !self.session.client().is_closed() => {
                self.session.client().close_prepared(&handle).await
            }
            _ => Ok(()),
        }
    }
}

impl Drop for FlightSqlPreparedStatement {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            close_in_background(self.session.client(), handle);
        }
    }
}

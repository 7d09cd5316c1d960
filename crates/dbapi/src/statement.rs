//! Prepared statements and bulk ingest modes.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;

use crate::{Cursor, ParamSets, Params, Result};

/// A statement prepared by the server (see [`Connection::prepare`](crate::Connection::prepare)),
/// executed as often as asked with different parameters.
///
/// Its schemas come from the server without running it. Closing it (or dropping it) releases
/// it on the server.
#[async_trait]
pub trait PreparedStatement: Send + Sync + std::fmt::Debug {
    /// The SQL text.
    fn sql(&self) -> &str;

    /// The parameter schema the server announced, if it did (one field per placeholder).
    fn parameter_schema(&self) -> Option<SchemaRef>;

    /// The schema of the statement's result as the server announced it, if it did (none, or
    /// an empty one, for statements that return no rows).
    fn result_schema(&self) -> Option<SchemaRef>;

    /// Executes with one parameter set and returns a cursor on the result: its rows to fetch,
    /// or, for a statement that changes data, its [`rowcount`](Cursor::rowcount).
    ///
    /// # Errors
    /// A parameter that does not fit the parameter schema
    /// ([`ErrorKind::Programming`](crate::ErrorKind::Programming) or
    /// [`ErrorKind::Data`](crate::ErrorKind::Data), naming the parameter); the server's error.
    async fn execute(&mut self, params: Params) -> Result<Box<dyn Cursor>>;

    /// Executes a statement that changes data and returns the number of rows it affected
    /// (-1 when the server does not say).
    ///
    /// # Errors
    /// As [`PreparedStatement::execute`].
    async fn execute_update(&mut self, params: Params) -> Result<i64>;

    /// Executes once for each parameter set, a chunk of sets at a time (each chunk as one
    /// batch of parameters where the server allows it; see [`ParamSets`]), and returns the
    /// total number of rows affected (-1 when not known).
    ///
    /// # Errors
    /// As [`PreparedStatement::execute`].
    async fn executemany(&mut self, params: ParamSets<'_>) -> Result<i64>;

    /// Executes with parameters given as an Arrow record batch (one row per parameter set,
    /// one column per parameter), for Arrow users; returns a cursor as
    /// [`execute`](PreparedStatement::execute) does.
    ///
    /// # Errors
    /// As [`PreparedStatement::execute`].
    async fn execute_arrow(&mut self, params: RecordBatch) -> Result<Box<dyn Cursor>>;

    /// Releases the statement on the server. Later calls fail with an
    /// [`ErrorKind::Interface`](crate::ErrorKind::Interface) error. Closing twice is harmless.
    ///
    /// # Errors
    /// The server's error (the statement is closed on this side all the same).
    async fn close(&mut self) -> Result<()>;
}

/// What [`Connection::ingest`](crate::Connection::ingest) does with the target table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IngestMode {
    /// Create the table; fail if it exists.
    Create,
    /// Append to the table; fail if it does not exist.
    Append,
    /// Replace the table's contents (creating it if needed).
    Replace,
    /// Append to the table, creating it if needed.
    #[default]
    CreateAppend,
}

impl IngestMode {
    /// The mode's name as in ADBC (`"create"`, `"append"`, `"replace"`, `"create_append"`).
    pub fn as_str(self) -> &'static str {
        match self {
            IngestMode::Create => "create",
            IngestMode::Append => "append",
            IngestMode::Replace => "replace",
            IngestMode::CreateAppend => "create_append",
        }
    }
}

impl std::fmt::Display for IngestMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

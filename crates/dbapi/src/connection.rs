//! The `Connection` trait.

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::{Cursor, Error, IngestMode, PreparedStatement, Result};

/// An open connection to a database (PEP 249 `Connection`).
///
/// Connections are shared by reference: every method takes `&self`, and cursors own what they
/// need, so a connection can hand out any number of cursors, each usable from its own task.
///
/// Connections start in autocommit mode: each statement is committed when it completes.
/// [`set_autocommit(false)`](Connection::set_autocommit) starts a transaction (at the next
/// statement) that [`commit`](Connection::commit) or [`rollback`](Connection::rollback) ends.
#[async_trait]
pub trait Connection: Send + Sync + std::fmt::Debug {
    /// A new cursor on this connection.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the connection is
    /// closed.
    fn cursor(&self) -> Result<Box<dyn Cursor>>;

    /// Prepares a statement: the server parses it once, tells its parameter and result
    /// schemas, and runs it as often as asked with different parameters.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// prepared statements; the server's error for SQL it cannot prepare.
    async fn prepare(&self, sql: &str) -> Result<Box<dyn PreparedStatement>> {
        let _ = sql;
        Err(Error::not_supported(
            "prepared statements are not supported by this driver",
        ))
    }

    /// Whether statements are committed as they complete (the default).
    fn autocommit(&self) -> bool {
        true
    }

    /// Turns autocommit on or off. Turning it off starts a transaction at the next statement;
    /// turning it on commits the open transaction, if any.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) when turning autocommit off
    /// and the driver or the server has no transactions.
    async fn set_autocommit(&self, on: bool) -> Result<()> {
        if on {
            Ok(())
        } else {
            Err(Error::not_supported(
                "turning autocommit off: this driver has no transactions",
            ))
        }
    }

    /// Commits the current transaction; in autocommit mode there is none, and this does
    /// nothing (as PEP 249 asks).
    ///
    /// # Errors
    /// The server's error; an [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if
    /// the connection is closed.
    async fn commit(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    /// Rolls back the current transaction; in autocommit mode there is none, and this does
    /// nothing.
    ///
    /// # Errors
    /// The server's error; an [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if
    /// the connection is closed.
    async fn rollback(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    /// Creates a savepoint named `name` in the current transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver and the
    /// server support savepoints; an [`ErrorKind::Interface`](crate::ErrorKind::Interface)
    /// error in autocommit mode.
    async fn savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Releases (forgets) the savepoint `name`, keeping what was done since.
    ///
    /// # Errors
    /// As [`Connection::savepoint`]; an [`ErrorKind::Programming`](crate::ErrorKind::Programming)
    /// error for an unknown name.
    async fn release_savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Undoes what was done since the savepoint `name`; the transaction stays open.
    ///
    /// # Errors
    /// As [`Connection::release_savepoint`].
    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Loads a stream of record batches into `table` (bulk ingest), returning the number of
    /// rows the server reports (-1 when it does not say). The batches are sent as they come,
    /// so memory stays bounded by a few batches whatever the size of the stream.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver and the
    /// server support ingest; the stream's first error; the server's error (e.g. the table
    /// exists and `mode` is [`IngestMode::Create`]).
    async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        let _ = (table, mode, batches);
        Err(Error::not_supported(
            "bulk ingest is not supported by this driver",
        ))
    }

    /// Closes the connection: rolls back an open transaction, releases server-side resources.
    /// Later calls on it and on its cursors fail with an
    /// [`ErrorKind::Interface`](crate::ErrorKind::Interface) error. Closing twice is harmless.
    ///
    /// # Errors
    /// When the driver fails to release server-side resources (the connection is closed all
    /// the same).
    async fn close(&self) -> Result<()>;

    /// Whether [`Connection::close`] was called.
    fn is_closed(&self) -> bool;
}

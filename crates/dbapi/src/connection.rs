//! The `Connection` trait.

use async_trait::async_trait;

use crate::{Cursor, Error, Result};

/// An open connection to a database (PEP 249 `Connection`).
///
/// Connections are shared by reference: cursors own what they need, so a connection can hand
/// out any number of cursors, each usable from its own task.
#[async_trait]
pub trait Connection: Send + Sync + std::fmt::Debug {
    /// A new cursor on this connection.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the connection is
    /// closed.
    fn cursor(&self) -> Result<Box<dyn Cursor>>;

    /// Commits the current transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// transactions (drivers that only run in autocommit mode succeed without doing anything,
    /// as PEP 249 asks).
    async fn commit(&mut self) -> Result<()> {
        Err(Error::not_supported(
            "commit: this driver has no transactions",
        ))
    }

    /// Rolls back the current transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// transactions.
    async fn rollback(&mut self) -> Result<()> {
        Err(Error::not_supported(
            "rollback: this driver has no transactions",
        ))
    }

    /// Closes the connection. Later calls on it and on its cursors fail with an
    /// [`ErrorKind::Interface`](crate::ErrorKind::Interface) error. Closing twice is harmless.
    ///
    /// # Errors
    /// When the driver fails to release server-side resources.
    async fn close(&mut self) -> Result<()>;

    /// Whether [`Connection::close`] was called.
    fn is_closed(&self) -> bool;
}

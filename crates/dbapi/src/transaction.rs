//! Transaction and savepoint guards: a [`Transaction`] commits only when told to and rolls
//! back when dropped, as in `sqlx`, `tokio-postgres` and `rusqlite`.

use std::future::Future;
use std::ops::Deref;

use futures::future::BoxFuture;

use crate::{Abandoned, Connection, Error, Result};

/// Transactions, and ingest from an Arrow reader, for every [`Connection`] (including
/// `dyn Connection`).
///
/// ```
/// # use dbapi::{Connection, ConnectionExt, Params};
/// # async fn run(conn: &dyn Connection) -> dbapi::Result<()> {
/// let tx = conn.begin().await?;
/// tx.cursor()?.execute("INSERT INTO t VALUES (1)", Params::None).await?;
/// tx.commit().await?; // without this, dropping `tx` rolls back
/// # Ok(()) }
/// ```
pub trait ConnectionExt: Connection {
    /// Begins a transaction: autocommit goes off until the returned guard is committed,
    /// rolled back or dropped (which rolls back, without waiting, and turns autocommit on
    /// again). Statements run through the guard (it derefs to the connection) or through the
    /// connection itself belong to the transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) when the driver or the
    /// server has no transactions; an [`ErrorKind::Interface`](crate::ErrorKind::Interface)
    /// error when autocommit is already off (a transaction is open: use
    /// [`Transaction::savepoint`] to nest).
    #[doc(alias = "begin_transaction")]
    fn begin(&self) -> impl Future<Output = Result<Transaction<'_, Self>>> + Send {
        async move {
            start(self).await?;
            Ok(Transaction {
                conn: self,
                open: true,
            })
        }
    }

    /// Loads the batches of an Arrow [`RecordBatchReader`](arrow::record_batch::RecordBatchReader)
    /// into `table`, as [`Connection::ingest`] does with a stream. The reader is read on a
    /// thread of its own, at most two batches ahead of the upload, so a reader that blocks
    /// (on files, or a blocking cursor) does not stall the runtime.
    ///
    /// # Errors
    /// As [`Connection::ingest`]; the reader's first error.
    fn ingest_reader(
        &self,
        table: &str,
        mode: crate::IngestMode,
        reader: impl arrow::record_batch::RecordBatchReader + Send + 'static,
    ) -> impl Future<Output = Result<i64>> + Send {
        async move {
            self.ingest(table, mode, crate::stream::from_reader(reader))
                .await
        }
    }

    /// Runs `body` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` (or panics), and returns what it returned.
    ///
    /// ```
    /// # use dbapi::{Connection, ConnectionExt, Params};
    /// # async fn run(conn: &dyn Connection) -> dbapi::Result<()> {
    /// let changed = conn
    ///     .transaction(|tx| {
    ///         Box::pin(async move {
    ///             let mut cursor = tx.cursor()?;
    ///             cursor.execute_update("UPDATE t SET a = a + 1", Params::None).await
    ///         })
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ConnectionExt::begin`]; `body`'s error (after the rollback); the commit's error.
    fn transaction<'c, R, E, F>(&'c self, body: F) -> impl Future<Output = Result<R, E>> + Send
    where
        F: for<'t> FnOnce(&'t Transaction<'c, Self>) -> BoxFuture<'t, Result<R, E>> + Send + 'c,
        R: Send + 'c,
        E: From<Error> + Send + 'c,
    {
        async move {
            let tx = self.begin().await?;
            match body(&tx).await {
                Ok(value) => {
                    tx.commit().await?;
                    Ok(value)
                }
                Err(e) => {
                    // The body's error is the one to report; a failed rollback is logged by
                    // the driver and the transaction is abandoned all the same.
                    if let Err(rollback) = tx.rollback().await {
                        tracing::warn!(error = %rollback, "rolling back after an error failed");
                    }
                    Err(e)
                }
            }
        }
    }
}

impl<C: Connection + ?Sized> ConnectionExt for C {}

/// Turns autocommit off for a new transaction guard, refusing when it is off already.
pub(crate) async fn start<C: Connection + ?Sized>(conn: &C) -> Result<()> {
    if !conn.autocommit() {
        return Err(Error::interface(
            "a transaction is already open (autocommit is off): commit or roll it back \
             first, or nest with a savepoint",
        ));
    }
    conn.set_autocommit(false).await
}

/// An open transaction ([`ConnectionExt::begin`]). It derefs to its connection; dropping it
/// without [`commit`](Transaction::commit) rolls it back.
///
/// The rollback of a dropped transaction does not block the dropping thread: the connection
/// starts it at once in the background when a Tokio runtime is at hand, or before its next
/// call otherwise ([`Connection::abandon`]). Autocommit is on again as soon as the guard is
/// gone.
#[must_use = "a transaction rolls back when dropped: commit it"]
#[derive(Debug)]
pub struct Transaction<'c, C: Connection + ?Sized = dyn Connection> {
    conn: &'c C,
    open: bool,
}

impl<'c, C: Connection + ?Sized> Transaction<'c, C> {
    /// Commits the transaction and turns autocommit on again, in one step of the driver.
    ///
    /// # Errors
    /// The server's error; the transaction is then rolled back as if dropped.
    pub async fn commit(mut self) -> Result<()> {
        self.conn.set_autocommit(true).await?;
        self.open = false;
        Ok(())
    }

    /// Rolls the transaction back and turns autocommit on again.
    ///
    /// # Errors
    /// The server's error; the transaction is then abandoned as if dropped.
    pub async fn rollback(mut self) -> Result<()> {
        self.conn.rollback().await?;
        self.open = false;
        self.conn.set_autocommit(true).await
    }

    /// Makes a savepoint in this transaction: a guard that rolls back to it when dropped
    /// without [`release`](Savepoint::release).
    ///
    /// # Errors
    /// As [`Connection::savepoint`] ([`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported)
    /// when the server has no savepoints).
    pub async fn savepoint(&self, name: &str) -> Result<Savepoint<'_, C>> {
        Savepoint::make(self.conn, name).await
    }
}

impl<C: Connection + ?Sized> Deref for Transaction<'_, C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.conn
    }
}

impl<C: Connection + ?Sized> Drop for Transaction<'_, C> {
    fn drop(&mut self) {
        if self.open {
            self.conn.abandon(Abandoned::Transaction);
        }
    }
}

/// A savepoint in a transaction ([`Transaction::savepoint`]). Dropping it without
/// [`release`](Savepoint::release) rolls back to it (without blocking, as a dropped
/// [`Transaction`] does).
#[must_use = "a savepoint rolls back to itself when dropped: release it"]
#[derive(Debug)]
pub struct Savepoint<'t, C: Connection + ?Sized = dyn Connection> {
    conn: &'t C,
    name: String,
    open: bool,
}

impl<'t, C: Connection + ?Sized> Savepoint<'t, C> {
    async fn make(conn: &'t C, name: &str) -> Result<Savepoint<'t, C>> {
        conn.savepoint(name).await?;
        Ok(Savepoint {
            conn,
            name: name.to_owned(),
            open: true,
        })
    }

    /// The savepoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Keeps what was done since the savepoint, and forgets the savepoint.
    ///
    /// # Errors
    /// As [`Connection::release_savepoint`]; the savepoint is then rolled back to as if
    /// dropped.
    pub async fn release(mut self) -> Result<()> {
        self.conn.release_savepoint(&self.name).await?;
        self.open = false;
        Ok(())
    }

    /// Undoes what was done since the savepoint; the transaction stays open.
    ///
    /// # Errors
    /// As [`Connection::rollback_to_savepoint`].
    pub async fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.rollback_to_savepoint(&self.name).await
    }

    /// Makes a savepoint nested in this one.
    ///
    /// # Errors
    /// As [`Transaction::savepoint`].
    pub async fn savepoint(&self, name: &str) -> Result<Savepoint<'_, C>> {
        Savepoint::make(self.conn, name).await
    }
}

impl<C: Connection + ?Sized> Deref for Savepoint<'_, C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.conn
    }
}

impl<C: Connection + ?Sized> Drop for Savepoint<'_, C> {
    fn drop(&mut self) {
        if self.open {
            self.conn
                .abandon(Abandoned::Savepoint(std::mem::take(&mut self.name)));
        }
    }
}

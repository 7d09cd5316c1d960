//! The one door to the ADBC driver: every call into its C library goes through [`Native`],
//! on a blocking thread, one at a time per connection.
//!
//! ADBC connections are not thread-safe: a connection and its statements and result streams
//! must not be used from two threads at once. `Native` holds a lock for each call (a result
//! stream's `next` included); only cancellation, which ADBC requires to be thread-safe, goes
//! around it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use adbc_core::Optionable;
use adbc_core::error::Error as AdbcError;
use adbc_core::options::{OptionConnection, OptionValue};
use adbc_driver_manager::{ManagedConnection, ManagedStatement};
use arrow::record_batch::RecordBatchReader;
use dbapi::{Abandoned, Error, Result};

use crate::error::from_adbc;
use crate::slot::{OpenResult, Slot, read_into_memory};

/// A connection to the driver, shared by the `dbapi` connection, its cursors and their
/// result streams.
pub(crate) struct Native {
    /// Taken when dropped, to be released off the async executor ([`release`]).
    conn: Option<ManagedConnection>,
    /// Held for each call into the driver.
    lock: Mutex<()>,
    /// Undo work left by abandoned guards; held only to push or take, never across a call,
    /// so that a guard dropped on the async executor never waits for a call to end.
    pending: Mutex<Pending>,
    closed: AtomicBool,
    secrets: Arc<[String]>,
    /// What the driver is called, for messages.
    driver: String,
    /// What is known of the driver, by the name it gives.
    traits: Traits,
    /// The results the driver gave that may still be read (see [`Native::enter`]).
    open: Mutex<Vec<Weak<Mutex<Slot>>>>,
}

/// What is known of a driver, by the name it gives (`GetInfo`'s `DRIVER_NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traits {
    /// Whether it may be asked for partitions (see `partitions`).
    pub(crate) partitions: bool,
    /// Whether it reads one result at a time: another statement, or any other call, while
    /// a result is open breaks that result (PostgreSQL's reads each result as a `COPY`).
    pub(crate) one_result_at_a_time: bool,
}

/// Drivers, by the name they give, that answer `StatementExecutePartitions` and
/// `ConnectionReadPartition` with a bare status code: the error the driver manager prepared
/// still claims the driver's private data, and the driver's `ErrorGetDetailCount` then reads
/// through a null pointer, ending the process. They have no partitions of their own: they are
/// never asked.
const ASKING_FOR_PARTITIONS_ENDS_THE_PROCESS: &[&str] = &["ADBC PostgreSQL Driver"];

/// Drivers, by the name they give, that read one result at a time.
const ONE_RESULT_AT_A_TIME: &[&str] = &["ADBC PostgreSQL Driver"];

impl Traits {
    /// What is known of the driver named `name` (nothing when it gives no name).
    pub(crate) fn of(name: Option<&str>) -> Traits {
        let among = |list: &[&str]| name.is_some_and(|n| list.iter().any(|k| n.starts_with(k)));
        Traits {
            partitions: !among(ASKING_FOR_PARTITIONS_ENDS_THE_PROCESS),
            one_result_at_a_time: among(ONE_RESULT_AT_A_TIME),
        }
    }
}

/// Undo work left by an abandoned transaction or savepoint guard, done before the next call.
#[derive(Default)]
pub(crate) struct Pending {
    abandoned: Vec<Abandoned>,
    /// Handles of the driver let go of (statements, streams), dropped under the call lock
    /// before the next call, in the order they were let go of.
    released: Vec<Box<dyn std::any::Any + Send>>,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Native")
            .field("driver", &self.driver)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The connection handle a call gets, with the lock held.
pub(crate) struct Call<'a> {
    /// The ADBC connection (a handle: clones share it).
    pub(crate) conn: ManagedConnection,
    native: &'a Native,
}

impl Call<'_> {
    /// The driver's name, as the URL gave it.
    pub(crate) fn driver(&self) -> &str {
        self.native.driver()
    }

    /// What is known of the driver.
    pub(crate) fn traits(&self) -> Traits {
        self.native.traits
    }

    /// `reader` (with `keep`, the statement it came from) as a result of this connection,
    /// known to it from now on.
    pub(crate) fn open_result(
        &self,
        reader: Box<dyn RecordBatchReader + Send>,
        keep: Box<dyn std::any::Any + Send>,
    ) -> OpenResult {
        let slot = Arc::new(Mutex::new(Slot::new(reader, keep)));
        let mut open = self
            .native
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.retain(|s| s.strong_count() > 0);
        open.push(Arc::downgrade(&slot));
        slot
    }

    /// Maps an Arrow error the driver raised in this call (reading a stream).
    pub(crate) fn arrow_error(&self, error: &arrow::error::ArrowError, what: &str) -> Error {
        self.native.arrow_error(error, what)
    }

    /// A new statement of the driver for `sql`.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<ManagedStatement> {
        use adbc_core::{Connection as _, Statement as _};
        let mut statement = self
            .conn
            .new_statement()
            .map_err(|e| self.error(e, "creating a statement"))?;
        statement
            .set_sql_query(sql)
            .map_err(|e| self.error(e, "setting the SQL"))?;
        Ok(statement)
    }

    /// Maps an ADBC error of this call.
    pub(crate) fn error(&self, error: AdbcError, what: &str) -> Error {
        self.native.error(error, what)
    }
}

impl Native {
    /// Takes a queue of the pending work (held only as long as that takes).
    fn take_pending<T>(&self, queue: impl FnOnce(&mut Pending) -> &mut Vec<T>) -> Vec<T> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(queue(&mut pending))
    }

    pub(crate) fn new(
        conn: ManagedConnection,
        secrets: Arc<[String]>,
        driver: String,
        traits: Traits,
    ) -> Self {
        Native {
            conn: Some(conn),
            lock: Mutex::new(()),
            pending: Mutex::new(Pending::default()),
            closed: AtomicBool::new(false),
            secrets,
            driver,
            traits,
            open: Mutex::new(Vec::new()),
        }
    }

    /// The driver's name, as the URL gave it.
    pub(crate) fn driver(&self) -> &str {
        &self.driver
    }

    /// Maps an ADBC error, scrubbing the connection's secrets from its message.
    pub(crate) fn error(&self, error: AdbcError, what: &str) -> Error {
        from_adbc(error, what, &self.secrets)
    }

    /// Maps an Arrow error raised inside the driver (e.g. while reading a result stream).
    pub(crate) fn arrow_error(&self, error: &arrow::error::ArrowError, what: &str) -> Error {
        let message = crate::config::scrub(&error.to_string(), &self.secrets);
        Error::new(dbapi::ErrorKind::Database, format!("{what}: {message}"))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Takes the lock on the calling (blocking) thread, reads the open results into memory
    /// when the driver reads one result at a time, runs the undo work left by abandoned
    /// guards, and gives the connection; fails once the connection is closed.
    pub(crate) fn enter(&self) -> Result<(MutexGuard<'_, ()>, Call<'_>)> {
        self.enter_for(false)
    }

    /// [`Native::enter`] to read a result: the open results stay as they are.
    pub(crate) fn enter_to_read(&self) -> Result<(MutexGuard<'_, ()>, Call<'_>)> {
        self.enter_for(true)
    }

    fn enter_for(&self, reading: bool) -> Result<(MutexGuard<'_, ()>, Call<'_>)> {
        let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let released = self.take_pending(|p| &mut p.released);
        drop(released);
        if !reading && self.traits.one_result_at_a_time {
            // No result is being read now (reads hold the lock): their handles are in place.
            let open: Vec<OpenResult> = self
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter_map(Weak::upgrade)
                .collect();
            for slot in open {
                read_into_memory(
                    &|e| self.arrow_error(e, "reading a result into memory"),
                    &slot,
                );
            }
        }
        if self.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        let Some(conn) = self.conn.clone() else {
            return Err(Error::interface("the connection is closed"));
        };
        let mut call = Call { conn, native: self };
        let abandoned = self.take_pending(|p| &mut p.abandoned);
        for what in abandoned {
            if let Err(e) = undo(&mut call, &what) {
                tracing::warn!(error = %e, "undoing an abandoned {what:?} failed");
            }
        }
        Ok((guard, call))
    }

    /// Runs `f` with the connection on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, what: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Call<'_>) -> Result<T> + Send + 'static,
    {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let (_guard, mut call) = this.enter()?;
            f(&mut call)
        })
        .await
        .map_err(|e| Error::internal(format!("{what}: the ADBC call failed: {e}")))?
    }

    /// Sets a connection option.
    pub(crate) async fn set_option(
        self: &Arc<Self>,
        key: OptionConnection,
        value: String,
        what: &'static str,
    ) -> Result<()> {
        self.run(what, move |call| {
            call.conn
                .set_option(key, OptionValue::String(value))
                .map_err(|e| call.error(e, what))
        })
        .await
    }

    /// Lets go of `handles` of the driver (a statement, a stream): they are released under the
    /// call lock before the next call, and at once on a blocking thread when a runtime is at
    /// hand (here otherwise), never on the async executor — the driver's release calls block,
    /// and may wait for the server.
    pub(crate) fn release_later(self: &Arc<Self>, handles: Box<dyn std::any::Any + Send>) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .released
            .push(handles);
        let this = Arc::clone(self);
        release(move || {
            // Entering releases them; a closed connection releases them when it is dropped.
            let _ = this.enter_to_read();
        });
    }

    /// Leaves undo work for the next call, and starts it in the background when a runtime
    /// is at hand.
    pub(crate) fn abandon(self: &Arc<Self>, what: Abandoned) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abandoned
            .push(what);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let this = Arc::clone(self);
            handle.spawn_blocking(move || {
                // Entering runs the pending work; a closed connection has none left to do.
                let _ = this.enter();
            });
        }
    }

    /// Marks the connection closed: later calls fail. The driver's handles are released
    /// when the last cursor and stream let go of them.
    pub(crate) fn close(&self) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.closed.store(true, Ordering::Release);
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        // Releasing may talk to the server (the Flight SQL driver closes its channel): never
        // on the async executor, whose thread may be the one serving that server.
        let released = self.take_pending(|p| &mut p.released);
        let conn = self.conn.take();
        release(move || {
            drop(released);
            drop(conn);
        });
    }
}

/// Runs `drop_handles` (which drops handles of the driver: a connection, a statement, a
/// stream) on a blocking thread when a Tokio runtime is at hand, else here: the driver's
/// release calls block, and may wait for the network.
pub(crate) fn release(drop_handles: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn_blocking(drop_handles);
        }
        Err(_) => drop_handles(),
    }
}

/// Undoes what an abandoned guard left open.
fn undo(call: &mut Call<'_>, what: &Abandoned) -> Result<()> {
    use adbc_core::Connection as _;
    match what {
        Abandoned::Transaction => {
            call.conn
                .rollback()
                .map_err(|e| call.error(e, "rolling back"))?;
            call.conn
                .set_option(
                    OptionConnection::AutoCommit,
                    OptionValue::String("true".into()),
                )
                .map_err(|e| call.error(e, "turning autocommit on"))
        }
        Abandoned::Savepoint(name) => {
            crate::native::sql_update(call, &format!("ROLLBACK TO SAVEPOINT {}", quote(name)))
                .map(drop)
        }
        other => Err(Error::not_supported(format!(
            "undoing {other:?} is not supported by the ADBC driver"
        ))),
    }
}

/// Runs a statement that returns no rows, giving the count the driver reports.
pub(crate) fn sql_update(call: &mut Call<'_>, sql: &str) -> Result<Option<i64>> {
    use adbc_core::Statement as _;
    call.statement(sql)?
        .execute_update()
        .map_err(|e| call.error(e, "executing"))
}

/// An SQL identifier in double quotes (the standard's quoting, which SQLite and PostgreSQL
/// share).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_are_known_by_the_name_they_give() {
        let pg = Traits::of(Some("ADBC PostgreSQL Driver"));
        assert!(!pg.partitions && pg.one_result_at_a_time);
        for other in [
            Some("ADBC SQLite Driver"),
            Some("ADBC Flight SQL Driver - Go"),
            None,
        ] {
            let traits = Traits::of(other);
            assert!(
                traits.partitions && !traits.one_result_at_a_time,
                "{other:?}"
            );
        }
    }
}

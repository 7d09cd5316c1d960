//! A blocking facade for synchronous programs.
//!
//! [`Connection`] and [`Cursor`] here offer the operations of the async traits without
//! `async`: each call runs the async operation to completion on a small runtime that the
//! connection owns (one worker thread, shared with its cursors, so read-ahead continues
//! between calls). A blocking [`Cursor`] is an [`Iterator`] of rows.
//!
//! # Inside an async runtime
//! Tokio cannot start a runtime on a thread that is already running one (its `block_on`
//! panics there). When a method of this module is called from within a Tokio runtime context
//! (an async task, or `spawn_blocking`), it runs the operation on a short-lived helper thread
//! and waits for it, so it works and never panics. It still blocks the calling thread: inside
//! an async task that stalls the executor, and on a single-threaded runtime it deadlocks if
//! the server itself runs on that runtime. From async code, use the async API, or wrap
//! blocking code in `tokio::task::spawn_blocking`. Dropping a blocking connection or cursor
//! is allowed anywhere.

use std::future::Future;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::metadata::{
    ForeignKey, KeyColumn, MetadataRequest, SchemaInfo, ServerInfo, TableFilter, TableInfo,
    TableRef,
};
use crate::{BatchReader, Column, Error, ParamSets, Params, Registry, Result, Row};

/// Blocking versions of async connection methods, each documented as the one it wraps.
macro_rules! blocking_methods {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        #[doc = concat!("See [`crate::Connection::", stringify!($name), "`].")]
        ///
        /// # Errors
        #[doc = concat!("As [`crate::Connection::", stringify!($name), "`].")]
        pub fn $name(&self, $($arg: $ty),*) -> Result<$out> {
            self.rt.block_on(self.inner.$name($($arg),*))?
        }
    )*};
}

/// The runtime shared by a blocking connection and its cursors.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn new() -> Result<Arc<Runtime>> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dbapi-blocking")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::operational("cannot start the runtime of the blocking API").with_source(e)
            })?;
        Ok(Arc::new(Runtime(Some(rt))))
    }

    fn block_on<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let rt = self
            .0
            .as_ref()
            .ok_or_else(|| Error::internal("the blocking runtime is gone"))?;
        block_on(rt, future)
    }
}

/// Runs `future` to completion on `rt` from synchronous code: on this thread, or — when this
/// thread is inside a runtime's context (a host's async code calling a blocking API), where
/// Tokio forbids blocking — on a helper thread of its own for the call. The one bridge from
/// synchronous to asynchronous code: this module and the ADBC library both cross it here.
///
/// ```
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// assert_eq!(dbapi::blocking::block_on(&rt, async { 6 * 7 })?, 42);
/// # Ok::<(), dbapi::Error>(())
/// ```
///
/// # Errors
/// An [`Operational`](crate::ErrorKind::Operational) error when the helper thread cannot be
/// started; an [`Internal`](crate::ErrorKind::Internal) one when the future panicked there.
pub fn block_on<F>(rt: &tokio::runtime::Runtime, future: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(rt.block_on(future));
    }
    // Inside a runtime context: Tokio forbids block_on on this thread.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("dbapi-blocking-call".into())
            .spawn_scoped(scope, || rt.block_on(future))
            .map_err(|e| Error::operational("cannot start a helper thread").with_source(e))?
            .join()
            .map_err(|_| Error::internal("the blocking call's helper thread panicked"))
    })
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so dropping is safe in async contexts too.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A blocking connection: a [`crate::Connection`] with its own runtime.
#[derive(Debug)]
pub struct Connection {
    // Field order matters: the connection is dropped before the runtime that drives it.
    inner: Box<dyn crate::Connection>,
    rt: Arc<Runtime>,
}

impl Connection {
    /// Connects through the process-wide default registry (see [`crate::register`]).
    ///
    /// # Errors
    /// As [`crate::connect`]. (Inside an async runtime it works too, on a helper thread: see
    /// the [module](self) documentation.)
    pub fn connect(url: &str) -> Result<Connection> {
        Self::connect_with(&crate::default_registry(), url)
    }

    /// Connects through the given registry.
    ///
    /// # Errors
    /// As [`Registry::connect`].
    pub fn connect_with(registry: &Registry, url: &str) -> Result<Connection> {
        let rt = Runtime::new()?;
        let inner = rt.block_on(registry.connect(url))??;
        Ok(Connection { inner, rt })
    }

    /// Connects with a [`Connector`](crate::driver::Connector): a driver's typed
    /// configuration (`dbapi_flightsql::Config`) or a URL.
    ///
    /// # Errors
    /// As the connector's [`connect`](crate::driver::Connector::connect).
    pub fn connect_to(connector: &dyn crate::driver::Connector) -> Result<Connection> {
        let rt = Runtime::new()?;
        let inner = rt.block_on(connector.connect())??;
        Ok(Connection { inner, rt })
    }

    /// The async connection underneath, e.g. to [downcast](crate::Connection) it to the
    /// driver's type for driver-specific calls.
    pub fn as_async(&self) -> &dyn crate::Connection {
        self.inner.as_ref()
    }

    /// A new cursor.
    ///
    /// # Errors
    /// As [`crate::Connection::cursor`].
    pub fn cursor(&self) -> Result<Cursor> {
        Ok(Cursor {
            inner: self.inner.cursor()?,
            rt: Arc::clone(&self.rt),
            failed: false,
        })
    }

    /// Prepares a statement; see [`crate::Connection::prepare`].
    ///
    /// # Errors
    /// As [`crate::Connection::prepare`].
    pub fn prepare(&self, sql: &str) -> Result<PreparedStatement> {
        Ok(PreparedStatement {
            inner: self.rt.block_on(self.inner.prepare(sql))??,
            rt: Arc::clone(&self.rt),
        })
    }

    /// Runs a query as independent parts; see [`crate::Connection::execute_partitions`].
    ///
    /// # Errors
    /// As [`crate::Connection::execute_partitions`].
    pub fn execute_partitions(&self, sql: &str, params: Params) -> Result<crate::Partitions> {
        self.rt
            .block_on(self.inner.execute_partitions(sql, params))?
    }

    /// A cursor over one part; see [`crate::Connection::read_partition`].
    ///
    /// # Errors
    /// As [`crate::Connection::read_partition`].
    pub fn read_partition(&self, part: &[u8]) -> Result<Cursor> {
        Ok(Cursor {
            inner: self.rt.block_on(self.inner.read_partition(part))??,
            rt: Arc::clone(&self.rt),
            failed: false,
        })
    }

    /// Whether autocommit is on; see [`crate::Connection::autocommit`].
    pub fn autocommit(&self) -> bool {
        self.inner.autocommit()
    }

    /// Turns autocommit on or off; see [`crate::Connection::set_autocommit`].
    ///
    /// # Errors
    /// As [`crate::Connection::set_autocommit`].
    pub fn set_autocommit(&self, on: bool) -> Result<()> {
        self.rt.block_on(self.inner.set_autocommit(on))?
    }

    /// Commits; see [`crate::Connection::commit`].
    ///
    /// # Errors
    /// As [`crate::Connection::commit`].
    pub fn commit(&self) -> Result<()> {
        self.rt.block_on(self.inner.commit())?
    }

    /// Rolls back; see [`crate::Connection::rollback`].
    ///
    /// # Errors
    /// As [`crate::Connection::rollback`].
    pub fn rollback(&self) -> Result<()> {
        self.rt.block_on(self.inner.rollback())?
    }

    /// Begins a transaction; see [`crate::ConnectionExt::begin`]. Dropping the guard without
    /// committing rolls back, without blocking the dropping thread.
    ///
    /// ```no_run
    /// # fn run(conn: &dbapi::blocking::Connection) -> dbapi::Result<()> {
    /// let tx = conn.begin()?;
    /// tx.cursor()?.execute("INSERT INTO t VALUES (1)", ())?;
    /// tx.commit()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`crate::ConnectionExt::begin`].
    pub fn begin(&self) -> Result<Transaction<'_>> {
        self.rt
            .block_on(crate::transaction::start(&*self.inner))??;
        Ok(Transaction {
            conn: self,
            open: true,
        })
    }

    /// Runs `body` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` (or panics); see [`crate::ConnectionExt::transaction`].
    ///
    /// # Errors
    /// As [`Connection::begin`]; `body`'s error (after the rollback); the commit's error.
    pub fn transaction<R, E: From<Error>>(
        &self,
        body: impl FnOnce(&Transaction<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        let tx = self.begin()?;
        match body(&tx) {
            Ok(value) => {
                tx.commit()?;
                Ok(value)
            }
            Err(e) => {
                drop(tx.rollback());
                Err(e)
            }
        }
    }

    /// Abandons a transaction or savepoint on this connection's runtime, so the driver can
    /// undo it in the background.
    fn abandon(&self, what: crate::Abandoned) {
        match &self.rt.0 {
            Some(rt) => {
                let _entered = rt.enter();
                self.inner.abandon(what);
            }
            None => self.inner.abandon(what),
        }
    }

    /// Loads the batches of an Arrow [`RecordBatchReader`](arrow::record_batch::RecordBatchReader)
    /// into `table`; see [`crate::Connection::ingest`].
    ///
    /// # Errors
    /// As [`crate::Connection::ingest`]; the reader's first error.
    pub fn ingest(
        &self,
        table: &str,
        mode: crate::IngestMode,
        reader: impl arrow::record_batch::RecordBatchReader + Send + 'static,
    ) -> Result<i64> {
        self.rt.block_on(
            self.inner
                .ingest(table, mode, crate::stream::from_reader(reader)),
        )?
    }

    blocking_methods! {
        savepoint(name: &str) -> ();
        release_savepoint(name: &str) -> ();
        rollback_to_savepoint(name: &str) -> ();
        catalogs() -> Vec<String>;
        schemas(catalog: Option<&str>, schema_pattern: Option<&str>) -> Vec<SchemaInfo>;
        tables(filter: &TableFilter) -> Vec<TableInfo>;
        table_types() -> Vec<String>;
        table_schema(table: &TableRef) -> SchemaRef;
        primary_keys(table: &TableRef) -> Vec<KeyColumn>;
        imported_keys(table: &TableRef) -> Vec<ForeignKey>;
        exported_keys(table: &TableRef) -> Vec<ForeignKey>;
        cross_reference(primary: &TableRef, foreign: &TableRef) -> Vec<ForeignKey>;
        server_info() -> ServerInfo;
        current_catalog() -> Option<String>;
        set_current_catalog(catalog: &str) -> ();
        current_schema() -> Option<String>;
        set_current_schema(schema: &str) -> ();
    }

    /// A metadata answer as Arrow data; see [`crate::Connection::metadata`].
    ///
    /// # Errors
    /// As [`crate::Connection::metadata`].
    pub fn metadata(&self, request: &MetadataRequest) -> Result<Cursor> {
        Ok(Cursor {
            inner: self.rt.block_on(self.inner.metadata(request))??,
            rt: Arc::clone(&self.rt),
            failed: false,
        })
    }

    /// Closes the connection; see [`crate::Connection::close`].
    ///
    /// # Errors
    /// As [`crate::Connection::close`].
    pub fn close(&self) -> Result<()> {
        self.rt.block_on(self.inner.close())?
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// A blocking transaction ([`Connection::begin`]); it derefs to its connection, and dropping
/// it without [`commit`](Transaction::commit) rolls back.
#[must_use = "a transaction rolls back when dropped: commit it"]
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Transaction<'c> {
    /// Commits and turns autocommit on again; see [`crate::Transaction::commit`].
    ///
    /// # Errors
    /// As [`crate::Transaction::commit`].
    pub fn commit(mut self) -> Result<()> {
        self.conn.set_autocommit(true)?;
        self.open = false;
        Ok(())
    }

    /// Rolls back and turns autocommit on again; see [`crate::Transaction::rollback`].
    ///
    /// # Errors
    /// As [`crate::Transaction::rollback`].
    pub fn rollback(mut self) -> Result<()> {
        self.conn.rollback()?;
        self.open = false;
        self.conn.set_autocommit(true)
    }

    /// Makes a savepoint; see [`crate::Transaction::savepoint`].
    ///
    /// # Errors
    /// As [`crate::Transaction::savepoint`].
    pub fn savepoint(&self, name: &str) -> Result<Savepoint<'_>> {
        Savepoint::make(self.conn, name)
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            self.conn.abandon(crate::Abandoned::Transaction);
        }
    }
}

/// A blocking savepoint ([`Transaction::savepoint`]); dropping it without
/// [`release`](Savepoint::release) rolls back to it.
#[must_use = "a savepoint rolls back to itself when dropped: release it"]
#[derive(Debug)]
pub struct Savepoint<'t> {
    conn: &'t Connection,
    name: String,
    open: bool,
}

impl<'t> Savepoint<'t> {
    fn make(conn: &'t Connection, name: &str) -> Result<Savepoint<'t>> {
        conn.savepoint(name)?;
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

    /// Keeps what was done since the savepoint; see [`crate::Savepoint::release`].
    ///
    /// # Errors
    /// As [`crate::Savepoint::release`].
    pub fn release(mut self) -> Result<()> {
        self.conn.release_savepoint(&self.name)?;
        self.open = false;
        Ok(())
    }

    /// Undoes what was done since the savepoint; see [`crate::Savepoint::rollback`].
    ///
    /// # Errors
    /// As [`crate::Savepoint::rollback`].
    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.rollback_to_savepoint(&self.name)
    }

    /// Makes a savepoint nested in this one.
    ///
    /// # Errors
    /// As [`crate::Transaction::savepoint`].
    pub fn savepoint(&self, name: &str) -> Result<Savepoint<'_>> {
        Savepoint::make(self.conn, name)
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if self.open {
            let name = std::mem::take(&mut self.name);
            self.conn.abandon(crate::Abandoned::Savepoint(name));
        }
    }
}

/// A blocking prepared statement: a [`crate::PreparedStatement`] on its connection's runtime.
#[derive(Debug)]
pub struct PreparedStatement {
    // Dropped before the runtime that drives it.
    inner: Box<dyn crate::PreparedStatement>,
    rt: Arc<Runtime>,
}

impl PreparedStatement {
    /// See [`crate::PreparedStatement::sql`].
    pub fn sql(&self) -> &str {
        self.inner.sql()
    }

    /// See [`crate::PreparedStatement::parameter_schema`].
    pub fn parameter_schema(&self) -> Option<SchemaRef> {
        self.inner.parameter_schema()
    }

    /// See [`crate::PreparedStatement::result_schema`].
    pub fn result_schema(&self) -> Option<SchemaRef> {
        self.inner.result_schema()
    }

    /// Executes with one parameter set; see [`crate::PreparedStatement::execute`].
    ///
    /// # Errors
    /// As [`crate::PreparedStatement::execute`].
    pub fn execute(&mut self, params: impl Into<Params>) -> Result<Cursor> {
        let inner = self.rt.block_on(self.inner.execute(params.into()))??;
        Ok(Cursor {
            inner,
            rt: Arc::clone(&self.rt),
            failed: false,
        })
    }

    /// See [`crate::PreparedStatement::execute_update`].
    ///
    /// # Errors
    /// As [`crate::PreparedStatement::execute_update`].
    pub fn execute_update(&mut self, params: impl Into<Params>) -> Result<i64> {
        self.rt.block_on(self.inner.execute_update(params.into()))?
    }

    /// See [`crate::PreparedStatement::executemany`].
    ///
    /// # Errors
    /// As [`crate::PreparedStatement::executemany`].
    pub fn executemany<'a>(&mut self, params: impl Into<ParamSets<'a>>) -> Result<i64> {
        self.rt.block_on(self.inner.executemany(params.into()))?
    }

    /// See [`crate::PreparedStatement::close`].
    ///
    /// # Errors
    /// As [`crate::PreparedStatement::close`].
    pub fn close(&mut self) -> Result<()> {
        self.rt.block_on(self.inner.close())?
    }
}

/// A blocking cursor, and an [`Iterator`] over the rows of its current result.
#[derive(Debug)]
pub struct Cursor {
    inner: Box<dyn crate::Cursor>,
    rt: Arc<Runtime>,
    failed: bool,
}

impl Cursor {
    /// Executes a statement; see [`crate::Cursor::execute`].
    ///
    /// # Errors
    /// As [`crate::Cursor::execute`].
    pub fn execute(&mut self, sql: &str, params: impl Into<Params>) -> Result<()> {
        self.failed = false;
        self.rt.block_on(self.inner.execute(sql, params.into()))?
    }

    /// Executes a statement that changes data; see [`crate::Cursor::execute_update`].
    ///
    /// # Errors
    /// As [`crate::Cursor::execute_update`].
    pub fn execute_update(&mut self, sql: &str, params: impl Into<Params>) -> Result<i64> {
        self.failed = false;
        self.rt
            .block_on(self.inner.execute_update(sql, params.into()))?
    }

    /// Executes once per parameter set; see [`crate::Cursor::executemany`].
    ///
    /// # Errors
    /// As [`crate::Cursor::executemany`].
    pub fn executemany<'a>(&mut self, sql: &str, params: impl Into<ParamSets<'a>>) -> Result<()> {
        self.failed = false;
        self.rt
            .block_on(self.inner.executemany(sql, params.into()))?
    }

    /// See [`crate::Cursor::description`].
    pub fn description(&self) -> Option<&[Column]> {
        self.inner.description()
    }

    /// See [`crate::Cursor::rowcount`].
    pub fn rowcount(&self) -> i64 {
        self.inner.rowcount()
    }

    /// See [`crate::Cursor::arraysize`].
    pub fn arraysize(&self) -> usize {
        self.inner.arraysize()
    }

    /// See [`crate::Cursor::set_arraysize`].
    pub fn set_arraysize(&mut self, size: usize) {
        self.inner.set_arraysize(size);
    }

    /// See [`crate::Cursor::set_timeout`]: a bound on each later statement, from `execute`
    /// to its last row.
    ///
    /// # Errors
    /// As [`crate::Cursor::set_timeout`].
    pub fn set_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<()> {
        self.inner.set_timeout(timeout)
    }

    /// See [`crate::Cursor::fetchone`].
    ///
    /// # Errors
    /// As [`crate::Cursor::fetchone`].
    pub fn fetchone(&mut self) -> Result<Option<Row>> {
        self.rt.block_on(self.inner.fetchone())?
    }

    /// See [`crate::Cursor::fetchmany`].
    ///
    /// # Errors
    /// As [`crate::Cursor::fetchmany`].
    pub fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        self.rt.block_on(self.inner.fetchmany(size))?
    }

    /// See [`crate::Cursor::fetchall`].
    ///
    /// # Errors
    /// As [`crate::Cursor::fetchall`].
    pub fn fetchall(&mut self) -> Result<Vec<Row>> {
        self.rt.block_on(self.inner.fetchall())?
    }

    /// See [`crate::CursorExt::fetchone_as`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetchone_as`].
    pub fn fetchone_as<T: serde::de::DeserializeOwned + Send>(&mut self) -> Result<Option<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetchone_as())?
    }

    /// See [`crate::CursorExt::fetchall_as`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetchall_as`].
    pub fn fetchall_as<T: serde::de::DeserializeOwned + Send>(&mut self) -> Result<Vec<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetchall_as())?
    }

    /// See [`crate::CursorExt::fetch_one`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_one`].
    #[doc(alias = "fetchone")]
    pub fn fetch_one(&mut self) -> Result<Row> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_one())?
    }

    /// See [`crate::CursorExt::fetch_optional`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_optional`].
    #[doc(alias = "fetchone")]
    pub fn fetch_optional(&mut self) -> Result<Option<Row>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_optional())?
    }

    /// See [`crate::CursorExt::fetch_scalar`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_scalar`].
    pub fn fetch_scalar<T>(&mut self) -> Result<T>
    where
        T: for<'a> crate::FromValueRef<'a> + Send,
    {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_scalar())?
    }

    /// See [`crate::CursorExt::fetch_one_as`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_one_as`].
    pub fn fetch_one_as<T: serde::de::DeserializeOwned + Send>(&mut self) -> Result<T> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_one_as())?
    }

    /// See [`crate::CursorExt::fetch_optional_as`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_optional_as`].
    pub fn fetch_optional_as<T: serde::de::DeserializeOwned + Send>(
        &mut self,
    ) -> Result<Option<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_optional_as())?
    }

    /// See [`crate::CursorExt::fetchall_typed`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetchall_typed`].
    pub fn fetchall_typed<T: crate::FromRow + Send>(&mut self) -> Result<Vec<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetchall_typed())?
    }

    /// See [`crate::CursorExt::fetchone_typed`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetchone_typed`].
    pub fn fetchone_typed<T: crate::FromRow + Send>(&mut self) -> Result<Option<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetchone_typed())?
    }

    /// See [`crate::CursorExt::fetch_one_typed`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_one_typed`].
    pub fn fetch_one_typed<T: crate::FromRow + Send>(&mut self) -> Result<T> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_one_typed())?
    }

    /// See [`crate::CursorExt::fetch_optional_typed`].
    ///
    /// # Errors
    /// As [`crate::CursorExt::fetch_optional_typed`].
    pub fn fetch_optional_typed<T: crate::FromRow + Send>(&mut self) -> Result<Option<T>> {
        use crate::CursorExt;
        self.rt.block_on(self.inner.fetch_optional_typed())?
    }

    /// See [`crate::CursorExt::rows_affected`].
    #[doc(alias = "rowcount")]
    pub fn rows_affected(&self) -> Option<u64> {
        use crate::CursorExt;
        self.inner.rows_affected()
    }

    /// See [`crate::Cursor::fetch_batch`].
    ///
    /// # Errors
    /// As [`crate::Cursor::fetch_batch`].
    pub fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.rt.block_on(self.inner.fetch_batch())?
    }

    /// See [`crate::CursorExt::fetch_rows`]: the rows of the next batch, to iterate.
    ///
    /// # Errors
    /// As [`crate::Cursor::fetch_batch`].
    pub fn fetch_rows(&mut self) -> Result<Option<crate::BatchRows>> {
        Ok(self
            .fetch_batch()?
            .map(|batch| crate::BatchRows::new(&batch)))
    }

    /// The remaining batches as an Arrow [`RecordBatchReader`](arrow::record_batch::RecordBatchReader)
    /// that owns the cursor (and, through [`BatchReader::into_ffi`], as an Arrow C stream for
    /// other Arrow tools). The first batch is read now: its schema is the reader's.
    ///
    /// ```no_run
    /// # fn run(conn: &dbapi::blocking::Connection) -> dbapi::Result<()> {
    /// use arrow::record_batch::RecordBatchReader;
    ///
    /// let mut cursor = conn.cursor()?;
    /// cursor.execute("SELECT * FROM readings", ())?;
    /// let reader = cursor.into_reader()?;
    /// println!("{}", reader.schema());
    /// let stream = reader.into_ffi(); // an ArrowArrayStream, for PyArrow, DuckDB, Polars...
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The error of reading the first batch.
    pub fn into_reader(mut self) -> Result<BatchReader> {
        let first = self.fetch_batch()?;
        let schema = first
            .as_ref()
            .map(RecordBatch::schema)
            .or_else(|| self.inner.schema())
            .unwrap_or_else(|| SchemaRef::new(arrow::datatypes::Schema::empty()));
        Ok(BatchReader::from_fetch(schema, first, move || {
            self.fetch_batch()
        }))
    }

    /// Executes with an Arrow parameter batch; see [`crate::Cursor::execute_arrow`].
    ///
    /// # Errors
    /// As [`crate::Cursor::execute_arrow`].
    pub fn execute_arrow(&mut self, sql: &str, params: RecordBatch) -> Result<()> {
        self.failed = false;
        self.rt.block_on(self.inner.execute_arrow(sql, params))?
    }

    /// A handle that cancels the running statement from another thread; see
    /// [`crate::Cursor::cancel_token`].
    ///
    /// # Errors
    /// As [`crate::Cursor::cancel_token`].
    pub fn cancel_token(&self) -> Result<crate::CancelToken> {
        self.inner.cancel_token()
    }

    /// See [`crate::Cursor::schema`].
    pub fn schema(&self) -> Option<SchemaRef> {
        self.inner.schema()
    }

    /// See [`crate::Cursor::fetch_all_batches`].
    ///
    /// # Errors
    /// As [`crate::Cursor::fetch_all_batches`].
    pub fn fetch_all_batches(&mut self) -> Result<Vec<RecordBatch>> {
        self.rt.block_on(self.inner.fetch_all_batches())?
    }

    /// See [`crate::Cursor::close`].
    ///
    /// # Errors
    /// As [`crate::Cursor::close`].
    pub fn close(&mut self) -> Result<()> {
        self.rt.block_on(self.inner.close())?
    }

    /// Whether the cursor is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl Iterator for Cursor {
    type Item = Result<Row>;

    /// The next row; after an error the iterator ends.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.fetchone() {
            Ok(row) => row.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod parity_tests {
    /// The names of the methods declared by `trait <name>` in `source`.
    fn trait_methods(source: &str, name: &str) -> Vec<String> {
        let start = source
            .find(&format!("pub trait {name}"))
            .unwrap_or_else(|| panic!("no trait {name}"));
        let mut depth = 0;
        let mut body = String::new();
        for c in source[start..].chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            if depth > 0 {
                body.push(c);
            }
        }
        methods(&body, "fn ")
    }

    fn methods(source: &str, marker: &str) -> Vec<String> {
        source
            .lines()
            .filter_map(|line| {
                let line = line.trim_start();
                let rest = line
                    .strip_prefix("async ")
                    .unwrap_or(line)
                    .strip_prefix(marker)?;
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    /// Every method of the async connection and cursor traits (and their extensions) has a
    /// blocking counterpart, or a reason here why not.
    #[test]
    fn the_blocking_api_matches_the_async_one() {
        let blocking = include_str!("blocking.rs");
        let blocking = &blocking[..blocking.find("mod parity_tests").unwrap_or(blocking.len())];
        let mut ours = methods(blocking, "pub fn ");
        // The methods generated by `blocking_methods!`: `name(args) -> T;` lines.
        ours.extend(blocking.lines().filter_map(|l| {
            let l = l.trim();
            l.ends_with(';')
                .then(|| l.split('(').next().unwrap_or_default())
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .map(str::to_owned)
        }));
        let not_blocking: &[(&str, &str)] = &[
            ("abandon", "called by the guards' Drop, not by users"),
            ("reset", "a pool's business, and the pool is async"),
            (
                "batches",
                "streams: the blocking cursor is an Iterator, and into_reader",
            ),
            (
                "rows",
                "streams: the blocking cursor is an Iterator of rows",
            ),
            (
                "rows_as",
                "streams: fetchmany_as / fetchall_as, or the row Iterator",
            ),
            ("fetchmany_as", "fetchmany then Row::deserialize"),
            (
                "progress",
                "read while a call runs, from another thread: use the async API",
            ),
            ("fetch_progress", "as progress"),
            (
                "ingest_reader",
                "blocking Connection::ingest takes the reader",
            ),
        ];
        let mut missing = Vec::new();
        for (file, trait_name) in [
            (include_str!("connection.rs"), "Connection"),
            (include_str!("cursor.rs"), "Cursor"),
            (include_str!("cursor.rs"), "CursorExt"),
            (include_str!("transaction.rs"), "ConnectionExt"),
        ] {
            let declared = trait_methods(file, trait_name);
            assert!(declared.len() >= 3, "{trait_name}: {declared:?}");
            for method in declared {
                if !ours.contains(&method) && !not_blocking.iter().any(|(n, _)| *n == method) {
                    missing.push(format!("{trait_name}::{method}"));
                }
            }
        }
        assert!(missing.is_empty(), "no blocking counterpart: {missing:?}");
        assert!(ours.contains(&"fetch_one".to_owned()) && ours.contains(&"catalogs".to_owned()));
    }
}

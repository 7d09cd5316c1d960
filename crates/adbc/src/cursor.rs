//! Cursors: statements executed through the driver, results read as rows or batches.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use adbc_core::{CancelHandle, Statement as _};
use adbc_driver_manager::ManagedStatement;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::driver::{CursorState, ResultSet, add_count, bind, changes_data};
use dbapi::{Cancel, CancelToken, Column, Cursor, Error, ParamSets, Params, Result, Row};

use crate::native::{Call, Native};
use crate::result::{Cancelled, Stream};
use crate::slot::OpenResult;

/// What executing a statement left.
pub(crate) enum Outcome {
    /// Rows to read (with the statement they came from, kept while they are read).
    Rows(OpenResult),
    /// The number of rows changed, when the driver says.
    Count(Option<i64>),
}

/// What a cancel token reaches: the statement running now.
#[derive(Default)]
pub(crate) struct CancelState {
    handle: Mutex<Option<Arc<dyn CancelHandle>>>,
    cancelled: Cancelled,
}

impl std::fmt::Debug for CancelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelState")
            .field("cancelled", &self.cancelled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl CancelState {
    /// A new execution: nothing cancelled, no statement yet.
    fn begin(&self) {
        self.cancelled.store(false, Ordering::Release);
        *self.handle.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The statement a cancel now reaches.
    pub(crate) fn install(&self, statement: &ManagedStatement) {
        let handle: Arc<dyn CancelHandle> = Arc::from(statement.get_cancel_handle());
        *self.handle.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
    }

    pub(crate) fn flag(&self) -> Cancelled {
        Arc::clone(&self.cancelled)
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

#[async_trait]
impl Cancel for CancelState {
    async fn cancel(&self) -> Result<()> {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(handle) = handle else {
            return Ok(());
        };
        self.cancelled.store(true, Ordering::Release);
        tokio::task::spawn_blocking(move || handle.try_cancel())
            .await
            .map_err(|e| Error::internal(format!("cancelling: {e}")))?
            .map_err(|e| crate::error::from_adbc(e, "cancelling", &[]))
    }
}

/// A cursor of an ADBC connection.
#[derive(Debug)]
pub struct AdbcCursor {
    native: Arc<Native>,
    state: CursorState<Stream>,
    cancel: Arc<CancelState>,
}

impl AdbcCursor {
    pub(crate) fn new(native: Arc<Native>) -> Self {
        AdbcCursor {
            native,
            state: CursorState::new(),
            cancel: Arc::default(),
        }
    }

    /// A cursor holding the outcome of a statement run elsewhere (a prepared statement).
    pub(crate) fn with_outcome(
        native: Arc<Native>,
        outcome: Outcome,
        cancel: Arc<CancelState>,
        keep: impl Send + 'static,
    ) -> Self {
        let mut cursor = AdbcCursor::new(native);
        cursor.cancel = cancel;
        cursor.take(outcome, keep);
        cursor
    }

    /// A cursor over a result the driver gave (a metadata answer, a part).
    pub(crate) fn with_result(native: Arc<Native>, result: OpenResult) -> Self {
        let mut cursor = AdbcCursor::new(native);
        cursor.set_rows(result, ());
        cursor
    }

    /// Makes `result` the current result; `keep` lives as long as it is read.
    fn set_rows(&mut self, result: OpenResult, keep: impl Send + 'static) {
        let stream = Stream::start(Arc::clone(&self.native), result, keep, self.cancel.flag());
        self.state.set_rows(stream);
    }

    fn take(&mut self, outcome: Outcome, keep: impl Send + 'static) {
        match outcome {
            Outcome::Rows(result) => self.set_rows(result, keep),
            Outcome::Count(n) => self.state.set_affected(n.unwrap_or(-1)),
        }
    }

    fn check_open(&self) -> Result<()> {
        self.state.check_open()?;
        if self.native.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    fn result(&mut self) -> Result<&mut ResultSet<Stream>> {
        self.check_open()?;
        self.state.result()
    }

    /// Runs `sql` with `params` bound (a batch of parameter sets, or none).
    async fn run(&mut self, sql: &str, params: Option<RecordBatch>, update: bool) -> Result<()> {
        self.check_open()?;
        self.state.clear();
        self.cancel.begin();
        let cancel = Arc::clone(&self.cancel);
        let sql = sql.to_owned();
        let outcome = self
            .native
            .run("executing", move |call| {
                let statement = statement_with(call, &sql, params, &cancel)?;
                execute(call, statement, None, update)
            })
            .await;
        let outcome = match outcome {
            Err(e) if self.cancel.is_cancelled() => return Err(e.cancelled()),
            other => other?,
        };
        self.take(outcome, ());
        Ok(())
    }
}

/// A new statement for `sql`, reachable by `cancel`.
pub(crate) fn statement(
    call: &mut Call<'_>,
    sql: &str,
    cancel: &CancelState,
) -> Result<ManagedStatement> {
    let statement = call.statement(sql)?;
    cancel.install(&statement);
    Ok(statement)
}

/// A new statement for `sql` with `params` bound, reachable by `cancel`. With parameters it
/// is prepared first: parameters bound to a statement that was not prepared mean bulk
/// ingestion to some drivers (the Flight SQL one among them); prepared, they are the query's
/// parameters to every driver.
pub(crate) fn statement_with(
    call: &mut Call<'_>,
    sql: &str,
    params: Option<RecordBatch>,
    cancel: &CancelState,
) -> Result<ManagedStatement> {
    let mut statement = statement(call, sql, cancel)?;
    if let Some(params) = params {
        statement
            .prepare()
            .map_err(|e| call.error(e, "preparing"))?;
        bind_to(call, &mut statement, params)?;
    }
    Ok(statement)
}

/// Binds `params` to `statement`.
fn bind_to(call: &Call<'_>, statement: &mut ManagedStatement, params: RecordBatch) -> Result<()> {
    statement
        .bind(params)
        .map_err(|e| call.error(e, "binding the parameters"))
}

/// Binds `params` to `statement` and executes it, for a count when `update`, else for rows.
pub(crate) fn execute(
    call: &Call<'_>,
    mut statement: ManagedStatement,
    params: Option<RecordBatch>,
    update: bool,
) -> Result<Outcome> {
    if let Some(params) = params {
        bind_to(call, &mut statement, params)?;
    }
    if update {
        let n = statement
            .execute_update()
            .map_err(|e| call.error(e, "executing"))?;
        Ok(Outcome::Count(n))
    } else {
        let reader = statement
            .execute()
            .map_err(|e| call.error(e, "executing"))?;
        Ok(Outcome::Rows(
            call.open_result(Box::new(reader), Box::new(statement)),
        ))
    }
}

/// One parameter set as a one-row batch (none for no parameters).
pub(crate) fn one_set(
    params: Params,
    schema: Option<&arrow::datatypes::Schema>,
) -> Result<Option<RecordBatch>> {
    if params.is_empty() {
        return Ok(None);
    }
    bind(&[params], schema).map(Some)
}

#[async_trait]
impl Cursor for AdbcCursor {
    async fn execute(&mut self, sql: &str, params: Params) -> Result<()> {
        let params = one_set(params, None)?;
        self.run(sql, params, changes_data(sql)).await
    }

    async fn execute_update(&mut self, sql: &str, params: Params) -> Result<i64> {
        let params = one_set(params, None)?;
        self.run(sql, params, true).await?;
        Ok(self.state.rowcount(None))
    }

    async fn executemany(&mut self, sql: &str, mut params: ParamSets<'_>) -> Result<()> {
        let mut total = Some(0_i64);
        let mut chunks = 0_usize;
        while let Some(chunk) = params.next_chunk()? {
            let batch = bind(&chunk, None).map_err(|e| e.context(format!("chunk {chunks}")))?;
            self.run(sql, Some(batch), true).await?;
            total = add_count(total, self.state.affected());
            chunks += 1;
        }
        self.state.set_affected(total.unwrap_or(-1));
        Ok(())
    }

    async fn execute_arrow(&mut self, sql: &str, params: RecordBatch) -> Result<()> {
        self.run(sql, Some(params), changes_data(sql)).await
    }

    fn cancel_token(&self) -> Result<CancelToken> {
        Ok(CancelToken::new(Arc::clone(&self.cancel) as Arc<dyn Cancel>))
    }

    fn description(&self) -> Option<&[Column]> {
        self.state.description()
    }

    fn schema(&self) -> Option<SchemaRef> {
        self.state.schema()
    }

    fn rowcount(&self) -> i64 {
        self.state.rowcount(None)
    }

    fn arraysize(&self) -> usize {
        self.state.arraysize()
    }

    fn set_arraysize(&mut self, size: usize) {
        self.state.set_arraysize(size);
    }

    async fn fetchone(&mut self) -> Result<Option<Row>> {
        self.result()?.fetchone().await
    }

    async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        let size = size.unwrap_or(self.state.arraysize());
        self.result()?.fetchmany(size).await
    }

    async fn fetchall(&mut self) -> Result<Vec<Row>> {
        self.result()?.fetchall().await
    }

    async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.result()?.fetch_batch().await
    }

    async fn close(&mut self) -> Result<()> {
        self.state.close();
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.state.is_closed() || self.native.is_closed()
    }
}

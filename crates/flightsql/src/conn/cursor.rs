//! The Flight SQL cursor.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo};
use async_trait::async_trait;
use bytes::Bytes;
use dbapi::driver::{BatchSource, Batches, CursorState, ResultSet, add_count, changes_data};
use dbapi::{
    Cancel, CancelToken, Column, Cursor, Error, FetchProgress, ParamSets, Params, Result, Row,
    Value,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

use crate::client::PreparedHandle;
use crate::config::{QueryLanguage, QueryPath};
use crate::conn::state::{Call, Session, Tracked};
use crate::decode;
use crate::read::{EndpointStream, Poller, Source, cancelled, progress};
use crate::transport::telemetry;

/// The parameters of one execution.
#[derive(Debug)]
pub(crate) enum Bound {
    /// No parameters.
    None,
    /// Parameter sets (several for `executemany`).
    Sets(Vec<Params>),
    /// A parameter batch given by the user.
    Arrow(RecordBatch),
}

impl Bound {
    fn is_none(&self) -> bool {
        match self {
            Bound::None => true,
            Bound::Sets(sets) => sets.iter().all(Params::is_empty) && sets.len() <= 1,
            Bound::Arrow(_) => false,
        }
    }
}

/// The row count in the result of a statement that changed data, run through the query
/// path: one row of one integer column.
fn count_of(batches: &[RecordBatch]) -> Option<i64> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    if rows != 1 || batch.num_columns() != 1 || !batch.schema().field(0).data_type().is_integer() {
        return None;
    }
    match Value::from_arrow(batch.column(0).as_ref(), 0).ok()? {
        Value::Int8(v) => Some(i64::from(v)),
        Value::Int16(v) => Some(i64::from(v)),
        Value::Int32(v) => Some(i64::from(v)),
        Value::Int64(v) => Some(v),
        Value::UInt8(v) => Some(i64::from(v)),
        Value::UInt16(v) => Some(i64::from(v)),
        Value::UInt32(v) => Some(i64::from(v)),
        Value::UInt64(v) => Some(i64::try_from(v).unwrap_or(i64::MAX)),
        _ => None,
    }
}

fn decode_schema(info: &FlightInfo) -> Result<Option<SchemaRef>> {
    if info.schema.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(decode::schema(
        &info.schema,
        "schema (FlightInfo)",
    )?)))
}

/// What a cancel token reaches: the cursor's current execution.
pub(crate) struct CancelState {
    session: Arc<Session>,
    current: Mutex<Execution>,
}

/// The execution a [`CancelState`] reaches.
struct Execution {
    token: CancellationToken,
    /// Which execution of the cursor it is (a deadline armed for an earlier one is void).
    generation: u64,
    info: Option<FlightInfo>,
    /// The statement timeout that expired and cancelled it, if one did.
    expired: Option<(Duration, &'static str)>,
    /// The task that cancels it when its statement timeout expires.
    deadline: Option<tokio::task::AbortHandle>,
    /// Whether its statement may still be running (started; not read to its end, released
    /// or cancelled).
    running: bool,
}

impl Execution {
    fn new(generation: u64) -> Execution {
        Execution {
            token: CancellationToken::new(),
            generation,
            info: None,
            expired: None,
            deadline: None,
            running: false,
        }
    }
}

impl std::fmt::Debug for CancelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelState")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl CancelState {
    fn new(session: Arc<Session>) -> CancelState {
        CancelState {
            session,
            current: Mutex::new(Execution::new(0)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Execution> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new execution: a fresh token, no `FlightInfo` yet, no deadline.
    fn start(&self) -> CancellationToken {
        let mut current = self.lock();
        if let Some(deadline) = current.deadline.take() {
            deadline.abort();
        }
        *current = Execution::new(current.generation.wrapping_add(1));
        current.running = true;
        current.token.clone()
    }

    /// Cancels the current execution when `timeout` expires (`key` names the option that
    /// set it), unless it ends or another starts before.
    fn arm(self: &Arc<Self>, timeout: Duration, key: &'static str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut current = self.lock();
        let generation = current.generation;
        let state = Arc::downgrade(self);
        let task = runtime.spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(state) = state.upgrade() {
                state.expire(generation, timeout, key).await;
            }
        });
        if let Some(old) = current.deadline.replace(task.abort_handle()) {
            old.abort();
        }
    }

    /// The statement of execution `generation` timed out: cancelled here and on the server.
    async fn expire(&self, generation: u64, timeout: Duration, key: &'static str) {
        {
            let mut current = self.lock();
            if current.generation != generation || current.token.is_cancelled() {
                return;
            }
            current.expired = Some((timeout, key));
            current.deadline = None;
        }
        tracing::info!(
            timeout_ms = timeout.as_secs_f64() * 1e3,
            "statement timed out; cancelling it"
        );
        let _ = self.cancel().await;
    }

    /// The current execution needs no deadline any more (its result is read, or it had
    /// none to read).
    fn disarm(&self) {
        let mut current = self.lock();
        current.running = false;
        if let Some(deadline) = current.deadline.take() {
            deadline.abort();
        }
    }

    /// `e`, or the timeout error of a statement its timeout cancelled.
    fn explain(&self, e: Error) -> Error {
        if !e.is_cancelled() {
            return e;
        }
        match self.lock().expired {
            Some((timeout, key)) => Error::operational(format!(
                "the statement timed out after {timeout:?} (URL option {key}) and was \
                 cancelled"
            ))
            .timeout(),
            None => e,
        }
    }

    fn is_cancelled(&self) -> bool {
        self.lock().token.is_cancelled()
    }

    fn set_info(&self, info: &FlightInfo) {
        self.lock().info = Some(info.clone());
    }
}

#[async_trait]
impl Tracked for CancelState {
    fn running(&self) -> bool {
        let current = self.lock();
        current.running && !current.token.is_cancelled()
    }

    async fn end(&self) {
        let _ = Cancel::cancel(self).await;
        self.disarm();
    }
}

#[async_trait]
impl Cancel for CancelState {
    /// Cancels locally first, always: pending calls and endpoint reads end, and the next
    /// fetch is a `Cancelled` error; then asks the server, as a best effort.
    async fn cancel(&self) -> Result<()> {
        let (token, info) = {
            let current = self.lock();
            (current.token.clone(), current.info.clone())
        };
        if token.is_cancelled() {
            return Ok(());
        }
        token.cancel();
        match info {
            Some(info) => self.session.cancel(&info).await,
            None => Ok(()),
        }
    }
}

/// A cursor of a [`FlightSqlConnection`](crate::FlightSqlConnection).
///
/// `execute` sends the query (`GetFlightInfo`) and reads nothing (but when the server
/// announced no schema: then it reads up to the first batch, so that the description is
/// known); the first fetch opens the first endpoint, and later endpoints are opened as the cursor reaches them, with the
/// connection's `read_ahead` endpoints opened in advance. Every endpoint is read, in order.
///
/// With parameters, the statement is prepared (once per connection: prepared statements are
/// cached), the parameters are bound with a `DoPut` and the statement executed. Statements
/// that change data (`INSERT`, `UPDATE`, `DELETE`, DDL...) go through `DoPut` updates when the
/// server supports them, else through the query path; either way they leave no result to
/// fetch and set [`rowcount`](Cursor::rowcount).
pub struct FlightSqlCursor {
    session: Arc<Session>,
    /// The result, the row count of a statement that changed data, the fetch size, whether
    /// closed.
    state: CursorState<Source>,
    info: Option<FlightInfo>,
    cancel: Arc<CancelState>,
    progress: Arc<Mutex<Option<f64>>>,
    /// The statement timeout set on this cursor ([`Cursor::set_timeout`]), over the URL's.
    timeout: Option<Duration>,
}

impl std::fmt::Debug for FlightSqlCursor {
    /// The shape of the result, never its tickets or locations (tickets may authorise reads,
    /// and `http(s)://` locations may be presigned URLs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSqlCursor")
            .field("arraysize", &self.state.arraysize())
            .field("closed", &self.state.is_closed())
            .field("endpoints", &self.info.as_ref().map(|i| i.endpoint.len()))
            .field("affected", &self.state.affected())
            .finish_non_exhaustive()
    }
}

impl FlightSqlCursor {
    pub(crate) fn new(session: Arc<Session>) -> FlightSqlCursor {
        let cancel = Arc::new(CancelState::new(Arc::clone(&session)));
        let tracked: Arc<dyn Tracked> = cancel.clone();
        session.track(Arc::downgrade(&tracked));
        FlightSqlCursor {
            cancel,
            timeout: None,
            session,
            state: CursorState::new(),
            info: None,
            progress: Arc::default(),
        }
    }

    /// The `FlightInfo` of the last `execute`: its endpoints, tickets and locations.
    pub fn flight_info(&self) -> Option<&FlightInfo> {
        self.info.as_ref()
    }

    /// The next row, as [`Cursor::fetchone`], without the boxed future that calls through
    /// the object-safe trait pay: on a concrete cursor this method is the one `fetchone`
    /// resolves to. (Per call, the trait's boxing is one allocation; see
    /// `docs/performance.md`.)
    ///
    /// # Errors
    /// As [`Cursor::fetchone`].
    pub async fn fetchone(&mut self) -> Result<Option<Row>> {
        let row = self.result()?.fetchone().await;
        self.fetched(row, Option::is_none)
    }

    /// What a fetch gave, its cancellation explained when a timeout caused it, and the
    /// statement's deadline disarmed once the result is read to its end (`ended`).
    fn fetched<T>(&self, outcome: Result<T>, ended: impl FnOnce(&T) -> bool) -> Result<T> {
        match outcome {
            Ok(value) => {
                if ended(&value) {
                    self.cancel.disarm();
                }
                Ok(value)
            }
            Err(e) => Err(self.cancel.explain(e)),
        }
    }

    fn check_open(&self) -> Result<()> {
        self.state.check_open()?;
        self.session.check_open()
    }

    fn result(&mut self) -> Result<&mut ResultSet<Source>> {
        self.check_open()?;
        // After a cancel the next fetch says so, even where rows were already read ahead.
        if self.cancel.is_cancelled() {
            return Err(self.cancel.explain(cancelled()));
        }
        self.state.result()
    }

    /// Drops the current result; a result still being read from the server is cancelled
    /// there too (in the background).
    fn release(&mut self) {
        self.cancel.disarm();
        let streaming = self.state.clear().is_some_and(|r| is_streaming(&r));
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let info = self.info.take();
        if let (true, Some(info)) = (streaming, info)
            && !info.endpoint.is_empty()
            && !self.cancel.is_cancelled()
            && !self.session.client().is_closed()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let session = Arc::clone(&self.session);
            runtime.spawn(async move {
                let _ = session.cancel(&info).await;
            });
        }
    }

    /// Runs a statement: the one execution path of `execute`, `executemany`,
    /// `execute_arrow` and prepared statements. `statement`: a prepared statement to use
    /// (else one from the connection's cache when there are parameters).
    pub(crate) async fn run(
        &mut self,
        sql: &str,
        bound: Bound,
        update: bool,
        statement: Option<&mut PreparedHandle>,
    ) -> Result<()> {
        self.check_open()?;
        self.release();
        let token = self.cancel.start();
        let config = self.session.client().config();
        let deadline = match self.timeout {
            Some(timeout) => Some((timeout, "statement_timeout, set on the cursor")),
            None => config
                .statement_timeout()
                .map(|timeout| (timeout, "statement_timeout")),
        };
        if let Some((timeout, key)) = deadline {
            self.cancel.arm(timeout, key);
        }
        let telemetry = telemetry::Statement::start(config, sql);
        let outcome = telemetry
            .trace()
            .bind(async {
                tokio::select! {
                    biased;
                    () = token.cancelled() => Err(cancelled()),
                    outcome = self.run_inner(sql, bound, update, statement, token.clone()) => outcome,
                }
            })
            .await;
        telemetry.end(&outcome);
        if !self.state.current().is_some_and(is_streaming) {
            self.cancel.disarm();
        }
        if outcome.is_err() {
            self.state.clear();
            self.info = None;
        }
        outcome.map_err(|e| self.cancel.explain(e))
    }

    /// Runs a statement once per chunk of parameter sets (one execution, one parameter batch
    /// each); for updates, the row counts summed (unknown when one is).
    pub(crate) async fn run_chunks(
        &mut self,
        sql: &str,
        mut sets: ParamSets<'_>,
        update: bool,
        mut statement: Option<&mut PreparedHandle>,
    ) -> Result<()> {
        let mut total = Some(0_i64);
        let mut done = 0_usize;
        while let Some(chunk) = sets.next_chunk().map_err(|e| {
            if done == 0 {
                e
            } else {
                e.context(format!("after {done} parameter sets, which ran"))
            }
        })? {
            let n = chunk.len();
            self.run(sql, Bound::Sets(chunk), update, statement.as_deref_mut())
                .await
                .map_err(|e| {
                    if done == 0 {
                        e
                    } else {
                        e.context(format!(
                            "in parameter sets {done} to {} (the {done} before them ran)",
                            done + n - 1
                        ))
                    }
                })?;
            done += n;
            total = add_count(total, Some(self.rowcount()));
        }
        if done == 0 {
            self.check_open()?;
            self.release();
            self.state.set_affected(0);
        } else if update {
            self.state.set_affected(total.unwrap_or(-1));
        }
        Ok(())
    }

    /// Takes a `FlightInfo` obtained elsewhere (metadata commands) as the cursor's result, to
    /// fetch lazily like any other.
    pub(crate) async fn run_info(&mut self, info: FlightInfo) -> Result<()> {
        self.check_open()?;
        self.release();
        let token = self.cancel.start();
        self.set_result(info, false, token, None).await
    }

    /// The `FlightInfo` of the last execution and its schema, taken out of the cursor
    /// without cancelling it on the server: its endpoints are to be read elsewhere.
    pub(crate) fn detach(&mut self) -> Option<(FlightInfo, Option<SchemaRef>)> {
        let info = self.info.take()?;
        let schema = self.state.clear().and_then(|r| r.schema());
        Some((info, schema))
    }

    /// Every batch of the current result.
    pub(crate) async fn read_all(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while let Some(batch) = self.fetch_batch().await? {
            out.push(batch);
        }
        Ok(out)
    }

    async fn run_inner(
        &mut self,
        sql: &str,
        bound: Bound,
        update: bool,
        statement: Option<&mut PreparedHandle>,
        token: CancellationToken,
    ) -> Result<()> {
        let session = Arc::clone(&self.session);
        let client = session.client();
        let language = match client.config().query_path() {
            QueryPath::InfluxDb(language) => Some(language),
            QueryPath::Auto
                if self
                    .auto_influxdb(&bound, update, statement.is_some())
                    .await =>
            {
                Some(QueryLanguage::Sql)
            }
            _ => None,
        };
        if let Some(language) = language {
            return self
                .run_influxdb(sql, bound, update, statement.is_some(), language, token)
                .await;
        }
        let transaction = session.transaction().await?;
        if bound.is_none() && statement.is_none() {
            if update && !session.lacks(Call::DoPutUpdate) {
                let answer = client.execute_update(sql, transaction.as_ref()).await;
                if let Some(n) = session.learn(Call::DoPutUpdate, answer)? {
                    session.confirm(Call::DoPutUpdate);
                    self.state.set_affected(n);
                    return Ok(());
                }
            }
            if !update && client.config().poll() {
                return self.poll(sql, transaction.as_ref(), token).await;
            }
            let info = client.execute_in(sql, transaction.as_ref()).await?;
            return self.set_result(info, update, token, None).await;
        }
        match statement {
            Some(statement) => self.run_prepared(statement, bound, update, token).await,
            None => {
                let mut taken = session.take_statement(sql, transaction.as_ref()).await?;
                let outcome = self
                    .run_prepared(taken.handle(), bound, update, token)
                    .await;
                // Dropped otherwise: the handle may be what failed, and is closed.
                if outcome.is_ok()
                    || outcome.as_ref().is_err_and(|e| e.is_cancelled())
                    || is_statement_error(&outcome)
                {
                    taken.keep();
                }
                outcome
            }
        }
    }

    /// Runs a query through InfluxDB's own ticket: one `DoGet`, its parameters in the
    /// ticket; read like any result. Nothing else goes that way.
    async fn run_influxdb(
        &mut self,
        sql: &str,
        bound: Bound,
        update: bool,
        prepared: bool,
        language: QueryLanguage,
        token: CancellationToken,
    ) -> Result<()> {
        const PATH: &str = "through InfluxDB's own ticket (query_path=influxdb)";
        if update {
            return Err(Error::not_supported(format!(
                "statements that change data {PATH}, which runs queries only (InfluxDB 3 \
                 takes writes as line protocol over HTTP)"
            )));
        }
        if prepared {
            return Err(Error::not_supported(format!(
                "prepared statements {PATH}: execute the query with its parameters instead"
            )));
        }
        if !self.session.autocommit() {
            return Err(Error::not_supported(format!("transactions {PATH}")));
        }
        let params = match bound {
            Bound::None => Params::None,
            Bound::Sets(mut sets) if sets.len() <= 1 => sets.pop().unwrap_or_default(),
            Bound::Sets(_) => {
                return Err(Error::not_supported(format!(
                    "several parameter sets (executemany) {PATH}, which runs one query with \
                     one set"
                )));
            }
            Bound::Arrow(_) => {
                return Err(Error::not_supported(format!(
                    "a parameter batch (execute_arrow) {PATH}: give the parameters as values"
                )));
            }
        };
        let config = self.session.client().config();
        let database = config.database().ok_or_else(|| {
            Error::interface(
                "InfluxDB's own ticket names a database: add database=<name> to the URL (or \
                 give it as the URL's path)",
            )
        })?;
        let ticket = crate::client::influxdb_ticket(database, sql, language, &params)?;
        // One endpoint at the server itself; the schema comes with the stream. Ending the
        // read ends the query (InfluxDB has no `CancelFlightInfo`).
        let endpoint = FlightEndpoint::new().with_ticket(ticket);
        self.read_result(vec![endpoint], None, false, token, None, true)
            .await
    }

    /// Whether `query_path=auto` sends a statement through InfluxDB's own ticket: a query
    /// with one set of parameters, not prepared, outside a transaction, to a server whose
    /// `SqlInfo` name says InfluxDB (asked once per connection, only for such queries).
    async fn auto_influxdb(&self, bound: &Bound, update: bool, prepared: bool) -> bool {
        let one_set = matches!(bound, Bound::Sets(sets) if sets.len() == 1 && !sets[0].is_empty());
        if update || prepared || !one_set || !self.session.autocommit() {
            return false;
        }
        let influxdb = self.session.server_info().await.is_ok_and(|info| {
            info.name
                .as_deref()
                .is_some_and(|name| name.to_ascii_lowercase().contains("influxdb"))
        });
        if influxdb {
            tracing::debug!("InfluxDB binds parameters only through its own ticket: using it");
        }
        influxdb
    }

    /// Whether what a statement sends is sent once, never repeated after a transient
    /// failure: it changes data, or runs inside a transaction.
    fn sends_once(&self, update: bool) -> bool {
        update || !self.session.autocommit()
    }

    async fn run_prepared(
        &mut self,
        statement: &mut PreparedHandle,
        bound: Bound,
        update: bool,
        token: CancellationToken,
    ) -> Result<()> {
        let session = Arc::clone(&self.session);
        let params = match bound {
            Bound::None => None,
            Bound::Sets(sets) if sets.iter().all(Params::is_empty) && sets.len() <= 1 => {
                let empty = statement
                    .parameter_schema()
                    .is_none_or(|s| s.fields().is_empty());
                (!empty)
                    .then(|| {
                        dbapi::driver::bind(&sets, statement.parameter_schema().map(AsRef::as_ref))
                    })
                    .transpose()?
            }
            Bound::Sets(sets) => Some(dbapi::driver::bind(
                &sets,
                statement.parameter_schema().map(AsRef::as_ref),
            )?),
            Bound::Arrow(batch) => Some(batch),
        };
        let rows = params.as_ref().map_or(0, RecordBatch::num_rows);
        if rows > 1 && session.lacks(Call::ParameterRows) {
            return self.run_rows(statement, params, update, token).await;
        }
        match self
            .run_prepared_once(statement, params.clone(), update, token.clone())
            .await
        {
            // A server that takes one parameter row per execution: one execution per row
            // (of the same prepared statement), remembered for the connection.
            Err(e) if rows > 1 && refuses_parameter_rows(&e) => {
                session.lacks_from_now(Call::ParameterRows, &e);
                self.run_rows(statement, params, update, token).await
            }
            outcome => outcome,
        }
    }

    /// One execution per parameter row; the row counts summed (unknown when one is).
    async fn run_rows(
        &mut self,
        statement: &mut PreparedHandle,
        params: Option<RecordBatch>,
        update: bool,
        token: CancellationToken,
    ) -> Result<()> {
        let Some(batch) = params else {
            return Ok(());
        };
        let mut total = Some(0_i64);
        for row in 0..batch.num_rows() {
            self.state.clear();
            self.run_prepared_once(statement, Some(batch.slice(row, 1)), update, token.clone())
                .await
                .map_err(|e| e.context(format_args!("parameter set {}", row + 1)))?;
            total = add_count(total, self.state.affected());
        }
        if update {
            self.state.set_affected(total.unwrap_or(-1));
        }
        Ok(())
    }

    async fn run_prepared_once(
        &mut self,
        statement: &mut PreparedHandle,
        params: Option<RecordBatch>,
        update: bool,
        token: CancellationToken,
    ) -> Result<()> {
        let session = Arc::clone(&self.session);
        let client = session.client();
        if update && session.supports_do_put_updates().await? {
            let answer = client
                .execute_prepared_update(statement, params.clone())
                .await;
            if let Some(n) = session.learn(Call::DoPutUpdate, answer)? {
                self.state.set_affected(n);
                return Ok(());
            }
        }
        if let Some(params) = params {
            client.bind(statement, params).await?;
        }
        // A query outside a transaction is planned again after a transient failure; a
        // statement that changes data, or one in a transaction, is sent once.
        let info = if self.sends_once(update) {
            client.execute_prepared(statement).await?
        } else {
            client
                .retry()
                .run("execute", || client.execute_prepared(statement))
                .await?
        };
        self.set_result(info, update, token, None).await
    }

    async fn poll(
        &mut self,
        sql: &str,
        transaction: Option<&Bytes>,
        token: CancellationToken,
    ) -> Result<()> {
        let command = CommandStatementQuery {
            query: sql.to_owned(),
            transaction_id: transaction.cloned(),
        };
        let descriptor = FlightDescriptor::new_cmd(command.as_any().encode_to_vec());
        let poll = self
            .session
            .client()
            .poll_flight_info(descriptor, transaction.is_none())
            .await?;
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = progress(poll.progress);
        let info = poll
            .info
            .ok_or_else(|| Error::internal("the server sent a PollInfo without a FlightInfo"))?;
        let poller = Poller::new(
            poll.flight_descriptor,
            info.endpoint.len(),
            Arc::clone(&self.progress),
        );
        self.set_result(info, false, token, Some(poller)).await
    }

    /// Takes the `FlightInfo` of an execution: a result to fetch lazily, or, for a statement
    /// that changed data, its row count (read now).
    async fn set_result(
        &mut self,
        info: FlightInfo,
        update: bool,
        token: CancellationToken,
        poller: Option<Poller>,
    ) -> Result<()> {
        let schema = decode_schema(&info)?;
        self.cancel.set_info(&info);
        let endpoints = info.endpoint.clone();
        let ordered = info.ordered;
        self.info = Some(info);
        self.read_result(endpoints, schema, update, token, poller, ordered)
            .await
    }

    /// Reads the result at `endpoints`: lazily for a query, now for a statement that changed
    /// data. Without a `FlightInfo` of the server's (InfluxDB's ticket), nothing is there to
    /// cancel on the server or to show.
    async fn read_result(
        &mut self,
        endpoints: Vec<FlightEndpoint>,
        schema: Option<SchemaRef>,
        update: bool,
        token: CancellationToken,
        poller: Option<Poller>,
        ordered: bool,
    ) -> Result<()> {
        let mut stream = EndpointStream::new(
            self.session.client().clone(),
            endpoints,
            schema.clone(),
            token,
            poller,
        )
        .in_arrival_order(ordered);
        if self.sends_once(update) {
            stream = stream.once();
        }
        if !update {
            self.state.set_rows(Source::Endpoints(Box::new(stream)));
            if schema.is_none() {
                // The server announced no schema: the result is read up to its first batch
                // (or its stream's schema), so that the description is known after execute
                // as for any query, and a query is never taken for a statement without rows.
                self.state.result()?.read_schema().await?;
            }
            return Ok(());
        }
        let mut batches = Vec::new();
        while let Some(batch) = stream.next_batch().await? {
            batches.push(batch);
        }
        let schema = stream.schema().or(schema);
        if let Some(n) = count_of(&batches) {
            self.state.set_affected(n);
        } else if schema.as_ref().is_none_or(|s| s.fields().is_empty())
            && batches.iter().all(|b| b.num_columns() == 0)
        {
            // DDL through the query path: nothing to count.
            self.state.set_affected(-1);
        } else {
            self.state
                .set_rows(Source::Memory(Batches::new(schema, batches)));
        }
        Ok(())
    }
}

/// Whether a result is still being read from the server.
fn is_streaming(result: &ResultSet<Source>) -> bool {
    matches!(result.source(), Source::Endpoints(_)) && !result.is_exhausted()
}

/// Whether a server refused a parameter batch for having more than one row.
fn refuses_parameter_rows(e: &Error) -> bool {
    let m = e.message().to_ascii_lowercase();
    m.contains("single row") || m.contains("one row") && m.contains("parameter")
}

/// Whether an execution failed because of the statement or its parameters (the prepared
/// statement itself is fine and can be reused).
fn is_statement_error(outcome: &Result<()>) -> bool {
    outcome.as_ref().is_err_and(|e| {
        matches!(
            e.kind(),
            dbapi::ErrorKind::Programming | dbapi::ErrorKind::Data
        ) && e.code() != Some("NOT_FOUND")
    })
}

impl Drop for FlightSqlCursor {
    fn drop(&mut self) {
        self.release();
    }
}

#[async_trait]
impl Cursor for FlightSqlCursor {
    async fn execute(&mut self, sql: &str, params: Params) -> Result<()> {
        let bound = if params.is_empty() {
            Bound::None
        } else {
            Bound::Sets(vec![params])
        };
        self.run(sql, bound, changes_data(sql), None).await
    }

    async fn execute_update(&mut self, sql: &str, params: Params) -> Result<i64> {
        let bound = if params.is_empty() {
            Bound::None
        } else {
            Bound::Sets(vec![params])
        };
        self.run(sql, bound, true, None).await?;
        Ok(self.rowcount())
    }

    async fn executemany(&mut self, sql: &str, params: ParamSets<'_>) -> Result<()> {
        self.run_chunks(sql, params, changes_data(sql), None).await
    }

    async fn execute_arrow(&mut self, sql: &str, params: RecordBatch) -> Result<()> {
        self.run(sql, Bound::Arrow(params), changes_data(sql), None)
            .await
    }

    fn cancel_token(&self) -> Result<CancelToken> {
        Ok(CancelToken::new(self.cancel.clone()))
    }

    fn progress(&self) -> Option<f64> {
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fetch_progress(&self) -> FetchProgress {
        let (done, total) = match self.state.current().map(ResultSet::source) {
            Some(Source::Endpoints(stream)) => stream.parts(),
            Some(Source::Memory(_)) => (1, Some(1)),
            None => (0, None),
        };
        FetchProgress::new(done, total, self.progress())
    }

    fn description(&self) -> Option<&[Column]> {
        self.state.description()
    }

    fn schema(&self) -> Option<SchemaRef> {
        self.state.schema()
    }

    fn rowcount(&self) -> i64 {
        // While a query is read, what the server announced.
        self.state
            .rowcount(self.info.as_ref().map(|info| info.total_records))
    }

    fn arraysize(&self) -> usize {
        self.state.arraysize()
    }

    fn set_arraysize(&mut self, size: usize) {
        self.state.set_arraysize(size);
    }

    async fn fetchone(&mut self) -> Result<Option<Row>> {
        FlightSqlCursor::fetchone(self).await
    }

    async fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        let size = size.unwrap_or(self.state.arraysize());
        let rows = self.result()?.fetchmany(size).await;
        self.fetched(rows, |rows| rows.len() < size)
    }

    async fn fetchall(&mut self) -> Result<Vec<Row>> {
        let rows = self.result()?.fetchall().await;
        self.fetched(rows, |_| true)
    }

    async fn fetch_batch(&mut self) -> Result<Option<RecordBatch>> {
        let batch = self.result()?.fetch_batch().await;
        self.fetched(batch, Option::is_none)
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.timeout = timeout;
        Ok(())
    }

    async fn close(&mut self) -> Result<()> {
        self.release();
        self.state.close();
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.state.is_closed() || self.session.client().is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_one_integer_in_one_row() {
        let count = |batch: RecordBatch| count_of(&[batch]);
        let b = RecordBatch::try_from_iter([(
            "count",
            Arc::new(arrow::array::UInt64Array::from(vec![3_u64])) as _,
        )])
        .unwrap();
        assert_eq!(count(b), Some(3));
        let b = RecordBatch::try_from_iter([(
            "n",
            Arc::new(arrow::array::Int64Array::from(vec![1, 2])) as _,
        )])
        .unwrap();
        assert_eq!(count(b), None, "two rows are rows, not a count");
        let b = RecordBatch::try_from_iter([(
            "s",
            Arc::new(arrow::array::StringArray::from(vec!["3"])) as _,
        )])
        .unwrap();
        assert_eq!(count(b), None);
    }
}

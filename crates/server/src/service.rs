//! The Flight SQL service: DataFusion behind `FlightSqlService`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::Command;
use arrow_flight::sql::metadata::SqlInfoData;
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::{
    ActionBeginSavepointRequest, ActionBeginSavepointResult, ActionBeginTransactionRequest,
    ActionBeginTransactionResult, ActionCancelQueryRequest, ActionCancelQueryResult,
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, ActionEndSavepointRequest, ActionEndTransactionRequest,
    CommandGetCatalogs, CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys,
    CommandGetImportedKeys, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementIngest, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightDescriptor,
    FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, PollInfo, SchemaResult,
    Ticket,
};
use base64::Engine as _;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Response, Status, Streaming};

use crate::catalog::{self, Keys, OptionValue, SESSION_COOKIE, SessionOptions, Sessions};
use crate::engine::{self, Handle, State, Transaction};
use crate::faults::CallKind;
use crate::options::{Auth, Locations, Options, REUSE_CONNECTION};

/// Defines [`Stats`] and the atomic counters behind it, field for field.
macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        /// Counts of the RPCs and events a server (with its replicas) has seen.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct Stats {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $(pub(crate) $name: AtomicU64,)*
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> Stats {
                Stats {
                    $($name: self.$name.load(Ordering::SeqCst),)*
                }
            }
        }
    };
}

counters! {
    /// `Handshake` calls.
    handshake,
    /// `GetFlightInfo` calls.
    get_flight_info,
    /// `PollFlightInfo` calls.
    poll_flight_info,
    /// `GetSchema` calls.
    get_schema,
    /// `DoGet` calls.
    do_get,
    /// Calls failed on purpose by `AnswerFaults::unavailable_every`.
    faults_injected,
    /// `DoGet` streams failed before their first message by `StreamFaults::reset_every`.
    streams_reset,
    /// `DoGet` calls with InfluxDB's JSON ticket (also counted in `do_get`).
    influx_tickets,
    /// Those of them in InfluxQL.
    influxql_tickets,
    /// `DoGet` streams that ended before sending everything (the client went away).
    do_get_cancelled,
    /// `DoGet` streams open now.
    streams_open,
    /// Bytes of Arrow IPC (message headers and bodies) sent in `DoGet` streams.
    bytes_sent,
    /// `DoAction` calls.
    do_action,
    /// `DoPut` calls.
    do_put,
    /// Calls of any kind that carried an `authorization` header.
    with_authorization,
    /// Endpoints renewed (`RenewFlightEndpoint`).
    renewed_endpoints,
    /// Calls that sent back the cookie of [`crate::Options::set_cookie`].
    with_cookie,
    /// Calls whose request messages arrived compressed (`grpc-encoding` other than
    /// `identity`).
    compressed_requests,
    /// Prepared statements created (`CreatePreparedStatement`).
    prepared_created,
    /// Prepared statements closed (`ClosePreparedStatement`).
    prepared_closed,
    /// Parameter bindings (`DoPut` of `CommandPreparedStatementQuery`).
    prepared_bound,
    /// Updates run through `DoPut` (`CommandStatementUpdate`, `CommandPreparedStatementUpdate`),
    /// answered or refused.
    updates,
    /// Bulk ingests (`CommandStatementIngest`).
    ingests,
    /// Transactions begun.
    transactions_begun,
    /// Transactions committed.
    commits,
    /// Transactions rolled back.
    rollbacks,
    /// Savepoints created.
    savepoints,
    /// `CancelFlightInfo` actions.
    cancel_flight_info,
    /// `CancelQuery` actions (the deprecated Flight SQL action).
    cancel_query,
    /// `DoGet` streams stopped because their query was cancelled.
    streams_cancelled,
    /// `GetSqlInfo` requests (`GetFlightInfo` of `CommandGetSqlInfo`).
    sql_info,
    /// Metadata requests (`GetFlightInfo` of every `CommandGet*` but `CommandGetSqlInfo`).
    metadata,
    /// Session option actions (`SetSessionOptions`, `GetSessionOptions`, `CloseSession`).
    session_actions,
    /// GET requests of HTTP locations.
    http_gets,
    /// GET requests of HTTP locations that carried an `authorization` or `cookie` header.
    http_gets_with_credentials,
    /// `DoGet`s that ran their ticket's query (the `DoGet`s of a result's other parts take
    /// the result one of them ran, when they come together or soon after).
    queries_run_at_do_get,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::SeqCst);
}

/// State shared by a server and its replicas.
pub(crate) struct Shared {
    pub(crate) ctx: SessionContext,
    pub(crate) options: RwLock<Options>,
    pub(crate) counters: Counters,
    pub(crate) issued_tokens: RwLock<Vec<String>>,
    pub(crate) replicas: RwLock<Vec<String>>,
    /// How many of the next `DoGet` streams fail, and after how many batches.
    pub(crate) failures: std::sync::Mutex<(usize, usize)>,
    /// Calls of each kind seen, for `AnswerFaults::unavailable_every`.
    pub(crate) calls_by_kind: [AtomicU64; crate::faults::CallKind::COUNT],
    /// `DoGet` streams begun, for `StreamFaults::reset_every`.
    pub(crate) streams_begun: AtomicU64,
    pub(crate) last_headers: RwLock<Vec<(String, String)>>,
    /// The SQL of the statements received (`CommandStatementQuery`, prepared statements), in
    /// order: what a client pushed down.
    pub(crate) statements: RwLock<VecDeque<String>>,
    /// The peer address of every `DoGet` received over TCP, in order (at most the last
    /// 10,000): which machines read the results.
    pub(crate) do_get_peers: RwLock<VecDeque<std::net::SocketAddr>>,
    /// The tickets redeemed, when [`crate::AnswerFaults::tickets_once`].
    pub(crate) redeemed: std::sync::Mutex<std::collections::HashSet<Vec<u8>>>,
    /// Whether an answer carried the token of [`crate::Options::rotate_token`].
    pub(crate) rotated: std::sync::atomic::AtomicBool,
    /// Transactions, prepared statements, cancelled queries.
    pub(crate) state: State,
    /// Keys declared for metadata.
    pub(crate) keys: RwLock<Keys>,
    /// Session options by session id.
    pub(crate) sessions: std::sync::Mutex<Sessions>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("options", &self.options)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// Appends `item` to a log that keeps the last 10,000 items.
fn keep_last<T>(log: &RwLock<VecDeque<T>>, item: T) {
    let mut log = log.write().unwrap_or_else(PoisonError::into_inner);
    if log.len() >= 10_000 {
        log.pop_front();
    }
    log.push_back(item);
}

impl Shared {
    /// Records a statement received (at most the last 10,000 are kept).
    pub(crate) fn record_statement(&self, sql: &str) {
        keep_last(&self.statements, sql.to_owned());
    }

    /// Records the peer of a `DoGet` (at most the last 10,000 are kept).
    pub(crate) fn record_do_get_peer(&self, peer: std::net::SocketAddr) {
        keep_last(&self.do_get_peers, peer);
    }

    pub(crate) fn options(&self) -> Options {
        self.options
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One server instance (a replica shares [`Shared`] with the others).
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) shared: Arc<Shared>,
}

type BoxedStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Encodes batches as Flight data, dictionaries included as they are.
///
/// `FlightDataEncoder` of this arrow-flight version announces `LargeList` columns as `List`
/// (apache/arrow-rs#10291), so the server encodes with the IPC writer directly.
struct Encoder {
    generator: arrow::ipc::writer::IpcDataGenerator,
    tracker: arrow::ipc::writer::DictionaryTracker,
    options: arrow::ipc::writer::IpcWriteOptions,
}

impl Encoder {
    /// An encoder, and the schema message that starts the stream.
    fn new(
        schema: &Schema,
        compression: Option<arrow::ipc::CompressionType>,
    ) -> Result<(Encoder, arrow_flight::FlightData), Status> {
        let options = arrow::ipc::writer::IpcWriteOptions::default()
            .try_with_compression(compression)
            .map_err(|e| Status::internal(format!("cannot compress IPC bodies: {e}")))?;
        let mut encoder = Encoder {
            generator: arrow::ipc::writer::IpcDataGenerator::default(),
            tracker: arrow::ipc::writer::DictionaryTracker::new(false),
            options,
        };
        let message = encoder.generator.schema_to_bytes_with_dictionary_tracker(
            schema,
            &mut encoder.tracker,
            &encoder.options,
        );
        Ok((encoder, message.into()))
    }

    /// The messages of one batch: its dictionaries, then the batch.
    fn encode(&mut self, batch: &RecordBatch) -> Result<Vec<arrow_flight::FlightData>, Status> {
        let (dictionaries, data) = self
            .generator
            .encode(
                batch,
                &mut self.tracker,
                &self.options,
                &mut Default::default(),
            )
            .map_err(|e| Status::internal(format!("cannot encode a batch: {e}")))?;
        let mut out: Vec<arrow_flight::FlightData> =
            dictionaries.into_iter().map(Into::into).collect();
        out.push(data.into());
        Ok(out)
    }
}

/// Request headers that override [`Options`] for one call (benchmarks and tests set them
/// through the client's `header.<name>` URL option).
pub mod overrides {
    /// Split the result into this many endpoints.
    pub const ENDPOINTS: &str = "x-server-endpoints";
    /// Pause this many milliseconds before the first batch of each stream.
    pub const DELAY_MS: &str = "x-server-delay-ms";
    /// `replicas`: put endpoint `i` on replica `i % replicas` (see `Server::spawn_replica`).
    pub const LOCATIONS: &str = "x-server-locations";
}

impl Service {
    /// The options for one call: the shared options with the request's overrides applied.
    fn options_for(&self, metadata: &MetadataMap) -> Result<Options, Status> {
        let mut options = self.shared.options();
        let header = |name: &str| metadata.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str, v: &str| {
            v.parse::<u64>()
                .map_err(|_| Status::invalid_argument(format!("header {name} must be a number")))
        };
        if let Some(v) = header(overrides::ENDPOINTS) {
            options.endpoints = usize::try_from(number(overrides::ENDPOINTS, v)?)
                .map_err(|_| Status::invalid_argument("too many endpoints"))?;
        }
        if let Some(v) = header(overrides::DELAY_MS) {
            options.faults.streams.delay_before_first_batch =
                Duration::from_millis(number(overrides::DELAY_MS, v)?);
        }
        match header(overrides::LOCATIONS) {
            None => {}
            Some("replicas") => {
                let replicas = self
                    .shared
                    .replicas
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if replicas.is_empty() {
                    return Err(Status::failed_precondition("the server has no replicas"));
                }
                options.locations = Locations::RoundRobin(replicas);
            }
            Some(other) => {
                return Err(Status::invalid_argument(format!(
                    "header {}: unknown value {other:?} (expected replicas)",
                    overrides::LOCATIONS
                )));
            }
        }
        Ok(options)
    }

    /// Checks credentials and the required header; records what arrived.
    fn admit(&self, metadata: &MetadataMap) -> Result<(), Status> {
        self.admit_for(metadata, None)
    }

    /// [`admit`](Self::admit) of a call naming its database itself (InfluxDB's ticket): a
    /// required `database` header is then checked against that name instead.
    fn admit_for(&self, metadata: &MetadataMap, database: Option<&str>) -> Result<(), Status> {
        let headers: Vec<(String, String)> = metadata
            .iter()
            .filter_map(|kv| match kv {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => Some((
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )),
                tonic::metadata::KeyAndValueRef::Binary(..) => None,
            })
            .collect();
        *self
            .shared
            .last_headers
            .write()
            .unwrap_or_else(PoisonError::into_inner) = headers;
        let authorization = metadata.get("authorization").and_then(|v| v.to_str().ok());
        if authorization.is_some() {
            bump(&self.shared.counters.with_authorization);
        }
        let options = self.shared.options();
        if let Some(cookie) = &options.set_cookie {
            let sent = metadata
                .get_all("cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .any(|c| c.trim() == cookie);
            if sent {
                bump(&self.shared.counters.with_cookie);
            }
        }
        if metadata
            .get("grpc-encoding")
            .is_some_and(|v| v.as_bytes() != b"identity")
        {
            bump(&self.shared.counters.compressed_requests);
        }
        match &options.auth {
            Auth::None => {}
            Auth::Bearer(token) => match &options.rotate_token {
                Some(rotated) if self.shared.rotated.load(Ordering::SeqCst) => {
                    check_bearer(authorization, |t| t == rotated)?;
                }
                Some(rotated) => check_bearer(authorization, |t| t == token || t == rotated)?,
                None => check_bearer(authorization, |t| t == token)?,
            },
            Auth::Basic { .. } => {
                let issued = self
                    .shared
                    .issued_tokens
                    .read()
                    .unwrap_or_else(PoisonError::into_inner);
                check_bearer(authorization, |t| issued.iter().any(|i| i == t))?;
            }
        }
        if let Some((name, expected)) = &options.required_header {
            let given = match database {
                Some(database) if name == "database" => Some(database),
                _ => metadata.get(name.as_str()).and_then(|v| v.to_str().ok()),
            };
            match given {
                None => {
                    return Err(Status::invalid_argument(format!(
                        "missing required header {name:?}"
                    )));
                }
                Some(v) if v != expected => {
                    return Err(Status::not_found(format!("{name} {v:?} not found")));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The endpoints of parts `parts` of a result split in `total` parts: each ticket is the
    /// statement's handle with its part.
    fn endpoints(
        &self,
        handle: &Handle,
        parts: std::ops::Range<usize>,
        total: usize,
        options: &Options,
    ) -> Vec<FlightEndpoint> {
        parts
            .map(|part| {
                let handle = Handle {
                    part: part as u64,
                    parts: total as u64,
                    ..handle.clone()
                };
                let mut endpoint = expiring_endpoint(handle, options.expiration);
                match &options.locations {
                    Locations::None => {}
                    Locations::ReuseConnection => {
                        endpoint = endpoint.with_location(REUSE_CONNECTION);
                    }
                    Locations::Fixed(uris) => {
                        for uri in uris {
                            endpoint = endpoint.with_location(uri.clone());
                        }
                    }
                    Locations::RoundRobin(uris) => {
                        if !uris.is_empty() {
                            endpoint = endpoint.with_location(uris[part % uris.len()].clone());
                        }
                    }
                    Locations::Http(base) => {
                        if let Some(ticket) = endpoint.ticket.take() {
                            endpoint = endpoint.with_location(crate::ticket_urls::ticket_url(
                                base,
                                &ticket.ticket,
                            ));
                        }
                    }
                }
                endpoint
            })
            .collect()
    }

    /// The session a statement runs in: the transaction's private copy, or the shared one;
    /// unqualified names resolve in `namespace` (catalog, schema; empty: the defaults).
    async fn context(
        &self,
        transaction: &[u8],
        (catalog, schema): (&str, &str),
    ) -> Result<SessionContext, Status> {
        let ctx = if transaction.is_empty() {
            self.shared.ctx.clone()
        } else {
            let txn = self.shared.state.transaction(transaction)?;
            txn.lock().await.ctx.clone()
        };
        if catalog.is_empty() && schema.is_empty() {
            return Ok(ctx);
        }
        let mut state = ctx.state();
        let options = &mut state.config_mut().options_mut().catalog;
        if !catalog.is_empty() {
            options.default_catalog = catalog.to_owned();
        }
        if !schema.is_empty() {
            options.default_schema = schema.to_owned();
        }
        Ok(SessionContext::new_with_state(state))
    }

    /// The session a statement handle runs in.
    async fn context_of(&self, handle: &Handle) -> Result<SessionContext, Status> {
        self.context(&handle.transaction, (&handle.catalog, &handle.schema))
            .await
    }

    /// The id of the session a call belongs to (its `arrow_flight_session_id` cookie).
    fn session_id(metadata: &MetadataMap) -> Option<String> {
        metadata
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, id)| id.to_owned())
    }

    /// The catalog and schema of a call's session (empty: the defaults).
    fn namespace(&self, metadata: &MetadataMap) -> (String, String) {
        let Some(id) = Self::session_id(metadata) else {
            return Default::default();
        };
        let sessions = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(&id)
            .map(catalog::session_namespace)
            .unwrap_or_default()
    }

    /// Runs a statement that changes data with every parameter set: several sets run on a
    /// private copy of the tables that replaces them only when all succeed (atomically).
    async fn run_changes(
        &self,
        ctx: &SessionContext,
        sql: &str,
        params: Option<&RecordBatch>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
        if params.is_none_or(|p| p.num_rows() <= 1) {
            return engine::run(ctx, sql, params).await;
        }
        let copy = engine::copy_tables(ctx).await?;
        let result = engine::run(&copy, sql, params).await?;
        engine::replace_tables(ctx, &copy).await?;
        Ok(result)
    }

    /// The `FlightInfo` of a statement with its bound parameters. A query is planned (it runs
    /// when its endpoints are read); a statement that changes data runs now, once, and its
    /// result (the row count) travels in its one ticket.
    async fn flight_info(
        &self,
        handle: Handle,
        descriptor: FlightDescriptor,
        options: &Options,
    ) -> Result<FlightInfo, Status> {
        let ctx = self.context_of(&handle).await?;
        let params = handle.params()?;
        if params.as_ref().is_some_and(|p| p.num_rows() == 0) {
            return Err(Status::invalid_argument(
                "the bound parameter batch has no rows",
            ));
        }
        let first = engine::plan(&ctx, &handle.sql, params.as_ref().map(|p| (p, 0))).await?;
        let query_id = self.shared.state.next_id();
        let (schema, handle, parts) = if engine::is_eager(&first) {
            let (schema, mut batches) =
                self.run_changes(&ctx, &handle.sql, params.as_ref()).await?;
            if batches.len() > 1 && schema.column_with_name("count").is_some() {
                // One count for all the parameter sets, as for one statement.
                let total = u64::try_from(engine::affected_rows(&batches)).unwrap_or(0);
                batches = vec![
                    RecordBatch::try_new(
                        Arc::clone(&schema),
                        vec![Arc::new(arrow::array::UInt64Array::from(vec![total]))],
                    )
                    .map_err(|e| Status::internal(e.to_string()))?,
                ];
            }
            let inline = engine::ipc_encode(&schema, &batches)?;
            let handle = Handle {
                inline,
                query_id,
                ..Handle::default()
            };
            (schema, handle, 1)
        } else {
            let schema: SchemaRef = Arc::new(first.schema().as_arrow().clone());
            let handle = Handle {
                query_id,
                inline: Vec::new(),
                ..handle
            };
            (schema, handle, options.endpoints)
        };
        let mut info = FlightInfo::new()
            .with_descriptor(descriptor)
            .with_endpoints(self.endpoints(&handle, 0..parts, parts, options))
            .with_ordered(options.ordered);
        if options.send_schema {
            let announced = options.faults.answers.announced(&schema);
            info = info
                .try_with_schema(&announced)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        if options.send_total_records {
            let (_, batches) = self.result_of(&handle).await?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            info = info.with_total_records(i64::try_from(rows).unwrap_or(-1));
        }
        Ok(info)
    }

    /// `DoGet` of InfluxDB's JSON ticket: the query run with its parameters on the default
    /// catalog, the ticket's database checked where the server requires a `database` header.
    async fn do_get_influx(
        &self,
        ticket: crate::influx::InfluxTicket,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        bump(&self.shared.counters.do_get);
        bump(&self.shared.counters.influx_tickets);
        if ticket.influxql {
            bump(&self.shared.counters.influxql_tickets);
        }
        self.admit_for(request.metadata(), Some(&ticket.database))?;
        let options = self.options_for(request.metadata())?;
        let ctx = self.context_of(&Handle::default()).await?;
        let plan = engine::plan_with(&ctx, &ticket.sql, ticket.params).await?;
        let (schema, batches) = engine::collect(&ctx, plan).await?;
        let query_id = self.shared.state.next_id();
        Ok(Response::new(
            self.stream(&schema, batches, 0, query_id, &options)?,
        ))
    }

    /// The whole result a ticket's handle stands for: run once for all its parts when their
    /// `DoGet`s come together or one after another (while it is kept).
    async fn result_of(&self, handle: &Handle) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
        if !handle.inline.is_empty() {
            return engine::ipc_decode(&handle.inline);
        }
        if let Some(kept) = self.shared.state.kept_result(handle) {
            return Ok(kept);
        }
        let _turn = self.shared.state.computing_turn(handle).await;
        if let Some(kept) = self.shared.state.kept_result(handle) {
            return Ok(kept);
        }
        let ctx = self.context_of(handle).await?;
        bump(&self.shared.counters.queries_run_at_do_get);
        let (schema, batches) = engine::run(&ctx, &handle.sql, handle.params()?.as_ref()).await?;
        self.shared.state.keep_result(handle, &schema, &batches);
        Ok((schema, batches))
    }

    /// The statement a prepared statement handle stands for: the handle itself when the server
    /// is stateless, else the statement kept under the handle's id.
    fn resolve(&self, bytes: &[u8]) -> Result<Handle, Status> {
        let handle = Handle::decode_from(bytes, "prepared statement handle")?;
        if handle.statement_id == 0 {
            Ok(handle)
        } else {
            self.shared.state.statement(handle.statement_id)
        }
    }

    /// The handle a client gets for a statement: all of it (stateless) or its id (stateful).
    fn handle_bytes(&self, handle: Handle, stateless: bool) -> Vec<u8> {
        if stateless {
            Handle {
                statement_id: 0,
                ..handle
            }
            .encode_to_vec()
        } else {
            Handle {
                statement_id: handle.statement_id,
                ..Handle::default()
            }
            .encode_to_vec()
        }
    }

    /// The rows of a parameter batch sent with a `DoPut`, if any.
    async fn put_batch(
        request: Request<PeekableFlightDataStream>,
    ) -> Result<Option<RecordBatch>, Status> {
        let stream = request.into_inner().map_err(FlightError::from);
        let mut batches = FlightRecordBatchStream::new_from_flight_data(stream);
        let mut out = Vec::new();
        let mut schema = None;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| Status::invalid_argument(e.to_string()))?;
            schema.get_or_insert_with(|| batch.schema());
            out.push(batch);
        }
        let Some(schema) = schema.or_else(|| batches.schema().cloned()) else {
            return Ok(None);
        };
        let batch = arrow::compute::concat_batches(&schema, &out)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        Ok((batch.num_columns() > 0 || batch.num_rows() > 0).then_some(batch))
    }

    /// A parameter batch as the options say servers take it: at most one row when
    /// [`Options::single_parameter_row`]; matched to placeholders by name when
    /// [`Options::parameters_by_name`] (then reordered into placeholder order).
    async fn received_parameters(
        &self,
        handle: &Handle,
        batch: RecordBatch,
    ) -> Result<RecordBatch, Status> {
        let options = self.shared.options();
        if options.single_parameter_row && batch.num_rows() > 1 {
            return Err(Status::invalid_argument(format!(
                "parameters should contain a single row, got {}",
                batch.num_rows()
            )));
        }
        if !options.parameters_by_name {
            return Ok(batch);
        }
        let ctx = self.context_of(handle).await?;
        let plan = engine::plan(&ctx, &handle.sql, None).await?;
        let expected = engine::parameter_schema(&plan)?;
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for placeholder in expected.fields() {
            let name = placeholder.name().trim_start_matches('$');
            let index = batch.schema().index_of(name).map_err(|_| {
                Status::invalid_argument(format!(
                    "no value for placeholder {}: the parameters have no column named {name:?}",
                    placeholder.name()
                ))
            })?;
            fields.push(
                batch
                    .schema()
                    .field(index)
                    .clone()
                    .with_name(placeholder.name()),
            );
            columns.push(Arc::clone(batch.column(index)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Status::invalid_argument(e.to_string()))
    }

    /// Refuses updates through `DoPut` when the options say so, as DataFusion-based servers do.
    fn check_updates(&self, what: &str) -> Result<(), Status> {
        bump(&self.shared.counters.updates);
        if self.shared.options().updates {
            Ok(())
        } else {
            Err(Status::unimplemented(format!(
                "{what} is not implemented: run statements through CommandStatementQuery"
            )))
        }
    }

    fn check_transactions(&self) -> Result<(), Status> {
        if self.shared.options().transactions {
            Ok(())
        } else {
            Err(Status::unimplemented("transactions are not supported"))
        }
    }

    /// Marks every query of a `FlightInfo`'s tickets cancelled.
    fn cancel_info(&self, info: &FlightInfo) -> Result<(), Status> {
        for endpoint in &info.endpoint {
            let Some(ticket) = &endpoint.ticket else {
                continue;
            };
            let any = arrow_flight::sql::Any::decode(&*ticket.ticket)
                .map_err(|_| Status::invalid_argument("malformed ticket"))?;
            let query = TicketStatementQuery::decode(&*any.value)
                .map_err(|_| Status::invalid_argument("malformed ticket"))?;
            let handle = Handle::decode_from(&query.statement_handle, "ticket")?;
            self.shared.state.cancel(handle.query_id);
        }
        Ok(())
    }

    /// `SetSessionOptions`, `GetSessionOptions`, `CloseSession`: sessions are named by the
    /// `arrow_flight_session_id` cookie, set in the answer that opens one.
    fn session_action(
        &self,
        kind: &str,
        request: &Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        bump(&self.shared.counters.session_actions);
        if !self.shared.options().session_options {
            return Err(Status::unimplemented(format!("{kind} is not implemented")));
        }
        let id = Self::session_id(request.metadata());
        let mut sessions = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let no_session = || Status::not_found("no such session: set a session option first");
        let (body, opened) = match kind {
            "SetSessionOptions" => {
                let set = SessionOptions::decode(&*request.get_ref().body)
                    .map_err(|_| Status::invalid_argument("malformed SetSessionOptionsRequest"))?;
                let (id, opened) = match id.filter(|id| sessions.contains_key(id)) {
                    Some(id) => (id, false),
                    None => (format!("s{}", self.shared.state.next_id()), true),
                };
                let options = sessions.entry(id.clone()).or_default();
                let mut errors = std::collections::HashMap::new();
                // Sorted, so that `catalog` is set before `schema` is checked against it.
                let mut names: Vec<&String> = set.options.keys().collect();
                names.sort();
                for name in names {
                    let value: &OptionValue = &set.options[name];
                    match catalog::check_option(&self.shared.ctx, options, name, value) {
                        Some(code) => {
                            errors.insert(name.clone(), catalog::SetError { value: code });
                        }
                        None if value.value.is_none() => {
                            options.remove(name);
                        }
                        None => {
                            options.insert(name.clone(), value.clone());
                        }
                    }
                }
                let result = catalog::SetResult { errors };
                (result.encode_to_vec(), opened.then_some(id))
            }
            "GetSessionOptions" => {
                let options = id.and_then(|id| sessions.get(&id)).ok_or_else(no_session)?;
                let result = SessionOptions {
                    options: options.clone().into_iter().collect(),
                };
                (result.encode_to_vec(), None)
            }
            _ => {
                id.and_then(|id| sessions.remove(&id))
                    .ok_or_else(no_session)?;
                (catalog::CloseResult { status: 1 }.encode_to_vec(), None)
            }
        };
        let out = futures::stream::iter([Ok(arrow_flight::Result::new(body))]);
        let mut response: Response<<Self as FlightService>::DoActionStream> =
            Response::new(Box::pin(out));
        if let Some(id) = opened {
            let cookie = MetadataValue::try_from(format!("{SESSION_COOKIE}={id}; Path=/"))
                .map_err(|_| Status::internal("session id is not a valid header value"))?;
            response.metadata_mut().insert("set-cookie", cookie);
        }
        Ok(response)
    }

    /// Counts a metadata command, refusing it when the options say so.
    fn check_metadata(&self, name: &str, metadata: &MetadataMap) -> Result<(), Status> {
        bump(&self.shared.counters.metadata);
        self.admit(metadata)?;
        if self
            .shared
            .options()
            .unimplemented
            .iter()
            .any(|n| n == name)
        {
            return Err(Status::unimplemented(format!("{name} is not implemented")));
        }
        Ok(())
    }

    fn keys(&self) -> Keys {
        self.shared
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The `FlightInfo` of a metadata answer computed now: the answer travels in the
    /// tickets, split into the configured number of endpoints like any result.
    fn metadata_info(
        &self,
        batch: RecordBatch,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let options = self.options_for(request.metadata())?;
        let schema = batch.schema();
        let handle = Handle {
            inline: engine::ipc_encode(&schema, &[batch])?,
            query_id: self.shared.state.next_id(),
            ..Handle::default()
        };
        let parts = options.endpoints;
        let info = FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoints(self.endpoints(&handle, 0..parts, parts, &options))
            .with_ordered(options.ordered)
            .with_descriptor(request.into_inner());
        Ok(Response::new(info))
    }

    /// `RenewFlightEndpoint`: the endpoint with a ticket valid for another
    /// [`Options::expiration`].
    fn renew_endpoint(
        &self,
        request: &Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        let options = self.shared.options();
        if !options.renew_endpoints {
            return Err(Status::unimplemented(
                "RenewFlightEndpoint is not implemented",
            ));
        }
        let renew = arrow_flight::RenewFlightEndpointRequest::decode(&*request.get_ref().body)
            .map_err(|_| Status::invalid_argument("malformed RenewFlightEndpointRequest"))?;
        let old = renew.endpoint.ok_or_else(|| {
            Status::invalid_argument("RenewFlightEndpointRequest without an endpoint")
        })?;
        let ticket = old
            .ticket
            .as_ref()
            .ok_or_else(|| Status::invalid_argument("the endpoint has no ticket"))?;
        let any = arrow_flight::sql::Any::decode(&*ticket.ticket)
            .map_err(|_| Status::invalid_argument("malformed ticket"))?;
        let query = TicketStatementQuery::decode(&*any.value)
            .map_err(|_| Status::invalid_argument("malformed ticket"))?;
        let handle = Handle::decode_from(&query.statement_handle, "ticket")?;
        if handle.expires_at_ms != 0 && now_ms() > handle.expires_at_ms {
            return Err(Status::not_found(
                "the endpoint expired before it was renewed",
            ));
        }
        bump(&self.shared.counters.renewed_endpoints);
        let mut endpoint = expiring_endpoint(handle, options.expiration);
        endpoint.location = old.location;
        endpoint.app_metadata = old.app_metadata;
        let out = futures::stream::iter([Ok(arrow_flight::Result::new(endpoint.encode_to_vec()))]);
        Ok(Response::new(Box::pin(out)))
    }

    /// The server's `SqlInfo` values.
    fn sql_info(&self) -> Result<SqlInfoData, Status> {
        let options = self.shared.options();
        catalog::sql_info(
            options.server_name.as_deref(),
            options.transactions,
            options.says_it_cancels,
        )
    }

    /// A `DoGet` stream of batches, with the server's fault hooks and cancellation applied.
    fn stream(
        &self,
        schema: &Schema,
        batches: Vec<RecordBatch>,
        part: usize,
        query_id: u64,
        options: &Options,
    ) -> Result<<Self as FlightService>::DoGetStream, Status> {
        let reset_every = options.faults.streams.reset_every;
        if reset_every > 0
            && crate::faults::nth(
                reset_every,
                self.shared.streams_begun.fetch_add(1, Ordering::SeqCst) + 1,
                crate::faults::STREAM_SLOT,
            )
        {
            bump(&self.shared.counters.streams_reset);
            let reset = Status::unavailable("injected fault: stream reset before any data");
            return Ok(futures::stream::iter([Err(reset)]).boxed());
        }
        let (mut encoder, schema_message) = Encoder::new(schema, options.ipc_compression)?;
        let fail_after = {
            let mut failures = self
                .shared
                .failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if failures.0 > 0 {
                failures.0 -= 1;
                Some(failures.1)
            } else {
                None
            }
        };
        let faults = options.faults.streams.clone();
        let pacing = faults.clone();
        bump(&self.shared.counters.streams_open);
        let mut guard = CancelGuard {
            shared: Arc::clone(&self.shared),
            finished: false,
        };
        let shared = Arc::clone(&self.shared);
        let body = futures::stream::iter(batches.into_iter().enumerate())
            .then(move |(n, batch)| {
                let delay = pacing.delay(part, n);
                async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    batch
                }
            })
            .enumerate()
            .flat_map(move |(n, batch)| {
                let messages: Vec<Result<arrow_flight::FlightData, Status>> =
                    if shared.state.is_cancelled(query_id) {
                        bump(&shared.counters.streams_cancelled);
                        vec![Err(Status::cancelled("the query was cancelled"))]
                    } else if fail_after == Some(n) {
                        vec![Err(Status::unavailable("injected fault: stream broken"))]
                    } else {
                        match encoder.encode(&batch) {
                            Ok(messages) => {
                                let mut messages: Vec<_> = messages.into_iter().map(Ok).collect();
                                faults.break_messages(part, n, &mut messages);
                                messages
                            }
                            Err(e) => vec![Err(e)],
                        }
                    };
                futures::stream::iter(messages)
            })
            // Nothing after an error.
            .scan(false, |failed, item| {
                let out = (!*failed).then_some(item);
                if let Some(Err(_)) = &out {
                    *failed = true;
                }
                futures::future::ready(out)
            });
        let counted = Arc::clone(&self.shared);
        let data = futures::stream::once(futures::future::ready(Ok(schema_message)))
            .chain(body)
            .inspect(move |message| {
                if let Ok(data) = message {
                    counted.counters.bytes_sent.fetch_add(
                        (data.data_header.len() + data.data_body.len()) as u64,
                        Ordering::SeqCst,
                    );
                }
            })
            .chain(futures::stream::poll_fn(move |_| {
                guard.finish();
                std::task::Poll::Ready(None)
            }));
        Ok(data.boxed())
    }
}

/// An endpoint for a ticket's handle; with a time to live, the ticket and the endpoint
/// carry the moment it expires.
fn expiring_endpoint(mut handle: Handle, ttl: Option<std::time::Duration>) -> FlightEndpoint {
    let expires = ttl.map(|ttl| {
        (std::time::SystemTime::now() + ttl)
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    });
    handle.expires_at_ms = expires.map_or(0, |e| e.as_millis() as u64);
    let ticket = TicketStatementQuery {
        statement_handle: handle.encode_to_vec().into(),
    };
    let mut endpoint =
        FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec()));
    if let Some(since) = expires {
        endpoint = endpoint.with_expiration_time(prost_types::Timestamp {
            seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
        });
    }
    endpoint
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

fn check_bearer(authorization: Option<&str>, valid: impl Fn(&str) -> bool) -> Result<(), Status> {
    let value =
        authorization.ok_or_else(|| Status::unauthenticated("missing authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| Status::unauthenticated("authorization header is not a Bearer token"))?;
    if valid(token) {
        Ok(())
    } else {
        Err(Status::unauthenticated("invalid token"))
    }
}

/// Counts a `DoGet` stream as cancelled when it is dropped before its end.
struct CancelGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl CancelGuard {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        self.shared
            .counters
            .streams_open
            .fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            bump(&self.shared.counters.do_get_cancelled);
        }
    }
}

#[tonic::async_trait]
impl FlightSqlService for Service {
    type FlightService = Service;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<BoxedStream<HandshakeResponse>>, Status> {
        bump(&self.shared.counters.handshake);
        let options = self.shared.options();
        let Auth::Basic { username, password } = &options.auth else {
            // Nothing to authenticate: accept, issue no token.
            let out = futures::stream::iter([Ok(HandshakeResponse::default())]);
            return Ok(Response::new(Box::pin(out)));
        };
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("missing authorization header"))?;
        let encoded = header
            .strip_prefix("Basic ")
            .ok_or_else(|| Status::unauthenticated("authorization header is not Basic"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Status::unauthenticated("malformed Basic credentials"))?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or_else(|| Status::unauthenticated("malformed Basic credentials"))?;
        if user != username || pass != password {
            return Err(Status::unauthenticated("invalid username or password"));
        }
        let token = {
            let mut issued = self
                .shared
                .issued_tokens
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let token = format!("token-{}-{}", user, issued.len() + 1);
            issued.push(token.clone());
            token
        };
        let out = futures::stream::iter([Ok(HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        })]);
        let mut response: Response<BoxedStream<HandshakeResponse>> = Response::new(Box::pin(out));
        let value = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| Status::internal("token is not a valid header value"))?;
        response.metadata_mut().insert("authorization", value);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        bump(&self.shared.counters.get_flight_info);
        self.admit(request.metadata())?;
        self.shared.record_statement(&query.query);
        let options = self.options_for(request.metadata())?;
        let (catalog, schema) = self.namespace(request.metadata());
        let handle = Handle {
            sql: query.query,
            transaction: query.transaction_id.map(|t| t.to_vec()).unwrap_or_default(),
            catalog,
            schema,
            ..Handle::default()
        };
        let info = self
            .flight_info(handle, request.into_inner(), &options)
            .await?;
        Ok(Response::new(info))
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        bump(&self.shared.counters.get_flight_info);
        self.admit(request.metadata())?;
        let options = self.options_for(request.metadata())?;
        let handle = self.resolve(&query.prepared_statement_handle)?;
        let info = self
            .flight_info(handle, request.into_inner(), &options)
            .await?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        bump(&self.shared.counters.do_get);
        if request
            .extensions()
            .get::<crate::ticket_urls::Presigned>()
            .is_none()
        {
            self.admit(request.metadata())?;
        }
        let options = self.options_for(request.metadata())?;
        let handle = Handle::decode_from(&ticket.statement_handle, "ticket")?;
        if handle.parts == 0 || handle.part >= handle.parts {
            return Err(Status::invalid_argument("malformed ticket"));
        }
        if handle.expires_at_ms != 0 && now_ms() > handle.expires_at_ms {
            return Err(Status::not_found("the ticket expired"));
        }
        if options.faults.answers.tickets_once {
            let first = self
                .shared
                .redeemed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(ticket.statement_handle.to_vec());
            if !first {
                return Err(Status::not_found("this ticket was already redeemed"));
            }
        }
        if self.shared.state.is_cancelled(handle.query_id) {
            return Err(Status::cancelled("the query was cancelled"));
        }
        let part = usize::try_from(handle.part).unwrap_or(usize::MAX);
        let (schema, batches) = self.result_of(&handle).await?;
        let batches = engine::slice_part(batches, handle.part, handle.parts);
        let (schema, batches) = options.faults.streams.rename(part, schema, batches)?;
        Ok(Response::new(self.stream(
            &schema,
            batches,
            part,
            handle.query_id,
            &options,
        )?))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        bump(&self.shared.counters.sql_info);
        self.admit(request.metadata())?;
        if !self.shared.options().sql_info {
            return Err(Status::unimplemented("GetSqlInfo is not implemented"));
        }
        let mut batch = query
            .into_builder(&self.sql_info()?)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        if self.shared.options().sql_info_shuffled {
            batch = catalog::shuffle_union(&batch)?;
        }
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_catalogs(
        &self,
        _query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetCatalogs", request.metadata())?;
        self.metadata_info(catalog::catalogs(&self.shared.ctx)?, request)
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetDbSchemas", request.metadata())?;
        let needs_catalog = self.shared.options().metadata_needs_catalog;
        let batch = catalog::schemas(&self.shared.ctx, query, needs_catalog)?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetTables", request.metadata())?;
        let needs_catalog = self.shared.options().metadata_needs_catalog;
        let keys = self.keys();
        let batch = catalog::tables(&self.shared.ctx, &keys, query, needs_catalog).await?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_table_types(
        &self,
        _query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetTableTypes", request.metadata())?;
        self.metadata_info(catalog::table_types()?, request)
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetPrimaryKeys", request.metadata())?;
        let batch = catalog::primary_keys(
            &self.keys(),
            query.catalog.as_ref(),
            query.db_schema.as_ref(),
            &query.table,
        )?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetImportedKeys", request.metadata())?;
        let batch = catalog::foreign_keys(&self.keys(), |k| {
            k.table.is(
                query.catalog.as_ref(),
                query.db_schema.as_ref(),
                &query.table,
            )
        })?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetExportedKeys", request.metadata())?;
        let batch = catalog::foreign_keys(&self.keys(), |k| {
            k.references.is(
                query.catalog.as_ref(),
                query.db_schema.as_ref(),
                &query.table,
            )
        })?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetCrossReference", request.metadata())?;
        let batch = catalog::foreign_keys(&self.keys(), |k| {
            k.references.is(
                query.pk_catalog.as_ref(),
                query.pk_db_schema.as_ref(),
                &query.pk_table,
            ) && k.table.is(
                query.fk_catalog.as_ref(),
                query.fk_db_schema.as_ref(),
                &query.fk_table,
            )
        })?;
        self.metadata_info(batch, request)
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check_metadata("CommandGetXdbcTypeInfo", request.metadata())?;
        let types = catalog::xdbc_types()?;
        let batch = query
            .into_builder(&types)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        self.metadata_info(batch, request)
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        bump(&self.shared.counters.do_put);
        self.admit(request.metadata())?;
        if self.shared.options().prepared_updates_ignored {
            bump(&self.shared.counters.updates);
            return Err(Status::unimplemented(
                "CommandStatementUpdate is not implemented",
            ));
        }
        self.check_updates("CommandStatementUpdate")?;
        let transaction = command
            .transaction_id
            .map(|t| t.to_vec())
            .unwrap_or_default();
        let (catalog, schema) = self.namespace(request.metadata());
        let ctx = self.context(&transaction, (&catalog, &schema)).await?;
        let (_, batches) = engine::run(&ctx, &command.query, None).await?;
        Ok(engine::affected_rows(&batches))
    }

    async fn do_put_prepared_statement_update(
        &self,
        command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        bump(&self.shared.counters.do_put);
        self.admit(request.metadata())?;
        if self.shared.options().prepared_updates_ignored {
            // Answered, and nothing run.
            bump(&self.shared.counters.updates);
            return Ok(-1);
        }
        self.check_updates("CommandPreparedStatementUpdate")?;
        let handle = self.resolve(&command.prepared_statement_handle)?;
        let params = match Self::put_batch(request).await? {
            Some(batch) => Some(self.received_parameters(&handle, batch).await?),
            None => handle.params()?,
        };
        let ctx = self.context_of(&handle).await?;
        let (_, batches) = self.run_changes(&ctx, &handle.sql, params.as_ref()).await?;
        Ok(engine::affected_rows(&batches))
    }

    async fn do_put_prepared_statement_query(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        bump(&self.shared.counters.do_put);
        bump(&self.shared.counters.prepared_bound);
        self.admit(request.metadata())?;
        let handle = self.resolve(&command.prepared_statement_handle)?;
        let params = match Self::put_batch(request).await? {
            Some(batch) => Some(self.received_parameters(&handle, batch).await?),
            None => None,
        };
        let params = match params {
            Some(batch) => engine::ipc_encode(&batch.schema(), &[batch])?,
            None => Vec::new(),
        };
        let bound = Handle { params, ..handle };
        if self.shared.options().stateless_statements {
            Ok(DoPutPreparedStatementResult {
                prepared_statement_handle: Some(self.handle_bytes(bound, true).into()),
            })
        } else {
            self.shared.state.update_statement(bound);
            Ok(DoPutPreparedStatementResult {
                prepared_statement_handle: None,
            })
        }
    }

    async fn do_put_statement_ingest(
        &self,
        command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        use arrow_flight::sql::{TableExistsOption, TableNotExistOption};
        bump(&self.shared.counters.do_put);
        bump(&self.shared.counters.ingests);
        self.admit(request.metadata())?;
        let transaction = command
            .transaction_id
            .map(|t| t.to_vec())
            .unwrap_or_default();
        let (catalog, schema) = self.namespace(request.metadata());
        let ctx = self.context(&transaction, (&catalog, &schema)).await?;
        let table = command.table;
        let (if_not_exist, if_exists) = command
            .table_definition_options
            .map(|o| (o.if_not_exist, o.if_exists))
            .unwrap_or_default();
        let exists = ctx.table_exist(table.as_str()).map_err(engine::df_status)?;
        if exists
            && if_exists != TableExistsOption::Append as i32
            && if_exists != TableExistsOption::Replace as i32
        {
            return Err(Status::already_exists(format!(
                "table {table} already exists"
            )));
        }
        if !exists && if_not_exist != TableNotExistOption::Create as i32 {
            return Err(Status::not_found(format!("table {table} does not exist")));
        }
        let stream = request.into_inner().map_err(FlightError::from);
        let mut incoming = FlightRecordBatchStream::new_from_flight_data(stream);
        let mut batches = Vec::new();
        let mut rows = 0_usize;
        while let Some(batch) = incoming.next().await {
            let batch = batch.map_err(|e| Status::invalid_argument(e.to_string()))?;
            rows += batch.num_rows();
            batches.push(batch);
        }
        let schema = match (batches.first(), incoming.schema()) {
            (Some(b), _) => b.schema(),
            (None, Some(s)) => s.clone(),
            (None, None) => {
                return Err(Status::invalid_argument("the ingest stream has no schema"));
            }
        };
        if exists && if_exists == TableExistsOption::Append as i32 {
            let existing = ctx.table(table.as_str()).await.map_err(engine::df_status)?;
            let existing_schema = existing.schema().as_arrow().clone();
            let same = existing_schema.fields().len() == schema.fields().len()
                && existing_schema
                    .fields()
                    .iter()
                    .zip(schema.fields())
                    .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
            if !same {
                return Err(Status::invalid_argument(format!(
                    "the ingested schema does not match table {table}"
                )));
            }
            let mut all = existing.collect().await.map_err(engine::df_status)?;
            let existing_schema = Arc::new(existing_schema);
            for batch in batches {
                all.push(
                    RecordBatch::try_new(Arc::clone(&existing_schema), batch.columns().to_vec())
                        .map_err(|e| Status::invalid_argument(e.to_string()))?,
                );
            }
            batches = all;
        }
        let schema = batches.first().map_or(schema, RecordBatch::schema);
        let provider = MemTable::try_new(schema, vec![batches]).map_err(engine::df_status)?;
        ctx.deregister_table(table.as_str())
            .map_err(engine::df_status)?;
        ctx.register_table(table.as_str(), Arc::new(provider))
            .map_err(engine::df_status)?;
        Ok(i64::try_from(rows).unwrap_or(i64::MAX))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        self.shared.record_statement(&query.query);
        let transaction = query.transaction_id.map(|t| t.to_vec()).unwrap_or_default();
        let (catalog, schema) = self.namespace(request.metadata());
        let ctx = self.context(&transaction, (&catalog, &schema)).await?;
        let plan = engine::plan(&ctx, &query.query, None).await?;
        let parameters = engine::parameter_schema(&plan)?;
        let dataset = plan.schema().as_arrow().clone();
        bump(&self.shared.counters.prepared_created);
        let mut handle = Handle {
            sql: query.query,
            transaction,
            catalog,
            schema,
            ..Handle::default()
        };
        let stateless = self.shared.options().stateless_statements;
        if !stateless {
            handle.statement_id = self.shared.state.keep_statement(handle.clone());
        }
        let ipc = |schema: &Schema| -> Result<bytes::Bytes, Status> {
            let options = arrow::ipc::writer::IpcWriteOptions::default();
            let message = arrow_flight::IpcMessage::try_from(arrow_flight::SchemaAsIpc::new(
                schema, &options,
            ))
            .map_err(|e| Status::internal(e.to_string()))?;
            Ok(message.0)
        };
        let parameter_schema = if self.shared.options().parameters_by_name {
            bytes::Bytes::new()
        } else {
            ipc(&parameters)?
        };
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: self.handle_bytes(handle, stateless).into(),
            dataset_schema: ipc(&dataset)?,
            parameter_schema,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        let handle = Handle::decode_from(
            &query.prepared_statement_handle,
            "prepared statement handle",
        )?;
        if handle.statement_id != 0 && !self.shared.state.close_statement(handle.statement_id) {
            return Err(Status::not_found(format!(
                "prepared statement {} is not open",
                handle.statement_id
            )));
        }
        bump(&self.shared.counters.prepared_closed);
        Ok(())
    }

    async fn do_action_begin_transaction(
        &self,
        _query: ActionBeginTransactionRequest,
        request: Request<Action>,
    ) -> Result<ActionBeginTransactionResult, Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        self.check_transactions()?;
        let ctx = engine::copy_tables(&self.shared.ctx).await?;
        let id = self.shared.state.begin(Transaction {
            ctx,
            savepoints: Default::default(),
        });
        bump(&self.shared.counters.transactions_begun);
        Ok(ActionBeginTransactionResult {
            transaction_id: id.into(),
        })
    }

    async fn do_action_end_transaction(
        &self,
        query: ActionEndTransactionRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        use arrow_flight::sql::EndTransaction;
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        self.check_transactions()?;
        let commit = match EndTransaction::try_from(query.action) {
            Ok(EndTransaction::Commit) => true,
            Ok(EndTransaction::Rollback) => false,
            _ => return Err(Status::invalid_argument("unknown end of transaction")),
        };
        let txn = self.shared.state.end(&query.transaction_id)?;
        if commit {
            let txn = txn.lock().await;
            engine::replace_tables(&self.shared.ctx, &txn.ctx).await?;
            bump(&self.shared.counters.commits);
        } else {
            bump(&self.shared.counters.rollbacks);
        }
        Ok(())
    }

    async fn do_action_begin_savepoint(
        &self,
        query: ActionBeginSavepointRequest,
        request: Request<Action>,
    ) -> Result<ActionBeginSavepointResult, Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        self.check_transactions()?;
        let txn = self.shared.state.transaction(&query.transaction_id)?;
        let mut txn = txn.lock().await;
        let copy = engine::copy_tables(&txn.ctx).await?;
        let mut id = query.transaction_id.to_vec();
        id.extend_from_slice(format!("#{}", self.shared.state.next_id()).as_bytes());
        txn.savepoints.insert(id.clone(), copy);
        bump(&self.shared.counters.savepoints);
        Ok(ActionBeginSavepointResult {
            savepoint_id: id.into(),
        })
    }

    async fn do_action_end_savepoint(
        &self,
        query: ActionEndSavepointRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        self.check_transactions()?;
        let id = query.savepoint_id.to_vec();
        let split = id
            .iter()
            .rposition(|b| *b == b'#')
            .ok_or_else(|| Status::invalid_argument("malformed savepoint id"))?;
        let txn = self.shared.state.transaction(&id[..split])?;
        let mut txn = txn.lock().await;
        let saved = txn
            .savepoints
            .remove(&id)
            .ok_or_else(|| Status::not_found("no such savepoint"))?;
        // EndSavepoint: 1 = release, 2 = rollback.
        match query.action {
            1 => {}
            2 => engine::replace_tables(&txn.ctx, &saved).await?,
            _ => return Err(Status::invalid_argument("unknown end of savepoint")),
        }
        Ok(())
    }

    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        bump(&self.shared.counters.do_action);
        bump(&self.shared.counters.cancel_query);
        self.admit(request.metadata())?;
        let info = FlightInfo::decode(&*query.info)
            .map_err(|_| Status::invalid_argument("malformed FlightInfo"))?;
        self.cancel_info(&info)?;
        Ok(ActionCancelQueryResult {
            result: 1, // CancelResult::Cancelled
        })
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        bump(&self.shared.counters.do_action);
        self.admit(request.metadata())?;
        let kind = request.get_ref().r#type.clone();
        if matches!(
            kind.as_str(),
            "SetSessionOptions" | "GetSessionOptions" | "CloseSession"
        ) {
            return self.session_action(&kind, &request);
        }
        if kind == "RenewFlightEndpoint" {
            return self.renew_endpoint(&request);
        }
        if request.get_ref().r#type != "CancelFlightInfo" {
            return Err(Status::invalid_argument(format!(
                "unknown action {:?}",
                request.get_ref().r#type
            )));
        }
        bump(&self.shared.counters.cancel_flight_info);
        if !self.shared.options().cancel_flight_info {
            return Err(Status::unimplemented("CancelFlightInfo is not implemented"));
        }
        let cancel = CancelFlightInfoRequest::decode(&*request.get_ref().body)
            .map_err(|_| Status::invalid_argument("malformed CancelFlightInfoRequest"))?;
        let info = cancel.info.ok_or_else(|| {
            Status::invalid_argument("CancelFlightInfoRequest without a FlightInfo")
        })?;
        self.cancel_info(&info)?;
        let result = CancelFlightInfoResult {
            status: CancelStatus::Cancelled as i32,
        };
        let out = futures::stream::iter([Ok(arrow_flight::Result::new(result.encode_to_vec()))]);
        Ok(Response::new(Box::pin(out)))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// The gRPC service: [`Service`] through `FlightSqlService`, plus the Flight calls that
/// trait does not route (`PollFlightInfo`, `GetSchema`).
#[derive(Debug, Clone)]
pub(crate) struct Outer(pub(crate) Service);

/// Where a polled query stands, sent back by the client as the next descriptor's command.
#[derive(Clone, PartialEq, Message)]
struct PollState {
    #[prost(bytes = "vec", tag = "1")]
    handle: Vec<u8>,
    #[prost(uint64, tag = "2")]
    revealed: u64,
    #[prost(uint64, tag = "3")]
    total: u64,
}

const POLL_STATE_TYPE: &str = "type.dbapi-flightsql-server/PollState";

impl Outer {
    async fn poll(&self, request: Request<FlightDescriptor>) -> Result<PollInfo, Status> {
        let service = &self.0;
        bump(&service.shared.counters.poll_flight_info);
        service.admit(request.metadata())?;
        let options = service.options_for(request.metadata())?;
        tokio::time::sleep(options.poll_delay).await;
        let (catalog, schema) = service.namespace(request.metadata());
        let descriptor = request.into_inner();
        let any = arrow_flight::sql::Any::decode(&*descriptor.cmd)
            .map_err(|_| Status::invalid_argument("malformed command"))?;
        let (handle, revealed, total, schema) = if any.type_url == POLL_STATE_TYPE {
            let state = PollState::decode(&*any.value)
                .map_err(|_| Status::invalid_argument("malformed poll state"))?;
            let handle = Handle::decode_from(&state.handle, "poll state")?;
            (handle, state.revealed + 1, state.total, None)
        } else {
            let query = CommandStatementQuery::decode(&*any.value).map_err(|_| {
                Status::invalid_argument("PollFlightInfo serves CommandStatementQuery only")
            })?;
            let handle = Handle {
                sql: query.query,
                transaction: query.transaction_id.map(|t| t.to_vec()).unwrap_or_default(),
                query_id: service.shared.state.next_id(),
                catalog,
                schema,
                ..Handle::default()
            };
            let ctx = service.context_of(&handle).await?;
            let plan = engine::plan(&ctx, &handle.sql, None).await?;
            if engine::is_eager(&plan) {
                return Err(Status::invalid_argument(
                    "PollFlightInfo serves queries only",
                ));
            }
            let schema = plan.schema().as_arrow().clone();
            (handle, 1, options.endpoints as u64, Some(schema))
        };
        let revealed = revealed.min(total);
        let endpoints = service.endpoints(&handle, 0..revealed as usize, total as usize, &options);
        let mut info = FlightInfo::new()
            .with_endpoints(endpoints)
            .with_ordered(options.ordered);
        if let Some(schema) = &schema {
            info = info
                .try_with_schema(schema)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let next = (revealed < total).then(|| {
            let state = PollState {
                handle: handle.encode_to_vec(),
                revealed,
                total,
            };
            let any = arrow_flight::sql::Any {
                type_url: POLL_STATE_TYPE.to_owned(),
                value: state.encode_to_vec().into(),
            };
            FlightDescriptor::new_cmd(any.encode_to_vec())
        });
        Ok(PollInfo {
            info: Some(info),
            flight_descriptor: next,
            progress: Some(if total == 0 {
                1.0
            } else {
                revealed as f64 / total as f64
            }),
            expiration_time: None,
        })
    }

    async fn schema(&self, request: Request<FlightDescriptor>) -> Result<SchemaResult, Status> {
        let service = &self.0;
        bump(&service.shared.counters.get_schema);
        service.admit(request.metadata())?;
        let (catalog, schema) = service.namespace(request.metadata());
        let any = arrow_flight::sql::Any::decode(&*request.get_ref().cmd)
            .map_err(|_| Status::invalid_argument("malformed command"))?;
        let handle =
            match Command::try_from(any).map_err(|e| Status::invalid_argument(e.to_string()))? {
                Command::CommandStatementQuery(query) => Handle {
                    sql: query.query,
                    transaction: query.transaction_id.map(|t| t.to_vec()).unwrap_or_default(),
                    catalog,
                    schema,
                    ..Handle::default()
                },
                Command::CommandPreparedStatementQuery(query) => {
                    service.resolve(&query.prepared_statement_handle)?
                }
                other => {
                    return Err(Status::unimplemented(format!(
                        "GetSchema of {} is not implemented",
                        other.type_url()
                    )));
                }
            };
        let ctx = service.context_of(&handle).await?;
        let plan = engine::plan(&ctx, &handle.sql, None).await?;
        let schema = plan.schema().as_arrow().clone();
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        SchemaResult::try_from(arrow_flight::SchemaAsIpc::new(&schema, &options))
            .map_err(|e| Status::internal(e.to_string()))
    }
}

impl Outer {
    /// Adds what every answer carries: a rotated token, a cookie.
    /// The fault of `AnswerFaults::unavailable_every` this call gets, if it gets one.
    fn injected(&self, kind: crate::faults::CallKind) -> Result<(), Status> {
        let shared = &self.0.shared;
        let every = shared.options().faults.answers.unavailable_every;
        if every == 0 {
            return Ok(());
        }
        let n = shared.calls_by_kind[kind as usize].fetch_add(1, Ordering::SeqCst) + 1;
        match crate::faults::injected(every, n, kind) {
            Some(status) => {
                bump(&shared.counters.faults_injected);
                Err(status)
            }
            None => Ok(()),
        }
    }

    fn decorate<T>(&self, answer: Result<Response<T>, Status>) -> Result<Response<T>, Status> {
        let options = self.0.shared.options();
        let mut response = answer.map_err(|status| options.faults.answers.status(status))?;
        if let (Auth::Bearer(_), Some(token)) = (&options.auth, &options.rotate_token)
            && let Ok(value) = format!("Bearer {token}").parse()
        {
            response.metadata_mut().insert("authorization", value);
            self.0.shared.rotated.store(true, Ordering::SeqCst);
        }
        if let Some(cookie) = &options.set_cookie
            && let Ok(value) = format!("{cookie}; Path=/; HttpOnly").parse()
        {
            response.metadata_mut().append("set-cookie", value);
        }
        Ok(response)
    }
}

#[tonic::async_trait]
impl FlightService for Outer {
    type HandshakeStream = <Service as FlightService>::HandshakeStream;
    type ListFlightsStream = <Service as FlightService>::ListFlightsStream;
    type DoGetStream = <Service as FlightService>::DoGetStream;
    type DoPutStream = <Service as FlightService>::DoPutStream;
    type DoActionStream = <Service as FlightService>::DoActionStream;
    type ListActionsStream = <Service as FlightService>::ListActionsStream;
    type DoExchangeStream = <Service as FlightService>::DoExchangeStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        self.injected(CallKind::Handshake)?;
        self.decorate(FlightService::handshake(&self.0, request).await)
    }

    async fn list_flights(
        &self,
        request: Request<arrow_flight::Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        FlightService::list_flights(&self.0, request).await
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.injected(CallKind::GetFlightInfo)?;
        let plan_delay = self.0.shared.options().faults.answers.plan_delay;
        if !plan_delay.is_zero() {
            tokio::time::sleep(plan_delay).await;
        }
        self.decorate(FlightService::get_flight_info(&self.0, request).await)
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        self.injected(CallKind::PollFlightInfo)?;
        self.decorate(Ok(Response::new(self.poll(request).await?)))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        self.injected(CallKind::GetSchema)?;
        self.decorate(Ok(Response::new(self.schema(request).await?)))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        if let Some(peer) = request.remote_addr() {
            self.0.shared.record_do_get_peer(peer);
        }
        self.injected(CallKind::DoGet)?;
        match crate::influx::parse(&request.get_ref().ticket) {
            Some(Ok(ticket)) => self.decorate(self.0.do_get_influx(ticket, request).await),
            Some(Err(status)) => self.decorate(Err(status)),
            None => self.decorate(FlightService::do_get(&self.0, request).await),
        }
    }

    async fn do_put(
        &self,
        request: Request<Streaming<arrow_flight::FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        self.injected(CallKind::DoPut)?;
        self.decorate(FlightService::do_put(&self.0, request).await)
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        self.injected(CallKind::DoAction)?;
        self.decorate(FlightService::do_action(&self.0, request).await)
    }

    async fn list_actions(
        &self,
        request: Request<arrow_flight::Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        FlightService::list_actions(&self.0, request).await
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<arrow_flight::FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        FlightService::do_exchange(&self.0, request).await
    }
}

/// Builds the gRPC service of a [`Service`].
pub(crate) fn flight_service(
    service: Service,
) -> arrow_flight::flight_service_server::FlightServiceServer<Outer> {
    arrow_flight::flight_service_server::FlightServiceServer::new(Outer(service))
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(usize::MAX)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_check() {
        assert!(check_bearer(Some("Bearer a"), |t| t == "a").is_ok());
        let e = check_bearer(None, |_| true).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(check_bearer(Some("Basic a"), |_| true).is_err());
        assert!(check_bearer(Some("Bearer b"), |t| t == "a").is_err());
    }
}

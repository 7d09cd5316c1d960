//! The Flight SQL service: DataFusion behind `FlightSqlService`.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery};
use arrow_flight::{
    FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use base64::Engine as _;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::{Stream, StreamExt};
use prost::Message;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Response, Status, Streaming};

use crate::options::{Auth, Corruption, Locations, Options, REUSE_CONNECTION};

/// Counts of the RPCs a server (with its replicas) has received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// `Handshake` calls.
    pub handshake: u64,
    /// `GetFlightInfo` calls.
    pub get_flight_info: u64,
    /// `DoGet` calls.
    pub do_get: u64,
    /// `DoGet` streams that ended before sending everything (the client went away).
    pub do_get_cancelled: u64,
    /// `DoGet` streams open now.
    pub streams_open: u64,
    /// `DoAction` calls.
    pub do_action: u64,
    /// `DoPut` calls.
    pub do_put: u64,
    /// Calls of any kind that carried an `authorization` header.
    pub with_authorization: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    handshake: AtomicU64,
    get_flight_info: AtomicU64,
    do_get: AtomicU64,
    do_get_cancelled: AtomicU64,
    streams_open: AtomicU64,
    do_action: AtomicU64,
    do_put: AtomicU64,
    with_authorization: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        Stats {
            handshake: get(&self.handshake),
            get_flight_info: get(&self.get_flight_info),
            do_get: get(&self.do_get),
            do_get_cancelled: get(&self.do_get_cancelled),
            streams_open: get(&self.streams_open),
            do_action: get(&self.do_action),
            do_put: get(&self.do_put),
            with_authorization: get(&self.with_authorization),
        }
    }
}

fn bump(c: &AtomicU64) {
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
    pub(crate) last_headers: RwLock<Vec<(String, String)>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("options", &self.options)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Shared {
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

/// The statement handle inside a `TicketStatementQuery`: which part of which query.
struct TicketHandle {
    part: usize,
    parts: usize,
    sql: String,
}

impl TicketHandle {
    fn encode(&self) -> Vec<u8> {
        format!("{}/{}\n{}", self.part, self.parts, self.sql).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<TicketHandle, Status> {
        let bad = || Status::invalid_argument("malformed ticket");
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let (head, sql) = text.split_once('\n').ok_or_else(bad)?;
        let (part, parts) = head.split_once('/').ok_or_else(bad)?;
        let part: usize = part.parse().map_err(|_| bad())?;
        let parts: usize = parts.parse().map_err(|_| bad())?;
        if parts == 0 || part >= parts {
            return Err(bad());
        }
        Ok(TicketHandle {
            part,
            parts,
            sql: sql.to_owned(),
        })
    }
}

/// The gRPC status real servers use for an engine error: the user's SQL is
/// `INVALID_ARGUMENT`, anything else `INTERNAL`.
fn df_status(e: DataFusionError) -> Status {
    match e.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_) => Status::invalid_argument(e.to_string()),
        _ => Status::internal(e.to_string()),
    }
}

/// Applies a [`Corruption`] to the messages of the first batch.
fn corrupt(
    messages: &mut [Result<arrow_flight::FlightData, Status>],
    corruption: Option<Corruption>,
) {
    let Some(Ok(last)) = messages.last_mut() else {
        return;
    };
    match corruption {
        None => {}
        Some(Corruption::GarbageHeader) => {
            last.data_header = bytes::Bytes::from_static(b"\x08\x00\x00\x00not an IPC message");
        }
        Some(Corruption::TruncatedBody) => {
            last.data_body = last.data_body.slice(..last.data_body.len() / 2);
        }
    }
}

/// The schema and batches with every column renamed to `<name>_x`.
fn rename_columns(
    schema: &Schema,
    batches: Vec<RecordBatch>,
) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(format!("{}_x", f.name())))
        .collect();
    let renamed = Arc::new(Schema::new(fields));
    let batches = batches
        .into_iter()
        .map(|b| b.with_schema(Arc::clone(&renamed)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Status::internal(e.to_string()))?;
    Ok((renamed, batches))
}

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
    fn new(schema: &Schema) -> (Encoder, arrow_flight::FlightData) {
        let mut encoder = Encoder {
            generator: arrow::ipc::writer::IpcDataGenerator::default(),
            tracker: arrow::ipc::writer::DictionaryTracker::new(false),
            options: arrow::ipc::writer::IpcWriteOptions::default(),
        };
        let message = encoder.generator.schema_to_bytes_with_dictionary_tracker(
            schema,
            &mut encoder.tracker,
            &encoder.options,
        );
        (encoder, message.into())
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
            options.delay_before_first_batch =
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
        match &options.auth {
            Auth::None => {}
            Auth::Bearer(token) => check_bearer(authorization, |t| t == token)?,
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
            match metadata.get(name.as_str()).and_then(|v| v.to_str().ok()) {
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

    fn endpoints(&self, sql: &str, options: &Options) -> Vec<FlightEndpoint> {
        let parts = options.endpoints;
        (0..parts)
            .map(|part| {
                let handle = TicketHandle {
                    part,
                    parts,
                    sql: sql.to_owned(),
                }
                .encode();
                let ticket = TicketStatementQuery {
                    statement_handle: handle.into(),
                };
                let mut endpoint =
                    FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec()));
                if let Some(ttl) = options.expiration {
                    let since = (std::time::SystemTime::now() + ttl)
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    endpoint = endpoint.with_expiration_time(prost_types::Timestamp {
                        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
                    });
                }
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
                }
                endpoint
            })
            .collect()
    }

    /// Runs a query and returns the rows of one part.
    async fn run_part(
        &self,
        handle: &TicketHandle,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
        let df = self.shared.ctx.sql(&handle.sql).await.map_err(df_status)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(df_status)?;
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let start = total * handle.part / handle.parts;
        let end = total * (handle.part + 1) / handle.parts;
        let mut out = Vec::new();
        let mut offset = 0;
        for batch in batches {
            let (lo, hi) = (offset, offset + batch.num_rows());
            offset = hi;
            let from = start.max(lo);
            let to = end.min(hi);
            if from < to {
                out.push(batch.slice(from - lo, to - from));
            }
        }
        Ok((schema, out))
    }
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
        let options = self.options_for(request.metadata())?;
        let df = self.shared.ctx.sql(&query.query).await.map_err(df_status)?;
        let schema: Schema = df.schema().as_arrow().clone();
        let mut info = FlightInfo::new()
            .with_descriptor(request.into_inner())
            .with_endpoints(self.endpoints(&query.query, &options))
            .with_ordered(options.ordered);
        if options.send_schema {
            info = info
                .try_with_schema(&schema)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        if options.send_total_records {
            let rows = df.count().await.map_err(df_status)?;
            info = info.with_total_records(i64::try_from(rows).unwrap_or(-1));
        }
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        bump(&self.shared.counters.do_get);
        self.admit(request.metadata())?;
        let options = self.options_for(request.metadata())?;
        let handle = TicketHandle::decode(&ticket.statement_handle)?;
        let (mut schema, mut batches) = self.run_part(&handle).await?;
        if options.rename_columns_in_endpoint == Some(handle.part) {
            (schema, batches) = rename_columns(&schema, batches)?;
        }
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
        let corruption = options
            .corrupt_endpoint
            .and_then(|(part, c)| (part == handle.part).then_some(c));
        bump(&self.shared.counters.streams_open);
        let mut guard = CancelGuard {
            shared: Arc::clone(&self.shared),
            finished: false,
        };
        let (mut encoder, schema_message) = Encoder::new(&schema);
        let (first_delay, pace) = (
            options.delay_before_first_batch,
            options.delay_between_batches,
        );
        let body = futures::stream::iter(batches.into_iter().enumerate())
            .then(move |(n, batch)| async move {
                let delay = if n == 0 { first_delay } else { pace };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                batch
            })
            .enumerate()
            .flat_map(move |(n, batch)| {
                let messages: Vec<Result<arrow_flight::FlightData, Status>> =
                    if fail_after == Some(n) {
                        vec![Err(Status::unavailable("injected fault: stream broken"))]
                    } else {
                        match encoder.encode(&batch) {
                            Ok(messages) => {
                                let mut messages: Vec<_> = messages.into_iter().map(Ok).collect();
                                if n == 0 {
                                    corrupt(&mut messages, corruption);
                                }
                                messages
                            }
                            Err(e) => vec![Err(e)],
                        }
                    };
                futures::stream::iter(messages)
            });
        let data = futures::stream::once(futures::future::ready(Ok(schema_message)))
            .chain(body)
            .chain(futures::stream::poll_fn(move |_| {
                guard.finish();
                std::task::Poll::Ready(None)
            }));
        Ok(Response::new(data.boxed()))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// Builds the gRPC service of a [`Service`].
pub(crate) fn flight_service(
    service: Service,
) -> arrow_flight::flight_service_server::FlightServiceServer<Service> {
    arrow_flight::flight_service_server::FlightServiceServer::new(service)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_round_trip_and_rejects_garbage() {
        let h = TicketHandle {
            part: 2,
            parts: 7,
            sql: "SELECT 1\n, 2".into(),
        };
        let back = TicketHandle::decode(&h.encode()).unwrap();
        assert_eq!(
            (back.part, back.parts, back.sql.as_str()),
            (2, 7, "SELECT 1\n, 2")
        );
        assert!(TicketHandle::decode(b"7/7\nx").is_err());
        assert!(TicketHandle::decode(b"\xff").is_err());
        assert!(TicketHandle::decode(b"nonsense").is_err());
    }

    #[test]
    fn bearer_check() {
        assert!(check_bearer(Some("Bearer a"), |t| t == "a").is_ok());
        let e = check_bearer(None, |_| true).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(check_bearer(Some("Basic a"), |_| true).is_err());
        assert!(check_bearer(Some("Bearer b"), |t| t == "a").is_err());
    }
}

//! The low-level Flight SQL client: connecting, and the one call path every RPC to the
//! server takes (headers from the credential policy, the OAuth token kept fresh, timeouts,
//! status mapping, answers listened to), `execute` → `FlightInfo`, `do_get(ticket)` → a
//! reader, `DoAction` and `DoPut` with bounded results.

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, PollInfo, Ticket,
};
use base64::Engine as _;
use bytes::Bytes;
use dbapi::{Error, Result};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::client::credentials::{Credentials, Destination};
use crate::client::failover;
use crate::client::oauth::TokenSource;
use crate::client::retry::Retry;
use crate::config::{CallKind, Compression, Config, bare_host};
use crate::decode::{self, FlightStreamReader, Limits};
use crate::transport::telemetry;
use crate::transport::{
    Address, Failure, Target, Tls, Transport, from_status, from_status_explained, open_channel,
    runtime, within,
};

/// The location URI meaning "the server you are already talking to".
pub const REUSE_CONNECTION: &str = "arrow-flight-reuse-connection://?";

pub(super) type Grpc = FlightServiceClient<Channel>;

/// A message header no Arrow IPC reader accepts (not a flatbuffer `Message`): sent last in a
/// `DoPut` whose input failed, so that the server fails the call.
const POISON: &[u8] = b"\xff\xff\xff\xff\xff\xff\xff\xffinput stream failed";

/// One server reached through gRPC: the server itself, or a location.
#[derive(Clone)]
pub(super) struct Peer {
    pub(super) grpc: Grpc,
    pub(super) to: Arc<Destination>,
    /// Why its connection last failed.
    pub(super) failure: Failure,
}

impl Peer {
    pub(super) fn transport(&self) -> Transport {
        transport_of(self.to.tls)
    }
}

pub(super) struct ClientInner {
    pub(super) config: Config,
    pub(super) credentials: Credentials,
    /// The TLS settings of gRPC channels, built on first use (the server, or the first TLS
    /// location).
    pub(super) tls: std::sync::OnceLock<Tls>,
    pub(super) main: Peer,
    /// Where OAuth tokens come from, when configured.
    oauth: Option<TokenSource>,
    pub(super) locations: Mutex<LocationPeers>,
    /// The TLS settings of `https://` locations, built on first use.
    pub(super) http_tls: std::sync::OnceLock<Arc<rustls::ClientConfig>>,
    pub(super) limits: Limits,
    closed: AtomicBool,
}

/// A Flight SQL client: the low-level API, for users who want Flight objects.
///
/// It mirrors the client of Python's `flightsql-dbapi`: [`execute`](Self::execute) returns
/// the [`FlightInfo`] (endpoints with tickets and locations) and [`do_get`](Self::do_get)
/// returns a [`FlightStreamReader`] with `read_all` and `read_chunk`. Cloning is cheap and
/// shares the connection, the token and the cache of connections to other locations.
#[derive(Clone)]
pub struct FlightSqlClient {
    pub(super) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for FlightSqlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSqlClient")
            .field("config", &self.inner.config)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

pub(super) fn transport_of(tls: bool) -> Transport {
    if tls {
        Transport::Tls
    } else {
        Transport::Plaintext
    }
}

impl FlightSqlClient {
    /// Connects with a URL (see `docs/url.md`).
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error for a bad URL; an
    /// [`ErrorKind::Operational`](dbapi::ErrorKind::Operational) error when the server cannot
    /// be reached or the handshake fails.
    pub async fn connect(url: &str) -> Result<FlightSqlClient> {
        Self::connect_with(url.parse()?).await
    }

    /// Connects with a [`Config`]; performs the Basic handshake when the configuration has a
    /// user name. With several hosts, tries them in the order of
    /// [`host_selection`](Config::host_selection), hosts remembered as dead last, until one
    /// answers; the client's [`config`](Self::config) then names that host first.
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect`]; with several hosts, an error naming each host's
    /// failure when none answers.
    pub async fn connect_with(config: Config) -> Result<FlightSqlClient> {
        config.validate()?;
        runtime()?;
        failover::connect(config, Self::connect_to).await
    }

    /// Connects to the configuration's first host.
    async fn connect_to(config: Config) -> Result<FlightSqlClient> {
        let credentials = Credentials::new(&config)?;
        let tls = std::sync::OnceLock::new();
        let address = match config.unix_socket() {
            Some(path) => Address::Unix(path.to_owned()),
            None => Address::Tcp {
                host: config.host().to_owned(),
                port: config.port(),
            },
        };
        let to = Arc::new(Destination::server(&config, address.clone()));
        // Before anything is asked of anyone: the token endpoint is asked only when its token
        // may go to the server.
        credentials.check_before_connect(&to)?;
        let failure = Failure::default();
        let target = Target {
            failure: failure.clone(),
            tls: if config.tls() {
                Some(tls_of(&tls, &config)?)
            } else {
                None
            },
            server_name: config
                .tls_server_name()
                .unwrap_or_else(|| bare_host(config.host()))
                .to_owned(),
            authority: match (config.authority(), &address) {
                (Some(a), _) => a.to_owned(),
                (None, Address::Unix(_)) => "localhost".to_owned(),
                (None, Address::Tcp { host, port }) => format!("{host}:{port}"),
            },
            address,
        };
        let oauth = match config.oauth() {
            Some(settings) => {
                let source = TokenSource::new(&config, settings)?;
                if let Some(token) = source.refresh_if_needed().await? {
                    credentials.set_bearer(&token)?;
                }
                Some(source)
            }
            None => None,
        };
        let channel = open_channel(&config, target).await?;
        let main = Peer {
            grpc: grpc(channel, &config),
            to,
            failure,
        };
        let limits = Limits::of(&config);
        let client = FlightSqlClient {
            inner: Arc::new(ClientInner {
                config,
                credentials,
                tls,
                main,
                oauth,
                locations: Mutex::new(LocationPeers::default()),
                http_tls: std::sync::OnceLock::new(),
                limits,
                closed: AtomicBool::new(false),
            }),
        };
        if let Some(user) = client.inner.config.username() {
            let password = client
                .inner
                .config
                .password()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default();
            let bound = client.housekeeping_bound("Handshake");
            Retry::of(&client.inner.config)
                .run("handshake", || async {
                    within(bound, "handshake", client.handshake(user, &password)).await?
                })
                .await?;
        }
        Ok(client)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn transport(&self) -> Transport {
        transport_of(self.inner.config.tls())
    }

    /// Marks the client closed: later calls through it or its clones fail.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
    }

    /// Whether [`FlightSqlClient::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    pub(super) fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::interface("the connection is closed"))
        } else {
            Ok(())
        }
    }

    /// A request to a peer, the one way a request is made: the client must be open, the OAuth
    /// token fresh; the request gets its timeout, and its headers from the credential policy.
    pub(super) async fn new_request<T>(
        &self,
        message: T,
        kind: CallKind,
        to: &Peer,
    ) -> Result<Request<T>> {
        self.check_open()?;
        self.refresh_token().await?;
        self.request_with(message, kind, to, None)
    }

    fn request_with<T>(
        &self,
        message: T,
        kind: CallKind,
        to: &Peer,
        basic: Option<AsciiMetadataValue>,
    ) -> Result<Request<T>> {
        let mut request = Request::new(message);
        if let Some((t, _)) = self.inner.config.deadline(kind) {
            request.set_timeout(t);
        }
        if let Some((parent, state)) = telemetry::trace_headers(&self.inner.config) {
            let metadata = request.metadata_mut();
            if let Ok(value) = AsciiMetadataValue::try_from(parent) {
                metadata.insert("traceparent", value);
            }
            if let Some(Ok(value)) = state.map(AsciiMetadataValue::try_from) {
                metadata.insert("tracestate", value);
            }
        }
        self.inner
            .credentials
            .apply(request.metadata_mut(), &to.to, basic)?;
        Ok(request)
    }

    /// The request and the peer of a call to the server.
    fn main(&self) -> &Peer {
        &self.inner.main
    }

    /// The timeout of a kind of call, with the URL key that sets it.
    pub(crate) fn deadline(&self, kind: CallKind) -> Option<(Duration, &'static str)> {
        self.inner.config.deadline(kind)
    }

    /// Runs a call to the server under its timeout and maps its status; `session`: whether
    /// the answer's cookies are kept whatever `cookies` says.
    async fn call<T>(
        &self,
        what: &str,
        kind: CallKind,
        session: bool,
        future: impl Future<Output = std::result::Result<tonic::Response<T>, Status>>,
    ) -> Result<tonic::Response<T>> {
        let deadline = self.deadline(kind);
        let span = tracing::debug_span!("flightsql.rpc", kind = ?kind, what);
        let started = std::time::Instant::now();
        let outcome =
            tracing::Instrument::instrument(within(deadline, what, future), span.clone()).await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        let response = match outcome {
            Err(e) => {
                tracing::debug!(parent: &span, elapsed_ms, error = %e, "call timed out");
                return Err(e);
            }
            Ok(Ok(response)) => response,
            Ok(Err(status)) => {
                let failure = failure_behind(&status, &self.main().failure).await;
                let error = self.status_error(&status, what, deadline, failure);
                tracing::debug!(
                    parent: &span,
                    elapsed_ms,
                    code = ?status.code(),
                    error = %error,
                    "call failed"
                );
                return Err(error);
            }
        };
        tracing::debug!(parent: &span, elapsed_ms, "call answered");
        self.main().failure.clear();
        self.inner
            .credentials
            .observe(response.metadata(), &self.main().to, session);
        Ok(response)
    }

    /// Asks for a new OAuth token when the current one is about to expire: before every
    /// request that may carry it.
    pub(super) async fn refresh_token(&self) -> Result<()> {
        if let Some(source) = &self.inner.oauth
            && let Some(token) = source.refresh_if_needed().await?
        {
            self.inner.credentials.set_bearer(&token)?;
        }
        Ok(())
    }

    /// Maps a call's status; the server's or tonic's own "Timeout expired" for a call with
    /// a deadline becomes a timeout error naming the URL key that set it.
    fn status_error(
        &self,
        status: &Status,
        what: &str,
        deadline: Option<(Duration, &'static str)>,
        failure: Option<String>,
    ) -> Error {
        let error = from_status_explained(status, self.transport(), failure);
        match deadline {
            Some((t, key))
                if matches!(
                    status.code(),
                    tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
                ) && status.message().contains("Timeout expired") =>
            {
                Error::operational(format!("{what} timed out after {t:?} (URL option {key})"))
                    .timeout()
                    .with_source(error)
            }
            _ => error.context(what),
        }
    }

    async fn handshake(&self, user: &str, password: &str) -> Result<()> {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = AsciiMetadataValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| Error::interface("the user name or password is not valid in a header"))?;
        value.set_sensitive(true);
        let request = self.request_with(
            futures::stream::iter([HandshakeRequest::default()]),
            CallKind::Update,
            self.main(),
            Some(value),
        )?;
        let what = format!("handshake for user {user:?}");
        let response = self
            .call(
                &what,
                CallKind::Update,
                false,
                self.main().grpc.clone().handshake(request),
            )
            .await?;
        let mut stream = response.into_inner();
        while let Some(message) =
            within(self.deadline(CallKind::Update), &what, stream.next()).await?
        {
            message.map_err(|s| from_status(&s, self.transport()).context(&what))?;
        }
        if let Some(trailers) = stream.trailers().await.ok().flatten() {
            self.inner
                .credentials
                .observe(&trailers, &self.main().to, false);
        }
        Ok(())
    }

    /// Executes a query (`CommandStatementQuery` through `GetFlightInfo`) and returns where
    /// its result is. No data is read.
    ///
    /// # Errors
    /// The server's error (e.g. a SQL error is a
    /// [`ErrorKind::Programming`](dbapi::ErrorKind::Programming) error), a timeout, or a
    /// closed client.
    pub async fn execute(&self, sql: &str) -> Result<FlightInfo> {
        self.execute_in(sql, None).await
    }

    /// Executes a query in a transaction (see [`FlightSqlClient::begin_transaction`]), or
    /// outside any when `transaction` is `None`.
    ///
    /// # Errors
    /// As [`FlightSqlClient::execute`].
    pub async fn execute_in(&self, sql: &str, transaction: Option<&Bytes>) -> Result<FlightInfo> {
        let command = CommandStatementQuery {
            query: sql.to_owned(),
            transaction_id: transaction.cloned(),
        }
        .as_any()
        .encode_to_vec();
        // Never twice inside a transaction, nor a statement that changes data.
        if transaction.is_some() || dbapi::driver::changes_data(sql) {
            return self.get_flight_info_once("execute", command).await;
        }
        self.get_flight_info("execute", command).await
    }

    /// The retry policy of this client's calls.
    pub(crate) fn retry(&self) -> Retry {
        Retry::of(&self.inner.config)
    }

    /// `GetFlightInfo` of a command (an `Any`-encoded Flight SQL command) that is safe to
    /// repeat: retried after transient failures.
    pub(crate) async fn get_flight_info(&self, what: &str, command: Vec<u8>) -> Result<FlightInfo> {
        self.retry()
            .run(what, || self.get_flight_info_once(what, command.clone()))
            .await
    }

    /// `GetFlightInfo` of a command, tried once.
    pub(crate) async fn get_flight_info_once(
        &self,
        what: &str,
        command: Vec<u8>,
    ) -> Result<FlightInfo> {
        let request = self
            .new_request(
                FlightDescriptor::new_cmd(command),
                CallKind::Query,
                self.main(),
            )
            .await?;
        let response = self
            .call(
                what,
                CallKind::Query,
                false,
                self.main().grpc.clone().get_flight_info(request),
            )
            .await?;
        Ok(response.into_inner())
    }

    /// `PollFlightInfo` of a descriptor; `retry`: whether it is safe to repeat (a query
    /// outside a transaction).
    pub(crate) async fn poll_flight_info(
        &self,
        descriptor: FlightDescriptor,
        retry: bool,
    ) -> Result<PollInfo> {
        if !retry {
            return self.poll_flight_info_once(descriptor).await;
        }
        self.retry()
            .run("poll_flight_info", || {
                self.poll_flight_info_once(descriptor.clone())
            })
            .await
    }

    async fn poll_flight_info_once(&self, descriptor: FlightDescriptor) -> Result<PollInfo> {
        let request = self
            .new_request(descriptor, CallKind::Query, self.main())
            .await?;
        let response = self
            .call(
                "poll_flight_info",
                CallKind::Query,
                false,
                self.main().grpc.clone().poll_flight_info(request),
            )
            .await?;
        Ok(response.into_inner())
    }

    /// `GetSchema` of a command, retried after transient failures.
    pub(crate) async fn get_schema(&self, what: &str, command: Vec<u8>) -> Result<SchemaRef> {
        self.retry()
            .run(what, || self.get_schema_once(what, command.clone()))
            .await
    }

    async fn get_schema_once(&self, what: &str, command: Vec<u8>) -> Result<SchemaRef> {
        let request = self
            .new_request(
                FlightDescriptor::new_cmd(command),
                CallKind::Query,
                self.main(),
            )
            .await?;
        let response = self
            .call(
                what,
                CallKind::Query,
                false,
                self.main().grpc.clone().get_schema(request),
            )
            .await?;
        let schema = decode::schema(&response.into_inner().schema, "schema (GetSchema)")
            .map_err(|e| e.context(what))?;
        Ok(Arc::new(schema))
    }

    /// `DoAction`: the bodies of the results.
    pub(crate) async fn do_action(
        &self,
        what: &str,
        kind: &str,
        body: Vec<u8>,
    ) -> Result<Vec<Bytes>> {
        self.action(what, kind, body, false).await
    }

    /// A session action (`SetSessionOptions`, ...): the cookies its answer sets are kept and
    /// sent on every later call.
    pub(crate) async fn session_action(&self, kind: &str, body: Vec<u8>) -> Result<Vec<Bytes>> {
        self.action(kind, kind, body, true).await
    }

    /// Whether the server set a cookie (a session to close).
    pub(crate) fn has_session(&self) -> bool {
        self.inner.credentials.has_cookies()
    }

    /// Stops sending the server's cookies (after `CloseSession`).
    pub(crate) fn forget_session(&self) {
        self.inner.credentials.forget_cookies();
    }

    async fn action(
        &self,
        what: &str,
        kind: &str,
        body: Vec<u8>,
        session: bool,
    ) -> Result<Vec<Bytes>> {
        let action = async {
            let request = self
                .new_request(Action::new(kind, body), CallKind::Update, self.main())
                .await?;
            let response = self
                .call(
                    what,
                    CallKind::Update,
                    session,
                    self.main().grpc.clone().do_action(request),
                )
                .await?;
            self.results(response.into_inner(), what, |r| r.body).await
        };
        within(self.housekeeping_bound(kind), what, action).await?
    }

    /// The bound of a call that only establishes or ends something (the handshake, closing a
    /// prepared statement or a session, cancelling) when no timeout key bounds it: such calls
    /// run when connecting, and when a cursor, a statement or a pooled connection is given
    /// back, and must not hang there on a server that stopped answering. `connect_timeout`
    /// (30 s by default) bounds them; `None` when a timeout key already does.
    pub(super) fn housekeeping_bound(&self, kind: &str) -> Option<(Duration, &'static str)> {
        const HOUSEKEEPING: &[&str] = &[
            "Handshake",
            "ClosePreparedStatement",
            "CloseSession",
            "CancelFlightInfo",
            "CancelQuery",
        ];
        (self.deadline(CallKind::Update).is_none() && HOUSEKEEPING.contains(&kind)).then(|| {
            (
                self.inner.config.effective_connect_timeout(),
                "connect_timeout",
            )
        })
    }

    /// The results of a `DoAction` or `DoPut` answer, each within the update timeout, all
    /// within [`Limits::ACTION_RESULTS`].
    async fn results<T>(
        &self,
        mut stream: tonic::Streaming<T>,
        what: &str,
        bytes: impl Fn(T) -> Bytes,
    ) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        let mut kept = 0_usize;
        while let Some(result) =
            within(self.deadline(CallKind::Update), what, stream.next()).await?
        {
            let body = bytes(result.map_err(|s| from_status(&s, self.transport()).context(what))?);
            kept = bounded(kept, body.len(), what)?;
            out.push(body);
        }
        Ok(out)
    }

    /// `DoPut` of a command with a stream of batches (`schema` is sent even when the stream
    /// has none): the `app_metadata` of each `PutResult`.
    ///
    /// The batches are encoded as they are pulled, so memory stays bounded. When the stream
    /// fails, the last message sent is one no server can decode, so that the server fails the
    /// call instead of taking the batches sent so far for the whole; the stream's error is
    /// returned.
    pub(crate) async fn do_put(
        &self,
        what: &str,
        command: Vec<u8>,
        schema: Option<SchemaRef>,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<Vec<Bytes>> {
        self.check_open()?;
        let failure: Arc<Mutex<Option<Error>>> = Arc::default();
        let input = {
            let failure = Arc::clone(&failure);
            batches.map_err(move |e| {
                *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                FlightError::ProtocolError("the input stream failed".into())
            })
        };
        let mut builder = FlightDataEncoderBuilder::new()
            .with_flight_descriptor(Some(FlightDescriptor::new_cmd(command)))
            .with_max_flight_data_size(self.inner.config.max_message_size().min(4 << 20));
        if let Some(schema) = schema {
            builder = builder.with_schema(schema);
        }
        let encoding_failure = Arc::clone(&failure);
        let encoded = builder.build(input).filter_map(move |data| {
            futures::future::ready(match data {
                Ok(data) => Some(data),
                Err(e) => {
                    let mut slot = encoding_failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if slot.is_none() {
                        *slot = Some(Error::internal("cannot encode a batch").with_source(e));
                    }
                    None
                }
            })
        });
        let poison = {
            let failure = Arc::clone(&failure);
            futures::stream::once(async move {
                let failed = failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_some();
                failed.then(|| FlightData::new().with_data_header(POISON.to_vec()))
            })
            .filter_map(futures::future::ready)
        };
        let outcome = async {
            let request = self
                .new_request(encoded.chain(poison), CallKind::Update, self.main())
                .await?;
            let response = self
                .call(
                    what,
                    CallKind::Update,
                    false,
                    self.main().grpc.clone().do_put(request),
                )
                .await?;
            self.results(response.into_inner(), what, |r| r.app_metadata)
                .await
        }
        .await;
        if let Some(e) = failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(e.context(format_args!("{what}: reading the batches to send")));
        }
        outcome
    }

    /// Reads a ticket from the server this client is connected to (`DoGet`).
    ///
    /// # Errors
    /// The server's error, a timeout, or a closed client.
    pub async fn do_get(&self, ticket: &Ticket) -> Result<FlightStreamReader> {
        self.do_get_on(self.main(), ticket).await
    }

    /// `DoGet` of a ticket on a peer (the server or a location); only the server's answer
    /// headers are listened to.
    pub(super) async fn do_get_on(
        &self,
        peer: &Peer,
        ticket: &Ticket,
    ) -> Result<FlightStreamReader> {
        let request = self
            .new_request(ticket.clone(), CallKind::Fetch, peer)
            .await?;
        let response = match within(
            self.deadline(CallKind::Fetch),
            "do_get",
            peer.grpc.clone().do_get(request),
        )
        .await?
        {
            Ok(response) => response,
            Err(status) => {
                let why = failure_behind(&status, &peer.failure).await;
                return Err(from_status_explained(&status, peer.transport(), why));
            }
        };
        peer.failure.clear();
        self.inner
            .credentials
            .observe(response.metadata(), &peer.to, false);
        Ok(FlightStreamReader::new(
            response.into_inner(),
            self.deadline(CallKind::Fetch),
            self.inner.limits,
        ))
    }
}

/// What the connection saw when a call failed with a bare transport error. The call can fail
/// (a write to a closed socket) a moment before the connection reads what the other side
/// answered, so this waits briefly for it.
async fn failure_behind(status: &Status, failure: &Failure) -> Option<String> {
    // A status the server sent has no source, and no connection failure behind it: no wait
    // (a server answering UNAVAILABLE is retried at once, after the backoff alone).
    if !matches!(
        status.code(),
        tonic::Code::Unknown | tonic::Code::Unavailable
    ) || std::error::Error::source(status).is_none()
    {
        return None;
    }
    for _ in 0..20 {
        if let Some(text) = failure.get() {
            return Some(text);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

pub(super) fn grpc(channel: Channel, config: &Config) -> Grpc {
    let mut client = FlightServiceClient::new(channel)
        .max_decoding_message_size(config.max_message_size())
        .max_encoding_message_size(config.max_message_size())
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd);
    match config.compression() {
        Some(Compression::Gzip) => client = client.send_compressed(CompressionEncoding::Gzip),
        Some(Compression::Zstd) => client = client.send_compressed(CompressionEncoding::Zstd),
        None => {}
    }
    client
}

/// The TLS settings of a client, built on first use.
pub(super) fn tls_of(slot: &std::sync::OnceLock<Tls>, config: &Config) -> Result<Tls> {
    if let Some(tls) = slot.get() {
        return Ok(tls.clone());
    }
    let tls = Tls::new(config)?;
    Ok(slot.get_or_init(|| tls).clone())
}

/// Adds one result of `size` bytes to the `kept` bytes of a call's results.
fn bounded(kept: usize, size: usize, what: &str) -> Result<usize> {
    // Each result costs its bytes and its place in the list.
    let kept = kept
        .saturating_add(size)
        .saturating_add(std::mem::size_of::<Bytes>());
    if kept > Limits::ACTION_RESULTS {
        return Err(Error::data(format!(
            "{what}: the server sent more than {} bytes of results; refusing the rest",
            Limits::ACTION_RESULTS
        )));
    }
    Ok(kept)
}

/// How many connections to endpoint locations a client keeps (by host, port and TLS); the
/// least recently opened is closed for a new one beyond this.
pub(crate) const MAX_LOCATION_CONNECTIONS: usize = 64;

/// The connections to endpoint locations, by host, port and TLS: at most
/// [`MAX_LOCATION_CONNECTIONS`], the oldest closed (dropped; a stream still reading from it
/// keeps it open until it ends) for a new one beyond that.
#[derive(Default)]
pub(crate) struct LocationPeers {
    peers: std::collections::VecDeque<(String, Peer)>,
}

impl LocationPeers {
    pub(super) fn get(&self, key: &str) -> Option<Peer> {
        self.peers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, peer)| peer.clone())
    }

    pub(super) fn insert(&mut self, key: String, peer: Peer) {
        self.peers.retain(|(k, _)| *k != key);
        if self.peers.len() >= MAX_LOCATION_CONNECTIONS {
            self.peers.pop_front();
        }
        self.peers.push_back((key, peer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_outside_a_tokio_runtime_is_an_error_not_a_panic() {
        let e = futures::executor::block_on(FlightSqlClient::connect("grpc://127.0.0.1:1"))
            .unwrap_err();
        assert!(e.is_interface());
        assert!(e.to_string().contains("Tokio runtime"), "{e}");
    }
}

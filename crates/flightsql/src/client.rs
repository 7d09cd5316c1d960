//! The low-level Flight SQL client: `execute` → `FlightInfo`, `do_get(ticket)` → a reader.

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, PollInfo,
    Ticket,
};
use base64::Engine as _;
use bytes::Bytes;
use dbapi::{Error, Result};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::config::{CallKind, Compression, Config};
use crate::error::{Transport, from_status, from_status_explained};
use crate::stream::FlightStreamReader;
use crate::transport::{Address, Failure, Target, Tls, open_channel};

/// The location URI meaning "the server you are already talking to".
pub const REUSE_CONNECTION: &str = "arrow-flight-reuse-connection://?";

type Grpc = FlightServiceClient<InterceptedService<Channel, CallHeaders>>;

/// A message header no Arrow IPC reader accepts (not a flatbuffer `Message`): sent last in a
/// `DoPut` whose input failed, so that the server fails the call.
const POISON: &[u8] = b"\xff\xff\xff\xff\xff\xff\xff\xffinput stream failed";

/// Adds the configured headers and the current bearer token to every call.
#[derive(Clone)]
struct CallHeaders {
    state: Arc<HeaderState>,
}

struct HeaderState {
    fixed: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
    /// Whether every cookie an answer sets is kept (`cookies=true`), not only session ones.
    cookie_jar: bool,
    bearer: RwLock<Option<AsciiMetadataValue>>,
    /// The cookies that hold the server session (set by the answers to session calls).
    session: RwLock<Option<AsciiMetadataValue>>,
}

impl CallHeaders {
    fn new(config: &Config) -> Result<CallHeaders> {
        let mut fixed = Vec::new();
        let mut push = |name: &str, value: &str| -> Result<()> {
            let key = AsciiMetadataKey::from_str(name).map_err(|_| {
                Error::interface(format!(
                    "header name {name:?} is not a valid gRPC metadata key"
                ))
            })?;
            let mut value = AsciiMetadataValue::from_str(value).map_err(|_| {
                Error::interface(format!(
                    "the value of header {name:?} is not valid in a gRPC header"
                ))
            })?;
            value.set_sensitive(dbapi::is_secret_key(name));
            fixed.push((key, value));
            Ok(())
        };
        if let Some(db) = config.database() {
            push("database", db)?;
        }
        for (name, value) in config.headers() {
            push(name, value)?;
        }
        let state = HeaderState {
            fixed,
            cookie_jar: config.cookies(),
            bearer: RwLock::new(None),
            session: RwLock::new(None),
        };
        let headers = CallHeaders {
            state: Arc::new(state),
        };
        if let Some(token) = config.token() {
            headers.set_bearer(token.expose())?;
        }
        Ok(headers)
    }

    fn set_bearer(&self, token: &str) -> Result<()> {
        let mut value = AsciiMetadataValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::interface("the token is not valid in a gRPC header (printable ASCII only)")
        })?;
        value.set_sensitive(true);
        *self
            .state
            .bearer
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(value);
        Ok(())
    }

    /// Takes a rotated token from response headers (`authorization: Bearer <token>`), and
    /// the cookies set when the cookie jar is on.
    fn observe(&self, metadata: &MetadataMap) {
        if let Some(token) = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            let _ = self.set_bearer(token);
        }
        if self.state.cookie_jar {
            self.observe_session(metadata);
        }
    }
}

impl CallHeaders {
    /// Keeps the cookies a session call's answer sets (`name=value`, attributes dropped),
    /// merged with those kept before.
    fn observe_session(&self, metadata: &MetadataMap) {
        let mut cookies: Vec<(String, String)> = self
            .session_cookie()
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .map(|v| {
                v.split("; ")
                    .filter_map(|c| c.split_once('='))
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let mut changed = false;
        for set in metadata.get_all("set-cookie") {
            let Some((name, value)) = set
                .to_str()
                .ok()
                .and_then(|s| s.split(';').next())
                .and_then(|c| c.trim().split_once('='))
            else {
                continue;
            };
            cookies.retain(|(n, _)| n != name);
            cookies.push((name.to_owned(), value.to_owned()));
            changed = true;
        }
        if !changed {
            return;
        }
        let joined: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        if let Ok(mut value) = AsciiMetadataValue::from_str(&joined.join("; ")) {
            value.set_sensitive(true);
            *self
                .state
                .session
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(value);
        }
    }

    fn session_cookie(&self) -> Option<AsciiMetadataValue> {
        self.state
            .session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn forget_session(&self) {
        *self
            .state
            .session
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl tonic::service::Interceptor for CallHeaders {
    fn call(&mut self, mut request: Request<()>) -> std::result::Result<Request<()>, Status> {
        let metadata = request.metadata_mut();
        for (key, value) in &self.state.fixed {
            metadata.insert(key.clone(), value.clone());
        }
        let bearer = self
            .state
            .bearer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(bearer) = bearer {
            metadata.insert("authorization", bearer);
        }
        if let Some(cookie) = self.session_cookie() {
            metadata.insert("cookie", cookie);
        }
        Ok(request)
    }
}

struct ClientInner {
    config: Config,
    headers: CallHeaders,
    /// The TLS settings, built on first use (the server, or the first TLS location).
    tls: std::sync::OnceLock<Tls>,
    main: Grpc,
    /// Why the connection to the server last failed.
    failure: Failure,
    /// Where OAuth tokens come from, when configured.
    oauth: Option<crate::oauth::TokenSource>,
    locations: Mutex<HashMap<String, (Grpc, Failure)>>,
    /// The TLS settings of `https://` locations (ALPN `http/1.1`), built on first use.
    http_tls: std::sync::OnceLock<Arc<rustls::ClientConfig>>,
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
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for FlightSqlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSqlClient")
            .field("config", &self.inner.config)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

fn transport_of(tls: bool) -> Transport {
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
    /// user name.
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect`].
    pub async fn connect_with(config: Config) -> Result<FlightSqlClient> {
        config.validate()?;
        runtime()?;
        let headers = CallHeaders::new(&config)?;
        let tls = std::sync::OnceLock::new();
        let address = match config.unix_socket() {
            Some(path) => Address::Unix(path.to_owned()),
            None => Address::Tcp {
                host: config.host().to_owned(),
                port: config.port(),
            },
        };
        check_plaintext_credentials(&config, &address, config.tls(), "the server")?;
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
        // HTTP/1.1 TLS settings, shared by the OAuth token requests and `https://` locations.
        let http_tls = std::sync::OnceLock::new();
        let oauth = match config.oauth() {
            Some(settings) => {
                let tls = Arc::new(crate::transport::client_config(&config, b"http/1.1")?);
                let _ = http_tls.set(Arc::clone(&tls));
                let source = crate::oauth::TokenSource::new(&config, settings, tls);
                if let Some(token) = source.refresh_if_needed().await? {
                    headers.set_bearer(&token)?;
                }
                Some(source)
            }
            None => None,
        };
        let channel = open_channel(&config, target).await?;
        let main = grpc(channel, headers.clone(), &config);
        let client = FlightSqlClient {
            inner: Arc::new(ClientInner {
                config,
                headers,
                tls,
                main,
                failure,
                oauth,
                locations: Mutex::new(HashMap::new()),
                http_tls,
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
            client.handshake(user, &password).await?;
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

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::interface("the connection is closed"))
        } else {
            Ok(())
        }
    }

    fn request<T>(&self, message: T, kind: CallKind) -> Request<T> {
        let mut request = Request::new(message);
        if let Some((t, _)) = self.inner.config.deadline(kind) {
            request.set_timeout(t);
        }
        request
    }

    /// The timeout of a kind of call, with the URL key that sets it.
    pub(crate) fn deadline(&self, kind: CallKind) -> Option<(Duration, &'static str)> {
        self.inner.config.deadline(kind)
    }

    /// Runs a call under its timeout and maps its status.
    async fn call<T>(
        &self,
        what: &str,
        kind: CallKind,
        future: impl Future<Output = std::result::Result<tonic::Response<T>, Status>>,
    ) -> Result<tonic::Response<T>> {
        self.refresh_token().await?;
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
                let failure = failure_behind(&status, &self.inner.failure).await;
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
        self.inner.failure.clear();
        self.inner.headers.observe(response.metadata());
        Ok(response)
    }

    /// Asks for a new OAuth token when the current one is about to expire.
    async fn refresh_token(&self) -> Result<()> {
        if let Some(source) = &self.inner.oauth
            && let Some(token) = source.refresh_if_needed().await?
        {
            self.inner.headers.set_bearer(&token)?;
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
        let mut request = self.request(
            futures::stream::iter([HandshakeRequest::default()]),
            CallKind::Update,
        );
        let mut value = AsciiMetadataValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| Error::interface("the user name or password is not valid in a header"))?;
        value.set_sensitive(true);
        request.metadata_mut().insert("authorization", value);
        let what = format!("handshake for user {user:?}");
        let response = self
            .call(
                &what,
                CallKind::Update,
                self.inner.main.clone().handshake(request),
            )
            .await?;
        let mut stream = response.into_inner();
        while let Some(message) =
            within(self.deadline(CallKind::Update), &what, stream.next()).await?
        {
            message.map_err(|s| from_status(&s, self.transport()).context(&what))?;
        }
        if let Some(trailers) = stream.trailers().await.ok().flatten() {
            self.inner.headers.observe(&trailers);
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
        };
        self.get_flight_info("execute", command.as_any().encode_to_vec())
            .await
    }

    /// `GetFlightInfo` of a command (an `Any`-encoded Flight SQL command).
    pub(crate) async fn get_flight_info(&self, what: &str, command: Vec<u8>) -> Result<FlightInfo> {
        self.check_open()?;
        let request = self.request(FlightDescriptor::new_cmd(command), CallKind::Query);
        let response = self
            .call(
                what,
                CallKind::Query,
                self.inner.main.clone().get_flight_info(request),
            )
            .await?;
        Ok(response.into_inner())
    }

    /// `PollFlightInfo` of a descriptor.
    pub(crate) async fn poll_flight_info(&self, descriptor: FlightDescriptor) -> Result<PollInfo> {
        self.check_open()?;
        let request = self.request(descriptor, CallKind::Query);
        let response = self
            .call(
                "poll_flight_info",
                CallKind::Query,
                self.inner.main.clone().poll_flight_info(request),
            )
            .await?;
        Ok(response.into_inner())
    }

    /// `GetSchema` of a command.
    pub(crate) async fn get_schema(&self, what: &str, command: Vec<u8>) -> Result<SchemaRef> {
        self.check_open()?;
        let request = self.request(FlightDescriptor::new_cmd(command), CallKind::Query);
        let response = self
            .call(
                what,
                CallKind::Query,
                self.inner.main.clone().get_schema(request),
            )
            .await?;
        let schema = Schema::try_from(&response.into_inner()).map_err(|e| {
            Error::internal(format!("{what}: the server sent an undecodable schema")).with_source(e)
        })?;
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

    /// Whether the server set a session cookie.
    pub(crate) fn has_session(&self) -> bool {
        self.inner.headers.session_cookie().is_some()
    }

    /// Stops sending the session cookie (after `CloseSession`).
    pub(crate) fn forget_session(&self) {
        self.inner.headers.forget_session();
    }

    async fn action(
        &self,
        what: &str,
        kind: &str,
        body: Vec<u8>,
        session: bool,
    ) -> Result<Vec<Bytes>> {
        self.check_open()?;
        let request = self.request(Action::new(kind, body), CallKind::Update);
        let response = self
            .call(
                what,
                CallKind::Update,
                self.inner.main.clone().do_action(request),
            )
            .await?;
        if session {
            self.inner.headers.observe_session(response.metadata());
        }
        let mut stream = response.into_inner();
        let mut out = Vec::new();
        while let Some(result) =
            within(self.deadline(CallKind::Update), what, stream.next()).await?
        {
            let result = result.map_err(|s| from_status(&s, self.transport()).context(what))?;
            out.push(result.body);
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
        let request = self.request(encoded.chain(poison), CallKind::Update);
        let outcome = async {
            let response = self
                .call(
                    what,
                    CallKind::Update,
                    self.inner.main.clone().do_put(request),
                )
                .await?;
            let mut stream = response.into_inner();
            let mut out = Vec::new();
            while let Some(result) =
                within(self.deadline(CallKind::Update), what, stream.next()).await?
            {
                let result = result.map_err(|s| from_status(&s, self.transport()).context(what))?;
                out.push(result.app_metadata);
            }
            Ok(out)
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
        self.check_open()?;
        self.do_get_on(
            &self.inner.main.clone(),
            ticket,
            self.transport(),
            &self.inner.failure,
        )
        .await
    }

    /// Reads an endpoint: from this server when it has no locations (or the reuse-connection
    /// location), otherwise from its locations, trying each in order until one answers.
    ///
    /// # Errors
    /// When the endpoint has no ticket, or every location fails (the error lists each
    /// location with its cause).
    pub async fn do_get_endpoint(&self, endpoint: &FlightEndpoint) -> Result<FlightStreamReader> {
        self.check_open()?;
        // A ticket may be absent when every location is read over HTTP, which ignores it.
        let ticket = || {
            endpoint
                .ticket
                .as_ref()
                .ok_or_else(|| Error::internal("the server sent an endpoint without a ticket"))
        };
        if endpoint.location.is_empty() {
            return self.do_get(ticket()?).await;
        }
        let mut failures = Vec::new();
        let mut last = None;
        for location in &endpoint.location {
            let shown = crate::http::shown(&location.uri);
            let attempt = async {
                if crate::http::is_http_location(&location.uri) {
                    return self.get_http(&location.uri).await;
                }
                match self.client_for(&location.uri).await? {
                    None => self.do_get(ticket()?).await,
                    Some((client, transport, failure)) => {
                        self.do_get_on(&client, ticket()?, transport, &failure)
                            .await
                    }
                }
            };
            match attempt.await {
                Ok(reader) => {
                    tracing::debug!(location = %shown, "reading from location");
                    return Ok(reader);
                }
                Err(e) => {
                    tracing::info!(location = %shown, error = %e, "location failed");
                    failures.push(format!("{shown}: {}", e.message()));
                    last = Some(e);
                }
            }
        }
        // One location: its own error (and kind), naming it.
        if let (1, Some(only)) = (failures.len(), last.take()) {
            let shown = crate::http::shown(&endpoint.location[0].uri);
            return Err(only.context(format_args!("location {shown}")));
        }
        let error = Error::operational(format!(
            "all {} locations failed: {}",
            failures.len(),
            failures.join("; ")
        ))
        .connection();
        Err(match last {
            Some(cause) => error.with_source(cause),
            None => error,
        })
    }

    /// Reads an `http(s)://` location: a GET answering an Arrow IPC stream, sent without the
    /// connection's credentials.
    async fn get_http(&self, location: &str) -> Result<FlightStreamReader> {
        let tls = match self.inner.http_tls.get() {
            Some(tls) => Arc::clone(tls),
            None => {
                let tls = Arc::new(crate::transport::client_config(
                    &self.inner.config,
                    b"http/1.1",
                )?);
                Arc::clone(self.inner.http_tls.get_or_init(|| tls))
            }
        };
        let limits = crate::http::Limits {
            connect_timeout: self.inner.config.connect_timeout(),
            timeout: self.deadline(CallKind::Fetch),
            max_message_size: self.inner.config.max_message_size(),
        };
        let body = crate::http::get_stream(&tls, location, limits).await?;
        Ok(FlightStreamReader::from_http(body))
    }

    /// The client for a location: `None` for this server, else a cached or new connection.
    async fn client_for(&self, uri: &str) -> Result<Option<(Grpc, Transport, Failure)>> {
        if uri.is_empty()
            || uri == REUSE_CONNECTION
            || uri.starts_with("arrow-flight-reuse-connection:")
        {
            return Ok(None);
        }
        let parsed = url::Url::parse(uri)
            .map_err(|e| Error::internal(format!("malformed location {uri:?}: {e}")))?;
        let tls = match parsed.scheme() {
            "grpc" | "grpc+tcp" | "grpc+unix" => false,
            "grpc+tls" => true,
            other => {
                return Err(Error::not_supported(format!(
                    "location scheme {other}:// is not supported (supported: grpc://, grpc+tcp://, grpc+tls://, grpc+unix://)"
                )));
            }
        };
        let cached = self
            .inner
            .locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(uri)
            .cloned();
        if let Some((client, failure)) = cached {
            return Ok(Some((client, transport_of(tls), failure)));
        }
        let (address, authority, server_name) = if parsed.scheme() == "grpc+unix" {
            let path = percent_encoding::percent_decode_str(parsed.path())
                .decode_utf8()
                .map_err(|_| Error::internal(format!("location {uri:?} is not UTF-8")))?;
            if path.is_empty() {
                return Err(Error::internal(format!(
                    "location {uri:?} has no socket path"
                )));
            }
            let address = Address::Unix(std::path::PathBuf::from(path.as_ref()));
            (address, "localhost".to_owned(), "localhost".to_owned())
        } else {
            let host = parsed
                .host_str()
                .ok_or_else(|| Error::internal(format!("location {uri:?} has no host")))?;
            let port = parsed
                .port()
                .ok_or_else(|| Error::internal(format!("location {uri:?} has no port")))?;
            let address = Address::Tcp {
                host: host.to_owned(),
                port,
            };
            (
                address,
                format!("{host}:{port}"),
                bare_host(host).to_owned(),
            )
        };
        check_plaintext_credentials(
            &self.inner.config,
            &address,
            tls,
            &format!("endpoint location {uri}"),
        )?;
        let failure = Failure::default();
        let target = Target {
            failure: failure.clone(),
            tls: if tls {
                Some(tls_of(&self.inner.tls, &self.inner.config)?)
            } else {
                None
            },
            server_name,
            authority,
            address,
        };
        let channel = open_channel(&self.inner.config, target).await?;
        let client = grpc(channel, self.inner.headers.clone(), &self.inner.config);
        self.inner
            .locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(uri.to_owned(), (client.clone(), failure.clone()));
        Ok(Some((client, transport_of(tls), failure)))
    }

    async fn do_get_on(
        &self,
        client: &Grpc,
        ticket: &Ticket,
        transport: Transport,
        failure: &Failure,
    ) -> Result<FlightStreamReader> {
        self.refresh_token().await?;
        let request = self.request(ticket.clone(), CallKind::Fetch);
        let response = match within(
            self.deadline(CallKind::Fetch),
            "do_get",
            client.clone().do_get(request),
        )
        .await?
        {
            Ok(response) => response,
            Err(status) => {
                let why = failure_behind(&status, failure).await;
                return Err(from_status_explained(&status, transport, why));
            }
        };
        failure.clear();
        self.inner.headers.observe(response.metadata());
        Ok(FlightStreamReader::new(
            response.into_inner(),
            self.deadline(CallKind::Fetch),
        ))
    }
}

/// What the connection saw when a call failed with a bare transport error. The call can fail
/// (a write to a closed socket) a moment before the connection reads what the other side
/// answered, so this waits briefly for it.
async fn failure_behind(status: &Status, failure: &Failure) -> Option<String> {
    if !matches!(
        status.code(),
        tonic::Code::Unknown | tonic::Code::Unavailable
    ) {
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

/// Runs a future under a timeout (when one is configured: the duration and the URL key that
/// set it); `what` names the call in the error.
pub(crate) async fn within<T>(
    timeout: Option<(Duration, &'static str)>,
    what: &str,
    future: impl Future<Output = T>,
) -> Result<T> {
    match timeout {
        None => Ok(future.await),
        Some((t, key)) => tokio::time::timeout(t, future).await.map_err(|_| {
            Error::operational(format!("{what} timed out after {t:?} (URL option {key})")).timeout()
        }),
    }
}

fn grpc(channel: Channel, headers: CallHeaders, config: &Config) -> Grpc {
    let mut client = FlightServiceClient::with_interceptor(channel, headers)
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
fn tls_of(slot: &std::sync::OnceLock<Tls>, config: &Config) -> Result<Tls> {
    if let Some(tls) = slot.get() {
        return Ok(tls.clone());
    }
    let tls = Tls::new(config)?;
    Ok(slot.get_or_init(|| tls).clone())
}

/// A host without the brackets of an IPv6 literal.
fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Refuses to send credentials unencrypted to another machine unless plaintext was asked for
/// by name.
fn check_plaintext_credentials(
    config: &Config,
    address: &Address,
    tls: bool,
    what: &str,
) -> Result<()> {
    if tls || !config.has_credentials() || address.is_local() {
        return Ok(());
    }
    if config.plaintext_opt_in() {
        tracing::warn!(
            %address,
            "credentials are sent unencrypted to {what} (tls=false was given)"
        );
        return Ok(());
    }
    Err(Error::interface(format!(
        "refusing to send the token or password unencrypted to {what} at {address}: the \
         connection is plaintext and the host is not this machine; use TLS (flightsql:// or \
         grpc+tls://), or say tls=false to send them in the clear anyway"
    )))
}

/// The Tokio runtime the driver runs on: gRPC (tonic) and the endpoint readers need one.
pub(crate) fn runtime() -> Result<tokio::runtime::Handle> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        Error::interface(
            "the Flight SQL driver must run inside a Tokio runtime (or use dbapi::blocking)",
        )
    })
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

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
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Status};

use crate::config::Config;
use crate::error::{Transport, from_status, from_transport};
use crate::stream::FlightStreamReader;

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

    /// Takes a rotated token from response headers (`authorization: Bearer <token>`).
    fn observe(&self, metadata: &MetadataMap) {
        if let Some(token) = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            let _ = self.set_bearer(token);
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
    main: Grpc,
    locations: Mutex<HashMap<String, Grpc>>,
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
        let channel = open_channel(&config, config.host(), config.port(), config.tls()).await?;
        let main = grpc(channel, headers.clone(), &config);
        let client = FlightSqlClient {
            inner: Arc::new(ClientInner {
                config,
                headers,
                main,
                locations: Mutex::new(HashMap::new()),
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

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(t) = self.inner.config.timeout() {
            request.set_timeout(t);
        }
        request
    }

    /// Runs a call under the configured timeout and maps its status.
    async fn call<T>(
        &self,
        what: &str,
        future: impl Future<Output = std::result::Result<tonic::Response<T>, Status>>,
    ) -> Result<tonic::Response<T>> {
        let response = within(self.inner.config.timeout(), what, future)
            .await?
            .map_err(|s| from_status(&s, self.transport()).context(what))?;
        self.inner.headers.observe(response.metadata());
        Ok(response)
    }

    async fn handshake(&self, user: &str, password: &str) -> Result<()> {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut request = self.request(futures::stream::iter([HandshakeRequest::default()]));
        let mut value = AsciiMetadataValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| Error::interface("the user name or password is not valid in a header"))?;
        value.set_sensitive(true);
        request.metadata_mut().insert("authorization", value);
        let what = format!("handshake for user {user:?}");
        let response = self
            .call(&what, self.inner.main.clone().handshake(request))
            .await?;
        let mut stream = response.into_inner();
        while let Some(message) = within(self.inner.config.timeout(), &what, stream.next()).await? {
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
        let request = self.request(FlightDescriptor::new_cmd(command));
        let response = self
            .call(what, self.inner.main.clone().get_flight_info(request))
            .await?;
        Ok(response.into_inner())
    }

    /// `PollFlightInfo` of a descriptor.
    pub(crate) async fn poll_flight_info(&self, descriptor: FlightDescriptor) -> Result<PollInfo> {
        self.check_open()?;
        let request = self.request(descriptor);
        let response = self
            .call(
                "poll_flight_info",
                self.inner.main.clone().poll_flight_info(request),
            )
            .await?;
        Ok(response.into_inner())
    }

    /// `GetSchema` of a command.
    pub(crate) async fn get_schema(&self, what: &str, command: Vec<u8>) -> Result<SchemaRef> {
        self.check_open()?;
        let request = self.request(FlightDescriptor::new_cmd(command));
        let response = self
            .call(what, self.inner.main.clone().get_schema(request))
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
        let request = self.request(Action::new(kind, body));
        let response = self
            .call(what, self.inner.main.clone().do_action(request))
            .await?;
        if session {
            self.inner.headers.observe_session(response.metadata());
        }
        let mut stream = response.into_inner();
        let mut out = Vec::new();
        while let Some(result) = within(self.inner.config.timeout(), what, stream.next()).await? {
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
        let request = self.request(encoded.chain(poison));
        let outcome = async {
            let response = self
                .call(what, self.inner.main.clone().do_put(request))
                .await?;
            let mut stream = response.into_inner();
            let mut out = Vec::new();
            while let Some(result) =
                within(self.inner.config.timeout(), what, stream.next()).await?
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
        self.do_get_on(&self.inner.main.clone(), ticket, self.transport())
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
        let ticket = endpoint
            .ticket
            .as_ref()
            .ok_or_else(|| Error::internal("the server sent an endpoint without a ticket"))?;
        if endpoint.location.is_empty() {
            return self.do_get(ticket).await;
        }
        let mut failures = Vec::new();
        let mut last = None;
        for location in &endpoint.location {
            let attempt = async {
                match self.client_for(&location.uri).await? {
                    None => self.do_get(ticket).await,
                    Some((client, transport)) => self.do_get_on(&client, ticket, transport).await,
                }
            };
            match attempt.await {
                Ok(reader) => return Ok(reader),
                Err(e) => {
                    failures.push(format!("{}: {}", location.uri, e.message()));
                    last = Some(e);
                }
            }
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

    /// The client for a location: `None` for this server, else a cached or new connection.
    async fn client_for(&self, uri: &str) -> Result<Option<(Grpc, Transport)>> {
        if uri.is_empty()
            || uri == REUSE_CONNECTION
            || uri.starts_with("arrow-flight-reuse-connection:")
        {
            return Ok(None);
        }
        let parsed = url::Url::parse(uri)
            .map_err(|e| Error::internal(format!("malformed location {uri:?}: {e}")))?;
        let tls = match parsed.scheme() {
            "grpc" | "grpc+tcp" => false,
            "grpc+tls" => true,
            other => {
                return Err(Error::not_supported(format!(
                    "location scheme {other}:// is not supported (supported: grpc://, grpc+tcp://, grpc+tls://)"
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
        if let Some(client) = cached {
            return Ok(Some((client, transport_of(tls))));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| Error::internal(format!("location {uri:?} has no host")))?;
        let port = parsed
            .port()
            .ok_or_else(|| Error::internal(format!("location {uri:?} has no port")))?;
        let channel = open_channel(&self.inner.config, host, port, tls).await?;
        let client = grpc(channel, self.inner.headers.clone(), &self.inner.config);
        self.inner
            .locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(uri.to_owned(), client.clone());
        Ok(Some((client, transport_of(tls))))
    }

    async fn do_get_on(
        &self,
        client: &Grpc,
        ticket: &Ticket,
        transport: Transport,
    ) -> Result<FlightStreamReader> {
        let request = self.request(ticket.clone());
        let response = within(
            self.inner.config.timeout(),
            "do_get",
            client.clone().do_get(request),
        )
        .await?
        .map_err(|s| from_status(&s, transport))?;
        self.inner.headers.observe(response.metadata());
        Ok(FlightStreamReader::new(
            response.into_inner(),
            self.inner.config.timeout(),
            transport,
        ))
    }
}

/// Runs a future under a timeout (when one is configured); `what` names it in the error.
pub(crate) async fn within<T>(
    timeout: Option<Duration>,
    what: &str,
    future: impl Future<Output = T>,
) -> Result<T> {
    match timeout {
        None => Ok(future.await),
        Some(t) => tokio::time::timeout(t, future).await.map_err(|_| {
            Error::operational(format!("{what} timed out after {t:?} (URL option timeout)"))
                .timeout()
        }),
    }
}

fn grpc(channel: Channel, headers: CallHeaders, config: &Config) -> Grpc {
    FlightServiceClient::with_interceptor(channel, headers)
        .max_decoding_message_size(config.max_message_size())
        .max_encoding_message_size(config.max_message_size())
}

/// The HTTP/2 flow-control window of each stream: how much a result stream may hold unread.
const STREAM_WINDOW: u32 = 4 << 20;

/// The HTTP/2 window of the whole connection: the largest HTTP/2 allows. Endpoints read ahead
/// (and cursors not being read) hold unread data in their streams; with a smaller connection
/// window that data could use it up and starve the stream being read, a deadlock. Memory stays
/// bounded by the stream windows of the streams open.
const CONNECTION_WINDOW: u32 = (1 << 31) - 1;

async fn open_channel(config: &Config, host: &str, port: u16, tls: bool) -> Result<Channel> {
    let scheme = if tls { "https" } else { "http" };
    let address = format!("{host}:{port}");
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
        .map_err(|e| {
            Error::interface(format!("invalid server address {address:?}")).with_source(e)
        })?
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(STREAM_WINDOW))
        .initial_connection_window_size(Some(CONNECTION_WINDOW));
    if let Some(t) = config.connect_timeout() {
        endpoint = endpoint.connect_timeout(t);
    }
    if tls {
        let domain = host.trim_start_matches('[').trim_end_matches(']');
        let mut tls_config = ClientTlsConfig::new().domain_name(domain);
        tls_config = match config.tls_root_certs() {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::interface(format!(
                        "cannot read tls_root_certs file {}",
                        path.display()
                    ))
                    .with_source(e)
                })?;
                tls_config.ca_certificate(Certificate::from_pem(pem))
            }
            None => tls_config.with_native_roots(),
        };
        endpoint = endpoint
            .tls_config(tls_config)
            .map_err(|e| from_transport("invalid TLS configuration", e, Transport::Tls))?;
    }
    endpoint.connect().await.map_err(|e| {
        from_transport(
            &format!("cannot connect to {address}"),
            e,
            transport_of(tls),
        )
    })
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

//! Connection configuration: parsed from a URL in one place, built in code, printed back.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use dbapi::{Error, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

use crate::oauth::OAuth;

/// The default largest message the client accepts: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// The default number of endpoints opened ahead of the one being read.
pub const DEFAULT_READ_AHEAD: usize = 2;

/// The default number of prepared statements a connection keeps for reuse (URL key
/// `statement_cache`).
pub const DEFAULT_STATEMENT_CACHE: usize = 32;

/// The URL schemes of the driver.
pub const SCHEMES: [&str; 5] = ["flightsql", "grpc", "grpc+tcp", "grpc+tls", "grpc+unix"];

/// The URL option keys, as listed in errors about unknown keys.
const KEYS: &str = "tls, token, database, catalog, schema, header.<name>, timeout, \
                    connect_timeout, query_timeout, fetch_timeout, update_timeout, \
                    max_message_size, tls_root_certs, tls_client_cert, tls_client_key, \
                    tls_server_name, tls_skip_verify, authority, user_agent, compression, \
                    keepalive_interval, keepalive_timeout, cookies, oauth_flow, \
                    oauth_token_uri, oauth_client_id, oauth_client_secret, oauth_scope, \
                    oauth_subject_token, oauth_subject_token_type, oauth_actor_token, \
                    oauth_actor_token_type, oauth_audience, oauth_resource, \
                    oauth_requested_token_type, read_ahead, statement_cache, poll";

/// PEM text or the file that holds it: trusted CAs, a client certificate, its key.
///
/// In a URL, a value starting with `-----BEGIN` is the PEM itself (percent-encoded);
/// anything else is a file path.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file holding PEM blocks.
    File(PathBuf),
    /// The PEM blocks themselves.
    Inline(String),
}

impl Pem {
    /// PEM in a file.
    pub fn file(path: impl Into<PathBuf>) -> Pem {
        Pem::File(path.into())
    }

    /// PEM text (one or more `-----BEGIN ...-----` blocks).
    pub fn inline(text: impl Into<String>) -> Pem {
        Pem::Inline(text.into())
    }

    fn from_url_value(value: String) -> Pem {
        if value.trim_start().starts_with("-----BEGIN") {
            Pem::Inline(value)
        } else {
            Pem::File(PathBuf::from(value))
        }
    }

    fn url_value(&self) -> String {
        match self {
            Pem::File(path) => path.to_string_lossy().into_owned(),
            Pem::Inline(text) => text.clone(),
        }
    }
}

impl From<PathBuf> for Pem {
    fn from(path: PathBuf) -> Pem {
        Pem::File(path)
    }
}

impl From<&std::path::Path> for Pem {
    fn from(path: &std::path::Path) -> Pem {
        Pem::File(path.to_owned())
    }
}

impl From<&str> for Pem {
    /// PEM text when it starts with `-----BEGIN`, else a file path (as in a URL).
    fn from(value: &str) -> Pem {
        Pem::from_url_value(value.to_owned())
    }
}

impl fmt::Debug for Pem {
    /// A file's path; inline PEM only by size (it may be a private key).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(path) => f.debug_tuple("File").field(path).finish(),
            Pem::Inline(text) => write!(f, "Inline(<{} bytes of PEM>)", text.len()),
        }
    }
}

/// gRPC message compression requested for the messages this client sends (answers in gzip
/// and zstd are always accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The kinds of calls that have their own timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// Planning a query: `GetFlightInfo`, `PollFlightInfo`, `GetSchema`.
    Query,
    /// Reading results: each wait for the next `DoGet` message.
    Fetch,
    /// Changing data and state: `DoPut`, `DoAction`, the handshake.
    Update,
}

/// A secret string (password, token): never shown by `Debug`, `Display` or errors.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(secret: String) -> Secret {
        Secret(secret)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The configuration of a Flight SQL connection.
///
/// Parse it from a URL (`"flightsql://host:port?tls=false".parse()`, see `docs/url.md`) or
/// build it with [`Config::new`] and the `with_` methods. `Display` prints the URL with
/// secrets replaced by `***`; [`Config::to_url`] prints it with secrets, for round trips.
///
/// ```
/// use dbapi_flightsql::Config;
///
/// let config: Config =
///     "flightsql://alice:s3cret@db.example.com:8181/sensors?header.x-api-key=k3y&timeout=30s"
///         .parse()?;
/// assert_eq!(config.host(), "db.example.com");
/// assert_eq!(config.database(), Some("sensors"));
/// assert!(config.tls());
/// let shown = config.to_string();
/// assert!(!shown.contains("s3cret") && !shown.contains("k3y"));
/// assert_eq!(config.to_url().parse::<Config>()?, config);
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    host: String,
    port: u16,
    tls: bool,
    username: Option<String>,
    password: Option<Secret>,
    token: Option<Secret>,
    database: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    headers: Vec<(String, String)>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    fetch_timeout: Option<Duration>,
    update_timeout: Option<Duration>,
    max_message_size: usize,
    /// The Unix socket of a `grpc+unix://` URL (then `host` is empty).
    unix: Option<PathBuf>,
    /// Whether plaintext was asked for by name (`tls=false`, `with_tls(false)`), which allows
    /// credentials to go unencrypted to a host that is not this machine.
    plaintext_opt_in: bool,
    tls_root_certs: Option<Pem>,
    tls_client_cert: Option<Pem>,
    tls_client_key: Option<Pem>,
    tls_server_name: Option<String>,
    tls_skip_verify: bool,
    authority: Option<String>,
    user_agent: Option<String>,
    compression: Option<Compression>,
    keepalive_interval: Option<Duration>,
    keepalive_timeout: Option<Duration>,
    cookies: bool,
    oauth: Option<OAuth>,
    read_ahead: usize,
    statement_cache: usize,
    poll: bool,
}

impl Config {
    /// A configuration for `host:port` with TLS on and every other option at its default.
    pub fn new(host: impl Into<String>, port: u16) -> Config {
        Config {
            host: host.into(),
            port,
            tls: true,
            username: None,
            password: None,
            token: None,
            database: None,
            catalog: None,
            schema: None,
            headers: Vec::new(),
            timeout: None,
            connect_timeout: None,
            query_timeout: None,
            fetch_timeout: None,
            update_timeout: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            unix: None,
            plaintext_opt_in: false,
            tls_root_certs: None,
            tls_client_cert: None,
            tls_client_key: None,
            tls_server_name: None,
            tls_skip_verify: false,
            authority: None,
            user_agent: None,
            compression: None,
            keepalive_interval: None,
            keepalive_timeout: None,
            cookies: false,
            oauth: None,
            read_ahead: DEFAULT_READ_AHEAD,
            statement_cache: DEFAULT_STATEMENT_CACHE,
            poll: false,
        }
    }

    /// A configuration for the Unix domain socket at `path` (URL `grpc+unix:///path`),
    /// plaintext, every other option at its default.
    pub fn unix(path: impl Into<PathBuf>) -> Config {
        let mut config = Config::new("", 0).with_tls(false);
        config.unix = Some(path.into());
        config.plaintext_opt_in = false;
        config
    }

    /// Turns TLS on or off (URL key `tls`). Turning it off by name also allows a token or
    /// password to go unencrypted to a host that is not this machine.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self.plaintext_opt_in = !tls;
        self
    }

    /// Authenticates with a bearer token (URL key `token`).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret(token.into()));
        self
    }

    /// Authenticates with a user name and password through the Flight `Handshake` (URL
    /// user-info `user:password@`).
    pub fn with_basic_auth(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(Secret(password.into()));
        self
    }

    /// Sends `database: <name>` on every call (URL key `database` or the URL path).
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// Makes `catalog` the current catalog at connect, through the session option `catalog`
    /// (URL key `catalog`; needs a server with Flight session options).
    pub fn with_catalog(mut self, catalog: impl Into<String>) -> Self {
        self.catalog = Some(catalog.into());
        self
    }

    /// Makes `schema` the current schema at connect, through the session option `schema`
    /// (URL key `schema`; needs a server with Flight session options).
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Sends a header on every call (URL key `header.<name>`); the name is lower-cased, and
    /// a header of the same name given before is replaced.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
        self
    }

    /// Limits each call, and each wait for the next message of a result stream (URL key
    /// `timeout`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Limits establishing a connection (URL key `connect_timeout`).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The largest message accepted from the server, in bytes (URL key `max_message_size`).
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Limits planning a query (`GetFlightInfo`, `PollFlightInfo`, `GetSchema`; URL key
    /// `query_timeout`, default `timeout`).
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = Some(timeout);
        self
    }

    /// Limits each wait for the next message of a result stream (URL key `fetch_timeout`,
    /// default `timeout`).
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = Some(timeout);
        self
    }

    /// Limits updates, ingest, actions and the handshake (`DoPut`, `DoAction`, `Handshake`;
    /// URL key `update_timeout`, default `timeout`).
    pub fn with_update_timeout(mut self, timeout: Duration) -> Self {
        self.update_timeout = Some(timeout);
        self
    }

    /// Trusts the CA certificates of this PEM (a file or the text; several CAs may be in one
    /// bundle) instead of the system roots (URL key `tls_root_certs`).
    pub fn with_tls_root_certs(mut self, pem: impl Into<Pem>) -> Self {
        self.tls_root_certs = Some(pem.into());
        self
    }

    /// Presents a client certificate (mutual TLS): the certificate chain and its private key,
    /// each a file or PEM text (URL keys `tls_client_cert` and `tls_client_key`).
    pub fn with_tls_client_cert(mut self, chain: impl Into<Pem>, key: impl Into<Pem>) -> Self {
        self.tls_client_cert = Some(chain.into());
        self.tls_client_key = Some(key.into());
        self
    }

    /// The name the server's certificate must hold, also sent as SNI, for connecting by IP
    /// address or through a tunnel (URL key `tls_server_name`; applies to the server in the
    /// URL, not to endpoint locations).
    pub fn with_tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// Skips the verification of the server's certificate (URL key `tls_skip_verify`).
    /// The connection is encrypted but anyone on the path can pose as the server: for tests
    /// only. Each connection logs a warning (`tracing`).
    pub fn with_tls_skip_verify(mut self, skip: bool) -> Self {
        self.tls_skip_verify = skip;
        self
    }

    /// The `:authority` of requests (URL key `authority`), for servers behind a proxy that
    /// routes by it; default `host:port`.
    pub fn with_authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// The `user-agent` prefix (URL key `user_agent`); default `dbapi-flightsql/<version>`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Compresses the messages sent (URL key `compression`); answers compressed with gzip or
    /// zstd are accepted whatever this says.
    pub fn with_compression(mut self, compression: Option<Compression>) -> Self {
        self.compression = compression;
        self
    }

    /// Sends HTTP/2 pings at this interval, even when idle (URL key `keepalive_interval`).
    pub fn with_keepalive_interval(mut self, interval: Duration) -> Self {
        self.keepalive_interval = Some(interval);
        self
    }

    /// How long to wait for the answer to a ping before the connection counts as broken (URL
    /// key `keepalive_timeout`).
    pub fn with_keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive_timeout = Some(timeout);
        self
    }

    /// Keeps the cookies servers set and sends them back on every call, to the server and to
    /// endpoint locations (URL key `cookies`; session cookies are kept whatever this says).
    pub fn with_cookies(mut self, cookies: bool) -> Self {
        self.cookies = cookies;
        self
    }

    /// How many endpoints of a result are opened ahead of the one being read (URL key
    /// `read_ahead`; 0 reads endpoints strictly one after another).
    pub fn with_read_ahead(mut self, endpoints: usize) -> Self {
        self.read_ahead = endpoints;
        self
    }

    /// Sets how many prepared statements a connection keeps for reuse by
    /// `execute(sql, params)` (URL key `statement_cache`; 0 prepares every time).
    pub fn with_statement_cache(mut self, statements: usize) -> Self {
        self.statement_cache = statements;
        self
    }

    /// Runs queries through `PollFlightInfo`, reading endpoints as the server produces them
    /// and reporting its progress (URL key `poll`).
    pub fn with_poll(mut self, poll: bool) -> Self {
        self.poll = poll;
        self
    }

    /// Obtains bearer tokens through OAuth 2 (URL keys `oauth_*`), refreshed before they
    /// expire.
    pub fn with_oauth(mut self, oauth: OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// The OAuth 2 settings.
    pub fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_ref()
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether TLS is used.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The user name for the Basic handshake.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// Whether a password is set (it is never returned).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Whether a bearer token is set (it is never returned).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub(crate) fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    pub(crate) fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// The database sent in the `database` header.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The catalog made current at connect.
    pub fn catalog(&self) -> Option<&str> {
        self.catalog.as_deref()
    }

    /// The schema made current at connect.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The extra headers, names in lower case.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The call timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The timeout of planning a query, when set apart from `timeout`.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout
    }

    /// The timeout of each wait for a result message, when set apart from `timeout`.
    pub fn fetch_timeout(&self) -> Option<Duration> {
        self.fetch_timeout
    }

    /// The timeout of updates and actions, when set apart from `timeout`.
    pub fn update_timeout(&self) -> Option<Duration> {
        self.update_timeout
    }

    /// The timeout of a kind of call and the URL key that sets it.
    pub(crate) fn deadline(&self, kind: CallKind) -> Option<(Duration, &'static str)> {
        let (specific, key) = match kind {
            CallKind::Query => (self.query_timeout, "query_timeout"),
            CallKind::Fetch => (self.fetch_timeout, "fetch_timeout"),
            CallKind::Update => (self.update_timeout, "update_timeout"),
        };
        match specific {
            Some(t) => Some((t, key)),
            None => self.timeout.map(|t| (t, "timeout")),
        }
    }

    /// The largest message accepted, in bytes.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The Unix domain socket of a `grpc+unix://` configuration.
    pub fn unix_socket(&self) -> Option<&std::path::Path> {
        self.unix.as_deref()
    }

    /// Whether plaintext was asked for by name, which lets credentials go unencrypted to
    /// another machine.
    pub fn plaintext_opt_in(&self) -> bool {
        self.plaintext_opt_in
    }

    /// The trusted CA certificates, when not the system's.
    pub fn tls_root_certs(&self) -> Option<&Pem> {
        self.tls_root_certs.as_ref()
    }

    /// The client certificate chain (mutual TLS).
    pub fn tls_client_cert(&self) -> Option<&Pem> {
        self.tls_client_cert.as_ref()
    }

    /// The private key of the client certificate.
    pub fn tls_client_key(&self) -> Option<&Pem> {
        self.tls_client_key.as_ref()
    }

    /// The name the server's certificate must hold, when not the host.
    pub fn tls_server_name(&self) -> Option<&str> {
        self.tls_server_name.as_deref()
    }

    /// Whether the server's certificate goes unverified.
    pub fn tls_skip_verify(&self) -> bool {
        self.tls_skip_verify
    }

    /// The `:authority` of requests, when not `host:port`.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// The `user-agent` sent.
    pub fn user_agent(&self) -> &str {
        self.user_agent
            .as_deref()
            .unwrap_or(crate::transport::USER_AGENT)
    }

    /// The compression of the messages sent.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// The HTTP/2 keep-alive ping interval.
    pub fn keepalive_interval(&self) -> Option<Duration> {
        self.keepalive_interval
    }

    /// The HTTP/2 keep-alive ping timeout.
    pub fn keepalive_timeout(&self) -> Option<Duration> {
        self.keepalive_timeout
    }

    /// Whether every cookie servers set is kept and sent back.
    pub fn cookies(&self) -> bool {
        self.cookies
    }

    /// Whether a password, token or secret-looking header is configured.
    pub(crate) fn has_credentials(&self) -> bool {
        self.token.is_some()
            || self
                .password
                .as_ref()
                .is_some_and(|p| !p.expose().is_empty())
            || self.headers.iter().any(|(n, _)| dbapi::is_secret_key(n))
    }

    /// The number of endpoints opened ahead.
    pub fn read_ahead(&self) -> usize {
        self.read_ahead
    }

    /// How many prepared statements a connection keeps for reuse.
    pub fn statement_cache(&self) -> usize {
        self.statement_cache
    }

    /// Whether queries run through `PollFlightInfo`.
    pub fn poll(&self) -> bool {
        self.poll
    }

    /// Checks what the builder cannot check as it goes: host, header names and values.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error naming the bad part.
    pub fn validate(&self) -> Result<()> {
        if self.host.is_empty() && self.unix.is_none() {
            return Err(Error::interface("connection URL has no host"));
        }
        if self.unix.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(Error::interface(
                "grpc+unix:// URL has no socket path (grpc+unix:///path/to/socket)",
            ));
        }
        if !self.tls {
            for (set, key) in [
                (self.tls_skip_verify, "tls_skip_verify"),
                (self.tls_client_cert.is_some(), "tls_client_cert"),
                (self.tls_client_key.is_some(), "tls_client_key"),
                (self.tls_server_name.is_some(), "tls_server_name"),
            ] {
                if set {
                    return Err(Error::interface(format!(
                        "{key} is a TLS option but this connection is plaintext (tls=false, \
                         grpc://, grpc+tcp:// or grpc+unix://)"
                    )));
                }
            }
        }
        if self
            .tls_server_name
            .as_ref()
            .is_some_and(|n| rustls::pki_types::ServerName::try_from(n.as_str()).is_err())
        {
            return Err(Error::interface(format!(
                "tls_server_name {:?} is not a DNS name or IP address",
                self.tls_server_name.as_deref().unwrap_or_default()
            )));
        }
        if let Some(authority) = &self.authority
            && (authority.is_empty()
                || authority.parse::<http::uri::Authority>().is_err()
                || authority.contains('@'))
        {
            return Err(Error::interface(format!(
                "authority {authority:?} is not a valid host[:port]"
            )));
        }
        if let Some(agent) = &self.user_agent
            && (agent.is_empty() || !agent.chars().all(|c| matches!(c, ' '..='~')))
        {
            return Err(Error::interface(format!(
                "user_agent {agent:?} must be non-empty printable ASCII"
            )));
        }
        for (value, key) in [
            (self.keepalive_interval, "keepalive_interval"),
            (self.keepalive_timeout, "keepalive_timeout"),
        ] {
            if value.is_some_and(|d| d < Duration::from_millis(1)) {
                return Err(Error::interface(format!("{key} must be at least 1ms")));
            }
        }
        if self.max_message_size == 0 {
            return Err(Error::interface("max_message_size must be at least 1 byte"));
        }
        if let Some(oauth) = &self.oauth {
            if self.username.is_some() || self.token.is_some() {
                return Err(Error::interface(
                    "give one of user:password, token or oauth_*, not several",
                ));
            }
            oauth.validate()?;
        }
        if self.username.is_some() && self.token.is_some() {
            return Err(Error::interface(
                "give either user:password or token, not both",
            ));
        }
        for (name, value) in &self.headers {
            if tonic::metadata::AsciiMetadataKey::from_str(name).is_err() || name.ends_with("-bin")
            {
                return Err(Error::interface(format!(
                    "header name {name:?} is not a valid gRPC metadata key"
                )));
            }
            if name == "authorization" && (self.token.is_some() || self.username.is_some()) {
                return Err(Error::interface(
                    "header.authorization conflicts with the token or user:password",
                ));
            }
            if !value.chars().all(|c| matches!(c, ' '..='~'))
                || tonic::metadata::AsciiMetadataValue::from_str(value).is_err()
            {
                let shown = if dbapi::is_secret_key(name) {
                    "***"
                } else {
                    value.as_str()
                };
                return Err(Error::interface(format!(
                    "value {shown:?} of header {name:?} is not valid in a gRPC header (printable ASCII only)"
                )));
            }
        }
        Ok(())
    }

    /// The URL of this configuration, **with** its secrets (for round trips; to show a
    /// configuration, use `Display`, which hides them).
    pub fn to_url(&self) -> String {
        self.write_url(true)
    }

    fn write_url(&self, secrets: bool) -> String {
        const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let enc = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
        let hidden = |s: &Secret| {
            if secrets {
                enc(s.expose())
            } else {
                "***".to_owned()
            }
        };
        let mut url = String::from(match (&self.unix, self.tls, self.plaintext_opt_in) {
            (Some(_), _, _) => "grpc+unix://",
            (None, false, false) => "grpc://",
            _ => "flightsql://",
        });
        if let Some(user) = &self.username {
            url.push_str(&enc(user));
            if let Some(password) = self.password.as_ref().filter(|p| !p.expose().is_empty()) {
                url.push(':');
                url.push_str(&hidden(password));
            }
            url.push('@');
        }
        match &self.unix {
            Some(path) => {
                const PATH: &AsciiSet = &COMPONENT.remove(b'/');
                let path = path.to_string_lossy();
                if !path.starts_with('/') {
                    url.push('/');
                }
                url.push_str(&utf8_percent_encode(&path, PATH).to_string());
            }
            None => {
                url.push_str(&self.host);
                url.push_str(&format!(":{}", self.port));
            }
        }
        let mut query: Vec<String> = Vec::new();
        if !self.tls && self.plaintext_opt_in {
            query.push("tls=false".into());
        }
        if let Some(token) = &self.token {
            query.push(format!("token={}", hidden(token)));
        }
        if let Some(db) = &self.database {
            query.push(format!("database={}", enc(db)));
        }
        if let Some(catalog) = &self.catalog {
            query.push(format!("catalog={}", enc(catalog)));
        }
        if let Some(schema) = &self.schema {
            query.push(format!("schema={}", enc(schema)));
        }
        for (name, value) in &self.headers {
            let value = if !secrets && dbapi::is_secret_key(name) {
                "***".to_owned()
            } else {
                enc(value)
            };
            query.push(format!("header.{}={value}", enc(name)));
        }
        if let Some(t) = self.timeout {
            query.push(format!("timeout={}", format_duration(t)));
        }
        if let Some(t) = self.connect_timeout {
            query.push(format!("connect_timeout={}", format_duration(t)));
        }
        if self.max_message_size != DEFAULT_MAX_MESSAGE_SIZE {
            query.push(format!("max_message_size={}", self.max_message_size));
        }
        for (t, key) in [
            (self.query_timeout, "query_timeout"),
            (self.fetch_timeout, "fetch_timeout"),
            (self.update_timeout, "update_timeout"),
            (self.keepalive_interval, "keepalive_interval"),
            (self.keepalive_timeout, "keepalive_timeout"),
        ] {
            if let Some(t) = t {
                query.push(format!("{key}={}", format_duration(t)));
            }
        }
        if let Some(pem) = &self.tls_root_certs {
            query.push(format!("tls_root_certs={}", enc(&pem.url_value())));
        }
        if let Some(pem) = &self.tls_client_cert {
            query.push(format!("tls_client_cert={}", enc(&pem.url_value())));
        }
        if let Some(pem) = &self.tls_client_key {
            let value = match pem {
                Pem::Inline(_) if !secrets => "***".to_owned(),
                _ => enc(&pem.url_value()),
            };
            query.push(format!("tls_client_key={value}"));
        }
        if let Some(name) = &self.tls_server_name {
            query.push(format!("tls_server_name={}", enc(name)));
        }
        if self.tls_skip_verify {
            query.push("tls_skip_verify=true".to_owned());
        }
        if let Some(authority) = &self.authority {
            query.push(format!("authority={}", enc(authority)));
        }
        if let Some(agent) = &self.user_agent {
            query.push(format!("user_agent={}", enc(agent)));
        }
        if let Some(c) = self.compression {
            query.push(format!("compression={}", c.as_str()));
        }
        if self.cookies {
            query.push("cookies=true".to_owned());
        }
        if let Some(oauth) = &self.oauth {
            for (key, value) in oauth.url_pairs(secrets) {
                let value = if value == "***" { value } else { enc(&value) };
                query.push(format!("{key}={value}"));
            }
        }
        if self.read_ahead != DEFAULT_READ_AHEAD {
            query.push(format!("read_ahead={}", self.read_ahead));
        }
        if self.statement_cache != DEFAULT_STATEMENT_CACHE {
            query.push(format!("statement_cache={}", self.statement_cache));
        }
        if self.poll {
            query.push("poll=true".to_owned());
        }
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }
}

impl fmt::Display for Config {
    /// The URL with passwords, tokens and secret-looking headers replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write_url(false))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let v = if dbapi::is_secret_key(n) {
                    "***"
                } else {
                    v.as_str()
                };
                (n.as_str(), v)
            })
            .collect();
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("token", &self.token)
            .field("database", &self.database)
            .field("catalog", &self.catalog)
            .field("schema", &self.schema)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("update_timeout", &self.update_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("unix", &self.unix)
            .field("plaintext_opt_in", &self.plaintext_opt_in)
            .field("tls_root_certs", &self.tls_root_certs)
            .field("tls_client_cert", &self.tls_client_cert)
            .field("tls_client_key", &self.tls_client_key)
            .field("tls_server_name", &self.tls_server_name)
            .field("tls_skip_verify", &self.tls_skip_verify)
            .field("authority", &self.authority)
            .field("user_agent", &self.user_agent)
            .field("compression", &self.compression)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("cookies", &self.cookies)
            .field("oauth", &self.oauth)
            .field("read_ahead", &self.read_ahead)
            .field("statement_cache", &self.statement_cache)
            .field("poll", &self.poll)
            .finish()
    }
}

fn bad_value(key: &str, value: &str, expected: &str) -> Error {
    let shown = if dbapi::is_secret_key(key) {
        "***"
    } else {
        value
    };
    Error::interface(format!(
        "invalid value {shown:?} for URL option {key}: expected {expected}"
    ))
}

/// `true` or `false`, nothing else.
fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad_value(key, value, "true or false")),
    }
}

fn decode(s: &str, what: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::interface(format!("{what} in the connection URL is not valid UTF-8")))
}

impl FromStr for Config {
    type Err = Error;

    /// Parses a connection URL; see `docs/url.md`.
    fn from_str(s: &str) -> Result<Config> {
        let url = Url::parse(s).map_err(|e| {
            Error::interface(format!(
                "malformed connection URL {:?}: {e}",
                dbapi::redact_url(s)
            ))
        })?;
        let scheme = url.scheme().to_ascii_lowercase();
        // (default TLS, whether the `tls` key may change it)
        let (default_tls, tls_fixed) = match scheme.as_str() {
            "flightsql" => (true, false),
            "grpc" | "grpc+tcp" => (false, true),
            "grpc+tls" => (true, true),
            "grpc+unix" => (false, true),
            other => {
                return Err(Error::interface(format!(
                    "URL scheme {other:?} is not a Flight SQL scheme (expected one of: {})",
                    SCHEMES.join(", ")
                )));
            }
        };
        let unix = scheme == "grpc+unix";
        let mut config = if unix {
            if url.host_str().is_some_and(|h| !h.is_empty()) || url.port().is_some() {
                return Err(Error::interface(
                    "a grpc+unix:// URL names a socket path, not a host: grpc+unix:///path/to/socket",
                ));
            }
            Config::unix(decode(url.path(), "the socket path")?)
        } else {
            let host = url
                .host_str()
                .filter(|h| !h.is_empty())
                .ok_or_else(|| Error::interface("connection URL has no host"))?;
            let mut config = Config::new(host, 0);
            config.tls = default_tls;
            config
        };
        if !url.username().is_empty() {
            config.username = Some(decode(url.username(), "the user name")?);
        }
        match (url.password(), &config.username) {
            (Some(_), None) => {
                return Err(Error::interface(
                    "connection URL has a password but no user name",
                ));
            }
            (Some(password), Some(_)) => {
                config.password = Some(Secret(decode(password, "the password")?));
            }
            // A user without a password authenticates with an empty one.
            (None, Some(_)) => config.password = Some(Secret(String::new())),
            (None, None) => {}
        }
        let path = if unix {
            ""
        } else {
            url.path().trim_start_matches('/')
        };
        if !path.is_empty() {
            if path.contains('/') {
                return Err(Error::interface(format!(
                    "connection URL path {path:?} has more than one segment; the path names only the database"
                )));
            }
            config.database = Some(decode(path, "the database name")?);
        }
        if url.fragment().is_some() {
            return Err(Error::interface("connection URL must not have a #fragment"));
        }
        let mut seen: Vec<String> = Vec::new();
        let mut tls_key: Option<bool> = None;
        for (key, value) in url.query_pairs() {
            let (key, value) = (key.into_owned(), value.into_owned());
            if seen.contains(&key) {
                return Err(Error::interface(format!("URL option {key} is given twice")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "tls" => tls_key = Some(parse_bool(&key, &value)?),
                "token" => {
                    if value.is_empty() {
                        return Err(bad_value(&key, &value, "a non-empty token"));
                    }
                    config.token = Some(Secret(value));
                }
                "database" => {
                    if config.database.as_ref().is_some_and(|d| *d != value) {
                        return Err(Error::interface(format!(
                            "the URL path names database {:?} but option database is {value:?}",
                            config.database.as_deref().unwrap_or_default()
                        )));
                    }
                    config.database = Some(value);
                }
                "catalog" | "schema" => {
                    if value.is_empty() {
                        return Err(bad_value(&key, &value, "a non-empty name"));
                    }
                    if key == "catalog" {
                        config.catalog = Some(value);
                    } else {
                        config.schema = Some(value);
                    }
                }
                "timeout" => {
                    config.timeout = Some(parse_duration(&value).ok_or_else(|| {
                        bad_value(&key, &value, "a duration such as 30s, 500ms or 2m")
                    })?);
                }
                "connect_timeout" | "query_timeout" | "fetch_timeout" | "update_timeout"
                | "keepalive_interval" | "keepalive_timeout" => {
                    let d = Some(parse_duration(&value).ok_or_else(|| {
                        bad_value(&key, &value, "a duration such as 10s or 500ms")
                    })?);
                    match key.as_str() {
                        "connect_timeout" => config.connect_timeout = d,
                        "query_timeout" => config.query_timeout = d,
                        "fetch_timeout" => config.fetch_timeout = d,
                        "update_timeout" => config.update_timeout = d,
                        "keepalive_interval" => config.keepalive_interval = d,
                        _ => config.keepalive_timeout = d,
                    }
                }
                "max_message_size" => {
                    config.max_message_size =
                        parse_size(&value).filter(|n| *n > 0).ok_or_else(|| {
                            bad_value(&key, &value, "a size in bytes such as 67108864 or 64MiB")
                        })?;
                }
                "tls_root_certs" | "tls_client_cert" | "tls_client_key" => {
                    if value.is_empty() {
                        return Err(bad_value(&key, &value, "the path of a PEM file, or PEM"));
                    }
                    let pem = Some(Pem::from_url_value(value));
                    match key.as_str() {
                        "tls_root_certs" => config.tls_root_certs = pem,
                        "tls_client_cert" => config.tls_client_cert = pem,
                        _ => config.tls_client_key = pem,
                    }
                }
                "tls_server_name" | "authority" | "user_agent" => {
                    if value.is_empty() {
                        return Err(bad_value(&key, &value, "a non-empty value"));
                    }
                    match key.as_str() {
                        "tls_server_name" => config.tls_server_name = Some(value),
                        "authority" => config.authority = Some(value),
                        _ => config.user_agent = Some(value),
                    }
                }
                "tls_skip_verify" => config.tls_skip_verify = parse_bool(&key, &value)?,
                "cookies" => config.cookies = parse_bool(&key, &value)?,
                "compression" => {
                    config.compression = match value.as_str() {
                        "gzip" => Some(Compression::Gzip),
                        "zstd" => Some(Compression::Zstd),
                        "none" => None,
                        _ => return Err(bad_value(&key, &value, "gzip, zstd or none")),
                    };
                }
                "read_ahead" => {
                    config.read_ahead = value.parse().map_err(|_| {
                        bad_value(&key, &value, "a number of endpoints (0 or more)")
                    })?;
                }
                "statement_cache" => {
                    config.statement_cache = value.parse().map_err(|_| {
                        bad_value(&key, &value, "a number of statements (0 or more)")
                    })?;
                }
                "poll" => config.poll = parse_bool(&key, &value)?,
                oauth if oauth.starts_with("oauth_") => {
                    if !OAuth::set(&mut config.oauth, oauth, value)? {
                        return Err(Error::interface(format!(
                            "unknown URL option {oauth:?} (known options: {KEYS})"
                        )));
                    }
                }
                other => match other.strip_prefix("header.") {
                    Some(name) if !name.is_empty() => {
                        let name = name.to_ascii_lowercase();
                        if config.headers.iter().any(|(n, _)| *n == name) {
                            return Err(Error::interface(format!(
                                "header {name:?} is given twice"
                            )));
                        }
                        config.headers.push((name, value));
                    }
                    _ => {
                        return Err(Error::interface(format!(
                            "unknown URL option {other:?} (known options: {KEYS})"
                        )));
                    }
                },
            }
        }
        if let Some(tls) = tls_key {
            if tls_fixed && tls != default_tls {
                return Err(Error::interface(format!(
                    "URL option tls={tls} conflicts with scheme {scheme}://, which is {}",
                    if default_tls {
                        "always TLS"
                    } else {
                        "always plaintext"
                    }
                )));
            }
            config.tls = tls;
            config.plaintext_opt_in = !tls;
        }
        if !unix {
            config.port = url.port().unwrap_or(if config.tls { 443 } else { 80 });
        }
        config.validate()?;
        Ok(config)
    }
}

/// Parses `30`, `1.5`, `30s`, `500ms`, `2m`, `1h`, `250us`, `10ns` (a bare number is
/// seconds). Whole numbers are exact; fractions are rounded to the nanosecond.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let nanos_per_unit: u64 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    if let Ok(n) = number.parse::<u64>() {
        let nanos = u128::from(n) * u128::from(nanos_per_unit);
        let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
        return Some(Duration::new(secs, (nanos % 1_000_000_000) as u32));
    }
    let n: f64 = number.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(n * nanos_per_unit as f64 / 1e9).ok()
}

/// The shortest exact form: `30s`, `1500ms`, `250us` or `10ns`.
fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos.is_multiple_of(1_000_000_000) {
        format!("{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else if nanos.is_multiple_of(1_000) {
        format!("{}us", d.as_micros())
    } else {
        format!("{nanos}ns")
    }
}

/// Parses `1024`, `64KiB`, `64MiB`, `1GiB`.
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: usize = number.parse().ok()?;
    let factor: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config> {
        s.parse()
    }

    #[test]
    fn full_url() {
        let c = parse(
            "flightsql://alice:p%40ss@db.example.com:8181/sensors?token=&tls=true&timeout=1.5s&connect_timeout=500ms&max_message_size=16MiB&header.X-Trace=abc&read_ahead=0&tls_root_certs=/etc/ca.pem",
        );
        assert!(c.is_err(), "empty token must be rejected");
        let c = parse(
            "flightsql://alice:p%40ss@db.example.com:8181/sensors?tls=true&timeout=1.5s&connect_timeout=500ms&max_message_size=16MiB&header.X-Trace=abc&read_ahead=0&tls_root_certs=/etc/ca.pem",
        )
        .unwrap();
        assert_eq!(c.host(), "db.example.com");
        assert_eq!(c.port(), 8181);
        assert!(c.tls());
        assert_eq!(c.username(), Some("alice"));
        assert_eq!(c.password().map(Secret::expose), Some("p@ss"));
        assert_eq!(c.database(), Some("sensors"));
        assert_eq!(c.timeout(), Some(Duration::from_millis(1500)));
        assert_eq!(c.connect_timeout(), Some(Duration::from_millis(500)));
        assert_eq!(c.max_message_size(), 16 << 20);
        assert_eq!(c.headers(), &[("x-trace".to_owned(), "abc".to_owned())]);
        assert_eq!(c.read_ahead(), 0);
        assert_eq!(c.tls_root_certs(), Some(&Pem::file("/etc/ca.pem")));
    }

    #[test]
    fn defaults() {
        let c = parse("flightsql://h").unwrap();
        assert!(c.tls());
        assert_eq!(c.port(), 443);
        assert_eq!(c.max_message_size(), DEFAULT_MAX_MESSAGE_SIZE);
        assert!(c.max_message_size() > 4 << 20);
        assert_eq!(c.read_ahead(), DEFAULT_READ_AHEAD);
        assert!(!c.has_token() && !c.has_password());
        let c = parse("flightsql://h?tls=false").unwrap();
        assert_eq!(c.port(), 80);
    }

    #[test]
    fn scheme_aliases() {
        assert!(!parse("grpc://h:1").unwrap().tls());
        assert!(!parse("grpc+tcp://h:1").unwrap().tls());
        assert!(parse("grpc+tls://h:1").unwrap().tls());
        assert!(parse("GRPC+TLS://h:1").unwrap().tls());
        let e = parse("grpc+tls://h:1?tls=false").unwrap_err();
        assert!(e.to_string().contains("conflicts"), "{e}");
        let e = parse("grpc://h:1?tls=true").unwrap_err();
        assert!(e.to_string().contains("always plaintext"), "{e}");
        let e = parse("postgres://h:1").unwrap_err();
        assert!(e.to_string().contains("flightsql, grpc"), "{e}");
    }

    #[test]
    fn tls_is_strict() {
        for v in ["1", "yes", "TRUE", ""] {
            let e = parse(&format!("flightsql://h?tls={v}")).unwrap_err();
            assert!(e.is_interface());
            assert!(e.to_string().contains("true or false"), "{e}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let e = parse("flightsql://h?tls=false&bogus=1").unwrap_err();
        assert!(e.is_interface());
        let msg = e.to_string();
        assert!(msg.contains("\"bogus\""), "{msg}");
        assert!(msg.contains("known options"), "{msg}");
        assert!(parse("flightsql://h?header.=x").is_err());
    }

    #[test]
    fn duplicate_and_conflicting_keys() {
        assert!(parse("flightsql://h?token=a&token=b").is_err());
        let e = parse("flightsql://h/db1?database=db2").unwrap_err();
        assert!(e.to_string().contains("db1"), "{e}");
        assert!(parse("flightsql://h/db1?database=db1").is_ok());
        assert!(parse("flightsql://u:p@h?token=t").is_err());
        assert!(parse("flightsql://h/a/b").is_err());
    }

    #[test]
    fn bad_values_are_named() {
        for (url, key) in [
            ("flightsql://h?timeout=soon", "timeout"),
            ("flightsql://h?timeout=-1s", "timeout"),
            ("flightsql://h?connect_timeout=1x", "connect_timeout"),
            ("flightsql://h?max_message_size=0", "max_message_size"),
            ("flightsql://h?max_message_size=12PB", "max_message_size"),
            ("flightsql://h?read_ahead=-1", "read_ahead"),
            ("flightsql://h?header.bad%20name=1", "bad name"),
            ("flightsql://h?header.x=caf%C3%A9", "\"x\""),
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.to_string().contains(key), "{url}: {e}");
        }
    }

    #[test]
    fn malformed_urls_do_not_panic_and_hide_secrets() {
        for url in [
            "",
            "flightsql://",
            "flightsql://:1",
            "flightsql://h:99999",
            "::",
            "flightsql://u:hunter2@[::1",
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.is_interface(), "{url}: {e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn secrets_never_shown() {
        let c =
            parse("flightsql://bob:hunter2@h:1?header.x-api-key=k3y&header.plain=visible").unwrap();
        for shown in [c.to_string(), format!("{c:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!shown.contains("k3y"), "{shown}");
            assert!(shown.contains("visible"), "{shown}");
        }
        let c = parse("flightsql://h:1?token=s3cr3t-t0ken").unwrap();
        for shown in [c.to_string(), format!("{c:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
        let e = parse("flightsql://h:1?token=s3cr3t&token=x").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn round_trip() {
        let c = Config::new("example.org", 9000)
            .with_tls(false)
            .with_basic_auth("we ird@user", "p:a/ss?&")
            .with_database("my db")
            .with_catalog("cat/1")
            .with_schema("s&2")
            .with_header("X-Custom", "a=b&c")
            .with_timeout(Duration::from_millis(2500))
            .with_connect_timeout(Duration::from_secs(3))
            .with_max_message_size(12345)
            .with_tls_root_certs("/tmp/ca file.pem")
            .with_read_ahead(5);
        let back: Config = c.to_url().parse().unwrap();
        assert_eq!(back, c);
        let c = Config::new("10.0.0.1", 1).with_token("t&k=n");
        assert_eq!(c.to_url().parse::<Config>().unwrap(), c);
        let c = Config::new("[::1]", 8181);
        assert_eq!(c.to_url().parse::<Config>().unwrap(), c);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("NaN"), None);
        assert_eq!(parse_duration("1e400"), None);
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("1kib"), Some(1024));
        assert_eq!(parse_size("99999999999999999999GiB"), None);
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn docs_url_lists_every_key() {
        let doc = include_str!("../../../docs/url.md");
        for key in super::KEYS.split(", ") {
            assert!(
                doc.contains(&format!("| `{key}` |")),
                "docs/url.md lacks option {key}"
            );
        }
    }
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use proptest::prelude::*;

    fn printable() -> impl Strategy<Value = String> {
        "[ -~]{0,24}"
    }

    prop_compose! {
        fn configs()(
            host in "[a-z][a-z0-9-]{0,12}(\\.[a-z][a-z0-9-]{0,8}){0,2}",
            port in 1_u16..,
            tls in any::<bool>(),
            auth in prop_oneof![
                Just(None),
                ("[ -~]{1,16}", printable()).prop_map(|(u, p)| Some((u, Some(p)))),
                "[ -~]{1,16}".prop_map(|t| Some((t, None))),
            ],
            database in proptest::option::of(printable()),
            catalog in proptest::option::of("[ -~]{1,12}"),
            headers in proptest::collection::vec(("x-[a-z0-9-]{1,10}", printable()), 0..3),
            timeout in proptest::option::of(0_u64..10_000_000_000_000),
            connect_timeout in proptest::option::of(0_u64..100_000_000_000),
            max_message_size in 1_usize..(1 << 40),
            certs in proptest::option::of("[ -~]{1,30}"),
            read_ahead in 0_usize..64,
            per_call in proptest::option::of((1_u64..100_000_000_000, 0_usize..3)),
            wire in (any::<bool>(), 0_u8..3, proptest::option::of("[a-z]{1,10}(\\.[a-z]{1,5})?")),
            client in proptest::option::of(("[ -~]{1,20}", "-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]{1,40}")),
        ) -> Config {
            let mut c = Config::new(host, port).with_tls(tls).with_max_message_size(max_message_size).with_read_ahead(read_ahead);
            match auth {
                Some((user, Some(password))) => c = c.with_basic_auth(user, password),
                Some((token, None)) => c = c.with_token(token),
                None => {}
            }
            if let Some(db) = database { c = c.with_database(db); }
            if let Some(name) = catalog { c = c.with_catalog(name.clone()).with_schema(name); }
            for (n, v) in headers { c = c.with_header(n, v); }
            if let Some(t) = timeout { c = c.with_timeout(Duration::from_nanos(t)); }
            if let Some(t) = connect_timeout { c = c.with_connect_timeout(Duration::from_nanos(t)); }
            if let Some(p) = certs { c = c.with_tls_root_certs(Pem::file(p)); }
            if let Some((nanos, which)) = per_call {
                let d = Duration::from_nanos(nanos);
                c = match which {
                    0 => c.with_query_timeout(d),
                    1 => c.with_fetch_timeout(d).with_keepalive_interval(d),
                    _ => c.with_update_timeout(d).with_keepalive_timeout(d),
                };
            }
            let (cookies, compression, name) = wire;
            c = c.with_cookies(cookies).with_compression(match compression {
                0 => None,
                1 => Some(Compression::Gzip),
                _ => Some(Compression::Zstd),
            });
            if tls {
                if let Some(name) = name { c = c.with_tls_server_name(name.clone()).with_user_agent(name); }
                if let Some((cert, key)) = client { c = c.with_tls_client_cert(Pem::file(cert), Pem::inline(key)); }
            }
            c
        }
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,64}") {
            let _ = s.parse::<Config>();
        }

        #[test]
        fn arbitrary_flightsql_urls_never_panic(rest in "[ -~]{0,64}") {
            let _ = format!("flightsql://{rest}").parse::<Config>();
            let _ = format!("grpc+tls://h:1?{rest}").parse::<Config>();
        }

        #[test]
        fn config_to_url_to_config_round_trips(c in configs()) {
            let url = c.to_url();
            let back: Config = url.parse().map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
            prop_assert_eq!(back, c);
        }

        #[test]
        fn display_never_shows_secrets(c in configs(), secret in "[A-Za-z0-9]{12}") {
            let c = c.with_header("x-api-key", format!("k{secret}"));
            let c = if c.username().is_some() { c.with_basic_auth("u", format!("p{secret}")) } else { c.with_token(format!("t{secret}")) };
            for shown in [c.to_string(), format!("{c:?}")] {
                prop_assert!(!shown.contains(&secret), "{}", shown);
            }
        }
    }
}

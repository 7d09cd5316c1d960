//! The configuration of a connection: its fields, the builder and accessors, validation.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use dbapi::{Error, Result};

use crate::config::hosts::{HostSelection, LocationMap, Locations};
use crate::config::oauth::OAuth;
use crate::config::secret::Secret;

/// The default largest message the client accepts: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// The default of the largest row count of one record batch (URL key `max_batch_rows`).
pub const DEFAULT_MAX_BATCH_ROWS: usize = 1 << 20;

/// How long establishing a connection (TCP, TLS handshake; a location's, an HTTP request's)
/// may take when `connect_timeout` does not say: 30 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of retries of a call that failed transiently (URL key `retries`).
pub const DEFAULT_RETRIES: u32 = 3;

/// The default time a call's retries may take, waits included (URL key `retry_budget`).
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(10);

/// The default first wait before a retry (URL key `retry_backoff`); it doubles with each
/// retry, up to [`MAX_RETRY_BACKOFF`], and each wait is jittered down by up to half.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before a retry.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(2);

/// The default number of endpoints opened ahead of the one being read.
pub const DEFAULT_READ_AHEAD: usize = 2;

/// The default number of prepared statements a connection keeps for reuse (URL key
/// `statement_cache`).
pub const DEFAULT_STATEMENT_CACHE: usize = 32;

/// The `user-agent` prefix sent unless `user_agent` says otherwise.
pub(crate) const USER_AGENT: &str = concat!("dbapi-flightsql/", env!("CARGO_PKG_VERSION"));

/// The URL schemes of the driver.
pub const SCHEMES: [&str; 5] = ["flightsql", "grpc", "grpc+tcp", "grpc+tls", "grpc+unix"];

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

    pub(super) fn from_url_value(value: String) -> Pem {
        if value.trim_start().starts_with("-----BEGIN") {
            Pem::Inline(value)
        } else {
            Pem::File(PathBuf::from(value))
        }
    }

    pub(super) fn url_value(&self) -> String {
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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The way queries reach the server (URL keys `query_path` and `query_language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryPath {
    /// Flight SQL, except for a query with parameters on a server whose `SqlInfo` name says
    /// InfluxDB, outside a transaction: that goes through InfluxDB's own ticket in SQL, the
    /// one way InfluxDB 3 binds parameters (`query_path=auto`, the default).
    #[default]
    Auto,
    /// Flight SQL: `GetFlightInfo` of a statement (prepared when it has parameters), then a
    /// `DoGet` per endpoint.
    FlightSql,
    /// InfluxDB 3's own Flight ticket: one `DoGet` whose ticket is JSON naming the database,
    /// the query, its language and its parameters (see `docs/influxdb.md`). Queries only.
    InfluxDb(QueryLanguage),
}

/// The query language of InfluxDB's own ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryLanguage {
    /// SQL.
    #[default]
    Sql,
    /// InfluxQL.
    InfluxQl,
}

impl QueryLanguage {
    /// The ticket's `query_type`: `sql` or `influxql`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::Sql => "sql",
            QueryLanguage::InfluxQl => "influxql",
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
    pub(super) host: String,
    pub(super) port: u16,
    /// The hosts after the first of a host list (`flightsql://h1:1,h2:2`), in URL order.
    pub(super) other_hosts: Vec<(String, u16)>,
    pub(super) host_selection: HostSelection,
    pub(super) tls: bool,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    pub(super) token: Option<Secret>,
    pub(super) database: Option<String>,
    pub(super) catalog: Option<String>,
    pub(super) schema: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) timeout: Option<Duration>,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) query_timeout: Option<Duration>,
    pub(super) statement_timeout: Option<Duration>,
    pub(super) fetch_timeout: Option<Duration>,
    pub(super) update_timeout: Option<Duration>,
    pub(super) max_message_size: usize,
    pub(super) max_decoded_size: Option<usize>,
    pub(super) max_batch_rows: usize,
    /// The Unix socket of a `grpc+unix://` URL (then `host` is empty).
    pub(super) unix: Option<PathBuf>,
    /// Whether plaintext was asked for by name (`tls=false`, `with_tls(false)`), which allows
    /// credentials to go unencrypted to a host that is not this machine.
    pub(super) plaintext_opt_in: bool,
    pub(super) tls_root_certs: Option<Pem>,
    pub(super) tls_client_cert: Option<Pem>,
    pub(super) tls_client_key: Option<Pem>,
    pub(super) tls_server_name: Option<String>,
    pub(super) tls_skip_verify: bool,
    pub(super) authority: Option<String>,
    pub(super) user_agent: Option<String>,
    pub(super) local_address: Option<std::net::IpAddr>,
    pub(super) compression: Option<Compression>,
    pub(super) keepalive_interval: Option<Duration>,
    pub(super) keepalive_timeout: Option<Duration>,
    pub(super) cookies: bool,
    pub(super) locations: Locations,
    pub(super) location_map: LocationMap,
    pub(super) oauth: Option<OAuth>,
    pub(super) read_ahead: usize,
    pub(super) arrival_order: bool,
    pub(super) statement_cache: usize,
    pub(super) poll: bool,
    pub(super) query_path: QueryPath,
    pub(super) retries: u32,
    pub(super) retry_budget: Duration,
    pub(super) retry_backoff: Duration,
    pub(super) otel_query_text: bool,
    pub(super) otel_traceparent: bool,
    /// A caller-built TLS configuration ([`Config::with_tls_config`]); not part of the URL.
    pub(super) tls_config: Option<CustomTls>,
}

/// A rustls client configuration given by the caller; equal only to itself.
#[derive(Clone)]
pub(crate) struct CustomTls(pub(crate) Arc<rustls::ClientConfig>);

impl PartialEq for CustomTls {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CustomTls {}

impl fmt::Debug for CustomTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("custom rustls ClientConfig")
    }
}

impl Config {
    /// A configuration for `host:port` with TLS on and every other option at its default.
    pub fn new(host: impl Into<String>, port: u16) -> Config {
        Config {
            host: host.into(),
            port,
            other_hosts: Vec::new(),
            host_selection: HostSelection::First,
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
            statement_timeout: None,
            fetch_timeout: None,
            update_timeout: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_decoded_size: None,
            max_batch_rows: DEFAULT_MAX_BATCH_ROWS,
            unix: None,
            plaintext_opt_in: false,
            tls_root_certs: None,
            tls_client_cert: None,
            tls_client_key: None,
            tls_server_name: None,
            tls_skip_verify: false,
            authority: None,
            user_agent: None,
            local_address: None,
            compression: None,
            keepalive_interval: None,
            keepalive_timeout: None,
            cookies: false,
            locations: Locations::Server,
            location_map: LocationMap::AsAdvertised,
            oauth: None,
            read_ahead: DEFAULT_READ_AHEAD,
            arrival_order: false,
            statement_cache: DEFAULT_STATEMENT_CACHE,
            poll: false,
            query_path: QueryPath::Auto,
            retries: DEFAULT_RETRIES,
            retry_budget: DEFAULT_RETRY_BUDGET,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            otel_query_text: false,
            otel_traceparent: false,
            tls_config: None,
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

    /// Adds a host to try when the ones before it refuse or do not answer (the URL's host
    /// list, `flightsql://h1:8181,h2:8181`).
    pub fn with_other_host(mut self, host: impl Into<String>, port: u16) -> Self {
        self.other_hosts.push((host.into(), port));
        self
    }

    /// Puts the query text, literals replaced by `?`, on statement spans (URL key
    /// `otel_query_text`; cargo feature `opentelemetry`).
    pub fn with_otel_query_text(mut self, on: bool) -> Self {
        self.otel_query_text = on;
        self
    }

    /// Sends the W3C `traceparent` of the current span with every call (URL key
    /// `otel_traceparent`; cargo feature `opentelemetry`).
    pub fn with_otel_traceparent(mut self, on: bool) -> Self {
        self.otel_traceparent = on;
        self
    }

    /// Which host of several a new connection tries first (URL key `host_selection`).
    pub fn with_host_selection(mut self, selection: HostSelection) -> Self {
        self.host_selection = selection;
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

    /// The largest decoded size of one message from the server, after decompression (URL key
    /// `max_decoded_size`; default `max_message_size`). Compressed buffers that declare more,
    /// or expand to more, are refused before anything is allocated for them.
    pub fn with_max_decoded_size(mut self, bytes: usize) -> Self {
        self.max_decoded_size = Some(bytes);
        self
    }

    /// The largest number of rows one record batch from the server (or from a file read
    /// through the decode guard) may claim, and the largest length of any array inside it of a
    /// type that needs no bytes per value (`Null`, a struct without fields,
    /// `FixedSizeBinary(0)`, a list of size 0, run-end encoded) — URL key `max_batch_rows`,
    /// default 1,048,576. Row counts cost no bytes on the wire, but every reader of rows
    /// allocates for each.
    pub fn with_max_batch_rows(mut self, rows: usize) -> Self {
        self.max_batch_rows = rows;
        self
    }

    /// Bounds each statement, from `execute` to its last row (URL key
    /// `statement_timeout`): when it expires the statement is cancelled, on the server too,
    /// and the pending call or next fetch is a timeout error. `Cursor::set_timeout` sets it
    /// per cursor.
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
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

    /// Uses a TLS configuration built by the caller (trusted roots, client certificates from
    /// a key store, a custom verifier, pinned certificates) for the server and its `grpc+tls`
    /// locations, instead of the one built from the `tls_*` keys; its ALPN protocols are set
    /// to `h2`, as gRPC needs. It replaces `tls_root_certs`, `tls_client_cert`,
    /// `tls_client_key` and `tls_skip_verify` (giving one of them too is an error), and is
    /// not part of the URL form (`to_url` and `Display` leave it out). The OAuth token
    /// endpoint and `https://` locations keep their own verified configuration.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dbapi_flightsql::{Config, rustls};
    ///
    /// let mut roots = rustls::RootCertStore::empty();
    /// // roots.add(...) for each trusted CA
    /// let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
    ///     rustls::crypto::ring::default_provider(),
    /// ))
    /// .with_safe_default_protocol_versions()?
    /// .with_root_certificates(roots)
    /// .with_no_client_auth();
    /// let config = Config::new("flight.example.com", 443).with_tls_config(Arc::new(tls));
    /// # Ok::<(), rustls::Error>(())
    /// ```
    pub fn with_tls_config(mut self, tls: Arc<rustls::ClientConfig>) -> Self {
        self.tls_config = Some(CustomTls(tls));
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

    /// Connects from this local address (URL key `local_address`): the server's and the
    /// endpoint locations' connections leave through it, on a host with several addresses.
    pub fn with_local_address(mut self, address: std::net::IpAddr) -> Self {
        self.local_address = Some(address);
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

    /// Restricts the hosts endpoint locations may name (URL key `locations`).
    pub fn with_locations(mut self, locations: Locations) -> Self {
        self.locations = locations;
        self
    }

    /// How many endpoints of a result are opened ahead of the one being read (URL key
    /// `read_ahead`; 0 reads endpoints strictly one after another).
    pub fn with_read_ahead(mut self, endpoints: usize) -> Self {
        self.read_ahead = endpoints;
        self
    }

    /// Delivers the batches of an unordered result (`FlightInfo.ordered` false) as they
    /// arrive from any endpoint being read, instead of endpoint after endpoint (URL key
    /// `arrival_order`); an ordered result keeps its order.
    pub fn with_arrival_order(mut self, arrival: bool) -> Self {
        self.arrival_order = arrival;
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

    /// Retries calls that are safe to repeat (planning a query, schemas, metadata, the
    /// handshake, a `DoGet` before its first batch) when they fail transiently
    /// ([`dbapi::Error::is_transient`]): at most `retries` times, all of them within `budget`
    /// (waits included). URL keys `retries` and `retry_budget`; `retries` 0 never retries.
    pub fn with_retries(mut self, retries: u32, budget: Duration) -> Self {
        self.retries = retries;
        self.retry_budget = budget;
        self
    }

    /// The first wait before a retry (URL key `retry_backoff`): it doubles with each retry up
    /// to [`MAX_RETRY_BACKOFF`], each wait jittered down by up to half.
    pub fn with_retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Where endpoint locations are read (URL key `location_map`): as advertised, through
    /// the server itself, or at the reachable address mapped from an advertised one. The
    /// `locations` policy applies to the address read.
    pub fn with_location_map(mut self, map: LocationMap) -> Self {
        self.location_map = map;
        self
    }

    /// How queries reach the server (URL keys `query_path` and `query_language`): Flight SQL,
    /// or InfluxDB 3's own ticket in SQL or InfluxQL.
    pub fn with_query_path(mut self, path: QueryPath) -> Self {
        self.query_path = path;
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

    /// The host name or address (the first of a host list; of a connection's configuration,
    /// the host it connected to).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every host and port of the URL's host list, [`host`](Self::host) first (one for a URL
    /// naming one host, none for a Unix socket).
    pub fn hosts(&self) -> Vec<(&str, u16)> {
        if self.unix.is_some() {
            return Vec::new();
        }
        std::iter::once((self.host.as_str(), self.port))
            .chain(self.other_hosts.iter().map(|(h, p)| (h.as_str(), *p)))
            .collect()
    }

    /// Which host of several a new connection tries first.
    pub fn host_selection(&self) -> HostSelection {
        self.host_selection
    }

    /// Whether statement spans carry the query text (literals replaced by `?`).
    pub fn otel_query_text(&self) -> bool {
        self.otel_query_text
    }

    /// Whether calls carry the W3C `traceparent` of the current span.
    pub fn otel_traceparent(&self) -> bool {
        self.otel_traceparent
    }

    /// This configuration with host `index` of [`hosts`](Self::hosts) first, the others
    /// after it in their order.
    pub(crate) fn on_host(&self, index: usize) -> Config {
        let mut hosts: Vec<(String, u16)> = self
            .hosts()
            .into_iter()
            .map(|(h, p)| (h.to_owned(), p))
            .collect();
        let mut config = self.clone();
        if index < hosts.len() {
            let (host, port) = hosts.remove(index);
            config.host = host;
            config.port = port;
            config.other_hosts = hosts;
        }
        config
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

    /// The connect timeout, when set ([`DEFAULT_CONNECT_TIMEOUT`] applies otherwise).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The limit on establishing a connection: `connect_timeout`, or
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn effective_connect_timeout(&self) -> Duration {
        self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// The timeout of planning a query, when set apart from `timeout`.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout
    }

    /// The bound on each statement, from `execute` to its last row.
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
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

    /// The largest decoded size of one message, after decompression.
    pub fn max_decoded_size(&self) -> usize {
        self.max_decoded_size.unwrap_or(self.max_message_size)
    }

    /// The largest row count of one record batch.
    pub fn max_batch_rows(&self) -> usize {
        self.max_batch_rows
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

    /// The caller-built TLS configuration ([`Config::with_tls_config`]).
    pub fn tls_config(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.tls_config.as_ref().map(|c| &c.0)
    }

    /// The `:authority` of requests, when not `host:port`.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// The `user-agent` sent.
    pub fn user_agent(&self) -> &str {
        self.user_agent.as_deref().unwrap_or(USER_AGENT)
    }

    /// The local address connections leave from, when set.
    pub fn local_address(&self) -> Option<std::net::IpAddr> {
        self.local_address
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

    /// The hosts endpoint locations may name.
    pub fn locations(&self) -> &Locations {
        &self.locations
    }

    /// Whether every cookie servers set is kept and sent back.
    pub fn cookies(&self) -> bool {
        self.cookies
    }

    /// The number of endpoints opened ahead.
    pub fn read_ahead(&self) -> usize {
        self.read_ahead
    }

    /// Whether an unordered result's batches are delivered as they arrive.
    pub fn arrival_order(&self) -> bool {
        self.arrival_order
    }

    /// How many prepared statements a connection keeps for reuse.
    pub fn statement_cache(&self) -> usize {
        self.statement_cache
    }

    /// Whether queries run through `PollFlightInfo`.
    pub fn poll(&self) -> bool {
        self.poll
    }

    /// Where endpoint locations are read.
    pub fn location_map(&self) -> &LocationMap {
        &self.location_map
    }

    /// How queries reach the server.
    pub fn query_path(&self) -> QueryPath {
        self.query_path
    }

    /// How many times a call that failed transiently is retried.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The time a call's retries may take, waits included.
    pub fn retry_budget(&self) -> Duration {
        self.retry_budget
    }

    /// The first wait before a retry.
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }

    /// Checks what the builder cannot check as it goes: host, header names and values.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error naming the bad part.
    pub fn validate(&self) -> Result<()> {
        if self.host.is_empty() && self.unix.is_none() {
            return Err(Error::interface("connection URL has no host"));
        }
        if self.unix.is_some() && !self.other_hosts.is_empty() {
            return Err(Error::interface(
                "a grpc+unix:// URL names one socket, not a list of hosts",
            ));
        }
        if let Some((host, _)) = self.other_hosts.iter().find(|(h, _)| h.is_empty()) {
            return Err(Error::interface(format!(
                "connection URL has an empty host in its host list {host:?}"
            )));
        }
        if self.unix.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(Error::interface(
                "grpc+unix:// URL has no socket path (grpc+unix:///path/to/socket)",
            ));
        }
        if self.tls_config.is_some() {
            if !self.tls {
                return Err(Error::interface(
                    "a TLS configuration was given (with_tls_config) but this connection is \
                     plaintext",
                ));
            }
            for (set, key) in [
                (self.tls_skip_verify, "tls_skip_verify"),
                (self.tls_root_certs.is_some(), "tls_root_certs"),
                (self.tls_client_cert.is_some(), "tls_client_cert"),
                (self.tls_client_key.is_some(), "tls_client_key"),
            ] {
                if set {
                    return Err(Error::interface(format!(
                        "{key} and with_tls_config both say how to set up TLS: give one"
                    )));
                }
            }
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
        if self.max_decoded_size == Some(0) {
            return Err(Error::interface("max_decoded_size must be at least 1 byte"));
        }
        if self.max_batch_rows == 0 {
            return Err(Error::interface("max_batch_rows must be at least 1"));
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
}

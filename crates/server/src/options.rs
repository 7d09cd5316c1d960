//! What the server does with each query: endpoints, locations, auth, required headers.

use std::time::Duration;

/// The location URI that tells a client to reuse its current connection.
pub const REUSE_CONNECTION: &str = "arrow-flight-reuse-connection://?";

/// Where the endpoints of a result say their data is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Locations {
    /// No locations: every endpoint is redeemed on the server that answered.
    #[default]
    None,
    /// Every endpoint carries the single location [`REUSE_CONNECTION`].
    ReuseConnection,
    /// Every endpoint carries these locations, in this order (e.g. a dead address first and a
    /// live one second, to exercise fallback).
    Fixed(Vec<String>),
    /// Endpoint `i` carries the single location `uris[i % uris.len()]`.
    RoundRobin(Vec<String>),
    /// Every endpoint carries an `http(s)://` location on the HTTP instance at this base URL
    /// ([`crate::HttpReplica::base_url`]) and no ticket: a GET of the location answers the
    /// stream as an Arrow IPC stream.
    Http(String),
}

/// How clients must authenticate.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// Every call must carry `authorization: Bearer <token>`.
    Bearer(String),
    /// Clients authenticate with a Basic `Handshake`; the server answers with a bearer token
    /// that every later call must carry.
    Basic {
        /// The accepted user name.
        username: String,
        /// The accepted password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"***")
                .finish(),
        }
    }
}

/// The behaviour of a server; shared by a server and its replicas, changeable while running.
#[derive(Debug, Clone)]
pub struct Options {
    /// Into how many endpoints each query result is split (rows are divided into contiguous,
    /// nearly equal ranges, so some endpoints may be empty; 0 sends a `FlightInfo` without
    /// endpoints, an empty result).
    pub endpoints: usize,
    /// The locations given to the endpoints.
    pub locations: Locations,
    /// The `ordered` flag of each `FlightInfo`.
    pub ordered: bool,
    /// Whether `FlightInfo.schema` is filled (when false, clients learn the schema from the
    /// first stream, as with some servers).
    pub send_schema: bool,
    /// Whether `FlightInfo.total_records` is filled (otherwise -1).
    pub send_total_records: bool,
    /// Authentication.
    pub auth: Auth,
    /// A header every call must carry (name in lower case, value), as InfluxDB 3 requires
    /// `database`. Missing: `InvalidArgument`; another value: `NotFound`.
    pub required_header: Option<(String, String)>,
    /// A pause before the first batch of every `DoGet` stream.
    pub delay_before_first_batch: Duration,
    /// Serve the stream of this endpoint (0-based) with every column renamed (`<name>_x`), as
    /// a broken server would: clients must reject a stream whose schema differs.
    pub rename_columns_in_endpoint: Option<usize>,
    /// Give every endpoint an `expiration_time` this far in the future (clients may retry its
    /// ticket until then; after it, the ticket is refused with `NOT_FOUND`).
    pub expiration: Option<Duration>,
    /// Corrupt the stream of one endpoint (0-based).
    pub corrupt_endpoint: Option<(usize, Corruption)>,
    /// A pause before each later batch of every `DoGet` stream (paces streams, so that
    /// tests can act while a stream is open).
    pub delay_between_batches: Duration,
    /// Whether updates through `DoPut` (`CommandStatementUpdate`,
    /// `CommandPreparedStatementUpdate`) are served; when false they are answered
    /// `UNIMPLEMENTED`, as DataFusion-based servers do, and statements that change data run
    /// through the query path, returning a one-row `count`.
    pub updates: bool,
    /// Whether prepared statement handles carry the whole statement (and its bound
    /// parameters), so that each binding returns a new handle, as stateless servers such as
    /// InfluxDB 3 do; when false the server keeps statements and handles are ids.
    pub stateless_statements: bool,
    /// Whether transactions and savepoints are served and advertised in `SqlInfo`.
    pub transactions: bool,
    /// Whether the `CancelFlightInfo` action is served (when false only the deprecated
    /// `CancelQuery` action is).
    pub cancel_flight_info: bool,
    /// Whether `GetSqlInfo` is served.
    pub sql_info: bool,
    /// How long each `PollFlightInfo` call takes; each call reveals one more endpoint.
    pub poll_delay: Duration,
    /// List schemas and tables only when a catalog filter is given (answer nothing without
    /// one), as some servers do.
    pub metadata_needs_catalog: bool,
    /// Commands answered `UNIMPLEMENTED`, by name (e.g. `CommandGetPrimaryKeys`,
    /// `CommandGetXdbcTypeInfo`).
    pub unimplemented: Vec<String>,
    /// Send `SqlInfo` values in a union whose members are listed in another order than the
    /// specification's, with other type ids, as some servers do.
    pub sql_info_shuffled: bool,
    /// Whether session options (`SetSessionOptions`, `GetSessionOptions`, `CloseSession`)
    /// are served.
    pub session_options: bool,
    /// With [`Auth::Bearer`]: every answer carries `authorization: Bearer <this token>`, and
    /// once the first such answer is sent, only this token is accepted (a rotated token).
    pub rotate_token: Option<String>,
    /// Every answer sets this cookie (`set-cookie: <name=value>`), as load balancers that
    /// pin sessions do; [`crate::Stats::with_cookie`] counts the calls that send it back.
    pub set_cookie: Option<String>,
    /// Compress the record batch bodies of `DoGet` streams (Arrow IPC body compression).
    pub ipc_compression: Option<arrow::ipc::CompressionType>,
    /// The `Content-Type` of HTTP location answers (default: the Arrow IPC stream media type).
    pub http_content_type: Option<String>,
    /// HTTP location answers end cleanly in the middle of the first batch's message: a
    /// truncated Arrow IPC stream that only its decoder can notice.
    pub http_truncate: bool,
    /// HTTP location answers redirect this many times (`307`, relative `Location`) before
    /// the stream is served.
    pub http_redirects: usize,
    /// Answer errors in the user's SQL (syntax, planning, unknown names) with `INTERNAL`
    /// instead of `INVALID_ARGUMENT`, as some servers do.
    pub sql_errors_as_internal: bool,
    /// Send an empty message (no header, no body: a keep-alive) before every batch.
    pub empty_messages: bool,
    /// Announce in `FlightInfo` a schema other than the streams' (every column renamed
    /// `<name>_partial` and typed `Utf8`), as a distributed engine announcing its
    /// partial-aggregate schema does: the streams' schema is the truth.
    pub announce_other_schema: bool,
    /// Redeem each ticket only once (a second `DoGet` of it is `NOT_FOUND`).
    pub tickets_once: bool,
    /// Whether the `RenewFlightEndpoint` action is served (it extends an endpoint's
    /// expiration by [`Options::expiration`]).
    pub renew_endpoints: bool,
    /// Match parameter columns to placeholders by name, without the sigil (`$1` takes the
    /// column named `1`, `$name` the column named `name`), and announce no parameter schema,
    /// as InfluxDB 3 does.
    pub parameters_by_name: bool,
    /// Refuse a parameter batch of more than one row (`INVALID_ARGUMENT`: "parameters should
    /// contain a single row"), as some servers do.
    pub single_parameter_row: bool,
    /// Refuse `CommandStatementUpdate` (`UNIMPLEMENTED`) but answer
    /// `CommandPreparedStatementUpdate` with a count of -1 without running the statement, as
    /// one DataFusion-based server does.
    pub prepared_updates_ignored: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            endpoints: 1,
            locations: Locations::None,
            ordered: true,
            send_schema: true,
            send_total_records: false,
            auth: Auth::None,
            required_header: None,
            delay_before_first_batch: Duration::ZERO,
            delay_between_batches: Duration::ZERO,
            rename_columns_in_endpoint: None,
            expiration: None,
            corrupt_endpoint: None,
            updates: true,
            stateless_statements: false,
            transactions: true,
            cancel_flight_info: true,
            sql_info: true,
            poll_delay: Duration::ZERO,
            metadata_needs_catalog: false,
            unimplemented: Vec::new(),
            sql_info_shuffled: false,
            session_options: true,
            rotate_token: None,
            set_cookie: None,
            ipc_compression: None,
            http_content_type: None,
            http_truncate: false,
            http_redirects: 0,
            sql_errors_as_internal: false,
            empty_messages: false,
            announce_other_schema: false,
            tickets_once: false,
            renew_endpoints: true,
            parameters_by_name: false,
            single_parameter_row: false,
            prepared_updates_ignored: false,
        }
    }
}

/// How [`Options::corrupt_endpoint`] breaks a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// After the schema, a message whose IPC header is garbage.
    GarbageHeader,
    /// The first batch with its body cut in half.
    TruncatedBody,
}

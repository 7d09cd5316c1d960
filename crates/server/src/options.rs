//! What the server does with each query: endpoints, locations, auth, required headers, and
//! the kinds of real servers it imitates. What it breaks on purpose is in `faults.rs`.

use std::time::Duration;

use crate::faults::Faults;

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
    /// Give every endpoint an `expiration_time` this far in the future (clients may retry its
    /// ticket until then; after it, the ticket is refused with `NOT_FOUND`).
    pub expiration: Option<Duration>,
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
    /// What `SqlInfo` says of cancellation (`FLIGHT_SQL_SERVER_CANCEL`); the cancel actions
    /// are served either way.
    pub says_it_cancels: bool,
    /// Whether `GetSqlInfo` is served.
    pub sql_info: bool,
    /// The server name `SqlInfo` gives (`FLIGHT_SQL_SERVER_NAME`): `dbapi-flightsql-server`
    /// unless set, e.g. to `InfluxDB 3 Core` to pass for that server.
    pub server_name: Option<String>,
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
    /// Whether the `RenewFlightEndpoint` action is served (it extends an endpoint's
    /// expiration by [`Options::expiration`]).
    pub renew_endpoints: bool,
    /// What the server breaks on purpose (see [`Faults`]): none by default.
    pub faults: Faults,
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

impl Options {
    /// These options with faults set by `set` (see [`Faults`]).
    #[must_use]
    pub fn with_faults(mut self, set: impl FnOnce(&mut Faults)) -> Self {
        set(&mut self.faults);
        self
    }
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
            expiration: None,
            updates: true,
            stateless_statements: false,
            transactions: true,
            cancel_flight_info: true,
            says_it_cancels: true,
            sql_info: true,
            server_name: None,
            poll_delay: Duration::ZERO,
            metadata_needs_catalog: false,
            unimplemented: Vec::new(),
            sql_info_shuffled: false,
            session_options: true,
            rotate_token: None,
            set_cookie: None,
            ipc_compression: None,
            renew_endpoints: true,
            faults: Faults::default(),
            parameters_by_name: false,
            single_parameter_row: false,
            prepared_updates_ignored: false,
        }
    }
}

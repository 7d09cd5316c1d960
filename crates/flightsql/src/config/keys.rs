//! The URL option keys, one row each: name, the values taken, default and meaning (the rows of
//! `docs/url.md`), whether the value is secret, how it is parsed into a [`Config`] and read
//! back out. Parsing (`FromStr`), printing (`to_url`, `Display`, `Debug`), the errors about
//! unknown keys and bad values, and the docs check all read this table; no other code lists
//! keys.

use std::time::Duration;

use dbapi::Error;
#[cfg(test)]
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::hosts::{HostSelection, LocationMap, Locations};
use crate::config::oauth::{OAuth, OAuthFlow};
use crate::config::secret::Secret;
use crate::config::settings::{
    Compression, Config, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_READ_AHEAD,
    DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET, DEFAULT_STATEMENT_CACHE, Pem,
    QueryLanguage, QueryPath,
};

/// One URL option.
pub(crate) struct Key {
    /// The key; `header.<name>` stands for a family of keys.
    pub(crate) name: &'static str,
    /// The values it takes (the `Value` column of `docs/url.md`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) values: &'static str,
    /// Its default (the `Default` column).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) default: &'static str,
    /// What it does (the `Meaning` column).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) meaning: &'static str,
    /// The builder methods that set it (the `Builder` column).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) builder: &'static str,
    /// What a value must look like, as said in the error about a bad one.
    pub(crate) expected: &'static str,
    /// Whether its value is a secret.
    pub(crate) shown: Shown,
    /// A valid value other than the default, for tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) example: &'static str,
    /// Sets the key in a configuration: (configuration, the key as given, the value).
    set: fn(&mut Config, &str, &str) -> Result<(), Refusal>,
    /// Appends the key's `(key, value)` pairs, none when it is at its default.
    get: fn(&Config, &mut Vec<(String, String)>),
}

/// Whether a key's value may be shown (`Display`, `Debug`, errors) or is replaced by `***`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Always shown.
    Plain,
    /// Never shown.
    Secret,
    /// PEM text given inline is hidden (a private key); a file path is shown.
    Inline,
    /// PEM text given inline is hidden when it holds a private key (a certificate chain is
    /// public, but an inline one may carry its key too).
    InlineKey,
    /// Hidden when the name looks secret (`header.x-api-key`, `header.authorization`).
    ByName,
}

impl Shown {
    /// Whether `value` of key `key` is hidden.
    pub(crate) fn hides(self, key: &str, value: &str) -> bool {
        match self {
            Shown::Plain => false,
            Shown::Secret => true,
            Shown::Inline => value.trim_start().starts_with("-----BEGIN"),
            Shown::InlineKey => {
                value.trim_start().starts_with("-----BEGIN") && value.contains("PRIVATE KEY")
            }
            Shown::ByName => dbapi::is_secret_key(key.trim_start_matches("header.")),
        }
    }
}

/// Why a value was not taken.
enum Refusal {
    /// It is not of the form the key expects ([`Key::expected`]).
    Value,
    /// This error says why.
    Because(Error),
}

impl Key {
    /// Whether `given` is this key, or a member of its family (`header.x-trace`).
    pub(crate) fn matches(&self, given: &str) -> bool {
        match self.name.strip_suffix("<name>") {
            Some(prefix) => given.len() > prefix.len() && given.starts_with(prefix),
            None => self.name == given,
        }
    }

    /// Sets `given` (this key or a member of its family) to `value` in `config`.
    pub(crate) fn set(&self, config: &mut Config, given: &str, value: &str) -> dbapi::Result<()> {
        (self.set)(config, given, value).map_err(|refusal| match refusal {
            Refusal::Value => {
                let shown = if self.shown.hides(given, value) {
                    "***"
                } else {
                    value
                };
                Error::interface(format!(
                    "invalid value {shown:?} for URL option {given}: expected {}",
                    self.expected
                ))
            }
            Refusal::Because(e) => e,
        })
    }

    /// The row of this key in the table of `docs/url.md`.
    #[cfg(test)]
    pub(crate) fn docs_row(&self) -> String {
        format!(
            "| `{}` | {} | {} | {} | {} |",
            self.name, self.values, self.default, self.meaning, self.builder
        )
    }
}

/// The key that `given` names, if any.
pub(crate) fn find(given: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.matches(given))
}

/// Every key's name, for errors about unknown keys.
pub(crate) fn names() -> String {
    KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// The `(key, value)` pairs of every option not at its default, in table order; with
/// `secrets` false, secret values are `***`.
pub(crate) fn pairs(config: &Config, secrets: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in KEYS {
        let start = out.len();
        (key.get)(config, &mut out);
        if !secrets {
            for (name, value) in &mut out[start..] {
                if key.shown.hides(name, value) {
                    *value = "***".to_owned();
                }
            }
        }
    }
    out
}

fn put(out: &mut Vec<(String, String)>, key: &str, value: Option<impl ToString>) {
    if let Some(value) = value {
        out.push((key.to_owned(), value.to_string()));
    }
}

fn non_empty(value: &str) -> Result<String, Refusal> {
    if value.is_empty() {
        Err(Refusal::Value)
    } else {
        Ok(value.to_owned())
    }
}

/// `true` or `false`, nothing else.
fn boolean(value: &str) -> Result<bool, Refusal> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Refusal::Value),
    }
}

fn duration(value: &str) -> Result<Duration, Refusal> {
    parse_duration(value).ok_or(Refusal::Value)
}

fn size(value: &str) -> Result<usize, Refusal> {
    parse_size(value).filter(|n| *n > 0).ok_or(Refusal::Value)
}

/// The OAuth settings of a configuration, created at the first `oauth_*` key.
fn oauth(config: &mut Config) -> &mut OAuth {
    config
        .oauth
        .get_or_insert_with(|| OAuth::empty(OAuthFlow::ClientCredentials, String::new()))
}

/// Every URL option, in the order of `docs/url.md`.
static KEYS: &[Key] = &[
    Key {
        name: "tls",
        values: r"`true` or `false` (nothing else)",
        default: r"`true` for `flightsql://`",
        meaning: r"use TLS",
        builder: r"`with_tls`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "false",
        set: |c, _, v| {
            let tls = boolean(v)?;
            c.tls = tls;
            c.plaintext_opt_in = !tls;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "tls",
                (!c.tls && c.plaintext_opt_in).then_some("false"),
            )
        },
    },
    Key {
        name: "token",
        values: r"string",
        default: r"none",
        meaning: r"bearer token, sent as `authorization: Bearer <token>`; no `authorization` header is sent when no credential is given",
        builder: r"`with_token`",
        expected: "a non-empty token",
        shown: Shown::Secret,
        example: "s3cr3t-t0ken",
        set: |c, _, v| {
            c.token = Some(Secret::new(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "token",
                c.token.as_ref().map(|t| t.expose().to_owned()),
            )
        },
    },
    Key {
        name: "database",
        values: r"string",
        default: r"none",
        meaning: r"sent as the `database` header on every call (InfluxDB 3); same as the URL path",
        builder: r"`with_database`",
        expected: "a database name",
        shown: Shown::Plain,
        example: "sensors",
        set: |c, _, v| {
            if let Some(path) = c.database.as_ref().filter(|d| *d != v) {
                return Err(Refusal::Because(Error::interface(format!(
                    "the URL path names database {path:?} but option database is {v:?}"
                ))));
            }
            c.database = Some(v.to_owned());
            Ok(())
        },
        get: |c, out| put(out, "database", c.database.clone()),
    },
    Key {
        name: "catalog",
        values: r"string",
        default: r"none",
        meaning: r"the current catalog at connect: the Flight session option `catalog` (needs a server with session options; see `docs/metadata.md`)",
        builder: r"`with_catalog`",
        expected: "a non-empty name",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            c.catalog = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| put(out, "catalog", c.catalog.clone()),
    },
    Key {
        name: "schema",
        values: r"string",
        default: r"none",
        meaning: r"the current schema at connect: the Flight session option `schema`, so that unqualified names resolve in it (needs a server with session options; see `docs/metadata.md`)",
        builder: r"`with_schema`",
        expected: "a non-empty name",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            c.schema = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| put(out, "schema", c.schema.clone()),
    },
    Key {
        name: "header.<name>",
        values: r"string",
        default: r"none",
        meaning: r"any extra header on every call; the name is lower-cased (gRPC header names are lower case)",
        builder: r"`with_header`",
        expected: "any string",
        shown: Shown::ByName,
        example: "example",
        set: |c, key, v| {
            let name = key.trim_start_matches("header.").to_ascii_lowercase();
            if c.headers.iter().any(|(n, _)| *n == name) {
                return Err(Refusal::Because(Error::interface(format!(
                    "header {name:?} is given twice"
                ))));
            }
            c.headers.push((name, v.to_owned()));
            Ok(())
        },
        get: |c, out| {
            for (name, value) in &c.headers {
                out.push((format!("header.{name}"), value.clone()));
            }
        },
    },
    Key {
        name: "timeout",
        values: r"duration: `30`, `1.5s`, `500ms`, `2m`, `1h`, also `us` and `ns` (bare number = seconds)",
        default: r"none",
        meaning: r"limit on each call, and on each wait for the next message of a result stream; the default of the three keys below",
        builder: r"`with_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| put(out, "timeout", c.timeout.map(format_duration)),
    },
    Key {
        name: "connect_timeout",
        values: r"duration",
        default: r"`30s`",
        meaning: r"limit on establishing a connection (TCP, TLS handshake, the server's first bytes), to the server, a location, an `http(s)://` location or the OAuth token endpoint; when no timeout key bounds them, also on the handshake and on the calls that close or cancel (statements, sessions); trying the locations of an endpoint one after another stops once twice this has passed",
        builder: r"`with_connect_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.connect_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "connect_timeout",
                c.connect_timeout.map(format_duration),
            )
        },
    },
    Key {
        name: "query_timeout",
        values: r"duration",
        default: r"`timeout`",
        meaning: r"limit on planning a query: `GetFlightInfo`, `PollFlightInfo`, `GetSchema`",
        builder: r"`with_query_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.query_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| put(out, "query_timeout", c.query_timeout.map(format_duration)),
    },
    Key {
        name: "statement_timeout",
        values: r"duration",
        default: r"none",
        meaning: r"limit on each statement, from `execute` to its last row: when it expires the statement is cancelled (`CancelFlightInfo` where the server can, and its calls and streams ended), and the pending call or next fetch is a timeout error; `Cursor::set_timeout` sets it per cursor",
        builder: r"`with_statement_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.statement_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "statement_timeout",
                c.statement_timeout.map(format_duration),
            )
        },
    },
    Key {
        name: "fetch_timeout",
        values: r"duration",
        default: r"`timeout`",
        meaning: r"limit on each wait for the next message of a `DoGet` stream (a gap, not the whole stream)",
        builder: r"`with_fetch_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.fetch_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| put(out, "fetch_timeout", c.fetch_timeout.map(format_duration)),
    },
    Key {
        name: "update_timeout",
        values: r"duration",
        default: r"`timeout`",
        meaning: r"limit on `DoPut` (updates, ingest, parameter binding), `DoAction` and the handshake",
        builder: r"`with_update_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.update_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| put(out, "update_timeout", c.update_timeout.map(format_duration)),
    },
    Key {
        name: "max_message_size",
        values: r"bytes: `67108864`, `64MiB`, `512KiB`, `1GiB`",
        default: r"`64MiB`",
        meaning: r"largest message accepted from the server (tonic's default is 4 MiB, too small for many Flight servers)",
        builder: r"`with_max_message_size`",
        expected: "a size in bytes such as 67108864 or 64MiB",
        shown: Shown::Plain,
        example: "16MiB",
        set: |c, _, v| {
            c.max_message_size = size(v)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "max_message_size",
                (c.max_message_size != DEFAULT_MAX_MESSAGE_SIZE)
                    .then(|| format_size(c.max_message_size)),
            )
        },
    },
    Key {
        name: "max_decoded_size",
        values: r"bytes, as `max_message_size`",
        default: r"`max_message_size`",
        meaning: r"largest size one message may decode to: compressed buffers (LZ4, ZSTD) that declare a larger uncompressed length, or expand to more, are refused before anything is allocated for them (a Data error naming this key)",
        builder: r"`with_max_decoded_size`",
        expected: "a size in bytes such as 67108864 or 64MiB",
        shown: Shown::Plain,
        example: "1GiB",
        set: |c, _, v| {
            c.max_decoded_size = Some(size(v)?);
            Ok(())
        },
        get: |c, out| put(out, "max_decoded_size", c.max_decoded_size.map(format_size)),
    },
    Key {
        name: "max_batch_rows",
        values: r"a row count: `1048576`",
        default: r"`1048576`",
        meaning: r"most rows one record batch may claim, and most values any array inside it may hold when its type needs no bytes per value (`Null`, a struct without fields, `FixedSizeBinary(0)`, a list of size 0, run-end encoded): such counts cost nothing on the wire but every reader of rows allocates for them (a Data error naming this key)",
        builder: r"`with_max_batch_rows`",
        expected: "a row count such as 1048576",
        shown: Shown::Plain,
        example: "65536",
        set: |c, _, v| {
            c.max_batch_rows = v.parse().map_err(|_| Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "max_batch_rows",
                (c.max_batch_rows != DEFAULT_MAX_BATCH_ROWS).then_some(c.max_batch_rows),
            )
        },
    },
    Key {
        name: "tls_root_certs",
        values: r"a PEM file's path, or PEM text (a value starting with `-----BEGIN`, percent-encoded); several CAs may be in one bundle",
        default: r"system roots",
        meaning: r"trust these CA certificates instead of the system's",
        builder: r"`with_tls_root_certs`",
        expected: "the path of a PEM file, or PEM",
        shown: Shown::Plain,
        example: "/etc/ssl/example.pem",
        set: |c, _, v| {
            c.tls_root_certs = Some(Pem::from_url_value(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "tls_root_certs",
                c.tls_root_certs.as_ref().map(Pem::url_value),
            )
        },
    },
    Key {
        name: "tls_client_cert",
        values: r"PEM file path or PEM text: the client certificate chain",
        default: r"none",
        meaning: r"mutual TLS: present this certificate; needs `tls_client_key`",
        builder: r"`with_tls_client_cert`",
        expected: "the path of a PEM file, or PEM",
        shown: Shown::InlineKey,
        example: "/etc/ssl/example.pem",
        set: |c, _, v| {
            c.tls_client_cert = Some(Pem::from_url_value(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "tls_client_cert",
                c.tls_client_cert.as_ref().map(Pem::url_value),
            )
        },
    },
    Key {
        name: "tls_client_key",
        values: r"PEM file path or PEM text: the private key of `tls_client_cert`",
        default: r"none",
        meaning: r"mutual TLS; inline keys are secret (shown as `***`)",
        builder: r"`with_tls_client_cert`",
        expected: "the path of a PEM file, or PEM",
        shown: Shown::Inline,
        example: "/etc/ssl/example.pem",
        set: |c, _, v| {
            c.tls_client_key = Some(Pem::from_url_value(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "tls_client_key",
                c.tls_client_key.as_ref().map(Pem::url_value),
            )
        },
    },
    Key {
        name: "tls_server_name",
        values: r"DNS name or IP",
        default: r"the host",
        meaning: r"the name the server's certificate must hold, also sent as SNI: for connecting by IP address or through a tunnel (applies to the URL's server, not to endpoint locations)",
        builder: r"`with_tls_server_name`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "db.example.com",
        set: |c, _, v| {
            c.tls_server_name = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| put(out, "tls_server_name", c.tls_server_name.clone()),
    },
    Key {
        name: "tls_skip_verify",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"do not verify the server's certificate (the connection is encrypted, the server is not authenticated): for tests only; each connection logs a warning; never implied by another key",
        builder: r"`with_tls_skip_verify`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, _, v| {
            c.tls_skip_verify = boolean(v)?;
            Ok(())
        },
        get: |c, out| put(out, "tls_skip_verify", c.tls_skip_verify.then_some("true")),
    },
    Key {
        name: "authority",
        values: r"`host[:port]`",
        default: r"`host:port`",
        meaning: r"the `:authority` of requests, for proxies that route by it",
        builder: r"`with_authority`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "proxy.example.com:443",
        set: |c, _, v| {
            c.authority = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| put(out, "authority", c.authority.clone()),
    },
    Key {
        name: "user_agent",
        values: r"printable ASCII",
        default: r"`dbapi-flightsql/<version>`",
        meaning: r"the `user-agent` prefix (tonic appends its own name)",
        builder: r"`with_user_agent`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "my-app/1.0",
        set: |c, _, v| {
            c.user_agent = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| put(out, "user_agent", c.user_agent.clone()),
    },
    Key {
        name: "local_address",
        values: r"an IP address",
        default: r"any",
        meaning: r"the local address the connections to the server and to endpoint locations leave from, on a host with several (the port is the system's choice); a host name that has no address of the same family cannot be reached",
        builder: r"`with_local_address`",
        expected: "an IPv4 or IPv6 address (127.0.0.2, ::1)",
        shown: Shown::Plain,
        example: "127.0.0.2",
        set: |c, _, v| {
            c.local_address = Some(v.parse().map_err(|_| Refusal::Value)?);
            Ok(())
        },
        get: |c, out| put(out, "local_address", c.local_address),
    },
    Key {
        name: "compression",
        values: r"`gzip`, `zstd` or `none`",
        default: r"`none`",
        meaning: r"compress the gRPC messages sent; answers compressed with gzip or zstd are always accepted, and Arrow IPC bodies compressed with LZ4 frame or ZSTD are always decoded",
        builder: r"`with_compression`",
        expected: "gzip, zstd or none",
        shown: Shown::Plain,
        example: "zstd",
        set: |c, _, v| {
            c.compression = match v {
                "gzip" => Some(Compression::Gzip),
                "zstd" => Some(Compression::Zstd),
                "none" => None,
                _ => return Err(Refusal::Value),
            };
            Ok(())
        },
        get: |c, out| put(out, "compression", c.compression.map(Compression::as_str)),
    },
    Key {
        name: "keepalive_interval",
        values: r"duration",
        default: r"none",
        meaning: r"send HTTP/2 pings at this interval, also when idle (keeps connections through idle-closing load balancers)",
        builder: r"`with_keepalive_interval`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.keepalive_interval = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "keepalive_interval",
                c.keepalive_interval.map(format_duration),
            )
        },
    },
    Key {
        name: "keepalive_timeout",
        values: r"duration",
        default: r"tonic's (20s)",
        meaning: r"how long a ping may go unanswered before the connection counts as broken: a stream stalled on a dead link then fails as a broken connection instead of waiting",
        builder: r"`with_keepalive_timeout`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "1500ms",
        set: |c, _, v| {
            c.keepalive_timeout = Some(duration(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "keepalive_timeout",
                c.keepalive_timeout.map(format_duration),
            )
        },
    },
    Key {
        name: "oauth_flow",
        values: r"`client_credentials` or `token_exchange`",
        default: r"none",
        meaning: r"obtain the bearer token from an OAuth 2 token endpoint: client credentials (RFC 6749 §4.4) or token exchange (RFC 8693); it is asked for at connect and again before it expires (30 s before, or half-way for short-lived tokens)",
        builder: r"`with_oauth`",
        expected: "client_credentials or token_exchange",
        shown: Shown::Plain,
        example: "token_exchange",
        set: |c, _, v| {
            oauth(c).flow = match v {
                "client_credentials" => OAuthFlow::ClientCredentials,
                "token_exchange" => OAuthFlow::TokenExchange,
                _ => return Err(Refusal::Value),
            };
            Ok(())
        },
        get: |c, out| put(out, "oauth_flow", c.oauth.as_ref().map(|o| o.flow.as_str())),
    },
    Key {
        name: "oauth_token_uri",
        values: r"`https://` URL (`http://` only for this machine)",
        default: r"none",
        meaning: r"the token endpoint",
        builder: r"`OAuth::client_credentials`, `OAuth::token_exchange`",
        expected: "a URL",
        shown: Shown::Plain,
        example: "https://auth.example.com/token",
        set: |c, _, v| {
            oauth(c).token_uri = non_empty(v)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_token_uri",
                c.oauth.as_ref().map(|o| o.token_uri.clone()),
            )
        },
    },
    Key {
        name: "oauth_client_id",
        values: r"string",
        default: r"none",
        meaning: r"the client id (client credentials; optional for token exchange), sent with the secret as HTTP Basic authentication",
        builder: r"`OAuth::client_credentials`, `with_client`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).client_id = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_client_id",
                c.oauth.as_ref().and_then(|o| o.client_id.clone()),
            )
        },
    },
    Key {
        name: "oauth_client_secret",
        values: r"string (secret)",
        default: r"none",
        meaning: r"the client secret",
        builder: r"`OAuth::client_credentials`, `with_client`",
        expected: "a non-empty value",
        shown: Shown::Secret,
        example: "s3cret",
        set: |c, _, v| {
            oauth(c).client_secret = Some(Secret::new(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_client_secret",
                c.oauth
                    .as_ref()
                    .and_then(|o| o.client_secret.as_ref())
                    .map(|s| s.expose().to_owned()),
            )
        },
    },
    Key {
        name: "oauth_scope",
        values: r"string",
        default: r"none",
        meaning: r"the scope asked for",
        builder: r"`with_scope`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).scope = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_scope",
                c.oauth.as_ref().and_then(|o| o.scope.clone()),
            )
        },
    },
    Key {
        name: "oauth_subject_token",
        values: r"string (secret)",
        default: r"none",
        meaning: r"token exchange: the token to exchange",
        builder: r"`OAuth::token_exchange`",
        expected: "a non-empty value",
        shown: Shown::Secret,
        example: "s3cret",
        set: |c, _, v| {
            oauth(c).subject_token = Some(Secret::new(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_subject_token",
                c.oauth
                    .as_ref()
                    .and_then(|o| o.subject_token.as_ref())
                    .map(|s| s.expose().to_owned()),
            )
        },
    },
    Key {
        name: "oauth_subject_token_type",
        values: r"URI, e.g. `urn:ietf:params:oauth:token-type:jwt`",
        default: r"none",
        meaning: r"token exchange: its type",
        builder: r"`OAuth::token_exchange`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).subject_token_type = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_subject_token_type",
                c.oauth.as_ref().and_then(|o| o.subject_token_type.clone()),
            )
        },
    },
    Key {
        name: "oauth_actor_token",
        values: r"string (secret)",
        default: r"none",
        meaning: r"token exchange: the actor token",
        builder: r"`with_actor_token`",
        expected: "a non-empty value",
        shown: Shown::Secret,
        example: "s3cret",
        set: |c, _, v| {
            oauth(c).actor_token = Some(Secret::new(non_empty(v)?));
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_actor_token",
                c.oauth
                    .as_ref()
                    .and_then(|o| o.actor_token.as_ref())
                    .map(|s| s.expose().to_owned()),
            )
        },
    },
    Key {
        name: "oauth_actor_token_type",
        values: r"URI",
        default: r"none",
        meaning: r"token exchange: its type (required with `oauth_actor_token`)",
        builder: r"`with_actor_token`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).actor_token_type = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_actor_token_type",
                c.oauth.as_ref().and_then(|o| o.actor_token_type.clone()),
            )
        },
    },
    Key {
        name: "oauth_audience",
        values: r"string",
        default: r"none",
        meaning: r"token exchange: the audience",
        builder: r"`with_audience`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).audience = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_audience",
                c.oauth.as_ref().and_then(|o| o.audience.clone()),
            )
        },
    },
    Key {
        name: "oauth_resource",
        values: r"string",
        default: r"none",
        meaning: r"token exchange: the resource",
        builder: r"`with_resource`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).resource = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_resource",
                c.oauth.as_ref().and_then(|o| o.resource.clone()),
            )
        },
    },
    Key {
        name: "oauth_requested_token_type",
        values: r"URI",
        default: r"none",
        meaning: r"token exchange: the token type asked for",
        builder: r"`with_requested_token_type`",
        expected: "a non-empty value",
        shown: Shown::Plain,
        example: "example",
        set: |c, _, v| {
            oauth(c).requested_token_type = Some(non_empty(v)?);
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "oauth_requested_token_type",
                c.oauth
                    .as_ref()
                    .and_then(|o| o.requested_token_type.clone()),
            )
        },
    },
    Key {
        name: "cookies",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"keep every cookie the server sets (`set-cookie`) and send it back on later calls, by RFC 6265 rules: to the hosts and paths its `Domain`/`Path` allow, `Secure` ones only over TLS, until it expires or `Max-Age=0` deletes it; at most 64 cookies of at most 4 KiB each (session cookies from session options are kept whatever this says). Cookies set by endpoint locations are never kept",
        builder: r"`with_cookies`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, _, v| {
            c.cookies = boolean(v)?;
            Ok(())
        },
        get: |c, out| put(out, "cookies", c.cookies.then_some("true")),
    },
    Key {
        name: "locations",
        values: r"`any`, `server`, or a comma-separated list of host names",
        default: r"`server`",
        meaning: r"which hosts endpoint locations (and the HTTP redirects they answer) may name: `server` only the server's own host, a list those hosts and the server's, `any` every host. Loopback and Unix-socket locations count as the server's host only when the server is on this machine. A location elsewhere is refused before anything is sent to it (credentials and the client certificate go only where this allows), with an error naming the value that allows it",
        builder: r"`with_locations`",
        expected: "any, server, or a comma-separated list of host names",
        shown: Shown::Plain,
        example: "any",
        set: |c, _, v| {
            c.locations = match v {
                "any" => Locations::Any,
                "server" => Locations::Server,
                hosts => {
                    let hosts: Vec<String> = hosts
                        .split(',')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .collect();
                    if hosts.iter().any(|h| h.is_empty() || h.contains('/')) {
                        return Err(Refusal::Value);
                    }
                    Locations::Hosts(hosts)
                }
            };
            Ok(())
        },
        get: |c, out| {
            let value = (c.locations != Locations::Server).then(|| c.locations.url_value());
            put(out, "locations", value)
        },
    },
    Key {
        name: "host_selection",
        values: r"`first`, `round_robin`, `random`",
        default: r"`first`",
        meaning: r"which host of a host list (`flightsql://h1:8181,h2:8181`) a new connection tries first: the first listed, each connection of the process one further along (`round_robin`), or one at random. A host that refuses, fails or sends nothing within `connect_timeout` gives way to the next, and is tried last for a backoff (1 s, doubling to 1 min) by every connection of the process",
        builder: r"`with_host_selection`",
        expected: "first, round_robin or random",
        shown: Shown::Plain,
        example: "round_robin",
        set: |c, _, v| {
            c.host_selection = HostSelection::parse(v).ok_or(Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            let value = (c.host_selection != HostSelection::First)
                .then(|| c.host_selection.url_value().to_owned());
            put(out, "host_selection", value)
        },
    },
    Key {
        name: "location_map",
        values: r"`server`, or comma-separated `advertised=reachable` pairs of `host[:port]`",
        default: r"none",
        meaning: r"where endpoint locations are read: `server` redeems every endpoint on the server that answered (its locations ignored); pairs read a location advertised at `advertised` (a host without a port matches any port) at `reachable` instead (a host without a port keeps the advertised one), for clusters advertising internal addresses or `0.0.0.0`. The `locations` policy applies to the address read",
        builder: r"`with_location_map`",
        expected: "server, or comma-separated advertised=reachable pairs of host[:port]",
        shown: Shown::Plain,
        example: "0.0.0.0:50051=127.0.0.1:6000",
        set: |c, _, v| {
            c.location_map = LocationMap::parse(v).ok_or(Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            let value =
                (c.location_map != LocationMap::AsAdvertised).then(|| c.location_map.url_value());
            put(out, "location_map", value)
        },
    },
    Key {
        name: "read_ahead",
        values: r"number of endpoints, `0` or more",
        default: r"`2`",
        meaning: r"how many endpoints of a result are opened ahead of the one being read (`read_ahead` + 1 endpoints are read at once, each task buffering at most two messages, their streams holding at most 32 MiB unread together: 4 MiB each, less when more than 8 are read at once, 1 MiB at least); `0` reads endpoints strictly one after another",
        builder: r"`with_read_ahead`",
        expected: "a number of endpoints (0 or more)",
        shown: Shown::Plain,
        example: "5",
        set: |c, _, v| {
            c.read_ahead = v.parse().map_err(|_| Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "read_ahead",
                (c.read_ahead != DEFAULT_READ_AHEAD).then_some(c.read_ahead),
            )
        },
    },
    Key {
        name: "arrival_order",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"deliver the batches of a result the server says is unordered (`FlightInfo.ordered` false) as they arrive from whichever endpoint is being read (`read_ahead` + 1 at once), instead of endpoint after endpoint; an ordered result keeps its order. Memory stays bounded by the batches in flight",
        builder: r"`with_arrival_order`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, _, v| {
            c.arrival_order = boolean(v)?;
            Ok(())
        },
        get: |c, out| put(out, "arrival_order", c.arrival_order.then_some("true")),
    },
    Key {
        name: "statement_cache",
        values: r"number of statements, `0` or more",
        default: r"`32`",
        meaning: r"how many prepared statements a connection keeps for `execute(sql, params)` to reuse (least recently used ones are closed); `0` prepares and closes every time",
        builder: r"`with_statement_cache`",
        expected: "a number of statements (0 or more)",
        shown: Shown::Plain,
        example: "0",
        set: |c, _, v| {
            c.statement_cache = v.parse().map_err(|_| Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "statement_cache",
                (c.statement_cache != DEFAULT_STATEMENT_CACHE).then_some(c.statement_cache),
            )
        },
    },
    Key {
        name: "poll",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"run queries through `PollFlightInfo`: endpoints are read as the server produces them, and the cursor reports the server's progress",
        builder: r"`with_poll`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, _, v| {
            c.poll = boolean(v)?;
            Ok(())
        },
        get: |c, out| put(out, "poll", c.poll.then_some("true")),
    },
    Key {
        name: "retries",
        values: r"number of retries, `0` or more",
        default: r"`3`",
        meaning: r"how many times a call that is safe to repeat (planning a query, schemas, metadata, the handshake, a `DoGet` before its first batch; never a statement that changes data, never inside a transaction) is retried after a transient failure (`UNAVAILABLE`, a proxy's 502/503/504, a refused, reset or closed connection), with jittered exponential backoff; `0` never retries. Each retry is logged",
        builder: r"`with_retries`",
        expected: "a number of retries (0 or more)",
        shown: Shown::Plain,
        example: "0",
        set: |c, _, v| {
            c.retries = v.parse().map_err(|_| Refusal::Value)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "retries",
                (c.retries != DEFAULT_RETRIES).then_some(c.retries),
            )
        },
    },
    Key {
        name: "retry_budget",
        values: r"duration",
        default: r"`10s`",
        meaning: r"the most time one call's retries may take, waits included: no retry starts that would wait past it",
        builder: r"`with_retries`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "2500ms",
        set: |c, _, v| {
            c.retry_budget = duration(v)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "retry_budget",
                (c.retry_budget != DEFAULT_RETRY_BUDGET).then(|| format_duration(c.retry_budget)),
            )
        },
    },
    Key {
        name: "retry_backoff",
        values: r"duration",
        default: r"`100ms`",
        meaning: r"the first wait before a retry, counted from the start of the attempt that failed (attempts start at least this far apart); it doubles with each retry up to 2 s, and each wait is jittered down by up to half",
        builder: r"`with_retry_backoff`",
        expected: "a duration such as 30s, 500ms or 2m",
        shown: Shown::Plain,
        example: "250ms",
        set: |c, _, v| {
            c.retry_backoff = duration(v)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "retry_backoff",
                (c.retry_backoff != DEFAULT_RETRY_BACKOFF)
                    .then(|| format_duration(c.retry_backoff)),
            )
        },
    },
    Key {
        name: "query_path",
        values: r"`auto`, `flightsql` or `influxdb`",
        default: r"`auto`",
        meaning: r"how queries reach the server: Flight SQL statements, or InfluxDB 3's own `DoGet` ticket (JSON with the database, the query and its parameters; queries only; see `docs/influxdb.md`); `auto` takes InfluxDB's ticket for a query with parameters outside a transaction when the server's `SqlInfo` name says InfluxDB (the one way InfluxDB 3 binds parameters), Flight SQL otherwise",
        builder: r"`with_query_path`",
        expected: "auto, flightsql or influxdb",
        shown: Shown::Plain,
        example: "influxdb",
        set: |c, _, v| {
            let language = match c.query_path {
                QueryPath::InfluxDb(language) => language,
                _ => QueryLanguage::Sql,
            };
            c.query_path = match v {
                "flightsql" if language == QueryLanguage::InfluxQl => {
                    return Err(Refusal::Because(Error::interface(
                        "query_language=influxql needs query_path=influxdb: Flight SQL \
                         statements are SQL",
                    )));
                }
                "auto" if language == QueryLanguage::InfluxQl => QueryPath::InfluxDb(language),
                "auto" => QueryPath::Auto,
                "flightsql" => QueryPath::FlightSql,
                "influxdb" => QueryPath::InfluxDb(language),
                _ => return Err(Refusal::Value),
            };
            Ok(())
        },
        get: |c, out| {
            let value = match c.query_path {
                QueryPath::InfluxDb(_) => Some("influxdb"),
                QueryPath::FlightSql => Some("flightsql"),
                _ => None,
            };
            put(out, "query_path", value)
        },
    },
    Key {
        name: "query_language",
        values: r"`sql` or `influxql`",
        default: r"`sql`",
        meaning: r"the language of queries sent through InfluxDB's own ticket; `influxql` selects that path (`query_path=influxdb`) by itself",
        builder: r"`with_query_path`",
        expected: "sql or influxql",
        shown: Shown::Plain,
        example: "influxql",
        set: |c, _, v| {
            let language = match v {
                "sql" => QueryLanguage::Sql,
                "influxql" => QueryLanguage::InfluxQl,
                _ => return Err(Refusal::Value),
            };
            c.query_path = match (c.query_path, language) {
                (QueryPath::FlightSql, QueryLanguage::InfluxQl) => {
                    return Err(Refusal::Because(Error::interface(
                        "query_language=influxql needs query_path=influxdb: Flight SQL \
                         statements are SQL",
                    )));
                }
                (path, QueryLanguage::Sql) => match path {
                    QueryPath::InfluxDb(_) => QueryPath::InfluxDb(language),
                    other => other,
                },
                _ => QueryPath::InfluxDb(language),
            };
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "query_language",
                matches!(c.query_path, QueryPath::InfluxDb(QueryLanguage::InfluxQl))
                    .then_some("influxql"),
            )
        },
    },
    Key {
        name: "otel_query_text",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"with the cargo feature `opentelemetry`: statement spans carry `db.query.text`, the SQL with its literals (strings, numbers) replaced by `?`",
        builder: r"`with_otel_query_text`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, key, v| {
            c.otel_query_text = telemetry_flag(key, v)?;
            Ok(())
        },
        get: |c, out| put(out, "otel_query_text", c.otel_query_text.then_some("true")),
    },
    Key {
        name: "otel_traceparent",
        values: r"`true` or `false`",
        default: r"`false`",
        meaning: r"with the cargo feature `opentelemetry`: every call carries the W3C `traceparent` (and `tracestate`) of the current span (the statement's span, a child of the caller's), so that the server's spans join the caller's trace",
        builder: r"`with_otel_traceparent`",
        expected: "true or false",
        shown: Shown::Plain,
        example: "true",
        set: |c, key, v| {
            c.otel_traceparent = telemetry_flag(key, v)?;
            Ok(())
        },
        get: |c, out| {
            put(
                out,
                "otel_traceparent",
                c.otel_traceparent.then_some("true"),
            )
        },
    },
];

/// A `true`/`false` telemetry key: `true` needs the cargo feature `opentelemetry`.
fn telemetry_flag(key: &str, value: &str) -> Result<bool, Refusal> {
    let on = match value {
        "true" => true,
        "false" => false,
        _ => return Err(Refusal::Value),
    };
    if on && !cfg!(feature = "opentelemetry") {
        return Err(Refusal::Because(Error::not_supported(format!(
            "URL option {key}=true needs dbapi-flightsql built with its cargo feature \
             opentelemetry"
        ))));
    }
    Ok(on)
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

/// The shortest exact form: `1GiB`, `64MiB`, `512KiB` or `1000`.
fn format_size(n: usize) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    n.to_string()
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
        for n in [1, 1000, 1024, 1536, 64 << 20, 3 << 30, usize::MAX] {
            assert_eq!(parse_size(&format_size(n)), Some(n), "{}", format_size(n));
        }
        assert_eq!(format_size(64 << 20), "64MiB");
    }

    #[test]
    fn docs_url_is_this_table() {
        let Some(doc) = crate::repo_docs::read("url.md") else {
            return;
        };
        let rows: Vec<&str> = doc
            .lines()
            .skip_while(|l| !l.starts_with("| Key | Value |"))
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .collect();
        let ours: Vec<String> = KEYS.iter().map(Key::docs_row).collect();
        assert_eq!(
            rows, ours,
            "docs/url.md's option table differs from config/keys.rs"
        );
    }

    #[test]
    fn every_key_parses_prints_and_hides_by_the_table() {
        for key in KEYS {
            if key.name.starts_with("otel_") && !cfg!(feature = "opentelemetry") {
                let e = key
                    .set(&mut Config::new("h", 1), key.name, "true")
                    .unwrap_err();
                assert!(e.is_not_supported(), "{e}");
                assert!(e.to_string().contains("feature opentelemetry"), "{e}");
                key.set(&mut Config::new("h", 1), key.name, "false")
                    .unwrap();
                continue;
            }
            let given = key.name.replace("<name>", "x-api-key");
            let url = format!(
                "flightsql://h:1?{given}={}",
                utf8_percent_encode(key.example, NON_ALPHANUMERIC)
            );
            // Some keys only make sense with others; give those what they need.
            let url = match key.name {
                n if n.starts_with("oauth_") && n != "oauth_token_uri" => {
                    format!("{url}&oauth_token_uri=https%3A%2F%2Fa.example%2Ft")
                }
                "tls_client_cert" => format!("{url}&tls_client_key=%2Fk.pem"),
                "tls_client_key" => format!("{url}&tls_client_cert=%2Fc.pem"),
                _ => url,
            };
            let mut config = Config::new("h", 1);
            let parsed: Result<(), dbapi::Error> = url
                .trim_start_matches("flightsql://h:1?")
                .split('&')
                .try_for_each(|pair| {
                    let (k, v) = pair.split_once('=').unwrap();
                    let v = percent_encoding::percent_decode_str(v)
                        .decode_utf8()
                        .unwrap();
                    find(k).unwrap().set(&mut config, k, &v)
                });
            parsed.unwrap_or_else(|e| panic!("{url}: {e}"));
            let shown = pairs(&config, true);
            assert!(
                shown.iter().any(|(k, v)| *k == given && v == key.example),
                "{} does not print back {:?}: {shown:?}",
                key.name,
                key.example
            );
            let hidden = pairs(&config, false);
            let (_, value) = hidden.iter().find(|(k, _)| *k == given).unwrap();
            // File paths of PEM keys are shown; every other non-plain example is secret.
            let secret = key.shown.hides(&given, key.example);
            assert_eq!(
                secret,
                !matches!(key.shown, Shown::Plain | Shown::Inline | Shown::InlineKey)
            );
            assert_eq!(value == "***", secret, "{}: {value}", key.name);
            assert_eq!(
                format!("{config:?}").contains(key.example),
                !secret,
                "{}: {config:?}",
                key.name
            );
            if secret {
                let e = key.set(&mut Config::new("h", 1), &given, "").err();
                if let Some(e) = e {
                    assert!(!e.to_string().contains(key.example), "{e}");
                }
            }
        }
    }

    #[test]
    fn keys_are_found_by_name_and_family() {
        assert_eq!(find("timeout").map(|k| k.name), Some("timeout"));
        assert_eq!(find("header.x").map(|k| k.name), Some("header.<name>"));
        assert!(find("header.").is_none());
        assert!(find("header").is_none());
        assert!(find("Timeout").is_none());
        assert!(names().contains("oauth_requested_token_type"));
    }

    #[test]
    fn bad_values_say_what_is_expected_and_hide_secrets() {
        let key = find("compression").unwrap();
        let e = key
            .set(&mut Config::new("h", 1), "compression", "lz4")
            .unwrap_err();
        assert!(e.to_string().contains("gzip, zstd or none"), "{e}");
        assert!(e.to_string().contains("\"lz4\""), "{e}");
        let key = find("token").unwrap();
        let e = key.set(&mut Config::new("h", 1), "token", "").unwrap_err();
        assert!(e.to_string().contains("non-empty"), "{e}");
    }
}

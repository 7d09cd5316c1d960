//! A configuration parsed from a connection URL, and printed back as one (`to_url` with
//! secrets, `Display` without).

use std::fmt;
use std::str::FromStr;

use dbapi::{Error, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

use crate::config::hosts::parse_host_port;
use crate::config::keys;
use crate::config::secret::Secret;
use crate::config::settings::{Config, SCHEMES};

impl Config {
    /// The URL of this configuration, **with** its secrets (for round trips; to show a
    /// configuration, use `Display`, which hides them).
    pub fn to_url(&self) -> String {
        self.write_url(true)
    }

    /// The scheme this configuration is written with: `flightsql://` unless the transport
    /// itself says otherwise.
    pub(crate) fn scheme(&self) -> &'static str {
        match (&self.unix, self.tls, self.plaintext_opt_in) {
            (Some(_), _, _) => "grpc+unix://",
            (None, false, false) => "grpc://",
            _ => "flightsql://",
        }
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
        let mut url = String::from(self.scheme());
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
                let hosts: Vec<String> = self
                    .hosts()
                    .into_iter()
                    .map(|(host, port)| format!("{host}:{port}"))
                    .collect();
                url.push_str(&hosts.join(","));
            }
        }
        let query: Vec<String> = keys::pairs(self, secrets)
            .into_iter()
            .map(|(key, value)| {
                let value = if value == "***" && !secrets {
                    value
                } else {
                    enc(&value)
                };
                format!("{}={value}", enc(&key))
            })
            .collect();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }
}

impl fmt::Debug for Config {
    /// Where the connection goes and every option not at its default, secrets as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("scheme", &self.scheme());
        match &self.unix {
            Some(path) => d.field("unix", path),
            None => d.field("host", &self.host).field("port", &self.port),
        };
        if !self.other_hosts.is_empty() {
            d.field("other_hosts", &self.other_hosts);
        }
        if let Some(user) = &self.username {
            d.field("username", user).field("password", &self.password);
        }
        for (key, value) in keys::pairs(self, false) {
            d.field(&key, &value);
        }
        if let Some(tls) = &self.tls_config {
            d.field("tls_config", tls);
        }
        d.finish()
    }
}

impl fmt::Display for Config {
    /// The URL with passwords, tokens and secret-looking headers replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write_url(false))
    }
}

fn decode(s: &str, what: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::interface(format!("{what} in the connection URL is not valid UTF-8")))
}

/// A host of a host list and its port, when given.
type HostPort = (String, Option<u16>);

/// Splits a URL naming several hosts (`flightsql://u@h1:1,h2:2/db?k=v`, which the `url` crate
/// refuses) into the URL with its first host and the other hosts, each `host[:port]`.
fn split_host_list(s: &str) -> Result<(String, Vec<HostPort>)> {
    let Some(start) = s.find("://").map(|i| i + 3) else {
        return Ok((s.to_owned(), Vec::new()));
    };
    let rest = &s[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let hosts_start = authority.rfind('@').map_or(0, |at| at + 1);
    let list = &authority[hosts_start..];
    if !list.contains(',') {
        return Ok((s.to_owned(), Vec::new()));
    }
    let mut hosts = list.split(',');
    let first = hosts.next().unwrap_or_default();
    let mut others = Vec::new();
    for host in std::iter::once(first).chain(hosts) {
        let parsed = parse_host_port(host).filter(|(h, _)| !h.is_empty());
        match parsed {
            Some(parsed) => others.push(parsed),
            None => {
                return Err(Error::interface(format!(
                    "malformed connection URL {:?}: {host:?} in its host list is not host[:port]",
                    dbapi::redact_url(s)
                )));
            }
        }
    }
    others.remove(0);
    let mut url = String::with_capacity(s.len());
    url.push_str(&s[..start + hosts_start]);
    url.push_str(first);
    url.push_str(&rest[authority_end..]);
    Ok((url, others))
}

impl FromStr for Config {
    type Err = Error;

    /// Parses a connection URL; see `docs/url.md`.
    fn from_str(s: &str) -> Result<Config> {
        Config::from_url_with(s, std::iter::empty())
    }
}

impl Config {
    /// Parses a connection URL with more URL options given apart (`key`, `value`), each
    /// taken as if it were in the URL's query: the same keys, checks and errors (an option
    /// given both ways is an error). For hosts that take options one by one, such as the
    /// ADBC library's database options.
    ///
    /// ```
    /// use dbapi_flightsql::Config;
    /// let config = Config::from_url_with(
    ///     "grpc://127.0.0.1:8181",
    ///     [("database", "sensors"), ("header.x-tenant", "a&b")],
    /// )?;
    /// assert_eq!(config.database(), Some("sensors"));
    /// let e = Config::from_url_with("grpc://h:1?tls=false", [("tls", "false")]).unwrap_err();
    /// assert!(e.to_string().contains("given twice"));
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// As parsing the URL: a malformed URL, an unknown option (named), a bad value.
    pub fn from_url_with<'a>(
        s: &str,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Config> {
        let (first, others) = split_host_list(s)?;
        let s = first.as_str();
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
        let extra = options
            .into_iter()
            .map(|(k, v)| (std::borrow::Cow::Borrowed(k), std::borrow::Cow::Borrowed(v)));
        for (given, value) in url.query_pairs().chain(extra) {
            if seen.iter().any(|k| *k == given) {
                return Err(Error::interface(format!(
                    "URL option {given} is given twice"
                )));
            }
            let key = keys::find(&given).ok_or_else(|| {
                Error::interface(format!(
                    "unknown URL option {given:?} (known options: {})",
                    keys::names()
                ))
            })?;
            key.set(&mut config, &given, &value)?;
            seen.push(given.into_owned());
        }
        if seen.iter().any(|k| k == "tls") {
            let tls = config.tls;
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
        }
        if !unix {
            let default_port = if config.tls { 443 } else { 80 };
            config.port = url.port().unwrap_or(default_port);
            config.other_hosts = others
                .into_iter()
                .map(|(host, port)| (host, port.unwrap_or(default_port)))
                .collect();
        } else if !others.is_empty() {
            return Err(Error::interface(
                "a grpc+unix:// URL names one socket, not a list of hosts",
            ));
        }
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_READ_AHEAD, Pem};
    use std::time::Duration;

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
    fn query_paths_and_languages() {
        use crate::config::{QueryLanguage, QueryPath};
        let path = |url: &str| parse(url).map(|c| c.query_path());
        assert_eq!(path("flightsql://h").unwrap(), QueryPath::Auto);
        assert_eq!(
            path("flightsql://h?query_path=flightsql").unwrap(),
            QueryPath::FlightSql
        );
        let forced = parse("flightsql://h?query_path=flightsql").unwrap();
        assert_eq!(parse(&forced.to_url()).unwrap(), forced);
        let e = parse("flightsql://h?query_path=flightsql&query_language=influxql").unwrap_err();
        assert!(e.to_string().contains("influxql"), "{e}");
        assert_eq!(
            path("flightsql://h?query_path=influxdb").unwrap(),
            QueryPath::InfluxDb(QueryLanguage::Sql)
        );
        for url in [
            "flightsql://h?query_language=influxql",
            "flightsql://h?query_path=influxdb&query_language=influxql",
            "flightsql://h?query_language=influxql&query_path=influxdb",
        ] {
            let c = parse(url).unwrap();
            assert_eq!(c.query_path(), QueryPath::InfluxDb(QueryLanguage::InfluxQl));
            assert_eq!(parse(&c.to_url()).unwrap(), c, "{url} printed back");
        }
        assert_eq!(
            path("flightsql://h?query_language=sql").unwrap(),
            QueryPath::Auto
        );
        let e = parse("flightsql://h?query_language=influxql&query_path=flightsql").unwrap_err();
        assert!(e.to_string().contains("influxql"), "{e}");
        let e = parse("flightsql://h?query_path=influx").unwrap_err();
        assert!(e.to_string().contains("flightsql or influxdb"), "{e}");
    }

    #[test]
    fn host_lists() {
        use crate::config::HostSelection;
        let c = parse(
            "flightsql://alice:p%40ss@H1.example.com:8181,h2.example.com,[::1]:9/db?host_selection=round_robin&token_is_absent=",
        );
        assert!(c.unwrap_err().to_string().contains("token_is_absent"));
        let c = parse(
            "flightsql://alice:p%40ss@H1.example.com:8181,H2.example.com,[::1]:9/db?host_selection=round_robin",
        )
        .unwrap();
        assert_eq!(
            c.hosts(),
            [
                ("H1.example.com", 8181),
                ("H2.example.com", 443),
                ("[::1]", 9)
            ]
        );
        assert_eq!(c.host_selection(), HostSelection::RoundRobin);
        assert_eq!(c.database(), Some("db"));
        assert_eq!(c.password().map(Secret::expose), Some("p@ss"));
        assert_eq!(parse(&c.to_url()).unwrap(), c);
        let shown = c.to_string();
        assert!(
            shown.contains("H1.example.com:8181,H2.example.com:443,[::1]:9"),
            "{shown}"
        );
        assert!(!shown.contains("p@ss") && !format!("{c:?}").contains("p@ss"));
        assert!(format!("{c:?}").contains("H2.example.com"));
        assert!(!dbapi::redact_url("flightsql://u:secret@h1:1,h2:2?x=1").contains("secret"));
        // The connection to the second host lists it first.
        let second = c.on_host(1);
        assert_eq!(second.host(), "H2.example.com");
        assert_eq!(
            second.hosts()[1..],
            [("H1.example.com", 8181), ("[::1]", 9)]
        );
        // Plaintext hosts default to port 80, each.
        let c = parse("grpc://a,b:2").unwrap();
        assert_eq!(c.hosts(), [("a", 80), ("b", 2)]);
        for bad in [
            "flightsql://a,,b",
            "flightsql://a,b:x",
            "flightsql://a,",
            "flightsql://,a",
            "flightsql://a,b c",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("host list") || e.to_string().contains("malformed"),
                "{bad}: {e}"
            );
        }
        let e = parse("grpc+unix:///tmp/a,b").map(|c| c.hosts().len());
        assert!(
            matches!(e, Ok(0)),
            "a comma in a socket path is part of the path: {e:?}"
        );
        let e = parse("flightsql://h?host_selection=nearest").unwrap_err();
        assert!(e.to_string().contains("round_robin"), "{e}");
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
            "flightsql://u:hunter2/x@h:1",
            "flightsql://u:hunter2?x@h:1",
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
    fn an_inline_certificate_holding_a_key_is_hidden() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n";
        let c = Config::new("h", 1).with_tls_client_cert(Pem::inline(pem), Pem::inline(pem));
        for shown in [c.to_string(), format!("{c:?}")] {
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
        }
        assert_eq!(c.to_url().parse::<Config>().unwrap(), c);
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
}

#[cfg(test)]
mod prop_tests {
    use super::*;
    use crate::config::settings::{Compression, Pem};
    use proptest::prelude::*;
    use std::time::Duration;

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

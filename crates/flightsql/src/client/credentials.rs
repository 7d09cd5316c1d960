//! The one credential policy: every gRPC request, to the server or to a location, gets its
//! headers here, and nothing leaves unless the policy allows what it actually carries where
//! it goes.
//!
//! What a request carries: the configured headers (`database`, `header.*`, some of them
//! secret by name), the bearer token of the server whatever its origin (the `token` key, the
//! answer to the Basic handshake, OAuth, or a rotation in any answer of the server), the
//! Basic credentials of the handshake, and the cookies the server set that match the
//! destination by RFC 6265 rules (domain, path, `Secure`, expiry; `cookie_store`).
//!
//! Where it goes: the rule is one — credentials go unencrypted only to this machine (loopback,
//! a Unix socket), unless plaintext was asked for by name (`tls=false`). Locations receive the
//! server's bearer and headers as the server does (so that a cluster's other nodes accept the
//! ticket), cookies only where their scope says, and answers from locations are never
//! listened to: no rotation, no cookie from a location changes what the server receives.

use std::str::FromStr;
use std::sync::{Mutex, PoisonError, RwLock};

use cookie_store::CookieStore;
use dbapi::{Error, Result};
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use url::Url;

use crate::config::{Config, Locations, bare_host};
use crate::transport::Address;

/// The path cookies are matched against: the Flight service's, which every call shares.
const SERVICE_PATH: &str = "/arrow.flight.protocol.FlightService/";

/// At most this many cookies are kept; more are ignored (a server cannot grow the jar without
/// bound).
const MAX_COOKIES: usize = 64;

/// At most this long a cookie (name, value and attributes) may be to be kept.
const MAX_COOKIE_LEN: usize = 4096;

/// Where a request goes.
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    /// How errors name it: "the server", "endpoint location grpc://h:1".
    pub(crate) label: String,
    pub(crate) address: Address,
    pub(crate) tls: bool,
    /// Whether it is the server itself (whose answers are listened to).
    pub(crate) main: bool,
    /// Whether the user said credentials may go there in plaintext: `tls=false` for the
    /// server's own host, and for a location's host only when `locations=` also names it.
    plaintext_ok: bool,
    /// The URL cookies are matched against.
    url: Option<Url>,
    /// What a refusal suggests.
    hint: &'static str,
}

impl Destination {
    /// The server a configuration names, at `address` (its host and port, or its socket).
    /// Plaintext is allowed there only by `tls=false`.
    pub(crate) fn server(config: &Config, address: Address) -> Destination {
        let mut to = Destination::new(
            "the server".to_owned(),
            address,
            config.tls(),
            true,
            config.plaintext_opt_in(),
        );
        to.hint = "use TLS (flightsql:// or grpc+tls://), or say tls=false to send them in the \
                   clear anyway";
        to
    }

    /// An endpoint location (`uri`, at `address`). Plaintext is allowed there only by
    /// `tls=false` and for a location on the server's own host, or one `locations=` names.
    pub(crate) fn location(config: &Config, uri: &str, address: Address, tls: bool) -> Destination {
        let named = match &address {
            Address::Tcp { host, .. } => {
                bare_host(host).eq_ignore_ascii_case(bare_host(config.host()))
                    || (matches!(config.locations(), Locations::Hosts(_))
                        && config.locations().allows(host, config.host()))
            }
            Address::Unix(_) => true,
        };
        let mut to = Destination::new(
            format!("endpoint location {uri}"),
            address,
            tls,
            false,
            config.plaintext_opt_in() && named,
        );
        to.hint = "use TLS locations (grpc+tls://), or say tls=false and name the host in the URL \
                   option locations to send them in the clear anyway";
        to
    }

    /// An OAuth token endpoint: its requests carry the grant's secrets, which go in plaintext
    /// only to this machine, whatever `tls=` says.
    ///
    /// # Errors
    /// An [`Interface`](dbapi::ErrorKind::Interface) error for a URL without a host.
    pub(crate) fn token_endpoint(uri: &Url) -> Result<Destination> {
        let host = uri.host_str().ok_or_else(|| {
            Error::interface(format!("the OAuth token endpoint {uri} has no host"))
        })?;
        let address = Address::Tcp {
            host: host.to_owned(),
            port: uri.port_or_known_default().unwrap_or(443),
        };
        let mut to = Destination::new(
            format!("the OAuth token endpoint {uri}"),
            address,
            uri.scheme() == "https",
            false,
            false,
        );
        to.hint = "use an https:// oauth_token_uri";
        Ok(to)
    }

    fn new(
        label: String,
        address: Address,
        tls: bool,
        main: bool,
        plaintext_ok: bool,
    ) -> Destination {
        let url = match &address {
            Address::Tcp { host, port } => {
                let scheme = if tls { "https" } else { "http" };
                Url::parse(&format!("{scheme}://{host}:{port}{SERVICE_PATH}")).ok()
            }
            Address::Unix(_) => Url::parse(&format!("http://localhost{SERVICE_PATH}")).ok(),
        };
        Destination {
            label,
            address,
            tls,
            main,
            plaintext_ok,
            url,
            hint: "",
        }
    }

    /// Whether what is sent there can be read on the way.
    fn exposed(&self) -> bool {
        !self.tls && !self.address.is_local()
    }
}

/// The policy: whether a request carrying `carried` (named for the error) may go to `to`.
///
/// # Errors
/// An [`Interface`](dbapi::ErrorKind::Interface) error naming what would have been exposed.
pub(crate) fn allow(carried: &[String], to: &Destination) -> Result<()> {
    if carried.is_empty() || !to.exposed() {
        return Ok(());
    }
    if to.plaintext_ok {
        tracing::warn!(
            address = %to.address,
            carried = %carried.join(", "),
            "credentials are sent unencrypted to {} (tls=false was given)",
            to.label
        );
        return Ok(());
    }
    Err(Error::interface(format!(
        "refusing to send {} unencrypted to {} at {}: the connection is plaintext and the \
         host is not this machine; {}",
        carried.join(", "),
        to.label,
        to.address,
        to.hint
    )))
}

/// The credentials and headers of a connection, and the cookies its server set.
#[derive(Debug)]
pub(crate) struct Credentials {
    /// The configured headers, with whether each is secret.
    fixed: Vec<(AsciiMetadataKey, AsciiMetadataValue, bool)>,
    /// The server's bearer token (`Bearer <token>`), whatever its origin.
    bearer: RwLock<Option<AsciiMetadataValue>>,
    /// Whether the configuration holds credentials for the first request (a token, a
    /// password for the handshake, an OAuth grant, a secret header).
    configured: Vec<String>,
    /// Whether every cookie the server sets is kept (`cookies=true`), not only those set by
    /// answers to session calls.
    jar_all: bool,
    cookies: Mutex<CookieStore>,
}

impl Credentials {
    /// The credentials of a configuration (validated).
    pub(crate) fn new(config: &Config) -> Result<Credentials> {
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
            let secret = dbapi::is_secret_key(name);
            value.set_sensitive(secret);
            fixed.push((key, value, secret));
            Ok(())
        };
        if let Some(db) = config.database() {
            push("database", db)?;
        }
        for (name, value) in config.headers() {
            push(name, value)?;
        }
        let mut configured = Vec::new();
        if config.has_token() {
            configured.push("the token".to_owned());
        }
        if config.password().is_some_and(|p| !p.expose().is_empty()) {
            configured.push("the password".to_owned());
        }
        if config.oauth().is_some() {
            configured.push("the OAuth token".to_owned());
        }
        for (name, _) in config.headers() {
            if dbapi::is_secret_key(name) {
                configured.push(format!("header {name}"));
            }
        }
        let credentials = Credentials {
            fixed,
            bearer: RwLock::new(None),
            configured,
            jar_all: config.cookies(),
            cookies: Mutex::new(CookieStore::new()),
        };
        if let Some(token) = config.token() {
            credentials.set_bearer(token.expose())?;
        }
        Ok(credentials)
    }

    /// Checks, before a channel to `to` is opened, what its first request will carry:
    /// configured credentials, or cookies already kept for it.
    ///
    /// # Errors
    /// As [`allow`].
    pub(crate) fn check_before_connect(&self, to: &Destination) -> Result<()> {
        let mut carried = self.configured.clone();
        if self.bearer().is_some() && carried.is_empty() {
            carried.push("the bearer token".to_owned());
        }
        if self.cookie_header(to).is_some() {
            carried.push("cookies".to_owned());
        }
        allow(&carried, to)
    }

    /// Replaces the bearer token.
    ///
    /// # Errors
    /// An [`Interface`](dbapi::ErrorKind::Interface) error for a token that cannot be a header.
    pub(crate) fn set_bearer(&self, token: &str) -> Result<()> {
        let mut value = AsciiMetadataValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::interface("the token is not valid in a gRPC header (printable ASCII only)")
        })?;
        value.set_sensitive(true);
        *self.bearer.write().unwrap_or_else(PoisonError::into_inner) = Some(value);
        Ok(())
    }

    fn bearer(&self) -> Option<AsciiMetadataValue> {
        self.bearer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The `cookie` header for a destination, if any cookie matches it.
    fn cookie_header(&self, to: &Destination) -> Option<AsciiMetadataValue> {
        let url = to.url.as_ref()?;
        let jar = self.cookies.lock().unwrap_or_else(PoisonError::into_inner);
        let pairs: Vec<String> = jar
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let mut value = AsciiMetadataValue::from_str(&pairs.join("; ")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// The chokepoint: writes the headers of a request to `to` into `metadata` and checks the
    /// policy against what they carry. `basic`: the `authorization` of a Basic handshake.
    ///
    /// # Errors
    /// As [`allow`]; nothing is sent then.
    pub(crate) fn apply(
        &self,
        metadata: &mut MetadataMap,
        to: &Destination,
        basic: Option<AsciiMetadataValue>,
    ) -> Result<()> {
        let mut carried = Vec::new();
        for (key, value, secret) in &self.fixed {
            metadata.insert(key.clone(), value.clone());
            if *secret {
                carried.push(format!("header {key}"));
            }
        }
        let authorization = match basic {
            Some(basic) => {
                carried.push("the user name and password".to_owned());
                Some(basic)
            }
            None => self
                .bearer()
                .inspect(|_| carried.push("the bearer token".to_owned())),
        };
        if let Some(value) = authorization {
            metadata.insert("authorization", value);
        }
        if let Some(cookie) = self.cookie_header(to) {
            carried.push("cookies".to_owned());
            metadata.insert("cookie", cookie);
        }
        allow(&carried, to)
    }

    /// Listens to an answer of `from`: a rotated bearer token (`authorization: Bearer <token>`)
    /// and the cookies it sets (all of them with `cookies=true`, else only those of session
    /// calls). Answers from anywhere but the server are ignored.
    pub(crate) fn observe(&self, metadata: &MetadataMap, from: &Destination, session: bool) {
        if !from.main {
            return;
        }
        if let Some(token) = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| !t.is_empty())
        {
            let _ = self.set_bearer(token);
        }
        if !(self.jar_all || session) {
            return;
        }
        let Some(url) = from.url.as_ref() else {
            return;
        };
        let mut jar = self.cookies.lock().unwrap_or_else(PoisonError::into_inner);
        for set in metadata.get_all("set-cookie") {
            let Ok(text) = set.to_str() else { continue };
            if text.len() > MAX_COOKIE_LEN {
                tracing::debug!(bytes = text.len(), "ignoring an oversized cookie");
                continue;
            }
            let known = jar.iter_any().count();
            let name = text.split(['=', ';']).next().unwrap_or_default().trim();
            let replaces = jar.iter_any().any(|c| c.name() == name);
            if known >= MAX_COOKIES && !replaces {
                tracing::debug!("ignoring a cookie: the jar is full ({MAX_COOKIES} cookies)");
                continue;
            }
            if let Err(e) = jar.parse(text, url) {
                tracing::debug!(error = %e, "ignoring a cookie the server set");
            }
        }
    }

    /// Whether the server set a cookie (a session to close).
    pub(crate) fn has_cookies(&self) -> bool {
        self.cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_unexpired()
            .next()
            .is_some()
    }

    /// Forgets every cookie (after `CloseSession`).
    pub(crate) fn forget_cookies(&self) {
        self.cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, tls: bool, main: bool) -> Destination {
        let address = Address::Tcp {
            host: host.into(),
            port: 8181,
        };
        Destination::new(format!("host {host}"), address, tls, main, false)
    }

    fn opted_in(host: &str) -> Destination {
        let address = Address::Tcp {
            host: host.into(),
            port: 8181,
        };
        Destination::new(format!("host {host}"), address, false, true, true)
    }

    fn metadata(pairs: &[(&'static str, &str)]) -> MetadataMap {
        let mut m = MetadataMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn token_endpoints_get_secrets_in_plaintext_only_on_this_machine() {
        let secret = ["the OAuth client secret".to_owned()];
        let to = |uri: &str| Destination::token_endpoint(&Url::parse(uri).unwrap()).unwrap();
        let e = allow(&secret, &to("http://auth.example.com/token")).unwrap_err();
        assert!(
            e.to_string().contains("the OAuth client secret")
                && e.to_string().contains("https:// oauth_token_uri"),
            "{e}"
        );
        assert!(allow(&secret, &to("https://auth.example.com/token")).is_ok());
        assert!(allow(&secret, &to("http://127.0.0.1:9/token")).is_ok());
        assert!(allow(&secret, &to("http://localhost/token")).is_ok());
    }

    #[test]
    fn the_policy_looks_at_what_is_carried_and_where() {
        let token = vec!["the bearer token".to_owned()];
        assert!(allow(&token, &tcp("db.example.com", true, true)).is_ok());
        assert!(allow(&token, &tcp("127.0.0.1", false, true)).is_ok());
        assert!(allow(&[], &tcp("db.example.com", false, true)).is_ok());
        assert!(allow(&token, &opted_in("db.example.com")).is_ok());
        let e = allow(&token, &tcp("db.example.com", false, true)).unwrap_err();
        assert!(e.is_interface());
        assert!(
            e.to_string().contains("refusing to send the bearer token"),
            "{e}"
        );
        assert!(e.to_string().contains("db.example.com:8181"), "{e}");
    }

    #[test]
    fn rotations_and_cookies_from_locations_are_ignored() {
        let config: Config = "grpc://127.0.0.1:1?token=first&cookies=true"
            .parse()
            .unwrap();
        let c = Credentials::new(&config).unwrap();
        let main = tcp("127.0.0.1", false, true);
        let location = tcp("127.0.0.2", false, false);
        let answer = metadata(&[
            ("authorization", "Bearer from-location"),
            ("set-cookie", "sid=evil"),
        ]);
        c.observe(&answer, &location, true);
        let mut sent = MetadataMap::new();
        c.apply(&mut sent, &main, None).unwrap();
        assert_eq!(sent.get("authorization").unwrap(), "Bearer first");
        assert!(sent.get("cookie").is_none());
        c.observe(
            &metadata(&[("authorization", "Bearer second"), ("set-cookie", "sid=1")]),
            &main,
            false,
        );
        let mut sent = MetadataMap::new();
        c.apply(&mut sent, &main, None).unwrap();
        assert_eq!(sent.get("authorization").unwrap(), "Bearer second");
        assert_eq!(sent.get("cookie").unwrap(), "sid=1");
    }

    #[test]
    fn cookies_follow_rfc_6265_scope_and_the_jar_is_bounded() {
        let config: Config = "grpc://db.example.com:1?cookies=true&tls=false"
            .parse()
            .unwrap();
        let c = Credentials::new(&config).unwrap();
        let main = tcp("db.example.com", true, true);
        let sent_to = |to: &Destination| {
            let mut sent = MetadataMap::new();
            c.apply(&mut sent, to, None).unwrap();
            sent.get("cookie")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        c.observe(
            &metadata(&[
                ("set-cookie", "a=1"),
                ("set-cookie", "secure=2; Secure"),
                ("set-cookie", "gone=3; Max-Age=0"),
                ("set-cookie", "elsewhere=4; Path=/other"),
            ]),
            &main,
            false,
        );
        let mut to_main: Vec<String> = sent_to(&main).split("; ").map(str::to_owned).collect();
        to_main.sort();
        assert_eq!(to_main, ["a=1", "secure=2"]);
        // Secure cookies never go over plaintext; host-only cookies stay with their host.
        assert_eq!(sent_to(&opted_in("db.example.com")), "a=1");
        assert_eq!(sent_to(&tcp("files.example.com", true, false)), "");
        // Max-Age=0 deletes.
        c.observe(
            &metadata(&[
                ("set-cookie", "a=1; Max-Age=0"),
                ("set-cookie", "secure=; Max-Age=0; Secure"),
            ]),
            &main,
            false,
        );
        assert_eq!(sent_to(&main), "");
        let many: Vec<String> = (0..200).map(|i| format!("c{i}=v")).collect();
        let mut answer = MetadataMap::new();
        for m in &many {
            answer.append("set-cookie", m.parse().unwrap());
        }
        c.observe(&answer, &main, false);
        let kept = c.cookies.lock().unwrap().iter_any().count();
        assert!(kept <= MAX_COOKIES, "{kept}");
    }

    #[test]
    fn plaintext_to_another_machine_refuses_cookies_too() {
        let config: Config = "grpc://db.example.com:1".parse().unwrap();
        let c = Credentials::new(&config).unwrap();
        let main = tcp("db.example.com", false, true);
        let mut sent = MetadataMap::new();
        c.apply(&mut sent, &main, None).unwrap();
        c.observe(&metadata(&[("set-cookie", "sid=1")]), &main, true);
        let e = c.apply(&mut MetadataMap::new(), &main, None).unwrap_err();
        assert!(e.to_string().contains("refusing to send cookies"), "{e}");
    }
}

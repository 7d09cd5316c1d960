//! Endpoints read where their locations say: the server, other Flight servers (`grpc://`,
//! `grpc+tls://`, `grpc+unix://`, connections cached per location), or `http(s)://` URLs
//! answering an Arrow IPC stream (a GET carrying no credentials). Locations are tried in
//! order until one answers; the URL key `locations` restricts their hosts.

use std::sync::{Arc, PoisonError};

use arrow_flight::FlightEndpoint;
use dbapi::{Error, Result};

use crate::client::credentials::Destination;
use crate::client::failover::fails_over;
use crate::client::rpc::{FlightSqlClient, Peer, REUSE_CONNECTION, grpc, tls_of};
use crate::config::{CallKind, LocationMap, Locations, bare_host};
use crate::decode::FlightStreamReader;
use crate::transport::health;
use crate::transport::{
    Address, Failure, HttpTimeouts, Target, get_stream, http_client_config, is_http_location,
    open_channel, shown,
};

impl FlightSqlClient {
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
        let map = self.config().location_map();
        if endpoint.location.is_empty() || *map == LocationMap::Server {
            return self.do_get(ticket()?).await;
        }
        let mut failures = Vec::new();
        let mut last = None;
        // A location as errors and logs name it: mapped ones with what was advertised.
        let label = |advertised: &str, uri: &str| {
            if uri == advertised {
                shown(uri)
            } else {
                format!("{} (mapped from {})", shown(uri), shown(advertised))
            }
        };
        // Locations remembered as dead (their last connection failed) are tried last.
        let ordered = health::order(endpoint.location.iter().collect(), |l| {
            health_key(&map.map(&l.uri))
        });
        // Trying locations one after another is bounded as a whole: once twice
        // `connect_timeout` has passed since the first was tried, the others are not (each
        // attempt's connection is bounded by `connect_timeout` too), so a list of unreachable
        // locations costs about three times `connect_timeout` at most, not that many times
        // it, while one location that does not answer still leaves time for the next.
        let started = std::time::Instant::now();
        let bound = self.inner.config.effective_connect_timeout() * 2;
        for location in ordered {
            let uri = map.map(&location.uri);
            let shown = label(&location.uri, &uri);
            if !failures.is_empty() && started.elapsed() >= bound {
                failures.push(format!(
                    "{shown}: not tried, {bound:?} (twice the URL option connect_timeout) spent \
                     on the locations before it"
                ));
                continue;
            }
            let attempt = async {
                if is_http_location(&uri) {
                    return self.get_http(&uri).await;
                }
                match self.peer_for(&uri).await? {
                    None => self.do_get(ticket()?).await,
                    Some(peer) => self.do_get_on(&peer, ticket()?).await,
                }
            };
            match attempt.await {
                Ok(reader) => {
                    tracing::debug!(location = %shown, "reading from location");
                    health::answered(&health_key(&uri));
                    return Ok(reader);
                }
                Err(e) => {
                    tracing::info!(location = %shown, error = %e, "location failed");
                    if fails_over(&e) {
                        health::failed(&health_key(&uri));
                    }
                    failures.push(format!("{shown}: {}", e.message()));
                    last = Some(e);
                }
            }
        }
        // One location: its own error (and kind), naming it.
        if let (1, Some(only)) = (failures.len(), last.take()) {
            let advertised = &endpoint.location[0].uri;
            let shown = label(advertised, &map.map(advertised));
            return Err(only.context(format_args!("location {shown}")));
        }
        // The message names each location's failure: no source repeats one.
        Err(Error::operational(format!(
            "all {} locations failed: {}",
            failures.len(),
            failures.join("; ")
        ))
        .connection())
    }

    /// Reads an `http(s)://` location: a GET answering an Arrow IPC stream, sent without the
    /// connection's credentials.
    async fn get_http(&self, location: &str) -> Result<FlightStreamReader> {
        self.check_location_host(location, None)?;
        let tls = match self.inner.http_tls.get() {
            Some(tls) => Arc::clone(tls),
            None => {
                let tls = Arc::new(http_client_config(&self.inner.config)?);
                Arc::clone(self.inner.http_tls.get_or_init(|| tls))
            }
        };
        let limits = HttpTimeouts {
            connect_timeout: Some(self.inner.config.effective_connect_timeout()),
            timeout: self.deadline(CallKind::Fetch),
        };
        // Every redirect hop is a destination of its own: the policy decides each.
        let hop = |next: &str| self.check_location_host(next, None);
        let body = get_stream(&tls, location, limits, &hop).await?;
        Ok(FlightStreamReader::from_http(body, self.inner.limits))
    }

    /// Refuses a location whose host the URL key `locations` does not allow.
    fn check_location_host(&self, uri: &str, host: Option<&str>) -> Result<()> {
        let policy = self.inner.config.locations();
        let host = match host {
            Some(h) => h.to_owned(),
            None => url::Url::parse(uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
        };
        if policy.allows(&host, self.inner.config.host()) {
            return Ok(());
        }
        Err(refused(uri, &format!("on host {host:?}"), policy, &host))
    }

    /// The client for a location: `None` for this server, else a cached or new connection.
    async fn peer_for(&self, uri: &str) -> Result<Option<Peer>> {
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
        match &address {
            Address::Tcp { host, .. } => self.check_location_host(uri, Some(host))?,
            Address::Unix(_) => {
                let policy = self.inner.config.locations();
                if !policy.allows_unix_socket(self.inner.config.host()) {
                    return Err(refused(uri, "a Unix socket", policy, "localhost"));
                }
            }
        }
        // One connection per host, port and TLS, whatever else the URIs say.
        let key = match &address {
            Address::Tcp { host, port } => {
                format!("{tls}|{}|{port}", bare_host(host).to_ascii_lowercase())
            }
            Address::Unix(path) => format!("unix|{}", path.display()),
        };
        let cached = self
            .inner
            .locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key);
        if let Some(peer) = cached {
            return Ok(Some(peer));
        }
        let config = &self.inner.config;
        let to = Arc::new(Destination::location(config, uri, address.clone(), tls));
        // Before anything is sent: what its requests will carry may go there.
        self.refresh_token().await?;
        self.inner.credentials.check_before_connect(&to)?;
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
        let peer = Peer {
            grpc: grpc(channel, &self.inner.config),
            to,
            failure,
        };
        self.inner
            .locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, peer.clone());
        Ok(Some(peer))
    }
}

/// The address of a location in the remembered-dead list: `host:port` as a server of a host
/// list is known by, else the location itself.
fn health_key(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => uri.to_owned(),
        },
        Err(_) => uri.to_owned(),
    }
}

/// The error for a location the URL key `locations` does not allow: names the value that
/// would.
fn refused(uri: &str, where_: &str, policy: &Locations, host: &str) -> Error {
    let allowing = match policy {
        Locations::Hosts(hosts) => format!("locations={},{host}", hosts.join(",")),
        _ if host.is_empty() => "locations=any".to_owned(),
        _ => format!("locations={host} (or locations=any)"),
    };
    Error::interface(format!(
        "endpoint location {} is {where_}, which the URL option locations={} does not allow: \
         credentials and the client certificate go only to the server's own host; if the \
         location is trusted, {allowing} allows it",
        shown(uri),
        policy.url_value()
    ))
}

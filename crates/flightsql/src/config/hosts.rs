//! Where a host is: this machine or another; which hosts endpoint locations may name.

/// A host without the brackets of an IPv6 literal.
pub(crate) fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Whether a host name or address can only mean this machine: `localhost` or a loopback
/// address (IPv6 literals with or without brackets).
pub(crate) fn is_local_host(host: &str) -> bool {
    let bare = bare_host(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Which hosts endpoint locations may name (URL key `locations`). A location elsewhere is
/// refused before anything is sent to it. Whatever the value, a location on this machine
/// (loopback, a Unix socket) is allowed only when the server is on this machine too, or
/// when the value names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locations {
    /// Any host (`locations=any`).
    Any,
    /// Only the server's own host (`locations=server`, the default): credentials and the
    /// client certificate go nowhere else.
    #[default]
    Server,
    /// The server's own host and these hosts (`locations=host1,host2`).
    Hosts(Vec<String>),
}

impl Locations {
    /// Whether a location at `host` may be read, the server being at `server`.
    pub fn allows(&self, host: &str, server: &str) -> bool {
        let bare = |h: &str| bare_host(h).to_ascii_lowercase();
        let (host, server) = (bare(host), bare(server));
        let same = host == server || (is_local_host(&host) && is_local_host(&server));
        match self {
            Locations::Any => true,
            Locations::Server => same,
            Locations::Hosts(hosts) => same || hosts.iter().any(|h| bare(h) == host),
        }
    }

    /// Whether a location on a Unix socket may be read, the server being at `server` (a
    /// socket is on this machine).
    pub fn allows_unix_socket(&self, server: &str) -> bool {
        self.allows(
            "localhost",
            if server.is_empty() {
                "localhost"
            } else {
                server
            },
        )
    }

    /// The value of the URL key as it reads in URLs and errors.
    pub fn url_value(&self) -> String {
        match self {
            Locations::Any => "any".to_owned(),
            Locations::Server => "server".to_owned(),
            Locations::Hosts(hosts) => hosts.join(","),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_only_when_the_server_is_on_it() {
        let server = Locations::Server;
        assert!(server.allows("db.example.com", "DB.example.com"));
        assert!(!server.allows("other.example.com", "db.example.com"));
        assert!(!server.allows("127.0.0.1", "db.example.com"));
        assert!(!server.allows("localhost", "db.example.com"));
        assert!(!server.allows_unix_socket("db.example.com"));
        assert!(server.allows("127.0.0.1", "localhost"));
        assert!(server.allows("[::1]", "127.0.0.1"));
        assert!(server.allows_unix_socket("127.0.0.1"));
        assert!(server.allows_unix_socket(""));
        let hosts = Locations::Hosts(vec!["a.example.com".into(), "localhost".into()]);
        assert!(hosts.allows("A.example.com", "db.example.com"));
        assert!(hosts.allows("db.example.com", "db.example.com"));
        assert!(hosts.allows("localhost", "db.example.com"));
        assert!(!hosts.allows("b.example.com", "db.example.com"));
        assert!(Locations::Any.allows("anywhere", "db.example.com"));
        assert_eq!(Locations::default(), Locations::Server);
    }
}

/// Where endpoint locations are read (URL key `location_map`): as advertised, through the
/// server itself, or at the addresses a map gives for advertised ones (clusters advertise
/// internal node addresses or `0.0.0.0` that a client cannot reach).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocationMap {
    /// Locations as the server advertises them.
    #[default]
    AsAdvertised,
    /// Every endpoint redeemed on the server that answered, its locations ignored
    /// (`location_map=server`).
    Server,
    /// Advertised `host[:port]` → reachable `host[:port]` (`location_map=a:1=b:2,c=d`): an
    /// advertised host without a port matches any port, a reachable one without a port
    /// keeps the advertised port. Scheme and path stay.
    Map(Vec<(String, String)>),
}

impl LocationMap {
    /// Parses the URL value.
    pub(crate) fn parse(value: &str) -> Option<LocationMap> {
        match value {
            "" | "none" => Some(LocationMap::AsAdvertised),
            "server" => Some(LocationMap::Server),
            pairs => {
                let mut map = Vec::new();
                for pair in pairs.split(',') {
                    let (from, to) = pair.split_once('=')?;
                    let (from, to) = (from.trim(), to.trim());
                    if split_host_port(from).is_none() || split_host_port(to).is_none() {
                        return None;
                    }
                    map.push((from.to_ascii_lowercase(), to.to_owned()));
                }
                Some(LocationMap::Map(map))
            }
        }
    }

    /// The URL value.
    pub(crate) fn url_value(&self) -> String {
        match self {
            LocationMap::AsAdvertised => "none".into(),
            LocationMap::Server => "server".into(),
            LocationMap::Map(pairs) => pairs
                .iter()
                .map(|(from, to)| format!("{from}={to}"))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// The location to read for the advertised `uri` (`uri` itself when no pair matches).
    pub fn map(&self, uri: &str) -> String {
        let LocationMap::Map(pairs) = self else {
            return uri.to_owned();
        };
        let Ok(mut url) = url::Url::parse(uri) else {
            return uri.to_owned();
        };
        let Some(host) = url.host_str().map(|h| bare_host(h).to_ascii_lowercase()) else {
            return uri.to_owned();
        };
        let port = url.port();
        for (from, to) in pairs {
            let Some((from_host, from_port)) = split_host_port(from) else {
                continue;
            };
            if bare_host(from_host) != host || from_port.is_some_and(|p| Some(p) != port) {
                continue;
            }
            let Some((to_host, to_port)) = split_host_port(to) else {
                continue;
            };
            if url.set_host(Some(to_host)).is_err() {
                return uri.to_owned();
            }
            if let Some(p) = to_port
                && url.set_port(Some(p)).is_err()
            {
                return uri.to_owned();
            }
            return url.to_string();
        }
        uri.to_owned()
    }
}

/// `host[:port]` (IPv6 literals in brackets), or `None` when malformed.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.is_empty() || s.contains('/') || s.contains('@') {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((&s[..host.len() + 2], port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.contains(':') => {
            Some((host, Some(port.parse().ok()?)))
        }
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// Which of several hosts (`flightsql://h1:8181,h2:8181`) a new connection tries first (URL
/// key `host_selection`). Whatever the choice, a host remembered as dead (its last connection
/// failed, within its backoff) is tried after the others, and a host that refuses, fails or
/// does not answer within `connect_timeout` gives way to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostSelection {
    /// The hosts in the order the URL lists them (`first`): the first that answers.
    #[default]
    First,
    /// Each new connection of the process starts one host further along the list
    /// (`round_robin`), spreading connections evenly.
    RoundRobin,
    /// Each new connection starts at a host picked at random (`random`).
    Random,
}

impl HostSelection {
    /// Parses the URL value.
    pub(crate) fn parse(value: &str) -> Option<HostSelection> {
        match value {
            "first" => Some(HostSelection::First),
            "round_robin" => Some(HostSelection::RoundRobin),
            "random" => Some(HostSelection::Random),
            _ => None,
        }
    }

    /// The URL value.
    pub(crate) fn url_value(self) -> &'static str {
        match self {
            HostSelection::First => "first",
            HostSelection::RoundRobin => "round_robin",
            HostSelection::Random => "random",
        }
    }
}

/// `host[:port]` of one host of a host list, the port `None` when not given; `None` when
/// malformed.
pub(crate) fn parse_host_port(s: &str) -> Option<(String, Option<u16>)> {
    split_host_port(s)
        .filter(|(host, _)| !host.contains(['?', '#', ' ', ',']))
        .map(|(host, port)| (host.to_owned(), port))
}

#[cfg(test)]
mod location_map_tests {
    use super::*;

    #[test]
    fn advertised_addresses_are_mapped_to_reachable_ones() {
        let map = LocationMap::parse("0.0.0.0:50051=127.0.0.1:6000,node-7=10.0.0.7").unwrap();
        assert_eq!(
            map.map("grpc+tcp://0.0.0.0:50051"),
            "grpc+tcp://127.0.0.1:6000"
        );
        assert_eq!(
            map.map("grpc+tcp://0.0.0.0:50052"),
            "grpc+tcp://0.0.0.0:50052"
        );
        assert_eq!(
            map.map("grpc+tls://NODE-7:8815/path"),
            "grpc+tls://10.0.0.7:8815/path"
        );
        assert_eq!(map.map("not a url"), "not a url");
        assert_eq!(LocationMap::parse(&map.url_value()), Some(map));
        let v6 = LocationMap::parse("[::]:1=[::1]:2").unwrap();
        assert_eq!(v6.map("grpc://[::]:1"), "grpc://[::1]:2");
        for bad in ["a", "a=", "=b", "a=b/c", "a:x=b", "a=b,c"] {
            assert_eq!(LocationMap::parse(bad), None, "{bad}");
        }
        assert_eq!(LocationMap::parse("server"), Some(LocationMap::Server));
        assert_eq!(
            LocationMap::Server.map("grpc://h:1"),
            "grpc://h:1",
            "the server mode is decided where endpoints are read"
        );
    }
}

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

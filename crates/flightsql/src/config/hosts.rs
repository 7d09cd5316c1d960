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
/// refused before anything is sent to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Locations {
    /// Any host (`locations=any`, the default).
    #[default]
    Any,
    /// Only the server's own host, or this machine (`locations=server`).
    Server,
    /// Only these hosts, or this machine (`locations=host1,host2`).
    Hosts(Vec<String>),
}

impl Locations {
    /// Whether a location at `host` may be read, the server being at `server`.
    pub fn allows(&self, host: &str, server: &str) -> bool {
        let bare = |h: &str| bare_host(h).to_ascii_lowercase();
        let host = bare(host);
        match self {
            Locations::Any => true,
            _ if is_local_host(&host) => true,
            Locations::Server => host == bare(server),
            Locations::Hosts(hosts) => hosts.iter().any(|h| bare(h) == host),
        }
    }
}

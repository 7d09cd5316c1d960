//! Connecting to one of several hosts (`flightsql://h1:8181,h2:8181`): the order the URL key
//! `host_selection` asks for, hosts remembered as dead (`transport::health`) last, and the next
//! host when one refuses, fails or does not answer within `connect_timeout`. Errors that every
//! host would give alike (a refused password, a bad certificate setting) end the search.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use dbapi::{Error, Result};

use crate::config::{Config, HostSelection};
use crate::transport::health;

/// Connects with `one` to the hosts of `config` in turn (each as [`Config::on_host`]) until
/// one connects.
pub(super) async fn connect<C, F, Fut>(config: Config, one: F) -> Result<C>
where
    F: Fn(Config) -> Fut,
    Fut: Future<Output = Result<C>>,
{
    let hosts = config.hosts();
    if hosts.len() <= 1 {
        return one(config).await;
    }
    let addresses: Vec<String> = hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect();
    let start = first(config.host_selection(), &addresses);
    let rotated: Vec<usize> = (0..hosts.len())
        .map(|i| (start + i) % hosts.len())
        .collect();
    let order = health::order(rotated, |&i| addresses[i].clone());
    let mut failures = Vec::new();
    for i in order {
        let address = &addresses[i];
        match one(config.on_host(i)).await {
            Ok(client) => {
                health::answered(address);
                return Ok(client);
            }
            Err(e) if fails_over(&e) => {
                tracing::warn!(host = %address, error = %e, "host failed; trying the next");
                health::failed(address);
                failures.push(format!("{address}: {}", e.message()));
            }
            Err(e) => return Err(e.context(format_args!("host {address}"))),
        }
    }
    Err(Error::operational(format!(
        "none of the {} hosts could be connected to: {}",
        failures.len(),
        failures.join("; ")
    ))
    .connection())
}

/// Whether a failure to connect is the host's, so that the next host may do better: it
/// refused, broke, or did not answer in time.
pub(crate) fn fails_over(error: &Error) -> bool {
    error.is_connection() || error.is_transient() || error.is_timeout()
}

/// The index of the host a new connection starts at.
fn first(selection: HostSelection, addresses: &[String]) -> usize {
    match selection {
        HostSelection::RoundRobin => {
            static NEXT: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);
            let mut next = NEXT.lock().unwrap_or_else(PoisonError::into_inner);
            let counter = next
                .get_or_insert_with(HashMap::new)
                .entry(addresses.join(","))
                .or_insert(0);
            let start = *counter % addresses.len();
            *counter = counter.wrapping_add(1);
            start
        }
        HostSelection::Random => fastrand::usize(..addresses.len()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_starts_one_further_each_time() {
        let hosts: Vec<String> = ["rr-a:1", "rr-b:1", "rr-c:1"].map(String::from).into();
        let starts: Vec<usize> = (0..6)
            .map(|_| first(HostSelection::RoundRobin, &hosts))
            .collect();
        assert_eq!(starts, [0, 1, 2, 0, 1, 2]);
        assert_eq!(first(HostSelection::First, &hosts), 0);
        assert!((0..50).all(|_| first(HostSelection::Random, &hosts) < 3));
    }

    #[tokio::test]
    async fn the_next_host_after_a_connection_failure_not_after_an_auth_failure() {
        let config: Config = "grpc://fo-a:1,fo-b:2,fo-c:3".parse().unwrap();
        let tried = Mutex::new(Vec::new());
        let got = connect(config.clone(), |c| {
            tried.lock().unwrap().push(c.host().to_owned());
            async move {
                match c.host() {
                    "fo-a" => Err(Error::operational("refused").connection()),
                    "fo-b" => Err(Error::operational("silent").timeout()),
                    other => Ok(other.to_owned()),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(got, "fo-c");
        assert_eq!(*tried.lock().unwrap(), ["fo-a", "fo-b", "fo-c"]);
        // The dead go last, for every connection of the process.
        tried.lock().unwrap().clear();
        connect(config.clone(), |c| {
            tried.lock().unwrap().push(c.host().to_owned());
            async move { Ok::<_, Error>(()) }
        })
        .await
        .unwrap();
        assert_eq!(*tried.lock().unwrap(), ["fo-c"]);
        // A refused password ends the search, naming the host.
        let e = connect(config.clone(), |c| async move {
            Err::<(), _>(Error::operational(format!("bad password at {}", c.host())))
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("host fo-c:3"), "{e}");
        // None answers: each named.
        let e = connect(config, |_| async {
            Err::<(), _>(Error::operational("refused").connection())
        })
        .await
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("none of the 3 hosts"), "{text}");
        for host in ["fo-a:1", "fo-b:2", "fo-c:3"] {
            assert!(text.contains(host), "{text}");
            health::answered(host);
        }
    }
}

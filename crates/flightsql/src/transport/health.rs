//! The remembered-dead list: addresses (servers and endpoint locations) whose last connection
//! failed, shared by every connection of the process. An address that failed is tried after
//! the others until its backoff has passed (one second, doubling with each failure in a row up
//! to a minute); an address that answers is forgotten at once. Nothing is ever skipped for
//! good: when every choice is dead, the dead are still tried, soonest to recover first.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long an address that failed once is tried last.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest an address is tried last after failures in a row.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// An address's record of failures in a row.
#[derive(Debug, Clone, Copy)]
struct Dead {
    /// Until when it is tried last.
    until: Instant,
    /// The backoff of its last failure.
    backoff: Duration,
}

fn dead() -> &'static Mutex<HashMap<String, Dead>> {
    static DEAD: std::sync::OnceLock<Mutex<HashMap<String, Dead>>> = std::sync::OnceLock::new();
    DEAD.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key of an address: its text, lower-cased.
fn key(address: &str) -> String {
    address.to_ascii_lowercase()
}

/// Records that a connection to `address` failed: it is tried last for a backoff that doubles
/// with each failure in a row.
pub(crate) fn failed(address: &str) {
    let mut dead = dead().lock().unwrap_or_else(PoisonError::into_inner);
    let now = Instant::now();
    let backoff = match dead.get(&key(address)) {
        Some(d) => (d.backoff * 2).min(MAX_BACKOFF),
        None => FIRST_BACKOFF,
    };
    tracing::info!(
        address,
        backoff_ms = backoff.as_millis() as u64,
        "remembered as dead"
    );
    dead.insert(
        key(address),
        Dead {
            until: now + backoff,
            backoff,
        },
    );
}

/// Records that `address` answered: it is no longer dead.
pub(crate) fn answered(address: &str) {
    let mut dead = dead().lock().unwrap_or_else(PoisonError::into_inner);
    if !dead.is_empty() {
        dead.remove(&key(address));
    }
}

/// How long `address` is still tried last, if it is.
pub(crate) fn dead_for(address: &str) -> Option<Duration> {
    let dead = dead().lock().unwrap_or_else(PoisonError::into_inner);
    let d = dead.get(&key(address))?;
    d.until.checked_duration_since(Instant::now())
}

/// `choices` in the order to try them: those not dead in their given order, then the dead,
/// soonest to recover first.
pub(crate) fn order<T>(choices: Vec<T>, address: impl Fn(&T) -> String) -> Vec<T> {
    let (mut alive, mut dead): (Vec<_>, Vec<_>) = choices
        .into_iter()
        .map(|c| (dead_for(&address(&c)), c))
        .partition(|(d, _)| d.is_none());
    dead.sort_by_key(|(d, _)| *d);
    alive.extend(dead);
    alive.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_addresses_go_last_and_come_back_when_they_answer() {
        let [a, b, c] = ["health-a:1", "health-b:1", "health-c:1"];
        let names = |v: Vec<&str>| v.join(",");
        assert_eq!(
            names(order(vec![a, b, c], |s| s.to_string())),
            "health-a:1,health-b:1,health-c:1"
        );
        failed(a);
        assert!(dead_for("HEALTH-A:1").is_some_and(|d| d <= FIRST_BACKOFF));
        failed(b);
        failed(b);
        // b failed twice: it stays dead longer than a, and goes after it.
        assert_eq!(
            names(order(vec![a, b, c], |s| s.to_string())),
            "health-c:1,health-a:1,health-b:1"
        );
        answered(a);
        assert_eq!(dead_for(a), None);
        assert_eq!(
            names(order(vec![a, b, c], |s| s.to_string())),
            "health-a:1,health-c:1,health-b:1"
        );
        answered(b);
    }

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let a = "health-backoff:1";
        for _ in 0..10 {
            failed(a);
        }
        let left = dead_for(a).unwrap();
        assert!(left > MAX_BACKOFF / 2 && left <= MAX_BACKOFF, "{left:?}");
        answered(a);
    }
}

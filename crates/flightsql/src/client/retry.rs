//! Retries of calls that are safe to repeat, after transient failures
//! ([`dbapi::Error::is_transient`]): at most `retries` times, with jittered exponential
//! backoff, all within a time budget (URL keys `retries`, `retry_budget`, `retry_backoff`).
//! Which calls are safe is decided where they are made: planning a query that changes no
//! data outside a transaction, schemas, metadata, the handshake, a `DoGet` before its first
//! batch.

use std::future::Future;
use std::time::{Duration, Instant};

use dbapi::{Error, Result};

use crate::config::{Config, MAX_RETRY_BACKOFF};
use crate::transport::telemetry;

/// The retry policy of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    retries: u32,
    budget: Duration,
    backoff: Duration,
}

impl Retry {
    /// The policy a configuration asks for.
    pub(crate) fn of(config: &Config) -> Retry {
        Retry {
            retries: config.retries(),
            budget: config.retry_budget(),
            backoff: config.retry_backoff(),
        }
    }

    /// The wait before retry `attempt` (0 for the first): the backoff doubled per attempt, at
    /// most [`MAX_RETRY_BACKOFF`], less a random part of up to half of it (so that clients
    /// failing together do not retry together).
    pub(crate) fn wait(&self, attempt: u32) -> Duration {
        let full = self
            .backoff
            .saturating_mul(2_u32.saturating_pow(attempt))
            .min(MAX_RETRY_BACKOFF.max(self.backoff));
        full.mul_f64(1.0 - fastrand::f64() / 2.0)
    }

    /// Whether retry `attempt` (0 for the first) of a call that started at `started` may
    /// start at `resume`: within the attempts and the budget.
    pub(crate) fn allows(&self, attempt: u32, started: Instant, resume: Instant) -> bool {
        attempt < self.retries && resume.saturating_duration_since(started) <= self.budget
    }

    /// Runs `call` until it succeeds, fails for good, or the retries or the budget are spent;
    /// each retry is logged. `what` names the call in the log and in the error.
    ///
    /// The wait spaces the starts of attempts: a retry starts its wait after the start of the
    /// attempt that failed, not after the failure, so an attempt that failed slowly is not
    /// made slower still by the full wait, and a server failing at once still sees its
    /// callers' attempts at least the (jittered) backoff apart.
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let started = Instant::now();
        let mut attempt = 0_u32;
        loop {
            let attempt_started = Instant::now();
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let wait = self.wait(attempt);
            let resume = attempt_started + wait;
            if !error.is_transient() || !self.allows(attempt, started, resume) {
                return Err(after_retries(error, attempt, self));
            }
            tracing::warn!(
                what,
                attempt = attempt + 1,
                of = self.retries,
                wait_ms = wait.as_secs_f64() * 1e3,
                error = %error,
                "transient failure; retrying"
            );
            telemetry::retried(what);
            sleep_until(resume).await;
            attempt += 1;
        }
    }
}

/// How late Tokio's timer may fire: it wakes on the first millisecond tick after a deadline,
/// and the runtime parks for whole milliseconds.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Waits until `deadline`, not later: a retry's wait is short (milliseconds), and the
/// timer's lateness would add up to [`TIMER_SLACK`] to each. Sleeps to just before the
/// deadline, then yields to the runtime until it has come.
pub(crate) async fn sleep_until(deadline: Instant) {
    if let Some(early) = deadline.checked_sub(TIMER_SLACK) {
        tokio::time::sleep_until(early.into()).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// `error`, saying how many retries came before it.
pub(crate) fn after_retries(error: Error, attempts: u32, retry: &Retry) -> Error {
    if attempts == 0 {
        return error;
    }
    error.context(format_args!(
        "after {attempts} retries (URL options retries={}, retry_budget={:?})",
        retry.retries, retry.budget
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy(retries: u32, budget_ms: u64) -> Retry {
        Retry {
            retries,
            budget: Duration::from_millis(budget_ms),
            backoff: Duration::from_millis(1),
        }
    }

    #[test]
    fn waits_double_are_jittered_and_capped() {
        let retry = Retry {
            retries: 10,
            budget: Duration::from_secs(60),
            backoff: Duration::from_millis(100),
        };
        for attempt in 0..8 {
            let full = (Duration::from_millis(100) * 2_u32.pow(attempt)).min(MAX_RETRY_BACKOFF);
            let wait = retry.wait(attempt);
            assert!(wait <= full && wait >= full / 2, "{attempt}: {wait:?}");
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_within_the_limits() {
        let calls = AtomicU32::new(0);
        let flaky = || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(Error::operational("down").transient())
            } else {
                Ok(7)
            }
        };
        assert_eq!(policy(3, 10_000).run("call", flaky).await.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Too few retries: the last error, saying how many came before.
        calls.store(0, Ordering::SeqCst);
        let e = policy(1, 10_000).run("call", flaky).await.unwrap_err();
        assert!(e.to_string().contains("after 1 retries"), "{e}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Not transient: never retried.
        calls.store(0, Ordering::SeqCst);
        let e = policy(3, 10_000)
            .run("call", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::programming("syntax error"))
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!e.to_string().contains("retries"), "{e}");
        // Attempts start at least the jittered backoff apart, counted from the start of the
        // attempt before.
        let starts = std::sync::Mutex::new(Vec::new());
        let retry = Retry {
            retries: 3,
            budget: Duration::from_secs(10),
            backoff: Duration::from_millis(20),
        };
        let e = retry
            .run("call", || async {
                starts.lock().unwrap().push(Instant::now());
                Err::<(), _>(Error::operational("down").transient())
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("after 3 retries"), "{e}");
        let starts = starts.into_inner().unwrap();
        assert_eq!(starts.len(), 4);
        for (i, pair) in starts.windows(2).enumerate() {
            let least = Duration::from_millis(10) * 2_u32.pow(i as u32);
            assert!(pair[1] - pair[0] >= least, "{i}: {:?}", pair[1] - pair[0]);
        }
        // A wait never ends before its deadline, and ends soon after it (how soon is the
        // retry bench's figure: a test sharing the machine with others cannot time it).
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_micros(4_300);
            sleep_until(deadline).await;
            let now = Instant::now();
            assert!(now >= deadline, "{:?} early", deadline - now);
            assert!(
                now - deadline < Duration::from_secs(1),
                "{:?} late",
                now - deadline
            );
        }
        // No budget: no retry.
        calls.store(0, Ordering::SeqCst);
        policy(3, 0).run("call", flaky).await.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

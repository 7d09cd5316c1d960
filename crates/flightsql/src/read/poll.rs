//! Queries run through `PollFlightInfo`: more endpoints as the server produces them, and its
//! progress.

use std::sync::{Arc, Mutex, PoisonError};

use arrow_flight::{FlightDescriptor, FlightEndpoint};
use dbapi::{Error, Result};

use crate::client::FlightSqlClient;

/// A progress the server reported, kept only when it is a fraction between 0 and 1.
pub(crate) fn progress(reported: Option<f64>) -> Option<f64> {
    reported.filter(|p| p.is_finite() && (0.0..=1.0).contains(p))
}

/// More endpoints of a query run through `PollFlightInfo`, and the server's progress.
#[derive(Debug)]
pub(crate) struct Poller {
    next: Option<FlightDescriptor>,
    seen: usize,
    progress: Arc<Mutex<Option<f64>>>,
}

/// The pause between two polls that revealed nothing new.
const POLL_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

impl Poller {
    /// `next`: the descriptor of the next poll (`None`: the query is complete); `seen`: the
    /// endpoints already taken from the `FlightInfo`.
    pub(crate) fn new(
        next: Option<FlightDescriptor>,
        seen: usize,
        progress: Arc<Mutex<Option<f64>>>,
    ) -> Poller {
        Poller {
            next,
            seen,
            progress,
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// Polls until new endpoints appear or the query completes.
    pub(super) async fn more(&mut self, client: &FlightSqlClient) -> Result<Vec<FlightEndpoint>> {
        while let Some(descriptor) = self.next.take() {
            // Polling again is what the protocol asks: safe to repeat.
            let poll = client.poll_flight_info(descriptor, true).await?;
            if let Some(p) = progress(poll.progress) {
                *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = Some(p);
            }
            self.next = poll.flight_descriptor;
            let info = poll.info.ok_or_else(|| {
                Error::internal("the server sent a PollInfo without a FlightInfo")
            })?;
            if info.endpoint.len() > self.seen {
                let new = info.endpoint[self.seen..].to_vec();
                self.seen = info.endpoint.len();
                return Ok(new);
            }
            if self.next.is_some() {
                tokio::time::sleep(POLL_PAUSE).await;
            }
        }
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = Some(1.0);
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_a_fraction() {
        assert_eq!(progress(Some(0.5)), Some(0.5));
        for bad in [f64::NAN, f64::INFINITY, -0.1, 1.5, 1e300] {
            assert_eq!(progress(Some(bad)), None, "{bad}");
        }
    }
}

//! Time limits of calls and the runtime they run on.

use std::future::Future;
use std::time::Duration;

use dbapi::{Error, Result};

/// Runs a future under a timeout (when one is configured: the duration and the URL key that
/// set it); `what` names the call in the error.
pub(crate) async fn within<T>(
    timeout: Option<(Duration, &'static str)>,
    what: &str,
    future: impl Future<Output = T>,
) -> Result<T> {
    match timeout {
        None => Ok(future.await),
        Some((t, key)) => tokio::time::timeout(t, future).await.map_err(|_| {
            Error::operational(format!("{what} timed out after {t:?} (URL option {key})")).timeout()
        }),
    }
}

/// The Tokio runtime the driver runs on: gRPC (tonic) and the endpoint readers need one.
pub(crate) fn runtime() -> Result<tokio::runtime::Handle> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        Error::interface(
            "the Flight SQL driver must run inside a Tokio runtime (or use dbapi::blocking)",
        )
    })
}

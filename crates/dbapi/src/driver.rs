//! What drivers implement and build on: the [`Driver`] trait, and the toolkit that turns a
//! driver's record batches into cursors' rows and applications' values into parameter batches.
//!
//! Applications need nothing from this module but [`Driver`] (re-exported at the crate root).

use async_trait::async_trait;

use crate::{Connection, Result};

pub use crate::bind::{bind, natural_type};
pub use crate::registry::Driver;
pub use crate::result_set::{BatchSource, Batches, CursorState, ResultSet};
pub use crate::row::describe;
pub use crate::sql::changes_data;

/// A running total of row counts (`executemany`'s chunks): unknown (`None`) once one count is
/// unknown (`None` or negative, as drivers report an unknown count).
///
/// ```
/// use dbapi::driver::add_count;
/// assert_eq!(add_count(Some(2), Some(3)), Some(5));
/// assert_eq!(add_count(Some(2), Some(-1)), None);
/// assert_eq!(add_count(None, Some(3)), None);
/// ```
pub fn add_count(total: Option<i64>, count: Option<i64>) -> Option<i64> {
    match (total, count) {
        (Some(total), Some(n)) if n >= 0 => Some(total + n),
        _ => None,
    }
}

/// What opens connections: a URL (through the default registry, or a given one with
/// [`UrlConnector`]), or a driver's own typed configuration (the Flight SQL driver's `Config`
/// implements it). The pool and the blocking API take any of them.
///
/// ```
/// use dbapi::driver::{Connector, UrlConnector};
///
/// fn takes(connector: impl Connector) {}
/// takes("flightsql://localhost:8181?tls=false".to_owned());
/// takes(UrlConnector::new("flightsql://localhost:8181?tls=false", dbapi::Registry::new()));
/// ```
#[async_trait]
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// Opens a connection.
    ///
    /// # Errors
    /// As [`Driver::connect`].
    async fn connect(&self) -> Result<Box<dyn Connection>>;
}

#[async_trait]
impl Connector for String {
    /// Connects through the [default registry](crate::default_registry).
    async fn connect(&self) -> Result<Box<dyn Connection>> {
        crate::connect(self).await
    }
}

#[async_trait]
impl Connector for &'static str {
    /// Connects through the [default registry](crate::default_registry).
    async fn connect(&self) -> Result<Box<dyn Connection>> {
        crate::connect(self).await
    }
}

/// A URL and the registry that picks its driver.
#[derive(Clone)]
pub struct UrlConnector {
    url: String,
    registry: crate::Registry,
}

impl UrlConnector {
    /// Connections to `url` through `registry`.
    pub fn new(url: impl Into<String>, registry: crate::Registry) -> Self {
        UrlConnector {
            url: url.into(),
            registry,
        }
    }
}

impl std::fmt::Debug for UrlConnector {
    /// The URL without its secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlConnector")
            .field("url", &crate::redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Connector for UrlConnector {
    async fn connect(&self) -> Result<Box<dyn Connection>> {
        self.registry.connect(&self.url).await
    }
}

//! What drivers implement and build on: the [`Driver`] trait, and the toolkit that turns a
//! driver's record batches into cursors' rows and applications' values into parameter batches.
//!
//! Applications need nothing from this module but [`Driver`] (re-exported at the crate root).

use async_trait::async_trait;

use crate::{Connection, Result};

pub use crate::bind::{bind, natural_type};
pub use crate::result_set::{BatchSource, Batches, ResultSet};
pub use crate::row::describe;

/// A database driver: opens connections for the URL schemes it declares.
#[async_trait]
pub trait Driver: Send + Sync + std::fmt::Debug {
    /// A short name for messages, e.g. `"flightsql"`.
    fn name(&self) -> &str;

    /// The URL schemes this driver serves, lower case, e.g. `["flightsql", "grpc"]`.
    fn schemes(&self) -> &[&str];

    /// Opens a connection.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error for a malformed URL or
    /// an unknown option; an [`ErrorKind::Operational`](crate::ErrorKind::Operational) error
    /// when the server cannot be reached or refuses the credentials.
    async fn connect(&self, url: &str) -> Result<Box<dyn Connection>>;
}

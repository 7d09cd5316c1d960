//! A connection pool for any driver, on [`deadpool`] (feature `pool`).
//!
//! [`deadpool`] is the pool the tokio-postgres ecosystem settled on (`deadpool-postgres`): it
//! is runtime-agnostic, has no background task of its own, and recycles a connection when it
//! is handed out again, which is where a health check belongs. A [`Manager`] opens
//! connections from a URL through a [`Registry`] and checks them before reuse:
//! closed connections are dropped, each is [reset](Connection::reset) to the state of a new
//! connection (open transaction rolled back, autocommit on, session options as at connect;
//! the Flight SQL driver also ends statements a kept cursor left running),
//! and the [`HealthCheck`] (by default `SELECT 1`) must pass; a connection that fails either
//! is discarded.
//!
//! ```no_run
//! # async fn run() -> dbapi::Result<()> {
//! use dbapi::pool::{HealthCheck, Manager, Pool};
//! use dbapi::{CursorExt, Params};
//!
//! let manager = Manager::new("flightsql://localhost:8181?tls=false")
//!     .health_check(HealthCheck::Query("SELECT 1".into()));
//! let pool = Pool::builder(manager).max_size(8).build()?;
//!
//! let conn = pool.get().await?; // derefs to `Box<dyn Connection>`
//! let mut cursor = conn.cursor()?;
//! cursor.execute("SELECT 42", Params::None).await?;
//! let answer: Option<i64> = cursor.fetchone_as().await?;
//! # Ok(()) }
//! ```

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};

use std::sync::Arc;

use crate::driver::Connector;
use crate::{Connection, Error, Params, Registry};

/// A pool of connections ([`deadpool::managed::Pool`]).
pub type Pool = managed::Pool<Manager>;

/// A connection taken from a [`Pool`]; it returns to the pool when dropped, and derefs to
/// `Box<dyn Connection>`.
pub type PooledConnection = managed::Object<Manager>;

/// How a connection is checked before it is handed out again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HealthCheck {
    /// Only that the connection is not closed.
    None,
    /// Run this statement and read its result (the default: `SELECT 1`).
    Query(String),
    /// The default query, `SELECT 1`.
    #[default]
    Select1,
}

/// Opens connections from a URL or a driver's configuration, and checks them before reuse.
#[derive(Debug, Clone)]
pub struct Manager {
    source: Source,
    health_check: HealthCheck,
}

/// Where a manager's connections come from.
#[derive(Debug, Clone)]
enum Source {
    Url {
        url: String,
        registry: Option<Registry>,
    },
    Connector(Arc<dyn Connector>),
}

impl Manager {
    /// Connections to `url`, through the [default registry](crate::default_registry).
    pub fn new(url: impl Into<String>) -> Manager {
        Manager {
            source: Source::Url {
                url: url.into(),
                registry: None,
            },
            health_check: HealthCheck::default(),
        }
    }

    /// Connections from a [`Connector`], e.g. a driver's typed configuration
    /// (`dbapi_flightsql::Config`).
    pub fn from_connector(connector: impl Connector + 'static) -> Manager {
        Manager {
            source: Source::Connector(Arc::new(connector)),
            health_check: HealthCheck::default(),
        }
    }

    /// Connections through this registry instead of the default one (for a manager made
    /// from a URL; a connector knows its driver).
    #[must_use]
    pub fn registry(mut self, registry: Registry) -> Manager {
        if let Source::Url { registry: r, .. } = &mut self.source {
            *r = Some(registry);
        }
        self
    }

    /// The check run before a connection is reused.
    #[must_use]
    pub fn health_check(mut self, check: HealthCheck) -> Manager {
        self.health_check = check;
        self
    }

    async fn check(&self, conn: &dyn Connection) -> crate::Result<()> {
        // The last user's transaction, autocommit mode and session options are not the next
        // user's.
        conn.reset().await?;
        let sql = match &self.health_check {
            HealthCheck::None => return Ok(()),
            HealthCheck::Query(sql) => sql.as_str(),
            HealthCheck::Select1 => "SELECT 1",
        };
        let mut cursor = conn.cursor()?;
        cursor.execute(sql, Params::None).await?;
        while cursor.fetch_batch().await?.is_some() {}
        cursor.close().await
    }
}

impl managed::Manager for Manager {
    type Type = Box<dyn Connection>;
    type Error = Error;

    async fn create(&self) -> Result<Box<dyn Connection>, Error> {
        match &self.source {
            Source::Url {
                url,
                registry: Some(registry),
            } => registry.connect(url).await,
            Source::Url {
                url,
                registry: None,
            } => crate::connect(url).await,
            Source::Connector(connector) => connector.connect().await,
        }
    }

    async fn recycle(&self, conn: &mut Box<dyn Connection>, _: &Metrics) -> RecycleResult<Error> {
        if conn.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        self.check(conn.as_ref())
            .await
            .map_err(RecycleError::Backend)
    }
}

impl From<managed::PoolError<Error>> for Error {
    fn from(e: managed::PoolError<Error>) -> Error {
        use managed::{HookError, PoolError, TimeoutType};
        match e {
            PoolError::Backend(e) => e,
            PoolError::Timeout(TimeoutType::Wait) => {
                Error::operational("timed out waiting for a pooled connection").timeout()
            }
            PoolError::Timeout(TimeoutType::Create) => {
                Error::operational("timed out opening a pooled connection")
                    .timeout()
                    .connection()
            }
            PoolError::Timeout(TimeoutType::Recycle) => {
                Error::operational("timed out checking a pooled connection").timeout()
            }
            PoolError::Closed => Error::interface("the pool is closed"),
            PoolError::NoRuntimeSpecified => Error::interface(
                "the pool has no runtime for its timeouts (set `runtime(deadpool::Runtime::Tokio1)`)",
            ),
            PoolError::PostCreateHook(HookError::Backend(e)) => e,
            PoolError::PostCreateHook(HookError::Message(m)) => {
                Error::operational(format!("a new pooled connection was refused: {m}"))
            }
        }
    }
}

impl From<managed::BuildError> for Error {
    fn from(e: managed::BuildError) -> Error {
        Error::interface(format!("cannot build the pool: {e}"))
    }
}

/// The `deadpool` crate, for its builder options (`Runtime`, `Timeouts`, hooks...).
pub use deadpool;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_errors_keep_their_meaning() {
        let e = Error::from(managed::PoolError::<Error>::Timeout(
            managed::TimeoutType::Wait,
        ));
        assert!(e.is_timeout());
        assert!(
            e.to_string().contains("waiting for a pooled connection"),
            "{e}"
        );
        let e = Error::from(managed::PoolError::<Error>::Closed);
        assert!(e.is_interface());
        let e = Error::from(managed::PoolError::Backend(Error::not_supported("x")));
        assert!(e.is_not_supported());
    }

    #[tokio::test]
    async fn an_unknown_scheme_fails_when_the_pool_connects() {
        let pool = Pool::builder(Manager::new("nosuch://h").registry(Registry::new()))
            .max_size(2)
            .build()
            .unwrap();
        let e = Error::from(pool.get().await.unwrap_err());
        assert!(e.is_interface(), "{e}");
        assert!(e.to_string().contains("nosuch"), "{e}");
    }
}

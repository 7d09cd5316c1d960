//! The driver: registration under the Flight SQL URL schemes.

use std::sync::Arc;

use async_trait::async_trait;
use dbapi::{Connection, Driver, Registry, Result};

use crate::config::SCHEMES;
use crate::conn::FlightSqlConnection;

/// The Flight SQL driver, registered under `flightsql`, `grpc`, `grpc+tcp` and `grpc+tls`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlightSqlDriver;

#[async_trait]
impl Driver for FlightSqlDriver {
    fn name(&self) -> &str {
        "flightsql"
    }

    fn schemes(&self) -> &[&str] {
        &SCHEMES
    }

    async fn connect(&self, url: &str) -> Result<Box<dyn Connection>> {
        Ok(Box::new(FlightSqlConnection::connect(url).await?))
    }
}

/// Adds the driver to the process-wide default registry (see [`dbapi::connect`]).
pub fn register() {
    dbapi::register(Arc::new(FlightSqlDriver));
}

/// Adds the driver to a registry.
pub fn register_in(registry: &mut Registry) {
    registry.register(Arc::new(FlightSqlDriver));
}

#[async_trait]
impl dbapi::driver::Connector for crate::config::Config {
    /// Connects with this configuration, as [`FlightSqlConnection::connect_with`] does.
    async fn connect(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(
            FlightSqlConnection::connect_with(self.clone()).await?,
        ))
    }
}

//! The `dbapi` driver: loads ADBC drivers and opens connections through them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use adbc_core::options::{AdbcVersion, OptionConnection, OptionDatabase, OptionValue};
use adbc_core::{Database as _, Driver as _, LOAD_FLAG_DEFAULT, Optionable};
use adbc_driver_manager::ManagedDriver;
use async_trait::async_trait;
use dbapi::{Connection, Driver, Error, Result};

use crate::config::{Config, SCHEME};
use crate::connection::AdbcConnection;
use crate::error::from_adbc;
use crate::native::Native;

/// Loaded driver libraries by name (or path) and entry point.
type Loaded = HashMap<(String, Option<String>), ManagedDriver>;

/// The ADBC driver for `dbapi`: serves `adbc:` URLs (see [`Config::from_url`]).
///
/// Each driver library is loaded once (per `AdbcDriver` and entry point) and kept loaded.
#[derive(Debug, Default, Clone)]
pub struct AdbcDriver {
    loaded: Arc<Mutex<Loaded>>,
}

impl AdbcDriver {
    /// A driver with nothing loaded yet.
    pub fn new() -> Self {
        AdbcDriver::default()
    }

    /// The driver library `config` names, loaded on first use: ADBC 1.1 first, then 1.0 for
    /// older drivers.
    fn load(&self, config: &Config) -> Result<ManagedDriver> {
        let key = (
            config.driver().to_owned(),
            config.entrypoint().map(str::to_owned),
        );
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = loaded.get(&key) {
            return Ok(driver.clone());
        }
        let entrypoint = config.entrypoint().map(str::as_bytes);
        let load = |version| {
            ManagedDriver::load_from_name(
                config.driver(),
                entrypoint,
                version,
                LOAD_FLAG_DEFAULT,
                None,
            )
        };
        let driver = load(AdbcVersion::V110)
            .or_else(|_| load(AdbcVersion::V100))
            .map_err(|e| {
                Error::interface(format!(
                    "loading the ADBC driver {:?}: {} (name a driver found on \
                     ADBC_DRIVER_PATH or in the ADBC driver folders, e.g. adbc:sqlite, or give \
                     the absolute path of its manifest or shared library)",
                    config.driver(),
                    e.message
                ))
            })?;
        loaded.insert(key, driver.clone());
        Ok(driver)
    }

    /// Opens a connection as `config` says, on the calling (blocking) thread.
    fn open(&self, config: &Config, secrets: &[String]) -> Result<Native> {
        let mut driver = self.load(config)?;
        let options = config
            .options()
            .map(|(k, v)| (OptionDatabase::from(k), OptionValue::String(v.to_owned())));
        let database = driver
            .new_database_with_opts(options)
            .map_err(|e| from_adbc(e, "opening the database", secrets))?;
        let mut conn = database
            .new_connection()
            .map_err(|e| from_adbc(e, "connecting", secrets))?;
        if !config.autocommit() {
            conn.set_option(
                OptionConnection::AutoCommit,
                OptionValue::String("false".into()),
            )
            .map_err(|e| from_adbc(e, "turning autocommit off", secrets))?;
        }
        Ok(Native::new(
            conn,
            secrets.to_vec().into(),
            config.driver().to_owned(),
        ))
    }

    /// Connects as a parsed [`Config`] says.
    ///
    /// # Errors
    /// As [`Driver::connect`].
    pub async fn connect_with(&self, config: Config) -> Result<AdbcConnection> {
        let this = self.clone();
        let autocommit = config.autocommit();
        let native = tokio::task::spawn_blocking(move || {
            let secrets = config.secrets();
            this.open(&config, &secrets)
        })
        .await
        .map_err(|e| Error::internal(format!("connecting: {e}")))??;
        Ok(AdbcConnection::new(native, autocommit))
    }
}

#[async_trait]
impl Driver for AdbcDriver {
    fn name(&self) -> &str {
        "adbc"
    }

    fn schemes(&self) -> &[&str] {
        &[SCHEME]
    }

    async fn connect(&self, url: &str) -> Result<Box<dyn Connection>> {
        let config = Config::from_url(url)?;
        Ok(Box::new(self.connect_with(config).await?))
    }
}

/// Adds the driver to the process-wide default registry (see [`dbapi::connect`]).
pub fn register() {
    dbapi::register(Arc::new(AdbcDriver::new()));
}

/// Adds the driver to a registry.
pub fn register_in(registry: &mut dbapi::Registry) {
    registry.register(Arc::new(AdbcDriver::new()));
}

#[async_trait]
impl dbapi::driver::Connector for Config {
    /// Connects with this configuration through a driver of its own.
    async fn connect(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(
            AdbcDriver::new().connect_with(self.clone()).await?,
        ))
    }
}

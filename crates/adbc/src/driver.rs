//! The `dbapi` driver: loads ADBC drivers and opens connections through them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use adbc_core::options::{AdbcVersion, OptionConnection, OptionDatabase, OptionValue};
use adbc_core::{
    Database as _, Driver as _, LOAD_FLAG_SEARCH_ENV, LOAD_FLAG_SEARCH_SYSTEM,
    LOAD_FLAG_SEARCH_USER, LoadFlags, Optionable,
};
use adbc_driver_manager::ManagedDriver;
use async_trait::async_trait;
use dbapi::{Connection, Driver, Error, Result};

use crate::config::{Config, SCHEME};
use crate::connection::AdbcConnection;
use crate::error::from_adbc;
use crate::native::{Native, Traits};

/// Loaded driver libraries by name (or path) and entry point.
type Loaded = HashMap<(String, Option<String>), ManagedDriver>;

/// Where ADBC driver managers look for a driver named by a name: `ADBC_DRIVER_PATH`, the
/// user's and the system's driver folders (never the current directory).
const SEARCH: LoadFlags = LOAD_FLAG_SEARCH_ENV | LOAD_FLAG_SEARCH_USER | LOAD_FLAG_SEARCH_SYSTEM;

/// The ADBC driver for `dbapi`: serves `adbc:` URLs (see [`Config::from_url`]).
///
/// Loading a driver runs its code in this process, and a URL often comes from configuration
/// or a user, so what a URL may load is the application's choice: by default only drivers
/// named by a name (`adbc:sqlite`), found through ADBC manifests and the driver manager's
/// search folders, at their default entry point. An absolute path to a manifest or library
/// is loaded only after [`AdbcDriver::allow_paths`], an `entrypoint=` only after
/// [`AdbcDriver::allow_entrypoints`]; a relative path never.
///
/// Each driver library is loaded once (per `AdbcDriver` and entry point) and kept loaded.
#[derive(Debug, Default, Clone)]
pub struct AdbcDriver {
    loaded: Arc<Mutex<Loaded>>,
    paths: bool,
    entrypoints: bool,
}

impl AdbcDriver {
    /// A driver with nothing loaded yet, loading drivers by name only.
    pub fn new() -> Self {
        AdbcDriver::default()
    }

    /// Also loads drivers named by the absolute path of their manifest (`.toml`) or shared
    /// library (`adbc:/opt/adbc/libadbc_driver_sqlite.so`).
    pub fn allow_paths(mut self) -> Self {
        self.paths = true;
        self
    }

    /// Also takes `entrypoint=` (the exported symbol that initializes the driver) from URLs.
    pub fn allow_entrypoints(mut self) -> Self {
        self.entrypoints = true;
        self
    }

    /// Whether this driver may load what `config` names.
    fn check_allowed(&self, config: &Config) -> Result<()> {
        let driver = config.driver();
        let is_name = !driver.is_empty()
            && !driver.starts_with('.')
            && driver
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !is_name {
            if !std::path::Path::new(driver).is_absolute() || driver.split('/').any(|p| p == "..") {
                return Err(Error::interface(format!(
                    "the ADBC driver {driver:?} is neither a name nor an absolute path: a \
                     relative path (or one through ..) is never loaded; name a driver found on \
                     ADBC_DRIVER_PATH or in the ADBC driver folders (e.g. adbc:sqlite)"
                )));
            }
            if !self.paths {
                return Err(Error::interface(format!(
                    "the ADBC driver is named by a path ({driver}): loading a library from a \
                     URL's path is off unless the application allows it \
                     (dbapi_adbc::AdbcDriver::allow_paths; the dbapi command: \
                     --allow-driver-paths); name a driver found on ADBC_DRIVER_PATH or in the \
                     ADBC driver folders instead (e.g. adbc:sqlite)"
                )));
            }
        }
        if config.entrypoint().is_some() && !self.entrypoints {
            return Err(Error::interface(
                "the URL key entrypoint is off unless the application allows it \
                 (dbapi_adbc::AdbcDriver::allow_entrypoints; the dbapi command: \
                 --allow-driver-paths): drivers start at their default entry point",
            ));
        }
        Ok(())
    }

    /// The driver library `config` names, loaded on first use: ADBC 1.1 first, then 1.0 for
    /// older drivers.
    fn load(&self, config: &Config) -> Result<ManagedDriver> {
        let key = (
            config.driver().to_owned(),
            config.entrypoint().map(str::to_owned),
        );
        self.check_allowed(config)?;
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = loaded.get(&key) {
            return Ok(driver.clone());
        }
        let entrypoint = config.entrypoint().map(str::as_bytes);
        let load = |version| {
            ManagedDriver::load_from_name(config.driver(), entrypoint, version, SEARCH, None)
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
        let traits = Traits::of(crate::catalog::driver_name(&conn).as_deref());
        Ok(Native::new(
            conn,
            secrets.to_vec().into(),
            config.driver().to_owned(),
            traits,
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

/// Adds the driver to a registry (loading drivers by name only: see [`AdbcDriver`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(driver: &AdbcDriver, url: &str) -> std::result::Result<(), String> {
        driver
            .check_allowed(&Config::from_url(url).unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn urls_load_names_only_unless_the_application_allows_more() {
        let default = AdbcDriver::new();
        assert_eq!(allowed(&default, "adbc:sqlite?uri=:memory:"), Ok(()));
        assert_eq!(allowed(&default, "adbc:adbc_driver.snowflake"), Ok(()));
        let e = allowed(&default, "adbc:/opt/adbc/libx.so").unwrap_err();
        assert!(
            e.contains("allow_paths") && e.contains("--allow-driver-paths"),
            "{e}"
        );
        let e = allowed(&default, "adbc:sqlite?entrypoint=abort").unwrap_err();
        assert!(
            e.contains("entrypoint") && e.contains("allow_entrypoints"),
            "{e}"
        );
        let trusting = AdbcDriver::new().allow_paths().allow_entrypoints();
        assert_eq!(allowed(&trusting, "adbc:/opt/adbc/libx.so"), Ok(()));
        assert_eq!(allowed(&trusting, "adbc:sqlite?entrypoint=Init"), Ok(()));
        // Relative paths, and paths through .., never.
        for url in ["adbc:./x.so", "adbc:x/y.so", "adbc:../x.so", "adbc:.hidden"] {
            for driver in [&default, &trusting] {
                let e = allowed(driver, url).unwrap_err();
                assert!(e.contains("never loaded"), "{url}: {e}");
            }
        }
    }
}

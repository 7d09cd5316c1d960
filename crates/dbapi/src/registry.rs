//! The [`Driver`] trait and the registry that picks a driver from a URL's scheme.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use async_trait::async_trait;

use crate::{Connection, Error, Result};

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

/// Drivers by URL scheme.
///
/// A registry is a plain value: build one with the drivers an application wants, or use the
/// process-wide default through [`register`] and [`connect`].
#[derive(Debug, Clone, Default)]
pub struct Registry {
    by_scheme: BTreeMap<String, Arc<dyn Driver>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a driver under each of its schemes, replacing drivers registered for the same
    /// schemes, and returns the registry.
    pub fn with(mut self, driver: impl Driver + 'static) -> Self {
        self.register(Arc::new(driver));
        self
    }

    /// Adds a driver under each of its schemes (case-insensitive), replacing drivers
    /// registered for the same schemes.
    pub fn register(&mut self, driver: Arc<dyn Driver>) {
        for scheme in driver.schemes() {
            self.by_scheme
                .insert(scheme.to_ascii_lowercase(), Arc::clone(&driver));
        }
    }

    /// The registered schemes, sorted.
    pub fn schemes(&self) -> Vec<&str> {
        self.by_scheme.keys().map(String::as_str).collect()
    }

    /// The driver for a URL.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the URL has no
    /// scheme, or no driver is registered for it (the message lists the registered schemes).
    pub fn driver_for(&self, url: &str) -> Result<Arc<dyn Driver>> {
        let scheme = scheme(url)?;
        self.by_scheme.get(&scheme).cloned().ok_or_else(|| {
            let known = self.schemes();
            Error::interface(format!(
                "no driver for URL scheme {scheme:?}; registered schemes: {}",
                if known.is_empty() {
                    "none (register a driver first)".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// Opens a connection with the driver registered for the URL's scheme.
    ///
    /// # Errors
    /// As [`Registry::driver_for`], then the driver's [`Driver::connect`] errors.
    pub async fn connect(&self, url: &str) -> Result<Box<dyn Connection>> {
        self.driver_for(url)?.connect(url).await
    }
}

/// The scheme of a URL, lower case (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn scheme(url: &str) -> Result<String> {
    let bad = || {
        Error::interface(format!(
            "malformed connection URL: expected scheme://..., got {:?}",
            crate::redact_url(url)
        ))
    };
    let (scheme, _) = url.split_once(':').ok_or_else(bad)?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        return Err(bad());
    }
    Ok(scheme.to_ascii_lowercase())
}

static DEFAULT: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::new()));

/// Adds a driver to the process-wide default registry used by [`connect`].
pub fn register(driver: Arc<dyn Driver>) {
    DEFAULT
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .register(driver);
}

/// A copy of the process-wide default registry.
pub fn default_registry() -> Registry {
    DEFAULT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Opens a connection through the process-wide default registry.
///
/// The default registry starts empty; an application fills it explicitly, e.g. with
/// `dbapi_flightsql::register()`.
///
/// # Errors
/// As [`Registry::connect`].
pub async fn connect(url: &str) -> Result<Box<dyn Connection>> {
    let driver = DEFAULT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .driver_for(url)?;
    driver.connect(url).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;

    #[derive(Debug)]
    struct Fake;

    #[async_trait]
    impl Driver for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn schemes(&self) -> &[&str] {
            &["fake", "Fake+TCP"]
        }
        async fn connect(&self, url: &str) -> Result<Box<dyn Connection>> {
            Err(Error::operational(format!("fake cannot connect to {url}")))
        }
    }

    #[test]
    fn schemes_are_case_insensitive_and_aliases_work() {
        let r = Registry::new().with(Fake);
        assert_eq!(r.schemes(), vec!["fake", "fake+tcp"]);
        assert_eq!(r.driver_for("FAKE://x").unwrap().name(), "fake");
        assert_eq!(r.driver_for("fake+tcp://x").unwrap().name(), "fake");
    }

    #[test]
    fn unknown_scheme_lists_registered_schemes() {
        let r = Registry::new().with(Fake);
        let e = r.driver_for("postgres://x").unwrap_err();
        assert!(e.is_interface());
        let msg = e.to_string();
        assert!(msg.contains("\"postgres\""), "{msg}");
        assert!(msg.contains("fake, fake+tcp"), "{msg}");
    }

    #[test]
    fn empty_registry_says_how_to_fill_it() {
        let e = Registry::new().driver_for("flightsql://x").unwrap_err();
        assert!(e.to_string().contains("register"), "{e}");
    }

    #[test]
    fn malformed_urls_are_interface_errors() {
        let r = Registry::new().with(Fake);
        for url in ["", "no-scheme", "://x", "1abc://x", "fa ke://x"] {
            let e = r.driver_for(url).unwrap_err();
            assert!(e.is_interface(), "{url}: {e}");
            assert!(e.to_string().contains("malformed"), "{url}: {e}");
        }
    }

    #[test]
    fn malformed_url_message_hides_the_password() {
        let e = Registry::new()
            .driver_for("1x://user:hunter2@host")
            .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[tokio::test]
    async fn connect_goes_to_the_driver() {
        let r = Registry::new().with(Fake);
        let e = r.connect("fake://h").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "OperationalError: fake cannot connect to fake://h"
        );
    }
}

//! `adbc:` URLs: which ADBC driver to load and the options to give it.

use std::fmt;

use dbapi::{Error, Result, is_secret_key, redact_url};

/// The URL scheme of this driver.
pub const SCHEME: &str = "adbc";

/// The keys of an `adbc:` URL that are not passed to the driver as they are.
const OWN_KEYS: [&str; 2] = ["entrypoint", "autocommit"];

/// The database options every ADBC driver knows (the rest are dotted, e.g.
/// `adbc.postgresql.batch_size_hint_bytes`).
const STANDARD_OPTIONS: [&str; 3] = ["uri", "username", "password"];

/// A parsed `adbc:` URL: the driver and its database options.
///
/// ```
/// let config = dbapi_adbc::Config::from_url("adbc:sqlite?uri=file:/tmp/app.db").unwrap();
/// assert_eq!(config.driver(), "sqlite");
/// assert_eq!(config.option("uri"), Some("file:/tmp/app.db"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    driver: String,
    entrypoint: Option<String>,
    autocommit: bool,
    options: Vec<(String, String)>,
}

impl Config {
    /// Parses an `adbc:` URL (see `docs/url.md`):
    /// `adbc:DRIVER?uri=...&username=...&password=...&adbc.some.option=...`, where `DRIVER` is a
    /// driver's name (`sqlite`, `postgresql`, found as ADBC driver managers find it) or the
    /// absolute path of its manifest (`.toml`) or shared library.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error for another scheme, a
    /// URL without a driver, a key given twice, an unknown key, or an invalid `autocommit`.
    pub fn from_url(url: &str) -> Result<Config> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::interface(format!("invalid URL {}: {e}", redact_url(url))))?;
        if !parsed.scheme().eq_ignore_ascii_case(SCHEME) {
            return Err(Error::interface(format!(
                "{} is not an {SCHEME}: URL",
                redact_url(url)
            )));
        }
        // `adbc:sqlite`, `adbc:/path/to/driver.so` and `adbc://sqlite` all name a driver.
        let driver = match parsed.host_str() {
            Some(host) if !host.is_empty() => format!("{host}{}", parsed.path()),
            _ => parsed.path().to_owned(),
        };
        let driver = percent_encoding::percent_decode_str(&driver)
            .decode_utf8()
            .map_err(|_| Error::interface("the ADBC driver's name is not UTF-8"))?
            .into_owned();
        if driver.is_empty() {
            return Err(Error::interface(format!(
                "{} names no ADBC driver: write adbc:NAME (e.g. adbc:sqlite) or \
                 adbc:/path/to/driver.so",
                redact_url(url)
            )));
        }
        let mut config = Config {
            driver,
            entrypoint: None,
            autocommit: true,
            options: Vec::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for (key, value) in parsed.query_pairs() {
            if !seen.insert(key.to_string()) {
                return Err(Error::interface(format!(
                    "the URL gives option {key:?} twice"
                )));
            }
            config.set(&key, &value)?;
        }
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "entrypoint" => self.entrypoint = Some(value.to_owned()),
            "autocommit" => {
                self.autocommit = match value.to_ascii_lowercase().as_str() {
                    "true" | "on" | "1" => true,
                    "false" | "off" | "0" => false,
                    _ => {
                        return Err(Error::interface(format!(
                            "option autocommit: expected true or false, got {value:?}"
                        )));
                    }
                }
            }
            _ if STANDARD_OPTIONS.contains(&key) || key.contains('.') => {
                self.options.push((key.to_owned(), value.to_owned()));
            }
            _ => {
                return Err(Error::interface(format!(
                    "unknown option {key:?} in an {SCHEME}: URL (known: {}, {}, and the \
                     driver's own dotted options such as adbc.sqlite.query.batch_rows)",
                    STANDARD_OPTIONS.join(", "),
                    OWN_KEYS.join(", "),
                )));
            }
        }
        Ok(())
    }

    /// The driver: a name or an absolute path.
    pub fn driver(&self) -> &str {
        &self.driver
    }

    /// The driver's initialization function, when not the default.
    pub fn entrypoint(&self) -> Option<&str> {
        self.entrypoint.as_deref()
    }

    /// Whether connections start in autocommit mode (the default; `autocommit=false` starts
    /// them in a transaction).
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// The value of a database option given in the URL.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The database options, in URL order.
    pub fn options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The secrets among the options (passwords, tokens, the password of a `uri`), as they
    /// are and percent-encoded, so that messages can be scrubbed of them.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, value) in &self.options {
            if value.is_empty() {
                continue;
            }
            if is_secret_key(key) {
                out.push(value.clone());
            } else if let Ok(inner) = url::Url::parse(value)
                && let Some(password) = inner.password()
            {
                out.push(password.to_owned());
                if let Ok(plain) = percent_encoding::percent_decode_str(password).decode_utf8() {
                    let encoded = percent_encoding::utf8_percent_encode(
                        &plain,
                        percent_encoding::NON_ALPHANUMERIC,
                    )
                    .to_string();
                    out.push(plain.into_owned());
                    out.push(encoded);
                }
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }
}

impl fmt::Debug for Config {
    /// The options with secret values (and the password of a `uri`) hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options: Vec<(&str, String)> = self
            .options
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_key(k) {
                    "***".to_owned()
                } else {
                    redact_url(v)
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("Config")
            .field("driver", &self.driver)
            .field("entrypoint", &self.entrypoint)
            .field("autocommit", &self.autocommit)
            .field("options", &options)
            .finish()
    }
}

/// Replaces every secret in `text` by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_options() {
        let c =
            Config::from_url("adbc:sqlite?uri=:memory:&adbc.sqlite.query.batch_rows=10").unwrap();
        assert_eq!(c.driver(), "sqlite");
        assert_eq!(c.option("uri"), Some(":memory:"));
        assert_eq!(c.option("adbc.sqlite.query.batch_rows"), Some("10"));
        assert!(c.autocommit());
        let c =
            Config::from_url("adbc:/opt/adbc/libadbc_driver_sqlite.so?autocommit=false").unwrap();
        assert_eq!(c.driver(), "/opt/adbc/libadbc_driver_sqlite.so");
        assert!(!c.autocommit());
        let c = Config::from_url("adbc://postgresql?uri=postgresql://u@h:5/db&entrypoint=Init")
            .unwrap();
        assert_eq!(c.driver(), "postgresql");
        assert_eq!(c.option("uri"), Some("postgresql://u@h:5/db"));
        assert_eq!(c.entrypoint(), Some("Init"));
        let c = Config::from_url("adbc:postgresql?uri=postgresql%3A%2F%2Fu%40h%2Fdb").unwrap();
        assert_eq!(c.option("uri"), Some("postgresql://u@h/db"));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, expected) in [
            ("flightsql://h:1", "is not an adbc: URL"),
            ("adbc:", "names no ADBC driver"),
            ("adbc:sqlite?urii=x", "unknown option \"urii\""),
            ("adbc:sqlite?uri=a&uri=b", "option \"uri\" twice"),
            ("adbc:sqlite?autocommit=maybe", "expected true or false"),
            ("not a url", "invalid URL"),
        ] {
            let e = Config::from_url(url).unwrap_err();
            assert!(e.is_interface(), "{url}: {e}");
            assert!(e.to_string().contains(expected), "{url}: {e}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_messages() {
        let c = Config::from_url(
            "adbc:postgresql?uri=postgresql://me:pa%24%24@h/db&password=hunter2&adbc.x.token=t0k",
        )
        .unwrap();
        let shown = format!("{c:?}");
        for secret in ["pa%24%24", "pa$$", "hunter2", "t0k"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let secrets = c.secrets();
        let message = scrub(
            "connect failed: postgresql://me:pa%24%24@h/db password=hunter2 pa$$ t0k",
            &secrets,
        );
        for secret in ["pa%24%24", "pa$$", "hunter2", "t0k"] {
            assert!(!message.contains(secret), "{message}");
        }
        let e = Config::from_url("adbc:x?password=hunter2&nope=1").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

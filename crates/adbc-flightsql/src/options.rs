//! Database options as a Flight SQL connection configuration: ADBC's `uri`, `username` and
//! `password`, and every key of the driver's URLs (`docs/url.md`: `token`, `tls`,
//! `database`, `header.NAME`, ...) given as an option of its own, set through the driver's
//! table of URL keys as if it were in the URI's query.

use std::collections::BTreeMap;

use adbc_core::error::{Result, Status};
use dbapi_flightsql::Config;

use crate::error::{adbc, to_adbc};

/// The database options given so far.
#[derive(Clone, Default)]
pub(crate) struct DatabaseOptions {
    uri: Option<String>,
    username: Option<String>,
    password: Option<String>,
    keys: BTreeMap<String, String>,
}

impl std::fmt::Debug for DatabaseOptions {
    /// The URI without its secrets, the keys without their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseOptions")
            .field("uri", &self.uri.as_deref().map(dbapi::redact_url))
            .field("username", &self.username)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether `uri` is one of the Flight SQL URLs the driver knows.
fn known_scheme(uri: &str) -> bool {
    [
        "flightsql://",
        "grpc://",
        "grpc+tcp://",
        "grpc+tls://",
        "grpc+unix://",
    ]
    .iter()
    .any(|s| uri.to_ascii_lowercase().starts_with(s))
}

impl DatabaseOptions {
    /// Sets an option by its ADBC key.
    pub(crate) fn set(&mut self, key: &str, value: String) -> Result<()> {
        match key {
            "uri" => {
                if !known_scheme(&value) {
                    return Err(adbc(
                        Status::InvalidArguments,
                        format!(
                            "uri {}: expected a flightsql://, grpc://, grpc+tls:// or \
                             grpc+unix:// URL",
                            dbapi::redact_url(&value)
                        ),
                    ));
                }
                self.uri = Some(value);
            }
            "username" => self.username = Some(value),
            "password" => self.password = Some(value),
            _ => {
                self.keys.insert(key.to_owned(), value);
            }
        }
        Ok(())
    }

    /// The value of an option, as given.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        match key {
            // A URI reads back without its password or secret keys.
            "uri" => self.uri.as_deref().map(dbapi::redact_url),
            "username" => self.username.clone(),
            // Secrets are not read back.
            "password" => None,
            _ if dbapi::is_secret_key(key) => None,
            _ => self.keys.get(key).cloned(),
        }
    }

    /// The connection configuration: the URI with the other keys applied (each checked by
    /// the driver's table of URL keys, which names a bad one) and the credentials.
    pub(crate) fn config(&self) -> Result<Config> {
        let uri = self.uri.as_deref().ok_or_else(|| {
            adbc(
                Status::InvalidState,
                "the database option uri is required (e.g. grpc://localhost:8181)",
            )
        })?;
        let keys = self.keys.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let config = Config::from_url_with(uri, keys).map_err(|e| to_adbc(&e))?;
        if self.username.is_none() && self.password.is_none() {
            return Ok(config);
        }
        if config.username().is_some() {
            return Err(adbc(
                Status::InvalidArguments,
                "username/password given both in the uri and as options: give them once",
            ));
        }
        Ok(config.with_basic_auth(
            self.username.clone().unwrap_or_default(),
            self.password.clone().unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_one_url() {
        let mut o = DatabaseOptions::default();
        o.set("uri", "grpc://127.0.0.1:8181".into()).unwrap();
        o.set("database", "sensors".into()).unwrap();
        o.set("header.x-tenant", "a&b".into()).unwrap();
        o.set("username", "me".into()).unwrap();
        o.set("password", "p@ss".into()).unwrap();
        let config = o.config().unwrap();
        let shown = format!("{config:?} {o:?}");
        assert!(
            !shown.contains("p@ss") && !shown.contains("p%40ss"),
            "{shown}"
        );
        assert_eq!(o.get("password"), None);
        o.set("uri", "grpc://me:s3cret@127.0.0.1:8181?token=t0ken".into())
            .unwrap();
        let uri = o.get("uri").unwrap();
        assert!(!uri.contains("s3cret") && !uri.contains("t0ken"), "{uri}");
        o.set("uri", "grpc://127.0.0.1:8181".into()).unwrap();
        assert_eq!(o.get("database").as_deref(), Some("sensors"));
        let url = config.to_url();
        assert!(url.starts_with("grpc://me:p%40ss@127.0.0.1:8181"), "{url}");
        assert!(url.contains("x-tenant"), "{url}");
    }

    #[test]
    fn bad_options_are_named() {
        let mut o = DatabaseOptions::default();
        let e = o.set("uri", "postgresql://h/db".into()).unwrap_err();
        assert_eq!(e.status, Status::InvalidArguments);
        let e = o.config().unwrap_err();
        assert!(e.message.contains("uri is required"), "{}", e.message);
        o.set("uri", "grpc://h:1".into()).unwrap();
        o.set("no_such_key", "1".into()).unwrap();
        let e = o.config().unwrap_err();
        assert!(e.message.contains("no_such_key"), "{}", e.message);
    }
}

//! Layer 1, the bottom: what a connection is configured with. Owns [`Config`] (fields,
//! builder, accessors, validation), the table of URL keys (`keys.rs`: name, values, default,
//! secrecy, parser and printer of each), its URL form (`url.rs`: parsing, `to_url`, `Display`
//! and `Debug`, all reading that table), the OAuth settings, every limit on what an answer may
//! hold (`limits.rs`), and the constants other layers read (defaults, schemes, the user
//! agent).
//! Imports nothing else of the crate.

mod hosts;
mod keys;
mod limits;
mod oauth;
mod secret;
mod settings;
mod url;

pub use self::hosts::{HostSelection, LocationMap, Locations};
pub(crate) use self::hosts::{bare_host, is_local_host};
pub(crate) use self::limits::Limits;
pub use self::oauth::{OAuth, OAuthFlow};
pub(crate) use self::settings::{CallKind, USER_AGENT};
pub use self::settings::{
    Compression, Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_READ_AHEAD, DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET,
    DEFAULT_STATEMENT_CACHE, MAX_RETRY_BACKOFF, Pem, QueryLanguage, QueryPath, SCHEMES,
};

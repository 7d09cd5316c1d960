//! Layer 4: the Flight SQL client, the one call path every RPC takes. Owns connecting and
//! the call path (`rpc.rs`: timeouts, status mapping, OAuth tokens kept fresh, bounded
//! `DoAction`/`DoPut` results), the one credential policy every request's headers come from
//! (`credentials.rs`: bearer of any origin, Basic, cookies scoped by RFC 6265, secret
//! headers, checked against where the request goes), the token source (`oauth.rs`), endpoint
//! locations (`locations.rs`), one of several hosts (`failover.rs`), and the Flight SQL commands on top (`statement.rs`,
//! `metadata.rs`, `session_options.rs`). Imports `decode`, `transport` and `config`.

mod credentials;
mod failover;
mod influxdb;
mod locations;
mod metadata;
mod oauth;
mod retry;
mod rpc;
mod session_options;
mod statement;

pub(crate) use self::influxdb::ticket as influxdb_ticket;
pub(crate) use self::metadata::{
    decode_catalogs, decode_foreign_keys, decode_primary_keys, decode_schemas,
    decode_table_schema_of, decode_table_types, decode_tables, find_table, for_catalog,
    server_info,
};
pub(crate) use self::retry::{after_retries, sleep_until};
pub use self::rpc::{FlightSqlClient, REUSE_CONNECTION};
pub use self::session_options::SessionValue;
pub use self::statement::{CancelOutcome, PreparedHandle};

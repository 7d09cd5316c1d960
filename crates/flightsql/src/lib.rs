//! The Apache Arrow Flight SQL driver for [`dbapi`].
//!
//! Connect with a URL such as `flightsql://host:8181?database=sensors&token=...` (the
//! reference is `docs/url.md`), execute SQL with a cursor, and read rows with
//! `fetchone`/`fetchmany`/`fetchall` or Arrow record batches. Results split over several
//! endpoints are read completely and in order, lazily: `execute` reads nothing, the first
//! fetch opens the first endpoint, and a bounded number of endpoints is read ahead.
//! Endpoints are read where their locations say: this server, other Flight servers
//! (`grpc://`, `grpc+tls://`, `grpc+unix://`) or `http(s)://` URLs answering Arrow IPC streams.
//!
//! ```
//! use dbapi::{Cursor, Params};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let server = dbapi_flightsql_server::Server::builder().demo().start().await?;
//! # let url = server.url();
//! // url is e.g. "flightsql://127.0.0.1:50051?tls=false"
//! dbapi_flightsql::register();
//! let conn = dbapi::connect(&url).await?;
//! let mut cursor = conn.cursor()?;
//! cursor
//!     .execute(
//!         "SELECT sensor, count(*) AS n FROM readings GROUP BY sensor ORDER BY sensor",
//!         Params::None,
//!     )
//!     .await?;
//! let columns: Vec<&str> = cursor.description().unwrap_or_default().iter().map(|c| c.name()).collect();
//! assert_eq!(columns, ["sensor", "n"]);
//! while let Some(row) = cursor.fetchone().await? {
//!     let sensor: String = row.get("sensor")?;
//!     let n: i64 = row.get("n")?;
//!     assert_eq!(n, 25, "{sensor}");
//! }
//! assert_eq!(cursor.rowcount(), 4);
//!
//! // Parameters are bound by the server ($1, $2 on DataFusion-based servers), never pasted
//! // into the SQL; statements that change data leave their row count.
//! use dbapi::Value;
//! cursor.execute("CREATE TABLE alerts (sensor VARCHAR, level INT)", Params::None).await?;
//! use dbapi::{ParamSets, params};
//! let sets = ParamSets::new([("s1", 2), ("s2", 5)].map(|(sensor, level)| params![sensor, level]));
//! cursor.executemany("INSERT INTO alerts VALUES ($1, $2)", sets).await?;
//! assert_eq!(cursor.rowcount(), 2);
//! let mut statement = conn.prepare("SELECT sensor FROM alerts WHERE level > $1").await?;
//! let mut rows = statement.execute(Params::from([Value::Int64(3)])).await?;
//! assert_eq!(rows.fetchone().await?.unwrap().get::<String, _>(0)?, "s2");
//!
//! // Metadata through the driver-neutral API: tables with their columns, and keys.
//! use dbapi::metadata::{TableFilter, TableRef};
//! let tables = conn.tables(&TableFilter::new().schema("shop").with_columns()).await?;
//! for table in &tables {
//!     let columns: Vec<String> = table
//!         .columns
//!         .iter()
//!         .map(|c| format!("{} {}", c.name, c.type_name.as_deref().unwrap_or("?")))
//!         .collect();
//!     println!("{} ({}): {}", table.name, table.table_type, columns.join(", "));
//! }
//! let key = conn.primary_keys(&TableRef::new("orders").in_schema("shop")).await?;
//! assert_eq!(key[0].column, "id");
//! # Ok(()) }
//! ```
//!
//! Prepared statements, `executemany`, updates with row counts, transactions and savepoints,
//! bulk ingest, cancellation from another task and `PollFlightInfo` are described in
//! `docs/statements.md`; catalogs, schemas, tables, keys, server info and session options
//! (the current catalog and schema) in `docs/metadata.md`.
//!
//! A URL may list several hosts (`flightsql://h1:8181,h2:8181`): connections fail over and
//! spread by [`HostSelection`]. The cargo feature `opentelemetry` (off by default) adds
//! statement spans by the database client semantic conventions, the W3C `traceparent` on
//! calls and metrics (`docs/observability.md`).
//!
//! The low-level [`FlightSqlClient`] gives the Flight objects themselves:
//! [`FlightSqlClient::execute`] returns the `FlightInfo`, [`FlightSqlClient::do_get`] a
//! [`FlightStreamReader`] with `read_all` and `read_chunk`; [`FlightSqlClient::prepare`],
//! [`FlightSqlClient::bind`], [`FlightSqlClient::execute_update`],
//! [`FlightSqlClient::begin_transaction`], [`FlightSqlClient::ingest`],
//! [`FlightSqlClient::cancel_flight_info`] are the statement calls one by one;
//! [`FlightSqlClient::metadata`] gives the `FlightInfo` of each metadata command,
//! [`FlightSqlClient::sql_info`] the typed `SqlInfo` items, and
//! [`FlightSqlClient::set_session_options`] the session options.

pub use crate::client::{
    CancelOutcome, FlightSqlClient, PreparedHandle, REUSE_CONNECTION, SessionValue,
};
pub use crate::config::{
    Compression, Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_READ_AHEAD, DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_RETRY_BUDGET,
    DEFAULT_STATEMENT_CACHE, HostSelection, LocationMap, Locations, MAX_RETRY_BACKOFF, OAuth,
    OAuthFlow, Pem, QueryLanguage, QueryPath, SCHEMES,
};
pub use crate::conn::{
    ConnectionClient, FlightSqlConnection, FlightSqlCursor, FlightSqlPreparedStatement, Partitions,
};
pub use crate::decode::{FlightStreamReader, IpcFileReader};
pub use crate::driver::{FlightSqlDriver, register, register_in};
pub use crate::transport::{grpc_code, kind_of};

/// Re-export of the `arrow-flight` crate whose types this driver's low-level API uses.
pub use arrow_flight;
/// The TLS library of the driver, for [`Config::with_tls_config`].
pub use rustls;

// The layers, bottom to top; each imports only those above it in this list (see
// docs/architecture.md).
mod client;
mod config;
mod conn;
mod decode;
mod driver;
mod read;
mod transport;

#[cfg(test)]
mod repo_docs;

#[cfg(test)]
mod layer_tests {
    /// The layers, bottom to top, as `docs/architecture.md` draws them.
    const LAYERS: [&str; 7] = [
        "config",
        "transport",
        "decode",
        "client",
        "read",
        "conn",
        "driver",
    ];

    /// The text of a file without its `#[cfg(test)]` items (each up to its `;`, or its whole
    /// `{ ... }` block): the rest of the file is checked, however far down it goes.
    fn without_test_items(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("#[cfg(test)]") {
            out.push_str(&rest[..at]);
            let item = &rest[at..];
            let end = match (item.find('{'), item.find(';')) {
                (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                    let mut depth = 0_usize;
                    let mut end = item.len();
                    for (i, c) in item[open..].char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = open + i + 1;
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    end
                }
                (_, Some(semi)) => semi + 1,
                _ => item.len(),
            };
            rest = &item[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn test_items_are_skipped_and_the_rest_is_read() {
        let text = "use a;\n#[cfg(test)]\nuse crate::conn::X;\nfn f() {}\n#[cfg(test)]\nmod t { fn g() { crate::conn::Y } }\nuse crate::driver::Z;";
        let code = without_test_items(text);
        assert!(!code.contains("crate::conn"), "{code}");
        assert!(
            code.contains("fn f() {}") && code.contains("crate::driver::Z"),
            "{code}"
        );
    }

    /// Every source file imports only layers below its own (tests aside), and the
    /// architecture document lists the layers in this order.
    #[test]
    fn imports_go_one_way_down() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        for (rank, layer) in LAYERS.iter().enumerate() {
            let files: Vec<std::path::PathBuf> = match std::fs::read_dir(src.join(layer)) {
                Ok(dir) => dir.map(|e| e.unwrap().path()).collect(),
                Err(_) => vec![src.join(format!("{layer}.rs"))],
            };
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let code = without_test_items(&text);
                for other in LAYERS.iter().skip(rank + 1) {
                    assert!(
                        !code.contains(&format!("crate::{other}::"))
                            && !code.contains(&format!("crate::{other}}}"))
                            && !code.contains(&format!("crate::{{{other}")),
                        "{} imports {other}, a layer above {layer}",
                        file.display()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked} files");
        let Some(doc) = crate::repo_docs::read("architecture.md") else {
            return;
        };
        let positions: Vec<usize> = LAYERS
            .iter()
            .map(|l| {
                doc.find(&format!("`{l}/`"))
                    .or_else(|| doc.find(&format!("`{l}.rs`")))
                    .unwrap_or_else(|| panic!("docs/architecture.md does not name {l}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] > w[1]),
            "docs/architecture.md lists the layers top to bottom: {positions:?}"
        );
    }
}

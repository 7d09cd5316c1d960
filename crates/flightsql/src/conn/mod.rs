//! Layer 6, the top: a connection and what hangs off it. Owns the per-connection state
//! (`state.rs`: transaction state, capabilities and refusals, the statement cache), the
//! cursor and its one execution path (`cursor.rs`), prepared statements (`prepared.rs`),
//! metadata as cursors (`catalogs.rs`), results as parts read anywhere (`partitions.rs`), the
//! `dbapi::Connection` implementation (`connection.rs`) and the low-level client a connection
//! lends, without the calls that change its state (`view.rs`). Imports the layers below.

mod catalogs;
mod connection;
mod cursor;
mod partitions;
mod prepared;
mod state;
mod view;

pub use self::connection::FlightSqlConnection;
pub use self::cursor::FlightSqlCursor;
pub use self::partitions::Partitions;
pub use self::prepared::FlightSqlPreparedStatement;
pub use self::view::ConnectionClient;

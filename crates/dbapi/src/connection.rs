//! The `Connection` trait.

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::metadata::{
    ForeignKey, KeyColumn, MetadataRequest, SchemaInfo, ServerInfo, TableFilter, TableInfo,
    TableRef,
};
use crate::{Cursor, Error, IngestMode, Params, PreparedStatement, Result};

/// A query's result as independent parts ([`Connection::execute_partitions`]): the schema
/// every part's batches have, and each part serialized, to be read by
/// [`Connection::read_partition`] on any connection to the same service, in another task,
/// process or machine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Partitions {
    /// The schema of every part's batches.
    pub schema: arrow::datatypes::SchemaRef,
    /// The parts, each opaque bytes in the driver's own form.
    pub parts: Vec<Vec<u8>>,
    /// The rows of the whole result, when the server says (an estimate: not checked).
    pub total_rows: Option<u64>,
    /// The bytes of the whole result, when the server says (an estimate: not checked).
    pub total_bytes: Option<u64>,
}

impl Partitions {
    /// Parts with their schema, their totals unknown.
    pub fn new(schema: arrow::datatypes::SchemaRef, parts: Vec<Vec<u8>>) -> Partitions {
        Partitions {
            schema,
            parts,
            total_rows: None,
            total_bytes: None,
        }
    }

    /// The same parts with the result's totals as the server gave them.
    #[must_use]
    pub fn with_totals(mut self, rows: Option<u64>, bytes: Option<u64>) -> Partitions {
        self.total_rows = rows;
        self.total_bytes = bytes;
        self
    }
}

/// The error of a metadata method a driver does not implement.
fn no_metadata(what: &str) -> Error {
    Error::not_supported(format!("{what}: this driver has no metadata API"))
}

/// What a guard dropped without being ended leaves for its connection to undo
/// ([`Connection::abandon`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Abandoned {
    /// A transaction begun by [`ConnectionExt::begin`](crate::ConnectionExt::begin): roll it back and turn autocommit on.
    Transaction,
    /// A savepoint made by [`Transaction::savepoint`](crate::Transaction::savepoint): roll back to it.
    Savepoint(String),
}

/// An open connection to a database (PEP 249 `Connection`).
///
/// Connections are shared by reference: every method takes `&self`, and cursors own what they
/// need, so a connection can hand out any number of cursors, each usable from its own task.
///
/// Connections start in autocommit mode: each statement is committed when it completes.
/// [`set_autocommit(false)`](Connection::set_autocommit) starts a transaction (at the next
/// statement) that [`commit`](Connection::commit) or [`rollback`](Connection::rollback) ends.
#[async_trait]
pub trait Connection: std::any::Any + Send + Sync + std::fmt::Debug {
    /// A new cursor on this connection.
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if the connection is
    /// closed.
    fn cursor(&self) -> Result<Box<dyn Cursor>>;

    /// Prepares a statement: the server parses it once, tells its parameter and result
    /// schemas, and runs it as often as asked with different parameters.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver supports
    /// prepared statements; the server's error for SQL it cannot prepare.
    async fn prepare(&self, sql: &str) -> Result<Box<dyn PreparedStatement>> {
        let _ = sql;
        Err(Error::not_supported(
            "prepared statements are not supported by this driver",
        ))
    }

    /// Runs a query as independent parts without reading any (Flight SQL: one part per
    /// endpoint of its result), each readable by [`read_partition`](Connection::read_partition)
    /// anywhere: the way to read one result in parallel, by several tasks, processes or
    /// machines.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver has
    /// partitions; a [`Programming`](crate::ErrorKind::Programming) error inside a
    /// transaction (parts are read by other connections, which cannot see it) or for a
    /// statement without a result; the server's error.
    async fn execute_partitions(&self, sql: &str, params: Params) -> Result<Partitions> {
        let _ = (sql, params);
        Err(Error::not_supported(
            "partitioned results are not supported by this driver",
        ))
    }

    /// A cursor over one part that [`execute_partitions`](Connection::execute_partitions)
    /// gave, on this connection or any other to the same service.
    ///
    /// # Errors
    /// As [`execute_partitions`](Connection::execute_partitions); a
    /// [`Programming`](crate::ErrorKind::Programming) error for bytes that are no part of this
    /// driver's.
    async fn read_partition(&self, part: &[u8]) -> Result<Box<dyn Cursor>> {
        let _ = part;
        Err(Error::not_supported(
            "partitioned results are not supported by this driver",
        ))
    }

    /// Whether statements are committed as they complete (the default).
    fn autocommit(&self) -> bool {
        true
    }

    /// Turns autocommit on or off. Turning it off starts a transaction at the next statement;
    /// turning it on commits the open transaction, if any.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) when turning autocommit off
    /// and the driver or the server has no transactions.
    async fn set_autocommit(&self, on: bool) -> Result<()> {
        if on {
            Ok(())
        } else {
            Err(Error::not_supported(
                "turning autocommit off: this driver has no transactions",
            ))
        }
    }

    /// Commits the current transaction; in autocommit mode there is none, and this does
    /// nothing (as PEP 249 asks).
    ///
    /// # Errors
    /// The server's error; an [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if
    /// the connection is closed.
    async fn commit(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    /// Rolls back the current transaction; in autocommit mode there is none, and this does
    /// nothing.
    ///
    /// # Errors
    /// The server's error; an [`ErrorKind::Interface`](crate::ErrorKind::Interface) error if
    /// the connection is closed.
    async fn rollback(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::interface("the connection is closed"));
        }
        Ok(())
    }

    /// Creates a savepoint named `name` in the current transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver and the
    /// server support savepoints; an [`ErrorKind::Interface`](crate::ErrorKind::Interface)
    /// error in autocommit mode.
    async fn savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Releases (forgets) the savepoint `name`, keeping what was done since.
    ///
    /// # Errors
    /// As [`Connection::savepoint`]; an [`ErrorKind::Programming`](crate::ErrorKind::Programming)
    /// error for an unknown name.
    async fn release_savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Undoes what was done since the savepoint `name`; the transaction stays open.
    ///
    /// # Errors
    /// As [`Connection::release_savepoint`].
    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        let _ = name;
        Err(Error::not_supported(
            "savepoints are not supported by this driver",
        ))
    }

    /// Undoes what a guard dropped without being ended left open ([`Transaction`] and
    /// [`Savepoint`] call this from `Drop`): for [`Abandoned::Transaction`], roll the open
    /// transaction back and turn autocommit on; for [`Abandoned::Savepoint`], roll back to
    /// the savepoint. It must not block: the work starts in the background or before the
    /// connection's next call, whichever the driver can do, and statements started after
    /// this returns see its effect. Failures are logged, not returned (nobody is left to
    /// receive them).
    ///
    /// The default does nothing, which is right for a driver without transactions (turning
    /// autocommit off fails there, so no guard exists); a driver with transactions overrides
    /// it.
    ///
    /// [`Transaction`]: crate::Transaction
    /// [`Savepoint`]: crate::Savepoint
    fn abandon(&self, what: Abandoned) {
        let _ = what;
    }

    /// Loads a stream of record batches into `table` (bulk ingest), returning the number of
    /// rows the server reports (-1 when it does not say). The batches are sent as they come,
    /// so memory stays bounded by a few batches whatever the size of the stream.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) unless the driver and the
    /// server support ingest; the stream's first error; the server's error (e.g. the table
    /// exists and `mode` is [`IngestMode::Create`]).
    async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        let _ = (table, mode, batches);
        Err(Error::not_supported(
            "bulk ingest is not supported by this driver",
        ))
    }

    /// The names of the catalogs (the top level of the namespace), sorted.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported) when the driver or the
    /// server cannot list them; the server's error.
    async fn catalogs(&self) -> Result<Vec<String>> {
        Err(no_metadata("listing catalogs"))
    }

    /// The schemas of `catalog` (every catalog when `None`) whose name matches
    /// `schema_pattern` (a `LIKE` pattern; every schema when `None`).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn schemas(
        &self,
        catalog: Option<&str>,
        schema_pattern: Option<&str>,
    ) -> Result<Vec<SchemaInfo>> {
        let _ = (catalog, schema_pattern);
        Err(no_metadata("listing schemas"))
    }

    /// The tables and views the filter selects, with their columns when it asks for them.
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn tables(&self, filter: &TableFilter) -> Result<Vec<TableInfo>> {
        let _ = filter;
        Err(no_metadata("listing tables"))
    }

    /// The table types the server has (`TABLE`, `VIEW`, ...).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn table_types(&self) -> Result<Vec<String>> {
        Err(no_metadata("listing table types"))
    }

    /// The Arrow schema of one table.
    ///
    /// # Errors
    /// A [`ErrorKind::Programming`](crate::ErrorKind::Programming) error when no such table
    /// exists or the name is ambiguous (qualify it); as [`Connection::catalogs`].
    async fn table_schema(&self, table: &TableRef) -> Result<arrow::datatypes::SchemaRef> {
        let _ = table;
        Err(no_metadata("reading a table's schema"))
    }

    /// The columns of one table's primary key, in key order (empty when it has none).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn primary_keys(&self, table: &TableRef) -> Result<Vec<KeyColumn>> {
        let _ = table;
        Err(no_metadata("listing primary keys"))
    }

    /// The foreign keys of one table (the keys it imports), one entry per column pair.
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn imported_keys(&self, table: &TableRef) -> Result<Vec<ForeignKey>> {
        let _ = table;
        Err(no_metadata("listing imported keys"))
    }

    /// The foreign keys that reference one table (the keys it exports).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn exported_keys(&self, table: &TableRef) -> Result<Vec<ForeignKey>> {
        let _ = table;
        Err(no_metadata("listing exported keys"))
    }

    /// The foreign keys of `foreign` that reference `primary`.
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn cross_reference(
        &self,
        primary: &TableRef,
        foreign: &TableRef,
    ) -> Result<Vec<ForeignKey>> {
        let _ = (primary, foreign);
        Err(no_metadata("listing cross references"))
    }

    /// What the server says about itself, asked once per connection and kept. A server that
    /// does not say gives a [`ServerInfo`] whose fields are unknown.
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn server_info(&self) -> Result<ServerInfo> {
        Err(no_metadata("reading server info"))
    }

    /// The answer to a metadata question as Arrow data: a cursor over the server's result,
    /// read lazily like any other (schemas in `docs/metadata.md`).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn metadata(&self, request: &MetadataRequest) -> Result<Box<dyn Cursor>> {
        Err(no_metadata(request.name()))
    }

    /// The current catalog, against which unqualified names resolve (`None`: the server's
    /// default, or unknown).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn current_catalog(&self) -> Result<Option<String>> {
        Err(no_metadata("reading the current catalog"))
    }

    /// Makes `catalog` the current catalog.
    ///
    /// # Errors
    /// As [`Connection::catalogs`]; the server's error for an unknown catalog.
    async fn set_current_catalog(&self, catalog: &str) -> Result<()> {
        let _ = catalog;
        Err(no_metadata("setting the current catalog"))
    }

    /// The current schema, against which unqualified names resolve (`None`: the server's
    /// default, or unknown).
    ///
    /// # Errors
    /// As [`Connection::catalogs`].
    async fn current_schema(&self) -> Result<Option<String>> {
        Err(no_metadata("reading the current schema"))
    }

    /// Makes `schema` the current schema.
    ///
    /// # Errors
    /// As [`Connection::catalogs`]; the server's error for an unknown schema.
    async fn set_current_schema(&self, schema: &str) -> Result<()> {
        let _ = schema;
        Err(no_metadata("setting the current schema"))
    }

    /// Brings the connection back to the state of a new one, for its next user (a pool calls
    /// this before handing a connection out again): the open transaction rolled back,
    /// autocommit on, and whatever else the driver keeps per session as it was at connect
    /// (the Flight SQL driver: the session options, such as the current catalog and schema).
    ///
    /// The default rolls back and turns autocommit on.
    ///
    /// # Errors
    /// The server's error; the connection should then be discarded.
    async fn reset(&self) -> Result<()> {
        if !self.autocommit() {
            self.rollback().await?;
            self.set_autocommit(true).await?;
        }
        Ok(())
    }

    /// Closes the connection: rolls back an open transaction, releases server-side resources.
    /// Later calls on it and on its cursors fail with an
    /// [`ErrorKind::Interface`](crate::ErrorKind::Interface) error. Closing twice is harmless.
    ///
    /// # Errors
    /// When the driver fails to release server-side resources (the connection is closed all
    /// the same).
    async fn close(&self) -> Result<()>;

    /// Whether [`Connection::close`] was called.
    fn is_closed(&self) -> bool;
}

impl dyn Connection {
    /// The connection as the driver's own type, for driver-specific calls (`None` when it is
    /// another driver's): e.g.
    /// `conn.downcast_ref::<dbapi_flightsql::FlightSqlConnection>()`.
    #[doc(alias = "as_any")]
    pub fn downcast_ref<T: Connection>(&self) -> Option<&T> {
        (self as &dyn std::any::Any).downcast_ref()
    }
}

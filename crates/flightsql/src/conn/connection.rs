//! The Flight SQL connection.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::metadata::{
    ForeignKey, KeyColumn, MetadataRequest, SchemaInfo, ServerInfo, TableFilter, TableInfo,
    TableRef,
};
use dbapi::{
    Abandoned, Connection, Cursor, IngestMode, Params, Partitions, PreparedStatement, Result,
};
use futures::stream::BoxStream;

use crate::client::{FlightSqlClient, SessionValue};
use crate::client::{
    decode_foreign_keys, decode_primary_keys, decode_schemas, decode_table_schema_of,
    decode_table_types, decode_tables, find_table,
};
use crate::config::Config;
use crate::conn::catalogs::{catalog_names, metadata};
use crate::conn::cursor::FlightSqlCursor;
use crate::conn::prepared::FlightSqlPreparedStatement;
use crate::conn::state::Session;
use crate::conn::view::ConnectionClient;

/// A connection to a Flight SQL server.
///
/// Statements run in autocommit mode until [`set_autocommit(false)`](Connection::set_autocommit),
/// which needs a server that advertises transactions (its `SqlInfo`, probed once per
/// connection). A transaction then begins at the next statement (`BeginTransaction`), every
/// statement carries its id, and [`commit`](Connection::commit) /
/// [`rollback`](Connection::rollback) end it (`EndTransaction`). Dropping or closing a
/// connection with an open transaction rolls it back.
///
/// Metadata (catalogs, schemas, tables, keys, server info) comes from the `CommandGet*`
/// commands; the current catalog and schema are the Flight session options `catalog` and
/// `schema` (URL keys `catalog=` and `schema=` set them at connect).
///
/// Clones share the connection (and its transaction).
#[derive(Debug, Clone)]
pub struct FlightSqlConnection {
    session: Arc<Session>,
}

impl FlightSqlConnection {
    /// Connects with a URL (see `docs/url.md`).
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect`].
    pub async fn connect(url: &str) -> Result<FlightSqlConnection> {
        Self::connect_with(url.parse()?).await
    }

    /// Connects with a [`Config`].
    ///
    /// # Errors
    /// As [`FlightSqlClient::connect_with`].
    pub async fn connect_with(config: Config) -> Result<FlightSqlConnection> {
        let client = FlightSqlClient::connect_with(config).await?;
        client.apply_url_session_options().await?;
        Ok(FlightSqlConnection {
            session: Arc::new(Session::new(client)),
        })
    }

    /// The low-level client of this connection, without the calls that change the state the
    /// connection keeps (transactions, savepoints, session options, closing): see
    /// [`ConnectionClient`].
    pub fn client(&self) -> ConnectionClient<'_> {
        ConnectionClient::new(self.session.client())
    }

    /// The session's options as the server holds them (`GetSessionOptions`).
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`](dbapi::ErrorKind::NotSupported) when the server has no
    /// session options; the server's error.
    pub async fn session_options(&self) -> Result<BTreeMap<String, SessionValue>> {
        self.session.check_open()?;
        self.session.client().session_options().await
    }

    /// Sets session options (`SetSessionOptions`; [`SessionValue::Unset`] removes one). A
    /// pool's [`reset`](Connection::reset) restores the options the URL set.
    ///
    /// # Errors
    /// As [`FlightSqlClient::set_session_options`].
    pub async fn set_session_options(
        &self,
        options: &BTreeMap<String, SessionValue>,
    ) -> Result<()> {
        self.session.check_open()?;
        self.session.session_changed();
        self.session.client().set_session_options(options).await
    }

    /// A new cursor, as its concrete type (for [`FlightSqlCursor::flight_info`]).
    ///
    /// # Errors
    /// An [`ErrorKind::Interface`](dbapi::ErrorKind::Interface) error if the connection is
    /// closed.
    pub fn flight_cursor(&self) -> Result<FlightSqlCursor> {
        self.session.check_open()?;
        Ok(FlightSqlCursor::new(Arc::clone(&self.session)))
    }

    /// A cursor over the answer to a metadata question, as its concrete type.
    ///
    /// # Errors
    /// As [`Connection::metadata`].
    pub async fn metadata_cursor(&self, request: &MetadataRequest) -> Result<FlightSqlCursor> {
        metadata(&self.session, request).await
    }

    /// Every batch of the answer to a metadata question.
    async fn metadata_batches(&self, request: &MetadataRequest) -> Result<Vec<RecordBatch>> {
        self.metadata_cursor(request).await?.read_all().await
    }

    /// The escape the server uses in `LIKE` patterns, if it says.
    async fn search_escape(&self) -> Option<String> {
        self.session
            .server_info()
            .await
            .ok()
            .and_then(|i| i.search_string_escape)
            .filter(|e| !e.is_empty())
    }

    /// A session option's string value (`None` when unset or when the server has no
    /// session options).
    async fn session_text(&self, name: &str) -> Result<Option<String>> {
        match self.session.client().session_options().await {
            Ok(options) => Ok(options
                .get(name)
                .and_then(SessionValue::as_str)
                .map(str::to_owned)),
            Err(e) if e.is_not_supported() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_session_text(&self, name: &str, value: &str) -> Result<()> {
        let options = BTreeMap::from([(name.to_owned(), SessionValue::from(value))]);
        self.set_session_options(&options).await
    }

    /// Prepares a statement, as its concrete type.
    ///
    /// # Errors
    /// As [`Connection::prepare`].
    pub async fn prepare_flight(&self, sql: &str) -> Result<FlightSqlPreparedStatement> {
        FlightSqlPreparedStatement::prepare(Arc::clone(&self.session), sql).await
    }
}

#[async_trait]
impl Connection for FlightSqlConnection {
    fn cursor(&self) -> Result<Box<dyn Cursor>> {
        Ok(Box::new(self.flight_cursor()?))
    }

    async fn prepare(&self, sql: &str) -> Result<Box<dyn PreparedStatement>> {
        Ok(Box::new(self.prepare_flight(sql).await?))
    }

    fn autocommit(&self) -> bool {
        self.session.autocommit()
    }

    async fn set_autocommit(&self, on: bool) -> Result<()> {
        self.session.set_autocommit(on).await
    }

    async fn commit(&self) -> Result<()> {
        self.session.end_transaction(true).await
    }

    async fn rollback(&self) -> Result<()> {
        self.session.end_transaction(false).await
    }

    fn abandon(&self, what: Abandoned) {
        self.session.abandon(what);
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        self.session.savepoint(name).await
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.session.end_savepoint(name, true).await
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        self.session.end_savepoint(name, false).await
    }

    async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        self.session.check_open()?;
        let transaction = self.session.transaction().await?;
        self.session
            .client()
            .ingest(table, mode, transaction.as_ref(), batches)
            .await
    }

    async fn catalogs(&self) -> Result<Vec<String>> {
        self.session.check_open()?;
        let mut names = catalog_names(&self.session).await?;
        names.sort();
        Ok(names)
    }

    async fn schemas(
        &self,
        catalog: Option<&str>,
        schema_pattern: Option<&str>,
    ) -> Result<Vec<SchemaInfo>> {
        let request = MetadataRequest::Schemas {
            catalog: catalog.map(str::to_owned),
            schema_pattern: schema_pattern.map(str::to_owned),
        };
        decode_schemas(&self.metadata_batches(&request).await?)
    }

    async fn tables(&self, filter: &TableFilter) -> Result<Vec<TableInfo>> {
        let batches = self
            .metadata_batches(&MetadataRequest::Tables(filter.clone()))
            .await?;
        let escape = self.search_escape().await.and_then(|e| e.chars().next());
        decode_tables(&batches, filter, escape.or(Some('\\')))
    }

    async fn table_types(&self) -> Result<Vec<String>> {
        decode_table_types(&self.metadata_batches(&MetadataRequest::TableTypes).await?)
    }

    async fn table_schema(&self, table: &TableRef) -> Result<SchemaRef> {
        let escape = self.search_escape().await.unwrap_or_default();
        let batches = self.metadata_batches(&find_table(table, &escape)).await?;
        decode_table_schema_of(&batches, table)
    }

    async fn primary_keys(&self, table: &TableRef) -> Result<Vec<KeyColumn>> {
        let request = MetadataRequest::PrimaryKeys(table.clone());
        decode_primary_keys(&self.metadata_batches(&request).await?)
    }

    async fn imported_keys(&self, table: &TableRef) -> Result<Vec<ForeignKey>> {
        let request = MetadataRequest::ImportedKeys(table.clone());
        decode_foreign_keys(&self.metadata_batches(&request).await?)
    }

    async fn exported_keys(&self, table: &TableRef) -> Result<Vec<ForeignKey>> {
        let request = MetadataRequest::ExportedKeys(table.clone());
        decode_foreign_keys(&self.metadata_batches(&request).await?)
    }

    async fn cross_reference(
        &self,
        primary: &TableRef,
        foreign: &TableRef,
    ) -> Result<Vec<ForeignKey>> {
        let request = MetadataRequest::CrossReference {
            primary: primary.clone(),
            foreign: foreign.clone(),
        };
        decode_foreign_keys(&self.metadata_batches(&request).await?)
    }

    async fn server_info(&self) -> Result<ServerInfo> {
        self.session.check_open()?;
        self.session.server_info().await
    }

    async fn execute_partitions(&self, sql: &str, params: Params) -> Result<Partitions> {
        FlightSqlConnection::execute_partitions(self, sql, params).await
    }

    async fn read_partition(&self, part: &[u8]) -> Result<Box<dyn Cursor>> {
        Ok(Box::new(
            FlightSqlConnection::read_partition(self, part).await?,
        ))
    }

    async fn metadata(&self, request: &MetadataRequest) -> Result<Box<dyn Cursor>> {
        Ok(Box::new(self.metadata_cursor(request).await?))
    }

    async fn current_catalog(&self) -> Result<Option<String>> {
        self.session.check_open()?;
        self.session_text("catalog").await
    }

    async fn set_current_catalog(&self, catalog: &str) -> Result<()> {
        self.set_session_text("catalog", catalog).await
    }

    async fn current_schema(&self) -> Result<Option<String>> {
        self.session.check_open()?;
        self.session_text("schema").await
    }

    async fn set_current_schema(&self, schema: &str) -> Result<()> {
        self.set_session_text("schema", schema).await
    }

    async fn reset(&self) -> Result<()> {
        self.session.reset().await
    }

    async fn close(&self) -> Result<()> {
        self.session.close().await
    }

    fn is_closed(&self) -> bool {
        self.session.client().is_closed()
    }
}

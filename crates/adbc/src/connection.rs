//! Connections: one ADBC connection behind the `dbapi` `Connection` trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use adbc_core::Connection as _;
use adbc_core::Optionable;
use adbc_core::options::OptionConnection;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::metadata::{
    KeyColumn, MetadataRequest, SchemaInfo, ServerInfo, TableFilter, TableInfo, TableRef,
};
use dbapi::{
    Abandoned, Connection, Cursor, Error, IngestMode, Params, Partitions, PreparedStatement, Result,
};
use futures::stream::BoxStream;
use tokio::sync::OnceCell;

use crate::catalog;
use crate::cursor::{AdbcCursor, one_set};
use crate::native::{Native, quote, sql_update};
use crate::partitions;
use crate::statement::AdbcPrepared;

/// A connection through an ADBC driver.
#[derive(Debug)]
pub struct AdbcConnection {
    native: Arc<Native>,
    autocommit: AtomicBool,
    /// Whether autocommit was on at connect, for [`Connection::reset`].
    autocommit_at_start: bool,
    info: OnceCell<ServerInfo>,
}

impl AdbcConnection {
    pub(crate) fn new(native: Native, autocommit: bool) -> Self {
        AdbcConnection {
            native: Arc::new(native),
            autocommit: AtomicBool::new(autocommit),
            autocommit_at_start: autocommit,
            info: OnceCell::new(),
        }
    }

    /// The name or path of the ADBC driver, as the URL gave it.
    pub fn driver(&self) -> &str {
        self.native.driver()
    }

    fn check_open(&self) -> Result<()> {
        if self.native.is_closed() {
            Err(Error::interface("the connection is closed"))
        } else {
            Ok(())
        }
    }

    /// Runs a statement of transaction control given as SQL (savepoints: ADBC has no call
    /// for them), in a transaction only.
    async fn in_transaction(&self, sql: String, what: &'static str) -> Result<()> {
        if self.autocommit() {
            return Err(Error::interface(format!(
                "{what}: there is no transaction in autocommit mode (turn autocommit off first)"
            )));
        }
        self.native
            .run(what, move |call| sql_update(call, &sql).map(drop))
            .await
    }

    async fn option(&self, key: OptionConnection, what: &'static str) -> Result<Option<String>> {
        self.native
            .run(what, move |call| match call.conn.get_option_string(key) {
                Ok(value) if value.is_empty() => Ok(None),
                Ok(value) => Ok(Some(value)),
                Err(e) => Err(call.error(e, what)),
            })
            .await
    }
}

#[async_trait]
impl Connection for AdbcConnection {
    fn cursor(&self) -> Result<Box<dyn Cursor>> {
        self.check_open()?;
        Ok(Box::new(AdbcCursor::new(Arc::clone(&self.native))))
    }

    async fn prepare(&self, sql: &str) -> Result<Box<dyn PreparedStatement>> {
        self.check_open()?;
        Ok(Box::new(
            AdbcPrepared::new(Arc::clone(&self.native), sql).await?,
        ))
    }

    async fn execute_partitions(&self, sql: &str, params: Params) -> Result<Partitions> {
        self.check_open()?;
        if !self.autocommit() {
            return Err(Error::programming(
                "partitions in a transaction: parts are read by other connections, which \
                 cannot see it; commit first, or read the query with a cursor",
            ));
        }
        let params = one_set(params, None)?;
        let sql = sql.to_owned();
        self.native
            .run("executing as partitions", move |call| {
                partitions::execute(call, &sql, params)
            })
            .await
    }

    async fn read_partition(&self, part: &[u8]) -> Result<Box<dyn Cursor>> {
        self.check_open()?;
        let part = part.to_vec();
        let result = self
            .native
            .run("reading a part", move |call| partitions::read(call, &part))
            .await?;
        Ok(Box::new(AdbcCursor::with_result(
            Arc::clone(&self.native),
            result,
        )))
    }

    fn autocommit(&self) -> bool {
        self.autocommit.load(Ordering::Acquire)
    }

    async fn set_autocommit(&self, on: bool) -> Result<()> {
        if on == self.autocommit() {
            return Ok(());
        }
        let value = if on { "true" } else { "false" };
        self.native
            .set_option(
                OptionConnection::AutoCommit,
                value.to_owned(),
                "setting autocommit",
            )
            .await?;
        self.autocommit.store(on, Ordering::Release);
        Ok(())
    }

    async fn commit(&self) -> Result<()> {
        self.check_open()?;
        if self.autocommit() {
            return Ok(());
        }
        self.native
            .run("committing", |call| {
                call.conn.commit().map_err(|e| call.error(e, "committing"))
            })
            .await
    }

    async fn rollback(&self) -> Result<()> {
        self.check_open()?;
        if self.autocommit() {
            return Ok(());
        }
        self.native
            .run("rolling back", |call| {
                call.conn
                    .rollback()
                    .map_err(|e| call.error(e, "rolling back"))
            })
            .await
    }

    async fn savepoint(&self, name: &str) -> Result<()> {
        self.in_transaction(format!("SAVEPOINT {}", quote(name)), "creating a savepoint")
            .await
    }

    async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.in_transaction(
            format!("RELEASE SAVEPOINT {}", quote(name)),
            "releasing a savepoint",
        )
        .await
    }

    async fn rollback_to_savepoint(&self, name: &str) -> Result<()> {
        self.in_transaction(
            format!("ROLLBACK TO SAVEPOINT {}", quote(name)),
            "rolling back to a savepoint",
        )
        .await
    }

    fn abandon(&self, what: Abandoned) {
        if matches!(what, Abandoned::Transaction) {
            self.autocommit.store(true, Ordering::Release);
        }
        self.native.abandon(what);
    }

    async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        self.check_open()?;
        crate::ingest::ingest(&self.native, table, mode, batches).await
    }

    async fn catalogs(&self) -> Result<Vec<String>> {
        catalog::catalogs(&self.native).await
    }

    async fn schemas(
        &self,
        catalog: Option<&str>,
        schema_pattern: Option<&str>,
    ) -> Result<Vec<SchemaInfo>> {
        catalog::schemas(&self.native, catalog, schema_pattern).await
    }

    async fn tables(&self, filter: &TableFilter) -> Result<Vec<TableInfo>> {
        catalog::tables(&self.native, filter).await
    }

    async fn table_types(&self) -> Result<Vec<String>> {
        catalog::table_types(&self.native).await
    }

    async fn table_schema(&self, table: &TableRef) -> Result<SchemaRef> {
        catalog::table_schema(&self.native, table).await
    }

    async fn primary_keys(&self, table: &TableRef) -> Result<Vec<KeyColumn>> {
        catalog::primary_keys(&self.native, table).await
    }

    async fn server_info(&self) -> Result<ServerInfo> {
        self.info
            .get_or_try_init(|| catalog::info(&self.native))
            .await
            .cloned()
    }

    async fn metadata(&self, request: &MetadataRequest) -> Result<Box<dyn Cursor>> {
        let reader = match request {
            MetadataRequest::TableTypes => catalog::table_types_reader(&self.native).await?,
            MetadataRequest::ServerInfo(ids) => {
                catalog::info_reader(&self.native, ids.clone()).await?
            }
            other => {
                return Err(Error::not_supported(format!(
                    "{} as Arrow data: ADBC answers it nested (GetObjects); use the typed \
                     method instead",
                    other.name()
                )));
            }
        };
        Ok(Box::new(AdbcCursor::with_result(
            Arc::clone(&self.native),
            reader,
        )))
    }

    async fn current_catalog(&self) -> Result<Option<String>> {
        self.option(
            OptionConnection::CurrentCatalog,
            "reading the current catalog",
        )
        .await
    }

    async fn set_current_catalog(&self, catalog: &str) -> Result<()> {
        self.native
            .set_option(
                OptionConnection::CurrentCatalog,
                catalog.to_owned(),
                "setting the current catalog",
            )
            .await
    }

    async fn current_schema(&self) -> Result<Option<String>> {
        self.option(
            OptionConnection::CurrentSchema,
            "reading the current schema",
        )
        .await
    }

    async fn set_current_schema(&self, schema: &str) -> Result<()> {
        self.native
            .set_option(
                OptionConnection::CurrentSchema,
                schema.to_owned(),
                "setting the current schema",
            )
            .await
    }

    async fn reset(&self) -> Result<()> {
        if !self.autocommit() {
            self.rollback().await?;
        }
        self.set_autocommit(self.autocommit_at_start).await
    }

    async fn close(&self) -> Result<()> {
        if self.native.is_closed() {
            return Ok(());
        }
        let outcome = if self.autocommit() {
            Ok(())
        } else {
            self.rollback().await
        };
        // Closing waits for the connection's lock, which a call on a blocking thread may hold
        // while it waits for the server: never on the async executor (whose thread may be the
        // one serving that server).
        let native = Arc::clone(&self.native);
        tokio::task::spawn_blocking(move || native.close())
            .await
            .map_err(|e| Error::internal(format!("closing the connection: {e}")))?;
        outcome
    }

    fn is_closed(&self) -> bool {
        self.native.is_closed()
    }
}

//! A remote table as a DataFusion [`TableProvider`].

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use dbapi::Connection;
use dbapi::metadata::TableRef;
use dbapi::pool::Pool;

use crate::exec::{DbapiScan, external};
use crate::sql::{Dialect, statement};

/// A table of any `dbapi` connection (Flight SQL, ADBC, ...) as a DataFusion table.
///
/// Its schema comes from the connection's metadata API. A scan sends one statement: the
/// columns the query needs, the filters the remote server can run (comparisons, `AND`/`OR`/
/// `NOT`, `IS NULL`, `IN`, `BETWEEN`, `LIKE` over columns and literals; other filters stay in
/// DataFusion, and [`supports_filters_pushdown`](TableProvider::supports_filters_pushdown)
/// says which), and the limit. The statement runs when the plan is executed, not when it is
/// planned or explained; its result is read in parts
/// ([`Connection::execute_partitions`]: one per endpoint for Flight SQL) spread over the
/// scan's partitions, or whole by one partition when the driver has no partitions. Errors
/// keep their `dbapi` kind and cause: downcast DataFusion's `External` error to
/// [`dbapi::Error`].
#[derive(Debug)]
pub struct DbapiTable {
    conn: Arc<dyn Connection>,
    table: TableRef,
    schema: SchemaRef,
    dialect: Dialect,
    /// Whether `scan` runs the statement (see [`DbapiTable::with_parts_at_planning`]).
    parts_at_planning: bool,
    /// Where its scans take their connections (see [`DbapiTable::with_pool`]).
    pool: Option<Pool>,
}

impl DbapiTable {
    /// The table `table` of `conn`, its schema read now and the dialect taken from the
    /// server's `SqlInfo` (its identifier quote; `"` when it does not say).
    ///
    /// # Errors
    /// The connection's error reading the table's schema (an unknown table).
    pub async fn new(conn: Arc<dyn Connection>, table: TableRef) -> dbapi::Result<DbapiTable> {
        let schema = conn.table_schema(&table).await?;
        let dialect = conn
            .server_info()
            .await
            .map(|info| Dialect::of(&info))
            .unwrap_or_default();
        Ok(DbapiTable::with_schema(conn, table, schema).with_dialect(dialect))
    }

    /// The table `table` of `conn` with a schema known already (read before, or sent by
    /// another process), in the default dialect: nothing is asked of the server.
    pub fn with_schema(
        conn: Arc<dyn Connection>,
        table: TableRef,
        schema: SchemaRef,
    ) -> DbapiTable {
        DbapiTable {
            conn,
            table,
            schema,
            dialect: Dialect::default(),
            parts_at_planning: false,
            pool: None,
        }
    }

    /// The same table, its scans running their statement and reading each part on a
    /// connection taken from `pool` (and given back when done): queries and parts read at
    /// once each have a connection of their own, which an ADBC connection (one call at a
    /// time; PostgreSQL's one result at a time) needs to read them side by side. The table's
    /// own connection stays its identity: federation and a Ballista codec know it by that
    /// connection, and federated statements and a plan's parts made at planning run on it.
    #[must_use]
    pub fn with_pool(mut self, pool: Pool) -> DbapiTable {
        self.pool = Some(pool);
        self
    }

    /// The same table, its statement run when a physical plan is made, not when the plan is
    /// executed: the plan then holds the result's parts ([`DbapiScan::planned`], one
    /// DataFusion partition per part), as a plan spread over other processes must
    /// (Ballista's scheduler plans, its executors read). Planning an `EXPLAIN` then runs
    /// the statement too. The result's totals, when the server gives them
    /// (`FlightInfo.total_records`, `total_bytes`), become the scan's statistics, inexact.
    #[must_use]
    pub fn with_parts_at_planning(mut self) -> DbapiTable {
        self.parts_at_planning = true;
        self
    }

    /// The same table with its remote SQL written in `dialect`.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> DbapiTable {
        self.dialect = dialect;
        self
    }

    /// The remote table.
    pub fn table(&self) -> &TableRef {
        &self.table
    }

    /// The connection the table is read through.
    pub fn connection(&self) -> &Arc<dyn Connection> {
        &self.conn
    }

    /// How its remote SQL is written.
    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// Whether its statement runs when a physical plan is made
    /// ([`DbapiTable::with_parts_at_planning`]).
    pub fn parts_at_planning(&self) -> bool {
        self.parts_at_planning
    }
}

#[async_trait]
impl TableProvider for DbapiTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match self.dialect.filter(f) {
                Some(_) => TableProviderFilterPushDown::Exact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(indices) => Arc::new(self.schema.project(indices)?),
            None => Arc::clone(&self.schema),
        };
        let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut pushed = Vec::with_capacity(filters.len());
        for filter in filters {
            // DataFusion hands over only the filters said to be exact: each must be sent.
            let sql = self.dialect.filter(filter).ok_or_else(|| {
                external(dbapi::Error::internal(format!(
                    "a filter DataFusion pushed down cannot be written as SQL: {filter}"
                )))
            })?;
            pushed.push(sql);
        }
        let sql = statement(&self.dialect, &self.table, &columns, &pushed, limit);
        if self.parts_at_planning {
            return Ok(Arc::new(
                DbapiScan::run_now(Arc::clone(&self.conn), sql, schema)
                    .await
                    .map_err(external)?,
            ));
        }
        let partitions = state.config().target_partitions();
        Ok(Arc::new(
            DbapiScan::new(Arc::clone(&self.conn), sql, schema, partitions)
                .with_pool(self.pool.clone()),
        ))
    }
}

//! Prepared statements: prepared once by the driver, executed with different parameters.

use std::sync::{Arc, Weak};

use adbc_core::Statement as _;
use adbc_driver_manager::ManagedStatement;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use dbapi::driver::{add_count, bind, changes_data};
use dbapi::{Cursor, Error, ParamSets, Params, PreparedStatement, Result};

use crate::cursor::{AdbcCursor, CancelState, execute, one_set, statement};
use crate::native::{Call, Native};

/// A statement prepared by the ADBC driver.
#[derive(Debug)]
pub struct AdbcPrepared {
    native: Arc<Native>,
    sql: String,
    statement: Option<Handle>,
    parameter_schema: Option<SchemaRef>,
    result_schema: Option<SchemaRef>,
}

/// The driver's statement, and whether a result of it is still being read.
struct Handle {
    statement: ManagedStatement,
    reading: Weak<()>,
}

impl Drop for AdbcPrepared {
    fn drop(&mut self) {
        // Closing a prepared statement may talk to the server: off the async executor.
        // Under the connection's lock, as every call.
        if let Some(handle) = self.statement.take() {
            self.native.release_later(Box::new(handle));
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("reading", &(self.reading.strong_count() > 0))
            .finish_non_exhaustive()
    }
}

/// Prepares `sql` on a new statement.
fn prepare(call: &mut Call<'_>, sql: &str, cancel: &CancelState) -> Result<ManagedStatement> {
    let mut prepared = statement(call, sql, cancel)?;
    prepared.prepare().map_err(|e| call.error(e, "preparing"))?;
    Ok(prepared)
}

/// A schema worth converting parameters to: one the driver typed (SQLite's, for one, says
/// nothing of the types).
fn typed(schema: Schema) -> Option<SchemaRef> {
    let useful = !schema.fields().is_empty()
        && schema
            .fields()
            .iter()
            .all(|f| !matches!(f.data_type(), DataType::Null));
    useful.then(|| Arc::new(schema))
}

impl AdbcPrepared {
    pub(crate) async fn new(native: Arc<Native>, sql: &str) -> Result<AdbcPrepared> {
        let text = sql.to_owned();
        let (statement, parameter_schema, result_schema) = native
            .run("preparing", move |call| {
                let mut statement = prepare(call, &text, &CancelState::default())?;
                let parameters = statement.get_parameter_schema().ok().and_then(typed);
                let result = statement.execute_schema().ok().map(Arc::new);
                Ok((statement, parameters, result))
            })
            .await?;
        Ok(AdbcPrepared {
            native,
            sql: sql.to_owned(),
            statement: Some(Handle {
                statement,
                reading: Weak::new(),
            }),
            parameter_schema,
            result_schema,
        })
    }

    /// Runs the statement with `params` bound; the prepared handle when no result of it is
    /// still being read, else a new one (a driver's statement has one result at a time).
    async fn run(&mut self, params: Option<RecordBatch>, update: bool) -> Result<Box<dyn Cursor>> {
        let handle = self
            .statement
            .as_ref()
            .ok_or_else(|| Error::interface("the prepared statement is closed"))?;
        let reusable = (handle.reading.strong_count() == 0).then(|| handle.statement.clone());
        let sql = self.sql.clone();
        let cancel = Arc::new(CancelState::default());
        let token = Arc::clone(&cancel);
        let outcome = self
            .native
            .run("executing", move |call| {
                let statement = match reusable {
                    Some(statement) => {
                        token.install(&statement);
                        statement
                    }
                    None => prepare(call, &sql, &token)?,
                };
                execute(call, statement, params, update)
            })
            .await?;
        let reading = Arc::new(());
        if let Some(handle) = self.statement.as_mut() {
            handle.reading = Arc::downgrade(&reading);
        }
        Ok(Box::new(AdbcCursor::with_outcome(
            Arc::clone(&self.native),
            outcome,
            cancel,
            reading,
        )))
    }
}

#[async_trait]
impl PreparedStatement for AdbcPrepared {
    fn sql(&self) -> &str {
        &self.sql
    }

    fn parameter_schema(&self) -> Option<SchemaRef> {
        self.parameter_schema.clone()
    }

    fn result_schema(&self) -> Option<SchemaRef> {
        self.result_schema.clone()
    }

    async fn execute(&mut self, params: Params) -> Result<Box<dyn Cursor>> {
        let params = one_set(params, self.parameter_schema.as_deref())?;
        self.run(params, changes_data(&self.sql)).await
    }

    async fn execute_update(&mut self, params: Params) -> Result<i64> {
        let params = one_set(params, self.parameter_schema.as_deref())?;
        Ok(self.run(params, true).await?.rowcount())
    }

    async fn executemany(&mut self, mut params: ParamSets<'_>) -> Result<i64> {
        let mut total = Some(0_i64);
        let mut chunks = 0_usize;
        while let Some(chunk) = params.next_chunk()? {
            let batch = bind(&chunk, self.parameter_schema.as_deref())
                .map_err(|e| e.context(format!("chunk {chunks}")))?;
            let n = self.run(Some(batch), true).await?.rowcount();
            total = add_count(total, Some(n));
            chunks += 1;
        }
        Ok(total.unwrap_or(-1))
    }

    async fn execute_arrow(&mut self, params: RecordBatch) -> Result<Box<dyn Cursor>> {
        self.run(Some(params), changes_data(&self.sql)).await
    }

    async fn close(&mut self) -> Result<()> {
        if let Some(handle) = self.statement.take() {
            self.native
                .run("closing the statement", move |_call| {
                    drop(handle);
                    Ok(())
                })
                .await?;
        }
        Ok(())
    }
}

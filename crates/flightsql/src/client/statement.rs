//! The statement half of Flight SQL on the low-level client: prepared statements, updates,
//! transactions and savepoints, bulk ingest, cancellation, `SqlInfo`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::sql::{
    ActionBeginSavepointRequest, ActionBeginSavepointResult, ActionBeginTransactionRequest,
    ActionBeginTransactionResult, ActionCancelQueryRequest, ActionCancelQueryResult,
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, ActionEndSavepointRequest, ActionEndTransactionRequest,
    CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementIngest,
    CommandStatementUpdate, DoPutPreparedStatementResult, DoPutUpdateResult, EndTransaction,
    ProstMessageExt, TableDefinitionOptions, TableExistsOption, TableNotExistOption,
};
use arrow_flight::{
    CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightEndpoint, FlightInfo,
};
use bytes::Bytes;
use dbapi::{Error, IngestMode, Result};
use futures::stream::{self, BoxStream, StreamExt};
use prost::Message;

use crate::client::rpc::FlightSqlClient;
use crate::decode;

/// A statement prepared on the server (`CreatePreparedStatement`): its handle and the schemas
/// the server announced. The low-level counterpart of
/// [`FlightSqlPreparedStatement`](crate::FlightSqlPreparedStatement).
#[derive(Clone)]
pub struct PreparedHandle {
    handle: Bytes,
    dataset_schema: Option<SchemaRef>,
    parameter_schema: Option<SchemaRef>,
}

impl std::fmt::Debug for PreparedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedHandle")
            .field("handle", &format_args!("{} bytes", self.handle.len()))
            .field("dataset_schema", &self.dataset_schema)
            .field("parameter_schema", &self.parameter_schema)
            .finish()
    }
}

impl PreparedHandle {
    /// The server's opaque handle (replaced when a binding returns a new one).
    pub fn handle(&self) -> &Bytes {
        &self.handle
    }

    /// The result schema the server announced, if any.
    pub fn dataset_schema(&self) -> Option<&SchemaRef> {
        self.dataset_schema.as_ref()
    }

    /// The parameter schema the server announced, if any.
    pub fn parameter_schema(&self) -> Option<&SchemaRef> {
        self.parameter_schema.as_ref()
    }
}

/// Decodes an optional IPC-encoded schema (empty bytes: none).
fn schema_of(bytes: &Bytes, what: &str) -> Result<Option<SchemaRef>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Arc::new(decode::schema(bytes, what)?)))
}

/// Decodes the one result message an action must return.
fn one<M: Message + Default + ProstMessageExt>(bodies: Vec<Bytes>, what: &str) -> Result<M> {
    let body = bodies
        .into_iter()
        .next()
        .ok_or_else(|| Error::internal(format!("{what}: the server answered with no result")))?;
    decode::packed(&body, what)
}

/// The record count of a `DoPutUpdateResult` (-1 when the server sent none).
fn record_count(results: &[Bytes], what: &str) -> Result<i64> {
    match results.first() {
        None => Ok(-1),
        Some(bytes) if bytes.is_empty() => Ok(-1),
        Some(bytes) => Ok(decode::protobuf::<DoPutUpdateResult>(bytes, what)?.record_count),
    }
}

fn one_batch(batch: RecordBatch) -> BoxStream<'static, Result<RecordBatch>> {
    stream::iter([Ok(batch)]).boxed()
}

/// How a cancellation went, as the server said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The query was cancelled.
    Cancelled,
    /// The server is cancelling it.
    Cancelling,
    /// The query had finished or could not be cancelled.
    NotCancellable,
    /// The server did not say.
    Unknown,
}

impl FlightSqlClient {
    /// Prepares a statement (`CreatePreparedStatement`), in a transaction or outside any.
    ///
    /// # Errors
    /// The server's error (e.g. a SQL error), a timeout, or a closed client.
    pub async fn prepare(&self, sql: &str, transaction: Option<&Bytes>) -> Result<PreparedHandle> {
        let request = ActionCreatePreparedStatementRequest {
            query: sql.to_owned(),
            transaction_id: transaction.cloned(),
        };
        let bodies = self
            .do_action(
                "prepare",
                "CreatePreparedStatement",
                request.as_any().encode_to_vec(),
            )
            .await?;
        let result: ActionCreatePreparedStatementResult = one(bodies, "prepare")?;
        Ok(PreparedHandle {
            handle: result.prepared_statement_handle,
            dataset_schema: schema_of(&result.dataset_schema, "result schema")?,
            parameter_schema: schema_of(&result.parameter_schema, "parameter schema")?,
        })
    }

    /// Binds parameters to a prepared statement (`DoPut` of `CommandPreparedStatementQuery`):
    /// one row per parameter set. When the server answers with a new handle, `statement`
    /// takes it: later calls must use it.
    ///
    /// # Errors
    /// The server's error, a timeout, or a closed client.
    pub async fn bind(&self, statement: &mut PreparedHandle, params: RecordBatch) -> Result<()> {
        let command = CommandPreparedStatementQuery {
            prepared_statement_handle: statement.handle.clone(),
        };
        let schema = params.schema();
        let results = self
            .do_put(
                "binding parameters",
                command.as_any().encode_to_vec(),
                Some(schema),
                one_batch(params),
            )
            .await?;
        if let Some(bytes) = results.first().filter(|b| !b.is_empty()) {
            let result: DoPutPreparedStatementResult =
                decode::protobuf(bytes, "binding parameters")?;
            if let Some(handle) = result.prepared_statement_handle.filter(|h| !h.is_empty()) {
                statement.handle = handle;
            }
        }
        Ok(())
    }

    /// Executes a prepared query with its bound parameters (`GetFlightInfo` of
    /// `CommandPreparedStatementQuery`).
    ///
    /// # Errors
    /// The server's error, a timeout, or a closed client.
    pub async fn execute_prepared(&self, statement: &PreparedHandle) -> Result<FlightInfo> {
        let command = CommandPreparedStatementQuery {
            prepared_statement_handle: statement.handle.clone(),
        };
        self.get_flight_info("execute", command.as_any().encode_to_vec())
            .await
    }

    /// The result schema of a prepared statement, without running it (`GetSchema`).
    ///
    /// # Errors
    /// The server's error (`GetSchema` is optional: many servers answer `UNIMPLEMENTED`).
    pub async fn prepared_schema(&self, statement: &PreparedHandle) -> Result<SchemaRef> {
        let command = CommandPreparedStatementQuery {
            prepared_statement_handle: statement.handle.clone(),
        };
        self.get_schema("get_schema", command.as_any().encode_to_vec())
            .await
    }

    /// Executes a prepared statement that changes data (`DoPut` of
    /// `CommandPreparedStatementUpdate`, with the parameter batch inside), returning the
    /// number of rows affected (-1 when the server does not say).
    ///
    /// # Errors
    /// The server's error (many servers answer `UNIMPLEMENTED`), a timeout, or a closed
    /// client.
    pub async fn execute_prepared_update(
        &self,
        statement: &PreparedHandle,
        params: Option<RecordBatch>,
    ) -> Result<i64> {
        let command = CommandPreparedStatementUpdate {
            prepared_statement_handle: statement.handle.clone(),
        };
        let (schema, batches) = match params {
            Some(batch) => (Some(batch.schema()), one_batch(batch)),
            None => (Some(Arc::new(Schema::empty())), stream::empty().boxed()),
        };
        let results = self
            .do_put(
                "execute_update",
                command.as_any().encode_to_vec(),
                schema,
                batches,
            )
            .await?;
        record_count(&results, "execute_update")
    }

    /// Releases a prepared statement (`ClosePreparedStatement`).
    ///
    /// # Errors
    /// The server's error, a timeout, or a closed client.
    pub async fn close_prepared(&self, statement: &PreparedHandle) -> Result<()> {
        let request = ActionClosePreparedStatementRequest {
            prepared_statement_handle: statement.handle.clone(),
        };
        self.do_action(
            "closing a prepared statement",
            "ClosePreparedStatement",
            request.as_any().encode_to_vec(),
        )
        .await?;
        Ok(())
    }

    /// Executes a statement that changes data (`DoPut` of `CommandStatementUpdate`),
    /// returning the number of rows affected (-1 when the server does not say).
    ///
    /// # Errors
    /// The server's error (many servers answer `UNIMPLEMENTED` and run such statements
    /// through [`FlightSqlClient::execute`]), a timeout, or a closed client.
    pub async fn execute_update(&self, sql: &str, transaction: Option<&Bytes>) -> Result<i64> {
        let command = CommandStatementUpdate {
            query: sql.to_owned(),
            transaction_id: transaction.cloned(),
        };
        let results = self
            .do_put(
                "execute_update",
                command.as_any().encode_to_vec(),
                Some(Arc::new(Schema::empty())),
                stream::empty().boxed(),
            )
            .await?;
        record_count(&results, "execute_update")
    }

    /// Loads a stream of batches into a table (`DoPut` of `CommandStatementIngest`),
    /// returning the number of rows the server reports. Batches are sent as they are pulled
    /// from the stream.
    ///
    /// # Errors
    /// The stream's first error (the call is then abandoned, so the server ingests nothing);
    /// the server's error.
    pub async fn ingest(
        &self,
        table: &str,
        mode: IngestMode,
        transaction: Option<&Bytes>,
        batches: BoxStream<'static, Result<RecordBatch>>,
    ) -> Result<i64> {
        let (if_not_exist, if_exists) = match mode {
            IngestMode::Create => (TableNotExistOption::Create, TableExistsOption::Fail),
            IngestMode::Append => (TableNotExistOption::Fail, TableExistsOption::Append),
            IngestMode::Replace => (TableNotExistOption::Create, TableExistsOption::Replace),
            _ => (TableNotExistOption::Create, TableExistsOption::Append),
        };
        let command = CommandStatementIngest {
            table_definition_options: Some(TableDefinitionOptions {
                if_not_exist: if_not_exist as i32,
                if_exists: if_exists as i32,
            }),
            table: table.to_owned(),
            schema: None,
            catalog: None,
            temporary: false,
            transaction_id: transaction.cloned(),
            options: HashMap::new(),
        };
        let what = format!("ingest into {table:?} ({mode})");
        let results = self
            .do_put(&what, command.as_any().encode_to_vec(), None, batches)
            .await?;
        record_count(&results, &what)
    }

    /// Begins a transaction (`BeginTransaction`) and returns its id.
    ///
    /// # Errors
    /// The server's error (servers without transactions answer `UNIMPLEMENTED`).
    pub async fn begin_transaction(&self) -> Result<Bytes> {
        let bodies = self
            .do_action(
                "begin transaction",
                "BeginTransaction",
                ActionBeginTransactionRequest {}.as_any().encode_to_vec(),
            )
            .await?;
        let result: ActionBeginTransactionResult = one(bodies, "begin transaction")?;
        Ok(result.transaction_id)
    }

    /// Ends a transaction (`EndTransaction`): commits it, or rolls it back.
    ///
    /// # Errors
    /// The server's error.
    pub async fn end_transaction(&self, transaction: &Bytes, commit: bool) -> Result<()> {
        let (action, what) = if commit {
            (EndTransaction::Commit, "commit")
        } else {
            (EndTransaction::Rollback, "rollback")
        };
        let request = ActionEndTransactionRequest {
            transaction_id: transaction.clone(),
            action: action as i32,
        };
        self.do_action(what, "EndTransaction", request.as_any().encode_to_vec())
            .await?;
        Ok(())
    }

    /// Creates a savepoint in a transaction (`BeginSavepoint`) and returns its id.
    ///
    /// # Errors
    /// The server's error.
    pub async fn begin_savepoint(&self, transaction: &Bytes, name: &str) -> Result<Bytes> {
        let request = ActionBeginSavepointRequest {
            transaction_id: transaction.clone(),
            name: name.to_owned(),
        };
        let what = format!("savepoint {name:?}");
        let bodies = self
            .do_action(&what, "BeginSavepoint", request.as_any().encode_to_vec())
            .await?;
        let result: ActionBeginSavepointResult = one(bodies, &what)?;
        Ok(result.savepoint_id)
    }

    /// Ends a savepoint (`EndSavepoint`): releases it, or rolls back to it.
    ///
    /// # Errors
    /// The server's error.
    pub async fn end_savepoint(&self, savepoint: &Bytes, release: bool) -> Result<()> {
        // EndSavepoint: 1 = release, 2 = rollback.
        let (action, what) = if release {
            (1, "release savepoint")
        } else {
            (2, "rollback to savepoint")
        };
        let request = ActionEndSavepointRequest {
            savepoint_id: savepoint.clone(),
            action,
        };
        self.do_action(what, "EndSavepoint", request.as_any().encode_to_vec())
            .await?;
        Ok(())
    }

    /// Asks the server to cancel the query of a `FlightInfo` (`CancelFlightInfo`).
    ///
    /// # Errors
    /// The server's error (`UNIMPLEMENTED` from servers that only know the deprecated
    /// `CancelQuery`: see [`FlightSqlClient::cancel_query`]).
    pub async fn cancel_flight_info(&self, info: &FlightInfo) -> Result<CancelOutcome> {
        let request = CancelFlightInfoRequest {
            info: Some(info.clone()),
        };
        let bodies = self
            .do_action("cancel", "CancelFlightInfo", request.encode_to_vec())
            .await?;
        let status = match bodies.first() {
            Some(body) => {
                decode::protobuf::<CancelFlightInfoResult>(body, "CancelFlightInfo")?.status
            }
            None => 0,
        };
        Ok(match CancelStatus::try_from(status) {
            Ok(CancelStatus::Cancelled) => CancelOutcome::Cancelled,
            Ok(CancelStatus::Cancelling) => CancelOutcome::Cancelling,
            Ok(CancelStatus::NotCancellable) => CancelOutcome::NotCancellable,
            _ => CancelOutcome::Unknown,
        })
    }

    /// Asks the server to extend an endpoint's expiration (`RenewFlightEndpoint`): the
    /// renewed endpoint, whose ticket replaces the old one.
    ///
    /// # Errors
    /// The server's error (`UNIMPLEMENTED` where the action is not served), or an answer that
    /// holds no endpoint.
    pub async fn renew_flight_endpoint(&self, endpoint: &FlightEndpoint) -> Result<FlightEndpoint> {
        let request = arrow_flight::RenewFlightEndpointRequest {
            endpoint: Some(endpoint.clone()),
        };
        let bodies = self
            .do_action(
                "renew endpoint",
                "RenewFlightEndpoint",
                request.encode_to_vec(),
            )
            .await?;
        let body = bodies
            .first()
            .ok_or_else(|| Error::internal("RenewFlightEndpoint: the server sent no endpoint"))?;
        let renewed: FlightEndpoint = decode::protobuf(body, "RenewFlightEndpoint")?;
        if renewed.ticket.is_none() {
            return Err(Error::internal(
                "RenewFlightEndpoint: the renewed endpoint has no ticket",
            ));
        }
        Ok(renewed)
    }

    /// Asks the server to cancel the query of a `FlightInfo` through the deprecated Flight SQL
    /// `CancelQuery` action.
    ///
    /// # Errors
    /// The server's error.
    pub async fn cancel_query(&self, info: &FlightInfo) -> Result<CancelOutcome> {
        let request = ActionCancelQueryRequest {
            info: info.encode_to_vec().into(),
        };
        let bodies = self
            .do_action("cancel", "CancelQuery", request.as_any().encode_to_vec())
            .await?;
        let result: ActionCancelQueryResult = one(bodies, "cancel")?;
        // CancelResult: 1 cancelled, 2 cancelling, 3 not cancellable.
        Ok(match result.result {
            1 => CancelOutcome::Cancelled,
            2 => CancelOutcome::Cancelling,
            3 => CancelOutcome::NotCancellable,
            _ => CancelOutcome::Unknown,
        })
    }
}

//! SQL execution behind the service: plans with parameters, statements that change data,
//! transactions on private copies of the tables, prepared statement handles, tickets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use arrow::record_batch::RecordBatch;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use prost::Message;
use tonic::Status;

/// A new DataFusion session configured like the server's.
pub(crate) fn new_context() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_information_schema(true);
    SessionContext::new_with_config(config)
}

/// The gRPC status real servers use for an engine error: the user's SQL is
/// `INVALID_ARGUMENT`, anything else `INTERNAL`.
pub(crate) fn df_status(e: DataFusionError) -> Status {
    match e.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_) => Status::invalid_argument(e.to_string()),
        _ => Status::internal(e.to_string()),
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// Encodes batches as an Arrow IPC stream (parameters and inline results travel in handles
/// and tickets this way, so that they are stateless).
pub(crate) fn ipc_encode(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<u8>, Status> {
    let mut out = Vec::new();
    let mut writer =
        arrow::ipc::writer::StreamWriter::try_new(&mut out, schema).map_err(internal)?;
    for batch in batches {
        writer.write(batch).map_err(internal)?;
    }
    writer.finish().map_err(internal)?;
    drop(writer);
    Ok(out)
}

/// Decodes [`ipc_encode`]'s output.
pub(crate) fn ipc_decode(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| Status::invalid_argument(format!("malformed IPC data in a handle: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Status::invalid_argument(format!("malformed IPC data in a handle: {e}")))?;
    Ok((schema, batches))
}

/// What a ticket or a prepared statement handle says: a statement, its bound parameters, its
/// transaction, and (for tickets) which part of the result and a result computed already.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Handle {
    /// The SQL text.
    #[prost(string, tag = "1")]
    pub(crate) sql: String,
    /// Bound parameters: an IPC stream of one batch, one row per parameter set.
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) params: Vec<u8>,
    /// The transaction, empty for none.
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) transaction: Vec<u8>,
    /// For tickets: the part of the result (0-based) and the number of parts.
    #[prost(uint64, tag = "4")]
    pub(crate) part: u64,
    /// See `part`.
    #[prost(uint64, tag = "5")]
    pub(crate) parts: u64,
    /// For tickets: a result computed when the statement ran (statements that change data
    /// run once, when the `FlightInfo` is asked for), as an IPC stream.
    #[prost(bytes = "vec", tag = "6")]
    pub(crate) inline: Vec<u8>,
    /// A unique id per execution (cancellation targets one execution).
    #[prost(uint64, tag = "7")]
    pub(crate) query_id: u64,
    /// For stateful prepared statements: the id under which the server keeps the statement.
    #[prost(uint64, tag = "8")]
    pub(crate) statement_id: u64,
    /// The catalog unqualified names resolve in (empty: the default).
    #[prost(string, tag = "9")]
    pub(crate) catalog: String,
    /// The schema unqualified names resolve in (empty: the default).
    #[prost(string, tag = "10")]
    pub(crate) schema: String,
    /// For tickets of expiring endpoints: when the ticket stops being redeemable, in
    /// milliseconds since the Unix epoch (0: never).
    #[prost(uint64, tag = "11")]
    pub(crate) expires_at_ms: u64,
}

impl Handle {
    pub(crate) fn decode_from(bytes: &[u8], what: &str) -> Result<Handle, Status> {
        Handle::decode(bytes).map_err(|_| Status::invalid_argument(format!("malformed {what}")))
    }

    pub(crate) fn params(&self) -> Result<Option<RecordBatch>, Status> {
        if self.params.is_empty() {
            return Ok(None);
        }
        let (schema, batches) = ipc_decode(&self.params)?;
        Ok(Some(
            arrow::compute::concat_batches(&schema, &batches).map_err(internal)?,
        ))
    }
}

/// Whether a plan changes data or definitions (it then runs once, eagerly).
pub(crate) fn is_eager(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
    )
}

/// The placeholder ids of a plan with their types (`Null` when the engine cannot infer one),
/// `$1`, `$2`, ... in numeric order, named ones after them in alphabetical order.
pub(crate) fn parameter_schema(plan: &LogicalPlan) -> Result<Schema, Status> {
    let types = plan.get_parameter_types().map_err(df_status)?;
    let mut ids: Vec<(String, Option<DataType>)> = types.into_iter().collect();
    ids.sort_by_key(|(id, _)| {
        let number = id.strip_prefix('$').and_then(|n| n.parse::<u64>().ok());
        (number.is_none(), number, id.clone())
    });
    Ok(Schema::new(
        ids.into_iter()
            .map(|(id, t)| Field::new(id, t.unwrap_or(DataType::Null), true))
            .collect::<Vec<_>>(),
    ))
}

/// The parameter values of row `row` of a bound batch: by position when the statement's
/// placeholders are `$1`, `$2`, ..., else by name (field names without their sigil).
fn param_values(
    plan: &LogicalPlan,
    params: &RecordBatch,
    row: usize,
) -> Result<ParamValues, Status> {
    let expected = plan.get_parameter_types().map_err(df_status)?;
    let positional = expected.keys().all(|id| {
        id.strip_prefix('$')
            .is_some_and(|n| n.parse::<u64>().is_ok())
    });
    let mut values = Vec::with_capacity(params.num_columns());
    for (n, (field, column)) in params
        .schema()
        .fields()
        .iter()
        .zip(params.columns())
        .enumerate()
    {
        let id = if positional {
            format!("${}", n + 1)
        } else {
            format!("${}", field.name().trim_start_matches(['$', ':', '@']))
        };
        let mut value = ScalarValue::try_from_array(column, row).map_err(df_status)?;
        if let Some(Some(target)) = expected.get(&id)
            && value.data_type() != *target
        {
            value = value.cast_to(target).map_err(|e| {
                Status::invalid_argument(format!(
                    "parameter {id}: cannot use a {} value as {target}: {e}",
                    value.data_type()
                ))
            })?;
        }
        values.push((id, value));
    }
    if positional {
        if values.len() != expected.len() {
            return Err(Status::invalid_argument(format!(
                "the statement has {} parameters, {} bound",
                expected.len(),
                values.len()
            )));
        }
        Ok(values
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .into())
    } else {
        Ok(values
            .into_iter()
            .map(|(id, v)| (id.trim_start_matches('$').to_owned(), v))
            .collect::<Vec<_>>()
            .into())
    }
}

/// Plans a statement, with row `row` of `params` bound.
pub(crate) async fn plan(
    ctx: &SessionContext,
    sql: &str,
    params: Option<(&RecordBatch, usize)>,
) -> Result<LogicalPlan, Status> {
    let plan = plan_with(ctx, sql, None).await?;
    match params {
        None => Ok(plan),
        Some((batch, row)) => {
            let values = param_values(&plan, batch, row)?;
            plan.with_param_values(values).map_err(df_status)
        }
    }
}

/// Plans a statement with `values` bound.
pub(crate) async fn plan_with(
    ctx: &SessionContext,
    sql: &str,
    values: Option<ParamValues>,
) -> Result<LogicalPlan, Status> {
    let plan = ctx
        .state()
        .create_logical_plan(sql)
        .await
        .map_err(df_status)?;
    match values {
        None => Ok(plan),
        Some(values) => plan.with_param_values(values).map_err(df_status),
    }
}

/// Runs a plan: its schema and batches.
pub(crate) async fn collect(
    ctx: &SessionContext,
    plan: LogicalPlan,
) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
    let df = ctx.execute_logical_plan(plan).await.map_err(df_status)?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.collect().await.map_err(df_status)?))
}

/// For a statement whose only placeholders are in a one-row `VALUES` list (`INSERT INTO t
/// VALUES ($1, $2)`), the plan with one `VALUES` row per parameter set: all the sets in one
/// execution. `None` for other statements.
fn bind_values_rows(
    plan: &LogicalPlan,
    params: &RecordBatch,
) -> Result<Option<LogicalPlan>, Status> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::logical_expr::Values;
    let mut bound = 0;
    let rewritten = plan
        .clone()
        .transform_up(|node| {
            let LogicalPlan::Values(values) = &node else {
                return Ok(Transformed::no(node));
            };
            let single = LogicalPlan::Values(values.clone());
            if values.values.len() != 1 || single.get_parameter_types()?.is_empty() {
                return Ok(Transformed::no(node));
            }
            bound += 1;
            let mut rows = Vec::with_capacity(params.num_rows());
            for row in 0..params.num_rows() {
                let values = param_values(plan, params, row)
                    .map_err(|s| DataFusionError::Plan(s.message().to_owned()))?;
                match single.clone().replace_params_with_values(&values)? {
                    LogicalPlan::Values(v) => rows.extend(v.values),
                    _ => return Ok(Transformed::no(node)),
                }
            }
            Ok(Transformed::yes(LogicalPlan::Values(Values {
                schema: Arc::clone(&values.schema),
                values: rows,
            })))
        })
        .map_err(df_status)?
        .data;
    let rest = rewritten.get_parameter_types().map_err(df_status)?;
    Ok((bound == 1 && rest.is_empty()).then_some(rewritten))
}

/// Runs a statement once per parameter set (once without parameters; once for all sets of
/// an `INSERT ... VALUES` with placeholders) and returns the schema and batches of all runs.
pub(crate) async fn run(
    ctx: &SessionContext,
    sql: &str,
    params: Option<&RecordBatch>,
) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
    if let Some(batch) = params.filter(|p| p.num_rows() > 1) {
        let plan = plan(ctx, sql, None).await?;
        if let Some(bulk) = bind_values_rows(&plan, batch)? {
            return collect(ctx, bulk).await;
        }
    }
    let rows: Vec<Option<(&RecordBatch, usize)>> = match params {
        None => vec![None],
        Some(batch) => (0..batch.num_rows()).map(|r| Some((batch, r))).collect(),
    };
    let mut schema: Option<SchemaRef> = None;
    let mut out = Vec::new();
    for row in rows {
        let (run_schema, batches) = collect(ctx, plan(ctx, sql, row).await?).await?;
        schema.get_or_insert(run_schema);
        out.extend(batches);
    }
    let schema = schema.unwrap_or_else(|| Arc::new(Schema::empty()));
    Ok((schema, out))
}

/// The rows a statement that changes data reports (the engine's `count` column), or -1 when
/// it reports none (DDL).
pub(crate) fn affected_rows(batches: &[RecordBatch]) -> i64 {
    let mut total: Option<u64> = None;
    for batch in batches {
        if let Some(column) = batch.column_by_name("count")
            && let Some(counts) = column.as_primitive_opt::<UInt64Type>()
        {
            *total.get_or_insert(0) += counts.iter().flatten().sum::<u64>();
        }
    }
    total.map_or(-1, |t| i64::try_from(t).unwrap_or(i64::MAX))
}

/// The rows of one part (of `parts` nearly equal contiguous ranges) of a result.
pub(crate) fn slice_part(batches: Vec<RecordBatch>, part: u64, parts: u64) -> Vec<RecordBatch> {
    let (part, parts) = (part as usize, parts.max(1) as usize);
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let start = total * part / parts;
    let end = total * (part + 1) / parts;
    let mut out = Vec::new();
    let mut offset = 0;
    for batch in batches {
        let (lo, hi) = (offset, offset + batch.num_rows());
        offset = hi;
        let from = start.max(lo);
        let to = end.min(hi);
        if from < to {
            out.push(batch.slice(from - lo, to - from));
        }
    }
    out
}

/// The names of the tables of a session's default schema.
fn table_names(ctx: &SessionContext) -> Vec<String> {
    ctx.catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default()
}

/// A copy of a session's tables in a new session: what a transaction works on.
pub(crate) async fn copy_tables(ctx: &SessionContext) -> Result<SessionContext, Status> {
    let copy = new_context();
    for name in table_names(ctx) {
        let df = ctx.table(name.as_str()).await.map_err(df_status)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(df_status)?;
        let table = MemTable::try_new(schema, vec![batches]).map_err(df_status)?;
        copy.register_table(name.as_str(), Arc::new(table))
            .map_err(df_status)?;
    }
    Ok(copy)
}

/// Makes `target`'s tables those of `source` (a transaction's commit).
pub(crate) async fn replace_tables(
    target: &SessionContext,
    source: &SessionContext,
) -> Result<(), Status> {
    let keep = table_names(source);
    for name in table_names(target) {
        if !keep.contains(&name) {
            target.deregister_table(name.as_str()).map_err(df_status)?;
        }
    }
    for name in keep {
        let provider = source
            .table_provider(name.as_str())
            .await
            .map_err(df_status)?;
        target.deregister_table(name.as_str()).map_err(df_status)?;
        target
            .register_table(name.as_str(), provider)
            .map_err(df_status)?;
    }
    Ok(())
}

/// An open transaction: a private copy of the tables, and its savepoints (copies too).
pub(crate) struct Transaction {
    pub(crate) ctx: SessionContext,
    pub(crate) savepoints: HashMap<Vec<u8>, SessionContext>,
}

/// Transactions, prepared statements and cancelled queries.
#[derive(Default)]
pub(crate) struct State {
    next_id: AtomicU64,
    transactions: Mutex<HashMap<Vec<u8>, Arc<tokio::sync::Mutex<Transaction>>>>,
    statements: Mutex<HashMap<u64, Handle>>,
    cancelled: Mutex<std::collections::HashSet<u64>>,
    results: Mutex<KeptResults>,
    /// Results of several parts being computed: the `DoGet`s of a result's other parts wait
    /// for the one computing it (and then take the result it kept) rather than run the query
    /// again each.
    computing: Mutex<HashMap<Vec<u8>, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn of one `DoGet` to compute a result of several parts (see
/// [`State::computing_turn`]); the next waiting `DoGet` gets it when this one is dropped.
pub(crate) struct ComputingTurn<'a> {
    state: &'a State,
    key: Vec<u8>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for ComputingTurn<'_> {
    fn drop(&mut self) {
        let mut computing = self
            .state
            .computing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.turn = None;
        // Nobody else waits (a waiter holds a clone, taken under this lock): forget the key.
        if computing
            .get(&self.key)
            .is_some_and(|turns| Arc::strong_count(turns) == 1)
        {
            computing.remove(&self.key);
        }
    }
}

/// The results of queries split into several endpoints, kept by the `DoGet` that ran the
/// query for the `DoGet`s of its other parts, so that a query runs once rather than once per
/// endpoint. Bounded: a result is kept until each other part was read once, at most
/// [`KEPT_RESULTS`] results and [`KEPT_BYTES`] in all (the oldest go first); a part read
/// again, or after its result went, runs the query again.
#[derive(Default)]
struct KeptResults {
    kept: std::collections::VecDeque<Kept>,
    bytes: usize,
}

struct Kept {
    /// The ticket's handle without its part: the same query, the same execution.
    key: Vec<u8>,
    unread: Vec<u64>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    bytes: usize,
}

/// At most this many results are kept.
const KEPT_RESULTS: usize = 256;
/// At most this many bytes of results are kept (a larger result is not kept).
const KEPT_BYTES: usize = 64 << 20;

/// The key of a ticket's result: its handle for part 0.
fn result_key(handle: &Handle) -> Vec<u8> {
    Handle {
        part: 0,
        ..handle.clone()
    }
    .encode_to_vec()
}

impl State {
    /// The result of the ticket `handle` when the `DoGet` of another of its parts kept it
    /// (each part once).
    pub(crate) fn kept_result(&self, handle: &Handle) -> Option<(SchemaRef, Vec<RecordBatch>)> {
        if handle.parts <= 1 {
            return None;
        }
        let key = result_key(handle);
        let mut results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        let at = results.kept.iter().position(|k| k.key == key)?;
        let kept = &mut results.kept[at];
        let unread = kept.unread.iter().position(|p| *p == handle.part)?;
        kept.unread.swap_remove(unread);
        let out = (Arc::clone(&kept.schema), kept.batches.clone());
        if kept.unread.is_empty()
            && let Some(gone) = results.kept.remove(at)
        {
            results.bytes -= gone.bytes;
        }
        Some(out)
    }

    /// Waits until no other `DoGet` computes the result of `handle` (a result of several
    /// parts), then holds the turn to compute it until the turn is dropped: the caller looks
    /// for a kept result again before running the query. `None` for a result of one part.
    pub(crate) async fn computing_turn(&self, handle: &Handle) -> Option<ComputingTurn<'_>> {
        if handle.parts <= 1 {
            return None;
        }
        let key = result_key(handle);
        let turns = Arc::clone(
            self.computing
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key.clone())
                .or_default(),
        );
        let turn = turns.lock_owned().await;
        Some(ComputingTurn {
            state: self,
            key,
            turn: Some(turn),
        })
    }

    /// Keeps the result the `DoGet` of ticket `handle` computed, for the other parts.
    pub(crate) fn keep_result(&self, handle: &Handle, schema: &SchemaRef, batches: &[RecordBatch]) {
        if handle.parts <= 1 {
            return;
        }
        let bytes: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        if bytes > KEPT_BYTES {
            return;
        }
        let key = result_key(handle);
        let mut results = self.results.lock().unwrap_or_else(PoisonError::into_inner);
        if results.kept.iter().any(|k| k.key == key) {
            return;
        }
        while results.kept.len() >= KEPT_RESULTS || results.bytes + bytes > KEPT_BYTES {
            match results.kept.pop_front() {
                Some(gone) => results.bytes -= gone.bytes,
                None => break,
            }
        }
        results.bytes += bytes;
        results.kept.push_back(Kept {
            key,
            unread: (0..handle.parts).filter(|p| *p != handle.part).collect(),
            schema: Arc::clone(schema),
            batches: batches.to_vec(),
            bytes,
        });
    }

    /// A new unique id.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn begin(&self, txn: Transaction) -> Vec<u8> {
        let id = format!("txn-{}", self.next_id()).into_bytes();
        self.transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), Arc::new(tokio::sync::Mutex::new(txn)));
        id
    }

    pub(crate) fn transaction(
        &self,
        id: &[u8],
    ) -> Result<Arc<tokio::sync::Mutex<Transaction>>, Status> {
        self.transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| {
                Status::not_found(format!(
                    "transaction {:?} is not open",
                    String::from_utf8_lossy(id)
                ))
            })
    }

    pub(crate) fn end(&self, id: &[u8]) -> Result<Arc<tokio::sync::Mutex<Transaction>>, Status> {
        let txn = self.transaction(id)?;
        self.transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        Ok(txn)
    }

    pub(crate) fn open_transactions(&self) -> usize {
        self.transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn keep_statement(&self, handle: Handle) -> u64 {
        let id = self.next_id();
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                id,
                Handle {
                    statement_id: id,
                    ..handle
                },
            );
        id
    }

    pub(crate) fn statement(&self, id: u64) -> Result<Handle, Status> {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("prepared statement {id} is not open")))
    }

    pub(crate) fn update_statement(&self, handle: Handle) {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(handle.statement_id, handle);
    }

    pub(crate) fn close_statement(&self, id: u64) -> bool {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
            .is_some()
    }

    pub(crate) fn open_statements(&self) -> usize {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn cancel(&self, query_id: u64) {
        self.cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(query_id);
    }

    pub(crate) fn is_cancelled(&self, query_id: u64) -> bool {
        self.cancelled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&query_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rows: i64) -> (SchemaRef, Vec<RecordBatch>) {
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(arrow::array::Int64Array::from_iter_values(0..rows)) as _,
        )])
        .unwrap();
        (batch.schema(), vec![batch])
    }

    #[test]
    fn a_result_is_kept_for_each_other_part_once() {
        let state = State::default();
        let ticket = |query_id, part| Handle {
            sql: "SELECT n FROM t".into(),
            part,
            parts: 3,
            query_id,
            ..Handle::default()
        };
        let (schema, batches) = result(10);
        assert!(state.kept_result(&ticket(1, 0)).is_none());
        state.keep_result(&ticket(1, 0), &schema, &batches);
        // Part 0 ran the query: parts 1 and 2 get its result, once each; another
        // execution (query 2) does not.
        assert!(state.kept_result(&ticket(2, 1)).is_none());
        assert!(state.kept_result(&ticket(1, 0)).is_none());
        let (_, got) = state.kept_result(&ticket(1, 2)).unwrap();
        assert_eq!(got[0].num_rows(), 10);
        assert!(state.kept_result(&ticket(1, 2)).is_none());
        assert!(state.kept_result(&ticket(1, 1)).is_some());
        assert!(state.kept_result(&ticket(1, 1)).is_none());
        let results = state.results.lock().unwrap();
        assert!(results.kept.is_empty());
        assert_eq!(results.bytes, 0);
    }

    #[test]
    fn kept_results_are_bounded() {
        let state = State::default();
        let (schema, batches) = result(10);
        // A result of one part is never kept.
        let single = Handle {
            parts: 1,
            ..Handle::default()
        };
        state.keep_result(&single, &schema, &batches);
        assert!(state.results.lock().unwrap().kept.is_empty());
        for query_id in 0..(KEPT_RESULTS as u64 + 10) {
            let ticket = Handle {
                parts: 2,
                query_id,
                ..Handle::default()
            };
            state.keep_result(&ticket, &schema, &batches);
        }
        let results = state.results.lock().unwrap();
        assert_eq!(results.kept.len(), KEPT_RESULTS);
        // The oldest went first.
        assert_eq!(
            results.kept[0].key,
            result_key(&Handle {
                parts: 2,
                query_id: 10,
                ..Handle::default()
            })
        );
        drop(results);
        // A result over the byte budget is not kept.
        let (schema, big) = result((KEPT_BYTES / 8 + 1) as i64);
        let ticket = Handle {
            parts: 2,
            query_id: 99_999,
            ..Handle::default()
        };
        state.keep_result(&ticket, &schema, &big);
        assert!(state.kept_result(&Handle { part: 1, ..ticket }).is_none());
    }

    #[test]
    fn handles_round_trip_and_reject_garbage() {
        let h = Handle {
            sql: "SELECT $1".into(),
            part: 2,
            parts: 7,
            query_id: 9,
            ..Handle::default()
        };
        let back = Handle::decode_from(&h.encode_to_vec(), "ticket").unwrap();
        assert_eq!(back, h);
        assert!(Handle::decode_from(b"\xff\xff\xff", "ticket").is_err());
    }

    #[test]
    fn parts_cover_every_row_once() {
        let batch = crate::generated(10, 3).unwrap();
        let rows: usize = (0..4)
            .map(|p| {
                slice_part(batch.clone(), p, 4)
                    .iter()
                    .map(RecordBatch::num_rows)
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(rows, 10);
    }

    #[tokio::test]
    async fn parameter_schemas_are_ordered_and_typed() {
        let ctx = new_context();
        ctx.register_batch("t", crate::generated(3, 3).unwrap().remove(0))
            .unwrap();
        let p = plan(&ctx, "SELECT * FROM t WHERE id = $2 AND name = $1", None)
            .await
            .unwrap();
        let s = parameter_schema(&p).unwrap();
        let fields: Vec<(&str, &DataType)> = s
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect();
        assert_eq!(fields, [("$1", &DataType::Utf8), ("$2", &DataType::Int64)]);
    }
}

//! The scan node: the remote statement, run when the plan is executed (never when it is only
//! planned or explained), its result read in parts spread over the DataFusion partitions.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::StatisticsArgs;
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use dbapi::pool::{Pool, PooledConnection};
use dbapi::{Connection, Cursor, Params};
use tokio::sync::OnceCell;

/// A `dbapi` error as DataFusion's, kind and cause kept (downcast the `External` error to
/// [`dbapi::Error`]).
pub(crate) fn external(error: dbapi::Error) -> DataFusionError {
    DataFusionError::External(Box::new(error))
}

/// How a scan's remote result is read, once its statement has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteParts {
    /// In parts ([`Connection::execute_partitions`], serialized as the driver writes them),
    /// part `i` by partition `i % n`.
    Parts(Vec<Vec<u8>>),
    /// In one piece by partition 0, which runs the statement: the driver has no partitions.
    Whole,
}

/// The scan of a remote table: one statement, its result read by `partitions` DataFusion
/// partitions.
#[derive(Clone)]
pub struct DbapiScan {
    conn: Connections,
    sql: String,
    schema: SchemaRef,
    partitions: usize,
    properties: Arc<PlanProperties>,
    /// The statement's parts, asked for by the first partition executed.
    parts: Arc<OnceCell<std::result::Result<Arc<RemoteParts>, Arc<dbapi::Error>>>>,
    /// Whether the parts were given when planned ([`DbapiScan::planned`]): kept when the
    /// plan is reset for another execution, where a scan that ran its statement at
    /// execution runs it again.
    planned: bool,
    /// The result's rows and bytes as the server gave them, when the statement ran at
    /// planning.
    totals: Totals,
}

/// A result's rows and bytes as its server gave them (estimates: a server may be wrong).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// The rows of the whole result.
    pub rows: Option<u64>,
    /// The bytes of the whole result.
    pub bytes: Option<u64>,
}

impl Totals {
    /// The statistics of a plan node of `schema` with these totals, of all its partitions
    /// (`partition` `None`: inexact row and byte counts, so that DataFusion never answers a
    /// query from them, nothing known of the columns) or of one (nothing known).
    pub fn statistics(&self, schema: &SchemaRef, partition: Option<usize>) -> Statistics {
        if partition.is_some() {
            return Statistics::new_unknown(schema);
        }
        let estimate = |n: Option<u64>| match n.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Precision::Inexact(n),
            None => Precision::Absent,
        };
        let mut statistics = Statistics::new_unknown(schema);
        statistics.num_rows = estimate(self.rows);
        statistics.total_byte_size = estimate(self.bytes);
        statistics
    }
}

impl fmt::Debug for DbapiScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbapiScan")
            .field("sql", &self.sql)
            .field("partitions", &self.partitions)
            .finish_non_exhaustive()
    }
}

impl DbapiScan {
    pub(crate) fn new(
        conn: Arc<dyn Connection>,
        sql: String,
        schema: SchemaRef,
        partitions: usize,
    ) -> DbapiScan {
        let partitions = partitions.max(1);
        DbapiScan {
            conn: Connections {
                own: conn,
                pool: None,
            },
            sql,
            properties: properties(&schema, partitions),
            schema,
            partitions,
            parts: Arc::new(OnceCell::new()),
            planned: false,
            totals: Totals::default(),
        }
    }

    /// The same scan running its statement and reading each part on a connection taken from
    /// `pool` (back in the pool when done) rather than on its own connection, which stays the
    /// scan's identity (`None`: its own connection).
    #[must_use]
    pub fn with_pool(mut self, pool: Option<Pool>) -> DbapiScan {
        self.conn.pool = pool;
        self
    }

    /// The same scan read by `partitions` partitions (at least one): partition `i` reads
    /// parts `i`, `i + n`, `i + 2n`, ... in their order, opening its next part while reading
    /// one.
    #[must_use]
    pub fn with_partitions(self, partitions: usize) -> DbapiScan {
        let partitions = partitions.max(1);
        DbapiScan {
            properties: properties(&self.schema, partitions),
            partitions,
            ..self
        }
    }

    /// The same scan with the result's totals (from [`dbapi::Partitions`]), given to
    /// DataFusion as inexact statistics.
    #[must_use]
    pub fn with_totals(mut self, totals: Totals) -> DbapiScan {
        self.totals = totals;
        self
    }

    /// The result's totals, when known.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// A scan whose statement has already run: `remote` holds its parts, one partition each
    /// (one partition for a result read whole). What a plan sent to other processes holds
    /// (Ballista: planned by the scheduler, read by the executors); the parts are read
    /// through `conn`, a connection to the same service.
    pub fn planned(
        conn: Arc<dyn Connection>,
        sql: String,
        schema: SchemaRef,
        remote: RemoteParts,
    ) -> DbapiScan {
        let partitions = match &remote {
            RemoteParts::Parts(parts) => parts.len(),
            RemoteParts::Whole => 1,
        };
        let mut scan = DbapiScan::new(conn, sql, schema, partitions);
        // A fresh cell: set cannot fail.
        let _ = scan.parts.set(Ok(Arc::new(remote)));
        scan.planned = true;
        scan
    }

    /// Runs `sql` on `conn` now, for a scan holding its parts ([`DbapiScan::planned`]) and
    /// the result's totals: what a plan spread over other processes is made of.
    ///
    /// # Errors
    /// The connection's error running the statement.
    pub async fn run_now(
        conn: Arc<dyn Connection>,
        sql: String,
        schema: SchemaRef,
    ) -> dbapi::Result<DbapiScan> {
        let (remote, totals) = run_for_parts(conn.as_ref(), &sql).await?;
        Ok(DbapiScan::planned(conn, sql, schema, remote).with_totals(totals))
    }

    /// The statement sent to the remote server.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The connection the result is read through.
    pub fn connection(&self) -> &Arc<dyn Connection> {
        &self.conn.own
    }

    /// The result's parts, once the statement has run (when the plan was made with
    /// [`DbapiScan::planned`], or once executed); `None` before.
    pub fn remote_parts(&self) -> Option<&RemoteParts> {
        match self.parts.get() {
            Some(Ok(remote)) => Some(remote),
            _ => None,
        }
    }
}

/// The properties of a scan of `schema` read by `partitions` partitions.
fn properties(schema: &SchemaRef, partitions: usize) -> Arc<PlanProperties> {
    Arc::new(PlanProperties::new(
        EquivalenceProperties::new(Arc::clone(schema)),
        Partitioning::UnknownPartitioning(partitions),
        EmissionType::Incremental,
        Boundedness::Bounded,
    ))
}

impl DisplayAs for DbapiScan {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbapiScan: sql={}", self.sql)
    }
}

impl ExecutionPlan for DbapiScan {
    fn name(&self) -> &'static str {
        "DbapiScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn statistics_from_inputs(
        &self,
        _inputs: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::new(
            self.totals.statistics(&self.schema, args.partition()),
        ))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _: Vec<Arc<dyn ExecutionPlan>>,
        _: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    /// Ready for another execution (DataFusion's `reset_plan_states`: a plan kept and run
    /// again, the recursive term of a recursive query): a scan that ran its statement at
    /// execution runs it again, for fresh rows and fresh tickets (the last run's may have
    /// expired or been used up); a scan planned with its parts ([`DbapiScan::planned`])
    /// reads those parts again.
    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        if self.planned {
            return Ok(self);
        }
        Ok(Arc::new(DbapiScan {
            parts: Arc::new(OnceCell::new()),
            ..(*self).clone()
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition >= self.partitions {
            return Err(DataFusionError::Internal(format!(
                "DbapiScan has {} partitions, not {partition}",
                self.partitions
            )));
        }
        let reader = Reader {
            conn: self.conn.clone(),
            sql: self.sql.clone(),
            schema: Arc::clone(&self.schema),
            partition,
            partitions: self.partitions,
            parts: Arc::clone(&self.parts),
            queue: None,
            opening: VecDeque::new(),
            cursor: None,
        };
        let stream = futures::stream::try_unfold(reader, |mut reader| async move {
            match reader.next().await? {
                Some(batch) => Ok(Some((batch, reader))),
                None => Ok(None),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}

/// What one partition reads: its parts one after another.
struct Reader {
    conn: Connections,
    sql: String,
    schema: SchemaRef,
    partition: usize,
    partitions: usize,
    parts: Arc<OnceCell<std::result::Result<Arc<RemoteParts>, Arc<dbapi::Error>>>>,
    /// This partition's parts not yet opened (`None` until the statement ran).
    queue: Option<VecDeque<Vec<u8>>>,
    /// Parts being opened ahead of the one read, in order (their first batch asked for, so
    /// that the round trips of a partition's parts overlap).
    opening: VecDeque<SpawnedTask<Result<Opened>>>,
    /// The part being read, and the connection it is read on.
    cursor: Option<(Box<dyn Cursor>, Lease)>,
}

/// How many parts a partition opens ahead of the one it reads.
const PARTS_AHEAD: usize = 1;

/// A part opened: its cursor, the connection it is read on, and its first batch.
struct Opened {
    cursor: Box<dyn Cursor>,
    lease: Lease,
    first: Option<RecordBatch>,
}

/// A connection a scan runs its statement or reads a part on: its own, or one taken from its
/// pool (back in the pool when dropped).
enum Lease {
    Own(Arc<dyn Connection>),
    Pooled(PooledConnection),
}

impl std::ops::Deref for Lease {
    type Target = dyn Connection;

    fn deref(&self) -> &Self::Target {
        match self {
            Lease::Own(conn) => conn.as_ref(),
            Lease::Pooled(conn) => &***conn,
        }
    }
}

/// Where a scan's connections come from: its own connection (its identity), and the pool each
/// run and each part takes one from, when it has one.
#[derive(Clone)]
struct Connections {
    own: Arc<dyn Connection>,
    pool: Option<Pool>,
}

impl Connections {
    /// A connection for one run or one part: from the pool when there is one, else its own.
    async fn lease(&self) -> dbapi::Result<Lease> {
        match &self.pool {
            Some(pool) => pool
                .get()
                .await
                .map(Lease::Pooled)
                .map_err(dbapi::Error::from),
            None => Ok(Lease::Own(Arc::clone(&self.own))),
        }
    }
}

/// Opens `part` on a connection of the scan's and reads its first batch.
async fn open(conn: Connections, part: Vec<u8>) -> Result<Opened> {
    let lease = conn.lease().await.map_err(external)?;
    let mut cursor = lease.read_partition(&part).await.map_err(external)?;
    let first = cursor.fetch_batch().await.map_err(external)?;
    Ok(Opened {
        cursor,
        lease,
        first,
    })
}

/// Runs `sql` on `conn` for its parts and their totals: the driver's parts, or the whole
/// result read by one partition when the driver has no partitions.
pub(crate) async fn run_for_parts(
    conn: &dyn Connection,
    sql: &str,
) -> dbapi::Result<(RemoteParts, Totals)> {
    match conn.execute_partitions(sql, Params::None).await {
        Ok(partitions) => Ok((
            RemoteParts::Parts(partitions.parts),
            Totals {
                rows: partitions.total_rows,
                bytes: partitions.total_bytes,
            },
        )),
        Err(e) if e.is_not_supported() => Ok((RemoteParts::Whole, Totals::default())),
        Err(e) => Err(e),
    }
}

/// The statement's parts: run once, by whichever partition comes first.
async fn run_once(
    conn: &Connections,
    sql: &str,
    parts: &OnceCell<std::result::Result<Arc<RemoteParts>, Arc<dbapi::Error>>>,
) -> Result<Arc<RemoteParts>> {
    let outcome = parts
        .get_or_init(|| async {
            let conn = conn.lease().await.map_err(Arc::new)?;
            run_for_parts(&*conn, sql)
                .await
                .map(|(remote, _)| Arc::new(remote))
                .map_err(Arc::new)
        })
        .await;
    outcome
        .clone()
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

impl Reader {
    /// The next batch of this partition, in the scan's schema.
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some((cursor, _)) = &mut self.cursor {
                match cursor.fetch_batch().await.map_err(external)? {
                    Some(batch) => return self.conform(batch).map(Some),
                    None => self.cursor = None,
                }
            }
            if self.queue.is_none() {
                let remote = run_once(&self.conn, &self.sql, &self.parts).await?;
                let queue = match &*remote {
                    RemoteParts::Parts(parts) => parts
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % self.partitions == self.partition)
                        .map(|(_, part)| part.clone())
                        .collect(),
                    RemoteParts::Whole if self.partition == 0 => {
                        let lease = self.conn.lease().await.map_err(external)?;
                        let mut cursor = lease.cursor().map_err(external)?;
                        cursor
                            .execute(&self.sql, Params::None)
                            .await
                            .map_err(external)?;
                        self.cursor = Some((cursor, lease));
                        VecDeque::new()
                    }
                    RemoteParts::Whole => VecDeque::new(),
                };
                self.queue = Some(queue);
                continue;
            }
            // The next part, and up to PARTS_AHEAD more being opened meanwhile.
            while self.opening.len() <= PARTS_AHEAD {
                let Some(part) = self.queue.as_mut().and_then(VecDeque::pop_front) else {
                    break;
                };
                self.opening
                    .push_back(SpawnedTask::spawn(open(self.conn.clone(), part)));
            }
            let Some(task) = self.opening.pop_front() else {
                return Ok(None);
            };
            let opened = task.join().await.map_err(|e| {
                DataFusionError::Execution(format!("reading a part of the remote result: {e}"))
            })??;
            self.cursor = Some((opened.cursor, opened.lease));
            if let Some(batch) = opened.first {
                return self.conform(batch).map(Some);
            }
        }
    }

    /// A remote batch in the scan's schema: the same columns by position (names and
    /// nullability as DataFusion planned them); a scan of no columns keeps only row counts.
    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let columns = if self.schema.fields().is_empty() {
            Vec::new()
        } else if batch.num_columns() != self.schema.fields().len() {
            return Err(DataFusionError::Execution(format!(
                "the remote result has {} columns where {} were planned: {}",
                batch.num_columns(),
                self.schema.fields().len(),
                self.sql
            )));
        } else {
            // A server may type a column otherwise than DataFusion planned it (an SQLite
            // count, a PostgreSQL numeric): cast to the planned type, or say why not.
            batch
                .columns()
                .iter()
                .zip(self.schema.fields())
                .map(|(column, field)| {
                    if column.data_type() == field.data_type() {
                        Ok(Arc::clone(column))
                    } else {
                        arrow::compute::cast(column, field.data_type()).map_err(|e| {
                            DataFusionError::Execution(format!(
                                "the remote column {} is {}, not {} as planned ({e}): {}",
                                field.name(),
                                column.data_type(),
                                field.data_type(),
                                self.sql
                            ))
                        })
                    }
                })
                .collect::<Result<Vec<_>>>()?
        };
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options).map_err(
            |e| {
                DataFusionError::Execution(format!(
                    "the remote result does not have the table's columns ({e}): {}",
                    self.sql
                ))
            },
        )
    }
}

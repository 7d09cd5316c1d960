//! How a cluster reads a result's parts: as data. The scheduler plans the remote statement
//! once and puts its parts in an in-memory source, one part per partition; Ballista gives
//! each task its slice of that source (as it does with files), and [`DbapiPartsExec`] above
//! it reads the parts the task was given.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, BinaryArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::StatisticsArgs;
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use dbapi::Connection;
use dbapi_datafusion::{DbapiScan, DbapiTable, FederationPlanner, RemoteParts, Totals};
use futures::TryStreamExt;

/// The column of the parts source: a part's bytes, or null for "run the statement whole"
/// (a driver without partitions).
fn parts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "part",
        DataType::Binary,
        true,
    )]))
}

/// The parts of a planned result as an in-memory source: one partition per part, or all in
/// one partition in their order when `in_order` (one partition holding no part for an empty
/// result).
fn parts_source(remote: &RemoteParts, in_order: bool) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = parts_schema();
    let batch = |values: Vec<Option<&[u8]>>| {
        RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(BinaryArray::from(values))],
        )
    };
    let partitions = match remote {
        RemoteParts::Parts(parts) if parts.is_empty() => vec![Vec::new()],
        RemoteParts::Parts(parts) if in_order => vec![vec![batch(
            parts.iter().map(|part| Some(part.as_slice())).collect(),
        )?]],
        RemoteParts::Parts(parts) => parts
            .iter()
            .map(|part| Ok(vec![batch(vec![Some(part)])?]))
            .collect::<Result<Vec<_>>>()?,
        RemoteParts::Whole => vec![vec![batch(vec![None])?]],
    };
    Ok(MemorySourceConfig::try_new_exec(&partitions, schema, None)?)
}

/// What a task's slice of the parts source holds.
fn remote_of(batches: &[RecordBatch]) -> Result<RemoteParts> {
    let mut parts = Vec::new();
    let mut whole = false;
    for batch in batches {
        let column = batch
            .columns()
            .first()
            .and_then(|c| c.as_binary_opt::<i32>())
            .ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "the parts of a dbapi result are a binary column, not {:?}",
                    batch.schema()
                ))
            })?;
        for i in 0..column.len() {
            if column.is_null(i) {
                whole = true;
            } else {
                parts.push(column.value(i).to_vec());
            }
        }
    }
    match (whole, parts.is_empty()) {
        (false, _) => Ok(RemoteParts::Parts(parts)),
        (true, true) => Ok(RemoteParts::Whole),
        (true, false) => Err(DataFusionError::Internal(
            "a dbapi result both in parts and whole".into(),
        )),
    }
}

/// Reads the parts of a remote result that its input (the parts source, sliced by the
/// cluster) gives each partition: each part at its locations, through this process's
/// connection, in the scan's schema.
pub struct DbapiPartsExec {
    conn: Arc<dyn Connection>,
    sql: String,
    schema: SchemaRef,
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    totals: Totals,
}

impl fmt::Debug for DbapiPartsExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbapiPartsExec")
            .field("sql", &self.sql)
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl DbapiPartsExec {
    /// Reads the parts `input` holds for `sql`'s result through `conn`.
    pub(crate) fn new(
        conn: Arc<dyn Connection>,
        sql: String,
        schema: SchemaRef,
        input: Arc<dyn ExecutionPlan>,
    ) -> DbapiPartsExec {
        let partitions = input.properties().partitioning.partition_count();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        DbapiPartsExec {
            conn,
            sql,
            schema,
            input,
            properties,
            totals: Totals::default(),
        }
    }

    /// The same reader with the result's totals, its statistics.
    pub(crate) fn with_totals(mut self, totals: Totals) -> DbapiPartsExec {
        self.totals = totals;
        self
    }

    /// The result's rows and bytes as the server gave them.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The statement whose result is read.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The connection the parts are read through.
    pub fn connection(&self) -> &Arc<dyn Connection> {
        &self.conn
    }
}

impl DisplayAs for DbapiPartsExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbapiPartsExec: sql={}", self.sql)
    }
}

impl ExecutionPlan for DbapiPartsExec {
    fn name(&self) -> &'static str {
        "DbapiPartsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
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

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // One part per partition already: more partitions of the parts would gain nothing.
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(format!(
                "DbapiPartsExec has one input, not {}",
                children.len()
            )));
        }
        Ok(Arc::new(
            DbapiPartsExec::new(
                Arc::clone(&self.conn),
                self.sql.clone(),
                Arc::clone(&self.schema),
                children.swap_remove(0),
            )
            .with_totals(self.totals),
        ))
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
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let (conn, sql, schema) = (
            Arc::clone(&self.conn),
            self.sql.clone(),
            Arc::clone(&self.schema),
        );
        let batches = futures::stream::once(async move {
            let given: Vec<RecordBatch> = input.try_collect().await?;
            // The task's parts in their order, each next one opened while one is read.
            DbapiScan::planned(conn, sql, schema, remote_of(&given)?)
                .with_partitions(1)
                .execute(0, context)
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        )))
    }
}

/// A [`DbapiTable`] as the scheduler of a cluster holds it: its statement runs when the
/// plan is made, and its scan reads the result's parts as the tasks are given them.
#[derive(Debug)]
pub(crate) struct ClusterTable {
    table: DbapiTable,
}

impl ClusterTable {
    pub(crate) fn new(table: DbapiTable) -> ClusterTable {
        ClusterTable {
            table: table.with_parts_at_planning(),
        }
    }

    /// The table it reads.
    pub(crate) fn table(&self) -> &DbapiTable {
        &self.table
    }
}

#[async_trait]
impl TableProvider for ClusterTable {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn table_type(&self) -> TableType {
        self.table.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.table.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.table.scan(state, projection, filters, limit).await?;
        let scan = plan.downcast_ref::<DbapiScan>().ok_or_else(|| {
            DataFusionError::Internal(format!("a dbapi table planned {}", plan.name()))
        })?;
        parts_reader(scan)
    }
}

/// The reader of a planned scan's parts, over a source of them the cluster slices: one part
/// per partition, or all in one in their order when the scan reads them so.
fn parts_reader(scan: &DbapiScan) -> Result<Arc<dyn ExecutionPlan>> {
    let in_order = scan.properties().partitioning.partition_count() == 1;
    let remote = scan.remote_parts().ok_or_else(|| {
        DataFusionError::Internal("a dbapi scan planned without its parts".into())
    })?;
    Ok(Arc::new(
        DbapiPartsExec::new(
            Arc::clone(scan.connection()),
            scan.sql().to_owned(),
            scan.schema(),
            parts_source(remote, in_order)?,
        )
        .with_totals(scan.totals()),
    ))
}

/// The query planner of a cluster's scheduler: federation's
/// ([`FederationPlanner::with_parts_at_planning`]), the federated parts of a query
/// ([`RemoteQuery`](dbapi_datafusion::RemoteQuery), from a client whose session federates)
/// run when planned and their parts given to the tasks as a table's are — one part per
/// partition, or all in one partition in their order for a sorted result.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClusterPlanner;

#[async_trait]
impl QueryPlanner for ClusterPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = FederationPlanner::default()
            .with_parts_at_planning()
            .create_physical_plan(logical_plan, session)
            .await?;
        plan.transform_up(|node| match node.downcast_ref::<DbapiScan>() {
            Some(scan) if scan.remote_parts().is_some() => parts_reader(scan).map(Transformed::yes),
            _ => Ok(Transformed::no(node)),
        })
        .data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(source: &Arc<dyn ExecutionPlan>) -> Vec<RemoteParts> {
        let partitions = source.properties().partitioning.partition_count();
        (0..partitions)
            .map(|p| {
                let memory = source
                    .downcast_ref::<datafusion::datasource::source::DataSourceExec>()
                    .and_then(|e| {
                        (e.data_source().as_ref() as &dyn std::any::Any)
                            .downcast_ref::<MemorySourceConfig>()
                    })
                    .map(|m| m.partitions()[p].clone())
                    .unwrap_or_default();
                remote_of(&memory).unwrap_or(RemoteParts::Parts(Vec::new()))
            })
            .collect()
    }

    #[test]
    fn parts_go_one_to_a_partition_and_come_back_alike() {
        let remote = RemoteParts::Parts(vec![b"a".to_vec(), b"bc".to_vec(), Vec::new()]);
        let source = parts_source(&remote, false).ok();
        let got = source.as_ref().map(collect).unwrap_or_default();
        assert_eq!(
            got,
            vec![
                RemoteParts::Parts(vec![b"a".to_vec()]),
                RemoteParts::Parts(vec![b"bc".to_vec()]),
                RemoteParts::Parts(vec![Vec::new()]),
            ]
        );
        let whole = parts_source(&RemoteParts::Whole, false).ok();
        assert_eq!(
            whole.as_ref().map(collect).unwrap_or_default(),
            vec![RemoteParts::Whole]
        );
        let empty = parts_source(&RemoteParts::Parts(Vec::new()), false).ok();
        assert_eq!(
            empty.as_ref().map(collect).unwrap_or_default(),
            vec![RemoteParts::Parts(Vec::new())]
        );
    }
}

//! Federation: a part of a query whose tables all live on one connection goes to that server
//! as one SQL statement (its joins, aggregates, sorts and limits included) instead of each
//! table being pulled and the rest run by DataFusion.
//!
//! [`Federation`] is a logical optimizer rule: after DataFusion's own rules, it finds the
//! largest subtrees made only of [`DbapiTable`] scans of one connection and of operators every
//! SQL server runs alike, and replaces each by a [`RemoteQuery`] node holding the statement
//! DataFusion's unparser writes for it. [`FederationPlanner`] turns that node into a
//! [`DbapiScan`](crate::DbapiScan). [`federate`] adds both to a session.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchemaRef, NullEquality, Result, TableReference};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Distinct, Expr, Extension, JoinType, LogicalPlan, TableScan, UserDefinedLogicalNode,
    UserDefinedLogicalNodeCore,
};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::sql::sqlparser::ast::{self, VisitMut, VisitorMut};
use datafusion::sql::unparser::Unparser;
use dbapi::Connection;

use crate::exec::{DbapiScan, external};
use crate::sql::{Dialect, Sent, portable};
use crate::table::DbapiTable;

/// `builder` with federation: the [`Federation`] optimizer rule and the
/// [`FederationPlanner`] as its query planner (which replaces any query planner set before).
///
/// ```
/// use datafusion::execution::SessionStateBuilder;
/// use datafusion::prelude::SessionContext;
///
/// let state = dbapi_datafusion::federate(SessionStateBuilder::new().with_default_features())
///     .build();
/// let ctx = SessionContext::new_with_state(state);
/// # let _ = ctx;
/// ```
pub fn federate(builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
        .with_optimizer_rule(Arc::new(Federation))
        .with_query_planner(Arc::new(FederationPlanner::default()))
}

/// The optimizer rule of federation (see the module's documentation): subtrees of one
/// connection's tables become one remote statement.
///
/// What goes to the server: table scans (with the columns, filters and limit DataFusion
/// pushed into them), projections, filters, inner and outer joins on equalities (with other
/// conditions), aggregates with `count`, `sum`, `min`, `max` and `avg` (`DISTINCT`
/// included), `DISTINCT`, `ORDER BY`, `LIMIT`/`OFFSET` and aliases, over expressions of
/// columns, literals, comparisons, arithmetic, `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `IN`,
/// `BETWEEN` and `LIKE`. Subqueries in `FROM` go too; scalar, `IN` and `EXISTS` subqueries
/// stay in DataFusion (which runs them as subqueries or semi and anti joins), each side sent
/// on its own. Anything else (other functions, casts, windows, unions, tables of other
/// connections or local tables) stays in DataFusion, whose plan then reads the remote parts it
/// needs. Tables
/// are of one connection when their [`DbapiTable`]s share the same `Arc<dyn Connection>` (a
/// [`DbapiCatalog`](crate::DbapiCatalog)'s tables do) and dialect.
#[derive(Debug, Default, Clone, Copy)]
pub struct Federation;

impl OptimizerRule for Federation {
    fn name(&self) -> &str {
        "dbapi_federation"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let target_partitions = config.options().execution.target_partitions;
        let (plan, source) = federate_node(plan, target_partitions)?;
        match source {
            Some(source) if !is_bare_scan(&plan.data) => {
                let changed = plan.transformed;
                let mut remote = remote(plan.data, &source, target_partitions)?;
                remote.transformed |= changed;
                Ok(remote)
            }
            _ => Ok(plan),
        }
    }
}

/// Where a subtree runs: the connection and dialect of all its tables.
#[derive(Clone)]
struct Source {
    conn: Arc<dyn Connection>,
    dialect: Dialect,
}

impl Source {
    fn same(&self, other: &Source) -> bool {
        Arc::ptr_eq(&self.conn, &other.conn) && self.dialect == other.dialect
    }
}

/// Federates the subtrees of `plan` (children first); the source of `plan` when all of it
/// can run remotely on one connection (then it is left for the parent to take whole).
fn federate_node(
    plan: LogicalPlan,
    target_partitions: usize,
) -> Result<(Transformed<LogicalPlan>, Option<Source>)> {
    if let LogicalPlan::TableScan(scan) = &plan {
        let source = dbapi_table(scan).map(|t| Source {
            conn: Arc::clone(t.connection()),
            dialect: t.dialect().clone(),
        });
        return Ok((Transformed::no(plan), source));
    }
    let mut sources = Vec::new();
    let mut changed = false;
    let plan = plan.map_children(|child| {
        let (child, source) = federate_node(child, target_partitions)?;
        changed |= child.transformed;
        sources.push(source);
        Ok(Transformed::no(child.data))
    })?;
    let plan = plan.data;
    let shared = match sources.split_first() {
        Some((Some(first), rest))
            if rest
                .iter()
                .all(|s| s.as_ref().is_some_and(|s| s.same(first))) =>
        {
            Some(first.clone())
        }
        _ => None,
    };
    if let Some(source) = shared.filter(|_| runs_remotely(&plan)) {
        return Ok((Transformed::new_transformed(plan, changed), Some(source)));
    }
    // This node stays in DataFusion: each remote child of more than a scan becomes one
    // statement.
    let mut sources = sources.into_iter();
    let plan = plan.map_children(|child| match sources.next().flatten() {
        Some(source) if !is_bare_scan(&child) => remote(child, &source, target_partitions),
        _ => Ok(Transformed::no(child)),
    })?;
    let transformed = changed || plan.transformed;
    Ok((Transformed::new_transformed(plan.data, transformed), None))
}

/// The [`DbapiTable`] a scan reads, if it reads one.
fn dbapi_table(scan: &TableScan) -> Option<&DbapiTable> {
    let source = scan
        .source
        .downcast_ref::<datafusion::datasource::DefaultTableSource>()?;
    (source.table_provider.as_ref() as &dyn std::any::Any).downcast_ref::<DbapiTable>()
}

/// Whether `plan` is a table scan alone (its table's own scan pushes down what it can).
fn is_bare_scan(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::TableScan(_))
}

/// Whether the operator at the top of `plan` (its inputs aside) runs alike on every SQL
/// server.
fn runs_remotely(plan: &LogicalPlan) -> bool {
    let operator = match plan {
        LogicalPlan::Projection(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Aggregate(_)
        | LogicalPlan::Distinct(Distinct::All(_)) => true,
        LogicalPlan::Join(join) => {
            matches!(
                join.join_type,
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
            ) && join.null_equality == NullEquality::NullEqualsNothing
        }
        _ => false,
    };
    operator && plan.expressions().iter().all(|e| portable(e, Sent::Query))
}

/// Whether the rows of `plan` come in an order that matters (an `ORDER BY` at its top, under
/// projections, limits and aliases).
fn is_sorted(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Sort(_) => true,
        LogicalPlan::Projection(_) | LogicalPlan::Limit(_) | LogicalPlan::SubqueryAlias(_) => {
            plan.inputs().first().is_some_and(|input| is_sorted(input))
        }
        _ => false,
    }
}

/// `plan` (all of one connection) as a [`RemoteQuery`] node; `plan` unchanged when the
/// unparser cannot write it.
fn remote(
    plan: LogicalPlan,
    source: &Source,
    target_partitions: usize,
) -> Result<Transformed<LogicalPlan>> {
    let schema = Arc::clone(plan.schema());
    // Sorted rows are read by one partition, part after part, in the result's order.
    let partitions = if is_sorted(&plan) {
        1
    } else {
        target_partitions
    };
    let Some(sql) = remote_sql(&plan, &source.dialect) else {
        // The unparser cannot write it: DataFusion runs it, each table scanned on its own.
        return Ok(Transformed::no(plan));
    };
    Ok(Transformed::yes(LogicalPlan::Extension(Extension {
        node: Arc::new(RemoteQuery::new(
            Arc::clone(&source.conn),
            sql,
            schema,
            partitions,
        )),
    })))
}

/// The remote statement of `plan`, written by DataFusion's unparser and then made to name the
/// remote tables: each table read under its DataFusion name is read by its remote name,
/// aliased by the last part of the DataFusion name (unless the query aliased it), and
/// columns qualified by a longer DataFusion name are qualified by that alias. `None` when two
/// tables would take one alias, or the unparser cannot write the plan.
fn remote_sql(plan: &LogicalPlan, dialect: &Dialect) -> Option<String> {
    let mut tables = Vec::<Renamed>::new();
    plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Some(table) = dbapi_table(scan)
            && !tables.iter().any(|t| t.local == scan.table_name)
        {
            tables.push(Renamed::new(&scan.table_name, table.table()));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .ok()?;
    let aliases: Vec<&str> = tables.iter().map(|t| t.local.table()).collect();
    if (1..aliases.len()).any(|i| aliases[..i].contains(&aliases[i])) {
        return None;
    }
    let unparser_dialect = dialect.unparser_dialect();
    let mut statement = Unparser::new(&unparser_dialect).plan_to_sql(plan).ok()?;
    let mut renamer = Renamer {
        tables: &tables,
        quote: dialect.quote_char(),
    };
    let _ = VisitMut::visit(&mut statement, &mut renamer);
    Some(statement.to_string())
}

/// A table as DataFusion names it and as the remote server does.
struct Renamed {
    local: TableReference,
    /// The parts of the DataFusion name, as the unparser writes them.
    local_parts: Vec<String>,
    remote: dbapi::metadata::TableRef,
}

impl Renamed {
    fn new(local: &TableReference, remote: &dbapi::metadata::TableRef) -> Renamed {
        let local_parts = [local.catalog(), local.schema()]
            .into_iter()
            .flatten()
            .chain(std::iter::once(local.table()))
            .map(str::to_owned)
            .collect();
        Renamed {
            local: local.clone(),
            local_parts,
            remote: remote.clone(),
        }
    }

    /// Whether `parts` (an unparsed table name or column qualifier) name this table.
    fn is(&self, parts: &[&str]) -> bool {
        self.local_parts.len() == parts.len()
            && self.local_parts.iter().zip(parts).all(|(a, b)| a == b)
    }
}

/// Rewrites unparsed SQL from DataFusion's table names to the remote ones.
struct Renamer<'a> {
    tables: &'a [Renamed],
    quote: char,
}

impl Renamer<'_> {
    fn ident(&self, value: &str) -> ast::Ident {
        ast::Ident::with_quote(self.quote, value)
    }
}

impl VisitorMut for Renamer<'_> {
    type Break = ();

    fn pre_visit_table_factor(
        &mut self,
        factor: &mut ast::TableFactor,
    ) -> std::ops::ControlFlow<Self::Break> {
        if let ast::TableFactor::Table { name, alias, .. } = factor {
            let parts: Option<Vec<&str>> = name
                .0
                .iter()
                .map(|part| part.as_ident().map(|i| i.value.as_str()))
                .collect();
            if let Some(table) = parts.and_then(|p| self.tables.iter().find(|t| t.is(&p))) {
                let remote = &table.remote;
                let idents: Vec<ast::Ident> = [&remote.catalog, &remote.schema]
                    .into_iter()
                    .flatten()
                    .chain(std::iter::once(&remote.name))
                    .map(|part| self.ident(part))
                    .collect();
                *name = ast::ObjectName::from(idents);
                if alias.is_none() {
                    *alias = Some(ast::TableAlias {
                        explicit: true,
                        name: self.ident(table.local.table()),
                        columns: Vec::new(),
                        at: None,
                    });
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut ast::Expr) -> std::ops::ControlFlow<Self::Break> {
        if let ast::Expr::CompoundIdentifier(idents) = expr
            && idents.len() > 2
        {
            let qualifier: Vec<&str> = idents[..idents.len() - 1]
                .iter()
                .map(|i| i.value.as_str())
                .collect();
            if let Some(table) = self.tables.iter().find(|t| t.is(&qualifier)) {
                let column = idents[idents.len() - 1].clone();
                *idents = vec![self.ident(table.local.table()), column];
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// A part of a query sent to one connection as one statement.
pub struct RemoteQuery {
    conn: Arc<dyn Connection>,
    sql: String,
    schema: DFSchemaRef,
    partitions: usize,
}

impl RemoteQuery {
    /// The part of a query `sql` sends to `conn`'s server, its rows of `schema` (DataFusion's
    /// columns, qualified as the plan above reads them), read by `partitions` partitions (1
    /// reads the result's parts in their order, as a sorted result must be).
    pub fn new(
        conn: Arc<dyn Connection>,
        sql: String,
        schema: DFSchemaRef,
        partitions: usize,
    ) -> RemoteQuery {
        RemoteQuery {
            conn,
            sql,
            schema,
            partitions: partitions.max(1),
        }
    }

    /// The statement sent to the server.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The connection the statement is sent through.
    pub fn connection(&self) -> &Arc<dyn Connection> {
        &self.conn
    }

    /// How many partitions read its result (1: the parts in their order).
    pub fn partitions(&self) -> usize {
        self.partitions
    }
}

impl fmt::Debug for RemoteQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteQuery")
            .field("sql", &self.sql)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RemoteQuery {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.conn, &other.conn) && self.sql == other.sql && self.schema == other.schema
    }
}

impl Eq for RemoteQuery {}

impl PartialOrd for RemoteQuery {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.sql.partial_cmp(&other.sql)
    }
}

impl Hash for RemoteQuery {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.sql.hash(state);
    }
}

impl UserDefinedLogicalNodeCore for RemoteQuery {
    fn name(&self) -> &str {
        "RemoteQuery"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RemoteQuery: sql={}", self.sql)
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(RemoteQuery {
            conn: Arc::clone(&self.conn),
            sql: self.sql.clone(),
            schema: Arc::clone(&self.schema),
            partitions: self.partitions,
        })
    }
}

/// The query planner of a federating session: DataFusion's, turning [`RemoteQuery`] nodes
/// into [`DbapiScan`]s.
#[derive(Debug, Default, Clone, Copy)]
pub struct FederationPlanner {
    parts_at_planning: bool,
}

impl FederationPlanner {
    /// The same planner running each remote statement when it plans, as
    /// [`DbapiTable::with_parts_at_planning`] does: each scan holds its result's parts
    /// ([`DbapiScan::planned`], one partition per part, or one partition reading them in
    /// order when the statement sorts), as a plan spread over other processes must.
    #[must_use]
    pub fn with_parts_at_planning(mut self) -> FederationPlanner {
        self.parts_at_planning = true;
        self
    }
}

#[async_trait]
impl QueryPlanner for FederationPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let remote = RemoteQueryPlanner {
            parts_at_planning: self.parts_at_planning,
        };
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(remote)])
            .create_physical_plan(logical_plan, session)
            .await
    }
}

/// Plans [`RemoteQuery`] nodes.
struct RemoteQueryPlanner {
    parts_at_planning: bool,
}

#[async_trait]
impl ExtensionPlanner for RemoteQueryPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(query) = node.as_any().downcast_ref::<RemoteQuery>() else {
            return Ok(None);
        };
        let (conn, sql) = (Arc::clone(&query.conn), query.sql.clone());
        let schema = Arc::new(query.schema.as_arrow().clone());
        if !self.parts_at_planning {
            return Ok(Some(Arc::new(DbapiScan::new(
                conn,
                sql,
                schema,
                query.partitions,
            ))));
        }
        let scan = DbapiScan::run_now(conn, sql, schema)
            .await
            .map_err(external)?;
        // A sorted result is read in order, by one partition.
        Ok(Some(Arc::new(if query.partitions == 1 {
            scan.with_partitions(1)
        } else {
            scan
        })))
    }
}

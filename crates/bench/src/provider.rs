//! `dbapi-datafusion`'s table provider against the driver's Arrow path, on the same server:
//! a selective query (`WHERE` 1 % of the rows, `LIMIT 1000`) and a full scan, each against
//! the remote statement the provider sends read as Arrow; and the bytes the selective query
//! receives against pulling the table into a `MemTable` first and querying that.

use std::sync::Arc;
use std::time::Instant;

use datafusion::datasource::MemTable;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use dbapi::Connection;
use dbapi::metadata::TableRef;
use dbapi_datafusion::{DbapiScan, DbapiTable};
use dbapi_flightsql_server::overrides;
use futures::StreamExt;

use crate::{
    BoxError, Figure, arrow_rows, loopback_bytes_received, median, ratio_figure, registry, timed,
};

/// The endpoints of every result in these figures.
const ENDPOINTS: usize = 4;

/// The figures, against the server at `url` whose `numbers` holds `rows` rows.
pub(crate) async fn figures(url: &str, rows: usize, reps: usize) -> Result<Vec<Figure>, BoxError> {
    let url = format!("{url}&header.{}={ENDPOINTS}", overrides::ENDPOINTS);
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&url).await?);
    let table = DbapiTable::new(Arc::clone(&conn), TableRef::new("numbers")).await?;
    let ctx = SessionContext::new();
    ctx.register_table("numbers", Arc::new(table))?;

    let hundredth = rows / 100;
    let selective =
        format!("SELECT id, value, name FROM numbers WHERE id < {hundredth} LIMIT 1000");
    let selected = hundredth.min(1000);
    let full = "SELECT * FROM numbers";
    let remote_selective = remote_sql(&ctx, &selective).await?;
    let remote_full = remote_sql(&ctx, full).await?;

    // Each comparison in a loop of its own (a full scan of the table just before a selective
    // query slows whichever side comes next).
    let (provider_sel, arrow_sel) = in_turns(
        reps,
        async || {
            let before = loopback_bytes_received()?;
            let took = timed(selected, "provider, selective", || {
                provided(&ctx, &selective)
            })
            .await?;
            Ok((took, loopback_bytes_received()? - before))
        },
        async || {
            timed(selected, "Arrow path, selective", || {
                arrow_rows_any_order(conn.as_ref(), &remote_selective)
            })
            .await
        },
    )
    .await?;
    let (provider_sel, provider_bytes): (Vec<_>, Vec<_>) = provider_sel.into_iter().unzip();
    // DataFusion's share of the selective query: parsing and planning it, no remote call;
    // then executing the planned query alone.
    let (mut planning, mut executing) = (vec![], vec![]);
    for rep in 0..=reps {
        let started = Instant::now();
        let plan = ctx.sql(&selective).await?.create_physical_plan().await?;
        let planned = started.elapsed();
        let started = Instant::now();
        let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        let got: usize = batches.iter().map(|b| b.num_rows()).sum();
        if got != selected {
            return Err(format!("provider, planned: {got} rows, expected {selected}").into());
        }
        if rep > 0 {
            planning.push(planned);
            executing.push(started.elapsed());
        }
    }
    // A query planned once and run again (`reset_plan_states`: the statement runs afresh each
    // time), as a program repeating a query keeps its plan: the provider without
    // DataFusion's planning of each query.
    let kept = ctx.sql(&selective).await?.create_physical_plan().await?;
    let task_ctx = ctx.task_ctx();
    let (provider_kept, arrow_kept) = in_turns(
        reps,
        async || {
            timed(selected, "provider, planned once", || {
                run_again(&kept, &task_ctx)
            })
            .await
        },
        async || {
            timed(selected, "Arrow path, selective", || {
                arrow_rows_any_order(conn.as_ref(), &remote_selective)
            })
            .await
        },
    )
    .await?;
    let (provider_full, arrow_full) = in_turns(
        reps,
        async || timed(rows, "provider, full scan", || provided(&ctx, full)).await,
        async || {
            timed(rows, "Arrow path, full scan", || {
                arrow_rows(conn.as_ref(), &remote_full)
            })
            .await
        },
    )
    .await?;
    let mut pulled_bytes = vec![];
    for _ in 0..reps {
        let before = loopback_bytes_received()?;
        let pulled = pull_then_query(conn.as_ref(), &selective).await?;
        if pulled != selected {
            return Err(format!("MemTable: {pulled} rows, expected {selected}").into());
        }
        pulled_bytes.push(loopback_bytes_received()? - before);
    }
    let planned = median(planning);
    let executed = median(executing);
    let (provider_sel, arrow_sel) = (median(provider_sel), median(arrow_sel));
    let bytes = median_bytes(provider_bytes) as f64;
    let pulled = median_bytes(pulled_bytes) as f64;
    Ok(vec![
        ratio_figure(
            &format!("provider_where_1_percent_limit_1000_of_{rows}"),
            provider_sel,
            "the same remote SQL through the Arrow path",
            arrow_sel,
            1.1,
        ),
        Figure::against(
            &format!("provider_where_1_percent_limit_1000_of_{rows}_planning"),
            planned,
            "the provider's whole selective query",
            provider_sel,
        )
        .in_ms(),
        Figure::against(
            &format!("provider_where_1_percent_limit_1000_of_{rows}_executing"),
            executed,
            "the same remote SQL through the Arrow path",
            arrow_sel,
        )
        .in_ms(),
        Figure::against(
            &format!("provider_where_1_percent_limit_1000_of_{rows}_planned_once"),
            median(provider_kept),
            "the same remote SQL through the Arrow path",
            median(arrow_kept),
        )
        .in_ms(),
        Figure {
            name: format!("provider_where_1_percent_limit_1000_of_{rows}_bytes"),
            value: bytes / (1024.0 * 1024.0),
            unit: "MiB received",
            baseline_name: Some("pulling the table into a MemTable first".into()),
            ratio: Some(bytes / pulled),
            target: Some("≤ 0.05".into()),
            met: Some(bytes / pulled <= 0.05),
        },
        ratio_figure(
            &format!("provider_full_scan_of_{rows}"),
            median(provider_full),
            "the same remote SQL through the Arrow path",
            median(arrow_full),
            1.1,
        ),
    ])
}

/// The statement the provider sends for `sql`: its scan's, in the physical plan.
async fn remote_sql(ctx: &SessionContext, sql: &str) -> Result<String, BoxError> {
    let plan = ctx.sql(sql).await?.create_physical_plan().await?;
    let mut nodes = vec![plan];
    while let Some(node) = nodes.pop() {
        if let Some(scan) = node.downcast_ref::<DbapiScan>() {
            return Ok(scan.sql().to_owned());
        }
        nodes.extend(node.children().into_iter().cloned());
    }
    Err(format!("no DbapiScan in the plan of {sql}").into())
}

/// Rows of `sql` run by DataFusion, streamed (as the Arrow path reads them).
async fn provided(ctx: &SessionContext, sql: &str) -> Result<usize, BoxError> {
    rows_of(ctx.sql(sql).await?.execute_stream().await?).await
}

/// Rows of a kept physical plan run again (its statement run afresh).
async fn run_again(
    plan: &Arc<dyn ExecutionPlan>,
    task_ctx: &Arc<TaskContext>,
) -> Result<usize, BoxError> {
    let plan = reset_plan_states(Arc::clone(plan))?;
    rows_of(execute_stream(plan, Arc::clone(task_ctx))?).await
}

/// The rows of a stream, read to its end (no batch kept).
async fn rows_of(mut stream: SendableRecordBatchStream) -> Result<usize, BoxError> {
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

/// Rows of `sql` read as Arrow, in whatever order.
async fn arrow_rows_any_order(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, dbapi::Params::None).await?;
    Ok(cursor
        .fetch_all_batches()
        .await?
        .iter()
        .map(|b| b.num_rows())
        .sum())
}

/// The whole table pulled into a `MemTable`, then `sql` run on it: rows.
async fn pull_then_query(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor
        .execute("SELECT * FROM numbers", dbapi::Params::None)
        .await?;
    let batches = cursor.fetch_all_batches().await?;
    let schema = cursor.schema().ok_or("no schema")?;
    let ctx = SessionContext::new();
    ctx.register_table(
        "numbers",
        Arc::new(MemTable::try_new(schema, vec![batches])?),
    )?;
    provided(&ctx, sql).await
}

/// `reps` rounds of two sides of a comparison, after one untimed round, the sides taking
/// turns to go first: what each side gave in the timed rounds.
async fn in_turns<A, B>(
    reps: usize,
    mut first: impl AsyncFnMut() -> Result<A, BoxError>,
    mut second: impl AsyncFnMut() -> Result<B, BoxError>,
) -> Result<(Vec<A>, Vec<B>), BoxError> {
    let (mut firsts, mut seconds) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for rep in 0..=reps {
        let (a, b) = if rep.is_multiple_of(2) {
            let a = first().await?;
            (a, second().await?)
        } else {
            let b = second().await?;
            (first().await?, b)
        };
        if rep > 0 {
            firsts.push(a);
            seconds.push(b);
        }
    }
    Ok((firsts, seconds))
}

fn median_bytes(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

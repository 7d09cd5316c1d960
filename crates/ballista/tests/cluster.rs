//! A Ballista cluster on 127.0.0.1 (a scheduler and two executors from the Ballista crates,
//! in this process) querying a table of the bundled Flight SQL server: the scheduler runs the
//! statement once, each executor reads the parts of its tasks at their locations (two other
//! instances of the server), and the servers see the `DoGet`s of both executors (each
//! connects from an address of its own, `127.0.0.2` and `127.0.0.3`) and none from the
//! scheduler or the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use dbapi::Connection;
use dbapi::metadata::TableRef;
use dbapi_ballista::{ClusterPlanner, DbapiCodec};
use dbapi_datafusion::{DbapiTable, Federation};
use dbapi_flightsql_server::{Locations, Options, Server};

const ROWS: i64 = 20_000;
const PARTS: usize = 6;

async fn connect(url: &str) -> Arc<dyn Connection> {
    dbapi_flightsql::register();
    Arc::from(dbapi::connect(url).await.unwrap())
}

/// A session state whose Ballista codecs read the source `numbers` through `conn`, with the
/// query planner a scheduler needs for federated queries.
fn state(conn: Arc<dyn Connection>) -> SessionState {
    let codec = DbapiCodec::new().with_source("numbers", conn);
    SessionStateBuilder::new()
        .with_default_features()
        .with_config(codec.configure(SessionConfig::new_with_ballista()))
        .with_query_planner(Arc::new(ClusterPlanner))
        .build()
}

/// A server of `numbers` in `PARTS` endpoints, each taking 300 ms before its first batch
/// (with one task slot each, both executors must take part).
async fn slow_server() -> Server {
    Server::builder()
        .table(
            "numbers",
            dbapi_flightsql_server::generated(ROWS as usize, 1_000).unwrap(),
        )
        .options(
            Options {
                endpoints: PARTS,
                ..Options::default()
            }
            .with_faults(|f| f.streams.delay_before_first_batch = Duration::from_millis(300)),
        )
        .start()
        .await
        .unwrap()
}

/// A scheduler and two executors for the server at `url` (each executor connecting from an
/// address of its own, `127.0.0.2` and `127.0.0.3`), and a client session on them with
/// `numbers` registered, federating when `federate`.
async fn cluster(url: &str, federate: bool) -> SessionContext {
    let scheduler_state = state(connect(url).await);
    let scheduler =
        ballista_scheduler::standalone::new_standalone_scheduler_from_state(&scheduler_state)
            .await
            .unwrap();
    let scheduler_url = format!("http://localhost:{}", scheduler.port());
    for local in ["127.0.0.2", "127.0.0.3"] {
        let conn = connect(&format!("{url}&local_address={local}")).await;
        let client = SchedulerGrpcClient::connect(scheduler_url.clone())
            .await
            .unwrap();
        ballista_executor::new_standalone_executor_from_state(client, 1, &state(conn))
            .await
            .unwrap();
    }
    let client_conn = connect(url).await;
    let mut client_state = state(Arc::clone(&client_conn));
    if federate {
        client_state = SessionStateBuilder::new_from_existing(client_state)
            .with_optimizer_rule(Arc::new(Federation))
            .build();
    }
    let ctx = SessionContext::remote_with_state(
        &format!("df://localhost:{}", scheduler.port()),
        client_state,
    )
    .await
    .unwrap();
    let table = DbapiTable::new(client_conn, TableRef::new("numbers").in_schema("public"))
        .await
        .unwrap();
    ctx.register_table("numbers", Arc::new(table)).unwrap();
    ctx
}

/// The addresses the `DoGet`s the server received since the `since`-th came from.
fn readers(server: &Server, since: usize) -> BTreeSet<IpAddr> {
    server.do_get_peers()[since..]
        .iter()
        .map(|p| p.ip())
        .collect()
}

fn executors() -> BTreeSet<IpAddr> {
    ["127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect()
}

fn column(batches: &[RecordBatch], i: usize) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| b.column(i).as_primitive::<Int64Type>().values().to_vec())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_reads_the_parts_on_both_executors_exactly() {
    let server = slow_server().await;
    // The parts live on two other instances, read at their locations.
    let replicas = [
        server.spawn_replica().await.unwrap(),
        server.spawn_replica().await.unwrap(),
    ];
    server.set_options(|o| {
        o.locations = Locations::RoundRobin(replicas.iter().map(|r| r.location()).collect());
    });
    let ctx = cluster(&server.url(), false).await;

    let statements = server.statements().len();
    let gets = server.stats().do_get;
    let peers = server.do_get_peers().len();
    let batches = ctx
        .sql(
            "SELECT id % 7 AS k, count(*) AS n, sum(id) AS s FROM numbers \
             WHERE id >= 1000 GROUP BY id % 7 ORDER BY k",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let (keys, counts, sums) = (
        column(&batches, 0),
        column(&batches, 1),
        column(&batches, 2),
    );
    let mut expected = vec![(0_i64, 0_i64); 7];
    for id in 1000..ROWS {
        let slot = &mut expected[(id % 7) as usize];
        slot.0 += 1;
        slot.1 += id;
    }
    assert_eq!(keys, (0..7).collect::<Vec<i64>>());
    assert_eq!(
        counts
            .iter()
            .zip(&sums)
            .map(|(n, s)| (*n, *s))
            .collect::<Vec<_>>(),
        expected
    );

    // The statement ran once (planned by the scheduler), its filter pushed down, and every
    // part was read once.
    let sent: Vec<String> = server.statements()[statements..].to_vec();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("\"id\" >= 1000"), "{sent:?}");
    assert_eq!(server.stats().do_get - gets, PARTS as u64);
    // Read by both executors, from their own addresses; not by the scheduler or the client.
    assert_eq!(readers(&server, peers), executors());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_federated_query_goes_to_the_server_whole_and_its_parts_to_the_executors() {
    let server = slow_server().await;
    let ctx = cluster(&server.url(), true).await;

    // A join and an aggregate: one statement, sent by the scheduler; its result's parts read
    // by both executors.
    let statements = server.statements().len();
    let peers = server.do_get_peers().len();
    let batches = ctx
        .sql(
            "SELECT a.id, count(*) AS n, sum(b.id) AS s FROM numbers a \
             JOIN numbers b ON b.id = a.id + 1 WHERE a.id >= 1000 GROUP BY a.id",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut got: Vec<(i64, i64, i64)> = column(&batches, 0)
        .into_iter()
        .zip(column(&batches, 1))
        .zip(column(&batches, 2))
        .map(|((k, n), s)| (k, n, s))
        .collect();
    got.sort_unstable();
    let expected: Vec<(i64, i64, i64)> = (1000..ROWS - 1).map(|id| (id, 1, id + 1)).collect();
    assert_eq!(got, expected);
    let sent: Vec<String> = server.statements()[statements..].to_vec();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("JOIN") && sent[0].contains("GROUP BY"),
        "{sent:?}"
    );
    assert_eq!(readers(&server, peers), executors());

    // A sorted result: its parts read in their order, by one task.
    let statements = server.statements().len();
    let batches = ctx
        .sql(
            "SELECT a.id FROM numbers a JOIN numbers b ON a.id = b.id \
             WHERE b.id < 3000 ORDER BY a.id DESC LIMIT 2500",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(column(&batches, 0), (500..3000).rev().collect::<Vec<i64>>());
    let sent: Vec<String> = server.statements()[statements..].to_vec();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("ORDER BY") && sent[0].contains("LIMIT 2500"),
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_table_of_a_connection_the_codec_does_not_know_is_refused_by_name() {
    let server = Server::builder().demo().start().await.unwrap();
    let known = connect(&server.url()).await;
    let other = connect(&server.url()).await;
    let codec = DbapiCodec::new().with_source("sensors", known);
    let table = DbapiTable::new(other, TableRef::new("readings").in_schema("public"))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let e = datafusion_proto::logical_plan::LogicalExtensionCodec::try_encode_table_provider(
        &codec,
        &"readings".into(),
        Arc::new(table),
        &mut buf,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("the table readings") && e.contains("none of this codec's sources"),
        "{e}"
    );
    // And a process without the source a plan names says which.
    let e = datafusion_proto::logical_plan::LogicalExtensionCodec::try_decode_table_provider(
        &DbapiCodec::new(),
        &[
            b"dbapi-table/1\n".as_slice(),
            b"\x0a\x07sensors\x22\x01t\x2a\x01\"",
        ]
        .concat(),
        &"t".into(),
        Arc::new(datafusion::arrow::datatypes::Schema::empty()),
        &datafusion::execution::TaskContext::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("\"sensors\""), "{e}");
}

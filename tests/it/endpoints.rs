//! Results split over endpoints and locations; laziness.

use std::time::Duration;

use dbapi::Params;
use dbapi_flightsql_server::{Locations, Options};

use crate::{all_ids, connect, connect_url, execute, ids, server, server_with_endpoints};

async fn ids_with(options: Options) -> Vec<i64> {
    let server = server(options).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    ids(cursor.as_mut()).await
}

#[tokio::test]
async fn every_endpoint_is_read_in_order() {
    for endpoints in [1, 2, 7] {
        let got = ids_with(Options {
            endpoints,
            ..Options::default()
        })
        .await;
        assert_eq!(got, all_ids(), "{endpoints} endpoints");
    }
}

#[tokio::test]
async fn more_endpoints_than_rows_leaves_some_empty() {
    let server = server_with_endpoints(7).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers WHERE id < 3").await;
    assert_eq!(ids(cursor.as_mut()).await, vec![0, 1, 2]);
    assert_eq!(cursor.rowcount(), 3);
    assert_eq!(server.stats().do_get, 7);
}

#[tokio::test]
async fn zero_endpoints_is_an_empty_result_with_columns() {
    let server = server_with_endpoints(0).await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id, name FROM numbers").await;
    assert!(cursor.fetchone().await.unwrap().is_none());
    assert!(cursor.fetchall().await.unwrap().is_empty());
    let names = crate::column_names(cursor.as_ref());
    assert_eq!(names, ["id", "name"]);
    assert_eq!(cursor.rowcount(), 0);
    assert_eq!(server.stats().do_get, 0);
}

#[tokio::test]
async fn empty_result_without_announced_schema_learns_it_from_the_stream() {
    let server = server(Options {
        send_schema: false,
        endpoints: 2,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id, value FROM numbers WHERE id < 0").await;
    // Known after execute, as for any query (PEP 249: `description` is None only for
    // statements without rows): the stream's schema message said it.
    let names = crate::column_names(cursor.as_ref());
    assert_eq!(names, ["id", "value"]);
    assert!(cursor.fetchall().await.unwrap().is_empty());
    // A query with rows: its first batch is read by execute, and fetched first.
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(crate::column_names(cursor.as_ref()), ["id"]);
    assert_eq!(ids(cursor.as_mut()).await, (0..1000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn execute_does_no_do_get_and_first_fetch_opens_one_endpoint() {
    let server = server_with_endpoints(7).await;
    let conn = connect_url(&format!("{}&read_ahead=0", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(server.stats().get_flight_info, 1);
    assert_eq!(server.stats().do_get, 0, "execute must not read data");
    let first = cursor.fetchone().await.unwrap().unwrap();
    assert_eq!(first.get::<i64, _>(0).unwrap(), 0);
    assert_eq!(
        server.stats().do_get,
        1,
        "only the first endpoint is opened"
    );
    // The first endpoint holds ids 0..142; stay inside it.
    let rows = cursor.fetchmany(Some(100)).await.unwrap();
    assert_eq!(rows.len(), 100);
    assert_eq!(server.stats().do_get, 1);
    let rest = ids(cursor.as_mut()).await;
    assert_eq!(rest, (101..1000).collect::<Vec<i64>>());
    assert_eq!(server.stats().do_get, 7);
}

#[tokio::test]
async fn read_ahead_is_bounded() {
    let server = server_with_endpoints(7).await;
    let conn = connect_url(&format!("{}&read_ahead=2", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(server.stats().do_get, 0);
    cursor.fetchone().await.unwrap().unwrap();
    // Give the read-ahead tasks time to start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.stats().do_get, 3, "current endpoint + 2 ahead");
    assert_eq!(ids(cursor.as_mut()).await.len(), 999);
}

/// Sixteen endpoints read at once (`read_ahead=15`): every row once, in order (count and
/// checksum), all sixteen streams open together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_endpoints_read_at_once_are_exact_and_in_order() {
    let server = server(
        Options {
            endpoints: 16,
            ..Options::default()
        }
        .with_faults(|f| f.streams.delay_between_batches = Duration::from_millis(5)),
    )
    .await;
    let conn = connect_url(&format!("{}&read_ahead=15", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let first = cursor.fetchone().await.unwrap().unwrap();
    assert_eq!(first.get::<i64, _>("id").unwrap(), 0);
    let mut got = vec![0];
    got.extend(ids(cursor.as_mut()).await);
    assert_eq!(server.stats().do_get, 16);
    assert_eq!(got.len(), crate::NUMBERS);
    assert_eq!(got.iter().sum::<i64>(), all_ids().iter().sum::<i64>());
    assert_eq!(got, all_ids(), "in endpoint order");
}

/// An unordered result (`FlightInfo.ordered` false) with `arrival_order=true`: the batches of
/// fast endpoints come before those of a slow first one; every row once. An ordered result,
/// or a connection that does not ask, keeps endpoint order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unordered_result_is_delivered_as_it_arrives() {
    let slow_first = |ordered| {
        Options {
            endpoints: 4,
            ordered,
            ..Options::default()
        }
        .with_faults(|f| f.streams.slow_endpoint = Some((0, Duration::from_millis(1500))))
    };
    let unordered = server(slow_first(false)).await;
    let ordered = server(slow_first(true)).await;
    // The first endpoint holds ids 0..250.
    for (server, arrival, first_from_endpoint_0) in [
        (&unordered, true, false),
        (&unordered, false, true),
        (&ordered, true, true),
    ] {
        let url = format!("{}&read_ahead=3&arrival_order={arrival}", server.url());
        let conn = connect_url(&url).await;
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        let mut got = ids(cursor.as_mut()).await;
        assert_eq!(
            got[0] < 250,
            first_from_endpoint_0,
            "{url}: first id {}",
            got[0]
        );
        got.sort_unstable();
        assert_eq!(got, all_ids(), "{url}");
    }
}

#[tokio::test]
async fn dropping_a_cursor_mid_result_cancels_its_streams() {
    let server = server(
        Options {
            endpoints: 3,
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_between_batches = Duration::from_millis(50);
        }),
    )
    .await;
    let conn = connect(&server).await;
    {
        let mut cursor = execute(conn.as_ref(), "SELECT * FROM numbers").await;
        cursor.fetchone().await.unwrap().unwrap();
    }
    let mut waited = 0;
    while server.stats().do_get_cancelled == 0 && waited < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert!(server.stats().do_get_cancelled >= 1, "{:?}", server.stats());
    // The connection is still usable.
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn endpoints_on_other_instances_are_read_from_their_locations() {
    let main = server(Options::default()).await;
    let replica_a = main.spawn_replica().await.unwrap();
    let replica_b = main.spawn_replica().await.unwrap();
    main.set_options(|o| {
        o.endpoints = 7;
        o.locations = Locations::RoundRobin(vec![replica_a.location(), replica_b.location()]);
    });
    let conn = connect(&main).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert_eq!(main.stats().do_get, 7);
    // A second query reuses the cached connections to the replicas.
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn reuse_connection_location_reads_from_the_same_server() {
    let got = ids_with(Options {
        endpoints: 2,
        locations: Locations::ReuseConnection,
        ..Options::default()
    })
    .await;
    assert_eq!(got, all_ids());
}

#[tokio::test]
async fn a_dead_location_falls_back_to_the_next() {
    let main = server(Options::default()).await;
    let dead = dead_location().await;
    main.set_options(|o| {
        o.endpoints = 2;
        o.locations = Locations::Fixed(vec![dead.clone(), main.location()]);
    });
    let conn = connect(&main).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn all_locations_down_is_an_error_naming_each() {
    let main = server(Options::default()).await;
    let dead_a = dead_location().await;
    let dead_b = dead_location().await;
    main.set_options(|o| {
        o.endpoints = 2;
        o.locations = Locations::Fixed(vec![dead_a.clone(), dead_b.clone()]);
    });
    let conn = connect(&main).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("endpoint 1 of 2"), "{msg}");
    assert!(msg.contains("all 2 locations failed"), "{msg}");
    assert!(msg.contains(&dead_a) && msg.contains(&dead_b), "{msg}");
    assert!(e.is_connection());
    // The failed result stays failed; the cursor can execute again.
    assert!(cursor.fetchone().await.is_err());
    main.set_options(|o| o.locations = Locations::None);
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await, crate::all_ids());
}

#[tokio::test]
async fn unsupported_location_scheme_is_named() {
    let main = server(Options {
        locations: Locations::Fixed(vec!["grpc+unix:///tmp/nope.sock".into()]),
        ..Options::default()
    })
    .await;
    let conn = connect(&main).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let msg = cursor.fetchall().await.unwrap_err().to_string();
    assert!(msg.contains("grpc+unix"), "{msg}");
}

#[tokio::test]
async fn unordered_results_are_complete() {
    let mut got = ids_with(Options {
        endpoints: 5,
        ordered: false,
        ..Options::default()
    })
    .await;
    got.sort_unstable();
    assert_eq!(got, all_ids());
}

/// A `grpc+tcp://` location where nothing listens.
pub(crate) async fn dead_location() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("grpc+tcp://{addr}")
}

#[tokio::test]
async fn a_stream_whose_schema_differs_from_the_first_is_an_error() {
    let server = server(
        Options {
            endpoints: 3,
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.rename_columns_in_endpoint = Some(1);
        }),
    )
    .await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert_eq!(e.kind(), dbapi::ErrorKind::Internal, "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("endpoint 2 of 3"), "{msg}");
    assert!(msg.contains("id_x"), "{msg}");
    // Rows already fetched from the first endpoint were delivered; nothing is mixed in.
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let first = cursor.fetchmany(Some(333)).await.unwrap();
    assert_eq!(first.len(), 333);
    assert!(cursor.fetchone().await.is_err());
}

/// Endpoints read ahead hold unread data in their HTTP/2 streams; if that could exhaust the
/// connection's flow-control window, the endpoint being read would starve: a deadlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_read_ahead_streams_cannot_exhaust_the_connection_window() {
    let rows = 1_000_000; // about 5 MB per endpoint, more than a stream window
    let server = dbapi_flightsql_server::Server::builder()
        .table(
            "wide",
            dbapi_flightsql_server::generated(rows, 8192).unwrap(),
        )
        .options(Options {
            endpoints: 8,
            ..Options::default()
        })
        .start()
        .await
        .unwrap();
    let conn = connect_url(&format!("{}&read_ahead=7&timeout=60s", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM wide").await;
    let mut n = 0;
    let mut next = 0_i64;
    while let Some(batch) = cursor.fetch_batch().await.unwrap() {
        let ids =
            arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(batch.column(0));
        assert_eq!(ids.value(0), next, "order");
        next += batch.num_rows() as i64;
        n += batch.num_rows();
    }
    assert_eq!(n, rows);
}

#[tokio::test]
async fn fetch_progress_counts_the_endpoints_read() {
    let server = server(Options {
        endpoints: 4,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let before = cursor.fetch_progress();
    assert_eq!((before.parts_done, before.parts_total), (0, Some(4)));
    let mut seen = Vec::new();
    while let Some(batch) = cursor.fetch_batch().await.unwrap() {
        assert!(batch.num_rows() > 0);
        seen.push(cursor.fetch_progress().parts_done);
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen.contains(&1) && seen.contains(&3), "{seen:?}");
    let after = cursor.fetch_progress();
    assert_eq!((after.parts_done, after.parts_total), (4, Some(4)));
    assert_eq!(after.server, None, "no polling");
}

#[tokio::test]
async fn what_distributed_and_production_servers_send_is_read_exactly() {
    // Unordered endpoints, keep-alive empty messages, LZ4 bodies, a FlightInfo schema that is
    // not the streams', tickets redeemable once: all at the same time.
    let server = server(
        Options {
            endpoints: 4,
            ordered: false,
            ipc_compression: Some(arrow::ipc::CompressionType::LZ4_FRAME),
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.empty_messages = true;
            f.answers.announce_other_schema = true;
            f.answers.tickets_once = true;
        }),
    )
    .await;
    let conn = connect(&server).await;
    let before = server.stats().do_get;
    let mut cursor = execute(conn.as_ref(), "SELECT id, name FROM numbers").await;
    let rows = cursor.fetchall().await.unwrap();
    assert_eq!(
        server.stats().do_get - before,
        4,
        "each ticket redeemed once"
    );
    let mut got: Vec<i64> = rows
        .iter()
        .map(|r| r.get::<i64, _>("id").unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, all_ids());
    // The streams' schema is the truth: names and types, in rows and in the description.
    let names: Vec<String> = rows
        .iter()
        .take(3)
        .map(|r| r.get::<String, _>("name").unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    let description = cursor.description().unwrap();
    let columns: Vec<&str> = description.iter().map(|c| c.name()).collect();
    assert_eq!(columns, ["id", "name"]);
    assert_eq!(
        description[0].data_type(),
        &arrow::datatypes::DataType::Int64
    );
    // A ticket redeemed a second time is refused: the server really enforces it.
    let client = dbapi_flightsql::FlightSqlClient::connect(&server.url())
        .await
        .unwrap();
    let info = client.execute("SELECT id FROM numbers").await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    client
        .do_get(&ticket)
        .await
        .unwrap()
        .read_all()
        .await
        .unwrap();
    let e = match client.do_get(&ticket).await {
        Ok(reader) => reader.read_all().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.code(), Some("NOT_FOUND"), "{e}");
}

#[tokio::test]
async fn endpoints_about_to_expire_are_renewed_before_they_are_read() {
    // Tickets live 5.6 s; the driver renews an endpoint that expires within 5 s when it opens
    // it. Endpoints are read one after another, each taking half a second, so the first is
    // read as it is and the later ones are renewed first.
    let server = server(
        Options {
            endpoints: 4,
            expiration: Some(Duration::from_millis(5_600)),
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_before_first_batch = Duration::from_millis(500);
        }),
    )
    .await;
    let client = dbapi_flightsql::FlightSqlClient::connect(&server.url())
        .await
        .unwrap();
    let info = client.execute("SELECT 1").await.unwrap();
    let renewed = client
        .renew_flight_endpoint(&info.endpoint[0])
        .await
        .unwrap();
    let seconds = |e: &arrow_flight::FlightEndpoint| e.expiration_time.unwrap().seconds;
    assert!(seconds(&renewed) >= seconds(&info.endpoint[0]));
    assert_eq!(server.stats().renewed_endpoints, 1);
    let before = server.stats().renewed_endpoints;
    let conn = connect_url(&format!("{}&read_ahead=0", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    let renewed = server.stats().renewed_endpoints - before;
    assert!(
        (2..=3).contains(&renewed),
        "renewed {renewed} of 4 endpoints"
    );
}

#[tokio::test]
async fn an_expired_ticket_is_refused_by_the_server() {
    let server = server(Options {
        expiration: Some(Duration::from_millis(50)),
        renew_endpoints: false,
        ..Options::default()
    })
    .await;
    let client = dbapi_flightsql::FlightSqlClient::connect(&server.url())
        .await
        .unwrap();
    let info = client.execute("SELECT id FROM numbers").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Renewal refused: the driver says so.
    let e = client
        .renew_flight_endpoint(&info.endpoint[0])
        .await
        .unwrap_err();
    assert!(e.is_not_supported(), "{e}");
    let e = match client.do_get_endpoint(&info.endpoint[0]).await {
        Ok(reader) => reader.read_all().await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.code(), Some("NOT_FOUND"), "{e}");
}

/// A cluster advertising `0.0.0.0` (reachable from nowhere but its own node): read through
/// `location_map`, either at the mapped address or through the server itself.
#[tokio::test]
async fn advertised_addresses_are_read_where_the_map_says() {
    let main = server(Options::default()).await;
    let port = main.addr().port();
    main.set_options(|o| {
        o.endpoints = 3;
        o.locations = Locations::Fixed(vec!["grpc+tcp://0.0.0.0:1".into()]);
    });
    // As advertised: unreadable, the error naming the location.
    let conn = connect(&main).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("0.0.0.0:1"), "{e}");
    for map in [
        format!("0.0.0.0:1=127.0.0.1:{port}"),
        format!("0.0.0.0=127.0.0.1:{port}"),
        "server".to_owned(),
    ] {
        let conn = connect_url(&format!("{}&location_map={map}", main.url())).await;
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        assert_eq!(ids(cursor.as_mut()).await, all_ids(), "{map}");
    }
    // A mapped address still answers to the locations policy.
    let conn = connect_url(&format!(
        "{}&location_map=0.0.0.0:1=localhost.example:{port}",
        main.url()
    ))
    .await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("localhost.example"), "{e}");
    assert!(e.to_string().contains("mapped from"), "{e}");
}

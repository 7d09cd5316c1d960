//! The low-level client: `execute` → `FlightInfo`, `do_get` → reader.

use dbapi_flightsql::{Config, FlightSqlClient};
use dbapi_flightsql_server::{Locations, Options};

use crate::{server, server_with_endpoints};

#[tokio::test]
async fn execute_returns_flight_info_and_do_get_reads_each_ticket() {
    let server = server_with_endpoints(3).await;
    let client = FlightSqlClient::connect(&server.url()).await.unwrap();
    let info = client.execute("SELECT id FROM numbers").await.unwrap();
    assert_eq!(info.endpoint.len(), 3);
    assert!(info.ordered);
    assert_eq!(server.stats().do_get, 0);
    let mut total = 0;
    let mut last = -1;
    for endpoint in &info.endpoint {
        let ticket = endpoint.ticket.as_ref().unwrap();
        let reader = client.do_get(ticket).await.unwrap();
        for batch in reader.read_all().await.unwrap() {
            let ids = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            for id in ids.values().iter() {
                assert_eq!(*id, last + 1);
                last = *id;
            }
            total += batch.num_rows();
        }
    }
    assert_eq!(total, 1000);
    assert_eq!(server.stats().do_get, 3);
}

#[tokio::test]
async fn read_chunk_and_read_all_concat() {
    let server = server(Options::default()).await;
    let client = FlightSqlClient::connect_with(
        Config::new("127.0.0.1", server.addr().port()).with_tls(false),
    )
    .await
    .unwrap();
    let info = client
        .execute("SELECT id, name FROM numbers")
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.as_ref().unwrap();
    let mut reader = client.do_get(ticket).await.unwrap();
    let first = reader.read_chunk().await.unwrap().unwrap();
    assert_eq!(first.num_rows(), 100);
    assert_eq!(reader.schema().unwrap().field(1).name(), "name");
    let rest = reader.read_all_concat().await.unwrap();
    assert_eq!(rest.num_rows(), 900);
    let mut reader = client.do_get(ticket).await.unwrap();
    let mut n = 0;
    while let Some(batch) = reader.read_chunk().await.unwrap() {
        n += batch.num_rows();
    }
    assert_eq!(n, 1000);
    assert!(reader.read_chunk().await.unwrap().is_none());
}

#[tokio::test]
async fn do_get_endpoint_follows_locations() {
    let main = server(Options::default()).await;
    let replica = main.spawn_replica().await.unwrap();
    main.set_options(|o| o.locations = Locations::Fixed(vec![replica.location()]));
    let client = FlightSqlClient::connect(&main.url()).await.unwrap();
    let info = client.execute("SELECT id FROM numbers").await.unwrap();
    assert_eq!(info.endpoint[0].location[0].uri, replica.location());
    let batch = client
        .do_get_endpoint(&info.endpoint[0])
        .await
        .unwrap()
        .read_all_concat()
        .await
        .unwrap();
    assert_eq!(batch.num_rows(), 1000);
}

#[tokio::test]
async fn client_headers_and_token_from_the_builder() {
    let server = server(Options {
        auth: dbapi_flightsql_server::Auth::Bearer("tok".into()),
        required_header: Some(("database".into(), "sensors".into())),
        ..Options::default()
    })
    .await;
    let config = Config::new("127.0.0.1", server.addr().port())
        .with_tls(false)
        .with_token("tok")
        .with_database("sensors");
    assert!(!format!("{config:?}").contains("\"tok\""));
    let client = FlightSqlClient::connect_with(config).await.unwrap();
    let info = client.execute("SELECT 1 AS one").await.unwrap();
    let batch = client
        .do_get(info.endpoint[0].ticket.as_ref().unwrap())
        .await
        .unwrap()
        .read_all_concat()
        .await
        .unwrap();
    assert_eq!(batch.num_rows(), 1);
}

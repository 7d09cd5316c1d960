//! Authentication and headers.

use dbapi::Params;
use flightsql_server::{Auth, Locations, Options};

use crate::{all_ids, execute, ids, registry, server};

fn bearer(token: &str) -> Options {
    Options {
        auth: Auth::Bearer(token.into()),
        ..Options::default()
    }
}

#[tokio::test]
async fn bearer_token_is_sent() {
    let server = server(bearer("s3cr3t-token")).await;
    let conn = registry()
        .connect(&format!("{}&token=s3cr3t-token", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn wrong_or_missing_token_is_an_auth_error_without_the_token() {
    let server = server(bearer("right")).await;
    for url in [format!("{}&token=wr0ng-t0ken", server.url()), server.url()] {
        let conn = registry().connect(&url).await.unwrap();
        let mut cursor = conn.cursor().unwrap();
        let e = cursor.execute("SELECT 1", Params::None).await.unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert_eq!(e.code(), Some("UNAUTHENTICATED"));
        assert_eq!(e.kind(), dbapi::ErrorKind::Operational);
        for shown in [e.to_string(), format!("{e:?}"), format!("{conn:?}")] {
            assert!(!shown.contains("wr0ng-t0ken"), "{shown}");
        }
    }
}

#[tokio::test]
async fn no_authorization_header_without_credentials() {
    let server = server(Options::default()).await;
    let conn = crate::connect(&server).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    ids(cursor.as_mut()).await;
    assert!(server.stats().get_flight_info > 0 && server.stats().do_get > 0);
    assert_eq!(server.stats().with_authorization, 0);
    assert_eq!(server.stats().handshake, 0);
}

fn basic() -> Options {
    Options {
        auth: Auth::Basic {
            username: "alice".into(),
            password: "p@ss:word".into(),
        },
        endpoints: 2,
        ..Options::default()
    }
}

#[tokio::test]
async fn basic_handshake_token_is_used_everywhere_including_other_locations() {
    let main = server(basic()).await;
    let replica = main.spawn_replica().await.unwrap();
    main.set_options(|o| o.locations = Locations::RoundRobin(vec![replica.location()]));
    let url = main
        .url()
        .replace("flightsql://", "flightsql://alice:p%40ss%3Aword@");
    let conn = registry().connect(&url).await.unwrap();
    assert_eq!(main.stats().handshake, 1);
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    let headers = main.last_headers();
    let auth = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer token-alice-1"));
}

#[tokio::test]
async fn basic_handshake_with_a_wrong_password_fails_at_connect() {
    let server = server(basic()).await;
    let url = server
        .url()
        .replace("flightsql://", "flightsql://alice:hunter2@");
    let e = registry().connect(&url).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("handshake for user \"alice\""), "{msg}");
    assert!(
        !msg.contains("hunter2") && !format!("{e:?}").contains("hunter2"),
        "{msg}"
    );
}

fn database_required() -> Options {
    Options {
        required_header: Some(("database".into(), "sensors".into())),
        ..Options::default()
    }
}

#[tokio::test]
async fn database_header_from_the_key_or_the_path() {
    let server = server(database_required()).await;
    let addr = server.addr();
    for url in [
        format!("flightsql://{addr}?tls=false&database=sensors"),
        format!("flightsql://{addr}/sensors?tls=false"),
        format!("grpc://{addr}/sensors"),
    ] {
        let conn = registry().connect(&url).await.unwrap();
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        assert_eq!(ids(cursor.as_mut()).await.len(), 1000, "{url}");
    }
}

#[tokio::test]
async fn missing_or_wrong_database_header_is_a_clear_error() {
    let server = server(database_required()).await;
    let conn = crate::connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.execute("SELECT 1", Params::None).await.unwrap_err();
    assert_eq!(e.code(), Some("INVALID_ARGUMENT"));
    assert!(e.to_string().contains("database"), "{e}");
    let conn = registry()
        .connect(&format!("{}&database=other", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.execute("SELECT 1", Params::None).await.unwrap_err();
    assert_eq!(e.code(), Some("NOT_FOUND"));
    assert_eq!(e.kind(), dbapi::ErrorKind::Programming);
}

#[tokio::test]
async fn custom_headers_go_on_every_call() {
    let server = server(Options {
        required_header: Some(("x-tenant".into(), "acme".into())),
        endpoints: 2,
        ..Options::default()
    })
    .await;
    let conn = registry()
        .connect(&format!("{}&header.X-Tenant=acme", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await.len(), 1000);
    assert!(
        server
            .last_headers()
            .contains(&("x-tenant".to_owned(), "acme".to_owned()))
    );
}

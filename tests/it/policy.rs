//! The one credential policy, and the connection state kept in one place: what leaves for
//! where, what answers may change, a pool's reset, and transitions that cannot interleave.
//!
//! Addresses other than loopback are this machine's own interface addresses, never one
//! outside it.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dbapi::pool::{HealthCheck, Manager, Pool};
use dbapi::{Connection, Params, Value};
use dbapi_flightsql_server::{Auth, Locations, Options, Server};

use crate::statements::server_with_t;
use crate::{all_ids, connect_url, execute, ids, registry, server, url_encode};

/// One of this machine's own addresses that is not loopback, if it has one.
pub fn own_address() -> Option<IpAddr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .map(|i| i.ip())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
}

/// A listener on `ip` that counts the connections reaching it (and closes them).
async fn counting_listener(ip: IpAddr) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, accepted)
}

macro_rules! own_address_or_skip {
    () => {
        match own_address() {
            Some(ip) => ip,
            None => {
                eprintln!("skipped: this machine has no address but loopback");
                return;
            }
        }
    };
}

#[tokio::test]
async fn an_oauth_token_is_refused_for_a_plaintext_remote_server_before_anything_is_sent() {
    let ip = own_address_or_skip!();
    let (port, accepted) = counting_listener(ip).await;
    let (token_uri, requests) = crate::hostile::token_endpoint("3600").await;
    let e = registry()
        .connect(&format!(
            "grpc://{ip}:{port}?oauth_flow=client_credentials&oauth_token_uri={}&oauth_client_id=app&oauth_client_secret=s3cret",
            url_encode(&token_uri)
        ))
        .await
        .unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(
        e.to_string()
            .contains("refusing to send the OAuth token unencrypted to the server"),
        "{e}"
    );
    assert!(!e.to_string().contains("s3cret"), "{e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "nothing reached the server"
    );
    assert_eq!(*requests.lock().unwrap(), 0, "no token was even asked for");
}

#[tokio::test]
async fn credentials_are_refused_for_a_plaintext_remote_location_before_connecting() {
    let ip = own_address_or_skip!();
    let (port, accepted) = counting_listener(ip).await;
    let server = server(Options {
        auth: Auth::Bearer("t0ken".into()),
        locations: Locations::Fixed(vec![format!("grpc://{ip}:{port}")]),
        ..Options::default()
    })
    .await;
    // By default a location on another host is refused whatever it would carry, naming the
    // value that allows it.
    let conn = connect_url(&format!("{}&token=t0ken", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(e.to_string().contains(&format!("locations={ip}")), "{e}");
    // Allowed by locations=any, it still gets no token in plaintext.
    let conn = connect_url(&format!("{}&token=t0ken&locations=any", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_interface(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("refusing to send the token unencrypted to endpoint location"),
        "{text}"
    );
    assert!(!text.contains("t0ken"), "{text}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "nothing reached the location"
    );
}

#[tokio::test]
async fn cookies_are_refused_over_plaintext_to_a_remote_server() {
    let ip = own_address_or_skip!();
    let server = Server::builder()
        .demo()
        .addr((ip, 0).into())
        .options(Options {
            set_cookie: Some("sid=s3ss10n".into()),
            ..Options::default()
        })
        .start()
        .await
        .unwrap();
    // No credentials: the connection is allowed, and the first answer sets a cookie.
    let conn = connect_url(&format!("grpc://{}?cookies=true", server.addr())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT 1 AS one").await;
    let before = server.stats();
    // The next request would carry it: refused.
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(
        e.to_string()
            .contains("refusing to send cookies unencrypted"),
        "{e}"
    );
    assert!(!e.to_string().contains("s3ss10n"), "{e}");
    assert_eq!(server.stats().do_get, before.do_get, "the call never left");
    // Said by name, they go.
    let conn = connect_url(&format!("grpc://{}?cookies=true&tls=false", server.addr())).await;
    for _ in 0..2 {
        execute(conn.as_ref(), "SELECT 1 AS one").await;
    }
    assert!(server.stats().with_cookie >= 1);
}

#[tokio::test]
async fn answers_from_a_location_never_change_what_the_server_receives() {
    // The location is another server accepting the same token, whose answers rotate it and
    // set a cookie.
    let location = server(Options {
        auth: Auth::Bearer("good".into()),
        rotate_token: Some("evil".into()),
        set_cookie: Some("evil=1".into()),
        ..Options::default()
    })
    .await;
    let main = server(Options {
        auth: Auth::Bearer("good".into()),
        locations: Locations::Fixed(vec![location.location()]),
        ..Options::default()
    })
    .await;
    let conn = connect_url(&format!("{}&token=good&cookies=true", main.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert!(location.stats().do_get >= 1);
    // The next call to the server carries the server's token and no cookie of the location.
    execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let headers = main.last_headers();
    let auth = headers.iter().find(|(n, _)| n == "authorization").unwrap();
    assert_eq!(auth.1, "Bearer good");
    assert!(
        !headers
            .iter()
            .any(|(n, v)| n == "cookie" && v.contains("evil")),
        "{headers:?}"
    );
}

#[tokio::test]
async fn the_locations_key_restricts_their_hosts() {
    let ip = own_address_or_skip!();
    let (port, accepted) = counting_listener(ip).await;
    let server = server(Options {
        locations: Locations::Fixed(vec![format!("grpc://{ip}:{port}")]),
        ..Options::default()
    })
    .await;
    for key in ["server", "db.example.com,127.0.0.1"] {
        let conn = connect_url(&format!("{}&locations={key}", server.url())).await;
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
        let e = cursor.fetchall().await.unwrap_err();
        assert!(e.is_interface(), "{e}");
        assert!(e.to_string().contains("URL option locations"), "{e}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    // This machine's own loopback locations are always allowed.
    let replica = server.spawn_replica().await.unwrap();
    server.set_options(|o| o.locations = Locations::Fixed(vec![replica.location()]));
    let conn = connect_url(&format!("{}&locations=db.example.com", server.url())).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn a_pooled_connection_is_reset_for_its_next_user() {
    let server = server(Options::default()).await;
    let pool = Pool::builder(
        Manager::new(format!("{}&schema=shop", server.url()))
            .registry(registry())
            .health_check(HealthCheck::None),
    )
    .max_size(1)
    .build()
    .unwrap();
    {
        let conn = pool.get().await.unwrap();
        conn.set_autocommit(false).await.unwrap();
        conn.set_current_catalog("archive").await.unwrap();
        conn.set_current_schema("y2025").await.unwrap();
        execute(&**conn, "SELECT 1").await;
    }
    let conn = pool.get().await.unwrap();
    assert!(conn.autocommit(), "autocommit is on again");
    assert_eq!(conn.current_catalog().await.unwrap(), None);
    assert_eq!(
        conn.current_schema().await.unwrap().as_deref(),
        Some("shop")
    );
    let stats = server.stats();
    assert_eq!(stats.transactions_begun, stats.rollbacks, "{stats:?}");
    // The schema of the URL is where unqualified names resolve again.
    let mut cursor = execute(&**conn, "SELECT count(*) AS n FROM customers").await;
    let n: i64 = cursor.fetchone().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(n, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn toggling_autocommit_while_executing_leaves_no_transaction_open() {
    let server = server_with_t(Options::default()).await;
    let conn: Arc<dyn Connection> = Arc::from(registry().connect(&server.url()).await.unwrap());
    let running = Arc::new(AtomicUsize::new(4));
    let mut tasks = Vec::new();
    for task in 0..4_i64 {
        let (conn, running) = (Arc::clone(&conn), Arc::clone(&running));
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut cursor = conn.cursor().unwrap();
                let _ = cursor
                    .execute(
                        "INSERT INTO t VALUES ($1, 'x')",
                        Params::from([Value::Int64(task * 100 + i)]),
                    )
                    .await;
            }
            running.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    for _ in 0..2 {
        let (conn, running) = (Arc::clone(&conn), Arc::clone(&running));
        tasks.push(tokio::spawn(async move {
            let mut on = false;
            while running.load(Ordering::SeqCst) > 0 {
                conn.set_autocommit(on).await.unwrap();
                on = !on;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    conn.set_autocommit(true).await.unwrap();
    let stats = server.stats();
    assert!(stats.transactions_begun > 0, "{stats:?}");
    assert_eq!(
        stats.transactions_begun,
        stats.commits + stats.rollbacks,
        "every transaction begun was ended: {stats:?}"
    );
}

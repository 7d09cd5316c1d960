//! Errors: SQL errors, bad URLs, unreachable servers, TLS mismatches, timeouts.

use std::time::Duration;

use dbapi::{ErrorKind, Params};
use dbapi_flightsql_server::{Options, Server, TlsIdentity};

use crate::{connect, execute, ids, registry, server};

#[tokio::test]
async fn sql_errors_are_programming_errors_with_the_server_message() {
    let server = server(Options::default()).await;
    let conn = crate::connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.execute("SELEKT 1", Params::None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Programming);
    assert_eq!(e.code(), Some("INVALID_ARGUMENT"));
    assert!(e.to_string().contains("SELEKT"), "{e}");
    let e = cursor
        .execute("SELECT * FROM no_such_table", Params::None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
    // The message says all the status says: nothing under it repeats it.
    assert!(std::error::Error::source(&e).is_none());
    crate::assert_causes_once(&e);
    // The cursor is still usable.
    cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(ids(cursor.as_mut()).await.len(), 1000);
}

#[tokio::test]
async fn unknown_scheme_and_unknown_key() {
    let e = registry()
        .connect("mysql://localhost:3306")
        .await
        .unwrap_err();
    assert!(e.is_interface());
    assert!(
        e.to_string()
            .contains("flightsql, grpc, grpc+tcp, grpc+tls"),
        "{e}"
    );
    let e = registry()
        .connect("flightsql://127.0.0.1:1?tls=false&databse=x")
        .await
        .unwrap_err();
    assert!(e.is_interface());
    assert!(e.to_string().contains("\"databse\""), "{e}");
    let e = registry()
        .connect("flightsql://127.0.0.1:1?tls=maybe")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("true or false"), "{e}");
}

#[tokio::test]
async fn unreachable_server_is_a_connection_error_naming_the_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let e = registry()
        .connect(&format!("flightsql://{addr}?tls=false&token=t0psecret"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Operational);
    assert!(e.is_connection());
    let msg = e.to_string();
    assert!(msg.contains(&addr.to_string()), "{msg}");
    assert!(!msg.contains("t0psecret") && !format!("{e:?}").contains("t0psecret"));
}

#[tokio::test]
async fn stalled_stream_hits_the_timeout() {
    let server = server(
        Options {
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_before_first_batch = Duration::from_secs(5);
        }),
    )
    .await;
    let conn = registry()
        .connect(&format!("{}&timeout=300ms", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchone().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("timeout"), "{e}");
}

#[tokio::test]
async fn message_above_max_message_size_names_the_key() {
    let server = server(Options::default()).await;
    let conn = registry()
        .connect(&format!("{}&max_message_size=1KiB", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT * FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("max_message_size"), "{e}");
    assert!(e.to_string().contains("endpoint 1 of 1"), "{e}");
}

struct Tls {
    server: Server,
    ca_path: std::path::PathBuf,
}

async fn tls_server() -> Tls {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = cert.cert.pem();
    let server = Server::builder()
        .demo()
        .tls(TlsIdentity {
            cert_pem: cert_pem.clone().into_bytes(),
            key_pem: cert.signing_key.serialize_pem().into_bytes(),
        })
        .start()
        .await
        .unwrap();
    let ca_path = std::env::temp_dir().join(format!(
        "dbapi-test-ca-{}-{}.pem",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::write(&ca_path, cert_pem).unwrap();
    Tls { server, ca_path }
}

#[tokio::test]
async fn tls_with_a_custom_root_certificate() {
    let tls = tls_server().await;
    let url = format!(
        "flightsql://localhost:{}?tls_root_certs={}",
        tls.server.addr().port(),
        tls.ca_path.display()
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT count(*) AS n FROM readings").await;
    let row = cursor.fetchone().await.unwrap().unwrap();
    assert_eq!(row.get::<i64, _>("n").unwrap(), 100);
    let _ = std::fs::remove_file(&tls.ca_path);
}

#[tokio::test]
async fn plaintext_client_against_tls_server_says_so() {
    let tls = tls_server().await;
    let url = format!(
        "flightsql://localhost:{}?tls=false",
        tls.server.addr().port()
    );
    let e = match registry().connect(&url).await {
        Err(e) => e,
        Ok(conn) => {
            let mut cursor = conn.cursor().unwrap();
            cursor.execute("SELECT 1", Params::None).await.unwrap_err()
        }
    };
    // Seen at connect: the server's first bytes are a TLS record, not HTTP/2.
    assert!(e.to_string().contains("answered with TLS"), "{e}");
    assert!(e.to_string().contains("tls=true"), "{e}");
    assert!(e.is_connection(), "{e:?}");
    let _ = std::fs::remove_file(&tls.ca_path);
}

#[tokio::test]
async fn tls_client_against_plaintext_server_says_so() {
    let server = server(Options::default()).await;
    let url = format!("flightsql://localhost:{}", server.addr().port());
    let e = match registry().connect(&url).await {
        Err(e) => e,
        Ok(conn) => {
            let mut cursor = conn.cursor().unwrap();
            cursor.execute("SELECT 1", Params::None).await.unwrap_err()
        }
    };
    assert!(e.to_string().contains("does not speak TLS"), "{e}");
    assert!(e.to_string().contains("tls=false"), "{e}");
}

#[tokio::test]
async fn missing_root_certificate_file_is_named() {
    let e = registry()
        .connect("flightsql://localhost:1?tls_root_certs=/nonexistent/ca.pem")
        .await
        .unwrap_err();
    assert!(e.is_interface());
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}

#[tokio::test]
async fn sql_errors_sent_as_internal_are_still_programming_errors() {
    let server = server(
        Options {
            ..Options::default()
        }
        .with_faults(|f| {
            f.answers.sql_errors_as_internal = true;
        }),
    )
    .await;
    let conn = connect(&server).await;
    for sql in [
        "SELEC 1",
        "SELECT nope FROM numbers",
        "SELECT * FROM no_such_table",
    ] {
        let mut cursor = conn.cursor().unwrap();
        let e = cursor.execute(sql, Params::None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Programming, "{sql}: {e}");
        assert_eq!(e.code(), Some("INTERNAL"), "{sql}: {e}");
    }
}

#[tokio::test]
async fn every_cause_is_printed_once() {
    let mut errors = Vec::new();
    // Refused, unresolvable, malformed, mismatched.
    for url in [
        "grpc://127.0.0.1:1",
        "grpc://no-such-host.invalid:1?connect_timeout=2s",
        "flightsql://u:p%2Fss@h:1/a/b",
        "grpc://127.0.0.1:1?tls_skip_verify=true",
    ] {
        errors.push(registry().connect(url).await.unwrap_err());
    }
    let server = server(Options::default()).await;
    // TLS to a plaintext server.
    let tls_url = format!("grpc+tls://{}?tls_skip_verify=true", server.addr());
    errors.push(crate::first_error(&tls_url).await);
    let conn = connect(&server).await;
    for sql in ["SELEKT 1", "SELECT * FROM no_such_table", "SELECT 1/0"] {
        let mut cursor = conn.cursor().unwrap();
        let e = match cursor.execute(sql, Params::None).await {
            Err(e) => e,
            Ok(()) => match cursor.fetchall().await {
                Err(e) => e,
                Ok(_) => continue,
            },
        };
        errors.push(e);
    }
    // Locations that fail, one and several.
    server.set_options(|o| {
        o.locations = dbapi_flightsql_server::Locations::Fixed(vec![
            "grpc://127.0.0.1:1".into(),
            "grpc://127.0.0.1:2".into(),
        ])
    });
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    errors.push(cursor.fetchall().await.unwrap_err());
    server.set_options(|o| {
        o.locations = dbapi_flightsql_server::Locations::Fixed(vec!["grpc://127.0.0.1:1".into()])
    });
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    errors.push(cursor.fetchall().await.unwrap_err());
    assert!(errors.len() >= 9);
    for e in &errors {
        crate::assert_causes_once(e);
    }
}

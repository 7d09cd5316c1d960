//! Authentication and headers.

use std::time::Duration;

use dbapi::Params;
use dbapi_flightsql_server::{Auth, Locations, Options};

use crate::{all_ids, execute, ids, registry, server, url_encode as enc};

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

/// A minimal OAuth token endpoint on 127.0.0.1: answers each POST with the next token
/// (`tok-1`, `tok-2`, ...) valid for `expires_in` seconds, after checking the grant and the
/// client's Basic credentials. Returns its URL and the requests it received.
async fn token_endpoint(
    expires_in: f64,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    token_endpoint_on(expires_in, None).await
}

/// [`token_endpoint`], over TLS with the certificate chain and key given (PEM), as
/// `https://localhost:<port>/oauth/token`.
async fn token_endpoint_on(
    expires_in: f64,
    tls: Option<(String, String)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = match tls {
        None => format!("http://127.0.0.1:{port}/oauth/token"),
        Some(_) => format!("https://localhost:{port}/oauth/token"),
    };
    let acceptor = tls.map(|(cert, key)| {
        use rustls::pki_types::pem::PemObject;
        let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
    });
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = std::sync::Arc::clone(&log);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => answer_token_request(socket, &log, expires_in).await,
                    Some(acceptor) => {
                        if let Ok(socket) = acceptor.accept(socket).await {
                            answer_token_request(socket, &log, expires_in).await;
                        }
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Reads one token request and answers it (see [`token_endpoint`]).
async fn answer_token_request(
    mut socket: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    log: &std::sync::Mutex<Vec<String>>,
    expires_in: f64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut data = Vec::new();
    let mut buf = [0_u8; 4096];
    // Read the head, then the body by its Content-Length.
    let (head, body_start) = loop {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&data[..i]).into_owned(), i + 4);
        }
    };
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < body_start + length {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&data[body_start..]).into_owned();
    let n = {
        let mut log = log.lock().unwrap();
        log.push(format!("{head}\n\n{body}"));
        log.len()
    };
    // Basic base64("app:s3cret") is YXBwOnMzY3JldA==.
    let authorized = head.contains("authorization: Basic YXBwOnMzY3JldA==");
    let (status, answer) = if !authorized {
        (
            "401 Unauthorized",
            r#"{"error":"invalid_client","error_description":"bad client credentials"}"#.to_owned(),
        )
    } else {
        (
            "200 OK",
            format!(
                r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":{expires_in}}}"#
            ),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
}

#[tokio::test]
async fn oauth_client_credentials_token_is_obtained_and_refreshed() {
    let (token_uri, seen) = token_endpoint(1.0).await;
    let server = server(bearer("tok-1")).await;
    let url = format!(
        "{}&oauth_flow=client_credentials&oauth_token_uri={}&oauth_client_id=app&oauth_client_secret=s3cret&oauth_scope=flight.read",
        server.url(),
        enc(&token_uri)
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0].starts_with("POST /oauth/token HTTP/1.1"),
            "{}",
            seen[0]
        );
        assert!(
            seen[0].ends_with("grant_type=client_credentials&scope=flight.read"),
            "{}",
            seen[0]
        );
    }
    // The token lives 1 s and is renewed half-way: the next calls carry tok-2.
    server.set_options(|o| o.auth = Auth::Bearer("tok-2".into()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert_eq!(seen.lock().unwrap().len(), 2);
    let headers = server.last_headers();
    let auth = headers.iter().find(|(n, _)| n == "authorization").unwrap();
    assert_eq!(auth.1, "Bearer tok-2");
    // Secrets stay out of what the connection shows.
    for shown in [
        format!("{conn:?}"),
        url.parse::<dbapi_flightsql::Config>().unwrap().to_string(),
    ] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

#[tokio::test]
async fn oauth_token_exchange_and_refused_clients() {
    let (token_uri, seen) = token_endpoint(3600.0).await;
    let server = server(bearer("tok-1")).await;
    let url = format!(
        "{}&oauth_flow=token_exchange&oauth_token_uri={}&oauth_subject_token=upstr3am-jwt&oauth_subject_token_type={}&oauth_client_id=app&oauth_client_secret=s3cret&oauth_audience=flight",
        server.url(),
        enc(&token_uri),
        enc("urn:ietf:params:oauth:token-type:jwt"),
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    let request = seen.lock().unwrap()[0].clone();
    assert!(
        request.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"),
        "{request}"
    );
    assert!(request.contains("subject_token=upstr3am-jwt"), "{request}");
    assert!(request.contains("audience=flight"), "{request}");
    // A long-lived token is not asked for again.
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await.len(), crate::NUMBERS);
    assert_eq!(seen.lock().unwrap().len(), 1);

    // Wrong client credentials: the endpoint's error, as an auth error, without secrets.
    let url = format!(
        "{}&oauth_flow=client_credentials&oauth_token_uri={}&oauth_client_id=app&oauth_client_secret=wr0ng",
        server.url(),
        enc(&token_uri)
    );
    let e = registry().connect(&url).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("HTTP 401: invalid_client"), "{e}");
    assert!(!format!("{e} {e:?}").contains("wr0ng"));
    // Missing pieces are named before anything is sent.
    let e = registry()
        .connect(&format!(
            "{}&oauth_flow=client_credentials&oauth_token_uri={}",
            server.url(),
            enc(&token_uri)
        ))
        .await
        .unwrap_err();
    assert!(
        e.is_interface() && e.to_string().contains("oauth_client_id"),
        "{e}"
    );
}

#[tokio::test]
async fn oauth_token_endpoint_over_tls_is_verified() {
    let ca = crate::transport::Ca::new("token CA");
    let (token_uri, seen) = token_endpoint_on(3600.0, Some(ca.issue(&["localhost"], false))).await;
    assert!(token_uri.starts_with("https://"));
    let server = server(bearer("tok-1")).await;
    let oauth = format!(
        "oauth_flow=client_credentials&oauth_token_uri={}&oauth_client_id=app&oauth_client_secret=s3cret",
        enc(&token_uri)
    );
    // The endpoint's CA is trusted through tls_root_certs.
    let url = format!("{}&{oauth}&tls_root_certs={}", server.url(), enc(&ca.pem));
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await.len(), crate::NUMBERS);
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Without it, the certificate is refused and the error says why.
    let e = registry()
        .connect(&format!("{}&{oauth}", server.url()))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(e.is_auth() || e.is_connection(), "{e}");
    assert!(
        text.contains("OAuth token request to https://localhost:"),
        "{text}"
    );
    assert!(text.contains("not signed by a trusted CA"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

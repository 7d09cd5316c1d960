//! Transport and security: TLS with a private CA, server-name override, mutual TLS,
//! verification errors, skipping verification, plaintext credentials, compression, Unix
//! sockets, token rotation, cookies, per-call timeouts, the user agent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbapi::Params;
use dbapi_flightsql::{Config, FlightSqlClient, Pem};
use dbapi_flightsql_server::{
    Auth, CompressionEncoding, Locations, Options, Server, TlsIdentity, generated,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};

use crate::{NUMBERS, all_ids, execute, ids, registry, server, url_encode as enc};

/// A private certificate authority that issues server and client certificates.
pub(crate) struct Ca {
    pub(crate) pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { pem, params, key }
    }

    /// A certificate for `names` (PEM chain, PEM key).
    pub(crate) fn issue(&self, names: &[&str], expired: bool) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "test");
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A TLS server with the demo data and `numbers`, its certificate issued by `ca` for `names`.
async fn tls_server(ca: &Ca, names: &[&str], expired: bool, client_ca: Option<&Ca>) -> Server {
    let (cert_pem, key_pem) = ca.issue(names, expired);
    let mut builder = Server::builder()
        .demo()
        .table("numbers", generated(NUMBERS, 100).unwrap())
        .tls(TlsIdentity {
            cert_pem: cert_pem.into_bytes(),
            key_pem: key_pem.into_bytes(),
        });
    if let Some(client_ca) = client_ca {
        builder = builder.client_ca(client_ca.pem.clone().into_bytes());
    }
    builder.start().await.unwrap()
}

async fn count_numbers(url: &str) -> dbapi::Result<i64> {
    let conn = registry().connect(url).await?;
    let mut cursor = conn.cursor()?;
    cursor
        .execute("SELECT count(*) AS n FROM numbers", Params::None)
        .await?;
    let row = cursor.fetchone().await?.expect("one row");
    row.get::<i64, _>("n")
}

#[tokio::test]
async fn private_ca_inline_with_a_server_name_override() {
    let ca = Ca::new("test CA");
    let server = tls_server(&ca, &["flight.internal.test"], false, None).await;
    let port = server.addr().port();
    // By IP, with the name the certificate holds; the CA inline, in a bundle with another.
    let other = Ca::new("unrelated CA");
    let bundle = format!("{}{}", other.pem, ca.pem);
    let url = format!(
        "flightsql://127.0.0.1:{port}?tls_root_certs={}&tls_server_name=flight.internal.test",
        enc(&bundle)
    );
    assert_eq!(count_numbers(&url).await.unwrap(), NUMBERS as i64);
    // The same through the builder, the CA from a file.
    let path = std::env::temp_dir().join(format!("dbapi-it-ca-{}-{port}.pem", std::process::id()));
    std::fs::write(&path, &bundle).unwrap();
    let config = Config::new("127.0.0.1", port)
        .with_tls_root_certs(Pem::file(&path))
        .with_tls_server_name("flight.internal.test");
    let client = FlightSqlClient::connect_with(config).await.unwrap();
    let info = client.execute("SELECT 1 AS one").await.unwrap();
    assert_eq!(info.endpoint.len(), 1);
    let _ = std::fs::remove_file(&path);

    // Without the override, the name check fails and says what to set.
    let url = format!(
        "flightsql://127.0.0.1:{port}?tls_root_certs={}",
        enc(&ca.pem)
    );
    let e = count_numbers(&url).await.unwrap_err();
    let text = e.to_string();
    assert!(e.is_connection(), "{e}");
    assert!(
        text.contains("not valid for the name \"127.0.0.1\""),
        "{text}"
    );
    assert!(text.contains("tls_server_name"), "{text}");
}

#[tokio::test]
async fn unknown_ca_and_expired_certificates_are_named() {
    let ca = Ca::new("test CA");
    let server = tls_server(&ca, &["localhost"], false, None).await;
    let port = server.addr().port();
    // The system roots do not hold the private CA.
    let e = count_numbers(&format!("flightsql://localhost:{port}"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not signed by a trusted CA"), "{e}");
    assert!(e.to_string().contains("tls_root_certs"), "{e}");
    // Another CA is not this one.
    let other = Ca::new("unrelated CA");
    let url = format!(
        "flightsql://localhost:{port}?tls_root_certs={}",
        enc(&other.pem)
    );
    let e = count_numbers(&url).await.unwrap_err();
    assert!(e.to_string().contains("not signed by a trusted CA"), "{e}");

    let expired = tls_server(&ca, &["localhost"], true, None).await;
    let url = format!(
        "flightsql://localhost:{}?tls_root_certs={}",
        expired.addr().port(),
        enc(&ca.pem)
    );
    let e = count_numbers(&url).await.unwrap_err();
    assert!(e.to_string().contains("certificate has expired"), "{e}");
}

#[tokio::test]
async fn mutual_tls() {
    let ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let server = tls_server(&ca, &["localhost"], false, Some(&client_ca)).await;
    let base = format!(
        "flightsql://localhost:{}?tls_root_certs={}",
        server.addr().port(),
        enc(&ca.pem)
    );
    // No client certificate: refused, and the error names the keys to set.
    let e = count_numbers(&base).await.unwrap_err();
    assert!(e.to_string().contains("tls_client_cert"), "{e}");

    // A certificate from the CA the server trusts, inline.
    let (cert, key) = client_ca.issue(&["client.test"], false);
    let url = format!(
        "{base}&tls_client_cert={}&tls_client_key={}",
        enc(&cert),
        enc(&key)
    );
    assert_eq!(count_numbers(&url).await.unwrap(), NUMBERS as i64);
    // Secrets: the inline key is not shown by the configuration.
    let config: Config = url.parse().unwrap();
    let key_body = key.lines().nth(1).unwrap();
    for shown in [config.to_string(), format!("{config:?}")] {
        assert!(!shown.contains(&enc(key_body)), "{shown}");
        assert!(!shown.contains(key_body), "{shown}");
    }
    assert_eq!(config.to_url().parse::<Config>().unwrap(), config);

    // A certificate the server does not trust.
    let stranger = Ca::new("stranger CA");
    let (cert2, key2) = stranger.issue(&["client.test"], false);
    let url = format!(
        "{base}&tls_client_cert={}&tls_client_key={}",
        enc(&cert2),
        enc(&key2)
    );
    let e = count_numbers(&url).await.unwrap_err();
    assert!(e.to_string().contains("client certificate"), "{e}");

    // A key that is not the certificate's, or one of the two missing.
    let url = format!(
        "{base}&tls_client_cert={}&tls_client_key={}",
        enc(&cert),
        enc(&key2)
    );
    let e = count_numbers(&url).await.unwrap_err();
    assert!(e.is_interface(), "{e}");
    assert!(e.to_string().contains("not the private key"), "{e}");
    let e = count_numbers(&format!("{base}&tls_client_cert={}", enc(&cert)))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("tls_client_key is not"), "{e}");
    assert!(!format!("{e} {e:?}").contains(key_body));
}

#[tokio::test]
async fn skipping_verification_is_explicit_and_logged() {
    let ca = Ca::new("test CA");
    let server = tls_server(&ca, &["flight.internal.test"], true, None).await;
    let port = server.addr().port();
    let capture = Trace::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    // Unknown CA, expired, wrong name: all accepted when asked for by name.
    let url = format!("flightsql://127.0.0.1:{port}?tls_skip_verify=true&token=s3cr3t");
    assert_eq!(count_numbers(&url).await.unwrap(), NUMBERS as i64);
    let events = capture.0.lock().unwrap().clone();
    let warnings: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("tls_skip_verify"))
        .collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    assert!(warnings[0].starts_with("event WARN"), "{warnings:?}");
    assert!(events.iter().all(|e| !e.contains("s3cr3t")), "{events:?}");
    // Never implied: without the key the same server is refused.
    let e = count_numbers(&format!("flightsql://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(e.is_connection(), "{e}");
    // A TLS key on a plaintext connection is a mistake, not ignored.
    let e = "grpc://127.0.0.1:1?tls_skip_verify=true"
        .parse::<Config>()
        .unwrap_err();
    assert!(e.to_string().contains("plaintext"), "{e}");
}

#[tokio::test]
async fn credentials_do_not_go_unencrypted_to_another_machine_unless_asked() {
    // This machine's own address on a network (not loopback), where a listener counts the
    // connections that reach it.
    let Some(ip) = crate::policy::own_address() else {
        eprintln!("skipped: this machine has no address but loopback");
        return;
    };
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let remote = listener.local_addr().unwrap();
    let e = registry()
        .connect(&format!(
            "grpc://{remote}?token=t0ps3cret&connect_timeout=200ms"
        ))
        .await
        .unwrap_err();
    assert!(e.is_interface(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("refusing to send the token unencrypted"),
        "{text}"
    );
    assert!(text.contains("tls=false"), "{text}");
    assert!(!text.contains("t0ps3cret"), "{text}");
    // Said by name: the driver goes (and finds no gRPC server), with a warning.
    let capture = Trace::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let e = crate::first_error(&format!(
        "flightsql://{remote}?tls=false&token=t0ps3cret&connect_timeout=2s&timeout=2s"
    ))
    .await;
    assert!(e.is_connection(), "{e}");
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let events = capture.0.lock().unwrap().clone();
    assert!(
        events.iter().any(|e| e.contains("unencrypted")),
        "{events:?}"
    );
    assert!(
        events.iter().all(|e| !e.contains("t0ps3cret")),
        "{events:?}"
    );
    // This machine is fine.
    let server = server(Options {
        auth: Auth::Bearer("t0ps3cret".into()),
        ..Options::default()
    })
    .await;
    let url = format!("grpc://{}?token=t0ps3cret", server.addr());
    assert_eq!(count_numbers(&url).await.unwrap(), NUMBERS as i64);

    // An endpoint location in plaintext on another machine gets no token either.
    let ca = Ca::new("test CA");
    let tls = tls_server(&ca, &["localhost"], false, None).await;
    tls.set_options(|o| {
        o.auth = Auth::Bearer("t0ps3cret".into());
        o.locations = Locations::Fixed(vec![format!("grpc+tcp://{remote}")]);
    });
    let url = format!(
        "flightsql://localhost:{}?tls_root_certs={}&token=t0ps3cret&locations=any",
        tls.addr().port(),
        enc(&ca.pem)
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("refusing to send"), "{e}");
    assert!(!format!("{e:?}").contains("t0ps3cret"));
}

#[tokio::test]
async fn an_http1_server_is_named() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0_u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
                // Close as web servers do ("lingering close"): reading what the client still
                // sends, so that the answer is not lost to a reset.
                let _ = tokio::time::timeout(Duration::from_millis(300), async {
                    while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                })
                .await;
            });
        }
    });
    let e = count_numbers(&format!("grpc://{addr}")).await.unwrap_err();
    assert!(e.to_string().contains("HTTP/1"), "{e:?}");
    assert!(e.is_connection(), "{e}");
}

#[tokio::test]
async fn compression_both_ways_and_compressed_ipc_bodies() {
    let server = Server::builder()
        .demo()
        .table("numbers", generated(NUMBERS, 100).unwrap())
        .compression(CompressionEncoding::Zstd)
        .options(Options {
            ipc_compression: Some(arrow::ipc::CompressionType::LZ4_FRAME),
            endpoints: 3,
            ..Options::default()
        })
        .start()
        .await
        .unwrap();
    for compression in ["gzip", "zstd"] {
        let before = server.stats().compressed_requests;
        let url = format!("{}&compression={compression}", server.url());
        let conn = registry().connect(&url).await.unwrap();
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
        assert_eq!(ids(cursor.as_mut()).await, all_ids());
        assert!(server.stats().compressed_requests > before);
        let headers = server.last_headers();
        let encoding = headers.iter().find(|(n, _)| n == "grpc-encoding");
        assert_eq!(encoding.map(|(_, v)| v.as_str()), Some(compression));
        let accepted = headers
            .iter()
            .find(|(n, _)| n == "grpc-accept-encoding")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        assert!(
            accepted.contains("gzip") && accepted.contains("zstd"),
            "{accepted}"
        );
    }
    // ZSTD bodies too, with exact values.
    server.set_options(|o| o.ipc_compression = Some(arrow::ipc::CompressionType::ZSTD));
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[cfg(unix)]
#[tokio::test]
async fn unix_domain_sockets_as_server_and_as_location() {
    let server = crate::server_with_endpoints(4).await;
    let dir = std::env::temp_dir().join(format!(
        "dbapi-it-unix-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flight.sock");
    let _ = std::fs::remove_file(&path);
    let replica = server.spawn_unix_replica(&path).unwrap();
    let url = format!("grpc+unix://{}", path.display());
    assert_eq!(replica.url(), url);
    let config: Config = url.parse().unwrap();
    assert_eq!(config.unix_socket(), Some(path.as_path()));
    assert_eq!(config.to_url().parse::<Config>().unwrap(), config);
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    // As an endpoint location of a TCP server.
    server.set_options(|o| o.locations = Locations::Fixed(vec![replica.location()]));
    let conn = registry().connect(&server.url()).await.unwrap();
    let before = server.stats().do_get;
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert_eq!(server.stats().do_get - before, 4);
    drop(replica);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_rotated_token_is_used_by_later_calls_and_other_locations() {
    let server = crate::server_with_endpoints(4).await;
    let replica = server.spawn_replica().await.unwrap();
    server.set_options(|o| {
        o.auth = Auth::Bearer("first-t0ken".into());
        o.rotate_token = Some("second-t0ken".into());
        o.locations = Locations::Fixed(vec![replica.location()]);
    });
    let conn = registry()
        .connect(&format!("{}&token=first-t0ken", server.url()))
        .await
        .unwrap();
    // The answer to GetFlightInfo carries the new token; from then on the server refuses the
    // first one, so every DoGet on the replica must carry the new one.
    for _ in 0..2 {
        let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
        assert_eq!(ids(cursor.as_mut()).await, all_ids());
    }
    let headers = server.last_headers();
    let auth = headers.iter().find(|(n, _)| n == "authorization").unwrap();
    assert_eq!(auth.1, "Bearer second-t0ken");
    // A new connection with the old token is refused now: the rotation is real.
    let conn = registry()
        .connect(&format!("{}&token=first-t0ken", server.url()))
        .await
        .unwrap();
    let mut cursor = conn.cursor().unwrap();
    let e = cursor.execute("SELECT 1", Params::None).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
}

#[tokio::test]
async fn cookies_are_kept_and_sent_everywhere_when_asked() {
    let server = crate::server_with_endpoints(3).await;
    let replica = server.spawn_replica().await.unwrap();
    server.set_options(|o| {
        o.set_cookie = Some("lb=node-7".into());
        o.locations = Locations::Fixed(vec![replica.location()]);
    });
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await.len(), NUMBERS);
    assert_eq!(server.stats().with_cookie, 0, "off by default");

    let conn = registry()
        .connect(&format!("{}&cookies=true", server.url()))
        .await
        .unwrap();
    let before = server.stats();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert_eq!(ids(cursor.as_mut()).await.len(), NUMBERS);
    let after = server.stats();
    // The first call learns the cookie; every DoGet (on the replica) sends it.
    assert_eq!(after.do_get - before.do_get, 3);
    assert!(after.with_cookie - before.with_cookie >= 3, "{after:?}");
}

#[tokio::test]
async fn per_call_timeouts_name_their_key() {
    let server = server(
        Options {
            poll_delay: Duration::from_millis(800),
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_before_first_batch = Duration::from_millis(800);
        }),
    )
    .await;
    // The stream's first message is late: fetch_timeout fires, the query's does not.
    let url = format!("{}&fetch_timeout=100ms&query_timeout=30s", server.url());
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("fetch_timeout"), "{e}");
    // Planning is slow (PollFlightInfo): query_timeout fires.
    let url = format!("{}&poll=true&query_timeout=100ms", server.url());
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    let e = cursor
        .execute("SELECT id FROM numbers", Params::None)
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("query_timeout"), "{e}");
    // A generous fetch_timeout lets the slow stream through; keep-alive pings do not disturb.
    let url = format!(
        "{}&fetch_timeout=5s&keepalive_interval=50ms&keepalive_timeout=5s",
        server.url()
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
}

#[tokio::test]
async fn user_agent_names_the_driver_or_the_application() {
    let server = crate::server_with_endpoints(1).await;
    let agent = |server: &Server| {
        server
            .last_headers()
            .into_iter()
            .find(|(n, _)| n == "user-agent")
            .map(|(_, v)| v)
            .unwrap_or_default()
    };
    let conn = registry().connect(&server.url()).await.unwrap();
    execute(conn.as_ref(), "SELECT 1").await;
    let expected = format!("dbapi-flightsql/{}", env!("CARGO_PKG_VERSION"));
    assert!(agent(&server).starts_with(&expected), "{}", agent(&server));
    let url = format!("{}&user_agent=sensor-dashboard%2F2.1", server.url());
    let conn = registry().connect(&url).await.unwrap();
    execute(conn.as_ref(), "SELECT 1").await;
    assert!(
        agent(&server).starts_with("sensor-dashboard/2.1"),
        "{}",
        agent(&server)
    );
    // An authority override reaches the same server.
    let url = format!("{}&authority=flight.example:443", server.url());
    let conn = registry().connect(&url).await.unwrap();
    execute(conn.as_ref(), "SELECT 1").await;
    let e = registry()
        .connect(&format!("{}&authority=a%20b", server.url()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("authority"), "{e}");
}

/// Records span names with their fields, and events, as text.
#[derive(Clone, Default)]
struct Trace(Arc<Mutex<Vec<String>>>);

struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Trace {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("dbapi")
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = Text(format!("span {} ", span.metadata().name()));
        span.record(&mut text);
        let mut all = self.0.lock().unwrap();
        all.push(text.0);
        tracing::span::Id::from_u64(all.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = Text(format!("event {} ", event.metadata().level()));
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn rpcs_and_endpoints_are_traced_without_secrets() {
    let server = crate::server_with_endpoints(3).await;
    let replica = server.spawn_replica().await.unwrap();
    let dead = crate::endpoints::dead_location().await;
    server.set_options(|o| {
        o.auth = Auth::Bearer("tr4ce-t0ken".into());
        // A dead location first: the fallback is an event.
        o.locations = Locations::Fixed(vec![dead.clone(), replica.location()]);
    });
    let trace = Trace::default();
    let _guard = tracing::subscriber::set_default(trace.clone());
    let url = format!(
        "{}&token=tr4ce-t0ken&header.x-api-key=k3y-s3cret",
        server.url()
    );
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    let all = trace.0.lock().unwrap().clone();
    let has = |needle: &str| all.iter().filter(|t| t.contains(needle)).count();
    assert!(
        has("span flightsql.rpc kind=Query what=\"execute\"") >= 1,
        "{all:#?}"
    );
    assert!(has("call answered") >= 1, "{all:#?}");
    for i in 0..3 {
        assert_eq!(
            has(&format!("span flightsql.endpoint endpoint={i} ")),
            1,
            "{all:#?}"
        );
    }
    let read: Vec<&String> = all.iter().filter(|t| t.contains("endpoint read")).collect();
    assert_eq!(read.len(), 3, "{all:#?}");
    let rows: usize = read
        .iter()
        .map(|t| {
            let after = t.split("rows=").nth(1).unwrap();
            after.split(' ').next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(rows, NUMBERS);
    assert_eq!(has("location failed"), 3, "{all:#?}");
    for text in &all {
        assert!(
            !text.contains("tr4ce-t0ken") && !text.contains("k3y-s3cret"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn http_locations_are_read_without_the_connections_credentials() {
    let server = crate::server(Options {
        endpoints: 4,
        auth: Auth::Bearer("http-t0ken".into()),
        ipc_compression: Some(arrow::ipc::CompressionType::LZ4_FRAME),
        ..Options::default()
    })
    .await;
    let http = server.spawn_http_replica().await.unwrap();
    assert!(http.base_url().starts_with("http://127.0.0.1:"));
    server.set_options(|o| o.locations = Locations::Http(http.base_url().to_owned()));
    let url = format!("{}&token=http-t0ken&cookies=true", server.url());
    let conn = registry().connect(&url).await.unwrap();
    let before = server.stats();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    let after = server.stats();
    assert_eq!(after.http_gets - before.http_gets, 4);
    assert_eq!(after.do_get - before.do_get, 4);
    assert_eq!(after.http_gets_with_credentials, 0);
    // An empty result still describes its columns.
    let mut cursor = execute(conn.as_ref(), "SELECT id, name FROM numbers WHERE id < 0").await;
    assert!(cursor.fetchall().await.unwrap().is_empty());
    let names = crate::column_names(cursor.as_ref());
    assert_eq!(names, ["id", "name"]);

    // The low-level client sees endpoints without tickets, and reads them.
    let client = FlightSqlClient::connect(&url).await.unwrap();
    let info = client
        .execute("SELECT id FROM numbers ORDER BY id")
        .await
        .unwrap();
    assert_eq!(info.endpoint.len(), 4);
    let mut seen = Vec::new();
    for endpoint in &info.endpoint {
        assert!(endpoint.ticket.is_none());
        assert!(endpoint.location[0].uri.starts_with(http.base_url()));
        for batch in client
            .do_get_endpoint(endpoint)
            .await
            .unwrap()
            .read_all()
            .await
            .unwrap()
        {
            let column = batch.column(0).as_any();
            let column = column.downcast_ref::<arrow::array::Int64Array>().unwrap();
            seen.extend(column.values().iter().copied());
        }
    }
    assert_eq!(seen, all_ids());
}

#[tokio::test]
async fn http_location_failures_name_the_location_and_the_cause() {
    let server = crate::server_with_endpoints(2).await;
    let http = server.spawn_http_replica().await.unwrap();
    server.set_options(|o| o.locations = Locations::Http(http.base_url().to_owned()));
    let conn = registry().connect(&server.url()).await.unwrap();
    let query = "SELECT id FROM numbers ORDER BY id";

    // A transfer that breaks after its first batch is an error, not a short result.
    // (Unsorted, so that each endpoint has several batches; a transfer that broke before
    // anything arrived is tried again, so every try breaks.)
    server.fail_next_streams(100, 1);
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_connection(), "{e}");
    assert!(e.to_string().contains("transfer broke"), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("reading {}/ticket/", http.base_url())),
        "{e}"
    );
    server.fail_next_streams(0, 0);

    // A body that ends cleanly in the middle of a message: the stream is truncated.
    server.set_options(|o| o.faults.http.truncate = true);
    let mut cursor = execute(conn.as_ref(), query).await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.is_connection(), "{e}");
    assert!(
        e.to_string().contains("the Arrow IPC stream is truncated"),
        "{e}"
    );
    server.set_options(|o| o.faults.http.truncate = false);

    // Redirects are followed, a few.
    server.set_options(|o| o.faults.http.redirects = 2);
    let gets = server.stats().http_gets;
    let mut cursor = execute(conn.as_ref(), query).await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    assert_eq!(server.stats().http_gets - gets, 2 * 3);
    server.set_options(|o| o.faults.http.redirects = 6);
    let mut cursor = execute(conn.as_ref(), query).await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("more than 5 redirects"), "{e}");
    server.set_options(|o| o.faults.http.redirects = 0);

    // A message larger than max_message_size is refused before it is buffered whole.
    let small = registry()
        .connect(&format!("{}&max_message_size=2KiB", server.url()))
        .await
        .unwrap();
    let mut cursor = execute(small.as_ref(), "SELECT * FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert_eq!(e.kind(), dbapi::ErrorKind::Data, "{e}");
    assert!(
        e.to_string()
            .contains("larger than max_message_size (2048 bytes)"),
        "{e}"
    );

    // An answer in another format (the GETs of the other endpoints, abandoned with the
    // cursor, may still reach the server afterwards).
    server.set_options(|o| o.faults.http.content_type = Some("text/html; charset=utf-8".into()));
    let mut cursor = execute(conn.as_ref(), query).await;
    let e = cursor.fetchall().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("text/html"), "{text}");
    assert!(text.contains("only Arrow IPC streams"), "{text}");
    assert_eq!(e.kind(), dbapi::ErrorKind::NotSupported, "{e}");
    assert!(!text.contains("retries"), "{text}");
    server.set_options(|o| o.faults.http.content_type = Some("application/octet-stream".into()));
    let mut cursor = execute(conn.as_ref(), query).await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    server.set_options(|o| o.faults.http.content_type = None);

    // An unknown ticket: the HTTP status and what the server said.
    let client = FlightSqlClient::connect(&server.url()).await.unwrap();
    let location = format!("{}/ticket/AAAA?signature=s3cret-sig", http.base_url());
    let endpoint = arrow_flight::FlightEndpoint::new().with_location(location);
    let e = client.do_get_endpoint(&endpoint).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("HTTP 400 Bad Request"), "{text}");
    assert!(text.contains("/ticket/AAAA?..."), "{text}");
    assert!(!text.contains("s3cret-sig"), "{text}");
}

#[tokio::test]
async fn https_locations_are_verified_with_the_connections_roots() {
    let ca = Ca::new("test CA");
    let server = tls_server(&ca, &["localhost"], false, None).await;
    server.set_options(|o| o.endpoints = 3);
    let http = server.spawn_http_replica().await.unwrap();
    assert!(http.base_url().starts_with("https://127.0.0.1:"));
    // The certificate names localhost: locations by that name verify.
    let base = http.base_url().replace("127.0.0.1", "localhost");
    server.set_options(|o| o.locations = Locations::Http(base));
    let port = server.addr().port();
    let trusted = format!(
        "flightsql://localhost:{port}?tls_root_certs={}",
        enc(&ca.pem)
    );
    let conn = registry().connect(&trusted).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers ORDER BY id").await;
    assert_eq!(ids(cursor.as_mut()).await, all_ids());
    // Another CA: the location's certificate is refused, and the error says why.
    let other = Ca::new("other CA");
    let server2 = tls_server(&other, &["localhost"], false, None).await;
    let url2 = format!(
        "flightsql://localhost:{}?tls_root_certs={}",
        server2.addr().port(),
        enc(&other.pem)
    );
    server2.set_options(|o| {
        o.locations = Locations::Http(http.base_url().replace("127.0.0.1", "localhost"))
    });
    let conn = registry().connect(&url2).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    let e = cursor.fetchall().await.unwrap_err();
    assert!(e.to_string().contains("https://localhost:"), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

/// A TCP relay to `target` that can be frozen: it then holds every byte either way while
/// keeping both connections open, as a dead link or a stuck middlebox does.
async fn freezable_relay(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        frozen: Arc<AtomicBool>,
    ) {
        let mut buf = vec![0_u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            while frozen.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let frozen = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&frozen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pipe(client_read, server_write, Arc::clone(&flag)));
            tokio::spawn(pipe(server_read, client_write, Arc::clone(&flag)));
        }
    });
    (addr, frozen)
}

#[tokio::test]
async fn keepalive_detects_a_dead_link_during_a_stream() {
    let server = crate::server(
        Options {
            ..Options::default()
        }
        .with_faults(|f| {
            f.streams.delay_between_batches = Duration::from_millis(100);
        }),
    )
    .await;
    let (relay, frozen) = freezable_relay(server.addr()).await;
    let url =
        format!("flightsql://{relay}?tls=false&keepalive_interval=100ms&keepalive_timeout=300ms");
    let conn = registry().connect(&url).await.unwrap();
    let mut cursor = execute(conn.as_ref(), "SELECT id FROM numbers").await;
    assert!(cursor.fetchone().await.unwrap().is_some());
    // The link goes dead mid-stream: no answer, no reset. Without keep-alive the fetch would
    // wait forever (no fetch_timeout is set); with it the connection is declared dead.
    frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(20), cursor.fetchall()).await;
    let e = outcome
        .expect("keep-alive should end the stalled stream")
        .unwrap_err();
    assert!(e.is_connection(), "{e}");
    assert_eq!(e.kind(), dbapi::ErrorKind::Operational, "{e}");
    assert!(
        e.to_string()
            .contains("the connection broke while the stream was read"),
        "{e}"
    );
    assert!(!e.to_string().contains("TLS"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "{e}");
}

#[tokio::test]
async fn a_caller_built_rustls_config_is_used_as_given() {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let ca = Ca::new("test CA");
    let server = tls_server(&ca, &["localhost"], false, None).await;
    let port = server.addr().port();
    let tls = |trusted: Option<&Ca>| {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca) = trusted {
            for cert in CertificateDer::pem_slice_iter(ca.pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                // gRPC needs h2: the driver sets it whatever the caller did.
                .with_no_client_auth(),
        )
    };
    let config = Config::new("localhost", port).with_tls_config(tls(Some(&ca)));
    let conn = dbapi::driver::Connector::connect(&config).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT count(*) FROM numbers", Params::None)
        .await
        .unwrap();
    assert_eq!(
        dbapi::CursorExt::fetch_scalar::<i64>(cursor.as_mut())
            .await
            .unwrap(),
        NUMBERS as i64
    );
    assert!(format!("{config:?}").contains("custom rustls ClientConfig"));
    // A configuration that trusts nothing is refused by the server's certificate check.
    let config = Config::new("localhost", port).with_tls_config(tls(None));
    let e = dbapi_flightsql::FlightSqlConnection::connect_with(config)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    // It replaces the tls_* keys: giving both is an error, as is plaintext.
    let e = Config::new("localhost", port)
        .with_tls_config(tls(Some(&ca)))
        .with_tls_root_certs(Pem::inline(ca.pem.clone()))
        .validate()
        .unwrap_err();
    assert!(
        e.to_string().contains("tls_root_certs and with_tls_config"),
        "{e}"
    );
    let e = Config::new("localhost", port)
        .with_tls(false)
        .with_tls_config(tls(Some(&ca)))
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("plaintext"), "{e}");
}

#[tokio::test]
async fn connections_leave_from_the_local_address_asked_for() {
    let server = server(Options {
        endpoints: 2,
        ..Options::default()
    })
    .await;
    let url = format!("{}&local_address=127.0.0.2", server.url());
    assert_eq!(count_numbers(&url).await.unwrap(), NUMBERS as i64);
    let peers = server.do_get_peers();
    assert!(
        !peers.is_empty() && peers.iter().all(|p| p.ip().to_string() == "127.0.0.2"),
        "{peers:?}"
    );
    // The URL prints it back; a value that is not an address, or an address this machine
    // does not have, is named.
    let config: Config = url.parse().unwrap();
    assert!(
        config.to_string().contains("local_address=127.0.0.2"),
        "{config}"
    );
    let e = crate::first_error(&format!("{}&local_address=nowhere", server.url())).await;
    assert!(e.to_string().contains("local_address"), "{e}");
    // 192.0.2.1 is reserved for documentation: binding it fails here, nothing is sent.
    let e = crate::first_error(&format!("{}&local_address=192.0.2.1", server.url())).await;
    assert!(
        e.to_string()
            .contains("cannot connect from local_address 192.0.2.1"),
        "{e}"
    );
}

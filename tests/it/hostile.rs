//! A hostile server: every lie it tells is a clear error naming its cause, never a panic, an
//! abort or memory without bound (the bench measures the memory: `dbapi-bench hostile`).

use std::sync::{Arc, Mutex};

use dbapi::metadata::TableFilter;
use dbapi::{ErrorKind, Params};
use dbapi_flightsql::{FlightSqlClient, FlightSqlConnection};
use dbapi_flightsql_server::hostile::{HostileServer, cases};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::registry;

/// The error of reading a case's result to its end.
async fn fetch_error(server: &HostileServer, case: &str) -> dbapi::Error {
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    match cursor.execute(case, Params::None).await {
        Err(e) => e,
        Ok(()) => cursor
            .fetchall()
            .await
            .map(|rows| panic!("{case}: {} rows instead of an error", rows.len()))
            .unwrap_err(),
    }
}

#[tokio::test]
async fn lies_in_streams_are_errors_naming_their_cause() {
    let server = HostileServer::start().await.unwrap();
    let expect = |case: &str| -> (ErrorKind, &[&str]) {
        match case {
            cases::LENGTH_LIE => (
                ErrorKind::Data,
                &["declares 1125899906842624 bytes", "max_decoded_size"],
            ),
            cases::LZ4_BOMB | cases::ZSTD_BOMB => (
                ErrorKind::Data,
                &["declares 1073741824 bytes", "max_decoded_size"],
            ),
            cases::LZ4_BOMB_LIE | cases::HTTP_LZ4_BOMB => (
                ErrorKind::Internal,
                &["declares 1024 bytes uncompressed and expands to more than 1024"],
            ),
            cases::ZSTD_BOMB_LIE => (ErrorKind::Internal, &["cannot decode the stream"]),
            cases::SCHEMA_CHANGE => (ErrorKind::Internal, &["changed its schema"]),
            cases::DECIMAL_SCALE => (
                ErrorKind::Internal,
                &[
                    "\"d\"",
                    "Decimal128(2, 10)",
                    "scale 10 is greater than precision 2",
                ],
            ),
            cases::DECIMAL_DIGITS => (
                ErrorKind::Internal,
                &["\"d\"", "more digits than its type Decimal128(3, 2)"],
            ),
            cases::ENDLESS_HTTP_ERROR => (ErrorKind::Operational, &["HTTP 500", "eeee..."]),
            cases::HTTP_LENGTH_LIE => (ErrorKind::Data, &["larger than max_message_size"]),
            cases::ROWS_NESTED_NULL => (
                ErrorKind::Data,
                &[
                    "of type Null in column \"x\" of 2147483647 rows",
                    "max_batch_rows",
                ],
            ),
            c if cases::ROW_BOMBS.contains(&c) => (
                ErrorKind::Data,
                &[
                    "a batch of 1099511627776 rows",
                    "max_batch_rows (1048576 rows)",
                ],
            ),
            cases::DECIMAL_DIGITS_LIST | cases::DECIMAL_DIGITS_DICTIONARY => (
                ErrorKind::Internal,
                &["\"d\"", "more digits than its type Decimal128(5, 2)"],
            ),
            cases::NUL_TIME_ZONE => (
                ErrorKind::Internal,
                &["the time zone of column \"t\"", "\\u{0}"],
            ),
            cases::NUL_IN_NAME => (
                ErrorKind::Internal,
                &["the name of a field of column", "\\u{0}"],
            ),
            cases::NUL_IN_ERROR => (
                ErrorKind::Programming,
                &["the server says no\\u{0} and this part hides after a NUL"],
            ),
            other => panic!("no expectation for {other}"),
        }
    };
    for case in cases::STREAMS {
        let e = fetch_error(&server, case).await;
        crate::assert_causes_once(&e);
        let (kind, parts) = expect(case);
        assert_eq!(e.kind(), kind, "{case}: {e}");
        for part in parts {
            assert!(e.to_string().contains(part), "{case}: {e}");
        }
        let text = e.to_string();
        assert!(
            !text.contains(['\0', '\x1b', '\x07']),
            "{case}: a control character in {text:?}"
        );
    }
    // The process is alive and the driver still works against the same server.
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor.execute(cases::INT8_OK, Params::None).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_row_bomb_in_a_metadata_answer_is_an_error_naming_max_batch_rows() {
    let server = HostileServer::start().await.unwrap();
    let conn = registry().connect(&server.url()).await.unwrap();
    let check = |e: dbapi::Error, what: &str| {
        assert_eq!(e.kind(), ErrorKind::Data, "{what}: {e}");
        assert!(e.to_string().contains("1099511627776 rows"), "{what}: {e}");
        assert!(e.to_string().contains("max_batch_rows"), "{what}: {e}");
    };
    check(conn.catalogs().await.unwrap_err(), "catalogs");
    // A larger limit is the user's to give: the same answer is then read to its end (the
    // driver allocates nothing per row of a Null column until rows are asked for).
    let trusting = registry()
        .connect(&format!("{}?max_batch_rows=2000000000000", server.url()))
        .await
        .unwrap();
    let mut cursor = trusting.cursor().unwrap();
    cursor
        .execute(cases::ROWS_NULL, Params::None)
        .await
        .unwrap();
    let batch = cursor.fetch_batch().await.unwrap().unwrap();
    assert_eq!(batch.num_rows(), 1 << 40);
}

#[tokio::test]
async fn a_stream_that_changes_schema_is_an_error_of_read_all_concat() {
    let server = HostileServer::start().await.unwrap();
    let client = FlightSqlClient::connect(&server.url()).await.unwrap();
    let info = client.execute(cases::SCHEMA_CHANGE).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let e = client
        .do_get(&ticket)
        .await
        .unwrap()
        .read_all_concat()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("changed its schema"), "{e}");
}

#[tokio::test]
async fn malformed_schemas_are_errors_at_each_of_the_four_places() {
    let server = HostileServer::start().await.unwrap();
    let conn = FlightSqlConnection::connect(&server.url()).await.unwrap();
    let check = |e: dbapi::Error, place: &str| {
        assert_eq!(e.kind(), ErrorKind::Internal, "{place}: {e}");
        assert!(e.to_string().contains("undecodable"), "{place}: {e}");
        assert!(e.to_string().contains(place), "{place}: {e}");
    };
    // 1. FlightInfo.schema
    let mut cursor = conn.flight_cursor().unwrap();
    let e = dbapi::Cursor::execute(&mut cursor, cases::BAD_SCHEMA_FLIGHT_INFO, Params::None)
        .await
        .unwrap_err();
    check(e, "FlightInfo");
    // 2. A prepared statement's dataset and parameter schemas.
    let e = conn
        .prepare_flight(cases::BAD_SCHEMA_DATASET)
        .await
        .unwrap_err();
    check(e, "result schema");
    let e = conn
        .prepare_flight(cases::BAD_SCHEMA_PARAMETERS)
        .await
        .unwrap_err();
    check(e, "parameter schema");
    // 3. GetSchema.
    let statement = conn
        .prepare_flight(cases::BAD_SCHEMA_GET_SCHEMA)
        .await
        .unwrap();
    let e = statement.fetch_result_schema().await.unwrap_err();
    check(e, "GetSchema");
    // 4. GetTables' table_schema column.
    let e = dbapi::Connection::tables(&conn, &TableFilter::new().with_columns())
        .await
        .unwrap_err();
    check(e, "GetTables");
}

#[tokio::test]
async fn an_endless_action_answer_is_refused_past_its_bound() {
    let server = HostileServer::start().await.unwrap();
    let conn = registry().connect(&server.url()).await.unwrap();
    let e = conn.prepare(cases::ENDLESS_ACTION).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Data, "{e}");
    assert!(
        e.to_string()
            .contains("more than 16777216 bytes of results"),
        "{e}"
    );
}

#[tokio::test]
async fn cancel_against_a_server_answering_invalid_argument_cancels_locally() {
    let server = HostileServer::start().await.unwrap();
    let conn = registry().connect(&server.url()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor.execute(cases::INT8_OK, Params::None).await.unwrap();
    let token = cursor.cancel_token().unwrap();
    // The server answers CancelFlightInfo and CancelQuery with INVALID_ARGUMENT
    // ("Unsupported action type"): the cursor is cancelled anyway, and the refusal kept.
    token.cancel().await.unwrap();
    let e = cursor.fetchone().await.unwrap_err();
    assert!(e.is_cancelled(), "{e}");
    cursor.execute(cases::INT8_OK, Params::None).await.unwrap();
    cursor.cancel_token().unwrap().cancel().await.unwrap();
    assert!(cursor.fetchall().await.unwrap_err().is_cancelled());
}

/// A token endpoint on 127.0.0.1 answering every request with `expires_in`; the number of
/// requests it saw.
pub(crate) async fn token_endpoint(expires_in: &'static str) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0_u8; 4096];
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                *counter.lock().unwrap() += 1;
                let body = format!(
                    r#"{{"access_token":"tok","token_type":"Bearer","expires_in":{expires_in}}}"#
                );
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn token_lifetimes_are_range_checked() {
    let server = HostileServer::start().await.unwrap();
    let url = |token_uri: &str| {
        format!(
            "{}?oauth_flow=client_credentials&oauth_token_uri={}&oauth_client_id=app&oauth_client_secret=s3cret",
            server.url(),
            crate::url_encode(token_uri)
        )
    };
    let run = |conn: &dyn dbapi::Connection| {
        let mut cursor = conn.cursor().unwrap();
        async move {
            cursor.execute(cases::INT8_OK, Params::None).await.unwrap();
            cursor.fetchall().await.unwrap().len()
        }
    };
    // 1e20 seconds: a long life, not a panic; 0: not a request before every call (at most
    // one each quarter of a second).
    for expires_in in ["1e20", "0"] {
        let (token_uri, seen) = token_endpoint(expires_in).await;
        let started = std::time::Instant::now();
        let conn = registry().connect(&url(&token_uri)).await.unwrap();
        for _ in 0..20 {
            assert_eq!(run(conn.as_ref()).await, 3);
        }
        let requests = *seen.lock().unwrap();
        let most = if expires_in == "0" {
            2 + started.elapsed().as_millis() as usize / 250
        } else {
            1
        };
        assert!(
            requests >= 1 && requests <= most,
            "{expires_in}: {requests} token requests"
        );
        assert!(requests < 20, "{expires_in}: {requests} token requests");
    }
    // Negative, or not a number: an authentication error naming expires_in.
    for expires_in in ["-5", "\"soon\""] {
        let (token_uri, _) = token_endpoint(expires_in).await;
        let e = registry().connect(&url(&token_uri)).await.unwrap_err();
        assert!(e.is_auth(), "{expires_in}: {e}");
        assert!(e.to_string().contains("expires_in"), "{expires_in}: {e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_before_it_is_followed() {
    let server = HostileServer::start().await.unwrap();
    // The default (locations=server) and locations=server said out loud.
    for url in [server.url(), format!("{}?locations=server", server.url())] {
        let conn = registry().connect(&url).await.unwrap();
        let mut cursor = conn.cursor().unwrap();
        let e = match cursor
            .execute(cases::REDIRECT_ELSEWHERE, Params::None)
            .await
        {
            Ok(()) => cursor.fetchall().await.unwrap_err(),
            Err(e) => e,
        };
        assert_eq!(e.kind(), ErrorKind::Interface, "{e}");
        for part in [
            "redirect",
            "elsewhere.invalid",
            "locations=server",
            "locations=elsewhere.invalid",
        ] {
            assert!(e.to_string().contains(part), "{part}: {e}");
        }
        // A redirect on the same host is followed.
        cursor
            .execute(cases::REDIRECT_HOME, Params::None)
            .await
            .unwrap();
        assert_eq!(cursor.fetchall().await.unwrap().len(), 3);
    }
}

/// A server naming 1,500 location URIs (all on itself) costs one connection, not one each.
/// Read in a client process of its own under `ulimit -n 1024`: the test starts the server,
/// then runs this same test again in a child process (`DBAPI_HOSTILE_URL` set), which is the
/// client.
#[test]
fn fifteen_hundred_location_uris_fit_under_a_thousand_file_descriptors() {
    const TEST: &str =
        "hostile::fifteen_hundred_location_uris_fit_under_a_thousand_file_descriptors";
    if let Ok(url) = std::env::var("DBAPI_HOSTILE_URL") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let conn = registry().connect(&url).await.unwrap();
            let mut cursor = conn.cursor().unwrap();
            cursor
                .execute(cases::MANY_LOCATIONS, Params::None)
                .await
                .unwrap();
            assert_eq!(cursor.fetchall().await.unwrap().len(), 4500);
        });
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count();
        assert!(open < 200, "{open} file descriptors open");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(HostileServer::start()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 1024 && exec '{}' --exact --nocapture {TEST}",
            exe.display()
        ))
        .env("DBAPI_HOSTILE_URL", server.url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

//! Mapping of gRPC statuses and transport errors to `dbapi::Error`: the one table.
//!
//! `docs/errors.md` shows the same table; a test below keeps them in agreement.

use std::error::Error as StdError;

use dbapi::{Error, ErrorKind};
use tonic::Code;

use crate::transport::explain::{ConnectFailure, explain_rustls};

/// The PEP 249 kind of a gRPC status code.
pub fn kind_of(code: Code) -> ErrorKind {
    match code {
        Code::Ok => ErrorKind::Internal,
        Code::Cancelled => ErrorKind::Operational,
        Code::Unknown => ErrorKind::Database,
        Code::InvalidArgument => ErrorKind::Programming,
        Code::DeadlineExceeded => ErrorKind::Operational,
        Code::NotFound => ErrorKind::Programming,
        Code::AlreadyExists => ErrorKind::Programming,
        Code::PermissionDenied => ErrorKind::Operational,
        Code::ResourceExhausted => ErrorKind::Operational,
        Code::FailedPrecondition => ErrorKind::Programming,
        Code::Aborted => ErrorKind::Operational,
        Code::OutOfRange => ErrorKind::Data,
        Code::Unimplemented => ErrorKind::NotSupported,
        Code::Internal => ErrorKind::Internal,
        Code::Unavailable => ErrorKind::Operational,
        Code::DataLoss => ErrorKind::Internal,
        Code::Unauthenticated => ErrorKind::Operational,
    }
}

/// Every gRPC code with its name as written in the gRPC specification (`"UNAUTHENTICATED"`),
/// by number: the one list of them.
const CODES: [(Code, &str); 17] = [
    (Code::Ok, "OK"),
    (Code::Cancelled, "CANCELLED"),
    (Code::Unknown, "UNKNOWN"),
    (Code::InvalidArgument, "INVALID_ARGUMENT"),
    (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    (Code::NotFound, "NOT_FOUND"),
    (Code::AlreadyExists, "ALREADY_EXISTS"),
    (Code::PermissionDenied, "PERMISSION_DENIED"),
    (Code::ResourceExhausted, "RESOURCE_EXHAUSTED"),
    (Code::FailedPrecondition, "FAILED_PRECONDITION"),
    (Code::Aborted, "ABORTED"),
    (Code::OutOfRange, "OUT_OF_RANGE"),
    (Code::Unimplemented, "UNIMPLEMENTED"),
    (Code::Internal, "INTERNAL"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::DataLoss, "DATA_LOSS"),
    (Code::Unauthenticated, "UNAUTHENTICATED"),
];

/// The name of a gRPC code as written in the gRPC specification, e.g. `"UNAUTHENTICATED"`.
fn code_name(code: Code) -> &'static str {
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("UNKNOWN", |(_, name)| name)
}

/// The gRPC status code an error of this driver came from, if it came from one (its
/// [`code`](dbapi::Error::code) is then the code's name, as [`kind_of`] documents).
///
/// ```
/// let e = dbapi::Error::operational("no").with_code("UNAVAILABLE");
/// assert_eq!(dbapi_flightsql::grpc_code(&e), Some(tonic::Code::Unavailable));
/// let sql = dbapi::Error::new(dbapi::ErrorKind::Database, "no such table").with_code("42P01");
/// assert_eq!(dbapi_flightsql::grpc_code(&sql), None);
/// ```
pub fn grpc_code(error: &dbapi::Error) -> Option<Code> {
    let name = error.code()?;
    CODES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(code, _)| *code)
}

/// What the transport saw, for the TLS hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Plaintext,
    Tls,
    /// A connection that has already carried an answer (a stream being read): whatever
    /// its security, a failure now is not a TLS mismatch.
    Established,
}

/// Converts a gRPC status: the message holds its code name and message, `Error::code` gives
/// the code name; its metadata (which may hold tokens) is dropped.
pub(crate) fn from_status(status: &tonic::Status, transport: Transport) -> Error {
    from_status_explained(status, transport, None)
}

/// [`from_status`] with what the connection saw when it failed (an HTTP/1 answer, a TLS
/// alert), for statuses that only say "transport error".
pub(crate) fn from_status_explained(
    status: &tonic::Status,
    transport: Transport,
    failure: Option<String>,
) -> Error {
    let code = status.code();
    let message = status.message();
    let mut text = if message.is_empty() {
        format!("server returned {}", code_name(code))
    } else {
        format!("server returned {}: {message}", code_name(code))
    };
    if code == Code::OutOfRange && message.contains("message length too large") {
        text = format!(
            "a message from the server is larger than max_message_size ({message}); raise the \
             URL option max_message_size (e.g. max_message_size=256MiB)"
        );
    }
    let chain = chain_text(status);
    let failure = connect_failure(status).or_else(|| {
        failure.filter(|_| matches!(code, Code::Unknown | Code::Unavailable | Code::Cancelled))
    });
    let explained = failure.is_some();
    // A status made by the client's transport from an I/O or HTTP/2 error (a server's own
    // status has no source): the connection broke, whatever code it was given.
    let broken = status.source().is_some()
        && matches!(
            code,
            Code::Unknown | Code::Unavailable | Code::Cancelled | Code::Internal
        );
    if let Some(failure) = failure {
        // The connection failed; the status only says so.
        text = format!("the connection failed ({}): {failure}", code_name(code));
    } else if broken && transport == Transport::Established {
        let cause = status.source().map(chain_text).unwrap_or_default();
        text = format!(
            "the connection broke while the stream was read ({}): {cause}",
            code_name(code)
        );
    } else if matches!(
        code,
        Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
    ) && let Some(hint) = tls_hint(&format!("{message} {chain}"), transport)
    {
        text = format!("{text} ({hint})");
    }
    if explained || broken {
        let error = Error::operational(text)
            .with_code(code_name(code))
            .connection();
        // A connection that broke (reset, GOAWAY) may work again; one refused for what it
        // is (TLS, an HTTP/1 answer) will not.
        return if broken && !explained {
            error.transient()
        } else {
            error
        };
    }
    let kind = if lacks_call(code, message) {
        ErrorKind::NotSupported
    } else if code == Code::Internal && looks_like_sql_error(message) {
        // Some servers send INTERNAL for every error, the user's SQL included.
        ErrorKind::Programming
    } else {
        kind_of(code)
    };
    // The message says all the status says (its code and message; its metadata, which may
    // hold tokens, is dropped): no source repeats it.
    let mut error = Error::new(kind, text).with_code(code_name(code));
    match code {
        Code::Unauthenticated | Code::PermissionDenied => error = error.auth(),
        Code::DeadlineExceeded => error = error.timeout(),
        // Also what tonic makes of a proxy's 502, 503 and 504.
        Code::Unavailable => error = error.connection().transient(),
        _ => {}
    }
    error
}

/// Whether a status says the server lacks the call itself: `UNIMPLEMENTED`, or the other codes
/// servers answer unknown actions and commands with, when their message says so. The one
/// place that decides it: such statuses become [`NotSupported`](ErrorKind::NotSupported)
/// errors, which the fallbacks of the connection test.
fn lacks_call(code: Code, message: &str) -> bool {
    if code == Code::Unimplemented {
        return true;
    }
    if !matches!(
        code,
        Code::InvalidArgument | Code::Internal | Code::Unknown | Code::NotFound
    ) {
        return false;
    }
    let m = message.to_ascii_lowercase();
    [
        "unsupported action",
        "unknown action",
        "action type",
        "not implemented",
        "unimplemented",
        "unknown command",
        "unsupported command",
        "command not supported",
        "action not supported",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Whether a server's message describes an error in the SQL (syntax, planning, unknown
/// names) rather than in the server.
fn looks_like_sql_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "sql error",
        "parsererror",
        "parser error",
        "syntax error",
        "error during planning",
        "planning error",
        "schema error",
        "no field named",
        "table not found",
        "database not found",
        "namespace not found",
        "catalog not found",
        "schema not found",
        "column not found",
        "does not exist",
        "unknown column",
        "unknown table",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Converts a failure to connect.
pub(crate) fn from_transport(
    what: &str,
    error: tonic::transport::Error,
    transport: Transport,
) -> Error {
    // The cause is reached through `source()`; the message names what failed, and the
    // hint when the cause looks like a TLS/plaintext mismatch.
    let chain = chain_text(&error);
    let mut text = what.to_owned();
    let explained = connect_failure(&error);
    if let Some(failure) = &explained {
        text = format!("{text}: {failure}");
    } else if let Some(hint) = tls_hint(&chain, transport) {
        text = format!("{text} ({hint})");
    }
    let timed_out = chain.contains("timed out") || chain.contains("elapsed");
    // An explained failure says what its causes say; otherwise they are the source.
    // Refused or reset: transient; explained (TLS, HTTP/1) or timed out: not (a retry
    // would fail the same way, or wait as long again).
    let e = if explained.is_some() {
        Error::operational(text).connection()
    } else if timed_out {
        Error::operational(text).with_source(error).connection()
    } else {
        Error::operational(text)
            .with_source(error)
            .connection()
            .transient()
    };
    if timed_out { e.timeout() } else { e }
}

/// The explanation the connector gave for a failure (a TLS verification error, an HTTP/1
/// answer...), wherever it sits in the source chain (also inside an `io::Error`).
fn connect_failure(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(f) = e.downcast_ref::<ConnectFailure>() {
            return Some(f.0.clone());
        }
        // HTTP/2 errors hold the I/O error that ended the connection without exposing it
        // as a source.
        let io = e
            .downcast_ref::<std::io::Error>()
            .or_else(|| e.downcast_ref::<h2::Error>().and_then(h2::Error::get_io));
        if let Some(f) = io
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<ConnectFailure>())
        {
            return Some(f.0.clone());
        }
        // A TLS alert or certificate error raised after the handshake (TLS 1.3 servers check
        // client certificates then).
        if let Some(tls) = io
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .or_else(|| e.downcast_ref::<rustls::Error>())
        {
            return Some(explain_rustls(tls, "the server"));
        }
        next = e.source();
    }
    None
}

/// All messages of an error's source chain, joined.
pub(crate) fn chain_text(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A hint when the failure looks like a TLS/plaintext mismatch.
pub(crate) fn tls_hint(text: &str, transport: Transport) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    match transport {
        Transport::Plaintext => [
            "frame with invalid size",
            "connection reset",
            "broken pipe",
            "connection closed",
            "unexpected end of file",
            "unexpected eof",
            "http2 error",
            "h2 protocol error",
            "invalid http",
        ]
        .iter()
        .any(|m| t.contains(m))
        .then_some("the server may require TLS: use tls=true with flightsql://, or grpc+tls://"),
        Transport::Tls => [
            "invalidcontenttype",
            "corrupt message",
            "wrong version number",
            "record overflow",
            "invalid content type",
            "peer is incompatible",
            "tls handshake eof",
        ]
        .iter()
        .any(|m| t.contains(m))
        .then_some("the server may not speak TLS: use tls=false with flightsql://, or grpc+tcp://"),
        Transport::Established => None,
    }
}

/// Every gRPC code, in numeric order, for the table in `docs/errors.md`.
#[cfg(test)]
const ALL_CODES: [Code; 17] = [
    Code::Ok,
    Code::Cancelled,
    Code::Unknown,
    Code::InvalidArgument,
    Code::DeadlineExceeded,
    Code::NotFound,
    Code::AlreadyExists,
    Code::PermissionDenied,
    Code::ResourceExhausted,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::OutOfRange,
    Code::Unimplemented,
    Code::Internal,
    Code::Unavailable,
    Code::DataLoss,
    Code::Unauthenticated,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_code_and_message_and_drops_metadata() {
        let mut s = tonic::Status::unauthenticated("invalid token");
        s.metadata_mut()
            .insert("authorization", "Bearer leaked".parse().unwrap());
        let e = from_status(&s, Transport::Plaintext);
        assert_eq!(e.kind(), ErrorKind::Operational);
        assert!(e.is_auth());
        assert_eq!(e.code(), Some("UNAUTHENTICATED"));
        assert_eq!(
            e.to_string(),
            "OperationalError: server returned UNAUTHENTICATED: invalid token"
        );
        assert!(e.source().is_none(), "the message says it all");
        assert!(!format!("{e:?}").contains("leaked"));
    }

    #[test]
    fn predicates() {
        let e = from_status(&tonic::Status::deadline_exceeded("slow"), Transport::Tls);
        assert!(e.is_timeout());
        let e = from_status(&tonic::Status::unavailable("down"), Transport::Tls);
        assert!(e.is_connection() && e.is_transient());
        for status in [
            tonic::Status::internal("boom"),
            tonic::Status::invalid_argument("syntax error"),
            tonic::Status::deadline_exceeded("slow"),
            tonic::Status::unauthenticated("who"),
        ] {
            assert!(
                !from_status(&status, Transport::Tls).is_transient(),
                "{status}"
            );
        }
        // A status the transport made from a reset stream: the connection broke.
        let reset = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        let e = from_status(&reset, Transport::Established);
        assert!(e.is_connection() && e.is_transient(), "{e:?}");
        let e = from_status(&tonic::Status::unimplemented("no"), Transport::Tls);
        assert!(e.is_not_supported());
    }

    #[test]
    fn internal_sql_errors_are_programming_errors_keeping_the_code() {
        for message in [
            "SQL error: ParserError(\"Expected: an SQL statement, found: SELEC\")",
            "Error during planning: table 'x' not found",
            "Schema error: No field named nope.",
        ] {
            let e = from_status(&tonic::Status::internal(message), Transport::Tls);
            assert_eq!(e.kind(), ErrorKind::Programming, "{message}");
            assert_eq!(e.code(), Some("INTERNAL"));
        }
        let e = from_status(&tonic::Status::internal("out of memory"), Transport::Tls);
        assert_eq!(e.kind(), ErrorKind::Internal);
    }

    #[test]
    fn statuses_saying_the_call_is_lacking_are_not_supported() {
        for status in [
            tonic::Status::unimplemented("no"),
            tonic::Status::invalid_argument("Unsupported action type: \"CancelFlightInfo\""),
            tonic::Status::internal("unknown action CancelQuery"),
            tonic::Status::invalid_argument("Not implemented: do_put_statement_update"),
        ] {
            let e = from_status(&status, Transport::Tls);
            assert_eq!(e.kind(), ErrorKind::NotSupported, "{status:?}");
        }
        let e = from_status(
            &tonic::Status::invalid_argument("column \"x\" not found"),
            Transport::Tls,
        );
        assert_eq!(e.kind(), ErrorKind::Programming);
        let e = from_status(
            &tonic::Status::internal("database not found: sensors"),
            Transport::Tls,
        );
        assert_eq!(e.kind(), ErrorKind::Programming);
    }

    #[test]
    fn oversized_message_names_the_url_key() {
        let s = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 5000000 bytes, the limit is: 4194304 bytes",
        );
        let e = from_status(&s, Transport::Plaintext);
        assert!(e.to_string().contains("max_message_size"), "{e}");
    }

    #[test]
    fn tls_hints() {
        assert!(
            tls_hint(
                "h2 protocol error: frame with invalid size",
                Transport::Plaintext
            )
            .is_some()
        );
        assert!(
            tls_hint(
                "received corrupt message of type InvalidContentType",
                Transport::Tls
            )
            .is_some()
        );
        assert!(tls_hint("table not found", Transport::Plaintext).is_none());
    }

    #[test]
    fn transport_failures_are_broken_connections_not_server_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stream closed");
        let status = tonic::Status::from_error(Box::new(io));
        assert_eq!(status.code(), Code::Unknown);
        let e = from_status(&status, Transport::Established);
        assert_eq!(e.kind(), ErrorKind::Operational);
        assert!(e.is_connection());
        assert_eq!(e.code(), Some("UNKNOWN"));
        assert!(
            e.message()
                .starts_with("the connection broke while the stream was read (UNKNOWN): "),
            "{e}"
        );
        assert!(e.message().contains("stream closed"), "{e}");
        // The server's own UNKNOWN stays a database error.
        let e = from_status(&tonic::Status::unknown("boom"), Transport::Established);
        assert_eq!(e.kind(), ErrorKind::Database);
        assert!(!e.is_connection());
    }

    #[test]
    fn docs_table_matches_code() {
        let Some(doc) = crate::repo_docs::read("errors.md") else {
            return;
        };
        for code in ALL_CODES {
            let row = format!("| `{}` | `{}` |", code_name(code), kind_of(code).as_str());
            assert!(doc.contains(&row), "docs/errors.md lacks the row {row}");
        }
    }
}

//! HTTP/1.1 requests: OAuth token requests, and endpoints at `http(s)://` locations (a GET
//! answering an Arrow IPC stream, handed to `decode` chunk by chunk).
//!
//! A GET of a location carries none of the connection's credentials (no `authorization`,
//! cookies or `header.*` keys): such URLs authorise themselves, as presigned object-store URLs
//! do, and may point at another party.

use std::sync::Arc;

use bytes::Bytes;
use dbapi::{Error, Result};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use url::Url;

use crate::config::{Limits, USER_AGENT, bare_host};
use crate::transport::channel::Io;
use crate::transport::deadline::within;
use crate::transport::explain::explain_io;

/// Whether a location is read with an HTTP GET.
pub(crate) fn is_http_location(uri: &str) -> bool {
    let scheme = uri.split_once("://").map_or("", |(s, _)| s);
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// An open HTTP/1.1 connection to the host of `url` (TLS for `https`), and the `Host` value
/// and origin-form target of a request for `url`. `what` names the request in errors.
pub(crate) async fn connect(
    tls: &Arc<rustls::ClientConfig>,
    url: &Url,
    what: &str,
) -> Result<(SendRequest<Full<Bytes>>, String, String)> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let bare = bare_host(&host).to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let tcp = tokio::net::TcpStream::connect((bare.as_str(), port))
        .await
        .map_err(|e| Error::operational(format!("{what}: cannot connect: {e}")).connection())?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if url.scheme().eq_ignore_ascii_case("https") {
        let name = ServerName::try_from(bare.clone())
            .map_err(|_| Error::interface(format!("{what}: invalid host name {bare:?}")))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
            .connect(name, tcp)
            .await
            .map_err(|e| {
                let why = explain_io(&e, &bare).unwrap_or_else(|| e.to_string());
                Error::operational(format!("{what}: {why}")).connection()
            })?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| Error::operational(format!("{what}: {e}")).connection())?;
    tokio::spawn(connection);
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    Ok((sender, authority, target))
}

/// Media types read as an Arrow IPC stream: the Arrow one, and the generic binary types that
/// object stores answer for files they know nothing about.
fn is_ipc_stream(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/vnd.apache.arrow.stream" | "application/octet-stream" | "binary/octet-stream"
    )
}

/// What an error answer said, shortened to one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        format!("{}...", line.chars().take(200).collect::<String>())
    } else {
        line
    }
}

/// The timeouts of reading an HTTP location.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpTimeouts {
    pub(crate) connect_timeout: Option<std::time::Duration>,
    pub(crate) timeout: Option<(std::time::Duration, &'static str)>,
}

/// GETs an `http(s)://` location: the start of its Arrow IPC stream.
///
/// `limits`: the connection's `connect_timeout`, the timeout of each wait for the answer
/// (with the URL key that set it) and `max_message_size`; `hop`: the destination policy,
/// asked before each redirect is followed.
pub(crate) async fn get_stream(
    tls: &Arc<rustls::ClientConfig>,
    location: &str,
    limits: HttpTimeouts,
    hop: &(dyn Fn(&str) -> Result<()> + Sync),
) -> Result<HttpBody> {
    let HttpTimeouts {
        connect_timeout,
        timeout,
    } = limits;
    // Errors name the location where they are reported (with its query hidden).
    let what = "HTTP GET";
    let url = Url::parse(location)
        .map_err(|e| Error::internal(format!("malformed location {}: {e}", shown(location))))?;
    let mut url = url;
    let mut redirects = 0;
    let response = loop {
        let request = async {
            let (mut sender, authority, target) = within(
                connect_timeout.map(|t| (t, "connect_timeout")),
                "connecting to the location",
                connect(tls, &url, what),
            )
            .await??;
            let request = http::Request::get(target)
                .header(http::header::HOST, authority)
                .header(
                    http::header::ACCEPT,
                    "application/vnd.apache.arrow.stream, application/octet-stream;q=0.5",
                )
                .header(http::header::USER_AGENT, USER_AGENT)
                .body(Full::new(Bytes::new()))
                .map_err(|e| Error::interface(format!("{what}: {e}")))?;
            sender
                .send_request(request)
                .await
                .map_err(|e| Error::operational(format!("{what}: {e}")).connection())
        };
        let response = within(timeout, what, request).await??;
        match redirect_target(&url, response.status(), response.headers())? {
            None => break response,
            Some(_) if redirects == MAX_REDIRECTS => {
                return Err(Error::operational(format!(
                    "{what}: more than {MAX_REDIRECTS} redirects"
                )));
            }
            Some(next) => {
                // The caller's policy decides where each hop may go, before it is asked.
                hop(next.as_str()).map_err(|e| e.context("an HTTP redirect"))?;
                tracing::debug!(to = %shown(next.as_str()), "location redirected");
                url = next;
                redirects += 1;
            }
        }
    };
    let status = response.status();
    if !status.is_success() {
        let (body, _) = read_bounded(response.into_body(), Limits::ERROR_BODY, timeout, what)
            .await
            .unwrap_or_default();
        let error = Error::operational(format!(
            "{what}: the server answered HTTP {status}: {}",
            excerpt(&body)
        ));
        return Err(match status.as_u16() {
            401 | 403 => error.auth(),
            _ => error,
        });
    }
    if let Some(content_type) = response.headers().get(http::header::CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("(not text)");
        if !is_ipc_stream(content_type) {
            return Err(Error::not_supported(format!(
                "{what}: the answer is {content_type:?}; only Arrow IPC streams \
                 (application/vnd.apache.arrow.stream) can be read from HTTP locations"
            )));
        }
    }
    Ok(HttpBody {
        body: response.into_body(),
        what: format!("reading {}", shown(location)),
        timeout,
    })
}

/// How many redirects a GET of a location follows.
const MAX_REDIRECTS: usize = 5;

/// Where a redirect answer points (resolved against the URL asked), or `None` for any other
/// answer. A redirect from `https` to `http` is refused.
fn redirect_target(
    from: &Url,
    status: http::StatusCode,
    headers: &http::HeaderMap,
) -> Result<Option<Url>> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let what = format!("HTTP GET: the answer HTTP {status}");
    let location = headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::operational(format!("{what} has no Location header")))?;
    let next = from
        .join(location)
        .map_err(|e| Error::operational(format!("{what} points to a malformed URL: {e}")))?;
    if !is_http_location(next.as_str()) {
        return Err(Error::not_supported(format!(
            "{what} points to {}, which is not an http(s) URL",
            shown(next.as_str())
        )));
    }
    if from.scheme() == "https" && next.scheme() == "http" {
        return Err(Error::operational(format!(
            "{what} points to {}: refusing to leave https for plaintext",
            shown(next.as_str())
        )));
    }
    Ok(Some(next))
}

/// A location as errors and logs show it: an HTTP location without its query, where presigned
/// URLs keep their signatures.
pub(crate) fn shown(location: &str) -> String {
    if is_http_location(location) {
        redact_query(location)
    } else {
        location.to_owned()
    }
}

fn redact_query(location: &str) -> String {
    match location.split_once('?') {
        Some((base, _)) => format!("{base}?..."),
        None => location.to_owned(),
    }
}

/// The body of an HTTP answer, read chunk by chunk as it arrives.
pub(crate) struct HttpBody {
    body: hyper::body::Incoming,
    /// What errors of the transfer start with (`reading <location>`, its query hidden).
    what: String,
    timeout: Option<(std::time::Duration, &'static str)>,
}

impl std::fmt::Debug for HttpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBody")
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

impl HttpBody {
    /// What errors of the transfer start with.
    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// The next chunk of the body; `None` at its end.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            let frame = within(
                self.timeout,
                "waiting for the next part of an HTTP result",
                self.body.frame(),
            )
            .await?;
            match frame {
                None => return Ok(None),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
                Some(Err(e)) => {
                    return Err(Error::operational(format!(
                        "{}: the transfer broke before its end: {e}",
                        self.what
                    ))
                    .connection());
                }
            }
        }
    }
}

/// Reads at most `limit` bytes of a body (an error answer, a token endpoint's answer): what a
/// message needs, never the whole of a body that may be endless. Returns the bytes read and
/// whether the body went on beyond them.
pub(crate) async fn read_bounded(
    body: hyper::body::Incoming,
    limit: usize,
    timeout: Option<(std::time::Duration, &'static str)>,
    what: &str,
) -> Result<(Vec<u8>, bool)> {
    let mut body = body;
    let mut out = Vec::new();
    loop {
        let frame = within(timeout, what, body.frame()).await?;
        match frame {
            None => return Ok((out, false)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit - out.len();
                    if data.len() > room {
                        out.extend_from_slice(&data[..room]);
                        return Ok((out, true));
                    }
                    out.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                return Err(Error::operational(format!(
                    "{what}: the answer broke before its end: {e}"
                ))
                .connection());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_read_as_ipc_streams() {
        assert!(is_ipc_stream("application/vnd.apache.arrow.stream"));
        assert!(is_ipc_stream("Application/Octet-Stream; charset=binary"));
        assert!(is_ipc_stream("binary/octet-stream"));
        assert!(!is_ipc_stream("application/vnd.apache.parquet"));
        assert!(!is_ipc_stream("text/html; charset=utf-8"));
    }

    #[test]
    fn http_locations_and_redacted_queries() {
        assert!(is_http_location("http://h/x"));
        assert!(is_http_location("HTTPS://h/x"));
        assert!(!is_http_location("grpc+tls://h:1"));
        assert!(!is_http_location(""));
        assert_eq!(
            redact_query("https://bucket/o?X-Amz-Signature=abc"),
            "https://bucket/o?..."
        );
    }

    #[test]
    fn redirects_resolve_relative_targets_and_never_downgrade() {
        let from = Url::parse("https://store.example/a/b?sig=1").unwrap();
        let to = |status: u16, location: Option<&str>| {
            let mut headers = http::HeaderMap::new();
            if let Some(l) = location {
                headers.insert(http::header::LOCATION, l.parse().unwrap());
            }
            redirect_target(&from, http::StatusCode::from_u16(status).unwrap(), &headers)
        };
        assert_eq!(to(200, None).unwrap(), None);
        assert_eq!(
            to(307, Some("/c?x=2")).unwrap().unwrap().as_str(),
            "https://store.example/c?x=2"
        );
        assert_eq!(
            to(302, Some("https://cdn.example/o"))
                .unwrap()
                .unwrap()
                .as_str(),
            "https://cdn.example/o"
        );
        let e = to(301, Some("http://cdn.example/o?sig=s3cret")).unwrap_err();
        assert!(e.to_string().contains("refusing to leave https"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = to(308, Some("ftp://cdn.example/o")).unwrap_err();
        assert_eq!(e.kind(), dbapi::ErrorKind::NotSupported);
        let e = to(303, None).unwrap_err();
        assert!(e.to_string().contains("no Location header"), "{e}");
    }

    #[test]
    fn error_excerpts_are_one_short_line() {
        assert_eq!(excerpt(b"no such\n ticket"), "no such ticket");
        let long = "x".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 203);
    }
}

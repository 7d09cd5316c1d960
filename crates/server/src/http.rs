//! Endpoint locations served over HTTP: `GET /ticket/<ticket>` answers the ticket's stream as
//! an Arrow IPC stream, as a Flight server may do with `http(s)://` locations.
//!
//! The URL is the credential (as a presigned object-store URL would be): the GET needs no
//! `authorization` header, and the requests that carry one are counted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::identity::{BoxError, TlsIdentity};
use crate::service::{Service, Shared, bump};
use crate::ticket_urls::{ARROW_STREAM, Presigned, TICKET_PATH};

/// An HTTP instance serving the tickets of a server (see [`crate::Server::spawn_http_replica`]).
#[derive(Debug)]
pub struct HttpReplica {
    base: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpReplica {
    pub(crate) async fn start(
        shared: Arc<Shared>,
        tls: Option<&TlsIdentity>,
    ) -> Result<HttpReplica, BoxError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let acceptor = tls.map(acceptor).transpose()?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let (tx, mut rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    _ = &mut rx => return,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        answer(Arc::clone(&shared), request)
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match acceptor {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(tls), service).await;
                            }
                        }
                    }
                });
            }
        });
        Ok(HttpReplica {
            base: format!("{scheme}://{addr}"),
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:port` (or `https://` when the server serves TLS): the base of the
    /// locations of [`crate::Locations::Http`].
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

impl Drop for HttpReplica {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn acceptor(identity: &TlsIdentity) -> Result<tokio_rustls::TlsAcceptor, BoxError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs =
        CertificateDer::pem_slice_iter(&identity.cert_pem).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(&identity.key_pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

type Body = UnsyncBoxBody<Bytes, BoxError>;

fn plain(status: hyper::StatusCode, text: String) -> hyper::Response<Body> {
    let mut response = hyper::Response::new(
        Full::new(Bytes::from(text))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Answers one GET: the ticket's stream as an Arrow IPC stream, or an HTTP error.
async fn answer(
    shared: Arc<Shared>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Body>, Infallible> {
    bump(&shared.counters.http_gets);
    let headers = request.headers();
    if headers.contains_key(hyper::header::AUTHORIZATION)
        || headers.contains_key(hyper::header::COOKIE)
    {
        bump(&shared.counters.http_gets_with_credentials);
    }
    let options = shared.options();
    if request.method() != hyper::Method::GET {
        return Ok(plain(
            hyper::StatusCode::METHOD_NOT_ALLOWED,
            "only GET is served".into(),
        ));
    }
    if options.faults.http.redirects > 0 {
        // Redirect `n` times (relative Location headers), counting hops in the query.
        let hop: usize = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("hop="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if hop < options.faults.http.redirects {
            let mut response = plain(hyper::StatusCode::TEMPORARY_REDIRECT, String::new());
            let target = format!("{}?hop={}", request.uri().path(), hop + 1);
            if let Ok(value) = hyper::header::HeaderValue::from_str(&target) {
                response
                    .headers_mut()
                    .insert(hyper::header::LOCATION, value);
            }
            return Ok(response);
        }
    }
    let Some(ticket) = request
        .uri()
        .path()
        .strip_prefix(TICKET_PATH)
        .and_then(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
        })
    else {
        return Ok(plain(hyper::StatusCode::NOT_FOUND, "no such ticket".into()));
    };
    let mut call = tonic::Request::new(arrow_flight::Ticket::new(ticket));
    call.extensions_mut().insert(Presigned);
    let service = Service { shared };
    let stream = match FlightService::do_get(&service, call).await {
        Ok(response) => response.into_inner(),
        Err(status) => {
            let code = match status.code() {
                tonic::Code::NotFound => hyper::StatusCode::NOT_FOUND,
                tonic::Code::InvalidArgument => hyper::StatusCode::BAD_REQUEST,
                tonic::Code::Unauthenticated => hyper::StatusCode::UNAUTHORIZED,
                tonic::Code::PermissionDenied => hyper::StatusCode::FORBIDDEN,
                _ => hyper::StatusCode::INTERNAL_SERVER_ERROR,
            };
            return Ok(plain(code, status.message().to_owned()));
        }
    };
    // Each Flight message becomes an encapsulated IPC message; an error mid-stream aborts the
    // body, so the client sees a broken transfer rather than a short result.
    let frames = stream
        .try_filter(|data| futures::future::ready(!data.data_header.is_empty()))
        // Let what came before an error leave first: the break happens mid-transfer.
        .then(|item| async move {
            if item.is_err() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            item
        })
        .map_ok(|data| encapsulate(&data.data_header, &data.data_body))
        .map_err(|status| -> BoxError { status.message().to_owned().into() });
    let body = if options.faults.http.truncate {
        // The schema, then half of the first batch's message, then a clean end of the body.
        frames
            .take(2)
            .enumerate()
            .map(|(n, part)| {
                part.map(|bytes| {
                    if n == 1 {
                        bytes.slice(..bytes.len() / 2)
                    } else {
                        bytes
                    }
                })
            })
            .map_ok(Frame::data)
            .boxed()
    } else {
        frames
            .chain(futures::stream::once(async {
                Ok(Bytes::from_static(&END_OF_STREAM))
            }))
            .map_ok(Frame::data)
            .boxed()
    };
    let mut response = hyper::Response::new(BodyExt::boxed_unsync(StreamBody::new(body)));
    let content_type = options
        .faults
        .http
        .content_type
        .unwrap_or_else(|| ARROW_STREAM.to_owned());
    if let Ok(value) = hyper::header::HeaderValue::from_str(&content_type) {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    Ok(response)
}

/// The end-of-stream marker of the IPC streaming format.
const END_OF_STREAM: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

/// One encapsulated IPC message: continuation marker, padded metadata length, the metadata
/// padded to 8 bytes, then the body.
fn encapsulate(header: &[u8], body: &[u8]) -> Bytes {
    let padded = header.len().div_ceil(8) * 8;
    let mut out = BytesMut::with_capacity(8 + padded + body.len());
    out.put_u32_le(0xFFFF_FFFF);
    out.put_i32_le(i32::try_from(padded).unwrap_or(i32::MAX));
    out.put_slice(header);
    out.put_bytes(0, padded - header.len());
    out.put_slice(body);
    out.freeze()
}

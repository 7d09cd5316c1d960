//! Opening gRPC channels: TCP or a Unix socket, TLS through rustls (trusted roots, client
//! certificates, server-name override, verification turned off on request), HTTP/2 settings,
//! and errors that say what answered when it is not a gRPC server.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use dbapi::{Error, Result};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::config::{Config, Pem};
use crate::error::{Transport, from_transport};

/// The HTTP/2 flow-control window of each stream: how much a result stream may hold unread.
const STREAM_WINDOW: u32 = 4 << 20;

/// The HTTP/2 window of the whole connection: the largest HTTP/2 allows. Endpoints read ahead
/// (and cursors not being read) hold unread data in their streams; with a smaller connection
/// window that data could use it up and starve the stream being read, a deadlock. Memory stays
/// bounded by the stream windows of the streams open.
const CONNECTION_WINDOW: u32 = (1 << 31) - 1;

/// Where a channel connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    /// A host name or IP address and a port.
    Tcp { host: String, port: u16 },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

impl Address {
    /// Whether the address can only reach this machine.
    pub(crate) fn is_local(&self) -> bool {
        match self {
            Address::Unix(_) => true,
            Address::Tcp { host, .. } => {
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                bare.eq_ignore_ascii_case("localhost")
                    || bare
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        }
    }
}

/// The TLS settings of a client, built once and shared by the channels it opens (the server
/// and endpoint locations).
#[derive(Clone)]
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
    insecure: bool,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("verify", &!self.insecure)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The TLS settings of a configuration: trusted roots (the system's unless
    /// `tls_root_certs`), the client certificate when given, ALPN `h2`.
    pub(crate) fn new(config: &Config) -> Result<Tls> {
        Ok(Tls {
            config: Arc::new(client_config(config, b"h2")?),
            insecure: config.tls_skip_verify(),
        })
    }
}

/// A rustls client configuration from the TLS keys of a configuration, offering one
/// application protocol (ALPN).
pub(crate) fn client_config(config: &Config, alpn: &[u8]) -> Result<ClientConfig> {
    {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::interface("cannot set up TLS").with_source(e))?;
        let builder = if config.tls_skip_verify() {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            builder.with_root_certificates(root_store(config.tls_root_certs())?)
        };
        let mut client = match (config.tls_client_cert(), config.tls_client_key()) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = certificates(cert, "tls_client_cert")?;
                let key = private_key(key)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    let text = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "tls_client_key is not the private key of the certificate in \
                             tls_client_cert"
                                .to_owned()
                        }
                        other => format!(
                            "cannot use tls_client_cert and tls_client_key as a client certificate: {other}"
                        ),
                    };
                    Error::interface(text)
                })?
            }
            (Some(_), None) => {
                return Err(Error::interface(
                    "tls_client_cert is set but tls_client_key is not: a client certificate needs its private key",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::interface(
                    "tls_client_key is set but tls_client_cert is not: a client certificate needs both",
                ));
            }
        };
        client.alpn_protocols = vec![alpn.to_vec()];
        Ok(client)
    }
}

/// The roots a client trusts: a PEM bundle, or the system's.
fn root_store(pem: Option<&Pem>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match pem {
        Some(pem) => {
            for cert in certificates(pem, "tls_root_certs")? {
                roots.add(cert).map_err(|e| {
                    Error::interface(format!(
                        "tls_root_certs holds a certificate that cannot be a trust anchor: {e}"
                    ))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system store may hold certificates rustls cannot use; the others still
                // serve.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::interface(
                    "no trusted root certificates found on this system: give the server's CA \
                     with tls_root_certs (a PEM file or inline PEM)",
                ));
            }
        }
    }
    Ok(roots)
}

/// The bytes of a PEM option: the file's contents or the inline text.
fn pem_bytes(pem: &Pem, key: &str) -> Result<Vec<u8>> {
    match pem {
        Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
        Pem::File(path) => std::fs::read(path).map_err(|e| {
            Error::interface(format!("cannot read {key} file {}", path.display())).with_source(e)
        }),
    }
}

/// The certificates of a PEM option, at least one.
fn certificates(pem: &Pem, key: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = pem_bytes(pem, key)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::interface(format!("{key} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::interface(format!(
            "{key} holds no certificate (expected PEM blocks -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// The private key of `tls_client_key`. Its contents never appear in errors.
fn private_key(pem: &Pem) -> Result<PrivateKeyDer<'static>> {
    let bytes = pem_bytes(pem, "tls_client_key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "it holds no private key".to_owned(),
            other => format!("it is not valid PEM ({})", redacted_pem_error(&other)),
        };
        Error::interface(format!("tls_client_key cannot be used: {why}"))
    })
}

/// A PEM error's kind, without any of the text it quotes.
fn redacted_pem_error(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => "a section has no end line",
        E::IllegalSectionStart { .. } => "a section start line is malformed",
        E::Base64Decode(_) => "the base64 body is malformed",
        E::Io(_) => "it cannot be read",
        E::NoItemsFound => "no items",
        _ => "malformed",
    }
}

/// Accepts any server certificate (`tls_skip_verify=true`); handshake signatures are still
/// checked, so the connection is encrypted, but the server is not authenticated.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a channel's connections saw when they last failed, for the errors of the calls that
/// failed with them (the HTTP/2 layer reports those only as "transport error").
#[derive(Debug, Clone, Default)]
pub(crate) struct Failure(Arc<std::sync::Mutex<Option<String>>>);

impl Failure {
    fn set(&self, text: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(text);
    }

    /// The explanation of the last failure, if any.
    pub(crate) fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Forgets the last failure (a call went through).
    pub(crate) fn clear(&self) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_some() {
            *slot = None;
        }
    }
}

/// What one channel connects to, and how.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The address dialled.
    pub(crate) address: Address,
    /// TLS settings, `None` for plaintext.
    pub(crate) tls: Option<Tls>,
    /// The name the server's certificate must hold (and the SNI sent).
    pub(crate) server_name: String,
    /// The `:authority` of requests.
    pub(crate) authority: String,
    /// Where the channel's connections record why they failed.
    pub(crate) failure: Failure,
}

impl Target {
    pub(crate) fn transport(&self) -> Transport {
        if self.tls.is_some() {
            Transport::Tls
        } else {
            Transport::Plaintext
        }
    }
}

/// Opens a channel to a target with the configuration's HTTP/2 settings.
pub(crate) async fn open_channel(config: &Config, target: Target) -> Result<Channel> {
    let scheme = if target.tls.is_some() {
        "https"
    } else {
        "http"
    };
    // The connector below dials and speaks TLS itself; tonic sees plain HTTP/2 and takes
    // the scheme and authority of requests from the origin.
    let dial = format!("http://{}", target.authority);
    let origin: Uri = format!("{scheme}://{}", target.authority)
        .parse()
        .map_err(|e| {
            Error::interface(format!("invalid authority {:?}", target.authority)).with_source(e)
        })?;
    let mut endpoint = Endpoint::from_shared(dial)
        .map_err(|e| {
            Error::interface(format!("invalid authority {:?}", target.authority)).with_source(e)
        })?
        .origin(origin)
        .user_agent(config.user_agent())
        .map_err(|e| Error::interface("user_agent is not valid in an HTTP header").with_source(e))?
        .initial_stream_window_size(Some(STREAM_WINDOW))
        .initial_connection_window_size(Some(CONNECTION_WINDOW));
    if let Some(t) = config.connect_timeout() {
        endpoint = endpoint.connect_timeout(t);
    }
    if let Some(interval) = config.keepalive_interval() {
        endpoint = endpoint
            .http2_keep_alive_interval(interval)
            .keep_alive_while_idle(true);
    }
    if let Some(timeout) = config.keepalive_timeout() {
        endpoint = endpoint.keep_alive_timeout(timeout);
    }
    if target.tls.as_ref().is_some_and(|t| t.insecure) {
        tracing::warn!(
            address = %target.address,
            "tls_skip_verify=true: the server's certificate is not verified; the connection is \
             encrypted but the server is not authenticated"
        );
    }
    let transport = target.transport();
    let address = target.address.to_string();
    endpoint
        .connect_with_connector(Connector {
            target: Arc::new(target),
        })
        .await
        .map_err(|e| from_transport(&format!("cannot connect to {address}"), e, transport))
}

/// A stream the channel reads and writes.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Dials the target: TCP or Unix socket, then TLS when configured.
#[derive(Clone)]
struct Connector {
    target: Arc<Target>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Sniff<Box<dyn Io>>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let target = Arc::clone(&self.target);
        Box::pin(async move {
            match dial(&target).await {
                Ok(io) => Ok(TokioIo::new(Sniff::new(io, target.failure.clone()))),
                Err(e) => {
                    if let Some(f) = e.get_ref().and_then(|e| e.downcast_ref::<ConnectFailure>()) {
                        target.failure.set(f.0.clone());
                    }
                    Err(e)
                }
            }
        })
    }
}

async fn dial(target: &Target) -> io::Result<Box<dyn Io>> {
    let raw: Box<dyn Io> = match &target.address {
        Address::Tcp { host, port } => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let stream = tokio::net::TcpStream::connect((bare, *port)).await?;
            // Small requests must not wait for Nagle's algorithm.
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
        #[cfg(unix)]
        Address::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        #[cfg(not(unix))]
        Address::Unix(_) => {
            return Err(io::Error::other(ConnectFailure(
                "Unix domain sockets are not supported on this platform".into(),
            )));
        }
    };
    let Some(tls) = &target.tls else {
        return Ok(raw);
    };
    let name = ServerName::try_from(target.server_name.clone()).map_err(|_| {
        io::Error::other(ConnectFailure(format!(
            "{:?} is not a valid TLS server name (set tls_server_name)",
            target.server_name
        )))
    })?;
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.config));
    let stream = connector
        .connect(name, raw)
        .await
        .map_err(|e| explain_tls(e, target))?;
    if let Some(protocol) = stream.get_ref().1.alpn_protocol()
        && protocol != b"h2"
    {
        return Err(io::Error::other(ConnectFailure(format!(
            "the server negotiated {} instead of HTTP/2: it is not a gRPC server (a web server \
             or proxy without HTTP/2?)",
            String::from_utf8_lossy(protocol)
        ))));
    }
    Ok(Box::new(stream))
}

/// A connection failure explained: the message says what went wrong and what to change.
#[derive(Debug)]
pub(crate) struct ConnectFailure(pub(crate) String);

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectFailure {}

/// Turns a failed TLS handshake into a message naming the cause.
fn explain_tls(error: io::Error, target: &Target) -> io::Error {
    if error
        .get_ref()
        .is_some_and(|e| e.downcast_ref::<ConnectFailure>().is_some())
    {
        return error;
    }
    match explain_io(&error, &target.server_name) {
        Some(text) => io::Error::new(error.kind(), ConnectFailure(text)),
        None => error,
    }
}

/// The explanation of a TLS error carried by an I/O error (what tokio-rustls returns).
pub(crate) fn explain_io(error: &io::Error, server_name: &str) -> Option<String> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .map(|tls| explain_rustls(tls, server_name))
}

/// The message for a rustls error.
pub(crate) fn explain_rustls(error: &rustls::Error, server_name: &str) -> String {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a trusted CA ({error}): give the CA \
                 in tls_root_certs (a PEM file or inline PEM)"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "the server's certificate has expired ({error}); renew it on the server, or \
                 check this machine's clock"
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "the server's certificate is not valid yet ({error}); check this \
                     machine's clock"
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for the name {server_name:?} ({error}): \
                 connect by a name the certificate holds, or set tls_server_name to one"
                )
            }
            CertificateError::Revoked => format!("the server's certificate is revoked ({error})"),
            _ => format!("the server's certificate was refused ({error})"),
        },
        rustls::Error::AlertReceived(Alert::CertificateRequired) => {
            "the server requires a client certificate: set tls_client_cert and tls_client_key"
                .to_owned()
        }
        rustls::Error::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate),
        ) => format!(
            "the server refused the client certificate (alert {alert:?}): check \
             tls_client_cert and the CA the server trusts"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server does not speak TLS ({error}): use tls=false with flightsql://, or \
             grpc+tcp://"
        ),
        rustls::Error::NoApplicationProtocol => {
            "the server does not offer HTTP/2 through ALPN: it is not a gRPC server over TLS"
                .to_owned()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// Watches the first bytes a server sends: an HTTP/1 answer or a TLS record where HTTP/2
/// frames were expected becomes an error that says so, instead of an HTTP/2 framing error.
/// Also records TLS alerts that arrive after the handshake (a TLS 1.3 server refuses a
/// client certificate then).
struct Sniff<S> {
    inner: S,
    checked: bool,
    failure: Failure,
}

impl<S> Sniff<S> {
    fn new(inner: S, failure: Failure) -> Sniff<S> {
        Sniff {
            inner,
            checked: false,
            failure,
        }
    }
}

/// What the first bytes of a server's answer say, when they are not what gRPC sends.
pub(crate) fn sniff_answer(first: &[u8]) -> Option<&'static str> {
    if first.starts_with(b"HTTP/1.") || first.starts_with(b"HTTP/0.") {
        Some(
            "the server answered with HTTP/1, not gRPC over HTTP/2: is this the address of a \
             web server or a proxy without HTTP/2?",
        )
    } else if first.len() >= 3
        && (first[0] == 0x15 || first[0] == 0x16)
        && first[1] == 0x03
        && first[2] <= 0x04
    {
        Some(
            "the server answered with TLS: use tls=true with flightsql://, or grpc+tls://, \
             instead of a plaintext connection",
        )
    } else {
        None
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        match &poll {
            Poll::Ready(Ok(())) if !self.checked => {
                let first = &buf.filled()[before..];
                if !first.is_empty() {
                    self.checked = true;
                    if let Some(what) = sniff_answer(first) {
                        self.failure.set(what.to_owned());
                        return Poll::Ready(Err(io::Error::other(ConnectFailure(what.to_owned()))));
                    }
                }
            }
            Poll::Ready(Err(e)) => {
                if let Some(text) = explain_io(e, "the server") {
                    self.failure.set(text);
                }
            }
            _ => {}
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The default `user-agent` prefix: this driver and its version.
pub(crate) const USER_AGENT: &str = concat!("dbapi-flightsql/", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http1_and_tls_answers_are_recognised() {
        assert!(
            sniff_answer(b"HTTP/1.1 400 Bad Request\r\n").is_some_and(|m| m.contains("HTTP/1"))
        );
        assert!(sniff_answer(&[0x16, 0x03, 0x03, 0x00, 0x7a]).is_some_and(|m| m.contains("TLS")));
        // An HTTP/2 SETTINGS frame is what a gRPC server sends first.
        assert!(sniff_answer(&[0, 0, 6, 4, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn local_addresses() {
        let tcp = |h: &str| Address::Tcp {
            host: h.into(),
            port: 1,
        };
        assert!(tcp("127.0.0.1").is_local());
        assert!(tcp("localhost").is_local());
        assert!(tcp("[::1]").is_local());
        assert!(!tcp("db.example.com").is_local());
        assert!(!tcp("10.0.0.1").is_local());
        assert!(Address::Unix("/tmp/s".into()).is_local());
    }

    #[test]
    fn certificate_errors_name_the_cause_and_the_key() {
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(explain_rustls(&unknown, "h").contains("tls_root_certs"));
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        let text = explain_rustls(&name, "10.0.0.7");
        assert!(
            text.contains("10.0.0.7") && text.contains("tls_server_name"),
            "{text}"
        );
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(explain_rustls(&expired, "h").contains("expired"));
        let required = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert!(explain_rustls(&required, "h").contains("tls_client_cert"));
    }

    #[test]
    fn a_private_key_never_appears_in_its_error() {
        let pem = Pem::Inline(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw!!\n-----END PRIVATE KEY-----\n"
                .into(),
        );
        let e = private_key(&pem).unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("tls_client_key"), "{text}");
    }
}

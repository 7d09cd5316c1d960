//! Opening gRPC channels: TCP or a Unix socket, then TLS (settings from `tls.rs`), HTTP/2
//! settings, and a record of what a server answered when it is not a gRPC server.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use dbapi::{Error, Result};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::config::{Config, bare_host, is_local_host};
use crate::transport::explain::{ConnectFailure, explain_io, sniff_answer};
use crate::transport::status::{Transport, from_transport};
use crate::transport::tls::Tls;

/// The HTTP/2 flow-control window of each stream at most: how much a result stream may hold
/// unread.
const STREAM_WINDOW: u32 = 4 << 20;

/// The HTTP/2 flow-control window of each stream at least.
const MIN_STREAM_WINDOW: u32 = 1 << 20;

/// What the streams of the endpoints a cursor reads at once (the current one and `read_ahead`
/// more) may hold unread together: each stream's window is this divided among them, within
/// [`MIN_STREAM_WINDOW`] and [`STREAM_WINDOW`]. So reading more endpoints at once does not
/// hold more data unread (up to 32 endpoints at once).
const STREAMS_BUDGET: u32 = 32 << 20;

/// The window of each stream when `read_ahead` endpoints are read ahead of the current one.
fn stream_window(read_ahead: usize) -> u32 {
    let streams = u32::try_from(read_ahead.saturating_add(1)).unwrap_or(u32::MAX);
    (STREAMS_BUDGET / streams).clamp(MIN_STREAM_WINDOW, STREAM_WINDOW)
}

/// The HTTP/2 window of the whole connection: the largest HTTP/2 allows. Endpoints read ahead
/// (and cursors not being read) hold unread data in their streams; with a smaller connection
/// window that data could use it up and starve the stream being read, a deadlock. Memory stays
/// bounded by the stream windows of the streams open.
const CONNECTION_WINDOW: u32 = (1 << 31) - 1;

/// The largest HTTP/2 frame the server may send (HTTP/2's default is 16 KiB): a result
/// arrives in a sixteenth of the frames, which spends less of both sides' time per byte when
/// many endpoints stream at once (8 endpoints read together: 1.23–1.33 × one endpoint, against
/// 1.30–1.38 × with 16 KiB frames). Memory stays bounded by the stream windows.
const MAX_FRAME: u32 = 256 << 10;

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
            Address::Tcp { host, .. } => is_local_host(host),
        }
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
        .initial_stream_window_size(Some(stream_window(config.read_ahead())))
        .initial_connection_window_size(Some(CONNECTION_WINDOW))
        .max_frame_size(Some(MAX_FRAME));
    endpoint = endpoint.connect_timeout(config.effective_connect_timeout());
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
    let heard = Arc::new(Heard::default());
    let limit = config.effective_connect_timeout();
    let channel = endpoint
        .connect_with_connector(Connector {
            target: Arc::new(target),
            heard: Arc::clone(&heard),
            local: config.local_address(),
        })
        .await
        .map_err(|e| from_transport(&format!("cannot connect to {address}"), e, transport))?;
    // HTTP/2 lets the client speak first, so a peer that accepts connections and never
    // answers would pass for connected until the first call hung: a connection counts once
    // the server has sent something (its HTTP/2 settings, at once).
    match tokio::time::timeout(limit, heard.wait()).await {
        Ok(Ok(())) => Ok(channel),
        Ok(Err(why)) => {
            Err(Error::operational(format!("cannot connect to {address}: {why}")).connection())
        }
        Err(_) => Err(Error::operational(format!(
            "cannot connect to {address}: it accepted the connection but sent nothing within \
             {limit:?} (URL option connect_timeout): a server that does not answer, or not an \
             HTTP/2 server"
        ))
        .connection()
        .timeout()),
    }
}

/// Whether a channel's connection has heard from the server: not yet, yes, or why not.
#[derive(Debug, Default)]
struct Heard {
    state: std::sync::Mutex<Option<std::result::Result<(), String>>>,
    notify: tokio::sync::Notify,
}

impl Heard {
    /// Records the first answer or failure; later ones change nothing.
    fn set(&self, outcome: std::result::Result<(), String>) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.is_none() {
            *state = Some(outcome);
            self.notify.notify_waiters();
        }
    }

    /// Waits for the first answer (`Ok`) or failure (why).
    async fn wait(&self) -> std::result::Result<(), String> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(outcome) = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
            {
                return outcome;
            }
            notified.await;
        }
    }
}

/// A stream the channel reads and writes.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Dials the target: TCP or Unix socket, then TLS when configured.
#[derive(Clone)]
struct Connector {
    target: Arc<Target>,
    heard: Arc<Heard>,
    /// The local address to connect from (URL key `local_address`).
    local: Option<IpAddr>,
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
        let heard = Arc::clone(&self.heard);
        let local = self.local;
        Box::pin(async move {
            match dial(&target, local).await {
                Ok(io) => Ok(TokioIo::new(Sniff::new(io, target.failure.clone(), heard))),
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

/// A TCP connection to `host:port` leaving from `local`: each address of the host of the
/// same family in turn.
async fn connect_from(local: IpAddr, host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = None;
    for address in tokio::net::lookup_host((host, port)).await? {
        if address.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Err(e) = socket.bind(SocketAddr::new(local, 0)) {
            return Err(io::Error::new(
                e.kind(),
                ConnectFailure(format!(
                    "cannot connect from local_address {local}: {e} (not an address of this host?)"
                )),
            ));
        }
        match socket.connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::other(ConnectFailure(format!(
            "{host} has no {} address to reach from local_address {local}",
            if local.is_ipv4() { "IPv4" } else { "IPv6" }
        )))
    }))
}

async fn dial(target: &Target, local: Option<IpAddr>) -> io::Result<Box<dyn Io>> {
    let raw: Box<dyn Io> = match &target.address {
        Address::Tcp { host, port } => {
            let stream = match local {
                Some(local) => connect_from(local, bare_host(host), *port).await?,
                None => TcpStream::connect((bare_host(host), *port)).await?,
            };
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

/// Watches the first bytes a server sends: an HTTP/1 answer or a TLS record where HTTP/2
/// frames were expected becomes an error that says so, instead of an HTTP/2 framing error.
/// Also records TLS alerts that arrive after the handshake (a TLS 1.3 server refuses a
/// client certificate then).
struct Sniff<S> {
    inner: S,
    checked: bool,
    failure: Failure,
    heard: Arc<Heard>,
}

impl<S> Sniff<S> {
    fn new(inner: S, failure: Failure, heard: Arc<Heard>) -> Sniff<S> {
        Sniff {
            inner,
            checked: false,
            failure,
            heard,
        }
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
                self.checked = true;
                if first.is_empty() {
                    self.heard.set(Err(
                        "the server closed the connection without answering".into()
                    ));
                } else if let Some(what) = sniff_answer(first) {
                    self.failure.set(what.to_owned());
                    self.heard.set(Err(what.to_owned()));
                    return Poll::Ready(Err(io::Error::other(ConnectFailure(what.to_owned()))));
                } else {
                    self.heard.set(Ok(()));
                }
            }
            Poll::Ready(Err(e)) => {
                let text = explain_io(e, "the server");
                self.heard
                    .set(Err(text.clone().unwrap_or_else(|| e.to_string())));
                if let Some(text) = text {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_windows_share_a_budget() {
        // The default read-ahead keeps the largest window; more endpoints at once share 32 MiB.
        assert_eq!(stream_window(2), STREAM_WINDOW);
        assert_eq!(stream_window(7), STREAM_WINDOW);
        assert_eq!(stream_window(15), 2 << 20);
        assert_eq!(stream_window(1_000), MIN_STREAM_WINDOW);
        assert_eq!(stream_window(usize::MAX), MIN_STREAM_WINDOW);
        for read_ahead in 0..32 {
            assert!(stream_window(read_ahead) as usize * (read_ahead + 1) <= 32 << 20);
        }
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
}

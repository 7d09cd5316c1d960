//! Starting servers and replicas, and the handle that controls them.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;

use crate::catalog::{ForeignKey, PrimaryKey};
use crate::identity::{BoxError, TlsIdentity};
use crate::options::Options;
use crate::service::{Counters, Service, Shared, Stats, flight_service};

/// gRPC message compression of the answers a server sends.
pub use tonic::codec::CompressionEncoding;

/// How a server and its replicas speak: TLS, client certificates, compression.
#[derive(Debug, Clone, Default)]
struct Wire {
    tls: Option<TlsIdentity>,
    client_ca_pem: Option<Vec<u8>>,
    compression: Option<CompressionEncoding>,
}

/// Configures and starts a [`Server`].
#[derive(Debug, Default)]
pub struct ServerBuilder {
    tables: Vec<(String, Vec<RecordBatch>)>,
    demo: bool,
    keys: crate::catalog::Keys,
    options: Options,
    wire: Wire,
    addr: Option<SocketAddr>,
}

impl ServerBuilder {
    /// Serves `batches` as table `name` (all batches must share one schema).
    pub fn table(mut self, name: impl Into<String>, batches: Vec<RecordBatch>) -> Self {
        self.tables.push((name.into(), batches));
        self
    }

    /// Declares a primary key, reported by `GetPrimaryKeys` (DataFusion keeps no keys).
    pub fn primary_key(mut self, key: PrimaryKey) -> Self {
        self.keys.primary.push(key);
        self
    }

    /// Declares a foreign key, reported by `GetImportedKeys`, `GetExportedKeys` and
    /// `GetCrossReference`.
    pub fn foreign_key(mut self, key: ForeignKey) -> Self {
        self.keys.foreign.push(key);
        self
    }

    /// Serves the demo dataset: [`crate::demo_readings`] as table `readings`; schema `shop`
    /// with tables `customers`, `orders`, `order_items` (declared primary and foreign keys)
    /// and view `big_orders`; catalog `archive` with schema `y2025` and table `readings`.
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Sets the options (endpoints, locations, auth...).
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Serves TLS with this identity.
    pub fn tls(mut self, identity: TlsIdentity) -> Self {
        self.wire.tls = Some(identity);
        self
    }

    /// Requires clients to present a certificate signed by this CA (PEM): mutual TLS.
    pub fn client_ca(mut self, ca_pem: Vec<u8>) -> Self {
        self.wire.client_ca_pem = Some(ca_pem);
        self
    }

    /// Compresses answers with this gRPC encoding when the client accepts it (requests
    /// compressed with gzip or zstd are always accepted).
    pub fn compression(mut self, encoding: CompressionEncoding) -> Self {
        self.wire.compression = Some(encoding);
        self
    }

    /// Binds this address instead of `127.0.0.1:0`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = Some(addr);
        self
    }

    /// Starts the server on the current Tokio runtime.
    ///
    /// # Errors
    /// When a table cannot be registered or the address cannot be bound.
    pub async fn start(self) -> Result<Server, BoxError> {
        let ctx = crate::engine::new_context();
        let mut tables = self.tables;
        if self.demo {
            tables.push(("readings".into(), vec![crate::demo_readings()?]));
        }
        for (name, batches) in tables {
            let schema = match batches.first() {
                Some(b) => b.schema(),
                None => {
                    return Err(format!("table {name} has no batches to take a schema from").into());
                }
            };
            let table = MemTable::try_new(schema, vec![batches])?;
            ctx.register_table(name.as_str(), Arc::new(table))?;
        }
        let mut keys = self.keys;
        if self.demo {
            let demo = crate::catalog::create_demo_objects(&ctx).await?;
            keys.primary.extend(demo.primary);
            keys.foreign.extend(demo.foreign);
        }
        let shared = Arc::new(Shared {
            ctx,
            options: RwLock::new(self.options),
            counters: Counters::default(),
            issued_tokens: RwLock::default(),
            replicas: RwLock::default(),
            failures: std::sync::Mutex::new((0, 0)),
            calls_by_kind: Default::default(),
            streams_begun: Default::default(),
            last_headers: RwLock::default(),
            statements: RwLock::default(),
            do_get_peers: RwLock::default(),
            rotated: std::sync::atomic::AtomicBool::new(false),
            redeemed: std::sync::Mutex::default(),
            state: crate::engine::State::default(),
            keys: RwLock::new(keys),
            sessions: std::sync::Mutex::default(),
        });
        let addr = self
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(addr).await?;
        Server::spawn(shared, Listener::Tcp(listener), self.wire)
    }
}

/// What a server accepts connections on.
enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

/// A running server: its address, its counters, and control over its behaviour.
///
/// Dropping the handle shuts the server down.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    unix: Option<std::path::PathBuf>,
    wire: Wire,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// A builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    fn spawn(shared: Arc<Shared>, listener: Listener, wire: Wire) -> Result<Server, BoxError> {
        let (tx, rx) = oneshot::channel::<()>();
        let mut builder = tonic::transport::Server::builder();
        if let Some(identity) = &wire.tls {
            let identity =
                tonic::transport::Identity::from_pem(&identity.cert_pem, &identity.key_pem);
            let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
            if let Some(ca) = &wire.client_ca_pem {
                config = config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
            }
            builder = builder.tls_config(config)?;
        }
        let mut service = flight_service(Service {
            shared: Arc::clone(&shared),
        });
        if let Some(encoding) = wire.compression {
            service = service.send_compressed(encoding);
        }
        let router = builder.add_service(service);
        let shutdown = async {
            let _ = rx.await;
        };
        let (addr, unix, task) = match listener {
            Listener::Tcp(listener) => {
                let addr = listener.local_addr()?;
                // Small responses must not wait for Nagle's algorithm.
                let incoming = TcpListenerStream::new(listener).map(|stream| {
                    stream.inspect(|s| {
                        let _ = s.set_nodelay(true);
                    })
                });
                let task = tokio::spawn(async move {
                    let _ = router
                        .serve_with_incoming_shutdown(incoming, shutdown)
                        .await;
                });
                (addr, None, task)
            }
            #[cfg(unix)]
            Listener::Unix(listener, path) => {
                let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
                let task = tokio::spawn(async move {
                    let _ = router
                        .serve_with_incoming_shutdown(incoming, shutdown)
                        .await;
                });
                (SocketAddr::from(([0, 0, 0, 0], 0)), Some(path), task)
            }
        };
        Ok(Server {
            addr,
            unix,
            wire,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Starts another instance on a Unix domain socket at `path` that shares this one's
    /// tables, options, tokens and counters (plaintext; [`Server::location`] is its
    /// `grpc+unix://` location).
    ///
    /// # Errors
    /// When the socket cannot be bound.
    #[cfg(unix)]
    pub fn spawn_unix_replica(&self, path: &std::path::Path) -> Result<Server, BoxError> {
        let listener = tokio::net::UnixListener::bind(path)?;
        let wire = Wire {
            compression: self.wire.compression,
            ..Wire::default()
        };
        Server::spawn(
            Arc::clone(&self.shared),
            Listener::Unix(listener, path.to_owned()),
            wire,
        )
    }

    /// Starts an HTTP instance on a new port that answers this server's tickets with Arrow IPC
    /// streams (`https://` when this server serves TLS, with the same certificate): set
    /// [`crate::Locations::Http`] to its [`crate::HttpReplica::base_url`] so that endpoints
    /// point there.
    ///
    /// # Errors
    /// When no port can be bound or the TLS identity is unusable.
    pub async fn spawn_http_replica(&self) -> Result<crate::HttpReplica, BoxError> {
        crate::http::HttpReplica::start(Arc::clone(&self.shared), self.wire.tls.as_ref()).await
    }

    /// Starts another instance on a new port that shares this one's tables, options, tokens
    /// and counters: use its [`Server::location`] in [`crate::Locations`].
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn spawn_replica(&self) -> Result<Server, BoxError> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let replica = Server::spawn(
            Arc::clone(&self.shared),
            Listener::Tcp(listener),
            self.wire.clone(),
        )?;
        self.shared
            .replicas
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(replica.location());
        Ok(replica)
    }

    /// The bound address (`0.0.0.0:0` for a Unix socket instance).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Flight location URI of this instance (`grpc+tcp://`, `grpc+tls://` or
    /// `grpc+unix://`).
    pub fn location(&self) -> String {
        if let Some(path) = &self.unix {
            return format!("grpc+unix://{}", path.display());
        }
        let scheme = if self.wire.tls.is_some() {
            "grpc+tls"
        } else {
            "grpc+tcp"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// A URL for this server: `flightsql://` (plaintext unless serving TLS), or
    /// `grpc+unix://` for a Unix socket instance.
    pub fn url(&self) -> String {
        if let Some(path) = &self.unix {
            return format!("grpc+unix://{}", path.display());
        }
        if self.wire.tls.is_some() {
            format!("flightsql://{}", self.addr)
        } else {
            format!("flightsql://{}?tls=false", self.addr)
        }
    }

    /// The RPC counters (shared with replicas).
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// The SQL of every statement received (queries planned through `GetFlightInfo`, and
    /// prepared statements), oldest first: what clients pushed down.
    pub fn statements(&self) -> Vec<String> {
        self.shared
            .statements
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// The peer address of every `DoGet` received over TCP (at most the last 10,000), oldest
    /// first: which hosts read the results.
    pub fn do_get_peers(&self) -> Vec<std::net::SocketAddr> {
        self.shared
            .do_get_peers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// The ASCII headers of the last call that reached authentication.
    pub fn last_headers(&self) -> Vec<(String, String)> {
        self.shared
            .last_headers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The current options.
    pub fn options(&self) -> Options {
        self.shared.options()
    }

    /// Changes the options; the change applies to the next call (on replicas too).
    pub fn set_options(&self, f: impl FnOnce(&mut Options)) {
        f(&mut self
            .shared
            .options
            .write()
            .unwrap_or_else(PoisonError::into_inner));
    }

    /// Registers another table while running.
    ///
    /// # Errors
    /// When the batches are empty or do not share a schema.
    pub fn add_table(&self, name: &str, batches: Vec<RecordBatch>) -> Result<(), BoxError> {
        let schema = batches
            .first()
            .map(RecordBatch::schema)
            .ok_or_else(|| format!("table {name} has no batches to take a schema from"))?;
        let table = MemTable::try_new(schema, vec![batches])?;
        self.shared.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }

    /// Makes the next `streams` `DoGet` streams (on this server or its replicas) fail with
    /// `UNAVAILABLE` after sending `after_batches` batches: a transient fault.
    pub fn fail_next_streams(&self, streams: usize, after_batches: usize) {
        *self
            .shared
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (streams, after_batches);
    }

    /// Prepared statements the server keeps open now (stateful handles).
    pub fn open_statements(&self) -> usize {
        self.shared.state.open_statements()
    }

    /// Transactions open now.
    pub fn open_transactions(&self) -> usize {
        self.shared.state.open_transactions()
    }

    /// Sessions open now (opened by `SetSessionOptions`, ended by `CloseSession`).
    pub fn open_sessions(&self) -> usize {
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The DataFusion session behind the server, for registering other table providers.
    pub fn context(&self) -> &SessionContext {
        &self.shared.ctx
    }

    /// Stops accepting calls and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

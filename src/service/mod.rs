//! `mishen serve`: the gRPC adapter over [`Screener`] and the audit log.
//!
//! The wire API is `proto/mishen/v1/screening.proto` (package `mishen.v1`),
//! documented field by field there. This module only translates: requests are
//! decoded ([`decode`]), authorized ([`auth`]), screened on a dedicated engine
//! pool (one rayon thread per core, off the async reactor, one shared
//! `Screener`), recorded through the audit log's group-commit writer, and
//! answered. A verdict is never returned before its audit record is durable.
//!
//! Overload and failure, in one place ([`ServiceError`] → status):
//! - at most `max_inflight_bytes` of request messages admitted and not yet
//!   answered, reserved as each message's length prefix arrives
//!   ([`inflight`]): a unary call beyond it is refused with
//!   `RESOURCE_EXHAUSTED` before its message is buffered, a stream stops
//!   reading until bytes are released;
//! - at most `max_concurrency` documents in flight; a unary call beyond that is
//!   refused at once with `RESOURCE_EXHAUSTED` (load shedding), a stream waits
//!   for its turn up to the request timeout;
//! - every request ends by the earlier of the caller's deadline (`grpc-timeout`)
//!   and `request_timeout_ms`, with `DEADLINE_EXCEEDED`; work still queued then
//!   is skipped, and work in progress stops within a few thousand characters
//!   ([`crate::Budget`]: the deadline, and a flag set when the request ends for
//!   any reason, caller gone or stream reset included), with no record;
//! - a response is sized before its record is appended: over
//!   `max_message_bytes` its redacted text is left out (`truncated`), and if
//!   the findings alone are over it the call fails with `RESOURCE_EXHAUSTED`;
//! - a panic while screening one document becomes `INTERNAL` for that request;
//!   the pool and the server go on;
//! - the audit store failing is `UNAVAILABLE`, and no verdict is sent.
//!
//! Shutdown ([`Server::run`]): health goes `NOT_SERVING`, streams end after the
//! document in hand, in-flight requests drain (up to `drain_timeout_ms`), the
//! audit writer appends what it holds and writes a final checkpoint.

mod api;
pub mod auth;
pub mod config;
pub mod decode;
mod inflight;
pub mod metrics;

pub use api::Api;
pub use config::Config;

use crate::Screener;
use crate::audit::keys::BodyKeys;
use crate::audit::record::{Body, RulesBody};
use crate::audit::store::SqliteStore;
use crate::audit::writer::{Writer, WriterHandle};
use crate::audit::{AuditError, AuditLog};
use auth::Authenticator;
use metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// Generated messages, client and server of `mishen.v1`.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    tonic::include_proto!("mishen.v1");
    /// The encoded `FileDescriptorSet` of `proto/` (server reflection).
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mishen_descriptor.bin"));
}

/// Screened once on every engine thread at start-up.
const WARM_UP: &str = "关于张伟同志任职的通知\n联系电话：13800138000，地址：北京市东城区某路1号。机密★5年\n标底为120万元。";

/// Records appended in one transaction at most.
const WRITER_BATCH: usize = 256;

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The rule packs do not compile.
    #[error("rules: {0}")]
    Rules(#[from] crate::screen::Error),
    /// The audit log cannot be opened or closed.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
    /// Sockets, certificate files.
    #[error("{0}")]
    Io(String),
    /// The gRPC transport.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Everything a request may fail with; [`ServiceError::status`] is the one
/// exhaustive mapping to gRPC status codes.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The document cannot be decoded.
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    /// Any other invalid argument.
    #[error("{0}")]
    Invalid(String),
    /// No such record or checkpoint.
    #[error("{0}")]
    NotFound(String),
    /// Too many documents in flight.
    #[error("server busy: {0} documents in flight; retry with back-off")]
    Overloaded(usize),
    /// This token has as many documents in flight as its quota allows.
    #[error("token {0}: {1} documents in flight, its limit; retry with back-off")]
    QuotaExceeded(String, usize),
    /// The deadline passed.
    #[error("deadline exceeded after {0} ms")]
    Deadline(u128),
    /// The engine stopped screening part-way (the deadline passed or the
    /// caller went away); answered as [`ServiceError::Deadline`].
    #[error("deadline exceeded: screening stopped")]
    Stopped,
    /// The response, without its redacted text, would exceed the message
    /// limit; nothing was recorded.
    #[error(
        "the response ({findings} findings and the audit receipt) would take about {bytes} bytes, over the server's message limit \
         of {limit} bytes; nothing was recorded: screen the document in parts"
    )]
    ResponseTooLarge {
        /// Encoded size of the response with its receipt.
        bytes: usize,
        /// The server's message limit.
        limit: usize,
        /// Findings it holds.
        findings: usize,
    },
    /// The audit log cannot record: no verdict without its record.
    #[error("audit log unavailable: {0}")]
    AuditUnavailable(String),
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// New rules failed to compile (the old ones stay in force).
    #[error("rules not reloaded: {0}")]
    Rules(String),
    /// A bug (a panic in the engine); the message carries the request id.
    #[error("internal error (request {0}); see the server log")]
    Internal(String),
}

impl ServiceError {
    /// The gRPC status.
    pub fn status(&self) -> tonic::Status {
        use tonic::Status;
        let m = self.to_string();
        match self {
            ServiceError::Decode(_) | ServiceError::Invalid(_) => Status::invalid_argument(m),
            ServiceError::NotFound(_) => Status::not_found(m),
            ServiceError::Overloaded(_) | ServiceError::QuotaExceeded(..) | ServiceError::ResponseTooLarge { .. } => {
                Status::resource_exhausted(m)
            }
            ServiceError::Deadline(_) | ServiceError::Stopped => Status::deadline_exceeded(m),
            ServiceError::AuditUnavailable(_) | ServiceError::ShuttingDown => Status::unavailable(m),
            ServiceError::Rules(_) => Status::failed_precondition(m),
            ServiceError::Internal(_) => Status::internal(m),
        }
    }
}

impl From<crate::Stopped> for ServiceError {
    fn from(_: crate::Stopped) -> Self {
        ServiceError::Stopped
    }
}

impl From<AuditError> for ServiceError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::NotFound(m) => ServiceError::NotFound(m),
            AuditError::Invalid(m) => ServiceError::Invalid(m),
            e => ServiceError::AuditUnavailable(e.to_string()),
        }
    }
}

/// Public identity of the audit log.
#[derive(Debug, Clone)]
pub(crate) struct LogIdentity {
    pub key: ed25519_dalek::VerifyingKey,
    pub key_id: String,
    pub origin: String,
}

/// State shared by every request.
pub(crate) struct Inner {
    pub screener: RwLock<Screener>,
    pub rules_dir: Option<PathBuf>,
    pub auth: Authenticator,
    pub pool: rayon::ThreadPool,
    pub permits: Arc<Semaphore>,
    pub max_concurrency: usize,
    pub max_message_bytes: usize,
    pub writer: WriterHandle,
    pub log_key: BodyKeys,
    /// The signing key in force (a rotation replaces it).
    pub log: RwLock<LogIdentity>,
    /// The audit log's directory (keys live there).
    pub data_dir: PathBuf,
    pub checkpoint_size: Arc<AtomicU64>,
    pub checkpoint_within_ms: u64,
    pub reader: Mutex<SqliteStore>,
    /// Perfect-subtree hashes for inclusion proofs (locked after `reader`).
    pub tree: Mutex<crate::audit::merkle::SubtreeCache>,
    pub metrics: Arc<Metrics>,
    pub timeout: Duration,
    pub shutdown: watch::Receiver<bool>,
    pub reload: tokio::sync::Mutex<()>,
    /// Testing aid: a document containing this marker panics inside the engine pool.
    pub panic_marker: Option<String>,
}

impl Inner {
    /// The screener in force (cheap clone; a reload swaps it).
    pub fn screener(&self) -> Screener {
        match self.screener.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Recompiles the packs, records the reload, then puts them in force.
    pub async fn reload_rules(&self, actor: &str) -> Result<(String, String, usize, crate::audit::Appended), ServiceError> {
        let _one = self.reload.lock().await;
        let built = build_screener(self.rules_dir.clone()).await
        .map_err(|_| ServiceError::Internal("rule reload".into()))?;
        let new = match built {
            Ok(s) => s,
            Err(e) => {
                self.metrics.reload(false);
                tracing::warn!(error = %e, "rules reload failed; the old packs stay in force");
                return Err(ServiceError::Rules(e.to_string()));
            }
        };
        let old = self.screener();
        let body = RulesBody {
            previous_rules_sha256: old.rules_sha256().to_owned(),
            rules_sha256: new.rules_sha256().to_owned(),
            rules: new.pack().rules.len() as u64,
        };
        let appended = self.writer.append_async(Body::RulesReload(body)).await.map_err(|e| {
            self.metrics.reload(false);
            ServiceError::AuditUnavailable(e.to_string())
        })?;
        let (prev, now, n) = (old.rules_sha256().to_owned(), new.rules_sha256().to_owned(), new.pack().rules.len());
        match self.screener.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
        self.metrics.reload(true);
        tracing::info!(actor, previous = %prev, rules_sha256 = %now, rules = n, seq = appended.seq, "rules reloaded");
        Ok((prev, now, n, appended))
    }
}

/// A bound server, ready to [`Server::run`].
pub struct Server {
    inner: Arc<Inner>,
    writer: Writer,
    listener: tokio::net::TcpListener,
    admin: Option<tokio::net::TcpListener>,
    config: Config,
    shutdown_tx: watch::Sender<bool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("listen", &self.listener.local_addr().ok()).finish()
    }
}

/// A handle that asks a running server to reload its rules (SIGHUP).
#[derive(Clone)]
pub struct ReloadHandle(Arc<Inner>);

impl ReloadHandle {
    /// Reloads as `actor` (recorded in the audit log).
    pub async fn reload(&self, actor: &str) -> Result<String, ServiceError> {
        self.0.reload_rules(actor).await.map(|(_, now, _, _)| now)
    }
}

impl Server {
    /// Validates the configuration, compiles the rules, opens the audit log and
    /// binds the sockets (port 0 picks a free port: see [`Server::local_addr`]).
    pub async fn bind(config: Config) -> Result<Server, ServeError> {
        Server::bind_with(config, None).await
    }

    /// [`Server::bind`], with a testing aid: documents containing
    /// `panic_marker` make the engine panic (to test that a panic stays inside
    /// its request).
    #[doc(hidden)]
    pub async fn bind_with(config: Config, panic_marker: Option<String>) -> Result<Server, ServeError> {
        config.validate()?;
        let screener = build_screener(config.rules.clone()).await
        .map_err(|e| ServeError::Io(format!("engine start-up: {e}")))??;
        let data_dir = config.data_dir.clone();
        let (log, reader) = tokio::task::spawn_blocking(move || -> Result<_, AuditError> {
            let log = AuditLog::open(&data_dir, "grpc:server")?;
            let reader = SqliteStore::open(&data_dir, false)?;
            Ok((log, reader))
        })
        .await
        .map_err(|e| ServeError::Io(format!("audit start-up: {e}")))??;
        let keys = log.keys();
        let ident = LogIdentity {
            key: keys.signer.public(),
            key_id: keys.signer.key_id().to_string(),
            origin: keys.origin.clone(),
        };
        let log_key = keys.body_keys();
        let checkpoint_size = log.checkpoint_size();
        let interval = Duration::from_millis(config.checkpoint_interval_ms.max(1));
        let writer = Writer::spawn(log, WRITER_BATCH, Some(interval));
        let threads = match config.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("mishen-engine-{i}"))
            .build()
            .map_err(|e| ServeError::Io(format!("engine pool: {e}")))?;
        // Warm up lazily built per-thread state (regex caches, dictionary tag
        // caches) on every engine thread, so the first callers do not pay for it.
        {
            let s = screener.clone();
            pool.broadcast(|_| {
                let r = s.screen(WARM_UP);
                // The keyword extractor of audit titles loads its dictionary lazily.
                let _ = crate::audit::meta::keywords(&s, WARM_UP, &r.findings, '■');
            });
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServeError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
        let admin = match config.admin_listen {
            Some(a) => Some(
                metrics::bind_admin(a)
                    .await
                    .map_err(|e| ServeError::Io(format!("cannot listen on {a} (admin): {e}")))?,
            ),
            None => None,
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let inner = Arc::new(Inner {
            screener: RwLock::new(screener),
            rules_dir: config.rules.clone(),
            auth: Authenticator::new(&config.tokens),
            pool,
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            max_concurrency: config.max_concurrency,
            max_message_bytes: config.max_message_bytes,
            writer: writer.handle(),
            log_key,
            log: RwLock::new(ident),
            data_dir: config.data_dir.clone(),
            checkpoint_size,
            checkpoint_within_ms: config.checkpoint_interval_ms,
            reader: Mutex::new(reader),
            tree: Mutex::new(crate::audit::merkle::SubtreeCache::default()),
            metrics: Metrics::new(),
            timeout: config.request_timeout(),
            shutdown: shutdown_rx,
            reload: tokio::sync::Mutex::new(()),
            panic_marker,
        });
        Ok(Server { inner, writer, listener, admin, config, shutdown_tx })
    }

    /// The gRPC address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.config.listen)
    }

    /// The admin (metrics) address, if enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// A handle for rule reloads from outside (SIGHUP).
    pub fn reload_handle(&self) -> ReloadHandle {
        ReloadHandle(self.inner.clone())
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully; returns the
    /// final signed checkpoint.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<String, ServeError> {
        let Server { inner, writer, listener, admin, config, shutdown_tx } = self;
        let tls = match &config.tls {
            Some(t) => Some(tls_config(t)?),
            None => None,
        };
        let (health, health_svc) = tonic_health::server::health_reporter();
        health.set_serving::<pb::screening_service_server::ScreeningServiceServer<Api>>().await;
        health.set_service_status("", tonic_health::ServingStatus::Serving).await;
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| ServeError::Io(format!("reflection: {e}")))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| ServeError::Io(format!("reflection: {e}")))?;
        let api = pb::screening_service_server::ScreeningServiceServer::new(Api::new(inner.clone()))
            .max_decoding_message_size(config.max_message_bytes)
            .max_encoding_message_size(config.max_message_bytes);
        // Runs when the headers arrive, before the message is read: deadlines
        // count from there, as the caller's and the transport's timers do.
        let api = stamp_arrival(api);
        // Outermost: request bytes are reserved as each message's prefix
        // arrives, before tonic buffers the message (`max_inflight_bytes`).
        let api = inflight::Metered::new(
            api,
            inflight::InflightBytes::new(config.inflight_bytes(), config.max_message_bytes, inner.metrics.clone()),
            config.request_timeout(),
        );

        let addr = listener.local_addr().map_err(|e| ServeError::Io(e.to_string()))?;
        if inner.auth.enabled() {
            tracing::info!(%addr, tls = tls.is_some(), "mishen serving");
        } else {
            tracing::warn!(%addr, tls = tls.is_some(), "mishen serving WITHOUT authentication (loopback only): configure [[tokens]] to require bearer tokens");
        }

        // One signal fans out to the gRPC server, the admin server and the streams.
        let (stop_tx, stop_rx) = watch::channel(false);
        let health2 = health.clone();
        let shutdown_tx2 = shutdown_tx.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: health NOT_SERVING, draining requests");
            health2.set_not_serving::<pb::screening_service_server::ScreeningServiceServer<Api>>().await;
            health2.set_service_status("", tonic_health::ServingStatus::NotServing).await;
            let _ = shutdown_tx2.send(true);
            let _ = stop_tx.send(true);
        });
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|v| *v).await;
        };

        let metrics_token = config.metrics_token_sha256.as_deref().and_then(|h| hex::decode(h).ok()?.try_into().ok());
        let admin_task = admin.map(|l| tokio::spawn(metrics::serve_admin(l, inner.metrics.clone(), metrics_token, wait(stop_rx.clone()))));

        let mut builder = tonic::transport::Server::builder();
        if let Some(t) = tls {
            builder = builder.tls_config(t)?;
        }
        // TCP_NODELAY: with Nagle on, small responses wait for the peer's
        // delayed ACK (~40 ms per call).
        let incoming = tonic::transport::server::TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(Duration::from_secs(60)));
        let serve = builder
            .add_service(health_svc)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(api)
            .serve_with_incoming_shutdown(incoming, wait(stop_rx.clone()));
        let drain = Duration::from_millis(config.drain_timeout_ms);
        let mut stop_rx2 = stop_rx.clone();
        let served = tokio::select! {
            r = serve => r.map_err(ServeError::from),
            _ = async { let _ = stop_rx2.wait_for(|v| *v).await; tokio::time::sleep(drain).await } => {
                tracing::warn!(drain_ms = config.drain_timeout_ms, "requests still in flight after the drain timeout; stopping");
                Ok(())
            }
        };
        if let Some(t) = admin_task {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        drop(shutdown_tx);
        // Append what the writer holds, then the final checkpoint.
        let note = tokio::task::spawn_blocking(move || writer.close())
            .await
            .map_err(|e| ServeError::Io(format!("audit writer: {e}")))??;
        served?;
        tracing::info!(checkpoint_size = inner.checkpoint_size.load(Ordering::Acquire), "stopped");
        Ok(note)
    }
}

/// When a request's headers arrived (set by an interceptor before decoding).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrived(pub tokio::time::Instant);

type Stamp = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;

fn stamp_arrival<S>(svc: S) -> tonic::service::interceptor::InterceptedService<S, Stamp> {
    fn stamp(mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        r.extensions_mut().insert(Arrived(tokio::time::Instant::now()));
        Ok(r)
    }
    tonic::service::interceptor::InterceptedService::new(svc, stamp as Stamp)
}

fn tls_config(t: &config::TlsConfig) -> Result<tonic::transport::ServerTlsConfig, ServeError> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| ServeError::Io(format!("{}: {e}", p.display())));
    let mut c = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(read(&t.cert)?, read(&t.key)?));
    if let Some(ca) = &t.client_ca {
        c = c.client_ca_root(tonic::transport::Certificate::from_pem(read(ca)?));
    }
    Ok(c)
}

/// Compiles the embedded packs, or `dir`'s, on a blocking thread (dictionary
/// and automata take tens of milliseconds).
async fn build_screener(dir: Option<PathBuf>) -> Result<Result<Screener, crate::screen::Error>, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        let mut b = Screener::builder();
        if let Some(d) = dir {
            b = b.rules_dir(d);
        }
        b.build()
    })
    .await
}

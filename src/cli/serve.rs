//! `mishen serve`: the gRPC screening service.
//!
//! Configuration precedence: `--config FILE` (TOML, see `mishen::service::config`),
//! overridden by `MISHEN_*` environment variables, overridden by flags. With no
//! arguments: 127.0.0.1:50051, metrics on 127.0.0.1:50052, the embedded rules,
//! the audit log in `./mishen-data`, no authentication (loopback only).
//!
//! Signals: SIGTERM or SIGINT shut down gracefully (health NOT_SERVING, drain,
//! final checkpoint); SIGHUP reloads the rules (recorded in the audit log).

use anyhow::Context;
use clap::Args;
use mishen::service::{Config, Server, config};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE", env = "MISHEN_CONFIG")]
    config: Option<PathBuf>,
    /// gRPC listen address [default: 127.0.0.1:50051].
    #[arg(long, value_name = "ADDR", env = "MISHEN_LISTEN")]
    listen: Option<SocketAddr>,
    /// Admin HTTP address for /metrics, or `off` [default: 127.0.0.1:50052].
    #[arg(long, value_name = "ADDR", env = "MISHEN_ADMIN_LISTEN")]
    admin_listen: Option<String>,
    /// Audit log directory [default: ./mishen-data].
    #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Overlay the embedded rule packs with the packs in DIR (reloaded on SIGHUP).
    #[arg(long, value_name = "DIR", env = "MISHEN_RULES")]
    rules: Option<PathBuf>,
    /// Largest request or response message in bytes [default: 33554432].
    #[arg(long, value_name = "BYTES", env = "MISHEN_MAX_MESSAGE_BYTES")]
    max_message_bytes: Option<usize>,
    /// Documents screened at once; more are refused with RESOURCE_EXHAUSTED [default: 64].
    #[arg(long, value_name = "N", env = "MISHEN_MAX_CONCURRENCY")]
    max_concurrency: Option<usize>,
    /// Request bytes in flight; beyond: RESOURCE_EXHAUSTED (unary), a wait (streams)
    /// [default: 0, meaning 4 × --max-message-bytes].
    #[arg(long, value_name = "BYTES", env = "MISHEN_MAX_INFLIGHT_BYTES")]
    max_inflight_bytes: Option<usize>,
    /// Per-request timeout in milliseconds [default: 30000].
    #[arg(long, value_name = "MS", env = "MISHEN_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: Option<u64>,
    /// Engine threads, 0 for one per core [default: 0].
    #[arg(long, value_name = "N", env = "MISHEN_WORKERS")]
    workers: Option<usize>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", env = "MISHEN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", env = "MISHEN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (mutual TLS).
    #[arg(long, value_name = "FILE", env = "MISHEN_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
}

/// The configuration in force: file, then environment and flags (clap has
/// already preferred a flag over its environment variable).
fn resolve(a: ServeArgs) -> anyhow::Result<Config> {
    let mut c = match &a.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    if let Some(v) = a.listen {
        c.listen = v;
    }
    if let Some(v) = a.admin_listen {
        c.admin_listen = config::parse_admin(&v).map_err(anyhow::Error::msg)?;
    }
    if let Some(v) = a.data_dir {
        c.data_dir = v;
    }
    if let Some(v) = a.rules {
        c.rules = Some(v);
    }
    if let Some(v) = a.max_message_bytes {
        c.max_message_bytes = v;
    }
    if let Some(v) = a.max_concurrency {
        c.max_concurrency = v;
    }
    if let Some(v) = a.max_inflight_bytes {
        c.max_inflight_bytes = v;
    }
    if let Some(v) = a.request_timeout_ms {
        c.request_timeout_ms = v;
    }
    if let Some(v) = a.workers {
        c.workers = v;
    }
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        let client_ca = a.tls_client_ca.or_else(|| c.tls.as_ref().and_then(|t| t.client_ca.clone()));
        c.tls = Some(config::TlsConfig { cert, key, client_ca });
    } else if let Some(ca) = a.tls_client_ca {
        match c.tls.as_mut() {
            Some(t) => t.client_ca = Some(ca),
            None => anyhow::bail!("--tls-client-ca needs --tls-cert and --tls-key (or [tls] in the config)"),
        }
    }
    c.validate()?;
    Ok(c)
}

pub fn run(a: ServeArgs) -> anyhow::Result<i32> {
    let cfg = resolve(a)?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    // Half the cores for gRPC I/O (at least one): the engine pool has one thread
    // per core, and the async side needs far less CPU per document than
    // screening. On 2 cores one I/O thread uses ~10 % less server CPU per
    // document than two (fewer hand-offs and wake-ups between them; load
    // bench, 64 concurrent). TOKIO_WORKER_THREADS, if set, decides instead.
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        rt.worker_threads((cores / 2).max(1));
    }
    let rt = rt.enable_all().thread_name("mishen-io").build().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let server = Server::bind(cfg).await?;
        // Handlers first: a signal that arrives once we have said we serve is
        // handled, not fatal.
        let shutdown = shutdown_signal().context("cannot install signal handlers")?;
        let reload = server.reload_handle();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut hup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    match reload.reload("signal:SIGHUP").await {
                        Ok(h) => eprintln!("mishen: rules reloaded ({h})"),
                        Err(e) => eprintln!("mishen: {e}"),
                    }
                }
            });
        }
        let addr = server.local_addr();
        let admin = server.admin_addr();
        eprintln!(
            "mishen: serving mishen.v1.ScreeningService on {addr}{}",
            admin.map(|a| format!(", metrics on http://{a}/metrics")).unwrap_or_default()
        );
        let note = server.run(shutdown).await?;
        let size = note.lines().nth(1).unwrap_or("?");
        eprintln!("mishen: stopped; final checkpoint at size {size}");
        anyhow::Ok(0)
    })
}

/// SIGTERM or SIGINT, registered now (not when first polled).
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

//! Service configuration: a TOML file, overridden by `MISHEN_*` environment
//! variables, overridden by command-line flags (the CLI applies the last two).
//!
//! ```toml
//! listen = "127.0.0.1:50051"          # gRPC
//! admin_listen = "127.0.0.1:50052"    # Prometheus /metrics ("off" disables it)
//! metrics_token_sha256 = "…64 hex…"   # /metrics needs this bearer token (required off loopback)
//! data_dir = "mishen-data"            # audit log and keys
//! rules = "/etc/mishen/rules"         # overlay for the embedded packs (reloadable)
//! max_message_bytes = 33554432        # 32 MiB
//! max_concurrency = 64                # documents in flight; beyond: RESOURCE_EXHAUSTED
//! max_inflight_bytes = 0              # request bytes in flight (0: 4 × max_message_bytes); beyond: RESOURCE_EXHAUSTED
//! request_timeout_ms = 30000          # per request, also capped by the caller's deadline
//! checkpoint_interval_ms = 5000       # signed checkpoint at most this long after a record
//! workers = 0                         # engine threads (0: one per core)
//! drain_timeout_ms = 30000            # graceful shutdown: longest wait for in-flight requests
//!
//! [tls]                               # optional
//! cert = "server.crt"                 # PEM chain
//! key = "server.key"                  # PEM private key
//! client_ca = "clients-ca.crt"        # optional: require client certificates (mutual TLS)
//!
//! [[tokens]]                          # optional; none: loopback only, no authentication
//! name = "docsys"                     # recorded as the actor `grpc:docsys`
//! sha256 = "…64 hex…"                 # SHA-256 of the bearer token (`printf %s "$TOKEN" | sha256sum`)
//! roles = ["submitter"]               # submitter, reviewer, auditor, admin
//! max_concurrency = 16                # optional: this token's documents in flight
//! ```

use super::auth::Role;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default gRPC address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default admin (metrics) address.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:50052";
/// Default largest request or response message.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 32 << 20;

/// The configuration in force.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Admin HTTP address for `/metrics`; `None` disables it.
    #[serde(deserialize_with = "admin_addr")]
    pub admin_listen: Option<SocketAddr>,
    /// SHA-256 (hex) of the bearer token `/metrics` requires; required when
    /// the admin port listens beyond loopback.
    pub metrics_token_sha256: Option<String>,
    /// Audit log directory.
    pub data_dir: PathBuf,
    /// Rule overlay directory (`--rules`); `None`: the embedded packs.
    pub rules: Option<PathBuf>,
    /// Largest message, bytes.
    pub max_message_bytes: usize,
    /// Documents screened at once; more are refused with `RESOURCE_EXHAUSTED`.
    pub max_concurrency: usize,
    /// Request message bytes admitted and not yet answered, across all calls
    /// (reserved as each message's length prefix arrives, before its bytes are
    /// buffered); a unary call beyond it is refused with `RESOURCE_EXHAUSTED`,
    /// a stream waits. 0: [`Config::inflight_bytes`] picks 4 × `max_message_bytes`.
    /// At least `max_message_bytes` when set.
    pub max_inflight_bytes: usize,
    /// Longest time a request may take, milliseconds.
    pub request_timeout_ms: u64,
    /// Longest time between a record and the checkpoint covering it, milliseconds.
    pub checkpoint_interval_ms: u64,
    /// Engine threads; 0: one per core.
    pub workers: usize,
    /// Longest wait for in-flight requests at shutdown, milliseconds.
    pub drain_timeout_ms: u64,
    /// TLS, if any.
    pub tls: Option<TlsConfig>,
    /// Bearer tokens; empty: no authentication (loopback only).
    pub tokens: Vec<TokenConfig>,
}

/// Certificate files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM CA bundle; when set, clients must present a certificate it signed.
    pub client_ca: Option<PathBuf>,
}

/// One bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (the audit actor is `grpc:<name>`).
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// Documents this token may have in flight at once (unset: only the
    /// server's `max_concurrency`). Beyond it a unary call is refused with
    /// `RESOURCE_EXHAUSTED` and a stream waits, so one busy client cannot take
    /// every slot from the others.
    #[serde(default)]
    pub max_concurrency: Option<usize>,
}

fn admin_addr<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let s = String::deserialize(d)?;
    parse_admin(&s).map_err(serde::de::Error::custom)
}

/// Parses an admin address; `off` (or empty) disables the admin port.
pub fn parse_admin(s: &str) -> Result<Option<SocketAddr>, String> {
    match s.trim() {
        "" | "off" | "none" => Ok(None),
        a => a.parse().map(Some).map_err(|e| format!("bad admin address {a:?}: {e}")),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("static address"),
            admin_listen: Some(DEFAULT_ADMIN_LISTEN.parse().expect("static address")),
            metrics_token_sha256: None,
            data_dir: PathBuf::from("mishen-data"),
            rules: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_concurrency: 64,
            max_inflight_bytes: 0,
            request_timeout_ms: 30_000,
            checkpoint_interval_ms: 5_000,
            workers: 0,
            drain_timeout_ms: 30_000,
            tls: None,
            tokens: Vec::new(),
        }
    }
}

/// A configuration problem, reported before anything listens.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads a TOML file (relative paths in it are relative to the file).
    pub fn from_file(p: &Path) -> Result<Config, ConfigError> {
        let s = std::fs::read_to_string(p).map_err(|e| ConfigError(format!("{}: {e}", p.display())))?;
        let mut c: Config = toml::from_str(&s).map_err(|e| ConfigError(format!("{}: {e}", p.display())))?;
        let base = p.parent().unwrap_or(Path::new("."));
        let rel = |q: &mut PathBuf| {
            if q.is_relative() {
                *q = base.join(&*q);
            }
        };
        rel(&mut c.data_dir);
        if let Some(r) = c.rules.as_mut() {
            rel(r);
        }
        if let Some(t) = c.tls.as_mut() {
            rel(&mut t.cert);
            rel(&mut t.key);
            if let Some(ca) = t.client_ca.as_mut() {
                rel(ca);
            }
        }
        Ok(c)
    }

    /// Checks what can be checked before starting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() {
            return Err(ConfigError(format!(
                "refusing to listen on {} without authentication: configure [[tokens]] \
                 or listen on a loopback address",
                self.listen
            )));
        }
        if let Some(a) = self.admin_listen
            && !a.ip().is_loopback()
            && self.metrics_token_sha256.is_none()
        {
            return Err(ConfigError(format!(
                "refusing to serve /metrics on {a} without authentication: set metrics_token_sha256 \
                 or listen on a loopback address"
            )));
        }
        if let Some(h) = &self.metrics_token_sha256
            && !is_sha256_hex(h)
        {
            return Err(ConfigError("metrics_token_sha256 must be 64 lower-case hex digits".into()));
        }
        if self.max_concurrency == 0 {
            return Err(ConfigError("max_concurrency must be at least 1".into()));
        }
        if self.max_message_bytes < 1024 {
            return Err(ConfigError("max_message_bytes must be at least 1024".into()));
        }
        if self.max_inflight_bytes != 0 && self.max_inflight_bytes < self.max_message_bytes {
            return Err(ConfigError(format!(
                "max_inflight_bytes ({}) must be at least max_message_bytes ({}), or 0 for the default",
                self.max_inflight_bytes, self.max_message_bytes
            )));
        }
        if self.request_timeout_ms == 0 {
            return Err(ConfigError("request_timeout_ms must be at least 1".into()));
        }
        let mut names = std::collections::HashSet::new();
        let mut hashes = std::collections::HashSet::new();
        for t in &self.tokens {
            if t.name.is_empty() || t.name.len() > 64 || !t.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) {
                return Err(ConfigError(format!(
                    "token name {:?}: 1 to 64 characters from A-Z a-z 0-9 - _ . @",
                    t.name
                )));
            }
            if !is_sha256_hex(&t.sha256) {
                return Err(ConfigError(format!("token {:?}: sha256 must be 64 lower-case hex digits", t.name)));
            }
            if t.roles.is_empty() {
                return Err(ConfigError(format!("token {:?} has no roles", t.name)));
            }
            if t.max_concurrency == Some(0) {
                return Err(ConfigError(format!("token {:?}: max_concurrency must be at least 1", t.name)));
            }
            if !names.insert(&t.name) {
                return Err(ConfigError(format!("token name {:?} is used twice", t.name)));
            }
            if !hashes.insert(&t.sha256) {
                return Err(ConfigError(format!("token {:?}: the same token is configured twice", t.name)));
            }
        }
        Ok(())
    }

    /// The in-flight byte budget in force: `max_inflight_bytes`, or 4 ×
    /// `max_message_bytes` when it is 0.
    pub fn inflight_bytes(&self) -> usize {
        match self.max_inflight_bytes {
            0 => self.max_message_bytes.saturating_mul(4),
            n => n,
        }
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// 64 lower-case hex digits.
fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_token(extra: &str) -> Result<(), ConfigError> {
        let toml = format!(
            "[[tokens]]\nname = \"docsys\"\nsha256 = \"{}\"\nroles = [\"submitter\"]\n{extra}",
            "ab".repeat(32)
        );
        let c: Config = toml::from_str(&toml).map_err(|e| ConfigError(e.to_string()))?;
        c.validate()
    }

    #[test]
    fn token_quota_is_optional_and_positive() {
        assert!(with_token("").is_ok());
        assert!(with_token("max_concurrency = 4").is_ok());
        let e = with_token("max_concurrency = 0").unwrap_err();
        assert!(e.0.contains("max_concurrency must be at least 1"), "{}", e.0);
        assert!(with_token("max_concurency = 4").is_err(), "a misspelt key is refused");
    }

    #[test]
    fn the_inflight_byte_budget_holds_at_least_one_message() {
        let c = Config::default();
        assert_eq!(c.inflight_bytes(), 4 * DEFAULT_MAX_MESSAGE_BYTES);
        let c = Config { max_message_bytes: 1 << 20, max_inflight_bytes: 1 << 19, ..Config::default() };
        let e = c.validate().unwrap_err();
        assert!(e.0.contains("max_inflight_bytes"), "{}", e.0);
        let c = Config { max_message_bytes: 1 << 20, max_inflight_bytes: 1 << 20, ..Config::default() };
        assert!(c.validate().is_ok());
        assert_eq!(c.inflight_bytes(), 1 << 20);
    }

    #[test]
    fn metrics_beyond_loopback_need_a_token() {
        let cfg = |extra: &str| -> Result<(), ConfigError> {
            let c: Config = toml::from_str(extra).map_err(|e| ConfigError(e.to_string()))?;
            c.validate()
        };
        assert!(cfg("admin_listen = \"127.0.0.1:9000\"").is_ok());
        assert!(cfg("admin_listen = \"off\"").is_ok());
        let e = cfg("admin_listen = \"0.0.0.0:9000\"").unwrap_err();
        assert!(e.0.contains("metrics_token_sha256"), "{}", e.0);
        let h = "ab".repeat(32);
        assert!(cfg(&format!("admin_listen = \"0.0.0.0:9000\"\nmetrics_token_sha256 = \"{h}\"")).is_ok());
        assert!(cfg("metrics_token_sha256 = \"xyz\"").is_err());
    }
}

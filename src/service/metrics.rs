//! Prometheus metrics, served as text on the admin port at `/metrics`.
//!
//! - `mishen_requests_total{method,code}`: finished RPCs by gRPC status code;
//! - `mishen_request_duration_seconds{method}`: latency histogram;
//! - `mishen_verdicts_total{verdict}`: screening outcomes;
//! - `mishen_audit_append_duration_seconds`: time until a record is durable;
//! - `mishen_in_flight`: documents being screened;
//! - `mishen_rejected_total{reason}`: load shedding and deadline expiry;
//! - `mishen_engine_stopped_total{at}`: documents the engine gave up on because
//!   their deadline passed or their caller went away: `queued` (skipped before
//!   screening started) or `screening` (stopped part-way, the thread freed);
//! - `mishen_inflight_bytes`: request bytes admitted and not yet answered (the
//!   `max_inflight_bytes` budget);
//! - `mishen_rules_reloads_total{result}`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodCode {
    method: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabel {
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AtLabel {
    at: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<MethodCode, Counter>,
    latency: Family<MethodLabel, Histogram, fn() -> Histogram>,
    verdicts: Family<VerdictLabel, Counter>,
    audit_append: Histogram,
    in_flight: Gauge,
    rejected: Family<ReasonLabel, Counter>,
    stopped: Family<AtLabel, Counter>,
    inflight_bytes: Gauge,
    reloads: Family<ResultLabel, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms .. ~6.5 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("mishen");
        let requests = Family::<MethodCode, Counter>::default();
        registry.register("requests", "Finished RPCs by method and gRPC status code", requests.clone());
        let latency = Family::<MethodLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register("request_duration_seconds", "RPC latency", latency.clone());
        let verdicts = Family::<VerdictLabel, Counter>::default();
        registry.register("verdicts", "Screening verdicts", verdicts.clone());
        let audit_append = latency_histogram();
        registry.register(
            "audit_append_duration_seconds",
            "Time until an audit record is durable",
            audit_append.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("in_flight", "Documents being screened", in_flight.clone());
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register("rejected", "Requests refused (overload, deadline)", rejected.clone());
        let stopped = Family::<AtLabel, Counter>::default();
        registry.register("engine_stopped", "Documents given up on (deadline passed, caller gone): queued or part-way through screening", stopped.clone());
        let inflight_bytes = Gauge::default();
        registry.register("inflight_bytes", "Request bytes admitted and not yet answered", inflight_bytes.clone());
        let reloads = Family::<ResultLabel, Counter>::default();
        registry.register("rules_reloads", "Rule reloads", reloads.clone());
        Arc::new(Metrics { registry, requests, latency, verdicts, audit_append, in_flight, rejected, stopped, inflight_bytes, reloads })
    }

    /// One finished RPC.
    pub fn request(&self, method: &'static str, code: tonic::Code, secs: f64) {
        self.requests.get_or_create(&MethodCode { method, code: code_name(code) }).inc();
        self.latency.get_or_create(&MethodLabel { method }).observe(secs);
    }

    /// One verdict.
    pub fn verdict(&self, verdict: &'static str) {
        self.verdicts.get_or_create(&VerdictLabel { verdict }).inc();
    }

    /// One audit append.
    pub fn audit_append(&self, secs: f64) {
        self.audit_append.observe(secs);
    }

    /// The in-flight gauge.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// One refused request.
    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// One document given up on: `queued` or `screening`.
    pub fn stopped(&self, at: &'static str) {
        self.stopped.get_or_create(&AtLabel { at }).inc();
    }

    /// The gauge of request bytes in flight.
    pub fn inflight_bytes(&self) -> &Gauge {
        &self.inflight_bytes
    }

    /// One rule reload.
    pub fn reload(&self, ok: bool) {
        self.reloads.get_or_create(&ResultLabel { result: if ok { "ok" } else { "error" } }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}

/// The canonical upper-snake name of a status code.
pub fn code_name(c: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match c {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves. With
/// `token_sha256`, a scrape must send `Authorization: Bearer <token>` whose
/// SHA-256 it is; otherwise it gets 401.
pub async fn serve_admin(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    token_sha256: Option<[u8; 32]>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::http::StatusCode;
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let m = metrics.clone();
            async move {
                if let Some(want) = token_sha256 {
                    let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(super::auth::bearer_sha256);
                    if given != Some(want) {
                        return (StatusCode::UNAUTHORIZED, [(WWW_AUTHENTICATE, "Bearer")], "metrics need `Authorization: Bearer <metrics token>`\n")
                            .into_response();
                    }
                }
                ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], m.render()).into_response()
            }
        }),
    );
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Binds the admin address.
pub async fn bind_admin(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

//! The `mishen.v1.ScreeningService` implementation: translation only.

use super::auth::{Identity, Method};
use super::pb;
use super::{Inner, ServiceError, decode};
use crate::audit::Appended;
use crate::audit::record::{AddedFinding, Body, DocMeta, Record, screening_body_within};
use crate::audit::review::{self, Submission};
use crate::audit::store::Store;
use crate::report::jsonl::finding_records_within;
use crate::span::LineIndex;
use crate::rules::model::Category;
use crate::{Budget, Screener, Verdict};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

/// Documents of one stream in flight at most (responses keep request order).
/// Every one of them also holds one of the server's `max_concurrency` permits,
/// taken before the stream reads on: a saturated server stops reading, and
/// HTTP/2 flow control pushes back on the client.
const STREAM_WINDOW: usize = 32;
/// Longest caller-given title or 文号, in characters.
const MAX_META_CHARS: usize = 200;

/// The service: cheap to clone, all state shared.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

impl Api {
    pub(crate) fn new(inner: Arc<Inner>) -> Api {
        Api { inner }
    }
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The caller's `x-request-id` if it is sane, else a fresh one.
fn request_id(md: &tonic::metadata::MetadataMap) -> String {
    if let Some(v) = md.get("x-request-id").and_then(|v| v.to_str().ok())
        && !v.is_empty()
        && v.len() <= 64
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return v.to_owned();
    }
    static BOOT: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_le_bytes(b)
    });
    format!("{:08x}-{}", *BOOT, REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The caller's deadline from `grpc-timeout` (`100m`, `5S`, ...).
fn grpc_timeout(md: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let v = md.get("grpc-timeout")?.to_str().ok()?;
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The earlier of the caller's deadline and the server's timeout. The caller's
/// is shortened by a margin (a tenth, at most 20 ms) so that this server
/// answers DEADLINE_EXCEEDED itself before the transport's own timers cancel
/// the call (which a client would see as CANCELLED), even on a busy machine.
fn effective_timeout(client: Option<Duration>, server: Duration) -> Duration {
    match client {
        Some(c) => c.saturating_sub((c / 10).min(Duration::from_millis(20))).min(server),
        None => server,
    }
}

fn verdict_pb(v: Verdict) -> pb::Verdict {
    match v {
        Verdict::Publish => pb::Verdict::Publish,
        Verdict::Redact => pb::Verdict::Redact,
        Verdict::Withhold => pb::Verdict::Withhold,
    }
}

fn action_pb(a: &str) -> pb::Action {
    match a {
        "allow" => pb::Action::Allow,
        "redact" => pb::Action::Redact,
        "withhold" => pb::Action::Withhold,
        _ => pb::Action::Unspecified,
    }
}

fn receipt(inner: &Inner, a: Appended) -> pb::AuditReceipt {
    pb::AuditReceipt {
        record_id: a.id,
        seq: a.seq,
        canonical: a.canonical,
        signature: a.signature,
        key_id: a.key_id,
        record_hash: hex::encode(a.hash),
        checkpoint_size: inner.checkpoint_size.load(Ordering::Acquire),
        checkpoint_within_ms: inner.checkpoint_within_ms,
    }
}

fn meta_field(name: &str, v: &str) -> Result<Option<String>, ServiceError> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > MAX_META_CHARS || t.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(format!(
            "{name} must be at most {MAX_META_CHARS} characters without control characters"
        )));
    }
    Ok(Some(t.to_owned()))
}

fn categories(names: &[String]) -> Result<Vec<Category>, ServiceError> {
    names
        .iter()
        .map(|n| {
            Category::ALL.iter().copied().find(|c| c.as_str() == n).ok_or_else(|| {
                let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                ServiceError::Invalid(format!("unknown category {n:?} (expected {})", all.join(", ")))
            })
        })
        .collect()
}

/// Record hashes read at a time while the proof cache catches up with the log.
const PROOF_CACHE_CHUNK: u64 = 1 << 16;

/// What the engine pool hands back: the response without its receipt, and the
/// audit record body.
struct Screened {
    response: pb::ScreenResponse,
    body: Body,
    verdict: Verdict,
}

/// Decodes, screens, redacts and builds the audit body: runs on the engine pool.
fn screen_work(
    s: &Screener,
    inner: &Inner,
    req: pb::ScreenRequest,
    rid: &str,
    budget: &Budget,
) -> Result<Screened, ServiceError> {
    use pb::screen_request::Document;
    let options = req.options.unwrap_or_default();
    let cats = categories(&options.categories)?;
    let meta = DocMeta {
        title: meta_field("title", &req.title)?,
        doc_number: meta_field("doc_number", &req.doc_number)?,
        document_id: Some(req.document_id.clone()),
    };
    // One ingest decision with the CLI (`decode`): `text` is None for a
    // document that cannot be read; it is withheld with the reason, and
    // recorded like any other screening.
    let (doc, raw): (decode::Doc<'_>, &[u8]) = match &req.document {
        Some(Document::Content(b)) => (decode::Doc::Content(b), b),
        Some(Document::Text(t)) => (decode::Doc::Text(t), t.as_bytes()),
        None => (decode::Doc::None, &[]),
    };
    let (text, extracted, mut screening) = match decode::decode_document(doc, &req.media_type, &req.name, &req.encoding, inner.max_message_bytes)? {
        decode::Decoded::Extracted(mut e) => {
            let r = screen_text_in(s, inner, &e.text, &e.layout(), &cats, budget)?;
            let t = std::mem::take(&mut e.text);
            (Some(t), Some(e), r)
        }
        decode::Decoded::Unreadable(why) => (None, None, s.unreadable(raw, &why)),
    };
    // The hash of the bytes as given, not of their decoding.
    screening.content_sha256 = crate::screen::sha256_hex(raw);
    let bytes = raw.len() as u64;
    let encoding = extracted.as_ref().and_then(|e| e.encoding).filter(|_| matches!(req.document, Some(Document::Content(_))));
    // Findings alone over the message limit: refused now, before their
    // records, excerpts and HMACs are built (a finding-dense document's
    // working set is tens of times its size).
    let at_least = response_lower_bound(&screening);
    if at_least > inner.max_message_bytes {
        return Err(ServiceError::ResponseTooLarge { bytes: at_least, limit: inner.max_message_bytes, findings: screening.findings.len() });
    }
    let verdict = screening.decision.verdict;
    let policy = &s.pack().policy;
    let fails = match pb::FailOn::try_from(options.fail_on).unwrap_or(pb::FailOn::Unspecified) {
        pb::FailOn::Never => false,
        pb::FailOn::Withhold => verdict >= Verdict::Withhold,
        pb::FailOn::Redact | pb::FailOn::Unspecified => verdict >= Verdict::Redact,
    };
    budget.check()?;
    let redacted_text = match &text {
        Some(t) if options.return_redacted_text && verdict != Verdict::Withhold => Some(s.redact(t, &screening)),
        _ => None,
    };
    budget.check()?;
    // One index of the text for the response's and the record's spans.
    let ix = text.as_deref().map(LineIndex::new);
    let records = match &ix {
        Some(ix) => finding_records_within(ix, &screening.findings, policy.mask, budget)?,
        None => Vec::new(),
    };
    let findings = {
        records
            .into_iter()
            .zip(&screening.findings)
            .map(|(f, raw)| pb::Finding {
                source: extracted.as_ref().and_then(|e| e.location_at(raw.span.start)).map(source_pb),
                action: action_pb(&f.action).into(),
                rule: f.rule,
                category: f.category,
                kind: f.kind,
                start: f.start as u64,
                end: f.end as u64,
                byte_start: f.byte_start as u64,
                byte_end: f.byte_end as u64,
                line: f.line as u64,
                column: f.column as u64,
                confidence: f.confidence,
                basis: f.basis,
                excerpt: f.excerpt,
                explanation: f.explanation,
            })
            .collect::<Vec<_>>()
    };
    budget.check()?;
    let reasons = screening
        .decision
        .reasons
        .iter()
        .map(|r| pb::Reason {
            category: r.category.clone(),
            action: action_pb(&r.action).into(),
            basis: r.basis.clone(),
            summary: r.summary.clone(),
        })
        .collect();
    let mut body = screening_body_within(ix.as_ref(), bytes, &screening, s, &inner.log_key, &meta, budget)?;
    let mut response = pb::ScreenResponse {
        document_id: req.document_id,
        verdict: verdict_pb(verdict).into(),
        reasons,
        findings,
        redacted_text,
        audit: None,
        content_sha256: screening.content_sha256.clone(),
        rules_sha256: s.rules_sha256().to_owned(),
        chars: body.document.chars,
        fails,
        request_id: rid.to_owned(),
        error: None,
        categories_checked: screening.decision.checked.iter().map(|c| c.as_str().to_owned()).collect(),
        partial: screening.decision.partial,
        truncated: false,
        truncated_reason: String::new(),
        encoding: encoding.unwrap_or_default().to_owned(),
    };
    fit_response(inner, &mut response, &mut body)?;
    Ok(Screened { response, body: Body::Screening(body), verdict })
}

/// A lower bound of the encoded response of `screening`: each finding's
/// strings and fields in the response, and its fingerprint (with its 64-hex
/// HMAC) in the record of the receipt.
fn response_lower_bound(screening: &crate::Screening) -> usize {
    screening
        .findings
        .iter()
        .map(|f| {
            let names = f.rule.len() + f.kind.as_str().len();
            // Response: rule, category, kind, basis, explanation (+ tags and
            // lengths); spans, line, column, confidence, action: ≥ 20 bytes.
            let response = names + f.category.as_str().len() + f.basis.len() + f.explanation.len() + 32;
            // Record: {"action","confidence_permille","end","kind","rule","start","value_hmac"}.
            let record = names + 64 + 100;
            response + record
        })
        .sum()
}

/// Bytes a response's receipt adds besides the record body: the record's
/// header fields (actor, ids, hashes, time, signature) and the receipt's own.
const RECEIPT_OVERHEAD: usize = 2048;

/// Makes the response fit the server's message limit, with its receipt (the
/// signed record's canonical bytes), before anything is recorded: a record is
/// never committed for a response that cannot be sent. Over the limit, the
/// redacted text goes (`truncated`, and `response_truncated` in the record);
/// if the findings alone are over it, the request fails.
fn fit_response(inner: &Inner, response: &mut pb::ScreenResponse, body: &mut crate::audit::record::ScreeningBody) -> Result<(), ServiceError> {
    use prost::Message as _;
    let limit = inner.max_message_bytes;
    let origin = inner.log.read().map_or(0, |l| l.origin.len());
    let size = |r: &pb::ScreenResponse, b: &crate::audit::record::ScreeningBody| {
        r.encoded_len().saturating_add(b.canonical_len()).saturating_add(RECEIPT_OVERHEAD + origin)
    };
    let full = size(response, body);
    if full <= limit {
        return Ok(());
    }
    if response.redacted_text.take().is_some() {
        response.truncated = true;
        response.truncated_reason = format!(
            "redacted text left out: the response would be {full} bytes, over the server's message limit of {limit} bytes; \
             the {} findings are complete",
            response.findings.len()
        );
        body.response_truncated = true;
        if size(response, body) <= limit {
            return Ok(());
        }
    }
    Err(ServiceError::ResponseTooLarge { bytes: size(response, body), limit, findings: response.findings.len() })
}

/// Screens extracted text with its layout within `budget` (and trips the
/// testing aid's panic marker).
fn screen_text_in(
    s: &Screener,
    inner: &Inner,
    text: &str,
    layout: &crate::detect::Layout,
    cats: &[Category],
    budget: &Budget,
) -> Result<crate::Screening, ServiceError> {
    if let Some(m) = inner.panic_marker.as_deref()
        && text.contains(m)
    {
        panic!("injected panic (testing aid)");
    }
    Ok(s.screen_full_within(text, layout, cats, budget)?)
}

fn source_pb(l: &crate::ingest::Location) -> pb::Source {
    use crate::ingest::Location;
    use pb::source::Location as L;
    pb::Source {
        location: Some(match l {
            Location::Page(n) => L::Page(*n),
            Location::Sheet { name, cell } => L::Cell(pb::SheetCell { sheet: name.clone(), cell: cell.clone() }),
            Location::Slide(n) => L::Slide(*n),
            Location::Part(p) => L::Part(p.clone()),
        }),
    }
}

/// What an engine-pool job hands back once the record is durable: the response
/// without its receipt, the verdict, the append's outcome and when it was asked.
type Done = (pb::ScreenResponse, Verdict, Result<Appended, crate::audit::AuditError>, Instant);

/// Screens one request end to end: permit, engine pool, audit record.
///
/// One hand-off each way: the engine-pool job screens, builds the record body
/// and submits it to the audit writer itself, and the writer thread sends the
/// response and its durable record back to this task.
async fn screen_one(
    inner: Arc<Inner>,
    actor: String,
    req: pb::ScreenRequest,
    rid: String,
    deadline: tokio::time::Instant,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<pb::ScreenResponse, ServiceError> {
    let started = Instant::now();
    let over = |_| ServiceError::Deadline(started.elapsed().as_millis());
    // Unary calls beyond the limit are shed at once; streams bring their permit.
    let permit = match permit {
        Some(p) => p,
        None => inner.permits.clone().try_acquire_owned().map_err(|_| {
            inner.metrics.rejected("overloaded");
            ServiceError::Overloaded(inner.max_concurrency)
        })?,
    };
    inner.metrics.in_flight().inc();
    let _gauge = scopeguard(inner.clone());
    // Released by whichever comes first: the engine done with the document, or
    // this request ending (deadline, cancellation) while it is still queued.
    let slot = Arc::new(Slot(std::sync::Mutex::new(Some(permit))));
    let _slot = SlotGuard(slot.clone());
    // Set when this request ends for any reason (answered, deadline, caller
    // gone, stream reset: the future is dropped): the engine stops screening
    // a document no one waits for, within a few thousand characters.
    let cancelled = Arc::new(AtomicBool::new(false));
    let _cancel = CancelOnDrop(cancelled.clone());
    let (tx, rx) = oneshot::channel::<Result<Done, ServiceError>>();
    let s = inner.screener();
    let job_inner = inner.clone();
    let job_rid = rid.clone();
    let std_deadline = deadline.into_std();
    inner.pool.spawn(move || {
        // Past the deadline, or the caller gone: skip the work (and the record).
        if tx.is_closed() {
            job_inner.metrics.stopped("queued");
            return;
        }
        let r = if Instant::now() >= std_deadline {
            job_inner.metrics.stopped("queued");
            Err(ServiceError::Deadline(0))
        } else {
            let budget = Budget::unlimited().with_deadline(std_deadline).with_flag(cancelled);
            std::panic::catch_unwind(AssertUnwindSafe(|| screen_work(&s, &job_inner, req, &job_rid, &budget)))
                .unwrap_or_else(|_| {
                    tracing::error!(request_id = %job_rid, "panic while screening; the request fails with INTERNAL");
                    Err(ServiceError::Internal(job_rid.clone()))
                })
                .inspect_err(|e| {
                    if matches!(e, ServiceError::Stopped) {
                        job_inner.metrics.stopped("screening");
                    }
                })
        };
        // The permit bounds the documents being screened, not those being recorded.
        slot.release();
        match r {
            // A verdict past its deadline is not recorded: the caller is told
            // DEADLINE_EXCEEDED (as when its task times out first).
            Ok(_) if Instant::now() >= std_deadline || tx.is_closed() => {
                let _ = tx.send(Err(ServiceError::Deadline(0)));
            }
            Ok(Screened { response, body, verdict }) => {
                let t = Instant::now();
                job_inner.writer.append_then(Some(actor), body, move |a| {
                    let _ = tx.send(Ok((response, verdict, a, t)));
                });
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    });
    let (mut response, verdict, appended, t) = tokio::time::timeout_at(deadline, rx)
        .await
        .map_err(over)?
        .map_err(|_| ServiceError::Internal(rid.clone()))?
        .map_err(|e| match e {
            ServiceError::Deadline(_) | ServiceError::Stopped => ServiceError::Deadline(started.elapsed().as_millis()),
            e => e,
        })?;
    let appended = appended.map_err(|e| ServiceError::AuditUnavailable(e.to_string()))?;
    inner.metrics.audit_append(t.elapsed().as_secs_f64());
    inner.metrics.verdict(verdict.as_str());
    response.audit = Some(receipt(&inner, appended));
    Ok(response)
}

/// A request's server slot (one of `max_concurrency` permits), shared by the
/// request's task and its engine-pool job.
struct Slot(std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>);
impl Slot {
    fn release(&self) {
        let p = match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(e) => e.into_inner().take(),
        };
        drop(p);
    }
}
/// Releases the slot when the request's task ends.
struct SlotGuard(Arc<Slot>);
impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Sets a request's cancellation flag when its task ends (or is dropped).
struct CancelOnDrop(Arc<AtomicBool>);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Decrements the in-flight gauge when dropped.
struct Gauge(Arc<Inner>);
impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.metrics.in_flight().dec();
    }
}
fn scopeguard(inner: Arc<Inner>) -> Gauge {
    Gauge(inner)
}

impl Api {
    fn deadline<T>(&self, req: &Request<T>) -> tokio::time::Instant {
        let from = req.extensions().get::<super::Arrived>().map_or_else(tokio::time::Instant::now, |a| a.0);
        from + effective_timeout(grpc_timeout(req.metadata()), self.inner.timeout)
    }

    /// Metrics, one log line, and the status.
    fn finish<T>(
        &self,
        m: Method,
        rid: &str,
        t0: Instant,
        r: Result<T, ServiceError>,
        verdict: Option<&'static str>,
    ) -> Result<Response<T>, Status> {
        let secs = t0.elapsed().as_secs_f64();
        let r = r.map_err(|e| e.status());
        let code = r.as_ref().map_or_else(|s| s.code(), |_| tonic::Code::Ok);
        self.inner.metrics.request(m.as_str(), code, secs);
        let latency_us = (secs * 1e6) as u64;
        match &r {
            Ok(_) => tracing::info!(request_id = rid, method = m.as_str(), code = "OK", verdict = verdict.unwrap_or(""), latency_us, "request"),
            Err(s) if code == tonic::Code::Internal || code == tonic::Code::Unavailable => {
                tracing::error!(request_id = rid, method = m.as_str(), code = super::metrics::code_name(code), error = s.message(), latency_us, "request failed")
            }
            Err(s) => tracing::info!(request_id = rid, method = m.as_str(), code = super::metrics::code_name(code), error = s.message(), latency_us, "request refused"),
        }
        r.map(|v| {
            let mut resp = Response::new(v);
            if let Ok(v) = rid.parse() {
                resp.metadata_mut().insert("x-request-id", v);
            }
            resp
        })
    }

    /// The start of every call: its start time and request id, and the caller's
    /// identity once the token and role are checked (a refusal is counted and
    /// logged here).
    fn admit<T>(&self, req: &Request<T>, m: Method) -> Result<(Instant, String, Identity), Status> {
        let t0 = Instant::now();
        let rid = request_id(req.metadata());
        let who = self.authorize(req, m, &rid, t0)?;
        Ok((t0, rid, who))
    }

    fn authorize<T>(&self, req: &Request<T>, m: Method, rid: &str, t0: Instant) -> Result<Identity, Status> {
        self.inner.auth.authorize(req.metadata(), m).inspect_err(|s| {
            self.inner.metrics.request(m.as_str(), s.code(), t0.elapsed().as_secs_f64());
            tracing::info!(request_id = rid, method = m.as_str(), code = super::metrics::code_name(s.code()), error = s.message(), "request refused");
        })
    }

    /// Runs blocking store reads off the reactor.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&crate::audit::store::SqliteStore) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let g = inner.reader.lock().map_err(|_| ServiceError::AuditUnavailable("store lock poisoned".into()))?;
            f(&g)
        })
        .await
        .map_err(|_| ServiceError::Internal("store read".into()))?
    }

    /// The signing key in force.
    fn public_key(&self) -> Result<pb::PublicKey, ServiceError> {
        let l = self.inner.log.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pem = crate::audit::keys::public_pem(&l.key)?;
        Ok(pb::PublicKey { pem, ed25519_hex: hex::encode(l.key.as_bytes()), key_id: l.key_id.clone(), origin: l.origin.clone() })
    }

    async fn checkpoint_for(&self, size: u64) -> Result<pb::Checkpoint, ServiceError> {
        use crate::audit::store::Store;
        // One indexed lookup, not every checkpoint the log ever wrote.
        let found = self
            .read(move |s| Ok(if size == 0 { s.latest_checkpoint()? } else { s.checkpoint_at(size)?.map(|n| (size, n)) }))
            .await?;
        let (n, note) = found.ok_or_else(|| {
            ServiceError::NotFound(if size == 0 {
                "no checkpoint yet".into()
            } else {
                format!("no checkpoint of size {size}")
            })
        })?;
        // Note body: origin, size, base64 root (C2SP tlog-checkpoint).
        let mut lines = note.lines();
        let origin = lines.next().unwrap_or("").to_owned();
        let _size = lines.next();
        let root = lines.next().and_then(crate::audit::record::unb64).map(hex::encode).unwrap_or_default();
        Ok(pb::Checkpoint { note: note.clone(), size: n, root_hash: root, origin })
    }
}

type ScreenStreamOut = Pin<Box<dyn Stream<Item = Result<pb::ScreenResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::screening_service_server::ScreeningService for Api {
    async fn screen(&self, req: Request<pb::ScreenRequest>) -> Result<Response<pb::ScreenResponse>, Status> {
        let (t0, rid, who) = self.admit(&req, Method::Screen)?;
        if *self.inner.shutdown.borrow() {
            return self.finish(Method::Screen, &rid, t0, Err(ServiceError::ShuttingDown), None);
        }
        let deadline = self.deadline(&req);
        // The token's own quota first, held until the response is ready.
        let r = match who.try_quota() {
            Ok(_quota) => screen_one(self.inner.clone(), who.actor(), req.into_inner(), rid.clone(), deadline, None).await,
            Err(max) => {
                self.inner.metrics.rejected("quota");
                Err(ServiceError::QuotaExceeded(who.name.clone(), max))
            }
        };
        let verdict = r.as_ref().ok().map(|v| match v.verdict() {
            pb::Verdict::Publish => "publish",
            pb::Verdict::Redact => "redact",
            pb::Verdict::Withhold => "withhold",
            pb::Verdict::Unspecified => "",
        });
        self.finish(Method::Screen, &rid, t0, r, verdict)
    }

    type ScreenStreamStream = ScreenStreamOut;

    async fn screen_stream(
        &self,
        req: Request<Streaming<pb::ScreenRequest>>,
    ) -> Result<Response<Self::ScreenStreamStream>, Status> {
        let (t0, rid, who) = self.admit(&req, Method::ScreenStream)?;
        let arrived = req.extensions().get::<super::Arrived>().map_or_else(tokio::time::Instant::now, |a| a.0);
        let stream_deadline =
            grpc_timeout(req.metadata()).map(|d| arrived + effective_timeout(Some(d), Duration::MAX));
        // Each message's reserved bytes (`max_inflight_bytes`) go with its document.
        let grants = req.extensions().get::<super::inflight::CallGrants>().cloned();
        let mut input = req.into_inner();
        let inner = self.inner.clone();
        let (out_tx, out_rx) = mpsc::channel::<Result<pb::ScreenResponse, Status>>(STREAM_WINDOW);
        type Job = tokio::task::JoinHandle<(Result<pb::ScreenResponse, ServiceError>, f64)>;
        let (job_tx, mut job_rx) = mpsc::channel::<Job>(STREAM_WINDOW);
        let mut shutdown = inner.shutdown.clone();
        let api = self.clone();
        // Reader: one task per document, at most STREAM_WINDOW in flight.
        let reader_rid = rid.clone();
        let reader_inner = inner.clone();
        let out_tx2 = out_tx.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let next = tokio::select! {
                    m = input.message() => m,
                    _ = async { let _ = shutdown.wait_for(|v| *v).await; } => {
                        let _ = out_tx2.send(Err(ServiceError::ShuttingDown.status())).await;
                        break;
                    }
                };
                match next {
                    Ok(Some(doc)) => {
                        let grant = grants.as_ref().and_then(|g| g.take());
                        let item_rid = format!("{reader_rid}.{n}");
                        n += 1;
                        let mut deadline = tokio::time::Instant::now() + reader_inner.timeout;
                        if let Some(d) = stream_deadline {
                            deadline = deadline.min(d);
                        }
                        // Wait for a slot of the token's quota and then of the
                        // server before reading on (backpressure).
                        let permit = tokio::select! {
                            p = tokio::time::timeout_at(deadline, async {
                                let q = who.quota().await;
                                reader_inner.permits.clone().acquire_owned().await.map(|p| (q, p))
                            }) => p,
                            _ = async { let _ = shutdown.wait_for(|v| *v).await; } => {
                                let _ = out_tx2.send(Err(ServiceError::ShuttingDown.status())).await;
                                break;
                            }
                        };
                        let h = match permit {
                            Ok(Ok((quota, p))) => {
                                let f = screen_one(reader_inner.clone(), who.actor(), doc, item_rid, deadline, Some(p));
                                let t = Instant::now();
                                tokio::spawn(async move {
                                    let r = f.await;
                                    drop((quota, grant));
                                    (r, t.elapsed().as_secs_f64())
                                })
                            }
                            Ok(Err(_)) => break,
                            Err(_) => {
                                reader_inner.metrics.rejected("overloaded");
                                let m = reader_inner.max_concurrency;
                                tokio::spawn(async move { (Err(ServiceError::Overloaded(m)), 0.0) })
                            }
                        };
                        // The writer gone (the caller reset the stream): the
                        // document's task is stopped, not left to run.
                        if let Err(e) = job_tx.send(h).await {
                            e.0.abort();
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(s) => {
                        let _ = out_tx2.send(Err(s)).await;
                        break;
                    }
                }
            }
        });
        // Writer: responses in request order; a failed document is a response
        // with `error` set and no verdict.
        tokio::spawn(async move {
            let mut docs = 0u64;
            while let Some(mut h) = job_rx.recv().await {
                // The caller gone (the stream reset: its response is dropped):
                // stop this document and those behind it (dropping their
                // tasks cancels their screening) rather than wait for them.
                let done = tokio::select! {
                    r = &mut h => Some(r),
                    _ = out_tx.closed() => None,
                };
                let Some(done) = done else {
                    h.abort();
                    job_rx.close();
                    while let Ok(h) = job_rx.try_recv() {
                        h.abort();
                    }
                    break;
                };
                let item = match done {
                    Ok((Ok(r), secs)) => {
                        api.inner.metrics.request("ScreenStream.document", tonic::Code::Ok, secs);
                        r
                    }
                    Ok((Err(e), secs)) => {
                        let s = e.status();
                        api.inner.metrics.request("ScreenStream.document", s.code(), secs);
                        pb::ScreenResponse {
                            request_id: format!("{rid}.{docs}"),
                            error: Some(pb::Error { code: s.code() as i32, message: s.message().to_owned() }),
                            ..Default::default()
                        }
                    }
                    Err(_) => pb::ScreenResponse {
                        request_id: format!("{rid}.{docs}"),
                        error: Some(pb::Error {
                            code: tonic::Code::Internal as i32,
                            message: ServiceError::Internal(format!("{rid}.{docs}")).to_string(),
                        }),
                        ..Default::default()
                    },
                };
                docs += 1;
                if out_tx.send(Ok(item)).await.is_err() {
                    // The caller is gone: stop the documents still in flight
                    // (dropping their tasks cancels their screening).
                    job_rx.close();
                    while let Ok(h) = job_rx.try_recv() {
                        h.abort();
                    }
                    break;
                }
            }
            api.finish::<()>(Method::ScreenStream, &rid, t0, Ok(()), None).ok();
            tracing::debug!(request_id = %rid, documents = docs, "stream closed");
        });
        let out = tokio_stream::wrappers::ReceiverStream::new(out_rx);
        Ok(Response::new(Box::pin(out) as ScreenStreamOut))
    }

    async fn get_audit_record(&self, req: Request<pb::GetAuditRecordRequest>) -> Result<Response<pb::AuditRecord>, Status> {
        let (t0, rid, _) = self.admit(&req, Method::GetAuditRecord)?;
        let key = req.into_inner().key;
        let r = async {
            let key = key.ok_or_else(|| ServiceError::Invalid("set record_id or seq".into()))?;
            let e = self
                .read(move |s| {
                    Ok(match key {
                        pb::get_audit_record_request::Key::RecordId(id) => s.get_id(&id)?,
                        pb::get_audit_record_request::Key::Seq(n) => s.get_seq(n)?,
                    })
                })
                .await?
                .ok_or_else(|| ServiceError::NotFound("no such audit record".into()))?;
            let kind = serde_json::from_slice::<Record>(&e.bytes).map(|r| r.kind.as_str()).unwrap_or("");
            Ok(pb::AuditRecord {
                record_id: e.id,
                seq: e.seq,
                r#type: kind.into(),
                record_hash: hex::encode(e.hash),
                canonical: e.bytes,
            })
        }
        .await;
        self.finish(Method::GetAuditRecord, &rid, t0, r, None)
    }

    async fn get_checkpoint(&self, req: Request<pb::GetCheckpointRequest>) -> Result<Response<pb::Checkpoint>, Status> {
        let (t0, rid, _) = self.admit(&req, Method::GetCheckpoint)?;
        let r = self.checkpoint_for(req.into_inner().size).await;
        self.finish(Method::GetCheckpoint, &rid, t0, r, None)
    }

    async fn get_inclusion_proof(&self, req: Request<pb::GetInclusionProofRequest>) -> Result<Response<pb::InclusionProof>, Status> {
        let (t0, rid, _) = self.admit(&req, Method::GetInclusionProof)?;
        let q = req.into_inner();
        let r = async {
            let cp = self.checkpoint_for(q.tree_size).await?;
            if q.seq >= cp.size {
                return Err(ServiceError::NotFound(format!(
                    "record {} is not covered by the checkpoint of size {} yet; retry after the next checkpoint",
                    q.seq, cp.size
                )));
            }
            let (size, seq) = (cp.size, q.seq);
            let inner = self.inner.clone();
            // The subtree cache makes a proof O(log n) hash reads; it catches
            // up with the store (only the records it has not seen) first.
            let (leaf, path) = self
                .read(move |s| {
                    use crate::audit::store::Store;
                    let mut tree = inner.tree.lock().map_err(|_| ServiceError::AuditUnavailable("proof cache lock poisoned".into()))?;
                    let mut read = |a: u64, b: u64| -> Result<Vec<crate::audit::merkle::Hash>, crate::audit::AuditError> {
                        let v = s.hashes_range(a, b)?;
                        if v.len() as u64 != b - a {
                            return Err(crate::audit::AuditError::Store(format!("store holds {} of records {a}..{b}", v.len())));
                        }
                        Ok(v)
                    };
                    while tree.size() < size {
                        let from = tree.size();
                        tree.extend(&read(from, size.min(from + PROOF_CACHE_CHUNK))?);
                    }
                    let leaf = read(seq, seq + 1)?[0];
                    let path = tree
                        .inclusion_proof(seq, size, &mut read)?
                        .ok_or_else(|| ServiceError::Invalid(format!("seq {seq} out of range")))?;
                    Ok((leaf, path))
                })
                .await?;
            Ok(pb::InclusionProof {
                seq: q.seq,
                tree_size: size,
                leaf_hash: hex::encode(leaf),
                path: path.iter().map(hex::encode).collect(),
                checkpoint: Some(cp),
            })
        }
        .await;
        self.finish(Method::GetInclusionProof, &rid, t0, r, None)
    }

    async fn submit_review(&self, req: Request<pb::SubmitReviewRequest>) -> Result<Response<pb::SubmitReviewResponse>, Status> {
        let (t0, rid, who) = self.admit(&req, Method::SubmitReview)?;
        let q = req.into_inner();
        let r = async {
            use crate::audit::record::Decision;
            let decision = match pb::ReviewDecision::try_from(q.decision).unwrap_or(pb::ReviewDecision::Unspecified) {
                pb::ReviewDecision::Confirm => Decision::Confirm,
                pb::ReviewDecision::Dismiss => Decision::Dismiss,
                pb::ReviewDecision::Override => Decision::Override,
                pb::ReviewDecision::Unspecified => {
                    return Err(ServiceError::Invalid("decision must be confirm, dismiss or override".into()));
                }
            };
            let verdict = match pb::Verdict::try_from(q.verdict).unwrap_or(pb::Verdict::Unspecified) {
                pb::Verdict::Unspecified => None,
                pb::Verdict::Publish => Some(Verdict::Publish),
                pb::Verdict::Redact => Some(Verdict::Redact),
                pb::Verdict::Withhold => Some(Verdict::Withhold),
            };
            // The reviewer is the authenticated principal and its roles come
            // from the token configuration, not from the request; without
            // tokens (loopback only) the request's names are recorded as
            // unauthenticated.
            let (reviewer, role) = if self.inner.auth.enabled() {
                (who.name.clone(), who.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","))
            } else {
                (q.reviewer, if q.role.trim().is_empty() { q.role } else { format!("{} (unauthenticated)", q.role.trim()) })
            };
            let sub = Submission {
                record_id: q.record_id,
                decision,
                verdict,
                reviewer,
                role,
                comment: Some(q.comment).filter(|c| !c.is_empty()),
                added: q.added.into_iter().map(|a| AddedFinding { kind: a.kind, start: a.start, end: a.end }).collect(),
            };
            let screener = self.inner.screener();
            let (body, verdict) = self.read(move |s| Ok(review::prepare(s as &dyn Store, &sub, &screener)?)).await?;
            let a = self.inner.writer.append_as(Some(who.actor()), Body::Review(body)).await?;
            Ok(pb::SubmitReviewResponse { audit: Some(receipt(&self.inner, a)), verdict: verdict_pb(verdict).into() })
        }
        .await;
        self.finish(Method::SubmitReview, &rid, t0, r, None)
    }

    async fn list_rules(&self, req: Request<pb::ListRulesRequest>) -> Result<Response<pb::ListRulesResponse>, Status> {
        let (t0, rid, _) = self.admit(&req, Method::ListRules)?;
        let s = self.inner.screener();
        let rules = s
            .pack()
            .rules
            .iter()
            .map(|r| pb::Rule {
                id: r.id.to_string(),
                category: r.category.as_str().into(),
                kind: r.kind.as_str().into(),
                action: action_pb(r.action.as_str()).into(),
                basis: r.basis.to_string(),
                description: r.description.clone(),
            })
            .collect();
        let r = Ok(pb::ListRulesResponse { rules_sha256: s.rules_sha256().to_owned(), rules });
        self.finish(Method::ListRules, &rid, t0, r, None)
    }

    async fn get_public_key(&self, req: Request<pb::GetPublicKeyRequest>) -> Result<Response<pb::PublicKey>, Status> {
        let (t0, rid, _) = self.admit(&req, Method::GetPublicKey)?;
        let r = self.public_key();
        self.finish(Method::GetPublicKey, &rid, t0, r, None)
    }

    async fn rotate_key(&self, req: Request<pb::RotateKeyRequest>) -> Result<Response<pb::RotateKeyResponse>, Status> {
        let (t0, rid, who) = self.admit(&req, Method::RotateKey)?;
        let r = async {
            let _one_at_a_time = self.inner.reload.lock().await;
            let rot = self.inner.writer.rotate(&self.inner.data_dir, Some(who.actor())).await?;
            let previous = {
                let mut l = self.inner.log.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                l.key = rot.key;
                std::mem::replace(&mut l.key_id, rot.key_id.clone())
            };
            tracing::info!(request_id = %rid, previous_key_id = %previous, key_id = %rot.key_id, seq = rot.record.seq, "audit signing key rotated");
            Ok(pb::RotateKeyResponse { previous_key_id: previous, key: Some(self.public_key()?), audit: Some(receipt(&self.inner, rot.record)) })
        }
        .await;
        self.finish(Method::RotateKey, &rid, t0, r, None)
    }

    async fn reload_rules(&self, req: Request<pb::ReloadRulesRequest>) -> Result<Response<pb::ReloadRulesResponse>, Status> {
        let (t0, rid, who) = self.admit(&req, Method::ReloadRules)?;
        let r = self.inner.reload_rules(&who.actor()).await.map(|(prev, now, n, a)| pb::ReloadRulesResponse {
            previous_rules_sha256: prev,
            rules_sha256: now,
            rules: n as u64,
            audit: Some(receipt(&self.inner, a)),
        });
        self.finish(Method::ReloadRules, &rid, t0, r, None)
    }
}


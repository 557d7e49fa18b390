//! `mishen screen`: the contract CI jobs and the scorer rely on; keep it stable.
//!
//! ```text
//! mishen screen [--format text|jsonl|sarif|html] [--redact-to DIR] [--rules DIR]
//!               [--fail-on redact|withhold|never] [--data-dir DIR] [--max-size BYTES]
//!               [--exclude GLOB]... [--encoding LABEL] [--threads N] [--reveal]
//!               [--baseline FILE] [--write-baseline FILE] [--baseline-key FILE]
//!               [--allow FILE]... [--stdin-name NAME] PATH...
//! ```
//!
//! Inputs (files, directories, zip/tar/tar.gz archives, `-`) are enumerated by
//! one producer thread (`walk.rs`) in a stable order and screened in parallel on
//! a rayon pool; the bytes in flight are bounded, so memory does not grow with
//! the size of an archive. Results are written in input order.
//!
//! With `--data-dir DIR`, every screened document gets one signed audit record
//! (see `mishen::audit`), appended in one transaction per batch (group commit);
//! a document's output, with `"audit": {"record_id", "seq"}`, is printed only
//! after its record is durable. Without it nothing is recorded.

use super::walk::{self, Job, Payload, Producer};
use anyhow::Context;
use clap::{Args, ValueEnum};
use mishen::audit::keys::LogKey;
use mishen::audit::record::{Body, DocMeta, ScreeningBody, screening_body};
use mishen::baseline::{AllowList, BaselineEntry, BaselineFile, Fingerprinter};
use mishen::ingest::{self, Limits};
use mishen::report::jsonl::{AuditRef, DocumentRecord, add_provenance, document_record};
use mishen::report::text::{Summary, write_document};
use mishen::report::{html, sarif};
use mishen::{Screener, Verdict};
use rayon::iter::{ParallelBridge, ParallelIterator};
use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
    Sarif,
    Html,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Redact,
    Withhold,
    Never,
}

#[derive(Args)]
pub struct ScreenArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the redacted text of every document that is not withheld under DIR.
    #[arg(long, value_name = "DIR")]
    redact_to: Option<PathBuf>,
    /// Overlay the embedded rule packs with the packs in DIR.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// The verdict from which the exit status is non-zero.
    #[arg(long, value_enum, default_value = "redact")]
    fail_on: FailOn,
    /// Documents (files, archive entries, stdin) larger than this many bytes are
    /// not read: they are withheld as unreadable.
    #[arg(long, value_name = "BYTES", default_value_t = mishen::screen::MAX_DOCUMENT_BYTES as u64)]
    max_size: u64,
    /// Record every screening in the signed audit log in DIR (created on first use).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Document title for the audit record (default: the first non-blank line).
    #[arg(long, value_name = "TITLE", requires = "data_dir")]
    title: Option<String>,
    /// 文号 for the audit record (default: extracted from the text).
    #[arg(long, value_name = "文号", requires = "data_dir")]
    doc_number: Option<String>,
    /// Skip paths matching GLOB (repeatable; `.mishenignore` syntax).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Decode text documents with this encoding instead of detecting it (a BOM still wins).
    #[arg(long, value_name = "LABEL")]
    encoding: Option<String>,
    /// Worker threads (default: the number of cores, at most 8).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// HTML report: show the flagged values instead of masking them.
    #[arg(long)]
    reveal: bool,
    /// Findings whose fingerprints are in FILE do not count.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the fingerprints of this run's findings to FILE.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// The HMAC key of baseline fingerprints (default: $MISHEN_BASELINE_KEY).
    #[arg(long, value_name = "FILE")]
    baseline_key: Option<PathBuf>,
    /// Values that may be published (repeatable): one per line, optional `kind:` prefix.
    #[arg(long, value_name = "FILE")]
    allow: Vec<PathBuf>,
    /// Name (and so format) of standard input, e.g. `bundle.zip` or `a.docx`.
    #[arg(long, value_name = "NAME")]
    stdin_name: Option<String>,
    /// Files, directories (recursive) or archives; `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// What the workers share.
struct Ctx<'a> {
    s: &'a Screener,
    limits: Limits,
    encoding: Option<String>,
    want_redacted: bool,
    html: bool,
    reveal: bool,
    audit: Option<AuditCtx>,
    allow: Option<AllowList>,
    fingerprinter: Option<Fingerprinter>,
    baseline: Option<HashSet<String>>,
}

/// What `screen_one` needs to build audit record bodies.
struct AuditCtx {
    key: LogKey,
    meta: DocMeta,
}

struct Done {
    record: DocumentRecord,
    redacted: Option<String>,
    redact_rel: PathBuf,
    bytes: u64,
    verdict: Verdict,
    audit: Option<ScreeningBody>,
    html: Option<String>,
    fingerprints: Vec<(String, String, String)>,
}

/// Bytes handed to workers and not yet screened: the producer waits above `cap`.
struct InFlight {
    used: Mutex<u64>,
    cv: Condvar,
    cap: u64,
}

impl InFlight {
    fn acquire(&self, n: u64) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *u > 0 && *u + n > self.cap {
            u = self.cv.wait(u).unwrap_or_else(|e| e.into_inner());
        }
        *u += n;
    }

    fn release(&self, n: u64) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *u = u.saturating_sub(n);
        self.cv.notify_all();
    }
}

/// Bytes of documents in flight between the walker and the workers.
const IN_FLIGHT_BYTES: u64 = 64 << 20;

fn screen_job(c: &Ctx<'_>, job: Job) -> Result<Done, String> {
    let s = c.s;
    let mask = s.pack().policy.mask;
    let (bytes, extracted) = match job.payload {
        Payload::Error(e) => return Err(e),
        Payload::Refused { why, sha256, len } => {
            let mut screening = s.unreadable(&[], &why);
            screening.content_sha256 = sha256;
            let record = document_record(&job.display, None, &screening, s.rules_sha256(), mask);
            let audit = audit_body(c.audit.as_ref(), s, None, len, &screening);
            let html = c.html.then(|| html::document(&record, None, &[], mask, c.reveal));
            return Ok(Done { record, redacted: None, redact_rel: job.redact_rel, bytes: len, verdict: Verdict::Withhold, audit, html, fingerprints: Vec::new() });
        }
        Payload::Bytes(b) => {
            let e = ingest::extract(&job.hint, c.encoding.as_deref(), &b, &c.limits);
            (b, e)
        }
    };
    let (extracted, mut screening) = match extracted {
        Ok(e) => {
            let sc = s.screen_extracted(&e);
            (Some(e), sc)
        }
        Err(u) => (None, s.unreadable(&bytes, &u.to_string())),
    };
    // The content hash is that of the document's bytes, not of the extracted text.
    screening.content_sha256 = mishen::screen::sha256_hex(&bytes);
    let text = extracted.as_ref().map(|e| e.text.as_str());
    let applied = match text {
        Some(t) => mishen::baseline::apply(&mut screening, t, c.allow.as_ref(), c.fingerprinter.as_ref(), c.baseline.as_ref()),
        None => Default::default(),
    };
    let verdict = screening.decision.verdict;
    let redacted = match (text, c.want_redacted && verdict != Verdict::Withhold) {
        (Some(t), true) => Some(s.redact(t, &screening)),
        _ => None,
    };
    let mut record = document_record(&job.display, text, &screening, s.rules_sha256(), mask);
    if let Some(e) = &extracted {
        add_provenance(&mut record, e, &screening.findings);
    }
    record.baselined = applied.baselined;
    if let (Some(fp), Some(t)) = (&c.fingerprinter, text) {
        for (r, f) in record.findings.iter_mut().zip(&screening.findings) {
            r.fingerprint = Some(fp.fingerprint(f, t, &screening.content_sha256));
        }
    }
    let audit = audit_body(c.audit.as_ref(), s, text, bytes.len() as u64, &screening);
    let html = c.html.then(|| html::document(&record, text, &screening.findings, mask, c.reveal));
    Ok(Done {
        record,
        redacted,
        redact_rel: job.redact_rel,
        bytes: bytes.len() as u64,
        verdict,
        audit,
        html,
        fingerprints: applied.fingerprints,
    })
}

fn audit_body(ctx: Option<&AuditCtx>, s: &Screener, text: Option<&str>, bytes: u64, screening: &mishen::Screening) -> Option<ScreeningBody> {
    ctx.map(|c| {
        let mask = s.pack().policy.mask;
        screening_body(text, bytes, screening, s.rules_sha256(), &c.key, &c.meta, mask)
    })
}

fn baseline_key(a: &ScreenArgs) -> anyhow::Result<Option<Fingerprinter>> {
    let key = match (&a.baseline_key, std::env::var_os("MISHEN_BASELINE_KEY")) {
        (Some(f), _) => std::fs::read(f).with_context(|| format!("cannot read the baseline key {}", f.display()))?,
        (None, Some(v)) => v.into_encoded_bytes(),
        (None, None) => {
            if a.baseline.is_some() || a.write_baseline.is_some() {
                anyhow::bail!(
                    "--baseline and --write-baseline need a key for the HMAC of values: set MISHEN_BASELINE_KEY or pass --baseline-key FILE (16 bytes or more, kept out of the repository)"
                );
            }
            return Ok(None);
        }
    };
    Ok(Some(Fingerprinter::new(&key)?))
}

/// Output sink for the chosen format.
struct Output<W: Write> {
    w: W,
    format: Format,
    sarif: Option<sarif::StreamWriter<Vec<u8>>>,
}

impl<W: Write> Output<W> {
    fn document(&mut self, d: &Done) -> anyhow::Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.w, &d.record)?;
                self.w.write_all(b"\n")?;
            }
            Format::Text => write_document(&mut self.w, &d.record)?,
            Format::Html => self.w.write_all(d.html.as_deref().unwrap_or("").as_bytes())?,
            Format::Sarif => {
                if let Some(sw) = self.sarif.as_mut() {
                    sw.document(&d.record)?;
                    // Hand what was written so far to the real output.
                    let buf = sw.buffer();
                    self.w.write_all(buf)?;
                    buf.clear();
                }
            }
        }
        Ok(())
    }
}

pub fn run(a: ScreenArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    if let Some(l) = &a.encoding {
        ingest::text::encoding_for_label(l).map_err(|e| anyhow::anyhow!("--encoding: {e}"))?;
    }
    let exclude = walk::globs(&a.exclude, "--exclude")?;
    let s = super::screener(a.rules.as_deref())?;
    let fingerprinter = baseline_key(&a)?;
    let baseline = match &a.baseline {
        Some(f) => Some(BaselineFile::read(f)?.fingerprints()),
        None => None,
    };
    let allow = if a.allow.is_empty() {
        None
    } else {
        let mut all = AllowList::default();
        for f in &a.allow {
            all.extend(AllowList::read(f)?);
        }
        Some(all)
    };
    if let Some(d) = &a.redact_to {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut log = match &a.data_dir {
        Some(d) => Some(mishen::audit::AuditLog::open(d, &super::actor()).with_context(|| format!("cannot open the audit log in {}", d.display()))?),
        None => None,
    };
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let limits = Limits { max_file_bytes: a.max_size, ..Limits::default() };
    let ctx = Ctx {
        s: &s,
        limits: limits.clone(),
        encoding: a.encoding.clone(),
        want_redacted: a.redact_to.is_some(),
        html: a.format == Format::Html,
        reveal: a.reveal,
        audit: log.as_ref().map(|l| AuditCtx {
            key: l.keys().log_key.clone(),
            meta: DocMeta { title: a.title.clone(), doc_number: a.doc_number.clone() },
        }),
        allow,
        fingerprinter,
        baseline,
    };
    // A parser panic is caught and reported per document; keep its message (which
    // may quote document bytes) off stderr.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("mishen: internal error caught at {at}; the document is withheld as unreadable");
    }));

    let stdout_tty = std::io::stdout().is_terminal();
    let progress = if std::io::stderr().is_terminal() {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} document(s) {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        p.enable_steady_tick(std::time::Duration::from_millis(200));
        p
    } else {
        indicatif::ProgressBar::hidden()
    };

    let mut out = Output { w: std::io::BufWriter::new(std::io::stdout().lock()), format: a.format, sarif: None };
    match a.format {
        Format::Html => html::header(&mut out.w, a.reveal)?,
        Format::Sarif => {
            let mut sw = sarif::StreamWriter::begin(Vec::new(), s.pack())?;
            out.w.write_all(sw.buffer())?;
            sw.buffer().clear();
            out.sarif = Some(sw);
        }
        _ => {}
    }
    let mut summary = Summary::default();
    let mut worst: Option<Verdict> = None;
    let mut errors: Vec<String> = Vec::new();
    let mut baseline_out: Vec<BaselineEntry> = Vec::new();
    let in_flight = InFlight { used: Mutex::new(0), cv: Condvar::new(), cap: IN_FLIGHT_BYTES };
    let batch_size = if log.is_some() { 32 } else { 1 };

    // Set when the consumer stops early (a closed pipe, a write error): the
    // walk ends instead of screening the rest of an archive for nobody.
    let stop = AtomicBool::new(false);
    let result: anyhow::Result<()> = std::thread::scope(|sc| {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads * 2);
        let (res_tx, res_rx) = mpsc::channel::<(u64, Result<Done, String>)>();
        let in_flight = &in_flight;
        let stop = &stop;
        let (paths, exclude, limits, stdin_name) = (&a.paths, &exclude, &limits, a.stdin_name.as_deref());
        sc.spawn(move || {
            let mut send = |job: Job| {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                if let Payload::Bytes(b) = &job.payload {
                    in_flight.acquire(b.len() as u64);
                }
                job_tx.send(job).is_ok()
            };
            Producer { limits, exclude, stdin_name, seq: 0, send: &mut send }.run(paths);
        });
        let ctx = &ctx;
        let pool = &pool;
        sc.spawn(move || {
            pool.install(|| {
                job_rx.into_iter().par_bridge().for_each_with(res_tx, |tx, job| {
                    let seq = job.seq;
                    let held = match &job.payload {
                        Payload::Bytes(b) => b.len() as u64,
                        _ => 0,
                    };
                    let display = job.display.clone();
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| screen_job(ctx, job)))
                        .unwrap_or_else(|_| Err(format!("{display}: internal error while screening")));
                    in_flight.release(held);
                    let _ = tx.send((seq, r));
                });
            });
        });

        // Consumer: reorder, record, write.
        let mut next = 0u64;
        let mut pending: BTreeMap<u64, Result<Done, String>> = BTreeMap::new();
        let mut batch: Vec<Done> = Vec::new();
        let mut flush = |batch: &mut Vec<Done>, out: &mut Output<std::io::BufWriter<std::io::StdoutLock<'_>>>| -> anyhow::Result<()> {
            if let Some(log) = log.as_mut() {
                let bodies: Vec<Body> = batch.iter().filter_map(|d| d.audit.clone()).map(Body::Screening).collect();
                let mut appended = log.append(bodies).context("cannot record the screenings in the audit log")?.into_iter();
                for d in batch.iter_mut() {
                    if d.audit.is_some() {
                        let r = appended.next().context("audit log returned fewer records than appended")?;
                        d.record.audit = Some(AuditRef { record_id: r.id, seq: r.seq });
                    }
                }
            }
            for d in batch.drain(..) {
                if let (Some(dir), Some(red)) = (&a.redact_to, &d.redacted) {
                    let dest = dir.join(&d.redact_rel);
                    if let Some(parent) = dest.parent() {
                        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
                    }
                    std::fs::write(&dest, red).with_context(|| format!("cannot write {}", dest.display()))?;
                }
                if stdout_tty {
                    // Same terminal as the bar: clear it while the document is printed.
                    progress.suspend(|| -> anyhow::Result<()> {
                        out.document(&d)?;
                        out.w.flush().map_err(anyhow::Error::from)
                    })?;
                } else {
                    out.document(&d)?;
                }
                summary.add(&d.record, d.bytes);
                worst = worst.max(Some(d.verdict));
                if a.write_baseline.is_some() {
                    for (fingerprint, rule, kind) in &d.fingerprints {
                        baseline_out.push(BaselineEntry { fingerprint: fingerprint.clone(), rule: rule.clone(), kind: kind.clone(), path: d.record.path.clone() });
                    }
                }
                progress.inc(1);
            }
            progress.set_message(format!("{:.1} MB", summary.bytes as f64 / 1e6));
            Ok(())
        };
        let consume = || -> anyhow::Result<()> {
            for (seq, r) in res_rx {
                pending.insert(seq, r);
                while let Some(r) = pending.remove(&next) {
                    next += 1;
                    match r {
                        Ok(d) => batch.push(d),
                        Err(e) => {
                            progress.suspend(|| eprintln!("mishen: {e}"));
                            errors.push(e);
                        }
                    }
                    if batch.len() >= batch_size {
                        flush(&mut batch, &mut out)?;
                    }
                }
            }
            flush(&mut batch, &mut out)
        };
        let r = consume();
        if r.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        r?;
        if !pending.is_empty() {
            anyhow::bail!("internal error: {} result(s) lost", pending.len());
        }
        Ok(())
    });
    progress.finish_and_clear();
    result?;
    if let Some(log) = log {
        log.close().context("cannot write the closing audit checkpoint")?;
    }
    if let Some(f) = &a.write_baseline {
        BaselineFile { version: String::new(), findings: baseline_out }.write(f)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let line = summary.line(secs);
    match a.format {
        Format::Text => writeln!(out.w, "{line}")?,
        Format::Html => {
            html::footer(&mut out.w, &line)?;
            eprintln!("mishen: {line}");
        }
        Format::Sarif => {
            if let Some(sw) = out.sarif.take() {
                let tail = sw.finish(s.rules_sha256(), secs)?;
                out.w.write_all(&tail)?;
            }
            eprintln!("mishen: {line}");
        }
        Format::Jsonl => eprintln!("mishen: {line}"),
    }
    out.w.flush()?;
    if !errors.is_empty() {
        return Ok(super::EXIT_ERROR);
    }
    Ok(exit_code(worst, a.fail_on))
}

fn exit_code(worst: Option<Verdict>, fail_on: FailOn) -> i32 {
    let reached = |v: Verdict| match fail_on {
        FailOn::Never => false,
        FailOn::Redact => v >= Verdict::Redact,
        FailOn::Withhold => v >= Verdict::Withhold,
    };
    match worst {
        Some(v) if reached(v) => match v {
            Verdict::Withhold => 3,
            Verdict::Redact => 1,
            Verdict::Publish => 0,
        },
        _ => 0,
    }
}

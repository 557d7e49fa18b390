//! `mishen screen`: the contract CI jobs and the scorer rely on; keep it stable.
//!
//! ```text
//! mishen screen [--format text|jsonl|sarif|html] [--redact-to DIR] [--rules DIR]
//!               [--fail-on redact|withhold|never] [--data-dir DIR] [--max-size BYTES]
//!               [--exclude GLOB]... [--no-default-excludes] [--encoding LABEL]
//!               [--threads N] [--reveal]
//!               [--baseline FILE] [--write-baseline FILE] [--baseline-key FILE]
//!               [--allow FILE]... [--stdin-name NAME] PATH...
//! ```
//!
//! Inputs (files, directories, zip/tar/tar.gz archives, `-`) are enumerated by
//! one producer thread (`walk.rs`) in a stable order and screened in parallel on
//! a rayon pool; the bytes in flight are bounded, so memory does not grow with
//! the size of an archive. Results are written in input order.
//!
//! **One decision per document.** `Screener::screen` decides the verdict, the
//! findings and their actions; the redacted copy, the report and the audit
//! record are all made from that screening, untouched. `--baseline` and
//! `--allow` (`mishen::baseline`) only say which findings the CI gate does not
//! count: the exit status is computed from each document's `gate` verdict, the
//! worst action among its findings that no entry covers. A finding that
//! withholds can never be covered; an entry for one is refused when its file is
//! read, before any document is screened.
//!
//! `--redact-to DIR` is staged and committed by `redact_to.rs` (collisions,
//! stale copies, the manifest: specified there).
//!
//! **Exit status** (`exit_code`): 0 nothing reaches `--fail-on`; 1 redact; 3 a
//! document withheld for its content; 4 a document withheld as unreadable and
//! none for its content (so a CI job tells "classified" from "could not read");
//! 2 an error, which takes precedence.
//!
//! With `--data-dir DIR`, every screened document gets one signed audit record
//! (see `mishen::audit`), appended in one transaction per batch (group commit);
//! a document's output, with `"audit": {"record_id", "seq"}`, is printed only
//! after its record is durable. Without it nothing is recorded.

use super::redact_to::{self, Outcome, RedactDir};
use super::walk::{self, Job, Payload, Producer};
use anyhow::Context;
use clap::{Args, ValueEnum};
use mishen::audit::keys::BodyKeys;
use mishen::audit::record::{Body, DocMeta, ScreeningBody, screening_body};
use mishen::baseline::{AllowList, BaselineEntry, BaselineFile, Fingerprinter};
use mishen::ingest::{self, Limits};
use mishen::report::jsonl::{AuditRef, DocumentRecord, add_acceptance, add_provenance, document_record};
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
    /// Also screen `.git`, `.hg`, `.svn`, `.DS_Store`, `Thumbs.db`, `desktop.ini` and `~$*` in directories.
    #[arg(long)]
    no_default_excludes: bool,
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
    write_baseline: bool,
}

/// What `screen_one` needs to build audit record bodies.
struct AuditCtx {
    key: BodyKeys,
    meta: DocMeta,
}

struct Done {
    record: DocumentRecord,
    redacted: Option<redact_to::Copy>,
    redact_rel: PathBuf,
    bytes: u64,
    /// The document's verdict.
    verdict: Verdict,
    /// What the CI gate counts (the verdict unless a baseline or allow-list covers a finding).
    gate: Gate,
    audit: Option<ScreeningBody>,
    html: Option<String>,
    /// For `--write-baseline`.
    baseline_entries: Vec<BaselineEntry>,
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

/// What the exit status counts for one document, from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Gate {
    Publish,
    Redact,
    /// Withheld because it could not be read (nothing in it was found).
    Unreadable,
    /// Withheld for what it contains: a mark, a secret term…
    Withhold,
}

impl Gate {
    /// The gate for a document whose gate verdict is `v`; `unreadable` when it could not be read.
    fn of(v: Verdict, unreadable: bool) -> Gate {
        match v {
            Verdict::Withhold if unreadable => Gate::Unreadable,
            Verdict::Withhold => Gate::Withhold,
            Verdict::Redact => Gate::Redact,
            Verdict::Publish => Gate::Publish,
        }
    }
}

/// Bytes of documents in flight between the walker and the workers.
const IN_FLIGHT_BYTES: u64 = 64 << 20;

/// A document that could not be screened (an I/O error): exit status 2.
struct Failed {
    display: String,
    rel: PathBuf,
    message: String,
}

fn screen_job(c: &Ctx<'_>, job: Job) -> Result<Done, Failed> {
    let s = c.s;
    let mask = s.pack().policy.mask;
    let (bytes, extracted) = match job.payload {
        Payload::Error(message) => return Err(Failed { display: job.display, rel: job.redact_rel, message }),
        Payload::Refused { why, sha256, len } => {
            let mut screening = s.unreadable(&[], &why);
            screening.content_sha256 = sha256;
            let record = document_record(&job.display, None, &screening, s.rules_sha256(), mask);
            let audit = audit_body(c.audit.as_ref(), s, None, len, &screening, &job.display);
            let html = c.html.then(|| html::document(&record, None, &[], mask, c.reveal, s.pack().policy.header_lines));
            return Ok(Done { record, redacted: None, redact_rel: job.redact_rel, bytes: len, verdict: Verdict::Withhold, gate: Gate::Unreadable, audit, html, baseline_entries: Vec::new() });
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
    // Decided once, above: the verdict, the redaction and the audit record come
    // from `screening` as the Screener made it. The baseline and the allow-list
    // only say what the CI gate counts (`mishen::baseline`).
    let screening = screening;
    let text = extracted.as_ref().map(|e| e.text.as_str());
    let verdict = screening.decision.verdict;
    let redacted = match (&extracted, c.want_redacted && verdict != Verdict::Withhold) {
        (Some(e), true) => Some(redact_to::Copy::of(s.redact(&e.text, &screening), &bytes, e, &c.limits)),
        _ => None,
    };
    let applied = mishen::baseline::apply(&screening, text, s.pack(), c.allow.as_ref(), c.fingerprinter.as_ref(), c.baseline.as_ref());
    let mut record = document_record(&job.display, text, &screening, s.rules_sha256(), mask);
    if let Some(e) = &extracted {
        add_provenance(&mut record, e, &screening.findings);
    }
    add_acceptance(&mut record, &applied);
    let baseline_entries = if c.write_baseline { mishen::baseline::entries(&screening, &applied, s.pack(), &job.display) } else { Vec::new() };
    let audit = audit_body(c.audit.as_ref(), s, text, bytes.len() as u64, &screening, &job.display);
    let html = c.html.then(|| html::document(&record, text, &screening.findings, mask, c.reveal, s.pack().policy.header_lines));
    let gate = Gate::of(applied.gate, record.unreadable.is_some());
    Ok(Done {
        record,
        redacted,
        redact_rel: job.redact_rel,
        bytes: bytes.len() as u64,
        verdict,
        gate,
        audit,
        html,
        baseline_entries,
    })
}

/// The screening record's body; the document's path is its id in the record.
fn audit_body(ctx: Option<&AuditCtx>, s: &Screener, text: Option<&str>, bytes: u64, screening: &mishen::Screening, path: &str) -> Option<ScreeningBody> {
    ctx.map(|c| {
        let meta = DocMeta { document_id: Some(path.to_owned()), ..c.meta.clone() };
        screening_body(text, bytes, screening, s, &c.key, &meta)
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
    /// The HTML report's index, written (and shown at the top) at the end.
    index: Vec<html::IndexEntry>,
}

impl<W: Write> Output<W> {
    fn document(&mut self, d: &Done) -> anyhow::Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.w, &d.record)?;
                self.w.write_all(b"\n")?;
            }
            Format::Text => write_document(&mut self.w, &d.record)?,
            Format::Html => {
                let record = d.record.audit.as_ref().map(|a| (a.record_id.as_str(), a.seq));
                self.w.write_all(html::with_record(d.html.as_deref().unwrap_or(""), record).as_bytes())?;
                self.index.push(html::IndexEntry::of(&d.record));
            }
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
    // Entries that would cover a withholding finding are refused here, naming them.
    let baseline = match &a.baseline {
        Some(f) => {
            let b = BaselineFile::read(f)?;
            b.check(&f.display().to_string(), s.pack())?;
            Some(b.fingerprints())
        }
        None => None,
    };
    let allow = if a.allow.is_empty() {
        None
    } else {
        let mut all = AllowList::default();
        for f in &a.allow {
            all.extend(AllowList::read(f, &s)?);
        }
        Some(all)
    };
    let output_dir = match &a.redact_to {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            Some(std::fs::canonicalize(d).with_context(|| format!("cannot resolve {}", d.display()))?)
        }
        None => None,
    };
    let mut redact_dir = a.redact_to.as_deref().map(RedactDir::open).transpose()?;
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
            key: l.keys().body_keys(),
            meta: DocMeta { title: a.title.clone(), doc_number: a.doc_number.clone(), document_id: None },
        }),
        allow,
        fingerprinter,
        baseline,
        write_baseline: a.write_baseline.is_some(),
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

    let mut out = Output { w: std::io::BufWriter::new(std::io::stdout().lock()), format: a.format, sarif: None, index: Vec::new() };
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
    let mut worst: Option<Gate> = None;
    let mut errors: Vec<String> = Vec::new();
    let mut baseline_out: Vec<BaselineEntry> = Vec::new();
    let in_flight = InFlight { used: Mutex::new(0), cv: Condvar::new(), cap: IN_FLIGHT_BYTES };
    let batch_size = if log.is_some() { 32 } else { 1 };

    // Set when the consumer stops early (a closed pipe, a write error): the
    // walk ends instead of screening the rest of an archive for nobody.
    let stop = AtomicBool::new(false);
    let result: anyhow::Result<()> = std::thread::scope(|sc| {
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads * 2);
        let (res_tx, res_rx) = mpsc::channel::<(u64, Result<Done, Failed>)>();
        let in_flight = &in_flight;
        let stop = &stop;
        let (paths, exclude, limits, stdin_name) = (&a.paths, &exclude, &limits, a.stdin_name.as_deref());
        let (default_excludes, output_dir) = (!a.no_default_excludes, output_dir.clone());
        let producer = sc.spawn(move || {
            let mut send = |job: Job| {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                if let Payload::Bytes(b) = &job.payload {
                    in_flight.acquire(b.len() as u64);
                }
                job_tx.send(job).is_ok()
            };
            let mut p = Producer { limits, exclude, stdin_name, seq: 0, send: &mut send, default_excludes, output_dir, skipped: walk::Skipped::default() };
            p.run(paths);
            p.skipped
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
                    let (display, rel) = (job.display.clone(), job.redact_rel.clone());
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| screen_job(ctx, job)))
                        .unwrap_or_else(|_| Err(Failed { message: format!("{display}: internal error while screening"), display, rel }));
                    in_flight.release(held);
                    let _ = tx.send((seq, r));
                });
            });
        });

        // Consumer: reorder, record, write.
        let mut next = 0u64;
        let mut pending: BTreeMap<u64, Result<Done, Failed>> = BTreeMap::new();
        let mut batch: Vec<Result<Done, Failed>> = Vec::new();
        let mut flush = |batch: &mut Vec<Result<Done, Failed>>, out: &mut Output<std::io::BufWriter<std::io::StdoutLock<'_>>>| -> anyhow::Result<()> {
            if let Some(log) = log.as_mut() {
                let bodies: Vec<Body> = batch.iter().filter_map(|r| r.as_ref().ok()?.audit.clone()).map(Body::Screening).collect();
                let mut appended = log.append(bodies).context("cannot record the screenings in the audit log")?.into_iter();
                for d in batch.iter_mut().filter_map(|r| r.as_mut().ok()) {
                    if d.audit.is_some() {
                        let r = appended.next().context("audit log returned fewer records than appended")?;
                        d.record.audit = Some(AuditRef { record_id: r.id, seq: r.seq });
                    }
                }
            }
            for item in batch.drain(..) {
                let d = match item {
                    Ok(d) => d,
                    Err(f) => {
                        progress.suspend(|| eprintln!("mishen: {}", f.message));
                        if let Some(rd) = redact_dir.as_mut() {
                            let _ = rd.add(&f.display, &f.rel, Outcome::Failed(&f.message));
                        }
                        errors.push(f.message);
                        continue;
                    }
                };
                if let Some(rd) = redact_dir.as_mut() {
                    let outcome = Outcome::Screened {
                        verdict: d.verdict,
                        redacted: d.redacted.as_ref(),
                        unreadable: d.record.unreadable.as_deref(),
                        content_sha256: &d.record.content_sha256,
                    };
                    if let Err(e) = rd.add(&d.record.path, &d.redact_rel, outcome) {
                        progress.suspend(|| eprintln!("mishen: {e}"));
                        errors.push(e);
                    }
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
                worst = worst.max(Some(d.gate));
                baseline_out.extend(d.baseline_entries);
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
                    batch.push(r);
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
        let skipped = producer.join().map_err(|_| anyhow::anyhow!("internal error: the directory walk panicked"))?;
        summary.skipped_by_default = skipped.by_default;
        summary.excluded = skipped.excluded;
        Ok(())
    });
    progress.finish_and_clear();
    result?;
    if let Some(log) = log {
        log.close().context("cannot write the closing audit checkpoint")?;
    }
    if let Some(rd) = redact_dir {
        rd.commit()?;
    }
    if let Some(f) = &a.write_baseline {
        BaselineFile { version: String::new(), findings: baseline_out }.write(f)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let line = summary.line(secs);
    match a.format {
        Format::Text => writeln!(out.w, "{line}")?,
        Format::Html => {
            html::footer(&mut out.w, &line, &out.index)?;
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

/// The exit status (README's exit table): the worst gate reached, 3 withheld
/// for its content, 4 withheld as unreadable (and nothing withheld for its
/// content), 1 redact; 0 when nothing reaches `--fail-on`.
fn exit_code(worst: Option<Gate>, fail_on: FailOn) -> i32 {
    let reached = |g: Gate| match fail_on {
        FailOn::Never => false,
        FailOn::Redact => g >= Gate::Redact,
        FailOn::Withhold => g >= Gate::Unreadable,
    };
    match worst {
        Some(g) if reached(g) => match g {
            Gate::Withhold => 3,
            Gate::Unreadable => 4,
            Gate::Redact => 1,
            Gate::Publish => 0,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_tell_classified_from_unreadable() {
        let worst = |gs: &[Gate]| gs.iter().copied().max();
        for (fail_on, gates, code) in [
            (FailOn::Redact, &[Gate::Publish][..], 0),
            (FailOn::Redact, &[Gate::Redact, Gate::Publish], 1),
            (FailOn::Redact, &[Gate::Redact, Gate::Unreadable], 4),
            (FailOn::Redact, &[Gate::Unreadable, Gate::Withhold], 3),
            (FailOn::Withhold, &[Gate::Redact], 0),
            (FailOn::Withhold, &[Gate::Unreadable], 4),
            (FailOn::Withhold, &[Gate::Withhold, Gate::Unreadable], 3),
            (FailOn::Never, &[Gate::Withhold], 0),
        ] {
            assert_eq!(exit_code(worst(gates), fail_on), code, "{gates:?}");
        }
        assert_eq!(Gate::of(Verdict::Withhold, true), Gate::Unreadable);
        assert_eq!(Gate::of(Verdict::Withhold, false), Gate::Withhold);
    }
}

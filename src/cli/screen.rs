//! `mishen screen`: the contract CI jobs and the scorer rely on; keep it stable.
//!
//! ```text
//! mishen screen [--format text|jsonl] [--redact-to DIR] [--rules DIR]
//!               [--fail-on redact|withhold|never] [--data-dir DIR] PATH...
//! ```
//!
//! With `--data-dir DIR`, every screened document gets one signed audit record
//! (see `mishen::audit`), appended in one transaction per batch (group commit);
//! a document's output, with `"audit": {"record_id", "seq"}`, is printed only
//! after its record is durable. Without it nothing is recorded.

use anyhow::Context;
use clap::{Args, ValueEnum};
use mishen::audit::keys::LogKey;
use mishen::audit::record::{Body, DocMeta, ScreeningBody, screening_body};
use mishen::report::jsonl::{AuditRef, DocumentRecord, document_record};
use mishen::report::text::{Summary, write_document};
use mishen::{Screener, Verdict};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Jsonl,
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
    /// Files larger than this many bytes are not read: they are withheld as unreadable.
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
    /// Files or directories (recursive); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// One input document: where it came from and where its redacted copy goes.
struct Input {
    display: String,
    source: Source,
    redact_rel: PathBuf,
}

enum Source {
    File(PathBuf),
    Stdin,
}

/// Extensions read as UTF-8 text; everything else is reported unreadable.
const TEXT_EXT: &[&str] = &["txt", "md", "text", "markdown"];

fn collect_inputs(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<Input> {
    let mut inputs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input {
                display: "-".into(),
                source: Source::Stdin,
                redact_rel: "stdin.txt".into(),
            });
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files: Vec<PathBuf> = Vec::new();
                for e in walkdir::WalkDir::new(p)
                    .follow_links(false)
                    .sort_by_file_name()
                {
                    match e {
                        Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => errors.push(format!(
                            "cannot read directory entry under {}: {e}",
                            p.display()
                        )),
                    }
                }
                for f in files {
                    let rel = f
                        .strip_prefix(p)
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|_| f.clone());
                    inputs.push(Input {
                        display: f.display().to_string(),
                        source: Source::File(f),
                        redact_rel: rel,
                    });
                }
            }
            Ok(_) => {
                let name = p
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| "document.txt".into());
                inputs.push(Input {
                    display: p.display().to_string(),
                    source: Source::File(p.clone()),
                    redact_rel: name,
                });
            }
            Err(e) => errors.push(format!("{}: {e}", p.display())),
        }
    }
    inputs
}

struct Done {
    record: DocumentRecord,
    redacted: Option<String>,
    bytes: u64,
    verdict: Verdict,
    /// The audit record body, with `--data-dir`.
    audit: Option<ScreeningBody>,
}

/// What `screen_one` needs to build audit record bodies.
struct AuditCtx {
    key: LogKey,
    meta: DocMeta,
}

fn audit_body(
    ctx: Option<&AuditCtx>,
    s: &Screener,
    text: Option<&str>,
    bytes: u64,
    screening: &mishen::Screening,
) -> Option<ScreeningBody> {
    ctx.map(|c| {
        let mask = s.pack().policy.mask;
        screening_body(text, bytes, screening, s.rules_sha256(), &c.key, &c.meta, mask)
    })
}

/// A file over the size limit: never read whole, hashed in a stream, withheld.
fn too_large(s: &Screener, input: &Input, p: &Path, len: u64, max_size: u64, ctx: Option<&AuditCtx>) -> Result<Done, String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| format!("{}: {e}", p.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    let why = format!("file of {len} bytes exceeds the limit of {max_size} bytes");
    let mut screening = s.unreadable(&[], &why);
    screening.content_sha256 = hex::encode(h.finalize());
    let record = document_record(&input.display, None, &screening, s.rules_sha256(), s.pack().policy.mask);
    let audit = audit_body(ctx, s, None, len, &screening);
    Ok(Done { record, redacted: None, bytes: len, verdict: Verdict::Withhold, audit })
}

fn screen_one(s: &Screener, input: &Input, want_redacted: bool, max_size: u64, ctx: Option<&AuditCtx>) -> Result<Done, String> {
    let bytes = match &input.source {
        Source::Stdin => {
            let mut b = Vec::new();
            std::io::stdin()
                .lock()
                .take(max_size.saturating_add(1))
                .read_to_end(&mut b)
                .map_err(|e| format!("stdin: {e}"))?;
            if b.len() as u64 > max_size {
                // Never read whole: hash the rest as a stream.
                use sha2::Digest;
                let mut h = sha2::Sha256::new();
                h.update(&b);
                let mut total = b.len() as u64;
                let mut buf = vec![0u8; 1 << 20];
                let mut stdin = std::io::stdin().lock();
                loop {
                    let n = stdin.read(&mut buf).map_err(|e| format!("stdin: {e}"))?;
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                    h.update(&buf[..n]);
                }
                let why = format!("standard input of {total} bytes exceeds the limit of {max_size} bytes");
                let mut screening = s.unreadable(&[], &why);
                screening.content_sha256 = hex::encode(h.finalize());
                let record = document_record(&input.display, None, &screening, s.rules_sha256(), s.pack().policy.mask);
                let audit = audit_body(ctx, s, None, total, &screening);
                return Ok(Done { record, redacted: None, bytes: total, verdict: Verdict::Withhold, audit });
            }
            b
        }
        Source::File(p) => {
            let len = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?.len();
            if len > max_size {
                return too_large(s, input, p, len, max_size, ctx);
            }
            std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?
        }
    };
    let ext = match &input.source {
        Source::Stdin => Some("txt".to_owned()),
        Source::File(p) => p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase),
    };
    let (text, screening) = match ext.as_deref() {
        Some(e) if TEXT_EXT.contains(&e) => s.screen_utf8(&bytes),
        Some(e) => (
            None,
            s.unreadable(
                &bytes,
                &format!("unsupported file type .{e} (this build reads UTF-8 .txt and .md)"),
            ),
        ),
        None => (
            None,
            s.unreadable(
                &bytes,
                "unsupported file type (no extension; this build reads UTF-8 .txt and .md)",
            ),
        ),
    };
    let verdict = screening.decision.verdict;
    let redacted = match (&text, want_redacted && verdict != Verdict::Withhold) {
        (Some(t), true) => Some(s.redact(t, &screening)),
        _ => None,
    };
    let record = document_record(
        &input.display,
        text.as_deref(),
        &screening,
        s.rules_sha256(),
        s.pack().policy.mask,
    );
    let audit = audit_body(ctx, s, text.as_deref(), bytes.len() as u64, &screening);
    Ok(Done {
        record,
        redacted,
        bytes: bytes.len() as u64,
        verdict,
        audit,
    })
}

pub fn run(a: ScreenArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let s = super::screener(a.rules.as_deref())?;
    let mut errors = Vec::new();
    let inputs = collect_inputs(&a.paths, &mut errors);
    for e in &errors {
        eprintln!("mishen: {e}");
    }
    if let Some(d) = &a.redact_to {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut log = match &a.data_dir {
        Some(d) => Some(
            mishen::audit::AuditLog::open(d, &super::actor())
                .with_context(|| format!("cannot open the audit log in {}", d.display()))?,
        ),
        None => None,
    };
    let ctx = log.as_ref().map(|l| AuditCtx {
        key: l.keys().log_key.clone(),
        meta: DocMeta { title: a.title.clone(), doc_number: a.doc_number.clone() },
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut summary = Summary::default();
    let mut worst: Option<Verdict> = None;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    for chunk in inputs.chunks(threads * 8) {
        let results: Vec<Result<Done, String>> = std::thread::scope(|sc| {
            let per = chunk.len().div_ceil(threads);
            let handles: Vec<_> = chunk
                .chunks(per.max(1))
                .map(|part| {
                    let s = &s;
                    let ctx = ctx.as_ref();
                    let want = a.redact_to.is_some();
                    let max_size = a.max_size;
                    sc.spawn(move || {
                        part.iter()
                            .map(|i| screen_one(s, i, want, max_size, ctx))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![Err("internal error: screening thread panicked".into())]
                    })
                })
                .collect()
        });
        // Group commit: one transaction for the batch, durable before any output.
        let mut results = results;
        if let Some(log) = log.as_mut() {
            let bodies: Vec<Body> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().and_then(|d| d.audit.clone()))
                .map(Body::Screening)
                .collect();
            let mut appended = log.append(bodies).context("cannot record the screenings in the audit log")?.into_iter();
            for d in results.iter_mut().flatten() {
                if d.audit.is_some() {
                    let a = appended.next().context("audit log returned fewer records than appended")?;
                    d.record.audit = Some(AuditRef { record_id: a.id, seq: a.seq });
                }
            }
        }
        for (input, r) in chunk.iter().zip(results) {
            let done = match r {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("mishen: {e}");
                    errors.push(e);
                    continue;
                }
            };
            if let (Some(dir), Some(red)) = (&a.redact_to, &done.redacted) {
                let dest = dir.join(&input.redact_rel);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&dest, red)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
            }
            match a.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut out, &done.record)?;
                    out.write_all(b"\n")?;
                }
                Format::Text => write_document(&mut out, &done.record)?,
            }
            summary.add(&done.record, done.bytes);
            worst = worst.max(Some(done.verdict));
        }
    }
    if let Some(log) = log {
        log.close().context("cannot write the closing audit checkpoint")?;
    }
    let secs = started.elapsed().as_secs_f64();
    if a.format == Format::Text {
        writeln!(out, "{}", summary.line(secs))?;
    } else {
        eprintln!("mishen: {}", summary.line(secs));
    }
    out.flush()?;
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

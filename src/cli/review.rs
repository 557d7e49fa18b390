//! `mishen review RECORD_ID --decision confirm|dismiss|override ...`: a reviewer's
//! signed decision, appended as a `review` record that cites the screening record
//! by id, sequence number and record hash.
//!
//! - `confirm`: the engine's verdict stands (`--verdict`, if given, must equal it);
//! - `dismiss`: the findings are dismissed; the verdict defaults to `publish`;
//! - `override`: `--verdict` is required and replaces the engine's.
//!
//! `--add KIND:START-END` (repeatable) records a finding the engine missed, by
//! kind and character span only. The command line authenticates no one: the
//! record's role says `(unauthenticated)` (over gRPC with tokens, the
//! reviewer is the authenticated token).
//!
//! `mishen review show RECORD_ID --file PATH [--reveal]` re-opens a screening
//! record against the original file: the file's SHA-256 must be the one the
//! record holds (else exit 2, nothing shown), then every finding is printed
//! with its line, kind, rule, action and confidence and the passage in its
//! context (the value masked unless `--reveal`), followed by the review
//! records that cite it. The log holds no document text: the file is the
//! reviewer's, and only its hash is checked against the record.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mishen::Verdict;
use mishen::audit::record::{AddedFinding, Body, Decision};
use mishen::audit::review::{self, Submission};
use mishen::audit::store::Store;
use mishen::audit::{AuditError, AuditLog};
use std::path::PathBuf;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: Option<ReviewCommand>,
    /// Id (UUID) of the screening record reviewed.
    #[arg(required = true)]
    record_id: Option<String>,
    /// confirm, dismiss or override.
    #[arg(long, required = true)]
    decision: Option<Decision>,
    /// The final verdict: publish, redact or withhold.
    #[arg(long)]
    verdict: Option<Verdict>,
    /// Reviewer identity.
    #[arg(long, required = true)]
    reviewer: Option<String>,
    /// Reviewer role (e.g. 保密审查员, 分管负责人).
    #[arg(long, required = true)]
    role: Option<String>,
    /// Handling opinion.
    #[arg(long)]
    comment: Option<String>,
    /// A finding the engine missed: KIND:START-END in characters (repeatable).
    #[arg(long, value_name = "KIND:START-END")]
    add: Vec<AddedFinding>,
    #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Show a screening record's findings in the original file (checked by its hash).
    Show(ShowArgs),
}

#[derive(Args)]
struct ShowArgs {
    /// Id (UUID) of the screening record.
    record_id: String,
    /// The document that was screened.
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    /// Show the flagged values instead of masking them.
    #[arg(long)]
    reveal: bool,
    /// Characters of context on each side of a passage.
    #[arg(long, default_value_t = 20)]
    context: usize,
    #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

pub fn run(a: ReviewArgs) -> anyhow::Result<i32> {
    if let Some(ReviewCommand::Show(s)) = a.command {
        return show(s);
    }
    let (Some(record_id), Some(decision), Some(reviewer), Some(role)) = (a.record_id, a.decision, a.reviewer, a.role) else {
        bail!("review needs RECORD_ID, --decision, --reviewer and --role (or `review show`)");
    };
    let store = super::audit::open_store(&a.data_dir)?;
    if store.get_id(&record_id)?.is_none() {
        bail!("no record with id {:?} in {}", record_id, a.data_dir.display());
    }
    // The command line authenticates no one: the record says so.
    let role = if role.trim().is_empty() { role } else { format!("{} (unauthenticated)", role.trim()) };
    let sub = Submission { record_id: record_id.clone(), decision, verdict: a.verdict, reviewer, role, comment: a.comment, added: a.add };
    let screener = super::screener(None)?;
    let (body, verdict) = review::prepare(&store, &sub, &screener).map_err(|e| match e {
        AuditError::Invalid(m) => anyhow::anyhow!(
            "{}",
            m.replace("decision override needs a verdict", "--decision override needs --verdict").replace("(the comment)", "(--comment)")
        ),
        e => e.into(),
    })?;
    drop(store);
    let mut log = AuditLog::open(&a.data_dir, &super::actor())?;
    let ap = log.append(vec![Body::Review(body)])?.pop().context("nothing appended")?;
    log.close()?;
    println!(
        "{}",
        serde_json::json!({
            "record_id": ap.id, "seq": ap.seq, "ref_id": record_id,
            "decision": decision, "verdict": verdict.as_str(),
        })
    );
    Ok(0)
}

/// `review show`: the record's findings in the file, after checking its hash.
fn show(a: ShowArgs) -> anyhow::Result<i32> {
    use mishen::audit::record::Record;
    let store = super::audit::open_store(&a.data_dir)?;
    let Some(entry) = store.get_id(&a.record_id)? else {
        bail!("no record with id {:?} in {}", mishen::span::bounded(&a.record_id, 64), a.data_dir.display());
    };
    let r = Record::parse(&entry.bytes).map_err(|why| anyhow::anyhow!("record {}: {why} (run `mishen audit verify`)", a.record_id))?;
    let Some(sc) = &r.screening else {
        let cites = r.review.as_ref().map(|v| format!("; it reviews {}", v.ref_id)).unwrap_or_default();
        bail!("record {} is a {} record, not a screening{cites}", a.record_id, r.kind.as_str());
    };
    let bytes = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let sha = mishen::screen::sha256_hex(&bytes);
    if sha != sc.document.content_sha256 {
        bail!(
            "{} is not the document record {} screened: its SHA-256 is {}, the record's {}",
            a.file.display(),
            a.record_id,
            &sha[..16],
            &sc.document.content_sha256.get(..16).unwrap_or("")
        );
    }
    let hint = a.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let e = mishen::ingest::extract(&hint, None, &bytes, &mishen::ingest::Limits::default())
        .map_err(|u| anyhow::anyhow!("{}: {u}", a.file.display()))?;
    let chars: Vec<(usize, char)> = e.text.char_indices().collect();
    if chars.len() as u64 != sc.document.chars {
        bail!(
            "{} reads as {} characters, the record's document had {} (another reader version or encoding: pass the file the record was made from)",
            a.file.display(),
            chars.len(),
            sc.document.chars
        );
    }
    let mask = super::screener(None)?.pack().policy.mask;
    // The text as shown: every flagged value masked (in the context of the
    // others too) unless --reveal.
    let mut shown: Vec<char> = chars.iter().map(|&(_, c)| c).collect();
    if !a.reveal {
        for f in &sc.findings {
            for c in shown.iter_mut().take(f.end as usize).skip(f.start as usize) {
                if !c.is_whitespace() {
                    *c = mask;
                }
            }
        }
    }
    let n_chars = shown.len();
    let piece = |from: usize, to: usize| -> String { shown[from.min(n_chars)..to.min(n_chars)].iter().map(|&c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }).collect() };
    let byte_at = |c: u64| chars.get(c as usize).map_or(e.text.len(), |&(b, _)| b);
    let lines = mishen::span::LineIndex::new(&e.text);
    println!(
        "record {} (seq {}) · screening · verdict {} · {} finding(s) · {} · file matches the record (sha256 {})",
        r.id,
        r.seq,
        sc.verdict,
        sc.findings.len(),
        r.time,
        &sha[..16]
    );
    if let Some(i) = &sc.document.document_id {
        println!("document: {i}");
    }
    if let Some(t) = &sc.document.title {
        println!("title: {t}");
    }
    if let Some(n) = &sc.document.doc_number {
        println!("文号: {n}");
    }
    for reason in &sc.reasons {
        println!("reason: {} ({}): {}", reason.category, reason.action, reason.summary);
    }
    for (n, f) in sc.findings.iter().enumerate() {
        let (s, t) = (f.start as usize, f.end as usize);
        println!(
            "{:>3}  line {:<5} {:<20} {:<28} {:<8} {:.2}  …{}[{}]{}…",
            n + 1,
            lines.position(byte_at(f.start)).line,
            f.kind,
            f.rule,
            f.action,
            f.confidence_permille as f64 / 1000.0,
            piece(s.saturating_sub(a.context), s),
            piece(s, t),
            piece(t, t + a.context)
        );
    }
    // The review records that cite this screening.
    let mut reviews: Vec<String> = Vec::new();
    store.scan(&mut |b| {
        if let Ok(x) = Record::parse(b)
            && let Some(v) = &x.review
            && v.ref_id == r.id
        {
            reviews.push(format!("review {} (seq {}) · {} · {} → {} · {} ({})", x.id, x.seq, x.time, v.decision.as_str(), v.verdict, v.reviewer, v.role));
        }
        Ok(())
    })?;
    if reviews.is_empty() {
        println!("no review yet");
    }
    for l in reviews {
        println!("{l}");
    }
    Ok(0)
}

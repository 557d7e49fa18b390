//! `mishen review RECORD_ID --decision confirm|dismiss|override ...`: a reviewer's
//! signed decision, appended as a `review` record that cites the screening record
//! by id, sequence number and record hash.
//!
//! - `confirm`: the engine's verdict stands (`--verdict`, if given, must equal it);
//! - `dismiss`: the findings are dismissed; the verdict defaults to `publish`;
//! - `override`: `--verdict` is required and replaces the engine's.
//!
//! `--add KIND:START-END` (repeatable) records a finding the engine missed, by
//! kind and character span only.

use anyhow::{Context, bail};
use clap::Args;
use mishen::Verdict;
use mishen::audit::AuditLog;
use mishen::audit::record::{AddedFinding, Decision, Record, ReviewBody};
use mishen::audit::store::Store;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReviewArgs {
    /// Id (UUID) of the screening record reviewed.
    record_id: String,
    /// confirm, dismiss or override.
    #[arg(long)]
    decision: Decision,
    /// The final verdict: publish, redact or withhold.
    #[arg(long)]
    verdict: Option<Verdict>,
    /// Reviewer identity.
    #[arg(long)]
    reviewer: String,
    /// Reviewer role (e.g. 保密审查员, 分管负责人).
    #[arg(long)]
    role: String,
    /// Handling opinion.
    #[arg(long)]
    comment: Option<String>,
    /// A finding the engine missed: KIND:START-END in characters (repeatable).
    #[arg(long, value_name = "KIND:START-END")]
    add: Vec<AddedFinding>,
    #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
}

fn field(name: &str, v: &str, max: usize) -> anyhow::Result<String> {
    let t = v.trim();
    if t.is_empty() {
        bail!("--{name} must not be empty");
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        bail!("--{name} must be at most {max} characters without control characters");
    }
    Ok(t.to_owned())
}

pub fn run(a: ReviewArgs) -> anyhow::Result<i32> {
    let store = super::audit::open_store(&a.data_dir)?;
    let e = store
        .get_id(&a.record_id)?
        .with_context(|| format!("no record with id {:?} in {}", a.record_id, a.data_dir.display()))?;
    let r = Record::parse(&e.bytes).map_err(|w| anyhow::anyhow!("record {}: {w}", a.record_id))?;
    let Some(s) = &r.screening else { bail!("record {} is not a screening record", a.record_id) };
    let engine: Verdict = s.verdict.parse().map_err(anyhow::Error::msg)?;
    let verdict = match (a.decision, a.verdict) {
        (Decision::Confirm, None) => engine,
        (Decision::Confirm, Some(v)) if v == engine => v,
        (Decision::Confirm, Some(v)) => bail!(
            "--decision confirm keeps the verdict {}; use --decision override to set {}",
            engine.as_str(),
            v.as_str()
        ),
        (Decision::Dismiss, v) => v.unwrap_or(Verdict::Publish),
        (Decision::Override, Some(v)) => v,
        (Decision::Override, None) => bail!("--decision override needs --verdict"),
    };
    let body = ReviewBody {
        ref_id: String::new(),
        ref_seq: 0,
        ref_hash: String::new(),
        decision: a.decision,
        verdict: verdict.as_str().into(),
        reviewer: field("reviewer", &a.reviewer, 100)?,
        role: field("role", &a.role, 100)?,
        comment: a.comment.as_deref().map(|c| field("comment", c, 2000)).transpose()?,
        added: a.add.clone(),
    };
    if let Some(f) = body.added.iter().find(|f| f.end > s.document.chars) {
        bail!("--add {}:{}-{}: the document has {} characters", f.kind, f.start, f.end, s.document.chars);
    }
    drop(store);
    let mut log = AuditLog::open(&a.data_dir, &super::actor())?;
    let ap = log.review(&a.record_id, body)?;
    log.close()?;
    println!(
        "{}",
        serde_json::json!({
            "record_id": ap.id, "seq": ap.seq, "ref_id": a.record_id,
            "decision": a.decision, "verdict": verdict.as_str(),
        })
    );
    Ok(0)
}

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
use mishen::audit::record::{AddedFinding, Body, Decision};
use mishen::audit::review::{self, Submission};
use mishen::audit::store::Store;
use mishen::audit::{AuditError, AuditLog};
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

pub fn run(a: ReviewArgs) -> anyhow::Result<i32> {
    let store = super::audit::open_store(&a.data_dir)?;
    if store.get_id(&a.record_id)?.is_none() {
        bail!("no record with id {:?} in {}", a.record_id, a.data_dir.display());
    }
    let sub = Submission {
        record_id: a.record_id.clone(),
        decision: a.decision,
        verdict: a.verdict,
        reviewer: a.reviewer,
        role: a.role,
        comment: a.comment,
        added: a.add,
    };
    let screener = super::screener(None)?;
    let (body, verdict) = review::prepare(&store, &sub, &screener).map_err(|e| match e {
        AuditError::Invalid(m) => anyhow::anyhow!("{}", m.replace("decision override needs a verdict", "--decision override needs --verdict")),
        e => e.into(),
    })?;
    drop(store);
    let mut log = AuditLog::open(&a.data_dir, &super::actor())?;
    let ap = log.append(vec![Body::Review(body)])?.pop().context("nothing appended")?;
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

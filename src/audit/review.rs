//! Reviewer decisions: checks a decision against the screening record it cites
//! and builds the `review` record body (shared by `mishen review` and the
//! service's `SubmitReview`).
//!
//! - `confirm`: the engine's verdict stands (a given verdict must equal it);
//! - `dismiss`: the findings are dismissed; the verdict defaults to `publish`;
//! - `override`: a verdict is required and replaces the engine's.
//!
//! Lifting a `withhold` (a dismissal or an override to `redact` or `publish`)
//! needs a written reason: the comment is required then.

use super::AuditError;
use super::record::{AddedFinding, Decision, Record, ReviewBody, record_hash};
use super::store::Store;
use crate::{Screener, Verdict};

/// Longest reviewer identity or role, in characters.
pub const MAX_FIELD_CHARS: usize = 100;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A reviewer's decision as submitted.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Id of the screening record reviewed.
    pub record_id: String,
    /// The decision.
    pub decision: Decision,
    /// The final verdict, if given.
    pub verdict: Option<Verdict>,
    /// Reviewer identity.
    pub reviewer: String,
    /// Reviewer role.
    pub role: String,
    /// Handling opinion.
    pub comment: Option<String>,
    /// Findings the engine missed.
    pub added: Vec<AddedFinding>,
}

fn field(name: &str, v: &str, max: usize) -> Result<String, AuditError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(AuditError::Invalid(format!("{name} must not be empty")));
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(AuditError::Invalid(format!(
            "{name} must be at most {max} characters without control characters"
        )));
    }
    Ok(t.to_owned())
}

/// Checks `sub` against the screening record it cites in `store` and returns
/// the review body (with `ref_id`, `ref_seq` and `ref_hash` filled in) and the
/// final verdict.
///
/// The comment is screened like a document and every sensitive value in it
/// masked before it is stored ([`super::meta::screen_caller_text`]): a
/// reviewer who quotes a phone number or a name does not put it in the log.
pub fn prepare(store: &dyn Store, sub: &Submission, screener: &Screener) -> Result<(ReviewBody, Verdict), AuditError> {
    let e = store
        .get_id(&sub.record_id)?
        .ok_or_else(|| AuditError::NotFound(format!("no record with id {}", crate::span::bounded(&sub.record_id, 64))))?;
    let r = Record::parse(&e.bytes)
        .map_err(|why| AuditError::Store(format!("record {}: {why}", sub.record_id)))?;
    let Some(s) = &r.screening else {
        return Err(AuditError::Invalid(format!(
            "record {} is a {} record, not a screening",
            sub.record_id,
            r.kind.as_str()
        )));
    };
    let engine: Verdict = s.verdict.parse().map_err(AuditError::Store)?;
    let verdict = match (sub.decision, sub.verdict) {
        (Decision::Confirm, None) => engine,
        (Decision::Confirm, Some(v)) if v == engine => v,
        (Decision::Confirm, Some(v)) => {
            return Err(AuditError::Invalid(format!(
                "decision confirm keeps the verdict {}; use override to set {}",
                engine.as_str(),
                v.as_str()
            )));
        }
        (Decision::Dismiss, v) => v.unwrap_or(Verdict::Publish),
        (Decision::Override, Some(v)) => v,
        (Decision::Override, None) => {
            return Err(AuditError::Invalid("decision override needs a verdict".into()));
        }
    };
    let has_reason = sub.comment.as_deref().is_some_and(|c| !c.trim().is_empty());
    if engine == Verdict::Withhold && verdict != Verdict::Withhold && !has_reason {
        return Err(AuditError::Invalid(format!(
            "lifting a withhold to {} needs a written reason (the comment)",
            verdict.as_str()
        )));
    }
    for f in &sub.added {
        if f.start >= f.end {
            return Err(AuditError::Invalid(format!("added {}:{}-{}: empty span", f.kind, f.start, f.end)));
        }
        if !crate::Kind::ALL.iter().any(|k| k.as_str() == f.kind) {
            return Err(AuditError::Invalid(format!("added finding of unknown kind {}", crate::span::bounded(&f.kind, 40))));
        }
        if f.end > s.document.chars {
            return Err(AuditError::Invalid(format!(
                "added {}:{}-{}: the document has {} characters",
                f.kind, f.start, f.end, s.document.chars
            )));
        }
    }
    let body = ReviewBody {
        ref_id: e.id.clone(),
        ref_seq: e.seq,
        ref_hash: hex::encode(record_hash(&e.bytes)),
        decision: sub.decision,
        verdict: verdict.as_str().into(),
        reviewer: field("reviewer", &sub.reviewer, MAX_FIELD_CHARS)?,
        role: field("role", &sub.role, MAX_FIELD_CHARS)?,
        comment: sub
            .comment
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| field("comment", c, MAX_COMMENT_CHARS))
            .transpose()?
            .map(|c| super::meta::screen_caller_text(screener, &c, MAX_COMMENT_CHARS).0),
        added: sub.added.clone(),
    };
    Ok((body, verdict))
}

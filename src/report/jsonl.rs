//! JSON Lines: exactly one object per document, the contract other tools rely on.
//!
//! ```text
//! {"path": "...", "verdict": "publish|redact|withhold",
//!  "findings": [{"rule", "category", "kind", "start", "end", "byte_start", "byte_end",
//!                "line", "column", "confidence", "action", "basis", "excerpt", "explanation"}],
//!  "reasons": [{"category", "action", "basis", "summary"}],
//!  "rules_sha256": "...", "content_sha256": "...", "chars": N, "unreadable": null|"why",
//!  "audit": {"record_id": "...", "seq": N}}
//! ```
//! - `audit`: only with `--data-dir`: the id and sequence number of the signed
//!   audit record, printed after the record is durable.
//! - `start`/`end`: half-open Unicode-scalar offsets into the document text (for a
//!   text file, its decoded content, unchanged); `byte_start`/`byte_end`: the same
//!   in UTF-8 bytes; `line`/`column`: 1-based, the column counted in characters.
//! - `excerpt`: up to 10 characters each side, every sensitive value masked.
//! - Nothing else in the object holds document text.

use crate::detect::Finding;
use crate::screen::Screening;
use crate::span::LineIndex;
use crate::verdict::Reason;
use serde::{Deserialize, Serialize};

/// One finding as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingRecord {
    /// Rule id.
    pub rule: String,
    /// Category.
    pub category: String,
    /// Kind.
    pub kind: String,
    /// Character start.
    pub start: usize,
    /// Character end.
    pub end: usize,
    /// Byte start.
    pub byte_start: usize,
    /// Byte end.
    pub byte_end: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// Confidence.
    pub confidence: f64,
    /// Action.
    pub action: String,
    /// Legal basis.
    pub basis: String,
    /// Masked excerpt.
    pub excerpt: String,
    /// Explanation.
    pub explanation: String,
}

/// One document as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocumentRecord {
    /// Path as given (or `-` for stdin).
    pub path: String,
    /// Verdict.
    pub verdict: String,
    /// Findings.
    pub findings: Vec<FindingRecord>,
    /// Reasons.
    pub reasons: Vec<ReasonRecord>,
    /// SHA-256 of the rule packs.
    pub rules_sha256: String,
    /// SHA-256 of the document bytes.
    pub content_sha256: String,
    /// Characters in the document text.
    pub chars: usize,
    /// Why the document could not be read, if it could not.
    pub unreadable: Option<String>,
    /// Where the screening was recorded (`mishen screen --data-dir`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditRef>,
}

/// The audit record of one screening: `"audit": {"record_id": "...", "seq": N}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditRef {
    /// The record's UUIDv7.
    pub record_id: String,
    /// Its sequence number in the log.
    pub seq: u64,
}

/// A reason as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReasonRecord {
    /// Category.
    pub category: String,
    /// Action.
    pub action: String,
    /// Legal basis.
    pub basis: String,
    /// Summary.
    pub summary: String,
}

impl From<&Reason> for ReasonRecord {
    fn from(r: &Reason) -> Self {
        ReasonRecord {
            category: r.category.clone(),
            action: r.action.clone(),
            basis: r.basis.clone(),
            summary: r.summary.clone(),
        }
    }
}

/// Converts findings to records with character offsets and masked excerpts.
pub fn finding_records(text: &str, findings: &[Finding], mask: char) -> Vec<FindingRecord> {
    let ix = LineIndex::new(text);
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let s = ix.position(f.span.start);
            let e = ix.position(f.span.end);
            FindingRecord {
                rule: f.rule.to_string(),
                category: f.category.as_str().into(),
                kind: f.kind.as_str().into(),
                start: s.char_offset,
                end: e.char_offset,
                byte_start: f.span.start,
                byte_end: f.span.end,
                line: s.line,
                column: s.column,
                confidence: f.confidence,
                action: f.action.as_str().into(),
                basis: f.basis.to_string(),
                excerpt: super::excerpt(text, findings, i, mask, 10),
                explanation: f.explanation.clone(),
            }
        })
        .collect()
}

/// Builds the record of one document.
pub fn document_record(
    path: &str,
    text: Option<&str>,
    s: &Screening,
    rules_sha256: &str,
    mask: char,
) -> DocumentRecord {
    let findings = text
        .map(|t| finding_records(t, &s.findings, mask))
        .unwrap_or_default();
    let unreadable = s
        .decision
        .reasons
        .iter()
        .find(|r| r.category == "unreadable")
        .map(|r| r.summary.clone());
    DocumentRecord {
        path: path.to_owned(),
        verdict: s.decision.verdict.as_str().into(),
        findings,
        reasons: s.decision.reasons.iter().map(ReasonRecord::from).collect(),
        rules_sha256: rules_sha256.to_owned(),
        content_sha256: s.content_sha256.clone(),
        chars: text.map_or(0, |t| t.chars().count()),
        unreadable,
        audit: None,
    }
}

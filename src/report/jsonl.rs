//! JSON Lines: exactly one object per document, the contract other tools rely on.
//!
//! ```text
//! {"path": "...", "verdict": "publish|redact|withhold",
//!  "findings": [{"rule", "category", "kind", "start", "end", "byte_start", "byte_end",
//!                "line", "column", "confidence", "action", "basis", "excerpt", "explanation"}],
//!  "reasons": [{"category", "action", "basis", "summary"}],
//!  "rules_sha256": "...", "content_sha256": "...", "chars": N, "unreadable": null|"why",
//!  "audit": {"record_id": "...", "seq": N},
//!  "format": "docx", "encoding": "gb18030",
//!  "baselined": N, "allow_listed": N, "gate": "publish|redact|withhold"}
//! ```
//! - `format`, `encoding` (text formats): present when known.
//! - `baselined`, `allow_listed`: how many of `findings` a `--baseline` entry or
//!   an `--allow` line covers (present when non-zero); each such finding says so
//!   with `"baselined": true` / `"allow_listed": true`. They stay in `findings`
//!   with their action, and `verdict` and `reasons` are the screening's own:
//!   a baseline changes only what the CI gate counts. `gate`: the verdict the
//!   exit status counted for this document (the worst action among the findings
//!   not covered), present when some finding is covered.
//! - per finding, `source`: where the passage is in the source document —
//!   `{"page": 3}` (PDF), `{"sheet": "名单", "cell": "B7"}` (xlsx), `{"slide": 2}`
//!   (pptx), `{"part": "word/header1.xml"}` (docx, or a JSON pointer); absent for
//!   plain text, whose offsets are those of the decoded file. `fingerprint`: the
//!   baseline fingerprint (`mishen::baseline`), present when a baseline key is set.
//! - `audit`: only with `--data-dir`: the id and sequence number of the signed
//!   audit record, printed after the record is durable.
//! - `start`/`end`: half-open Unicode-scalar offsets into the document text (for a
//!   text file, its decoded content, unchanged); `byte_start`/`byte_end`: the same
//!   in UTF-8 bytes; `line`/`column`: 1-based, the column counted in characters.
//! - `excerpt`: up to 10 characters each side, every sensitive value masked.
//! - Nothing else in the object holds document text.

use crate::detect::Finding;
use crate::ingest::{Extracted, Location};
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
    /// Where in the source document the passage is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRecord>,
    /// Baseline fingerprint, when a baseline key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A `--baseline` entry covers it: the CI gate does not count it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub baselined: bool,
    /// An `--allow` line covers it: the CI gate does not count it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_listed: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A finding's place in the source document; exactly the fields that apply are set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct SourceRecord {
    /// PDF page, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Spreadsheet name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Cell reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// Slide, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slide: Option<u32>,
    /// Package part or JSON pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

impl From<&Location> for SourceRecord {
    fn from(l: &Location) -> SourceRecord {
        match l {
            Location::Page(n) => SourceRecord { page: Some(*n), ..Default::default() },
            Location::Sheet { name, cell } => SourceRecord { sheet: Some(name.clone()), cell: Some(cell.clone()), ..Default::default() },
            Location::Slide(n) => SourceRecord { slide: Some(*n), ..Default::default() },
            Location::Part(p) => SourceRecord { part: Some(p.clone()), ..Default::default() },
        }
    }
}

impl std::fmt::Display for SourceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceRecord { page: Some(n), .. } => write!(f, "page {n}"),
            SourceRecord { sheet: Some(s), cell, .. } => write!(f, "sheet {s} cell {}", cell.as_deref().unwrap_or("?")),
            SourceRecord { slide: Some(n), .. } => write!(f, "slide {n}"),
            SourceRecord { part: Some(p), .. } => write!(f, "{p}"),
            _ => Ok(()),
        }
    }
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
    /// The format read (`text`, `docx`, `pdf`, …), when the document was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The text encoding decoded, for text formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Findings covered by the baseline (still listed in `findings`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub baselined: usize,
    /// Findings covered by the allow-list (still listed in `findings`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub allow_listed: usize,
    /// The verdict the CI gate counted, when a baseline or allow-list covers a finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    finding_records_in(&LineIndex::new(text), findings, mask)
}

/// [`finding_records`] over a text already indexed (one index per document,
/// shared with the audit record's spans).
pub fn finding_records_in(ix: &LineIndex<'_>, findings: &[Finding], mask: char) -> Vec<FindingRecord> {
    match finding_records_within(ix, findings, mask, &crate::Budget::unlimited()) {
        Ok(v) => v,
        Err(crate::Stopped) => unreachable!("an unlimited budget never stops"),
    }
}

/// [`finding_records_in`] within `budget` (checked every thousand findings).
pub fn finding_records_within(ix: &LineIndex<'_>, findings: &[Finding], mask: char, budget: &crate::Budget) -> Result<Vec<FindingRecord>, crate::Stopped> {
    let text = ix.text();
    let values = crate::redact::ValueWindows::new(findings);
    let mut meter = budget.meter_every(1024);
    let mut out = Vec::with_capacity(findings.len());
    for (n, f) in findings.iter().enumerate() {
        meter.at(n)?;
        out.push({
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
                excerpt: super::excerpt_in(text, &values, f, mask, 10),
                explanation: f.explanation.clone(),
                source: None,
                fingerprint: None,
                baselined: false,
                allow_listed: false,
            }
        });
    }
    Ok(out)
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
        format: None,
        encoding: None,
        baselined: 0,
        allow_listed: 0,
        gate: None,
    }
}

/// Adds what a baseline and an allow-list say (`applied`, computed over the
/// findings the record was built from): fingerprints, the per-finding flags,
/// the counts and the gate's verdict. The verdict and the findings' actions
/// are not touched.
pub fn add_acceptance(rec: &mut DocumentRecord, applied: &crate::baseline::Applied) {
    for ((r, a), p) in rec.findings.iter_mut().zip(&applied.accepted).zip(&applied.fingerprints) {
        r.baselined = a.baselined;
        r.allow_listed = a.allow_listed;
        r.fingerprint = p.clone();
    }
    rec.baselined = applied.baselined;
    rec.allow_listed = applied.allow_listed;
    if applied.accepted.iter().any(|a| a.any()) {
        rec.gate = Some(applied.gate.as_str().to_owned());
    }
}

/// Adds what ingest knows to a record built from `e.text`: the format, the
/// encoding and each finding's source location (`findings` are the ones the
/// record was built from, in the same order).
pub fn add_provenance(rec: &mut DocumentRecord, e: &Extracted, findings: &[Finding]) {
    rec.format = Some(e.format.as_str().to_owned());
    rec.encoding = e.encoding.map(str::to_owned);
    for (r, f) in rec.findings.iter_mut().zip(findings) {
        r.source = e.location_at(f.span.start).map(SourceRecord::from);
    }
}

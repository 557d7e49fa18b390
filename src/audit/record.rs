//! The audit record: version `mishen-audit/1`, serialized as RFC 8785 canonical JSON.
//!
//! See the [module documentation](super) for the full format. This file holds the
//! types, their canonical bytes, the signature and the record hash, and the
//! builders that turn a [`Screening`] into a record body without copying any
//! document text into it.

use super::AuditError;
use super::keys::{BodyKeys, KeyId, LogKey, Signer};
use crate::screen::{Screener, Screening};
use crate::span::LineIndex;
use crate::verdict::Reason;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The value of every record's `format` field.
pub const FORMAT: &str = "mishen-audit/1";
/// Prefix of the bytes a record signature covers.
pub const SIGNATURE_DOMAIN: &[u8] = b"mishen-audit-v1\0";
/// Prefix of the HMAC input of a finding fingerprint.
pub const FINGERPRINT_DOMAIN: &[u8] = b"mishen-finding-v1\0";
/// `prev` of the first record: 32 zero bytes, hex.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The engine version recorded in every screening record.
pub const ENGINE_VERSION: &str = concat!("mishen ", env!("CARGO_PKG_VERSION"));

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always [`FORMAT`].
    pub format: String,
    /// `screening` or `review`.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// UUIDv7, lower-case hyphenated.
    pub id: String,
    /// 0-based position in the log.
    pub seq: u64,
    /// RFC 3339 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub time: String,
    /// The log's origin line (also the first line of its checkpoints).
    pub origin: String,
    /// Who asked: `cli:<user>` for the command line.
    pub actor: String,
    /// Hex record hash of record `seq - 1`; 64 zeros for seq 0.
    pub prev: String,
    /// Present in `screening` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningBody>,
    /// Present in `review` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewBody>,
    /// Present in `key_rotation` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationBody>,
    /// Present in `rules_reload` records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesBody>,
    /// First 8 bytes of SHA-256 of the signing public key, hex.
    pub key_id: String,
    /// Ed25519 signature over [`SIGNATURE_DOMAIN`] || canonical bytes without `sig`, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// The closed set of record types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// One screened document.
    Screening,
    /// A reviewer's decision about an earlier screening record.
    Review,
    /// The signing key changes: signed by the old key, names the new one.
    KeyRotation,
    /// The service put new rule packs in force.
    RulesReload,
}

impl RecordKind {
    /// The snake_case name used in the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Screening => "screening",
            RecordKind::Review => "review",
            RecordKind::KeyRotation => "key_rotation",
            RecordKind::RulesReload => "rules_reload",
        }
    }
}

/// A rule reload: which packs were in force before and which are now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// SHA-256 of the packs in force before.
    pub previous_rules_sha256: String,
    /// SHA-256 of the packs in force from this record on.
    pub rules_sha256: String,
    /// Number of rules now in force.
    pub rules: u64,
}

/// A key rotation: every later record is signed by the new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationBody {
    /// Key id of the new key.
    pub new_key_id: String,
    /// The new Ed25519 public key, 32 bytes hex.
    pub new_public_key: String,
}

/// What was screened and what the engine concluded. No document text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningBody {
    /// Title and 文号.
    pub document: DocumentInfo,
    /// `publish`, `redact` or `withhold`.
    pub verdict: String,
    /// Reasons with their legal basis.
    pub reasons: Vec<ReasonEntry>,
    /// One per finding.
    pub findings: Vec<Fingerprint>,
    /// SHA-256 of the compiled rule packs.
    pub rules_sha256: String,
    /// [`ENGINE_VERSION`] of the engine that screened.
    pub engine: String,
    /// The categories the rule packs were run for (absent only in records
    /// written before the field existed, which checked every category).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// True when not every category was checked: the verdict covers only
    /// `categories`, and a `publish` is not a clearance.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// True when the response this record answered left out the redacted
    /// text, which would have made it larger than the server's message limit
    /// (the findings were complete). Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub response_truncated: bool,
}

/// Identification of the screened document (built by [`super::meta`]; no
/// word of a withheld document's body in clear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DocumentInfo {
    /// The title (caller-given or the document's own), screened and every
    /// finding in it masked; never for a withheld document (see `title_sealed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The title of a withheld document, sealed under the records key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_sealed: Option<super::seal::SealedTitle>,
    /// 文号 (`国办发〔2016〕19号`): caller-given, or the header's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_number: Option<String>,
    /// 份号 (`000027`) from the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_number: Option<String>,
    /// The caller's id for the document (gRPC `document_id`, the CLI's path),
    /// screened like a title and every value found in it masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// The classification marking of the header: level and period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking: Option<Marking>,
    /// When there is no 文号 and the document is not withheld: up to five
    /// public keywords (jieba TF-IDF over the opening 300 characters with every
    /// sensitive value masked; no names, no digits, nothing that overlaps a
    /// finding's value, nothing the screener flags on its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// SHA-256 of the document bytes.
    pub content_sha256: String,
    /// Length in bytes.
    pub bytes: u64,
    /// Length in characters (0 if it could not be read as text).
    pub chars: u64,
}

/// A 密级标志 as recorded: what a records office needs to find the paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marking {
    /// `绝密`, `机密` or `秘密`.
    pub level: String,
    /// The 保密期限 as marked (`5年`, `6个月`, `长期`, a date), or, when the
    /// mark has none, `default` (the statutory default period applies).
    pub period: String,
}

/// A reason as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonEntry {
    /// Category (or `unreadable`, `none`).
    pub category: String,
    /// Action.
    pub action: String,
    /// Legal basis.
    pub basis: String,
    /// Kinds and counts (never values).
    pub summary: String,
}

impl ScreeningBody {
    /// The length of this body's canonical bytes inside its record: the record
    /// is this plus its header fields (actor, ids, hashes, time, signature:
    /// a few hundred bytes).
    pub fn canonical_len(&self) -> usize {
        super::canonical::screening_body_len(self)
            .or_else(|| serde_json_canonicalizer::to_vec(self).ok().map(|v| v.len()))
            .unwrap_or(usize::MAX)
    }
}

impl From<&Reason> for ReasonEntry {
    fn from(r: &Reason) -> Self {
        ReasonEntry {
            category: r.category.clone(),
            action: r.action.clone(),
            basis: r.basis.clone(),
            summary: r.summary.clone(),
        }
    }
}

/// A finding without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// Rule id.
    pub rule: String,
    /// Kind.
    pub kind: String,
    /// Action.
    pub action: String,
    /// Half-open character offsets into the document text.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
    /// Confidence × 1000, rounded.
    pub confidence_permille: u64,
    /// HMAC-SHA256 under the log key of [`FINGERPRINT_DOMAIN`] || kind || 0x00 || value, hex.
    pub value_hmac: String,
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// Id of the screening record reviewed.
    pub ref_id: String,
    /// Its sequence number.
    pub ref_seq: u64,
    /// Its record hash, hex.
    pub ref_hash: String,
    /// `confirm`, `dismiss` or `override`.
    pub decision: Decision,
    /// The final verdict.
    pub verdict: String,
    /// Reviewer identity.
    pub reviewer: String,
    /// Reviewer role.
    pub role: String,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Findings the engine missed, added by the reviewer (kind and span only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<AddedFinding>,
}

/// A finding a reviewer adds: its kind and character span, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedFinding {
    /// A [`crate::Kind`] name (`person_name`, `phone`, ...).
    pub kind: String,
    /// Start (character offset).
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
}

impl std::str::FromStr for AddedFinding {
    type Err = String;
    /// `KIND:START-END`, e.g. `person_name:15-17`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad finding {s:?}: expected KIND:START-END, e.g. person_name:15-17");
        let (kind, span) = s.split_once(':').ok_or_else(bad)?;
        let (a, b) = span.split_once('-').ok_or_else(bad)?;
        let (start, end): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        if start >= end {
            return Err(format!("bad finding {s:?}: START must be below END"));
        }
        if !crate::Kind::ALL.iter().any(|k| k.as_str() == kind) {
            let all: Vec<&str> = crate::Kind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(format!("unknown kind {kind:?} (expected one of {})", all.join(", ")));
        }
        Ok(AddedFinding { kind: kind.into(), start, end })
    }
}

/// A reviewer's decision about the engine's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The engine's verdict stands.
    Confirm,
    /// The findings are dismissed (the verdict becomes the reviewer's).
    Dismiss,
    /// The reviewer sets a different verdict.
    Override,
}

impl Decision {
    /// `confirm`, `dismiss` or `override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Dismiss => "dismiss",
            Decision::Override => "override",
        }
    }
}

impl std::str::FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "confirm" => Ok(Decision::Confirm),
            "dismiss" => Ok(Decision::Dismiss),
            "override" => Ok(Decision::Override),
            _ => Err(format!("unknown decision {s:?} (expected confirm, dismiss or override)")),
        }
    }
}

/// The record's place in the log, fixed when it is appended.
#[derive(Debug, Clone)]
pub struct Header {
    /// Record id.
    pub id: uuid::Uuid,
    /// Sequence number.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// Origin line.
    pub origin: String,
    /// Actor.
    pub actor: String,
    /// Record hash of the previous record.
    pub prev: [u8; 32],
}

impl Header {
    /// A fresh UUIDv7 from `unix_ms` (random bits from the OS).
    pub fn new_id(unix_ms: u64) -> uuid::Uuid {
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            unix_ms / 1000,
            ((unix_ms % 1000) * 1_000_000) as u32,
        );
        uuid::Uuid::new_v7(ts)
    }
}

/// The body of a record: what it is about.
#[derive(Debug, Clone)]
pub enum Body {
    /// A screening.
    Screening(ScreeningBody),
    /// A review.
    Review(ReviewBody),
    /// A key rotation.
    KeyRotation(RotationBody),
    /// A rule reload.
    RulesReload(RulesBody),
}

impl Record {
    /// Builds and signs a record.
    pub fn sign(h: &Header, body: Body, signer: &Signer) -> Result<Record, AuditError> {
        Record::sign_canonical(h, body, signer).map(|(r, _)| r)
    }

    /// Builds and signs a record; also returns its canonical bytes (with `sig`).
    ///
    /// The writer's fast path: the record is written once as RFC 8785 bytes
    /// directly from its fields (`super::canonical`), right after
    /// [`SIGNATURE_DOMAIN`], so the signed message needs no copy; the stored
    /// bytes are the same with `,"sig":"…"` spliced in after `seq` (the only
    /// member between `seq` and `sig`'s successors `time` and `type`).
    /// [`Record::parse`] re-checks every stored record against the reference
    /// canonicalizer (serde_json_canonicalizer), debug builds compare every
    /// record signed here with it, and a test does so on hostile strings. A
    /// number beyond 2^53 (RFC 8785 writes it as a double) takes the reference
    /// canonicalizer for both the signed message and the stored bytes.
    pub fn sign_canonical(h: &Header, body: Body, signer: &Signer) -> Result<(Record, Vec<u8>), AuditError> {
        let (kind, screening, review, rotation, rules) = match body {
            Body::Screening(s) => (RecordKind::Screening, Some(s), None, None, None),
            Body::Review(r) => (RecordKind::Review, None, Some(r), None, None),
            Body::KeyRotation(k) => (RecordKind::KeyRotation, None, None, Some(k), None),
            Body::RulesReload(k) => (RecordKind::RulesReload, None, None, None, Some(k)),
        };
        let mut r = Record {
            format: FORMAT.into(),
            kind,
            id: h.id.hyphenated().to_string(),
            seq: h.seq,
            time: rfc3339_ms(h.unix_ms),
            origin: h.origin.clone(),
            actor: h.actor.clone(),
            prev: hex::encode(h.prev),
            screening,
            review,
            rotation,
            rules,
            key_id: signer.key_id().to_string(),
            sig: None,
        };
        let mut msg = Vec::with_capacity(1024);
        msg.extend_from_slice(SIGNATURE_DOMAIN);
        let Some(sig_at) = super::canonical::record(&r, &mut msg) else {
            // RFC 8785 writes numbers beyond 2^53 as doubles: the reference path.
            let sig = b64(&signer.sign(&r.signed_message()?).to_bytes());
            r.sig = Some(sig);
            let bytes = r.canonical()?;
            return Ok((r, bytes));
        };
        let sig = b64(&signer.sign(&msg).to_bytes());
        let unsigned = &msg[SIGNATURE_DOMAIN.len()..];
        let sig_at = sig_at - SIGNATURE_DOMAIN.len();
        let mut bytes = Vec::with_capacity(unsigned.len() + sig.len() + 9);
        bytes.extend_from_slice(&unsigned[..sig_at]);
        bytes.extend_from_slice(b",\"sig\":\"");
        bytes.extend_from_slice(sig.as_bytes()); // base64: nothing to escape
        bytes.push(b'"');
        bytes.extend_from_slice(&unsigned[sig_at..]);
        r.sig = Some(sig);
        debug_assert_eq!(bytes, r.canonical()?, "fast canonical bytes differ from RFC 8785");
        Ok((r, bytes))
    }

    /// RFC 8785 canonical bytes of the record as it stands (with `sig` if set).
    pub fn canonical(&self) -> Result<Vec<u8>, AuditError> {
        serde_json_canonicalizer::to_vec(self).map_err(|e| AuditError::Encode(e.to_string()))
    }

    /// [`SIGNATURE_DOMAIN`] || canonical bytes without `sig`.
    pub fn signed_message(&self) -> Result<Vec<u8>, AuditError> {
        let mut unsigned = self.clone();
        unsigned.sig = None;
        let mut m = SIGNATURE_DOMAIN.to_vec();
        m.extend(unsigned.canonical()?);
        Ok(m)
    }

    /// Strict parse: the bytes must be valid UTF-8 JSON of exactly this shape AND
    /// be byte-for-byte their own canonical form.
    pub fn parse(bytes: &[u8]) -> Result<Record, String> {
        let r: Record =
            serde_json::from_slice(bytes).map_err(|e| format!("not a record: {e}"))?;
        let again = r.canonical().map_err(|e| e.to_string())?;
        if again != bytes {
            return Err("bytes are not the record's canonical form (RFC 8785)".into());
        }
        if r.format != FORMAT {
            return Err(format!("unknown format {:?} (expected {FORMAT:?})", r.format));
        }
        match (r.kind, r.screening.is_some(), r.review.is_some(), r.rotation.is_some(), r.rules.is_some()) {
            (RecordKind::Screening, true, false, false, false)
            | (RecordKind::Review, false, true, false, false)
            | (RecordKind::KeyRotation, false, false, true, false)
            | (RecordKind::RulesReload, false, false, false, true) => {}
            _ => return Err(format!("type {:?} does not match its body", r.kind)),
        }
        Ok(r)
    }

    /// Checks the signature with `key` (strict Ed25519 verification).
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), String> {
        let want = KeyId::of(key).to_string();
        if self.key_id != want {
            return Err(format!("key id {} is not the log key {want}", self.key_id));
        }
        let sig = self.sig.as_deref().ok_or("record is not signed")?;
        let raw = unb64(sig).ok_or("signature is not base64")?;
        let raw: [u8; 64] = raw.try_into().map_err(|_| "signature is not 64 bytes")?;
        let msg = self.signed_message().map_err(|e| e.to_string())?;
        key.verify_strict(&msg, &Signature::from_bytes(&raw))
            .map_err(|_| "bad signature".to_string())
    }
}

/// The record hash (chain link and Merkle leaf): SHA-256(0x00 || canonical bytes).
pub fn record_hash(canonical: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(canonical);
    h.finalize().into()
}

/// The fingerprint of one finding's value.
pub fn fingerprint(key: &LogKey, kind: &str, value: &str) -> String {
    let mut m = FINGERPRINT_DOMAIN.to_vec();
    m.extend_from_slice(kind.as_bytes());
    m.push(0);
    m.extend_from_slice(value.as_bytes());
    hex::encode(key.hmac(&m))
}

/// Caller-supplied identification (overrides extraction).
#[derive(Debug, Clone, Default)]
pub struct DocMeta {
    /// Title.
    pub title: Option<String>,
    /// 文号.
    pub doc_number: Option<String>,
    /// The caller's document id (a path, a system's id).
    pub document_id: Option<String>,
}

/// Builds the body of a screening record. `text` is the decoded document (None
/// if it could not be read); `bytes` its length in bytes. The document's
/// identification is built by [`super::meta::document_info`] (which screens
/// every string it keeps with `screener`).
pub fn screening_body(text: Option<&str>, bytes: u64, s: &Screening, screener: &Screener, keys: &BodyKeys, meta: &DocMeta) -> ScreeningBody {
    screening_body_in(text.map(LineIndex::new).as_ref(), bytes, s, screener, keys, meta)
}

/// [`screening_body`] over a text already indexed (None if it could not be read).
pub fn screening_body_in(
    ix: Option<&LineIndex<'_>>,
    bytes: u64,
    s: &Screening,
    screener: &Screener,
    keys: &BodyKeys,
    meta: &DocMeta,
) -> ScreeningBody {
    match screening_body_within(ix, bytes, s, screener, keys, meta, &crate::Budget::unlimited()) {
        Ok(b) => b,
        Err(crate::Stopped) => unreachable!("an unlimited budget never stops"),
    }
}

/// [`screening_body_in`] within `budget` (checked every thousand findings).
#[allow(clippy::too_many_arguments)]
pub fn screening_body_within(
    ix: Option<&LineIndex<'_>>,
    bytes: u64,
    s: &Screening,
    screener: &Screener,
    keys: &BodyKeys,
    meta: &DocMeta,
    budget: &crate::Budget,
) -> Result<ScreeningBody, crate::Stopped> {
    let document = super::meta::document_info(ix, bytes, s, screener, keys.records_key.as_ref(), meta);
    budget.check()?;
    let mut findings = Vec::with_capacity(s.findings.len());
    if let Some(ix) = ix {
        let t = ix.text();
        let mut meter = budget.meter_every(1024);
        for (n, f) in s.findings.iter().enumerate() {
            meter.at(n)?;
            let value = t.get(f.span.start..f.span.end).unwrap_or("");
            findings.push(Fingerprint {
                rule: f.rule.to_string(),
                kind: f.kind.as_str().into(),
                action: f.action.as_str().into(),
                start: ix.position(f.span.start).char_offset as u64,
                end: ix.position(f.span.end).char_offset as u64,
                confidence_permille: permille(f.confidence),
                value_hmac: fingerprint(&keys.log_key, f.kind.as_str(), value),
            });
        }
    }
    Ok(ScreeningBody {
        document,
        verdict: s.decision.verdict.as_str().into(),
        reasons: s.decision.reasons.iter().map(ReasonEntry::from).collect(),
        findings,
        rules_sha256: screener.rules_sha256().into(),
        engine: ENGINE_VERSION.into(),
        categories: s.decision.checked.iter().map(|c| c.as_str().to_owned()).collect(),
        partial: s.decision.partial,
        response_truncated: false,
    })
}

fn permille(c: f64) -> u64 {
    if c.is_finite() { (c.clamp(0.0, 1.0) * 1000.0).round() as u64 } else { 0 }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the Unix epoch.
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Standard base64 with padding.
pub fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Strict standard base64 decoding.
pub fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339_ms(1_798_761_599_999), "2026-12-31T23:59:59.999Z");
    }

    #[test]
    fn permille_rounds() {
        assert_eq!(permille(0.95), 950);
        assert_eq!(permille(0.9996), 1000);
        assert_eq!(permille(f64::NAN), 0);
        assert_eq!(permille(2.0), 1000);
    }

    #[test]
    fn fast_canonical_bytes_equal_the_reference_canonicalizer() {
        let signer = Signer::from_seed([7; 32]);
        let hostile = [
            "plain", "汉字■", "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}", "\"quote\" \\ slash /", "\u{7f}\u{80}\u{2028}\u{2029}",
            "😀 \u{10ffff}", "\u{fffd}", "",
        ];
        for (i, t) in hostile.iter().enumerate() {
            let body = Body::Review(ReviewBody {
                ref_id: t.to_string(),
                // Beyond 2^53 RFC 8785 writes a double: the fast path falls back.
                ref_seq: if i == 0 { u64::MAX } else { (1 << 53) - i as u64 },
                ref_hash: "ab".repeat(32),
                decision: Decision::Override,
                verdict: "redact".into(),
                reviewer: format!("审查员{t}"),
                role: t.to_string(),
                comment: Some(t.repeat(3)),
                added: vec![AddedFinding { kind: "phone".into(), start: 0, end: i as u64 + 1 }],
            });
            let h = Header {
                id: Header::new_id(1_700_000_000_000),
                seq: i as u64,
                unix_ms: 1_700_000_000_000,
                origin: "mishen.audit/test".into(),
                actor: format!("grpc:{t}"),
                prev: [i as u8; 32],
            };
            let (r, fast) = Record::sign_canonical(&h, body, &signer).unwrap();
            assert_eq!(fast, serde_json_canonicalizer::to_vec(&r).unwrap(), "string {t:?}");
            // The signature covers the canonical bytes without `sig`, on the
            // fallback path (a number beyond 2^53) too.
            r.verify_signature(&signer.public()).expect("signature over the canonical bytes");
            if i > 0 {
                let parsed = Record::parse(&fast).expect("accepted by the strict parser");
                parsed.verify_signature(&signer.public()).expect("signature over the canonical bytes");
            }
        }
    }

    #[test]
    fn fast_canonical_bytes_for_every_body_type() {
        let signer = Signer::from_seed([9; 32]);
        for (i, t) in ["汉字■ \"q\" \\ \u{0}\u{1f}\u{7f}\u{2028}😀", "", "plain"].iter().enumerate() {
            let t = t.to_string();
            let full = ScreeningBody {
                document: DocumentInfo {
                    title: Some(format!("关于{t}的通知")),
                    doc_number: Some(format!("国办发〔2016〕19号{t}")),
                    copy_number: Some(format!("000027{t}")),
                    document_id: Some(format!("docs/通知{t}.docx")),
                    marking: Some(Marking { level: format!("机密{t}"), period: "default".into() }),
                    title_sealed: Some(super::super::seal::SealedTitle {
                        alg: t.clone(),
                        key_id: "ab".into(),
                        nonce: t.clone(),
                        ciphertext: "x".into(),
                        hmac: t.clone(),
                    }),
                    keywords: vec![t.clone(), "垃圾分类".into()],
                    content_sha256: "cd".repeat(32),
                    bytes: 4096,
                    chars: 1 << 53,
                },
                verdict: "withhold".into(),
                reasons: vec![
                    ReasonEntry { category: t.clone(), action: "withhold".into(), basis: format!("《保密法》{t}"), summary: "phone ×2".into() },
                    ReasonEntry { category: "personal".into(), action: "redact".into(), basis: String::new(), summary: t.clone() },
                ],
                findings: vec![
                    Fingerprint { rule: format!("r.{t}"), kind: "phone".into(), action: "redact".into(), start: 0, end: 11, confidence_permille: 950, value_hmac: "ef".repeat(32) },
                    Fingerprint { rule: "b".into(), kind: t.clone(), action: t.clone(), start: 12, end: 14, confidence_permille: 1000, value_hmac: String::new() },
                ],
                rules_sha256: "12".repeat(32),
                engine: ENGINE_VERSION.into(),
                categories: vec!["state_secret".into(), t.clone()],
                partial: true,
                response_truncated: true,
            };
            let bare = ScreeningBody {
                document: DocumentInfo { content_sha256: t.clone(), ..Default::default() },
                verdict: "publish".into(),
                reasons: Vec::new(),
                findings: Vec::new(),
                rules_sha256: String::new(),
                engine: t.clone(),
                categories: Vec::new(),
                partial: false,
                response_truncated: false,
            };
            let bodies = [
                Body::Screening(full),
                Body::Screening(bare),
                Body::Review(ReviewBody {
                    ref_id: t.clone(),
                    ref_seq: 7,
                    ref_hash: t.clone(),
                    decision: Decision::Confirm,
                    verdict: "publish".into(),
                    reviewer: t.clone(),
                    role: "审查员".into(),
                    comment: None,
                    added: Vec::new(),
                }),
                Body::Review(ReviewBody {
                    ref_id: "x".into(),
                    ref_seq: 0,
                    ref_hash: "ab".repeat(32),
                    decision: Decision::Dismiss,
                    verdict: "redact".into(),
                    reviewer: "r".into(),
                    role: t.clone(),
                    comment: Some(t.clone()),
                    added: vec![AddedFinding { kind: t.clone(), start: 3, end: 5 }, AddedFinding { kind: "phone".into(), start: 9, end: 20 }],
                }),
                Body::KeyRotation(RotationBody { new_key_id: t.clone(), new_public_key: "00".repeat(32) }),
                Body::RulesReload(RulesBody { previous_rules_sha256: t.clone(), rules_sha256: "34".repeat(32), rules: 123 }),
            ];
            for (j, body) in bodies.into_iter().enumerate() {
                let h = Header {
                    id: Header::new_id(1_700_000_000_000 + j as u64),
                    seq: (i * 10 + j) as u64,
                    unix_ms: 1_700_000_000_000 + j as u64,
                    origin: format!("mishen.audit/{t}"),
                    actor: format!("grpc:{t}"),
                    prev: [j as u8; 32],
                };
                let (r, fast) = Record::sign_canonical(&h, body, &signer).unwrap();
                assert_eq!(fast, serde_json_canonicalizer::to_vec(&r).unwrap(), "body {j} with {t:?}");
                let parsed = Record::parse(&fast).expect("accepted by the strict parser");
                assert_eq!(parsed, r);
                parsed.verify_signature(&signer.public()).expect("signature over the canonical bytes");
            }
        }
    }
}

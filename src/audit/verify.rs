//! Offline verification: everything is recomputed from the record bytes and the
//! public key; nothing stored beside the records (hash column, ids) is trusted.
//!
//! For each record, in order: strict parse (exact shape, no unknown fields, bytes
//! equal to their RFC 8785 form), `format`, `seq` equal to its position, one
//! origin for the whole log, `prev` equal to the previous record hash, a UUIDv7
//! id that is unique and whose timestamp is the record's `time`, well-formed
//! hashes, a valid Ed25519 signature by the log key, and for a review a reference
//! to an earlier screening record with matching seq and hash. Then every
//! checkpoint: valid signature, same origin, size not beyond the log, and the
//! Merkle root of that many records equal to the signed root. The first problem
//! stops verification and is reported with its sequence number.

use super::merkle::{self, Checkpoint, Hash};
use super::record::{GENESIS_PREV, Record, RecordKind, record_hash, rfc3339_ms};
use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::fmt;

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Sequence number of the first bad (or first missing) record.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record seq {}: {}", self.seq, self.reason)
    }
}

impl std::error::Error for Failure {}

/// What verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records checked.
    pub records: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Merkle root over all records.
    pub root: Hash,
    /// Origin (None for an empty log).
    pub origin: Option<String>,
}

/// Streaming verifier: [`push`](Verifier::push) each record's bytes, then
/// [`finish`](Verifier::finish) with the checkpoints.
#[derive(Debug)]
pub struct Verifier {
    key: VerifyingKey,
    /// Every key the log has used, oldest first (checkpoints may be signed by any).
    keys: Vec<VerifyingKey>,
    origin: Option<String>,
    prev: Hash,
    leaves: Vec<Hash>,
    screenings: HashMap<String, (u64, Hash)>,
    ids: std::collections::HashSet<String>,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Verifier {
    /// A verifier trusting `key`; `origin`, if given, must be the log's origin.
    pub fn new(key: VerifyingKey, origin: Option<String>) -> Verifier {
        Verifier {
            key,
            keys: vec![key],
            origin,
            prev: [0; 32],
            leaves: Vec::new(),
            screenings: HashMap::new(),
            ids: Default::default(),
        }
    }

    /// Number of records accepted so far.
    pub fn len(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Whether no record was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Checks the next record.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let seq = self.len();
        let fail = |reason: String| Failure { seq, reason };
        let r = Record::parse(bytes).map_err(fail)?;
        if r.seq != seq {
            return Err(fail(format!(
                "record says seq {} at position {seq} (deleted, reordered or duplicated records)",
                r.seq
            )));
        }
        match &self.origin {
            Some(o) if *o != r.origin => {
                return Err(fail(format!("origin {:?} is not the log's origin {o:?}", r.origin)));
            }
            Some(_) => {}
            None => self.origin = Some(r.origin.clone()),
        }
        let want_prev = if seq == 0 { GENESIS_PREV.to_owned() } else { hex::encode(self.prev) };
        if r.prev != want_prev {
            return Err(fail(format!("prev {} is not the hash of record {} ({want_prev})", r.prev, seq.wrapping_sub(1))));
        }
        let id = uuid::Uuid::try_parse(&r.id).map_err(|_| fail(format!("id {:?} is not a UUID", r.id)))?;
        if id.get_version_num() != 7 || id.hyphenated().to_string() != r.id {
            return Err(fail(format!("id {:?} is not a lower-case UUIDv7", r.id)));
        }
        let ms = id.get_timestamp().map(|t| {
            let (s, n) = t.to_unix();
            s * 1000 + u64::from(n) / 1_000_000
        });
        if ms.map(rfc3339_ms).as_deref() != Some(r.time.as_str()) {
            return Err(fail(format!("time {:?} does not match the id's timestamp", r.time)));
        }
        if !self.ids.insert(r.id.clone()) {
            return Err(fail(format!("duplicate id {}", r.id)));
        }
        r.verify_signature(&self.key).map_err(fail)?;
        let mut next_key = None;
        match (r.kind, &r.screening, &r.review) {
            (RecordKind::Screening, Some(s), _) => {
                if !["publish", "redact", "withhold"].contains(&s.verdict.as_str()) {
                    return Err(fail(format!("unknown verdict {:?}", s.verdict)));
                }
                let hexes = [&s.rules_sha256, &s.document.content_sha256]
                    .into_iter()
                    .chain(s.findings.iter().map(|f| &f.value_hmac));
                if let Some(h) = hexes.into_iter().find(|h| !is_hex64(h)) {
                    return Err(fail(format!("{h:?} is not a lower-case SHA-256 hex digest")));
                }
                if let Some(f) = s.findings.iter().find(|f| f.start > f.end || f.confidence_permille > 1000) {
                    return Err(fail(format!("finding {} has a bad span or confidence", f.rule)));
                }
            }
            (RecordKind::Review, _, Some(v)) => {
                match self.screenings.get(&v.ref_id) {
                    Some((s, h)) if *s == v.ref_seq && hex::encode(h) == v.ref_hash => {}
                    Some(_) => return Err(fail(format!("review of {} cites the wrong seq or hash", v.ref_id))),
                    None => return Err(fail(format!("review of {}: no earlier screening record has that id", v.ref_id))),
                }
                if !["publish", "redact", "withhold"].contains(&v.verdict.as_str()) {
                    return Err(fail(format!("unknown verdict {:?}", v.verdict)));
                }
                if let Some(a) = v.added.iter().find(|a| a.start >= a.end) {
                    return Err(fail(format!("added {} finding has an empty span", a.kind)));
                }
            }
            (RecordKind::KeyRotation, _, _) => {
                let rot = r.rotation.as_ref().ok_or_else(|| fail("key rotation without its body".into()))?;
                let k = super::keys::parse_public(&rot.new_public_key)
                    .ok()
                    .filter(|_| is_hex64(&rot.new_public_key))
                    .ok_or_else(|| fail("new_public_key is not an Ed25519 key in lower-case hex".into()))?;
                if super::keys::KeyId::of(&k).to_string() != rot.new_key_id {
                    return Err(fail(format!("new_key_id {} does not match the new key", rot.new_key_id)));
                }
                if self.keys.contains(&k) {
                    return Err(fail("key rotation to a key the log has already used".into()));
                }
                next_key = Some(k);
            }
            (RecordKind::RulesReload, _, _) => {
                let rl = r.rules.as_ref().ok_or_else(|| fail("rules reload without its body".into()))?;
                if let Some(h) = [&rl.previous_rules_sha256, &rl.rules_sha256].into_iter().find(|h| !is_hex64(h)) {
                    return Err(fail(format!("{h:?} is not a lower-case SHA-256 hex digest")));
                }
            }
            _ => return Err(fail("type does not match its body".into())),
        }
        if let Some(k) = next_key {
            self.key = k;
            self.keys.push(k);
        }
        let h = record_hash(bytes);
        if r.kind == RecordKind::Screening {
            self.screenings.insert(r.id.clone(), (seq, h));
        }
        self.prev = h;
        self.leaves.push(h);
        Ok(())
    }

    /// Checks the signed checkpoint notes against the records pushed.
    pub fn finish<'a>(self, notes: impl IntoIterator<Item = &'a str>) -> Result<Summary, Failure> {
        let n = self.len();
        let mut count = 0;
        for note in notes {
            let mut opened = Err(super::AuditError::Checkpoint("no key".into()));
            for k in self.keys.iter().rev() {
                opened = Checkpoint::open(note, k);
                if opened.is_ok() {
                    break;
                }
            }
            let cp = opened.map_err(|e| Failure { seq: n, reason: format!("checkpoint: {e}") })?;
            if let Some(o) = &self.origin
                && *o != cp.origin
            {
                return Err(Failure { seq: 0, reason: format!("checkpoint origin {:?} is not the log's origin {o:?}", cp.origin) });
            }
            if cp.size > n {
                return Err(Failure {
                    seq: n,
                    reason: format!(
                        "a signed checkpoint covers {} records but the log has {n}: records from seq {n} are missing (truncated)",
                        cp.size
                    ),
                });
            }
            if merkle::root(&self.leaves[..cp.size as usize]) != cp.root {
                return Err(Failure {
                    seq: cp.size.saturating_sub(1),
                    reason: format!("the Merkle root of the first {} records is not the signed checkpoint's root", cp.size),
                });
            }
            count += 1;
        }
        Ok(Summary { records: n, checkpoints: count, root: merkle::root(&self.leaves), origin: self.origin })
    }

    /// The record hashes accepted so far (Merkle leaves).
    pub fn leaves(&self) -> &[Hash] {
        &self.leaves
    }
}

/// Verifies a JSON Lines export: one canonical record per line, each line ending in `\n`.
pub fn verify_jsonl<'a>(
    data: &[u8],
    key: VerifyingKey,
    notes: impl IntoIterator<Item = &'a str>,
) -> Result<Summary, Failure> {
    let mut v = Verifier::new(key, None);
    let mut rest = data;
    while !rest.is_empty() {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Failure { seq: v.len(), reason: "last line does not end in a newline (truncated?)".into() });
        };
        v.push(&rest[..nl])?;
        rest = &rest[nl + 1..];
    }
    v.finish(notes)
}

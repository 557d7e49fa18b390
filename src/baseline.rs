//! Baselines and allow-lists: accepted findings that must not fail the next run.
//!
//! **Fingerprints** are content-based, never positional (a line inserted above
//! a finding does not change it):
//!
//! ```text
//! <rule id>:<HMAC-SHA256(key, "mishen-baseline/1\0" ‖ normalized value), 32 hex>:<document SHA-256>
//! ```
//!
//! The value is normalized (full-width folded, zero-width removed, white space
//! and hyphens dropped) so `139 1234 5678` and `１３９１２３４５６７８` agree. The
//! HMAC is keyed because the values are low-entropy (an 11-digit phone number
//! can be brute-forced from a plain hash); keep the key out of the repository
//! (`MISHEN_BASELINE_KEY` in CI secrets, or `--baseline-key FILE`).
//!
//! **Baseline file** (`--write-baseline FILE`, read with `--baseline FILE`):
//!
//! ```json
//! {"version": "mishen-baseline/1",
//!  "findings": [{"fingerprint": "pd.phone.mobile:…:…", "rule": "pd.phone.mobile",
//!                "kind": "phone", "path": "docs/a.docx"}]}
//! ```
//!
//! `path` is informational; matching uses the fingerprint only. No value and no
//! excerpt is stored.
//!
//! **Allow-list** (`--allow FILE`): one value per line, `#` starts a comment, and
//! an optional `kind:` prefix restricts the entry to one kind (`phone: 12345`,
//! `person_name: 王局长名`). A finding whose normalized value is listed is
//! reported with action `allow` and no longer affects the verdict. Marks
//! (`classification_mark`, `trade_secret_mark`) cannot be allow-listed.

use crate::detect::Finding;
use crate::normalize::Normalized;
use crate::rules::model::{Action, Kind};
use crate::screen::Screening;
use crate::verdict;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};

/// Errors reading baselines, allow-lists and keys.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A baseline file that is not `mishen-baseline/1` JSON.
    #[error("{path}: not a mishen baseline: {detail}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A key shorter than 16 bytes.
    #[error("baseline key is {0} bytes; at least 16 are required")]
    ShortKey(usize),
    /// An allow-list line with an unknown `kind:` prefix.
    #[error("{path}:{line}: unknown kind {kind:?}")]
    UnknownKind {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The prefix.
        kind: String,
    },
}

/// The format tag of baseline files.
pub const BASELINE_VERSION: &str = "mishen-baseline/1";

/// The normalized form of a finding's value used by fingerprints and allow-lists.
pub fn normalize_value(v: &str) -> String {
    Normalized::new(v).text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// Computes fingerprints under one key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(..)")
    }
}

impl Fingerprinter {
    /// A fingerprinter keyed with `key` (at least 16 bytes).
    pub fn new(key: &[u8]) -> Result<Fingerprinter, Error> {
        let key = key.trim_ascii();
        if key.len() < 16 {
            return Err(Error::ShortKey(key.len()));
        }
        Ok(Fingerprinter { key: key.to_vec() })
    }

    /// The fingerprint of finding `f` in `text`, a document whose bytes hash to `doc_sha256`.
    pub fn fingerprint(&self, f: &Finding, text: &str, doc_sha256: &str) -> String {
        let value = text.get(f.span.start..f.span.end).unwrap_or("");
        let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(BASELINE_VERSION.as_bytes());
        m.update(&[0]);
        m.update(normalize_value(value).as_bytes());
        let h = m.finalize().into_bytes();
        format!("{}:{}:{}", f.rule, hex::encode(&h[..16]), doc_sha256)
    }
}

/// One accepted finding in a baseline file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BaselineEntry {
    /// The fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// Kind.
    pub kind: String,
    /// Where it was seen (informational).
    pub path: String,
}

/// A baseline file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct BaselineFile {
    /// [`BASELINE_VERSION`].
    pub version: String,
    /// Accepted findings, sorted by fingerprint.
    pub findings: Vec<BaselineEntry>,
}

impl BaselineFile {
    /// Reads a baseline file.
    pub fn read(path: &std::path::Path) -> Result<BaselineFile, Error> {
        let p = path.display().to_string();
        let b = std::fs::read(path).map_err(|source| Error::Io { path: p.clone(), source })?;
        let f: BaselineFile =
            serde_json::from_slice(&b).map_err(|e| Error::Format { path: p.clone(), detail: format!("line {} column {}", e.line(), e.column()) })?;
        if f.version != BASELINE_VERSION {
            return Err(Error::Format { path: p, detail: format!("version {:?}, expected {BASELINE_VERSION:?}", f.version) });
        }
        Ok(f)
    }

    /// Writes it (sorted, deduplicated, pretty-printed for review in diffs).
    pub fn write(mut self, path: &std::path::Path) -> Result<(), Error> {
        self.version = BASELINE_VERSION.into();
        self.findings.sort_by(|a, b| (&a.fingerprint, &a.path).cmp(&(&b.fingerprint, &b.path)));
        self.findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let mut s = serde_json::to_string_pretty(&self).expect("plain data serializes");
        s.push('\n');
        std::fs::write(path, s).map_err(|source| Error::Io { path: path.display().to_string(), source })
    }

    /// The set of fingerprints.
    pub fn fingerprints(&self) -> HashSet<String> {
        self.findings.iter().map(|e| e.fingerprint.clone()).collect()
    }
}

/// An allow-list: normalized values, optionally per kind.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    any: HashSet<String>,
    by_kind: HashMap<Kind, HashSet<String>>,
}

impl AllowList {
    /// Parses allow-list text (see the module doc); `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<AllowList, Error> {
        let mut a = AllowList::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (kind, value) = match line.split_once([':', '：']) {
                Some((k, v)) if k.trim().chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.trim().is_empty() => {
                    let k = k.trim();
                    let kind: Kind = serde_json::from_value(serde_json::Value::String(k.into()))
                        .map_err(|_| Error::UnknownKind { path: path.into(), line: i + 1, kind: k.into() })?;
                    (Some(kind), v)
                }
                _ => (None, line),
            };
            let v = normalize_value(value);
            if v.is_empty() {
                continue;
            }
            match kind {
                Some(k) => {
                    a.by_kind.entry(k).or_default().insert(v);
                }
                None => {
                    a.any.insert(v);
                }
            }
        }
        Ok(a)
    }

    /// Reads and parses an allow-list file.
    pub fn read(path: &std::path::Path) -> Result<AllowList, Error> {
        let p = path.display().to_string();
        let t = std::fs::read_to_string(path).map_err(|source| Error::Io { path: p.clone(), source })?;
        AllowList::parse(&p, &t)
    }

    /// Merges another list into this one.
    pub fn extend(&mut self, other: AllowList) {
        self.any.extend(other.any);
        for (k, v) in other.by_kind {
            self.by_kind.entry(k).or_default().extend(v);
        }
    }

    /// True when the finding's value is listed (marks never are).
    pub fn allows(&self, f: &Finding, text: &str) -> bool {
        if matches!(f.kind, Kind::ClassificationMark | Kind::TradeSecretMark | Kind::InternalMarking) {
            return false;
        }
        let v = normalize_value(text.get(f.span.start..f.span.end).unwrap_or(""));
        self.any.contains(&v) || self.by_kind.get(&f.kind).is_some_and(|s| s.contains(&v))
    }
}

/// What [`apply`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Findings turned into `allow` by the allow-list.
    pub allowed: usize,
    /// Findings dropped because the baseline accepts them.
    pub baselined: usize,
    /// The fingerprint of every finding before the baseline was applied (for
    /// `--write-baseline`), with its rule and kind; `allow` findings excluded.
    pub fingerprints: Vec<(String, String, String)>,
}

/// Applies an allow-list and a baseline to a screening of `text`, then decides
/// the verdict again. Unreadable documents are left alone.
pub fn apply(
    s: &mut Screening,
    text: &str,
    allow: Option<&AllowList>,
    fp: Option<&Fingerprinter>,
    baseline: Option<&HashSet<String>>,
) -> Applied {
    let mut out = Applied::default();
    if let Some(a) = allow {
        for f in s.findings.iter_mut().filter(|f| f.action != Action::Allow) {
            if a.allows(f, text) {
                f.action = Action::Allow;
                f.explanation.push_str("; value on the allow-list");
                out.allowed += 1;
            }
        }
    }
    if let Some(fp) = fp {
        let mut keep = Vec::with_capacity(s.findings.len());
        for f in std::mem::take(&mut s.findings) {
            if f.action == Action::Allow {
                keep.push(f);
                continue;
            }
            let print = fp.fingerprint(&f, text, &s.content_sha256);
            let accepted = baseline.is_some_and(|b| b.contains(&print));
            out.fingerprints.push((print, f.rule.to_string(), f.kind.as_str().to_owned()));
            if accepted {
                out.baselined += 1;
            } else {
                keep.push(f);
            }
        }
        s.findings = keep;
    }
    if out.allowed + out.baselined > 0 {
        s.decision = verdict::decide(&s.findings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Screener;

    const DOC: &str = "申请人联系电话：13912345678，办公室电话：0571-87654321。";

    #[test]
    fn fingerprints_ignore_position_and_width_but_not_content() {
        let s = Screener::embedded().unwrap();
        let fp = Fingerprinter::new(b"0123456789abcdef-test").unwrap();
        let a = s.screen(DOC);
        let shifted = format!("\n\n前言。\n{DOC}");
        let b = s.screen(&shifted);
        let pa: Vec<String> = a.findings.iter().map(|f| fp.fingerprint(f, DOC, "d")).collect();
        let pb: Vec<String> = b.findings.iter().map(|f| fp.fingerprint(f, &shifted, "d")).collect();
        assert!(!pa.is_empty());
        assert_eq!(pa, pb, "line numbers are not part of a fingerprint");
        assert!(pa.iter().all(|p| !p.contains("13912345678")));
        let other = Fingerprinter::new(b"another-key-of-16-bytes").unwrap();
        assert_ne!(pa[0], other.fingerprint(&a.findings[0], DOC, "d"), "keyed");
        assert_ne!(pa[0], fp.fingerprint(&a.findings[0], DOC, "e"), "document hash is part of it");
        assert!(Fingerprinter::new(b"short").is_err());
    }

    #[test]
    fn baseline_suppresses_and_verdict_is_recomputed() {
        let s = Screener::embedded().unwrap();
        let fp = Fingerprinter::new(b"0123456789abcdef").unwrap();
        let mut first = s.screen(DOC);
        assert_eq!(first.decision.verdict, crate::Verdict::Redact);
        let applied = apply(&mut first, DOC, None, Some(&fp), None);
        let set: HashSet<String> = applied.fingerprints.iter().map(|x| x.0.clone()).collect();
        let mut again = s.screen(DOC);
        let a = apply(&mut again, DOC, None, Some(&fp), Some(&set));
        assert_eq!(a.baselined, set.len());
        assert_eq!(again.decision.verdict, crate::Verdict::Publish);
        // A new value is not covered.
        let doc2 = DOC.replace("13912345678", "13987654321");
        let mut third = s.screen(&doc2);
        apply(&mut third, &doc2, None, Some(&fp), Some(&set));
        assert_eq!(third.decision.verdict, crate::Verdict::Redact);
    }

    #[test]
    fn allow_list_by_value_and_kind() {
        let s = Screener::embedded().unwrap();
        let a = AllowList::parse("t", "# hotline\nphone: 0571 8765 4321\n13912345678 # any kind\n").unwrap();
        let mut sc = s.screen(DOC);
        let n = sc.findings.iter().filter(|f| f.kind == Kind::Phone).count();
        let r = apply(&mut sc, DOC, Some(&a), None, None);
        assert_eq!(r.allowed, n);
        assert!(sc.findings.iter().filter(|f| f.kind == Kind::Phone).all(|f| f.action == Action::Allow));
        let a = AllowList::parse("t", "person_name: 13912345678").unwrap();
        let mut sc = s.screen(DOC);
        assert_eq!(apply(&mut sc, DOC, Some(&a), None, None).allowed, 0, "wrong kind");
        assert!(AllowList::parse("t", "nosuchkind: x").is_err());
        let mark = "机密★5年\n通知\n";
        let a = AllowList::parse("t", "机密★5年\n机密").unwrap();
        let mut sc = s.screen(mark);
        apply(&mut sc, mark, Some(&a), None, None);
        assert_eq!(sc.decision.verdict, crate::Verdict::Withhold, "marks cannot be allow-listed");
    }
}

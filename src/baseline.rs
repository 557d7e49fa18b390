//! Baselines and allow-lists: accepted findings that must not fail the next CI run.
//!
//! **They never change a decision.** The verdict, the redaction, the redacted
//! copy and the audit record are decided once, by [`crate::Screener::screen`];
//! [`apply`] takes the screening by shared reference and only says, per
//! finding, whether a baseline or allow-list entry covers it. What changes is
//! what the CI gate counts (`mishen screen --fail-on` and the exit status): the
//! gate counts a document at [`Applied::gate`], the worst action among the
//! findings that are *not* covered, while the document keeps its verdict. A
//! baselined phone number is still masked in the redacted copy; the report says
//! `"baselined": true` on the finding.
//!
//! **Withholding findings cannot be accepted.** A finding whose action is
//! `withhold` (a classification mark, a trade-secret mark, a secret term, and
//! any kind the policy withholds) always counts. An entry that would cover one
//! is an error when the file is read, naming the entry: a baseline entry whose
//! rule withholds in the compiled pack ([`BaselineFile::check`]), an allow-list
//! line whose `kind:` withholds or whose value screens as a withholding finding
//! ([`AllowList::parse`]). `--write-baseline` writes no entry for one, and
//! [`apply`] never covers one even if such an entry got through. The test is
//! the rule's action in the pack, never a list of kinds, so a kind added later
//! with action `withhold` is protected too.
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
//! `path` is informational; matching uses the fingerprint only, and the rule is
//! the fingerprint's first field (an entry whose `rule` disagrees with it is an
//! error). No value and no excerpt is stored.
//!
//! **Allow-list** (`--allow FILE`): one value per line, `#` at the start of a
//! line or after white space starts a comment (`3#楼` is a value), and
//! an optional `kind:` prefix restricts the entry to one kind (`phone: 12345`,
//! `person_name: 王局长名`). A finding whose normalized value is listed is
//! reported with `"allow_listed": true` and its action unchanged (a listed
//! hotline is still masked in the redacted copy; use the policy to publish a
//! kind).

use crate::Screener;
use crate::detect::Finding;
use crate::normalize::Normalized;
use crate::rules::RulePack;
use crate::rules::model::{Action, Kind};
use crate::screen::Screening;
use crate::verdict::Verdict;
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
    /// An entry that would cover a finding that withholds the document.
    #[error("{at}: rule {rule} withholds the document ({why}); a finding that withholds cannot be baselined or allow-listed: remove the entry")]
    Withholding {
        /// The entry: `file:line`, or the file and the entry's fingerprint.
        at: String,
        /// The rule (or, for a `kind:` prefix, the kind) that withholds.
        rule: String,
        /// What withholds: the kind, or what the value screens as.
        why: String,
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

    /// Refuses entries that would cover a withholding finding: the rule named by
    /// the fingerprint (its first field) withholds in `pack`, or disagrees with
    /// the entry's `rule`. `path` names the file in errors.
    pub fn check(&self, path: &str, pack: &RulePack) -> Result<(), Error> {
        for (i, e) in self.findings.iter().enumerate() {
            let at = format!("{path}: entry {} (fingerprint {})", i + 1, e.fingerprint);
            let rule = match e.fingerprint.rsplitn(3, ':').collect::<Vec<_>>()[..] {
                [_, _, rule] => rule,
                _ => return Err(Error::Format { path: path.into(), detail: format!("entry {}: fingerprint is not rule:hmac:sha256", i + 1) }),
            };
            if rule != e.rule {
                return Err(Error::Format { path: path.into(), detail: format!("entry {}: rule {:?} differs from the fingerprint's rule {rule:?}", i + 1, e.rule) });
            }
            if let Some(r) = pack.rules.iter().find(|r| &*r.id == rule).filter(|r| r.action == Action::Withhold) {
                return Err(Error::Withholding { at, rule: rule.into(), why: r.kind.as_str().into() });
            }
        }
        Ok(())
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

/// A line without its comment: `#` at the start or after white space (so the
/// `#` of an address such as `3#楼1502室` is part of the value).
fn strip_comment(line: &str) -> &str {
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '#' && prev.is_whitespace() {
            return &line[..i];
        }
        prev = c;
    }
    line
}

/// An allow-list: normalized values, optionally per kind.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    any: HashSet<String>,
    by_kind: HashMap<Kind, HashSet<String>>,
}

impl AllowList {
    /// Parses allow-list text (see the module doc); `path` names it in errors.
    /// An entry that could cover a withholding finding is an error naming its
    /// line: a `kind:` some rule of which withholds in the screener's pack, or a
    /// value that, screened by itself, gives a withholding finding (`机密★5年`).
    pub fn parse(path: &str, text: &str, screener: &Screener) -> Result<AllowList, Error> {
        let mut a = AllowList::default();
        for (i, line) in text.lines().enumerate() {
            let line = strip_comment(line).trim();
            if line.is_empty() {
                continue;
            }
            let at = || format!("{path}:{}", i + 1);
            let (kind, value) = match line.split_once([':', '：']) {
                Some((k, v)) if k.trim().chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.trim().is_empty() => {
                    let k = k.trim();
                    let kind: Kind = serde_json::from_value(serde_json::Value::String(k.into()))
                        .map_err(|_| Error::UnknownKind { path: path.into(), line: i + 1, kind: k.into() })?;
                    if let Some(r) = screener.pack().rules.iter().find(|r| r.kind == kind && r.action == Action::Withhold) {
                        return Err(Error::Withholding { at: at(), rule: r.id.to_string(), why: format!("kind {k}") });
                    }
                    (Some(kind), v.trim())
                }
                _ => (None, line),
            };
            if let Some(f) = screener.screen(value).findings.iter().find(|f| f.action == Action::Withhold) {
                return Err(Error::Withholding { at: at(), rule: f.rule.to_string(), why: format!("the value screens as {}", f.kind.as_str()) });
            }
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
    pub fn read(path: &std::path::Path, screener: &Screener) -> Result<AllowList, Error> {
        let p = path.display().to_string();
        let t = std::fs::read_to_string(path).map_err(|source| Error::Io { path: p.clone(), source })?;
        AllowList::parse(&p, &t, screener)
    }

    /// Merges another list into this one.
    pub fn extend(&mut self, other: AllowList) {
        self.any.extend(other.any);
        for (k, v) in other.by_kind {
            self.by_kind.entry(k).or_default().extend(v);
        }
    }

    /// True when the finding's value is listed (a withholding finding never is).
    pub fn allows(&self, f: &Finding, text: &str) -> bool {
        if f.action == Action::Withhold {
            return false;
        }
        let v = normalize_value(text.get(f.span.start..f.span.end).unwrap_or(""));
        self.any.contains(&v) || self.by_kind.get(&f.kind).is_some_and(|s| s.contains(&v))
    }
}

/// Whether a baseline or allow-list entry covers a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Its fingerprint is in the baseline.
    pub baselined: bool,
    /// Its value is on the allow-list.
    pub allow_listed: bool,
}

impl Accepted {
    /// Covered by either: the CI gate does not count it.
    pub fn any(self) -> bool {
        self.baselined || self.allow_listed
    }
}

/// What a baseline and an allow-list say about one screening. The screening
/// itself is not touched: see the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Per finding, in the screening's order.
    pub accepted: Vec<Accepted>,
    /// Per finding, its fingerprint when a key is set.
    pub fingerprints: Vec<Option<String>>,
    /// Findings covered by the baseline.
    pub baselined: usize,
    /// Findings covered by the allow-list.
    pub allow_listed: usize,
    /// The verdict the CI gate counts: the document's verdict with the covered
    /// findings left out (never lower than `withhold` for a withheld document,
    /// since withholding findings are never covered).
    pub gate: Verdict,
}

/// The verdict a finding's action alone would give.
fn verdict_of(a: Action) -> Verdict {
    match a {
        Action::Withhold => Verdict::Withhold,
        Action::Redact => Verdict::Redact,
        _ => Verdict::Publish,
    }
}

/// True when a finding counts toward the verdict and may be accepted by a
/// baseline or an allow-list: it does not withhold, by its own action or by its
/// rule's action in `pack`, and it is not already allowed.
pub fn acceptable(f: &Finding, pack: &RulePack) -> bool {
    let rule_withholds = pack.rules.iter().any(|r| r.id == f.rule && r.action == Action::Withhold);
    verdict_of(f.action) == Verdict::Redact && !rule_withholds
}

/// Says which findings of `s` (a screening of `text`; `None` for a document
/// that could not be read) the allow-list and the baseline cover, and what the
/// CI gate counts. Nothing in `s` changes.
pub fn apply(
    s: &Screening,
    text: Option<&str>,
    pack: &RulePack,
    allow: Option<&AllowList>,
    fp: Option<&Fingerprinter>,
    baseline: Option<&HashSet<String>>,
) -> Applied {
    let n = s.findings.len();
    let mut out = Applied { accepted: vec![Accepted::default(); n], fingerprints: vec![None; n], baselined: 0, allow_listed: 0, gate: s.decision.verdict };
    let Some(text) = text else { return out };
    for (i, f) in s.findings.iter().enumerate() {
        let print = fp.map(|fp| fp.fingerprint(f, text, &s.content_sha256));
        if acceptable(f, pack) {
            let a = &mut out.accepted[i];
            a.allow_listed = allow.is_some_and(|l| l.allows(f, text));
            a.baselined = matches!((&print, baseline), (Some(p), Some(b)) if b.contains(p));
            out.allow_listed += usize::from(a.allow_listed);
            out.baselined += usize::from(a.baselined);
        }
        out.fingerprints[i] = print;
    }
    if s.decision.verdict != Verdict::Withhold && out.accepted.iter().any(|a| a.any()) {
        let counted = s.findings.iter().zip(&out.accepted).filter(|(_, a)| !a.any()).map(|(f, _)| verdict_of(f.action)).max();
        out.gate = counted.unwrap_or(Verdict::Publish).min(s.decision.verdict);
    }
    out
}

/// The baseline entries `--write-baseline` records for a screening: one per
/// [`acceptable`] finding that the allow-list does not already cover.
pub fn entries(s: &Screening, applied: &Applied, pack: &RulePack, path: &str) -> Vec<BaselineEntry> {
    s.findings
        .iter()
        .zip(&applied.accepted)
        .zip(&applied.fingerprints)
        .filter(|((f, a), _)| acceptable(f, pack) && !a.allow_listed)
        .filter_map(|((f, _), p)| {
            p.as_ref().map(|p| BaselineEntry { fingerprint: p.clone(), rule: f.rule.to_string(), kind: f.kind.as_str().to_owned(), path: path.to_owned() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Everything a baseline or allow-list must not change.
    fn decided(s: &Screener, t: &str, sc: &Screening) -> (crate::verdict::Decision, Vec<Finding>, String) {
        (sc.decision.clone(), sc.findings.clone(), s.redact(t, sc))
    }

    #[test]
    fn baseline_changes_the_gate_never_the_decision() {
        let s = Screener::embedded().unwrap();
        let fp = Fingerprinter::new(b"0123456789abcdef").unwrap();
        let first = s.screen(DOC);
        assert_eq!(first.decision.verdict, crate::Verdict::Redact);
        let before = decided(&s, DOC, &first);
        let applied = apply(&first, Some(DOC), s.pack(), None, Some(&fp), None);
        assert_eq!(applied.gate, crate::Verdict::Redact, "no baseline: the gate is the verdict");
        let set: HashSet<String> = entries(&first, &applied, s.pack(), "a").into_iter().map(|e| e.fingerprint).collect();
        assert_eq!(set.len(), first.findings.len());
        let again = s.screen(DOC);
        let a = apply(&again, Some(DOC), s.pack(), None, Some(&fp), Some(&set));
        assert_eq!(a.baselined, set.len());
        assert!(a.accepted.iter().all(|x| x.baselined));
        assert_eq!(a.gate, crate::Verdict::Publish);
        assert_eq!(decided(&s, DOC, &again), before, "verdict, findings and redaction unchanged");
        assert!(!s.redact(DOC, &again).contains("13912345678"));
        // A new value is not covered.
        let doc2 = DOC.replace("13912345678", "13987654321");
        let third = s.screen(&doc2);
        assert_eq!(apply(&third, Some(&doc2), s.pack(), None, Some(&fp), Some(&set)).gate, crate::Verdict::Redact);
    }

    #[test]
    fn withholding_findings_are_never_covered_nor_written() {
        let s = Screener::embedded().unwrap();
        let fp = Fingerprinter::new(b"0123456789abcdef").unwrap();
        let doc = format!("机密★5年\n通知\n{DOC}");
        let sc = s.screen(&doc);
        assert_eq!(sc.decision.verdict, crate::Verdict::Withhold);
        let all: HashSet<String> = sc.findings.iter().map(|f| fp.fingerprint(f, &doc, &sc.content_sha256)).collect();
        let a = apply(&sc, Some(&doc), s.pack(), None, Some(&fp), Some(&all));
        assert_eq!(a.gate, crate::Verdict::Withhold);
        for (f, x) in sc.findings.iter().zip(&a.accepted) {
            assert_eq!(x.baselined, f.action != Action::Withhold, "{}", f.rule);
        }
        let written = entries(&sc, &a, s.pack(), "d");
        assert_eq!(written.len(), sc.findings.iter().filter(|f| f.action == Action::Redact).count());
        assert!(!written.is_empty() && written.iter().all(|e| e.kind != "classification_mark"));
        // A hand-made entry for the mark is refused when the file is read.
        let mark = sc.findings.iter().find(|f| f.action == Action::Withhold).unwrap();
        let bad = BaselineFile {
            version: BASELINE_VERSION.into(),
            findings: vec![BaselineEntry { fingerprint: fp.fingerprint(mark, &doc, "d"), rule: mark.rule.to_string(), kind: "x".into(), path: "d".into() }],
        };
        let e = bad.check("bl.json", s.pack()).unwrap_err().to_string();
        assert!(e.contains("bl.json: entry 1") && e.contains(&*mark.rule) && e.contains("withholds"), "{e}");
        let mut lied = bad.clone();
        lied.findings[0].rule = "pd.phone.mobile".into();
        assert!(lied.check("bl.json", s.pack()).is_err(), "the fingerprint's rule is the one that counts");
        let ok = BaselineFile { version: BASELINE_VERSION.into(), findings: written };
        ok.check("bl.json", s.pack()).unwrap();
    }

    #[test]
    fn allow_list_by_value_and_kind() {
        let s = Screener::embedded().unwrap();
        let a = AllowList::parse("t", "# hotline\nphone: 0571 8765 4321\n13912345678 # any kind\n", &s).unwrap();
        let sc = s.screen(DOC);
        let before = decided(&s, DOC, &sc);
        let n = sc.findings.iter().filter(|f| f.kind == Kind::Phone).count();
        let r = apply(&sc, Some(DOC), s.pack(), Some(&a), None, None);
        assert_eq!(r.allow_listed, n);
        assert_eq!(decided(&s, DOC, &sc), before, "the allow-list changes no action");
        assert!(sc.findings.iter().zip(&r.accepted).all(|(f, x)| x.allow_listed == (f.kind == Kind::Phone)));
        assert_eq!(strip_comment("address: 海滨华庭3#楼1502室 # note"), "address: 海滨华庭3#楼1502室 ");
        assert_eq!(strip_comment("# all"), "");
        let a = AllowList::parse("t", "person_name: 13912345678", &s).unwrap();
        assert_eq!(apply(&sc, Some(DOC), s.pack(), Some(&a), None, None).allow_listed, 0, "wrong kind");
        assert!(AllowList::parse("t", "nosuchkind: x", &s).is_err());
    }

    #[test]
    fn allow_list_entries_that_would_withhold_are_errors_naming_the_line() {
        let s = Screener::embedded().unwrap();
        for (text, line) in [("# ok\n0571 8765 4321\n机密★5年\n", 3), ("classification_mark: 机密", 1), ("phone: 1\ntrade_secret_mark: x", 2), ("绝密★启用前", 1)] {
            let e = AllowList::parse("allow.txt", text, &s).unwrap_err().to_string();
            assert!(e.starts_with(&format!("allow.txt:{line}: rule ")) && e.contains("withholds"), "{text:?}: {e}");
            assert!(!e.contains("机密★") && !e.contains("0571"), "the error names the line, not the value: {e}");
        }
        // Even past the reader, a withholding finding is never allowed.
        let mut a = AllowList::default();
        a.any.insert(normalize_value("机密★5年"));
        let doc = "机密★5年\n通知\n";
        let sc = s.screen(doc);
        let r = apply(&sc, Some(doc), s.pack(), Some(&a), None, None);
        assert_eq!((r.allow_listed, r.gate), (0, crate::Verdict::Withhold));
    }
}

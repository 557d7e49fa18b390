//! The [`Screener`]: the only place the pipeline is composed.
//!
//! normalize → detect (terms, patterns, numbers, names) → decide → redact.
//! Build one `Screener` at start-up (dictionary, automata, regexes) and share it:
//! it is `Send + Sync` and cheap to clone.

use crate::budget::{Budget, Stopped};
use crate::detect::{Engine, Finding, Layout, Prepared};
use crate::redact;
use crate::rules::{RuleError, RulePack};
use crate::verdict::{self, Decision};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// Errors building a screener.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rule packs are invalid.
    #[error(transparent)]
    Rules(#[from] RuleError),
}

/// Configures a [`Screener`].
#[derive(Debug, Default, Clone)]
pub struct ScreenerBuilder {
    rules_dir: Option<PathBuf>,
}

impl ScreenerBuilder {
    /// Overlays the embedded packs with the packs in `dir` (`--rules DIR`).
    pub fn rules_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.rules_dir = Some(dir.into());
        self
    }

    /// Compiles the packs and builds the detectors.
    pub fn build(self) -> Result<Screener, Error> {
        let pack = match &self.rules_dir {
            Some(d) => RulePack::with_dir(d)?,
            None => RulePack::embedded()?,
        };
        Ok(Screener::from_pack(Arc::new(pack)))
    }
}

/// The screening engine. Clone it freely: clones share one engine.
#[derive(Debug, Clone)]
pub struct Screener {
    engine: Arc<Engine>,
}

/// The result of screening one text.
#[derive(Debug, Clone)]
pub struct Screening {
    /// Verdict and reasons.
    pub decision: Decision,
    /// Findings sorted by position in the original text.
    pub findings: Vec<Finding>,
    /// SHA-256 of the document bytes as given.
    pub content_sha256: String,
}

impl Screener {
    /// A builder.
    pub fn builder() -> ScreenerBuilder {
        ScreenerBuilder::default()
    }

    /// The embedded default packs.
    pub fn embedded() -> Result<Screener, Error> {
        Screener::builder().build()
    }

    /// A screener over an already compiled pack.
    pub fn from_pack(pack: Arc<RulePack>) -> Screener {
        Screener {
            engine: Arc::new(Engine::new(pack)),
        }
    }

    /// The compiled pack.
    pub fn pack(&self) -> &Arc<RulePack> {
        self.engine.pack()
    }

    /// The detection engine (benchmarks and the rule checker use it).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// SHA-256 of the rule packs, cited in every output.
    pub fn rules_sha256(&self) -> &str {
        &self.engine.pack().sha256
    }

    /// Screens a text. A text over [`MAX_DOCUMENT_BYTES`] is not screened: it is
    /// withheld as unreadable (a document that was not reviewed is never published).
    pub fn screen(&self, text: &str) -> Screening {
        self.screen_full(text, &Layout::default(), &[])
    }

    /// Screens an extracted document (docx, xlsx, pdf, …): like
    /// [`Screener::screen`] on its text, with its page-header parts counted as
    /// header (版头) and its structured leaves as text blocks ([`Layout`]).
    pub fn screen_extracted(&self, e: &crate::ingest::Extracted) -> Screening {
        self.screen_full(&e.text, &e.layout(), &[])
    }

    /// Screens a text whose byte ranges `page_headers` are page-header parts.
    pub fn screen_with_page_headers(&self, text: &str, page_headers: &[std::ops::Range<usize>]) -> Screening {
        self.screen_full(text, &Layout::with_page_headers(page_headers), &[])
    }

    /// Screens a text for the `checked` categories only (empty: all).
    pub fn screen_checked(&self, text: &str, checked: &[crate::Category]) -> Screening {
        self.screen_full(text, &Layout::default(), checked)
    }

    /// The one screening path: a text with its [`Layout`] (page-header parts,
    /// text blocks), for the
    /// `checked` categories (empty: all). The decision is made here, once: it
    /// names the categories checked and marks a screening that skipped some as
    /// partial ([`Decision::partial`]), whose `publish` is not a clearance.
    /// Findings of unchecked categories are dropped.
    pub fn screen_full(&self, text: &str, layout: &Layout, checked: &[crate::Category]) -> Screening {
        match self.screen_full_within(text, layout, checked, &Budget::unlimited()) {
            Ok(s) => s,
            Err(Stopped) => unreachable!("an unlimited budget never stops"),
        }
    }

    /// [`Screener::screen_full`] within `budget`: once the deadline passes or
    /// the flag is set, `Err(Stopped)` — no verdict, never a partial one.
    /// Checked between the steps and every few thousand characters or
    /// candidates inside the long ones (normalization and hashing run whole:
    /// they go at about 1 GB/s).
    pub fn screen_full_within(
        &self,
        text: &str,
        layout: &Layout,
        checked: &[crate::Category],
        budget: &Budget,
    ) -> Result<Screening, Stopped> {
        budget.check()?;
        if text.len() > MAX_DOCUMENT_BYTES {
            return Ok(self.unreadable(text.as_bytes(), &format!("document of {} bytes exceeds the limit of {MAX_DOCUMENT_BYTES} bytes", text.len())));
        }
        let p = Prepared::with_layout(text, self.engine.pack().policy.header_lines, layout);
        budget.check()?;
        let mut findings = self.engine.detect_within(&p, budget)?;
        let decision = verdict::decide_checked(&findings, checked);
        findings.retain(|f| decision.checked.contains(&f.category));
        budget.check()?;
        let content_sha256 = sha256_hex(text.as_bytes());
        budget.check()?;
        Ok(Screening { decision, findings, content_sha256 })
    }

    /// Screens raw bytes that should be UTF-8 text. Invalid UTF-8 is never
    /// published: the result is `withhold` with an `unreadable` reason naming the
    /// byte offset, and `None` as text.
    pub fn screen_utf8(&self, bytes: &[u8]) -> (Option<String>, Screening) {
        match std::str::from_utf8(bytes) {
            Ok(t) => (Some(t.to_owned()), self.screen(t)),
            Err(e) => (
                None,
                self.unreadable(bytes, &format!("invalid UTF-8 at byte {}", e.valid_up_to())),
            ),
        }
    }

    /// The screening of a document that could not be read.
    pub fn unreadable(&self, bytes: &[u8], why: &str) -> Screening {
        Screening {
            decision: verdict::unreadable(why),
            findings: Vec::new(),
            content_sha256: sha256_hex(bytes),
        }
    }

    /// The redacted text (same number of characters as `text`).
    pub fn redact(&self, text: &str, s: &Screening) -> String {
        redact::redact(text, &s.findings, &self.engine.pack().policy)
    }
}

/// The largest document screened (bytes of text); larger ones are withheld as unreadable.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 30;

/// Lower-case hex SHA-256.
pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    const TEXT: &str = "联系人张伟，联系电话：13800138000。\n身份证号码：110101199003071233\n";

    #[test]
    fn an_exhausted_budget_stops_screening_without_a_verdict() {
        let s = Screener::embedded().unwrap();
        let past = Budget::unlimited().with_deadline(Instant::now() - Duration::from_millis(1));
        assert_eq!(s.screen_full_within(TEXT, &Layout::default(), &[], &past).unwrap_err(), Stopped);
        let flag = Arc::new(AtomicBool::new(true));
        let cancelled = Budget::unlimited().with_flag(flag);
        assert_eq!(s.screen_full_within(TEXT, &Layout::default(), &[], &cancelled).unwrap_err(), Stopped);
        // Time left: the same screening as without a budget.
        let later = Budget::unlimited().with_deadline(Instant::now() + Duration::from_secs(3600));
        let within = s.screen_full_within(TEXT, &Layout::default(), &[], &later).unwrap();
        let plain = s.screen(TEXT);
        assert_eq!(within.findings, plain.findings);
        assert_eq!(within.decision.verdict, plain.decision.verdict);
        assert_eq!(plain.decision.verdict, crate::Verdict::Redact);
    }
}

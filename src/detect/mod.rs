//! Detection: every rule of the pack turned into findings over one prepared text.
//!
//! The text is normalized once into a [`Prepared`] value that every detector
//! borrows. Detectors produce [`Candidate`]s in normalized offsets; the common
//! tail here applies scope, context words and the policy threshold, maps spans
//! back to the original text and resolves overlaps.

pub mod address;
pub mod columns;
pub mod header;
pub mod names;
pub mod numbers;
pub mod validate;

use crate::budget::{Budget, Stopped};
use crate::normalize::Normalized;
use crate::rules::model::{Action, Builtin, Category, Kind, Scope, Validator};
use crate::rules::{Matcher, RulePack};
use crate::span::{Span, back_chars, fwd_chars};
use crate::tokenize::Tokenizer;
use names::{NameDetector, Role};
use numbers::NumKind;
use std::sync::Arc;
use validate::{luhn, resident_id};

/// What an extractor knows of a document's structure beyond its text: byte
/// ranges of the original text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Page-header parts (`word/header1.xml`, a pptx's masters): header, whole.
    pub page_headers: Vec<std::ops::Range<usize>>,
    /// Text blocks: each leaf value of a JSON, XML or HTML document. A block
    /// starts a line (`{"正文": "机密★5年…"}` is read as `正文: 机密★5年…`, and
    /// the mark stands at the start of its value), and its opening lines are a
    /// header of their own, located as a document's are ([`header`]).
    pub blocks: Vec<std::ops::Range<usize>>,
}

impl Layout {
    /// A layout with page-header parts only.
    pub fn with_page_headers(page_headers: &[std::ops::Range<usize>]) -> Layout {
        Layout { page_headers: page_headers.to_vec(), blocks: Vec::new() }
    }
}

/// A document's text prepared for detection: computed once, borrowed by all.
#[derive(Debug)]
pub struct Prepared<'a> {
    /// The original text.
    pub original: &'a str,
    /// The folded text and its offset map.
    pub norm: Normalized,
    /// Normalized byte offset where the header (版头) ends: one past its last byte.
    pub header_end: usize,
    /// The header and title, in normalized offsets (see [`header`]).
    pub header: header::Header,
    /// Where the text blocks of the [`Layout`] start (normalized, sorted).
    block_starts: Vec<usize>,
}

impl<'a> Prepared<'a> {
    /// Normalizes `original`; the header is the lines and cells before its
    /// title or 发文机关标志, at most `header_lines` non-blank lines (see [`header`]).
    pub fn new(original: &'a str, header_lines: usize) -> Prepared<'a> {
        Prepared::with_layout(original, header_lines, &Layout::default())
    }

    /// Like [`Prepared::new`], with the byte ranges of `original` that are
    /// page-header parts (`word/header1.xml`): they are header, whole.
    pub fn with_page_headers(original: &'a str, header_lines: usize, parts: &[std::ops::Range<usize>]) -> Prepared<'a> {
        Prepared::with_layout(original, header_lines, &Layout::with_page_headers(parts))
    }

    /// Like [`Prepared::new`], with the document's [`Layout`]: page-header
    /// parts are header, whole; each block's opening lines are header too.
    pub fn with_layout(original: &'a str, header_lines: usize, layout: &Layout) -> Prepared<'a> {
        let norm = Normalized::new(original);
        let to_norm = |r: &std::ops::Range<usize>| norm.from_original(r.start.min(original.len()))..norm.from_original(r.end.min(original.len()));
        let mut ranges: Vec<std::ops::Range<usize>> = layout.page_headers.iter().map(to_norm).filter(|r| r.start < r.end).collect();
        ranges.sort_by_key(|r| r.start);
        let mut header = header::locate(&norm.text, header_lines, ranges);
        let mut block_starts = Vec::with_capacity(layout.blocks.len());
        for b in layout.blocks.iter().map(to_norm).filter(|r| r.start < r.end) {
            block_starts.push(b.start);
            // One pass over at most `2 × header_lines` lines of each block.
            let h = header::locate(&norm.text[b.clone()], header_lines, Vec::new());
            if h.body_end > 0 {
                header.parts.push(b.start..b.start + h.body_end);
            }
        }
        block_starts.sort_unstable();
        header.normalize_parts();
        Prepared {
            original,
            header_end: header.end(),
            norm,
            header,
            block_starts,
        }
    }

    /// True when only blanks stand between a block's start and `at`.
    fn at_block_start(&self, at: usize) -> bool {
        let i = self.block_starts.partition_point(|&s| s <= at);
        i > 0 && self.norm.text[self.block_starts[i - 1]..at].chars().all(|c| c == ' ' || c == '\t')
    }
}

/// A raw match in normalized offsets, before the common tail.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of the rule in the pack.
    pub rule: usize,
    /// Start (normalized bytes).
    pub start: usize,
    /// End (normalized bytes).
    pub end: usize,
    /// Confidence before context.
    pub confidence: f64,
    /// What matched and what was checked.
    pub detail: String,
    /// For person names: the role context gave.
    pub role: Option<Role>,
}

/// One finding: which rule, where (original text), how sure, what to do, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Rule id.
    pub rule: Arc<str>,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: Kind,
    /// Span in the ORIGINAL text.
    pub span: Span,
    /// Confidence 0–1.
    pub confidence: f64,
    /// Action from the policy.
    pub action: Action,
    /// Legal basis.
    pub basis: Arc<str>,
    /// Which matcher, validator result, context words and score.
    pub explanation: String,
}

/// The compiled detector set for one pack.
#[derive(Debug)]
pub struct Engine {
    pack: Arc<RulePack>,
    names: NameDetector,
    tokenizer: Tokenizer,
    has_numbers: bool,
    has_names: bool,
    has_columns: bool,
    /// The gazetteer address detector, when a rule uses it.
    addresses: Option<address::AddressDetector>,
}

/// Priority when two findings overlap: the higher wins.
fn priority(k: Kind) -> u8 {
    match k {
        Kind::ClassificationMark | Kind::TradeSecretMark | Kind::InternalMarking | Kind::ProcessDraft => 9,
        Kind::ResidentId => 8,
        Kind::BankCard => 7,
        Kind::Passport | Kind::OtherId => 6,
        Kind::Phone => 5,
        Kind::Email => 5,
        Kind::SecretTerm => 4,
        Kind::TenderSecret | Kind::TradeSecretTerm => 4,
        Kind::Address => 3,
        Kind::PersonName => 2,
    }
}

impl Engine {
    /// Builds the detectors (tokenizer dictionary, name lexicons) for `pack`.
    pub fn new(pack: Arc<RulePack>) -> Engine {
        let b = &pack.builtin;
        let names = NameDetector::new(b);
        let tokenizer = Tokenizer::new(names.dictionary_words());
        let has = |x: &[Builtin]| {
            pack.rules
                .iter()
                .any(|r| matches!(&r.matcher, Matcher::Builtin(b) if x.contains(b)))
        };
        let has_numbers = has(&[
            Builtin::ResidentId,
            Builtin::ResidentId15,
            Builtin::Mobile,
            Builtin::Landline,
            Builtin::BankCard,
        ]);
        let has_names = has(&[Builtin::PersonName]);
        let has_columns = has(&[Builtin::IdColumn]);
        let addresses = has(&[Builtin::Address]).then(|| {
            address::AddressDetector::new(b.admin_divisions.iter().map(String::as_str), b.address_context.iter().map(String::as_str))
        });
        Engine {
            pack,
            names,
            tokenizer,
            has_numbers,
            has_names,
            has_columns,
            addresses,
        }
    }

    /// The pack.
    pub fn pack(&self) -> &Arc<RulePack> {
        &self.pack
    }

    /// The person-name rule detector.
    pub fn names_detector(&self) -> &NameDetector {
        &self.names
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Runs every rule over `p` and returns findings sorted by position.
    pub fn detect(&self, p: &Prepared) -> Vec<Finding> {
        match self.detect_within(p, &Budget::unlimited()) {
            Ok(f) => f,
            Err(Stopped) => unreachable!("an unlimited budget never stops"),
        }
    }

    /// [`Engine::detect`] within `budget`: `Err(Stopped)` once it runs out.
    pub fn detect_within(&self, p: &Prepared, budget: &Budget) -> Result<Vec<Finding>, Stopped> {
        let mut cands = Vec::new();
        self.candidates_within(p, &mut cands, budget)?;
        self.finish_within(p, cands, budget)
    }

    /// Raw candidates of every detector (before scope, context and threshold).
    pub fn candidates(&self, p: &Prepared, out: &mut Vec<Candidate>) {
        if self.candidates_within(p, out, &Budget::unlimited()).is_err() {
            unreachable!("an unlimited budget never stops");
        }
    }

    /// [`Engine::candidates`] within `budget`, checked every few thousand
    /// bytes of text or matches in each detector.
    pub fn candidates_within(&self, p: &Prepared, out: &mut Vec<Candidate>, budget: &Budget) -> Result<(), Stopped> {
        let text = p.norm.text.as_str();
        let rules = &self.pack.rules;
        budget.check()?;
        // Terms: one automaton for every keyword and lexicon rule.
        if let Some(ac) = &self.pack.terms {
            let mut meter = budget.meter();
            for m in ac.find_iter(text) {
                let (s, e) = (m.start(), m.end());
                meter.at(s)?;
                if ascii_glued(text, s, e) {
                    continue;
                }
                let rule = self.pack.term_rule[m.pattern().as_usize()] as usize;
                out.push(Candidate {
                    rule,
                    start: s,
                    end: e,
                    confidence: rules[rule].confidence,
                    detail: "term from lexicon".into(),
                    role: None,
                });
            }
        }
        // Anchors of near-windowed rules: one pass for all of them.
        let mut anchors: Vec<Vec<(usize, usize)>> = Vec::new();
        budget.check()?;
        if let Some(ps) = &self.pack.near_packed {
            anchors.resize(rules.len(), Vec::new());
            let mut meter = budget.meter();
            for m in ps.find_iter(text.as_bytes()) {
                meter.at(m.start())?;
                for &ri in &self.pack.near_rules[m.pattern().as_usize()] {
                    anchors[ri as usize].push((m.start(), m.end()));
                }
            }
        } else if let Some(ac) = &self.pack.near_terms {
            anchors.resize(rules.len(), Vec::new());
            let mut meter = budget.meter();
            for m in ac.find_iter(text) {
                meter.at(m.start())?;
                for &ri in &self.pack.near_rules[m.pattern().as_usize()] {
                    anchors[ri as usize].push((m.start(), m.end()));
                }
            }
        }
        for (ri, r) in rules.iter().enumerate() {
            if let Matcher::Regex(re, validator) = &r.matcher {
                // Header rules only look at the header; near-anchored rules only
                // at windows around their anchors.
                let hay_end = match r.scope {
                    Scope::Header | Scope::HeaderField => p.header_end,
                    Scope::Title => p.header.title.as_ref().map_or(0, |t| t.end),
                    _ => text.len(),
                };
                budget.check()?;
                match r.near {
                    None => regex_candidates(text, 0, hay_end, re, *validator, ri, r.confidence, out, budget)?,
                    Some(window) => {
                        let mut covered = 0;
                        let mut meter = budget.meter();
                        for &(ms, me) in anchors.get(ri).map_or(&[][..], Vec::as_slice) {
                            meter.at(ms)?;
                            if ms < covered || me > hay_end {
                                continue;
                            }
                            let ws = back_chars(text, ms, window).max(covered);
                            let we = fwd_chars(text, me, window).min(hay_end);
                            let before = out.len();
                            regex_candidates(text, ws, we, re, *validator, ri, r.confidence, out, &Budget::unlimited())?;
                            // Windows may overlap their predecessor: keep each match once.
                            covered = out[before..].iter().map(|c| c.end).max().unwrap_or(ws).max(me);
                        }
                    }
                }
            }
        }
        if self.has_numbers {
            budget.check()?;
            let (nums, _near) = numbers::scan_within(text, &self.pack.builtin.phone, budget)?;
            for n in nums {
                let want = match n.kind {
                    NumKind::ResidentId => Builtin::ResidentId,
                    NumKind::ResidentId15 => Builtin::ResidentId15,
                    NumKind::Mobile => Builtin::Mobile,
                    NumKind::Landline => Builtin::Landline,
                    NumKind::BankCard => Builtin::BankCard,
                };
                for (ri, _) in builtin_rules(rules, want) {
                    out.push(Candidate {
                        rule: ri,
                        start: n.start,
                        end: n.end,
                        confidence: n.confidence,
                        detail: n.detail.clone(),
                        role: None,
                    });
                }
            }
        }
        if let Some(det) = &self.addresses {
            budget.check()?;
            let hits = det.detect(text);
            let spans = hits.iter().map(|h| {
                (h.start, h.end, format!("{} administrative division(s) of the gazetteer, down to a road, village, group or room; {}", h.divisions, h.context))
            });
            rule_candidates(rules, Builtin::Address, spans, out);
        }
        if self.has_columns {
            budget.check()?;
            let hits = columns::detect(text);
            let spans = hits.iter().map(|h| (h.start, h.end, format!("a cell of the {} column", h.header)));
            rule_candidates(rules, Builtin::IdColumn, spans, out);
        }
        if self.has_names {
            budget.check()?;
            use crate::rules::model::NameModelUse;
            let min = self.pack.policy.threshold(Kind::PersonName);
            let mut hits = self.names.detect_within(&self.tokenizer, text, budget)?;
            if self.pack.policy.name_model == NameModelUse::Core
                && let Some(m) = self.pack.builtin.name_model.as_deref()
            {
                budget.check()?;
                names::combine::with_model(&self.names, m, &self.tokenizer, text, &mut hits, min, budget)?;
            }
            budget.check()?;
            self.names.propagate_within(&self.tokenizer, text, &mut hits, min, budget)?;
            if self.pack.policy.name_model == NameModelUse::Add {
                budget.check()?;
                self.add_model_names(text, &mut hits);
            }
            for (ri, _) in builtin_rules(rules, Builtin::PersonName) {
                out.extend(hits.iter().map(|h| Candidate {
                    rule: ri,
                    start: h.start,
                    end: h.end,
                    confidence: h.score.min(0.99),
                    detail: h.why.clone(),
                    role: Some(h.role),
                }));
            }
        }
        budget.check()
    }

    /// `name_model = "add"`: the model's spans that no rule hypothesis overlaps.
    fn add_model_names(&self, text: &str, hits: &mut Vec<names::NameHit>) {
        let Some(m) = self.pack.builtin.name_model.as_deref() else { return };
        let min = self.pack.policy.threshold(Kind::PersonName);
        let mut spans = Vec::new();
        m.spans_in(&self.tokenizer, text, 0..text.len(), &mut spans);
        for s in spans {
            // 张某, 李某某: already anonymized, never a name (the model may tag
            // the surname alone).
            let anonymized = text[s.start..s.end].contains('某') || text[s.end..].starts_with('某');
            if s.score >= min && !anonymized && !hits.iter().any(|h| h.start < s.end && s.start < h.end) {
                hits.push(names::NameHit {
                    start: s.start,
                    end: s.end,
                    score: s.score,
                    role: Role::Unknown,
                    why: format!("name model p={:.2} (no rule hypothesis)", s.score),
                    held: false,
                    context: false,
                });
            }
        }
    }

    /// Scope, context, threshold, offsets back to the original, overlaps.
    pub fn finish(&self, p: &Prepared, cands: Vec<Candidate>) -> Vec<Finding> {
        match self.finish_within(p, cands, &Budget::unlimited()) {
            Ok(f) => f,
            Err(Stopped) => unreachable!("an unlimited budget never stops"),
        }
    }

    /// [`Engine::finish`] within `budget`, checked every few thousand candidates.
    pub fn finish_within(&self, p: &Prepared, cands: Vec<Candidate>, budget: &Budget) -> Result<Vec<Finding>, Stopped> {
        let text = p.norm.text.as_str();
        let policy = &self.pack.policy;
        let mut found: Vec<(u8, Finding)> = Vec::with_capacity(cands.len());
        let mut meter = budget.meter_every(1024);
        for (n, c) in cands.into_iter().enumerate() {
            meter.at(n)?;
            let r = &self.pack.rules[c.rule];
            let in_header = || p.header.contains(c.start);
            match r.scope {
                Scope::Header if !in_header() => continue,
                Scope::LineStart
                    if !(at_line_start(text, c.start) || p.at_block_start(c.start) || (in_header() && at_field_start(text, c.start))) =>
                {
                    continue;
                }
                Scope::HeaderField if !(in_header() && at_field_start(text, c.start) && at_field_end(text, c.end)) => continue,
                Scope::Title if !p.header.in_title(c.start) => continue,
                _ => {}
            }
            let mut conf = c.confidence;
            let mut context_word: Option<&str> = None;
            if let Some(ctx) = &r.context {
                let before = &text[back_chars(text, c.start, ctx.window)..c.start];
                let after = &text[c.end..fwd_chars(text, c.end, ctx.window)];
                let hit = ctx
                    .words
                    .iter()
                    .find(|w| before.contains(w.as_str()) || after.contains(w.as_str()));
                match hit {
                    Some(w) => {
                        conf = (conf + ctx.boost).min(1.0);
                        context_word = Some(w.as_str());
                    }
                    None if ctx.required => continue,
                    None => {}
                }
            }
            if conf < policy.threshold(r.kind) {
                continue;
            }
            // The explanation is built only for findings that pass the threshold.
            use std::fmt::Write as _;
            let mut why = String::with_capacity(96 + c.detail.len());
            let _ = write!(why, "{}: {}", r.id, c.detail);
            if let (Some(w), Some(ctx)) = (context_word, &r.context) {
                let _ = write!(why, "; context word {w:?} within {} chars", ctx.window);
            }
            let mut action = r.action;
            if let Some(role) = c.role {
                why.push_str(match role {
                    Role::Official => "; role: official acting in office",
                    Role::Private => "; role: private person",
                    Role::Unknown => "; role: unknown (treated as private)",
                });
                if role == Role::Official && action == Action::Redact {
                    action = policy.official_person_name;
                }
            }
            if let Some(note) = &r.spec.explain {
                let _ = write!(why, "; {note}");
            }
            let _ = write!(why, "; score {conf:.2} (threshold {:.2})", policy.threshold(r.kind));
            let span = p.norm.span_to_original(c.start, c.end, p.original);
            found.push((
                priority(r.kind),
                Finding {
                    rule: r.id.clone(),
                    category: r.category,
                    kind: r.kind,
                    span,
                    confidence: (conf * 100.0).round() / 100.0,
                    action,
                    basis: r.basis.clone(),
                    explanation: why,
                },
            ));
        }
        budget.check()?;
        let kept = resolve_overlaps(found);
        budget.check()?;
        Ok(kept)
    }
}

/// A candidate of every rule whose matcher is builtin `b` for each span of a
/// detector (start, end, detail), at the rule's confidence.
fn rule_candidates(rules: &[crate::rules::Rule], b: Builtin, spans: impl Iterator<Item = (usize, usize, String)> + Clone, out: &mut Vec<Candidate>) {
    for (ri, r) in builtin_rules(rules, b) {
        out.extend(spans.clone().map(|(start, end, detail)| Candidate { rule: ri, start, end, confidence: r.confidence, detail, role: None }));
    }
}

/// The rules (with their index) whose matcher is builtin `b`.
fn builtin_rules(rules: &[crate::rules::Rule], b: Builtin) -> impl Iterator<Item = (usize, &crate::rules::Rule)> {
    rules.iter().enumerate().filter(move |(_, r)| matches!(r.matcher, Matcher::Builtin(x) if x == b))
}

/// Keeps, among overlapping findings, the one with the higher priority, then
/// confidence, then length. Markings are never dropped: they do not redact.
///
/// Findings are swept in position order into clusters of transitively
/// overlapping spans; only within a cluster (almost always one or two findings)
/// is the priority order applied, so the cost stays linear in practice.
fn resolve_overlaps(mut found: Vec<(u8, Finding)>) -> Vec<Finding> {
    found.sort_by(|a, b| {
        a.1.span
            .start
            .cmp(&b.1.span.start)
            .then(b.1.span.end.cmp(&a.1.span.end))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    let mut cluster: Vec<(u8, Finding)> = Vec::new();
    let mut cluster_end = 0;
    let flush = |cluster: &mut Vec<(u8, Finding)>, kept: &mut Vec<Finding>| {
        if cluster.len() == 1 {
            kept.extend(cluster.drain(..).map(|(_, f)| f));
            return;
        }
        cluster.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.confidence.total_cmp(&a.1.confidence))
                .then(b.1.span.len().cmp(&a.1.span.len()))
                .then(a.1.span.start.cmp(&b.1.span.start))
        });
        let from = kept.len();
        for (prio, f) in cluster.drain(..) {
            let mark = prio == 9;
            if mark
                || !kept[from..]
                    .iter()
                    .any(|k| k.kind.value_is_sensitive() && k.span.overlaps(&f.span))
            {
                kept.push(f);
            }
        }
        kept[from..].sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(a.span.end.cmp(&b.span.end))
        });
    };
    for item in found {
        if !cluster.is_empty() && item.1.span.start >= cluster_end {
            flush(&mut cluster, &mut kept);
        }
        cluster_end = if cluster.is_empty() {
            item.1.span.end
        } else {
            cluster_end.max(item.1.span.end)
        };
        cluster.push(item);
    }
    flush(&mut cluster, &mut kept);
    kept.dedup_by(|a, b| a.span == b.span && a.kind == b.kind);
    kept
}

/// Runs one regex over `text[from..to]`; offsets are into `text`.
#[allow(clippy::too_many_arguments)]
fn regex_candidates(text: &str, from: usize, to: usize, re: &regex::Regex, validator: Option<Validator>, rule: usize, confidence: f64, out: &mut Vec<Candidate>, budget: &Budget) -> Result<(), Stopped> {
    let mut meter = budget.meter();
    let v_idx = re.capture_names().position(|n| n == Some("v"));
    let x_idx = re.capture_names().position(|n| n == Some("x"));
    let hay = &text[..to];
    let mut at = from;
    while at <= hay.len() {
        meter.at(at)?;
        // The lazy DFA finds the match; the slower capture engine only runs on it.
        let Some(found) = re.find_at(hay, at) else { break };
        let Some(c) = re.captures_at(&hay[..found.end()], found.start()) else { break };
        let whole = c.get(0).map_or(at..at, |m| m.range());
        at = if whole.end > whole.start { whole.end } else { whole.end + hay[whole.end..].chars().next().map_or(1, char::len_utf8) };
        if x_idx.is_some_and(|i| c.get(i).is_some()) {
            continue;
        }
        let Some(m) = v_idx.and_then(|i| c.get(i)).or_else(|| c.get(0)) else { continue };
        if m.start() == m.end() || ascii_glued(text, m.start(), m.end()) {
            continue;
        }
        let mut detail = "regex match".to_owned();
        if let Some(v) = validator {
            let raw: Vec<u8> = m.as_str().bytes().filter(u8::is_ascii_alphanumeric).collect();
            let ok = match v {
                Validator::Luhn => luhn::luhn_ok(&raw),
                Validator::ResidentId => resident_id::validate18(&raw).is_valid(),
            };
            if !ok {
                continue;
            }
            detail = format!("regex match, {v:?} validator passes");
        }
        out.push(Candidate { rule, start: m.start(), end: m.end(), confidence, detail, role: None });
    }
    Ok(())
}

/// True when only blanks stand between the previous line break and `at`.
fn at_line_start(text: &str, at: usize) -> bool {
    text[..at].chars().rev().take_while(|&c| c != '\n').all(|c| c == ' ' || c == '\t')
}

/// True at a line start or after a header field separator (tab, `|`, blank).
fn at_field_start(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_none_or(|c| c == '\n' || header::is_separator(c))
}

/// True at a line end or before a header field separator.
fn at_field_end(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_none_or(|c| c == '\n' || header::is_separator(c))
}

/// True when an ASCII term is glued to ASCII alphanumerics (a part of a longer word).
fn ascii_glued(text: &str, s: usize, e: usize) -> bool {
    let b = text.as_bytes();
    let left = s > 0 && b[s - 1].is_ascii_alphanumeric() && b[s].is_ascii_alphanumeric();
    let right = e < b.len() && b[e].is_ascii_alphanumeric() && b[e - 1].is_ascii_alphanumeric();
    left || right
}

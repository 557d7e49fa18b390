//! The model step: the trained CRF ([`super::model`]) weighs every name the
//! rules proposed and proposes its own, and one decision per span comes out.
//!
//! Inputs: the rule detector's scored hypotheses ([`super::NameHit`], with
//! `context` set when a title, label, honorific, list or table cell stands
//! next to the name). The model tags a window of [`MODEL_MARGIN`] characters
//! around each hypothesis *without* context (windows merged): it gives its
//! own spans there and, for each such hypothesis, the probability `p` that
//! exactly that span is a name. Nothing else is tagged, so the model's cost
//! follows the number of doubtful hypotheses, not the length of the text.
//!
//! The decision, span by span:
//!
//! | case | result |
//! |---|---|
//! | a rule hypothesis with context (or a transliterated foreign name) | kept at the rule's score, not weighed: notices put names where news never does (table cells, labels), and the model's doubt does not overrule such context |
//! | a rule hypothesis without context | the model decides: score `p`; an ordinary dictionary word (林木/n) needs `p ≥ ORDINARY_WORD_P` |
//! | a held hypothesis (江宏伟 with no context) | stays held (a name if the document repeats it) unless `p` alone passes the threshold |
//! | a model span no rule proposed (inside a window) | a name at score `p` if `p` passes the threshold, its role from the words around it |
//! | doctrines (毛泽东思想), 王女士 (rules with context) | the rule's result |
//! | 张某, 李某某 | never a name |
//!
//! Where hypotheses overlap with other boundaries, a rule with context wins,
//! then the higher score (the rule on a tie). Each result's explanation gives the
//! model's probability and what the rules did. The document pass
//! ([`super::NameDetector::propagate_within`]) runs after this step.

use super::model::{ModelSpan, NameModel};
use super::{MODEL_MARGIN, NameDetector, NameHit};
use crate::span::{back_chars, fwd_chars};
use crate::budget::{Budget, Stopped};
use crate::tokenize::Tokenizer;

/// The model's probability an ordinary dictionary word (林木/n, 高峰/n) needs
/// to be taken for a name without context.
pub const ORDINARY_WORD_P: f64 = 0.9;

/// A dictionary word jieba does not tag as a name (nr).
fn is_ordinary_word(tok: &Tokenizer, w: &str) -> bool {
    tok.has_word(w) && !tok.dict_tag(w).starts_with("nr")
}

/// Combines `hits` (the rule detector's, in any order) with the model's view
/// of `windows` (sorted, disjoint byte ranges); `min` is the `person_name`
/// threshold. `hits` is replaced by the decisions, sorted by start.
pub fn with_model(
    det: &NameDetector,
    model: &NameModel,
    tok: &Tokenizer,
    text: &str,
    hits: &mut Vec<NameHit>,
    min: f64,
    budget: &Budget,
) -> Result<(), Stopped> {
    hits.sort_by_key(|h| (h.start, h.end));
    // The model weighs the hypotheses without context (and the held ones):
    // each with MODEL_MARGIN characters on either side, windows merged.
    let weighed = |h: &NameHit| !h.context || h.held;
    // The weighed hypotheses: their index in `hits` and their span.
    let qhit: Vec<usize> = (0..hits.len()).filter(|&k| weighed(&hits[k])).collect();
    let queries: Vec<(usize, usize)> = qhit.iter().map(|&k| (hits[k].start, hits[k].end)).collect();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in &queries {
        let ws = back_chars(text, s, MODEL_MARGIN);
        let we = fwd_chars(text, e, MODEL_MARGIN);
        match windows.last_mut() {
            Some(l) if ws <= l.1 => l.1 = l.1.max(we),
            _ => windows.push((ws, we)),
        }
    }
    // `probs[k]` for `hits[k]`; `None` when not weighed or outside every window.
    let mut probs: Vec<Option<f64>> = vec![None; hits.len()];
    let mut spans: Vec<ModelSpan> = Vec::new();
    let mut wp = Vec::new();
    let mut q = 0;
    let (mut inside, mut qs): (Vec<usize>, Vec<(usize, usize)>) = (Vec::new(), Vec::new());
    let mut meter = budget.meter();
    for &(ws, we) in &windows {
        meter.at(ws)?;
        while q < queries.len() && queries[q].0 < ws {
            q += 1;
        }
        let mut qe = q;
        while qe < queries.len() && queries[qe].0 < we {
            qe += 1;
        }
        // Only hypotheses wholly inside the window are scored.
        inside.clear();
        inside.extend((q..qe).filter(|&k| queries[k].1 <= we));
        qs.clear();
        qs.extend(inside.iter().map(|&k| queries[k]));
        model.analyze(tok, text, ws..we, &mut spans, &qs, &mut wp);
        for (&k, &p) in inside.iter().zip(&wp) {
            probs[qhit[k]] = Some(p);
        }
        q = qe;
    }
    let mut out: Vec<NameHit> = Vec::with_capacity(hits.len() + spans.len());
    for (mut h, p) in std::mem::take(hits).into_iter().zip(probs) {
        let Some(p) = p else {
            if h.context && !h.held {
                h.why.push_str("; context: not weighed by the name model");
            }
            out.push(h);
            continue;
        };
        if h.held {
            if p >= min {
                h.held = false;
                h.score = p;
                h.why = format!("name model p={p:.2}; rules: held without context ({})", h.why);
            } else {
                h.why = format!("{}; name model p={p:.2}", h.why);
            }
            out.push(h);
            continue;
        }
        if p < ORDINARY_WORD_P && is_ordinary_word(tok, &text[h.start..h.end]) {
            // 林木, 高峰: an ordinary dictionary word needs the model sure.
            h.why = format!("name model p={p:.2} (an ordinary word needs {ORDINARY_WORD_P}; rules scored {:.2}: {})", h.score, h.why);
            h.score = h.score.min(p);
        } else {
            h.why = format!("name model p={p:.2} (rules scored {:.2}: {})", h.score, h.why);
            h.score = p;
        }
        out.push(h);
    }
    let proposed: rustc_hash::FxHashSet<(usize, usize)> = out.iter().map(|h| (h.start, h.end)).collect();
    for s in spans {
        // Below the threshold a span of the model's own is no finding; 张某,
        // 李某某 are already anonymized (the model may tag the surname alone).
        if s.score < min
            || proposed.contains(&(s.start, s.end))
            || text[s.start..s.end].contains('某')
            || text[s.end..].starts_with('某')
        {
            continue;
        }
        out.push(NameHit {
            start: s.start,
            end: s.end,
            score: s.score,
            role: det.context_role(text, s.start, s.end),
            why: format!("name model p={:.2} (no rule proposed this span)", s.score),
            held: false,
            context: false,
        });
    }
    // Overlaps: a rule with context first (the model does not overrule it),
    // then the higher score; the rule's hypothesis (first in `out` for equal
    // spans) on a tie.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |h: &NameHit| h.context && !h.held;
        key(&out[b]).cmp(&key(&out[a])).then(out[b].score.total_cmp(&out[a].score)).then(a.cmp(&b))
    });
    let mut keep = vec![false; out.len()];
    // Kept spans, disjoint: start → end. A span overlaps a kept one exactly
    // when the last kept span starting before its end reaches past its start.
    let mut taken: std::collections::BTreeMap<usize, usize> = Default::default();
    for i in order {
        let (s, e) = (out[i].start, out[i].end);
        if taken.range(..e).next_back().is_none_or(|(_, &te)| te <= s) {
            keep[i] = true;
            taken.insert(s, e);
        }
    }
    let mut k = keep.into_iter();
    out.retain(|_| k.next().unwrap_or(false));
    out.sort_by_key(|h| (h.start, h.end));
    *hits = out;
    Ok(())
}

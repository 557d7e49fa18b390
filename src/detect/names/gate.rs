//! The gate: one pass over the text finds surname anchors (a surname and a
//! plausible first given character), transliteration runs and bare surnames
//! before titles; jieba runs only on small windows around the anchors, and
//! [`super::NameDetector::detect_within`] hands each window to the hypotheses
//! step. Overlapping hypotheses are resolved here, best score first.

use super::*;

impl NameDetector {
    /// Cheap test, before any tagging: is `c` at byte `i`, followed by `g1` at
    /// `j`, an anchor worth running the tagger for?
    #[inline]
    pub(super) fn anchor_at(&self, tok: &Tokenizer, text: &str, i: usize, c: char, j: usize, g1: char) -> bool {
        let compound_head = self.compound_first.contains(&c);
        let single = self.single.contains(&c);
        if !compound_head && !single {
            return false;
        }
        let two = &text[i..j + g1.len_utf8()];
        if g1 == ' ' || (compound_head && self.compound.contains(two)) {
            return true;
        }
        // The first character of a two-character surname that is no surname on
        // its own (小|野, 山|本, 伊|藤) anchors nothing else.
        if !single {
            return false;
        }
        if !is_han(g1) || self.never_given.contains(&g1) {
            return false;
        }
        if (self.common_given.contains(&g1) && !tok.has_word(two)) || self.ctx_before(text, i).is_some() {
            return true;
        }
        // A dictionary bigram (贺龙) still counts when context follows it or the
        // character after it (贺龙同志, 吴方军说).
        let end2 = j + g1.len_utf8();
        if self.ctx_after(text, end2).is_some() {
            return true;
        }
        let cell = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_digit());
        text[end2..].chars().next().is_some_and(|g2| {
            let end3 = end2 + g2.len_utf8();
            is_han(g2)
                && (self.ctx_after(text, end3).is_some()
                    // A table cell holding surname + two characters (黄家伟).
                    || (cell(text[..i].chars().next_back()) && cell(text[end3..].chars().next()))
                    // An unseen full name whose first given character is rarer
                    // (齐传贤, 曲格平): the second is a common one and neither pair
                    // is a word. The tagger decides.
                    || (!compound_head
                        && self.common_given.contains(&g2)
                        && !self.never_given.contains(&g1)
                        && !tok.has_word(two)
                        && !tok.has_word(&text[j..end3]))
                    // A full name the dictionary knows (路甬祥/nr, 郭沫若/nr): its
                    // given name may use rarer characters.
                    // (Common ones were anchored above unless surname and first
                    // character make a word.)
                    || (!compound_head
                        && !self.common_given.contains(&g1)
                        && !self.never_given.contains(&g2)
                        && tok.has_word(&text[i..end3])
                        && tok.dict_tag(&text[i..end3]).starts_with("nr")))
        })
    }

    /// Finds names in normalized `text`.
    pub fn detect(&self, tok: &Tokenizer, text: &str) -> Vec<NameHit> {
        match self.detect_within(tok, text, &Budget::unlimited()) {
            Ok(h) => h,
            Err(Stopped) => unreachable!("an unlimited budget never stops"),
        }
    }

    /// [`NameDetector::detect`] within `budget` (checked every few thousand
    /// bytes, at clause ends).
    pub fn detect_within(&self, tok: &Tokenizer, text: &str, budget: &Budget) -> Result<Vec<NameHit>, Stopped> {
        let mut meter = budget.meter();
        let mut windows = 0usize;
        let mut hits = Vec::new();
        let mut tokens: Vec<Token> = Vec::new();
        let mut anchors: Vec<usize> = Vec::new();
        let mut scratch = Scratch::default();
        let mut start = 0;
        let mut prev: Option<(usize, char)> = None;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut bare: Vec<usize> = Vec::new();
        let mut run: Option<(usize, usize)> = None;
        // One pass: anchors and transliteration runs are found while clauses are
        // delimited.
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), '\n'))) {
            if self.translit.contains(&c) || (c == '·' && run.is_some()) {
                let (rs, n) = run.unwrap_or((i, 0));
                run = Some((rs, n + usize::from(c != '·')));
            } else if let Some((rs, n)) = run.take() {
                let mut re = text[..i].trim_end_matches('·').len();
                let mut n = n;
                // 费尔南德斯|多次, 萨莫拉诺|门前: the run's last character starts a
                // word with the character after the run; it belongs to that word.
                if n >= 4
                    && let Some(last) = last_starts_word(tok, text, rs, re)
                {
                    re -= last;
                    n -= 1;
                }
                // Two characters (科尔, 库克) only right after a title or label.
                // Not when the second character starts a word with the next one
                // (干部科|科长).
                let titled = || {
                    let second = text[rs..re].char_indices().nth(1).map_or(re, |(i, _)| rs + i);
                    let word_after = text[re..].chars().next().is_some_and(|c| tok.has_word(&text[second..re + c.len_utf8()]));
                    !word_after && self.ctx_before(text, rs).is_some_and(|(_, r)| r != CtxRole::Neutral)
                        // …or right before an honorific (拉埃女士, 琼斯先生) or a
                        // person's verb (里德说, 穆萨表示); titles are not
                        // enough there (福特总裁).
                        || self.t.honorific.iter().any(|h| text[re..].starts_with(h.as_str()))
                        || self.ctx_after(text, re).is_some_and(|(_, r)| r == CtxRole::Label)
                };
                if (n >= 3 || (n == 2 && titled())) && !text[rs..re].ends_with('·') {
                    runs.push((rs, re));
                }
            }
            if !self.breaks.contains(&c) {
                if let Some((pi, pc)) = prev {
                    if self.bare_title_first.contains(&c) && self.bare_surname.contains(&pc) {
                        bare.push(pi);
                    }
                    if self.anchor_at(tok, text, pi, pc, i, c) {
                        anchors.push(pi);
                        meter.at(i)?;
                    } else if self.title_last.contains(&pc)
                        && self.translit.contains(&c)
                        && self.ctx_before(text, i).is_some_and(|(w, r)| matches!(r, CtxRole::Official | CtxRole::Label) && w.chars().count() >= 2)
                    {
                        // Right after a title, a foreign name may follow (names
                        // with a surname are anchored above).
                        anchors.push(i);
                    }
                }
                prev = Some((i, c));
                continue;
            }
            prev = None;
            meter.at(i)?;
            // Tag a window around each anchor (merged when they touch), not the
            // whole clause: the tagger is the expensive step.
            let clause = &text[start..i];
            let mut k = 0;
            while k < anchors.len() {
                // A clause without breaks may hold any number of windows.
                windows += 1;
                if windows % 256 == 0 {
                    budget.check()?;
                }
                let ws = back_chars(clause, anchors[k] - start, WINDOW_BEFORE);
                let mut we = fwd_chars(clause, anchors[k] - start, WINDOW_AFTER);
                k += 1;
                while k < anchors.len() && anchors[k] - start <= we {
                    we = fwd_chars(clause, anchors[k] - start, WINDOW_AFTER);
                    k += 1;
                }
                tok.segment_into(&clause[ws..we], &mut tokens);
                self.hypotheses(tok, text, start + ws, &tokens, &mut hits, &mut scratch);
            }
            anchors.clear();
            start = i + c.len_utf8();
        }
        budget.check()?;
        hits.extend(bare.into_iter().filter_map(|at| self.bare_surname_hit(tok, text, at)));
        budget.check()?;
        self.doctrine_hits(tok, text, &mut hits);
        budget.check()?;
        let mut meter = budget.meter_every(1024);
        for (n, (rs, re)) in runs.into_iter().enumerate() {
            meter.at(n)?;
            if let Some(h) = self.score(tok, text, rs, re, Signal::Translit, true) {
                hits.push(h);
            }
        }
        if !self.keep_all {
            // Windows and transliteration runs can propose overlapping names: in
            // each cluster of overlapping hits, the best ones win.
            hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
            let mut kept: Vec<NameHit> = Vec::with_capacity(hits.len());
            let mut cluster: Vec<NameHit> = Vec::new();
            let mut end = 0;
            for h in hits.into_iter().chain(std::iter::once(NameHit { start: usize::MAX, end: usize::MAX, score: 0.0, role: Role::Unknown, why: String::new(), held: false, context: false })) {
                if !cluster.is_empty() && h.start >= end {
                    // Scores are sums of decimals: equal up to rounding is equal,
                    // and then the longer hypothesis wins (雷德菲尔德 over 雷德菲).
                    let key = |h: &NameHit| (h.score * 1e6).round() as i64;
                    cluster.sort_by(|a, b| key(b).cmp(&key(a)).then((b.end - b.start).cmp(&(a.end - a.start))));
                    let from = kept.len();
                    for c in cluster.drain(..) {
                        if !kept[from..].iter().any(|k| k.start < c.end && c.start < k.end) {
                            kept.push(c);
                        }
                    }
                }
                end = if cluster.is_empty() { h.end } else { end.max(h.end) };
                cluster.push(h);
            }
            kept.sort_by_key(|h| h.start);
            return Ok(kept);
        }
        Ok(hits)
    }
}

//! Hypotheses: in a tagged window, the spans that could be a name (a
//! surname token and one or two given characters, a name jieba tagged `nr`,
//! an out-of-vocabulary token, a name written with inner spaces, a two-character
//! surname and its given name), each with the segmentation signal that proposed
//! it, and the lexicon checks behind them (surname length, given-name
//! plausibility, known names and ordinary words).

use super::*;

impl NameDetector {
    /// True for a dictionary word tagged as a person's name (`nr`, `nrfg`,
    /// `nrt`) with the shape of a full name: a single surname and two given-name
    /// characters, a compound surname and one or two, or three or more
    /// characters of transliteration. Two-character `nr` words are left out:
    /// the dictionary tags many ordinary words so (明白, 阳光, 师生).
    /// `ordinary` tells whether the name splits into ordinary words
    /// ([`NameDetector::ordinary_split`]); asked only when the cheap tests pass.
    pub(super) fn known_name(&self, tok: &Tokenizer, name: &str, sl: usize, sig: Signal, ordinary: impl FnOnce() -> bool) -> bool {
        if !matches!(sig, Signal::DictNr | Signal::Translit | Signal::Part | Signal::SplitNr | Signal::Split) {
            return false;
        }
        let plain = name.chars().filter(|&c| c != '·').count();
        let shape = if sig == Signal::Translit {
            plain >= 3
        } else {
            let n = name.chars().count();
            let single = sl > 0 && sl == name.chars().next().map_or(0, char::len_utf8);
            (single && n == 3) || (!single && sl > 0 && (3..=4).contains(&n))
                || (n >= 3 && name.chars().all(|c| self.translit.contains(&c)))
        };
        if !shape || !(sig == Signal::DictNr || (tok.has_word(name) && tok.dict_tag(name).starts_with("nr"))) {
            return false;
        }
        if sig == Signal::Translit || sl == 0 {
            // jieba's `nrt` and `nr` also cover places, peoples and brands
            // (南斯拉夫, 菲亚特, 哈萨克): a dotted name (卡洛斯·阿马特) is a person
            // for certain; an undotted one when it does not end like a place
            // (the stop list's foreign places and things are ruled out in
            // [`NameDetector::score`] already).
            return name.contains('·') || (!self.t.ends_like_place(name) && !self.foreign_word_edges(tok, name));
        }
        // The dictionary tags places and things `nr` too (雷阵雨, 许可证, 金字塔,
        // 黄鹤楼): a known Chinese name with a rarer given-name character
        // (郭沫若, 路甬祥) must not end like a place, a building or a thing.
        if !name[sl..].chars().all(|c| self.common_given.contains(&c)) {
            // Nor may it be a transliteration (索马里: that is the path above),
            // nor hold an ordinary word (白皮|书, 常备|军, 方|有何).
            let g1 = name[sl..].chars().next().map_or(0, char::len_utf8);
            if name.is_empty()
                || self.t.ends_like_place_or_thing(name)
                || name.chars().all(|c| self.translit.contains(&c))
                || ordinary_word(tok, &name[..sl + g1])
                || ordinary_word(tok, &name[sl..])
            {
                return false;
            }
        }
        // The dictionary also tags some ordinary words `nr` (高水平, 高端化, 安全观):
        // a known name is not an ordinary word after its surname (高|水平) nor
        // an ordinary word plus a character (高端|化, 安全|观).
        !ordinary()
    }

    /// True when a transliterated word starts or ends with a common ordinary word
    /// (森林|法): a thing, not a person. (Places inside are the stop list's
    /// business: jieba tags many name parts `ns`, 德斯, 莫利.)
    pub(super) fn foreign_word_edges(&self, tok: &Tokenizer, name: &str) -> bool {
        let plain = |w: &str| ordinary_word(tok, w) && tok.freq(w) >= COMMON_WORD_FREQ / 4;
        let idx: Vec<usize> = name.char_indices().map(|(i, _)| i).collect();
        idx.len() >= 3 && (plain(&name[..idx[2]]) || plain(&name[idx[idx.len() - 2]..]))
    }

    /// True when a surname-led word splits into ordinary words: an ordinary word
    /// after the surname (高|水平) or before the last character (高端|化, 安全|观).
    pub(super) fn ordinary_split(&self, tok: &Tokenizer, name: &str, sl: usize) -> bool {
        let common_word = |w: &str, min: usize| tok.has_word(w) && (!tok.dict_tag(w).starts_with("nr") || w.chars().count() == 2) && tok.freq(w) >= min;
        // The given part as a common noun, verb or adjective (水平/n, 素质/n); a
        // given name that is also a place or a proper noun (建国/ns, 文华/nz) is
        // left alone.
        let plain = |w: &str| matches!(tok.dict_tag(w), "n" | "v" | "vn" | "a" | "an" | "ad" | "d" | "b" | "l" | "i");
        let g1 = name[sl..].chars().next().map_or(0, char::len_utf8);
        sl > 0 && ((common_word(&name[sl..], COMMON_WORD_FREQ) && plain(&name[sl..])) || common_word(&name[..sl + g1], COMMON_WORD_FREQ / 4))
    }

    /// A given name after a two-character surname (桥本/龙太郎): Han characters
    /// that may be in a name and no numeral, and no word unless a name.
    pub(super) fn compound_given_ok(&self, tok: &Tokenizer, g: &str) -> bool {
        g.chars().all(|c| is_han(c) && !self.never_given.contains(&c) && !self.t.numeral.contains(c)) && !ordinary_word(tok, g)
    }

    pub(super) fn surname_len(&self, s: &str) -> Option<usize> {
        let mut it = s.char_indices();
        let (_, c0) = it.next()?;
        if let Some((i1, c1)) = it.next() {
            let two = &s[..i1 + c1.len_utf8()];
            if self.compound.contains(two) {
                return Some(two.len());
            }
        }
        self.single.contains(&c0).then_some(c0.len_utf8())
    }

    pub(super) fn given_ok(&self, g: &str) -> bool {
        let n = g.chars().count();
        (1..=2).contains(&n)
            && g.chars()
                .all(|c| is_han(c) && !self.never_given.contains(&c))
    }

    /// A name inside a longer token (邓小平理论, 马鹏祥于) is a hypothesis when it is
    /// not an ordinary word, or when jieba alone tags it a name.
    pub(super) fn part_ok(&self, tok: &Tokenizer, cand: &str) -> bool {
        if !tok.has_word(cand) {
            return true;
        }
        let mut it = tok.tag(cand);
        matches!((it.next(), it.next()), (Some(t), None) if t.tag.starts_with("nr"))
    }

    pub(super) fn hypotheses(
        &self,
        tok: &Tokenizer,
        text: &str,
        base: usize,
        toks: &[Token],
        hits: &mut Vec<NameHit>,
        scratch: &mut Scratch,
    ) {
        let Scratch { cands, scored } = scratch;
        cands.clear();
        scored.clear();
        for (k, t) in toks.iter().enumerate() {
            let w = t.word;
            // Cheap rejection: no surname where a hypothesis could start.
            let Some(c0) = w.chars().next() else { continue };
            // A foreign or unusual name right after a title (法国总理若斯潘,
            // 教练扎加洛): no surname, but the title says a person follows.
            if self.titled(tok, text, base + t.start, t) {
                cands.push((t.start, t.end, Signal::Titled));
            }
            let head = self.single.contains(&c0) || self.compound_first.contains(&c0);
            if !head && !(w.len() > 6 && w.chars().any(|c| self.single.contains(&c))) {
                continue;
            }
            if self.stop.contains(w) || self.before.contains_key(w) || self.after.contains_key(w) {
                continue;
            }
            let nr = tok.tag_of(t).starts_with("nr");
            let oov = !tok.has_word(w);
            // Anchors: the token start, and for merged tokens (OOV or nr, which
            // jieba's HMM glues to neighbours: 马鹏祥于, 众黄婷梓) any inner surname.
            let inner = (oov || nr) && w.chars().count() > 2;
            let short = w.chars().count() <= 3;
            for (p, _) in w.char_indices() {
                if p > 0 && !inner {
                    break;
                }
                let Some(sl) = self.surname_len(&w[p..]) else {
                    continue;
                };
                let rest = &w[p + sl..];
                let compound = sl > c0.len_utf8();
                if rest.is_empty() {
                    if p == 0 {
                        self.split_hypotheses(tok, toks, k, cands);
                        // 欧阳先生, 桥本首相: a two-character surname alone before
                        // an honorific or a title.
                        if compound
                            && toks.get(k + 1).is_some_and(|n| self.t.bare_title.iter().any(|(w, _)| w == n.word))
                        {
                            cands.push((t.start, t.end, Signal::Compound));
                        }
                        // 桥本/龙太郎: a two-character surname and an unseen
                        // three-character given name (two are tried above).
                        // When its last character starts the next word
                        // (河野/雅治先/生: 先生), the given name is the first two.
                        if compound
                            && let Some(n) = toks.get(k + 1)
                            && n.word.chars().count() == 3
                            && self.compound_given_ok(tok, n.word)
                        {
                            let cut = last_starts_word(tok, text, base + n.start, base + n.end).unwrap_or(0);
                            cands.push((t.start, n.end - cut, Signal::Compound));
                        }
                    }
                    continue;
                }
                // 桥本龙太郎, 东条英机, 松下幸之助: a dictionary word made of a
                // two-character surname and a given name that is no word of its own,
                // or a name (东方|明珠 and 松下|电器 are words).
                if p == 0
                    && compound
                    && !oov
                    && (2..=3).contains(&rest.chars().count())
                    && self.compound_given_ok(tok, rest)
                {
                    cands.push((t.start, t.end, Signal::Compound));
                }
                let mut ends: Vec<usize> = rest
                    .char_indices()
                    .skip(1)
                    .map(|(i, _)| i)
                    .take(1)
                    .collect();
                ends.push(rest.char_indices().nth(2).map_or(rest.len(), |(i, _)| i));
                ends.dedup();
                for g_end in ends {
                    let g = &rest[..g_end];
                    if !self.given_ok(g) {
                        continue;
                    }
                    let whole = p == 0 && g_end == rest.len();
                    let sig = match (whole, nr, oov) {
                        (true, true, true) => Signal::Nr,
                        (true, true, false) => Signal::DictNr,
                        (true, false, true) => Signal::Oov,
                        (true, false, false) => Signal::DictWord,
                        // A short whole token (叶利钦) is its own hypothesis, not a part.
                        (false, _, _) if p == 0 && short && !oov => continue,
                        // Inside a dictionary word (邓小平理论/nr) only a name the
                        // dictionary knows: the dictionary tags idioms nr too
                        // (顾全大局).
                        (false, _, _)
                            if (nr || oov)
                                && self.part_ok(tok, &w[p..p + sl + g_end])
                                && (oov || tok.has_word(&w[p..p + sl + g_end])) =>
                        {
                            Signal::Part
                        }
                        (false, _, _) => continue,
                    };
                    cands.push((t.start + p, t.start + p + sl + g_end, sig));
                    // jieba's HMM sometimes cuts a three-character name after the
                    // second character (胡毅/诗为): try one character more.
                    if whole && g.chars().count() == 1
                        && let Some(n) = toks.get(k + 1) {
                            let single = n.word.chars().count() == 1;
                            // Not from a frequent ordinary word (任期|中, 国土|上,
                            // 常常|能) nor a time word (周二|晚): that is a word and
                            // a character, not a name.
                            if (oov || nr || single)
                                && (oov || nr || (tok.freq(w) < 2 * COMMON_WORD_FREQ && tok.dict_tag(w) != "t"))
                                && n.word
                                    .chars()
                                    .next()
                                    .is_some_and(|c| self.given_ok(c.encode_utf8(&mut [0; 4])))
                            {
                                let c = n.word.chars().next().map_or(0, char::len_utf8);
                                cands.push((t.start + p, t.end + c, Signal::Extend));
                            }
                        }
                }
            }
        }
        // Score, then keep the best of overlapping hypotheses.
        scored.extend(cands.drain(..).filter_map(|(s, e, sig)| {
            self.score(tok, text, base + s, base + e, sig, false).map(|h| (h, sig))
        }));
        scored.sort_by(|(a, _), (b, _)| {
            b.score
                .total_cmp(&a.score)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
        });
        // Keep the best of overlapping hypotheses; explanations are built only
        // for the ones that survive.
        let from = hits.len();
        for (h, sig) in scored.drain(..) {
            if (self.keep_all || !hits[from..].iter().any(|k| k.start < h.end && h.start < k.end))
                && let Some(h) = self.score(tok, text, h.start, h.end, sig, true) {
                    hits.push(h);
                }
        }
    }

    /// A surname token followed by given-name tokens (马/鹏祥, 欧阳/娜娜), or by
    /// spaces and single characters (周 安).
    pub(super) fn split_hypotheses(
        &self,
        tok: &Tokenizer,
        toks: &[Token],
        k: usize,
        cands: &mut Vec<(usize, usize, Signal)>,
    ) {
        let t = &toks[k];
        let Some(t1) = toks.get(k + 1) else { return };
        if self.given_ok(t1.word)
            && (t1.word.chars().count() == 2 || !is_function_tag(tok.tag_of(t1)))
            // 从|法国, 向|北京: a place or an organization is not a given name,
            // unless it is made of given-name characters (严|建国/ns).
            && (!matches!(tok.tag_of(t1), "ns" | "nt") || t1.word.chars().all(|c| self.common_given.contains(&c)))
            && !self.before.contains_key(t1.word)
            && !self.after.contains_key(t1.word)
        {
            let sig = if t1.word.chars().count() == 2
                && tok.has_word(t1.word)
                && !tok.tag_of(t1).starts_with("nr")
            {
                // 周/建军 is a name, 周/普查 is not: the "given name" is an ordinary
                // word, so only context can decide.
                Signal::SplitDict
            } else if tok.tag_of(t1).starts_with("nr") {
                Signal::SplitNr
            } else {
                Signal::Split
            };
            cands.push((t.start, t1.end, sig));
            if t1.word.chars().count() == 1
                && let Some(t2) = toks.get(k + 2)
                    && t2.word.chars().count() == 1
                        && self.given_ok(t2.word)
                        && !is_function_tag(tok.tag_of(t2))
                    {
                        cands.push((t.start, t2.end, Signal::Split));
                    }
        }
        // 杜/强于, 贾/梅宇于: the given name is glued to a following function word.
        for (i, _) in t1.word.char_indices().skip(1).take(2) {
            let (g, rest) = t1.word.split_at(i);
            if self.given_ok(g)
                && rest
                    .chars()
                    .all(|c| "于在的为是和与及等了也都就被把将向从对说称".contains(c))
            {
                cands.push((t.start, t1.start + i, Signal::Split));
            }
        }
        if t1.word.trim().is_empty() && t1.word.len() <= 3
            && let Some(end) = self.spaced(toks, k + 2) {
                cands.push((t.start, end, Signal::Spaced));
            }
    }

    pub(super) fn spaced(&self, toks: &[Token], mut k: usize) -> Option<usize> {
        let mut given = 0;
        let mut end = None;
        while let Some(t) = toks.get(k) {
            if t.word.trim().is_empty() && t.word.len() <= 3 {
                k += 1;
                continue;
            }
            if given < 2 && t.word.chars().count() == 1 && self.given_ok(t.word) {
                given += 1;
                end = Some(t.end);
                k += 1;
                continue;
            }
            break;
        }
        end
    }
}

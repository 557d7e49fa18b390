//! Scoring: a hypothesis gets the weight of its segmentation signal, the
//! context on either side (labels, titles, honorifics, lists, table cells,
//! from `roles.rs`) and clean clause boundaries; it is dropped, held
//! (shaped like a name, no context) or kept with a score and a role, and its
//! explanation says why.

use super::*;

impl NameDetector {
    pub(super) fn score(
        &self,
        tok: &Tokenizer,
        text: &str,
        s: usize,
        e: usize,
        sig: Signal,
        explain: bool,
    ) -> Option<NameHit> {
        let name = &text[s..e];
        let compact: std::borrow::Cow<str> = if name.contains(char::is_whitespace) {
            name.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .into()
        } else {
            name.into()
        };
        let compact: &str = &compact;
        if self.stop.contains(compact)
            || compact.contains('某')
            || self.before.contains_key(compact)
            || self.after.contains_key(compact)
        {
            return None;
        }
        let n = compact.chars().count();
        // 王女士, 李老师: a surname and an honorific, found as such
        // ([`NameDetector::bare_surname_hit`]), not a full name.
        if (3..=4).contains(&n)
            && let Some(sl) = self.surname_len(compact)
            && compact[sl..].chars().next().is_some_and(|c| self.bare_title_first.contains(&c))
            && self.t.bare_title.iter().any(|(w, _)| compact[sl..] == **w)
        {
            return None;
        }
        let mut dotted = false;
        if sig == Signal::Translit {
            // A dictionary word (斯里兰卡/ns) is not a name, unless jieba calls it one.
            if n > 12 || (tok.has_word(compact) && !tok.dict_tag(compact).starts_with("nr")) {
                return None;
            }
            // 卡塔尔/ns, 海洛因/n, 南苏丹: any ordinary dictionary word inside
            // means a place or a thing, not a person.
            let plain: String = compact.chars().filter(|&c| c != '·').collect();
            let idx: Vec<usize> = plain.char_indices().map(|(i, _)| i).chain(std::iter::once(plain.len())).collect();
            for a in 0..idx.len() {
                for b in a + 2..idx.len().min(a + 9) {
                    if self.stop.contains(&plain[idx[a]..idx[b]]) {
                        return None;
                    }
                }
            }
            dotted = compact.contains('·');
            let plain_word = |t: &Token| t.word.chars().count() >= 2 && !tok.tag_of(t).starts_with("nr") && tok.tag_of(t) != "x";
            let mut seg = Vec::new();
            // 卡洛斯·阿马特, 科菲·安南: the dot marks a foreign person's name (the
            // dictionary's tags for the parts are no help: 芭芭拉/z, 安南/ns); the
            // stop list above still rules out places.
            if !dotted {
                tok.segment_into(&plain, &mut seg);
                if seg.iter().any(plain_word) {
                    return None;
                }
            }
        } else if !((2..=4).contains(&n) || (sig == Signal::Compound && n == 5)) {
            return None;
        }
        // 马钢集团, 雅戈尔制衣, 浦航租赁: an organization's name, not a person.
        let after = text[e..].trim_start_matches(['(', ' ']);
        // 妮维雅(上海)公司: a place in parentheses between the name and the suffix.
        // Only the first 19 bytes can hold that `)`: never search the rest of the text.
        let close = after.as_bytes()[..after.len().min(19)].iter().position(|&b| b == b')');
        let after = match close {
            Some(i) if text[e..].starts_with('(') => &after[i + 1..],
            _ => after,
        };
        if self.org_suffix(after).is_some() {
            return None;
        }
        // 3张卫星图片, 那张小巧的门票, 这项工作: after a numeral or a demonstrative
        // the surname is a measure word.
        if compact.chars().next().is_some_and(|c| self.t.measure_surname.contains(c))
            && text[..s].chars().next_back().is_some_and(|p| p.is_ascii_digit() || self.t.numeral_or_demonstrative.contains(p))
        {
            return None;
        }
        // 任中源协和…: 任 (and 于, 向) open verbs and prepositions far more often
        // than they open names; such a candidate needs context.
        let ambiguous = compact.chars().next().is_some_and(|c| self.t.ambiguous_surname.contains(c));
        // 古林镇, 张家港市, 白金汉宫, 斯特拉斯堡: a place name, not a person.
        if text[e..]
            .chars()
            .next()
            .is_some_and(|c| "省市县区镇乡村街路港湾岛屯寨庄坊里巷寺庙桥河湖江州岭宫堡塔".contains(c))
            && self.ctx_after(text, e).is_none()
        {
            return None;
        }
        let mut score = sig.weight() + if dotted { 0.3 } else { 0.0 };
        // 俄罗斯的库尼科娃: an unseen transliteration right after a foreign country
        // (a place of the stop list) and 的 is that country's person.
        let after_country = sig == Signal::Translit
            && !dotted
            && !tok.has_word(compact)
            && text[..s].strip_suffix('的').is_some_and(|head| {
                (2..=5).any(|k| {
                    let a = back_chars(head, head.len(), k);
                    head.len() - a >= 6 && self.stop.contains(&head[a..])
                })
            });
        if after_country {
            score += 0.3;
        }
        // Surname + one character is the shape of many ordinary words (林权, 普惠):
        // a two-character candidate needs more than the tagger's word for it.
        if n == 2 && matches!(sig, Signal::Nr | Signal::Oov) {
            score -= 0.1;
        }
        // Three characters that jieba's HMM kept together behind a surname are
        // the shape of a full name (姜天云, 曲格平): on its own that is nearly
        // enough.
        if n == 3 && sig == Signal::Oov {
            // Not when it ends like a place or a thing (山水|林田湖|草沙).
            score += if self.t.ends_like_place_or_thing(compact) { 0.05 } else { 0.15 };
        }
        let mut why: Vec<String> = Vec::new();
        if explain {
            why.push(sig.describe().to_owned());
            if after_country {
                why.push("after a foreign country and 的".into());
            }
        }
        let sl = self.surname_len(compact).unwrap_or(0);
        // A full name that jieba's dictionary knows as a person's (邓小平/nr,
        // 叶钊颖/nr, 基里延科/nr, 克林斯曼/nrt): well-known people, who are named
        // in running text without labels or titles.
        // Whether the candidate splits into ordinary words: dictionary lookups,
        // asked at most once per candidate.
        let ordinary_cell = std::cell::OnceCell::new();
        let ordinary = || *ordinary_cell.get_or_init(|| n == 3 && self.ordinary_split(tok, compact, sl));
        // A transliteration run cut out of a longer word (澳大|利亚多|类, 亚利桑|那州)
        // is not the dictionary's word, whatever its tag.
        let whole_run = || {
            let ws = back_chars(text, s, 2);
            let we = fwd_chars(text, e, 2);
            let mut seg = Vec::new();
            tok.segment_into(&text[ws..we], &mut seg);
            seg.iter().any(|t| ws + t.start == s) && seg.iter().any(|t| ws + t.end == e)
        };
        if self.known_name(tok, compact, sl, sig, ordinary) && (sig != Signal::Translit || name.contains('·') || whole_run()) {
            score += KNOWN_NAME;
            if explain {
                why.push("a person's full name in the dictionary".into());
            }
        }
        // 周恩来/t, 周铁农/nz: the dictionary knows the full name but tags it as
        // a time word or a proper noun. Next to an official's title it is the
        // person (周恩来总理, 副主席周铁农).
        let proper_full = sig == Signal::DictWord
            && n == 3
            && sl == compact.chars().next().map_or(0, char::len_utf8)
            && matches!(tok.dict_tag(compact), "nz" | "t")
            && !self.t.ends_like_place_or_thing(compact)
            && !ordinary_word(tok, &compact[sl..]);
        if proper_full {
            score += KNOWN_NAME;
            if explain {
                why.push("a full name the dictionary tags as a proper noun".into());
            }
        }
        if sig == Signal::Compound && n >= 4 && tok.has_word(compact) {
            score += KNOWN_NAME;
            if explain {
                why.push("a person's full name in the dictionary".into());
            }
        }
        if sig == Signal::Translit {
            // The given-name prior is for Chinese names only.
        } else if compact[sl..]
            .chars()
            .all(|c| self.common_given.contains(&c))
        {
            score += 0.1;
            if explain {
                why.push("common given-name characters".into());
            }
        } else {
            score -= 0.05;
        }
        let mut strong_before = false;
        let mut strong_after = false;
        // A title, label or honorific (not a list or table neighbour).
        let mut worded = false;
        let mut official = false;
        let mut private = false;
        for (side, hit) in [
            // A label that ends a longer dictionary word is not that label
            // (制作|者 is not 作者); titles do compose (支队|队长, 局|局长).
            ("before", self.ctx_before(text, s).filter(|&(w, r)| {
                r != CtxRole::Label || {
                let ws = w.as_ptr() as usize - text.as_ptr() as usize;
                text[..ws].chars().next_back().is_none_or(|p| !is_han(p) || !tok.has_word(&text[ws - p.len_utf8()..ws + w.len()]))
                }
            })),
            // A one-character after-word that starts a longer word is not that
            // word (问|题, 说|明, 等|级), nor is a title that starts the name of a
            // body (委员|会, 代表|团: 廉政委员会 is no person's).
            ("after", self.ctx_after(text, e).filter(|&(w, _)| {
                // (Only for a word right at the end of the name: a label inside
                // parentheses after it is not.)
                !w.chars().all(is_han) || w.as_ptr() as usize != text.as_ptr() as usize + e || {
                    let we = e + w.len();
                    let next = text[we..].chars().next();
                    if w.chars().count() == 1 {
                        next.is_none_or(|c| !tok.has_word(&text[e..we + c.len_utf8()]))
                    } else {
                        next.is_none_or(|c| !self.t.body_ending.contains(c) || !tok.has_word(&text[e..we + c.len_utf8()]))
                    }
                }
            })),
        ] {
            let hit = match hit {
                // A list separator is context only when the neighbour looks like a name too.
                Some(("、", _)) => self
                    .list_neighbour(tok, text, s, e, side == "before")
                    .map(|r| ("、 (name list)", r)),
                None => {
                    let c = if side == "before" {
                        text[..s].chars().next_back()
                    } else {
                        text[e..].chars().next()
                    };
                    if c.is_some_and(|c| c.is_whitespace() || c.is_ascii_digit()) {
                        self.list_neighbour(tok, text, s, e, side == "before")
                            .map(|r| ("(table row of names)", r))
                    } else {
                        None
                    }
                }
                h => h,
            };
            match hit {
                Some((w, role)) => {
                    score += match role {
                        CtxRole::Neutral => 0.15,
                        _ if w.starts_with('、') || w.starts_with('(') => 0.3,
                        _ => 0.45,
                    };
                    if role != CtxRole::Neutral {
                        if side == "before" {
                            strong_before = true;
                        } else {
                            strong_after = true;
                        }
                        worded |= !(w.starts_with('、') || w.starts_with('('));
                    }
                    official |= role == CtxRole::Official;
                    private |= role == CtxRole::Private;
                    if explain {
                        why.push(format!("{side}: {w}"));
                    }
                }
                None => {
                    let c = if side == "before" {
                        text[..s].chars().next_back()
                    } else {
                        text[e..].chars().next()
                    };
                    if c.is_none_or(|c| {
                        is_clause_break(c)
                            || c == '、'
                            || c == ' '
                            || c.is_ascii_digit()
                            || c.is_ascii_punctuation()
                            || self.never_given.contains(&c)
                    }) {
                        score += 0.1;
                    } else if side == "after"
                        && compact.chars().count() - compact[..sl].chars().count() == 1
                        && self.open_edge(tok, &text[e..])
                    {
                        // An open right edge: the name may go on (郑琳|荷).
                        score -= 0.15;
                    }
                }
            }
        }
        // A table cell: whitespace, digits or a line edge on both sides (沈建华 in
        // `单位：元 沈建华 2000`). Lists of people are printed this way.
        let cell_edge = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_digit());
        let cell = cell_edge(text[..s].chars().next_back()) && cell_edge(text[e..].chars().next());
        if cell {
            score += 0.15;
            if explain {
                why.push("table cell".into());
            }
        }
        let common = compact[sl..].chars().all(|c| self.common_given.contains(&c));
        if ambiguous && !(strong_before || strong_after || cell) {
            return None;
        }
        // Surname + one character is the shape of countless ordinary words that
        // the dictionary tags `nr` (许可, 荣誉, 贺信): such a dictionary word is a
        // name only with a title, label, list or table cell.
        let two_needs_context = n == 2 && sl == compact.chars().next().map_or(0, char::len_utf8) && sig == Signal::DictNr;
        // A token jieba's HMM glued together that splits into a surname and an
        // ordinary word (韩|两国, 伊朗|核) is phrase debris unless context says name.
        let glued_words = matches!(sig, Signal::Oov | Signal::Nr) && ordinary();
        // A dictionary `nr` word that is an ordinary word after its surname
        // (高|水平, 伊朗|核) is a word unless context says otherwise.
        let ordinary_nr = sig == Signal::DictNr && ordinary();
        let gated = match sig {
            // Lists of ordinary words are common too (安全、荣誉和利益; 获得感、
            // 幸福感、安全感): only a title, label or honorific, or a table cell.
            // A list still counts for a common surname (王明、王英).
            _ if two_needs_context || glued_words || ordinary_nr => {
                worded || cell || ((strong_before || strong_after) && compact.chars().next().is_some_and(|c| self.t.common_surname.contains(c)))
            }
            // 江建国/ns: a dictionary word shaped like a full name (surname and two
            // common given-name characters) needs context on one side only.
            Signal::DictWord if n == 3 && sl == compact.chars().next().map_or(0, char::len_utf8) && common => strong_before || strong_after,
            Signal::DictWord if proper_full => worded && official,
            Signal::DictWord => strong_before && strong_after,
            Signal::SplitDict => strong_before || strong_after || (cell && common),
            Signal::Extend => strong_before || strong_after || cell,
            _ => true,
        };
        // A surname and a two-character word of given-name characters with no
        // context (江|宏伟, 郑|全军) is held back: a name only if the document
        // repeats it (see [`NameDetector::propagate`]).
        // Only when the dictionary takes the surname character for a surname
        // (韩/j 军方, 成/n 中国 are not), the given name is no place (乌|中国)
        // and an extension did not complete a word (惠民|生: 民生).
        let held = !gated
            && matches!(sig, Signal::SplitDict | Signal::Split | Signal::Extend)
            && n == 3
            && sl == compact.chars().next().map_or(0, char::len_utf8)
            && common
            && tok.dict_tag(&compact[..sl]).starts_with("nr")
            && tok.dict_tag(&compact[sl..]) != "ns"
            && !(sig == Signal::Extend && tok.has_word(&compact[compact.char_indices().nth(1).map_or(0, |(i, _)| i)..]));
        if !gated && !held {
            return None;
        }
        if held {
            score = score.min(HELD_SCORE);
        }
        // 管理人|员: a candidate that is the start of a longer dictionary word is
        // not a name.
        if matches!(sig, Signal::Extend | Signal::DictNr | Signal::Split)
            && let Some(c) = text[e..].chars().next().filter(|&c| is_han(c))
                && tok.has_word(&text[s..e + c.len_utf8()]) {
                    return None;
                }
        // 劳拉公|司, 马赛总|领事: the character an extension added starts a word
        // with what follows; it belongs to that word, not to the name.
        if sig == Signal::Extend {
            let last = text[..e].chars().next_back().map_or(0, char::len_utf8);
            let mut it = text[e..].chars();
            if let Some(a) = it.next().filter(|&c| is_han(c)) {
                let two = e + a.len_utf8();
                let three = it.next().filter(|&c| is_han(c)).map(|b| two + b.len_utf8());
                // (林先生/nr is the dictionary's "Mr Lin", not a word.)
                if ordinary_word(tok, &text[e - last..two]) || three.is_some_and(|t| ordinary_word(tok, &text[e - last..t])) {
                    return None;
                }
            }
        }
        // 平潭城关中学: when the surname also ends a word with the character before
        // it (城关), jieba split a word, not a name off a word.
        // (水电|路气信: the same for an unseen three-character token.)
        if (matches!(sig, Signal::Split | Signal::SplitDict | Signal::Extend | Signal::Spaced) || (sig == Signal::Oov && n == 3)) && !strong_before
            && let Some(p) = text[..s].chars().next_back().filter(|&c| is_han(c)) {
                let first = text[s..].chars().next().map_or(0, char::len_utf8);
                let glued = &text[s - p.len_utf8()..s + first];
                if tok.has_word(glued) {
                    return None;
                }
            }
        let role = if private {
            Role::Private
        } else if official {
            Role::Official
        } else {
            Role::Unknown
        };
        Some(NameHit {
            start: s,
            end: e,
            score,
            role,
            why: why.join("; "),
            held,
            // A transliterated foreign name counts as context too: the model
            // has seen few of them and doubts most.
            context: strong_before || strong_after || cell || sig == Signal::Translit,
        })
    }
}

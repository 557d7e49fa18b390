//! Roles and context: the words right before and after a span (labels,
//! titles, honorifics from `lexicons/name_context.txt`), list and table-row
//! neighbours, appointments and doctrines (毛泽东思想: a public figure). They
//! decide whether a name is an official acting in office or a private person.

use super::*;

impl NameDetector {
    /// True when token `t` (at byte `at` of `text`) follows a title or label and
    /// looks like a name on its own: two to five Han characters that jieba knows
    /// as a person's name, or unseen ones that are all transliteration
    /// characters.
    pub(super) fn titled(&self, tok: &Tokenizer, text: &str, at: usize, t: &Token) -> bool {
        let n = t.word.chars().count();
        if !(2..=5).contains(&n) || !text[..at].chars().next_back().is_some_and(|c| self.title_last.contains(&c)) || !t.word.chars().all(is_han) {
            return false;
        }
        if self.stop.contains(t.word) || self.before.contains_key(t.word) || self.after.contains_key(t.word) {
            return false;
        }
        // An unseen word after a noun like 群众 is as often a verb phrase (群众|开着),
        // so only a title or a label counts, and the word must look like a name.
        // A two-character dictionary word is an ordinary word (制作者|许可/nr).
        // A transliteration the dictionary tags as a place or proper noun is a
        // person all the same right after a title (舰队司令巴克, 教练扎加洛).
        let translit = || t.word.chars().all(|c| self.translit.contains(&c));
        let known = if tok.has_word(t.word) {
            (n > 2 && tok.dict_tag(t.word).starts_with("nr"))
                || (matches!(tok.dict_tag(t.word), "ns" | "nz") && translit() && !self.t.ends_like_place(t.word))
        } else {
            translit()
        };
        known && matches!(self.ctx_before(text, at), Some((w, CtxRole::Official | CtxRole::Label)) if w.chars().count() >= 2)
    }

    /// The `org_suffix` word `after` starts with (公司, 集团…), if any.
    pub(super) fn org_suffix(&self, after: &str) -> Option<&str> {
        if !after.chars().next().is_some_and(|c| self.org_first.contains(&c)) {
            return None;
        }
        self.t.org_suffix.iter().map(String::as_str).find(|w| after.starts_with(w))
    }

    /// The role the words around `text[s..e]` give a name (a label, title or
    /// honorific right before or after it), for a name only the model found.
    pub fn context_role(&self, text: &str, s: usize, e: usize) -> Role {
        let roles = [self.ctx_before(text, s), self.ctx_after(text, e)];
        if roles.iter().flatten().any(|(_, r)| *r == CtxRole::Private) {
            Role::Private
        } else if roles.iter().flatten().any(|(_, r)| *r == CtxRole::Official) {
            Role::Official
        } else {
            Role::Unknown
        }
    }

    pub(super) fn ctx_before<'t>(&self, text: &'t str, at: usize) -> Option<(&'t str, CtxRole)> {
        // A label may be followed by a colon or spaces: 联系人：欧阳娜娜.
        // A signature block puts the title on the line above: 国务院总理\n李某.
        let head = text[..at].trim_end_matches([':', ' ', '\t', '\n']);
        let head = head
            .strip_suffix('为')
            .or_else(|| head.strip_suffix('是'))
            .unwrap_or(head)
            .trim_end_matches([':', ' ']);
        let last = head.chars().next_back()?;
        if !self.before_last.contains(&last) {
            return None;
        }
        // Longest first.
        self.before_by_last
            .get(&last)?
            .iter()
            .find(|(w, _)| head.ends_with(w.as_str()))
            .map(|(w, r)| (&head[head.len() - w.len()..], *r))
    }

    pub(super) fn ctx_after<'t>(&self, text: &'t str, at: usize) -> Option<(&'t str, CtxRole)> {
        let tail = &text[at..];
        // Most positions are followed by no context at all: one bit test.
        let c0 = tail.chars().next()?;
        if !self.after_first.contains(&c0) && !matches!(c0, '(' | ',' | ' ' | '男' | '女' | '为' | '任') {
            return None;
        }
        // An ID or label in parentheses right after the name: 普阳璇（身份证号…）.
        // (Before the word list, which has the bare parenthesis as a weak hint.)
        if let Some(inner) = tail.strip_prefix('(') {
            if let Some(hit @ (_, CtxRole::Private)) = self.longest_prefix(inner) {
                return Some(hit);
            }
            // A description in parentheses that ends with a private role:
            // 周某（平潭一中高二九班学生）.
            let close = inner.char_indices().take(24).find(|&(_, c)| c == ')').map(|(i, _)| i);
            if let Some(desc) = close.map(|i| &inner[..i])
                && let Some(last) = desc.chars().next_back()
                && let Some(words) = self.before_by_last.get(&last)
                && words.iter().any(|(w, r)| *r == CtxRole::Private && desc.ends_with(w.as_str()))
            {
                return Some(("(…)", CtxRole::Private));
            }
        }
        if let Some(hit) = self.longest_prefix(tail) {
            return Some(hit);
        }
        // A person's particulars: 李涛轩，男，汉族 / 孙芳碧女1979.12.
        let rest = tail.strip_prefix(',').unwrap_or(tail).trim_start_matches(' ');
        let mut cs = rest.chars();
        if let (Some('男' | '女'), next) = (cs.next(), cs.next())
            && next.is_none_or(|c| !is_han(c) || matches!(c, '性')) {
                return Some(("(gender)", CtxRole::Private));
            }
        // Appointment phrasing: 为/任 followed by a title within a short window.
        if tail.starts_with('为') || tail.starts_with('任') {
            let end = tail.char_indices().take(16).find(|&(_, c)| matches!(c, '。' | ';' | '\n')).map_or_else(|| fwd_chars(tail, 0, 16), |(i, _)| i);
            if self.titles_ac.as_ref().is_some_and(|ac| ac.is_match(&tail[..end])) {
                return Some(("为…(title)", CtxRole::Official));
            }
        }
        None
    }

    /// True when the list item across the `、` next to `[s, e)` looks like a name:
    /// two to four Han characters starting with a surname, not a dictionary word.
    pub(super) fn list_neighbour(
        &self,
        tok: &Tokenizer,
        text: &str,
        s: usize,
        e: usize,
        before: bool,
    ) -> Option<CtxRole> {
        let delim =
            |c: char| is_clause_break(c) || c == '、' || c.is_whitespace() || c.is_ascii_digit();
        let sep = |c: char| c == '、' || c.is_whitespace() || c.is_ascii_digit() || c == '.';
        // Skip the separator: a 、, or whitespace and numeric cells (table rows:
        // 任碧璐 100000 任 慧).
        let (item, at) = if before {
            let head = text[..s].trim_end_matches(sep);
            if head.len() == s {
                return None;
            }
            let from = head
                .char_indices()
                .rev()
                .find(|&(_, c)| delim(c))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let from = spaced_run_start(head, from);
            (&head[from..], from)
        } else {
            let tail = text[e..].trim_start_matches(sep);
            let at = text.len() - tail.len();
            if at == e {
                return None;
            }
            let end = spaced_run_end(tail, tail.find(delim).unwrap_or(tail.len()));
            (&tail[..end], at)
        };
        let comma_list = if before {
            text[..s].ends_with('、')
        } else {
            text[e..].starts_with('、')
        };
        // The neighbour is the name-sized end (or start) of the item: the first item
        // of a list follows arbitrary text (同意将苏婉清、程立新).
        let chars: Vec<(usize, char)> = item
            .char_indices()
            .filter(|(_, c)| !c.is_whitespace())
            .collect();
        let name_like = [3usize, 2, 4].iter().any(|&k| {
            if chars.len() < k || (!before && chars.len() != k && chars.len() > 4) {
                return false;
            }
            let (a, b) = if before {
                (chars.len() - k, chars.len())
            } else {
                (0, k)
            };
            let cand: String = chars[a..b].iter().map(|&(_, c)| c).collect();
            // 边斗争、边备战、边建设 is parallel structure, not a list of one family.
            let same_head = comma_list && cand.chars().next() == text[s..].chars().next();
            !same_head
                && cand.chars().all(is_han)
                && self.surname_len(&cand).is_some()
                && (!tok.has_word(&cand) || tok.dict_tag(&cand).starts_with("nr"))
        });
        if !name_like {
            return None;
        }
        let at = if before {
            at + chars
                .get(chars.len().saturating_sub(3))
                .map_or(0, |&(i, _)| i)
        } else {
            at
        };
        // A list shares its head's role: 副区长严晓华、戴建平.
        let inherited = if before {
            self.ctx_before(text, at).map(|(_, r)| r)
        } else {
            None
        };
        Some(match inherited {
            Some(r @ (CtxRole::Official | CtxRole::Private)) => r,
            _ => CtxRole::Label,
        })
    }

    /// The longest after-context word that `tail` starts with.
    pub(super) fn longest_prefix<'t>(&self, tail: &'t str) -> Option<(&'t str, CtxRole)> {
        let first = tail.chars().next()?;
        if !self.after_first.contains(&first) {
            return None;
        }
        self.after_by_first
            .get(&first)?
            .iter()
            .find(|(w, _)| tail.starts_with(w.as_str()))
            .map(|(w, r)| (&tail[..w.len()], *r))
    }

    /// A bare surname at byte `at` followed by an honorific or a title (王女士,
    /// 李老师, 汤局长): the surname is the name. Not when the character before
    /// makes a word with it (历史|老师, 对方|经理), unless it ends a context word
    /// (市民|王女士), nor when the title starts a longer word (主席|台).
    pub(super) fn bare_surname_hit(&self, tok: &Tokenizer, text: &str, at: usize) -> Option<NameHit> {
        let c = text[at..].chars().next()?;
        let e = at + c.len_utf8();
        // The cheapest test first: the pair surname + a title's first character
        // is frequent (高大, 金融部, 方便), a whole title after it is not.
        let tail = &text[e..];
        let (title, role) = self.t.bare_title.iter().filter(|(w, _)| tail.starts_with(w.as_str())).max_by_key(|(w, _)| w.len()).map(|(w, r)| (w.as_str(), *r))?;
        // Most surname characters before a title follow another Han character
        // that is no context. Before an official's title any character may come
        // first when it makes no word with the surname (贯彻毛主席, 托项市长):
        // the titles that end words (历史|老师, 对方|经理) are the honorifics.
        if let Some(p) = text[..at].chars().next_back().filter(|&p| is_han(p))
            && ((!self.bare_before.contains(&p)
                && !self.ctx_before(text, at).is_some_and(|(_, r)| r != CtxRole::Neutral)
                // (中日|韩外长会: after a country's short name the "surname" is
                // one too.)
                && (role != Role::Official || self.t.country_short.contains(p)))
                || tok.has_word(&text[at - p.len_utf8()..e]))
        {
            return None;
        }
        let te = e + title.len();
        if let Some(n) = text[te..].chars().next().filter(|&n| is_han(n))
            && tok.has_word(&text[e..te + n.len_utf8()])
        {
            return None;
        }
        Some(NameHit { start: at, end: e, score: 0.8, role, why: format!("surname before an honorific or title ({title})"), held: false, context: true })
    }

    /// 马克思主义, 列宁主义, 毛泽东思想: a doctrine named after a person the
    /// dictionary knows. The name is a person's, a public figure's: reported, not
    /// redacted. (jieba keeps 马克思主义 as one word, so no anchor reaches it.)
    pub(super) fn doctrine_hits(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>) {
        // Without SIMD (no packed searcher on this CPU) the standard library's
        // substring search does the same.
        let matches: Vec<(usize, usize)> = match &self.doctrine {
            Some(p) => p.find_iter(text).map(|m| (m.start(), m.pattern().as_usize())).collect(),
            None => self.t.doctrine_suffix
                .iter()
                .enumerate()
                .flat_map(|(k, w)| text.match_indices(w).map(move |(i, _)| (i, k)))
                .collect(),
        };
        for (i, k) in matches {
            let suffix = self.t.doctrine_suffix[k].as_str();
            {
                let found = (2..=4).rev().find_map(|k| {
                    let s = back_chars(text, i, k);
                    let x = &text[s..i];
                    (x.chars().count() == k
                        && x.chars().all(is_han)
                        && !self.stop.contains(x)
                        && tok.has_word(x)
                        && tok.dict_tag(x).starts_with("nr"))
                    .then_some(s)
                });
                if let Some(s) = found {
                    hits.push(NameHit {
                        start: s,
                        end: i,
                        score: 0.99,
                        role: Role::Official,
                        why: format!("a person's name in the dictionary, before {suffix} (a doctrine named after a public figure)"),
                        held: false,
                        context: true,
                    });
                }
            }
        }
    }
}

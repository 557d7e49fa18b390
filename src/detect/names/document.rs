//! The document pass: a name found with confidence is a name wherever else
//! the document uses it; a held hypothesis (江|宏伟 once, no context) becomes
//! one when the document repeats it; a weak name the document also uses for
//! an organization (罗威汽车公司) is dropped.

use super::*;

/// Up to this many bytes of distinct names, the document's names are searched
/// with a DFA (about 10 MB of tables at the limit), beyond with a contiguous NFA.
const DFA_NAME_BYTES: usize = 48 * 1024;

impl NameDetector {
    /// Document-level propagation: a name found with confidence (`min_score`) is
    /// a name wherever else it occurs in the document, even where the other
    /// occurrence has no context of its own (亨特，亨特魁梧; 7、李涛轩 / 李涛轩，男).
    pub fn propagate(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>, min_score: f64) {
        if self.propagate_within(tok, text, hits, min_score, &Budget::unlimited()).is_err() {
            unreachable!("an unlimited budget never stops");
        }
    }

    /// [`NameDetector::propagate`] within `budget`: on `Err(Stopped)`, `hits`
    /// is left in no particular state.
    pub fn propagate_within(&self, tok: &Tokenizer, text: &str, hits: &mut Vec<NameHit>, min_score: f64, budget: &Budget) -> Result<(), Stopped> {
        // A held-back name (江|宏伟) that the document uses more than once, each
        // time shaped like a name, is the person the text is about.
        let held: Vec<usize> = (0..hits.len()).filter(|&i| hits[i].held).collect();
        if held.len() >= 2 {
            let mut counts: HashMap<&str, usize> = HashMap::default();
            for &i in &held {
                *counts.entry(&text[hits[i].start..hits[i].end]).or_default() += 1;
            }
            for &i in &held {
                let times = counts[&text[hits[i].start..hits[i].end]];
                if times >= 2 {
                    let h = &mut hits[i];
                    h.score = min_score;
                    h.held = false;
                    h.why = format!("{}; the same name {times} times in the document", h.why);
                }
            }
        }
        // The distinct names in order of first finding (a set beside the list:
        // a roster has as many names as findings).
        let mut names: Vec<(&str, f64)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::default();
        for h in hits.iter().filter(|h| h.score >= min_score) {
            let name = &text[h.start..h.end];
            // An ordinary dictionary word is not spread, whatever the one
            // occurrence with context said (许可, 贺信, 仲裁案): nor is a
            // two-character dictionary word, even one tagged nr (荣誉).
            let n = name.chars().count();
            // A two-character surname found before a title (桥本首相) is spread.
            let word = tok.has_word(name) && (n == 2 || !tok.dict_tag(name).starts_with("nr")) && !self.compound.contains(name);
            if n >= 2 && !word && !name.contains(char::is_whitespace) && seen.insert(name) {
                names.push((name, h.score));
            }
        }
        if names.is_empty() {
            return Ok(());
        }
        budget.check()?;
        // Leftmost-longest occurrences of the names. A handful of short
        // patterns per document: a packed (SIMD) searcher builds in a fraction
        // of the time of an automaton (which was an eighth of a screening).
        let matches: Vec<aho_corasick::Match> = match aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(names.iter().map(|(n, _)| n))
            .build()
        {
            Some(p) => p.find_iter(text).collect(),
            // More names than a packed searcher takes: a DFA scans a byte in
            // a few instructions (a contiguous NFA took a tenth of a 10 MB
            // screening), but its tables grow with the patterns, so a roster
            // of thousands of names keeps the compact NFA.
            None => match aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                // Names start with common lead bytes: a prefilter stops at
                // nearly every character and only adds work.
                .prefilter(false)
                .kind(Some(if names.iter().map(|(n, _)| n.len()).sum::<usize>() <= DFA_NAME_BYTES {
                    aho_corasick::AhoCorasickKind::DFA
                } else {
                    aho_corasick::AhoCorasickKind::ContiguousNFA
                }))
                .build(names.iter().map(|(n, _)| n))
            {
                Ok(ac) => ac.find_iter(text).collect(),
                Err(_) => return Ok(()),
            },
        };
        budget.check()?;
        // A name the document also uses as an organization's (罗威|汽车公司, then
        // 罗威是…) is that organization's: a weak finding of it is dropped, and
        // it is not spread.
        let mut org = vec![false; names.len()];
        for m in &matches {
            let after = &text[m.end()..];
            // (Not the suffixes that also follow a person's name: 习近平新时代…,
            // a cup, a prize or a ship named after someone.)
            if self.org_suffix(after).is_some_and(|w| !matches!(w, "新时代" | "牌" | "杯" | "奖" | "号")) {
                org[m.pattern().as_usize()] = true;
            }
        }
        if org.iter().any(|&o| o) {
            let org_names: HashSet<&str> = names.iter().zip(&org).filter(|(_, o)| **o).map(|((n, _), _)| *n).collect();
            hits.retain(|h| h.score >= STRONG_NAME || !org_names.contains(&text[h.start..h.end]));
        }
        let mut taken: Vec<(usize, usize)> = hits.iter().filter(|h| h.score >= min_score).map(|h| (h.start, h.end)).collect();
        taken.sort_unstable();
        let overlaps = |taken: &[(usize, usize)], s: usize, e: usize| {
            let k = taken.partition_point(|&(ts, _)| ts < e);
            taken[..k].iter().rev().take_while(|&&(ts, _)| ts + 64 > s).any(|&(_, te)| te > s)
        };
        let mut added = Vec::new();
        let mut meter = budget.meter();
        for m in matches {
            let (s, e) = (m.start(), m.end());
            meter.at(s)?;
            if org[m.pattern().as_usize()] || overlaps(&taken, s, e) {
                continue;
            }
            let (name, score) = names[m.pattern().as_usize()];
            // A two-character name may be the start of a longer one (王平|洋).
            if name.chars().count() == 2 && text[e..].chars().next().is_some_and(|c| is_han(c) && self.common_given.contains(&c) && !self.never_given.contains(&c)) {
                continue;
            }
            // Its role comes from the document (below), not from the one source.
            added.push(NameHit { start: s, end: e, score: (score * 0.95).max(min_score), role: Role::Unknown, why: format!("same name as a finding elsewhere in the document (score {score:.2})"), held: false, context: false });
        }
        // A propagated name replaces the weaker hypotheses it overlaps.
        if !added.is_empty() {
            let mut spans: Vec<(usize, usize)> = added.iter().map(|h| (h.start, h.end)).collect();
            spans.sort_unstable();
            hits.retain(|h| h.score >= min_score || !overlaps(&spans, h.start, h.end));
        }
        hits.extend(added);
        budget.check()?;
        hits.sort_by_key(|h| h.start);
        // One name, one role across the document: a private person anywhere makes
        // every occurrence private (the safe side: 拟招聘沈某等同志 and 沈某，女 in
        // the list are one person), otherwise an official's title anywhere makes
        // the occurrences without context official (焦裕禄同志… 像焦裕禄那样).
        let mut roles: HashMap<&str, Role> = HashMap::default();
        for h in hits.iter().filter(|h| h.score >= min_score && h.role != Role::Unknown) {
            let name = &text[h.start..h.end];
            match roles.get_mut(name) {
                Some(r) if h.role == Role::Private => *r = Role::Private,
                Some(_) => {}
                None => {
                    roles.insert(name, h.role);
                }
            }
        }
        for h in hits.iter_mut().filter(|h| h.score >= min_score) {
            let name = &text[h.start..h.end];
            if let Some(&r) = roles.get(name)
                && r != h.role && (r == Role::Private || h.role == Role::Unknown) {
                    h.role = r;
                    h.why.push_str(if r == Role::Private { "; private person elsewhere in the document" } else { "; official elsewhere in the document" });
                }
        }
        Ok(())
    }

    /// True when the text right after a one-character given name could continue
    /// the name: a given-name character that does not start a word (郑琳|荷。, but
    /// not 王瑜|符合).
    pub(super) fn open_edge(&self, tok: &Tokenizer, tail: &str) -> bool {
        let mut it = tail.char_indices();
        let Some((_, c)) = it.next() else {
            return false;
        };
        if !is_han(c) || self.never_given.contains(&c) {
            return false;
        }
        let two = it.next().map_or(tail.len(), |(i, c2)| i + c2.len_utf8());
        !(two > c.len_utf8() && tok.has_word(&tail[..two]))
    }
}

//! Extra training sequences for the name model, generated deterministically
//! (SplitMix64, fixed seed) from the project's lexicons and the training
//! splits themselves. Nothing here reads the dev splits.
//!
//! Two kinds:
//!
//! 1. **Substituted copies.** News and résumé names are few and famous: the
//!    model learns that 江泽民 is a name and that 严 is the first character of
//!    严格. Every other training sentence whose names are all Chinese-shaped
//!    (a lexicon surname and one to three Han characters) is copied with each
//!    name replaced by a generated one, so the model must read the context
//!    and the lexicon features, not remember the characters.
//! 2. **Government-form lines.** Names where notices put them: after labels
//!    (联系人：, 申请人), after titles (副县长), in appointments (任命…为),
//!    in 、-separated lists, in table rows padded with spaces; and, as
//!    negatives, organizations and places (from the training splits' own
//!    `ORG`/`LOC` tags) in the same slots.
//!
//! Generated names: a surname from `lexicons/surnames.txt` (the first hundred,
//! the common ones, more often; compound ones too) and a given name that is
//! either one of the training names' given parts or one or two characters of
//! `lexicons/given_chars.txt`. Labels and titles come from
//! `lexicons/name_context.txt`.
#![allow(dead_code)]

use super::ner_data::Sentence;
use std::path::Path;

/// SplitMix64: a small, fixed, portable generator (the output must not depend
/// on a crate's version).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A sentence under construction: text and name spans in characters.
#[derive(Default)]
struct Line {
    text: String,
    len: usize,
    names: Vec<(usize, usize)>,
}

impl Line {
    fn push(&mut self, s: &str) -> &mut Line {
        self.text.push_str(s);
        self.len += s.chars().count();
        self
    }
    fn name(&mut self, n: &str) -> &mut Line {
        let start = self.len;
        self.push(n);
        self.names.push((start, self.len));
        self
    }
    fn done(self) -> Sentence {
        Sentence { text: self.text, names: self.names }
    }
}

/// What the generator draws from.
pub struct Synth {
    surnames: Vec<String>,
    common: usize,
    given_chars: Vec<char>,
    given_parts: Vec<String>,
    labels: Vec<String>,
    private_before: Vec<String>,
    titles_before: Vec<String>,
    titles_after: Vec<String>,
    orgs: Vec<String>,
    places: Vec<String>,
    rng: Rng,
}

fn lexicon_lines(path: &Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// `ORG` and `LOC` surfaces of a BMES/BIO `char TAG` file, in file order, once each.
fn entities(path: &Path) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let data = std::fs::read_to_string(path)?;
    let (mut orgs, mut places) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    let mut cur = String::new();
    let mut ty = "";
    let mut flush = |cur: &mut String, ty: &str| {
        let n = cur.chars().count();
        if (2..=16).contains(&n) && cur.chars().all(is_han) && seen.insert(cur.clone()) {
            match ty {
                "ORG" => orgs.push(cur.clone()),
                "LOC" => places.push(cur.clone()),
                _ => {}
            }
        }
        cur.clear();
    };
    for line in data.lines() {
        let mut parts = line.split_whitespace();
        let (Some(c), Some(tag)) = (parts.next(), parts.next_back()) else {
            flush(&mut cur, ty);
            continue;
        };
        let (prefix, t) = tag.split_once('-').unwrap_or((tag, ""));
        let t: &'static str = match t {
            "ORG" => "ORG",
            "LOC" => "LOC",
            _ => "",
        };
        if matches!(prefix, "B" | "S" | "O") || t != ty {
            flush(&mut cur, ty);
        }
        ty = t;
        if !ty.is_empty() {
            cur.push_str(c);
        }
        if matches!(prefix, "E" | "S") {
            flush(&mut cur, ty);
        }
    }
    flush(&mut cur, ty);
    Ok((orgs, places))
}

impl Synth {
    /// Reads the lexicons under `rules` and the `ORG`/`LOC` tags of
    /// `msra_news.bmes`; `train` gives the training names' given parts.
    pub fn new(rules: &Path, data: &Path, train: &[&[Sentence]], seed: u64) -> std::io::Result<Synth> {
        let surnames = lexicon_lines(&rules.join("lexicons/surnames.txt"))?;
        let common = surnames.len().min(100);
        let mut given_chars: Vec<char> = lexicon_lines(&rules.join("lexicons/given_chars.txt"))?
            .iter()
            .flat_map(|l| l.split_whitespace().filter_map(|w| w.chars().next()).collect::<Vec<_>>())
            .collect();
        given_chars.dedup();
        let single: std::collections::HashSet<char> =
            surnames.iter().filter(|s| s.chars().count() == 1).filter_map(|s| s.chars().next()).collect();
        let mut given_parts = Vec::new();
        for sents in train {
            for s in sents.iter() {
                let chars: Vec<char> = s.text.chars().collect();
                for &(a, b) in &s.names {
                    let n: &[char] = &chars[a..b.min(chars.len())];
                    if (3..=3).contains(&n.len()) && single.contains(&n[0]) && n.iter().all(|&c| is_han(c)) {
                        given_parts.push(n[1..].iter().collect::<String>());
                    }
                }
            }
        }
        let ctx = lexicon_lines(&rules.join("lexicons/name_context.txt"))?;
        let words = |side: &str, role: &str| -> Vec<String> {
            ctx.iter()
                .filter_map(|l| {
                    let mut p = l.split_whitespace();
                    (p.next() == Some(side) && p.next() == Some(role)).then(|| p.next().map(str::to_owned)).flatten()
                })
                .filter(|w| w.chars().count() >= 2 && w.chars().all(is_han))
                .collect()
        };
        let (orgs, places) = entities(&data.join("msra_news.bmes"))?;
        Ok(Synth {
            surnames,
            common,
            given_chars,
            given_parts,
            labels: words("before", "label"),
            private_before: words("before", "private"),
            titles_before: words("before", "official"),
            titles_after: words("after", "official"),
            orgs,
            places,
            rng: Rng::new(seed),
        })
    }

    /// A generated Chinese name.
    pub fn name(&mut self) -> String {
        let r = &mut self.rng;
        let surname = if r.chance(0.6) { &self.surnames[r.below(self.common)] } else { r.pick(&self.surnames) }.clone();
        let given = if !self.given_parts.is_empty() && r.chance(0.5) {
            r.pick(&self.given_parts).clone()
        } else {
            let k = if r.chance(0.25) { 1 } else { 2 };
            (0..k).map(|_| *r.pick(&self.given_chars)).collect()
        };
        surname + &given
    }

    /// A name as a published list pads it: a two-character name may get an
    /// inner space (王 强).
    fn listed_name(&mut self) -> String {
        let n = self.name();
        let cs: Vec<char> = n.chars().collect();
        if cs.len() == 2 && self.rng.chance(0.4) {
            format!("{}{}{}", cs[0], if self.rng.chance(0.5) { " " } else { "\u{3000}" }, cs[1])
        } else {
            n
        }
    }

    /// `s` with every name replaced by a generated one, or `None` when a name
    /// is not Chinese-shaped (transliterations keep their own).
    pub fn substitute(&mut self, s: &Sentence, surnames: &dyn Fn(char) -> bool) -> Option<Sentence> {
        if s.names.is_empty() {
            return None;
        }
        let chars: Vec<char> = s.text.chars().collect();
        let mut line = Line::default();
        let mut at = 0;
        for &(a, b) in &s.names {
            let n = chars.get(a..b)?;
            if a < at || !(2..=4).contains(&n.len()) || !surnames(n[0]) || !n.iter().all(|&c| is_han(c)) {
                return None;
            }
            line.push(&chars[at..a].iter().collect::<String>());
            let g = self.name();
            line.name(&g);
            at = b;
        }
        line.push(&chars[at..].iter().collect::<String>());
        Some(line.done())
    }

    fn sep(&mut self) -> &'static str {
        *self.rng.pick(&["：", "：", ":", " ", "　"])
    }

    fn phone(&mut self) -> String {
        if self.rng.chance(0.5) {
            format!("1{}{:09}", 3 + self.rng.below(7), self.rng.below(1_000_000_000))
        } else {
            format!("0{}-{:08}", 10 + self.rng.below(900), self.rng.below(100_000_000))
        }
    }

    fn org(&mut self) -> String {
        self.rng.pick(&self.orgs).clone()
    }

    fn place(&mut self) -> String {
        self.rng.pick(&self.places).clone()
    }

    /// One government-form line.
    pub fn form_line(&mut self) -> Sentence {
        let mut l = Line::default();
        match self.rng.below(10) {
            // 联系人：王强，联系电话：0591-…
            0 => {
                let label = if self.rng.chance(0.5) { self.rng.pick(&self.labels) } else { self.rng.pick(&self.private_before) }.clone();
                let sep = self.sep();
                let n = self.name();
                l.push(&label).push(sep).name(&n);
                if self.rng.chance(0.6) {
                    let p = self.phone();
                    l.push(*self.rng.pick(&["，联系电话：", " 电话：", "；手机号码：", " "])).push(&p);
                }
            }
            // 平潭县人民政府副县长王强
            1 => {
                let (o, t, n) = (self.org(), self.rng.pick(&self.titles_before).clone(), self.name());
                if self.rng.chance(0.5) {
                    l.push(&o);
                }
                l.push(&t).name(&n);
                if self.rng.chance(0.3) {
                    l.push("同志");
                }
            }
            // 王强同志任…主任；任命王强为…；免去王强的…职务
            2 => {
                let (n, o, t) = (self.name(), self.org(), self.rng.pick(&self.titles_before).clone());
                match self.rng.below(3) {
                    0 => l.name(&n).push("同志任").push(&o).push(&t),
                    1 => l.push("任命").name(&n).push("为").push(&o).push(&t),
                    _ => l.push("免去").name(&n).push("的").push(&o).push(&t).push("职务"),
                };
            }
            // 王强、李明、张华等3名同志
            3 => {
                let k = 2 + self.rng.below(5);
                if self.rng.chance(0.3) {
                    let label = self.rng.pick(&["参加人员：", "成员：", "获奖人员：", "小组成员："]);
                    l.push(label);
                }
                for i in 0..k {
                    if i > 0 {
                        l.push("、");
                    }
                    let n = self.name();
                    l.name(&n);
                }
                if self.rng.chance(0.4) {
                    l.push(&format!("等{k}名同志"));
                }
            }
            // 12 王 强 男 平潭县实验小学 1000
            4 | 5 => {
                let sep = *self.rng.pick(&[" ", "  ", "\t", "　"]);
                l.push(&format!("{}", 1 + self.rng.below(300))).push(sep);
                let n = self.listed_name();
                l.name(&n);
                if self.rng.chance(0.4) {
                    l.push(sep).push(*self.rng.pick(&["男", "女"]));
                }
                let rest = if self.rng.chance(0.5) { self.org() } else { self.place() };
                l.push(sep).push(&rest);
                if self.rng.chance(0.6) {
                    l.push(sep).push(&format!("{}", 100 * (1 + self.rng.below(200))));
                }
            }
            // 王强，男，汉族，1975年3月出生
            6 => {
                let n = self.name();
                l.name(&n).push(*self.rng.pick(&["，男，", "，女，", "（男）", " 女 "]));
                l.push(&format!("{}年{}月出生", 1950 + self.rng.below(55), 1 + self.rng.below(12)));
            }
            // Negatives: organizations and places in the same slots.
            7 => {
                let label = self.rng.pick(&["申请单位", "建设单位", "发布单位", "实施单位", "地点", "主办单位", "承办单位", "联系单位"]);
                let sep = self.sep();
                let o = if self.rng.chance(0.7) { self.org() } else { self.place() };
                l.push(label).push(sep).push(&o);
            }
            8 => {
                let k = 2 + self.rng.below(4);
                for i in 0..k {
                    if i > 0 {
                        l.push("、");
                    }
                    let p = if self.rng.chance(0.5) { self.place() } else { self.org() };
                    l.push(&p);
                }
            }
            _ => {
                let sep = *self.rng.pick(&[" ", "  ", "\t"]);
                let o = self.org();
                l.push(&format!("{}", 1 + self.rng.below(300))).push(sep).push(&o);
                l.push(sep).push(&format!("{}", 100 * (1 + self.rng.below(200))));
            }
        }
        l.done()
    }
}

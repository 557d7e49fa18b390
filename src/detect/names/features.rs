//! Character features of the name model: ONE function, [`FeatureSet::extract`],
//! feeds both the trainer (`examples/train_names.rs` writes its attributes) and
//! the tagger ([`super::model::NameModel`] hashes them), so the two can never
//! drift apart.
//!
//! Each character of a sequence gets about twenty CRFsuite attributes (value 1):
//!
//! | attribute | what |
//! |---|---|
//! | `b` | bias |
//! | `u-2=X` … `u2=X` | the characters at offsets −2…+2 (folded: full-width ASCII to ASCII, digits to `0`, latin to lower case; `\u{2}`/`\u{3}` outside the sequence) |
//! | `b-2=XY` `b-1=` `b0=` `b1=`, `s=` | the bigrams in the ±2 window, and the skip bigram of −1 and +1 |
//! | `k=…`, `kk=…` | character classes of −1…+1 and −2…+2: `H` Han, `N` Chinese numeral, `D` digit, `L` latin, `S` list separator 、, `C` colon, `P` other punctuation, `W` space, `O` other, `^`/`$` outside |
//! | `p=…` | the name shape of −2…+2 from the project's lexicons: `S` surname (`lexicons/surnames.txt`), `G` given-name character (`lexicons/given_chars.txt`), `X` never a given-name character (single characters of `lexicons/name_stop.txt`), `T` transliteration character, else the class |
//! | `sn-2` … `sn1`, `cs-2` … `cs0`, `gc-1` … `gc1`, `ng-1` … `ng1` | the same lexicon facts one by one; `cs` a compound surname starting there |
//! | `L{k}{r}` | a `before` word of `lexicons/name_context.txt` ends `k` (0–2) characters before this one; `r` its role: `o` official, `p` private, `l` label, `n` neutral |
//! | `R{k}{r}` | an `after` word (or an honorific/title of the name detector) starts `k` (0–2) characters after this one; `h` an honorific or bare title |
//! | `wp=B2`, `wt=nr` | jieba segmentation (HMM on): position of the character in its word (`B`/`M`/`E`/`S`) and the word's length (1–4, 4 = longer); the word's dictionary tag group (`nr`, `ns`, `nt`, `x` out of vocabulary, `o` other) |
//!
//! No word list here comes from training labels: the priors are the engine's
//! own lexicons, so the model does not learn "in the list means a name".
//!
//! Attributes are written one at a time into a reused `String` and handed to a
//! sink as `&str`; the tagging path hashes them without allocating.

use crate::rules::BuiltinData;
use crate::tokenize::{Token, Tokenizer};
use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashSet as HashSet;

/// Role bits of context words.
const ROLE_OFFICIAL: u8 = 1;
const ROLE_PRIVATE: u8 = 2;
const ROLE_LABEL: u8 = 4;
const ROLE_NEUTRAL: u8 = 8;
const ROLE_HONORIFIC: u8 = 16;
const ROLES: [(u8, char); 5] =
    [(ROLE_OFFICIAL, 'o'), (ROLE_PRIVATE, 'p'), (ROLE_LABEL, 'l'), (ROLE_NEUTRAL, 'n'), (ROLE_HONORIFIC, 'h')];

/// Attribute prefixes by window offset (−2…+2), written without `fmt`.
const UNI: [&str; 5] = ["u-2=", "u-1=", "u0=", "u1=", "u2="];
const BI: [&str; 4] = ["b-2=", "b-1=", "b0=", "b1="];
const SN: [&str; 4] = ["sn-2", "sn-1", "sn0", "sn1"];
const CS: [&str; 3] = ["cs-2", "cs-1", "cs0"];
const GC: [&str; 3] = ["gc-1", "gc0", "gc1"];
const NG: [&str; 3] = ["ng-1", "ng0", "ng1"];
const LK: [char; 3] = ['0', '1', '2'];

/// Outside the sequence (before its start, after its end).
const BOS: char = '\u{2}';
const EOS: char = '\u{3}';

/// The lexicons behind the features, compiled once per rule pack.
pub struct FeatureSet {
    surname: HashSet<char>,
    compound: HashSet<(char, char)>,
    given: HashSet<char>,
    never_given: HashSet<char>,
    translit: HashSet<char>,
    before: Option<AhoCorasick>,
    before_role: Vec<u8>,
    after: Option<AhoCorasick>,
    after_role: Vec<u8>,
}

impl std::fmt::Debug for FeatureSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureSet").field("surnames", &self.surname.len()).finish_non_exhaustive()
    }
}

/// Per-sequence buffers, reused from one call to the next.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Folded characters.
    pub chars: Vec<char>,
    /// Byte offset of each character in the text, plus the text length.
    pub offsets: Vec<usize>,
    class: Vec<u8>,
    shape: Vec<u8>,
    /// Roles of before-words ending right before character `j` (index `j`).
    lctx: Vec<u8>,
    /// Roles of after-words starting at character `j`.
    rctx: Vec<u8>,
    wpos: Vec<(u8, u8)>,
    wtag: Vec<&'static str>,
    buf: String,
}

fn role_bit(role: &str) -> u8 {
    match role {
        "official" => ROLE_OFFICIAL,
        "private" => ROLE_PRIVATE,
        "label" => ROLE_LABEL,
        _ => ROLE_NEUTRAL,
    }
}

/// The character as the features see it: full-width ASCII folded as
/// [`crate::normalize`] does, digits to `0`, latin to lower case, controls and
/// tabs to a space (the dump format separates attributes by tabs).
#[inline]
pub fn fold(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{A0}' => ' ',
        _ => c,
    };
    match c {
        '0'..='9' => '0',
        'A'..='Z' => c.to_ascii_lowercase(),
        c if c.is_control() => ' ',
        c => c,
    }
}

fn class(c: char) -> u8 {
    match c {
        '〇' | '零' | '一' | '二' | '两' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '百' | '千' | '万'
        | '亿' => b'N',
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}' => b'H',
        '0'..='9' => b'D',
        'a'..='z' | 'A'..='Z' => b'L',
        '、' => b'S',
        ':' | '：' => b'C',
        ' ' | '\t' | '\n' | '\r' => b'W',
        c if c.is_ascii_punctuation() => b'P',
        '，' | '。' | '；' | '！' | '？' | '“' | '”' | '‘' | '’' | '《' | '》' | '（' | '）' | '【' | '】' | '…' | '—'
        | '·' | '・' | '「' | '」' | '〔' | '〕' => b'P',
        _ => b'O',
    }
}

impl FeatureSet {
    /// Compiles the features of a pack's builtin lexicons.
    pub fn new(b: &BuiltinData) -> FeatureSet {
        let mut surname = HashSet::default();
        let mut compound = HashSet::default();
        for s in &b.surnames {
            let cs: Vec<char> = s.chars().collect();
            match cs.as_slice() {
                [c] => {
                    surname.insert(*c);
                }
                [a, b, ..] => {
                    compound.insert((*a, *b));
                }
                [] => {}
            }
        }
        let never_given = b
            .name_stop
            .iter()
            .filter_map(|w| {
                let mut it = w.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            })
            .collect();
        let mut before: Vec<(String, u8)> = Vec::new();
        let mut after: Vec<(String, u8)> = Vec::new();
        let add = |v: &mut Vec<(String, u8)>, w: &str, bit: u8| match v.iter_mut().find(|(x, _)| x == w) {
            Some((_, r)) => *r |= bit,
            None => v.push((w.to_owned(), bit)),
        };
        for (side, w) in &b.name_context {
            let (side, role) = side.split_once('.').unwrap_or((side.as_str(), ""));
            match side {
                "before" => add(&mut before, w, role_bit(role)),
                "after" => add(&mut after, w, role_bit(role)),
                _ => {}
            }
        }
        for w in &b.name_tables.honorific {
            add(&mut after, w, ROLE_HONORIFIC);
        }
        for (w, _) in &b.name_tables.bare_title {
            add(&mut after, w, ROLE_HONORIFIC);
        }
        let build = |v: &[(String, u8)]| {
            if v.is_empty() {
                None
            } else {
                AhoCorasick::builder().match_kind(MatchKind::Standard).build(v.iter().map(|(w, _)| w)).ok()
            }
        };
        FeatureSet {
            surname,
            compound,
            given: b.given_chars.iter().copied().collect(),
            never_given,
            translit: b.name_tables.translit.chars().collect(),
            before: build(&before),
            before_role: before.iter().map(|(_, r)| *r).collect(),
            after: build(&after),
            after_role: after.iter().map(|(_, r)| *r).collect(),
        }
    }

    /// Computes the attributes of every character of `text`, in order, and
    /// hands each to `sink(character index, attribute)`. Returns the number
    /// of characters (their byte offsets are in `sc.offsets`).
    ///
    /// This is the only feature function: the trainer and the tagger both call it.
    pub fn extract(&self, tok: &Tokenizer, text: &str, sc: &mut Scratch, mut sink: impl FnMut(usize, &str)) -> usize {
        self.prepare(tok, text, sc);
        let n = sc.chars.len();
        let mut buf = std::mem::take(&mut sc.buf);
        let ch = |j: isize| -> char {
            if j < 0 {
                BOS
            } else if j as usize >= n {
                EOS
            } else {
                sc.chars[j as usize]
            }
        };
        let cls = |j: isize| -> char {
            if j < 0 {
                '^'
            } else if j as usize >= n {
                '$'
            } else {
                sc.class[j as usize] as char
            }
        };
        let shp = |j: isize| -> char {
            if j < 0 {
                '^'
            } else if j as usize >= n {
                '$'
            } else {
                sc.shape[j as usize] as char
            }
        };
        let at = |j: isize| j >= 0 && (j as usize) < n;
        for i in 0..n {
            let ii = i as isize;
            let mut emit = |buf: &mut String| sink(i, buf.as_str());
            buf.clear();
            buf.push('b');
            emit(&mut buf);
            for o in -2..=2isize {
                buf.clear();
                buf.push_str(UNI[(o + 2) as usize]);
                buf.push(ch(ii + o));
                emit(&mut buf);
            }
            for o in -2..=1isize {
                buf.clear();
                buf.push_str(BI[(o + 2) as usize]);
                buf.push(ch(ii + o));
                buf.push(ch(ii + o + 1));
                emit(&mut buf);
            }
            buf.clear();
            buf.push_str("s=");
            buf.push(ch(ii - 1));
            buf.push(ch(ii + 1));
            emit(&mut buf);
            buf.clear();
            buf.push_str("k=");
            for o in -1..=1 {
                buf.push(cls(ii + o));
            }
            emit(&mut buf);
            buf.clear();
            buf.push_str("kk=");
            for o in -2..=2 {
                buf.push(cls(ii + o));
            }
            emit(&mut buf);
            buf.clear();
            buf.push_str("p=");
            for o in -2..=2 {
                buf.push(shp(ii + o));
            }
            emit(&mut buf);
            for o in -2..=1isize {
                let j = ii + o;
                if at(j) && self.surname.contains(&sc.chars[j as usize]) {
                    buf.clear();
                    buf.push_str(SN[(o + 2) as usize]);
                    emit(&mut buf);
                }
                if o <= 0 && at(j) && at(j + 1) && self.compound.contains(&(sc.chars[j as usize], sc.chars[j as usize + 1])) {
                    buf.clear();
                    buf.push_str(CS[(o + 2) as usize]);
                    emit(&mut buf);
                }
            }
            for o in -1..=1isize {
                let j = ii + o;
                if !at(j) {
                    continue;
                }
                let c = sc.chars[j as usize];
                if self.given.contains(&c) {
                    buf.clear();
                    buf.push_str(GC[(o + 1) as usize]);
                    emit(&mut buf);
                }
                if self.never_given.contains(&c) {
                    buf.clear();
                    buf.push_str(NG[(o + 1) as usize]);
                    emit(&mut buf);
                }
            }
            for k in 0..=2usize {
                // A before-word ending k characters before i: it ends at index i - k.
                if let Some(j) = i.checked_sub(k) {
                    let m = sc.lctx[j];
                    for (bit, r) in ROLES {
                        if m & bit != 0 {
                            buf.clear();
                            buf.push('L');
                            buf.push(LK[k]);
                            buf.push(r);
                            emit(&mut buf);
                        }
                    }
                }
                // An after-word starting k characters after i: it starts at i + 1 + k.
                let j = i + 1 + k;
                if j <= n {
                    let m = sc.rctx[j];
                    for (bit, r) in ROLES {
                        if m & bit != 0 {
                            buf.clear();
                            buf.push('R');
                            buf.push(LK[k]);
                            buf.push(r);
                            emit(&mut buf);
                        }
                    }
                }
            }
            let (p, l) = sc.wpos[i];
            buf.clear();
            buf.push_str("wp=");
            buf.push(p as char);
            buf.push((b'0' + l) as char);
            emit(&mut buf);
            buf.clear();
            buf.push_str("wt=");
            buf.push_str(sc.wtag[i]);
            emit(&mut buf);
        }
        sc.buf = buf;
        n
    }

    /// Fills the per-character arrays of `sc` for `text`.
    fn prepare(&self, tok: &Tokenizer, text: &str, sc: &mut Scratch) {
        sc.chars.clear();
        sc.offsets.clear();
        sc.class.clear();
        sc.shape.clear();
        for (b, c) in text.char_indices() {
            let f = fold(c);
            sc.offsets.push(b);
            sc.chars.push(f);
            sc.class.push(class(f));
        }
        sc.offsets.push(text.len());
        let n = sc.chars.len();
        for i in 0..n {
            let c = sc.chars[i];
            let s = if self.surname.contains(&c) {
                b'S'
            } else if self.given.contains(&c) {
                b'G'
            } else if self.never_given.contains(&c) {
                b'X'
            } else if self.translit.contains(&c) {
                b'T'
            } else {
                sc.class[i]
            };
            sc.shape.push(s);
        }
        // Context words, located on the text and moved to character indices.
        sc.lctx.clear();
        sc.lctx.resize(n + 1, 0);
        sc.rctx.clear();
        sc.rctx.resize(n + 2, 0);
        let char_at = |b: usize, offsets: &[usize]| offsets.partition_point(|&o| o < b);
        if let Some(ac) = &self.before {
            for m in ac.find_overlapping_iter(text) {
                let j = char_at(m.end(), &sc.offsets);
                sc.lctx[j] |= self.before_role[m.pattern().as_usize()];
            }
        }
        if let Some(ac) = &self.after {
            for m in ac.find_overlapping_iter(text) {
                let j = char_at(m.start(), &sc.offsets);
                sc.rctx[j] |= self.after_role[m.pattern().as_usize()];
            }
        }
        // jieba words.
        sc.wpos.clear();
        sc.wtag.clear();
        let mut toks: Vec<Token> = Vec::new();
        tok.segment_into(text, &mut toks);
        let mut i = 0;
        for t in &toks {
            let len = t.word.chars().count();
            let tag = match tok.tag_of(t) {
                "nr" | "nrfg" | "nrt" => "nr",
                "ns" => "ns",
                "nt" => "nt",
                "x" if len > 1 => "x",
                _ => "o",
            };
            let l = len.min(4) as u8;
            for k in 0..len {
                let p = match (len, k) {
                    (1, _) => b'S',
                    (_, 0) => b'B',
                    (_, k) if k + 1 == len => b'E',
                    _ => b'M',
                };
                sc.wpos.push((p, l));
                sc.wtag.push(tag);
            }
            i += len;
        }
        debug_assert_eq!(i, n, "jieba tokens cover the text");
        sc.wpos.resize(n, (b'S', 1));
        sc.wtag.resize(n, "o");
    }
}

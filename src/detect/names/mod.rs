//! Chinese person names: surname lists, given-name plausibility, jieba and context.
//!
//! jieba's `nr` tag alone is not good enough (its dictionary tags 申请人 and 高新区
//! as names, and without context it splits unseen names), so a name is a
//! *hypothesis* scored from several signals:
//!
//! 1. **Anchor**: a single or compound surname from `lexicons/surnames.txt`,
//!    followed by one or two Han characters that are not in the never-a-name set
//!    of `lexicons/name_stop.txt`. Already-anonymized forms (张某, 李某某) never pass.
//! 2. **Cheap prefilter**: jieba runs only on clauses holding an anchor whose
//!    surname + first given character is not a dictionary word, or that touches a
//!    context word. Most prose never reaches the tagger.
//! 3. **Segmentation**: in the tagged clause, the hypothesis must align with token
//!    boundaries: one token tagged `nr` (strong), an out-of-vocabulary token, a
//!    surname token followed by one or two short tokens, or a name written with
//!    inner spaces (`周 安`) as in published lists.
//! 4. **Context** (`lexicons/name_context.txt`): words right before or after the
//!    name: labels (申请人, 联系人), titles (局长, 主任), honorifics (同志, 先生,
//!    女士), the list separator `、`, and appointment phrasing (`任命…为…主任`).
//!    Context also sets the role: an official acting in office or a private person.
//!
//! 5. **Document** ([`NameDetector::propagate`]): a name found with confidence is
//!    a name wherever else it occurs; a name-shaped candidate without context
//!    (江|宏伟) is held below the threshold and taken when the document repeats
//!    it; a weak name the document also uses for an organization (罗威汽车公司)
//!    is dropped. Names inside doctrines (马克思主义) are public figures'.
//!
//! The score is the sum of the segmentation signal, the context and clean clause
//! boundaries; the policy threshold for `person_name` decides.
//!
//! The steps, one file each, in the order a text goes through them:
//!
//! | file | step |
//! |---|---|
//! | `gate.rs` | anchors, transliteration runs and the jieba windows around them |
//! | `hypotheses.rs` | the spans in a window that could be a name, with their segmentation signal |
//! | `score.rs` | signal + context + boundaries → dropped, held or scored, with a role and an explanation |
//! | `roles.rs` | the context words, list and table neighbours, titles, doctrines |
//! | [`combine`] | the trained model ([`model`], over [`features`]) weighs the hypotheses without context and adds its own |
//! | `document.rs` | the document pass: repeated names, held hypotheses, names that are organizations |
//!
//! This file holds the types, the tables and the constructor.

pub mod combine;
mod document;
mod gate;
mod hypotheses;
mod roles;
mod score;
pub mod features;
pub mod model;
pub mod tables;

use crate::span::{back_chars, fwd_chars};
use crate::budget::{Budget, Stopped};
use crate::tokenize::{Token, Tokenizer};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Who a name belongs to, as far as context tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An official acting in office (title, appointment, 同志).
    Official,
    /// A private person (applicant, complainant, resident…).
    Private,
    /// Context does not say.
    Unknown,
}

/// A scored name in normalized-text byte offsets.
#[derive(Clone, Debug, PartialEq)]
pub struct NameHit {
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// Score 0–1.
    pub score: f64,
    /// Role from context.
    pub role: Role,
    /// Human explanation of the signals.
    pub why: String,
    /// Shaped like a name but without context (江|宏伟): kept below any
    /// threshold, and a name only when the document repeats it.
    pub held: bool,
    /// A title, label, honorific, list or table cell next to it, or a
    /// transliterated foreign name: evidence the trained model has seen
    /// little of in news text, so it does not overrule it
    /// (see [`combine`]).
    pub context: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Signal {
    Nr,
    DictNr,
    Extend,
    Oov,
    Part,
    SplitDict,
    Translit,
    Split,
    SplitNr,
    Spaced,
    DictWord,
    Titled,
    Compound,
}

impl Signal {
    fn weight(self) -> f64 {
        match self {
            Signal::Nr => 0.45,
            Signal::Oov | Signal::SplitNr => 0.4,
            Signal::DictNr | Signal::Part | Signal::Split | Signal::Spaced | Signal::Extend => 0.3,
            Signal::SplitDict => 0.2,
            Signal::Translit | Signal::Titled | Signal::Compound => 0.3,
            Signal::DictWord => 0.05,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Signal::Nr => "unseen word jieba tags nr",
            Signal::DictNr => "dictionary word tagged nr",
            Signal::Extend => "nr token extended by one character",
            Signal::Oov => "out-of-vocabulary token",
            Signal::Part => "surname + given name inside a merged token",
            Signal::Split => "surname token + given-name token(s)",
            Signal::SplitNr => "surname token + given-name token tagged nr",
            Signal::Spaced => "name written with inner spaces",
            Signal::SplitDict => "surname token + dictionary word",
            Signal::Translit => "transliterated foreign name",
            Signal::DictWord => "dictionary word",
            Signal::Titled => "unseen word or name right after a title",
            Signal::Compound => "two-character surname before a title, or a full name the dictionary knows with one",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CtxRole {
    Official,
    Private,
    /// A strong label that does not tell the role (联系人, 姓名).
    Label,
    Neutral,
}

/// The compiled name detector.
#[derive(Debug)]
pub struct NameDetector {
    single: CharSet,
    compound: HashSet<String>,
    never_given: CharSet,
    common_given: CharSet,
    stop: HashSet<String>,
    before: HashMap<String, CtxRole>,
    after: HashMap<String, CtxRole>,
    titles: Vec<String>,
    titles_ac: Option<aho_corasick::AhoCorasick>,
    /// The `doctrine_suffix` table, in one pass over a document (packed SIMD search).
    doctrine: Option<aho_corasick::packed::Searcher>,
    breaks: CharSet,
    /// Characters of transliterated foreign names (克林顿, 普里马科夫).
    translit: CharSet,
    /// First characters of the `org_suffix` table.
    org_first: CharSet,
    /// Before-words by their last character, longest first; after-words by their
    /// first character, longest first: a lookup is one map probe and a few
    /// byte comparisons instead of hashing every suffix or prefix.
    before_by_last: HashMap<char, Vec<(String, CtxRole)>>,
    after_by_first: HashMap<char, Vec<(String, CtxRole)>>,
    /// First characters of compound surnames, last characters of before-words and
    /// first characters of after-words: cheap rejections before any string lookup.
    compound_first: CharSet,
    before_last: CharSet,
    /// Last characters of the titles and labels (official or label before-words).
    title_last: CharSet,
    after_first: CharSet,
    /// The `common_surname` table but the ambiguous ones, and the first characters of
    /// `bare_title.*`: a bare surname before a title (王女士, 李老师).
    bare_surname: CharSet,
    bare_title_first: CharSet,
    /// `bare_before`.
    bare_before: CharSet,
    /// Diagnostics: keep every scored hypothesis, overlapping ones too.
    pub keep_all: bool,
    /// The tables of `lexicons/name_tables.txt`.
    t: tables::NameTables,
}

/// A dictionary word that the dictionary does not tag as a name (`nr*`).
fn ordinary_word(tok: &Tokenizer, w: &str) -> bool {
    tok.has_word(w) && !tok.dict_tag(w).starts_with("nr")
}

/// When the last character of `text[start..end]` makes a dictionary word with
/// the Han character after `end` (费尔南德斯|多次, 雅治先|生), its length: that
/// character belongs to the word, not to the name.
fn last_starts_word(tok: &Tokenizer, text: &str, start: usize, end: usize) -> Option<usize> {
    let last = text[start..end].chars().next_back().filter(|&c| c != '·')?;
    let next = text[end..].chars().next().filter(|&c| is_han(c))?;
    tok.has_word(&text[end - last.len_utf8()..end + next.len_utf8()]).then_some(last.len_utf8())
}

/// A name written with inner spaces (黎 敏, 欧 阳 明) is one list item:
/// if `tail[..end]` is a single Han character, `end` moves over each following
/// single space and single Han character, up to four characters.
fn spaced_run_end(tail: &str, mut end: usize) -> usize {
    let single = |s: &str| {
        let mut cs = s.chars();
        cs.next().is_some_and(is_han) && cs.next().is_none()
    };
    if !single(&tail[..end]) {
        return end;
    }
    let mut n = 1;
    while n < 4 {
        let mut cs = tail[end..].chars();
        let (Some(sp), Some(c)) = (cs.next(), cs.next()) else { break };
        let after = cs.next();
        if !matches!(sp, ' ' | '\u{3000}') || !is_han(c) || after.is_some_and(is_han) {
            break;
        }
        end += sp.len_utf8() + c.len_utf8();
        n += 1;
    }
    end
}

/// [`spaced_run_end`] backwards: `head[from..]` a single Han character moves
/// `from` back over each preceding single space and single Han character.
fn spaced_run_start(head: &str, mut from: usize) -> usize {
    let mut cs = head[from..].chars();
    if !(cs.next().is_some_and(is_han) && cs.next().is_none()) {
        return from;
    }
    let mut n = 1;
    while n < 4 {
        let mut cs = head[..from].chars().rev();
        let (Some(sp), Some(c)) = (cs.next(), cs.next()) else { break };
        let before = cs.next();
        if !matches!(sp, ' ' | '\u{3000}') || !is_han(c) || before.is_some_and(is_han) {
            break;
        }
        from -= sp.len_utf8() + c.len_utf8();
        n += 1;
    }
    from
}

/// A Han character (CJK unified ideographs, extension A, compatibility).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// A set of characters as a bitmap over the Basic Multilingual Plane: one load
/// and a mask per lookup, on the hottest loop of the detector.
#[derive(Clone, Default)]
struct CharSet {
    bits: Vec<u64>,
}

impl CharSet {
    fn from_iter(it: impl IntoIterator<Item = char>) -> CharSet {
        let mut bits = vec![0u64; 1024];
        for c in it {
            let u = c as usize;
            if u < 0x10000 {
                bits[u >> 6] |= 1 << (u & 63);
            }
        }
        CharSet { bits }
    }

    #[inline]
    fn contains(&self, c: &char) -> bool {
        let u = *c as usize;
        u < 0x10000 && self.bits.get(u >> 6).is_some_and(|w| w & (1 << (u & 63)) != 0)
    }
}

impl std::fmt::Debug for CharSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CharSet")
    }
}










/// The score of a held-back hypothesis: below any sensible threshold.
const HELD_SCORE: f64 = 0.3;




/// A name scored this high had context of its own: document-level evidence
/// (an organization's name elsewhere) does not overrule it.
const STRONG_NAME: f64 = 0.8;


/// Buffers reused across windows.
#[derive(Default)]
struct Scratch {
    cands: Vec<(usize, usize, Signal)>,
    scored: Vec<(NameHit, Signal)>,
}

/// What a full name known to the dictionary adds to a hypothesis' score: with
/// clean edges it passes the threshold without context.
const KNOWN_NAME: f64 = 0.25;

/// A dictionary word this frequent (in jieba's counts) is an ordinary word, not
/// a given name (水平 13,880; 素质 4,263; the given name 海燕 is tagged nr).
const COMMON_WORD_FREQ: usize = 800;

/// Characters of context the tagger sees before an anchor.
const WINDOW_BEFORE: usize = 3;
/// Characters the tagger sees from an anchor on (surname, given name, spare).
const WINDOW_AFTER: usize = 5;
/// Characters of context the name model sees on each side of a hypothesis
/// it weighs: its features look two characters out, and a few more let the
/// chain settle.
pub const MODEL_MARGIN: usize = 6;


/// Clause delimiters: the tagger sees one clause at a time.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '。' | '，'
            | ','
            | '；'
            | ';'
            | '：'
            | ':'
            | '！'
            | '!'
            | '？'
            | '?'
            | '\n'
            | '\r'
            | '\t'
            | '（'
            | '）'
            | '('
            | ')'
            | '“'
            | '”'
            | '"'
            | '《'
            | '》'
            | '【'
            | '】'
            | '['
            | ']'
            | '「'
            | '」'
            | '|'
    )
}

impl NameDetector {
    /// Builds the detector from the pack's lexicons.
    pub fn new(b: &crate::rules::BuiltinData) -> NameDetector {
        let (surnames, stop, context, given, t) = (&b.surnames, &b.name_stop, &b.name_context, &b.given_chars, &b.name_tables);
        let mut d = NameDetector {
            single: CharSet::default(),
            compound: HashSet::default(),
            never_given: CharSet::default(),
            common_given: CharSet::from_iter(given.iter().copied()),
            stop: HashSet::default(),
            before: HashMap::default(),
            after: HashMap::default(),
            titles: Vec::new(),
            titles_ac: None,
            doctrine: aho_corasick::packed::Searcher::new(&t.doctrine_suffix),
            breaks: CharSet::default(),
            translit: CharSet::default(),
            org_first: CharSet::from_iter(t.org_suffix.iter().filter_map(|w| w.chars().next())),
            before_by_last: HashMap::default(),
            after_by_first: HashMap::default(),
            compound_first: CharSet::default(),
            before_last: CharSet::default(),
            title_last: CharSet::default(),
            after_first: CharSet::default(),
            bare_surname: CharSet::from_iter(t.common_surname.chars().filter(|c| !t.ambiguous_surname.contains(*c))),
            bare_title_first: CharSet::from_iter(t.bare_title.iter().filter_map(|(w, _)| w.chars().next())),
            bare_before: CharSet::from_iter(t.bare_before.chars()),
            keep_all: false,
            t: t.clone(),
        };
        let mut single: Vec<char> = Vec::new();
        let mut never: Vec<char> = Vec::new();
        for s in surnames {
            match s.chars().count() {
                1 => {
                    single.extend(s.chars());
                }
                2 => {
                    d.compound.insert(s.clone());
                }
                _ => {}
            }
        }
        for w in stop {
            let mut cs = w.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => {
                    never.push(c);
                }
                _ => {
                    d.stop.insert(w.clone());
                }
            }
        }
        for (spec, word) in context {
            let (side, role) = spec.split_once('.').unwrap_or((spec.as_str(), "neutral"));
            let role = match role {
                "official" => CtxRole::Official,
                "private" => CtxRole::Private,
                "label" => CtxRole::Label,
                _ => CtxRole::Neutral,
            };
            let n = word.chars().count();
            if side == "before" {
                d.before.insert(word.clone(), role);
            } else {
                d.after.insert(word.clone(), role);
                if role == CtxRole::Official
                    && n >= 2
                    && (word.ends_with('长')
                        || word.ends_with('任')
                        || word.ends_with('记')
                        || word.ends_with('员'))
                {
                    d.titles.push(word.clone());
                }
            }
        }
        d.titles_ac = aho_corasick::AhoCorasick::new(&d.titles).ok();
        for (w, &r) in &d.before {
            if let Some(c) = w.chars().next_back() {
                d.before_by_last.entry(c).or_default().push((w.clone(), r));
            }
        }
        for (w, &r) in &d.after {
            if let Some(c) = w.chars().next() {
                d.after_by_first.entry(c).or_default().push((w.clone(), r));
            }
        }
        for v in d.before_by_last.values_mut().chain(d.after_by_first.values_mut()) {
            v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        }
        d.translit = CharSet::from_iter(t.translit.chars());
        d.breaks = CharSet::from_iter("。，,；;：:！!？?\n\r\t（）()“”\"《》【】[]「」|".chars());
        d.compound_first = CharSet::from_iter(d.compound.iter().filter_map(|c| c.chars().next()));
        d.before_last = CharSet::from_iter(d.before.keys().filter_map(|w| w.chars().next_back()));
        d.title_last = CharSet::from_iter(
            d.before
                .iter()
                .filter(|(w, r)| matches!(r, CtxRole::Official | CtxRole::Label) && w.chars().count() >= 2)
                .filter_map(|(w, _)| w.chars().next_back()),
        );
        d.after_first = CharSet::from_iter(d.after.keys().filter_map(|w| w.chars().next()));
        d.single = CharSet::from_iter(single);
        d.never_given = CharSet::from_iter(never);
        d
    }

    /// Words the tokenizer should keep whole (context and stop words).
    pub fn dictionary_words(&self) -> impl Iterator<Item = &str> {
        self.before
            .keys()
            .chain(self.after.keys())
            .chain(self.stop.iter())
            .map(String::as_str)
    }

}

fn is_function_tag(tag: &str) -> bool {
    matches!(
        tag,
        "u" | "uj"
            | "ul"
            | "uz"
            | "ug"
            | "uv"
            | "ud"
            | "p"
            | "c"
            | "d"
            | "r"
            | "m"
            | "q"
            | "f"
            | "y"
            | "e"
            | "o"
            | "w"
    )
}

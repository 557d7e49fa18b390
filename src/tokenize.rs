//! The jieba-rs wrapper: one dictionary, built once and shared.
//!
//! jieba's `tag` is the slowest step of the pipeline, so the name detector calls
//! it only on the clauses that hold a plausible name candidate. The dictionary is
//! given the rule pack's context and stop words at start-up (申请人, 局长, 高新区…)
//! with a high frequency, so that segmentation keeps them whole; jieba's own tag
//! for some of them is `nr`, which is why the name detector treats `nr` as one
//! signal among several and rejects stop words outright.

use jieba_rs::Jieba;

/// A tagged token with byte offsets relative to the tokenized slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token<'a> {
    /// The word.
    pub word: &'a str,
    /// jieba part-of-speech tag (`nr` person name, `ns` place, `n` noun…).
    pub tag: &'a str,
    /// Byte start.
    pub start: usize,
    /// Byte end.
    pub end: usize,
}

/// Shared segmenter.
pub struct Tokenizer {
    jieba: Jieba,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokenizer")
    }
}

impl Tokenizer {
    /// Loads the default dictionary and adds `words` as ordinary nouns.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Tokenizer {
        let mut jieba = Jieba::new();
        for w in words {
            if w.chars().count() >= 2 {
                let f = jieba.suggest_freq(w).max(2000);
                jieba.add_word(w, Some(f), Some("n"));
            }
        }
        Tokenizer { jieba }
    }

    /// True when `word` is in the dictionary.
    pub fn has_word(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }

    /// Tags `text` (HMM on, so unseen names tend to stay one token).
    pub fn tag<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Token<'a>> + 'a {
        self.jieba.tag(text, true).into_iter().map(|t| Token {
            word: t.word,
            tag: t.tag,
            start: t.byte_start,
            end: t.byte_end,
        })
    }

    /// Tags `text` into a caller-provided buffer.
    pub fn tag_into<'a>(&'a self, text: &'a str, out: &mut Vec<Token<'a>>) {
        out.clear();
        out.extend(self.tag(text));
    }

    /// Segments `text` (HMM on). Tags are left as `?`: ask [`Tokenizer::tag_of`]
    /// for the few tokens that need one (dictionary tag, or `x` for an
    /// out-of-vocabulary word). Unlike [`Tokenizer::tag`] this never runs
    /// jieba's part-of-speech HMM to guess a tag for unseen words, which costs
    /// as much as the segmentation itself; the name detector does not need it.
    pub fn segment_into<'a>(&'a self, text: &'a str, out: &mut Vec<Token<'a>>) {
        out.clear();
        for t in self.jieba.cut(text, true) {
            out.push(Token { word: t.word, tag: "?", start: t.byte_start, end: t.byte_end });
        }
    }

    /// The tag of a token from [`Tokenizer::segment_into`]: its dictionary tag, or
    /// `x` when it is not a dictionary word.
    pub fn tag_of(&self, t: &Token) -> &'static str {
        match t.tag {
            "?" if self.jieba.has_word(t.word) => self.dict_tag(t.word),
            "?" => "x",
            tag => intern_tag(tag),
        }
    }

    /// jieba's frequency count for a dictionary word (1 for other text).
    pub fn freq(&self, word: &str) -> usize {
        // For a dictionary word the suggested frequency is its own count (+1).
        self.jieba.suggest_freq(word).saturating_sub(1).max(1)
    }

    /// The dictionary tag of a dictionary word (cached per thread).
    pub fn dict_tag(&self, word: &str) -> &'static str {
        thread_local! {
            static CACHE: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, &'static str>> = Default::default();
        }
        if let Some(t) = CACHE.with(|c| c.borrow().get(word).copied()) {
            return t;
        }
        let tags = self.jieba.tag(word, false);
        let tag = match tags.as_slice() {
            [t] => intern_tag(t.tag),
            _ => "x",
        };
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() > 200_000 {
                c.clear();
            }
            c.insert(word.into(), tag);
        });
        tag
    }

    /// The raw jieba instance (benchmarks compare against it).
    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }
}

/// jieba's part-of-speech tags as `'static` strings (unknown ones become `x`).
fn intern_tag(t: &str) -> &'static str {
    const TAGS: &[&str] = &[
        "a", "ad", "ag", "an", "b", "bg", "c", "d", "df", "dg", "e", "en", "eng", "f", "g", "h", "i", "in", "iv", "j", "jn", "k", "l", "ln",
        "m", "mg", "mq", "n", "ng", "nr", "nrfg", "nrt", "ns", "nt", "nz", "o", "p", "q", "qe", "qg", "r", "rg", "rr", "rz", "s", "t", "tg",
        "u", "ud", "ug", "uj", "ul", "uv", "uz", "v", "vd", "vg", "vi", "vn", "vq", "w", "x", "y", "yg", "z", "zg",
    ];
    TAGS.iter().copied().find(|&x| x == t).unwrap_or("x")
}

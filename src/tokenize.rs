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

    /// The raw jieba instance (benchmarks compare against it).
    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }
}

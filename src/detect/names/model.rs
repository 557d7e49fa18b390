//! The statistical person-name tagger: a linear-chain CRF over characters.
//!
//! **Why a CRF.** It is trained by a convex objective (L-BFGS with L1 and L2
//! regularization) in minutes on two cores, it gives calibrated marginal
//! probabilities that become a finding's score, and CRFsuite's model format is
//! read by the `crfs` crate and written by both `crfs` and PyPI
//! `python-crfsuite`, so training can use either while screening stays pure
//! Rust. An averaged perceptron tags at the same speed but gives no
//! probabilities; neural taggers do not fit the speed budget on these machines.
//!
//! **The model file** (`rules/models/person_name.crfsuite`, part of the rule
//! pack and of its SHA-256) is a CRFsuite model whose attributes are the
//! strings of [`super::features`] and whose labels are `B`, `I` and `O` (BIO
//! over person names). At load, `crfs` reads its attribute dictionary; the
//! weights are copied into a dense table indexed by a 64-bit hash of each
//! attribute string, so tagging hashes the attributes as the feature function
//! writes them (no string is allocated or looked up in the model's CQDB) and
//! runs its own Viterbi and forward-backward.
//!
//! **Scores.** A span's score is the exact probability, under the CRF, that the
//! labels of the span are `B I…I` and the label after it is not `I`: the
//! marginal probability of that entity.

use super::features::{FeatureSet, Scratch};
use crate::tokenize::Tokenizer;
use rustc_hash::FxHashMap as HashMap;
use std::hash::Hasher;

/// A person-name span found by the model: byte offsets in the tagged text.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpan {
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// Probability of exactly this span under the model (0–1).
    pub score: f64,
}

/// An error in a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not a CRFsuite model.
    #[error("not a CRFsuite model: {0}")]
    Format(String),
    /// The labels are not `B`, `I` and `O`.
    #[error("model labels must be B, I and O, got {0:?}")]
    Labels(Vec<String>),
    /// Two attribute strings of the model hash alike (a different hash seed is needed).
    #[error("attributes {0:?} and {1:?} collide")]
    Collision(String, String),
}

/// Label indices of the dense tables.
const O: usize = 0;
const B: usize = 1;
const I: usize = 2;
const L: usize = 3;

/// A loaded name model: features plus weights.
pub struct NameModel {
    features: FeatureSet,
    /// Attribute hash → model attribute id and its `L` state weights (one
    /// probe per attribute, no second table).
    index: HashMap<u64, (u32, [f32; L])>,
    /// `trans[from * L + to]`.
    trans: [f64; L * L],
    /// Attribute count in the file.
    num_attrs: usize,
}

impl std::fmt::Debug for NameModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameModel").field("attributes", &self.index.len()).finish_non_exhaustive()
    }
}

/// The hash of an attribute string (FxHash over its bytes, then its length).
#[inline]
fn attr_hash(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.write_usize(s.len());
    h.finish()
}

fn u32_at(buf: &[u8], at: usize) -> Result<u32, ModelError> {
    buf.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| ModelError::Format(format!("truncated at byte {at}")))
}

fn f64_at(buf: &[u8], at: usize) -> Result<f64, ModelError> {
    buf.get(at..at + 8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| ModelError::Format(format!("truncated at byte {at}")))
}

/// Per-thread tagging buffers.
#[derive(Debug, Default)]
struct TagScratch {
    feat: Scratch,
    /// `L` state scores per character.
    emit: Vec<f64>,
    back: Vec<u8>,
    path: Vec<u8>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<TagScratch> = Default::default();
}

impl NameModel {
    /// Loads a CRFsuite model written for `features`. A damaged file is an
    /// error, never a panic: the header's offsets are checked before `crfs`
    /// reads them, and a panic inside `crfs` is caught.
    pub fn from_bytes(bytes: &[u8], features: FeatureSet) -> Result<NameModel, ModelError> {
        if bytes.len() < 48 || &bytes[..4] != b"lCRF" {
            return Err(ModelError::Format("no CRFsuite header".into()));
        }
        if u32_at(bytes, 4)? as usize != bytes.len() {
            return Err(ModelError::Format(format!("header size {} but {} bytes", u32_at(bytes, 4)?, bytes.len())));
        }
        for field in [28, 32, 36, 40, 44] {
            let off = u32_at(bytes, field)? as usize;
            if off < 48 || off + 12 > bytes.len() {
                return Err(ModelError::Format(format!("offset {off} outside the file")));
            }
        }
        let load = std::panic::AssertUnwindSafe(|| Self::load(bytes, features));
        std::panic::catch_unwind(load).unwrap_or_else(|_| Err(ModelError::Format("damaged model file".into())))
    }

    fn load(bytes: &[u8], features: FeatureSet) -> Result<NameModel, ModelError> {
        let model = crfs::Model::new(bytes).map_err(|e| ModelError::Format(e.to_string()))?;
        let labels: Vec<String> =
            (0..model.num_labels()).map(|i| model.to_label(i).unwrap_or("").to_owned()).collect();
        let map: Vec<usize> = labels
            .iter()
            .map(|l| match l.as_str() {
                "O" => Some(O),
                "B" => Some(B),
                "I" => Some(I),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .filter(|m| m.len() == L)
            .ok_or_else(|| ModelError::Labels(labels.clone()))?;
        let num_attrs = model.num_attrs() as usize;
        let mut hashes = Vec::with_capacity(num_attrs);
        let mut index = HashMap::with_capacity_and_hasher(num_attrs, Default::default());
        for a in 0..num_attrs as u32 {
            let s = model.to_attr(a).ok_or_else(|| ModelError::Format(format!("attribute {a} unreadable")))?;
            let h = attr_hash(s);
            if let Some((prev, _)) = index.insert(h, (a, [0f32; L])) {
                return Err(ModelError::Collision(model.to_attr(prev).unwrap_or("").to_owned(), s.to_owned()));
            }
            hashes.push(h);
        }
        // The feature table: header field 7 is its offset; a chunk header
        // (`FEAT`, size, count: the header's own count is left 0 by CRFsuite),
        // then 20 bytes per feature (type, source, target, weight).
        let off = u32_at(bytes, 28)? as usize;
        if bytes.get(off..off + 4) != Some(b"FEAT".as_slice()) {
            return Err(ModelError::Format("no feature chunk".into()));
        }
        let num_features = u32_at(bytes, off + 8)? as usize;
        let mut trans = [0f64; L * L];
        if off + 12 + 20 * num_features > bytes.len() {
            return Err(ModelError::Format(format!("{num_features} features do not fit")));
        }
        for f in 0..num_features {
            let at = off + 12 + 20 * f;
            let (kind, src, dst) = (u32_at(bytes, at)?, u32_at(bytes, at + 4)? as usize, u32_at(bytes, at + 8)? as usize);
            let w = f64_at(bytes, at + 12)?;
            let dst = *map.get(dst).ok_or_else(|| ModelError::Format(format!("feature {f}: label {dst}")))?;
            match kind {
                0 if src < num_attrs && src < hashes.len() => {
                    if let Some((_, ws)) = index.get_mut(&hashes[src]) {
                        ws[dst] = w as f32;
                    }
                }
                1 => {
                    let src = *map.get(src).ok_or_else(|| ModelError::Format(format!("feature {f}: label {src}")))?;
                    trans[src * L + dst] = w;
                }
                _ => return Err(ModelError::Format(format!("feature {f}: type {kind}, source {src}"))),
            }
        }
        Ok(NameModel { features, index, trans, num_attrs })
    }

    /// The feature set the model was loaded with.
    pub fn features(&self) -> &FeatureSet {
        &self.features
    }

    /// Number of attributes in the model.
    pub fn num_attributes(&self) -> usize {
        self.num_attrs
    }

    /// The model row of an attribute string, if the model knows it.
    pub fn attribute_id(&self, attr: &str) -> Option<u32> {
        self.index.get(&attr_hash(attr)).map(|(id, _)| *id)
    }

    /// Person-name spans in `text`, with their probabilities. The text is cut at
    /// line breaks and sentence ends (。！？；) and each piece tagged on its own.
    pub fn spans(&self, tok: &Tokenizer, text: &str) -> Vec<ModelSpan> {
        let mut out = Vec::new();
        self.spans_in(tok, text, 0..text.len(), &mut out);
        out
    }

    /// Like [`NameModel::spans`] on `text[range]` (a clause or window),
    /// appending spans in offsets of `text`.
    pub fn spans_in(&self, tok: &Tokenizer, text: &str, range: std::ops::Range<usize>, out: &mut Vec<ModelSpan>) {
        let piece = &text[range.clone()];
        let mut start = 0;
        for (i, c) in piece.char_indices() {
            if matches!(c, '\n' | '\r' | '。' | '！' | '？' | '；' | '!' | '?' | ';') {
                let end = i + c.len_utf8();
                self.tag_sequence(tok, &piece[start..end], range.start + start, out);
                start = end;
            }
        }
        if start < piece.len() {
            self.tag_sequence(tok, &piece[start..], range.start + start, out);
        }
    }

    /// Like [`NameModel::spans_in`], and also the model's probability that each
    /// of `queries` (byte spans of `text` inside `range`, sorted by start) is
    /// exactly one name: `probs[k]` for `queries[k]` (0 for a span that does
    /// not fall on character boundaries of one tagged piece). This is how a
    /// rule's hypothesis is weighed by the model.
    pub fn analyze(
        &self,
        tok: &Tokenizer,
        text: &str,
        range: std::ops::Range<usize>,
        out: &mut Vec<ModelSpan>,
        queries: &[(usize, usize)],
        probs: &mut Vec<f64>,
    ) {
        probs.clear();
        probs.resize(queries.len(), 0.0);
        let piece = &text[range.clone()];
        let mut start = 0;
        let mut q = 0;
        let mut cuts = piece
            .char_indices()
            .filter(|&(_, c)| matches!(c, '\n' | '\r' | '。' | '！' | '？' | '；' | '!' | '?' | ';'))
            .map(|(i, c)| i + c.len_utf8())
            .chain(std::iter::once(piece.len()));
        while start < piece.len() {
            let end = cuts.next().unwrap_or(piece.len()).max(start);
            if end == start {
                continue;
            }
            let (ps, pe) = (range.start + start, range.start + end);
            while q < queries.len() && queries[q].0 < ps {
                q += 1;
            }
            let mut qe = q;
            while qe < queries.len() && queries[qe].0 < pe {
                qe += 1;
            }
            self.tag_piece(tok, &text[ps..pe], ps, out, &queries[q..qe], &mut probs[q..qe]);
            q = qe;
            start = end;
        }
    }

    /// The most probable labels of `text`, one per character (`O`, `B`, `I`).
    pub fn labels(&self, tok: &Tokenizer, text: &str) -> Vec<char> {
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            let n = self.emissions(tok, text, s);
            self.viterbi(n, s);
            s.path.iter().map(|&y| ['O', 'B', 'I'][y as usize]).collect()
        })
    }

    fn tag_sequence(&self, tok: &Tokenizer, text: &str, base: usize, out: &mut Vec<ModelSpan>) {
        self.tag_piece(tok, text, base, out, &[], &mut []);
    }

    /// Tags one piece (`text` at byte `base` of the caller's text); scores
    /// `queries` (caller's offsets) into `probs`.
    fn tag_piece(&self, tok: &Tokenizer, text: &str, base: usize, out: &mut Vec<ModelSpan>, queries: &[(usize, usize)], probs: &mut [f64]) {
        if text.trim().is_empty() {
            return;
        }
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            let n = self.emissions(tok, text, s);
            self.viterbi(n, s);
            if queries.is_empty() && !s.path.iter().any(|&y| y as usize == B) {
                return;
            }
            self.forward_backward(n, s);
            for (k, &(qs, qe)) in queries.iter().enumerate() {
                let at = |b: usize| b.checked_sub(base).and_then(|b| s.feat.offsets[..=n].binary_search(&b).ok());
                if let (Some(t), Some(e)) = (at(qs), at(qe))
                    && t < e
                {
                    probs[k] = self.span_probability(n, s, t, e);
                }
            }
            let mut t = 0;
            while t < n {
                if s.path[t] as usize != B {
                    t += 1;
                    continue;
                }
                let mut e = t + 1;
                while e < n && s.path[e] as usize == I {
                    e += 1;
                }
                let score = self.span_probability(n, s, t, e);
                out.push(ModelSpan { start: base + s.feat.offsets[t], end: base + s.feat.offsets[e], score });
                t = e;
            }
        });
    }

    /// Fills `s.emit` (`L` state scores per character); returns the length.
    fn emissions(&self, tok: &Tokenizer, text: &str, s: &mut TagScratch) -> usize {
        s.emit.clear();
        let emit = &mut s.emit;
        let n = self.features.extract(tok, text, &mut s.feat, |i, a| {
            if emit.len() < (i + 1) * L {
                emit.resize((i + 1) * L, 0.0);
            }
            if let Some((_, w)) = self.index.get(&attr_hash(a)) {
                for y in 0..L {
                    emit[i * L + y] += w[y] as f64;
                }
            }
        });
        emit.resize(n * L, 0.0);
        n
    }

    fn viterbi(&self, n: usize, s: &mut TagScratch) {
        s.back.clear();
        s.back.resize(n * L, 0);
        s.path.clear();
        if n == 0 {
            return;
        }
        let mut cur = [0f64; L];
        cur.copy_from_slice(&s.emit[0..L]);
        for t in 1..n {
            let mut next = [f64::NEG_INFINITY; L];
            for y in 0..L {
                let (mut best, mut arg) = (f64::NEG_INFINITY, 0u8);
                for (x, &c) in cur.iter().enumerate() {
                    let v = c + self.trans[x * L + y];
                    if v > best {
                        best = v;
                        arg = x as u8;
                    }
                }
                next[y] = best + s.emit[t * L + y];
                s.back[t * L + y] = arg;
            }
            cur = next;
        }
        let mut y = (0..L).fold(0, |b, y| if cur[y] > cur[b] { y } else { b }) as u8;
        s.path.resize(n, 0);
        for t in (0..n).rev() {
            s.path[t] = y;
            if t > 0 {
                y = s.back[t * L + y as usize];
            }
        }
    }

    /// Log-space forward (`alpha`) and backward (`beta`) tables.
    fn forward_backward(&self, n: usize, s: &mut TagScratch) {
        s.alpha.clear();
        s.alpha.resize(n * L, 0.0);
        s.beta.clear();
        s.beta.resize(n * L, 0.0);
        s.alpha[..L].copy_from_slice(&s.emit[..L]);
        for t in 1..n {
            for y in 0..L {
                let v: [f64; L] = std::array::from_fn(|x| s.alpha[(t - 1) * L + x] + self.trans[x * L + y]);
                s.alpha[t * L + y] = log_sum_exp(&v) + s.emit[t * L + y];
            }
        }
        for t in (0..n - 1).rev() {
            for x in 0..L {
                let v: [f64; L] =
                    std::array::from_fn(|y| self.trans[x * L + y] + s.emit[(t + 1) * L + y] + s.beta[(t + 1) * L + y]);
                s.beta[t * L + x] = log_sum_exp(&v);
            }
        }
    }

    /// P(labels of `t..e` are `B I…I` and label `e` is not `I`).
    fn span_probability(&self, n: usize, s: &TagScratch, t: usize, e: usize) -> f64 {
        let last: [f64; L] = std::array::from_fn(|y| s.alpha[(n - 1) * L + y]);
        let log_z = log_sum_exp(&last);
        let mut lp = s.alpha[t * L + B];
        let mut prev = B;
        for u in t + 1..e {
            lp += self.trans[prev * L + I] + s.emit[u * L + I];
            prev = I;
        }
        lp += if e < n {
            let v = [
                self.trans[prev * L + O] + s.emit[e * L + O] + s.beta[e * L + O],
                self.trans[prev * L + B] + s.emit[e * L + B] + s.beta[e * L + B],
            ];
            log_sum_exp(&v)
        } else {
            0.0
        };
        (lp - log_z).exp().clamp(0.0, 1.0)
    }
}

#[inline]
fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

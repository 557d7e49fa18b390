//! Normalization for matching, with an offset map back to the original text.
//!
//! Detectors match on a folded copy of the text so that evasions such as
//! full-width digits (`１３８`), zero-width characters or the ideographic space
//! do not hide a value. Every byte of the folded text remembers the byte of the
//! original it came from, so every finding is reported against the ORIGINAL
//! text, which is what reviewers see and what redaction rewrites.
//!
//! What is folded:
//! - full-width ASCII (U+FF01–U+FF5E) becomes ASCII (`１` → `1`, `（` → `(`, `：` → `:`);
//! - the ideographic space (U+3000) and the no-break space become an ASCII space
//!   when they stand between two ASCII alphanumerics (`138　0013`) or form a run of
//!   two or more (a table-cell separator), and are removed elsewhere (`周　安`,
//!   `秘密　保密期限`);
//! - zero-width characters, the BOM, soft hyphen and bidi controls are removed;
//! - dashes used between digits (`‐ ‑ ‒ – — －`) become `-`.
//!
//! Separators inside numbers (`138 0013 8000`, `138-0013-8000`) are kept in the
//! folded text and bridged by the number scanner (`detect::numbers`), which
//! knows the group structure; that keeps `2023-2025` or a table row of two
//! numbers from being fused into one long digit run.

/// Text folded for matching plus the map from its bytes to original bytes.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The folded text.
    pub text: String,
    /// Sparse offset map: `(folded, original)` byte offsets where the distance
    /// between the two texts changes, sorted. Between two breaks the folded text
    /// is a byte-for-byte copy of the original. Empty when nothing was folded.
    breaks: Vec<(u32, u32)>,
}

fn removed(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

fn fold(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => Some('-'),
        _ => None,
    }
}

fn special(c: char) -> bool {
    !c.is_ascii() && (removed(c) || fold(c).is_some() || c == '\u{3000}' || c == '\u{A0}')
}

impl Normalized {
    /// Folds `original` in one pass. Unchanged runs are copied as slices and the
    /// offset map only records where the two texts shift against each other, so
    /// typical Chinese prose (full-width punctuation every few characters) costs
    /// a few bytes of map per folded character, not four per byte.
    pub fn new(original: &str) -> Normalized {
        assert!(original.len() < u32::MAX as usize, "documents over 4 GiB are refused earlier");
        let Some(first) = original.char_indices().find(|&(_, c)| special(c)).map(|(i, _)| i) else {
            return Normalized { text: original.to_owned(), breaks: Vec::new() };
        };
        let mut text = String::with_capacity(original.len());
        let mut breaks: Vec<(u32, u32)> = vec![(0, 0)];
        // Emit original[from..to] or a folded char at original offset `from`.
        let note = |text: &String, orig: usize, breaks: &mut Vec<(u32, u32)>| {
            let &(n, o) = breaks.last().unwrap_or(&(0, 0));
            let at = text.len();
            if (orig as i64 - o as i64) != (at as i64 - n as i64) {
                breaks.push((at as u32, orig as u32));
            }
        };
        text.push_str(&original[..first]);
        let mut run = first;
        let mut prev_alnum = original[..first].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let mut it = original[first..].char_indices().map(|(i, c)| (i + first, c)).peekable();
        while let Some((i, c)) = it.next() {
            if !special(c) {
                prev_alnum = c.is_ascii_alphanumeric();
                continue;
            }
            // Flush the unchanged run before this character.
            if run < i {
                note(&text, run, &mut breaks);
                text.push_str(&original[run..i]);
            }
            let out = if removed(c) {
                None
            } else if c == '\u{3000}' || c == '\u{A0}' {
                let next = it.peek().map(|&(_, n)| n);
                let next_alnum = next.is_some_and(|n| fold(n).unwrap_or(n).is_ascii_alphanumeric());
                if prev_alnum && next_alnum {
                    Some(' ')
                } else if next == Some(c) {
                    // A run of two or more separates table cells: keep one space
                    // for the whole run, so cells are not fused (1200元　　石碶街道).
                    while it.peek().is_some_and(|&(_, n)| n == c) {
                        it.next();
                    }
                    Some(' ')
                } else {
                    None
                }
            } else {
                fold(c)
            };
            if let Some(o) = out {
                note(&text, i, &mut breaks);
                text.push(o);
                prev_alnum = o.is_ascii_alphanumeric();
            }
            run = it.peek().map_or(original.len(), |&(j, _)| j);
        }
        if run < original.len() {
            note(&text, run, &mut breaks);
            text.push_str(&original[run..]);
        }
        note(&text, original.len(), &mut breaks);
        Normalized { text, breaks }
    }

    /// Original byte offset of folded byte offset `at`.
    pub fn to_original(&self, at: usize) -> usize {
        if self.breaks.is_empty() {
            return at;
        }
        let k = self.breaks.partition_point(|&(n, _)| n as usize <= at);
        let (n, o) = self.breaks[k.saturating_sub(1)];
        o as usize + (at - n as usize)
    }

    /// Folded byte offset of original byte offset `at` (the start of the folded
    /// text that the original character at `at` became, or the next one).
    pub fn from_original(&self, at: usize) -> usize {
        if self.breaks.is_empty() {
            return at.min(self.text.len());
        }
        let k = self.breaks.partition_point(|&(_, o)| o as usize <= at);
        let (n, o) = self.breaks[k.saturating_sub(1)];
        let mut f = n as usize + at.saturating_sub(o as usize);
        if let Some(&(next, _)) = self.breaks.get(k) {
            f = f.min(next as usize);
        }
        let mut f = f.min(self.text.len());
        while !self.text.is_char_boundary(f) {
            f += 1;
        }
        f
    }

    /// Original half-open range of the folded half-open range `[start, end)`.
    ///
    /// The end maps to the end of the original character that produced the
    /// last folded byte, so a span never cuts an original character and never
    /// takes in characters removed after it.
    pub fn span_to_original(&self, start: usize, end: usize, original: &str) -> crate::Span {
        if self.breaks.is_empty() {
            return crate::Span::new(start, end);
        }
        let s = self.to_original(start);
        let e = if end <= start {
            s
        } else {
            let mut last = self.to_original(end - 1).min(original.len().saturating_sub(1));
            while !original.is_char_boundary(last) {
                last -= 1;
            }
            last + original[last..].chars().next().map_or(0, char::len_utf8)
        };
        crate::Span::new(s, e.max(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orig<'a>(n: &Normalized, o: &'a str, needle: &str) -> &'a str {
        let s = n.text.find(needle).unwrap();
        let sp = n.span_to_original(s, s + needle.len(), o);
        &o[sp.start..sp.end]
    }

    #[test]
    fn full_width_digits_fold_and_map_back() {
        let o = "电话：１３８００１３８０００。";
        let n = Normalized::new(o);
        assert_eq!(n.text, "电话:13800138000。");
        assert_eq!(orig(&n, o, "13800138000"), "１３８００１３８０００");
    }

    #[test]
    fn zero_width_and_ideographic_space() {
        let o = "13\u{200B}8　0013\u{200D}8000，密级：秘密　保密期限";
        let n = Normalized::new(o);
        assert_eq!(n.text, "138 00138000,密级:秘密保密期限");
        let table = Normalized::new("序号　3　　1200元　　石碶街道");
        assert_eq!(table.text, "序号3 1200元 石碶街道");
        assert_eq!(orig(&n, o, "138 00138000"), "13\u{200B}8　0013\u{200D}8000");
    }

    #[test]
    fn identity_when_nothing_to_fold() {
        let o = "普通文本 123";
        let n = Normalized::new(o);
        assert_eq!(n.text, o);
        assert_eq!(n.to_original(3), 3);
    }
}

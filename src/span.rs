//! The one span type: half-open byte offsets into the original document text.
//!
//! Character offsets, lines and columns are derived at output time from a
//! [`LineIndex`], never stored, so that there is a single source of truth.

use serde::Serialize;

/// A half-open byte range `[start, end)` into a document's original text.
///
/// Both ends always lie on UTF-8 character boundaries of the text the span was
/// made for; [`Span::new`] checks this in debug builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First byte of the span.
    pub start: usize,
    /// One past the last byte of the span.
    pub end: usize,
}

impl Span {
    /// Makes a span; `start <= end` is required.
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end, "span start {start} after end {end}");
        Span { start, end }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True for an empty span.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// True when the two spans share at least one byte.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// True when `other` lies inside `self`.
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// Byte offset `chars` characters before byte offset `at` of `text` (or the start).
pub fn back_chars(text: &str, at: usize, chars: usize) -> usize {
    text[..at].char_indices().rev().take(chars).last().map_or(at, |(i, _)| i)
}

/// Byte offset `chars` characters after byte offset `at` of `text` (or the end).
pub fn fwd_chars(text: &str, at: usize, chars: usize) -> usize {
    text[at..].char_indices().nth(chars).map_or(text.len(), |(i, _)| at + i)
}

/// Position of a byte offset as a reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Unicode-scalar offset from the start of the text.
    pub char_offset: usize,
    /// 1-based line number (lines end at `\n`).
    pub line: usize,
    /// 1-based column, counted in Unicode scalars.
    pub column: usize,
}

/// Maps byte offsets of one text to character offsets, lines and columns.
///
/// Built once per document in O(n); each lookup is a binary search over line
/// starts and over checkpoints (every [`CHECKPOINT_BYTES`] bytes) plus a count
/// of the characters since the nearer of the two, so a lookup costs at most a
/// checkpoint's worth of characters even on a document that is one long line.
pub struct LineIndex<'t> {
    text: &'t str,
    /// (byte offset, char offset) of each line start.
    lines: Vec<(usize, usize)>,
    /// (byte offset, char offset) of the first character boundary at or after
    /// each multiple of [`CHECKPOINT_BYTES`].
    marks: Vec<(usize, usize)>,
    /// Characters in the whole text.
    chars: usize,
}

/// Bytes between two checkpoints of a [`LineIndex`].
pub const CHECKPOINT_BYTES: usize = 4096;

impl<'t> LineIndex<'t> {
    /// Indexes `text`.
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let mut lines = vec![(0, 0)];
        let mut marks = vec![(0, 0)];
        let mut chars = 0;
        for (i, c) in text.char_indices() {
            if i >= marks.len() * CHECKPOINT_BYTES {
                marks.push((i, chars));
            }
            chars += 1;
            if c == '\n' {
                lines.push((i + 1, chars));
            }
        }
        LineIndex { text, lines, marks, chars }
    }

    /// The text indexed.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// Characters (Unicode scalars) in the whole text.
    pub fn chars(&self) -> usize {
        self.chars
    }

    /// Position of byte offset `at`, which must be a character boundary.
    pub fn position(&self, at: usize) -> Position {
        let at = at.min(self.text.len());
        let line = self.lines.partition_point(|&(b, _)| b <= at) - 1;
        let (lb, lc) = self.lines[line];
        let (mb, mc) = self.marks[self.marks.partition_point(|&(b, _)| b <= at) - 1];
        let (from, from_c) = if mb > lb { (mb, mc) } else { (lb, lc) };
        let char_offset = from_c + self.text[from..at].chars().count();
        Position {
            char_offset,
            line: line + 1,
            column: char_offset - lc + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_lines() {
        let t = "甲乙\nab丙\n";
        let ix = LineIndex::new(t);
        assert_eq!(
            ix.position(0),
            Position {
                char_offset: 0,
                line: 1,
                column: 1
            }
        );
        assert_eq!(
            ix.position(3),
            Position {
                char_offset: 1,
                line: 1,
                column: 2
            }
        );
        let p = ix.position(t.find('丙').unwrap());
        assert_eq!(
            p,
            Position {
                char_offset: 5,
                line: 2,
                column: 3
            }
        );
        assert_eq!(ix.position(t.len()).char_offset, t.chars().count());
    }

    #[test]
    fn index_agrees_with_a_char_by_char_count() {
        for t in ["", "\n", "a", "甲乙\nab丙\n", "\n\n甲\r\n😀x\n尾", "无换行的一行文字"] {
            let ix = LineIndex::new(t);
            assert_eq!(ix.chars(), t.chars().count(), "{t:?}");
            let (mut line, mut col) = (1, 1);
            for (k, (at, c)) in t.char_indices().chain([(t.len(), '\0')]).enumerate() {
                assert_eq!(ix.position(at), Position { char_offset: k, line, column: col }, "{t:?} at {at}");
                if c == '\n' {
                    (line, col) = (line + 1, 1);
                } else {
                    col += 1;
                }
            }
        }
    }

    #[test]
    fn checkpoints_on_one_long_line() {
        let t: String = "甲a乙\u{1F600}".repeat(3 * CHECKPOINT_BYTES) + "\n尾";
        let ix = LineIndex::new(&t);
        assert!(ix.marks.len() > 10);
        let mut k = 0;
        for (at, c) in t.char_indices() {
            let p = ix.position(at);
            assert_eq!(p.char_offset, k);
            if c == '尾' {
                assert_eq!((p.line, p.column), (2, 1));
            } else {
                assert_eq!((p.line, p.column), (1, k + 1));
            }
            k += 1;
        }
    }

    #[test]
    fn overlap_and_contain() {
        let a = Span::new(0, 4);
        assert!(a.overlaps(&Span::new(3, 9)));
        assert!(!a.overlaps(&Span::new(4, 9)));
        assert!(a.contains(&Span::new(1, 4)));
    }
}

/// A caller-supplied string (a media type, an encoding label, a record id) as
/// it may appear in a log line or an error message: quoted and escaped like
/// `{:?}`, and cut to its first `max` characters (`…` marks the cut), so that
/// a hostile caller can neither forge log lines nor flood them.
pub fn bounded(s: &str, max: usize) -> String {
    let mut cut: String = s.chars().take(max).collect();
    let more = cut.len() < s.len();
    if more {
        cut.push('…');
    }
    format!("{cut:?}")
}

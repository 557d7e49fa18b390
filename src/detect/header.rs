//! The header (版头) and the title of a document, as its structure defines them.
//!
//! GB/T 9704-2012 puts the 份号, the 密级和保密期限 and the 紧急程度 above the
//! 发文机关标志 (`某某市人民政府文件`), the 发文字号 and the title; a marking
//! stands there, on a line of its own, in a one-line header
//! (`000027　　机密★5年　　特急`) or in the cells of a header table. So the
//! header is:
//!
//! - each page-header part of the document (`word/header1.xml`), whole;
//! - and the body's lines and cells **before** the first cell that is the
//!   title, the 发文机关标志, a 文号, a chapter or article heading or a sentence
//!   (a cell holding `。`), at most `header_lines` non-blank lines.
//!
//! A statute opens with its title, a report with its title or its first
//! sentence, so their header is empty and no header rule can fire on the
//! 国家秘密 and 机密 of their running text.
//!
//! The title is the first line at or after the header's end that reads as a
//! title, looked for within `header_lines` non-blank lines, plus a
//! continuation line (a wrapped title, or a bracket group on its own line such
//! as `（征求意见稿）`).
//!
//! Everything here is one pass over at most `2 × header_lines` lines.

use std::ops::Range;

/// The header and title of one text (byte offsets into it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The body header is `[0, body_end)` (lines of page-header parts inside
    /// it are skipped when counting).
    pub body_end: usize,
    /// Page-header parts, sorted: wholly header.
    pub parts: Vec<Range<usize>>,
    /// The title, when one was found.
    pub title: Option<Range<usize>>,
}

impl Header {
    /// True when byte `at` lies in the header (a binary search of the parts).
    pub fn contains(&self, at: usize) -> bool {
        if at < self.body_end {
            return true;
        }
        let i = self.parts.partition_point(|r| r.end <= at);
        self.parts.get(i).is_some_and(|r| r.start <= at)
    }

    /// Sorts the parts and merges those that overlap or touch, so that
    /// [`Header::contains`] can search them.
    pub fn normalize_parts(&mut self) {
        self.parts.sort_by_key(|r| r.start);
        let mut out: Vec<Range<usize>> = Vec::with_capacity(self.parts.len());
        for r in self.parts.drain(..) {
            match out.last_mut() {
                Some(l) if r.start <= l.end => l.end = l.end.max(r.end),
                _ => out.push(r),
            }
        }
        self.parts = out;
    }

    /// One past the last header byte.
    pub fn end(&self) -> usize {
        self.parts.iter().map(|r| r.end).fold(self.body_end, usize::max)
    }

    /// True when byte `at` lies in the title.
    pub fn in_title(&self, at: usize) -> bool {
        self.title.as_ref().is_some_and(|t| t.contains(&at))
    }
}

/// Field separators of a header line: a table cell (tab), a `|` column, or
/// blanks (a run of ideographic spaces is one space after normalization).
pub fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '|' | '\r')
}

/// Document types that end a title (GB/T 9704 文种, and what reports and
/// statutes end with).
const GENRES: &[&str] = &[
    "通知", "通报", "决定", "意见", "报告", "请示", "批复", "函", "纪要", "公告", "通告", "方案", "办法", "规定",
    "细则", "条例", "规则", "规划", "计划", "决议", "命令", "议案", "公报", "法", "答复", "说明", "试卷", "试题",
    "告知书", "决定书", "指南", "要点", "总结", "清单", "目录", "汇编", "简报", "章程", "预案", "名单", "通讯录",
];

/// Endings of a 发文机关标志 or an agency name.
const ISSUERS: &[&str] = &["人民政府", "办公厅", "办公室", "委员会", "常务委员会", "领导小组"];
/// One-character agency endings, taken only on a name of four characters or more.
const ISSUER_CHARS: &[char] = &['局', '厅', '委', '部', '院', '署', '办', '会'];

/// Strips a trailing bracket group (`（征求意见稿）`, `(草案)`, `【送审稿】`).
fn strip_bracket(s: &str) -> &str {
    let t = s.trim_end();
    for (open, close) in [('(', ')'), ('（', '）'), ('【', '】'), ('[', ']')] {
        if t.ends_with(close)
            && let Some(i) = t.rfind(open)
        {
            return t[..i].trim_end();
        }
    }
    t
}

fn han_len(s: &str) -> usize {
    s.chars().filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)).count()
}

/// A cell that reads as a title: `关于…`, or four or more characters ending in
/// a document type (a bracket group after it allowed), or a Markdown heading.
fn is_title(cell: &str) -> bool {
    if cell.starts_with('#') {
        return true;
    }
    let core = strip_bracket(cell.trim_end_matches(['》', '>']));
    if core.starts_with("关于") || cell.starts_with("关于") {
        return true;
    }
    han_len(core) >= 4 && GENRES.iter().any(|g| core.ends_with(g))
}

/// A cell that is a 发文机关标志 or an agency's name.
fn is_issuer(cell: &str) -> bool {
    let n = han_len(cell);
    if n < 4 || n != cell.chars().count() {
        return false;
    }
    // `国务院文件`, `某某市人民政府文件`: an agency's name before `文件` (`内部文件` is a marking).
    if let Some(agency) = cell.strip_suffix("文件") {
        return han_len(agency) >= 3;
    }
    ISSUERS.iter().any(|e| cell.ends_with(e)) || cell.chars().next_back().is_some_and(|c| ISSUER_CHARS.contains(&c))
}

/// A 文号 (`某政发〔2024〕3号`) or a chapter / article heading (`第一章`, `第三条`).
fn is_number_or_heading(cell: &str) -> bool {
    let doc_no = ['〔', '[', '［'].iter().any(|o| {
        cell.find(*o).is_some_and(|i| {
            let rest = &cell[i + o.len_utf8()..];
            rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) && cell.ends_with('号')
        })
    });
    let heading = cell.strip_prefix('第').is_some_and(|r| {
        let head: String = r.chars().take(6).collect();
        head.contains(['章', '条', '节', '编'])
    });
    doc_no || heading
}

/// An outline item of the body: `一、`, `(二)`, `（三）`, `1.`, `2、`.
fn is_outline_item(line: &str) -> bool {
    const NUMERALS: &[char] = &['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
    let numeral_then = |s: &str, close: &[char]| {
        let rest = s.trim_start_matches(|c: char| NUMERALS.contains(&c) || c.is_ascii_digit());
        rest.len() < s.len() && rest.starts_with(close)
    };
    numeral_then(line, &['、', '.', '．'])
        || ["(", "（"].iter().any(|o| line.strip_prefix(o).is_some_and(|r| numeral_then(r, &[')', '）'])))
}

/// Where in `line` the header ends, if it does: the start of the first cell
/// that is a title, an issuer, a 文号 or heading, or a sentence. The flag is
/// true when that cell is the title.
fn terminator(line: &str) -> Option<(usize, bool)> {
    if line.contains(['。', '?', '!', '？', '！']) || is_outline_item(line.trim_start()) {
        // A sentence or an outline item (`一、`, `(二)`): body text, whatever
        // its first cell is; no header line holds one.
        return Some((0, false));
    }
    let mut at = 0;
    for cell in line.split(is_separator) {
        let start = at;
        at += cell.len() + 1;
        if cell.is_empty() {
            continue;
        }
        if is_title(cell) {
            return Some((start, true));
        }
        if cell.contains(['；', ';']) || is_issuer(cell) || is_number_or_heading(cell) {
            return Some((start, false));
        }
    }
    None
}

/// Locates the header and the title of `text` (normalized), given the
/// page-header parts (sorted byte ranges of `text`).
pub fn locate(text: &str, header_lines: usize, parts: Vec<Range<usize>>) -> Header {
    let mut pi = 0;
    let mut seen = 0;
    let mut body_end = text.len();
    let mut title_from: Option<(usize, bool)> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let ls = at;
        at += line.len();
        while pi < parts.len() && parts[pi].end <= ls {
            pi += 1;
        }
        if pi < parts.len() && parts[pi].start <= ls {
            continue;
        }
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            continue;
        }
        if seen >= header_lines {
            body_end = ls;
            title_from = Some((ls, false));
            break;
        }
        seen += 1;
        if let Some((off, is_title)) = terminator(body) {
            body_end = ls + off;
            title_from = Some((ls + off, is_title));
            break;
        }
    }
    let title = title_from.and_then(|(from, here)| find_title(text, from, here, header_lines));
    Header { body_end, parts, title }
}

/// The title: the first title line from `from` on (the line at `from` itself
/// when `here`), within `budget` non-blank lines, and its continuation.
fn find_title(text: &str, from: usize, here: bool, budget: usize) -> Option<Range<usize>> {
    let mut lines = Vec::with_capacity(budget + 1);
    let mut at = from;
    for line in text[from..].split_inclusive('\n') {
        let ls = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']).trim();
        if body.is_empty() {
            continue;
        }
        lines.push((ls, ls + line.trim_end_matches(['\n', '\r']).len(), body));
        if lines.len() > budget {
            break;
        }
    }
    let i = if here { 0 } else { lines.iter().position(|(_, _, b)| is_title(b))? };
    let (start, mut end, body) = *lines.get(i)?;
    if let Some(&(_, next_end, next)) = lines.get(i + 1) {
        let ends_in_genre = |s: &str| GENRES.iter().any(|g| strip_bracket(s).ends_with(g));
        let bracket_only = strip_bracket(next).is_empty() && next.chars().count() <= 12;
        if bracket_only || (!ends_in_genre(body) && ends_in_genre(next) && !next.contains('。')) {
            end = next_end;
        }
    }
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_text(text: &str) -> &str {
        &text[..locate(text, 6, Vec::new()).body_end]
    }

    #[test]
    fn the_header_ends_at_the_issuer_or_the_title() {
        let t = "000027\n机密★5年\n特急\n\n某某市人民政府文件\n某政发〔2024〕3号\n关于某事项的通知\n各区县：";
        assert_eq!(header_text(t), "000027\n机密★5年\n特急\n\n");
        let h = locate(t, 6, Vec::new());
        assert_eq!(&t[h.title.clone().unwrap()], "关于某事项的通知");
        assert_eq!(header_text("000027 机密★5年 特急 某某市人民政府文件\n"), "000027 机密★5年 特急 ");
        assert_eq!(header_text("# 中华人民共和国保守国家秘密法\n\n第一章 总则"), "");
        assert_eq!(header_text("为了保守国家秘密，制定本法。\n秘密"), "");
        assert_eq!(header_text("2023年度政府信息公开工作年度报告\n机密"), "");
        assert_eq!(header_text("机密 文件管理规定已经印发。\n"), "");
        assert_eq!(header_text("保密知识问答\n一、密级分为哪几级\n机密"), "保密知识问答\n");
        assert_eq!(header_text("(二)机密\n"), "");
    }

    #[test]
    fn the_header_is_bounded() {
        let t = "a\nb\nc\nd\ne\nf\n机密\n";
        assert_eq!(header_text(t), "a\nb\nc\nd\ne\nf\n");
    }

    #[test]
    fn page_header_parts_are_header_and_skipped_in_the_count() {
        let t = "某某市人民政府\n机密\n关于某事项的通知\n";
        let h = locate(t, 6, vec![0..22]);
        assert!(h.contains(15), "{h:?}");
        assert_eq!(h.body_end, t.find("关于").unwrap());
    }

    #[test]
    fn a_title_continues_over_its_draft_line() {
        let t = "关于进一步加强某项工作的实施意见\n（征求意见稿）\n各单位：";
        let h = locate(t, 6, Vec::new());
        assert_eq!(&t[h.title.unwrap()], "关于进一步加强某项工作的实施意见\n（征求意见稿）");
    }
}

//! Identifier columns of flattened tables.
//!
//! Published lists (拟招聘人员公示, 录取名单, 获奖名单) are tables whose cells end
//! up separated by spaces once the page is turned into text:
//!
//! ```text
//! 单位名称 岗位 准考证号 姓名 性别 … 平潭县某服务所 专业技术人员 107384247107682 沈某 女 …
//! ```
//!
//! The label 准考证号 is a column header with no value of its own, so the
//! labeled-identifier rule does not see the numbers. This detector finds such
//! headers (an identifier label between cell separators, followed by another
//! header word) and then reports, after the header, every standalone cell of 8 to
//! 20 digits (an optional leading letter) as that column's value.

use super::names::is_han;

/// Identifier column headers (a header that ends another comes after it).
const HEADERS: &[&str] = &[
    "准考证号码", "准考证号", "准考号", "考生号", "考籍号", "考号", "学籍号", "学号", "职工号", "工号",
    "证书编号", "证书号码", "证书号", "资格证号", "执业证号", "注册编号",
];

/// A cell value found under an identifier column header.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnHit {
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// The header that names the column.
    pub header: &'static str,
}

fn is_sep(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == '\u{3000}'
}

/// The byte position after the first identifier column header of `text`, with
/// the header. Every header ends in 号 or 号码: the scan looks for that
/// character (a memchr-speed search) and checks the words ending there.
fn header(text: &str) -> Option<(usize, &'static str)> {
    text.match_indices('号').find_map(|(p, _)| {
        let end = if text[p + 3..].starts_with('码') { p + 6 } else { p + 3 };
        let h = HEADERS.iter().find(|h| text[..end].ends_with(**h))?;
        let at = end - h.len();
        let before_ok = text[..at].chars().next_back().is_none_or(is_sep);
        // A header cell: a separator, then another header word (Han), not a value.
        let rest = &text[end..];
        let after_ok = rest.starts_with(is_sep) && rest.trim_start_matches(is_sep).starts_with(is_han);
        (before_ok && after_ok).then_some((end, *h))
    })
}

/// Finds identifier cells under an identifier column header.
pub fn detect(text: &str) -> Vec<ColumnHit> {
    let mut out = Vec::new();
    let Some((from, h)) = header(text) else {
        return out;
    };
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() {
        // A cell starts after a separator.
        if !(b[i].is_ascii_alphanumeric() && (i == 0 || text[..i].chars().next_back().is_some_and(is_sep))) {
            i += 1;
            continue;
        }
        let s = i;
        if b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let d = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - d;
        let ends_cell = i == b.len() || text[i..].chars().next().is_some_and(is_sep);
        if (8..=20).contains(&digits) && ends_cell {
            out.push(ColumnHit { start: s, end: i, header: h });
        }
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_under_an_exam_ticket_header() {
        let t = "名单 单位名称 岗位 准考证号 姓名 性别 某所 专业技术人员 107384247107682 沈某 女 1 某所 管理 104983614558447 唐某 女 1";
        let hits = detect(t);
        let v: Vec<&str> = hits.iter().map(|h| &t[h.start..h.end]).collect();
        assert_eq!(v, ["107384247107682", "104983614558447"]);
        assert!(hits.iter().all(|h| h.header == "准考证号"));
    }

    #[test]
    fn a_labeled_value_or_prose_is_not_a_column() {
        // The label carries its own value (the labeled rule's case), or is prose.
        assert!(detect("准考证号：2024031201537 姓名 张某 20240312").is_empty());
        assert!(detect("考生凭准考证号和身份证入场，考场电话 05912345678").is_empty());
        // Amounts and short numbers in the rows are not identifiers.
        assert!(detect("序号 学号 姓名 金额 1 张某 5000 2 李某 100000").is_empty());
        // A number glued to a unit is not a cell of its own.
        assert!(detect("学号 姓名 资助 12345678元 ").is_empty());
    }
}

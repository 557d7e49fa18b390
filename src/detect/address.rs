//! Private addresses by gazetteer: an address is a private person's when its
//! context says so, and it is an address when it names administrative
//! divisions of the gazetteer and goes down to a road, street, lane, village,
//! group, building, unit or room (a house number is not needed).
//!
//! The gazetteer is `lexicons/admin_divisions.txt`: the GB/T 2260 codes of
//! provinces, prefectures and counties with their names (3,219, from the PyPI
//! package cpca; `tools/admin_divisions.py`). Full names (福建省, 福州市,
//! 伊通满族自治县) start an address; the short form of a province or
//! prefecture (福建, 福州) only when another division follows it (福建福州市).
//!
//! Contexts (`lexicons/address_context.txt`):
//!
//! | context | example | |
//! |---|---|---|
//! | a residence word right before, then `为/是/在/于/：` or spaces | 家住福建省福州市鼓楼区五一路 | private |
//! | a one-character residence word (住) at the start of a clause | 张某，男，住湖南省长沙县黄花镇黄兴村 | private |
//! | a cell under an address column of a table of persons (a `column` header and a `person` header in one header row) | 姓名 性别 住址 … 福建省平潭县潭城镇西航路18号 | private |
//! | no such context | 项目位于福州市鼓楼区五一路 | not reported here (offices and projects have addresses too) |
//!
//! After the divisions, the address goes on in units: a run of up to ten
//! characters (Han, digits, latin, `#`, `-`; no function word such as 的, 和,
//! 应当) ending in a unit word (街道, 镇, 乡, 村, 组, 社区, 路, 街, 巷, 小区, 号,
//! 栋, 单元, 室 …). It must end at a unit below the township (so 家住福建省福州市
//! is no finding). A table cell needs no division when it has two units or a
//! numbered one (潭城镇西航路18号), never a bare village-like word (王庄 is a
//! name as often as a place).
//!
//! Cost: one automaton pass for the context words (and a header scan), then
//! anchored gazetteer lookups and one bounded regex match per context: linear
//! in the text.

use aho_corasick::{AhoCorasick, Anchored, Input, MatchKind, StartKind};
use regex::Regex;
use std::sync::LazyLock;

/// Characters that end an address: function words a place name does not hold.
const FUNCTION_CHARS: &str = "的和或等及与应当是为将了被把对向从到由以其该本各";

/// The units after the divisions, and which of them are fine enough (below
/// the township) to end an address.
static UNITS: LazyLock<Regex> = LazyLock::new(|| {
    let body = format!("[\\p{{Han}}0-9A-Za-z#\\-&&[^{FUNCTION_CHARS}]]");
    let unit = format!(
        "{body}{{0,10}}?(?:街道|社区|居委会|村委会|委|镇|乡|苏木|嘎查|村|组|屯|庄|路|街|大道|巷|弄|胡同|小区|花园|苑|公寓|大厦|新村|家园|山庄|号院|号楼|号|栋|幢|座|单元|层|楼|室|户)"
    );
    Regex::new(&format!("^(?:{unit})+")).expect("the unit pattern is valid")
});

/// Unit words of the township level: an address ending in one is too coarse.
const TOWNSHIP: &[&str] = &["街道", "镇", "乡", "苏木"];

/// Cell separators of a flattened table.
fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '|' | '\u{3000}')
}

/// Clause starts for a one-character residence word.
fn is_clause_start(c: char) -> bool {
    matches!(c, '，' | ',' | '、' | '；' | ';' | '（' | '(' | '）' | ')' | '。' | '\n' | ' ' | '：' | ':')
}

/// A private address found.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressHit {
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// The context that makes it private, for the explanation.
    pub context: String,
    /// The divisions it names (codes of the gazetteer), for the explanation.
    pub divisions: usize,
}

/// Context roles of a word (bits: one word may have several, 住址 is a
/// residence word and a column header).
const RESIDENCE: u8 = 1;
const CLAUSE: u8 = 2;
const COLUMN: u8 = 4;
const PERSON: u8 = 8;

/// The compiled gazetteer and context words.
pub struct AddressDetector {
    /// Division names (full and short forms); pattern `i` is `names[i]`.
    gazetteer: Option<AhoCorasick>,
    /// Per pattern: a short form (needs another division after it).
    short: Vec<bool>,
    /// Context words (leftmost-longest, so 家庭住址 is one word, not 住址 too).
    context: Option<AhoCorasick>,
    /// Per pattern: its role bits.
    context_role: Vec<u8>,
    context_words: Vec<String>,
}

impl std::fmt::Debug for AddressDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressDetector").field("names", &self.short.len()).finish_non_exhaustive()
    }
}

/// The short form of a province or prefecture name, if it has one:
/// 福建省 → 福建, 广西壮族自治区 → 广西, 福州市 → 福州 (never shorter than two
/// characters).
fn short_form(code: u32, name: &str) -> Option<String> {
    let county = code % 100 != 0;
    if county {
        return None;
    }
    let province = code % 10_000 == 0;
    let stem = if province {
        ["特别行政区", "自治区", "省", "市"].iter().find_map(|s| name.strip_suffix(s))?
    } else {
        ["地区", "市", "盟"].iter().find_map(|s| name.strip_suffix(s))?
    };
    // 广西壮族 → 广西, 新疆维吾尔 → 新疆: the ethnic part goes.
    let stem = ["壮族", "维吾尔", "回族"].iter().find_map(|s| stem.strip_suffix(s)).unwrap_or(stem);
    (stem.chars().count() >= 2).then(|| stem.to_owned())
}

impl AddressDetector {
    /// Compiles `divisions` (`code name` lines of the gazetteer) and `context`
    /// (`role word` lines).
    pub fn new<'a>(divisions: impl IntoIterator<Item = &'a str>, context: impl IntoIterator<Item = &'a str>) -> AddressDetector {
        let mut names: Vec<String> = Vec::new();
        let mut short: Vec<bool> = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        for line in divisions {
            let mut p = line.split_whitespace();
            let (Some(code), Some(name)) = (p.next().and_then(|c| c.parse::<u32>().ok()), p.next()) else {
                continue;
            };
            if seen.insert(name.to_owned()) {
                names.push(name.to_owned());
                short.push(false);
            }
            if let Some(s) = short_form(code, name)
                && seen.insert(s.clone())
            {
                names.push(s);
                short.push(true);
            }
        }
        let gazetteer = (!names.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .start_kind(StartKind::Anchored)
                    .build(&names)
                    .ok()
            })
            .flatten();
        let mut words: Vec<String> = Vec::new();
        let mut roles: Vec<u8> = Vec::new();
        for line in context {
            let mut p = line.split_whitespace();
            let (Some(role), Some(word)) = (p.next(), p.next()) else { continue };
            let bit = match role {
                "residence" => RESIDENCE,
                "clause" => CLAUSE,
                "column" => COLUMN,
                "person" => PERSON,
                _ => continue,
            };
            match words.iter().position(|w| w == word) {
                Some(k) => roles[k] |= bit,
                None => {
                    words.push(word.to_owned());
                    roles.push(bit);
                }
            }
        }
        let context = (!words.is_empty())
            .then(|| AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&words).ok())
            .flatten();
        AddressDetector { gazetteer, short, context, context_role: roles, context_words: words }
    }

    /// The divisions at `at`: the end of the chain and how many it names. A
    /// short form counts only with a division after it.
    fn divisions(&self, text: &str, at: usize) -> (usize, usize) {
        let Some(ac) = &self.gazetteer else { return (at, 0) };
        // (end, is short) of each division of the chain.
        let mut chain: Vec<(usize, bool)> = Vec::new();
        let mut end = at;
        while end < text.len() && chain.len() < 6 {
            let Some(m) = ac.find(Input::new(text).range(end..).anchored(Anchored::Yes)) else { break };
            end = m.end();
            chain.push((end, self.short[m.pattern().as_usize()]));
        }
        while chain.last().is_some_and(|&(_, short)| short) {
            chain.pop();
        }
        (chain.last().map_or(at, |&(e, _)| e), chain.len())
    }

    /// The units at `at`: their end, how many, whether the last is below the
    /// township, whether one is numbered.
    fn units(text: &str, at: usize) -> Option<(usize, usize, bool, bool)> {
        let tail = &text[at..];
        // Bounded: an address is never longer than this.
        let cap = tail.char_indices().nth(60).map_or(tail.len(), |(i, _)| i);
        let s = UNITS.find(&tail[..cap])?.as_str();
        let fine = !TOWNSHIP.iter().any(|t| s.ends_with(t));
        let numbered = s.chars().any(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(c));
        let count = UNIT_END.find_iter(s).count();
        Some((at + s.len(), count, fine, numbered))
    }

    /// An address starting at `at`: its end and the divisions it names.
    /// `cell`: a table cell, which needs no division when it has two units
    /// or a numbered one.
    fn address_at(&self, text: &str, at: usize, cell: bool) -> Option<(usize, usize)> {
        let (d_end, n) = self.divisions(text, at);
        if n == 0 && !cell {
            return None;
        }
        let (end, count, fine, numbered) = Self::units(text, d_end)?;
        (fine && (n > 0 || count >= 2 || numbered)).then_some((end, n))
    }

    /// Finds the private addresses of `text`, sorted by start, disjoint.
    pub fn detect(&self, text: &str) -> Vec<AddressHit> {
        let mut out: Vec<AddressHit> = Vec::new();
        let Some(ac) = &self.context else { return out };
        // Header rows: the last person header seen (its end), for columns.
        let mut last_person: Option<usize> = None;
        let mut columns: Vec<usize> = Vec::new();
        for m in ac.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            let k = m.pattern().as_usize();
            let role = self.context_role[k];
            let residence = role & RESIDENCE != 0
                || (role & CLAUSE != 0 && text[..s].chars().next_back().is_none_or(is_clause_start));
            if residence {
                let at = skip_link(text, e);
                if let Some((end, n)) = self.address_at(text, at, false) {
                    out.push(AddressHit { start: at, end, context: format!("after {}", self.context_words[k]), divisions: n });
                }
            }
            if role & (PERSON | COLUMN) == 0 || !is_cell(text, s, e) {
                continue;
            }
            if role & PERSON != 0 {
                last_person = Some(e);
            }
            if role & COLUMN != 0 {
                // A person header within the same header row (80 bytes
                // before, or a person header right after: 住址 姓名).
                let near_before = last_person.is_some_and(|p| s.saturating_sub(p) <= 80);
                let after = &text[e..crate::span::fwd_chars(text, e, 40)];
                let near_after = self
                    .context_words
                    .iter()
                    .zip(&self.context_role)
                    .any(|(w, r)| r & PERSON != 0 && after.contains(w.as_str()));
                if near_before || near_after {
                    columns.push(e);
                }
            }
        }
        // Cells under an address column: to the end of the table (a 。, or
        // 7,000 characters).
        let mut covered = 0;
        for from in columns {
            let from = from.max(covered);
            let limit = crate::span::fwd_chars(text, from, 7_000);
            let limit = text[from..limit].find('。').map_or(limit, |i| from + i);
            let mut cell_start = true;
            let mut i = from;
            while i < limit {
                let Some(c) = text[i..].chars().next() else { break };
                if is_sep(c) {
                    cell_start = true;
                    i += c.len_utf8();
                    continue;
                }
                if cell_start
                    && let Some((end, n)) = self.address_at(text, i, true)
                    && text[end..].chars().next().is_none_or(|c| is_sep(c) || is_clause_start(c))
                {
                    out.push(AddressHit { start: i, end, context: "a cell of an address column in a table of persons".into(), divisions: n });
                    i = end;
                    cell_start = false;
                    continue;
                }
                cell_start = false;
                i += c.len_utf8();
            }
            covered = limit;
        }
        out.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        out.dedup_by(|b, a| b.start < a.end);
        out
    }
}

/// Where each unit of a unit run ends (for counting them).
static UNIT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("街道|社区|居委会|村委会|委|镇|乡|苏木|嘎查|村|组|屯|庄|路|街|大道|巷|弄|胡同|小区|花园|苑|公寓|大厦|新村|家园|山庄|号院|号楼|号|栋|幢|座|单元|层|楼|室|户")
        .expect("the unit-word pattern is valid")
});

/// Skips the link after a residence word: 为, 是, 在, 于, a colon, spaces.
fn skip_link(text: &str, mut at: usize) -> usize {
    for link in ["为", "是", "在", "于"] {
        if text[at..].starts_with(link) {
            at += link.len();
            break;
        }
    }
    let rest = &text[at..];
    let rest = rest.trim_start_matches([':', '：']);
    let rest = rest.trim_start_matches([' ', '\t', '\u{3000}']);
    text.len() - rest.len()
}

/// `text[s..e]` stands alone between cell separators (a header cell).
fn is_cell(text: &str, s: usize, e: usize) -> bool {
    text[..s].chars().next_back().is_none_or(is_sep) && text[e..].chars().next().is_none_or(is_sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> AddressDetector {
        let div = include_str!("../../rules/lexicons/admin_divisions.txt");
        let ctx = include_str!("../../rules/lexicons/address_context.txt");
        AddressDetector::new(crate::rules::lexicon_lines(div), crate::rules::lexicon_lines(ctx))
    }

    fn found(t: &str) -> Vec<&str> {
        det().detect(t).iter().map(|h| &t[h.start..h.end]).collect::<Vec<_>>()
    }

    /// Each context with the case it exists for and its look-alike.
    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            // A residence word, divisions, down to a road (no house number).
            ("申请人家住福建省福州市鼓楼区五一路，电话另告。", &["福建省福州市鼓楼区五一路"]),
            // …a coarse address (no unit below the township) is no finding.
            ("申请人家住福建省福州市，电话另告。", &[]),
            ("户籍地：湖南省长沙县黄花镇黄兴村", &["湖南省长沙县黄花镇黄兴村"]),
            // A statute: no division after the residence word.
            ("居住在本市的外国人应当到街道办事处登记。", &[]),
            // 住 at a clause start; not inside a word.
            ("张某，男，1980年生，住吉林省洮南市石上街五委四十三组。", &["吉林省洮南市石上街五委四十三组"]),
            ("保障性住房位于福州市鼓楼区五一路。", &[]),
            // The short form of a province only before another division.
            ("现住福建福州市仓山区金山街道浦上大道208号", &["福建福州市仓山区金山街道浦上大道208号"]),
            ("现住福建，联系电话见附件。", &[]),
            // Function words end an address.
            ("家住北京市朝阳区的居民可就近办理。", &[]),
            // A project's location: no private context.
            ("项目位于福州市鼓楼区五一路88号。", &[]),
            // A table of persons with an address column.
            (
                "序号 姓名 性别 住址 备注\n1 张某 男 福建省平潭县潭城镇西航路18号 无\n2 李某 女 城关镇东街村5组 无\n3 王庄 男 平潭县 无",
                &["福建省平潭县潭城镇西航路18号", "城关镇东街村5组"],
            ),
            // …an address column of offices (no person column): no finding.
            ("单位名称 地址 电话\n平潭县档案馆 平潭县潭城镇西航路18号 0591-24000000", &[]),
        ];
        for (t, want) in cases {
            assert_eq!(found(t), *want, "{t}");
        }
    }

    #[test]
    fn short_forms() {
        assert_eq!(short_form(350000, "福建省").as_deref(), Some("福建"));
        assert_eq!(short_form(450000, "广西壮族自治区").as_deref(), Some("广西"));
        assert_eq!(short_form(350100, "福州市").as_deref(), Some("福州"));
        assert_eq!(short_form(350102, "鼓楼区"), None);
        assert_eq!(short_form(500000, "重庆市").as_deref(), Some("重庆"));
    }

    #[test]
    fn gazetteer_loads() {
        let d = det();
        assert!(d.short.len() > 3_000, "{}", d.short.len());
        assert_eq!(d.divisions("福建省福州市鼓楼区五一路", 0).1, 3);
        assert_eq!(d.divisions("福建福州市", 0).1, 2);
        assert_eq!(d.divisions("福建，", 0).1, 0);
    }
}

//! What a screening record keeps to identify a document, and nothing more.
//!
//! The record must let a records office find the paper (保密审查 records: title
//! and 文号 or a summary) without becoming a copy of what was withheld. The
//! rules, in the order [`document_info`] applies them:
//!
//! - **The header** is the document's first [`HEADER_LINES`] non-blank lines
//!   (each cut to [`LINE_CHARS`] characters), up to where the body starts:
//!   the first line after the title that is not a `标签：值` metadata line.
//!   From it come the **份号** (six digits opening the first line or cell:
//!   `000027`, `000027 | 机密★5年 | 特急`, or `份号：000027`), the **文号**
//!   (a line or cell that starts with one, `国办发〔2016〕19号　签发人：…`, or
//!   `文号：…`; a 文号 cited in the body is not the document's), and the
//!   **title**: a `标题：` label's value (the label is not part of it), else
//!   the first header line that is not a marking, a 份号, a 紧急程度, a 文号,
//!   a 发文机关标志 (`…文件`), another `标签：值` line or a line without a
//!   Han character.
//! - **The marking** is kept as level and period (`机密`, `5年`; `default`
//!   when the mark has no period and the statutory default applies).
//! - **Every string kept is screened on its own** after the document was, and
//!   every sensitive value found in either screening is masked (`■`): a value
//!   the document screening saw, and one that only shows in isolation. The same
//!   holds for a caller's `title` and `doc_number` ([`screen_caller_text`], also
//!   used for reviewers' comments).
//! - **A withheld document** keeps no word of its body in clear: no title, no
//!   keywords. Its title is sealed under the records key ([`super::seal`]); so
//!   is any title whose own screening withholds it. Without a records key the
//!   title is not kept at all.
//! - **Keywords** (only when there is no 文号 and the document is not
//!   withheld): jieba TF-IDF over the opening [`KEYWORD_WINDOW`] characters,
//!   values masked, then screened as a list and every flagged word dropped.

use super::record::{DocMeta, DocumentInfo, Marking};
use super::seal::RecordsKey;
use crate::detect::Finding;
use crate::rules::model::{Action, Kind};
use crate::screen::{Screener, Screening};
use crate::span::LineIndex;
use crate::verdict::Verdict;
use std::sync::LazyLock;

/// Non-blank lines read as the header.
pub const HEADER_LINES: usize = 12;
/// Characters of a header line that are looked at.
pub const LINE_CHARS: usize = 200;
/// Longest title kept, in characters.
pub const TITLE_CHARS: usize = 100;
/// Longest document id kept in a record, in characters.
pub const DOCUMENT_ID_CHARS: usize = 300;

/// Everything of a 文号 after the issuer: `〔2009〕59号`.
const DOC_NUMBER_TAIL: &str = r"[〔\[［（(]\s*(?:19|20)\d{2}\s*[〕\]］）)]\s*第?\s*\d{1,5}\s*号";

/// A 文号 at the start of a string: issuer (1 to 16 Han) and tail.
static DOC_NUMBER_AT_START: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(&format!(r"^\p{{Han}}{{1,16}}{DOC_NUMBER_TAIL}")).expect("static regex"));
/// `标签：值` (a metadata label of two to eight Han characters).
static LABEL: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^(\p{Han}{2,8})\s*[:：]\s*").expect("static regex"));
/// Six digits opening a line or cell: the 份号.
static COPY_NUMBER: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^([0-9０-９]{6})(?:[\s|｜│]|$)").expect("static regex"));

/// Cell separators of a header laid out as a table or on one line.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '|' | '｜' | '│' | '\t')
}

/// 紧急程度 and the other words a header line can hold besides the marking.
const HEADER_WORDS: &[&str] = &["特急", "加急", "特提", "平急", "急件", "特件"];

/// What the header says of the document.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// 份号.
    pub copy_number: Option<String>,
    /// 文号, white space removed.
    pub doc_number: Option<String>,
    /// Byte span of the title in the text.
    pub title: Option<(usize, usize)>,
}

fn digits_ascii(s: &str) -> String {
    s.chars().map(|c| if ('０'..='９').contains(&c) { char::from(b'0' + (c as u32 - '０' as u32) as u8) } else { c }).collect()
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A mark finding (classification or trade-secret marking) overlapping
/// `start..end`; `marks` are the document's mark findings ([`mark_findings`]).
fn marked(marks: &[&Finding], start: usize, end: usize) -> bool {
    marks.iter().any(|f| f.span.start < end && start < f.span.end)
}

/// The mark findings among `findings`: a handful, where the findings of a
/// roster are many and the header's cells are checked one by one.
fn mark_findings(findings: &[Finding]) -> Vec<&Finding> {
    findings.iter().filter(|f| f.action == Action::Withhold && !f.kind.value_is_sensitive()).collect()
}

impl Header {
    /// Reads the header of `text` (see the module documentation).
    pub fn read(text: &str, findings: &[Finding]) -> Header {
        let marks = mark_findings(findings);
        let mut h = Header::default();
        let mut at = 0;
        let mut seen = 0;
        for line in text.split_inclusive('\n') {
            let line_start = at;
            at += line.len();
            let lead = line.len() - line.trim_start().len();
            let body = line.trim();
            if body.is_empty() {
                continue;
            }
            seen += 1;
            if seen > HEADER_LINES {
                break;
            }
            let start = line_start + lead;
            let cut = body.char_indices().nth(LINE_CHARS).map_or(body.len(), |(b, _)| b);
            let body = &body[..cut];
            let end = start + body.len();
            if let Some(m) = LABEL.captures(body) {
                let label = m.get(1).map_or("", |g| g.as_str());
                let after = m.get(0).map_or(0, |g| g.end());
                let rest = &body[after..];
                let value = rest.trim();
                let vstart = start + after + (rest.len() - rest.trim_start().len());
                match label {
                    "标题" | "题目" | "文件标题" | "文件名称" if h.title.is_none() && !value.is_empty() => {
                        h.title = Some((vstart, vstart + value.len()));
                    }
                    "文号" | "发文字号" | "发文文号" if h.doc_number.is_none() => {
                        h.doc_number = DOC_NUMBER_AT_START.find(value).map(|m| compact(m.as_str()));
                    }
                    "份号" if h.copy_number.is_none() => {
                        h.copy_number = COPY_NUMBER.captures(value).map(|c| digits_ascii(&c[1]));
                    }
                    _ => {}
                }
                continue;
            }
            // A title line is followed by the body: the header ends there.
            if h.title.is_some() {
                break;
            }
            // The line's cells: a table header (`000027 | 机密★5年 | 特急`) or a
            // one-line header with wide spaces between its parts.
            let mut rest = false;
            let mut pos = 0;
            for cell in body.split(is_separator) {
                let cs = pos;
                pos += cell.len() + body[pos + cell.len()..].chars().next().map_or(0, char::len_utf8);
                if cell.is_empty() {
                    continue;
                }
                if seen <= 2 && cs == 0 && h.copy_number.is_none() && COPY_NUMBER.is_match(body) {
                    if let Some(c) = COPY_NUMBER.captures(body) {
                        h.copy_number = Some(digits_ascii(&c[1]));
                    }
                    continue;
                }
                if let Some(m) = DOC_NUMBER_AT_START.find(&body[cs..])
                    && body[cs + m.end()..].chars().next().is_none_or(is_separator)
                {
                    if h.doc_number.is_none() {
                        h.doc_number = Some(compact(m.as_str()));
                    }
                    // The rest of a 文号 line is its 签发人.
                    break;
                }
                if HEADER_WORDS.contains(&cell) || marked(&marks, start + cs, start + cs + cell.len()) {
                    continue;
                }
                rest = true;
            }
            if !rest || marked(&marks, start, end) {
                continue;
            }
            if !body.chars().any(is_han) {
                continue;
            }
            // 发文机关标志: `XX市人民政府文件`, `XX办公厅文件`.
            if body.ends_with("文件") && body.chars().count() <= 30 {
                continue;
            }
            h.title = Some((start, end));
        }
        h
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{20000}'..='\u{2ffff}')
}

/// A caller-supplied or extracted string as it may be stored: screened on its
/// own, every sensitive value masked, cut to `max` characters. Also says
/// whether its own screening withholds it.
pub fn screen_caller_text(screener: &Screener, text: &str, max: usize) -> (String, bool) {
    let s = screener.screen(text);
    let masked = crate::redact::mask_values(text, &s.findings, screener.pack().policy.mask);
    let t: String = masked.trim().chars().take(max).collect();
    (t, s.decision.verdict == Verdict::Withhold)
}

/// The classification marking of the document (its first 密级标志).
pub fn marking(text: &str, findings: &[Finding]) -> Option<Marking> {
    let f = findings.iter().find(|f| f.kind == Kind::ClassificationMark)?;
    let v = text.get(f.span.start..f.span.end)?;
    let (at, level) = ["绝密", "机密", "秘密"].iter().filter_map(|l| v.find(l).map(|i| (i, *l))).min()?;
    let stars = |c: char| c.is_whitespace() || matches!(c, '★' | '☆' | '▲' | '＊' | '*' | '·' | '・');
    let after = v[at + level.len()..].trim_matches(stars);
    let period: String = if after.is_empty() { "default".into() } else { after.chars().take(20).collect() };
    Some(Marking { level: level.into(), period })
}

/// Builds the identification of a screened document (see the module documentation).
pub fn document_info(
    ix: Option<&LineIndex<'_>>,
    bytes: u64,
    s: &Screening,
    screener: &Screener,
    records_key: Option<&RecordsKey>,
    meta: &DocMeta,
) -> DocumentInfo {
    let withheld = s.decision.verdict == Verdict::Withhold;
    let mask = screener.pack().policy.mask;
    let mut d = DocumentInfo {
        content_sha256: s.content_sha256.clone(),
        bytes,
        chars: ix.map_or(0, |ix| ix.chars() as u64),
        ..DocumentInfo::default()
    };
    let text = ix.map(|ix| ix.text());
    let header = text.map(|t| Header::read(t, &s.findings)).unwrap_or_default();
    d.copy_number = header.copy_number;
    d.document_id = meta.document_id.as_deref().filter(|i| !i.trim().is_empty()).map(|i| screen_caller_text(screener, i, DOCUMENT_ID_CHARS).0);
    d.doc_number = match &meta.doc_number {
        Some(n) => Some(screen_caller_text(screener, n, TITLE_CHARS).0),
        None => header.doc_number,
    };
    if let Some(t) = text {
        d.marking = marking(t, &s.findings);
    }
    let title = match (&meta.title, text, header.title) {
        (Some(t), _, _) => Some(t.clone()),
        (None, Some(t), Some((a, b))) => Some(crate::redact::mask_window(t, &s.findings, a, b, mask)),
        _ => None,
    };
    if let Some(t) = title {
        let (t, flagged) = screen_caller_text(screener, &t, TITLE_CHARS);
        if withheld || flagged {
            d.title_sealed = records_key.and_then(|k| k.seal(&t, &s.content_sha256).ok());
        } else if !t.is_empty() {
            d.title = Some(t);
        }
    }
    if let (Some(t), false, None) = (text, withheld, &d.doc_number) {
        d.keywords = keywords(screener, t, &s.findings, mask);
    }
    d
}

static KEYWORDS: LazyLock<(jieba_rs::Jieba, jieba_rs::TfIdf)> =
    LazyLock::new(|| (jieba_rs::Jieba::new(), jieba_rs::TfIdf::default()));

/// Characters of text the keyword summary looks at: the title and the opening
/// paragraph, where a government document states its subject. (jieba's TF-IDF
/// tags every word: over a whole document it cost as much as screening it, and
/// over 600 characters a third of a 4 KB screening; on the sample documents
/// 300 characters give the same kind of summary.)
pub const KEYWORD_WINDOW: usize = 300;

/// Up to five public keywords of `text` (see [`DocumentInfo::keywords`]).
pub fn keywords(screener: &Screener, text: &str, findings: &[Finding], mask: char) -> Vec<String> {
    let candidates = keyword_candidates(text, findings, mask);
    // Screened as a list: a word the screener flags on its own is dropped.
    let list = candidates.join("，");
    let own = screener.screen(&list);
    let mut at = 0;
    let mut out = Vec::new();
    for k in candidates {
        let (a, b) = (at, at + k.len());
        at = b + "，".len();
        if own.findings.iter().all(|f| f.span.end <= a || b <= f.span.start) {
            out.push(k);
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// Keyword candidates before their own screening, best first.
pub fn keyword_candidates(text: &str, findings: &[Finding], mask: char) -> Vec<String> {
    use jieba_rs::KeywordExtract;
    let end = text.char_indices().nth(KEYWORD_WINDOW).map_or(text.len(), |(b, _)| b);
    let local: Vec<Finding> = findings.iter().filter(|f| f.span.end <= end).cloned().collect();
    let masked = crate::redact::mask_values(&text[..end], &local, mask);
    let values: Vec<&str> = local.iter().filter_map(|f| text.get(f.span.start..f.span.end)).collect();
    let pos = ["n", "vn", "nz", "nt", "v", "ns", "l", "i"].map(String::from).to_vec();
    let (jieba, tfidf) = &*KEYWORDS;
    tfidf
        .extract_keywords(jieba, &masked, 12, pos)
        .into_iter()
        .map(|k| k.keyword)
        .filter(|k| {
            k.chars().count() >= 2
                && !k.contains(mask)
                && !k.chars().any(|c| c.is_ascii_digit())
                && !values.iter().any(|v| v.contains(k.as_str()) || k.contains(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(t: &str) -> (Option<String>, Option<String>, Option<String>) {
        let s = Screener::embedded().unwrap();
        let sc = s.screen(t);
        let h = Header::read(t, &sc.findings);
        (h.copy_number, h.doc_number, h.title.map(|(a, b)| t[a..b].to_owned()))
    }

    #[test]
    fn the_header_gives_copy_number_doc_number_and_title() {
        let gw = "000027\n机密★5年\n特急\n某某省人民政府文件\n某政发〔2024〕7号\n关于调整部署的通知\n各市人民政府：\n根据国发〔2020〕1号文件精神……\n";
        assert_eq!(header(gw), (Some("000027".into()), Some("某政发〔2024〕7号".into()), Some("关于调整部署的通知".into())));
        let one = "０００２７８　　机密★5年　　特急\n某政发〔2024〕8号　　签发人：王某\n关于做好工作的通知\n正文。";
        assert_eq!(header(one), (Some("000278".into()), Some("某政发〔2024〕8号".into()), Some("关于做好工作的通知".into())));
        let table = "000027 | 机密★5年 | 特急\n关于做好工作的通知\n正文";
        assert_eq!(header(table).0.as_deref(), Some("000027"));
        assert_eq!(header(table).2.as_deref(), Some("关于做好工作的通知"));
        let internal = "内部资料　注意保存\n某某局工作简报\n正文。";
        assert_eq!(header(internal).2.as_deref(), Some("某某局工作简报"));
        let labels = "标题: 某某镇老年协会清算公告\n发布时间: 2026-08-25\n文号: \n发布机构: 某某管理局\n==== 正文 ====\n某某协会根据国发〔2020〕1号规定……";
        assert_eq!(header(labels), (None, None, Some("某某镇老年协会清算公告".into())));
        let labeled_number = "标题：关于公布名单的通知\n文号：某综实〔2021〕12号\n正文";
        assert_eq!(header(labeled_number).1.as_deref(), Some("某综实〔2021〕12号"));
        // A 文号 cited in the body is not the document's.
        let body = "关于做好工作的通知\n根据国办发〔2016〕19号文件要求，现通知如下。";
        assert_eq!(header(body), (None, None, Some("关于做好工作的通知".into())));
        assert_eq!(header("  \n"), (None, None, None));
    }

    #[test]
    fn a_label_line_is_not_the_title() {
        let t = "联系电话：13958012345\n关于开展工作的通知\n正文内容。";
        assert_eq!(header(t).2.as_deref(), Some("关于开展工作的通知"));
    }

    #[test]
    fn markings_keep_level_and_period() {
        let s = Screener::embedded().unwrap();
        let t = "机密★5年\n关于某事的通知\n";
        let sc = s.screen(t);
        assert_eq!(marking(t, &sc.findings), Some(Marking { level: "机密".into(), period: "5年".into() }));
    }

    #[test]
    fn caller_text_is_screened_and_masked() {
        let s = Screener::embedded().unwrap();
        let (t, withhold) = screen_caller_text(&s, "联系电话：13958012345", 100);
        assert!(!t.contains("13958012345"), "{t}");
        assert!(!withhold);
        assert!(screen_caller_text(&s, "机密★5年 关于某事的通知", 100).1);
    }

    #[test]
    fn keyword_summary_is_public_words_only() {
        let s = Screener::embedded().unwrap();
        let k = keywords(&s, "关于加强城市生活垃圾分类处理工作的通知\n各区要推进垃圾分类，完善分类收运体系，加强垃圾分类宣传。", &[], '■');
        assert!(k.iter().any(|w| w.contains("垃圾")), "{k:?}");
        assert!(k.len() <= 5);
    }
}

//! A self-contained HTML report for reviewers and CI: no external resources,
//! one file, readable without colour and complete on paper.
//!
//! - **Top**: the title, the filter toolbar and a legend; the summary and an
//!   index of every document (verdict, findings, link) are written last (the
//!   report streams) and placed at the top by CSS order, on screen and in print.
//! - **Per document**: `<section class="doc" id data-verdict data-categories>`
//!   with its path, verdict, reasons, the audit record id when `--data-dir` is
//!   used, a findings table (number, line, kind, rule, confidence, action,
//!   basis, explanation, masked excerpt) and the text with every flagged passage
//!   in a `<mark class="hl cat-<category> act-<action>" data-rule data-kind
//!   data-category>` followed by its number, linked to its row.
//! - Categories differ in hue **and** pattern (stripes, dots, cross-hatch,
//!   underline style), and allowed passages are outlined, so the marks can be
//!   told apart in greyscale; the legend shows each.
//! - A **withheld** document's body is not embedded: only its header lines
//!   (the policy's `header_lines`), with their marks, the reasons and the
//!   findings table without excerpts — unless `--reveal`.
//! - Values are masked (one mask character per character) unless `--reveal`.
//!   A passage a baseline or allow-list covers also has class `accepted` and
//!   `data-accepted="baseline|allow-list"` (a dashed outline; not counted by the
//!   CI gate); the meta line counts them and names the gate's verdict. The
//!   verdict shown is always the screening's own.
//! - Print: no scroll boxes, no sticky header or toolbar, colours printed.
//! - A script filters documents by verdict and category and counts the
//!   highlighted passages of the texts into `<body data-highlights="N">` once
//!   the page has rendered.

use super::jsonl::DocumentRecord;
use crate::detect::Finding;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Where a document section's audit record line goes (filled in by
/// [`with_record`] once the record is appended).
const RECORD_SLOT: &str = "<!--mishen:record-->";

const CSS: &str = r#"
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#1d1f23;display:flex;flex-direction:column}
header.top{order:-2;position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6em 1em;z-index:1}
header.top h1{font-size:1.1em;margin:0 0 .3em}
nav#index{order:-1;background:#fff;margin:1em 1em 0;padding:.6em 1em;border-radius:6px}
nav#index ol{columns:2;margin:.4em 0;font-size:.9em}
main{order:0}
footer{order:1;margin:1em;color:#555}
.filters label{margin-right:1em;white-space:nowrap}
.legend{font-size:.88em;margin-top:.3em}
.legend span{margin-right:1.2em;white-space:nowrap}
section.doc{background:#fff;margin:1em;padding:.8em 1em;border-radius:6px;border-left:6px solid #999}
section.doc[data-verdict=publish]{border-color:#2e7d32}
section.doc[data-verdict=redact]{border-color:#ef6c00;border-left-style:double}
section.doc[data-verdict=withhold]{border-color:#c62828;border-left-style:dashed}
.verdict{font-weight:bold;text-transform:uppercase;margin-right:.6em}
.path,.record{font-family:ui-monospace,monospace;word-break:break-all}
.record{font-size:.85em;color:#444}
ul.reasons{margin:.4em 0;padding-left:1.2em;font-size:.92em}
table.findings{border-collapse:collapse;font-size:.85em;margin:.5em 0;width:100%}
table.findings th,table.findings td{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}
table.findings th{background:#f0f0f0}
table.findings td.num{white-space:nowrap}
pre.text{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #eee;padding:.6em;max-height:40em;overflow:auto;font-size:.95em}
p.withheld{font-style:italic;color:#7a1f1f}
mark.hl{border-radius:3px;padding:0 1px;color:inherit}
mark.cat-state_secret{background:#ffcdd2 repeating-linear-gradient(45deg,transparent 0 4px,rgba(183,28,28,.35) 4px 6px);text-decoration:underline solid #b71c1c 2px}
mark.cat-trade_secret{background:#e1bee7 repeating-linear-gradient(-45deg,transparent 0 3px,rgba(74,20,140,.3) 3px 5px),repeating-linear-gradient(45deg,transparent 0 3px,rgba(74,20,140,.3) 3px 5px);text-decoration:underline double #4a148c}
mark.cat-personal_data{background:#fff59d radial-gradient(rgba(120,90,0,.45) 1px,transparent 1.5px) 0 0/5px 5px;text-decoration:underline dotted #795548 2px}
mark.cat-internal_affairs{background:#b3e5fc repeating-linear-gradient(0deg,transparent 0 4px,rgba(1,87,155,.3) 4px 5px);text-decoration:underline wavy #01579b}
mark.act-allow{background:#c8e6c9;outline:1px solid #2e7d32;text-decoration:none}
mark.accepted{outline:1px dashed #555}
mark.hl.off{background:none;outline:none;text-decoration:none}
sup.fn{font-size:.7em;margin-left:1px}
sup.fn a{color:#333;text-decoration:none}
.hidden{display:none}
@media print{
 body{background:#fff}
 header.top{position:static;border:0}
 .filters{display:none}
 pre.text{max-height:none;overflow:visible;border:0}
 section.doc{break-inside:auto;margin:.5em 0}
 table.findings{break-inside:auto}
 tr{break-inside:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit}
}
"#;

const JS: &str = r#"
(function(){
  function apply(){
    var v=[].slice.call(document.querySelectorAll('input[data-verdict]')).filter(function(i){return i.checked}).map(function(i){return i.dataset.verdict});
    var c=[].slice.call(document.querySelectorAll('input[data-category]')).filter(function(i){return i.checked}).map(function(i){return i.dataset.category});
    document.querySelectorAll('section.doc').forEach(function(s){
      var cats=(s.dataset.categories||'none').split(' ');
      var ok=v.indexOf(s.dataset.verdict)>=0 && cats.some(function(x){return c.indexOf(x)>=0});
      s.classList.toggle('hidden',!ok);
    });
    document.querySelectorAll('mark.hl').forEach(function(m){
      m.classList.toggle('off',c.indexOf(m.dataset.category)<0);
    });
  }
  document.querySelectorAll('.filters input').forEach(function(i){i.addEventListener('change',apply)});
  apply();
  document.body.dataset.highlights=document.querySelectorAll('pre.text mark.hl').length;
  document.body.dataset.documents=document.querySelectorAll('section.doc').length;
})();
"#;

/// Categories in the legend and the filters, with their Chinese names.
const CATEGORIES: &[(&str, &str)] = &[
    ("state_secret", "国家秘密"),
    ("trade_secret", "商业秘密"),
    ("personal_data", "个人信息"),
    ("internal_affairs", "内部事务信息"),
];

/// Writes the page head, the filter toolbar and the legend.
pub fn header(w: &mut dyn Write, reveal: bool) -> io::Result<()> {
    let mut filters = String::new();
    for v in ["publish", "redact", "withhold"] {
        let _ = write!(filters, r#"<label><input type="checkbox" checked data-verdict="{v}"> {v}</label>"#);
    }
    filters.push_str(" | ");
    for c in ["state_secret", "trade_secret", "personal_data", "internal_affairs", "unreadable", "none"] {
        let _ = write!(filters, r#"<label><input type="checkbox" checked data-category="{c}"> {c}</label>"#);
    }
    let mut legend = String::from("图例 legend: ");
    for (c, zh) in CATEGORIES {
        let _ = write!(legend, r#"<span><mark class="hl cat-{c} act-redact">示例</mark> {zh} {c}</span>"#);
    }
    legend.push_str(r#"<span><mark class="hl cat-personal_data act-allow">示例</mark> 报告但允许公开 reported, allowed</span>"#);
    legend.push_str(r#"<span><mark class="hl cat-personal_data act-redact accepted">示例</mark> 基线或白名单 baseline / allow-list</span>"#);
    legend.push_str("<span><sup class=\"fn\">1</sup> 发现编号 finding number</span>");
    let note = if reveal { "values shown (--reveal)" } else { "values masked" };
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>mishen 审查报告</title><style>{CSS}</style></head>\n<body>\n\
         <header class=\"top\"><h1>mishen 审查报告 · screening report <small>({note})</small></h1><div class=\"filters\">{filters}</div><div class=\"legend\">{legend}</div></header>\n<main>\n"
    )
}

/// One line of the index: a document's anchor, path, verdict and number of findings.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    /// The section's id.
    pub anchor: String,
    /// The document's path.
    pub path: String,
    /// Its verdict.
    pub verdict: String,
    /// Its number of findings.
    pub findings: usize,
}

impl IndexEntry {
    /// The entry of a document record.
    pub fn of(rec: &DocumentRecord) -> IndexEntry {
        IndexEntry { anchor: anchor(&rec.path), path: rec.path.clone(), verdict: rec.verdict.clone(), findings: rec.findings.len() }
    }
}

/// Writes the summary and the index (shown at the top), the script, and
/// closes the page.
pub fn footer(w: &mut dyn Write, summary: &str, index: &[IndexEntry]) -> io::Result<()> {
    let count = |v: &str| index.iter().filter(|e| e.verdict == v).count();
    write!(
        w,
        "</main>\n<nav id=\"index\"><b>摘要 summary</b>: {} · 公开 publish {} · 删除后公开 redact {} · 不予公开 withhold {}<ol>",
        escape(summary),
        count("publish"),
        count("redact"),
        count("withhold")
    )?;
    for e in index {
        write!(
            w,
            "<li><a href=\"#{}\"><b>{}</b> {}</a> ({} finding(s))</li>",
            e.anchor,
            escape(&e.verdict),
            escape(&e.path),
            e.findings
        )?;
    }
    write!(w, "</ol></nav>\n<footer id=\"summary\">{}</footer>\n<script>{JS}</script>\n</body></html>\n", escape(summary))
}

/// The section id of a document: a hash of its path (paths are unique in a run).
pub fn anchor(path: &str) -> String {
    // FNV-1a: stable across runs and platforms.
    let h = path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    format!("doc-{h:016x}")
}

/// Fills in a section's audit record line (`html` from [`document`]).
pub fn with_record(html: &str, record: Option<(&str, u64)>) -> String {
    let line = record.map(|(id, seq)| format!("<div class=\"record\">审查记录 audit record {} · seq {seq}</div>", escape(id))).unwrap_or_default();
    html.replacen(RECORD_SLOT, &line, 1)
}

/// The end of the header lines of `text`: its first `lines` non-blank lines.
fn header_end(text: &str, lines: usize) -> usize {
    let mut end = 0;
    let mut seen = 0;
    for l in text.split_inclusive('\n') {
        end += l.len();
        if !l.trim().is_empty() {
            seen += 1;
            if seen >= lines {
                return end;
            }
        }
    }
    text.len()
}

/// One document's section. `text` and `findings` are the screened text and its
/// findings (the same ones `rec` was built from); `None` for an unreadable
/// document. `header_lines`: how much of a withheld document is shown.
pub fn document(rec: &DocumentRecord, text: Option<&str>, findings: &[Finding], mask: char, reveal: bool, header_lines: usize) -> String {
    let mut cats: Vec<&str> = rec.findings.iter().map(|f| f.category.as_str()).collect();
    if rec.unreadable.is_some() {
        cats.push("unreadable");
    }
    cats.sort_unstable();
    cats.dedup();
    if cats.is_empty() {
        cats.push("none");
    }
    let id = anchor(&rec.path);
    let mut o = String::new();
    let _ = write!(
        o,
        "<section class=\"doc\" id=\"{id}\" data-verdict=\"{}\" data-categories=\"{}\">\n<h2><span class=\"verdict\">{}</span><span class=\"path\">{}</span></h2>\n",
        escape(&rec.verdict),
        cats.join(" "),
        escape(&rec.verdict),
        escape(&rec.path)
    );
    let fmt = rec.format.as_deref().map(|f| format!(" · {f}")).unwrap_or_default();
    let enc = rec.encoding.as_deref().map(|e| format!(" · {e}")).unwrap_or_default();
    let gate = rec.gate.as_deref().map(|g| format!(" · {} baselined, {} allow-listed (CI gate: {g})", rec.baselined, rec.allow_listed)).unwrap_or_default();
    let _ = writeln!(
        o,
        "<div class=\"meta\">{} finding(s){}{}{} · {} characters · sha256 {}</div>{RECORD_SLOT}",
        rec.findings.len(),
        escape(&gate),
        escape(&fmt),
        escape(&enc),
        rec.chars,
        &rec.content_sha256.get(..16).unwrap_or("")
    );
    o.push_str("<ul class=\"reasons\">");
    for r in &rec.reasons {
        let _ = write!(o, "<li><b>{}</b> ({}): {} <br><small>{}</small></li>", escape(&r.category), escape(&r.action), escape(&r.summary), escape(&r.basis));
    }
    o.push_str("</ul>\n");
    let withheld = rec.verdict == "withhold" && !reveal;
    if !rec.findings.is_empty() {
        findings_table(&mut o, rec, &id, withheld);
    }
    if let (Some(text), false) = (text, findings.is_empty()) {
        // A withheld document shows its header lines only.
        let shown_end = if withheld { header_end(text, header_lines.max(1)) } else { text.len() };
        o.push_str("<pre class=\"text\">");
        let mut at = 0;
        for (n, (f, r)) in findings.iter().zip(&rec.findings).enumerate() {
            let (s, e) = (f.span.start, f.span.end);
            if s < at || e > shown_end || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue;
            }
            o.push_str(&escape(&text[at..s]));
            let value = &text[s..e];
            let shown = if reveal { value.to_owned() } else { value.chars().map(|c| if c.is_whitespace() { c } else { mask }).collect() };
            let src = r.source.as_ref().map(|s| format!(" · {s}")).unwrap_or_default();
            let accepted = match (r.baselined, r.allow_listed) {
                (true, _) => Some("baseline"),
                (false, true) => Some("allow-list"),
                _ => None,
            };
            let (cls, data, note) = match accepted {
                Some(by) => (" accepted", format!(" data-accepted=\"{by}\""), format!(" · {by}: not counted by the CI gate")),
                None => ("", String::new(), String::new()),
            };
            let _ = write!(
                o,
                "<mark class=\"hl cat-{c} act-{a}{cls}\"{data} data-category=\"{c}\" data-kind=\"{k}\" data-rule=\"{rule}\" title=\"{rule} · {k} · {a} · {conf:.2} · line {l}{src}{note}\">{v}</mark><sup class=\"fn\"><a href=\"#{id}-f{num}\">{num}</a></sup>",
                c = escape(&r.category),
                a = escape(&r.action),
                k = escape(&r.kind),
                rule = escape(&r.rule),
                conf = r.confidence,
                l = r.line,
                src = escape(&src),
                v = escape(&shown),
                num = n + 1
            );
            at = e;
        }
        o.push_str(&escape(&text[at..shown_end.max(at)]));
        o.push_str("</pre>\n");
        if withheld && shown_end < text.len() {
            o.push_str("<p class=\"withheld\">正文未嵌入：本文件不予公开（--reveal 可显示）· body not embedded: the document is withheld (--reveal shows it)</p>\n");
        }
    }
    o.push_str("</section>\n");
    o
}

/// The findings table of a document: everything the marks' titles say, in
/// the page. Excerpts are left out of a withheld document's table.
fn findings_table(o: &mut String, rec: &DocumentRecord, id: &str, withheld: bool) {
    o.push_str("<table class=\"findings\"><thead><tr><th>#</th><th>行 line</th><th>类别 kind</th><th>规则 rule</th><th>置信度 confidence</th><th>处理 action</th><th>依据 basis</th><th>说明 explanation</th>");
    if !withheld {
        o.push_str("<th>摘录 excerpt</th>");
    }
    o.push_str("</tr></thead><tbody>");
    for (n, r) in rec.findings.iter().enumerate() {
        let accepted = if r.baselined {
            " (baseline)"
        } else if r.allow_listed {
            " (allow-list)"
        } else {
            ""
        };
        let _ = write!(
            o,
            "<tr id=\"{id}-f{num}\"><td class=\"num\">{num}</td><td class=\"num\">{line}:{col}</td><td><mark class=\"hl cat-{c} act-{a}\">{k}</mark></td><td>{rule}</td><td class=\"num\">{conf:.2}</td><td>{a}{accepted}</td><td>{basis}</td><td>{why}</td>",
            num = n + 1,
            line = r.line,
            col = r.column,
            c = escape(&r.category),
            a = escape(&r.action),
            k = escape(&r.kind),
            rule = escape(&r.rule),
            conf = r.confidence,
            basis = escape(&r.basis),
            why = escape(&r.explanation),
        );
        if !withheld {
            let _ = write!(o, "<td>{}</td>", escape(&r.excerpt));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>\n");
}

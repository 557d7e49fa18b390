//! A self-contained HTML report for reviewers: no external resources, one file.
//!
//! For each document: its path, verdict and reasons, and — when there are
//! findings — its extracted text with every flagged passage in a
//! `<mark class="hl cat-<category> act-<action>" data-rule data-kind data-category>`.
//! Values are masked (one mask character per character) unless `--reveal`.
//! A passage a baseline or allow-list covers also has class `accepted` and
//! `data-accepted="baseline|allow-list"` (a dashed outline; its title says it is
//! not counted by the CI gate); the document's meta line counts them and names
//! the gate's verdict. The verdict shown is always the screening's own.
//! A toolbar filters documents by verdict and by category (documents are
//! `<section class="doc" data-verdict data-categories>`); a script counts the
//! highlights into `<body data-highlights="N">` once the page has rendered.

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

const CSS: &str = r#"
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#1d1f23}
header.top{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6em 1em;z-index:1}
header.top h1{font-size:1.1em;margin:0 0 .3em}
.filters label{margin-right:1em;white-space:nowrap}
section.doc{background:#fff;margin:1em;padding:.8em 1em;border-radius:6px;border-left:6px solid #999}
section.doc[data-verdict=publish]{border-color:#2e7d32}
section.doc[data-verdict=redact]{border-color:#ef6c00}
section.doc[data-verdict=withhold]{border-color:#c62828}
.verdict{font-weight:bold;text-transform:uppercase;margin-right:.6em}
.path{font-family:ui-monospace,monospace;word-break:break-all}
ul.reasons{margin:.4em 0;padding-left:1.2em;font-size:.92em}
pre.text{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #eee;padding:.6em;max-height:40em;overflow:auto;font-size:.95em}
mark.hl{border-radius:3px;padding:0 1px}
mark.cat-state_secret{background:#ffcdd2}
mark.cat-trade_secret{background:#e1bee7}
mark.cat-personal_data{background:#fff59d}
mark.act-allow{background:#c8e6c9}
mark.accepted{outline:1px dashed #555}
mark.hl.off{background:none;outline:none}
.hidden{display:none}
footer{margin:1em;color:#555}
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
  document.body.dataset.highlights=document.querySelectorAll('mark.hl').length;
  document.body.dataset.documents=document.querySelectorAll('section.doc').length;
})();
"#;

/// Writes the page head and the filter toolbar.
pub fn header(w: &mut dyn Write, reveal: bool) -> io::Result<()> {
    let mut filters = String::new();
    for v in ["publish", "redact", "withhold"] {
        let _ = write!(filters, r#"<label><input type="checkbox" checked data-verdict="{v}"> {v}</label>"#);
    }
    filters.push_str(" | ");
    for c in ["state_secret", "trade_secret", "personal_data", "internal_affairs", "unreadable", "none"] {
        let _ = write!(filters, r#"<label><input type="checkbox" checked data-category="{c}"> {c}</label>"#);
    }
    let note = if reveal { "values shown (--reveal)" } else { "values masked" };
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>mishen 审查报告</title><style>{CSS}</style></head>\n<body>\n\
         <header class=\"top\"><h1>mishen 审查报告 · screening report <small>({note})</small></h1><div class=\"filters\">{filters}</div></header>\n<main>\n"
    )
}

/// Writes the summary and the script, and closes the page.
pub fn footer(w: &mut dyn Write, summary: &str) -> io::Result<()> {
    write!(w, "</main>\n<footer id=\"summary\">{}</footer>\n<script>{JS}</script>\n</body></html>\n", escape(summary))
}

/// One document's section. `text` and `findings` are the screened text and its
/// findings (the same ones `rec` was built from); `None` for an unreadable document.
pub fn document(rec: &DocumentRecord, text: Option<&str>, findings: &[Finding], mask: char, reveal: bool) -> String {
    let mut cats: Vec<&str> = rec.findings.iter().map(|f| f.category.as_str()).collect();
    if rec.unreadable.is_some() {
        cats.push("unreadable");
    }
    cats.sort_unstable();
    cats.dedup();
    if cats.is_empty() {
        cats.push("none");
    }
    let mut o = String::new();
    let _ = write!(
        o,
        "<section class=\"doc\" data-verdict=\"{}\" data-categories=\"{}\">\n<h2><span class=\"verdict\">{}</span><span class=\"path\">{}</span></h2>\n",
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
        "<div class=\"meta\">{} finding(s){}{}{} · {} characters · sha256 {}</div>",
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
    if let (Some(text), false) = (text, findings.is_empty()) {
        o.push_str("<pre class=\"text\">");
        let mut at = 0;
        for (f, r) in findings.iter().zip(&rec.findings) {
            let (s, e) = (f.span.start, f.span.end);
            if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
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
                "<mark class=\"hl cat-{c} act-{a}{cls}\"{data} data-category=\"{c}\" data-kind=\"{k}\" data-rule=\"{rule}\" title=\"{rule} · {k} · {a} · {conf:.2} · line {l}{src}{note}\">{v}</mark>",
                c = escape(&r.category),
                a = escape(&r.action),
                k = escape(&r.kind),
                rule = escape(&r.rule),
                conf = r.confidence,
                l = r.line,
                src = escape(&src),
                v = escape(&shown)
            );
            at = e;
        }
        o.push_str(&escape(&text[at..]));
        o.push_str("</pre>\n");
    }
    o.push_str("</section>\n");
    o
}

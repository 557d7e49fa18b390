//! HTML: the visible text, found with html5gum's WHATWG tokenizer.
//!
//! The encoding: a BOM, then the caller's declaration, then `<meta charset>` /
//! `http-equiv` in the first 1024 bytes, then detection (see [`super::text`]).
//! Text inside `script`, `style`, `template`, `head` metadata and comments is not
//! shown by a browser and is left out; `title` is kept (it is shown in the tab and
//! in search results). Block elements end lines, table cells are separated by tabs;
//! each line and each cell is a text block ([`super::Extracted::blocks`]): it
//! starts a line and has a header of its own, as a browser shows it.
//!
//! A `<meta>` declaring UTF-16 means UTF-8 (the WHATWG prescan: the bytes were
//! read as ASCII to find it), and any declaration is checked for plausibility
//! ([`super::text`]).

use super::{Extracted, Format, Unreadable, text};
use html5gum::{DefaultEmitter, Token, Tokenizer};

/// Elements whose content a browser does not render as text.
const HIDDEN: &[&str] = &["script", "style", "template", "noembed", "iframe", "object", "svg", "math"];
/// Elements that break lines.
const BLOCK: &[&str] = &[
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "blockquote", "pre", "title", "dt", "dd", "hr", "address", "caption", "form", "nav", "main",
];

pub(super) fn extract(bytes: &[u8], declared: Option<&str>) -> Result<Extracted, Unreadable> {
    let declared_meta = if declared.is_none() && encoding_rs::Encoding::for_bom(bytes).is_none() {
        meta_charset(&bytes[..bytes.len().min(1024)])
    } else {
        None
    };
    // The document's own `<meta>` as a browser takes it (UTF-16 means UTF-8);
    // either declaration is checked for plausibility by the decoder.
    let own = declared_meta.as_deref().and_then(text::own_label);
    let d = text::decode(bytes, declared.or(own))?;
    let text = visible_text(&d.text);
    let blocks = cells(&text);
    Ok(Extracted { text, format: Format::Html, encoding: Some(d.encoding), segments: Vec::new(), blocks })
}

/// The text blocks of the visible text: each block element's line, each
/// table cell of a row (see [`super::Extracted::blocks`]).
fn cells(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive(['\n', '\t']) {
        let s = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\t']);
        if !body.trim().is_empty() {
            out.push(s..s + body.len());
        }
    }
    out
}

/// The charset named by a `<meta>` in the first bytes, if any.
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = lower[start..].iter().position(|b| *b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset=") {
            let v = &tag[c + 8..];
            let v: Vec<u8> = v
                .iter()
                .copied()
                .skip_while(|b| *b == b'"' || *b == b'\'' || *b == b' ')
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                .collect();
            if !v.is_empty() {
                return Some(String::from_utf8_lossy(&v).into_owned());
            }
        }
        from = end;
    }
    None
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The text a browser shows.
pub fn visible_text(html: &str) -> String {
    let mut em = DefaultEmitter::default();
    em.naively_switch_states(true);
    let mut out = String::new();
    let mut hidden: Vec<String> = Vec::new();
    for tok in Tokenizer::new_with_emitter(html, em).flatten() {
        match tok {
            Token::StartTag(t) => {
                let name = String::from_utf8_lossy(&t.name).to_ascii_lowercase();
                if HIDDEN.contains(&name.as_str()) && !t.self_closing {
                    hidden.push(name);
                } else if hidden.is_empty() {
                    if BLOCK.contains(&name.as_str()) {
                        newline(&mut out);
                    } else if name == "td" || name == "th" {
                        if !out.ends_with('\n') && !out.is_empty() {
                            out.push('\t');
                        }
                    } else if name == "img" {
                        // Alternative text is what a screen reader and a broken image show.
                        if let Some(alt) = t.attributes.get(b"alt".as_slice()) {
                            out.push_str(&String::from_utf8_lossy(alt));
                        }
                    }
                }
            }
            Token::EndTag(t) => {
                let name = String::from_utf8_lossy(&t.name).to_ascii_lowercase();
                if let Some(pos) = hidden.iter().rposition(|h| *h == name) {
                    hidden.truncate(pos);
                } else if hidden.is_empty() && BLOCK.contains(&name.as_str()) {
                    newline(&mut out);
                }
            }
            Token::String(s) if hidden.is_empty() => {
                let s = String::from_utf8_lossy(&s);
                // Collapse runs of white space as a browser does (outside <pre> it
                // would; keeping line ends is kinder to the line-based detectors).
                let mut last_space = out.ends_with([' ', '\n', '\t']) || out.is_empty();
                for c in s.chars() {
                    if c.is_whitespace() {
                        if !last_space {
                            out.push(' ');
                            last_space = true;
                        }
                    } else {
                        out.push(c);
                        last_space = false;
                    }
                }
            }
            _ => {}
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

fn newline(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_only() {
        let h = r#"<!doctype html><html><head><title>通知</title><style>p{color:red}</style>
            <script>var s = "<p>隐藏</p>"; if (a<b) {}</script></head>
            <body><p>申请人：王小明，&nbsp;电话&#65306;13912345678</p><!-- 注释 --><table><tr><td>姓名</td><td>张三</td></tr></table>
            <img src="x.png" alt="公章"></body></html>"#;
        let t = visible_text(h);
        assert_eq!(t, "通知\n申请人：王小明， 电话：13912345678\n姓名\t张三\n公章");
    }

    #[test]
    fn meta_charset_decides_the_encoding() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<html><head><meta charset=\"gb2312\"></head><body><p>联系电话</p></body></html>");
        let e = extract(&gbk, None).unwrap();
        assert_eq!(e.text, "联系电话");
        assert_eq!(e.encoding, Some("GBK"));
        let (big5, _, _) = encoding_rs::BIG5.encode("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\"><p>聯絡電話</p>");
        assert_eq!(extract(&big5, None).unwrap().text, "聯絡電話");
    }
}

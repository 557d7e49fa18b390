//! JSON and XML: structured text flattened to lines.
//!
//! JSON: every string, number and boolean leaf becomes a line `key: value`
//! (object keys in sorted order),
//! with the leaf's JSON pointer as its [`Location::Part`]; `\uXXXX` escapes are
//! decoded, so an escaped name or number is screened like a plain one. A file
//! that is not valid JSON is screened as plain text (nothing is lost).
//!
//! Each leaf value (a JSON string, an XML text node) is a text block
//! ([`Extracted::blocks`]): it starts a line and has a header of its own, so
//! `{"正文": "机密★5年\n…"}` is marked like a document that opens with
//! `机密★5年`.
//!
//! XML: text nodes and attribute values (`name=value`), a line per element;
//! the encoding comes from a BOM, the caller, the XML declaration, then
//! detection. Malformed XML is screened as plain text.

use super::{Extracted, Format, Limits, Location, Segment, Unreadable, text};
use std::ops::Range;
use quick_xml::Reader;
use quick_xml::events::Event;

pub(super) fn json(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Extracted, Unreadable> {
    let d = text::decode(bytes, declared)?;
    let plain = |d: text::Decoded| Extracted { text: d.text, format: Format::Json, encoding: Some(d.encoding), segments: Vec::new(), blocks: Vec::new() };
    let v: serde_json::Value = match serde_json::from_str(&d.text) {
        Ok(v) => v,
        Err(_) => return Ok(plain(d)),
    };
    let mut flat = Flat::default();
    flat.value(&v, String::new(), limits)?;
    Ok(Extracted { text: flat.out, format: Format::Json, encoding: Some(d.encoding), segments: flat.segs, blocks: flat.blocks })
}

/// JSON Lines (`.jsonl`, `.ndjson`): each line a JSON value, flattened as
/// [`json`] does, its leaves' pointers prefixed with the line's index
/// (`/0/text`). A file with a line that is not JSON is screened as plain text.
pub(super) fn json_lines(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Extracted, Unreadable> {
    let d = text::decode(bytes, declared)?;
    let mut values = Vec::new();
    for line in d.text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => values.push(v),
            Err(_) => {
                return Ok(Extracted { text: d.text, format: Format::JsonLines, encoding: Some(d.encoding), segments: Vec::new(), blocks: Vec::new() });
            }
        }
    }
    let mut flat = Flat::default();
    for (i, v) in values.iter().enumerate() {
        flat.value(v, format!("/{i}"), limits)?;
    }
    Ok(Extracted { text: flat.out, format: Format::JsonLines, encoding: Some(d.encoding), segments: flat.segs, blocks: flat.blocks })
}

/// Leaves of JSON values as `key: value` lines, with their pointers and blocks.
#[derive(Default)]
struct Flat {
    out: String,
    segs: Vec<Segment>,
    blocks: Vec<Range<usize>>,
}

impl Flat {
    fn value(&mut self, v: &serde_json::Value, root: String, limits: &Limits) -> Result<(), Unreadable> {
        let mut stack = vec![(root, String::new(), v)];
        while let Some((ptr, key, v)) = stack.pop() {
            if self.out.len() > limits.max_text_bytes {
                // Never screened on what is left: the caller reports the limit.
                return Err(Unreadable::Limit(format!(
                    "extracted text of more than {} bytes exceeds the limit",
                    limits.max_text_bytes
                )));
            }
            let leaf = match v {
                serde_json::Value::Object(m) => {
                    for (k, c) in m.iter().rev() {
                        let esc = k.replace('~', "~0").replace('/', "~1");
                        stack.push((format!("{ptr}/{esc}"), k.clone(), c));
                    }
                    continue;
                }
                serde_json::Value::Array(a) => {
                    for (i, c) in a.iter().enumerate().rev() {
                        stack.push((format!("{ptr}/{i}"), key.clone(), c));
                    }
                    continue;
                }
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
            };
            let out = &mut self.out;
            if !out.is_empty() {
                out.push('\n');
            }
            let start = out.len();
            if !key.is_empty() {
                out.push_str(&key);
                out.push_str(": ");
            }
            self.blocks.push(out.len()..out.len() + leaf.len());
            out.push_str(&leaf);
            self.segs.push(Segment { start, end: out.len(), location: Location::Part(if ptr.is_empty() { "/".into() } else { ptr }) });
        }
        Ok(())
    }
}

/// The `encoding` of an XML declaration.
fn declared_xml_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]).into_owned();
    let i = decl.find("encoding")?;
    let rest = decl[i + 8..].trim_start().strip_prefix('=')?.trim_start();
    // Only a quoted ASCII label counts (fuzzing found a multi-byte "quote").
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    let label = &rest[..rest.find(q)?];
    label.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)).then(|| label.to_owned())
}

pub(super) fn xml(bytes: &[u8], declared: Option<&str>) -> Result<Extracted, Unreadable> {
    // The declaration as an XML parser takes it: read as ASCII, so a UTF-16
    // label means UTF-8 (a BOM still comes first, in the decoder).
    let own = declared_xml_encoding(bytes).and_then(|l| text::own_label(&l));
    let d = text::decode(bytes, declared.or(own))?;
    // A document that declares a DTD, or refers to an entity only a DTD could
    // define, cannot be read as its author meant without expanding entities
    // (which is how content is smuggled past a screener, or a billion laughs
    // explodes): it is unreadable, never screened as what is left.
    let mut needs_dtd: Option<&'static str> = None;
    let mut flat = |t: &str| -> Option<(String, Vec<Range<usize>>)> {
        let mut r = Reader::from_str(t);
        let mut out = String::new();
        // Text nodes (with the references inside them) as ranges of `out`.
        let mut texts: Vec<Range<usize>> = Vec::new();
        let text_run = |texts: &mut Vec<Range<usize>>, s: usize, e: usize| match texts.last_mut() {
            Some(l) if l.end == s => l.end = e,
            _ => texts.push(s..e),
        };
        loop {
            match r.read_event().ok()? {
                Event::Start(e) | Event::Empty(e) => {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    for a in e.attributes().flatten() {
                        let v = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()?;
                        if !v.trim().is_empty() {
                            out.push_str(a.key.local_name().as_ref());
                            out.push('=');
                            out.push_str(&v);
                            out.push(' ');
                        }
                    }
                }
                Event::Text(x) => {
                    let s = out.len();
                    out.push_str(&x);
                    text_run(&mut texts, s, out.len());
                }
                Event::CData(x) => {
                    let s = out.len();
                    out.push_str(&x);
                    text_run(&mut texts, s, out.len());
                }
                Event::GeneralRef(g) => {
                    let s = out.len();
                    match g.resolve_char_ref() {
                        Ok(Some(c)) => out.push(c),
                        _ => match quick_xml::escape::resolve_xml_entity(&g) {
                            Some(v) => out.push_str(v),
                            None => {
                                needs_dtd = Some("refers to an entity that only a DTD could define");
                                return None;
                            }
                        },
                    }
                    text_run(&mut texts, s, out.len());
                }
                Event::DocType(dt) if { let d: &str = dt.as_ref(); ["ENTITY", "SYSTEM", "PUBLIC"].iter().any(|k| d.contains(k)) } => {
                    needs_dtd = Some("declares a DTD with entities or an external subset");
                    return None;
                }
                Event::End(_) if !out.ends_with('\n') => out.push('\n'),
                Event::Eof => break,
                _ => {}
            }
        }
        Some(trim_lines(&out, &texts))
    };
    let flattened = flat(&d.text);
    if let Some(why) = needs_dtd {
        return Err(Unreadable::corrupt(Format::Xml, format!("the XML {why}; entities are not expanded, so it cannot be screened")));
    }
    let (text, blocks) = flattened.unwrap_or((d.text, Vec::new()));
    Ok(Extracted { text, format: Format::Xml, encoding: Some(d.encoding), segments: Vec::new(), blocks })
}

/// `raw` with each line trimmed and blank lines left out, and the `ranges` of
/// `raw` moved to the same characters of the result (empty ones dropped).
fn trim_lines(raw: &str, ranges: &[Range<usize>]) -> (String, Vec<Range<usize>>) {
    let mut text = String::with_capacity(raw.len());
    // (trimmed line start in `raw`, its end, where it starts in `text`).
    let mut lines: Vec<(usize, usize, usize)> = Vec::new();
    let mut at = 0;
    for line in raw.split_inclusive('\n') {
        let ls = at;
        at += line.len();
        let body = line.trim_end_matches('\n');
        let t = body.trim();
        if t.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        let lead = body.len() - body.trim_start().len();
        lines.push((ls + lead, ls + lead + t.len(), text.len()));
        text.push_str(t);
    }
    // A raw offset's place in `text`: clamped to its trimmed line.
    let map = |x: usize| -> Option<usize> {
        let i = lines.partition_point(|l| l.0 <= x);
        let (s, e, o) = *lines.get(i.checked_sub(1)?)?;
        Some(o + x.min(e) - s)
    };
    let first = |x: usize| -> Option<usize> {
        // A range that starts in a line's leading blanks starts at its text.
        let i = lines.partition_point(|l| l.1 <= x);
        let (s, _, o) = *lines.get(i)?;
        Some(if x < s { o } else { map(x)? })
    };
    let blocks = ranges
        .iter()
        .filter_map(|r| Some(first(r.start)?..map(r.end)?))
        .filter(|r| r.start < r.end)
        .collect();
    (text, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_leaves_with_pointers() {
        let j = r#"{"申请人": {"姓名": "\u738b\u5c0f\u660e", "电话": 13912345678}, "list": ["a", true, null]}"#;
        let e = json(j.as_bytes(), None, &Limits::default()).unwrap();
        // serde_json maps keep keys sorted.
        assert_eq!(e.text, "list: a\nlist: true\n姓名: 王小明\n电话: 13912345678");
        let at = e.text.find("139").unwrap();
        assert_eq!(e.location_at(at), Some(&Location::Part("/申请人/电话".into())));
        let e = json(b"{not json 13912345678", None, &Limits::default()).unwrap();
        assert_eq!(e.text, "{not json 13912345678");
    }

    #[test]
    fn xml_declaration_parsing_never_panics() {
        // A crash found by `cargo fuzz run xml`: a non-ASCII character after `encoding=`.
        let crash = b"<?xml versio\xbb\xc2\xdd\xd1.0\" encoding=\xd8;?x\xaa\x8c\x96\x98\xbbTF-8\"?><r a=\"1\"/>";
        assert_eq!(declared_xml_encoding(crash), None);
        // Extraction of the same bytes must return (either way) rather than panic.
        let _ = xml(crash, None);
        assert_eq!(declared_xml_encoding(b"<?xml version='1.0' encoding='gbk'?>").as_deref(), Some("gbk"));
        assert_eq!(declared_xml_encoding("<?xml encoding=\"中\"?>".as_bytes()), None);
    }

    #[test]
    fn xml_text_and_attributes_in_declared_encoding() {
        let (b, _, _) = encoding_rs::GBK.encode("<?xml version=\"1.0\" encoding=\"GB2312\"?><r><p name=\"王小明\">电话 &amp; 13912345678</p></r>");
        let e = xml(&b, None).unwrap();
        assert_eq!(e.text, "name=王小明 电话 & 13912345678");
        assert_eq!(e.encoding, Some("GBK"));
        let e = xml(b"<a><b>unclosed 13912345678</a>", None).unwrap();
        assert!(e.text.contains("13912345678"));
    }

    #[test]
    fn leaves_are_text_blocks() {
        let j = r#"{"标题": "关于某事项的通知", "正文": "机密★5年\n各单位：…"}"#;
        let e = json(j.as_bytes(), None, &Limits::default()).unwrap();
        let starts: Vec<&str> = e.blocks.iter().map(|b| &e.text[b.clone()]).collect();
        assert_eq!(starts, ["关于某事项的通知", "机密★5年\n各单位：…"]);
        let x = "<doc>\n  <t>关于某事项的通知</t>\n  <b>  机密★5年\n  各单位：&amp;…  </b><e/></doc>";
        let e = xml(x.as_bytes(), None).unwrap();
        assert_eq!(e.text, "关于某事项的通知\n机密★5年\n各单位：&…");
        let blocks: Vec<&str> = e.blocks.iter().map(|b| &e.text[b.clone()]).collect();
        assert_eq!(blocks, ["关于某事项的通知", "机密★5年\n各单位：&…"]);
    }

    #[test]
    fn too_much_json_is_a_limit_not_a_cut() {
        let j = format!("[{}]", vec!["\"联系电话13912345678\""; 100].join(","));
        let l = Limits { max_text_bytes: 200, ..Limits::default() };
        assert!(matches!(json(j.as_bytes(), None, &l), Err(Unreadable::Limit(_))));
    }

    #[test]
    fn json_lines_are_records() {
        let j = "{\"text\": \"机密★5年\\n正文\"}\n\n{\"text\": \"联系电话13912345678\", \"n\": 2}\n";
        let e = json_lines(j.as_bytes(), None, &Limits::default()).unwrap();
        assert_eq!(e.text, "text: 机密★5年\n正文\nn: 2\ntext: 联系电话13912345678");
        let at = e.text.find("139").unwrap();
        assert_eq!(e.location_at(at), Some(&Location::Part("/1/text".into())));
        assert_eq!(&e.text[e.blocks[0].clone()], "机密★5年\n正文");
        let e = json_lines(b"{\"a\": 1}\nnot json 13912345678", None, &Limits::default()).unwrap();
        assert!(e.segments.is_empty() && e.text.contains("not json"));
    }
}

//! JSON and XML: structured text flattened to lines.
//!
//! JSON: every string, number and boolean leaf becomes a line `key: value`
//! (object keys in sorted order),
//! with the leaf's JSON pointer as its [`Location::Part`]; `\uXXXX` escapes are
//! decoded, so an escaped name or number is screened like a plain one. A file
//! that is not valid JSON is screened as plain text (nothing is lost).
//!
//! XML: text nodes and attribute values (`name=value`), a line per element;
//! the encoding comes from a BOM, the caller, the XML declaration, then
//! detection. Malformed XML is screened as plain text.

use super::{Extracted, Format, Limits, Location, Segment, Unreadable, text};
use quick_xml::Reader;
use quick_xml::events::Event;

pub(super) fn json(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Extracted, Unreadable> {
    let d = text::decode(bytes, declared)?;
    let v: serde_json::Value = match serde_json::from_str(&d.text) {
        Ok(v) => v,
        Err(_) => return Ok(Extracted { text: d.text, format: Format::Json, encoding: Some(d.encoding), segments: Vec::new() }),
    };
    let mut out = String::new();
    let mut segs = Vec::new();
    let mut stack = vec![(String::new(), String::new(), &v)];
    while let Some((ptr, key, v)) = stack.pop() {
        if out.len() > limits.max_text_bytes {
            break;
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
        if !out.is_empty() {
            out.push('\n');
        }
        let start = out.len();
        if !key.is_empty() {
            out.push_str(&key);
            out.push_str(": ");
        }
        out.push_str(&leaf);
        segs.push(Segment { start, end: out.len(), location: Location::Part(if ptr.is_empty() { "/".into() } else { ptr }) });
    }
    Ok(Extracted { text: out, format: Format::Json, encoding: Some(d.encoding), segments: segs })
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
    let own = declared_xml_encoding(bytes).filter(|l| text::encoding_for_label(l).is_ok());
    let d = if encoding_rs::Encoding::for_bom(bytes).is_some() {
        text::decode(bytes, None)?
    } else {
        text::decode(bytes, declared.or(own.as_deref()))?
    };
    // A document that declares a DTD, or refers to an entity only a DTD could
    // define, cannot be read as its author meant without expanding entities
    // (which is how content is smuggled past a screener, or a billion laughs
    // explodes): it is unreadable, never screened as what is left.
    let mut needs_dtd: Option<&'static str> = None;
    let mut flat = |t: &str| -> Option<String> {
        let mut r = Reader::from_str(t);
        let mut out = String::new();
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
                Event::Text(x) => out.push_str(&x),
                Event::CData(x) => out.push_str(&x),
                Event::GeneralRef(g) => match g.resolve_char_ref() {
                    Ok(Some(c)) => out.push(c),
                    _ => match quick_xml::escape::resolve_xml_entity(&g) {
                        Some(v) => out.push_str(v),
                        None => {
                            needs_dtd = Some("refers to an entity that only a DTD could define");
                            return None;
                        }
                    },
                },
                Event::DocType(dt) if { let d: &str = dt.as_ref(); ["ENTITY", "SYSTEM", "PUBLIC"].iter().any(|k| d.contains(k)) } => {
                    needs_dtd = Some("declares a DTD with entities or an external subset");
                    return None;
                }
                Event::End(_) if !out.ends_with('\n') => out.push('\n'),
                Event::Eof => break,
                _ => {}
            }
        }
        Some(out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"))
    };
    let flattened = flat(&d.text);
    if let Some(why) = needs_dtd {
        return Err(Unreadable::corrupt(Format::Xml, format!("the XML {why}; entities are not expanded, so it cannot be screened")));
    }
    let text = flattened.unwrap_or(d.text);
    Ok(Extracted { text, format: Format::Xml, encoding: Some(d.encoding), segments: Vec::new() })
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
}

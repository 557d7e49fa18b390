//! PDF: the text layer, page by page, with lopdf (which reads CID fonts such as
//! `UniGB-UCS2-H` through their ToUnicode maps; pdf-extract panicked on them).
//!
//! Fail-safe rules: an encrypted PDF that does not open with the empty password
//! is unreadable; a page without text that carries images is a scan and makes
//! the document unreadable (its content was never reviewed); a document with no
//! text at all is unreadable even without images (text drawn as outlines).
//! A page without text and without images is blank and is left out.

use super::{Extracted, Format, Limits, Location, Unreadable, push_segment};
use lopdf::Document;

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let corrupt = |d: String| Unreadable::Corrupt { format: "pdf", detail: d };
    if !bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(corrupt("no %PDF- header".into()));
    }
    let doc = Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => Unreadable::Encrypted("PDF".into()),
        e => corrupt(format!("cannot parse: {}", error_kind(&e))),
    })?;
    if doc.is_encrypted() {
        return Err(Unreadable::Encrypted("PDF".into()));
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(corrupt("no pages".into()));
    }
    let limit = usize::try_from(limits.max_entry_bytes).unwrap_or(usize::MAX);
    let mut text = String::new();
    let mut segs = Vec::new();
    let mut scanned = Vec::new();
    for (&n, &id) in &pages {
        let t = doc
            .extract_text_with_limit(&[n], limit)
            .map_err(|e| corrupt(format!("page {n}: {}", error_kind(&e))))?;
        if t.trim().is_empty() {
            if doc.get_page_images(id).map(|v| !v.is_empty()).unwrap_or(true) {
                scanned.push(n);
            }
            continue;
        }
        push_segment(&mut text, &mut segs, &t, Location::Page(n));
        if text.len() > limits.max_text_bytes {
            break;
        }
    }
    if !scanned.is_empty() {
        let list: Vec<String> = scanned.iter().take(10).map(u32::to_string).collect();
        let more = if scanned.len() > 10 { format!(" and {} more", scanned.len() - 10) } else { String::new() };
        let what = if scanned.len() == pages.len() { "every page".to_owned() } else { format!("page {}{more}", list.join(", ")) };
        return Err(Unreadable::NoTextLayer(what));
    }
    if text.trim().is_empty() {
        return Err(Unreadable::NoTextLayer("every page".into()));
    }
    Ok(Extracted { text, format: Format::Pdf, encoding: None, segments: segs, blocks: Vec::new() })
}

/// The variant of a lopdf error, without the payload (which may quote content).
fn error_kind(e: &lopdf::Error) -> String {
    let dbg = format!("{e:?}");
    let name: String = dbg.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    match e {
        lopdf::Error::Parse(p) => format!("Parse({})", format!("{p:?}").chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>()),
        _ => name,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    /// A PDF whose pages show `pages` in a Type0 font with the UniGB-UCS2-H CMap
    /// (two-byte UCS-2 codes) and a ToUnicode map, as Chinese office suites write.
    pub fn cid_pdf(pages: &[&str]) -> Vec<u8> {
        cid_pdf_with(pages, true)
    }

    fn cid_pdf_with(pages: &[&str], with_tounicode: bool) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Adobe-Identity-UCS def\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n1 beginbfrange <0000> <FFFF> <0000> endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end";
        let tounicode = doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()));
        let descendant = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light",
            "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("GB1"), "Supplement" => 4 },
        });
        let mut font = dictionary! {
            "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light", "Encoding" => "UniGB-UCS2-H",
            "DescendantFonts" => vec![descendant.into()],
        };
        if with_tounicode {
            font.set("ToUnicode", tounicode);
        }
        let font = doc.add_object(font);
        let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
        let mut kids = Vec::new();
        for p in pages {
            let mut ops = vec![Operation::new("BT", vec![]), Operation::new("Tf", vec!["F1".into(), 12.into()]), Operation::new("Td", vec![72.into(), 720.into()])];
            for line in p.lines() {
                let code: Vec<u8> = line.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
                ops.push(Operation::new("Tj", vec![Object::String(code, lopdf::StringFormat::Hexadecimal)]));
                ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
            }
            ops.push(Operation::new("ET", vec![]));
            let content = doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap()));
            let page = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            });
            kids.push(page.into());
        }
        let count = kids.len() as i64;
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn cid_text_per_page() {
        let pdf = cid_pdf(&["关于信息公开的答复", "申请人联系电话13912345678"]);
        let e = extract(&pdf, &Limits::default()).unwrap();
        assert!(e.text.contains("关于信息公开的答复"), "{:?}", e.text);
        let at = e.text.find("13912345678").expect("phone on page 2");
        assert_eq!(e.location_at(at), Some(&Location::Page(2)));
    }

    #[test]
    fn cid_text_without_tounicode_map() {
        // The CMap name alone (UniGB-UCS2-H: codes are UCS-2) is enough.
        let pdf = cid_pdf_with(&["关于信息公开的答复"], false);
        let e = extract(&pdf, &Limits::default()).unwrap();
        assert!(e.text.contains("关于信息公开的答复"), "{:?}", e.text);
    }

    #[test]
    fn no_text_is_unreadable() {
        let pdf = cid_pdf(&[""]);
        assert_eq!(extract(&pdf, &Limits::default()).unwrap_err(), Unreadable::NoTextLayer("every page".into()));
        assert!(matches!(extract(b"%PDF-1.4 garbage", &Limits::default()), Err(Unreadable::Corrupt { .. })));
        assert!(matches!(extract(b"hello", &Limits::default()), Err(Unreadable::Corrupt { .. })));
    }
}

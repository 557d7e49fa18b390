//! Office Open XML (docx, xlsx, pptx): a zip package of XML parts.
//!
//! Parts are read under the entry-size, entry-count and ratio limits and parsed
//! with quick-xml as a stream of events; text is gathered from the elements that
//! hold it (`w:t` and tracked deletions `w:delText` — deleted text is still in
//! the file that would be published —, `a:t`, shared strings and inline cells).
//! Each part (or sheet cell, or slide) becomes one [`Segment`].

use super::{Extracted, Format, Limits, Location, Segment, Unreadable, push_segment};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};
use zip::ZipArchive;
use zip::result::ZipError;

/// An opened package.
struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    format: Format,
    limits: &'a Limits,
    read: u64,
}

/// Magic of an OLE compound file: what Office writes for a password-protected
/// docx/xlsx/pptx (an `EncryptedPackage` stream), and the legacy .doc format.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8], format: Format, limits: &'a Limits) -> Result<Package<'a>, Unreadable> {
        if bytes.starts_with(OLE_MAGIC) {
            return Err(Unreadable::Encrypted(format!(
                "{} (an OLE container: password-protected, or a legacy binary file renamed)",
                format.as_str()
            )));
        }
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(format, "package", e))?;
        if zip.len() as u64 > limits.max_entries {
            return Err(Unreadable::Limit(format!(
                "{} package has {} parts, more than the limit of {}",
                format.as_str(),
                zip.len(),
                limits.max_entries
            )));
        }
        Ok(Package { zip, format, limits, read: 0 })
    }

    fn names(&self) -> Vec<String> {
        self.zip.file_names().filter_map(Result::ok).map(|n| n.into_owned()).collect()
    }

    /// The part's text (UTF-8 or UTF-16 with BOM), `None` when absent.
    fn part(&mut self, name: &str) -> Result<Option<String>, Unreadable> {
        let Some(buf) = self.raw(name)? else { return Ok(None) };
        let d = super::text::decode(&buf, None).map_err(|_| Unreadable::corrupt(self.format, format!("part {name} is not UTF-8 XML")))?;
        // OOXML packages (ISO/IEC 29500-2, OPC) forbid DTD declarations: a part
        // that declares one would be read only by expanding its entities, whose
        // content the screener would never see.
        if d.text.contains("<!DOCTYPE") {
            return Err(Unreadable::corrupt(self.format, format!("part {name} declares a DTD, which OOXML forbids (its entities would not be screened)")));
        }
        Ok(Some(d.text))
    }

    /// The part's bytes, `None` when absent.
    fn raw(&mut self, name: &str) -> Result<Option<Vec<u8>>, Unreadable> {
        let format = self.format;
        let mut f = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(zip_error(format, name, e)),
        };
        let cap = entry_cap(self.limits, f.compressed_size());
        let mut buf = Vec::new();
        (&mut f)
            .take(cap.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| Unreadable::corrupt(format, format!("cannot inflate part {name}: {}", io_kind(&e))))?;
        if buf.len() as u64 > cap {
            return Err(over_cap(self.limits, name, cap));
        }
        self.read += buf.len() as u64;
        if self.read > self.limits.max_total_bytes {
            return Err(Unreadable::Limit(format!(
                "{} parts inflate to more than {} bytes",
                format.as_str(),
                self.limits.max_total_bytes
            )));
        }
        Ok(Some(buf))
    }

    /// Embedded objects (`word/embeddings/…`, `xl/embeddings/…`, `ppt/embeddings/…`):
    /// an embedded docx/xlsx/pptx is extracted and appended (its own segments
    /// are reported as the embedding part); anything else embedded (an OLE
    /// `.bin`, a legacy `.xls`) is content that cannot be reviewed, so the whole
    /// document is unreadable.
    fn embeddings(&mut self, names: &[String], text: &mut String, segs: &mut Vec<Segment>) -> Result<(), Unreadable> {
        let prefix = match self.format {
            Format::Docx => "word/embeddings/",
            Format::Xlsx => "xl/embeddings/",
            _ => "ppt/embeddings/",
        };
        for name in names.iter().filter(|n| n.starts_with(prefix) && !n.ends_with('/')) {
            let lower = name.to_ascii_lowercase();
            if !(lower.ends_with(".docx") || lower.ends_with(".xlsx") || lower.ends_with(".pptx")) {
                return Err(Unreadable::Unsupported(format!("embedded object {name} in a {} (cannot be screened)", self.format.as_str())));
            }
            if self.limits.max_depth <= 1 {
                return Err(Unreadable::Limit(format!("embedded package {name} nested too deep")));
            }
            let Some(bytes) = self.raw(name)? else { continue };
            let inner = Limits { max_depth: self.limits.max_depth - 1, ..self.limits.clone() };
            let e = super::extract(name, None, &bytes, &inner).map_err(|e| match e {
                Unreadable::Limit(m) => Unreadable::Limit(m),
                e => Unreadable::corrupt(self.format, format!("embedded {name}: {e}")),
            })?;
            push_segment(text, segs, &e.text, Location::Part(name.clone()));
        }
        Ok(())
    }
}

/// The largest number of bytes one entry with this compressed size may inflate to.
pub(crate) fn entry_cap(l: &Limits, compressed: u64) -> u64 {
    let by_ratio = compressed.saturating_mul(l.max_ratio).max(1 << 20);
    l.max_entry_bytes.min(by_ratio)
}

/// The error for an entry that inflated past [`entry_cap`].
pub(crate) fn over_cap(l: &Limits, name: &str, cap: u64) -> Unreadable {
    if cap < l.max_entry_bytes {
        Unreadable::Limit(format!(
            "entry {name} inflates more than {}× its compressed size (suspected zip bomb)",
            l.max_ratio
        ))
    } else {
        Unreadable::Limit(format!("entry {name} inflates to more than the limit of {cap} bytes"))
    }
}

/// An I/O error's kind only (its message may quote data).
pub(crate) fn io_kind(e: &std::io::Error) -> String {
    format!("{:?}", e.kind())
}

fn zip_error(format: Format, what: &str, e: ZipError) -> Unreadable {
    match e {
        ZipError::UnsupportedArchive(m) if m == ZipError::PASSWORD_REQUIRED => {
            Unreadable::Encrypted(format!("{} ({what} is password-protected)", format.as_str()))
        }
        ZipError::InvalidPassword => Unreadable::Encrypted(format.as_str().into()),
        ZipError::Io(io) => Unreadable::corrupt(format, format!("{what}: I/O error {}", io_kind(&io))),
        ZipError::InvalidArchive(m) => Unreadable::corrupt(format, format!("{what}: {m}")),
        ZipError::UnsupportedArchive(m) => Unreadable::corrupt(format, format!("{what}: unsupported: {m}")),
        ZipError::CompressionMethodNotSupported(m) => {
            Unreadable::corrupt(format, format!("{what}: compression method {m} not supported"))
        }
        other => Unreadable::corrupt(format, format!("{what}: {other}")),
    }
}

/// `prefix` + number + `.xml` parts, in numeric order.
fn numbered(names: &[String], prefix: &str) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = names
        .iter()
        .filter_map(|n| {
            let num = n.strip_prefix(prefix)?.strip_suffix(".xml")?;
            let k = if num.is_empty() { 0 } else { num.parse().ok()? };
            Some((k, n.clone()))
        })
        .collect();
    v.sort();
    v
}

fn xml_err(format: Format, part: &str, pos: u64) -> Unreadable {
    Unreadable::corrupt(format, format!("malformed XML in {part} near byte {pos}"))
}

fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    quick_xml::escape::resolve_xml_entity(r).map(str::to_owned)
}

/// A run of a part's text and the XML bytes it came from: for literal text the
/// bytes are the text itself; for an entity or character reference (`&amp;`)
/// the reference.
#[derive(Debug, Clone)]
struct Piece {
    /// Bytes of the part's text.
    out: std::ops::Range<usize>,
    /// Bytes of the part's XML.
    xml: std::ops::Range<usize>,
    /// A reference, not literal text.
    reference: bool,
}

/// WordprocessingML and DrawingML text: paragraphs end lines; table cells are
/// separated by tabs and rows by line ends; `mc:Fallback` (a duplicate of the
/// `mc:Choice` content) is skipped.
fn flow_text(xml: &str, format: Format, part: &str) -> Result<String, Unreadable> {
    flow(xml, format, part, None)
}

/// [`flow_text`], recording in `map` where each run of text came from (for
/// [`redact_in_place`]).
fn flow(xml: &str, format: Format, part: &str, mut map: Option<&mut Vec<Piece>>) -> Result<String, Unreadable> {
    let mut r = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    let mut skip = 0u32;
    let mut cells = 0u32;
    loop {
        let before = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|_| xml_err(format, part, r.buffer_position()))?;
        let after = r.buffer_position() as usize;
        let len_before = out.len();
        let mut record = |out: &String, reference: bool, xml: std::ops::Range<usize>| {
            if let Some(m) = map.as_deref_mut()
                && out.len() > len_before
            {
                m.push(Piece { out: len_before..out.len(), xml, reference });
            }
        };
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "Fallback" => skip += 1,
                "t" | "delText" => in_text = true,
                "tc" => cells += 1,
                _ => {}
            },
            Event::Empty(e) if skip == 0 => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "Fallback" => skip = skip.saturating_sub(1),
                "t" | "delText" => in_text = false,
                "p" if skip == 0 => out.push(if cells > 0 { ' ' } else { '\n' }),
                "tc" if skip == 0 => {
                    cells = cells.saturating_sub(1);
                    trim_sep(&mut out);
                    clamp(&mut map, out.len());
                    out.push('\t');
                }
                "tr" if skip == 0 => {
                    trim_sep(&mut out);
                    clamp(&mut map, out.len());
                    out.push('\n');
                }
                _ => {}
            },
            Event::Text(t) if in_text && skip == 0 => {
                out.push_str(&t);
                record(&out, false, before..after);
            }
            Event::CData(t) if in_text && skip == 0 => {
                out.push_str(&t);
                // `<![CDATA[` … `]]>`
                record(&out, false, before + 9..after.saturating_sub(3));
            }
            Event::GeneralRef(g) if in_text && skip == 0 => {
                if let Some(s) = entity(&g) {
                    out.push_str(&s);
                }
                record(&out, true, before..after);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn trim_sep(s: &mut String) {
    while s.ends_with([' ', '\t']) {
        s.pop();
    }
}

/// After [`trim_sep`] shortened the text to `len`: pieces end there too (the
/// trimmed characters were spaces of literal text, one byte each in the XML).
fn clamp(map: &mut Option<&mut Vec<Piece>>, len: usize) {
    let Some(m) = map.as_deref_mut() else { return };
    while let Some(p) = m.last_mut() {
        if p.out.end <= len {
            break;
        }
        if p.out.start >= len {
            m.pop();
            continue;
        }
        let cut = p.out.end - len;
        p.out.end = len;
        if !p.reference {
            p.xml.end -= cut;
        }
        break;
    }
}

/// The part a segment of a docx or pptx came from.
fn segment_part(format: Format, location: &Location) -> Option<String> {
    match (format, location) {
        (_, Location::Part(name)) => Some(name.clone()),
        (Format::Pptx, Location::Slide(n)) => Some(format!("ppt/slides/slide{n}.xml")),
        _ => None,
    }
}

/// The redacted copy of a `.docx`, `.xlsx` or `.pptx` in its own format: every masked
/// character of `redacted` (the redaction of `e.text`, character for
/// character) replaces its character in the run that holds it, so formatting
/// and length are kept. `None` when that cannot be done exactly: another
/// format, a masked passage inside an embedded package, or a rebuilt package
/// whose text, read again, is not `redacted`, or that still holds a masked
/// value anywhere (a hyperlink target, document properties, an `mc:Fallback`
/// duplicate the extraction skips); the caller then writes a text copy.
pub fn redact_in_place(bytes: &[u8], e: &Extracted, redacted: &str, limits: &Limits) -> Option<Vec<u8>> {
    if !matches!(e.format, Format::Docx | Format::Pptx | Format::Xlsx) || redacted.chars().count() != e.text.chars().count() {
        return None;
    }
    // Masked byte ranges of `e.text`: where the redaction changed a character.
    let mut masked: Vec<std::ops::Range<usize>> = Vec::new();
    let mut mask = None;
    for ((i, a), b) in e.text.char_indices().zip(redacted.chars()) {
        if a != b {
            mask.get_or_insert(b);
            match masked.last_mut() {
                Some(r) if r.end == i => r.end = i + a.len_utf8(),
                _ => masked.push(i..i + a.len_utf8()),
            }
        }
    }
    let mask = mask?;
    let mut p = Package::open(bytes, e.format, limits).ok()?;
    let rewritten = if e.format == Format::Xlsx {
        xlsx_rewrites(&mut p, e, &masked, mask)?
    } else {
        flow_rewrites(&mut p, e, &masked, mask)?
    };
    let out = write_package(bytes, &rewritten)?;
    // Read back: the copy must say exactly what the redacted text says…
    let hint = match e.format {
        Format::Docx => "copy.docx",
        Format::Pptx => "copy.pptx",
        _ => "copy.xlsx",
    };
    let again = super::extract(hint, None, &out, limits).ok()?;
    if again.text != redacted {
        return None;
    }
    // …and no entry of the package may still hold a masked value (two
    // characters or more; raw and XML-escaped).
    let mut values: Vec<String> = masked.iter().map(|r| e.text[r.clone()].to_owned()).filter(|v| v.chars().count() >= 2).collect();
    values.sort();
    values.dedup();
    let escaped: Vec<String> = values.iter().map(|v| quick_xml::escape::escape(v.as_str()).into_owned()).collect();
    if values.is_empty() {
        return Some(out);
    }
    let residue = aho_corasick::AhoCorasick::new(values.iter().chain(&escaped)).ok()?;
    let mut check = Package::open(&out, e.format, limits).ok()?;
    for name in check.names() {
        let raw = check.raw(&name).ok()??;
        if residue.is_match(&raw) {
            return None;
        }
    }
    Some(out)
}

/// The rewritten parts of a docx or pptx: each masked range in the runs of
/// the part it came from.
fn flow_rewrites(p: &mut Package<'_>, e: &Extracted, masked: &[std::ops::Range<usize>], mask: char) -> Option<Vec<(String, String)>> {
    // Per part: the masked ranges in the part's own text.
    let mut by_part: Vec<(String, Vec<std::ops::Range<usize>>)> = Vec::new();
    for r in masked {
        let seg = e.segments.iter().find(|s| s.start <= r.start && r.end <= s.end)?;
        let name = segment_part(e.format, &seg.location)?;
        if name.contains("/embeddings/") {
            return None;
        }
        let local = r.start - seg.start..r.end - seg.start;
        match by_part.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(local),
            None => by_part.push((name, vec![local])),
        }
    }
    let mut rewritten: Vec<(String, String)> = Vec::new();
    for (name, ranges) in &by_part {
        let xml = p.part(name).ok()??;
        // `mc:Fallback` duplicates content the extraction reads once: a copy
        // would keep the duplicate unmasked.
        if xml.contains("Fallback") {
            return None;
        }
        let mut pieces = Vec::new();
        let text = flow(&xml, e.format, name, Some(&mut pieces)).ok()?;
        rewritten.push((name.clone(), mask_xml(&xml, &text, &pieces, ranges, mask)?));
    }
    Some(rewritten)
}

/// The rewritten parts of an xlsx: a masked value of a shared-string cell is
/// masked in `xl/sharedStrings.xml` (every cell using that string changes,
/// and the read-back check refuses the copy if one of them was not to be
/// masked), one of an inline-string cell in its sheet; a masked number or
/// formula result cannot be masked in place (the copy is text then).
fn xlsx_rewrites(p: &mut Package<'_>, e: &Extracted, masked: &[std::ops::Range<usize>], mask: char) -> Option<Vec<(String, String)>> {
    let wb = p.part("xl/workbook.xml").ok()??;
    let rels = p.part("xl/_rels/workbook.xml.rels").ok()?.unwrap_or_default();
    let targets = relationships(&rels).ok()?;
    let sheet_list = sheets(&wb).ok()?;
    let sheet_path = |sheet: &str| -> Option<String> {
        let (_, rid) = sheet_list.iter().find(|(n, _)| n == sheet)?;
        let target = &targets.iter().find(|(id, _)| id == rid)?.1;
        Some(match target.strip_prefix('/') {
            Some(abs) => abs.to_owned(),
            None => format!("xl/{target}"),
        })
    };
    let sst_name = "xl/sharedStrings.xml";
    let sst_xml = p.part(sst_name).ok()?;
    let sst = match &sst_xml {
        Some(x) => Some(shared_strings_mapped(x)?),
        None => None,
    };
    let mut sst_ranges: Vec<std::ops::Range<usize>> = Vec::new();
    // Per sheet part: its XML, mapped cells, and masked ranges of its inline text.
    let mut sheet_parts: Vec<(String, String, MappedText, Vec<CellText>, Vec<std::ops::Range<usize>>)> = Vec::new();
    for r in masked {
        let seg = e.segments.iter().find(|s| s.start <= r.start && r.end <= s.end)?;
        let Location::Sheet { name, cell } = &seg.location else { return None };
        let path = sheet_path(name)?;
        if !sheet_parts.iter().any(|x| x.0 == path) {
            let xml = p.part(&path).ok()??;
            let (text, cells) = sheet_cells_mapped(&xml)?;
            sheet_parts.push((path.clone(), xml, text, cells, Vec::new()));
        }
        let sp = sheet_parts.iter_mut().find(|x| x.0 == path)?;
        let c = sp.3.iter().find(|c| c.r == *cell)?;
        let local = r.start - seg.start..r.end - seg.start;
        match c.ty.as_str() {
            "s" => {
                let i = sp.2.text.get(c.start..c.end)?.trim().parse::<usize>().ok()?;
                let (_, starts) = sst.as_ref()?;
                let at = *starts.get(i)?;
                sst_ranges.push(at + local.start..at + local.end);
            }
            "inlineStr" => sp.4.push(c.start + local.start..c.start + local.end),
            _ => return None,
        }
    }
    let mut rewritten = Vec::new();
    if !sst_ranges.is_empty() {
        let (m, _) = sst.as_ref()?;
        rewritten.push((sst_name.to_owned(), mask_xml(sst_xml.as_deref()?, &m.text, &m.pieces, &sst_ranges, mask)?));
    }
    for (path, xml, text, _, ranges) in sheet_parts {
        if !ranges.is_empty() {
            rewritten.push((path, mask_xml(&xml, &text.text, &text.pieces, &ranges, mask)?));
        }
    }
    Some(rewritten)
}

/// Text gathered from a part with where each run came from.
struct MappedText {
    text: String,
    pieces: Vec<Piece>,
}

impl MappedText {
    fn push(&mut self, s: &str, xml: std::ops::Range<usize>, reference: bool) {
        let start = self.text.len();
        self.text.push_str(s);
        if self.text.len() > start {
            self.pieces.push(Piece { out: start..self.text.len(), xml, reference });
        }
    }
}

/// The next event of `r` and the bytes of the XML it covers; `None` on
/// malformed XML (the copy is then text).
fn event_at<'x>(r: &mut Reader<&'x [u8]>) -> Option<(Event<'x>, std::ops::Range<usize>)> {
    let before = r.buffer_position() as usize;
    let ev = r.read_event().ok()?;
    Some((ev, before..r.buffer_position() as usize))
}

/// [`shared_strings`] with its runs mapped: all strings one after the other,
/// and where each starts.
fn shared_strings_mapped(xml: &str) -> Option<(MappedText, Vec<usize>)> {
    let mut r = Reader::from_str(xml);
    let mut m = MappedText { text: String::new(), pieces: Vec::new() };
    let mut starts = Vec::new();
    let (mut in_t, mut in_rph) = (false, false);
    loop {
        let (ev, at) = event_at(&mut r)?;
        let (before, after) = (at.start, at.end);
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => starts.push(m.text.len()),
                "t" => in_t = true,
                "rPh" => in_rph = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => starts.push(m.text.len()),
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_t = false,
                "rPh" => in_rph = false,
                _ => {}
            },
            Event::Text(t) if in_t && !in_rph => m.push(&t, before..after, false),
            Event::GeneralRef(g) if in_t && !in_rph => m.push(&entity(&g).unwrap_or_default(), before..after, true),
            Event::Eof => break,
            _ => {}
        }
    }
    Some((m, starts))
}

/// A cell of a sheet as [`cells`] reads it: reference, type, and its value's
/// bytes in the mapped text.
struct CellText {
    r: String,
    ty: String,
    start: usize,
    end: usize,
}

/// [`cells`] with the values mapped.
fn sheet_cells_mapped(xml: &str) -> Option<(MappedText, Vec<CellText>)> {
    let mut r = Reader::from_str(xml);
    let mut m = MappedText { text: String::new(), pieces: Vec::new() };
    let mut cells: Vec<CellText> = Vec::new();
    let mut in_v = false;
    loop {
        let (ev, at) = event_at(&mut r)?;
        let (before, after) = (at.start, at.end);
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "c" => cells.push(CellText { r: attr(&e, "r").unwrap_or_default(), ty: attr(&e, "t").unwrap_or_default(), start: m.text.len(), end: m.text.len() }),
                "v" | "t" => in_v = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "v" | "t" => in_v = false,
                "c" => {
                    if let Some(c) = cells.last_mut() {
                        c.end = m.text.len();
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_v => m.push(&t, before..after, false),
            Event::GeneralRef(g) if in_v => m.push(&entity(&g).unwrap_or_default(), before..after, true),
            Event::Eof => break,
            _ => {}
        }
    }
    Some((m, cells))
}

/// `xml` with the characters of `text` in `ranges` masked in the runs that
/// hold them. Ranges may come in any order and overlap (a shared string
/// masked for two cells); pieces are in text order, so both are walked once.
fn mask_xml(xml: &str, text: &str, pieces: &[Piece], ranges: &[std::ops::Range<usize>], mask: char) -> Option<String> {
    let mut merged: Vec<std::ops::Range<usize>> = ranges.to_vec();
    merged.sort_by_key(|r| r.start);
    merged.dedup_by(|b, a| {
        if b.start <= a.end {
            a.end = a.end.max(b.end);
            true
        } else {
            false
        }
    });
    let mut out = String::with_capacity(xml.len());
    let mut at = 0;
    let mut buf = [0u8; 4];
    let mask_str: &str = mask.encode_utf8(&mut buf);
    let mut ri = 0;
    for p in pieces {
        while merged.get(ri).is_some_and(|r| r.end <= p.out.start) {
            ri += 1;
        }
        if !merged.get(ri).is_some_and(|r| r.start < p.out.end) {
            continue;
        }
        out.push_str(xml.get(at..p.xml.start)?);
        let piece = text.get(p.out.clone())?;
        if p.reference {
            // A reference stands for one character (or a few): masked whole.
            for _ in piece.chars() {
                out.push_str(mask_str);
            }
        } else {
            if xml.get(p.xml.clone())? != piece {
                return None;
            }
            let mut k = ri;
            for (i, c) in piece.char_indices() {
                let b = p.out.start + i;
                while merged.get(k).is_some_and(|r| r.end <= b) {
                    k += 1;
                }
                if merged.get(k).is_some_and(|r| r.start <= b) {
                    out.push_str(mask_str);
                } else {
                    out.push(c);
                }
            }
        }
        at = p.xml.end;
    }
    out.push_str(xml.get(at..)?);
    Some(out)
}

/// The package `bytes` with the parts in `rewritten` replaced (deflated);
/// every other entry is copied as it is.
fn write_package(bytes: &[u8], rewritten: &[(String, String)]) -> Option<Vec<u8>> {
    let mut zin = ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len())));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zin.len() {
        let f = zin.by_index_raw(i).ok()?;
        let name = f.name().ok()?.into_owned();
        match rewritten.iter().find(|(n, _)| *n == name) {
            Some((_, xml)) => {
                drop(f);
                zout.start_file(name, opts).ok()?;
                std::io::Write::write_all(&mut zout, xml.as_bytes()).ok()?;
            }
            None => zout.raw_copy_file(f).ok()?,
        }
    }
    Some(zout.finish().ok()?.into_inner())
}

pub(super) fn docx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let mut p = Package::open(bytes, Format::Docx, limits)?;
    let names = p.names();
    if !names.iter().any(|n| n == "word/document.xml") {
        return Err(Unreadable::corrupt(Format::Docx, "no word/document.xml part"));
    }
    // Headers first: a classification mark (密级标志) lives in the header, and the
    // detector looks for marks in the first lines.
    let mut parts: Vec<String> = numbered(&names, "word/header").into_iter().map(|x| x.1).collect();
    parts.push("word/document.xml".into());
    for fixed in ["word/footnotes.xml", "word/endnotes.xml", "word/comments.xml"] {
        parts.push(fixed.into());
    }
    parts.extend(numbered(&names, "word/footer").into_iter().map(|x| x.1));
    let mut text = String::new();
    let mut segs = Vec::new();
    for name in parts {
        if let Some(xml) = p.part(&name)? {
            let t = flow_text(&xml, Format::Docx, &name)?;
            push_segment(&mut text, &mut segs, &t, Location::Part(name));
        }
    }
    p.embeddings(&names, &mut text, &mut segs)?;
    Ok(Extracted { text, format: Format::Docx, encoding: None, segments: segs, blocks: Vec::new() })
}

pub(super) fn pptx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let mut p = Package::open(bytes, Format::Pptx, limits)?;
    let names = p.names();
    let slides = numbered(&names, "ppt/slides/slide");
    if slides.is_empty() && !names.iter().any(|n| n == "ppt/presentation.xml") {
        return Err(Unreadable::corrupt(Format::Pptx, "no ppt/presentation.xml part"));
    }
    let mut text = String::new();
    let mut segs = Vec::new();
    // Masters first: their header and footer placeholders are the deck's page
    // header, where a marking stands (see [`super::PAGE_HEADER_PARTS`]).
    for prefix in ["ppt/slideMasters/slideMaster", "ppt/notesMasters/notesMaster", "ppt/handoutMasters/handoutMaster"] {
        for (_, name) in numbered(&names, prefix) {
            if let Some(xml) = p.part(&name)? {
                let t = flow_text(&xml, Format::Pptx, &name)?;
                push_segment(&mut text, &mut segs, &t, Location::Part(name));
            }
        }
    }
    for (n, name) in slides {
        if let Some(xml) = p.part(&name)? {
            let t = flow_text(&xml, Format::Pptx, &name)?;
            push_segment(&mut text, &mut segs, &t, Location::Slide(n));
        }
    }
    for (_, name) in numbered(&names, "ppt/notesSlides/notesSlide") {
        if let Some(xml) = p.part(&name)? {
            let t = flow_text(&xml, Format::Pptx, &name)?;
            push_segment(&mut text, &mut segs, &t, Location::Part(name));
        }
    }
    p.embeddings(&names, &mut text, &mut segs)?;
    Ok(Extracted { text, format: Format::Pptx, encoding: None, segments: segs, blocks: Vec::new() })
}

pub(super) fn xlsx(bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let f = Format::Xlsx;
    let mut p = Package::open(bytes, f, limits)?;
    let shared = match p.part("xl/sharedStrings.xml")? {
        Some(x) => shared_strings(&x)?,
        None => Vec::new(),
    };
    let wb = p.part("xl/workbook.xml")?.ok_or_else(|| Unreadable::corrupt(f, "no xl/workbook.xml part"))?;
    let rels = p.part("xl/_rels/workbook.xml.rels")?.unwrap_or_default();
    let targets = relationships(&rels)?;
    let mut text = String::new();
    let mut segs = Vec::new();
    for (sheet, rid) in sheets(&wb)? {
        let Some(target) = targets.iter().find(|(id, _)| *id == rid).map(|x| &x.1) else {
            continue;
        };
        let path = match target.strip_prefix('/') {
            Some(abs) => abs.to_owned(),
            None => format!("xl/{target}"),
        };
        let Some(xml) = p.part(&path)? else { continue };
        cells(&xml, &path, &shared, &sheet, &mut text, &mut segs)?;
    }
    p.embeddings(&p.names(), &mut text, &mut segs)?;
    Ok(Extracted { text, format: f, encoding: None, segments: segs, blocks: Vec::new() })
}

fn attr(e: &quick_xml::events::BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == local).and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

fn shared_strings(xml: &str) -> Result<Vec<String>, Unreadable> {
    let part = "xl/sharedStrings.xml";
    let mut r = Reader::from_str(xml);
    let mut out = Vec::new();
    let (mut cur, mut in_t, mut in_rph) = (String::new(), false, false);
    loop {
        match r.read_event().map_err(|_| xml_err(Format::Xlsx, part, r.buffer_position()))? {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => cur.clear(),
                "t" => in_t = true,
                "rPh" => in_rph = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => out.push(String::new()),
            Event::End(e) => match e.local_name().as_ref() {
                "si" => out.push(std::mem::take(&mut cur)),
                "t" => in_t = false,
                "rPh" => in_rph = false,
                _ => {}
            },
            Event::Text(t) if in_t && !in_rph => cur.push_str(&t),
            Event::GeneralRef(g) if in_t && !in_rph => cur.push_str(&entity(&g).unwrap_or_default()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// `(Id, Target)` of a relationships part.
fn relationships(xml: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let mut r = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match r.read_event().map_err(|_| xml_err(Format::Xlsx, "xl/_rels/workbook.xml.rels", r.buffer_position()))? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                if let (Some(id), Some(t)) = (attr(&e, "Id"), attr(&e, "Target")) {
                    out.push((id, t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// `(name, r:id)` of every sheet, in workbook order.
fn sheets(xml: &str) -> Result<Vec<(String, String)>, Unreadable> {
    let mut r = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match r.read_event().map_err(|_| xml_err(Format::Xlsx, "xl/workbook.xml", r.buffer_position()))? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sheet" => {
                if let (Some(n), Some(id)) = (attr(&e, "name"), attr(&e, "id")) {
                    out.push((n, id));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Row of a cell reference (`B7` → 7).
fn row_of(cell: &str) -> u64 {
    cell.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().unwrap_or(0)
}

/// Appends a sheet's cells: tab between cells of a row, a line per row; one
/// segment per non-empty cell.
fn cells(xml: &str, part: &str, shared: &[String], sheet: &str, text: &mut String, segs: &mut Vec<Segment>) -> Result<(), Unreadable> {
    let mut r = Reader::from_str(xml);
    let (mut cell, mut ty) = (String::new(), String::new());
    let (mut val, mut in_v) = (String::new(), false);
    let mut row: Option<u64> = None;
    let mut first = true;
    loop {
        match r.read_event().map_err(|_| xml_err(Format::Xlsx, part, r.buffer_position()))? {
            Event::Start(e) => match e.local_name().as_ref() {
                "c" => {
                    cell = attr(&e, "r").unwrap_or_default();
                    ty = attr(&e, "t").unwrap_or_default();
                    val.clear();
                }
                "v" | "t" => in_v = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "v" | "t" => in_v = false,
                "c" => {
                    let v = if ty == "s" {
                        val.trim().parse::<usize>().ok().and_then(|i| shared.get(i)).cloned().unwrap_or_default()
                    } else {
                        std::mem::take(&mut val)
                    };
                    if v.trim().is_empty() {
                        continue;
                    }
                    let this_row = row_of(&cell);
                    if first {
                        if !text.is_empty() {
                            text.push_str("\n\n");
                        }
                        first = false;
                    } else if row == Some(this_row) {
                        text.push('\t');
                    } else {
                        text.push('\n');
                    }
                    row = Some(this_row);
                    let start = text.len();
                    text.push_str(v.trim_end());
                    segs.push(Segment {
                        start,
                        end: text.len(),
                        location: Location::Sheet { name: sheet.to_owned(), cell: cell.clone() },
                    });
                }
                _ => {}
            },
            Event::Text(t) if in_v => val.push_str(&t),
            Event::GeneralRef(g) if in_v => val.push_str(&entity(&g).unwrap_or_default()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A zip package of `(name, content)` parts (tests and fuzz seeds).
    pub fn package(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (n, c) in parts {
            w.start_file(*n, o).unwrap();
            w.write_all(c.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    /// `text` with the characters of `needle` (first occurrence) masked.
    fn masked(text: &str, needle: &str) -> String {
        let at = text.find(needle).unwrap();
        format!("{}{}{}", &text[..at], "■".repeat(needle.chars().count()), &text[at + needle.len()..])
    }

    /// In place: split runs, an entity next to the value, a table cell; the
    /// copy reads back as the redacted text and holds no value.
    #[test]
    fn redacts_runs_in_place() {
        let doc = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:t>申请人：</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>王小</w:t></w:r><w:r><w:t xml:space="preserve">明 &amp; 李</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>电话 </w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>13912345678</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#
        );
        let bytes = package(&[("word/document.xml", &doc), ("word/styles.xml", "<w:styles/>")]);
        let l = Limits::default();
        let e = docx(&bytes, &l).unwrap();
        let red = masked(&masked(&e.text, "王小明"), "13912345678");
        let out = redact_in_place(&bytes, &e, &red, &l).expect("redacted in place");
        let again = docx(&out, &l).unwrap();
        assert_eq!(again.text, red);
        let mut z = ZipArchive::new(Cursor::new(&out[..])).unwrap();
        let mut xml = String::new();
        z.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
        assert!(xml.contains("<w:b/></w:rPr><w:t>■■</w:t>") && xml.contains("■ &amp; 李"), "{xml}");
        assert!(!xml.contains("13912345678") && !xml.contains("王小"));
        assert!(z.by_name("word/styles.xml").is_ok(), "other parts copied");
    }

    /// Not in place when the value would survive elsewhere in the package, or
    /// in an `mc:Fallback` the extraction skips: the caller writes text.
    #[test]
    fn refuses_copies_that_keep_a_value() {
        let l = Limits::default();
        let doc = format!(r#"<w:document {W}><w:body><w:p><w:r><w:t>电话13912345678</w:t></w:r></w:p></w:body></w:document>"#);
        let rels = r#"<Relationships><Relationship Id="rId1" Target="tel:13912345678" TargetMode="External"/></Relationships>"#;
        let bytes = package(&[("word/document.xml", &doc), ("word/_rels/document.xml.rels", rels)]);
        let e = docx(&bytes, &l).unwrap();
        assert!(redact_in_place(&bytes, &e, &masked(&e.text, "13912345678"), &l).is_none(), "a hyperlink target keeps it");
        let doc = format!(
            r#"<w:document {W} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body><w:p><mc:AlternateContent><mc:Choice Requires="x"><w:r><w:t>电话13912345678</w:t></w:r></mc:Choice><mc:Fallback><w:r><w:t>电话13912345678</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p></w:body></w:document>"#
        );
        let bytes = package(&[("word/document.xml", &doc)]);
        let e = docx(&bytes, &l).unwrap();
        assert!(redact_in_place(&bytes, &e, &masked(&e.text, "13912345678"), &l).is_none(), "a Fallback duplicate");
        // Nothing masked: no copy in place is needed either way; a text change
        // that is not a mask of the same length is refused.
        assert!(redact_in_place(&bytes, &e, "short", &l).is_none());
    }

    #[test]
    fn docx_parts_in_order_with_tables() {
        let doc = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:t>申请人：</w:t></w:r><w:r><w:t xml:space="preserve">王小明 &amp; 李</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>姓名</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>电话</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:p><w:r><w:t>张三</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>13912345678</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:del><w:r><w:delText>已删除</w:delText></w:r></w:del></w:p></w:body></w:document>"#
        );
        let hdr = format!(r#"<w:hdr {W}><w:p><w:r><w:t>机密★5年</w:t></w:r></w:p></w:hdr>"#);
        let ftn = format!(r#"<w:footnotes {W}><w:footnote><w:p><w:r><w:t>脚注</w:t></w:r></w:p></w:footnote></w:footnotes>"#);
        let bytes = package(&[("word/document.xml", &doc), ("word/header1.xml", &hdr), ("word/footnotes.xml", &ftn)]);
        let e = docx(&bytes, &Limits::default()).unwrap();
        assert!(e.text.starts_with("机密★5年\n\n申请人：王小明 & 李\n姓名\t电话\n张三\t13912345678\n已删除\n\n脚注"), "{:?}", e.text);
        assert_eq!(e.segments.len(), 3);
        let at = e.text.find("13912345678").unwrap();
        assert_eq!(e.location_at(at), Some(&Location::Part("word/document.xml".into())));
        assert_eq!(e.location_at(0), Some(&Location::Part("word/header1.xml".into())));
    }

    #[test]
    fn xlsx_cells_with_shared_strings() {
        let wb = r#"<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
        let rels = r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let ss = r#"<sst><si><t>姓名</t></si><si><r><t>张</t></r><r><t>三</t></r><rPh><t>zhang</t></rPh></si></sst>"#;
        let sh = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>电话</t></is></c></row>
            <row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>13912345678</v></c></row></sheetData></worksheet>"#;
        let bytes = package(&[("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", rels), ("xl/sharedStrings.xml", ss), ("xl/worksheets/sheet1.xml", sh)]);
        let e = xlsx(&bytes, &Limits::default()).unwrap();
        assert_eq!(e.text, "姓名\t电话\n张三\t13912345678");
        let at = e.text.find("139").unwrap();
        assert_eq!(e.location_at(at), Some(&Location::Sheet { name: "名单".into(), cell: "B2".into() }));
    }

    /// xlsx in place: a shared string split in runs (the phonetic run is not
    /// text) and an inline string are masked; a number cell is not maskable
    /// in place, so its copy is refused.
    #[test]
    fn redacts_xlsx_strings_in_place_and_refuses_numbers() {
        let l = Limits::default();
        let wb = r#"<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
        let rels = r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let ss = r#"<sst><si><t>姓名</t></si><si><r><t>欧阳</t></r><r><rPr><b/></rPr><t>春花</t></r><rPh><t>ouyang</t></rPh></si></sst>"#;
        let sh = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>电话13912345678</t></is></c></row>
            <row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>13812345678</v></c></row></sheetData></worksheet>"#;
        let parts = [("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", rels), ("xl/sharedStrings.xml", ss), ("xl/worksheets/sheet1.xml", sh)];
        let bytes = package(&parts);
        let e = xlsx(&bytes, &l).unwrap();
        let red = masked(&masked(&e.text, "欧阳春花"), "13912345678");
        let out = redact_in_place(&bytes, &e, &red, &l).expect("strings are masked in place");
        assert_eq!(xlsx(&out, &l).unwrap().text, red);
        let mut z = ZipArchive::new(Cursor::new(&out[..])).unwrap();
        let mut sst = String::new();
        z.by_name("xl/sharedStrings.xml").unwrap().read_to_string(&mut sst).unwrap();
        assert!(sst.contains("<r><rPr><b/></rPr><t>■■</t></r>") && sst.contains("ouyang"), "{sst}");
        // The number cell: no copy in place.
        let red = masked(&e.text, "13812345678");
        assert!(redact_in_place(&bytes, &e, &red, &l).is_none());
    }

    #[test]
    fn pptx_slides_and_notes() {
        let s = |t: &str| format!(r#"<p:sld xmlns:a="a" xmlns:p="p"><p:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sld>"#);
        let bytes = package(&[("ppt/presentation.xml", "<p/>"), ("ppt/slides/slide2.xml", &s("第二页")), ("ppt/slides/slide10.xml", &s("第十页")), ("ppt/slides/slide1.xml", &s("第一页"))]);
        let e = pptx(&bytes, &Limits::default()).unwrap();
        assert_eq!(e.text, "第一页\n\n第二页\n\n第十页");
        assert_eq!(e.location_at(e.text.find("第十").unwrap()), Some(&Location::Slide(10)));
    }

    #[test]
    fn embedded_packages_are_screened_and_other_objects_are_not_published() {
        let inner = package(&[("word/document.xml", &format!(r#"<w:document {W}><w:body><w:p><w:r><w:t>嵌入的电话13912345678</w:t></w:r></w:p></w:body></w:document>"#))]);
        let doc = format!(r#"<w:document {W}><w:body><w:p><w:r><w:t>正文</w:t></w:r></w:p></w:body></w:document>"#);
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        w.start_file("word/document.xml", o).unwrap();
        w.write_all(doc.as_bytes()).unwrap();
        w.start_file("word/embeddings/Microsoft_Word_Document.docx", o).unwrap();
        w.write_all(&inner).unwrap();
        let outer = w.finish().unwrap().into_inner();
        let e = docx(&outer, &Limits::default()).unwrap();
        let at = e.text.find("13912345678").expect("embedded text screened");
        assert_eq!(e.location_at(at), Some(&Location::Part("word/embeddings/Microsoft_Word_Document.docx".into())));
        let shallow = Limits { max_depth: 1, ..Limits::default() };
        assert!(matches!(docx(&outer, &shallow), Err(Unreadable::Limit(_))));

        let ole = package(&[("word/document.xml", &doc), ("word/embeddings/oleObject1.bin", "\u{1}")]);
        let err = docx(&ole, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("embedded object word/embeddings/oleObject1.bin"), "{err}");
    }

    #[test]
    fn broken_packages_are_unreadable() {
        assert!(matches!(docx(b"PK\x03\x04garbage", &Limits::default()), Err(Unreadable::Corrupt { .. })));
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend_from_slice(&[0; 512]);
        assert!(matches!(docx(&ole, &Limits::default()), Err(Unreadable::Encrypted(_))));
        let bytes = package(&[("word/other.xml", "<x/>")]);
        assert!(matches!(docx(&bytes, &Limits::default()), Err(Unreadable::Corrupt { .. })));
        let bytes = package(&[("word/document.xml", "<w:document><w:body><w:p></w:body>")]);
        let e = docx(&bytes, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("malformed XML in word/document.xml"), "{e}");
    }

    #[test]
    fn bombs_are_refused() {
        let big = "<w:document><w:body>".to_string() + &" ".repeat(4 << 20) + "</w:body></w:document>";
        let bytes = package(&[("word/document.xml", &big)]);
        let e = docx(&bytes, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("zip bomb"), "{e}");
        let l = Limits { max_entries: 1, ..Limits::default() };
        let bytes = package(&[("word/document.xml", "<a/>"), ("b", "")]);
        assert!(matches!(docx(&bytes, &l), Err(Unreadable::Limit(_))));
    }
}

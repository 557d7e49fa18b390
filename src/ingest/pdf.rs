//! PDF: the text layer, page by page, with lopdf (which reads CID fonts such as
//! `UniGB-UCS2-H` through their ToUnicode maps; pdf-extract panicked on them).
//!
//! Fail-safe rules: an encrypted PDF that does not open with the empty password
//! is unreadable; a page without text that carries images is a scan and makes
//! the document unreadable (its content was never reviewed); a document with no
//! text at all is unreadable even without images (text drawn as outlines).
//! A page without text and without images is blank and is left out.
//!
//! # Bounds: decompression bombs and object floods
//!
//! A few kilobytes of PDF can name streams that decode to gigabytes: each
//! Flate layer multiplies by up to about 1000, and `/Filter [/FlateDecode
//! /FlateDecode]` is legal. lopdf decodes object streams while it loads a
//! document, before any of our code sees a page, and it bounds each stream
//! (256 MiB) but not a document: an 11.7 KB file whose object stream decoded to
//! a 200 MiB string took the CLI to 3.8 GB. Every PDF is therefore read under a
//! budget of decoded bytes,
//!
//! ```text
//! B = min(max(64 MiB, 64 × file size), Limits::max_decoded_bytes)   (1 GiB by default)
//! ```
//!
//! and past any of the bounds below it is [`Unreadable::Limit`], which the
//! caller withholds. The messages name counts and limits, never content.
//!
//! - **Objects**: at most [`MAX_OBJECTS`] (500,000: lopdf keeps some 400
//!   bytes per object while it loads; a million object-stream members took a
//!   debug build to 500 MB). The raw bytes are counted first (`N G obj`, one
//!   pass, no allocation), so a flood of top-level objects never reaches
//!   lopdf; the members of an object stream are counted from its index before
//!   lopdf parses them, and one object stream holds at most
//!   [`MAX_OBJECT_STREAM_MEMBERS`] (100,000; writers put about a hundred).
//! - **Filters**: at most [`MAX_FILTERS`] (4) per stream (lopdf allows 16),
//!   checked on every stream lopdf parses and every stream we decode.
//! - **Loading** (`Document::load_mem_with_options` with a filter hook): every
//!   object stream lopdf reads is decoded by us first, against B, and handed
//!   back decoded. One read again (a cross-reference table can name it two
//!   thousand times; lopdf would decode it and keep its objects each time) is
//!   dropped: it holds what was read. The raw bytes of every stream read are
//!   charged on every read (a table naming one large stream many times copies
//!   it each time). What lopdf decodes on its own (cross-reference streams, an
//!   object stream reached while a reference is resolved, the streams of an
//!   encrypted file, for which lopdf does not call the hook) is bounded by its
//!   per-stream limit, set to B divided by the number of `stream` keywords in
//!   the file (together they stay within B) and never above
//!   [`MAX_OBJECT_STREAM_BYTES`] (16 MiB).
//! - **Text**: before lopdf extracts a page, the decoded size of the page's
//!   content streams and of its fonts' ToUnicode maps is charged to a second
//!   budget of B (each stream is decoded once, against a third B, and its size
//!   cached): a content stream or CMap shared by a thousand pages is paid for a
//!   thousand times, as lopdf decodes it a thousand times.
//! - **Tokens**: decoded bytes are not the whole cost. lopdf parses a content
//!   stream into operations and an object stream into objects of 100–250 bytes
//!   per token, so 60 MiB of `0 0 m` (under B) took 6 GB, and a 16 MiB object
//!   stream holding one array of zeros 1.6 GB. A page (its content streams and
//!   CMaps), and the object streams of a document together, hold at most
//!   `max(1,000,000, file size)` tokens (counted over: every delimiter and every
//!   run of regular characters), counted on the decoded bytes before lopdf
//!   parses them. An uncompressed file holds fewer tokens than bytes, so only
//!   compressed data meets the bound.
//!
//! So a document costs at most a small multiple of B in decoding, and memory
//! bounded by B and the token bounds (on the bombs in `tests/hostile_pdf.rs`,
//! 200 MiB object and content streams among them, a release build peaks under
//! 300 MB); every check is linear in the file's size and in B. With the hook
//! set lopdf skips its own "rebuild the cross-reference table when the page
//! tree did not load" retry, so it is repeated here, under the same budget.
//!
//! Not bounded here: what lopdf builds from an uncompressed file is linear in
//! its size, with lopdf's constant (up to some 100 bytes of objects per byte);
//! and the object streams lopdf decodes without the hook (an encrypted file's,
//! one reached while resolving a reference) are bounded in bytes (B in all,
//! 16 MiB each) but their members and tokens are not counted.
//!
//! The hook is a plain `fn`, so the budget lives in a thread-local: lopdf is
//! built without its `rayon` feature and calls the hook on the loading thread.
//! A call on a thread without a budget drops the object (fail closed: the
//! document then has no pages and is unreadable).

use super::{Extracted, Format, Limits, Location, Unreadable, push_segment};
use lopdf::xref::XrefRecovery;
use lopdf::{DecompressError, Document, LoadOptions, Object, ObjectId};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Filters one stream may name (`[/FlateDecode /FlateDecode]` is two).
pub const MAX_FILTERS: usize = 4;
/// Indirect objects in one PDF, object-stream members included.
pub const MAX_OBJECTS: u64 = 500_000;
/// Members of one object stream (lopdf holds every member of a stream several
/// times over while it reads one; writers put a hundred or so in each).
pub const MAX_OBJECT_STREAM_MEMBERS: u64 = 100_000;
/// The least number of tokens allowed (see [`max_tokens`]).
const MIN_TOKENS: u64 = 1_000_000;
/// The least decoded-byte budget, whatever the file's size.
const MIN_BUDGET: u64 = 64 << 20;
/// Decoded bytes allowed per byte of file.
const BUDGET_PER_BYTE: u64 = 64;
/// The most one object stream or cross-reference stream may decode to (lopdf
/// parses it into objects several times its size).
pub const MAX_OBJECT_STREAM_BYTES: u64 = 16 << 20;

/// The decoded-byte budget B of a file of `len` bytes.
fn budget(len: usize, limits: &Limits) -> u64 {
    MIN_BUDGET.max((len as u64).saturating_mul(BUDGET_PER_BYTE)).min(limits.max_decoded_bytes)
}

fn over_budget(b: u64) -> Unreadable {
    Unreadable::Limit(format!("PDF streams decode to more than {b} bytes (the document's budget of decoded bytes)"))
}

fn over_stream_limit(p: u64) -> Unreadable {
    Unreadable::Limit(format!("a PDF object or cross-reference stream decodes to more than {p} bytes"))
}

/// `what` holds (or hold) more tokens than `n`.
fn too_many_tokens(what: &str, n: u64) -> Unreadable {
    Unreadable::Limit(format!("{what} more than {n} tokens (operators, operands, object parts)"))
}

/// Tokens compressed object data and one page may hold: lopdf parses each
/// into an object or operand of 100–250 bytes. At least a million, and as many
/// as the file has bytes (text without compression holds fewer).
fn max_tokens(len: usize) -> u64 {
    MIN_TOKENS.max(len as u64)
}

/// PDF tokens in `b`, over-counted: every delimiter, and every run of
/// regular characters (so a string's words count too).
fn tokens(b: &[u8]) -> u64 {
    let mut n = 0;
    let mut in_regular = false;
    for &c in b {
        if is_delimiter(c) {
            n += 1;
            in_regular = false;
        } else if is_white(c) {
            in_regular = false;
        } else if !in_regular {
            n += 1;
            in_regular = true;
        }
    }
    n
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn too_many_filters(n: usize) -> Unreadable {
    Unreadable::Limit(format!("a PDF stream has {n} filters (the limit is {MAX_FILTERS})"))
}

fn too_many_objects() -> Unreadable {
    Unreadable::Limit(format!(
        "PDF has more than {MAX_OBJECTS} objects, or an object stream more than {MAX_OBJECT_STREAM_MEMBERS}"
    ))
}

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let corrupt = |d: String| Unreadable::Corrupt { format: "pdf", detail: d };
    if !bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(corrupt("no %PDF- header".into()));
    }
    let budget = budget(bytes.len(), limits);
    let doc = load(bytes, budget)?;
    if doc.is_encrypted() {
        return Err(Unreadable::Encrypted("PDF".into()));
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(corrupt("no pages".into()));
    }
    let limit = usize::try_from(limits.max_entry_bytes.min(budget)).unwrap_or(usize::MAX);
    let max_tokens = max_tokens(bytes.len());
    let mut meter = Meter { doc: &doc, budget, max_tokens, sizes: HashMap::new(), probed: 0, charged: 0 };
    let mut text = String::new();
    let mut segs = Vec::new();
    let mut scanned = Vec::new();
    for (&n, &id) in &pages {
        meter.charge_page(id)?;
        let t = doc.extract_text_with_limit(&[n], limit).map_err(|e| match e {
            lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => over_budget(budget),
            e => corrupt(format!("page {n}: {}", error_kind(&e))),
        })?;
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

// ---------------------------------------------------------------------------
// Loading under the budget.
// ---------------------------------------------------------------------------

/// What one pass over the raw bytes counts.
#[derive(Debug, PartialEq, Eq)]
struct Scan {
    /// `obj` keywords that open an indirect object (`1 0 obj`), not `endobj`.
    objects: u64,
    /// `stream` keywords, not `endstream`.
    streams: u64,
}

fn prescan(bytes: &[u8]) -> Scan {
    let objects = memchr::memmem::find_iter(bytes, b"obj")
        .filter(|&at| {
            at > 0 && is_white(bytes[at - 1]) && bytes.get(at + 3).is_none_or(|&b| is_white(b) || is_delimiter(b))
        })
        .count() as u64;
    let streams = memchr::memmem::find_iter(bytes, b"stream").filter(|&at| !bytes[..at].ends_with(b"end")).count() as u64;
    Scan { objects, streams }
}

/// The budget of the load running on this thread, spent by [`load_filter`].
#[derive(Debug)]
struct Guard {
    budget: u64,
    /// The most one object stream may decode to.
    per_stream: u64,
    /// Decoded bytes of object streams, and raw bytes of every stream read.
    spent: u64,
    /// Objects read, object-stream members counted from their index.
    objects: u64,
    /// Members of the object stream read last, counted already, that lopdf
    /// passes through the hook next.
    pending_members: u64,
    /// Tokens in the objects of the object streams read, and their bound.
    tokens: u64,
    max_tokens: u64,
    /// Object streams read (by the number in their header).
    object_streams: HashSet<ObjectId>,
    /// The first bound exceeded.
    over: Option<Unreadable>,
}

thread_local! {
    static GUARD: RefCell<Option<Guard>> = const { RefCell::new(None) };
}

/// Installs a guard on this thread for as long as it lives.
struct GuardScope(Option<Guard>);

impl GuardScope {
    fn install(budget: u64, per_stream: u64, max_tokens: u64) -> GuardScope {
        let g = Guard {
            budget,
            per_stream,
            spent: 0,
            objects: 0,
            pending_members: 0,
            tokens: 0,
            max_tokens,
            object_streams: HashSet::new(),
            over: None,
        };
        GuardScope(GUARD.with_borrow_mut(|cell| cell.replace(g)))
    }

    /// The first bound exceeded so far, if any; `objects` restarts at zero
    /// (for a second load of the same bytes).
    fn check(&self, reset_objects: bool) -> Result<(), Unreadable> {
        GUARD.with_borrow_mut(|cell| {
            // Only called inside a guard's scope; without one, nothing was bounded.
            let Some(g) = cell.as_mut() else {
                return Err(Unreadable::Corrupt { format: "pdf", detail: "no decoding budget in place (internal error caught)".into() });
            };
            if let Some(e) = g.over.take() {
                return Err(e);
            }
            if reset_objects {
                g.objects = 0;
                g.pending_members = 0;
                g.object_streams.clear();
                g.tokens = 0;
            }
            Ok(())
        })
    }
}

impl Drop for GuardScope {
    fn drop(&mut self) {
        let prev = self.0.take();
        GUARD.with_borrow_mut(|cell| *cell = prev);
    }
}

/// lopdf's object hook (`LoadOptions::filter`), called for every object it
/// reads from the cross-reference table (before it decodes an object stream)
/// and for every member of an object stream. Returning `None` drops the object.
fn load_filter(id: ObjectId, obj: &mut Object) -> Option<(ObjectId, Object)> {
    GUARD.with_borrow_mut(|cell| {
        // No budget on this thread: drop everything (fail closed).
        let g = cell.as_mut()?;
        if g.over.is_some() {
            return None;
        }
        let Object::Stream(s) = obj else {
            // Members of an object stream were counted from its index.
            if g.pending_members > 0 {
                g.pending_members -= 1;
            } else {
                g.objects += 1;
            }
            if g.objects > MAX_OBJECTS {
                g.over = Some(too_many_objects());
                return None;
            }
            // An object-stream member is kept only as returned.
            return Some((id, obj.clone()));
        };
        g.objects += 1;
        g.pending_members = 0;
        g.spent = g.spent.saturating_add(s.content.len() as u64);
        let filters = s.filters().map_or(0, |f| f.len());
        if filters > MAX_FILTERS {
            g.over = Some(too_many_filters(filters));
            return None;
        }
        if g.objects > MAX_OBJECTS {
            g.over = Some(too_many_objects());
            return None;
        }
        if g.spent > g.budget {
            g.over = Some(over_budget(g.budget));
            return None;
        }
        if s.dict.has_type(b"ObjStm") {
            // Read again through another table entry: it holds the objects
            // read already (lopdf keeps the first reading of each).
            if !g.object_streams.insert(id) {
                return None;
            }
            let left = (g.budget - g.spent).min(g.per_stream);
            match s.decompressed_content_with_limit(usize::try_from(left).unwrap_or(usize::MAX)) {
                Ok(data) => {
                    g.spent += data.len() as u64;
                    let first = s.dict.get(b"First").and_then(Object::as_i64).ok();
                    let (index, body) = data.split_at(first.and_then(|f| usize::try_from(f).ok()).unwrap_or(0).min(data.len()));
                    let members = index.split(|b| b.is_ascii_whitespace()).filter(|t| !t.is_empty()).count() as u64 / 2;
                    g.objects += members;
                    g.pending_members = members;
                    if g.objects > MAX_OBJECTS || members > MAX_OBJECT_STREAM_MEMBERS {
                        g.over = Some(too_many_objects());
                        return None;
                    }
                    g.tokens += tokens(body);
                    if g.tokens > g.max_tokens {
                        g.over = Some(too_many_tokens("the object streams of a PDF hold", g.max_tokens));
                        return None;
                    }
                    // lopdf parses the members from the decoded bytes, without decoding again.
                    s.set_plain_content(data);
                }
                Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                    g.over = Some(if left == g.per_stream { over_stream_limit(left) } else { over_budget(g.budget) });
                    return None;
                }
                // lopdf fails on it the same way, and skips it.
                Err(_) => {}
            }
        }
        // For an object read from the table lopdf keeps the object it passed
        // (as changed here) and only looks at whether this is `None`; a stream is
        // never an object-stream member.
        Some((id, Object::Null))
    })
}

/// Loads the document under budget `b`.
fn load(bytes: &[u8], b: u64) -> Result<Document, Unreadable> {
    let scan = prescan(bytes);
    if scan.objects > MAX_OBJECTS {
        return Err(too_many_objects());
    }
    let per_stream = (b / scan.streams.max(1)).clamp(1, MAX_OBJECT_STREAM_BYTES);
    let options = |force_reconstruct| LoadOptions {
        filter: Some(load_filter),
        max_decompressed_size: Some(usize::try_from(per_stream).unwrap_or(usize::MAX)),
        force_reconstruct,
        ..LoadOptions::default()
    };
    let guard = GuardScope::install(b, per_stream, max_tokens(bytes.len()));
    let loaded = Document::load_mem_with_options(bytes, options(false));
    guard.check(true)?;
    let doc = loaded.map_err(|e| load_error(e, per_stream))?;
    // lopdf's own retry, which a filter turns off: a table that reads but
    // leads to no page tree is rebuilt by scanning for objects.
    if !doc.is_encrypted() && doc.xref_recovery != Some(XrefRecovery::Reconstructed) && !page_tree_loaded(&doc) {
        let rebuilt = Document::load_mem_with_options(bytes, options(true));
        guard.check(false)?;
        if let Ok(r) = rebuilt
            && r.xref_recovery == Some(XrefRecovery::Reconstructed)
            && page_tree_loaded(&r)
        {
            return Ok(r);
        }
    }
    Ok(doc)
}

/// A load error; `per_stream` is the limit lopdf was given.
fn load_error(e: lopdf::Error, per_stream: u64) -> Unreadable {
    match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => Unreadable::Encrypted("PDF".into()),
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => over_stream_limit(per_stream),
        lopdf::Error::Decompress(DecompressError::TooManyFilters { count, .. }) => too_many_filters(count),
        e => Unreadable::Corrupt { format: "pdf", detail: format!("cannot parse: {}", error_kind(&e)) },
    }
}

/// The catalog leads to the root of a page tree (lopdf's test for its retry).
fn page_tree_loaded(doc: &Document) -> bool {
    doc.catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
        .and_then(|root| doc.get_dictionary(root))
        .and_then(|root| root.get_deref(b"Kids", doc))
        .and_then(Object::as_array)
        .is_ok()
}

// ---------------------------------------------------------------------------
// Extracting under the budget.
// ---------------------------------------------------------------------------

/// What text extraction decodes: the budget of the pages' charges and of the
/// probes that measure each stream once.
struct Meter<'d> {
    doc: &'d Document,
    budget: u64,
    /// Tokens one page may hold.
    max_tokens: u64,
    /// Decoded size and tokens of each stream measured.
    sizes: HashMap<ObjectId, (u64, u64)>,
    /// Bytes decoded to measure streams.
    probed: u64,
    /// Bytes the pages extracted so far made lopdf decode.
    charged: u64,
}

impl Meter<'_> {
    /// The decoded size and [`tokens`] of stream `id` (0 if it is not a
    /// stream), measured once.
    fn size(&mut self, id: ObjectId) -> Result<(u64, u64), Unreadable> {
        if let Some(&n) = self.sizes.get(&id) {
            return Ok(n);
        }
        let n = match self.doc.get_object(id).and_then(Object::as_stream) {
            Err(_) => (0, 0),
            Ok(s) => {
                let filters = s.filters().map_or(0, |f| f.len());
                if filters > MAX_FILTERS {
                    return Err(too_many_filters(filters));
                }
                let left = usize::try_from(self.budget - self.probed).unwrap_or(usize::MAX);
                match s.decompressed_content_with_limit(left) {
                    Ok(d) => (d.len() as u64, tokens(&d)),
                    Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                        return Err(over_budget(self.budget));
                    }
                    // lopdf falls back to the raw bytes.
                    Err(_) => (s.content.len() as u64, tokens(&s.content)),
                }
            }
        };
        self.probed += n.0;
        if self.probed > self.budget {
            return Err(over_budget(self.budget));
        }
        self.sizes.insert(id, n);
        Ok(n)
    }

    /// Charges what extracting page `page` decodes, its content streams and its
    /// fonts' ToUnicode maps, and bounds the tokens lopdf parses them into.
    fn charge_page(&mut self, page: ObjectId) -> Result<(), Unreadable> {
        let (mut cost, mut toks) = (0, 0);
        let mut add = |(n, t): (u64, u64)| {
            cost += n + 1;
            toks += t;
        };
        for id in self.doc.get_page_contents(page) {
            add(self.size(id)?);
        }
        if let Ok(fonts) = self.doc.get_page_fonts(page) {
            for font in fonts.values() {
                if let Ok(&Object::Reference(id)) = font.get(b"ToUnicode") {
                    add(self.size(id)?);
                }
            }
        }
        if toks > self.max_tokens {
            return Err(too_many_tokens("a PDF page holds", self.max_tokens));
        }
        self.charged = self.charged.saturating_add(cost);
        if self.charged > self.budget {
            return Err(over_budget(self.budget));
        }
        Ok(())
    }
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

    /// [`cid_pdf`] saved with object streams and a cross-reference stream.
    pub fn cid_pdf_modern(pages: &[&str]) -> Vec<u8> {
        let mut doc = Document::load_mem(&cid_pdf(pages)).unwrap();
        let mut out = Vec::new();
        doc.save_modern(&mut out).unwrap();
        out
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

    #[test]
    fn object_streams_load_through_the_budget_hook() {
        let pdf = cid_pdf_modern(&["关于信息公开的答复", "申请人联系电话13912345678"]);
        assert!(pdf.windows(6).any(|w| w == b"ObjStm"), "saved with object streams");
        let e = extract(&pdf, &Limits::default()).unwrap();
        assert!(e.text.contains("关于信息公开的答复"), "{:?}", e.text);
        assert!(e.text.contains("13912345678"), "{:?}", e.text);
    }

    #[test]
    fn a_damaged_table_is_rebuilt_as_lopdf_would() {
        // The table gives object 1 (the page tree's root) the offset of object 8:
        // the table reads, the page tree does not load, and the table is
        // rebuilt by scanning for objects (lopdf's retry, which the hook turns off).
        let mut doc = Document::load_mem(&cid_pdf(&["关于信息公开的答复"])).unwrap();
        doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        assert!(pdf.windows(7).any(|w| w == b"1 0 obj"), "object 1 is the page tree's root");
        let xref = pdf.windows(6).rposition(|w| w == b"\nxref\n").unwrap() + 1;
        let table = String::from_utf8(pdf[xref..].to_vec()).unwrap();
        let mut lines: Vec<String> = table.lines().map(str::to_owned).collect();
        assert!(lines[1].starts_with("0 "), "{table}");
        assert!(lines[3].trim_end().ends_with(" n") && lines[10].trim_end().ends_with(" n"), "{table}");
        let other = lines[10][..10].to_owned();
        lines[3].replace_range(..10, &other);
        let mut bad = pdf[..xref].to_vec();
        for l in &lines {
            bad.extend_from_slice(l.as_bytes());
            bad.push(b'\n');
        }
        let e = extract(&bad, &Limits::default()).unwrap();
        assert!(e.text.contains("关于信息公开的答复"), "{:?}", e.text);
    }

    #[test]
    fn an_encrypted_pdf_that_opens_with_the_empty_password_is_read() {
        // lopdf does not call the hook for an encrypted file: the per-stream
        // limit and the page budget still apply, and the text is read.
        let mut doc = Document::load_mem(&cid_pdf(&["关于信息公开的答复"])).unwrap();
        let id = Object::String(b"0123456789abcdef".to_vec(), lopdf::StringFormat::Hexadecimal);
        doc.trailer.set("ID", vec![id.clone(), id]);
        let v = lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner",
            user_password: "",
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        };
        let state = lopdf::EncryptionState::try_from(v).unwrap();
        doc.encrypt(&state).unwrap();
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        assert!(pdf.windows(8).any(|w| w == b"/Encrypt"));
        let e = extract(&pdf, &Limits::default()).unwrap();
        assert!(e.text.contains("关于信息公开的答复"), "{:?}", e.text);
    }

    #[test]
    fn prescan_counts_objects_and_streams_not_their_ends() {
        let raw = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj<</Length 3>>stream\nabc\nendstream\nendobj\n3 0 obj[/objective]endobj";
        assert_eq!(prescan(raw), Scan { objects: 3, streams: 1 });
    }

    #[test]
    fn tokens_are_counted_over() {
        assert_eq!(tokens(b"0 0 m\n[1 2]/F1 12 Tf (a b)"), 15);
        assert_eq!(tokens(b""), 0);
        assert_eq!(max_tokens(10), 1_000_000);
        assert_eq!(max_tokens(5 << 20), 5 << 20);
    }

    #[test]
    fn budget_scales_with_the_file_and_is_capped() {
        let l = Limits::default();
        assert_eq!(budget(0, &l), 64 << 20);
        assert_eq!(budget(10 << 20, &l), 640 << 20);
        assert_eq!(budget(100 << 20, &l), 1 << 30);
        assert_eq!(budget(0, &Limits { max_decoded_bytes: 1 << 20, ..l }), 1 << 20);
    }

    #[test]
    fn the_hook_drops_everything_on_a_thread_without_a_budget() {
        let mut o = Object::Integer(1);
        assert!(load_filter((1, 0), &mut o).is_none());
        let _g = GuardScope::install(1 << 20, 1 << 20, 1 << 20);
        assert_eq!(load_filter((1, 0), &mut o), Some(((1, 0), Object::Integer(1))));
    }

    #[test]
    fn a_small_budget_makes_a_normal_pdf_a_limit() {
        // The limit really bounds what the pages decode (the test can fail).
        let pdf = cid_pdf(&["关于信息公开的答复"]);
        let l = Limits { max_decoded_bytes: 16, ..Limits::default() };
        assert!(matches!(extract(&pdf, &l), Err(Unreadable::Limit(m)) if m.contains("decode")));
    }
}

//! Ingest: document bytes → text with provenance, or the reason they cannot be read.
//!
//! [`extract`] is the one entry point for a single document (the CLI and the
//! gRPC service both call it); [`archive`] walks zip and tar archives, nested
//! ones too, streaming their entries into [`extract`].
//!
//! Why the shape: detection and redaction work on one text, so every format is
//! flattened into a `String` whose offsets the findings use. [`Segment`]s map
//! byte ranges of that text back to where they came from (a PDF page, a sheet
//! and cell, an OOXML part, a slide), so a reviewer can find the passage in the
//! source. A document that cannot be flattened is an [`Unreadable`] error, which
//! the caller turns into a `withhold` verdict — never a skip, never `publish`.
//!
//! Every parser runs under [`Limits`], and [`extract`] catches a panic in a
//! third-party parser and reports it as a corrupt document: a malformed file
//! never ends the run.

pub mod archive;
mod html;
mod markup;
pub mod ooxml;
mod pdf;
pub mod text;

use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The formats [`extract`] reads; archives are walked by [`archive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Plain text (`.txt`, `.text`, `.log`, standard input).
    Text,
    /// Markdown, screened as text.
    Markdown,
    /// CSV, screened as text (a cell's neighbours are its context).
    Csv,
    /// JSON: string and number leaves as `path: value` lines.
    Json,
    /// JSON Lines: a JSON value per line, flattened as [`Format::Json`].
    JsonLines,
    /// XML: text nodes and attribute values.
    Xml,
    /// HTML: the visible text.
    Html,
    /// Word: body, tables, headers, footers, footnotes, endnotes, comments.
    Docx,
    /// Excel: cell text of every sheet.
    Xlsx,
    /// PowerPoint: slide text and speaker notes.
    Pptx,
    /// PDF: the text layer.
    Pdf,
    /// A zip or tar archive read as one document (the service;
    /// [`archive::extract_combined`]).
    Archive,
}

impl Format {
    /// Lower-case name, as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::JsonLines => "jsonl",
            Format::Xml => "xml",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Pdf => "pdf",
            Format::Archive => "archive",
        }
    }

    /// The format named by a file name's extension or a media type
    /// (`report.docx`, `application/pdf`, `text/plain; charset=gbk`).
    pub fn from_hint(hint: &str) -> Result<Format, Unreadable> {
        let hint = hint.trim();
        // A media type: a registered top-level type, one `/`, parameters after `;`
        // (`application/vnd.openxmlformats-officedocument...` has dots, a path may too).
        let is_media_type = hint.contains(';')
            || hint.split_once('/').is_some_and(|(top, sub)| {
                ["text", "application", "image", "audio", "video", "font", "model", "multipart", "message"]
                    .contains(&top.to_ascii_lowercase().as_str())
                    && !sub.is_empty()
                    && !sub.contains(['/', '\\'])
            });
        if is_media_type {
            let mt = hint.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            return match mt.as_str() {
                "text/plain" => Ok(Format::Text),
                "text/markdown" => Ok(Format::Markdown),
                "text/csv" => Ok(Format::Csv),
                "application/json" => Ok(Format::Json),
                "application/jsonl" | "application/x-ndjson" | "application/jsonlines" => Ok(Format::JsonLines),
                "application/xml" | "text/xml" => Ok(Format::Xml),
                "text/html" | "application/xhtml+xml" => Ok(Format::Html),
                "application/pdf" => Ok(Format::Pdf),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Ok(Format::Docx),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Ok(Format::Xlsx),
                "application/vnd.openxmlformats-officedocument.presentationml.presentation" => Ok(Format::Pptx),
                _ => Err(Unreadable::Unsupported(format!("media type {}", clip(&mt, 80)))),
            };
        }
        let name = hint.rsplit(['/', '\\']).next().unwrap_or(hint);
        let Some((_, ext)) = name.rsplit_once('.').filter(|(stem, _)| !stem.is_empty()) else {
            return Err(Unreadable::Unsupported("no file extension".into()));
        };
        let ext = ext.to_ascii_lowercase();
        Ok(match ext.as_str() {
            "txt" | "text" | "log" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "csv" | "tsv" => Format::Csv,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::JsonLines,
            "xml" => Format::Xml,
            "html" | "htm" | "xhtml" => Format::Html,
            "docx" | "docm" => Format::Docx,
            "xlsx" | "xlsm" => Format::Xlsx,
            "pptx" | "pptm" => Format::Pptx,
            "pdf" => Format::Pdf,
            "doc" | "xls" | "ppt" | "wps" | "et" | "dps" => {
                return Err(Unreadable::Unsupported(format!(".{ext} (legacy binary Office format; save as .docx/.xlsx/.pptx)")));
            }
            "jpg" | "jpeg" | "png" | "tif" | "tiff" | "bmp" | "gif" | "webp" => {
                return Err(Unreadable::Unsupported(format!(".{ext} (image: no text layer, needs OCR and a human review)")));
            }
            _ => return Err(Unreadable::Unsupported(format!(".{}", clip(&ext, 20)))),
        })
    }

    /// The media-type `charset` parameter of a hint, if any.
    pub fn charset_of_hint(hint: &str) -> Option<&str> {
        hint.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches('"'))
        })
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Where a passage of the extracted text came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// A PDF page, 1-based.
    Page(u32),
    /// A spreadsheet cell.
    Sheet {
        /// Sheet name.
        name: String,
        /// Cell reference (`B7`).
        cell: String,
    },
    /// A presentation slide, 1-based.
    Slide(u32),
    /// A part of an OOXML package (`word/header1.xml`) or a JSON path.
    Part(String),
}

/// A byte range `[start, end)` of the extracted text and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First byte in the extracted text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Its source.
    pub location: Location,
}

/// The text of one document and its provenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// The text that is screened; every reported offset refers to it.
    pub text: String,
    /// The format read.
    pub format: Format,
    /// For text formats, the encoding decoded (`UTF-8`, `gb18030`, `Big5`, …).
    pub encoding: Option<&'static str>,
    /// Ordered, non-overlapping ranges with their source; empty for plain text,
    /// whose offsets are those of the decoded file.
    pub segments: Vec<Segment>,
    /// Text blocks of structured formats (each JSON leaf value, XML text node,
    /// HTML block element): each starts a line and has a header of its own
    /// ([`crate::detect::Layout::blocks`]).
    pub blocks: Vec<std::ops::Range<usize>>,
}

impl Extracted {
    /// The source of the passage that starts at byte `at` of [`Extracted::text`].
    pub fn location_at(&self, at: usize) -> Option<&Location> {
        let i = self.segments.partition_point(|s| s.end <= at);
        self.segments.get(i).filter(|s| s.start <= at).map(|s| &s.location)
    }

    /// The document's structure for detection: its page-header parts and text blocks.
    pub fn layout(&self) -> crate::detect::Layout {
        crate::detect::Layout { page_headers: self.page_headers(), blocks: self.blocks.clone() }
    }

    /// The byte ranges of [`Extracted::text`] that come from page-header parts
    /// ([`PAGE_HEADER_PARTS`]): the detector counts them as header (版头), where
    /// a classification mark stands.
    pub fn page_headers(&self) -> Vec<std::ops::Range<usize>> {
        self.segments
            .iter()
            .filter(|s| matches!(&s.location, Location::Part(p) if {
                // In an archive read as one document: `entry.docx!/word/header1.xml`.
                let p = p.rsplit("!/").next().unwrap_or(p);
                PAGE_HEADER_PARTS.iter().any(|h| p.starts_with(h))
            }))
            .map(|s| s.start..s.end)
            .collect()
    }
}

/// Why a document cannot be screened. The message never holds document text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// A type this build does not read.
    #[error("unsupported file type {0}")]
    Unsupported(String),
    /// Password-protected or encrypted.
    #[error("encrypted {0}; it cannot be screened without the password")]
    Encrypted(String),
    /// A PDF page (or every page) with images and no text layer.
    #[error("scanned PDF: {0} has no text layer (needs OCR and a human review)")]
    NoTextLayer(String),
    /// The container or markup is damaged.
    #[error("corrupt {format} file: {detail}")]
    Corrupt {
        /// The format expected.
        format: &'static str,
        /// What is wrong (positions and part names, never content).
        detail: String,
    },
    /// Bytes that are not valid in the encoding used.
    #[error("invalid {encoding} at byte {offset}")]
    Malformed {
        /// Encoding name.
        encoding: &'static str,
        /// Offset of the first bad byte in the input.
        offset: usize,
    },
    /// Not UTF-8, UTF-16, GB18030 or Big5, and no encoding was declared.
    #[error("text is not valid UTF-8 (first bad byte at {utf8_error_at}), GB18030, Big5 or UTF-16; it may be {suggestion}: pass --encoding to screen it")]
    Undetected {
        /// Offset of the first byte that is not valid UTF-8.
        utf8_error_at: usize,
        /// The detector's guess.
        suggestion: &'static str,
    },
    /// A declared encoding whose reading of the bytes cannot be the document
    /// (see [`text`]'s module doc): the declaration is wrong.
    #[error("declared encoding {encoding} is implausible for this document: {why}; declare the right one (or none, to detect it)")]
    Implausible {
        /// The declared encoding's WHATWG name.
        encoding: &'static str,
        /// Why (no document text).
        why: &'static str,
    },
    /// An encoding label nobody knows.
    #[error("unknown encoding {0:?}")]
    UnknownEncoding(String),
    /// NUL bytes or control characters: not text.
    #[error("binary content in a text file")]
    Binary,
    /// A size, count, depth or ratio limit.
    #[error("{0}")]
    Limit(String),
    /// Nothing to screen: no bytes, blank text, or only images.
    #[error("no text to screen: {0}; it needs a human review")]
    NoText(String),
    /// An entry of an archive read as one document.
    #[error("archive entry {path}: {reason}")]
    Entry {
        /// The entry's display path.
        path: String,
        /// Why it could not be read.
        reason: Box<Unreadable>,
    },
}

impl Unreadable {
    /// Shifts a malformed-byte offset by a prefix that was removed (a BOM).
    fn shift(self, by: usize) -> Unreadable {
        match self {
            Unreadable::Malformed { encoding, offset } => Unreadable::Malformed { encoding, offset: offset + by },
            e => e,
        }
    }

    fn corrupt(format: Format, detail: impl Into<String>) -> Unreadable {
        Unreadable::Corrupt { format: format.as_str(), detail: detail.into() }
    }
}

/// Package parts that are page headers: a docx's `word/header*.xml`, and a
/// pptx's slide, notes and handout masters (whose header and footer
/// placeholders print on every page).
pub const PAGE_HEADER_PARTS: &[&str] =
    &["word/header", "ppt/slideMasters/", "ppt/notesMasters/", "ppt/handoutMasters/"];

/// Resource limits for reading one input (a file, standard input or an archive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A file or standard input larger than this is not read (`--max-size`).
    pub max_file_bytes: u64,
    /// One archive entry or OOXML part, uncompressed.
    pub max_entry_bytes: u64,
    /// All entries of one top-level archive together, uncompressed.
    pub max_total_bytes: u64,
    /// Entries of one top-level archive (nested ones included) or one OOXML package.
    pub max_entries: u64,
    /// Archives inside archives: 1 means an archive may hold documents but no archive.
    pub max_depth: u32,
    /// Uncompressed / compressed size above which an entry is a suspected bomb
    /// (checked on entries over 1 MiB, and on the bytes actually inflated).
    pub max_ratio: u64,
    /// Extracted text, in bytes.
    pub max_text_bytes: usize,
    /// Bytes a PDF's compressed streams may decode to, per document: the
    /// budget is `max(64 MiB, 64 × the file's size)`, never above this
    /// (see the `pdf` module for how it is spent).
    pub max_decoded_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 1 << 30,
            max_entry_bytes: 256 << 20,
            max_total_bytes: 8 << 30,
            max_entries: 100_000,
            max_depth: 8,
            max_ratio: 200,
            max_text_bytes: crate::screen::MAX_DOCUMENT_BYTES,
            max_decoded_bytes: 1 << 30,
        }
    }
}

/// Reads one document.
///
/// - `hint`: a file name (its extension picks the format) or a media type,
///   which may carry a `charset` parameter.
/// - `declared_encoding`: an encoding label for text formats (`--encoding`);
///   it overrides detection and the document's own declaration, not a BOM.
///
/// ```
/// let e = mishen::ingest::extract("a.txt", None, "通知".as_bytes(), &Default::default()).unwrap();
/// assert_eq!(e.text, "通知");
/// ```
pub fn extract(hint: &str, declared_encoding: Option<&str>, bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Unreadable::Limit(format!(
            "document of {} bytes exceeds the limit of {} bytes",
            bytes.len(),
            limits.max_file_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(Unreadable::NoText("the document is empty (0 bytes)".into()));
    }
    let declared = declared_encoding.or_else(|| Format::charset_of_hint(hint));
    if let Some(kind) = archive::kind_of_hint(hint) {
        return archive::extract_combined(kind, declared, bytes, limits);
    }
    let format = Format::from_hint(hint)?;
    let e = catch_unwind(AssertUnwindSafe(|| extract_format(format, declared, bytes, limits)))
        .unwrap_or_else(|_| Err(Unreadable::corrupt(format, "the parser failed on this file (internal error caught)")))?;
    if e.text.trim().is_empty() {
        return Err(Unreadable::NoText("the document holds no text (blank, or images only)".into()));
    }
    if e.text.len() > limits.max_text_bytes {
        return Err(Unreadable::Limit(format!(
            "extracted text of {} bytes exceeds the limit of {} bytes",
            e.text.len(),
            limits.max_text_bytes
        )));
    }
    Ok(e)
}

fn extract_format(format: Format, declared: Option<&str>, bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let plain = |d: text::Decoded| Extracted { text: d.text, format, encoding: Some(d.encoding), segments: Vec::new(), blocks: Vec::new() };
    match format {
        Format::Text | Format::Markdown | Format::Csv => text::decode(bytes, declared).map(plain),
        Format::Json => markup::json(bytes, declared, limits),
        Format::JsonLines => markup::json_lines(bytes, declared, limits),
        Format::Xml => markup::xml(bytes, declared),
        Format::Html => html::extract(bytes, declared),
        Format::Docx => ooxml::docx(bytes, limits),
        Format::Xlsx => ooxml::xlsx(bytes, limits),
        Format::Pptx => ooxml::pptx(bytes, limits),
        Format::Pdf => pdf::extract(bytes, limits),
        Format::Archive => Err(Unreadable::Unsupported("an archive is not one format".into())),
    }
}

/// Appends `text` to `out` as one segment (when non-empty), separated from what
/// precedes it by a blank line.
fn push_segment(out: &mut String, segs: &mut Vec<Segment>, text: &str, location: Location) {
    let text = text.trim_end_matches(['\n', '\t', ' ']);
    if text.trim().is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    let start = out.len();
    out.push_str(text);
    segs.push(Segment { start, end: out.len(), location });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        assert_eq!(Format::from_hint("a/b/报告.DOCX").unwrap(), Format::Docx);
        assert_eq!(Format::from_hint("application/pdf").unwrap(), Format::Pdf);
        assert_eq!(
            Format::from_hint("application/vnd.openxmlformats-officedocument.wordprocessingml.document").unwrap(),
            Format::Docx
        );
        assert_eq!(Format::from_hint("a/b/c.xlsx").unwrap(), Format::Xlsx);
        assert_eq!(Format::from_hint("text/plain; charset=gbk").unwrap(), Format::Text);
        assert_eq!(Format::charset_of_hint("text/plain; charset=\"GBK\""), Some("GBK"));
        assert!(matches!(Format::from_hint("noext"), Err(Unreadable::Unsupported(_))));
        assert!(matches!(Format::from_hint(".bashrc"), Err(Unreadable::Unsupported(_))));
        assert!(Format::from_hint("x.doc").unwrap_err().to_string().contains("legacy"));
    }

    #[test]
    fn location_lookup() {
        let e = Extracted {
            text: "ab\n\ncd".into(),
            format: Format::Pdf,
            encoding: None,
            segments: vec![
                Segment { start: 0, end: 2, location: Location::Page(1) },
                Segment { start: 4, end: 6, location: Location::Page(2) },
            ],
            blocks: Vec::new(),
        };
        assert_eq!(e.location_at(1), Some(&Location::Page(1)));
        assert_eq!(e.location_at(3), None);
        assert_eq!(e.location_at(4), Some(&Location::Page(2)));
        assert_eq!(e.location_at(6), None);
    }

    #[test]
    fn size_limit() {
        let l = Limits { max_file_bytes: 3, ..Limits::default() };
        assert!(matches!(extract("a.txt", None, b"abcd", &l), Err(Unreadable::Limit(_))));
    }
}

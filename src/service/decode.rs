//! Request documents to text: `text` as is, `content` decoded per its media type
//! and declared encoding.
//!
//! - Text types (`text/plain`, markdown, csv): a byte-order mark wins over the
//!   declaration; without either, the content must be UTF-8. Malformed input is
//!   an error naming the byte offset, never replaced characters.
//! - Other types (html, json, xml, pdf, docx, xlsx, pptx) go through
//!   [`crate::ingest::extract`]. A document of such a type that cannot be read
//!   (encrypted, scanned, corrupt, over a limit) is [`Decoded::Unreadable`]: the
//!   caller withholds it and records why.


/// Media types read as plain text.
pub const TEXT_MEDIA_TYPES: &[&str] =
    &["text/plain", "text/markdown", "text/x-markdown", "text/csv", "text/tab-separated-values"];

/// Why a document could not be decoded (the gRPC layer maps it to INVALID_ARGUMENT).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// No document.
    #[error("empty document: set `content` or `text`")]
    Empty,
    /// A media type this server does not read.
    #[error("unsupported media type {} (this server reads {types}, text/html, application/json, application/xml, application/pdf and the docx, xlsx and pptx types)", crate::span::bounded(.0, 64), types = TEXT_MEDIA_TYPES.join(", "))]
    MediaType(String),
    /// An unknown encoding label.
    #[error("unknown encoding {} (use a WHATWG label such as utf-8, gb18030, gbk, big5, utf-16le)", crate::span::bounded(.0, 40))]
    Encoding(String),
    /// Decoded, but not text (NUL bytes, control characters).
    #[error("not a text document: {0}")]
    NotText(String),
    /// Bytes that are not valid in the encoding.
    #[error("invalid {encoding} at byte {offset}")]
    Malformed {
        /// Encoding name.
        encoding: &'static str,
        /// Offset of the first bad byte in `content`.
        offset: usize,
    },
}

/// A decoded request document.
#[derive(Debug)]
pub enum Decoded {
    /// Text.
    Text(String),
    /// Text extracted from a structured format, with its provenance.
    Extracted(crate::ingest::Extracted),
    /// A supported type that cannot be screened: why (no document text in it).
    Unreadable(String),
}

/// Decodes `content` by media type: strict text for text types, [`crate::ingest`]
/// for the others (`max_bytes` bounds the extracted text and any package part).
pub fn decode_document(content: &[u8], media_type: &str, encoding: &str, max_bytes: usize) -> Result<Decoded, DecodeError> {
    use crate::ingest::{self, Format, Unreadable};
    let ty = media_type_name(media_type);
    if ty.is_empty() || TEXT_MEDIA_TYPES.contains(&ty.as_str()) {
        return decode(content, media_type, encoding).map(|(t, _)| Decoded::Text(t));
    }
    match Format::from_hint(media_type) {
        Ok(_) => {}
        Err(_) => return Err(DecodeError::MediaType(ty)),
    }
    if content.is_empty() {
        return Err(DecodeError::Empty);
    }
    let limits = ingest::Limits {
        max_file_bytes: max_bytes as u64,
        max_text_bytes: max_bytes,
        ..ingest::Limits::default()
    };
    let declared = Some(encoding.trim()).filter(|e| !e.is_empty());
    match ingest::extract(media_type, declared, content, &limits) {
        Ok(e) => Ok(Decoded::Extracted(e)),
        Err(Unreadable::Unsupported(_)) => Err(DecodeError::MediaType(ty)),
        Err(Unreadable::UnknownEncoding(l)) => Err(DecodeError::Encoding(l)),
        Err(Unreadable::Malformed { encoding, offset }) => Err(DecodeError::Malformed { encoding, offset }),
        Err(e) => Ok(Decoded::Unreadable(e.to_string())),
    }
}

/// `text/plain` of `text/plain; charset=gbk`, lower-case.
fn media_type_name(mt: &str) -> String {
    mt.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Decodes `content` as a text media type (default `text/plain`) in `encoding`
/// (default UTF-8; a `charset` parameter of the media type counts as a
/// declaration), strictly, through [`crate::ingest::text::decode`]. Returns
/// the text and the name of the encoding used.
pub fn decode(content: &[u8], media_type: &str, encoding: &str) -> Result<(String, &'static str), DecodeError> {
    use crate::ingest::{Format, Unreadable, text};
    let ty = media_type_name(media_type);
    if !ty.is_empty() && !TEXT_MEDIA_TYPES.contains(&ty.as_str()) {
        return Err(DecodeError::MediaType(ty));
    }
    if content.is_empty() {
        return Err(DecodeError::Empty);
    }
    // The service never guesses: undeclared text is UTF-8 (a BOM still wins).
    let declared = Some(encoding.trim())
        .filter(|e| !e.is_empty())
        .or_else(|| Format::charset_of_hint(media_type))
        .unwrap_or("utf-8");
    match text::decode(content, Some(declared)) {
        Ok(d) => Ok((d.text, d.encoding)),
        Err(Unreadable::UnknownEncoding(l)) => Err(DecodeError::Encoding(l)),
        Err(Unreadable::Malformed { encoding, offset }) => Err(DecodeError::Malformed { encoding, offset }),
        Err(e) => Err(DecodeError::NotText(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_default_and_offsets() {
        assert_eq!(decode("张三".as_bytes(), "", "").unwrap().0, "张三");
        let mut b = "身份证".as_bytes().to_vec();
        b.push(0xff);
        assert_eq!(decode(&b, "text/plain", "").unwrap_err(), DecodeError::Malformed { encoding: "UTF-8", offset: 9 });
        assert_eq!(decode(b"", "", "").unwrap_err(), DecodeError::Empty);
        assert!(matches!(decode(b"x", "application/pdf", ""), Err(DecodeError::MediaType(_))));
        assert!(matches!(decode(b"x", "", "klingon"), Err(DecodeError::Encoding(_))));
    }

    #[test]
    fn declared_encodings_and_bom() {
        let (gbk, _, _) = encoding_rs::GBK.encode("联系电话：13800138000");
        assert_eq!(decode(&gbk, "text/plain; charset=GBK", "").unwrap().0, "联系电话：13800138000");
        assert_eq!(decode(&gbk, "", "gb18030").unwrap(), ("联系电话：13800138000".into(), "gb18030"));
        // A BOM wins over the declaration.
        let mut u16 = vec![0xff, 0xfe];
        for u in "王五".encode_utf16() {
            u16.extend(u.to_le_bytes());
        }
        assert_eq!(decode(&u16, "", "gbk").unwrap().0, "王五");
        // Malformed GBK: a lead byte followed by an invalid trail byte at offset 4.
        let bad = [b'a', b'b', b'c', b'd', 0x81, 0x20];
        assert_eq!(decode(&bad, "", "gbk").unwrap_err(), DecodeError::Malformed { encoding: "GBK", offset: 4 });
    }
}

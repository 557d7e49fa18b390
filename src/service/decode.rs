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

use encoding_rs::{Encoding, UTF_8};

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
    #[error("unsupported media type {0:?} (this server reads {types}, text/html, application/json, application/xml, application/pdf and the docx, xlsx and pptx types)", types = TEXT_MEDIA_TYPES.join(", "))]
    MediaType(String),
    /// An unknown encoding label.
    #[error("unknown encoding {0:?} (use a WHATWG label such as utf-8, gb18030, gbk, big5, utf-16le)")]
    Encoding(String),
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
    let (ty, _) = parse_media_type(media_type);
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

/// Splits `text/plain; charset=gbk` into the type and the charset parameter.
fn parse_media_type(mt: &str) -> (String, Option<String>) {
    let mut parts = mt.split(';');
    let ty = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_owned())
    });
    (ty, charset)
}

/// Decodes `content` as `media_type` (default `text/plain`) in `encoding`
/// (default UTF-8; a `charset` parameter of the media type counts as a
/// declaration). Returns the text and the name of the encoding used.
pub fn decode(content: &[u8], media_type: &str, encoding: &str) -> Result<(String, &'static str), DecodeError> {
    let (ty, charset) = parse_media_type(media_type);
    if !ty.is_empty() && !TEXT_MEDIA_TYPES.contains(&ty.as_str()) {
        return Err(DecodeError::MediaType(ty));
    }
    if content.is_empty() {
        return Err(DecodeError::Empty);
    }
    let declared = match (encoding.trim(), charset) {
        ("", None) => None,
        ("", Some(c)) => Some(c),
        (e, _) => Some(e.to_owned()),
    };
    let (enc, skip) = match Encoding::for_bom(content) {
        Some((e, n)) => (e, n),
        None => match declared {
            Some(l) => (Encoding::for_label(l.as_bytes()).ok_or(DecodeError::Encoding(l))?, 0),
            None => (UTF_8, 0),
        },
    };
    let body = &content[skip..];
    if enc == UTF_8 {
        return match std::str::from_utf8(body) {
            Ok(t) => Ok((t.to_owned(), enc.name())),
            Err(e) => Err(DecodeError::Malformed { encoding: enc.name(), offset: skip + e.valid_up_to() }),
        };
    }
    let mut dec = enc.new_decoder_without_bom_handling();
    let cap = dec
        .max_utf8_buffer_length_without_replacement(body.len())
        .unwrap_or(body.len().saturating_mul(3));
    let mut out = String::with_capacity(cap);
    let (res, read) = dec.decode_to_string_without_replacement(body, &mut out, true);
    match res {
        encoding_rs::DecoderResult::InputEmpty => Ok((out, enc.name())),
        encoding_rs::DecoderResult::Malformed(bad, after) => Err(DecodeError::Malformed {
            encoding: enc.name(),
            offset: skip + read.saturating_sub(usize::from(bad) + usize::from(after)),
        }),
        // The buffer was sized for the worst case.
        encoding_rs::DecoderResult::OutputFull => Err(DecodeError::Malformed { encoding: enc.name(), offset: skip + read }),
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

//! Request documents to text, with the CLI's ingest decision.
//!
//! Everything goes through [`crate::ingest::extract`], as a file does in
//! `mishen screen`: the same format choice (media type, else file name), the
//! same encoding decision (a BOM, a declaration checked for plausibility, the
//! document's own declaration, detection), archives read as one document, the
//! same limits. A document that cannot be read — unsupported type, empty,
//! malformed or implausible bytes, encrypted, scanned, corrupt, over a limit —
//! is [`Decoded::Unreadable`]: the caller withholds it and records why. Only a
//! request without a document or with an unknown encoding label is an error.


/// Why a request holds no document to read (the gRPC layer maps it to INVALID_ARGUMENT).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// No `content` and no `text`.
    #[error("no document: set `content` or `text`")]
    NoDocument,
    /// An unknown encoding label: a mistake in the request, not in the document.
    #[error("unknown encoding {} (use a WHATWG label such as utf-8, gb18030, gbk, big5, utf-16le)", crate::span::bounded(.0, 40))]
    Encoding(String),
}

/// A request document, read.
#[derive(Debug)]
pub enum Decoded {
    /// Its text with provenance (and the encoding it was decoded from).
    Extracted(crate::ingest::Extracted),
    /// It cannot be screened: why (no document text in it). It is withheld and recorded.
    Unreadable(String),
}

/// The hint [`crate::ingest::extract`] reads a request's `content` by: its
/// media type, else its file name, else `text/plain` (whose encoding is then
/// detected, as the CLI detects a `.txt` file's).
pub fn hint<'a>(media_type: &'a str, name: &'a str) -> &'a str {
    if !media_type.trim().is_empty() {
        media_type
    } else if !name.trim().is_empty() {
        name
    } else {
        "text/plain"
    }
}

/// Reads a request document with the CLI's ingest decision
/// ([`crate::ingest::extract`]): `content` by [`hint`] and the declared
/// `encoding` (none: a `charset` parameter, a BOM, the document's own
/// declaration, detection); `text` as UTF-8 text. `max_bytes` bounds the
/// document, its extracted text and every archive entry or package part.
pub fn decode_document(doc: Doc<'_>, media_type: &str, name: &str, encoding: &str, max_bytes: usize) -> Result<Decoded, DecodeError> {
    use crate::ingest::{self, Unreadable};
    let max = max_bytes as u64;
    let limits = ingest::Limits {
        max_file_bytes: max,
        max_text_bytes: max_bytes,
        max_entry_bytes: (max.saturating_mul(4)).min(ingest::Limits::default().max_entry_bytes),
        max_total_bytes: (max.saturating_mul(64)).min(ingest::Limits::default().max_total_bytes),
        ..ingest::Limits::default()
    };
    let declared = Some(encoding.trim()).filter(|e| !e.is_empty());
    let r = match doc {
        Doc::Content(b) => ingest::extract(hint(media_type, name), declared, b, &limits),
        // Already text: read as a UTF-8 text file is, with the same checks.
        Doc::Text(t) => ingest::extract("text/plain; charset=utf-8", None, t.as_bytes(), &limits),
        Doc::None => return Err(DecodeError::NoDocument),
    };
    match r {
        Ok(e) => Ok(Decoded::Extracted(e)),
        Err(Unreadable::UnknownEncoding(l)) => Err(DecodeError::Encoding(l)),
        Err(e) => Ok(Decoded::Unreadable(e.to_string())),
    }
}

/// The document of a request.
#[derive(Clone, Copy, Debug)]
pub enum Doc<'a> {
    /// `content`: bytes.
    Content(&'a [u8]),
    /// `text`.
    Text(&'a str),
    /// Neither was set.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(b: &[u8], mt: &str, enc: &str) -> Result<Decoded, DecodeError> {
        decode_document(Doc::Content(b), mt, "", enc, 1 << 20)
    }

    #[test]
    fn one_decision_with_the_cli() {
        let (gbk, _, _) = encoding_rs::GBK.encode("联系电话：13800138000，关于做好政府信息公开工作的通知");
        // Undeclared GBK is detected, as the CLI detects it.
        match read(&gbk, "", "").unwrap() {
            Decoded::Extracted(e) => assert_eq!(e.encoding, Some("gb18030")),
            d => panic!("{d:?}"),
        }
        // Unsupported, empty and malformed documents are unreadable, not errors.
        for (b, mt) in [(&b"\xff\xd8\xff"[..], "image/jpeg"), (b"", "text/plain"), (b"\xd0\xcf\x11\xe0", "application/msword")] {
            assert!(matches!(read(b, mt, ""), Ok(Decoded::Unreadable(_))), "{mt}");
        }
        let mut bad = "身份证号".as_bytes().to_vec();
        bad.extend([0xE4, 0xB8]);
        assert!(matches!(read(&bad, "", "utf-8"), Ok(Decoded::Unreadable(w)) if w.contains("invalid UTF-8 at byte 12")));
        assert_eq!(read(b"x", "", "klingon").unwrap_err(), DecodeError::Encoding("klingon".into()));
        assert_eq!(decode_document(Doc::None, "", "", "", 10).unwrap_err(), DecodeError::NoDocument);
        assert!(matches!(decode_document(Doc::Text(" \n"), "", "", "", 10), Ok(Decoded::Unreadable(_))));
        // A file name picks the format when no media type is given.
        assert_eq!(hint("", "a.docx"), "a.docx");
        assert_eq!(hint("application/pdf", "a.docx"), "application/pdf");
        assert_eq!(hint(" ", ""), "text/plain");
    }
}

//! Text decoding: bytes in some encoding → UTF-8, or a reason it cannot be done.
//!
//! The order, strongest evidence first:
//!
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) — unambiguous;
//! 2. a declared encoding: `--encoding`, the service's `declared_encoding`, a
//!    `charset` in a media type, an HTML `<meta charset>` or an XML declaration;
//! 3. valid UTF-8 (ASCII included) — unless it only holds characters below
//!    U+0800 from scripts a short GBK string turns into by accident;
//! 4. UTF-8 with a few broken sequences among many good ones: a damaged UTF-8
//!    file, reported with the offset of the first bad byte rather than decoded
//!    as some legacy encoding;
//! 5. UTF-16 without a BOM, recognized by its NUL bytes on one parity;
//! 6. detection: chardetng with the `cn` top-level-domain hint, among GB18030
//!    and Big5 only. Any other guess (windows-1252, Shift_JIS, …) is reported
//!    as undetected with the detector's suggestion: single-byte encodings decode
//!    anything, and screening mojibake would publish unreviewed text. The user
//!    can declare the encoding (`--encoding`).
//!
//! Short inputs are where detection guesses wrong (chardetng took a 28-byte Big5
//! string for GBK, decoding mojibake without an error; with the `cn` hint it
//! did so on long Big5 text too). So GB18030 and Big5 compete directly, before
//! the detector is asked (and on short inputs, below [`SHORT_INPUT_NON_ASCII`]
//! non-ASCII bytes, this is all there is):
//! both are decoded strictly, and the one whose double-byte characters fall in
//! its *common* repertoire (GB2312 punctuation and hanzi rows; Big5 punctuation
//! and level-1 hanzi) wins; a tie goes to GB18030, the encoding of mainland
//! government documents. Big5 bytes read as GBK land outside GB2312 (trail bytes
//! below 0xA1, lead bytes 0xA4–0xAF), so real Big5 text scores low as GBK.
//!
//! Decoding is always strict: a malformed sequence is never replaced by U+FFFD
//! (a reviewer must see what is published), it makes the document unreadable.
//!
//! A declaration is evidence, not proof. Decoding in a declared encoding is
//! checked for plausibility ([`plausible`]), because a wrong label turns a
//! classified document into gibberish that nothing matches (`publish`):
//!
//! - a declared UTF-16 for bytes that are valid UTF-8 with no NUL byte (UTF-16
//!   text holding any ASCII character has NULs);
//! - a declared non-UTF-8 encoding for bytes that are valid UTF-8 Chinese text
//!   (characters from U+0800 up) and that it reads differently;
//! - a reading in an encoding other than UTF-8 with control characters (C0
//!   other than tab, line feed, form feed and carriage return; C1), U+FFFD or
//!   noncharacters;
//! - a reading without a single CJK character in a single-byte encoding
//!   (`windows-1252`, `ISO-8859-x`, `KOI8`…) of bytes that are GB18030 or Big5
//!   Chinese text, or a GBK/GB18030 or Big5 reading whose characters fall
//!   outside its common repertoire while the other's fall inside.
//!
//! Such a document is [`Unreadable::Implausible`]: withheld, with the reason
//! and the encoding that was declared, never screened as gibberish.
//!
//! A document's own declaration (an HTML `<meta charset>`, an XML declaration)
//! is read as browsers and XML parsers read it ([`own_label`]): a UTF-16 label
//! in bytes that were readable as ASCII means UTF-8 (WHATWG "prescan": UTF-16
//! in a `<meta>` becomes UTF-8; libxml2: "Document labelled UTF-16 but has
//! UTF-8 content"), and `x-user-defined` means windows-1252.

use super::Unreadable;
use encoding_rs::{BIG5, DecoderResult, Encoding, GB18030, GBK, UTF_8, UTF_16BE, UTF_16LE};

/// The detector reads at most this many bytes.
const DETECTOR_PREFIX: usize = 256 << 10;

/// Below this many non-ASCII bytes an input is "short": see the module doc.
pub const SHORT_INPUT_NON_ASCII: usize = 256;

/// How the encoding was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A byte-order mark.
    Bom,
    /// Declared by the caller or the document.
    Declared,
    /// Valid UTF-8.
    Utf8,
    /// UTF-16 recognized by the parity of its NUL bytes.
    Utf16Nul,
    /// chardetng's guess.
    Detected,
    /// GB18030 and Big5 compared on a short input.
    ShortInput,
}

/// Decoded text and how it was decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The text (the BOM removed).
    pub text: String,
    /// The encoding's WHATWG name (`UTF-8`, `GBK`, `Big5`, `UTF-16LE`, …).
    pub encoding: &'static str,
    /// How it was chosen.
    pub method: Method,
}

/// Looks up an encoding label (`gbk`, `gb2312`, `GB18030`, `big5`, `utf-16le`, …).
pub fn encoding_for_label(label: &str) -> Result<&'static Encoding, Unreadable> {
    Encoding::for_label_no_replacement(label.trim().as_bytes())
        .ok_or_else(|| Unreadable::UnknownEncoding(label.chars().take(40).collect()))
}

/// Decodes `bytes`; `declared` is an encoding label that overrides detection
/// (a BOM still comes first).
pub fn decode(bytes: &[u8], declared: Option<&str>) -> Result<Decoded, Unreadable> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return strict(enc, &bytes[bom..], Method::Bom).map_err(|e| e.shift(bom));
    }
    if let Some(label) = declared {
        let enc = encoding_for_label(label)?;
        let d = strict(enc, bytes, Method::Declared)?;
        plausible(enc, bytes, &d.text)?;
        return Ok(d);
    }
    undeclared(bytes)
}

/// The encoding a document's own declaration (an HTML `<meta charset>`, an
/// XML declaration) stands for, as browsers and XML parsers take it: the
/// declaration was read as ASCII, so a UTF-16 label cannot be true and means
/// UTF-8; `x-user-defined` means windows-1252. An unknown label is `None`
/// (the document is then decoded as if undeclared).
pub fn own_label(label: &str) -> Option<&'static str> {
    let enc = Encoding::for_label_no_replacement(label.trim().as_bytes())?;
    Some(if enc == UTF_16LE || enc == UTF_16BE {
        "utf-8"
    } else if enc == encoding_rs::X_USER_DEFINED {
        "windows-1252"
    } else {
        enc.name()
    })
}

/// Checks that `text`, the strict decoding of `bytes` in the declared `enc`,
/// is plausible for the bytes (see the module doc).
pub fn plausible(enc: &'static Encoding, bytes: &[u8], text: &str) -> Result<(), Unreadable> {
    let wrong = |why: &'static str| Err(Unreadable::Implausible { encoding: enc.name(), why });
    if enc == UTF_8 {
        // Strict UTF-8 is its own evidence (and undeclared UTF-8 is read the same way).
        return Ok(());
    }
    let utf16 = enc == UTF_16LE || enc == UTF_16BE;
    let utf8 = std::str::from_utf8(bytes).ok();
    if utf16 {
        if utf8.is_some() && !bytes.contains(&0) && !bytes.is_empty() {
            return wrong("the bytes are valid UTF-8 without a NUL byte, which UTF-16 text holding any ASCII character has");
        }
        // ASCII in UTF-16LE puts its NUL bytes on odd offsets, in UTF-16BE on even ones.
        let even = bytes.iter().step_by(2).filter(|b| **b == 0).count();
        let odd = bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let (right, other) = if enc == UTF_16LE { (odd, even) } else { (even, odd) };
        if other >= 4 && other >= 4 * right {
            return wrong("its NUL bytes stand where the other byte order puts them");
        }
    }
    if let Some(utf8) = utf8
        && utf8 != text
        && utf8.chars().any(|c| c as u32 >= 0x800)
        && !utf8.contains('\0')
    {
        return wrong("the bytes are valid UTF-8 Chinese text, which this encoding reads as other characters");
    }
    let controls = text.chars().any(|c| {
        let u = c as u32;
        matches!(u, 0..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F..=0x9F | 0xFFFD | 0xFDD0..=0xFDEF) || (u & 0xFFFE) == 0xFFFE
    });
    if controls {
        // UTF-16 read from bytes that are not: a wrong byte order reads `\n` as U+0A00, and so on.
        return wrong(if utf16 {
            "the decoded text holds control characters, U+FFFD or noncharacters (is the byte order right?)"
        } else {
            "the decoded text holds control characters, U+FFFD or noncharacters"
        });
    }
    if enc.is_single_byte() && !text.chars().any(is_cjk) && cjk_competition(bytes).is_some() {
        return wrong("the bytes are GB18030 or Big5 Chinese text, which this single-byte encoding reads as Latin or other letters");
    }
    if enc == GBK || enc == GB18030 || enc == BIG5 {
        let (own, other): (fn(u8, u8) -> bool, fn(u8, u8) -> bool) =
            if enc == BIG5 { (big5_common, gb2312_common) } else { (gb2312_common, big5_common) };
        let n = bytes.iter().filter(|b| **b >= 0x80).count();
        // GBK text read as Big5 keeps about 0.65 of its characters common, Big5
        // as GBK about 0.25; either encoding's own text scores near 1.
        let (own, other) = (common_share(bytes, own), common_share(bytes, other));
        if n >= 2 * 16 && other >= 0.9 && own <= other - 0.25 {
            return wrong("its characters fall outside the encoding's common repertoire, where another Chinese encoding's fall inside");
        }
    }
    Ok(())
}

/// A CJK character: ideographs, kana, hangul, CJK punctuation and full-width forms.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Decodes `bytes` that carry no declaration of their own (steps 3–6).
fn undeclared(bytes: &[u8]) -> Result<Decoded, Unreadable> {
    let bad = match std::str::from_utf8(bytes) {
        Ok(t) => {
            if t.contains('\0') {
                if let Some(d) = utf16_by_nuls(bytes) {
                    return Ok(d);
                }
                return Err(Unreadable::Binary);
            }
            if let Some(d) = utf8_is_probably_cjk(t).then(|| cjk_competition(bytes)).flatten() {
                return Ok(d);
            }
            return Ok(Decoded { text: t.to_owned(), encoding: UTF_8.name(), method: Method::Utf8 });
        }
        Err(e) => e.valid_up_to(),
    };
    if looks_like_damaged_utf8(bytes) {
        return Err(Unreadable::Malformed { encoding: "UTF-8", offset: bad });
    }
    if bytes.contains(&0) {
        return utf16_by_nuls(bytes).ok_or(Unreadable::Binary);
    }
    let non_ascii = bytes.iter().filter(|b| **b >= 0x80).count();
    // GB18030 against Big5 first: it settles nearly every Chinese document,
    // short or long, and costs two strict decodes (chardetng is far slower, and
    // with the `cn` hint it took long Big5 text for GBK, decoding it "cleanly"
    // into private-use characters).
    if let Some(d) = cjk_competition(bytes) {
        return Ok(if non_ascii < SHORT_INPUT_NON_ASCII { d } else { Decoded { method: Method::Detected, ..d } });
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(&bytes[..bytes.len().min(DETECTOR_PREFIX)], true);
    let guess = det.guess(Some(b"cn"), chardetng::Utf8Detection::Deny);
    if guess != GBK && guess != BIG5 {
        // A Chinese screener does not guess Latin-1 or Shift_JIS: decoding with
        // them always "succeeds" and screens mojibake. The user can say so.
        return Err(Unreadable::Undetected { utf8_error_at: bad, suggestion: guess.name() });
    }
    let guess = if guess == GBK { GB18030 } else { guess };
    match strict(guess, bytes, Method::Detected) {
        Ok(d) => Ok(d),
        Err(first) => {
            // The guess fails: a clean CJK decoding still wins over giving up.
            for enc in [GB18030, BIG5].into_iter().filter(|e| *e != guess) {
                if let Ok(d) = strict(enc, bytes, Method::Detected) {
                    return Ok(d);
                }
            }
            Err(first)
        }
    }
}

/// A short GB18030 string can be valid UTF-8 by accident: 通知 (CD A8 D6 AA)
/// reads as U+0368 U+05AA. Valid UTF-8 with no character from U+0800 up (where
/// CJK lives) and with combining marks, IPA, Armenian, Hebrew, Arabic, Syriac,
/// Thaana or NKo is tried as GB18030/Big5 too. Latin, Greek and Cyrillic text
/// is left as UTF-8.
fn utf8_is_probably_cjk(t: &str) -> bool {
    let mut odd = false;
    for c in t.chars() {
        match c as u32 {
            0x800.. => return false,
            0x250..=0x36F | 0x530..=0x7FF => odd = true,
            _ => {}
        }
    }
    odd
}

/// Decodes without replacement; a malformed sequence gives its byte offset.
fn strict(enc: &'static Encoding, bytes: &[u8], method: Method) -> Result<Decoded, Unreadable> {
    let mut dec = enc.new_decoder_without_bom_handling();
    let cap = dec
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(cap);
    let mut at = 0;
    loop {
        let (res, read) = dec.decode_to_string_without_replacement(&bytes[at..], &mut text, true);
        at += read;
        match res {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => text.reserve(bytes.len() - at + 16),
            DecoderResult::Malformed(len, after) => {
                let offset = at - after as usize - len as usize;
                return Err(Unreadable::Malformed { encoding: display_name(enc), offset });
            }
        }
    }
    let encoding = display_name(enc);
    if enc != UTF_16LE && enc != UTF_16BE && text.contains('\0') {
        return Err(Unreadable::Binary);
    }
    Ok(Decoded { text, encoding, method })
}

/// GB18030's decoder reads GBK too; report what the document most likely is.
fn display_name(enc: &'static Encoding) -> &'static str {
    enc.name()
}

/// Many good multi-byte UTF-8 characters and a few bad sequences: damaged UTF-8.
/// GBK or Big5 read as UTF-8 fail on nearly every character instead.
fn looks_like_damaged_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    good >= 4 && good >= 4 * bad
}

/// UTF-16 without a BOM: NUL bytes (the high byte of ASCII characters) on one parity.
fn utf16_by_nuls(bytes: &[u8]) -> Option<Decoded> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let even = bytes.iter().step_by(2).filter(|b| **b == 0).count();
    let odd = bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    // ASCII in UTF-16LE puts NULs on odd offsets; a CJK character such as
    // U+5F00 can put one on the other parity, so only a clear majority counts.
    let enc = if odd > 0 && odd >= 4 * even {
        UTF_16LE
    } else if even > 0 && even >= 4 * odd {
        UTF_16BE
    } else {
        return None;
    };
    let d = strict(enc, bytes, Method::Utf16Nul).ok()?;
    // Controls other than whitespace mean binary data, not text.
    let controls = d.text.chars().filter(|c| c.is_control() && !c.is_whitespace()).count();
    (controls == 0).then_some(d)
}

/// GB18030 against Big5 (see the module doc).
fn cjk_competition(bytes: &[u8]) -> Option<Decoded> {
    let gb = strict(GB18030, bytes, Method::ShortInput).ok();
    let big5 = strict(BIG5, bytes, Method::ShortInput).ok();
    let gb_share = gb.as_ref().map(|_| common_share(bytes, gb2312_common));
    let big5_share = big5.as_ref().map(|_| common_share(bytes, big5_common));
    let (d, share) = match (gb, big5) {
        (Some(g), Some(b)) => {
            if big5_share > gb_share { (b, big5_share) } else { (g, gb_share) }
        }
        (Some(g), None) => (g, gb_share),
        (None, Some(b)) => (b, big5_share),
        (None, None) => return None,
    };
    // Latin text in windows-1252 can decode as a few rare CJK characters: only a
    // decoding into the common repertoire is trusted over the detector.
    (share? >= 0.5).then_some(d)
}

/// Share of double-byte characters (lead ≥ 0x81) for which `common` holds.
fn common_share(bytes: &[u8], common: fn(u8, u8) -> bool) -> f64 {
    let (mut all, mut hits) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let t = bytes.get(i + 1).copied().unwrap_or(0);
        all += 1;
        if (0x30..=0x39).contains(&t) {
            i += 4; // a GB18030 four-byte sequence: never common
            continue;
        }
        hits += usize::from(common(b, t));
        i += 2;
    }
    if all == 0 { 0.0 } else { hits as f64 / all as f64 }
}

/// GB2312 punctuation/full-width rows (0xA1–0xA3) and hanzi rows (0xB0–0xF7).
fn gb2312_common(lead: u8, trail: u8) -> bool {
    ((0xA1..=0xA3).contains(&lead) || (0xB0..=0xF7).contains(&lead)) && (0xA1..=0xFE).contains(&trail)
}

/// Big5 punctuation (0xA1–0xA3) and level-1 hanzi (0xA4–0xC6).
fn big5_common(lead: u8, trail: u8) -> bool {
    (0xA1..=0xC6).contains(&lead) && ((0x40..=0x7E).contains(&trail) || (0xA1..=0xFE).contains(&trail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: &'static Encoding, s: &str) -> Vec<u8> {
        let (b, _, bad) = e.encode(s);
        assert!(!bad);
        b.into_owned()
    }

    const ZH: &str = "关于做好政府信息公开工作的通知，联系电话：13912345678。";
    const TW: &str = "關於做好政府資訊公開工作的通知，聯絡電話：13912345678。";

    #[test]
    fn bom_comes_first() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice(ZH.as_bytes());
        let d = decode(&b, Some("gbk")).unwrap();
        assert_eq!((d.text.as_str(), d.encoding, d.method), (ZH, "UTF-8", Method::Bom));
        for (bom, e) in [([0xFF, 0xFE], UTF_16LE), ([0xFE, 0xFF], UTF_16BE)] {
            let mut b = bom.to_vec();
            for u in ZH.encode_utf16() {
                let x = if e == UTF_16LE { u.to_le_bytes() } else { u.to_be_bytes() };
                b.extend_from_slice(&x);
            }
            let d = decode(&b, None).unwrap();
            assert_eq!(d.text, ZH);
            assert_eq!(d.encoding, e.name());
        }
    }

    #[test]
    fn utf16_without_bom_by_nul_parity() {
        let s = "Report 2024: 公开 13912345678\n";
        let le: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode(&le, None).unwrap().encoding, "UTF-16LE");
        assert_eq!(decode(&be, None).unwrap().text, s);
    }

    #[test]
    fn gbk_and_big5_long_and_short() {
        for s in [ZH, &ZH.repeat(20)] {
            let d = decode(&enc(GBK, s), None).unwrap();
            assert_eq!(d.text, s);
            assert_eq!(d.encoding, "gb18030");
        }
        for s in [TW, &TW.repeat(20), "聯絡電話", "機密文件請勿外傳"] {
            let d = decode(&enc(BIG5, s), None).unwrap();
            assert_eq!(d.text, s, "{:?}", d.method);
            assert_eq!(d.encoding, "Big5");
        }
        for s in ["通知", "申请人张三", "联系电话"] {
            assert_eq!(decode(&enc(GBK, s), None).unwrap().text, s);
        }
    }

    #[test]
    fn declared_overrides_detection_and_is_strict() {
        let b = enc(BIG5, TW);
        assert_eq!(decode(&b, Some("big5")).unwrap().method, Method::Declared);
        // The same bytes declared as UTF-8 are malformed at byte 0.
        let e = decode(&b, Some("utf-8")).unwrap_err();
        assert_eq!(e, Unreadable::Malformed { encoding: "UTF-8", offset: 0 });
        assert!(matches!(decode(b"x", Some("no-such")), Err(Unreadable::UnknownEncoding(_))));
    }

    #[test]
    fn damaged_utf8_names_the_offset() {
        let mut b = "正常文字".as_bytes().to_vec();
        b.extend_from_slice(b"\xff\xfe");
        b.extend_from_slice("，联系电话13912345678。".as_bytes());
        assert_eq!(decode(&b, None).unwrap_err(), Unreadable::Malformed { encoding: "UTF-8", offset: 12 });
    }

    #[test]
    fn binary_is_not_text() {
        assert_eq!(decode(&[0, 1, 2, 3, 255, 254, 0, 9], None).unwrap_err(), Unreadable::Binary);
        assert_eq!(decode(b"abc\0\0\0def", None).unwrap_err(), Unreadable::Binary);
    }

    #[test]
    fn other_encodings_must_be_declared() {
        let b = enc(encoding_rs::WINDOWS_1252, "café résumé naïve");
        let e = decode(&b, None).unwrap_err();
        assert!(matches!(e, Unreadable::Undetected { utf8_error_at: 3, .. }), "{e:?}");
        assert!(e.to_string().contains("--encoding"), "{e}");
        assert_eq!(decode(&b, Some("windows-1252")).unwrap().text, "café résumé naïve");
        let mut bad = "文".as_bytes().to_vec();
        bad.extend_from_slice(b"\xff\xfe");
        assert!(decode(&bad, None).is_err());
    }

    #[test]
    fn a_wrong_declaration_is_implausible_not_gibberish() {
        let marked = "机密★5年\n关于做好政府信息公开工作的通知，联系电话：13912345678。";
        let implausible = |b: &[u8], l: &str| matches!(decode(b, Some(l)), Err(Unreadable::Implausible { .. }));
        // UTF-8 bytes declared UTF-16 (either order), GBK, Big5 or windows-1252.
        for l in ["utf-16le", "utf-16be", "gbk", "gb18030", "big5", "windows-1252", "iso-8859-2", "koi8-r"] {
            if let Ok(d) = decode(marked.as_bytes(), Some(l)) {
                panic!("{l} read UTF-8 as {:?}", d.text.chars().take(8).collect::<String>());
            }
            assert!(implausible(marked.as_bytes(), l) || matches!(decode(marked.as_bytes(), Some(l)), Err(Unreadable::Malformed { .. })), "{l}");
        }
        // GBK bytes declared windows-1252 or Big5; Big5 bytes declared GBK.
        let gbk = enc(GBK, &marked.repeat(3));
        assert!(implausible(&gbk, "windows-1252"));
        assert!(implausible(&gbk, "big5") || decode(&gbk, Some("big5")).is_err());
        let big5 = enc(BIG5, &TW.repeat(3));
        assert!(implausible(&big5, "gbk"), "{:?}", decode(&big5, Some("gbk")));
        // The right declarations still read, ASCII reads in any ASCII-compatible
        // label, and a short GBK string that happens to be valid UTF-8 (通知) is
        // not UTF-8 Chinese text, so its GBK declaration stands.
        assert_eq!(decode(&gbk, Some("gbk")).unwrap().text, marked.repeat(3));
        assert_eq!(decode(&big5, Some("big5")).unwrap().text, TW.repeat(3));
        assert_eq!(decode(marked.as_bytes(), Some("utf-8")).unwrap().text, marked);
        assert_eq!(decode(b"Report 2024", Some("windows-1252")).unwrap().text, "Report 2024");
        assert_eq!(decode(&enc(GBK, "通知"), Some("gbk")).unwrap().text, "通知");
        let le: Vec<u8> = marked.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode(&le, Some("utf-16le")).unwrap().text, marked);
        // The wrong byte order reads `\n` and ASCII as controls and rare code points.
        assert!(
            matches!(decode(&le, Some("utf-16be")), Err(Unreadable::Implausible { .. } | Unreadable::Malformed { .. })),
            "{:?}",
            decode(&le, Some("utf-16be"))
        );
        let ascii_le: Vec<u8> = "Report 2024\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert!(implausible(&ascii_le, "utf-16be"), "{:?}", decode(&ascii_le, Some("utf-16be")));
        assert_eq!(
            decode(&enc(encoding_rs::WINDOWS_1252, "café résumé"), Some("windows-1252")).unwrap().text,
            "café résumé"
        );
    }

    #[test]
    fn own_labels_as_browsers_read_them() {
        assert_eq!(own_label("UTF-16LE"), Some("utf-8"));
        assert_eq!(own_label("utf-16"), Some("utf-8"));
        assert_eq!(own_label("x-user-defined"), Some("windows-1252"));
        assert_eq!(own_label("gb2312"), Some("GBK"));
        assert_eq!(own_label("no-such"), None);
    }
}

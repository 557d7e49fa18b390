//! RFC 8785 bytes of a [`Record`] written directly, without a `serde_json::Value`.
//!
//! The writer's hot path ([`Record::sign_canonical`]): every object's keys are
//! written in sorted order (all keys are ASCII, so byte order is the UTF-16
//! order RFC 8785 asks for), strings are escaped as RFC 8785 escapes them
//! (`\"`, `\\`, `\b\t\n\f\r`, other controls as lower-case `\u00xx`, nothing
//! else), and integers up to 2^53 are written in decimal, which is how RFC 8785
//! writes them. A larger integer makes [`record`] return `None`: RFC 8785
//! writes it as a double, and the caller falls back to the reference
//! canonicalizer. Every struct is destructured exhaustively, so a new field
//! does not compile until it is written here; tests (and every record signed
//! in a debug build) compare the bytes with serde_json_canonicalizer.

use super::record::{
    AddedFinding, Decision, DocumentInfo, Fingerprint, Marking, ReasonEntry, Record, ReviewBody, RotationBody,
    RulesBody, ScreeningBody,
};
use super::seal::SealedTitle;

/// Largest integer an IEEE double holds exactly (RFC 8785 writes numbers as doubles).
const MAX_EXACT: u64 = 1 << 53;

/// The canonical bytes of `r` appended to `out`, and the offset in `out` right
/// after the `seq` member, where `,"sig":"…"` belongs (the keys after it are
/// `time` and `type`). `r.sig` is written if set. None if a number is beyond
/// 2^53 (then `out` holds a partial record).
pub(crate) fn record(r: &Record, out: &mut Vec<u8>) -> Option<usize> {
    let Record { format, kind, id, seq, time, origin, actor, prev, screening, review, rotation, rules, key_id, sig } = r;
    let mut o = Obj::open(out);
    o.str("actor", actor);
    o.str("format", format);
    o.str("id", id);
    o.str("key_id", key_id);
    o.str("origin", origin);
    o.str("prev", prev);
    if let Some(b) = review {
        o.key("review");
        review_body(b, o.out)?;
    }
    if let Some(b) = rotation {
        o.key("rotation");
        rotation_body(b, o.out);
    }
    if let Some(b) = rules {
        o.key("rules");
        rules_body(b, o.out)?;
    }
    if let Some(b) = screening {
        o.key("screening");
        screening_body(b, o.out)?;
    }
    o.uint("seq", *seq)?;
    let sig_at = o.out.len();
    if let Some(s) = sig {
        o.str("sig", s);
    }
    o.str("time", time);
    o.str("type", kind.as_str());
    o.close();
    Some(sig_at)
}

/// The length of `b`'s canonical bytes (as written inside a record); None if
/// a number is beyond 2^53.
pub(crate) fn screening_body_len(b: &ScreeningBody) -> Option<usize> {
    let mut out = Vec::with_capacity(256 + b.findings.len() * 192);
    screening_body(b, &mut out)?;
    Some(out.len())
}

fn screening_body(b: &ScreeningBody, out: &mut Vec<u8>) -> Option<()> {
    let ScreeningBody { document, verdict, reasons, findings, rules_sha256, engine, categories, partial, response_truncated } = b;
    let mut o = Obj::open(out);
    o.strs_unless_empty("categories", categories)?;
    o.key("document");
    document_info(document, o.out)?;
    o.str("engine", engine);
    o.key("findings");
    array(o.out, findings, fingerprint)?;
    if *partial {
        o.key("partial");
        o.out.extend_from_slice(b"true");
    }
    o.key("reasons");
    array(o.out, reasons, |r, out| {
        reason(r, out);
        Some(())
    })?;
    if *response_truncated {
        o.key("response_truncated");
        o.out.extend_from_slice(b"true");
    }
    o.str("rules_sha256", rules_sha256);
    o.str("verdict", verdict);
    o.close();
    Some(())
}

fn document_info(d: &DocumentInfo, out: &mut Vec<u8>) -> Option<()> {
    let DocumentInfo { title, title_sealed, doc_number, copy_number, document_id, marking, keywords, content_sha256, bytes, chars } = d;
    let mut o = Obj::open(out);
    o.uint("bytes", *bytes)?;
    o.uint("chars", *chars)?;
    o.str("content_sha256", content_sha256);
    if let Some(n) = copy_number {
        o.str("copy_number", n);
    }
    if let Some(n) = doc_number {
        o.str("doc_number", n);
    }
    if let Some(i) = document_id {
        o.str("document_id", i);
    }
    o.strs_unless_empty("keywords", keywords)?;
    if let Some(m) = marking {
        let Marking { level, period } = m;
        o.key("marking");
        let mut m = Obj::open(o.out);
        m.str("level", level);
        m.str("period", period);
        m.close();
    }
    if let Some(t) = title {
        o.str("title", t);
    }
    if let Some(t) = title_sealed {
        let SealedTitle { alg, key_id, nonce, ciphertext, hmac } = t;
        o.key("title_sealed");
        let mut s = Obj::open(o.out);
        s.str("alg", alg);
        s.str("ciphertext", ciphertext);
        s.str("hmac", hmac);
        s.str("key_id", key_id);
        s.str("nonce", nonce);
        s.close();
    }
    o.close();
    Some(())
}

fn reason(r: &ReasonEntry, out: &mut Vec<u8>) {
    let ReasonEntry { category, action, basis, summary } = r;
    let mut o = Obj::open(out);
    o.str("action", action);
    o.str("basis", basis);
    o.str("category", category);
    o.str("summary", summary);
    o.close();
}

fn fingerprint(f: &Fingerprint, out: &mut Vec<u8>) -> Option<()> {
    let Fingerprint { rule, kind, action, start, end, confidence_permille, value_hmac } = f;
    let mut o = Obj::open(out);
    o.str("action", action);
    o.uint("confidence_permille", *confidence_permille)?;
    o.uint("end", *end)?;
    o.str("kind", kind);
    o.str("rule", rule);
    o.uint("start", *start)?;
    o.str("value_hmac", value_hmac);
    o.close();
    Some(())
}

fn review_body(b: &ReviewBody, out: &mut Vec<u8>) -> Option<()> {
    let ReviewBody { ref_id, ref_seq, ref_hash, decision, verdict, reviewer, role, comment, added } = b;
    let mut o = Obj::open(out);
    if !added.is_empty() {
        o.key("added");
        array(o.out, added, added_finding)?;
    }
    if let Some(c) = comment {
        o.str("comment", c);
    }
    o.str(
        "decision",
        match decision {
            Decision::Confirm => "confirm",
            Decision::Dismiss => "dismiss",
            Decision::Override => "override",
        },
    );
    o.str("ref_hash", ref_hash);
    o.str("ref_id", ref_id);
    o.uint("ref_seq", *ref_seq)?;
    o.str("reviewer", reviewer);
    o.str("role", role);
    o.str("verdict", verdict);
    o.close();
    Some(())
}

fn added_finding(a: &AddedFinding, out: &mut Vec<u8>) -> Option<()> {
    let AddedFinding { kind, start, end } = a;
    let mut o = Obj::open(out);
    o.uint("end", *end)?;
    o.str("kind", kind);
    o.uint("start", *start)?;
    o.close();
    Some(())
}

fn rotation_body(b: &RotationBody, out: &mut Vec<u8>) {
    let RotationBody { new_key_id, new_public_key } = b;
    let mut o = Obj::open(out);
    o.str("new_key_id", new_key_id);
    o.str("new_public_key", new_public_key);
    o.close();
}

fn rules_body(b: &RulesBody, out: &mut Vec<u8>) -> Option<()> {
    let RulesBody { previous_rules_sha256, rules_sha256, rules } = b;
    let mut o = Obj::open(out);
    o.str("previous_rules_sha256", previous_rules_sha256);
    o.uint("rules", *rules)?;
    o.str("rules_sha256", rules_sha256);
    o.close();
    Some(())
}

fn array<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&T, &mut Vec<u8>) -> Option<()>) -> Option<()> {
    out.push(b'[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(it, out)?;
    }
    out.push(b']');
    Some(())
}

/// An object being written; members must come in sorted key order.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    #[cfg(debug_assertions)]
    last: &'static str,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj {
            out,
            first: true,
            #[cfg(debug_assertions)]
            last: "",
        }
    }

    /// `,"k":` (keys are ASCII without characters that need escaping).
    fn key(&mut self, k: &'static str) {
        #[cfg(debug_assertions)]
        {
            debug_assert!(self.first || self.last < k, "key {k:?} written after {:?}", self.last);
            self.last = k;
        }
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, k: &'static str, v: &str) {
        self.key(k);
        string(self.out, v);
    }

    /// An array of strings, left out when empty (`skip_serializing_if = "Vec::is_empty"`).
    fn strs_unless_empty(&mut self, k: &'static str, v: &[String]) -> Option<()> {
        if v.is_empty() {
            return Some(());
        }
        self.key(k);
        array(self.out, v, |s, out| {
            string(out, s);
            Some(())
        })
    }

    fn uint(&mut self, k: &'static str, v: u64) -> Option<()> {
        if v > MAX_EXACT {
            return None;
        }
        self.key(k);
        let mut b = [0u8; 20];
        let mut i = b.len();
        let mut n = v;
        loop {
            i -= 1;
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&b[i..]);
        Some(())
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string as RFC 8785 writes it.
fn string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => &[b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]],
            _ => continue,
        };
        out.extend_from_slice(&b[run..i]);
        out.extend_from_slice(esc);
        run = i + 1;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(s: &str) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(&s).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_rfc_8785_escapes_them() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("汉字■\u{2028}\u{2029}\u{fffd}😀\u{10ffff}\u{80}\u{9f}");
        for s in [all.as_str(), "", "plain", "\"", "\\", "a\u{0}b", "\u{1f}\u{7f}"] {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(out, reference(s), "{s:?}");
        }
    }

    #[test]
    fn integers_up_to_2_pow_53() {
        let mut out = Vec::new();
        let mut o = Obj::open(&mut out);
        assert!(o.uint("a", 0).is_some());
        assert!(o.uint("b", 9).is_some());
        assert!(o.uint("c", 1 << 53).is_some());
        assert!(o.uint("d", (1 << 53) + 1).is_none());
        o.close();
        assert_eq!(out, br#"{"a":0,"b":9,"c":9007199254740992}"#);
    }
}

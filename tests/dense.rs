//! Finding-dense documents (a roster of phones, resident IDs and names): every
//! line's value is found, redaction keeps the length and masks every value, and
//! the JSON Lines record has one finding per value with its line. Correctness
//! only: the time these take is the `finding_dense` bench's business.

use mishen::report::jsonl::document_record;
use mishen::{Kind, Screener};
use std::sync::LazyLock;

static SCREENER: LazyLock<Screener> = LazyLock::new(|| Screener::embedded().expect("embedded packs compile"));

use crate::roster::roster;

#[test]
fn a_200k_roster_is_found_and_redacted_whole() {
    let (text, [phones, ids, names]) = roster(200 * 1024);
    let s = SCREENER.screen(&text);
    let count = |k: Kind| s.findings.iter().filter(|f| f.kind == k).count();
    assert_eq!(count(Kind::Phone), phones);
    assert_eq!(count(Kind::ResidentId), ids);
    assert_eq!(count(Kind::PersonName), names);
    assert_eq!(s.findings.len(), phones + ids + names);
    assert!(s.findings.windows(2).all(|w| w[0].span.end <= w[1].span.start), "sorted, not overlapping");

    let red = SCREENER.redact(&text, &s);
    assert_eq!(red.chars().count(), text.chars().count());
    assert_eq!(red.lines().count(), text.lines().count());
    for (a, b) in text.lines().zip(red.lines()) {
        assert_eq!(a.chars().count(), b.chars().count(), "{a:?} -> {b:?}");
    }
    assert!(!red.chars().any(|c| c.is_ascii_digit()), "a digit of a value left unmasked");
    for n in ["王小明", "李华", "张伟", "刘芳", "陈静", "杨洋", "赵磊", "黄丽"] {
        assert!(!red.contains(n), "{n} left unmasked");
    }

    let mask = SCREENER.pack().policy.mask;
    let rec = document_record("roster.txt", Some(&text), &s, SCREENER.rules_sha256(), mask);
    assert_eq!(rec.findings.len(), s.findings.len());
    // Lines and character offsets counted independently, in one pass.
    let (mut at, mut line, mut chars, mut line_chars) = (0, 1, 0, 0);
    for (r, f) in rec.findings.iter().zip(&s.findings) {
        for c in text[at..f.span.start].chars() {
            chars += 1;
            if c == '\n' {
                (line, line_chars) = (line + 1, chars);
            }
        }
        at = f.span.start;
        assert_eq!((r.line, r.start, r.column), (line, chars, chars - line_chars + 1));
        assert_eq!(r.end - r.start, text[f.span.start..f.span.end].chars().count());
        assert!(!r.excerpt.chars().any(|c| c.is_ascii_digit()), "{:?}", r.excerpt);
    }
}

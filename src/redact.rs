//! Length-preserving redaction through the offset map.
//!
//! Every redacted character becomes exactly one mask character (default `■`),
//! so the output has the same number of characters as the input and every
//! offset a reviewer sees stays valid. Every character of a value is masked,
//! spaces included (only line breaks stay); partial masks (`张■■`) are configured
//! per kind in the policy.

use crate::detect::Finding;
use crate::rules::Policy;
use crate::rules::model::{Action, PartialMask};

/// Returns `text` with every finding whose action is `redact` masked.
pub fn redact(text: &str, findings: &[Finding], policy: &Policy) -> String {
    mask_where(
        text,
        findings,
        policy.mask,
        |f| f.action == Action::Redact,
        |f| policy.partial_mask(f.kind),
    )
}

/// Masks every sensitive value (any action) for display in excerpts.
pub fn mask_values(text: &str, findings: &[Finding], mask: char) -> String {
    mask_where(
        text,
        findings,
        mask,
        |f| f.kind.value_is_sensitive(),
        |_| PartialMask::Full,
    )
}

/// `text[start..end]` with every sensitive value that overlaps it masked (for
/// excerpts and titles shown outside the document). For many windows over one
/// text, build a [`ValueWindows`] once instead: this call indexes `findings`.
pub fn mask_window(text: &str, findings: &[Finding], start: usize, end: usize, mask: char) -> String {
    ValueWindows::new(findings).mask(text, start, end, mask)
}

/// The sensitive values of one list of findings, indexed for masking windows
/// of the text ([`mask_window`] for each finding's excerpt): sorted by position
/// with the running maximum of their ends, so that a window costs a binary
/// search plus the values it overlaps, not a pass over every finding.
pub struct ValueWindows {
    /// `(start, end)` of every sensitive value, sorted.
    spans: Vec<(usize, usize)>,
    /// `reach[i]`: the largest end among `spans[..=i]` (non-decreasing).
    reach: Vec<usize>,
}

impl ValueWindows {
    /// Indexes the sensitive values among `findings` (in any order).
    pub fn new(findings: &[Finding]) -> ValueWindows {
        let mut spans: Vec<(usize, usize)> = findings
            .iter()
            .filter(|f| f.kind.value_is_sensitive())
            .map(|f| (f.span.start, f.span.end))
            .collect();
        spans.sort_unstable();
        let reach = spans
            .iter()
            .scan(0, |m, &(_, e)| {
                *m = e.max(*m);
                Some(*m)
            })
            .collect();
        ValueWindows { spans, reach }
    }

    /// `text[start..end]` with every indexed value that overlaps it masked.
    pub fn mask(&self, text: &str, start: usize, end: usize, mask: char) -> String {
        // Values before `lo` all end at or before `start`; from `hi` on they
        // start at or after `end`.
        let lo = self.reach.partition_point(|&r| r <= start);
        let hi = self.spans.partition_point(|&(s, _)| s < end);
        let mut local: Vec<(usize, usize, PartialMask)> = self.spans[lo..hi.max(lo)]
            .iter()
            .filter(|&&(s, e)| s < end && start < e)
            .map(|&(s, e)| (s.clamp(start, end) - start, e.clamp(start, end) - start, PartialMask::Full))
            .collect();
        // Clamped spans may tie differently: sort them again (they are few).
        local.sort_unstable_by_key(|s| (s.0, s.1));
        mask_spans(&text[start..end], local, mask)
    }
}

fn mask_where(
    text: &str,
    findings: &[Finding],
    mask: char,
    pick: impl Fn(&Finding) -> bool,
    style: impl Fn(&Finding) -> PartialMask,
) -> String {
    let mut spans: Vec<(usize, usize, PartialMask)> = findings
        .iter()
        .filter(|f| pick(f))
        .map(|f| (f.span.start, f.span.end, style(f)))
        .collect();
    spans.sort_unstable_by_key(|s| (s.0, s.1));
    mask_spans(text, spans, mask)
}

/// `text` with the spans masked; `spans` sorted by `(start, end)`.
fn mask_spans(text: &str, spans: Vec<(usize, usize, PartialMask)>, mask: char) -> String {
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut at = 0;
    for (s, e, st) in spans {
        let s = s.max(at);
        if s >= e {
            continue;
        }
        out.push_str(&text[at..s]);
        let value = &text[s..e];
        let n_alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
        let mut seen = 0;
        for c in value.chars() {
            // Line breaks stay so line numbers stay valid; any other character of a
            // value is masked, spaces too (周 安: the space would show the shape).
            if c == '\n' || c == '\r' {
                out.push(c);
                continue;
            }
            let keep = c.is_alphanumeric()
                && match st {
                    PartialMask::Full => false,
                    PartialMask::KeepFirst => seen == 0,
                    PartialMask::KeepLast4 => n_alnum > 4 && seen >= n_alnum - 4,
                };
            if c.is_alphanumeric() {
                seen += 1;
            }
            out.push(if keep { c } else { mask });
        }
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Category, Kind};
    use crate::span::Span;

    fn f(s: usize, e: usize, kind: Kind) -> Finding {
        Finding {
            rule: "t".into(),
            category: Category::PersonalData,
            kind,
            span: Span::new(s, e),
            confidence: 1.0,
            action: Action::Redact,
            basis: "b".into(),
            explanation: String::new(),
        }
    }

    #[test]
    fn preserves_length_in_chars() {
        let t = "申请人张三，电话１３８ 0013 8000。";
        let s = t.find('张').unwrap();
        let p = t.find('１').unwrap();
        let out = mask_where(
            t,
            &[
                f(s, s + 6, Kind::PersonName),
                f(p, t.find('。').unwrap(), Kind::Phone),
            ],
            '■',
            |_| true,
            |_| PartialMask::Full,
        );
        assert_eq!(out.chars().count(), t.chars().count());
        assert_eq!(out, "申请人■■，电话■■■■■■■■■■■■■。");
    }

    #[test]
    fn partial_masks() {
        let t = "张三丰";
        let out = mask_where(
            t,
            &[f(0, t.len(), Kind::PersonName)],
            '*',
            |_| true,
            |_| PartialMask::KeepFirst,
        );
        assert_eq!(out, "张**");
        let t = "13800138000";
        let out = mask_where(
            t,
            &[f(0, t.len(), Kind::Phone)],
            '*',
            |_| true,
            |_| PartialMask::KeepLast4,
        );
        assert_eq!(out, "*******8000");
    }
}

//! Report writers: one per output format, each specified where it is written.

pub mod jsonl;
pub mod text;

use crate::detect::Finding;
use crate::redact;

/// A masked excerpt around finding `i`: up to `ctx` characters each side, with
/// every sensitive value in the window (this one included) masked.
pub fn excerpt(text: &str, findings: &[Finding], i: usize, mask: char, ctx: usize) -> String {
    let f = &findings[i];
    let ws = text[..f.span.start]
        .char_indices()
        .rev()
        .take(ctx)
        .last()
        .map_or(f.span.start, |(b, _)| b);
    let we = text[f.span.end..]
        .char_indices()
        .nth(ctx)
        .map_or(text.len(), |(b, _)| f.span.end + b);
    let local: Vec<Finding> = findings
        .iter()
        .filter(|g| g.span.start < we && ws < g.span.end)
        .map(|g| {
            let mut g = g.clone();
            g.span = crate::Span::new(
                g.span.start.clamp(ws, we) - ws,
                g.span.end.clamp(ws, we) - ws,
            );
            g
        })
        .collect();
    let mut out = redact::mask_values(&text[ws..we], &local, mask);
    out.retain(|c| c != '\n' && c != '\r');
    out
}

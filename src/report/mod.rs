//! Report writers: one per output format, each specified where it is written.

pub mod html;
pub mod jsonl;
pub mod sarif;
pub mod text;

use crate::detect::Finding;
use crate::redact;

/// A masked excerpt around finding `i`: up to `ctx` characters each side, with
/// every sensitive value in the window (this one included) masked. For the
/// excerpts of every finding of a document, use [`excerpt_in`] with one
/// [`redact::ValueWindows`].
pub fn excerpt(text: &str, findings: &[Finding], i: usize, mask: char, ctx: usize) -> String {
    excerpt_in(text, &redact::ValueWindows::new(findings), &findings[i], mask, ctx)
}

/// [`excerpt`] of finding `f` with the document's values already indexed.
pub fn excerpt_in(text: &str, values: &redact::ValueWindows, f: &Finding, mask: char, ctx: usize) -> String {
    let ws = crate::span::back_chars(text, f.span.start, ctx);
    let we = crate::span::fwd_chars(text, f.span.end, ctx);
    let mut out = values.mask(text, ws, we, mask);
    out.retain(|c| c != '\n' && c != '\r');
    out
}

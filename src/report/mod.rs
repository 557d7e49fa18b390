//! Report writers: one per output format, each specified where it is written.

pub mod html;
pub mod jsonl;
pub mod sarif;
pub mod text;

use crate::detect::Finding;
use crate::redact;

/// A masked excerpt around finding `i`: up to `ctx` characters each side, with
/// every sensitive value in the window (this one included) masked.
pub fn excerpt(text: &str, findings: &[Finding], i: usize, mask: char, ctx: usize) -> String {
    let f = &findings[i];
    let ws = crate::span::back_chars(text, f.span.start, ctx);
    let we = crate::span::fwd_chars(text, f.span.end, ctx);
    let mut out = redact::mask_window(text, findings, ws, we, mask);
    out.retain(|c| c != '\n' && c != '\r');
    out
}

//! The human table: one line per document, its findings indented under it, and
//! a summary line. Values are masked; only excerpts from the JSON writer appear.

use super::jsonl::DocumentRecord;
use std::io::{self, Write};

/// Writes one document block.
pub fn write_document(w: &mut dyn Write, d: &DocumentRecord) -> io::Result<()> {
    let mark = match d.verdict.as_str() {
        "publish" => "PUBLISH ",
        "redact" => "REDACT  ",
        _ => "WITHHOLD",
    };
    writeln!(w, "{mark}  {:>3} finding(s)  {}", d.findings.len(), d.path)?;
    if let Some(u) = &d.unreadable {
        writeln!(w, "          {u}")?;
    }
    for f in &d.findings {
        let src = f.source.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
        writeln!(
            w,
            "          {:>4}:{:<4} {:<19} {:<8} {:.2}  {}  [{}]{src}",
            f.line, f.column, f.kind, f.action, f.confidence, f.excerpt, f.rule
        )?;
    }
    Ok(())
}

/// Totals for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    /// Documents.
    pub documents: usize,
    /// Publish verdicts.
    pub publish: usize,
    /// Redact verdicts.
    pub redact: usize,
    /// Withhold verdicts.
    pub withhold: usize,
    /// Unreadable documents (counted in withhold too).
    pub unreadable: usize,
    /// Findings.
    pub findings: usize,
    /// Input bytes.
    pub bytes: u64,
}

impl Summary {
    /// Counts one document.
    pub fn add(&mut self, d: &DocumentRecord, bytes: u64) {
        self.documents += 1;
        match d.verdict.as_str() {
            "publish" => self.publish += 1,
            "redact" => self.redact += 1,
            _ => self.withhold += 1,
        }
        self.unreadable += usize::from(d.unreadable.is_some());
        self.findings += d.findings.len();
        self.bytes += bytes;
    }

    /// The summary line.
    pub fn line(&self, secs: f64) -> String {
        let mbs = if secs > 0.0 {
            self.bytes as f64 / 1e6 / secs
        } else {
            0.0
        };
        format!(
            "{} document(s): {} publish, {} redact, {} withhold ({} unreadable); {} finding(s); {:.2} s, {:.1} MB/s",
            self.documents,
            self.publish,
            self.redact,
            self.withhold,
            self.unreadable,
            self.findings,
            secs,
            mbs
        )
    }
}

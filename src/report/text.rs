//! The human table: one line per document, its findings indented under it, and
//! a summary line. Values are masked; only excerpts from the JSON writer appear.
//! A finding a baseline or allow-list covers ends in `(baselined)` /
//! `(allow-listed)`; the document line then shows what the CI gate counted
//! (`gate publish`), and the summary line counts them.

use super::jsonl::DocumentRecord;
use std::io::{self, Write};

/// Writes one document block.
pub fn write_document(w: &mut dyn Write, d: &DocumentRecord) -> io::Result<()> {
    let mark = match d.verdict.as_str() {
        "publish" => "PUBLISH ",
        "redact" => "REDACT  ",
        _ => "WITHHOLD",
    };
    let gate = d.gate.as_deref().map(|g| format!("  (gate {g}: {} baselined, {} allow-listed)", d.baselined, d.allow_listed)).unwrap_or_default();
    writeln!(w, "{mark}  {:>3} finding(s)  {}{gate}", d.findings.len(), d.path)?;
    if let Some(u) = &d.unreadable {
        writeln!(w, "          {u}")?;
    }
    for f in &d.findings {
        let src = f.source.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
        let accepted = match (f.baselined, f.allow_listed) {
            (true, true) => " (baselined, allow-listed)",
            (true, false) => " (baselined)",
            (false, true) => " (allow-listed)",
            (false, false) => "",
        };
        writeln!(
            w,
            "          {:>4}:{:<4} {:<19} {:<8} {:.2}  {}  [{}]{src}{accepted}",
            f.line, f.column, f.kind, f.action, f.confidence, f.excerpt, f.rule
        )?;
    }
    Ok(())
}

/// Totals for the summary line.
#[derive(Debug, Default, Clone)]
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
    /// Findings a baseline covers (counted in `findings` too).
    pub baselined: usize,
    /// Findings an allow-list covers (counted in `findings` too).
    pub allow_listed: usize,
    /// Input bytes.
    pub bytes: u64,
    /// Paths a directory walk skipped by default (`.git`, `.DS_Store`, `~$*`…).
    pub skipped_by_default: Vec<String>,
    /// Paths skipped by `--exclude` or `.mishenignore`.
    pub excluded: usize,
}

/// How many skipped paths the summary line names.
const LISTED: usize = 10;

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
        self.baselined += d.baselined;
        self.allow_listed += d.allow_listed;
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
            "{} document(s): {} publish, {} redact, {} withhold ({} unreadable); {} finding(s){}; {:.2} s, {:.1} MB/s",
            self.documents,
            self.publish,
            self.redact,
            self.withhold,
            self.unreadable,
            self.findings,
            if self.baselined + self.allow_listed > 0 {
                format!(" ({} baselined, {} allow-listed: not counted by the gate)", self.baselined, self.allow_listed)
            } else {
                String::new()
            },
            secs,
            mbs
        ) + &self.skips()
    }

    /// `; skipped N by default (a/.git, …), M by --exclude`, or nothing.
    fn skips(&self) -> String {
        let n = self.skipped_by_default.len();
        if n + self.excluded == 0 {
            return String::new();
        }
        let mut listed = self.skipped_by_default.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
        if n > LISTED {
            listed.push_str(&format!(", … {} more", n - LISTED));
        }
        let listed = if n > 0 { format!(" ({listed})") } else { String::new() };
        format!("; skipped {n} by default excludes{listed}, {} by --exclude/.mishenignore", self.excluded)
    }
}

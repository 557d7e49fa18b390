//! `mishen screen --redact-to DIR`: redacted copies a publisher can trust.
//!
//! - **Staged, then committed.** Copies are written to `DIR/.mishen-staging-<pid>`
//!   while the run goes on and moved into place only when it ends. If two inputs
//!   map to one output path (`a/x.txt` and `b/x.txt` given as two roots, a file
//!   `x.docx.txt` beside `x.docx`, an archive with two members of one name, or a
//!   path that is both a file and a directory), the run is an error (exit 2)
//!   naming both inputs and nothing in `DIR` changes. A run that stops on an
//!   error of its own (a closed pipe, the audit log) changes nothing either.
//! - **Stale copies are removed.** A document that is not written this run
//!   (withheld, unreadable, an error reading it) has the copy an earlier run left
//!   at its output path removed, and for an archive that cannot be read as a
//!   whole, the directory `<archive>!/` of its members' copies. Copies of inputs
//!   not given this run are left alone.
//! - **Paths stay inside `DIR`.** An output path with `..` or a root (an archive
//!   member refused as unsafe, a `--stdin-name` with `..`) is never written to
//!   nor removed: the document is an error if it was to be written.
//! - **The manifest** `DIR/mishen-manifest.jsonl` has one JSON object per input,
//!   in output order, and no document text:
//!
//! ```json
//! {"path": "in/a.docx", "verdict": "redact", "status": "written", "output": "a.docx.txt",
//!  "output_sha256": "…", "content_sha256": "…"}
//! {"path": "in/secret.txt", "verdict": "withhold", "status": "withheld", "removed_stale": true, "content_sha256": "…"}
//! {"path": "in/scan.pdf", "verdict": "withhold", "status": "unreadable", "reason": "unreadable: …", "content_sha256": "…"}
//! {"path": "in/gone.txt", "verdict": null, "status": "error", "reason": "in/gone.txt: No such file or directory (os error 2)"}
//! ```
//!
//!   `status`: `written` (`output` is the copy's path relative to `DIR`,
//!   `output_sha256` the SHA-256 of its bytes, `output_encoding` its encoding,
//!   `text_copy: true` when it is a text rendering of another format such as
//!   `.docx` or `.pdf`), `withheld`, `unreadable` or `error` (nothing written;
//!   `reason` says why). `removed_stale` is present when an earlier copy was
//!   removed.
//! - **Encodings.** The copy of a plain-text or Markdown document keeps the
//!   encoding it was read in (a GB18030 file stays `gb18030`, UTF-16 keeps its
//!   byte order, with a BOM), so it can replace the original; when that
//!   encoding cannot hold the mask character the copy is UTF-8 and the
//!   manifest says so.
//! - **Packages in place.** A `.docx`, `.xlsx` or `.pptx` is redacted in its own format
//!   under its own name ([`mishen::ingest::ooxml::redact_in_place`]: masked
//!   characters replace theirs in the runs, the copy read again must equal the
//!   redacted text, and no part may still hold a masked value); when that
//!   cannot be done the copy is text (`<name>.txt`, `text_copy`), and an earlier
//!   run's copy under the other name is removed as stale. Copies of other
//!   formats are UTF-8 text.

use anyhow::Context;
use mishen::Verdict;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// The manifest's file name in `DIR`.
pub const MANIFEST: &str = "mishen-manifest.jsonl";

/// One line of the manifest.
#[derive(Debug, Serialize)]
pub struct Entry {
    path: String,
    verdict: Option<&'static str>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    text_copy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    removed_stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_sha256: Option<String>,
    #[serde(skip)]
    rel: Option<PathBuf>,
    /// The other name a copy of this input can have (`a.docx` in place,
    /// `a.docx.txt` as text): an earlier run's copy there is stale too.
    #[serde(skip)]
    alt: Option<PathBuf>,
}

/// A redacted copy: its bytes and how they are written.
#[derive(Debug)]
pub struct Copy {
    /// The bytes written.
    pub bytes: Vec<u8>,
    /// Their encoding.
    pub encoding: &'static str,
    /// A text rendering of another format (`.pdf`, `.html`…).
    pub text_copy: bool,
    /// A `.docx`, `.xlsx` or `.pptx` redacted in place: written under the input's own
    /// name, not `<name>.txt`.
    pub in_format: bool,
}

impl Copy {
    /// The copy of the document `bytes`, read as `e`, redacted to `text`.
    pub fn of(text: String, bytes: &[u8], e: &mishen::ingest::Extracted, limits: &mishen::ingest::Limits) -> Copy {
        use mishen::ingest::Format;
        let utf8 = |text: String, text_copy| Copy { bytes: text.into_bytes(), encoding: "UTF-8", text_copy, in_format: false };
        if matches!(e.format, Format::Docx | Format::Pptx | Format::Xlsx) {
            return match mishen::ingest::ooxml::redact_in_place(bytes, e, &text, limits) {
                Some(b) => Copy { bytes: b, encoding: "binary", text_copy: false, in_format: true },
                None => utf8(text, true),
            };
        }
        if !matches!(e.format, Format::Text | Format::Markdown) {
            return utf8(text, true);
        }
        let Some(enc) = e.encoding.and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes())) else {
            return utf8(text, false);
        };
        if enc == encoding_rs::UTF_8 {
            return utf8(text, false);
        }
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            let le = enc == encoding_rs::UTF_16LE;
            let mut bytes = Vec::with_capacity(2 + text.len() * 2);
            for u in std::iter::once(0xFEFFu16).chain(text.encode_utf16()) {
                bytes.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            return Copy { bytes, encoding: enc.name(), text_copy: false, in_format: false };
        }
        let (bytes, _, unmappable) = enc.encode(&text);
        if unmappable {
            // The mask (or another character) has no code in this encoding:
            // encoding_rs would write a numeric character reference.
            return utf8(text, false);
        }
        Copy { bytes: bytes.into_owned(), encoding: enc.name(), text_copy: false, in_format: false }
    }
}

/// What happened to one input.
pub enum Outcome<'a> {
    /// Screened: its verdict, the redacted copy unless withheld, why it is unreadable if it is.
    Screened { verdict: Verdict, redacted: Option<&'a Copy>, unreadable: Option<&'a str>, content_sha256: &'a str },
    /// Not screened: an error.
    Failed(&'a str),
}

/// The output directory of one run.
pub struct RedactDir {
    dir: PathBuf,
    staging: PathBuf,
    claimed: HashMap<PathBuf, String>,
    parents: HashSet<PathBuf>,
    collisions: Vec<String>,
    entries: Vec<Entry>,
    done: bool,
}

/// True when `rel` is a non-empty relative path of ordinary names.
fn inside(rel: &Path) -> bool {
    !rel.as_os_str().is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)))
}

impl RedactDir {
    /// Creates `dir` (if needed) and a fresh staging directory in it.
    pub fn open(dir: &Path) -> anyhow::Result<RedactDir> {
        let staging = dir.join(format!(".mishen-staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).with_context(|| format!("cannot remove {}", staging.display()))?;
        }
        std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        Ok(RedactDir { dir: dir.to_owned(), staging, claimed: HashMap::new(), parents: HashSet::new(), collisions: Vec::new(), entries: Vec::new(), done: false })
    }

    /// Claims `rel` for `input`; false (and a collision noted) if another input has it.
    fn claim(&mut self, rel: &Path, input: &str) -> bool {
        let staging_name = self.staging.file_name().unwrap_or_default();
        let mut clash = self.claimed.get(rel).cloned();
        if clash.is_none() && self.parents.contains(rel) {
            clash = self.claimed.iter().find(|(p, _)| p.starts_with(rel)).map(|(_, i)| i.clone());
        }
        if clash.is_none() {
            clash = rel.ancestors().skip(1).find_map(|a| self.claimed.get(a).cloned());
        }
        if clash.is_none() && (rel == Path::new(MANIFEST) || rel.components().next().is_some_and(|c| c.as_os_str() == staging_name)) {
            clash = Some("mishen's own files".into());
        }
        if let Some(other) = clash {
            self.collisions.push(format!("{other} and {input} both map to {}", self.dir.join(rel).display()));
            return false;
        }
        self.claimed.insert(rel.to_owned(), input.to_owned());
        self.parents.extend(rel.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()).map(Path::to_path_buf));
        true
    }

    /// Records one input; stages its copy if it has one. An `Err` is an error
    /// of this document only (the run goes on and exits 2).
    pub fn add(&mut self, input: &str, rel: &Path, outcome: Outcome<'_>) -> Result<(), String> {
        // A package redacted in place keeps its own name (`a.docx`, not
        // `a.docx.txt`); the other name is where a stale copy may be.
        let text_name = rel.to_owned();
        let own_name: Option<PathBuf> = {
            let s = rel.to_string_lossy();
            let lower = s.to_ascii_lowercase();
            [".docx.txt", ".xlsx.txt", ".pptx.txt"].iter().any(|x| lower.ends_with(x)).then(|| PathBuf::from(&s[..s.len() - 4]))
        };
        let in_format = matches!(&outcome, Outcome::Screened { redacted: Some(c), .. } if c.in_format);
        let (rel, alt): (&Path, Option<&Path>) = match (&own_name, in_format) {
            (Some(own), true) => (own.as_path(), Some(text_name.as_path())),
            (Some(own), false) => (rel, Some(own.as_path())),
            (None, _) => (rel, None),
        };
        let safe = inside(rel);
        let claimed = safe && self.claim(rel, input);
        let mut e = Entry { path: input.to_owned(), verdict: None, status: "error", output: None, output_sha256: None, output_encoding: None, text_copy: false, reason: None, removed_stale: false, content_sha256: None, rel: None, alt: None };
        let mut failed = None;
        match outcome {
            Outcome::Failed(why) => e.reason = Some(why.to_owned()),
            Outcome::Screened { verdict, redacted, unreadable, content_sha256 } => {
                e.verdict = Some(verdict.as_str());
                e.content_sha256 = Some(content_sha256.to_owned());
                match (redacted, unreadable) {
                    (_, Some(why)) => {
                        e.status = "unreadable";
                        e.reason = Some(why.to_owned());
                    }
                    (None, None) => e.status = "withheld",
                    (Some(_), None) if !safe => {
                        let why = format!("{input}: output path {} is not inside {}; not written", rel.display(), self.dir.display());
                        e.reason = Some(why.clone());
                        failed = Some(why);
                    }
                    (Some(_), None) if !claimed => e.reason = Some("output path taken by another input".into()),
                    (Some(copy), None) => {
                        let dest = self.staging.join(rel);
                        let written = dest
                            .parent()
                            .map_or(Ok(()), std::fs::create_dir_all)
                            .and_then(|_| std::fs::write(&dest, &copy.bytes))
                            .map_err(|err| format!("{input}: cannot write {}: {err}", dest.display()));
                        match written {
                            Ok(()) => {
                                e.status = "written";
                                e.output = Some(rel.display().to_string());
                                e.output_sha256 = Some(mishen::screen::sha256_hex(&copy.bytes));
                                e.output_encoding = (!copy.in_format).then_some(copy.encoding);
                                e.text_copy = copy.text_copy;
                            }
                            Err(why) => {
                                e.reason = Some(why.clone());
                                failed = Some(why);
                            }
                        }
                    }
                }
            }
        }
        if safe && claimed {
            e.rel = Some(rel.to_owned());
            e.alt = alt.filter(|a| inside(a)).map(Path::to_owned);
        }
        self.entries.push(e);
        failed.map_or(Ok(()), Err)
    }

    /// Moves the staged copies into place, removes stale ones and writes the
    /// manifest; or, if two inputs collided, changes nothing and fails.
    pub fn commit(mut self) -> anyhow::Result<()> {
        if !self.collisions.is_empty() {
            anyhow::bail!(
                "--redact-to: {} output path(s) claimed twice, nothing written to {}: {}",
                self.collisions.len(),
                self.dir.display(),
                self.collisions.join("; ")
            );
        }
        let mut manifest = String::new();
        for e in &mut self.entries {
            if let Some(rel) = &e.rel {
                let dest = self.dir.join(rel);
                if e.status == "written" {
                    if let Some(p) = dest.parent() {
                        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
                    }
                    std::fs::rename(self.staging.join(rel), &dest).with_context(|| format!("cannot move the copy into {}", dest.display()))?;
                } else {
                    e.removed_stale = remove_stale(&dest)?;
                }
            }
            // The copy under the other name, unless another input of this run
            // writes there.
            if let Some(alt) = e.alt.as_ref().filter(|a| !self.claimed.contains_key(*a)) {
                let dest = self.dir.join(alt);
                if std::fs::symlink_metadata(&dest).is_ok_and(|m| !m.is_dir()) {
                    std::fs::remove_file(&dest).with_context(|| format!("cannot remove the stale copy {}", dest.display()))?;
                    e.removed_stale = true;
                }
            }
            manifest.push_str(&serde_json::to_string(e)?);
            manifest.push('\n');
        }
        let staged = self.staging.join(MANIFEST);
        std::fs::write(&staged, manifest).with_context(|| format!("cannot write {}", staged.display()))?;
        std::fs::rename(&staged, self.dir.join(MANIFEST)).context("cannot move the manifest into place")?;
        self.done = true;
        std::fs::remove_dir_all(&self.staging).with_context(|| format!("cannot remove {}", self.staging.display()))
    }
}

/// Removes the copy an earlier run left at `dest` (a file), and the member
/// copies below `dest!` (an archive's); true if anything was removed.
fn remove_stale(dest: &Path) -> anyhow::Result<bool> {
    let mut removed = false;
    if std::fs::symlink_metadata(dest).is_ok_and(|m| !m.is_dir()) {
        std::fs::remove_file(dest).with_context(|| format!("cannot remove the stale copy {}", dest.display()))?;
        removed = true;
    }
    let mut members = dest.as_os_str().to_owned();
    members.push("!");
    let members = PathBuf::from(members);
    if std::fs::symlink_metadata(&members).is_ok_and(|m| m.is_dir()) {
        std::fs::remove_dir_all(&members).with_context(|| format!("cannot remove the stale copies in {}", members.display()))?;
        removed = true;
    }
    Ok(removed)
}

impl Drop for RedactDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions_are_exact_paths_and_file_directory_clashes() {
        let t = tempfile::tempdir().unwrap();
        let mut d = RedactDir::open(t.path()).unwrap();
        assert!(d.claim(Path::new("a/x.txt"), "1"));
        assert!(!d.claim(Path::new("a/x.txt"), "2"));
        assert!(!d.claim(Path::new("a"), "3"), "a file where a directory is");
        assert!(d.claim(Path::new("b.txt"), "4"));
        assert!(!d.claim(Path::new("b.txt/c.txt"), "5"), "a directory where a file is");
        assert!(!d.claim(Path::new(MANIFEST), "6"));
        assert_eq!(d.collisions.len(), 4);
        assert!(!inside(Path::new("p.zip!/../../etc/x.txt")) && !inside(Path::new("/x")) && inside(Path::new("p.zip!/a.txt")));
        let staging = d.staging.clone();
        assert!(d.commit().is_err());
        assert!(!staging.exists(), "a failed commit leaves nothing behind");
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
    }
}

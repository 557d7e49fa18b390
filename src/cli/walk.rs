//! Inputs of `mishen screen`: files, directories (with `--exclude` and
//! `.mishenignore`), archives (streamed through `mishen::ingest::archive`) and
//! standard input, turned into numbered jobs in a stable order.
//!
//! `.mishenignore`: one glob per line, `#` comments, relative to the directory
//! that holds the file (it applies to everything below it). A pattern without a
//! `/` matches a name at any depth (`*.tmp`, `drafts`); one with a `/` is
//! anchored (`/build`, `docs/internal/**`). A matched directory is not entered.
//! `--exclude GLOB` has the same syntax, relative to each directory argument,
//! and also applies to paths inside archives.
//!
//! **Default excludes.** Directory walks skip what tools leave beside the
//! documents: `.git`, `.hg`, `.svn` (directory or file), `.DS_Store`,
//! `Thumbs.db` and `desktop.ini` (any case), and Office lock files (`~$*`).
//! `--no-default-excludes` screens them. They are skipped in directory walks
//! only: a member of an archive is published with the archive, so it is
//! screened whatever its name; a path given as an argument is screened too.
//! The `--redact-to` directory is never walked (it holds this run's output).
//! Every skip is counted in [`Skipped`] for the summary line.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use mishen::ingest::Limits;
use mishen::ingest::archive::{self, Item};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One document to screen.
pub struct Job {
    /// Position in the output.
    pub seq: u64,
    /// Path as reported (`dir/a.zip!/x/b.docx`, `-`).
    pub display: String,
    /// Name whose extension picks the format.
    pub hint: String,
    /// Where its redacted text goes under `--redact-to`.
    pub redact_rel: PathBuf,
    /// What to screen.
    pub payload: Payload,
}

/// A job's content.
pub enum Payload {
    /// The document's bytes.
    Bytes(Vec<u8>),
    /// Not read: the reason, the SHA-256 of the bytes seen, their count.
    Refused { why: String, sha256: String, len: u64 },
    /// An I/O error (exit status 2).
    Error(String),
}

/// What the walk left out, for the summary line.
#[derive(Debug, Default)]
pub struct Skipped {
    /// Paths skipped by the default excludes (and the `--redact-to` directory);
    /// a skipped directory is one path.
    pub by_default: Vec<String>,
    /// Paths skipped by `--exclude` or a `.mishenignore` (directories and archive members count once each).
    pub excluded: usize,
}

/// True for a name the default excludes skip (see the module doc).
pub fn default_excluded(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    matches!(&*n, ".git" | ".hg" | ".svn" | ".DS_Store")
        || n.eq_ignore_ascii_case("thumbs.db")
        || n.eq_ignore_ascii_case("desktop.ini")
        || n.starts_with("~$")
}

/// The name of per-directory ignore files.
pub const IGNORE_FILE: &str = ".mishenignore";

/// Compiles ignore patterns (see the module doc).
pub fn globs(patterns: &[String], origin: &str) -> anyhow::Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim();
        if p.is_empty() || p.starts_with('#') {
            continue;
        }
        if p.starts_with('!') {
            anyhow::bail!("{origin}: negated pattern {p:?} is not supported");
        }
        let anchored = p.starts_with('/') || p.trim_end_matches('/').contains('/');
        let core = p.trim_start_matches('/').trim_end_matches('/');
        let forms = if anchored { vec![core.to_owned(), format!("{core}/**")] } else { vec![format!("**/{core}"), format!("**/{core}/**")] };
        for f in forms {
            let g = GlobBuilder::new(&f)
                .literal_separator(true)
                .build()
                .map_err(|e| anyhow::anyhow!("{origin}: bad pattern {p:?}: {}", e.kind()))?;
            b.add(g);
        }
    }
    Ok(b.build()?)
}

/// Produces jobs for every input, in order, through `send`; returns `false` if
/// `send` asked to stop (the consumer is gone).
pub struct Producer<'a> {
    pub limits: &'a Limits,
    pub exclude: &'a GlobSet,
    pub stdin_name: Option<&'a str>,
    pub seq: u64,
    pub send: &'a mut dyn FnMut(Job) -> bool,
    /// Skip [`default_excluded`] names in directory walks.
    pub default_excludes: bool,
    /// The `--redact-to` directory, canonicalized: never walked.
    pub output_dir: Option<PathBuf>,
    /// What was skipped so far.
    pub skipped: Skipped,
}

impl Producer<'_> {
    fn emit(&mut self, display: String, hint: String, redact_rel: PathBuf, payload: Payload) -> bool {
        let job = Job { seq: self.seq, display, hint, redact_rel, payload };
        self.seq += 1;
        (self.send)(job)
    }

    /// All inputs.
    pub fn run(&mut self, paths: &[PathBuf]) {
        for p in paths {
            let go = if p.as_os_str() == "-" { self.stdin() } else { self.path(p) };
            if !go {
                return;
            }
        }
    }

    fn stdin(&mut self) -> bool {
        let name = self.stdin_name.unwrap_or("-").to_owned();
        let display = if self.stdin_name.is_some() { name.clone() } else { "-".to_owned() };
        // The file name only: a `/` in a hint means a media type to ingest.
        let hint = if self.stdin_name.is_some() { name.rsplit(['/', '\\']).next().unwrap_or(&name).to_owned() } else { "stdin.txt".into() };
        let rel = PathBuf::from(if self.stdin_name.is_some() { redact_name(&name) } else { "stdin.txt".into() });
        let stdin = std::io::stdin().lock();
        if let Some(kind) = archive::kind(&name) {
            return self.archive_stream(kind, &display, &rel, stdin);
        }
        let payload = read_bounded(stdin, self.limits.max_file_bytes, "standard input");
        self.emit(display, hint, rel, payload)
    }

    fn path(&mut self, p: &Path) -> bool {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => self.dir(p),
            Ok(_) => {
                let name = p.file_name().map(PathBuf::from).unwrap_or_else(|| "document.txt".into());
                self.file(p, p.display().to_string(), name)
            }
            Err(e) => self.emit(p.display().to_string(), String::new(), PathBuf::new(), Payload::Error(format!("{}: {e}", p.display()))),
        }
    }

    fn dir(&mut self, root: &Path) -> bool {
        // Ignore files found so far: (their directory, their patterns).
        let mut ignores: Vec<(PathBuf, GlobSet)> = Vec::new();
        let canonical_root = self.output_dir.as_ref().and_then(|_| std::fs::canonicalize(root).ok());
        let mut it = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
        loop {
            let e = match it.next() {
                None => return true,
                Some(Ok(e)) => e,
                Some(Err(e)) => {
                    let msg = format!("cannot read directory entry under {}: {e}", root.display());
                    if !self.emit(root.display().to_string(), String::new(), PathBuf::new(), Payload::Error(msg)) {
                        return false;
                    }
                    continue;
                }
            };
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
            let top = rel.as_os_str().is_empty();
            let by_default = !top
                && ((self.default_excludes && default_excluded(e.file_name()))
                    || (e.file_type().is_dir() && canonical_root.as_ref().is_some_and(|c| Some(c.join(&rel)) == self.output_dir)));
            let excluded = !top
                && !by_default
                && (self.exclude.is_match(&rel) || ignores.iter().any(|(base, set)| path.strip_prefix(base).is_ok_and(|r| set.is_match(r))));
            if by_default {
                self.skipped.by_default.push(path.display().to_string());
            } else if excluded {
                self.skipped.excluded += 1;
            }
            if by_default || excluded {
                if e.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
            if e.file_type().is_dir() {
                let f = path.join(IGNORE_FILE);
                if f.is_file() {
                    match std::fs::read_to_string(&f).map_err(anyhow::Error::from).and_then(|t| {
                        let lines: Vec<String> = t.lines().map(str::to_owned).collect();
                        globs(&lines, &f.display().to_string())
                    }) {
                        Ok(set) => ignores.push((path.to_path_buf(), set)),
                        Err(err) => {
                            let msg = format!("{}: {err:#}", f.display());
                            if !self.emit(f.display().to_string(), String::new(), PathBuf::new(), Payload::Error(msg)) {
                                return false;
                            }
                        }
                    }
                }
                continue;
            }
            if e.file_type().is_symlink() {
                // Not followed (it may leave the tree), but not skipped silently either.
                let why = "symbolic link not followed; screen its target directly".to_owned();
                let p = Payload::Refused { why, sha256: mishen::screen::sha256_hex(b""), len: 0 };
                // The path its copy would have, so a stale one is removed.
                let rel = PathBuf::from(redact_rel_for(&rel));
                if !self.emit(path.display().to_string(), String::new(), rel, p) {
                    return false;
                }
                continue;
            }
            if !e.file_type().is_file() || e.file_name() == IGNORE_FILE {
                continue;
            }
            if !self.file(path, path.display().to_string(), rel) {
                return false;
            }
        }
    }

    fn file(&mut self, p: &Path, display: String, rel: PathBuf) -> bool {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(kind) = archive::kind(&name) {
            return match std::fs::File::open(p) {
                Ok(f) => self.archive(kind, &display, &rel, std::io::BufReader::with_capacity(1 << 16, f)),
                Err(e) => self.emit(display, name, rel, Payload::Error(format!("{}: {e}", p.display()))),
            };
        }
        let payload = match std::fs::File::open(p) {
            Ok(f) => read_bounded(f, self.limits.max_file_bytes, "file"),
            Err(e) => Payload::Error(format!("{}: {e}", p.display())),
        };
        let rel = PathBuf::from(redact_rel_for(&rel));
        self.emit(display, name, rel, payload)
    }

    fn archive(&mut self, kind: archive::Kind, display: &str, rel: &Path, r: impl Read + std::io::Seek) -> bool {
        let (limits, exclude) = (self.limits, self.exclude);
        let mut visit = |item: Item| -> Result<(), ()> { if self.archive_item(display, rel, exclude, item) { Ok(()) } else { Err(()) } };
        archive::walk(kind, display, r, limits, &mut visit).is_ok()
    }

    fn archive_stream(&mut self, kind: archive::Kind, display: &str, rel: &Path, r: impl Read) -> bool {
        let (limits, exclude) = (self.limits, self.exclude);
        let mut visit = |item: Item| -> Result<(), ()> { if self.archive_item(display, rel, exclude, item) { Ok(()) } else { Err(()) } };
        archive::walk_stream(kind, display, r, limits, &mut visit).is_ok()
    }

    fn archive_item(&mut self, display: &str, rel: &Path, exclude: &GlobSet, item: Item) -> bool {
        let (path, payload, name) = match item {
            Item::Document { path, name, bytes } => (path, Payload::Bytes(bytes), name),
            Item::Unreadable { path, reason, bytes } => {
                let name = path.rsplit("!/").next().unwrap_or("").to_owned();
                let p = Payload::Refused { why: reason.to_string(), sha256: mishen::screen::sha256_hex(&bytes), len: bytes.len() as u64 };
                (path, p, name)
            }
        };
        let inner = path.strip_prefix(display).unwrap_or(&path).trim_start_matches("!/").to_owned();
        if !inner.is_empty() && exclude.is_match(inner.replace("!/", "/")) {
            self.skipped.excluded += 1;
            return true;
        }
        let mut r = rel.as_os_str().to_owned();
        if !inner.is_empty() {
            r.push("!/");
            r.push(redact_rel_for(Path::new(&inner)));
        }
        let hint = name.rsplit('/').next().unwrap_or(&name).to_owned();
        self.emit(path, hint, PathBuf::from(r), payload)
    }
}

/// Redacted copies are text: a document that is not already `.txt`/`.md` gets `.txt` appended.
fn redact_rel_for(rel: &Path) -> String {
    let s = rel.to_string_lossy().into_owned();
    redact_name(&s)
}

fn redact_name(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    if [".txt", ".md", ".text", ".markdown"].iter().any(|e| lower.ends_with(e)) { s.to_owned() } else { format!("{s}.txt") }
}

/// Reads at most `max` bytes; a larger input is hashed to its end as a stream
/// and refused.
fn read_bounded(mut r: impl Read, max: u64, what: &str) -> Payload {
    use sha2::Digest;
    let mut b = Vec::new();
    if let Err(e) = (&mut r).take(max.saturating_add(1)).read_to_end(&mut b) {
        return Payload::Error(format!("{what}: {e}"));
    }
    if b.len() as u64 <= max {
        return Payload::Bytes(b);
    }
    let mut h = sha2::Sha256::new();
    h.update(&b);
    let mut total = b.len() as u64;
    drop(b);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n as u64;
                h.update(&buf[..n]);
            }
            Err(e) => return Payload::Error(format!("{what}: {e}")),
        }
    }
    let noun = if what == "file" { "file" } else { "standard input" };
    Payload::Refused { why: format!("{noun} of {total} bytes exceeds the limit of {max} bytes"), sha256: hex::encode(h.finalize()), len: total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_semantics() {
        let g = globs(&["*.tmp".into(), "/build".into(), "docs/internal/**".into(), "drafts/".into()], "t").unwrap();
        for yes in ["a.tmp", "x/y/a.tmp", "build", "build/a.txt", "docs/internal/a.txt", "drafts/a.txt", "x/drafts/b.txt"] {
            assert!(g.is_match(yes), "{yes}");
        }
        for no in ["a.tmpx", "x/build", "docs/a.txt", "draftsx/a"] {
            assert!(!g.is_match(no), "{no}");
        }
        assert!(globs(&["!keep".into()], "t").is_err());
    }

    #[test]
    fn default_excludes() {
        for yes in [".git", ".hg", ".svn", ".DS_Store", "Thumbs.db", "thumbs.db", "Desktop.ini", "~$报告.docx", "~$x"] {
            assert!(default_excluded(yes.as_ref()), "{yes}");
        }
        for no in [".gitignore", "git", "a.DS_Store", "Thumbs.db.txt", "报告~$.docx", ".github"] {
            assert!(!default_excluded(no.as_ref()), "{no}");
        }
    }

    #[test]
    fn redacted_names() {
        assert_eq!(redact_name("a/b.docx"), "a/b.docx.txt");
        assert_eq!(redact_name("a/b.MD"), "a/b.MD");
    }
}

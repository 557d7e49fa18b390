//! Archives: zip, tar and tar.gz (nested ones too), walked as a stream.
//!
//! Nothing is unpacked to disk. A tar (or tar.gz) is read once, front to back;
//! a zip needs its central directory, so a zip file on disk is read through a
//! seekable handle, and a zip nested in another archive is held in memory (it
//! is one entry, under [`Limits::max_entry_bytes`]). Each document entry is
//! handed to the visitor as bytes, one at a time; the caller decides how many
//! it keeps in flight.
//!
//! Paths are reported as `outer.zip!/dir/inner.tar.gz!/file.docx`.
//!
//! Defenses, all counted per top-level archive: entry count, total and
//! per-entry uncompressed size, nesting depth, and the compression ratio of
//! each zip entry and of a gzip stream as a whole (checked on the bytes really
//! inflated, not on sizes the archive declares). An entry whose name is
//! absolute or climbs with `..` is refused. Everything refused is reported to
//! the visitor as an [`Item::Unreadable`] — never skipped silently — and a
//! limit that stops the walk is reported against the archive itself.

use super::{Extracted, Limits, Location, Segment, Unreadable};
use super::ooxml::{entry_cap, io_kind, over_cap};
use std::cell::Cell;
use std::io::{Cursor, Read, Seek};
use std::rc::Rc;

/// The archive formats walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `.zip`
    Zip,
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
}

/// The archive kind named by a file name, if it names one.
pub fn kind(name: &str) -> Option<Kind> {
    let n = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase();
    if n.ends_with(".zip") {
        Some(Kind::Zip)
    } else if n.ends_with(".tar") {
        Some(Kind::Tar)
    } else if n.ends_with(".tar.gz") || n.ends_with(".tgz") {
        Some(Kind::TarGz)
    } else {
        None
    }
}

/// The archive kind named by a file name or a media type (`application/zip`,
/// `application/x-tar`, `application/gzip` for a tar.gz), if it names one.
pub fn kind_of_hint(hint: &str) -> Option<Kind> {
    let mt = hint.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mt.as_str() {
        "application/zip" | "application/x-zip-compressed" | "application/x-zip" => Some(Kind::Zip),
        "application/x-tar" | "application/tar" => Some(Kind::Tar),
        "application/gzip" | "application/x-gzip" | "application/x-gtar" | "application/x-compressed-tar" | "application/tar+gzip" => {
            Some(Kind::TarGz)
        }
        _ => kind(hint),
    }
}

/// Reads a whole archive as one document, as the service does for an archive
/// it is sent: every document entry is extracted ([`super::extract`]) and the
/// texts are joined, each entry a [`Segment`] (its inner parts named
/// `entry!/part`) and a text block with a header of its own. One entry that
/// cannot be read makes the whole archive unreadable, naming the entry; an
/// archive without a document has no text to screen. The CLI walks an archive
/// on disk entry by entry instead ([`walk`]) and reports each; for an archive of
/// one document both give the same verdict and findings.
pub fn extract_combined(kind: Kind, declared: Option<&str>, bytes: &[u8], limits: &Limits) -> Result<Extracted, Unreadable> {
    let mut parts: Vec<(String, Extracted)> = Vec::new();
    let mut total = 0usize;
    let mut visit = |item: Item| -> Result<(), Unreadable> {
        match item {
            Item::Document { path, name, bytes } => {
                let path = path.trim_start_matches("!/").to_owned();
                let e = super::extract(&name, declared, &bytes, limits)
                    .map_err(|u| Unreadable::Entry { path: safe_display(&path), reason: Box::new(u) })?;
                total = total.saturating_add(e.text.len() + 2);
                if total > limits.max_text_bytes {
                    return Err(Unreadable::Limit(format!(
                        "the archive's extracted text exceeds the limit of {} bytes",
                        limits.max_text_bytes
                    )));
                }
                parts.push((path, e));
                Ok(())
            }
            Item::Unreadable { path, reason, .. } => {
                let path = path.trim_start_matches("!/");
                Err(if path.is_empty() { reason } else { Unreadable::Entry { path: safe_display(path), reason: Box::new(reason) } })
            }
        }
    };
    walk(kind, "", Cursor::new(bytes), limits, &mut visit)?;
    if parts.is_empty() {
        return Err(Unreadable::NoText("the archive holds no document".into()));
    }
    let mut text = String::with_capacity(total);
    let (mut segments, mut blocks) = (Vec::new(), Vec::new());
    for (path, e) in parts {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let off = text.len();
        text.push_str(&e.text);
        blocks.push(off..text.len());
        blocks.extend(e.blocks.iter().map(|b| b.start + off..b.end + off).filter(|b| b.start > off));
        if e.segments.is_empty() {
            segments.push(Segment { start: off, end: text.len(), location: Location::Part(path) });
        } else {
            segments.extend(e.segments.into_iter().map(|s| Segment {
                start: s.start + off,
                end: s.end + off,
                location: match s.location {
                    Location::Part(p) => Location::Part(format!("{path}!/{p}")),
                    l => l,
                },
            }));
        }
    }
    Ok(Extracted { text, format: super::Format::Archive, encoding: None, segments, blocks })
}

/// What the walk yields.
#[derive(Debug)]
pub enum Item {
    /// A document entry.
    Document {
        /// Display path: `outer.zip!/dir/file.docx`.
        path: String,
        /// The entry's own name inside its archive (its extension picks the format).
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// An entry (or the archive itself, `path` without `!/`) that was not read.
    Unreadable {
        /// Display path.
        path: String,
        /// Why.
        reason: Unreadable,
        /// The bytes read before it was refused (hashed by the caller).
        bytes: Vec<u8>,
    },
}

/// Counters shared by one top-level archive and everything nested in it.
#[derive(Debug, Default)]
struct Budget {
    entries: u64,
    total: u64,
}

/// Walks one archive. `path` is its display path; `visit` receives every entry
/// in archive order. Returns `Err` only when the visitor does (it may stop the
/// walk by returning an error, e.g. a closed output).
pub fn walk<E>(
    kind: Kind,
    path: &str,
    reader: impl Read + Seek,
    limits: &Limits,
    visit: &mut dyn FnMut(Item) -> Result<(), E>,
) -> Result<(), E> {
    let mut budget = Budget::default();
    let mut w = Walker { limits, budget: &mut budget, visit };
    w.archive(kind, path, reader, 1)
}

/// Like [`walk`] for a stream that cannot seek (standard input): a tar is
/// streamed, a zip is read into memory first (under `max_file_bytes`).
pub fn walk_stream<E>(
    kind: Kind,
    path: &str,
    mut reader: impl Read,
    limits: &Limits,
    visit: &mut dyn FnMut(Item) -> Result<(), E>,
) -> Result<(), E> {
    let mut budget = Budget::default();
    let mut w = Walker { limits, budget: &mut budget, visit };
    match kind {
        Kind::Zip => {
            let mut buf = Vec::new();
            if let Err(e) = (&mut reader).take(limits.max_file_bytes.saturating_add(1)).read_to_end(&mut buf) {
                return w.refuse(path, Unreadable::Corrupt { format: "zip", detail: format!("read error {}", io_kind(&e)) }, Vec::new());
            }
            if buf.len() as u64 > limits.max_file_bytes {
                let why = Unreadable::Limit(format!("zip archive exceeds the limit of {} bytes", limits.max_file_bytes));
                return w.refuse(path, why, Vec::new());
            }
            w.archive(Kind::Zip, path, Cursor::new(buf), 1)
        }
        Kind::Tar => w.tar(path, reader, 1),
        Kind::TarGz => w.tar_gz(path, reader, 1),
    }
}

struct Walker<'a, E> {
    limits: &'a Limits,
    budget: &'a mut Budget,
    visit: &'a mut dyn FnMut(Item) -> Result<(), E>,
}

/// A walk stopped by a limit on the whole archive: the rest is not read.
struct Stop(Unreadable);

impl<E> Walker<'_, E> {
    fn refuse(&mut self, path: &str, reason: Unreadable, bytes: Vec<u8>) -> Result<(), E> {
        (self.visit)(Item::Unreadable { path: path.to_owned(), reason, bytes })
    }

    fn archive(&mut self, kind: Kind, path: &str, reader: impl Read + Seek, depth: u32) -> Result<(), E> {
        match kind {
            Kind::Zip => self.zip(path, reader, depth),
            Kind::Tar => self.tar(path, reader, depth),
            Kind::TarGz => self.tar_gz(path, reader, depth),
        }
    }

    /// Counts an entry of `size` bytes against the archive-wide budget.
    fn count(&mut self, size: u64) -> Result<(), Stop> {
        self.budget.entries += 1;
        self.budget.total = self.budget.total.saturating_add(size);
        if self.budget.entries > self.limits.max_entries {
            return Err(Stop(Unreadable::Limit(format!(
                "archive has more than {} entries; the rest was not screened",
                self.limits.max_entries
            ))));
        }
        if self.budget.total > self.limits.max_total_bytes {
            return Err(Stop(Unreadable::Limit(format!(
                "archive inflates to more than {} bytes; the rest was not screened",
                self.limits.max_total_bytes
            ))));
        }
        Ok(())
    }

    /// One entry's bytes: a nested archive is walked, a document is visited.
    fn entry(&mut self, parent: &str, name: &str, bytes: Vec<u8>, depth: u32) -> Result<(), E> {
        let path = format!("{parent}!/{name}");
        if let Some(k) = kind(name) {
            if depth >= self.limits.max_depth {
                let why = Unreadable::Limit(format!("archive nested deeper than {} levels", self.limits.max_depth));
                return self.refuse(&path, why, bytes);
            }
            return self.archive(k, &path, Cursor::new(bytes), depth + 1);
        }
        (self.visit)(Item::Document { path, name: name.to_owned(), bytes })
    }

    fn zip(&mut self, path: &str, reader: impl Read + Seek, depth: u32) -> Result<(), E> {
        let mut z = match zip::ZipArchive::new(reader) {
            Ok(z) => z,
            Err(e) => return self.refuse(path, Unreadable::Corrupt { format: "zip", detail: zip_detail(&e) }, Vec::new()),
        };
        for i in 0..z.len() {
            let shown = z.name_for_index(i).and_then(|n| n.ok().map(|n| safe_display(&n))).unwrap_or_else(|| format!("entry {i}"));
            let mut f = match z.by_index(i) {
                Ok(f) => f,
                Err(zip::result::ZipError::UnsupportedArchive(m)) if m == zip::result::ZipError::PASSWORD_REQUIRED => {
                    let name = &shown;
                    self.refuse(&format!("{path}!/{name}"), Unreadable::Encrypted("zip entry".into()), Vec::new())?;
                    continue;
                }
                Err(e) => {
                    let name = &shown;
                    self.refuse(&format!("{path}!/{name}"), Unreadable::Corrupt { format: "zip", detail: zip_detail(&e) }, Vec::new())?;
                    continue;
                }
            };
            if f.is_dir() {
                continue;
            }
            let raw = f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("entry {i}"));
            let Some(name) = checked_name(&raw) else {
                let p = format!("{path}!/{}", safe_display(&raw));
                self.refuse(&p, Unreadable::Limit("unsafe entry path (absolute or with ..) refused".into()), Vec::new())?;
                continue;
            };
            if f.is_symlink() {
                self.refuse(&format!("{path}!/{name}"), Unreadable::Unsupported("symbolic link entry".into()), Vec::new())?;
                continue;
            }
            let cap = entry_cap(self.limits, f.compressed_size());
            let declared = f.size();
            let mut bytes = Vec::new();
            let read = (&mut f).take(cap.saturating_add(1)).read_to_end(&mut bytes).and_then(|n| {
                if (n as u64) < declared.min(cap.saturating_add(1)) {
                    Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("entry cut short: {n} of {declared} bytes")))
                } else {
                    Ok(n)
                }
            });
            drop(f);
            if let Err(Stop(why)) = self.count(bytes.len() as u64) {
                return self.refuse(path, why, Vec::new());
            }
            if let Err(e) = read {
                let why = Unreadable::Corrupt { format: "zip", detail: format!("entry {name}: {}", io_kind(&e)) };
                self.refuse(&format!("{path}!/{name}"), why, bytes)?;
                continue;
            }
            if bytes.len() as u64 > cap {
                let why = over_cap(self.limits, &name, cap);
                self.refuse(&format!("{path}!/{name}"), why, bytes)?;
                continue;
            }
            self.entry(path, &name, bytes, depth)?;
        }
        Ok(())
    }

    fn tar_gz(&mut self, path: &str, reader: impl Read, depth: u32) -> Result<(), E> {
        // The ratio of the whole gzip stream: inflated bytes against bytes read.
        let compressed = Rc::new(Cell::new(0u64));
        let counting = Counting { inner: reader, n: compressed.clone() };
        let gz = flate2::read::MultiGzDecoder::new(counting);
        let ratio = RatioGuard { inner: gz, compressed, inflated: 0, max_ratio: self.limits.max_ratio };
        self.tar(path, ratio, depth)
    }

    fn tar(&mut self, path: &str, reader: impl Read, depth: u32) -> Result<(), E> {
        let mut a = tar::Archive::new(reader);
        let entries = match a.entries() {
            Ok(e) => e,
            Err(e) => return self.refuse(path, tar_error(&e), Vec::new()),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                // A damaged header or stream: the rest cannot be located.
                Err(e) => return self.refuse(path, tar_error(&e), Vec::new()),
            };
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let ty = entry.header().entry_type();
            if ty.is_dir() || ty.is_pax_global_extensions() || ty.is_pax_local_extensions() || ty.is_gnu_longname() || ty.is_gnu_longlink() {
                continue;
            }
            let Some(name) = checked_name(&raw) else {
                let p = format!("{path}!/{}", safe_display(&raw));
                self.refuse(&p, Unreadable::Limit("unsafe entry path (absolute or with ..) refused".into()), Vec::new())?;
                continue;
            };
            if !ty.is_file() && !ty.is_contiguous() {
                let why = Unreadable::Unsupported(format!("tar entry of type {:?} (link or device)", ty));
                self.refuse(&format!("{path}!/{name}"), why, Vec::new())?;
                continue;
            }
            let cap = self.limits.max_entry_bytes;
            let declared = entry.size();
            let mut bytes = Vec::new();
            let read = (&mut entry).take(cap.saturating_add(1)).read_to_end(&mut bytes);
            // The tar reader ends an entry quietly where the stream ends: an
            // entry cut short is never screened on the part that is left.
            let read = read.and_then(|n| {
                if (n as u64) < declared.min(cap.saturating_add(1)) {
                    Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("entry cut short: {n} of {declared} bytes")))
                } else {
                    Ok(n)
                }
            });
            if let Err(Stop(why)) = self.count(bytes.len() as u64) {
                return self.refuse(path, why, Vec::new());
            }
            if let Err(e) = read {
                let why = if e.kind() == std::io::ErrorKind::Other && e.to_string().contains("zip bomb") {
                    Unreadable::Limit(format!("gzip stream inflates more than {}× (suspected bomb)", self.limits.max_ratio))
                } else {
                    tar_error(&e)
                };
                // The stream is broken from here on.
                self.refuse(&format!("{path}!/{name}"), why.clone(), bytes)?;
                return self.refuse(path, why, Vec::new());
            }
            if bytes.len() as u64 > cap {
                let why = Unreadable::Limit(format!("entry {name} exceeds the limit of {cap} bytes"));
                self.refuse(&format!("{path}!/{name}"), why, bytes)?;
                continue;
            }
            self.entry(path, &name, bytes, depth)?;
        }
        Ok(())
    }
}

fn tar_error(e: &std::io::Error) -> Unreadable {
    if e.to_string().contains("zip bomb") {
        return Unreadable::Limit("gzip stream inflates too far beyond its compressed size (suspected bomb)".into());
    }
    Unreadable::Corrupt { format: "tar", detail: format!("damaged archive ({})", io_kind(e)) }
}

fn zip_detail(e: &zip::result::ZipError) -> String {
    match e {
        zip::result::ZipError::Io(io) => format!("I/O error {}", io_kind(io)),
        other => other.to_string(),
    }
}

/// A relative entry name with `/` separators, or `None` if it is absolute or
/// climbs out with `..` (path traversal).
pub fn checked_name(raw: &str) -> Option<String> {
    let n = raw.replace('\\', "/");
    if n.starts_with('/') || n.get(1..2) == Some(":") {
        return None;
    }
    let mut parts = Vec::new();
    for c in n.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// An entry name for display: control characters replaced, length bounded.
fn safe_display(raw: &str) -> String {
    raw.chars().map(|c| if c.is_control() { '?' } else { c }).take(200).collect()
}

struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Fails the stream once it has inflated more than 1 MiB and `max_ratio` times
/// the compressed bytes consumed.
struct RatioGuard<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    inflated: u64,
    max_ratio: u64,
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.inflated += k as u64;
        if self.inflated > 1 << 20 && self.inflated > self.compressed.get().saturating_mul(self.max_ratio) {
            return Err(std::io::Error::other("zip bomb: gzip ratio limit"));
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (n, c) in entries {
            w.start_file(*n, o).unwrap();
            w.write_all(c).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_of(entries: &[(&str, &[u8])], gz: bool) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (n, c) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(c.len() as u64);
            h.set_mode(0o644);
            // set_path refuses "..": write the raw name as an attacker would.
            let name = h.as_old_mut().name.as_mut();
            name[..n.len()].copy_from_slice(n.as_bytes());
            h.set_cksum();
            b.append(&h, *c).unwrap();
        }
        let t = b.into_inner().unwrap();
        if !gz {
            return t;
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&t).unwrap();
        e.finish().unwrap()
    }

    fn collect(kind: Kind, bytes: Vec<u8>, l: &Limits) -> Vec<(String, Result<Vec<u8>, String>)> {
        let mut v = Vec::new();
        walk::<()>(kind, "a", Cursor::new(bytes), l, &mut |i| {
            v.push(match i {
                Item::Document { path, bytes, .. } => (path, Ok(bytes)),
                Item::Unreadable { path, reason, .. } => (path, Err(reason.to_string())),
            });
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn nested_paths() {
        let inner = tar_of(&[("d/x.txt", b"x"), ("y.md", b"y")], true);
        let z = zip_of(&[("dir/", b""), ("dir/a.txt", b"a"), ("in.tar.gz", &inner), ("./b.txt", b"b")]);
        let v = collect(Kind::Zip, z, &Limits::default());
        let paths: Vec<&str> = v.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(paths, ["a!/dir/a.txt", "a!/in.tar.gz!/d/x.txt", "a!/in.tar.gz!/y.md", "a!/b.txt"]);
        assert!(v.iter().all(|x| x.1.is_ok()));
    }

    #[test]
    fn traversal_is_refused_and_reported() {
        let z = zip_of(&[("../evil.txt", b"e"), ("ok.txt", b"o")]);
        let v = collect(Kind::Zip, z, &Limits::default());
        assert_eq!(v.len(), 2);
        assert!(v[0].1.as_ref().unwrap_err().contains("unsafe entry path"), "{v:?}");
        let t = tar_of(&[("a/../../evil.txt", b"e"), ("ok.txt", b"o")], false);
        let v = collect(Kind::Tar, t, &Limits::default());
        assert!(v[0].1.as_ref().unwrap_err().contains("unsafe"), "{v:?}");
        assert!(v[1].1.is_ok());
        assert_eq!(checked_name("/etc/passwd"), None);
        assert_eq!(checked_name("C:/x"), None);
        assert_eq!(checked_name("a\\..\\..\\b"), None);
        assert_eq!(checked_name("./a//b"), Some("a/b".into()));
    }

    #[test]
    fn limits_depth_entries_ratio() {
        let l = Limits { max_depth: 2, ..Limits::default() };
        let z1 = zip_of(&[("d.txt", b"deep")]);
        let z2 = zip_of(&[("z1.zip", &z1)]);
        let z3 = zip_of(&[("z2.zip", &z2)]);
        let v = collect(Kind::Zip, z3, &l);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, "a!/z2.zip!/z1.zip");
        assert!(v[0].1.as_ref().unwrap_err().contains("nested deeper"));

        let l = Limits { max_entries: 2, ..Limits::default() };
        let z = zip_of(&[("1.txt", b"1"), ("2.txt", b"2"), ("3.txt", b"3")]);
        let v = collect(Kind::Zip, z, &l);
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].0, "a");
        assert!(v[2].1.as_ref().unwrap_err().contains("more than 2 entries"));

        let zeros = vec![0u8; 8 << 20];
        let v = collect(Kind::Zip, zip_of(&[("bomb.txt", &zeros)]), &Limits::default());
        assert!(v[0].1.as_ref().unwrap_err().contains("zip bomb"), "{v:?}");
        let v = collect(Kind::TarGz, tar_of(&[("bomb.txt", &zeros)], true), &Limits::default());
        assert!(v.iter().any(|x| x.1.as_ref().is_err_and(|e| e.contains("bomb"))), "{v:?}");

        let l = Limits { max_total_bytes: 3, ..Limits::default() };
        let v = collect(Kind::Tar, tar_of(&[("1.txt", b"12"), ("2.txt", b"34")], false), &l);
        assert_eq!(v.last().unwrap().0, "a");
    }

    #[test]
    fn corrupt_archives_are_reported() {
        let v = collect(Kind::Zip, b"PK\x03\x04 not really".to_vec(), &Limits::default());
        assert_eq!(v.len(), 1);
        assert!(v[0].1.as_ref().unwrap_err().contains("corrupt zip"));
        let mut t = tar_of(&[("a.txt", b"hello")], true);
        t.truncate(t.len() / 2);
        let v = collect(Kind::TarGz, t, &Limits::default());
        assert!(v.iter().any(|x| x.1.is_err()), "{v:?}");
    }
}

//! Hostile PDFs: decompression bombs (object streams and content streams
//! compressed twice), deep filter chains, object floods and a cross-reference
//! table that names one object stream many times. Each is unreadable — withheld
//! with an `unreadable` reason, exit code 4 — and never a crash or a huge
//! allocation: the CLI's peak RSS stays under [`MAX_RSS_KB`] (see [`screen`]
//! for how it is measured).
//!
//! Every bomb is built here, in code (no binary bomb is committed). The
//! 200 MiB ones are written as deflate streams by hand (fixed Huffman codes,
//! 258-byte back-references), so building one costs about 1.3 MB and never
//! holds what it decodes to.

use flate2::Compression;
use flate2::write::ZlibEncoder;
use mishen::ingest::{self, Unreadable};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The peak resident set the CLI may reach on any of these files, in KiB. The
/// bombs took it to 3.8 GB before the PDF reader had a document budget; a
/// normal small PDF stays far below (the embedded rules and dictionary are most
/// of it).
const MAX_RSS_KB: u64 = 512 * 1024;

/// What the bombs decode to: under lopdf's own per-stream bound (256 MiB), as
/// the adversarial file's did, so that only a per-document budget stops them.
const BOMB_BYTES: u64 = 200 << 20;

// ---------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------

/// LSB-first bit writer for deflate.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, v: u32, len: u32) {
        self.acc |= u64::from(v) << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which deflate packs most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let rev = code.reverse_bits() >> (32 - len);
        self.put(rev, len);
    }

    /// A literal byte with the fixed literal/length code.
    fn literal(&mut self, b: u8) {
        match b {
            0..=143 => self.code(0x30 + u32::from(b), 8),
            _ => self.code(0x190 + u32::from(b) - 144, 9),
        }
    }
}

/// Adler-32 of `prefix`, `count` copies of `unit`, `suffix`, summed as it
/// would be over the bytes, without holding them.
fn adler(prefix: &[u8], unit: &[u8], count: u64, suffix: &[u8]) -> u32 {
    const M: u64 = 65521;
    let (mut a, mut b) = (1u64, 0u64);
    let mut add = |x: u8| {
        a += u64::from(x);
        b += a;
        if b >= 1 << 62 {
            a %= M;
            b %= M;
        }
    };
    prefix.iter().for_each(|&x| add(x));
    for _ in 0..count {
        unit.iter().for_each(|&x| add(x));
    }
    suffix.iter().for_each(|&x| add(x));
    (((b % M) << 16) | (a % M)) as u32
}

/// A zlib stream that inflates to `prefix`, `count` copies of `unit` (1 to 8
/// bytes), then `suffix` (all ASCII), with a valid Adler-32: one fixed-Huffman
/// block of literals and length-258 back-references at distance `unit.len()`.
fn zlib_repeat(prefix: &[u8], unit: &[u8], count: u64, suffix: &[u8]) -> Vec<u8> {
    assert!(count >= 1 && (1..=8).contains(&unit.len()));
    let mut w = Bits { out: vec![0x78, 0x01], acc: 0, n: 0 };
    w.put(1, 1); // BFINAL
    w.put(1, 2); // BTYPE = fixed Huffman
    for &b in prefix.iter().chain(unit) {
        w.literal(b);
    }
    let d = unit.len() as u32;
    let rest = (count - 1) * u64::from(d);
    for _ in 0..rest / 258 {
        w.code(0xC0 + (285 - 280), 8); // length 258
        match d {
            1..=4 => w.code(d - 1, 5),
            5 | 6 => {
                w.code(4, 5);
                w.put(d - 5, 1);
            }
            _ => {
                w.code(5, 5);
                w.put(d - 7, 1);
            }
        }
    }
    // The copies ended on a multiple of 258 bytes into the repetition.
    let done = (rest / 258) * 258;
    for i in 0..rest % 258 {
        w.literal(unit[((done + i) % u64::from(d)) as usize]);
    }
    for &b in suffix {
        w.literal(b);
    }
    w.code(0, 7); // end of block
    if w.n > 0 {
        w.put(0, 8 - w.n);
    }
    w.out.extend_from_slice(&adler(prefix, unit, count, suffix).to_be_bytes());
    w.out
}

/// [`zlib_repeat`] of one byte.
fn zlib_run(prefix: &[u8], byte: u8, count: u64, suffix: &[u8]) -> Vec<u8> {
    zlib_repeat(prefix, &[byte], count, suffix)
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A PDF written object by object, with a classic cross-reference table.
struct Pdf {
    buf: Vec<u8>,
    /// (object number, offset); several numbers may share one offset.
    xref: Vec<(u32, usize)>,
}

impl Pdf {
    fn new() -> Pdf {
        Pdf { buf: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(), xref: Vec::new() }
    }

    fn obj(&mut self, id: u32, body: &str) -> usize {
        let at = self.buf.len();
        self.xref.push((id, at));
        write!(self.buf, "{id} 0 obj\n{body}\nendobj\n").unwrap();
        at
    }

    fn stream(&mut self, id: u32, dict: &str, data: &[u8]) -> usize {
        let at = self.buf.len();
        self.xref.push((id, at));
        write!(self.buf, "{id} 0 obj\n<< {dict} /Length {} >>\nstream\n", data.len()).unwrap();
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\nendstream\nendobj\n");
        at
    }

    /// The standard skeleton: catalog 1, pages 2, one page 3 whose contents
    /// are object 4 and whose font F1 (Helvetica) is object 5.
    fn skeleton(&mut self) {
        self.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
        self.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        self.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>");
        self.obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    }

    fn finish(mut self) -> Vec<u8> {
        let size = self.xref.iter().map(|x| x.0).max().unwrap_or(0) + 1;
        let mut at = vec![None; size as usize];
        for &(id, off) in &self.xref {
            at[id as usize] = Some(off);
        }
        let start = self.buf.len();
        write!(self.buf, "xref\n0 {size}\n").unwrap();
        for (i, off) in at.iter().enumerate() {
            match (i, off) {
                (_, Some(off)) => writeln!(self.buf, "{off:010} 00000 n ").unwrap(),
                (0, None) => self.buf.extend_from_slice(b"0000000000 65535 f \n"),
                (_, None) => self.buf.extend_from_slice(b"0000000000 00000 f \n"),
            }
        }
        write!(self.buf, "trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n").unwrap();
        self.buf
    }
}

const TEXT: &[u8] = b"BT /F1 12 Tf 72 720 Td (Public notice of the district office) Tj ET";

/// A one-page PDF whose page shows [`TEXT`], with `extra` objects added.
fn with_page(extra: impl FnOnce(&mut Pdf)) -> Vec<u8> {
    let mut p = Pdf::new();
    p.skeleton();
    p.stream(4, "", TEXT);
    extra(&mut p);
    p.finish()
}

/// An object stream compressed twice (`/Filter [/FlateDecode /FlateDecode]`)
/// whose one object is a string of [`BOMB_BYTES`] bytes.
pub(crate) fn object_stream_bomb() -> Vec<u8> {
    let data = zlib(&zlib_run(b"7 0 (", b'A', BOMB_BYTES, b")"));
    with_page(|p| {
        p.stream(6, "/Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode]", &data);
    })
}

/// A page content stream, compressed twice, that shows a string of
/// [`BOMB_BYTES`] bytes.
pub(crate) fn content_stream_bomb() -> Vec<u8> {
    let data = zlib(&zlib_run(b"BT /F1 12 Tf 72 720 Td (", b'A', BOMB_BYTES, b") Tj ET"));
    let mut p = Pdf::new();
    p.skeleton();
    p.stream(4, "/Filter [/FlateDecode /FlateDecode]", &data);
    p.finish()
}

/// A page whose content stream (compressed twice) decodes to 60 MiB of
/// `0 0 m`, under the budget: 31 million tokens, which lopdf parses into
/// operations of some 200 bytes each (6 GB before the token bound).
pub(crate) fn content_tokens() -> Vec<u8> {
    let data = zlib(&zlib_repeat(TEXT, b"\n0 0 m", 10 << 20, b""));
    let mut p = Pdf::new();
    p.skeleton();
    p.stream(4, "/Filter [/FlateDecode /FlateDecode]", &data);
    p.finish()
}

/// An object stream just under 16 MiB whose one object is an array of 8
/// million zeros (1.6 GB in lopdf before the token bound).
pub(crate) fn object_stream_tokens() -> Vec<u8> {
    let n = (16 << 20) / 2 - 16;
    let data = zlib_repeat(b"7 0 [", b"0 ", n, b"]");
    with_page(|p| {
        p.stream(6, "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &data);
    })
}

/// A readable page whose content stream is compressed `depth` times.
fn filter_chain(depth: usize) -> Vec<u8> {
    let mut data = TEXT.to_vec();
    for _ in 0..depth {
        data = zlib(&data);
    }
    let filters = vec!["/FlateDecode"; depth].join(" ");
    let mut p = Pdf::new();
    p.skeleton();
    p.stream(4, &format!("/Filter [{filters}]"), &data);
    p.finish()
}

/// A readable page and `n` more top-level objects.
fn many_objects(n: u32) -> Vec<u8> {
    with_page(|p| {
        for id in 6..6 + n {
            p.obj(id, "null");
        }
    })
}

/// `streams` object streams (compressed once) holding `n` objects each, all `null`.
fn object_stream_flood(streams: u32, n: u32) -> Vec<u8> {
    with_page(|p| {
        for k in 0..streams {
            let mut index = String::new();
            for id in 0..n {
                index.push_str(&format!("{} 0 ", 100 + k * n + id));
            }
            let first = index.len();
            index.push_str("null");
            let mut e = ZlibEncoder::new(Vec::new(), Compression::fast());
            e.write_all(index.as_bytes()).unwrap();
            let data = e.finish().unwrap();
            p.stream(6 + k, &format!("/Type /ObjStm /N {n} /First {first} /Filter /FlateDecode"), &data);
        }
    })
}

/// A cross-reference table that gives `times` more object numbers the offset
/// of one object stream whose object is a 1 MiB string: lopdf reads the
/// object once per entry, and would decode the stream and keep its objects
/// each time.
fn repeated_object_stream(times: u32) -> Vec<u8> {
    let data = zlib_run(b"7 0 (", b'B', 1 << 20, b")");
    with_page(|p| {
        let at = p.stream(6, "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &data);
        for id in 100..100 + times {
            p.xref.push((id, at));
        }
    })
}

/// The same with an uncompressed 1 MiB stream: each read copies it.
fn repeated_stream(times: u32) -> Vec<u8> {
    with_page(|p| {
        let at = p.stream(6, "", &vec![b' '; 1 << 20]);
        for id in 100..100 + times {
            p.xref.push((id, at));
        }
    })
}

// ---------------------------------------------------------------------------
// Running the CLI and measuring it.
// ---------------------------------------------------------------------------

struct Run {
    code: i32,
    doc: Value,
    /// Peak resident set of the child, KiB.
    max_rss_kb: u64,
}

/// Spawns `mishen screen --format jsonl FILE` and reaps it with `wait4`:
/// (exit code, stdout, `ru_maxrss` in KiB).
///
/// `ru_maxrss` is only the child's own peak when the spawning process is
/// small: std spawns with `vfork` semantics (`CLONE_VM`), and at `exec` the
/// kernel records the high-water mark of the memory the child still shares
/// with its parent. So [`screen`] runs this in a fresh copy of the test binary
/// ([`rss_runner`]), never in the test process, whose other tests may have
/// used hundreds of MB.
fn spawn_and_measure(path: &Path) -> (i32, String, u64) {
    let out = tempfile::tempfile().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mishen"))
        .args(["screen", "--format", "jsonl"])
        .arg(path)
        .stdout(out.try_clone().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; `pid` is our unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status), "mishen did not exit normally (status {status:#x}) on {}", path.display());
    std::mem::forget(child); // reaped above
    let mut out = out;
    use std::io::{Read, Seek};
    out.rewind().unwrap();
    let mut s = String::new();
    out.read_to_string(&mut s).unwrap();
    (libc::WEXITSTATUS(status), s, usage.ru_maxrss as u64)
}

/// Not a test: the small process that spawns and measures one CLI run for
/// [`screen`] (`MISHEN_RSS_FILE` names the file).
#[test]
#[ignore]
fn rss_runner() {
    let Ok(path) = std::env::var("MISHEN_RSS_FILE") else { return };
    let (code, out, rss) = spawn_and_measure(Path::new(&path));
    println!("mishen-run {code} {rss}");
    for l in out.lines() {
        println!("mishen-out {l}");
    }
}

/// `mishen screen --format jsonl FILE`: its one JSON object, exit code and
/// peak RSS, measured by [`rss_runner`] in a fresh copy of this test binary.
fn screen(path: &Path) -> Run {
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["hostile_pdf::rss_runner", "--exact", "--ignored", "--nocapture", "--test-threads", "1", "-q"])
        .env("MISHEN_RSS_FILE", path)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "runner failed: {s}{}", String::from_utf8_lossy(&o.stderr));
    let run = s.lines().find_map(|l| l.strip_prefix("mishen-run ")).unwrap_or_else(|| panic!("no run line: {s}"));
    let (code, rss) = run.split_once(' ').unwrap();
    let lines: Vec<&str> = s.lines().filter_map(|l| l.strip_prefix("mishen-out ")).collect();
    assert_eq!(lines.len(), 1, "one JSON object per document: {s}");
    Run { code: code.parse().unwrap(), doc: serde_json::from_str(lines[0]).unwrap(), max_rss_kb: rss.parse().unwrap() }
}

/// Through the library: a limit (or corrupt) error. Through the CLI: withheld
/// as unreadable, exit code 4, peak RSS under the bound. Returns the reason.
fn assert_refused(name: &str, bytes: &[u8], want_limit: bool) -> String {
    let e = ingest::extract("x.pdf", None, bytes, &Default::default()).expect_err(name);
    match &e {
        Unreadable::Limit(_) => {}
        Unreadable::Corrupt { .. } if !want_limit => {}
        e => panic!("{name}: expected a limit, got {e:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&path, bytes).unwrap();
    let r = screen(&path);
    assert!(r.max_rss_kb < MAX_RSS_KB, "{name}: peak RSS {} KiB (limit {MAX_RSS_KB} KiB)", r.max_rss_kb);
    assert_eq!(r.doc["verdict"], "withhold", "{name}: {}", r.doc);
    let why = r.doc["unreadable"].as_str().unwrap_or_else(|| panic!("{name}: no unreadable reason: {}", r.doc)).to_owned();
    assert!(r.doc["reasons"].as_array().unwrap().iter().any(|x| x["category"] == "unreadable"), "{name}: {}", r.doc);
    assert_eq!(r.code, 4, "{name}: exit code");
    eprintln!("{name}: {} bytes, peak RSS {} KiB: {why}", bytes.len(), r.max_rss_kb);
    why
}

// ---------------------------------------------------------------------------
// The generators make what they say (so the tests below can fail).
// ---------------------------------------------------------------------------

#[test]
fn generators_build_what_they_claim() {
    // The hand-written deflate inflates to exactly the run, with a valid checksum.
    let z = zlib_run(b"ab(", b'x', 1000, b")");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&z[..]), &mut out).unwrap();
    assert_eq!(out, [&b"ab("[..], &[b'x'; 1000][..], b")"].concat());
    for unit in [&b"0 "[..], b"0 0 m\n", b"1234567"] {
        let z = zlib_repeat(b"[", unit, 777, b"]");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out, [&b"["[..], &unit.repeat(777), b"]"].concat());
    }

    // The bomb is small and its object stream really decodes to 200 MiB (read
    // through a counting sink, never held).
    let bomb = object_stream_bomb();
    assert!(bomb.len() < 16 << 10, "{} bytes", bomb.len());
    let objstm = bomb.windows(7).position(|w| w == b"/ObjStm").unwrap();
    let start = objstm + bomb[objstm..].windows(10).position(|w| w == b">>\nstream\n").unwrap() + 10;
    let layer1 = {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&bomb[start..]), &mut v).unwrap();
        v
    };
    let n = std::io::copy(&mut flate2::read::ZlibDecoder::new(&layer1[..]), &mut std::io::sink()).unwrap();
    assert_eq!(n, BOMB_BYTES + 6);

    // Under the bounds, the same constructions are ordinary readable PDFs.
    for pdf in [filter_chain(2), filter_chain(4), many_objects(1000), object_stream_flood(2, 1000), repeated_object_stream(2), repeated_stream(2)] {
        let e = ingest::extract("x.pdf", None, &pdf, &Default::default()).expect("readable");
        assert!(e.text.contains("Public notice of the district office"), "{:?}", e.text);
    }
}

// ---------------------------------------------------------------------------
// The bombs.
// ---------------------------------------------------------------------------

#[test]
fn doubly_compressed_object_stream_is_unreadable() {
    let why = assert_refused("objstm_bomb", &object_stream_bomb(), true);
    assert!(why.contains("decod"), "{why}");
}

#[test]
fn content_stream_bomb_is_unreadable() {
    let why = assert_refused("content_bomb", &content_stream_bomb(), true);
    assert!(why.contains("decod"), "{why}");
}

#[test]
fn content_of_tiny_operators_is_unreadable() {
    let why = assert_refused("content_tokens", &content_tokens(), true);
    assert!(why.contains("tokens"), "{why}");
}

#[test]
fn object_stream_of_one_huge_array_is_unreadable() {
    let why = assert_refused("objstm_tokens", &object_stream_tokens(), true);
    assert!(why.contains("tokens"), "{why}");
}

#[test]
fn deep_filter_chain_is_unreadable() {
    let why = assert_refused("filter_chain", &filter_chain(5), true);
    assert!(why.contains("filters"), "{why}");
}

#[test]
fn half_a_million_objects_are_unreadable() {
    let why = assert_refused("many_objects", &many_objects(500_000), true);
    assert!(why.contains("objects"), "{why}");
}

#[test]
fn object_streams_with_more_than_half_a_million_objects_are_unreadable() {
    // Each stream is under every per-stream bound; together they hold 540,000.
    let why = assert_refused("objstm_flood", &object_stream_flood(6, 90_000), true);
    assert!(why.contains("objects"), "{why}");
}

#[test]
fn object_stream_with_600_000_objects_is_unreadable() {
    let why = assert_refused("objstm_flood_one", &object_stream_flood(1, 600_000), true);
    assert!(why.contains("objects"), "{why}");
}

#[test]
fn object_stream_named_by_many_xref_entries_is_read_once() {
    let pdf = repeated_object_stream(2000);
    let e = ingest::extract("x.pdf", None, &pdf, &Default::default()).expect("readable");
    assert!(e.text.contains("Public notice of the district office"), "{:?}", e.text);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xref_repeat.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let r = screen(&path);
    assert_eq!(r.doc["verdict"], "publish", "{}", r.doc);
    assert_eq!(r.code, 0);
    assert!(r.max_rss_kb < MAX_RSS_KB, "peak RSS {} KiB (limit {MAX_RSS_KB} KiB)", r.max_rss_kb);
    eprintln!("xref_repeat: {} bytes, peak RSS {} KiB", pdf.len(), r.max_rss_kb);
}

#[test]
fn large_stream_named_by_many_xref_entries_is_unreadable() {
    let why = assert_refused("xref_repeat_stream", &repeated_stream(2000), true);
    assert!(why.contains("decode"), "{why}");
}

/// Writes every bomb to `$MISHEN_BOMB_DIR` (to measure a build by hand:
/// `MISHEN_BOMB_DIR=/tmp/bombs cargo test hostile_pdf::write_bombs -- --ignored`).
#[test]
#[ignore]
fn write_bombs() {
    let dir = std::path::PathBuf::from(std::env::var("MISHEN_BOMB_DIR").expect("MISHEN_BOMB_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, pdf) in [
        ("objstm_bomb", object_stream_bomb()),
        ("content_bomb", content_stream_bomb()),
        ("filter_chain", filter_chain(5)),
        ("content_tokens", content_tokens()),
        ("objstm_tokens", object_stream_tokens()),
        ("many_objects", many_objects(500_000)),
        ("objstm_flood", object_stream_flood(6, 90_000)),
        ("objstm_flood_one", object_stream_flood(1, 600_000)),
        ("xref_repeat", repeated_object_stream(2000)),
        ("xref_repeat_stream", repeated_stream(2000)),
    ] {
        std::fs::write(dir.join(format!("{name}.pdf")), pdf).unwrap();
    }
}

#[test]
fn a_normal_pdf_stays_readable_under_the_same_measure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("normal.pdf");
    std::fs::write(&path, crate::batch::cid_pdf(&["关于信息公开的答复", "申请人联系电话13912345678"])).unwrap();
    let r = screen(&path);
    assert_eq!(r.doc["verdict"], "redact", "{}", r.doc);
    assert!(r.doc["unreadable"].is_null(), "{}", r.doc);
    assert_eq!(r.code, 1);
    assert!(r.max_rss_kb < MAX_RSS_KB, "peak RSS {} KiB", r.max_rss_kb);
    let plain = with_page(|_| {});
    assert!(ingest::extract("x.pdf", None, &plain, &Default::default()).unwrap().text.contains("Public notice"));
}

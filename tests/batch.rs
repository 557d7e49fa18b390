//! Batch screening (issue 5): formats, encodings, archives, inputs, reports,
//! baselines and allow-lists, through the real binary. Every fixture is made
//! here, in the test, so nothing outside the repository is needed.

use assert_cmd::Command;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// The wire format (own structs: a change to the output breaks these tests).
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Doc {
    path: String,
    verdict: String,
    findings: Vec<Found>,
    reasons: Vec<Reason>,
    content_sha256: String,
    unreadable: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    baselined: usize,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Found {
    rule: String,
    kind: String,
    category: String,
    start: usize,
    end: usize,
    line: usize,
    column: usize,
    action: String,
    excerpt: String,
    #[serde(default)]
    source: Option<serde_json::Value>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    baselined: bool,
    #[serde(default)]
    allow_listed: bool,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Reason {
    category: String,
    summary: String,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mishen() -> Command {
    let mut c = Command::cargo_bin("mishen").expect("binary mishen is built");
    c.env_remove("MISHEN_BASELINE_KEY");
    c
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("mishen runs");
    Run {
        code: out.status.code().expect("exits normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn jsonl(args: &[&std::ffi::OsStr]) -> (Run, Vec<Doc>) {
    let r = run(mishen().args(["screen", "--format", "jsonl", "--fail-on", "never"]).args(args));
    let docs = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Doc>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (r, docs)
}

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

fn doc<'a>(docs: &'a [Doc], suffix: &str) -> &'a Doc {
    docs.iter().find(|d| d.path.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix} in {:#?}", docs.iter().map(|d| &d.path).collect::<Vec<_>>()))
}

fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

// ---------------------------------------------------------------------------
// Fixture makers.
// ---------------------------------------------------------------------------

const PHONE: &str = "13912345678";

fn redact_doc() -> String {
    format!("关于办理政府信息公开申请的答复\n申请人于2024年7月9日提出申请，联系电话：{PHONE}。\n现将有关情况答复如下。\n")
}

const WITHHOLD_DOC: &str = "机密★5年\n某局关于某专项工作部署的通知\n各单位：\n现将有关事项通知如下。\n";

pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, c) in entries {
        w.start_file(*n, o).unwrap();
        w.write_all(c).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (n, c) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_path(n).unwrap();
        h.set_cksum();
        b.append(&h, *c).unwrap();
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&b.into_inner().unwrap()).unwrap();
    e.finish().unwrap()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

/// A docx whose body holds `body` (a paragraph per line) and optional header.
pub(crate) fn docx(body: &str, header: Option<&str>) -> Vec<u8> {
    let paras = |t: &str| t.lines().map(|l| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", xml_escape(l))).collect::<String>();
    let d = format!("<w:document {W}><w:body>{}</w:body></w:document>", paras(body));
    let mut parts = vec![("word/document.xml".to_owned(), d)];
    if let Some(h) = header {
        parts.push(("word/header1.xml".into(), format!("<w:hdr {W}>{}</w:hdr>", paras(h))));
    }
    let refs: Vec<(&str, &[u8])> = parts.iter().map(|(n, c)| (n.as_str(), c.as_bytes())).collect();
    zip_of(&refs)
}

pub(crate) fn xlsx(sheet: &str, rows: &[&[&str]]) -> Vec<u8> {
    let wb = format!(r#"<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
    let rels = r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut sh = String::from("<worksheet><sheetData>");
    for (i, row) in rows.iter().enumerate() {
        sh.push_str(&format!("<row r=\"{}\">", i + 1));
        for (j, v) in row.iter().enumerate() {
            let col = (b'A' + j as u8) as char;
            sh.push_str(&format!("<c r=\"{col}{}\" t=\"inlineStr\"><is><t>{}</t></is></c>", i + 1, xml_escape(v)));
        }
        sh.push_str("</row>");
    }
    sh.push_str("</sheetData></worksheet>");
    zip_of(&[("xl/workbook.xml", wb.as_bytes()), ("xl/_rels/workbook.xml.rels", rels.as_bytes()), ("xl/worksheets/sheet1.xml", sh.as_bytes())])
}

fn pptx(slides: &[&str]) -> Vec<u8> {
    let mut parts: Vec<(String, String)> = vec![("ppt/presentation.xml".into(), "<p:presentation xmlns:p=\"p\"/>".into())];
    for (i, s) in slides.iter().enumerate() {
        let ps: String = s.lines().map(|l| format!("<a:p><a:r><a:t>{}</a:t></a:r></a:p>", xml_escape(l))).collect();
        parts.push((format!("ppt/slides/slide{}.xml", i + 1), format!("<p:sld xmlns:a=\"a\" xmlns:p=\"p\"><p:txBody>{ps}</p:txBody></p:sld>")));
    }
    let refs: Vec<(&str, &[u8])> = parts.iter().map(|(n, c)| (n.as_str(), c.as_bytes())).collect();
    zip_of(&refs)
}

/// A PDF with a Type0 font, CMap `UniGB-UCS2-H` and a ToUnicode map; one page
/// per element of `pages`, a text line per line.
pub(crate) fn cid_pdf(pages: &[&str]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Adobe-Identity-UCS def\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n1 beginbfrange <0000> <FFFF> <0000> endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end";
    let tounicode = doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()));
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("GB1"), "Supplement" => 4 },
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light", "Encoding" => "UniGB-UCS2-H",
        "DescendantFonts" => vec![descendant.into()], "ToUnicode" => tounicode,
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids = Vec::new();
    for p in pages {
        let mut ops = vec![Operation::new("BT", vec![]), Operation::new("Tf", vec!["F1".into(), 12.into()]), Operation::new("Td", vec![72.into(), 720.into()])];
        for line in p.lines() {
            let code: Vec<u8> = line.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
            ops.push(Operation::new("Tj", vec![Object::String(code, lopdf::StringFormat::Hexadecimal)]));
            ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap()));
        kids.push(
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            })
            .into(),
        );
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn encode(e: &'static encoding_rs::Encoding, s: &str) -> Vec<u8> {
    let (b, _, bad) = e.encode(s);
    assert!(!bad);
    b.into_owned()
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut b = vec![0xFF, 0xFE];
    b.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
    b
}

// ---------------------------------------------------------------------------
// One corpus, every entry path.
// ---------------------------------------------------------------------------

fn kinds(d: &Doc) -> BTreeSet<String> {
    d.findings.iter().filter(|f| f.action != "allow").map(|f| f.kind.clone()).collect()
}

#[test]
fn every_wrapper_gives_the_same_decision_as_plain_utf8() {
    let docs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/docs");
    let dir = TempDir::new().unwrap();
    let mut names = Vec::new();
    for e in fs::read_dir(&docs_dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&p).unwrap();
        write(dir.path(), &format!("{stem}/plain.txt"), &text);
        write(dir.path(), &format!("{stem}/gbk.txt"), encode(encoding_rs::GB18030, &text));
        write(dir.path(), &format!("{stem}/utf16.txt"), utf16le_bom(&text));
        write(dir.path(), &format!("{stem}/bom.md"), [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat());
        write(dir.path(), &format!("{stem}/word.docx"), docx(&text, None));
        write(dir.path(), &format!("{stem}/bundle.zip"), zip_of(&[("in/doc.txt", text.as_bytes())]));
        write(dir.path(), &format!("{stem}/bundle.tar.gz"), tar_gz_of(&[("w.docx", &docx(&text, None))]));
        let html: String = text.lines().map(|l| format!("<p>{}</p>\n", xml_escape(l))).collect();
        write(dir.path(), &format!("{stem}/page.html"), format!("<html><body>{html}</body></html>"));
        write(dir.path(), &format!("{stem}/print.pdf"), cid_pdf(&[&text]));
        names.push(stem);
    }
    let (r, docs) = jsonl(&[dir.path().as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(docs.len(), names.len() * 9);
    for stem in &names {
        let plain = doc(&docs, &format!("{stem}/plain.txt"));
        assert!(plain.unreadable.is_none());
        for w in ["gbk.txt", "utf16.txt", "bom.md", "word.docx", "bundle.zip!/in/doc.txt", "bundle.tar.gz!/w.docx"] {
            let d = doc(&docs, &format!("{stem}/{w}"));
            assert_eq!(d.verdict, plain.verdict, "{stem}/{w}: {:?}", d.reasons);
            assert_eq!(kinds(d), kinds(plain), "{stem}/{w}");
        }
        for w in ["page.html", "print.pdf"] {
            let d = doc(&docs, &format!("{stem}/{w}"));
            assert_eq!(d.verdict, plain.verdict, "{stem}/{w}: {:?}", d.reasons);
        }
    }
    assert_eq!(doc(&docs, "annual_report/gbk.txt").encoding.as_deref(), Some("gb18030"));
    assert_eq!(doc(&docs, "annual_report/utf16.txt").encoding.as_deref(), Some("UTF-16LE"));
    assert_eq!(doc(&docs, "annual_report/word.docx").format.as_deref(), Some("docx"));
}

// ---------------------------------------------------------------------------
// Formats and provenance.
// ---------------------------------------------------------------------------

#[test]
fn findings_say_where_in_the_source_they_are() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.docx", docx(&redact_doc(), Some("机密★5年")));
    write(dir.path(), "b.xlsx", xlsx("名单", &[&["姓名", "联系电话"], &["张三", PHONE]]));
    write(dir.path(), "c.pptx", pptx(&["工作汇报", &format!("联系人电话：{PHONE}")]));
    write(dir.path(), "d.pdf", cid_pdf(&["关于信息公开的答复", &format!("申请人联系电话：{PHONE}")]));
    write(dir.path(), "e.json", format!(r#"{{"申请人": {{"电话": "{PHONE}"}}}}"#));
    write(dir.path(), "f.xml", format!("<r><p>联系电话：{PHONE}</p></r>"));
    write(dir.path(), "g.csv", format!("姓名,联系电话\n张三,{PHONE}\n"));
    let (r, docs) = jsonl(&[dir.path().as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let phone = |d: &Doc| d.findings.iter().find(|f| f.kind == "phone").unwrap_or_else(|| panic!("phone in {}: {:#?}", d.path, d.findings)).source.clone();
    let a = doc(&docs, "a.docx");
    assert_eq!(a.verdict, "withhold", "the header's classification mark counts");
    assert_eq!(phone(a), Some(serde_json::json!({"part": "word/document.xml"})));
    assert_eq!(a.findings.iter().find(|f| f.kind == "classification_mark").unwrap().source, Some(serde_json::json!({"part": "word/header1.xml"})));
    assert_eq!(phone(doc(&docs, "b.xlsx")), Some(serde_json::json!({"sheet": "名单", "cell": "B2"})));
    assert_eq!(phone(doc(&docs, "c.pptx")), Some(serde_json::json!({"slide": 2})));
    assert_eq!(phone(doc(&docs, "d.pdf")), Some(serde_json::json!({"page": 2})));
    assert_eq!(phone(doc(&docs, "e.json")), Some(serde_json::json!({"part": "/申请人/电话"})));
    assert_eq!(phone(doc(&docs, "g.csv")), None, "plain text has no source: offsets are the file's");
    for d in &docs {
        assert_ne!(d.verdict, "publish", "{}", d.path);
    }
}

#[test]
fn offsets_refer_to_the_extracted_text() {
    let dir = TempDir::new().unwrap();
    let text = redact_doc();
    let p = write(dir.path(), "gbk.txt", encode(encoding_rs::GBK, &text));
    let (_, docs) = jsonl(&[p.as_os_str()]);
    let f = docs[0].findings.iter().find(|f| f.kind == "phone").unwrap();
    assert_eq!(char_slice(&text, f.start, f.end), PHONE);
    assert_eq!(docs[0].content_sha256, mishen::screen::sha256_hex(&fs::read(&p).unwrap()), "hash of the bytes, not the text");
}

#[test]
fn short_big5_and_gbk_inputs_and_the_encoding_flag() {
    let dir = TempDir::new().unwrap();
    // 28 bytes of Big5: the length at which detection alone picked GBK.
    let big5 = encode(encoding_rs::BIG5, "機密文件請勿外傳聯絡電話號碼");
    assert_eq!(big5.len(), 28);
    write(dir.path(), "big5.txt", &big5);
    write(dir.path(), "gbk.txt", encode(encoding_rs::GBK, "通知"));
    let (_, docs) = jsonl(&[dir.path().as_os_str()]);
    assert_eq!(doc(&docs, "big5.txt").encoding.as_deref(), Some("Big5"));
    assert_eq!(doc(&docs, "gbk.txt").encoding.as_deref(), Some("gb18030"));

    // --encoding overrides detection; a wrong one makes the document unreadable.
    let (_, docs) = jsonl(&["--encoding".as_ref(), "big5".as_ref(), dir.path().join("big5.txt").as_os_str()]);
    assert_eq!(docs[0].encoding.as_deref(), Some("Big5"));
    let (_, docs) = jsonl(&["--encoding".as_ref(), "utf-8".as_ref(), dir.path().join("big5.txt").as_os_str()]);
    assert_eq!(docs[0].verdict, "withhold");
    assert!(docs[0].unreadable.as_deref().unwrap().contains("invalid UTF-8 at byte 0"), "{:?}", docs[0].unreadable);
    let r = run(mishen().args(["screen", "--encoding", "no-such-charset", "x.txt"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-charset"));
}

// ---------------------------------------------------------------------------
// Fail safe: nothing unreadable is published or skipped.
// ---------------------------------------------------------------------------

#[test]
fn unreadable_documents_are_withheld_with_a_reason() {
    let dir = TempDir::new().unwrap();
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(512, 0);
    write(dir.path(), "encrypted.docx", &ole);
    write(dir.path(), "scanned.pdf", cid_pdf(&[""]));
    write(dir.path(), "corrupt.xlsx", b"PK\x03\x04 broken");
    write(dir.path(), "truncated.pdf", &cid_pdf(&["文字"])[..60]);
    write(dir.path(), "legacy.doc", b"\xD0\xCF\x11\xE0");
    write(dir.path(), "photo.jpg", b"\xFF\xD8\xFF");
    write(dir.path(), "big.txt", "很长的文本".repeat(300));
    write(dir.path(), "latin1.txt", encode(encoding_rs::WINDOWS_1252, "caf\u{e9} r\u{e9}sum\u{e9}"));
    let (r, docs) = jsonl(&["--max-size".as_ref(), "2500".as_ref(), dir.path().as_os_str()]);
    assert_eq!(r.code, 0, "--fail-on never: {}", r.stderr);
    assert_eq!(docs.len(), 8, "none skipped");
    let why = |s: &str| doc(&docs, s).unreadable.clone().unwrap_or_else(|| panic!("{s} readable"));
    assert!(why("encrypted.docx").contains("encrypted"));
    assert!(why("scanned.pdf").contains("no text layer"));
    assert!(why("corrupt.xlsx").contains("corrupt"));
    assert!(why("truncated.pdf").contains("corrupt pdf"));
    assert!(why("legacy.doc").contains("legacy"));
    assert!(why("photo.jpg").contains("OCR"));
    assert!(why("big.txt").contains("exceeds the limit of 2500 bytes"));
    assert!(why("latin1.txt").contains("--encoding"));
    for d in &docs {
        assert_eq!(d.verdict, "withhold", "{}", d.path);
        assert!(d.reasons.iter().any(|r| r.summary.starts_with("unreadable: ")), "{:?}", d.reasons);
    }
    let r = run(mishen().args(["screen", "--format", "jsonl"]).arg(dir.path()));
    assert_eq!(r.code, 4);

    // A symbolic link in a tree is reported, not followed and not skipped.
    #[cfg(unix)]
    {
        let t = TempDir::new().unwrap();
        let outside = write(t.path(), "outside/secret.txt", WITHHOLD_DOC);
        std::os::unix::fs::symlink(&outside, t.path().join("link.txt")).unwrap();
        let (_, docs) = jsonl(&[t.path().join("link.txt").parent().unwrap().as_os_str()]);
        let l = doc(&docs, "link.txt");
        assert_eq!(l.verdict, "withhold");
        assert!(l.unreadable.as_deref().unwrap().contains("symbolic link"));
    }
}

// ---------------------------------------------------------------------------
// Archives.
// ---------------------------------------------------------------------------

#[test]
fn nested_archives_are_walked_with_bang_paths_and_limits() {
    let dir = TempDir::new().unwrap();
    let inner = tar_gz_of(&[("d/report.docx", &docx(&redact_doc(), None)), ("ok.txt", "通知".as_bytes())]);
    let zeros = vec![b'0'; 4 << 20];
    let z = zip_of(&[
        ("notes/a.txt", redact_doc().as_bytes()),
        ("inner.tar.gz", &inner),
        ("../../etc/evil.txt", b"x"),
        ("bomb.txt", &zeros),
        ("secret.md", WITHHOLD_DOC.as_bytes()),
    ]);
    write(dir.path(), "release.zip", &z);
    let (r, docs) = jsonl(&[dir.path().as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let root = dir.path().join("release.zip").display().to_string();
    let paths: Vec<String> = docs.iter().map(|d| d.path.strip_prefix(&root).unwrap().to_owned()).collect();
    assert_eq!(paths, ["!/notes/a.txt", "!/inner.tar.gz!/d/report.docx", "!/inner.tar.gz!/ok.txt", "!/../../etc/evil.txt", "!/bomb.txt", "!/secret.md"]);
    assert_eq!(docs[0].verdict, "redact");
    assert_eq!(docs[1].verdict, "redact");
    assert_eq!(docs[2].verdict, "publish");
    assert!(docs[3].unreadable.as_deref().unwrap().contains("unsafe entry path"));
    assert!(docs[4].unreadable.as_deref().unwrap().contains("zip bomb"));
    assert_eq!(docs[5].verdict, "withhold");
    assert!(docs[5].unreadable.is_none());

    // A damaged archive is reported against the archive itself.
    write(dir.path(), "broken.zip", b"PK\x05\x06 nope");
    let (_, docs) = jsonl(&[dir.path().join("broken.zip").as_os_str()]);
    assert_eq!(docs.len(), 1);
    assert!(docs[0].unreadable.as_deref().unwrap().contains("corrupt zip"));

    // Standard input can be an archive.
    let r = mishen().args(["screen", "--format", "jsonl", "--stdin-name", "up.tar.gz", "-"]).write_stdin(inner.clone()).output().unwrap();
    let out = String::from_utf8(r.stdout).unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(out.contains(r#""path":"up.tar.gz!/d/report.docx""#), "{out}");
}

#[test]
fn redacted_packages_keep_their_format_and_pdfs_become_text() {
    let dir = TempDir::new().unwrap();
    let out = TempDir::new().unwrap();
    write(dir.path(), "in/pack.zip", zip_of(&[("a/b.docx", &docx(&redact_doc(), None))]));
    let r = run(mishen().args(["screen", "--fail-on", "never", "--redact-to"]).arg(out.path()).arg(dir.path().join("in")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A docx is redacted in place: the copy is a docx under its own name.
    let copy = fs::read(out.path().join("pack.zip!/a/b.docx")).unwrap();
    let red = mishen::ingest::extract("b.docx", None, &copy, &mishen::ingest::Limits::default()).unwrap().text;
    assert!(!red.contains(PHONE) && red.contains('■'), "{red}");
    assert!(!copy.windows(PHONE.len()).any(|w| w == PHONE.as_bytes()));
    // A PDF gets a text copy, and the manifest says so.
    write(dir.path(), "in/p.pdf", cid_pdf(&[&redact_doc()]));
    let r = run(mishen().args(["screen", "--fail-on", "never", "--redact-to"]).arg(out.path()).arg(dir.path().join("in")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let manifest = fs::read_to_string(out.path().join("mishen-manifest.jsonl")).unwrap();
    let pdf = manifest.lines().find(|l| l.contains("p.pdf\"")).unwrap();
    if pdf.contains(r#""status":"written""#) {
        assert!(pdf.contains(r#""output":"p.pdf.txt""#) && pdf.contains(r#""text_copy":true"#), "{pdf}");
    }
}

/// A text document's copy keeps its encoding (GB18030 stays GB18030, UTF-16
/// keeps its byte order), a text rendering of another format is UTF-8 and
/// says so, and an encoding without the mask character falls back to UTF-8.
#[test]
fn redacted_copies_keep_the_encoding_of_text_documents() {
    let dir = TempDir::new().unwrap();
    let out = TempDir::new().unwrap();
    write(dir.path(), "gb.txt", encode(encoding_rs::GB18030, &redact_doc()));
    write(dir.path(), "u16.txt", utf16le_bom(&redact_doc()));
    write(dir.path(), "w.docx", docx(&redact_doc(), None));
    let r = run(mishen().args(["screen", "--fail-on", "never", "--redact-to"]).arg(out.path()).arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let gb = fs::read(out.path().join("gb.txt")).unwrap();
    assert!(std::str::from_utf8(&gb).is_err(), "not UTF-8");
    let (gb_text, _, bad) = encoding_rs::GB18030.decode(&gb);
    assert!(!bad && gb_text.contains('■') && !gb_text.contains(PHONE), "{gb_text}");
    assert!(gb_text.contains("关于办理政府信息公开申请的答复"));
    let u16 = fs::read(out.path().join("u16.txt")).unwrap();
    assert_eq!(&u16[..2], &[0xFF, 0xFE], "UTF-16LE with its BOM");
    let (u16_text, _, bad) = encoding_rs::UTF_16LE.decode(&u16);
    assert!(!bad && u16_text.contains('■') && !u16_text.contains(PHONE));
    let w = fs::read(out.path().join("w.docx")).unwrap();
    let w = mishen::ingest::extract("w.docx", None, &w, &mishen::ingest::Limits::default()).unwrap().text;
    assert!(w.contains('■') && !w.contains(PHONE));
    let manifest = fs::read_to_string(out.path().join("mishen-manifest.jsonl")).unwrap();
    let line = |name: &str| manifest.lines().find(|l| l.contains(&format!("{name}\""))).unwrap_or_else(|| panic!("{name}: {manifest}")).to_owned();
    assert!(line("gb.txt").contains(r#""output_encoding":"gb18030""#), "{manifest}");
    assert!(line("u16.txt").contains(r#""output_encoding":"UTF-16LE""#), "{manifest}");
    let w = line("w.docx");
    assert!(w.contains(r#""output":"w.docx""#) && !w.contains("text_copy") && !w.contains("output_encoding"), "{manifest}");
    // windows-1252 has no ■: the copy is UTF-8, and the manifest says so.
    let dir = TempDir::new().unwrap();
    let out = TempDir::new().unwrap();
    write(dir.path(), "latin1.txt", encode(encoding_rs::WINDOWS_1252, &format!("Contact: {PHONE} (caf\u{e9})\n")));
    let r = run(mishen().args(["screen", "--fail-on", "never", "--encoding", "windows-1252", "--redact-to"]).arg(out.path()).arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let manifest = fs::read_to_string(out.path().join("mishen-manifest.jsonl")).unwrap();
    assert!(manifest.contains(r#""status":"written""#) && manifest.contains(r#""output_encoding":"UTF-8""#), "{manifest}");
    let t = fs::read_to_string(out.path().join("latin1.txt")).unwrap();
    assert!(t.contains('■') && !t.contains(PHONE) && t.contains("caf\u{e9}"), "{t}");
}

// ---------------------------------------------------------------------------
// Inputs: --exclude, .mishenignore, threads.
// ---------------------------------------------------------------------------

#[test]
fn exclude_and_mishenignore() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "keep.txt", "通知");
    write(dir.path(), "drafts/x.txt", "草稿");
    write(dir.path(), "sub/tmp.bak", "x");
    write(dir.path(), "sub/.mishenignore", "# local\n*.bak\n/private\n");
    write(dir.path(), "sub/private/p.txt", "x");
    write(dir.path(), "sub/deep/private/q.txt", "kept: not anchored here");
    write(dir.path(), "pack.zip", zip_of(&[("a.txt", b"1"), ("drafts/b.txt", b"2")]));
    let (r, docs) = jsonl(&["--exclude".as_ref(), "drafts".as_ref(), dir.path().as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut got: Vec<String> = docs.iter().map(|d| d.path.strip_prefix(&dir.path().display().to_string()).unwrap().trim_start_matches('/').to_owned()).collect();
    got.sort();
    assert_eq!(got, ["keep.txt", "pack.zip!/a.txt", "sub/deep/private/q.txt"]);
    let r = run(mishen().args(["screen", "--exclude", "!x"]).arg(dir.path()));
    assert_eq!(r.code, 2);
}

#[test]
fn one_or_two_threads_give_the_same_output_in_input_order() {
    let dir = TempDir::new().unwrap();
    for i in 0..40 {
        let body = if i % 3 == 0 { redact_doc() } else if i % 7 == 0 { WITHHOLD_DOC.to_owned() } else { format!("第{i}号通知。\n") };
        write(dir.path(), &format!("d{i:02}.txt"), body);
    }
    let a = run(mishen().args(["screen", "--format", "jsonl", "-j", "1"]).arg(dir.path()));
    let b = run(mishen().args(["screen", "--format", "jsonl", "-j", "2"]).arg(dir.path()));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.code, 3);
    let paths: Vec<&str> = a.stdout.lines().map(|l| l.split('"').nth(3).unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    // The summary line: documents, verdict counts, unreadable, time, MB/s.
    assert!(a.stderr.contains("40 document(s):") && a.stderr.contains("unreadable") && a.stderr.contains("MB/s"), "{}", a.stderr);
}

// ---------------------------------------------------------------------------
// SARIF.
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct Sarif {
    version: String,
    runs: Vec<SarifRun>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun {
    tool: serde_json::Value,
    results: Vec<SarifResult>,
    column_kind: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    level: String,
    message: serde_json::Value,
    locations: Vec<serde_json::Value>,
}

#[test]
fn sarif_has_rules_and_physical_locations() {
    let dir = TempDir::new().unwrap();
    let text = format!("第一行\n{}", redact_doc());
    write(dir.path(), "a.txt", &text);
    write(dir.path(), "b.pdf", cid_pdf(&[""]));
    let r = run(mishen().args(["screen", "--format", "sarif"]).arg(dir.path()));
    assert_eq!(r.code, 4, "{}", r.stderr);
    let s: Sarif = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s.version, "2.1.0");
    let run0 = &s.runs[0];
    assert_eq!(run0.column_kind, "unicodeCodePoints");
    let rules = run0.tool["driver"]["rules"].as_array().unwrap();
    let phone_rule = rules.iter().find(|r| r["id"] == "pd.phone.mobile").unwrap();
    for k in ["name", "shortDescription", "fullDescription", "help"] {
        assert!(!phone_rule[k].is_null(), "{k}");
    }
    assert!(phone_rule["properties"]["basis"].as_str().unwrap().contains("条例"));
    let ids: BTreeSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len(), "one entry per rule");

    let phone = run0.results.iter().find(|r| r.rule_id == "pd.phone.mobile").unwrap();
    assert_eq!(phone.level, "warning");
    let pl = &phone.locations[0]["physicalLocation"];
    assert!(pl["artifactLocation"]["uri"].as_str().unwrap().ends_with("a.txt"));
    let reg = &pl["region"];
    assert_eq!(reg["startLine"], 3);
    let (off, len) = (reg["charOffset"].as_u64().unwrap() as usize, reg["charLength"].as_u64().unwrap() as usize);
    assert_eq!(char_slice(&text, off, off + len), PHONE);
    let line3 = text.lines().nth(2).unwrap();
    let col = reg["startColumn"].as_u64().unwrap() as usize;
    assert_eq!(char_slice(line3, col - 1, col - 1 + len), PHONE);
    assert!(!r.stdout.contains(PHONE), "no value in SARIF");
    assert!(phone.message["text"].as_str().unwrap().contains("phone"));

    let u = run0.results.iter().find(|r| r.rule_id == "mishen.unreadable").unwrap();
    assert_eq!(u.level, "error");
    assert!(u.locations[0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().ends_with("b.pdf"));
}

// ---------------------------------------------------------------------------
// HTML.
// ---------------------------------------------------------------------------

fn html_report(dir: &Path, reveal: bool) -> String {
    let mut c = mishen();
    c.args(["screen", "--format", "html", "--fail-on", "never"]);
    if reveal {
        c.arg("--reveal");
    }
    let r = run(c.arg(dir));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

fn html_fixture() -> TempDir {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", redact_doc());
    write(dir.path(), "b.txt", WITHHOLD_DOC);
    write(dir.path(), "c.txt", "本通告自发布之日起施行。");
    write(dir.path(), "d.pdf", cid_pdf(&[""]));
    dir
}

#[test]
fn html_masks_by_default_and_reveals_on_request() {
    let dir = html_fixture();
    let masked = html_report(dir.path(), false);
    assert!(masked.starts_with("<!DOCTYPE html>"));
    assert!(!masked.contains(PHONE), "masked by default");
    assert!(masked.contains("<mark class=\"hl cat-personal_data act-redact\""));
    assert!(masked.contains("■■■■■■■■■■■</mark>"));
    assert!(masked.contains("data-verdict=\"withhold\""));
    assert!(masked.contains("unreadable: scanned PDF"));
    assert!(masked.contains("data-category=\"personal_data\"") && masked.contains("data-verdict=\"publish\""), "filters");
    assert!(!masked.contains("src=\"http") && !masked.contains("href=\"http"), "self-contained");
    let shown = html_report(dir.path(), true);
    assert!(shown.contains(&format!("{PHONE}</mark>")));
}

/// A withheld document with a body sentence past its header lines.
const WITHHELD_LONG: &str = "机密★5年\n某局关于某专项工作部署的通知\n各单位：\n现将有关事项通知如下。\n一、总体要求\n二、工作安排\n正文第七行：BODY-SENTENCE-OF-A-SECRET。\n";

/// The report lists each document's findings in the page (rule, confidence,
/// basis, explanation), has a legend, a summary and an index, prints without
/// scroll boxes, and leaves a withheld document's body out unless `--reveal`.
#[test]
fn html_lists_findings_and_leaves_withheld_bodies_out() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", redact_doc());
    write(dir.path(), "b.txt", WITHHELD_LONG);
    let page = html_report(dir.path(), false);
    // The findings table: what the marks' titles say, in the page.
    assert!(page.contains("<table class=\"findings\">"));
    assert!(page.contains("<td>pd.phone.mobile</td>") && page.contains("<td>ss.mark.star</td>"), "rules");
    assert!(page.contains("<td class=\"num\">0.95</td>"), "confidence");
    assert!(page.contains("个人信息保护法") && page.contains("保守国家秘密法"), "basis");
    assert!(page.contains("mobile prefix allocated"), "explanation");
    // Each mark is numbered and linked to its row.
    assert!(page.contains("</mark><sup class=\"fn\"><a href=\"#doc-"));
    // Legend, summary and index.
    assert!(page.contains("图例 legend") && page.contains("<nav id=\"index\">"));
    assert!(page.contains("不予公开 withhold 1") && page.contains("删除后公开 redact 1"));
    // Printing: no scroll box, no sticky header.
    assert!(page.contains("@media print") && page.contains("pre.text{max-height:none;overflow:visible"));
    // The withheld body is left out, its header lines and marks kept.
    assert!(!page.contains("BODY-SENTENCE-OF-A-SECRET"), "withheld body not embedded");
    assert!(page.contains("body not embedded"));
    assert!(page.contains("cat-state_secret act-withhold"));
    assert!(!page.contains(PHONE));
    let shown = html_report(dir.path(), true);
    assert!(shown.contains("BODY-SENTENCE-OF-A-SECRET"), "--reveal embeds it");
    // Without an audit log there is no record line; with one, each section names its record.
    assert!(!page.contains("audit record "));
    let data = TempDir::new().unwrap();
    let r = run(mishen().args(["screen", "--format", "html", "--fail-on", "never", "--data-dir"]).arg(data.path()).arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("audit record ").count(), 2, "one record line a document");
    assert!(!r.stdout.contains("<!--mishen:record-->"));
}

/// The report printed to PDF by headless Chromium holds the whole text of a
/// long document (no scroll box cuts it) and every finding's row.
#[test]
fn html_report_prints_completely() {
    let Some(chromium) = chromium_or_skip("html_report_prints_completely") else { return };
    let dir = TempDir::new().unwrap();
    let mut long: String = (1..=150).map(|i| format!("第{i}段：本机关依法开展政府信息公开工作。\n")).collect();
    long.push_str(&format!("联系电话：{PHONE}。END-MARKER-OF-THE-TEXT\n"));
    write(dir.path(), "long.txt", &long);
    let out = TempDir::new().unwrap();
    let page = out.path().join("report.html");
    fs::write(&page, html_report(dir.path(), false)).unwrap();
    let pdf = out.path().join("report.pdf");
    let profile = TempDir::new().unwrap();
    let o = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(&pdf).unwrap();
    let text = mishen::ingest::extract("report.pdf", None, &bytes, &mishen::ingest::Limits::default()).expect("the printed report reads").text;
    assert!(text.contains("END-MARKER-OF-THE-TEXT"), "the end of a long text is printed: {}", &text[text.len().saturating_sub(400)..]);
    assert!(text.contains("pd.phone.mobile"), "the findings table is printed");
}

/// The Chromium binary, or `None` (with a notice) when it is missing and `CI`
/// is unset; under CI a missing Chromium is a failure.
fn chromium_or_skip(test: &str) -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but /usr/bin/chromium is missing: .ci/run installs it");
        }
        eprintln!("NOTICE: {test} skipped: /usr/bin/chromium not installed (CI installs it)");
    }
    found
}

/// Renders the report in headless Chromium and checks the DOM after scripts ran.
/// Skips (with a notice) only when Chromium is missing and `CI` is unset.
#[test]
fn html_report_renders_in_chromium() {
    let Some(chromium) = chromium_or_skip("html_report_renders_in_chromium") else { return };
    let dir = html_fixture();
    let out = TempDir::new().unwrap();
    let page = out.path().join("report.html");
    fs::write(&page, html_report(dir.path(), false)).unwrap();
    let profile = TempDir::new().unwrap();
    let o = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    // The script ran and counted the highlights; the passages are in the DOM.
    assert!(dom.contains("data-highlights=\"2\""), "{dom}");
    assert!(dom.contains("data-documents=\"4\""), "{dom}");
    assert!(dom.contains("cat-personal_data") && dom.contains("cat-state_secret"));
    assert!(dom.contains("■■■■■■■■■■■</mark>"));
    assert!(!dom.contains(PHONE));
}

// ---------------------------------------------------------------------------
// Baselines and allow-lists.
// ---------------------------------------------------------------------------

#[test]
fn baseline_accepts_known_findings_by_content_not_position() {
    let dir = TempDir::new().unwrap();
    let base = TempDir::new().unwrap();
    let key = write(base.path(), "key", "a-ci-secret-of-sufficient-length");
    let bl = base.path().join("baseline.json");
    let p = write(dir.path(), "a.txt", redact_doc());
    let r = run(mishen().args(["screen", "--format", "jsonl", "--baseline-key"]).arg(&key).arg("--write-baseline").arg(&bl).arg(dir.path()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let saved = fs::read_to_string(&bl).unwrap();
    assert!(saved.contains("mishen-baseline/1") && saved.contains("pd.phone.mobile"));
    assert!(!saved.contains(PHONE), "no value in the baseline");
    assert!(r.stdout.contains("\"fingerprint\":\"pd.phone.mobile:"));

    // The same document passes the CI gate with the baseline, via the environment
    // key too; its verdict stays redact and its findings are flagged, not dropped.
    let r = run(mishen().args(["screen", "--format", "jsonl", "--baseline"]).arg(&bl).arg(dir.path()).env("MISHEN_BASELINE_KEY", "a-ci-secret-of-sufficient-length"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d: Doc = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(d.verdict, "redact");
    assert!(d.baselined >= 1 && d.baselined == d.findings.iter().filter(|f| f.baselined).count());
    assert!(r.stdout.contains(r#""gate":"publish""#));

    // Fingerprints include the document hash: an edited document is screened afresh.
    fs::write(&p, format!("新增一行。\n{}", redact_doc())).unwrap();
    let r = run(mishen().args(["screen", "--baseline-key"]).arg(&key).arg("--baseline").arg(&bl).arg(dir.path()));
    assert_eq!(r.code, 1);
    // A different key does not match; no key at all is an error.
    fs::write(&p, redact_doc()).unwrap();
    let other = write(base.path(), "other", "another-secret-key-value");
    let r = run(mishen().args(["screen", "--baseline-key"]).arg(&other).arg("--baseline").arg(&bl).arg(dir.path()));
    assert_eq!(r.code, 1);
    let r = run(mishen().args(["screen", "--baseline"]).arg(&bl).arg(dir.path()));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("MISHEN_BASELINE_KEY"));
}

#[test]
fn fingerprints_do_not_depend_on_line_numbers() {
    let dir = TempDir::new().unwrap();
    let a = write(dir.path(), "a.docx", docx(&redact_doc(), None));
    let b = write(dir.path(), "b.docx", docx(&format!("\n\n\n{}", redact_doc()), None));
    let prints = |p: &Path| -> Vec<(String, usize)> {
        let r = run(mishen().args(["screen", "--format", "jsonl"]).env("MISHEN_BASELINE_KEY", "0123456789abcdef0123").arg(p));
        let d: Doc = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
        d.findings.iter().map(|f| (f.fingerprint.clone().unwrap().split(':').take(2).collect::<Vec<_>>().join(":"), f.line)).collect()
    };
    let (pa, pb) = (prints(&a), prints(&b));
    assert_eq!(pa.iter().map(|x| &x.0).collect::<Vec<_>>(), pb.iter().map(|x| &x.0).collect::<Vec<_>>());
    assert_ne!(pa[0].1, pb[0].1, "the lines differ, the rule+value parts do not");
}

#[test]
fn allow_list_passes_the_ci_gate_but_changes_no_verdict() {
    let dir = TempDir::new().unwrap();
    let lists = TempDir::new().unwrap();
    let hotline = "本机关政务服务热线：0574-87123456。\n";
    write(dir.path(), "a.txt", hotline);
    let allow = write(lists.path(), "allow.txt", "# organization hotline\nphone: 0574 8712 3456\n");
    let r = run(mishen().args(["screen", "--format", "jsonl"]).arg(dir.path().join("a.txt")));
    assert_eq!(r.code, 1, "without the list the number is redacted: {}", r.stdout);
    let r = run(mishen().args(["screen", "--format", "jsonl", "--allow"]).arg(&allow).arg(dir.path().join("a.txt")));
    assert_eq!(r.code, 0, "the gate does not count it: {}", r.stdout);
    let d: Doc = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(d.verdict, "redact", "the verdict is the screening's");
    assert!(d.findings.iter().any(|f| f.kind == "phone" && f.action == "redact" && f.allow_listed));
    // Text and SARIF say so too.
    let r = run(mishen().args(["screen", "--allow"]).arg(&allow).arg(dir.path().join("a.txt")));
    assert!(r.stdout.contains("(allow-listed)") && r.stdout.contains("1 allow-listed"), "{}", r.stdout);
    let r = run(mishen().args(["screen", "--format", "sarif", "--allow"]).arg(&allow).arg(dir.path().join("a.txt")));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let res = &v["runs"][0]["results"][0];
    assert_eq!(res["suppressions"][0]["kind"], "external", "{res}");
    assert_eq!(res["level"], "warning");
    let bad = write(lists.path(), "bad.txt", "nosuchkind: 1\n");
    let r = run(mishen().args(["screen", "--allow"]).arg(&bad).arg(dir.path()));
    assert_eq!(r.code, 2);
}

// ---------------------------------------------------------------------------
// CI: default excludes and the unreadable exit code (issue 11).
// ---------------------------------------------------------------------------

#[test]
fn tool_and_os_files_are_skipped_by_default_counted_and_listed() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "keep.txt", "通知");
    write(dir.path(), ".git/config", format!("[user]\n\tphone = {PHONE}\n"));
    write(dir.path(), "sub/.svn/entries", "x");
    write(dir.path(), "sub/.hg", "gitdir: elsewhere");
    write(dir.path(), "sub/.DS_Store", b"\x00\x00\x00\x01Bud1\x00");
    write(dir.path(), "Thumbs.db", b"\xd0\xcf\x11\xe0");
    write(dir.path(), "desktop.ini", "[.ShellClassInfo]");
    write(dir.path(), "~$报告.docx", b"\x0bWang Xiaoyu");
    write(dir.path(), "drafts/d.txt", "x");
    write(dir.path(), "pack.zip", zip_of(&[(".DS_Store", b"\x00\x01" as &[u8]), ("a.txt", b"1")]));
    let r = run(mishen().args(["screen", "--exclude", "drafts"]).arg(dir.path()));
    let summary = r.stdout.lines().last().unwrap();
    // An archive member is screened whatever its name: it is published with the archive.
    assert_eq!(r.code, 4, "{}", r.stdout);
    assert!(summary.contains("skipped 7 by default excludes") && summary.contains("1 by --exclude"), "{summary}");
    for name in [".git", ".svn", ".hg", ".DS_Store", "Thumbs.db", "desktop.ini", "~$报告.docx"] {
        assert!(summary.contains(name), "{name} listed: {summary}");
    }
    let r = run(mishen().args(["screen", "--format", "jsonl", "--exclude", "drafts"]).arg(dir.path().join("keep.txt")).arg(dir.path().join("sub")));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("skipped 3 by default excludes"), "the summary goes to stderr: {}", r.stderr);
    let (r, docs) = jsonl(&["--no-default-excludes".as_ref(), dir.path().as_os_str()]);
    assert_eq!(r.code, 0);
    for name in [".git/config", "sub/.svn/entries", "sub/.hg", "sub/.DS_Store", "desktop.ini", "~$报告.docx"] {
        assert!(docs.iter().any(|d| d.path.ends_with(name)), "{name}: {}", r.stdout);
    }
    assert!(docs.iter().any(|d| d.path.ends_with("Thumbs.db") && d.unreadable.is_some()));
    assert!(!r.stderr.contains("by default excludes"), "{}", r.stderr);
}

#[test]
fn unreadable_input_has_its_own_exit_code() {
    let dir = TempDir::new().unwrap();
    let scan = write(dir.path(), "scan.jpg", b"\xff\xd8\xff\xe0");
    let secret = write(dir.path(), "secret.txt", WITHHOLD_DOC);
    let open = write(dir.path(), "open.txt", redact_doc());
    let code = |args: &[&Path], fail_on: &str| run(mishen().args(["screen", "--fail-on", fail_on]).args(args)).code;
    assert_eq!(code(&[&scan], "redact"), 4);
    assert_eq!(code(&[&scan, &open], "redact"), 4, "unreadable is worse than redact");
    assert_eq!(code(&[&scan], "withhold"), 4, "unreadable is a withhold verdict");
    assert_eq!(code(&[&scan, &secret], "redact"), 3, "a classified document wins");
    assert_eq!(code(&[&open], "withhold"), 0);
    assert_eq!(code(&[&scan], "never"), 0);
}

#[test]
fn xml_that_needs_a_dtd_is_unreadable_never_screened_as_what_is_left() {
    let dir = TempDir::new().unwrap();
    let smuggled = format!(
        r#"<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY m "机密★5年">]><w:document {W}><w:body><w:p><w:r><w:t>&m;</w:t></w:r></w:p><w:p><w:r><w:t>关于某事的通知</w:t></w:r></w:p></w:body></w:document>"#
    );
    write(dir.path(), "smuggled.docx", zip_of(&[("word/document.xml", smuggled.as_bytes())]));
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    write(dir.path(), "laughs.xml", laughs);
    write(dir.path(), "external.xml", r#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r>正文</r>"#);
    write(dir.path(), "undeclared.xml", "<r>&secret;正文</r>");
    write(dir.path(), "plain.xml", "<r><t>为做好政府信息公开工作，现将有关事项通知如下。</t></r>");
    let (r, docs) = jsonl(&[dir.path().as_os_str()]);
    assert!(r.stderr.contains("4 unreadable"), "{}", r.stderr);
    for name in ["smuggled.docx", "laughs.xml", "external.xml", "undeclared.xml"] {
        let d = doc(&docs, name);
        assert_eq!(d.verdict, "withhold", "{name}");
        let why = d.unreadable.clone().unwrap_or_else(|| panic!("{name} readable"));
        assert!(why.contains("DTD"), "{name}: {why}");
    }
    assert_eq!(doc(&docs, "plain.xml").verdict, "publish");
}

/// A tar of one entry `a.txt` cut after 6,000 bytes. The mark is at the end
/// of the entry: what is left of it would be `publish`.
pub(crate) fn cut_tar() -> Vec<u8> {
    let text = format!("关于开展工作的通知\n{}\n机密★5年\n", "正文内容。".repeat(2000));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "a.txt", text.as_bytes()).unwrap();
    let mut full = b.into_inner().unwrap();
    full.truncate(6000);
    full
}

#[test]
fn an_archive_entry_cut_short_is_unreadable_never_screened_on_what_is_left() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "cut.tar", &cut_tar());
    let (r, docs) = jsonl(&[dir.path().join("cut.tar").as_os_str()]);
    assert!(!docs.is_empty(), "{}", r.stderr);
    for d in &docs {
        assert_eq!(d.verdict, "withhold", "{}: {:?}", d.path, d.reasons);
    }
    let entry = doc(&docs, "cut.tar!/a.txt");
    assert!(entry.unreadable.as_deref().is_some_and(|w| w.contains("damaged")), "{:?}", entry.unreadable);
}

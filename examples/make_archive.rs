//! Writes a mixed archive of generated government documents for the batch
//! bench and the memory check (nothing here is committed data).
//!
//! ```text
//! cargo run --release --example make_archive -- OUT.zip MB [stored|deflated]
//! ```
//!
//! Documents of ~40 KB built from `corpus/docs/*.txt` with varied numbers, in
//! turn: UTF-8 text, GB18030 text, Markdown, docx, xlsx, HTML, JSON, PDF (CID
//! font), until the entries hold `MB` megabytes. `stored` (the default) keeps
//! entries uncompressed, so the archive's size is about `MB`.

use std::io::{Cursor, Seek, Write};
use std::path::Path;

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/docs");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect())
        .unwrap_or_default();
    if v.is_empty() {
        v.push("关于做好政府信息公开工作的通知\n申请人联系电话：13912345678。\n".into());
    }
    v.sort();
    v
}

/// Document `i`: corpus texts with the numbers varied, about 40 KB.
pub fn document(corpus: &[String], i: usize) -> String {
    let mut s = String::new();
    let mut k = i;
    while s.len() < 40_000 {
        let t = &corpus[k % corpus.len()];
        s.push_str(&t.replace("13", &format!("1{}", 3 + (k % 6))));
        s.push_str(&format!("\n（第{i}号文件 第{k}段）\n"));
        k += 1;
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn zip_parts(parts: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, c) in parts {
        w.start_file(*n, o).unwrap();
        w.write_all(c.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pdf(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n1 beginbfrange <0000> <FFFF> <0000> endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end";
    let tounicode = doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()));
    let descendant = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light" });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light", "Encoding" => "UniGB-UCS2-H",
        "DescendantFonts" => vec![descendant.into()], "ToUnicode" => tounicode,
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for page in lines.chunks(40) {
        let mut ops = vec![Operation::new("BT", vec![]), Operation::new("Tf", vec!["F1".into(), 10.into()]), Operation::new("Td", vec![50.into(), 800.into()])];
        for l in page {
            let code: Vec<u8> = l.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
            ops.push(Operation::new("Tj", vec![Object::String(code, lopdf::StringFormat::Hexadecimal)]));
            ops.push(Operation::new("Td", vec![0.into(), (-12).into()]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap()));
        kids.push(doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources }).into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Entry `i` of the mixed archive: its name and bytes.
pub fn entry(corpus: &[String], i: usize) -> (String, Vec<u8>) {
    let t = document(corpus, i);
    let dir = format!("dept{:02}/{}", i % 17, 2020 + i % 5);
    match i % 8 {
        0 => (format!("{dir}/doc{i}.txt"), t.into_bytes()),
        1 => (format!("{dir}/doc{i}.txt"), encoding_rs::GB18030.encode(&t).0.into_owned()),
        2 => (format!("{dir}/doc{i}.md"), t.into_bytes()),
        3 => {
            let body: String = t.lines().map(|l| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", esc(l))).collect();
            let d = format!("<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>");
            (format!("{dir}/doc{i}.docx"), zip_parts(&[("word/document.xml", d)]))
        }
        4 => {
            let rows: String = t
                .lines()
                .enumerate()
                .map(|(r, l)| format!("<row r=\"{0}\"><c r=\"A{0}\" t=\"inlineStr\"><is><t>{1}</t></is></c></row>", r + 1, esc(l)))
                .collect();
            let wb = "<workbook xmlns:r=\"r\"><sheets><sheet name=\"表1\" r:id=\"rId1\"/></sheets></workbook>".to_owned();
            let rels = "<Relationships><Relationship Id=\"rId1\" Target=\"worksheets/sheet1.xml\"/></Relationships>".to_owned();
            let sh = format!("<worksheet><sheetData>{rows}</sheetData></worksheet>");
            (format!("{dir}/book{i}.xlsx"), zip_parts(&[("xl/workbook.xml", wb), ("xl/_rels/workbook.xml.rels", rels), ("xl/worksheets/sheet1.xml", sh)]))
        }
        5 => {
            let body: String = t.lines().map(|l| format!("<p>{}</p>\n", esc(l))).collect();
            (format!("{dir}/page{i}.html"), format!("<html><head><meta charset=\"utf-8\"></head><body>{body}</body></html>").into_bytes())
        }
        6 => (format!("{dir}/data{i}.json"), serde_json::to_vec(&serde_json::json!({"id": i, "正文": t})).unwrap()),
        _ => (format!("{dir}/scan{i}.pdf"), pdf(&t)),
    }
}

/// Writes entries until they hold `mb` megabytes; returns (entries, bytes).
pub fn write_archive<W: Write + Seek>(out: W, mb: u64, stored: bool) -> (usize, u64) {
    let corpus = corpus();
    let mut w = zip::ZipWriter::new(out);
    let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
    let o = zip::write::SimpleFileOptions::default().compression_method(method).large_file(false);
    let (mut n, mut bytes) = (0usize, 0u64);
    while bytes < mb * 1_000_000 {
        let (name, b) = entry(&corpus, n);
        w.start_file(name, o).unwrap();
        w.write_all(&b).unwrap();
        bytes += b.len() as u64;
        n += 1;
    }
    w.finish().unwrap();
    (n, bytes)
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: make_archive OUT.zip MB [stored|deflated]");
        std::process::exit(2);
    }
    let mb: u64 = args[2].parse().expect("MB is a number");
    let stored = args.get(3).map(String::as_str) != Some("deflated");
    let f = std::io::BufWriter::new(std::fs::File::create(&args[1]).expect("create OUT"));
    let (n, bytes) = write_archive(f, mb, stored);
    eprintln!("{}: {n} entries, {:.1} MB of documents", args[1], bytes as f64 / 1e6);
}

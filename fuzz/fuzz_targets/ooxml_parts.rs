#![no_main]
//! Structure-aware: the input becomes the XML parts of a valid package, so the
//! fuzzer spends its time in the OOXML text extraction rather than in zip parsing.
use libfuzzer_sys::fuzz_target;
use std::io::Write;
mod common;

fn package(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (n, c) in parts {
        w.start_file(*n, o).unwrap();
        w.write_all(c).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let mid = rest.len() / 2;
    let (a, b) = rest.split_at(mid);
    let (hint, bytes) = match sel % 3 {
        0 => ("f.docx", package(&[("word/document.xml", a), ("word/header1.xml", b)])),
        1 => (
            "f.xlsx",
            package(&[
                ("xl/workbook.xml", br#"<workbook xmlns:r="r"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#),
                ("xl/_rels/workbook.xml.rels", br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#),
                ("xl/sharedStrings.xml", a),
                ("xl/worksheets/sheet1.xml", b),
            ]),
        ),
        _ => ("f.pptx", package(&[("ppt/presentation.xml", b"<p/>"), ("ppt/slides/slide1.xml", a), ("ppt/notesSlides/notesSlide1.xml", b)])),
    };
    if let Ok(e) = mishen::ingest::extract(hint, None, &bytes, &common::limits()) {
        let mut at = 0;
        for s in &e.segments {
            assert!(at <= s.start && s.start <= s.end && s.end <= e.text.len());
            at = s.end;
        }
    }
});

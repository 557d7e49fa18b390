//! Header (版头) markings and internal-affairs findings through the ingest
//! paths: text, docx (body tables and page-header parts) and xlsx, the library
//! and the CLI; the policy raising a process draft; the allow-list refusing an
//! internal-use mark.

use crate::batch::{docx, xlsx};
use mishen::ingest::{Limits, extract};
use mishen::{Action, Kind, Screener, Verdict};
use std::io::{Cursor, Write};
use std::sync::LazyLock;

static SCREENER: LazyLock<Screener> = LazyLock::new(|| Screener::embedded().unwrap());

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

fn para(t: &str) -> String {
    format!("<w:p><w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r></w:p>")
}

/// A docx whose body starts with a one-row table of `cells`, then `paras`;
/// `header` is the text of `word/header1.xml`, if any.
fn docx_table(cells: &[&str], paras: &[&str], header: Option<&str>) -> Vec<u8> {
    let row: String = cells.iter().map(|c| format!("<w:tc>{}</w:tc>", para(c))).collect();
    let body: String = paras.iter().map(|p| para(p)).collect();
    let doc = format!("<w:document {W}><w:body><w:tbl><w:tr>{row}</w:tr></w:tbl>{body}</w:body></w:document>");
    let mut parts = vec![("word/document.xml".to_owned(), doc)];
    if let Some(h) = header {
        parts.push(("word/header1.xml".into(), format!("<w:hdr {W}>{}</w:hdr>", para(h))));
    }
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (n, c) in &parts {
        w.start_file(n.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(c.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Screens `bytes` as the file `name` through ingest, as the CLI and the service do.
fn screen_file(name: &str, bytes: &[u8]) -> (String, mishen::Screening) {
    let e = extract(name, None, bytes, &Limits::default()).unwrap();
    let s = SCREENER.screen_extracted(&e);
    (e.text, s)
}

fn marks(text: &str, s: &mishen::Screening) -> Vec<(Kind, String)> {
    s.findings.iter().map(|f| (f.kind, text[f.span.start..f.span.end].to_owned())).collect()
}

const BODY: &[&str] = &["东湖县农业农村局文件", "东农发〔2025〕12号", "关于做好春季动物防疫物资调拨的通知", "各乡镇农业综合服务中心：", "现将有关事项通知如下。"];

#[test]
fn a_header_table_in_docx_is_withheld() {
    let (t, s) = screen_file("a.docx", &docx_table(&["000027", "机密★5年", "特急"], BODY, None));
    assert_eq!(s.decision.verdict, Verdict::Withhold, "{t:?}");
    assert_eq!(marks(&t, &s), vec![(Kind::ClassificationMark, "机密★5年".into())]);
    let (t, s) = screen_file("a.docx", &docx_table(&["000027", "机密", "特急"], BODY, None));
    assert_eq!(s.decision.verdict, Verdict::Withhold, "{t:?}");
    assert!(s.findings[0].explanation.contains("20 years"), "{}", s.findings[0].explanation);
}

#[test]
fn a_body_table_mentioning_a_level_is_published() {
    let paras = ["各科室：", "现将档案整理情况通报如下。"];
    let doc = docx_table(&["档案移交", "涉及机密的档案另行移交保密室"], &paras, None);
    // The table follows the title here: a body table, not a header.
    let title_first = {
        let e = extract("b.docx", None, &doc, &Limits::default()).unwrap();
        format!("关于2024年度档案整理工作的通报\n{}", e.text)
    };
    assert_eq!(SCREENER.screen(&title_first).decision.verdict, Verdict::Publish);
    let (t, s) = screen_file("b.docx", &docx_table(&["关于2024年度档案整理工作的通报"], &["序号\t说明", "1\t机密 秘密 档案分柜存放"], None));
    assert_eq!(s.decision.verdict, Verdict::Publish, "{t:?} {:?}", s.findings);
}

#[test]
fn a_mark_in_a_docx_page_header_part_is_header() {
    // The page header names the agency before the level: in the body that
    // would end the header; a page-header part is header whole.
    let doc = docx("关于某专项工作的部署意见\n各乡镇人民政府：\n现将有关事项通知如下。", Some("东湖县人民政府办公室\t机密"));
    let (t, s) = screen_file("c.docx", &doc);
    assert_eq!(s.decision.verdict, Verdict::Withhold, "{t:?}");
    assert_eq!(marks(&t, &s), vec![(Kind::ClassificationMark, "机密".into())]);
    assert_eq!(SCREENER.screen(&t).decision.verdict, Verdict::Publish, "without the part boundary it is an agency line");
    let doc = docx("关于某专项工作的部署意见\n各乡镇人民政府：", Some("内部资料　注意保存"));
    let (t, s) = screen_file("c.docx", &doc);
    assert_eq!(marks(&t, &s), vec![(Kind::InternalMarking, "内部资料　注意保存".into())]);
    assert_eq!(s.decision.verdict, Verdict::Withhold);
    // A page header that mentions secrecy in a sentence is not a mark.
    let doc = docx("关于保密工作的总结\n机密\n", Some("本刊不刊登涉及机密的内容。"));
    assert_eq!(screen_file("c.docx", &doc).1.decision.verdict, Verdict::Publish);
}

#[test]
fn a_header_row_in_xlsx_is_withheld() {
    let x = xlsx("发文", &[&["份号", "密级", "紧急程度"], &["000027", "机密★5年", "特急"], &["关于某事项的通知"]]);
    let (t, s) = screen_file("d.xlsx", &x);
    assert_eq!(marks(&t, &s), vec![(Kind::ClassificationMark, "机密★5年".into())], "{t:?}");
    let x = xlsx("发文", &[&["000002", "绝密", "特提"], &["关于某事项的报告"]]);
    assert_eq!(screen_file("d.xlsx", &x).1.decision.verdict, Verdict::Withhold);
    let x = xlsx("清单", &[&["2024年度档案移交清单"], &["序号", "密级"], &["1", "机密"]]);
    let (t, s) = screen_file("d.xlsx", &x);
    assert_eq!(s.decision.verdict, Verdict::Publish, "{t:?} {:?}", s.findings);
}

#[test]
fn text_header_layouts_are_withheld() {
    for t in [
        "000027 | 机密★5年 | 特急\n东湖县人民政府文件\n关于某事项的通知",
        "000027\t机密★5年\t特急\n关于某事项的通知",
        "000027　　机密★5年　　特急\n关于某事项的通知",
        "000027\n秘密\n关于某事项的通知",
        "★机密\n关于某事项的通知",
    ] {
        let s = SCREENER.screen(t);
        assert_eq!(s.decision.verdict, Verdict::Withhold, "{t:?}");
    }
}

#[test]
fn the_cli_withholds_a_docx_header_table_and_a_page_header_mark() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.docx"), docx_table(&["000027", "机密★5年", "特急"], BODY, None)).unwrap();
    std::fs::write(dir.path().join("b.docx"), docx("关于某专项工作的部署意见\n各乡镇人民政府：", Some("东湖县人民政府办公室\t机密"))).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mishen")).args(["screen", "--format", "jsonl"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines.iter().all(|l| l.contains(r#""verdict":"withhold""#)), "{stdout}");
}

#[test]
fn drafts_publish_with_a_reason_unless_the_policy_raises_them() {
    let t = "东湖县城市养犬管理规定（征求意见稿）\n第一条 为了规范养犬行为，制定本规定。";
    let s = SCREENER.screen(t);
    assert_eq!(s.decision.verdict, Verdict::Publish);
    assert_eq!(s.findings.len(), 1);
    assert_eq!((s.findings[0].kind, s.findings[0].action), (Kind::ProcessDraft, Action::Allow));
    let summaries: Vec<&str> = s.decision.reasons.iter().map(|r| r.summary.as_str()).collect();
    assert!(summaries.iter().any(|r| r.contains("process_draft ×1")), "{summaries:?}");

    let dir = tempfile::tempdir().unwrap();
    let policy = include_str!("../rules/policy.toml").replace("process_draft = \"allow\"", "process_draft = \"withhold\"");
    std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
    let strict = Screener::builder().rules_dir(dir.path()).build().unwrap();
    let s = strict.screen(t);
    assert_eq!(s.decision.verdict, Verdict::Withhold);
    assert_eq!(s.decision.reasons[0].category, "internal_affairs");
    assert!(s.decision.reasons[0].basis.contains("第十六条"), "{:?}", s.decision.reasons);
}

#[test]
fn an_internal_marking_cannot_be_allow_listed() {
    let t = "内部资料\n东湖县机关事务管理局工作简报";
    let s = SCREENER.screen(t);
    assert_eq!(s.findings[0].kind, Kind::InternalMarking);
    for entry in ["内部资料", "internal_marking: 内部资料"] {
        let e = mishen::baseline::AllowList::parse("allow.txt", entry, &SCREENER).unwrap_err().to_string();
        assert!(e.contains("allow.txt:1"), "{e}");
    }
}

#[test]
fn a_mark_in_a_pptx_master_is_header() {
    let sld = |t: &str| format!(r#"<p:sld xmlns:a="a" xmlns:p="p"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#);
    let master = |t: &str| format!(r#"<p:sldMaster xmlns:a="a" xmlns:p="p"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="ftr"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sldMaster>"#);
    let deck = |m: &str, part: &str| {
        let slide = sld("关于某专项工作的部署意见");
        let m = master(m);
        crate::batch::zip_of(&[("ppt/presentation.xml", b"<p:presentation xmlns:p=\"p\"/>".as_slice()), (part, m.as_bytes()), ("ppt/slides/slide1.xml", slide.as_bytes())])
    };
    for part in ["ppt/slideMasters/slideMaster1.xml", "ppt/notesMasters/notesMaster1.xml", "ppt/handoutMasters/handoutMaster1.xml"] {
        let (t, s) = screen_file("e.pptx", &deck("机密★5年", part));
        assert_eq!(s.decision.verdict, Verdict::Withhold, "{part}: {t:?}");
        assert_eq!(marks(&t, &s), vec![(Kind::ClassificationMark, "机密★5年".into())]);
    }
    let (_, s) = screen_file("e.pptx", &deck("本刊不刊登涉及机密的内容。", "ppt/slideMasters/slideMaster1.xml"));
    assert_eq!(s.decision.verdict, Verdict::Publish, "a sentence in a master is not a mark");
}

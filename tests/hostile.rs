//! Hostile input: every way found to get `publish` for content that was never
//! read, generated here (small generators, no committed bombs) and sent
//! through both front doors, `mishen screen` and the gRPC service. Each must
//! come out `withhold` — for its content, or as unreadable with a reason — and
//! never `publish` or `redact`. (PDF bombs: `hostile_pdf.rs`; finding-dense
//! documents: `dense.rs`; archive bombs: `batch.rs`.)

use crate::batch::{cut_tar, docx, zip_of};
use mishen::service::pb;
use std::process::Command;

const MARKED: &str = "机密★5年\n关于某项目的通知\n各单位：现将有关事项通知如下。联系人王小明，电话13912345678。";

/// What one front door said: the verdict and, when unreadable, why.
#[derive(Debug)]
struct Said {
    verdict: String,
    unreadable: Option<String>,
}

/// `mishen screen` on one file named `name` (with `--encoding` when declared).
fn cli(name: &str, bytes: &[u8], declared: Option<&str>) -> Said {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_mishen"));
    c.args(["screen", "--format", "jsonl", "--fail-on", "never"]);
    if let Some(l) = declared {
        c.args(["--encoding", l]);
    }
    let out = c.arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty(), "{name}: no output");
    // An archive reports each entry: the worst one counts.
    let docs: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rank = |v: &str| ["publish", "redact", "withhold"].iter().position(|x| *x == v).unwrap();
    let worst = docs.iter().max_by_key(|d| rank(d["verdict"].as_str().unwrap())).unwrap();
    Said {
        verdict: worst["verdict"].as_str().unwrap().to_owned(),
        unreadable: worst["unreadable"].as_str().map(str::to_owned),
    }
}

/// The service on the same bytes: file name, optional declared encoding.
async fn grpc(c: &mut pb::screening_service_client::ScreeningServiceClient<tonic::transport::Channel>, name: &str, bytes: &[u8], declared: Option<&str>) -> Said {
    let r = c
        .screen(pb::ScreenRequest {
            document: Some(pb::screen_request::Document::Content(bytes.to_vec())),
            name: name.into(),
            encoding: declared.unwrap_or_default().into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_inner();
    assert!(r.audit.is_some(), "{name}: every decision is recorded");
    let verdict = match r.verdict() {
        pb::Verdict::Publish => "publish",
        pb::Verdict::Redact => "redact",
        pb::Verdict::Withhold => "withhold",
        pb::Verdict::Unspecified => "?",
    };
    let unreadable = r.reasons.iter().find(|x| x.category == "unreadable").map(|x| x.summary.clone());
    Said { verdict: verdict.into(), unreadable }
}

/// A hostile case: its file name, bytes, declared encoding, and what the
/// reason must say when it is withheld as unreadable (`None`: withheld for
/// its content, the mark read).
struct Case {
    what: &'static str,
    name: &'static str,
    bytes: Vec<u8>,
    declared: Option<&'static str>,
    unreadable: Option<&'static str>,
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn cases() -> Vec<Case> {
    let w = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;
    let tar_cut = cut_tar();
    let zip_cut = {
        let z = zip_of(&[("a.txt", format!("关于开展工作的通知\n{}\n机密★5年\n", "正文内容。".repeat(2000)).as_bytes())]);
        z[..z.len() / 2].to_vec()
    };
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "机密★5年"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><w:document {w}><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p><w:p><w:r><w:t>关于某事的通知</w:t></w:r></w:p></w:body></w:document>"#
    );
    let external = format!(
        r#"<?xml version="1.0"?><!DOCTYPE w:document SYSTEM "file:///etc/passwd"><w:document {w}><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>"#
    );
    vec![
        Case {
            what: "UTF-8 HTML whose <meta> says UTF-16 (read as UTF-8, as a browser does)",
            name: "a.html",
            bytes: format!("<html><head><meta charset=\"utf-16le\"></head><body><p>{}</p></body></html>", MARKED.replace('\n', "</p><p>")).into_bytes(),
            declared: None,
            unreadable: None,
        },
        Case {
            what: "UTF-8 XML whose declaration says UTF-16 (read as UTF-8, as libxml2 does)",
            name: "a.xml",
            bytes: format!("<?xml version=\"1.0\" encoding=\"utf-16le\"?><doc><p>{}</p></doc>", MARKED.replace('\n', "</p><p>")).into_bytes(),
            declared: None,
            unreadable: None,
        },
        Case {
            what: "UTF-8 text declared UTF-16LE by the caller (odd length: malformed)",
            name: "a.txt",
            bytes: MARKED.as_bytes().to_vec(),
            declared: Some("utf-16le"),
            unreadable: Some("UTF-16LE"),
        },
        Case {
            what: "UTF-8 text declared UTF-16LE by the caller (even length: decodes, implausibly)",
            name: "a.txt",
            bytes: format!("{MARKED}。").into_bytes(),
            declared: Some("utf-16le"),
            unreadable: Some("implausible"),
        },
        Case {
            what: "UTF-8 text declared windows-1252 by the caller",
            name: "a.txt",
            bytes: MARKED.as_bytes().to_vec(),
            declared: Some("windows-1252"),
            unreadable: Some("implausible"),
        },
        Case {
            what: "UTF-16LE text declared UTF-16BE (the wrong byte order)",
            name: "a.txt",
            bytes: utf16le(MARKED),
            declared: Some("utf-16be"),
            unreadable: Some("UTF-16BE"),
        },
        Case {
            what: "GBK text declared windows-1252",
            name: "a.txt",
            bytes: encoding_rs::GBK.encode(&MARKED.repeat(2)).0.into_owned(),
            declared: Some("windows-1252"),
            unreadable: Some("implausible"),
        },
        Case {
            what: "UTF-8 HTML whose <meta> says windows-1252",
            name: "a.html",
            bytes: format!("<html><head><meta charset=\"windows-1252\"></head><body><p>{}</p></body></html>", MARKED.replace('\n', "</p><p>")).into_bytes(),
            declared: None,
            unreadable: Some("implausible"),
        },
        Case {
            what: "a docx whose body declares entities (a billion laughs that would expand to the mark)",
            name: "a.docx",
            bytes: zip_of(&[("word/document.xml", laughs.as_bytes())]),
            declared: None,
            unreadable: Some("DTD"),
        },
        Case {
            what: "a docx with an external DTD",
            name: "a.docx",
            bytes: zip_of(&[("word/document.xml", external.as_bytes())]),
            declared: None,
            unreadable: Some("DTD"),
        },
        Case {
            what: "XML with an internal entity",
            name: "a.xml",
            bytes: r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY m "机密★5年">]><d><p>&m;</p><p>关于某事的通知</p></d>"#.as_bytes().to_vec(),
            declared: None,
            unreadable: Some("DTD"),
        },
        Case {
            what: "a mark at the start of a JSON leaf after a title leaf",
            name: "a.json",
            bytes: r#"{"标题": "关于某项目的通知", "正文": "机密★5年\n各单位：现将有关事项通知如下。"}"#.as_bytes().to_vec(),
            declared: None,
            unreadable: None,
        },
        Case {
            what: "a bare 机密 as a JSON leaf of its own",
            name: "a.json",
            bytes: r#"{"标题": "关于某项目的通知", "正文": "各单位：现将有关事项通知如下。", "附注": "机密"}"#.as_bytes().to_vec(),
            declared: None,
            unreadable: None,
        },
        Case {
            what: "a mark opening an XML text node after the title",
            name: "a.xml",
            bytes: "<doc><title>关于某项目的通知</title><body>各单位：现将有关事项通知如下。</body><note>  绝密★启用前 </note></doc>".as_bytes().to_vec(),
            declared: None,
            unreadable: None,
        },
        Case {
            what: "a bare 机密 in its own HTML block after the body text",
            name: "a.html",
            bytes: "<html><body><h1>关于某项目的通知</h1><p>各单位：现将有关事项通知如下。</p><div>机密</div></body></html>".as_bytes().to_vec(),
            declared: None,
            unreadable: None,
        },
        Case { what: "a tar entry cut short", name: "a.tar", bytes: tar_cut, declared: None, unreadable: Some("") },
        Case { what: "a zip cut in half", name: "a.zip", bytes: zip_cut, declared: None, unreadable: Some("corrupt") },
        Case { what: "an empty document", name: "a.txt", bytes: Vec::new(), declared: None, unreadable: Some("no text to screen") },
        Case { what: "a blank document", name: "a.txt", bytes: b" \n\t\n".to_vec(), declared: None, unreadable: Some("no text to screen") },
        Case { what: "a JPEG", name: "a.jpg", bytes: b"\xff\xd8\xff\xe0\0\x10JFIF".to_vec(), declared: None, unreadable: Some("unsupported") },
        Case { what: "a legacy .doc", name: "a.doc", bytes: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec(), declared: None, unreadable: Some("legacy") },
        Case {
            what: "a docx of images only (no text)",
            name: "a.docx",
            bytes: docx("", None),
            declared: None,
            unreadable: Some("no text to screen"),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_unread_is_published_through_either_front_door() {
    let srv = crate::service::start().await;
    let mut c = crate::service::client(srv.addr).await;
    let mut wrong = Vec::new();
    for case in cases() {
        let said = [("cli", cli(case.name, &case.bytes, case.declared)), ("grpc", grpc(&mut c, case.name, &case.bytes, case.declared).await)];
        for (door, s) in &said {
            let ok = s.verdict == "withhold"
                && match (case.unreadable, &s.unreadable) {
                    (None, None) => true,
                    (Some(want), Some(why)) => why.contains(want),
                    _ => false,
                };
            if !ok {
                wrong.push(format!("{door}: {}: {s:?} (want withhold, unreadable {:?})", case.what, case.unreadable));
            }
        }
        // Both doors say the same thing.
        if said[0].1.verdict != said[1].1.verdict || said[0].1.unreadable.is_some() != said[1].1.unreadable.is_some() {
            wrong.push(format!("{}: cli {:?} / grpc {:?}", case.what, said[0].1, said[1].1));
        }
    }
    srv.shutdown().await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_right_declarations_still_read() {
    // The checks above do not make honest documents unreadable.
    let s = mishen::Screener::embedded().unwrap();
    let l = mishen::ingest::Limits::default();
    let gbk = encoding_rs::GBK.encode(MARKED).0.into_owned();
    for (name, bytes, declared) in [
        ("a.txt", MARKED.as_bytes().to_vec(), Some("utf-8")),
        ("a.txt", gbk.clone(), Some("gbk")),
        ("a.txt", gbk, None),
        ("a.txt", utf16le(MARKED), Some("utf-16le")),
        ("a.html", format!("<meta charset=\"gb2312\"><p>{}</p>", MARKED.replace('\n', "</p><p>")).into_bytes(), None),
    ] {
        let bytes = if name == "a.html" { encoding_rs::GBK.encode(std::str::from_utf8(&bytes).unwrap()).0.into_owned() } else { bytes };
        let e = mishen::ingest::extract(name, declared, &bytes, &l).unwrap_or_else(|u| panic!("{name} {declared:?}: {u}"));
        let sc = s.screen_extracted(&e);
        assert_eq!(sc.decision.verdict, mishen::Verdict::Withhold, "{name} {declared:?}");
        assert!(sc.findings.iter().any(|f| f.kind == mishen::Kind::ClassificationMark), "{name} {declared:?}");
    }
}

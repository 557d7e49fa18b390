//! One decision for the same bytes, whichever way they come in: the library
//! (`ingest::extract` + `Screener::screen_extracted`), `mishen screen` and the
//! gRPC service, on every case of `corpus/`, each wrapped as UTF-8 text, GBK
//! text (undeclared: detected), a docx and a zip holding the UTF-8 text.

use crate::batch::{docx, zip_of};
use mishen::service::pb;
use mishen::report::jsonl::document_record;
use std::collections::BTreeMap;
use std::process::Command;

/// (verdict, findings as (rule, start, end, excerpt)).
type Outcome = (String, Vec<(String, usize, usize, String)>);

#[derive(Clone, Copy, Debug)]
enum Wrap {
    Utf8,
    Gbk,
    Docx,
    Zip,
}

impl Wrap {
    fn file(self, i: usize) -> String {
        match self {
            Wrap::Utf8 | Wrap::Gbk => format!("c{i:04}.txt"),
            Wrap::Docx => format!("c{i:04}.docx"),
            Wrap::Zip => format!("c{i:04}.zip"),
        }
    }

    fn bytes(self, text: &str) -> Vec<u8> {
        match self {
            Wrap::Utf8 => text.as_bytes().to_vec(),
            Wrap::Gbk => encoding_rs::GB18030.encode(text).0.into_owned(),
            Wrap::Docx => docx(text, None),
            Wrap::Zip => zip_of(&[("doc.txt", text.as_bytes())]),
        }
    }
}

fn verdict_name(v: pb::Verdict) -> &'static str {
    match v {
        pb::Verdict::Publish => "publish",
        pb::Verdict::Redact => "redact",
        pb::Verdict::Withhold => "withhold",
        pb::Verdict::Unspecified => "?",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_cli_and_service_decide_alike_on_the_corpus_in_every_wrapping() {
    let cases = crate::corpus::case_texts();
    assert!(cases.len() > 100);
    let screener = mishen::Screener::embedded().unwrap();
    let mask = screener.pack().policy.mask;
    let srv = crate::service::start().await;
    let mut c = crate::service::client(srv.addr).await;
    let mut diffs = Vec::new();
    let mut checked = 0;
    for wrap in [Wrap::Utf8, Wrap::Gbk, Wrap::Docx, Wrap::Zip] {
        // The library.
        let lib: Vec<Outcome> = cases
            .iter()
            .enumerate()
            .map(|(i, (_, t))| {
                let b = wrap.bytes(t);
                let (text, s) = match mishen::ingest::extract(&wrap.file(i), None, &b, &Default::default()) {
                    Ok(e) => (Some(e.text.clone()), screener.screen_extracted(&e)),
                    Err(u) => (None, screener.unreadable(&b, &u.to_string())),
                };
                let r = document_record("-", text.as_deref(), &s, screener.rules_sha256(), mask);
                (r.verdict.to_owned(), r.findings.iter().map(|f| (f.rule.clone(), f.start, f.end, f.excerpt.clone())).collect())
            })
            .collect();
        // The CLI, over a directory of every case.
        let dir = tempfile::tempdir().unwrap();
        for (i, (_, t)) in cases.iter().enumerate() {
            std::fs::write(dir.path().join(wrap.file(i)), wrap.bytes(t)).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_mishen"))
            .args(["screen", "--format", "jsonl", "--fail-on", "never"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let mut cli: BTreeMap<usize, Outcome> = BTreeMap::new();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let d: serde_json::Value = serde_json::from_str(line).unwrap();
            let path = d["path"].as_str().unwrap();
            let name = path.rsplit(['/', '\\']).find(|p| p.starts_with('c') && p.len() > 5).unwrap_or(path);
            let i: usize = name[1..5].parse().unwrap_or_else(|_| panic!("{path}"));
            let f = d["findings"].as_array().map_or_else(Vec::new, |fs| {
                fs.iter()
                    .map(|f| {
                        let n = |k: &str| f[k].as_u64().unwrap() as usize;
                        (f["rule"].as_str().unwrap().to_owned(), n("start"), n("end"), f["excerpt"].as_str().unwrap().to_owned())
                    })
                    .collect()
            });
            assert!(cli.insert(i, (d["verdict"].as_str().unwrap().to_owned(), f)).is_none(), "{path} twice");
        }
        // The service: bytes and the file name, no media type, no encoding.
        let reqs: Vec<pb::ScreenRequest> = cases
            .iter()
            .enumerate()
            .map(|(i, (_, t))| pb::ScreenRequest {
                document: Some(pb::screen_request::Document::Content(wrap.bytes(t))),
                name: wrap.file(i),
                ..Default::default()
            })
            .collect();
        let out = c.screen_stream(tokio_stream::iter(reqs)).await.unwrap().into_inner();
        use tokio_stream::StreamExt;
        let grpc: Vec<pb::ScreenResponse> = out.map(|r| r.unwrap()).collect().await;
        assert_eq!(grpc.len(), cases.len());
        for (i, (name, _)) in cases.iter().enumerate() {
            let g = &grpc[i];
            // The response says which encoding was used, for text wrappings only.
            let want_encoding = match wrap {
                Wrap::Utf8 => "UTF-8",
                Wrap::Gbk => "gb18030",
                Wrap::Docx | Wrap::Zip => "",
            };
            if g.encoding != want_encoding && !(matches!(wrap, Wrap::Gbk) && g.encoding == "UTF-8") {
                diffs.push(format!("{wrap:?} {name}: encoding {:?}, want {want_encoding:?}", g.encoding));
            }
            let g: Outcome = (
                verdict_name(g.verdict()).to_owned(),
                g.findings.iter().map(|f| (f.rule.clone(), f.start as usize, f.end as usize, f.excerpt.clone())).collect(),
            );
            let cl = cli.get(&i).cloned().unwrap_or_default();
            if lib[i] != cl || lib[i] != g {
                diffs.push(format!("{wrap:?} {name}:\n  library {:?}\n  cli     {cl:?}\n  grpc    {g:?}", lib[i]));
            }
            checked += 1;
        }
    }
    srv.shutdown().await;
    assert!(diffs.is_empty(), "{} of {checked} differ:\n{}", diffs.len(), diffs.join("\n"));
}

#[test]
fn every_wrapping_reads_back_the_same_verdict_as_the_text() {
    // The wrappings change the bytes, not the document: GBK text is detected
    // and decoded back, a docx holds a paragraph per line, a zip the text.
    let screener = mishen::Screener::embedded().unwrap();
    let mut diffs = Vec::new();
    for (name, t) in crate::corpus::case_texts() {
        let plain = screener.screen(&t).decision.verdict;
        for wrap in [Wrap::Gbk, Wrap::Docx, Wrap::Zip] {
            let b = wrap.bytes(&t);
            let v = match mishen::ingest::extract(&wrap.file(0), None, &b, &Default::default()) {
                Ok(e) => screener.screen_extracted(&e).decision.verdict,
                Err(u) => screener.unreadable(&b, &u.to_string()).decision.verdict,
            };
            if v != plain {
                diffs.push(format!("{wrap:?} {name}: {v:?}, as text {plain:?}"));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

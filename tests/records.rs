//! The audit store holds no document content (issue: fail-safe records): values
//! and classified titles are planted through every path (CLI text, docx, xlsx,
//! zip; caller `--title`/`--doc-number`; a reviewer's comment; gRPC `title`,
//! `doc_number`, `content` and `SubmitReview`), then every file of the data
//! directory is searched for them, byte for byte.

use crate::batch::{docx, xlsx, zip_of};
use assert_cmd::Command;
use mishen::audit::record::Record;
use mishen::service::pb;
use mishen::service::pb::screening_service_client::ScreeningServiceClient;
use std::path::Path;

/// Planted values and words that must never reach the data directory.
const PHONE: &str = "13958012345";
const ID: &str = "330106198805120015";
const SECRET_TITLE: &str = "关于调整边境防务部署的通知";
/// Words of the withheld documents' bodies.
const BODY_WORDS: &[&str] = &["边境", "防务", "雷霆", "装备调拨"];

fn classified(copy: &str) -> String {
    format!("{copy}\n机密★5年\n特急\n{SECRET_TITLE}\n各单位：\n雷霆工程的装备调拨于三月启动，边境防务由指挥部统一安排。\n")
}

/// Every file under `dir`, recursively, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir(dir) {
        out.push((e.display().to_string(), std::fs::read(&e).unwrap()));
    }
    out
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walkdir(&p));
        } else {
            v.push(p);
        }
    }
    v
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_clean(data: &Path) {
    let files = all_bytes(data);
    assert!(files.iter().any(|(n, _)| n.ends_with("audit.sqlite")), "the store is there");
    for (name, bytes) in &files {
        for v in [PHONE, ID, SECRET_TITLE].iter().chain(BODY_WORDS) {
            assert!(!contains(bytes, v), "{v:?} found in {name}");
        }
    }
}

fn export(data: &Path) -> Vec<Record> {
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "export", "--data-dir"]).arg(data).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().map(|l| Record::parse(l.as_bytes()).unwrap()).collect()
}

#[test]
fn the_cli_keeps_no_document_content_in_the_audit_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inp = dir.path().join("in");
    std::fs::create_dir_all(&inp).unwrap();
    std::fs::write(inp.join("a_classified.txt"), classified("000027")).unwrap();
    std::fs::write(inp.join("b_classified.docx"), docx(&classified("000028"), None)).unwrap();
    let rows: Vec<Vec<String>> = classified("000029").lines().map(|l| vec![l.to_owned()]).collect();
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let rows: Vec<&[&str]> = rows.iter().map(|r| r.as_slice()).collect();
    std::fs::write(inp.join("c_classified.xlsx"), xlsx("Sheet1", &rows)).unwrap();
    let phone_title = format!("联系电话：{PHONE}\n关于开展工作的通知\n申请人身份证号{ID}。\n");
    std::fs::write(inp.join("d_phone_title.txt"), &phone_title).unwrap();
    let cls = classified("000030");
    std::fs::write(inp.join("e_archive.zip"), zip_of(&[("inner.txt", cls.as_bytes()), ("p.txt", phone_title.as_bytes())])).unwrap();
    let out = Command::cargo_bin("mishen").unwrap().arg("screen").arg("--data-dir").arg(&data).arg(&inp).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    // A caller's title and 文号, screened before they are stored.
    let out = Command::cargo_bin("mishen")
        .unwrap()
        .args(["screen", "--title", &format!("联系电话：{PHONE}"), "--doc-number", &format!("某政发〔2024〕7号{PHONE}"), "--data-dir"])
        .arg(&data)
        .arg(inp.join("d_phone_title.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs = export(&data);
    let screenings: Vec<_> = recs.iter().filter_map(|r| r.screening.as_ref()).collect();
    assert_eq!(screenings.len(), 7, "txt, docx, xlsx, phone title, two zip members, caller title");
    // A reviewer's comment is screened too.
    let id = &recs[0].id;
    let out = Command::cargo_bin("mishen")
        .unwrap()
        .args(["review", id, "--decision", "confirm", "--reviewer", "李审查", "--role", "保密审查员", "--comment"])
        .arg(format!("已核实申请人电话{PHONE}，身份证号{ID}"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_clean(&data);

    // What a records office needs is kept: 份号, marking, the sealed title.
    let keys = mishen::audit::keys::Keys::open(&data).unwrap();
    let rk = keys.records_key.expect("records key");
    let withheld: Vec<_> = screenings.iter().filter(|s| s.verdict == "withhold").collect();
    assert!(withheld.len() >= 4, "{}", withheld.len());
    for s in &withheld {
        let d = &s.document;
        assert!(d.title.is_none() && d.keywords.is_empty(), "{d:?}");
        let m = d.marking.as_ref().expect("marking");
        assert_eq!((m.level.as_str(), m.period.as_str()), ("机密", "5年"));
        assert!(d.copy_number.as_deref().is_some_and(|c| c.starts_with("0000")), "{d:?}");
        let sealed = d.title_sealed.as_ref().expect("sealed title");
        assert_eq!(rk.unseal(sealed, &d.content_sha256).unwrap(), SECRET_TITLE);
    }
    let phone_doc = screenings.iter().find(|s| s.verdict == "redact" && s.document.doc_number.is_none()).unwrap();
    assert_eq!(phone_doc.document.title.as_deref(), Some("关于开展工作的通知"), "a label line is not the title");
    let caller = screenings.last().unwrap();
    assert!(caller.document.title.as_deref().is_some_and(|t| t.starts_with("联系电话：■")), "{:?}", caller.document);
    assert!(caller.document.doc_number.as_deref().is_some_and(|t| t.starts_with("某政发〔2024〕7号")));

    let seq = recs.iter().position(|r| r.screening.as_ref().is_some_and(|s| s.document.title_sealed.is_some())).unwrap();
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "show", "--unseal", &seq.to_string(), "--data-dir"]).arg(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("sealed title {SECRET_TITLE}")), "{}", String::from_utf8_lossy(&out.stderr));
    // Destroying the records key purges the titles; the log still verifies.
    std::fs::remove_file(data.join(mishen::audit::keys::RECORDS_KEY_FILE)).unwrap();
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(mishen::audit::keys::Keys::open(&data).unwrap().records_key.is_none());
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "show", "--unseal", &seq.to_string(), "--data-dir"]).arg(&data).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("purged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_keeps_no_document_content_and_says_when_a_screening_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = mishen::service::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: None,
        data_dir: dir.path().join("data"),
        checkpoint_interval_ms: 200,
        ..mishen::service::Config::default()
    };
    let data = cfg.data_dir.clone();
    let server = mishen::service::Server::bind_with(cfg, None).await.unwrap();
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    let mut c = ScreeningServiceClient::connect(format!("http://{addr}")).await.unwrap();
    let req = |doc: pb::screen_request::Document, media: &str| pb::ScreenRequest {
        document: Some(doc),
        media_type: media.into(),
        title: format!("联系电话：{PHONE}"),
        doc_number: format!("某政发〔2024〕7号 {ID}"),
        options: Some(pb::ScreenOptions::default()),
        ..Default::default()
    };
    use pb::screen_request::Document;
    let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let mut ids = Vec::new();
    for (doc, media) in [
        (Document::Text(classified("000031")), ""),
        (Document::Content(docx(&classified("000032"), None)), docx_type),
        (Document::Text(format!("申请人身份证号{ID}，联系电话{PHONE}。")), ""),
    ] {
        let r = c.screen(req(doc, media)).await.unwrap().into_inner();
        assert!(!r.partial);
        ids.push(r.audit.unwrap().record_id);
    }
    // A classified document screened with its own title: the title is sealed.
    let mut q = req(Document::Text(classified("000033")), "");
    q.title = SECRET_TITLE.into();
    let r = c.screen(q).await.unwrap().into_inner();
    let rec = Record::parse(&r.audit.unwrap().canonical).unwrap();
    let d = &rec.screening.unwrap().document;
    assert!(d.title.is_none() && d.title_sealed.is_some());

    // A partial screening: named, marked partial, never a clearance.
    let mut q = req(Document::Text(format!("申请人联系电话{PHONE}。")), "");
    q.title = String::new();
    q.options.as_mut().unwrap().categories = vec!["state_secret".into()];
    let r = c.screen(q).await.unwrap().into_inner();
    assert_eq!(r.verdict(), pb::Verdict::Publish);
    assert!(r.partial);
    assert_eq!(r.categories_checked, vec!["state_secret".to_owned()]);
    assert!(r.reasons.iter().all(|x| x.summary.contains("not a clearance") && x.summary.contains("personal_data")), "{:?}", r.reasons);
    let rec = Record::parse(&r.audit.unwrap().canonical).unwrap();
    let s = rec.screening.unwrap();
    assert!(s.partial);
    assert_eq!(s.categories, vec!["state_secret".to_owned()]);
    assert!(s.reasons.iter().all(|x| !x.summary.contains("no state secret, trade secret or personal data")));
    // A full screening names every category and is not partial.
    let r = c.screen(req(Document::Text("为做好政府信息公开工作，现将有关事项通知如下。".into()), "")).await.unwrap().into_inner();
    assert!(!r.partial && r.categories_checked.len() == mishen::Category::ALL.len());

    let review = pb::SubmitReviewRequest {
        record_id: ids[2].clone(),
        decision: pb::ReviewDecision::Confirm.into(),
        reviewer: "李审查".into(),
        role: "保密审查员".into(),
        comment: format!("已电话{PHONE}联系申请人"),
        ..Default::default()
    };
    c.submit_review(review).await.unwrap();
    // An unknown media type is withheld and recorded, and not echoed unbounded.
    let mut q = req(Document::Content(b"x".to_vec()), &format!("application/x-{}", "a".repeat(5000)));
    q.title = String::new();
    let r = c.screen(q).await.unwrap().into_inner();
    assert_eq!(r.verdict(), pb::Verdict::Withhold);
    let why: usize = r.reasons.iter().map(|x| x.summary.len()).sum();
    assert!(why < 1000 && r.reasons.iter().any(|x| x.summary.contains("unsupported")), "{:?}", r.reasons);
    let _ = tx.send(());
    done.await.unwrap().unwrap();
    assert_clean(&data);
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IdCase {
    name: String,
    text: String,
    title: String,
    #[serde(default)]
    doc_number: Option<String>,
    #[serde(default)]
    copy_number: Option<String>,
    #[serde(default)]
    sealed: bool,
    #[serde(default)]
    absent_words: Vec<String>,
}

#[derive(serde::Deserialize)]
struct IdFile {
    case: Vec<IdCase>,
}

#[test]
fn records_identify_documents_as_the_corpus_says() {
    use mishen::audit::keys::{BodyKeys, LogKey};
    use mishen::audit::record::{DocMeta, screening_body};
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/records/identification.toml");
    let f: IdFile = toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    assert!(f.case.len() >= 8);
    let s = mishen::Screener::embedded().unwrap();
    let rk = mishen::audit::seal::RecordsKey::from_bytes([5; 32]);
    let keys = BodyKeys { log_key: LogKey::from_bytes([6; 32]), records_key: Some(rk.clone()) };
    let mut failures = Vec::new();
    for c in &f.case {
        let sc = s.screen(&c.text);
        let b = screening_body(Some(&c.text), c.text.len() as u64, &sc, &s, &keys, &DocMeta::default());
        let d = &b.document;
        let got_title = d.title.clone().unwrap_or_default();
        let json = serde_json::to_string(&b).unwrap();
        let mut bad = Vec::new();
        if got_title != c.title {
            bad.push(format!("title {got_title:?}, expected {:?}", c.title));
        }
        if d.doc_number != c.doc_number {
            bad.push(format!("文号 {:?}, expected {:?}", d.doc_number, c.doc_number));
        }
        if d.copy_number != c.copy_number {
            bad.push(format!("份号 {:?}, expected {:?}", d.copy_number, c.copy_number));
        }
        if d.title_sealed.is_some() != c.sealed {
            bad.push(format!("sealed {}, expected {}", d.title_sealed.is_some(), c.sealed));
        }
        if let Some(t) = &d.title_sealed {
            assert!(rk.unseal(t, &d.content_sha256).is_ok());
        }
        for w in &c.absent_words {
            if json.contains(w.as_str()) {
                bad.push(format!("{w:?} is in the record"));
            }
        }
        if !bad.is_empty() {
            failures.push(format!("{}: {}", c.name, bad.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

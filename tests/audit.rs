//! The audit log: known-answer vectors, tamper detection (flip every byte,
//! truncate at every offset, delete / reorder / duplicate records), the
//! append-only store, no plain values at rest, the CLI contract and a SIGKILL
//! crash test.

use assert_cmd::Command;
use mishen::audit::keys::{Keys, LogKey, Signer};
use mishen::audit::record::{
    Body, Decision, DocumentInfo, Fingerprint, ReasonEntry, Record, ReviewBody, ScreeningBody, fingerprint,
    record_hash,
};
use mishen::audit::store::{MemStore, SqliteStore, Store};
use mishen::audit::verify::verify_jsonl;
use mishen::audit::{AuditLog, Clock};
use std::path::Path;
use tempfile::TempDir;

const SEED: [u8; 32] = [0x42; 32];
const LOG_KEY: [u8; 32] = [0x24; 32];
/// 2026-11-05T08:00:00.000Z
const T0: u64 = 1_793_865_600_000;

fn keys() -> Keys {
    Keys {
        signer: Signer::from_seed(SEED),
        log_key: LogKey::from_bytes(LOG_KEY),
        records_key: Some(mishen::audit::seal::RecordsKey::from_bytes([0x33; 32])),
        origin: "mishen.audit/test".into(),
    }
}

/// Deterministic ids and times: record i gets T0 + i ms and random bits all i.
fn fixed_clock() -> Clock {
    let mut i = 0u64;
    Box::new(move || {
        let ms = T0 + i;
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &[i as u8; 10]).into_uuid();
        i += 1;
        (id, ms)
    })
}

fn body(n: u8) -> ScreeningBody {
    let key = LogKey::from_bytes(LOG_KEY);
    ScreeningBody {
        document: DocumentInfo {
            title: Some(format!("关于第{n}批■■同志任职的通知")),
            doc_number: Some("国办发〔2016〕19号".into()),
            keywords: Vec::new(),
            content_sha256: hex::encode([n; 32]),
            bytes: 1000 + u64::from(n),
            chars: 400,
            ..Default::default()
        },
        verdict: "redact".into(),
        reasons: vec![ReasonEntry {
            category: "personal_data".into(),
            action: "redact".into(),
            basis: "《中华人民共和国政府信息公开条例》第十五条".into(),
            summary: "personal_data: phone ×1; passages redacted".into(),
        }],
        findings: vec![Fingerprint {
            rule: "pd.phone.mobile".into(),
            kind: "phone".into(),
            action: "redact".into(),
            start: 10,
            end: 21,
            confidence_permille: 950,
            value_hmac: fingerprint(&key, "phone", "13812345678"),
        }],
        rules_sha256: hex::encode([0xab; 32]),
        engine: "mishen 0.1.0".into(),
        categories: Vec::new(),
        partial: false,
        response_truncated: false,
    }
}

/// A log of three screenings and one review, in memory, deterministic.
fn sample_log() -> AuditLog<MemStore> {
    let mut log = AuditLog::new(MemStore::default(), keys(), "cli:test").with_clock(fixed_clock());
    let a = log.append(vec![Body::Screening(body(1)), Body::Screening(body(2)), Body::Screening(body(3))]).unwrap();
    let review = ReviewBody {
        ref_id: String::new(),
        ref_seq: 0,
        ref_hash: String::new(),
        decision: Decision::Override,
        verdict: "withhold".into(),
        reviewer: "李审查".into(),
        role: "保密审查员".into(),
        comment: Some("涉及内部人事安排，暂不公开".into()),
        added: vec!["person_name:15-17".parse().unwrap()],
    };
    log.review(&a[1].id, review).unwrap();
    log
}

fn export(store: &MemStore) -> Vec<u8> {
    let mut out = Vec::new();
    for e in &store.records {
        out.extend_from_slice(&e.bytes);
        out.push(b'\n');
    }
    out
}

// ---------------------------------------------------------------------------
// Known-answer vectors
// ---------------------------------------------------------------------------

/// Computed independently (Python `hmac`, `hashlib`).
#[test]
fn kat_fingerprint_hmac() {
    let k = LogKey::from_bytes(LOG_KEY);
    assert_eq!(
        fingerprint(&k, "phone", "13812345678"),
        "247389d605354cc26cb1291fe29d7bb5406067ff7b8c9ea7868929bf2aa5384a"
    );
}

/// Record 0 of [`sample_log`]. Key id, signature and hash were recomputed
/// independently (Python `cryptography` Ed25519 from the same seed, `hashlib`).
const KAT_RECORD_0: &str = r#"{"actor":"cli:test","format":"mishen-audit/1","id":"01a1aab8-cc00-7000-8000-000000000000","key_id":"KEYID","origin":"mishen.audit/test","prev":"0000000000000000000000000000000000000000000000000000000000000000","screening":{"document":{"bytes":1001,"chars":400,"content_sha256":"0101010101010101010101010101010101010101010101010101010101010101","doc_number":"国办发〔2016〕19号","title":"关于第1批■■同志任职的通知"},"engine":"mishen 0.1.0","findings":[{"action":"redact","confidence_permille":950,"end":21,"kind":"phone","rule":"pd.phone.mobile","start":10,"value_hmac":"247389d605354cc26cb1291fe29d7bb5406067ff7b8c9ea7868929bf2aa5384a"}],"reasons":[{"action":"redact","basis":"《中华人民共和国政府信息公开条例》第十五条","category":"personal_data","summary":"personal_data: phone ×1; passages redacted"}],"rules_sha256":"abababababababababababababababababababababababababababababababab","verdict":"redact"},"seq":0,"sig":"SIG","time":"2026-11-05T08:00:00.000Z","type":"screening"}"#;
const KAT_KEY_ID: &str = "3097e2dee2cb4a34";
const KAT_SIG: &str = "VA7dwrs1+PzVgcJBzfY+0fOxjXWNxu8WE7CKPdJ6/8kCgF2BpzmOZU+MKRxgQkGInoOqTZ7mIwDXgOIAmmw4AQ==";
const KAT_HASH: &str = "91fee413b73f882299c1c8065b11e1c8debacbde05c1565198187638c7451525";

#[test]
fn kat_canonical_bytes_signature_and_hash() {
    let log = sample_log();
    let r0 = &log.store().records[0];
    let want = KAT_RECORD_0.replace("KEYID", KAT_KEY_ID).replace("\"SIG\"", &format!("{KAT_SIG:?}"));
    assert_eq!(String::from_utf8(r0.bytes.clone()).unwrap(), want);
    assert_eq!(hex::encode(record_hash(&r0.bytes)), KAT_HASH);
    assert_eq!(hex::encode(r0.hash), KAT_HASH);
    // The signature verifies over the documented message with the plain dalek API.
    let unsigned = want.replace(&format!(",\"sig\":{KAT_SIG:?}"), "");
    let mut msg = b"mishen-audit-v1\0".to_vec();
    msg.extend_from_slice(unsigned.as_bytes());
    let sig = ed25519_dalek::Signature::from_slice(
        &base64_decode(KAT_SIG),
    )
    .unwrap();
    Signer::from_seed(SEED).public().verify_strict(&msg, &sig).unwrap();
    // The second record chains to the first.
    let r1 = Record::parse(&log.store().records[1].bytes).unwrap();
    assert_eq!(r1.prev, KAT_HASH);
}

fn base64_decode(s: &str) -> Vec<u8> {
    mishen::audit::record::unb64(s).unwrap()
}

// ---------------------------------------------------------------------------
// Tampering
// ---------------------------------------------------------------------------

fn line_of(data: &[u8], i: usize) -> u64 {
    data[..i].iter().filter(|&&b| b == b'\n').count() as u64
}

#[test]
fn sample_export_verifies() {
    let mut log = sample_log();
    let note = log.checkpoint().unwrap();
    let data = export(log.store());
    let s = verify_jsonl(&data, Signer::from_seed(SEED).public(), [note.as_str()]).unwrap();
    assert_eq!((s.records, s.checkpoints), (4, 1));
}

#[test]
fn flipping_any_byte_fails_and_names_the_record() {
    let data = export(sample_log().store());
    let key = Signer::from_seed(SEED).public();
    for i in 0..data.len() {
        for bit in [0x01u8, 0x80] {
            let mut d = data.clone();
            d[i] ^= bit;
            let f = verify_jsonl(&d, key, []).expect_err(&format!("flip {bit:#x} at {i} verified"));
            assert_eq!(f.seq, line_of(&data, i), "flip at {i}: {f}");
        }
    }
}

#[test]
fn truncating_anywhere_fails_and_names_the_record() {
    let mut log = sample_log();
    let note = log.checkpoint().unwrap();
    let data = export(log.store());
    let key = Signer::from_seed(SEED).public();
    for p in 0..data.len() {
        let f = verify_jsonl(&data[..p], key, [note.as_str()]).expect_err(&format!("truncated at {p} verified"));
        assert_eq!(f.seq, line_of(&data, p), "truncated at {p}: {f}");
    }
}

fn lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

fn join(ls: &[Vec<u8>]) -> Vec<u8> {
    ls.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect()
}

#[test]
fn deleting_reordering_or_duplicating_records_fails() {
    let mut log = sample_log();
    let note = log.checkpoint().unwrap();
    let ls = lines(&export(log.store()));
    let key = Signer::from_seed(SEED).public();
    let check = |ls: Vec<Vec<u8>>, seq: u64, what: &str| {
        let f = verify_jsonl(&join(&ls), key, [note.as_str()]).expect_err(what);
        assert_eq!(f.seq, seq, "{what}: {f}");
    };
    for k in 0..ls.len() {
        let mut d = ls.clone();
        d.remove(k);
        check(d, k.min(ls.len() - 1) as u64, &format!("delete {k}"));
        let mut d = ls.clone();
        d.insert(k, ls[k].clone());
        check(d, k as u64 + 1, &format!("duplicate {k}"));
        if k + 1 < ls.len() {
            let mut d = ls.clone();
            d.swap(k, k + 1);
            check(d, k as u64, &format!("swap {k}"));
        }
    }
    // A blank line is not a record.
    let mut d = join(&ls);
    d.insert(0, b'\n');
    assert_eq!(verify_jsonl(&d, key, []).unwrap_err().seq, 0);
}

#[test]
fn another_key_fails_at_the_first_record() {
    let data = export(sample_log().store());
    let f = verify_jsonl(&data, Signer::from_seed([1; 32]).public(), []).unwrap_err();
    assert_eq!(f.seq, 0);
    assert!(f.reason.contains("key id"), "{f}");
}

#[test]
fn a_review_must_cite_an_earlier_screening() {
    let mut log = AuditLog::new(MemStore::default(), keys(), "cli:test").with_clock(fixed_clock());
    log.append(vec![Body::Screening(body(1))]).unwrap();
    let forged = ReviewBody {
        ref_id: "019a52ed-3400-7000-8000-0000000000ff".into(),
        ref_seq: 0,
        ref_hash: hex::encode([0; 32]),
        decision: Decision::Confirm,
        verdict: "redact".into(),
        reviewer: "x".into(),
        role: "y".into(),
        comment: None,
        added: vec![],
    };
    log.append(vec![Body::Review(forged)]).unwrap();
    let f = verify_jsonl(&export(log.store()), Signer::from_seed(SEED).public(), []).unwrap_err();
    assert_eq!(f.seq, 1, "{f}");
    assert!(log.review("no-such-id", body_review()).is_err());
}

fn body_review() -> ReviewBody {
    ReviewBody {
        ref_id: String::new(),
        ref_seq: 0,
        ref_hash: String::new(),
        decision: Decision::Confirm,
        verdict: "redact".into(),
        reviewer: "x".into(),
        role: "y".into(),
        comment: None,
        added: vec![],
    }
}

#[test]
fn checkpoints_are_written_every_n_records() {
    let mut log = AuditLog::new(MemStore::default(), keys(), "cli:test")
        .with_clock(fixed_clock())
        .with_checkpoint_every(2);
    for i in 0..5 {
        log.append(vec![Body::Screening(body(i))]).unwrap();
    }
    let sizes: Vec<u64> = log.store().notes.iter().map(|(s, _)| *s).collect();
    assert_eq!(sizes, [2, 4]);
    let notes: Vec<String> = log.store().notes.iter().map(|(_, n)| n.clone()).collect();
    let s = verify_jsonl(&export(log.store()), Signer::from_seed(SEED).public(), notes.iter().map(String::as_str))
        .unwrap();
    assert_eq!(s.checkpoints, 2);
}

#[test]
fn reopening_a_log_gives_the_same_frontier() {
    use mishen::audit::merkle;
    let dir = TempDir::new().unwrap();
    let mut log = AuditLog::open(dir.path(), "cli:test").unwrap();
    assert_eq!(log.frontier().size(), 0);
    let mut i = 0u64;
    while i < 300 {
        let k = (i % 7 + 1).min(300 - i);
        log.append((i..i + k).map(|j| Body::Screening(body(j as u8))).collect()).unwrap();
        i += k;
    }
    let f = log.frontier().clone();
    assert_eq!(f.size(), 300);
    let leaves = log.store().hashes(300).unwrap();
    assert_eq!(f.root(), merkle::root(&leaves));
    let key = log.keys().signer.public();
    log.close().unwrap();
    let reopened = AuditLog::open(dir.path(), "cli:test").unwrap();
    assert_eq!(reopened.frontier(), &f);
    assert_eq!(reopened.frontier(), &merkle::Frontier::from_leaves(&leaves));
    let r = mishen::audit::verify_store(reopened.store(), key, []).unwrap();
    let s = r.unwrap();
    assert_eq!((s.records, s.checkpoints), (300, 2));
}

#[test]
fn a_frontier_left_behind_by_another_writer_catches_up() {
    use mishen::audit::merkle;
    let dir = TempDir::new().unwrap();
    let mut a = AuditLog::open(dir.path(), "cli:a").unwrap();
    a.append(vec![Body::Screening(body(1)), Body::Screening(body(2))]).unwrap();
    let mut b = AuditLog::open(dir.path(), "cli:b").unwrap();
    assert_eq!(b.frontier().size(), 2);
    b.append(vec![Body::Screening(body(3))]).unwrap();
    a.append(vec![Body::Screening(body(4))]).unwrap();
    assert_eq!(a.frontier().size(), 2, "a did not see b's record, so it leaves its frontier behind");
    a.checkpoint().unwrap();
    assert_eq!(a.frontier().size(), 4);
    let leaves = a.store().hashes(4).unwrap();
    assert_eq!(a.frontier().root(), merkle::root(&leaves));
    let r = mishen::audit::verify_store(a.store(), a.keys().signer.public(), []).unwrap();
    let s = r.unwrap();
    assert_eq!((s.records, s.checkpoints), (4, 1));
    drop(b);
}

// ---------------------------------------------------------------------------
// The SQLite store
// ---------------------------------------------------------------------------

#[test]
fn sqlite_store_refuses_update_and_delete() {
    let dir = TempDir::new().unwrap();
    let mut log = AuditLog::new(SqliteStore::open(dir.path(), true).unwrap(), keys(), "cli:test").with_clock(fixed_clock());
    log.append(vec![Body::Screening(body(1)), Body::Screening(body(2))]).unwrap();
    log.checkpoint().unwrap();
    let c = log.store().connection();
    for sql in [
        "UPDATE records SET body = x'00' WHERE seq = 0",
        "DELETE FROM records WHERE seq = 1",
        "UPDATE checkpoints SET note = ''",
        "DELETE FROM checkpoints",
    ] {
        let e = c.execute(sql, []).expect_err(sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(log.store().len().unwrap(), 2);
    let r = mishen::audit::verify_store(log.store(), Signer::from_seed(SEED).public(), []).unwrap();
    assert_eq!(r.unwrap().records, 2);
    // The same records as the in-memory store.
    let mem = {
        let mut m = AuditLog::new(MemStore::default(), keys(), "cli:test").with_clock(fixed_clock());
        m.append(vec![Body::Screening(body(1)), Body::Screening(body(2))]).unwrap();
        m.store().records.clone()
    };
    for e in &mem {
        assert_eq!(log.store().get_seq(e.seq).unwrap().as_ref(), Some(e));
        assert_eq!(log.store().get_id(&e.id).unwrap().as_ref(), Some(e));
    }
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

const PLANTED_ID: &str = "440306198803153215";
const PLANTED_PHONE: &str = "13912345678";
const PLANTED_NAME: &str = "欧阳春花";

fn mishen() -> Command {
    let mut c = Command::cargo_bin("mishen").unwrap();
    c.env_remove("MISHEN_DATA_DIR");
    c
}

fn write_docs(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("doc{i:04}.txt")),
            format!(
                "皖政办秘〔2009〕{i}号\n关于第{i}批政府信息公开申请的答复\n申请人：{PLANTED_NAME}，身份证号{PLANTED_ID}，联系电话{PLANTED_PHONE}。\n"
            ),
        )
        .unwrap();
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The record names the document by the caller's id (the CLI's path), with
/// any value in it masked like a title's.
#[test]
fn cli_records_the_document_id_masked() {
    let t = TempDir::new().unwrap();
    let data = t.path().join("data");
    let doc = t.path().join(format!("答复-{PLANTED_PHONE}.txt"));
    std::fs::write(&doc, "关于办理政府信息公开申请的答复\n现将有关情况答复如下。\n").unwrap();
    let out = mishen().args(["screen", "--format", "jsonl", "--data-dir"]).arg(&data).arg(&doc).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let out = mishen().args(["audit", "show", "0", "--data-dir"]).arg(&data).output().unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    let json = &shown[..shown.find("\nrecord hash").unwrap_or(shown.len())];
    let rec: serde_json::Value = serde_json::from_str(json).unwrap();
    let id = rec["screening"]["document"]["document_id"].as_str().unwrap();
    assert!(id.ends_with(".txt") && id.contains("答复-") && id.contains('■'), "{id}");
    assert!(!id.contains(PLANTED_PHONE), "{id}");
}

/// Lifting a withhold (a dismissal, an override to redact or publish) needs a
/// written reason; confirming it does not.
#[test]
fn cli_lifting_a_withhold_needs_a_reason() {
    let t = TempDir::new().unwrap();
    let data = t.path().join("data");
    let doc = t.path().join("secret.txt");
    std::fs::write(&doc, "机密★5年\n关于某专项工作的通知\n各单位：现将有关事项通知如下。\n").unwrap();
    let out = mishen().args(["screen", "--format", "jsonl", "--data-dir"]).arg(&data).arg(&doc).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let rec: serde_json::Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let id = rec["audit"]["record_id"].as_str().unwrap().to_owned();
    let review = |extra: &[&str]| {
        let mut c = mishen();
        c.args(["review", &id, "--reviewer", "王审查", "--role", "保密审查员"]).args(extra).arg("--data-dir").arg(&data);
        c.output().unwrap()
    };
    for extra in [&["--decision", "dismiss"][..], &["--decision", "override", "--verdict", "publish"], &["--decision", "override", "--verdict", "redact", "--comment", "  "]] {
        let out = review(extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs a written reason (--comment)"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(review(&["--decision", "confirm"]).status.code(), Some(0));
    let out = review(&["--decision", "override", "--verdict", "redact", "--comment", "定密期限已满，经解密审核"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cli_screen_records_review_verify_and_no_plain_values_at_rest() {
    let t = TempDir::new().unwrap();
    let docs = t.path().join("docs");
    let data = t.path().join("data");
    write_docs(&docs, 3);
    let out = mishen()
        .args(["screen", "--format", "jsonl", "--data-dir"])
        .arg(&data)
        .arg(&docs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let docs_out: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs_out.len(), 3);
    let ids: Vec<String> = docs_out.iter().map(|d| d["audit"]["record_id"].as_str().unwrap().to_owned()).collect();
    for (i, d) in docs_out.iter().enumerate() {
        assert_eq!(d["audit"]["seq"], i as u64);
        let kinds: Vec<&str> = d["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
        for k in ["person_name", "resident_id", "phone"] {
            assert!(kinds.contains(&k), "planted {k} not found: {kinds:?}");
        }
    }
    #[cfg(unix)]
    for f in ["audit.key", "log.key"] {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(data.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, 0o600, "{f}");
    }

    // A reviewer overrides the second screening.
    let out = mishen()
        .args(["review", &ids[1], "--decision", "override", "--verdict", "withhold", "--reviewer", "李审查", "--role", "保密审查员", "--comment", "暂缓公开", "--add", "address:3-9", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rv["seq"], 3);
    // Confirm with a different verdict, an unknown id: clear errors, exit 2.
    for args in [
        vec!["review", ids[0].as_str(), "--decision", "confirm", "--verdict", "publish", "--reviewer", "a", "--role", "b"],
        vec!["review", "01a216f4-43c9-7da2-9013-139d7e2137f7", "--decision", "confirm", "--reviewer", "a", "--role", "b"],
        vec!["review", ids[0].as_str(), "--decision", "confirm", "--reviewer", "a", "--role", "b", "--add", "phone:5-9999"],
        vec!["review", ids[0].as_str(), "--decision", "confirm", "--reviewer", "a", "--role", "b", "--add", "nonsense:1-2"],
        vec!["review", ids[0].as_str(), "--decision", "confirm", "--reviewer", "", "--role", "b"],
    ] {
        let out = mishen().args(&args).arg("--data-dir").arg(&data).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(err.starts_with("mishen: ") || err.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"));
    }

    // `review show`: the findings in the original file, its hash checked,
    // values masked unless --reveal, and the review that cites it.
    let doc1 = docs.join("doc0001.txt");
    let out = mishen().args(["review", "show", &ids[1], "--file"]).arg(&doc1).arg("--data-dir").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("file matches the record") && shown.contains("verdict redact"), "{shown}");
    for rule in ["pd.person_name", "pd.resident_id", "pd.phone.mobile"] {
        assert!(shown.contains(rule), "{rule}: {shown}");
    }
    for v in [PLANTED_NAME, PLANTED_ID, PLANTED_PHONE] {
        assert!(!shown.contains(v), "{v} masked: {shown}");
    }
    assert!(shown.contains("申请人：[■■■■]，身份证号"), "the passage in its context: {shown}");
    assert!(shown.contains("override → withhold · 李审查 (保密审查员 (unauthenticated))"), "{shown}");
    let out = mishen().args(["review", "show", &ids[1], "--reveal", "--file"]).arg(&doc1).arg("--data-dir").arg(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("[{PLANTED_PHONE}]")));
    // Another file (the first document) is refused: its hash is not the record's.
    let out = mishen().args(["review", "show", &ids[1], "--file"]).arg(docs.join("doc0000.txt")).arg("--data-dir").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not the document record"));
    assert!(out.stdout.is_empty(), "nothing shown");
    // A review record is not a screening.
    let rid = rv["record_id"].as_str().unwrap();
    let out = mishen().args(["review", "show", rid, "--file"]).arg(&doc1).arg("--data-dir").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("it reviews {}", ids[1])));

    // verify, export, verify the export.
    let out = mishen().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 4 records"));
    let exp = mishen().args(["audit", "export", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(exp.status.code(), Some(0));
    let export_file = t.path().join("export.jsonl");
    std::fs::write(&export_file, &exp.stdout).unwrap();
    let out = mishen()
        .args(["audit", "verify"])
        .arg(&export_file)
        .arg("--public-key")
        .arg(data.join("audit.pub"))
        .arg("--checkpoint")
        .arg(data.join("checkpoint"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let mut bad = exp.stdout.clone();
    let at = bad.iter().position(|&b| b == b'\n').unwrap() + 30;
    bad[at] ^= 1;
    std::fs::write(&export_file, &bad).unwrap();
    let out = mishen().args(["audit", "verify"]).arg(&export_file).arg("--public-key").arg(data.join("audit.pub")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("seq 1"), "{}", String::from_utf8_lossy(&out.stdout));

    // show and list.
    let out = mishen().args(["audit", "show", &ids[2], "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature ok"));
    let out = mishen().args(["audit", "list", "--verdict", "withhold", "--data-dir"]).arg(&data).output().unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    // The review record, and the screening it overrode, shown with its
    // verdict after review.
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("override of seq 1 by 李审查"));
    assert!(listed.lines().any(|l| l.contains(&ids[1]) && l.contains("redact → withhold") && l.contains("reviewed seq 3: override")), "{listed}");
    // The queue: the two screenings no one has reviewed yet.
    let out = mishen().args(["audit", "list", "--awaiting-review", "--data-dir"]).arg(&data).output().unwrap();
    let queue = String::from_utf8(out.stdout).unwrap();
    assert_eq!(queue.lines().count(), 2, "{queue}");
    assert!(queue.contains(&ids[0]) && queue.contains(&ids[2]) && !queue.contains(&ids[1]), "{queue}");
    assert!(queue.lines().all(|l| l.contains("awaiting review")), "{queue}");
    let out = mishen().args(["audit", "prove", "2", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(proof["verified"], true);
    let out = mishen().args(["audit", "consistency", "1", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let proof: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(proof["verified"], true);
    assert_eq!(proof["tree_size"], 4);
    let out = mishen().args(["keys", "show", "--format", "hex", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim().len(), 64);

    // No stored byte holds a planted value, nor a plain SHA-256 of one.
    let exported = String::from_utf8(exp.stdout).unwrap();
    for v in [PLANTED_ID, PLANTED_PHONE, PLANTED_NAME] {
        use sha2::Digest;
        let plain_hash = hex::encode(sha2::Sha256::digest(v.as_bytes()));
        assert!(!exported.contains(v) && !exported.contains(&plain_hash), "{v} in the export");
        for f in std::fs::read_dir(&data).unwrap() {
            let p = f.unwrap().path();
            let raw = std::fs::read(&p).unwrap();
            assert!(!contains(&raw, v.as_bytes()), "{v} in {}", p.display());
            assert!(!contains(&raw, plain_hash.as_bytes()), "sha256({v}) in {}", p.display());
        }
    }
    assert!(exported.contains("皖政办秘〔2009〕1号"), "文号 extracted");

    // Tampering with the database (after dropping its triggers) is caught.
    {
        let c = rusqlite::Connection::open(data.join("audit.sqlite")).unwrap();
        c.execute_batch("DROP TRIGGER records_no_update").unwrap();
        c.execute("UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '\"redact\"', '\"publish\"') AS BLOB) WHERE seq = 2", []).unwrap();
    }
    let out = mishen().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("first bad record seq 2"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn cli_without_data_dir_records_nothing_and_errors_exit_2() {
    let t = TempDir::new().unwrap();
    write_docs(&t.path().join("docs"), 1);
    let out = mishen().current_dir(t.path()).args(["screen", "--format", "jsonl", "docs"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("audit").is_none());
    assert!(!t.path().join("mishen-data").exists());
    for args in [
        vec!["audit", "verify", "--data-dir", "nope"],
        vec!["audit", "list", "--data-dir", "nope"],
        vec!["audit", "show", "0", "--data-dir", "nope"],
        vec!["audit", "verify", "missing.jsonl", "--public-key", "nope.pub"],
    ] {
        let out = mishen().current_dir(t.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    assert!(!t.path().join("nope").exists());
}

/// SIGKILL the writer during a stream of screenings: afterwards the log verifies
/// and every record whose screening was printed (acknowledged) is present.
#[cfg(unix)]
#[test]
fn sigkill_during_screening_loses_no_acknowledged_record() {
    use std::io::{BufRead, BufReader};
    let t = TempDir::new().unwrap();
    let docs = t.path().join("docs");
    let data = t.path().join("data");
    write_docs(&docs, 400);
    let bin = assert_cmd::cargo::cargo_bin("mishen");
    let mut child = std::process::Command::new(bin)
        .args(["screen", "--format", "jsonl", "--data-dir"])
        .arg(&data)
        .arg(&docs)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while acked.len() < 40 && r.read_line(&mut line).unwrap() > 0 {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        acked.push(v["audit"]["record_id"].as_str().unwrap().to_owned());
        line.clear();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(acked.len() >= 40, "only {} acknowledged before exit", acked.len());
    let out = Command::cargo_bin("mishen").unwrap().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let exp = Command::cargo_bin("mishen").unwrap().args(["audit", "export", "--data-dir"]).arg(&data).output().unwrap();
    let exported = String::from_utf8(exp.stdout).unwrap();
    for id in &acked {
        assert!(exported.contains(id.as_str()), "acknowledged record {id} lost");
    }
}


#[test]
fn group_commit_writer_serves_concurrent_clients() {
    let log = AuditLog::new(MemStore::default(), keys(), "cli:test").with_checkpoint_every(1000);
    let w = mishen::audit::writer::Writer::spawn(log, 64, Some(std::time::Duration::from_millis(5)));
    let ids = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let h = w.handle();
            let ids = &ids;
            s.spawn(move || {
                for i in 0..25u8 {
                    let a = h.append(Body::Screening(body(t * 25 + i))).unwrap();
                    ids.lock().unwrap().push(a.seq);
                }
            });
        }
    });
    let note = w.close().unwrap();
    let mut seqs = ids.into_inner().unwrap();
    seqs.sort();
    assert_eq!(seqs, (0..100).collect::<Vec<u64>>());
    assert!(note.contains("\n100\n"), "{note}");
}

#[test]
fn key_rotation_is_followed_from_the_first_key() {
    let mut log = sample_log();
    let next = Signer::from_seed([0x43; 32]);
    let next_public = next.public();
    log.rotate_to(next).unwrap();
    log.append(vec![Body::Screening(body(9))]).unwrap();
    let note = log.checkpoint().unwrap();
    let data = export(log.store());
    let root = Signer::from_seed(SEED).public();
    let s = verify_jsonl(&data, root, [note.as_str()]).unwrap();
    assert_eq!(s.records, 6);
    // Starting from the new key is not enough: the log's first key is the root.
    assert_eq!(verify_jsonl(&data, next_public, []).unwrap_err().seq, 0);
    // A record after the rotation signed with the old key fails.
    let mut old = AuditLog::new(MemStore { records: log.store().records[..5].to_vec(), notes: vec![] }, keys(), "cli:test");
    old.append(vec![Body::Screening(body(9))]).unwrap();
    let f = verify_jsonl(&export(old.store()), root, []).unwrap_err();
    assert_eq!(f.seq, 5, "{f}");
    // Flip every byte of the rotation record.
    let start = data.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(3).unwrap().0 + 1;
    let end = start + data[start..].iter().position(|&b| b == b'\n').unwrap();
    for i in start..=end {
        let mut d = data.clone();
        d[i] ^= 1;
        assert_eq!(verify_jsonl(&d, root, []).unwrap_err().seq, 4, "flip at {i}");
    }
}

#[test]
fn cli_keys_rotate_keeps_the_log_verifiable() {
    let t = TempDir::new().unwrap();
    let docs = t.path().join("docs");
    let data = t.path().join("data");
    write_docs(&docs, 1);
    let screen = || mishen().args(["screen", "--format", "jsonl", "--data-dir"]).arg(&data).arg(&docs).output().unwrap();
    assert_eq!(screen().status.code(), Some(1));
    let first = std::fs::read(data.join("audit.key")).unwrap();
    let out = mishen().args(["keys", "rotate", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(std::fs::read(data.join("audit.key")).unwrap(), first);
    assert!(!data.join("audit.key.next").exists());
    assert_eq!(screen().status.code(), Some(1));
    let out = mishen().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 3 records"));
}

#[test]
fn cli_keyword_summary_without_doc_number_holds_no_planted_value() {
    let t = TempDir::new().unwrap();
    let data = t.path().join("data");
    let doc = t.path().join("reply.txt");
    std::fs::write(
        &doc,
        format!(
            "关于城市生活垃圾分类处理工作的答复\n申请人：{PLANTED_NAME}，身份证号{PLANTED_ID}，联系电话{PLANTED_PHONE}。\n\
             {PLANTED_NAME}申请公开垃圾分类处理设施建设情况。经查，本机关已推进垃圾分类收运体系建设，垃圾分类处理设施运行正常。\n"
        ),
    )
    .unwrap();
    let out = mishen().args(["screen", "--format", "jsonl", "--data-dir"]).arg(&data).arg(&doc).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let exp = mishen().args(["audit", "export", "--data-dir"]).arg(&data).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&exp.stdout).unwrap();
    let kw = r["screening"]["document"]["keywords"].as_array().expect("keywords").clone();
    assert!(!kw.is_empty() && kw.len() <= 5, "{kw:?}");
    assert!(r["screening"]["document"].get("doc_number").is_none());
    for f in std::fs::read_dir(&data).unwrap() {
        let raw = std::fs::read(f.unwrap().path()).unwrap();
        for v in [PLANTED_ID, PLANTED_PHONE, PLANTED_NAME, &PLANTED_NAME[..6]] {
            assert!(!contains(&raw, v.as_bytes()), "{v} stored: keywords {kw:?}");
        }
    }
}

#[test]
fn screening_body_holds_fingerprints_not_values() {
    use mishen::audit::record::{DocMeta, screening_body};
    let s = mishen::Screener::embedded().unwrap();
    let text = format!("申请人：{PLANTED_NAME}，联系电话{PLANTED_PHONE}。\n复核人：王建国，联系电话{PLANTED_PHONE}。\n");
    let sc = s.screen(&text);
    let k1 = mishen::audit::keys::BodyKeys { log_key: LogKey::from_bytes(LOG_KEY), records_key: None };
    let k2 = mishen::audit::keys::BodyKeys { log_key: LogKey::from_bytes([7; 32]), records_key: None };
    let b1 = screening_body(Some(&text), text.len() as u64, &sc, &s, &k1, &DocMeta::default());
    let b2 = screening_body(Some(&text), text.len() as u64, &sc, &s, &k2, &DocMeta::default());
    let phones: Vec<&Fingerprint> = b1.findings.iter().filter(|f| f.kind == "phone").collect();
    assert_eq!(phones.len(), 2);
    assert_eq!(phones[0].value_hmac, phones[1].value_hmac, "equal values match within a log");
    assert_ne!(b1.findings[0].value_hmac, b2.findings[0].value_hmac, "another log key, another fingerprint");
    let json = serde_json::to_string(&b1).unwrap();
    for v in [PLANTED_NAME, PLANTED_PHONE, "王建国"] {
        assert!(!json.contains(v), "{v} in {json}");
    }
    // Character offsets, as in the JSON Lines output.
    let p = phones[0];
    let value: String = text.chars().skip(p.start as usize).take((p.end - p.start) as usize).collect();
    assert_eq!(value, PLANTED_PHONE);
}

#[test]
fn only_canonical_bytes_parse() {
    let log = sample_log();
    let bytes = &log.store().records[0].bytes;
    assert!(Record::parse(bytes).is_ok());
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    assert!(Record::parse(&pretty).unwrap_err().contains("canonical"));
    let mut extra = v.clone();
    extra["extra"] = serde_json::json!(1);
    let extra = serde_json_canonicalizer::to_vec(&extra).unwrap();
    assert!(Record::parse(&extra).is_err());
    let mut other = v;
    other["format"] = serde_json::json!("mishen-audit/2");
    assert!(Record::parse(&serde_json_canonicalizer::to_vec(&other).unwrap()).unwrap_err().contains("format"));
}

/// The signed checkpoint of [`sample_log`]; key hash and signature were checked
/// independently (Python `cryptography`, C2SP signed-note rules).
#[test]
fn kat_checkpoint_note() {
    let mut log = sample_log();
    assert_eq!(
        log.checkpoint().unwrap(),
        "mishen.audit/test\n4\n6OvnyYiIiZalg2xIoYCw/Yxh0m86YPib68Lr8qVHLWQ=\n\n\
         \u{2014} mishen.audit/test OpQrJk9wIg1lEpIJJWpJan7ZNtCJpHyUYpGXGjov6LMn68g9+gRgTEAeBb7fznGIiAb8bCpdqL/4zdEYO8G454pbDgo=\n"
    );
}

//! Audit-log append rate with durability on (SQLite WAL, `synchronous=FULL`):
//! one record per commit, 16 per commit (what `screen --data-dir` does per
//! batch), and four clients through the group-commit writer.
//!
//! cargo bench --bench audit

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mishen::audit::AuditLog;
use mishen::audit::keys::LogKey;
use mishen::audit::record::{Body, DocumentInfo, Fingerprint, ReasonEntry, ScreeningBody, fingerprint};
use std::time::Duration;

fn body(n: u64) -> ScreeningBody {
    let key = LogKey::from_bytes([7u8; 32]);
    ScreeningBody {
        document: DocumentInfo {
            title: Some(format!("关于第{n}批■■同志任职的通知")),
            doc_number: Some("国办发〔2016〕19号".into()),
            keywords: Vec::new(),
            copy_number: None,
            document_id: None,
            marking: None,
            title_sealed: None,
            content_sha256: hex::encode([n as u8; 32]),
            bytes: 4096,
            chars: 1400,
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
        engine: "mishen bench".into(),
        categories: ["state_secret", "trade_secret", "personal_data"].map(String::from).to_vec(),
        partial: false,
        response_truncated: false,
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("audit_append");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let mut log = AuditLog::open(dir.path(), "cli:bench").expect("open log");
    let mut n = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_per_commit", |b| {
        b.iter(|| {
            n += 1;
            log.append(vec![Body::Screening(body(n))]).expect("append")
        })
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("16_per_commit", |b| {
        b.iter(|| {
            n += 16;
            log.append((0..16).map(|j| Body::Screening(body(n + j))).collect()).expect("append")
        })
    });
    drop(log);
    let w = mishen::audit::writer::Writer::spawn(AuditLog::open(dir.path(), "cli:bench").expect("open log"), 256, None);
    g.throughput(Throughput::Elements(64));
    g.bench_function("4_clients_group_commit", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for t in 0..4u64 {
                    let h = w.handle();
                    s.spawn(move || {
                        for i in 0..16 {
                            h.append(Body::Screening(body(t * 100 + i))).expect("append");
                        }
                    });
                }
            })
        })
    });
    w.close().expect("close");
    g.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);

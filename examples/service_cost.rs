//! Where a service request's CPU goes, stage by stage, single-threaded:
//! `cargo run --release --example service_cost`.
use mishen::Screener;
use mishen::audit::record::{Body, DocMeta, Header, Record, screening_body};
use mishen::report::jsonl::finding_records;
use std::time::Instant;

fn main() {
    let text: String = std::fs::read_to_string("corpus/docs/annual_report.txt").unwrap().chars().take(1400).collect();
    let s = Screener::embedded().unwrap();
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let dir = tempfile::tempdir().unwrap();
    let mut log = mishen::audit::AuditLog::open(dir.path(), "bench").unwrap();
    let key = log.keys().body_keys();
    let mut bodies = Vec::new();
    let t = Instant::now();
    let mut scr = Vec::new();
    for _ in 0..n { scr.push(s.screen(&text)); }
    let a = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let t = Instant::now();
    for r in &scr { std::hint::black_box(finding_records(&text, &r.findings, '■')); }
    let b = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let _ = mishen::audit::meta::keywords(&s, &text, &scr[0].findings, '■');
    let t = Instant::now();
    for r in &scr { bodies.push(screening_body(Some(&text), text.len() as u64, r, &s, &key, &DocMeta::default())); }
    let c = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let t = Instant::now();
    for r in &scr { std::hint::black_box(mishen::audit::meta::keywords(&s, &text, &r.findings, '■')); }
    let k = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let t = Instant::now();
    for r in &scr { std::hint::black_box(mishen::audit::meta::Header::read(&text, &r.findings)); }
    let ti = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("header (份号, 文号, title) {ti:.1} µs");
    let signed: Vec<Body> = bodies.iter().cloned().map(Body::Screening).collect();
    let signer = &log.keys().signer;
    let t = Instant::now();
    for (i, b) in signed.into_iter().enumerate() {
        let h = Header { id: Header::new_id(1_700_000_000_000), seq: i as u64, unix_ms: 1_700_000_000_000, origin: "bench".into(), actor: "bench".into(), prev: [0; 32] };
        std::hint::black_box(Record::sign_canonical(&h, b, signer).unwrap());
    }
    let sg = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    let (t, c0) = (Instant::now(), thread_cpu());
    let mut commits: Vec<f64> = Vec::new();
    for ch in bodies.chunks(64) {
        let t = Instant::now();
        log.append(ch.iter().cloned().map(Body::Screening).collect()).unwrap();
        commits.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let d = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    commits.sort_by(f64::total_cmp);
    let q = |p: f64| commits[((commits.len() - 1) as f64 * p).round() as usize];
    println!("commits of 64: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} of {} over 10 ms", q(0.5), q(0.9), q(0.99), q(1.0), commits.iter().filter(|&&c| c > 10.0).count(), commits.len());
    let dc = (thread_cpu() - c0) / n as f64 * 1e6;
    println!("{} bytes, {} findings: screen {a:.1} µs, finding_records {b:.1} µs, screening_body {c:.1} µs (of which keywords {k:.1}), sign_canonical {sg:.1} µs, append (64/commit) {d:.1} µs per doc ({dc:.0} µs CPU of this thread)", text.len(), scr[0].findings.len());
}

/// CPU seconds (user + system) of this thread, from /proc (Linux; 10 ms ticks).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(f64::NAN)
}

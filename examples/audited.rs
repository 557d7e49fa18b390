//! Screen + durable audit record through the group-commit writer, THREADS
//! threads, N documents: `N=2000 THREADS=8 cargo run --release --example audited`
//! (run it under callgrind to see where a service request's CPU goes).
use mishen::Screener;
use mishen::audit::record::{Body, DocMeta, screening_body};
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let threads: usize = std::env::var("THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let text: String = std::fs::read_to_string("corpus/docs/annual_report.txt").unwrap().chars().take(1400).collect();
    let s = Screener::embedded().unwrap();
    let dir = tempfile::tempdir_in("target").unwrap();
    let log = mishen::audit::AuditLog::open(dir.path(), "bench").unwrap();
    let key = log.keys().body_keys();
    let w = mishen::audit::writer::Writer::spawn(log, 256, Some(Duration::from_secs(5)));
    let t = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..threads {
            let (s, key, h, text) = (&s, &key, w.handle(), &text);
            sc.spawn(move || {
                for _ in 0..n / threads {
                    let r = s.screen(text);
                    let b = screening_body(Some(text), text.len() as u64, &r, s, key, &DocMeta::default());
                    h.append(Body::Screening(b)).unwrap();
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    w.close().unwrap();
    println!("{n} docs, {threads} threads: {:.0} docs/s", n as f64 / secs);
}

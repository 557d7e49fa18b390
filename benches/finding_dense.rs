//! Screening time of finding-dense documents: a roster of names, mobile numbers
//! and resident IDs, where every line holds one or two findings.
//!
//! ```text
//! cargo bench --bench finding_dense
//! ```
//!
//! Each iteration screens the text and builds its JSON Lines record (positions,
//! masked excerpts), the work `mishen screen --format jsonl` does per document.
//! Sizes: 100 KB and 1 MB (`Throughput::Bytes`, so criterion reports MB/s);
//! linear cost means the two rates agree. Under `cargo test --benches` each
//! size runs once on a 20 KB roster.

use criterion::{Criterion, SamplingMode, Throughput};
use mishen::Screener;
use mishen::report::jsonl::document_record;
use std::hint::black_box;
use std::time::Duration;

/// A deterministic roster of about `bytes` bytes.
fn roster(bytes: usize) -> String {
    const NAMES: [&str; 8] = ["王小明", "李华", "张伟", "刘芳", "陈静", "杨洋", "赵磊", "黄丽"];
    const PREFIXES: [&str; 6] = ["139", "138", "150", "186", "188", "177"];
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut seed: u64 = 7;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut out = String::with_capacity(bytes + 64);
    let mut i = 0;
    while out.len() < bytes {
        match i % 3 {
            0 => {
                let name = NAMES[next(8) as usize];
                let phone = format!("{}{:08}", PREFIXES[next(6) as usize], next(100_000_000));
                out.push_str(&format!("联系人{name}，联系电话：{phone}。\n"));
            }
            1 => {
                let body = format!("110101{:04}{:02}{:02}{:03}", 1950 + next(50), 1 + next(12), 1 + next(28), next(1000));
                let sum: u32 = body.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
                let check = b"10X98765432"[(sum % 11) as usize] as char;
                out.push_str(&format!("身份证号码：{body}{check}\n"));
            }
            _ => out.push_str(&format!("联系电话：{}{:08}\n", PREFIXES[next(6) as usize], next(100_000_000))),
        }
        i += 1;
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |a: &str| args.iter().any(|x| x == a);
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let screener = Screener::embedded().expect("embedded rule packs compile");
    let mask = screener.pack().policy.mask;
    let sizes: &[(usize, &str)] = if benchmarking { &[(100_000, "100KB"), (1_000_000, "1MB")] } else { &[(20_000, "20KB")] };
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("finding_dense");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for &(bytes, label) in sizes {
        let text = roster(bytes);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(label, |b| {
            b.iter(|| {
                let s = screener.screen(black_box(&text));
                document_record("roster.txt", Some(&text), &s, screener.rules_sha256(), mask).findings.len()
            })
        });
    }
    g.finish();
    c.final_summary();
}

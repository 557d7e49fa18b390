//! Screening time of finding-dense documents: a roster of names, mobile numbers
//! and resident IDs (`tests/support/roster.rs`), where every line holds one or two findings.
//!
//! ```text
//! cargo bench --bench finding_dense
//! ```
//!
//! Each iteration screens the text and builds its JSON Lines record (positions,
//! masked excerpts), the work `mishen screen --format jsonl` does per document.
//! Sizes: 100 KB, 1 MB, 10 MB and 30 MB (a real 名单 within the message
//! limit) (`Throughput::Bytes`, so criterion reports MB/s); linear cost means
//! the rates agree. `MISHEN_BENCH_SIZES=100KB,1MB` picks some. Under
//! `cargo test --benches` one 20 KB roster runs once.

use criterion::{Criterion, SamplingMode, Throughput};
use mishen::Screener;
use mishen::report::jsonl::document_record;
use std::hint::black_box;
use std::time::Duration;

#[path = "../tests/support/roster.rs"]
mod roster;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |a: &str| args.iter().any(|x| x == a);
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let screener = Screener::embedded().expect("embedded rule packs compile");
    let mask = screener.pack().policy.mask;
    let all: &[(usize, &str)] = &[(100_000, "100KB"), (1_000_000, "1MB"), (10_000_000, "10MB"), (30_000_000, "30MB")];
    let pick = std::env::var("MISHEN_BENCH_SIZES").ok();
    let sizes: Vec<(usize, &str)> = if benchmarking {
        all.iter().copied().filter(|(_, l)| pick.as_deref().is_none_or(|p| p.split(',').any(|x| x.trim() == *l))).collect()
    } else {
        vec![(20_000, "20KB")]
    };
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("finding_dense");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for (bytes, label) in sizes {
        let (text, _) = roster::roster(bytes);
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

//! Tagging speed of the person-name model on real prose, and its load time.
//!
//! ```text
//! cargo bench --bench name_model
//! ```
//!
//! The text is `corpus/docs/*.txt` concatenated (about 20 KB, repeated to
//! `MISHEN_BENCH_KB`, default 256 KB). Groups (criterion, `Throughput::Bytes`):
//!
//! - `name_model/tag`: [`NameModel::spans`] over the whole text (features,
//!   jieba segmentation, Viterbi, and forward-backward where a name is found);
//! - `name_model/load`: [`NameModel::from_bytes`] on the embedded model.
//!
//! After criterion a plain summary gives characters/s and MB/s for tagging and
//! the load time in ms. Under `cargo test --benches` everything runs once.

use criterion::{Criterion, Throughput};
use mishen::Screener;
use mishen::detect::names::features::FeatureSet;
use mishen::detect::names::model::NameModel;
use mishen::rules::{PERSON_NAME_MODEL, PackSource};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn corpus_text(target: usize) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join("docs");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect())
        .unwrap_or_default();
    paths.sort();
    let texts: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    assert!(!texts.is_empty(), "corpus/docs/*.txt are the bench text");
    let mut text = String::new();
    while text.len() < target {
        for t in &texts {
            text.push_str(t);
            text.push('\n');
        }
    }
    text
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list");
    let kb: usize = std::env::var("MISHEN_BENCH_KB").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    let text = corpus_text(if benchmarking { kb * 1024 } else { 4096 });
    let screener = Screener::embedded().expect("embedded rules");
    let tok = screener.engine().tokenizer();
    let model = screener.pack().builtin.name_model.as_deref().expect("name model");
    let bytes = PackSource::embedded().binary(PERSON_NAME_MODEL).expect("model bytes").to_vec();
    let mut c = Criterion::default().configure_from_args();
    if benchmarking {
        c = c.sample_size(10).measurement_time(Duration::from_secs(10));
    }
    {
        let mut g = c.benchmark_group("name_model");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("tag", |b| b.iter(|| black_box(model.spans(tok, black_box(&text)))));
        g.throughput(Throughput::Elements(1));
        g.bench_function("load", |b| {
            b.iter(|| black_box(NameModel::from_bytes(&bytes, FeatureSet::new(&screener.pack().builtin)).unwrap()))
        });
        g.finish();
    }
    c.final_summary();
    if !benchmarking {
        return;
    }
    let chars = text.chars().count();
    let runs = 5;
    let t0 = Instant::now();
    for _ in 0..runs {
        black_box(model.spans(tok, &text));
    }
    let s = t0.elapsed().as_secs_f64() / runs as f64;
    let t1 = Instant::now();
    for _ in 0..runs {
        black_box(NameModel::from_bytes(&bytes, FeatureSet::new(&screener.pack().builtin)).unwrap());
    }
    let load = t1.elapsed().as_secs_f64() / runs as f64;
    println!(
        "name model: {} chars ({:.2} MB) tagged at {:.2} M chars/s, {:.2} MB/s; load {:.1} ms ({} attributes, {} bytes)",
        chars,
        text.len() as f64 / 1e6,
        chars as f64 / s / 1e6,
        text.len() as f64 / s / 1e6,
        load * 1e3,
        model.num_attributes(),
        bytes.len()
    );
}

//! Batch throughput of `mishen screen` on a mixed archive, with 1 and 2 threads.
//!
//! ```text
//! cargo bench --bench batch                 # 40 MB archive
//! MISHEN_BENCH_MB=200 cargo bench --bench batch
//! ```
//!
//! The archive comes from `examples/make_archive.rs` (UTF-8, GB18030, Markdown,
//! docx, xlsx, HTML, JSON and CID-font PDF documents of ~40 KB, deflated). The
//! bench runs the release binary (`--format jsonl`, output discarded) three
//! times per thread count and reports the best wall time as MB/s of document
//! bytes and of archive bytes. Under `cargo test --benches` (no `--bench`
//! argument) it screens a 1 MB archive once with each thread count and checks
//! the outputs agree, without timing.

#[path = "../examples/make_archive.rs"]
mod make_archive;

use std::process::{Command, Stdio};
use std::time::Instant;

fn screen(bin: &str, archive: &std::path::Path, threads: usize) -> (f64, Vec<u8>) {
    let t = Instant::now();
    let out = Command::new(bin)
        .args(["screen", "--format", "jsonl", "--fail-on", "never", "-j", &threads.to_string()])
        .arg(archive)
        .stderr(Stdio::null())
        .output()
        .expect("mishen runs");
    assert!(out.status.success(), "mishen exited with {:?}", out.status);
    (t.elapsed().as_secs_f64(), out.stdout)
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let mb: u64 = if benchmarking { std::env::var("MISHEN_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(40) } else { 1 };
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("mixed.zip");
    let f = std::io::BufWriter::new(std::fs::File::create(&archive).unwrap());
    let (entries, bytes) = make_archive::write_archive(f, mb, false);
    let size = std::fs::metadata(&archive).unwrap().len();
    let bin = env!("CARGO_BIN_EXE_mishen");
    if !benchmarking {
        let (_, a) = screen(bin, &archive, 1);
        let (_, b) = screen(bin, &archive, 2);
        assert_eq!(a, b, "1 and 2 threads give the same output");
        println!("batch bench: smoke run ok ({entries} entries)");
        return;
    }
    println!("mixed archive: {entries} entries, {:.1} MB of documents, {:.1} MB zip", bytes as f64 / 1e6, size as f64 / 1e6);
    println!("threads | best wall s | MB/s (documents) | MB/s (archive)");
    for threads in [1, 2] {
        let best = (0..3).map(|_| screen(bin, &archive, threads).0).fold(f64::INFINITY, f64::min);
        println!("{threads:>7} | {best:>11.2} | {:>16.1} | {:>14.1}", bytes as f64 / 1e6 / best, size as f64 / 1e6 / best);
    }
}

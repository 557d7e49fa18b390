//! Service load: docs/s and p50/p99 latency for ~4 KB documents through the gRPC
//! service at 1, 16 and 64 concurrent streams, the audit log durable (SQLite
//! WAL, synchronous=FULL, group commit); and, in the same run, the in-process
//! engine's docs/s for comparison.
//!
//! ```text
//! cargo bench --bench load
//! MISHEN_LOAD_SECS=10 cargo bench --bench load
//! MISHEN_LOAD_BIN=/tmp/mishen-before cargo bench --bench load   # another server build
//! ```
//!
//! The server runs in this process on 127.0.0.1 (port 0) with its defaults
//! (one engine thread per core), the clients are tonic clients on the same
//! machine, so on 2 cores clients and server share the CPU, as they would on
//! a single host. Each "stream" is one task issuing unary `Screen` calls back to
//! back (one HTTP/2 stream at a time), spread over 4 connections (MISHEN_LOAD_CONNS); a separate row
//! sends the same documents through `ScreenStream` batches.
//!
//! Documents: the project's sample documents (`corpus/docs/*.txt`) cut into
//! ~4 KB pieces at line breaks (a mix of publish, redact and withhold).
//! Under `cargo test --benches` it runs for a fraction of a second.

/// The server binary's allocator, so that the in-process rows and the server
/// compare the same code.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use mishen::Screener;
use mishen::service::pb::screening_service_client::ScreeningServiceClient;
use mishen::service::pb::{self, ScreenRequest, screen_request::Document};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

fn documents() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/docs");
    let mut texts: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            let mut ps: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            ps.sort();
            ps.into_iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
        })
        .unwrap_or_default();
    if texts.is_empty() {
        texts.push("关于做好政府信息公开工作的通知\n联系人：张伟，联系电话：13800138000。\n".repeat(40));
    }
    // ~4 KB documents: whole lines taken cyclically from the samples.
    let lines: Vec<&str> = texts.iter().flat_map(|t| t.split_inclusive('\n')).collect();
    let mut docs = Vec::new();
    let mut k = 0;
    while docs.len() < 64 {
        let mut cur = String::new();
        while cur.len() < 4096 {
            cur.push_str(lines[k % lines.len()]);
            k += 1;
        }
        docs.push(cur);
    }
    docs
}

/// CPU seconds (user + system) this process has used, from /proc (Linux).
fn cpu_secs() -> f64 {
    proc_cpu_secs("self")
}

/// CPU seconds (user + system) process `pid` (or `self`) has used, from /proc.
fn proc_cpu_secs(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name: utime and stime are the 12th and 13th.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let t = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(t / 100.0) // USER_HZ
        })
        .unwrap_or(f64::NAN)
}

struct Row {
    name: String,
    docs: u64,
    secs: f64,
    /// CPU seconds of this process (the clients; for in-process rows, all) during the row.
    cpu: f64,
    /// CPU seconds of the server process during the row (service rows).
    server_cpu: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn unary_load(channels: &[Channel], docs: Arc<Vec<String>>, streams: usize, dur: Duration) -> Row {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let cpu0 = cpu_secs();
    let mut tasks = Vec::new();
    for i in 0..streams {
        let mut c = ScreeningServiceClient::new(channels[i % channels.len()].clone());
        let docs = docs.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = i;
            while !stop.load(Ordering::Relaxed) {
                let req = ScreenRequest {
                    document: Some(Document::Text(docs[k % docs.len()].clone())),
                    ..Default::default()
                };
                k += streams;
                let t = Instant::now();
                let r = c.screen(req).await.expect("screen");
                lat.push(t.elapsed().as_micros() as u32);
                assert!(r.into_inner().audit.is_some());
            }
            lat
        }));
    }
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    Row {
        name: format!("gRPC Screen, {streams} concurrent"),
        docs: lat.len() as u64,
        secs,
        cpu: cpu_secs() - cpu0,
        server_cpu: f64::NAN,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
    }
}

async fn stream_load(channel: &Channel, docs: Arc<Vec<String>>, batches: usize) -> Row {
    let mut c = ScreeningServiceClient::new(channel.clone());
    let started = Instant::now();
    let cpu0 = cpu_secs();
    let mut n = 0u64;
    for b in 0..batches {
        let reqs: Vec<ScreenRequest> = (0..docs.len())
            .map(|i| ScreenRequest {
                document: Some(Document::Text(docs[(i + b) % docs.len()].clone())),
                ..Default::default()
            })
            .collect();
        let mut out = c.screen_stream(tokio_stream::iter(reqs)).await.expect("stream").into_inner();
        while let Some(r) = out.message().await.expect("item") {
            assert!(r.error.is_none() && r.verdict() != pb::Verdict::Unspecified);
            n += 1;
        }
    }
    Row {
        name: "gRPC ScreenStream, 1 stream".into(),
        docs: n,
        secs: started.elapsed().as_secs_f64(),
        cpu: cpu_secs() - cpu0,
        server_cpu: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    }
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("admin connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

/// Runs `work(document)` on `threads` threads over the documents, round robin,
/// for `dur`: a row with the documents done, wall time and process CPU.
fn in_process_row(name: String, docs: &[String], dur: Duration, threads: usize, work: impl Fn(&str) + Sync) -> Row {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let cpu0 = cpu_secs();
    let counts: Vec<u64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (stop, work) = (&stop, &work);
                sc.spawn(move || {
                    let mut n = 0u64;
                    let mut k = t;
                    while !stop.load(Ordering::Relaxed) {
                        work(&docs[k % docs.len()]);
                        k += threads;
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        std::thread::sleep(dur);
        stop.store(true, Ordering::Relaxed);
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    Row {
        name,
        docs: counts.iter().sum(),
        secs: started.elapsed().as_secs_f64(),
        cpu: cpu_secs() - cpu0,
        server_cpu: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    }
}

fn in_process(docs: &[String], dur: Duration, threads: usize) -> Row {
    let s = Screener::embedded().expect("rules");
    let name = format!("in-process Screener::screen, {threads} thread{}", if threads == 1 { "" } else { "s" });
    in_process_row(name, docs, dur, threads, |text| {
        std::hint::black_box(s.screen(text));
    })
}

/// The same work as the service without gRPC: screen, build the audit record,
/// append it durably through the group-commit writer (32 threads, so that
/// batches form as they do under 64 streams).
fn in_process_audited(docs: &[String], dur: Duration, dir: &Path) -> Row {
    use mishen::audit::record::{Body, DocMeta, screening_body};
    let s = Screener::embedded().expect("rules");
    let log = mishen::audit::AuditLog::open(dir, "bench").expect("log");
    let key = log.keys().body_keys();
    let writer = mishen::audit::writer::Writer::spawn(log, 256, Some(Duration::from_secs(5)));
    let handle = writer.handle();
    let row = in_process_row("in-process screen + durable audit record, 32 threads".into(), docs, dur, 32, |text| {
        let r = s.screen(text);
        let body = screening_body(Some(text), text.len() as u64, &r, &s, &key, &DocMeta::default());
        handle.append(Body::Screening(body)).expect("append");
    });
    drop(handle);
    writer.close().expect("close");
    row
}

fn main() {
    // `cargo test --benches` passes no `--bench`: a smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    if let Ok(f) = std::env::var("MISHEN_LOG") {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(f)).with_writer(std::io::stderr).init();
    }
    let secs: f64 = std::env::var("MISHEN_LOAD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let dur = if quick { Duration::from_millis(200) } else { Duration::from_secs_f64(secs) };
    let docs = Arc::new(documents());
    let avg = docs.iter().map(String::len).sum::<usize>() / docs.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("load: {} documents of {avg} bytes on average, {cores} cores, {:.0} s per row", docs.len(), dur.as_secs_f64());

    let audit_dir = tempfile::tempdir_in(std::env::var("MISHEN_LOAD_DIR").unwrap_or_else(|_| env!("CARGO_TARGET_TMPDIR").into()))
        .expect("tempdir");
    let mut rows = vec![in_process(&docs, dur, 1), in_process(&docs, dur, cores), in_process_audited(&docs, dur, audit_dir.path())];

    // The server: `mishen serve` in its own process (release build), so that
    // its CPU is measured apart from the clients'.
    let dir = tempfile::tempdir_in(std::env::var("MISHEN_LOAD_DIR").unwrap_or_else(|_| env!("CARGO_TARGET_TMPDIR").into()))
        .expect("tempdir");
    // MISHEN_LOAD_BIN: another build of the server, to compare builds under
    // the same clients.
    let bin = std::env::var("MISHEN_LOAD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_mishen").into());
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--max-concurrency", "256", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("MISHEN_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start mishen serve");
    let mut line = String::new();
    let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    std::io::BufRead::read_line(&mut err, &mut line).expect("server banner");
    // "mishen: serving mishen.v1.ScreeningService on ADDR, metrics on http://ADDR/metrics"
    let addr: std::net::SocketAddr = line.split(" on ").nth(1).and_then(|r| r.split(',').next()).and_then(|a| a.trim().parse().ok()).expect("address");
    let admin: std::net::SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|a| a.parse().ok())
        .expect("admin address");
    let pid = child.id();
    let server_cpu = move || proc_cpu_secs(&pid.to_string());

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let service_rows = rt.block_on(async {
        let mut channels = Vec::new();
        // MISHEN_LOAD_CONNS: HTTP/2 connections the streams share (default 4).
        let conns: usize = std::env::var("MISHEN_LOAD_CONNS").ok().and_then(|v| v.parse().ok()).unwrap_or(4).max(1);
        for _ in 0..conns {
            channels.push(Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("connect"));
        }
        // Warm-up.
        let _ = unary_load(&channels, docs.clone(), 4, Duration::from_millis(300)).await;
        let mut rows = Vec::new();
        // MISHEN_LOAD_STREAMS=64: only the given rows (comma-separated).
        let counts: Vec<usize> = std::env::var("MISHEN_LOAD_STREAMS")
            .ok()
            .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 16, 64]);
        for streams in counts {
            let c0 = server_cpu();
            let mut r = unary_load(&channels, docs.clone(), streams, dur).await;
            r.server_cpu = server_cpu() - c0;
            rows.push(r);
        }
        let batches = if quick { 1 } else { ((dur.as_secs_f64() * 3000.0) as usize / docs.len()).max(1) };
        let c0 = server_cpu();
        let mut r = stream_load(&channels[0], docs.clone(), batches).await;
        r.server_cpu = server_cpu() - c0;
        rows.push(r);
        drop(channels);
        // Mean time to a durable audit record, from the server's own metrics.
        let m = http_get(admin, "/metrics").await;
        let val = |name: &str| -> f64 {
            m.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().last()).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
        };
        let (sum, count) = (val("mishen_audit_append_duration_seconds_sum"), val("mishen_audit_append_duration_seconds_count"));
        println!("audit append: {count} records, mean {:.2} ms until durable", 1000.0 * sum / count);
        if std::env::var_os("MISHEN_LOAD_HISTOGRAMS").is_some() {
            for l in m.lines().filter(|l| l.contains("_bucket") && (l.contains("Screen\"") || l.contains("append"))) {
                println!("{l}");
            }
        }
        rows
    });
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let _ = child.wait();
    let base = rows[1].docs as f64 / rows[1].secs;
    // The same work in process: screening plus a durable signed record.
    let audited = rows[2].docs as f64 / rows[2].secs;
    rows.extend(service_rows);
    println!();
    println!("| run | docs/s | MB/s | p50 ms | p99 ms | vs in-process ({cores} threads) | vs in-process + record | server CPU µs/doc | client CPU µs/doc |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let dps = r.docs as f64 / r.secs;
        let fmt = |v: f64| if v.is_nan() { "–".to_string() } else { format!("{v:.2}") };
        println!(
            "| {} | {:.0} | {:.1} | {} | {} | {:.0} % | {:.0} % | {} | {:.0} |",
            r.name,
            dps,
            dps * avg as f64 / 1e6,
            fmt(r.p50_ms),
            fmt(r.p99_ms),
            100.0 * dps / base,
            100.0 * dps / audited,
            if r.server_cpu.is_nan() { format!("{:.0}", 1e6 * r.cpu / r.docs as f64) } else { format!("{:.0}", 1e6 * r.server_cpu / r.docs as f64) },
            if r.server_cpu.is_nan() { 0.0 } else { 1e6 * r.cpu / r.docs as f64 }
        );
    }
}

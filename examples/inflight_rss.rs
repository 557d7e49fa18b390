//! Peak memory of `mishen serve` under N concurrent max-size requests.
//!
//! ```text
//! cargo build --release --bin mishen --example inflight_rss
//! target/release/examples/inflight_rss --bin target/release/mishen -n 128 --mb 16 [--roster] [-- SERVE FLAGS...]
//! ```
//!
//! Starts the server (a fresh data directory, admin port off), screens one
//! small document, then sends `-n` requests of `--mb` MiB at once (government
//! prose without findings, or with `--roster` the finding-dense roster of
//! `tests/support/roster.rs`) and reports how they ended (gRPC codes) and the
//! server's resident memory: VmRSS after warm-up and VmHWM (peak) at the end,
//! from `/proc/<pid>/status`. Everything after `--` goes to `mishen serve`
//! (`--max-inflight-bytes`, `--workers`, ...).
#[path = "../tests/support/roster.rs"]
mod roster;

use mishen::service::pb;
use mishen::service::pb::screening_service_client::ScreeningServiceClient;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn status_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let bin = get("--bin").unwrap_or_else(|| "target/release/mishen".into());
    let n: usize = get("-n").and_then(|v| v.parse().ok()).unwrap_or(128);
    let mb: usize = get("--mb").and_then(|v| v.parse().ok()).unwrap_or(16);
    let roster = args.iter().any(|a| a == "--roster");
    let extra: Vec<String> = args.iter().skip_while(|a| *a != "--").skip(1).cloned().collect();

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--admin-listen", "off", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(&extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mishen serve");
    let pid = child.id();
    let url = format!("http://127.0.0.1:{port}");
    let mut c = loop {
        match ScreeningServiceClient::connect(url.clone()).await {
            Ok(c) => break c.max_decoding_message_size(usize::MAX).max_encoding_message_size(usize::MAX),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let text_req = |t: String| pb::ScreenRequest {
        document: Some(pb::screen_request::Document::Text(t)),
        options: Some(pb::ScreenOptions { return_redacted_text: true, ..Default::default() }),
        ..Default::default()
    };
    c.screen(text_req("联系电话：13800138000。".into())).await.expect("warm-up");
    let base = status_kb(pid, "VmRSS:");

    let text = if roster {
        roster::roster(mb << 20).0
    } else {
        let p = "为进一步做好政府信息公开工作，现将有关事项通知如下。属于国家秘密的信息不予公开。\n";
        p.repeat((mb << 20) / p.len())
    };
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let mut c = c.clone();
        let q = text_req(text.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = tonic::Request::new(q);
            r.set_timeout(Duration::from_secs(600));
            c.screen(r).await.map(|_| ()).map_err(|e| e.code())
        }));
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        let k = match t.await.unwrap() {
            Ok(()) => "OK".to_string(),
            Err(code) => format!("{code:?}"),
        };
        *codes.entry(k).or_default() += 1;
    }
    let peak = status_kb(pid, "VmHWM:");
    println!(
        "{n} × {mb} MiB ({}) in {:.1} s: {codes:?}; server RSS after warm-up {} MiB, peak (VmHWM) {} MiB",
        if roster { "roster" } else { "prose" },
        t0.elapsed().as_secs_f64(),
        base / 1024,
        peak / 1024
    );
    let _ = child.kill();
    let _ = child.wait();
}

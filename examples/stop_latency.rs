//! How soon the engine is free again after a request's deadline: one engine
//! thread, a finding-dense roster of `MB` MiB sent with a deadline of `MS`
//! milliseconds, then a small document the moment the first one fails:
//! `cargo run --release --example stop_latency [MB] [MS]` (default 16, 1000).
#[path = "../tests/support/roster.rs"]
mod roster;

use mishen::service::pb;
use mishen::service::pb::screening_service_client::ScreeningServiceClient;
use mishen::service::{Config, Server};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mb: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(16);
    let ms: u64 = std::env::args().nth(2).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: None,
        data_dir: dir.path().join("data"),
        workers: 1,
        ..Config::default()
    };
    let server = Server::bind(cfg).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let mut c = ScreeningServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    let req = |t: String| pb::ScreenRequest {
        document: Some(pb::screen_request::Document::Text(t)),
        options: Some(pb::ScreenOptions { return_redacted_text: false, ..Default::default() }),
        ..Default::default()
    };
    let (text, _) = roster::roster(mb << 20);
    let t0 = Instant::now();
    let mut r = tonic::Request::new(req(text));
    r.set_timeout(Duration::from_millis(ms));
    let e = c.screen(r).await.expect_err("past its deadline");
    let t1 = Instant::now();
    let ok = c.screen(req("联系电话：13800138000。".into())).await.expect("served");
    let t2 = Instant::now();
    println!(
        "{mb} MiB roster, deadline {ms} ms: {:?} after {} ms; a small document right after answered in {} ms (verdict {:?})",
        e.code(),
        (t1 - t0).as_millis(),
        (t2 - t1).as_millis(),
        ok.into_inner().verdict()
    );
    let _ = stop.send(());
    let _ = run.await;
}

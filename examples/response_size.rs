//! The size of a `Screen` response against its request, part by part, on the
//! finding-dense roster of `tests/support/roster.rs`:
//! `cargo run --release --example response_size [MB]` (default 1.3).
#[path = "../tests/support/roster.rs"]
mod roster;

use mishen::service::pb;
use mishen::service::pb::screening_service_client::ScreeningServiceClient;
use mishen::service::{Config, Server};
use prost::Message;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mb: f64 = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1.3);
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: None,
        data_dir: dir.path().join("data"),
        max_message_bytes: 1 << 30,
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
    let (text, _) = roster::roster((mb * (1 << 20) as f64) as usize);
    let q = pb::ScreenRequest {
        document: Some(pb::screen_request::Document::Text(text)),
        options: Some(pb::ScreenOptions { return_redacted_text: true, ..Default::default() }),
        ..Default::default()
    };
    let req = q.encoded_len();
    let r = c.screen(q).await.unwrap().into_inner();
    let total = r.encoded_len();
    let n = r.findings.len().max(1);
    let sum = |f: &dyn Fn(&pb::Finding) -> usize| r.findings.iter().map(f).sum::<usize>();
    let findings = sum(&|f| f.encoded_len() + 3);
    let basis = sum(&|f| f.basis.len() + 3);
    let explanation = sum(&|f| f.explanation.len() + 3);
    let excerpt = sum(&|f| f.excerpt.len() + 2);
    let names = sum(&|f| f.rule.len() + f.category.len() + f.kind.len() + 6);
    let redacted = r.redacted_text.as_ref().map_or(0, |t| t.len());
    let receipt = r.audit.as_ref().map_or(0, |a| a.encoded_len());
    let pct = |x: usize| 100.0 * x as f64 / total as f64;
    println!("request {req} bytes, {n} findings ({:.1} request bytes per finding)", req as f64 / n as f64);
    println!("response {total} bytes = {:.1}× the request", total as f64 / req as f64);
    println!("  findings      {findings:>10} ({:.0}%, {:.0} bytes each)", pct(findings), findings as f64 / n as f64);
    println!("    basis       {basis:>10} ({:.0}%, {:.0} each)", pct(basis), basis as f64 / n as f64);
    println!("    explanation {explanation:>10} ({:.0}%, {:.0} each)", pct(explanation), explanation as f64 / n as f64);
    println!("    excerpt     {excerpt:>10} ({:.0}%, {:.0} each)", pct(excerpt), excerpt as f64 / n as f64);
    println!("    rule/category/kind {names:>5} ({:.0}%, {:.0} each)", pct(names), names as f64 / n as f64);
    println!("  redacted text {redacted:>10} ({:.0}%)", pct(redacted));
    println!("  receipt (signed record) {receipt:>10} ({:.0}%, {:.0} bytes per finding)", pct(receipt), receipt as f64 / n as f64);
    let _ = stop.send(());
    let _ = run.await;
}

//! Throughput of the pipeline on ~10 MB of government prose.
//!
//! ```text
//! cargo bench --bench screen
//! MISHEN_BENCH_MB=2 cargo bench --bench screen -- screen_end_to_end
//! ```
//!
//! The text is the project's own sample documents (`corpus/docs/*.txt`, read at
//! run time) repeated to the target size; without them, an embedded paragraph of
//! generic government prose. Groups (criterion, `Throughput::Bytes`):
//!
//! - `normalize`: [`Normalized::new`];
//! - `detect`: `engine().detect` on an already [`Prepared`] text;
//! - `screen_end_to_end`: [`Screener::screen`] (normalize + detect + decide);
//! - `jieba_tag`: jieba-rs `tag(text, true)` alone over the same text, the reference:
//!   the target is end-to-end at least 1.2× as fast as tagging everything;
//! - `startup`: [`Screener::embedded`] (target < 200 ms);
//! - `docs_4k`: screening ~4 KB documents one by one (`Throughput::Elements`).
//!
//! After criterion, a plain-text summary (MB/s per group, the end-to-end / jieba
//! ratio, startup ms, docs/s), timed separately with `Instant` so the README can
//! quote it. Under `cargo test --benches` everything runs once on a small text and
//! the summary is skipped.

use criterion::{Criterion, SamplingMode, Throughput};
use mishen::Screener;
use mishen::detect::Prepared;
use mishen::normalize::Normalized;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Generic government prose, used when `corpus/docs` is not there.
const FALLBACK: &str = "\
关于进一步做好2024年度政府信息公开工作的通知

各镇人民政府、街道办事处，区政府各部门、各直属单位：

为深入贯彻落实《中华人民共和国政府信息公开条例》，进一步提升政务公开质量和实效，\
现就做好本年度政府信息公开工作有关事项通知如下。

一、坚持以公开为常态、不公开为例外。各单位要严格落实公开属性源头认定机制，\
对拟制的公文在起草时明确公开属性，依法应当主动公开的政府信息要在形成或者变更之日起20个工作日内及时公开。

二、加强重点领域信息公开。围绕财政预决算、重大建设项目、公共资源配置、社会公益事业等重点领域，\
细化公开内容，规范公开方式，提高公开信息的可读性和易获取性。

三、规范依申请公开办理。严格按照法定时限答复申请人，答复内容要准确、规范，\
对不予公开的要说明理由并告知救济途径。涉及商业秘密、个人隐私等公开会对第三方合法权益造成损害的，\
应当书面征求第三方的意见。

四、强化公开前保密审查。各单位要建立健全政府信息发布保密审查机制，\
明确审查的程序和责任，对拟公开的政府信息依照《中华人民共和国保守国家秘密法》以及其他法律、法规和国家有关规定进行审查。

五、做好政策解读和回应关切。对涉及群众切身利益的重要政策，要同步做好解读工作，\
通过12345政务服务便民热线、政府网站留言等渠道收集社会关切，及时予以回应。

区人民政府办公室
2024年3月15日
";

fn sources() -> (Vec<String>, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join("docs");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| !t.trim().is_empty())
        .collect();
    if texts.is_empty() {
        (
            vec![FALLBACK.to_owned()],
            "embedded fallback paragraph".to_owned(),
        )
    } else {
        let n = texts.len();
        (texts, format!("{n} corpus/docs/*.txt file(s)"))
    }
}

/// The sources concatenated and repeated to at least `target` bytes.
fn build_text(sources: &[String], target: usize) -> String {
    let mut text = String::with_capacity(target + 64 * 1024);
    while text.len() < target {
        for s in sources {
            text.push_str(s);
            if !s.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
    }
    text
}

/// `text` cut at line ends into documents of about `size` bytes.
fn split_docs(text: &str, size: usize) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        at += line.len();
        if at - start >= size {
            docs.push(&text[start..at]);
            start = at;
        }
    }
    if at > start {
        docs.push(&text[start..at]);
    }
    docs
}

struct Setup {
    screener: Screener,
    text: String,
    docs_source: String,
    benchmarking: bool,
}

fn setup() -> Setup {
    let args: Vec<String> = std::env::args().collect();
    let has = |a: &str| args.iter().any(|x| x == a);
    let benchmarking = has("--bench") && !has("--test") && !has("--list");
    let mb: f64 = std::env::var("MISHEN_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let target = if benchmarking {
        (mb * 1e6) as usize
    } else {
        256 * 1024
    };
    let (sources, docs_source) = sources();
    let text = build_text(&sources, target);
    let screener = Screener::embedded().expect("embedded rule packs compile");
    Setup {
        screener,
        text,
        docs_source,
        benchmarking,
    }
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

fn benches(c: &mut Criterion, s: &Setup) {
    let text = s.text.as_str();
    let bytes = text.len() as u64;
    let engine = s.screener.engine();
    let header_lines = s.screener.pack().policy.header_lines;
    let label = format!("{:.1}MB", bytes as f64 / 1e6);

    let mut g = configure(c, "normalize");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(&label, |b| b.iter(|| Normalized::new(black_box(text))));
    g.finish();

    let prepared = Prepared::new(text, header_lines);
    let mut g = configure(c, "detect");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(&label, |b| b.iter(|| engine.detect(black_box(&prepared))));
    g.finish();
    drop(prepared);

    let mut g = configure(c, "screen_end_to_end");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(&label, |b| b.iter(|| s.screener.screen(black_box(text))));
    g.finish();

    let jieba = engine.tokenizer().jieba();
    let mut g = configure(c, "jieba_tag");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(&label, |b| {
        b.iter(|| jieba.tag(black_box(text), true).len())
    });
    g.finish();

    let mut g = configure(c, "startup");
    g.bench_function("Screener::embedded", |b| {
        b.iter(|| Screener::embedded().unwrap())
    });
    g.finish();

    let docs = split_docs(text, 4096);
    let docs = &docs[..docs.len().min(256)];
    let mut g = configure(c, "docs_4k");
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.bench_function(format!("{}docs", docs.len()), |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| s.screener.screen(black_box(d)).findings.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

/// Best of `n` runs of `f`, in seconds.
fn best<T>(n: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn summary(s: &Setup) {
    let text = s.text.as_str();
    let mb = text.len() as f64 / 1e6;
    let engine = s.screener.engine();
    let header_lines = s.screener.pack().policy.header_lines;

    let normalize = best(2, || Normalized::new(text));
    let prepared = Prepared::new(text, header_lines);
    let detect = best(2, || engine.detect(&prepared));
    drop(prepared);
    let screen = best(2, || s.screener.screen(text));
    let jieba = best(2, || engine.tokenizer().jieba().tag(text, true).len());
    let startup = best(3, || Screener::embedded().unwrap());
    let docs = split_docs(text, 4096);
    let docs = &docs[..docs.len().min(1024)];
    let docs_secs = best(2, || {
        docs.iter()
            .map(|d| s.screener.screen(d).findings.len())
            .sum::<usize>()
    });
    let findings = s.screener.screen(text).findings.len();

    println!();
    println!(
        "== mishen bench summary ({mb:.1} MB from {}, {findings} findings; best of 2, Instant) ==",
        s.docs_source
    );
    for (name, secs) in [
        ("normalize", normalize),
        ("detect", detect),
        ("screen_end_to_end", screen),
        ("jieba_tag", jieba),
    ] {
        println!("{name:<20} {:>8.2} MB/s  ({:.3} s)", mb / secs, secs);
    }
    let ratio = jieba / screen;
    println!(
        "{:<20} {:>8.2}x  (target >= 1.2x: {})",
        "end-to-end / jieba",
        ratio,
        if ratio >= 1.2 { "met" } else { "NOT met" }
    );
    println!(
        "{:<20} {:>8.1} ms  (target < 200 ms: {})",
        "startup",
        startup * 1e3,
        if startup < 0.2 { "met" } else { "NOT met" }
    );
    println!(
        "{:<20} {:>8.0} docs/s  ({} documents of ~4 KB)",
        "docs_4k",
        docs.len() as f64 / docs_secs,
        docs.len()
    );
}

fn main() {
    let s = setup();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &s);
    c.final_summary();
    if s.benchmarking {
        summary(&s);
    }
}

//! Screens the sample documents repeated to N MB once, after start-up: a
//! target for instruction-level profilers (`valgrind --tool=callgrind
//! --toggle-collect='*Screener::screen*' target/release/examples/screen_once 2`);
//! with `2 tag`, jieba's `tag` alone (`--toggle-collect='*tag_all*'`); with
//! `2 docs`, the same text as ~4 KB documents, screened one after the other
//! (the per-document cost: `perf record target/release/examples/screen_once 2 docs`);
//! `N screen DIR` or `N tag DIR` build the text from DIR's files instead.
fn main() {
    let mb: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut seed = String::new();
    // The third argument: another directory of .txt files (for measuring on
    // government prose that is not committed: `10 screen ../shared/eval/public/docs`).
    let dir = std::env::args().nth(3).unwrap_or_else(|| "corpus/docs".into());
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) => {
            eprintln!("screen_once: cannot read the directory {dir}: {e}");
            std::process::exit(2);
        }
    };
    files.sort();
    for f in files {
        seed.push_str(&std::fs::read_to_string(f).unwrap_or_default());
    }
    let mut text = String::new();
    while text.len() < mb * 1_000_000 {
        text.push_str(&seed);
    }
    let s = mishen::Screener::embedded().expect("rules");
    if std::env::args().nth(2).as_deref() == Some("tag") {
        // The benchmark's reference: jieba `tag` alone over the same text.
        let t = std::time::Instant::now();
        let n = tag_all(&s, &text);
        println!("{n} tokens, {:.1} MB/s", text.len() as f64 / 1e6 / t.elapsed().as_secs_f64());
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("docs") {
        let t = std::time::Instant::now();
        let (mut docs, mut findings, mut rest) = (0usize, 0usize, text.as_str());
        while !rest.is_empty() {
            let mut cut = rest.len().min(4096);
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            findings += s.screen(&rest[..cut]).findings.len();
            docs += 1;
            rest = &rest[cut..];
        }
        let secs = t.elapsed().as_secs_f64();
        println!("{docs} documents, {findings} findings, {:.0} docs/s, {:.1} MB/s", docs as f64 / secs, text.len() as f64 / 1e6 / secs);
        return;
    }
    let t = std::time::Instant::now();
    let r = s.screen(&text);
    println!("{} findings, {:.1} MB/s", r.findings.len(), text.len() as f64 / 1e6 / t.elapsed().as_secs_f64());
}

#[inline(never)]
fn tag_all(s: &mishen::Screener, text: &str) -> usize {
    s.engine().tokenizer().jieba().tag(text, true).len()
}

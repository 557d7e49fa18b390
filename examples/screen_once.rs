//! Screens the sample documents repeated to N MB once, after start-up: a
//! target for instruction-level profilers (`valgrind --tool=callgrind
//! --toggle-collect='*Screener::screen*' target/release/examples/screen_once 2`);
//! with `2 tag`, jieba's `tag` alone (`--toggle-collect='*tag_all*'`).
fn main() {
    let mb: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut seed = String::new();
    let mut files: Vec<_> = std::fs::read_dir("corpus/docs").expect("corpus/docs").filter_map(|e| e.ok()).map(|e| e.path()).collect();
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
        let n = tag_all(&s, &text);
        println!("{n} tokens");
        return;
    }
    let r = s.screen(&text);
    println!("{} findings", r.findings.len());
}

#[inline(never)]
fn tag_all(s: &mishen::Screener, text: &str) -> usize {
    s.engine().tokenizer().jieba().tag(text, true).len()
}

//! Times each detector family on a text file (diagnostics for performance work):
//! `cargo run --release --example profile -- FILE [MB]`.
use mishen::detect::{Candidate, Prepared};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: profile FILE|DIR [MB]");
    let mb: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut seed = String::new();
    let p = std::path::Path::new(path);
    if p.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(p)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            seed.push_str(&std::fs::read_to_string(f).unwrap_or_default());
            seed.push('\n');
        }
    } else {
        seed = std::fs::read_to_string(p).expect("read");
    }
    let mut text = String::new();
    while text.len() < mb * 1_000_000 {
        text.push_str(&seed);
    }
    let s = mishen::Screener::embedded().expect("rules");
    let t = Instant::now();
    let prep = Prepared::new(&text, 6);
    let tn = t.elapsed().as_secs_f64();
    let pack = s.pack();
    let mbs = |secs: f64| text.len() as f64 / 1e6 / secs;
    println!("normalize {:.1} MB/s", mbs(tn));
    for (i, r) in pack.rules.iter().enumerate() {
        if let mishen::rules::Matcher::Regex(re, _) = &r.matcher {
            let t = Instant::now();
            let n = re.find_iter(&prep.norm.text).count();
            println!(
                "regex {:<24} {:>8.1} MB/s ({n} matches) #{i}",
                r.id,
                mbs(t.elapsed().as_secs_f64())
            );
        }
    }
    let t = Instant::now();
    let n = mishen::detect::numbers::scan(&prep.norm.text, &pack.builtin.phone)
        .0
        .len();
    println!("numbers {:.1} MB/s ({n})", mbs(t.elapsed().as_secs_f64()));
    if let Some(ac) = &pack.terms {
        let t = Instant::now();
        let n = ac.find_iter(&prep.norm.text).count();
        println!("terms {:.1} MB/s ({n})", mbs(t.elapsed().as_secs_f64()));
    }
    let b = &pack.builtin;
    if std::env::var_os("DETECT_ONLY").is_some() {
        for _ in 0..5 {
            s.engine().detect(&prep);
        }
        return;
    }
    if std::env::var_os("NAMES_ONLY").is_some() {
        let d = mishen::detect::names::NameDetector::new(b);
        for _ in 0..5 {
            d.detect(s.engine().tokenizer(), &prep.norm.text);
        }
        return;
    }
    let d = mishen::detect::names::NameDetector::new(b);
    let t = Instant::now();
    let n = d.detect(s.engine().tokenizer(), &prep.norm.text).len();
    println!("names {:.1} MB/s ({n})", mbs(t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let mut c: Vec<Candidate> = Vec::new();
    s.engine().candidates(&prep, &mut c);
    println!(
        "all candidates {:.1} MB/s ({} candidates)",
        mbs(t.elapsed().as_secs_f64()),
        c.len()
    );
    let t = Instant::now();
    let f = s.engine().finish(&prep, c);
    println!(
        "finish {:.1} MB/s ({} findings)",
        mbs(t.elapsed().as_secs_f64()),
        f.len()
    );
    if std::env::var_os("NO_JIEBA").is_some() {
        return;
    }
    let t = Instant::now();
    let n = s.engine().tokenizer().jieba().tag(&text, true).len();
    println!(
        "jieba tag {:.1} MB/s ({n} tokens)",
        mbs(t.elapsed().as_secs_f64())
    );
}

//! Diagnostics for rule authors: every scored name hypothesis of each input line
//! (stdin), as `start<TAB>end<TAB>score<TAB>why` in character offsets of the line.
use std::io::BufRead;

fn main() {
    let pack = std::sync::Arc::new(mishen::RulePack::embedded().expect("embedded rules"));
    let b = &pack.builtin;
    let mut d = mishen::detect::names::NameDetector::new(b);
    d.keep_all = true;
    let tok = mishen::tokenize::Tokenizer::new(d.dictionary_words());
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else { break };
        let norm = mishen::normalize::Normalized::new(&line);
        for h in d.detect(&tok, &norm.text) {
            let sp = norm.span_to_original(h.start, h.end, &line);
            let cs = line[..sp.start].chars().count();
            let ce = cs + line[sp.start..sp.end].chars().count();
            println!("{n}\t{cs}\t{ce}\t{:.2}\t{}", h.score, h.why);
        }
    }
}

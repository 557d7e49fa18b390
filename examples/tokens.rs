//! Prints jieba tags and name hits for a text (a debugging aid for rule authors).
fn main() {
    let s = mishen::Screener::embedded().expect("embedded rules");
    for arg in std::env::args().skip(1) {
        let tags: Vec<String> = s
            .engine()
            .tokenizer()
            .tag(&arg)
            .map(|t| format!("{}/{}", t.word, t.tag))
            .collect();
        println!("{}", tags.join(" "));
        for f in s.screen(&arg).findings {
            println!(
                "  {} {:?} {} {}",
                f.kind.as_str(),
                &arg[f.span.start..f.span.end],
                f.confidence,
                f.explanation
            );
        }
    }
}

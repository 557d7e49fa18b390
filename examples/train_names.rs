//! Trains the person-name model (`rules/models/person_name.crfsuite`).
//!
//! ```text
//! tools/train_names.sh ../shared/data/ner-train rules/models/person_name.crfsuite
//! ```
//!
//! That script runs this example as `train_names DATA --dump -`: it converts the
//! training splits to BIO over person names, computes every character's
//! attributes with the engine's own feature function
//! ([`mishen::detect::names::features::FeatureSet::extract`]) and writes them in
//! CRFsuite's text format (`label<TAB>attr<TAB>attr…`, a blank line between
//! sequences) for `tools/train_names.py` (PyPI `python-crfsuite`, L-BFGS).
//!
//! `train_names DATA OUT.crfsuite` trains in-process with the `crfs` crate
//! instead (same data, same parameters; slower, no Python).
//!
//! Data, in this fixed order: `msra_news.bmes`, `cluener.train.jsonl`,
//! `weibo.train.conll`, `resume.train.bmes`; then the generated sequences of
//! `support/synth.rs` (substituted copies of every other sentence with names,
//! and [`FORM_LINES`] government-form lines), seed [`SEED`]. Nothing from the
//! dev splits.
#[path = "support/ner_data.rs"]
mod ner_data;
#[path = "support/synth.rs"]
mod synth;

use mishen::detect::names::features::{FeatureSet, Scratch};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn load(dir: &Path) -> std::io::Result<Vec<(&'static str, Vec<ner_data::Sentence>)>> {
    Ok(vec![
        ("msra_news", ner_data::read_char_tags(&dir.join("msra_news.bmes"))?),
        ("cluener", ner_data::read_cluener(&dir.join("cluener.train.jsonl"))?),
        ("weibo", ner_data::read_char_tags(&dir.join("weibo.train.conll"))?),
        ("resume", ner_data::read_char_tags(&dir.join("resume.train.bmes"))?),
    ])
}

/// Seed of the generated sequences.
const SEED: u64 = 2026;
/// Government-form lines generated.
const FORM_LINES: usize = 16_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, out) = match args.as_slice() {
        [d, o] => (PathBuf::from(d), o.clone()),
        [d, flag, o] if flag == "--dump" => (PathBuf::from(d), format!("--dump={o}")),
        _ => anyhow::bail!("usage: train_names DATA_DIR OUT.crfsuite | train_names DATA_DIR --dump FILE|-"),
    };
    let limit: usize = std::env::var("MISHEN_TRAIN_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let pack = Arc::new(mishen::RulePack::embedded()?);
    let screener = mishen::Screener::from_pack(pack.clone());
    let tok = screener.engine().tokenizer();
    let fs = FeatureSet::new(&pack.builtin);
    let mut corpora = load(&dir)?;
    // Generated sequences (deterministic: fixed seed, fixed input order).
    let mut synth_gen = {
        let parts: Vec<&[ner_data::Sentence]> = corpora.iter().map(|(_, s)| s.as_slice()).collect();
        synth::Synth::new(Path::new("rules"), &dir, &parts, SEED)?
    };
    let is_surname = |c: char| pack.builtin.surnames.contains(c.encode_utf8(&mut [0; 4]) as &str);
    let mut copies = Vec::new();
    for (_, sents) in &corpora {
        let mut with_names = 0usize;
        for s in sents.iter().take(limit).filter(|s| !s.names.is_empty()) {
            with_names += 1;
            if with_names % 2 == 0
                && let Some(c) = synth_gen.substitute(s, &is_surname)
            {
                copies.push(c);
            }
        }
    }
    let forms: Vec<ner_data::Sentence> = (0..FORM_LINES.min(limit)).map(|_| synth_gen.form_line()).collect();
    corpora.push(("substituted", copies));
    corpora.push(("forms", forms));
    let mut sc = Scratch::default();
    let t0 = std::time::Instant::now();
    if let Some(dump) = out.strip_prefix("--dump=") {
        let mut w: Box<dyn Write> = if dump == "-" {
            Box::new(std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock()))
        } else {
            Box::new(std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dump)?))
        };
        let (mut chars, mut seqs) = (0usize, 0usize);
        let mut line: Vec<String> = Vec::new();
        for (name, sents) in &corpora {
            let (mut c, mut p) = (0, 0);
            for s in sents.iter().take(limit) {
                let y = ner_data::bio(s);
                line.clear();
                line.resize(y.len(), String::new());
                let n = fs.extract(tok, &s.text, &mut sc, |i, a| {
                    let l = &mut line[i];
                    l.push('\t');
                    l.push_str(a);
                });
                anyhow::ensure!(n == y.len(), "length mismatch in {name}");
                for (l, attrs) in y.iter().zip(&line) {
                    writeln!(w, "{l}{attrs}")?;
                }
                writeln!(w)?;
                c += n;
                p += s.names.len();
                seqs += 1;
            }
            chars += c;
            eprintln!("{name}: {} sentences, {c} characters, {p} names", sents.len().min(limit));
        }
        w.flush()?;
        eprintln!("dumped {seqs} sequences, {chars} characters in {:.1} s", t0.elapsed().as_secs_f64());
        return Ok(());
    }
    let mut trainer = crfs::Trainer::lbfgs();
    trainer.verbose(true);
    trainer.set_feature_minfreq(2.0)?;
    trainer.params_mut().set_c1(0.1)?;
    trainer.params_mut().set_c2(0.01)?;
    trainer.params_mut().set_max_iterations(150)?;
    for (_, sents) in &corpora {
        for s in sents.iter().take(limit) {
            let y = ner_data::bio(s);
            let mut xs: Vec<Vec<crfs::Attribute>> = vec![Vec::new(); y.len()];
            fs.extract(tok, &s.text, &mut sc, |i, a| xs[i].push(crfs::Attribute::new(a, 1.0)));
            trainer.append(&xs, &y)?;
        }
    }
    eprintln!("features in {:.1} s; training", t0.elapsed().as_secs_f64());
    trainer.train(Path::new(&out))?;
    eprintln!("trained in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

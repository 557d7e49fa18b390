//! Person-name precision / recall / F1 on the NER dev splits, for the trained
//! model alone and for the engine's current detector, exact spans.
//!
//! ```text
//! cargo run --release --example ner_eval -- ../shared/data/ner [--model FILE] [--min-score P]
//! ```
//!
//! Splits: People's Daily (`PER`), CLUENER (`name`), Resume (`NAME`), Weibo
//! (`PER.NAM`). The model tags each sentence alone ([`NameModel::spans`]); the
//! engine screens each sentence as a document through [`mishen::Screener`] and
//! every `person_name` finding counts, whatever its action. The dev splits are
//! only measured here: nothing is learnt from them.
#[path = "support/ner_data.rs"]
mod ner_data;

use mishen::detect::names::features::FeatureSet;
use mishen::detect::names::model::NameModel;
use std::collections::HashSet;
use std::path::PathBuf;

#[derive(Default, Clone, Copy)]
struct Count {
    tp: usize,
    pred: usize,
    gold: usize,
}

impl Count {
    fn add(&mut self, gold: &[(usize, usize)], pred: &[(usize, usize)]) {
        let g: HashSet<_> = gold.iter().collect();
        let p: HashSet<_> = pred.iter().collect();
        self.tp += p.intersection(&g).count();
        self.pred += p.len();
        self.gold += g.len();
    }
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.pred == 0 { 0.0 } else { self.tp as f64 / self.pred as f64 };
        let r = if self.gold == 0 { 0.0 } else { self.tp as f64 / self.gold as f64 };
        let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        (p, r, f)
    }
}

fn chars(text: &str, b: usize) -> usize {
    text[..b].chars().count()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from("../shared/data/ner");
    let mut model_file: Option<PathBuf> = None;
    let mut min_score = 0.0f64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model_file = args.next().map(PathBuf::from),
            "--min-score" => min_score = args.next().and_then(|v| v.parse().ok()).unwrap_or(0.0),
            _ => dir = PathBuf::from(a),
        }
    }
    let screener = mishen::Screener::embedded()?;
    let pack = screener.pack();
    let tok = screener.engine().tokenizer();
    let loaded;
    let model: &NameModel = match &model_file {
        Some(f) => {
            loaded = NameModel::from_bytes(&std::fs::read(f)?, FeatureSet::new(&pack.builtin))?;
            &loaded
        }
        None => pack.builtin.name_model.as_deref().ok_or_else(|| anyhow::anyhow!("the pack has no name model"))?,
    };
    let splits = [
        ("People's Daily", ner_data::read_char_tags(&dir.join("peoples_daily/example.dev"))?),
        ("CLUENER", ner_data::read_cluener(&dir.join("cluener/dev.json"))?),
        ("Resume", ner_data::read_char_tags(&dir.join("resume/dev.char.bmes"))?),
        ("Weibo", ner_data::read_char_tags(&dir.join("weibo/weiboNER_2nd_conll.dev"))?),
    ];
    println!("| dev split | names | model P / R / F1 | engine P / R / F1 |");
    println!("|---|---|---|---|");
    for (name, sents) in &splits {
        let (mut m, mut e) = (Count::default(), Count::default());
        let mut model_time = std::time::Duration::ZERO;
        let mut nchars = 0;
        for s in sents {
            nchars += s.text.chars().count();
            let t0 = std::time::Instant::now();
            let spans = model.spans(tok, &s.text);
            model_time += t0.elapsed();
            let pred: Vec<_> = spans
                .iter()
                .filter(|x| x.score >= min_score)
                .map(|x| (chars(&s.text, x.start), chars(&s.text, x.end)))
                .collect();
            m.add(&s.names, &pred);
            let sc = screener.screen(&s.text);
            let pred: Vec<_> = sc
                .findings
                .iter()
                .filter(|f| f.kind == mishen::rules::model::Kind::PersonName)
                .map(|f| (chars(&s.text, f.span.start), chars(&s.text, f.span.end)))
                .collect();
            e.add(&s.names, &pred);
        }
        let (mp, mr, mf) = m.prf();
        let (ep, er, ef) = e.prf();
        println!(
            "| {name} | {} | {:.1} / {:.1} / **{:.3}** | {:.1} / {:.1} / {:.3} |",
            m.gold,
            mp * 100.0,
            mr * 100.0,
            mf,
            ep * 100.0,
            er * 100.0,
            ef
        );
        eprintln!("{name}: {nchars} characters tagged in {:.2} s", model_time.as_secs_f64());
    }
    Ok(())
}

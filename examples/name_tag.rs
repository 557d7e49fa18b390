//! Diagnostics: the name model's spans of each input line (stdin), as
//! `line<TAB>start<TAB>end<TAB>score<TAB>name` in characters, followed by the
//! BIO labels of the line from the model and from `crfs`'s own tagger (they must
//! agree: the model runs its own Viterbi over the same weights). On stderr:
//! start-up time of the screener and load time of the model.
use mishen::detect::names::features::Scratch;
use mishen::rules::{PERSON_NAME_MODEL, PackSource};
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let s = mishen::Screener::embedded()?;
    let startup = t0.elapsed();
    let tok = s.engine().tokenizer();
    let model = s.pack().builtin.name_model.as_deref().ok_or_else(|| anyhow::anyhow!("no name model"))?;
    let bytes = PackSource::embedded().binary(PERSON_NAME_MODEL).unwrap_or_default().to_vec();
    let t1 = std::time::Instant::now();
    let reloaded = mishen::detect::names::model::NameModel::from_bytes(
        &bytes,
        mishen::detect::names::features::FeatureSet::new(&s.pack().builtin),
    )?;
    eprintln!(
        "start-up {:.1} ms; model load {:.1} ms ({} attributes)",
        startup.as_secs_f64() * 1e3,
        t1.elapsed().as_secs_f64() * 1e3,
        reloaded.num_attributes()
    );
    let crf = crfs::Model::new(&bytes)?;
    let tagger = crf.tagger()?;
    let mut sc = Scratch::default();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        for sp in model.spans(tok, &line) {
            let cs = line[..sp.start].chars().count();
            let ce = cs + line[sp.start..sp.end].chars().count();
            println!("{n}\t{cs}\t{ce}\t{:.3}\t{}", sp.score, &line[sp.start..sp.end]);
        }
        let mut xs: Vec<Vec<crfs::Attribute>> = Vec::new();
        model.features().extract(tok, &line, &mut sc, |i, a| {
            if xs.len() <= i {
                xs.resize(i + 1, Vec::new());
            }
            if std::env::var_os("NAME_TAG_DEBUG").is_some() && model.attribute_id(a) != crf.to_attr_id(a) {
                eprintln!("{a:?}: model {:?} crfs {:?}", model.attribute_id(a), crf.to_attr_id(a));
            }
            xs[i].push(crfs::Attribute::new(a, 1.0));
        });
        let mine: String = model.labels(tok, &line).into_iter().collect();
        let theirs: String = tagger.tag(&xs)?.concat();
        println!("{n}\tmodel\t{mine}\n{n}\tcrfs\t{theirs}");
    }
    Ok(())
}

//! The trained person-name model: it loads from the embedded pack, its bytes
//! are part of the pack's identity, it finds the obvious names of constructed
//! sentences (none from the dev splits) and none in statute-like text, and the
//! tagger sees exactly the attributes the trainer wrote.

use mishen::detect::names::features::{FeatureSet, Scratch};
use mishen::detect::names::model::NameModel;
use mishen::rules::{PERSON_NAME_MODEL, PackSource, RulePack};
use mishen::Screener;
use std::sync::LazyLock;

static SCREENER: LazyLock<Screener> = LazyLock::new(|| Screener::embedded().expect("embedded packs compile"));

fn model() -> &'static NameModel {
    SCREENER.pack().builtin.name_model.as_deref().expect("the embedded pack has a name model")
}

fn names(text: &str) -> Vec<&str> {
    model().spans(SCREENER.engine().tokenizer(), text).iter().map(|s| &text[s.start..s.end]).collect()
}

#[test]
fn model_loads_from_the_embedded_pack() {
    let m = model();
    assert!(m.num_attributes() > 10_000, "{} attributes", m.num_attributes());
    assert!(PackSource::embedded().binary(PERSON_NAME_MODEL).is_some_and(|b| b.starts_with(b"lCRF")));
}

#[test]
fn model_bytes_enter_the_pack_sha256() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    let mut bytes = PackSource::embedded().binary(PERSON_NAME_MODEL).unwrap().to_vec();
    // Same model, one byte more at the end: a different pack.
    bytes.push(0);
    std::fs::write(dir.path().join(PERSON_NAME_MODEL), &bytes).unwrap();
    let mut src = PackSource::embedded();
    let before = src.sha256();
    src.overlay_dir(dir.path()).unwrap();
    assert_ne!(src.sha256(), before);
    // A file that is not a model is a rule error naming the model.
    std::fs::write(dir.path().join(PERSON_NAME_MODEL), b"not a model").unwrap();
    let err = RulePack::with_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains(PERSON_NAME_MODEL), "{err}");
}

/// A damaged model file is an error, never a panic: truncations, and the same
/// with the header's size field patched to match.
#[test]
fn damaged_models_are_errors() {
    let bytes = PackSource::embedded().binary(PERSON_NAME_MODEL).unwrap().to_vec();
    let fs = || FeatureSet::new(&SCREENER.pack().builtin);
    for cut in [0, 3, 4, 47, 48, 100, 1000, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        assert!(NameModel::from_bytes(&bytes[..cut], fs()).is_err(), "cut at {cut}");
        let mut patched = bytes[..cut].to_vec();
        if patched.len() >= 8 {
            patched[4..8].copy_from_slice(&(cut as u32).to_le_bytes());
            // Returns (an error, or a model when only unread tables were cut).
            let _ = NameModel::from_bytes(&patched, fs());
        }
    }
    assert!(NameModel::from_bytes(&bytes, fs()).is_ok());
}

#[test]
fn finds_names_after_labels_and_titles() {
    for (text, want) in [
        ("申请人王小明于2024年3月提交了政府信息公开申请。", "王小明"),
        ("联系人：李建国，联系电话见附件。", "李建国"),
        ("经办人张丽华已将材料转交办公室。", "张丽华"),
        ("本案由审判员刘志强独任审理。", "刘志强"),
        ("请赵淑芬同志于明日上午到会。", "赵淑芬"),
    ] {
        let got = names(text);
        assert!(got.contains(&want), "{text}: {got:?}");
    }
}

#[test]
fn finds_names_in_lists() {
    let text = "获奖人员名单：陈建华、周晓燕、孙国强、吴秀英。";
    let got = names(text);
    for want in ["陈建华", "周晓燕", "孙国强", "吴秀英"] {
        assert!(got.contains(&want), "{got:?}");
    }
}

#[test]
fn no_names_in_statute_text() {
    for text in [
        "中华人民共和国国务院",
        "根据《中华人民共和国政府信息公开条例》第十六条的规定，行政机关的内部事务信息可以不予公开。",
        "第二条 本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，以一定形式记录、保存的信息。",
        "国务院办公厅关于进一步加强政府信息公开工作的意见",
    ] {
        let got = names(text);
        assert!(got.is_empty(), "{text}: {got:?}");
    }
}

#[test]
fn scores_are_probabilities() {
    let text = "申请人王小明";
    let spans = model().spans(SCREENER.engine().tokenizer(), text);
    assert!(!spans.is_empty());
    for s in spans {
        assert!(s.score > 0.5 && s.score <= 1.0, "{s:?}");
    }
}

/// The trainer writes the strings of [`FeatureSet::extract`]; the tagger hashes
/// the same strings as they are written. Both must reach the same model
/// attribute, and the tagger's labels must be the ones `crfs` itself gives for
/// those strings.
#[test]
fn tagger_sees_the_training_attributes() {
    let bytes = PackSource::embedded().binary(PERSON_NAME_MODEL).unwrap().to_vec();
    let crf = crfs::Model::new(&bytes).unwrap();
    let tagger = crf.tagger().unwrap();
    let tok = SCREENER.engine().tokenizer();
    let fs = FeatureSet::new(&SCREENER.pack().builtin);
    let mut sc = Scratch::default();
    for text in [
        "申请人王小明于2024年3月提交了申请，联系人李建国。",
        "市政府办公室关于印发《２０２４年政务公开工作要点》的通知",
        "欧阳明华、司马相如和张 安出席会议",
    ] {
        let mut xs: Vec<Vec<crfs::Attribute>> = Vec::new();
        let n = fs.extract(tok, text, &mut sc, |i, a| {
            if xs.len() <= i {
                xs.resize(i + 1, Vec::new());
            }
            assert_eq!(model().attribute_id(a), crf.to_attr_id(a), "attribute {a:?}");
            xs[i].push(crfs::Attribute::new(a, 1.0));
        });
        assert_eq!(n, text.chars().count());
        let want: Vec<char> = tagger.tag(&xs).unwrap().iter().map(|l| l.chars().next().unwrap()).collect();
        assert_eq!(model().labels(tok, text), want, "{text}");
    }
}

/// `name_model = "add"` adds the model's names the rules did not find, but
/// never an anonymized form (the model tags the 张 of 张某某 alone).
#[test]
fn policy_add_reports_model_names_but_not_anonymized_forms() {
    use mishen::rules::model::Kind;
    let dir = tempfile::tempdir().unwrap();
    let text = include_str!("../rules/policy.toml").replace("name_model = \"core\"", "name_model = \"add\"");
    assert!(text.contains("name_model = \"add\""));
    std::fs::write(dir.path().join("policy.toml"), text).unwrap();
    let add = Screener::builder().rules_dir(dir.path()).build().unwrap();
    let names = |s: &Screener, t: &str| -> Vec<String> {
        s.screen(t).findings.iter().filter(|f| f.kind == Kind::PersonName).map(|f| t[f.span.start..f.span.end].to_owned()).collect()
    };
    assert!(names(&add, "张某某反映的问题已办理。").is_empty());
    assert!(names(&add, "李某反映的问题已办理。").is_empty());
    assert_eq!(names(&add, "申请人王小明于2024年3月提交了申请。"), ["王小明"]);
    assert_eq!(SCREENER.pack().policy.name_model, mishen::rules::model::NameModelUse::Core);
}

/// Person-name findings of the embedded (core) policy, with explanations.
fn core_names(t: &str) -> Vec<(String, String)> {
    use mishen::rules::model::Kind;
    SCREENER
        .screen(t)
        .findings
        .iter()
        .filter(|f| f.kind == Kind::PersonName)
        .map(|f| (t[f.span.start..f.span.end].to_owned(), f.explanation.clone()))
        .collect()
}

/// In the default (core) mode a rule hypothesis with context is kept, not
/// weighed: notices put names where news never does.
#[test]
fn core_keeps_names_with_context() {
    let found = core_names("联系人：杜梓涵，电话另行通知。");
    assert_eq!(found.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["杜梓涵"]);
    assert!(found[0].1.contains("not weighed by the name model"), "{}", found[0].1);
}

/// A hypothesis without context is the model's to decide, and the
/// explanation says what the model gave.
#[test]
fn core_weighs_names_without_context() {
    let found = core_names("会后，钱思远回到了办公室继续工作。");
    assert_eq!(found.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["钱思远"]);
    assert!(found[0].1.contains("name model p="), "{}", found[0].1);
}

/// Ordinary words that start with a surname character (林木, 高峰, 方向)
/// are not names to the combined detector, nor are anonymized forms.
#[test]
fn core_rejects_ordinary_words_and_anonymized_forms() {
    for t in [
        "山上的林木长势良好，护林员每天巡查。",
        "早晚高峰期间，地铁增开了班次。",
        "明确了下一步工作方向和重点任务。",
        "张某反映的问题已办理完毕。",
        "经查，李某某未按期缴纳罚款。",
    ] {
        assert!(core_names(t).is_empty(), "{t}: {:?}", core_names(t));
    }
}

/// A name written with inner spaces in a list is a list item like any other.
#[test]
fn core_finds_spaced_names_in_lists() {
    let found = core_names("获奖名单：周 安、黎 敏、赵晓红");
    assert_eq!(found.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["周 安", "黎 敏", "赵晓红"]);
}

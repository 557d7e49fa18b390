//! Library-level properties of the engine: offsets, redaction length, evasions,
//! very large lexicons, determinism and sharing.

use mishen::normalize::Normalized;
use mishen::rules::model::{Action, Category, Kind};
use mishen::{Finding, Screener, Span, Verdict};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

static SCREENER: LazyLock<Screener> =
    LazyLock::new(|| Screener::embedded().expect("embedded packs compile"));

/// `cases` per property, or `PROPTEST_CASES` when set (for a deeper run).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    // No regression files in the source tree.
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// (a) Normalization offsets.
// ---------------------------------------------------------------------------

/// Single characters that normalization treats specially, and ordinary ones.
const CHARS: &[char] = &[
    '电', '话', '申', '请', '人', '张', '王', '欧', '明', '华', '秘', '密', '机', '★', '，', '。',
    '：', '、', '\n', ' ', '-', 'a', 'X', 'x', '@', '.', '(', ')', '（', '）', '０', '１', '３',
    '８', '９', '－', '－', '–', '—', '\u{2011}', '\u{2212}', '\u{200B}', '\u{200B}', '\u{200C}',
    '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{202E}', '\u{3000}', '\u{3000}', '\u{00A0}',
    '𠀀', '😀',
];

/// Chunks that make detectors fire, so that spans are exercised.
const CHUNKS: &[&str] = &[
    "13800138000",
    "１３８００１３８０００",
    "138",
    "0013",
    "8000",
    "１３８",
    "０５７４",
    "87668745",
    "电话：",
    "手机",
    "联系电话",
    "身份证号码：",
    "360426199101010071",
    "３６０４２６１９９１０１０１００７１",
    "卡号6222020200123456788",
    "机密★5年\n",
    "密级：秘密",
    "申请人",
    "联系人：",
    "欧阳娜娜",
    "马鹏祥",
    "王建国同志",
    // The name detector's context paths: labels in parentheses, honorifics,
    // bodies, doctrines, two-character surnames, extensions, transliterations.
    "王晓东（申请人）",
    "（平潭一中学生）",
    "(身份证号",
    "给予",
    "先生",
    "局长",
    "委员会",
    "桥本龙太郎",
    "首相",
    "马克思主义",
    "周二晚",
    "汽车公司",
    "费尔南德斯多次",
    "江宏伟",
    "3张",
    "·",
    "示例工程甲-01",
    "示例工程甲－０１",
    "zhangsan@example.com",
    "ｚｈａｎｇｓａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "标底为人民币100万元",
    "护照号码：E12345678",
    "住址：福建省福州市鼓楼区五一路12号3栋502室",
    "本文件含有商业秘密",
    "\n商业秘密\n",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(CHARS).prop_map(|c| c.to_string()),
        2 => prop::sample::select(CHUNKS).prop_map(str::to_owned),
        1 => "[0-9]{1,12}",
        1 => "[\u{FF10}-\u{FF19}]{1,12}",
        1 => "[\u{4E00}-\u{4E7F}]{1,6}",
    ]
}

fn mixed_text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..48).prop_map(|v| v.concat())
}

fn assert_span_ok(text: &str, s: &Span, what: &str) {
    assert!(
        s.start <= s.end && s.end <= text.len(),
        "{what}: span {s:?} outside text of {} bytes: {text:?}",
        text.len()
    );
    assert!(
        text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
        "{what}: span {s:?} not on char boundaries of {text:?}"
    );
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn finding_spans_lie_on_char_boundaries_of_the_original(text in mixed_text()) {
        let s = SCREENER.screen(&text);
        for f in &s.findings {
            assert_span_ok(&text, &f.span, &f.rule);
            prop_assert!(!f.span.is_empty(), "empty span {:?} for {}", f.span, f.rule);
        }
        // Findings are sorted by position.
        prop_assert!(s.findings.windows(2).all(|w| w[0].span.start <= w[1].span.start));
    }

    #[test]
    fn normalized_offsets_map_to_char_boundaries(text in mixed_text()) {
        let n = Normalized::new(&text);
        let bounds: Vec<usize> = n.text.char_indices().map(|(i, _)| i).chain([n.text.len()]).collect();
        let mut prev = 0;
        for &b in &bounds {
            let o = n.to_original(b);
            prop_assert!(o <= text.len() && text.is_char_boundary(o), "folded {b} -> original {o} in {text:?}");
            prop_assert!(o >= prev, "offsets are monotonic");
            prev = o;
        }
        for (i, &s) in bounds.iter().enumerate() {
            for &e in &bounds[i..] {
                let sp = n.span_to_original(s, e, &text);
                assert_span_ok(&text, &sp, "span_to_original");
                if e > s {
                    // A folded character always comes from at least one original character.
                    prop_assert!(sp.end > sp.start, "non-empty folded [{s}, {e}) maps to empty {sp:?} in {text:?}");
                }
            }
        }
        // Folding never grows the text, never keeps a zero-width or full-width digit.
        prop_assert!(n.text.len() <= text.len(), "folded text grew");
        prop_assert!(!n.text.chars().any(|c| matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}' | '\u{FF10}'..='\u{FF19}' | '\u{3000}')), "folded text keeps a removable char: {:?}", n.text);
    }
}

// ---------------------------------------------------------------------------
// (b) Redaction preserves the number of characters.
// ---------------------------------------------------------------------------

const KINDS: [Kind; 6] = [
    Kind::PersonName,
    Kind::Phone,
    Kind::ResidentId,
    Kind::BankCard,
    Kind::SecretTerm,
    Kind::ClassificationMark,
];

/// Random findings over random char ranges (overlapping, nested, touching).
fn random_findings(text: &str, picks: &[(usize, usize, usize, bool)]) -> Vec<Finding> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    picks
        .iter()
        .map(|&(a, b, k, redact)| {
            let (a, b) = (bounds[a % bounds.len()], bounds[b % bounds.len()]);
            Finding {
                rule: Arc::from("test"),
                category: Category::PersonalData,
                kind: KINDS[k % KINDS.len()],
                span: Span::new(a.min(b), a.max(b)),
                confidence: 0.9,
                action: if redact {
                    Action::Redact
                } else {
                    Action::Allow
                },
                basis: Arc::from("basis"),
                explanation: String::new(),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn redaction_preserves_the_char_count(text in mixed_text()) {
        let s = SCREENER.screen(&text);
        let out = SCREENER.redact(&text, &s);
        prop_assert_eq!(out.chars().count(), text.chars().count(), "{:?} -> {:?}", text, out);
        // Outside the redacted spans, nothing changes.
        let masked: Vec<&Finding> = s.findings.iter().filter(|f| f.action == Action::Redact).collect();
        for ((i, a), b) in text.char_indices().zip(out.chars()) {
            if !masked.iter().any(|f| f.span.start <= i && i < f.span.end) {
                prop_assert_eq!(a, b, "char at byte {} changed outside every redacted span", i);
            }
        }
        // And inside them no alphanumeric survives under a full mask.
        if s.decision.verdict == Verdict::Redact {
            prop_assert!(out != text || masked.is_empty());
        }
    }

    #[test]
    fn redaction_of_arbitrary_spans_preserves_the_char_count(
        text in mixed_text(),
        picks in prop::collection::vec((0usize..200, 0usize..200, 0usize..6, any::<bool>()), 0..8),
    ) {
        let findings = random_findings(&text, &picks);
        let policy = &SCREENER.pack().policy;
        let out = mishen::redact::redact(&text, &findings, policy);
        prop_assert_eq!(out.chars().count(), text.chars().count(), "{:?} -> {:?}", text, out);
        let shown = mishen::redact::mask_values(&text, &findings, '*');
        prop_assert_eq!(shown.chars().count(), text.chars().count(), "{:?} -> {:?}", text, shown);
    }
}

// ---------------------------------------------------------------------------
// (c) Planted phone numbers with evasions.
// ---------------------------------------------------------------------------

/// `detect::numbers` treats a number followed by one of these as a quantity.
const UNITS: &str = "元万亿千百%‰吨个人次件户辆台套米亩克斤岁天倍余多笔家所项号年月日册页份名位届期条款章节层楼栋座室";

static PROSE: LazyLock<Vec<char>> = LazyLock::new(|| {
    "关于进一步加强政府信息公开工作的通知各部门要认真贯彻落实有关要求切实做好本地区本单位管理服务群众反映问题已转交办理情况请及时联系核实处理结果答复"
        .chars()
        .filter(|c| !UNITS.contains(*c) && *c != '第')
        .collect::<BTreeSet<char>>()
        .into_iter()
        .collect()
});

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
];
const SEPS: &[&str] = &["", "", " ", "-", "\u{3000}", "－", "–", " - ", "  "];
const ZW: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
];
// An opening parenthesis right before the number is covered by
// `mobile_in_parentheses_spans_only_the_number` below.
const BEFORE: &[&str] = &[
    "",
    "电话：",
    "联系电话",
    "手机号码",
    "，",
    "：",
    "\n",
    " ",
    "(电话",
    "（联系人手机",
];
const AFTER: &[&str] = &["", "。", "，", "；", "）", "\n", " "];

#[derive(Debug, Clone)]
struct Plant {
    digits: String,
    seps: (usize, usize),
    full_width: Vec<bool>,
    zero_width: Vec<Option<usize>>,
}

impl Plant {
    /// The planted value as written: first digit to last digit.
    fn render(&self) -> String {
        let mut out = String::new();
        for (i, d) in self.digits.chars().enumerate() {
            out.push(if self.full_width[i] {
                char::from_u32(d as u32 + 0xFEE0).unwrap()
            } else {
                d
            });
            if i + 1 < self.digits.len() {
                if let Some(z) = self.zero_width[i] {
                    out.push(ZW[z % ZW.len()]);
                }
                if i == 2 {
                    out.push_str(SEPS[self.seps.0]);
                } else if i == 6 {
                    out.push_str(SEPS[self.seps.1]);
                }
            }
        }
        out
    }
}

fn plant() -> impl Strategy<Value = Plant> {
    let fw = prop_oneof![
        Just(vec![false; 11]),
        Just(vec![true; 11]),
        prop::collection::vec(any::<bool>(), 11),
    ];
    let zw = prop_oneof![
        Just(vec![None; 10]),
        prop::collection::vec(prop::option::weighted(0.3, 0usize..ZW.len()), 10),
    ];
    (
        prop::sample::select(MOBILE_PREFIXES),
        "[0-9]{8}",
        (0..SEPS.len(), 0..SEPS.len()),
        fw,
        zw,
    )
        .prop_map(|(p, rest, seps, full_width, zero_width)| Plant {
            digits: format!("{p}{rest}"),
            seps,
            full_width,
            zero_width,
        })
}

fn prose(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PROSE.clone()), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn planted_phone_is_found_with_its_exact_span(
        before in prose(40),
        label in prop::sample::select(BEFORE),
        p in plant(),
        end in prop::sample::select(AFTER),
        after in prose(40),
    ) {
        let value = p.render();
        let text = format!("{before}{label}{value}{end}{after}");
        let start = before.len() + label.len();
        let want = Span::new(start, start + value.len());
        let s = SCREENER.screen(&text);
        let phone = s.findings.iter().find(|f| f.kind == Kind::Phone && f.span.overlaps(&want));
        prop_assert!(phone.is_some(), "phone {:?} not found in {:?}; findings {:#?}", value, text, s.findings);
        let phone = phone.unwrap();
        prop_assert_eq!(phone.span, want, "span {:?} = {:?}, planted {:?} in {:?}", phone.span, &text[phone.span.start..phone.span.end], value, text);
        prop_assert_eq!(phone.action, Action::Redact);
        prop_assert_eq!(s.decision.verdict, Verdict::Redact);
        let out = SCREENER.redact(&text, &s);
        prop_assert_eq!(out.chars().count(), text.chars().count());
        let digits_left = out[start..].chars().take(value.chars().count()).filter(|c| c.is_ascii_digit() || ('０'..='９').contains(c)).count();
        prop_assert_eq!(digits_left, 0, "digits of the value left after redaction: {:?}", out);
    }
}

/// A mobile number in parentheses is common (`联系方式（13912345678）`): the span is the
/// number; only a parenthesized AREA CODE belongs to a (landline) phone number.
#[test]
fn mobile_in_parentheses_spans_only_the_number() {
    for (text, value) in [
        ("联系方式（13912345678）。", "13912345678"),
        ("联系方式(13912345678)。", "13912345678"),
        ("（１３９１２３４５６７８）", "１３９１２３４５６７８"),
        ("（13000000000", "13000000000"),
        ("联系电话(139 1234 5678)", "139 1234 5678"),
    ] {
        let s = SCREENER.screen(text);
        let at = text.find(value).unwrap();
        let phones: Vec<(&str, &Finding)> = s
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Phone)
            .map(|f| (&text[f.span.start..f.span.end], f))
            .collect();
        assert_eq!(phones.len(), 1, "{text:?}: {phones:#?}");
        assert_eq!(
            phones[0].1.span,
            Span::new(at, at + value.len()),
            "{text:?}: phone reported as {:?}, want {value:?}",
            phones[0].0
        );
    }
    // The parenthesized area code of a landline stays part of it.
    let text = "电话：（0574）87668745";
    let s = SCREENER.screen(text);
    let f = s
        .findings
        .iter()
        .find(|f| f.kind == Kind::Phone)
        .expect("landline found");
    assert_eq!(&text[f.span.start..f.span.end], "（0574）87668745");
}

#[test]
fn plant_renders_each_evasion() {
    let p = Plant {
        digits: "13800138000".into(),
        seps: (2, 2),
        full_width: vec![false; 11],
        zero_width: vec![None; 10],
    };
    assert_eq!(p.render(), "138 0013 8000");
    let p = Plant { seps: (4, 3), ..p };
    assert_eq!(p.render(), "138\u{3000}0013-8000");
    let p = Plant {
        seps: (0, 0),
        full_width: vec![true; 11],
        zero_width: [vec![Some(0)], vec![None; 9]].concat(),
        ..p
    };
    assert_eq!(p.render(), "１\u{200B}３８００１３８０００");
}

// ---------------------------------------------------------------------------
// A 100,000-term secret lexicon.
// ---------------------------------------------------------------------------

const N_TERMS: usize = 100_000;

/// Three Han "digits" in base 64 (U+6C34..U+6C73): distinct, fixed length.
fn han3(i: usize) -> String {
    (0..3)
        .rev()
        .map(|k| char::from_u32(0x6C34 + ((i >> (6 * k)) & 63) as u32).unwrap())
        .collect()
}

/// Term `i`: 项目代号 + three Han digits; every tenth also has an ASCII suffix.
fn term(i: usize) -> String {
    if i.is_multiple_of(10) {
        format!("项目代号{}-K{i}", han3(i))
    } else {
        format!("项目代号{}", han3(i))
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn hundred_thousand_term_lexicon() {
    let terms: Vec<String> = (0..N_TERMS).map(term).collect();
    assert_eq!(
        terms.iter().collect::<BTreeSet<_>>().len(),
        N_TERMS,
        "generated terms are distinct"
    );
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("lexicons")).unwrap();
    let mut lex = String::from("# generated\n");
    for t in &terms {
        lex.push_str(t);
        lex.push('\n');
    }
    std::fs::write(dir.path().join("lexicons/secret_terms.txt"), lex).unwrap();
    let s = Screener::builder()
        .rules_dir(dir.path())
        .build()
        .expect("100,000-term pack builds");
    let secret_rule = s
        .pack()
        .rules
        .iter()
        .position(|r| &*r.id == "ss.secret_term")
        .expect("ss.secret_term rule") as u32;
    assert_eq!(
        s.pack()
            .term_rule
            .iter()
            .filter(|&&r| r == secret_rule)
            .count(),
        N_TERMS,
        "every term is in the automaton"
    );

    let (a, b, c) = (&terms[0], &terms[54_321], &terms[99_990]);
    assert!(c.contains("-K"), "the third term has ASCII: {c}");
    let c_fw = full_width(c);
    assert_ne!(&c_fw, c);
    let text = format!("{a}的推进情况已于会上通报。会议还研究了{b}和{c_fw}的有关事项。\n");
    let want: BTreeSet<(usize, usize)> = [
        (0, a.len()),
        (
            text.find(b.as_str()).unwrap(),
            text.find(b.as_str()).unwrap() + b.len(),
        ),
        (
            text.find(c_fw.as_str()).unwrap(),
            text.find(c_fw.as_str()).unwrap() + c_fw.len(),
        ),
    ]
    .into_iter()
    .collect();
    let r = s.screen(&text);
    let got: BTreeSet<(usize, usize)> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::SecretTerm)
        .map(|f| (f.span.start, f.span.end))
        .collect();
    assert_eq!(got, want, "secret terms in {text:?}: {:#?}", r.findings);
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.kind == Kind::SecretTerm)
            .count(),
        3
    );
    assert_eq!(r.decision.verdict, Verdict::Withhold);
    assert!(
        r.findings
            .iter()
            .filter(|f| f.kind == Kind::SecretTerm)
            .all(|f| f.action == Action::Withhold && &*f.rule == "ss.secret_term")
    );

    // Near misses: an unlisted code, a truncated term, an ASCII term glued to more ASCII,
    // the bare prefix, and the embedded demo term (the list replaced the embedded one).
    let unlisted = format!("项目代号{}", han3(200_000));
    let truncated: String = b.chars().take(b.chars().count() - 1).collect();
    let glued = format!("{c}1");
    let none = format!(
        "会议研究了{unlisted}、{truncated}的事项，另见{glued}。项目代号另行通知。会议研究了示例工程甲-01的进度。\n"
    );
    let r = s.screen(&none);
    assert!(
        r.findings.iter().all(|f| f.kind != Kind::SecretTerm),
        "no secret term in {none:?}: {:#?}",
        r.findings
    );
    assert_ne!(r.decision.verdict, Verdict::Withhold, "{:#?}", r.findings);
}

// ---------------------------------------------------------------------------
// Determinism and sharing.
// ---------------------------------------------------------------------------

const _: () = {
    const fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Screener>();
};

const DOC: &str = "机密★5年\n某局关于办理信访事项的情况报告\n\n群众黄婷梓反映的问题已转交办理，联系电话：139 1234 5678，\
     身份证号码：360426199101010071，补助资金已发放至其银行账户（卡号6222020200123456788）。\n\
     申请人马鹏祥于2024年7月9日提出申请，电子邮箱zhangsan@example.com，住址：福建省福州市鼓楼区五一路12号3栋502室。\n\
     本项目标底为人民币3,456,789.00元。王建国同志参加会议。会议研究了示例工程甲-01的进度。\n";

#[test]
fn screening_is_deterministic() {
    let first = SCREENER.screen(DOC);
    assert!(first.findings.len() >= 6, "{:#?}", first.findings);
    for _ in 0..3 {
        let again = SCREENER.screen(DOC);
        assert_eq!(again.findings, first.findings);
        assert_eq!(again.decision, first.decision);
        assert_eq!(again.content_sha256, first.content_sha256);
    }
    // A separately built screener over the same packs agrees.
    let other = Screener::embedded().unwrap();
    assert_eq!(other.rules_sha256(), SCREENER.rules_sha256());
    let o = other.screen(DOC);
    assert_eq!(o.findings, first.findings);
    assert_eq!(o.decision, first.decision);
    assert_eq!(other.redact(DOC, &o), SCREENER.redact(DOC, &first));
    // And so do threads sharing one screener.
    let shared = SCREENER.clone();
    let results: Vec<_> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4).map(|_| sc.spawn(|| shared.screen(DOC))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        assert_eq!(r.findings, first.findings);
        assert_eq!(r.decision, first.decision);
    }
}

#[test]
fn clones_share_one_engine() {
    let a = Screener::embedded().unwrap();
    let b = a.clone();
    assert!(
        std::ptr::eq(a.engine(), b.engine()),
        "clone shares the engine"
    );
    assert!(Arc::ptr_eq(a.pack(), b.pack()), "clone shares the pack");
    assert_eq!(a.rules_sha256(), b.rules_sha256());
    let c = Screener::embedded().unwrap();
    assert!(
        !std::ptr::eq(a.engine(), c.engine()),
        "a new build is a new engine"
    );
    // Moving a clone to another thread works and finds the same.
    let h = std::thread::spawn(move || b.screen(DOC).findings);
    assert_eq!(h.join().unwrap(), a.screen(DOC).findings);
}

//! The labeled corpus (`corpus/*.toml`, format in `corpus/README.md`).
//!
//! Every case is screened with the embedded rule packs and compared EXACTLY: the
//! set of findings (kind + span of the labeled substring, and rule, action and
//! basis when the case gives them) and the verdict. A failing run lists every
//! failing case at once, with expected and actual findings, so that the engine
//! author sees the whole picture.
//!
//! `MISHEN_CORPUS_FILTER=text` restricts the screening test to cases whose file or
//! name contains `text`.

use mishen::rules::RulePack;
use mishen::{Finding, Kind, Screener, Verdict};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    file: Option<String>,
    verdict: String,
    #[serde(default)]
    findings: Vec<Expected>,
    /// Free-form remark for reviewers (why the label is what it is).
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    kind: String,
    text: String,
    #[serde(default)]
    occurrence: usize,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// Substrings that the finding's legal basis must contain.
    #[serde(default)]
    basis: Vec<String>,
}

/// A case ready to run: where it comes from and its text.
struct Loaded {
    file: String,
    case: Case,
    text: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Every `corpus/*.toml`, sorted by file name; problems are returned, not panicked on.
fn load() -> (Vec<Loaded>, Vec<String>) {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no corpus/*.toml files in {}",
        dir.display()
    );
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let fname = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{fname}: cannot read: {e}"));
                continue;
            }
        };
        let parsed: CorpusFile = match toml::from_str(&src) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{fname}: invalid TOML: {e}"));
                continue;
            }
        };
        if parsed.cases.is_empty() {
            problems.push(format!("{fname}: no [[case]]"));
        }
        for case in parsed.cases {
            let text = match (&case.text, &case.file) {
                (Some(t), None) => t.clone(),
                (None, Some(f)) => match std::fs::read_to_string(dir.join(f)) {
                    Ok(t) => t,
                    Err(e) => {
                        problems.push(format!(
                            "{fname}: case {:?}: cannot read file {f:?}: {e}",
                            case.name
                        ));
                        continue;
                    }
                },
                _ => {
                    problems.push(format!(
                        "{fname}: case {:?}: give exactly one of `text` and `file`",
                        case.name
                    ));
                    continue;
                }
            };
            out.push(Loaded {
                file: fname.clone(),
                case,
                text,
            });
        }
    }
    (out, problems)
}

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| Screener::embedded().expect("the embedded rule packs compile"))
}

fn kind_of(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.as_str() == name)
}

/// Byte span of the `occurrence`-th (0-based, non-overlapping) match of `needle`.
fn locate(text: &str, needle: &str, occurrence: usize) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    text.match_indices(needle)
        .nth(occurrence)
        .map(|(s, m)| (s, s + m.len()))
}

fn chars(text: &str, at: usize) -> usize {
    text[..at].chars().count()
}

/// The action a label implies: the explicit one, else the policy default of its kind.
fn implied_action(e: &Expected) -> &str {
    match e.action.as_deref() {
        Some(a) => a,
        None => match e.kind.as_str() {
            "classification_mark" | "trade_secret_mark" | "secret_term" | "internal_marking" => "withhold",
            // A process draft is reported and published unless the policy raises it.
            "process_draft" => "allow",
            _ => "redact",
        },
    }
}

#[test]
fn corpus_is_well_formed() {
    let (cases, mut problems) = load();
    let rule_ids: Option<BTreeSet<String>> = RulePack::embedded()
        .ok()
        .map(|p| p.rules.iter().map(|r| r.id.to_string()).collect());
    let mut names = BTreeSet::new();
    let mut used_docs = BTreeSet::new();
    let mut per_file: std::collections::BTreeMap<&str, usize> = Default::default();
    for l in &cases {
        *per_file.entry(l.file.as_str()).or_default() += 1;
        let c = &l.case;
        let at = format!("{}: case {:?}", l.file, c.name);
        if c.name.trim().is_empty() {
            problems.push(format!("{at}: empty name"));
        }
        if !names.insert((l.file.clone(), c.name.clone())) {
            problems.push(format!("{at}: duplicate case name in the file"));
        }
        if let Some(f) = &c.file {
            used_docs.insert(f.clone());
        }
        let verdict: Result<Verdict, _> = c.verdict.parse();
        if let Err(e) = &verdict {
            problems.push(format!("{at}: {e}"));
        }
        let mut spans = BTreeSet::new();
        let mut worst = "publish";
        for e in &c.findings {
            if kind_of(&e.kind).is_none() {
                problems.push(format!("{at}: unknown kind {:?}", e.kind));
            }
            if let Some(a) = &e.action
                && !matches!(a.as_str(), "allow" | "redact" | "withhold") {
                    problems.push(format!("{at}: unknown action {a:?}"));
                }
            if let (Some(r), Some(ids)) = (&e.rule, &rule_ids)
                && !ids.contains(r) {
                    problems.push(format!("{at}: unknown rule id {r:?}"));
                }
            match locate(&l.text, &e.text, e.occurrence) {
                None => problems.push(format!(
                    "{at}: finding text {:?} (occurrence {}) does not occur in the case text",
                    e.text, e.occurrence
                )),
                Some(sp) => {
                    if !spans.insert((e.kind.clone(), sp)) {
                        problems.push(format!(
                            "{at}: finding {} {:?} labeled twice",
                            e.kind, e.text
                        ));
                    }
                }
            }
            let a = implied_action(e);
            worst = match (worst, a) {
                (_, "withhold") | ("withhold", _) => "withhold",
                (_, "redact") | ("redact", _) => "redact",
                _ => "publish",
            };
        }
        if verdict.is_ok() && c.verdict != worst {
            problems.push(format!(
                "{at}: verdict {:?} but the labeled findings imply {worst:?}",
                c.verdict
            ));
        }
    }
    // Every sample document is used by a case.
    if let Ok(rd) = std::fs::read_dir(corpus_dir().join("docs")) {
        for e in rd.flatten() {
            let rel = format!("docs/{}", e.file_name().to_string_lossy());
            if rel.ends_with(".txt") && !used_docs.contains(&rel) {
                problems.push(format!("{rel}: no case screens this document"));
            }
        }
    }
    eprintln!(
        "corpus: {} cases ({})",
        cases.len(),
        per_file
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        problems.is_empty(),
        "corpus problems:\n  {}",
        problems.join("\n  ")
    );
}

/// A finding as printed in the failure report.
fn show_actual(text: &str, f: &Finding) -> String {
    format!(
        "{} {:?} @{}..{} rule={} action={} conf={:.2}",
        f.kind.as_str(),
        &text[f.span.start..f.span.end],
        chars(text, f.span.start),
        chars(text, f.span.end),
        f.rule,
        f.action.as_str(),
        f.confidence
    )
}

fn show_expected(text: &str, e: &Expected, sp: (usize, usize)) -> String {
    let mut s = format!(
        "{} {:?} @{}..{}",
        e.kind,
        e.text,
        chars(text, sp.0),
        chars(text, sp.1)
    );
    if let Some(r) = &e.rule {
        let _ = write!(s, " rule={r}");
    }
    if let Some(a) = &e.action {
        let _ = write!(s, " action={a}");
    }
    s
}

#[derive(Default)]
struct Tally {
    missing: usize,
    unexpected: usize,
    wrong_span: usize,
    wrong_attr: usize,
    wrong_verdict: usize,
}

/// Compares one case; returns the report lines (empty when it passes).
fn check(l: &Loaded, t: &mut Tally) -> Vec<String> {
    let text = l.text.as_str();
    let s = screener().screen(text);
    let mut lines = Vec::new();
    let want_verdict = l.case.verdict.as_str();
    let got_verdict = s.decision.verdict.as_str();
    if want_verdict != got_verdict {
        t.wrong_verdict += 1;
        lines.push(format!(
            "verdict: expected {want_verdict}, got {got_verdict}"
        ));
    }
    let mut used = vec![false; s.findings.len()];
    let mut missing: Vec<(usize, (usize, usize))> = Vec::new();
    for (ei, e) in l.case.findings.iter().enumerate() {
        let Some(sp) = locate(text, &e.text, e.occurrence) else {
            continue;
        };
        let hit = s.findings.iter().enumerate().find(|(i, f)| {
            !used[*i] && f.kind.as_str() == e.kind && f.span.start == sp.0 && f.span.end == sp.1
        });
        match hit {
            Some((i, f)) => {
                used[i] = true;
                let mut bad = Vec::new();
                if let Some(r) = &e.rule
                    && &*f.rule != r.as_str() {
                        bad.push(format!("rule expected {r}, got {}", f.rule));
                    }
                if let Some(a) = &e.action
                    && f.action.as_str() != a {
                        bad.push(format!("action expected {a}, got {}", f.action.as_str()));
                    }
                for b in &e.basis {
                    if !f.basis.contains(b.as_str()) {
                        bad.push(format!("basis lacks {b:?} (got {:?})", f.basis));
                    }
                }
                if !bad.is_empty() {
                    t.wrong_attr += 1;
                    lines.push(format!(
                        "wrong attr: {}: {}",
                        show_expected(text, e, sp),
                        bad.join("; ")
                    ));
                }
            }
            None => missing.push((ei, sp)),
        }
    }
    for (ei, sp) in missing {
        let e = &l.case.findings[ei];
        // The same kind found with an overlapping span: a span error, not a miss.
        let near = s.findings.iter().enumerate().find(|(i, f)| {
            !used[*i] && f.kind.as_str() == e.kind && f.span.start < sp.1 && sp.0 < f.span.end
        });
        match near {
            Some((i, f)) => {
                used[i] = true;
                t.wrong_span += 1;
                lines.push(format!(
                    "wrong span: expected {}\n              got {}",
                    show_expected(text, e, sp),
                    show_actual(text, f)
                ));
            }
            None => {
                t.missing += 1;
                lines.push(format!("missing:    {}", show_expected(text, e, sp)));
            }
        }
    }
    for (i, f) in s.findings.iter().enumerate() {
        if !used[i] {
            t.unexpected += 1;
            lines.push(format!("unexpected: {}", show_actual(text, f)));
        }
    }
    lines
}

#[test]
fn corpus_cases_screen_as_labeled() {
    let (cases, problems) = load();
    assert!(
        problems.is_empty(),
        "corpus problems (see corpus_is_well_formed):\n  {}",
        problems.join("\n  ")
    );
    let filter = std::env::var("MISHEN_CORPUS_FILTER")
        .ok()
        .filter(|f| !f.is_empty());
    let mut tally = Tally::default();
    let mut report = String::new();
    let mut run = 0;
    let mut failed = 0;
    for l in &cases {
        if let Some(f) = &filter
            && !l.file.contains(f.as_str()) && !l.case.name.contains(f.as_str()) {
                continue;
            }
        run += 1;
        let lines = check(l, &mut tally);
        if lines.is_empty() {
            continue;
        }
        failed += 1;
        let shown = if l.text.chars().count() > 90 {
            format!("{}…", l.text.chars().take(90).collect::<String>())
        } else {
            l.text.clone()
        };
        let _ = writeln!(report, "\n[{}] {}", l.file, l.case.name);
        match &l.case.file {
            Some(f) => {
                let _ = writeln!(report, "  file: {f}");
            }
            None => {
                let _ = writeln!(report, "  text: {shown:?}");
            }
        }
        let _ = writeln!(
            report,
            "  expected: {} [{}]",
            l.case.verdict,
            l.case
                .findings
                .iter()
                .map(|e| format!("{} {:?}", e.kind, e.text))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for line in lines {
            let _ = writeln!(report, "  {line}");
        }
    }
    if failed > 0 {
        eprintln!("{report}");
        panic!(
            "{failed} of {run} corpus cases fail: {} wrong verdicts, {} missing findings, {} unexpected findings, {} wrong spans, {} wrong rule/action/basis (details above)",
            tally.wrong_verdict,
            tally.missing,
            tally.unexpected,
            tally.wrong_span,
            tally.wrong_attr
        );
    }
    eprintln!("corpus: all {run} cases pass");
}

/// Every corpus case as (file:name, text), for other suites that compare
/// front-ends against the library (the gRPC service).
pub(crate) fn case_texts() -> Vec<(String, String)> {
    let (cases, problems) = load();
    assert!(problems.is_empty(), "corpus problems: {problems:?}");
    cases.into_iter().map(|l| (format!("{}:{}", l.file, l.case.name), l.text)).collect()
}

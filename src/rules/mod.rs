//! Rule packs: loading (embedded defaults plus `--rules DIR`), compiling and checking.
//!
//! Packs are data (`rules/*.toml`, `rules/lexicons/*.txt`, `rules/policy.toml`);
//! this module parses them into plain serde structs ([`model`]) and compiles those
//! into a frozen [`RulePack`]: regexes built, one aho-corasick automaton for every
//! keyword and lexicon rule, lexicons loaded, and every error reported at once,
//! tagged with its rule id. The SHA-256 over all source files identifies the pack
//! in every output. Binary files (`models/*.crfsuite`: the person-name model)
//! are sources too: they enter the SHA-256 the same way, in path order.

pub mod check;
pub mod model;

use crate::detect::validate::phone::PhoneTables;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use model::{
    Action, Category, Kind, MatcherSpec, PackFile, PolicySpec, RuleSpec, Scope, Validator,
};
use regex::Regex;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

pub use model::Builtin;

/// The default packs, embedded in the binary so it works from any directory.
const EMBEDDED: &[(&str, &str)] = &[
    ("policy.toml", include_str!("../../rules/policy.toml")),
    (
        "state_secret.toml",
        include_str!("../../rules/state_secret.toml"),
    ),
    (
        "trade_secret.toml",
        include_str!("../../rules/trade_secret.toml"),
    ),
    (
        "personal_data.toml",
        include_str!("../../rules/personal_data.toml"),
    ),
    (
        "internal_affairs.toml",
        include_str!("../../rules/internal_affairs.toml"),
    ),
    (
        "lexicons/area_codes.txt",
        include_str!("../../rules/lexicons/area_codes.txt"),
    ),
    (
        "lexicons/mobile_prefixes.txt",
        include_str!("../../rules/lexicons/mobile_prefixes.txt"),
    ),
    (
        "lexicons/secret_terms.txt",
        include_str!("../../rules/lexicons/secret_terms.txt"),
    ),
    (
        "lexicons/surnames.txt",
        include_str!("../../rules/lexicons/surnames.txt"),
    ),
    (
        "lexicons/name_context.txt",
        include_str!("../../rules/lexicons/name_context.txt"),
    ),
    (
        "lexicons/name_stop.txt",
        include_str!("../../rules/lexicons/name_stop.txt"),
    ),
    (
        "lexicons/given_chars.txt",
        include_str!("../../rules/lexicons/given_chars.txt"),
    ),
    (
        "lexicons/name_tables.txt",
        include_str!("../../rules/lexicons/name_tables.txt"),
    ),
    (
        "lexicons/admin_divisions.txt",
        include_str!("../../rules/lexicons/admin_divisions.txt"),
    ),
    (
        "lexicons/address_context.txt",
        include_str!("../../rules/lexicons/address_context.txt"),
    ),
];

/// The embedded binary sources: trained models (`rules/models/README.md`).
const EMBEDDED_MODELS: &[(&str, &[u8])] = &[(
    PERSON_NAME_MODEL,
    include_bytes!("../../rules/models/person_name.crfsuite"),
)];

/// The path of the person-name model in a pack.
pub const PERSON_NAME_MODEL: &str = "models/person_name.crfsuite";

/// An error in a rule pack.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A file could not be read.
    #[error("cannot read rule file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid TOML for its schema.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// One or more rules do not compile or fail their own examples.
    #[error("{} rule error(s):\n{}", .0.len(), .0.iter().map(|e| format!("  {}: {}", e.rule, e.message)).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<RuleProblem>),
}

/// One problem with one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleProblem {
    /// The rule id (or file name for file-level problems).
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// The raw source files of a pack: `(relative path, content)`, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct PackSource {
    files: BTreeMap<String, String>,
    /// Binary files (`models/*.crfsuite`), borrowed from the binary when embedded.
    binaries: BTreeMap<String, Cow<'static, [u8]>>,
}

impl PackSource {
    /// The embedded default packs.
    pub fn embedded() -> PackSource {
        PackSource {
            files: EMBEDDED
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
                .collect(),
            binaries: EMBEDDED_MODELS
                .iter()
                .map(|(p, b)| ((*p).to_owned(), Cow::Borrowed(*b)))
                .collect(),
        }
    }

    /// Adds the `*.toml` files, `lexicons/*.txt` and `models/*.crfsuite` of `dir`
    /// over the current sources: a file with the same relative path replaces the
    /// embedded one, others extend.
    pub fn overlay_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let io = |p: &Path, source| RuleError::Io {
            path: p.display().to_string(),
            source,
        };
        let mut add = |sub: &str, ext: &str| -> Result<(), RuleError> {
            let d = if sub.is_empty() {
                dir.to_path_buf()
            } else {
                dir.join(sub)
            };
            if !d.is_dir() {
                return if sub.is_empty() {
                    Err(io(&d, std::io::Error::other("not a directory")))
                } else {
                    Ok(())
                };
            }
            for e in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
                let p = e.map_err(|e| io(&d, e))?.path();
                if p.extension().and_then(|x| x.to_str()) == Some(ext) && p.is_file() {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    let rel = if sub.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{sub}/{name}")
                    };
                    let text = std::fs::read_to_string(&p).map_err(|e| io(&p, e))?;
                    self.files.insert(rel, text);
                }
            }
            Ok(())
        };
        add("", "toml")?;
        add("lexicons", "txt")?;
        let d = dir.join("models");
        if d.is_dir() {
            for e in std::fs::read_dir(&d).map_err(|e| io(&d, e))? {
                let p = e.map_err(|e| io(&d, e))?.path();
                if p.extension().and_then(|x| x.to_str()) == Some("crfsuite") && p.is_file() {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    let bytes = std::fs::read(&p).map_err(|e| io(&p, e))?;
                    self.binaries.insert(format!("models/{name}"), Cow::Owned(bytes));
                }
            }
        }
        Ok(())
    }

    /// SHA-256 over every file, text and binary: path, NUL, length (u64 BE),
    /// content; in path order.
    pub fn sha256(&self) -> String {
        let mut all: Vec<(&str, &[u8])> = self
            .files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_bytes()))
            .chain(self.binaries.iter().map(|(p, b)| (p.as_str(), b.as_ref())))
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = Sha256::new();
        for (p, c) in all {
            h.update(p.as_bytes());
            h.update([0]);
            h.update((c.len() as u64).to_be_bytes());
            h.update(c);
        }
        hex::encode(h.finalize())
    }

    /// A binary source file (`models/person_name.crfsuite`).
    pub fn binary(&self, path: &str) -> Option<&[u8]> {
        self.binaries.get(path).map(|b| b.as_ref())
    }

    fn lexicon(&self, path: &str) -> Option<impl Iterator<Item = &str>> {
        self.files.get(path).map(|t| lexicon_lines(t))
    }
}

/// Lines of a lexicon file: trimmed, without blanks and `#` comments.
pub fn lexicon_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique id.
    pub id: Arc<str>,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: Kind,
    /// Effective action (policy applied).
    pub action: Action,
    /// Legal basis.
    pub basis: Arc<str>,
    /// Description.
    pub description: String,
    /// Base confidence.
    pub confidence: f64,
    /// Compiled matcher.
    pub matcher: Matcher,
    /// Context words.
    pub context: Option<model::ContextSpec>,
    /// Scope.
    pub scope: Scope,
    /// For windowed regex matching: the window in characters around each anchor
    /// (anchors are found by the pack's shared `near_terms` automaton).
    pub near: Option<usize>,
    /// The source spec (for `rules list` and `rules check`).
    pub spec: RuleSpec,
}

/// A compiled matcher.
#[derive(Debug)]
pub enum Matcher {
    /// Builtin detector.
    Builtin(Builtin),
    /// Regex with an optional validator.
    Regex(Regex, Option<Validator>),
    /// Keywords or lexicon terms: matched by the pack's shared automaton.
    Terms,
}

/// Lexicons used by the builtin detectors.
#[derive(Debug, Default)]
pub struct BuiltinData {
    /// Phone prefix tables.
    pub phone: PhoneTables,
    /// Single and compound surnames.
    pub surnames: HashSet<String>,
    /// Name context entries: (`side.role`, word) from `lexicons/name_context.txt`.
    pub name_context: Vec<(String, String)>,
    /// Words that are never names.
    pub name_stop: HashSet<String>,
    /// Characters common in given names.
    pub given_chars: HashSet<char>,
    /// The person-name detector's tables (`lexicons/name_tables.txt`).
    pub name_tables: crate::detect::names::tables::NameTables,
    /// Administrative divisions: `code name` lines of `lexicons/admin_divisions.txt`.
    pub admin_divisions: Vec<String>,
    /// Address context: `role word` lines of `lexicons/address_context.txt`.
    pub address_context: Vec<String>,
    /// The trained person-name model (`models/person_name.crfsuite`), when the
    /// pack has one.
    pub name_model: Option<Arc<crate::detect::names::model::NameModel>>,
}

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Mask character.
    pub mask: char,
    /// Header size in non-blank lines.
    pub header_lines: usize,
    /// Action for names of officials in office.
    pub official_person_name: Action,
    /// What the person-name model adds to the rule detector.
    pub name_model: model::NameModelUse,
    thresholds: BTreeMap<String, f64>,
    partial: BTreeMap<Kind, model::PartialMask>,
}

impl Policy {
    /// Minimum confidence for a kind.
    pub fn threshold(&self, kind: Kind) -> f64 {
        self.thresholds
            .get(kind.as_str())
            .or_else(|| self.thresholds.get("default"))
            .copied()
            .unwrap_or(0.5)
    }

    /// Partial mask style for a kind.
    pub fn partial_mask(&self, kind: Kind) -> model::PartialMask {
        self.partial
            .get(&kind)
            .copied()
            .unwrap_or(model::PartialMask::Full)
    }
}

/// A frozen, compiled set of rule packs. Build once, share with `Arc`.
#[derive(Debug)]
pub struct RulePack {
    /// Rules in load order.
    pub rules: Vec<Rule>,
    /// Policy.
    pub policy: Policy,
    /// Lexicons for builtins.
    pub builtin: BuiltinData,
    /// One automaton over every keyword/lexicon term, leftmost-longest.
    pub terms: Option<AhoCorasick>,
    /// For each automaton pattern, the index of its rule.
    pub term_rule: Vec<u32>,
    /// One automaton over every `near` anchor word of every rule.
    pub near_terms: Option<AhoCorasick>,
    /// The same anchor words as a packed SIMD (Teddy) searcher, when the CPU and
    /// the word count allow one: anchors such as 室 and 村 are frequent and
    /// defeat the automaton's prefilter, and the anchor pass was a tenth of a
    /// screening.
    pub near_packed: Option<aho_corasick::packed::Searcher>,
    /// For each anchor word, the rules it anchors.
    pub near_rules: Vec<Vec<u32>>,
    /// SHA-256 of the sources.
    pub sha256: String,
}

impl RulePack {
    /// The embedded defaults.
    pub fn embedded() -> Result<RulePack, RuleError> {
        RulePack::compile(&PackSource::embedded())
    }

    /// Embedded defaults overlaid with `dir`.
    pub fn with_dir(dir: &Path) -> Result<RulePack, RuleError> {
        let mut s = PackSource::embedded();
        s.overlay_dir(dir)?;
        RulePack::compile(&s)
    }

    /// Compiles sources, reporting every problem at once.
    pub fn compile(src: &PackSource) -> Result<RulePack, RuleError> {
        let policy_spec: PolicySpec = match src.files.get("policy.toml") {
            Some(t) => toml::from_str(t).map_err(|e| RuleError::Parse {
                file: "policy.toml".into(),
                message: e.to_string(),
            })?,
            None => toml::from_str("").map_err(|e| RuleError::Parse {
                file: "policy.toml".into(),
                message: e.to_string(),
            })?,
        };
        let mut problems = Vec::new();
        let mut mask_chars = policy_spec.mask.chars();
        let mask = match (mask_chars.next(), mask_chars.next()) {
            (Some(c), None) => c,
            _ => {
                problems.push(RuleProblem {
                    rule: "policy.toml".into(),
                    message: format!("mask must be one character, got {:?}", policy_spec.mask),
                });
                '■'
            }
        };
        let policy = Policy {
            mask,
            header_lines: policy_spec.header_lines,
            official_person_name: policy_spec.official_person_name,
            name_model: policy_spec.name_model,
            thresholds: policy_spec.thresholds.clone(),
            partial: policy_spec.partial_masks.clone(),
        };
        let mut rules = Vec::new();
        let mut seen = HashSet::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut term_rule = Vec::new();
        let mut near_words: Vec<String> = Vec::new();
        let mut near_rules: Vec<Vec<u32>> = Vec::new();
        for (file, text) in &src.files {
            if !file.ends_with(".toml") || file == "policy.toml" || file.contains('/') {
                continue;
            }
            let pack: PackFile = toml::from_str(text).map_err(|e| RuleError::Parse {
                file: file.clone(),
                message: e.to_string(),
            })?;
            for spec in pack.rules {
                if !seen.insert(spec.id.clone()) {
                    problems.push(RuleProblem {
                        rule: spec.id.clone(),
                        message: format!("duplicate rule id (again in {file})"),
                    });
                    continue;
                }
                if !(0.0..=1.0).contains(&spec.confidence) {
                    problems.push(RuleProblem {
                        rule: spec.id.clone(),
                        message: format!("confidence {} outside 0..1", spec.confidence),
                    });
                }
                let idx = rules.len() as u32;
                let matcher = match &spec.matcher {
                    MatcherSpec::Builtin { builtin } => Matcher::Builtin(*builtin),
                    MatcherSpec::Regex { regex, validator } => match Regex::new(regex) {
                        Ok(r) => Matcher::Regex(r, *validator),
                        Err(e) => {
                            problems.push(RuleProblem {
                                rule: spec.id.clone(),
                                message: format!("invalid regex: {e}"),
                            });
                            continue;
                        }
                    },
                    MatcherSpec::Keywords { keywords } => {
                        for k in keywords.iter().filter(|k| !k.is_empty()) {
                            patterns.push(k.clone());
                            term_rule.push(idx);
                        }
                        Matcher::Terms
                    }
                    MatcherSpec::Lexicon { lexicon } => match src.lexicon(lexicon) {
                        Some(lines) => {
                            for l in lines {
                                patterns.push(crate::normalize::Normalized::new(l).text);
                                term_rule.push(idx);
                            }
                            Matcher::Terms
                        }
                        None => {
                            problems.push(RuleProblem {
                                rule: spec.id.clone(),
                                message: format!("lexicon file {lexicon:?} not found"),
                            });
                            continue;
                        }
                    },
                };
                let action = policy_spec
                    .actions
                    .get(&spec.kind)
                    .copied()
                    .unwrap_or(spec.action);
                let near = match &spec.near {
                    Some(_) if !matches!(spec.matcher, MatcherSpec::Regex { .. }) => {
                        problems.push(RuleProblem { rule: spec.id.clone(), message: "near applies to regex matchers only".into() });
                        None
                    }
                    Some(n) if n.words.is_empty() || n.words.iter().any(String::is_empty) => {
                        problems.push(RuleProblem { rule: spec.id.clone(), message: "near needs non-empty words".into() });
                        None
                    }
                    Some(n) => {
                        for w in &n.words {
                            match near_words.iter().position(|x| x == w) {
                                Some(k) => near_rules[k].push(rules.len() as u32),
                                None => {
                                    near_words.push(w.clone());
                                    near_rules.push(vec![rules.len() as u32]);
                                }
                            }
                        }
                        Some(n.window)
                    }
                    None => None,
                };
                rules.push(Rule {
                    id: spec.id.as_str().into(),
                    category: spec.category,
                    kind: spec.kind,
                    action,
                    basis: spec.basis.as_str().into(),
                    description: spec.description.clone(),
                    confidence: spec.confidence,
                    matcher,
                    context: spec.context.clone(),
                    scope: spec.scope,
                    near,
                    spec,
                });
            }
        }
        let terms = if patterns.is_empty() {
            None
        } else {
            match AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
            {
                Ok(a) => Some(a),
                // Very large term lists can exceed the DFA size limit: fall back to the contiguous NFA.
                Err(_) => match AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                {
                    Ok(a) => Some(a),
                    Err(e) => {
                        problems.push(RuleProblem {
                            rule: "lexicons".into(),
                            message: format!("cannot build term automaton: {e}"),
                        });
                        None
                    }
                },
            }
        };
        let lex = |name: &str, problems: &mut Vec<RuleProblem>| -> Vec<String> {
            match src.lexicon(name) {
                Some(l) => l.map(str::to_owned).collect(),
                None => {
                    problems.push(RuleProblem {
                        rule: name.to_owned(),
                        message: "builtin lexicon missing".into(),
                    });
                    Vec::new()
                }
            }
        };
        let mobile = lex("lexicons/mobile_prefixes.txt", &mut problems);
        let area = lex("lexicons/area_codes.txt", &mut problems);
        let name_context = lex("lexicons/name_context.txt", &mut problems)
            .into_iter()
            .filter_map(|l| {
                let mut p = l.split_whitespace();
                let (side, role, word) = (p.next()?, p.next()?, p.next()?);
                Some((format!("{side}.{role}"), word.to_owned()))
            })
            .collect();
        let builtin = BuiltinData {
            phone: PhoneTables::new(
                mobile.iter().map(String::as_str),
                area.iter().map(String::as_str),
            ),
            surnames: lex("lexicons/surnames.txt", &mut problems)
                .iter()
                .flat_map(|l| l.split_whitespace())
                .map(str::to_owned)
                .collect(),
            name_context,
            given_chars: lex("lexicons/given_chars.txt", &mut problems)
                .iter()
                .flat_map(|l| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect(),
            name_stop: lex("lexicons/name_stop.txt", &mut problems)
                .iter()
                .flat_map(|l| l.split_whitespace())
                .map(str::to_owned)
                .collect(),
            name_tables: {
                let lines = lex("lexicons/name_tables.txt", &mut problems);
                crate::detect::names::tables::NameTables::parse(lines.iter().map(String::as_str)).unwrap_or_else(|e| {
                    problems.push(RuleProblem { rule: "lexicons/name_tables.txt".into(), message: e });
                    Default::default()
                })
            },
            admin_divisions: lex("lexicons/admin_divisions.txt", &mut problems),
            address_context: lex("lexicons/address_context.txt", &mut problems),
            name_model: None,
        };
        let mut builtin = builtin;
        if let Some(bytes) = src.binary(PERSON_NAME_MODEL) {
            let features = crate::detect::names::features::FeatureSet::new(&builtin);
            match crate::detect::names::model::NameModel::from_bytes(bytes, features) {
                Ok(m) => builtin.name_model = Some(Arc::new(m)),
                Err(e) => problems.push(RuleProblem { rule: PERSON_NAME_MODEL.into(), message: e.to_string() }),
            }
        }
        if !problems.is_empty() {
            return Err(RuleError::Invalid(problems));
        }
        let near_terms = if near_words.is_empty() {
            None
        } else {
            let built = AhoCorasick::builder().build(&near_words);
            Some(built.map_err(|e| RuleError::Invalid(vec![RuleProblem { rule: "near".into(), message: e.to_string() }]))?)
        };
        let near_packed = if near_words.is_empty() || near_words.len() > 64 {
            None
        } else {
            let mut b = aho_corasick::packed::Config::new().match_kind(aho_corasick::packed::MatchKind::LeftmostLongest).builder();
            b.extend(&near_words);
            b.build()
        };
        Ok(RulePack { rules, policy, builtin, terms, term_rule, near_terms, near_packed, near_rules, sha256: src.sha256() })
    }
}

//! The decision: a pure function from policy and findings to a verdict with reasons.
//!
//! - `withhold` if any finding's action is withhold (classification marks,
//!   document-level trade-secret marks, internal-use marks) or the document
//!   could not be read;
//! - otherwise `redact` if any finding must be redacted;
//! - otherwise `publish`.
//!
//! Every verdict carries its reasons, one per (category, action), each with the
//! legal basis: 《政府信息公开条例》第十四条 for state secrets, 第十五条 for trade
//! secrets and personal privacy, 第十六条 for internal affairs and process
//! information, 《保守国家秘密法》, and 《个人信息保护法》第二十八条 for sensitive
//! personal data.

use crate::detect::Finding;
use crate::rules::model::{Action, Category, Kind};
use serde::Serialize;
use std::collections::BTreeMap;

/// The three outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Publish as is.
    Publish,
    /// Publish the redacted text (区分处理).
    Redact,
    /// Do not publish.
    Withhold,
}

impl Verdict {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Publish => "publish",
            Verdict::Redact => "redact",
            Verdict::Withhold => "withhold",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Verdict, String> {
        match s {
            "publish" => Ok(Verdict::Publish),
            "redact" => Ok(Verdict::Redact),
            "withhold" => Ok(Verdict::Withhold),
            _ => Err(format!(
                "unknown verdict {s:?} (expected publish, redact or withhold)"
            )),
        }
    }
}

/// Why a verdict was reached.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// Category, or `unreadable`.
    pub category: String,
    /// What the policy does because of it.
    pub action: String,
    /// Legal basis.
    pub basis: String,
    /// One sentence for the reviewer (no values: kinds and counts only).
    pub summary: String,
}

/// A verdict with its reasons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// Reasons, most severe first.
    pub reasons: Vec<Reason>,
    /// The categories the rule packs were run for: all of [`Category::ALL`]
    /// unless the caller asked for fewer.
    pub checked: Vec<Category>,
    /// True when not every category was checked: such a `publish` is not a
    /// clearance (the document was not screened for the others).
    pub partial: bool,
}

fn category_basis(c: Category) -> &'static str {
    match c {
        Category::StateSecret => {
            "《中华人民共和国政府信息公开条例》第十四条；《中华人民共和国保守国家秘密法》"
        }
        Category::TradeSecret => {
            "《中华人民共和国政府信息公开条例》第十五条；《中华人民共和国反不正当竞争法》第九条"
        }
        Category::PersonalData => {
            "《中华人民共和国政府信息公开条例》第十五条；《中华人民共和国个人信息保护法》"
        }
        Category::InternalAffairs => "《中华人民共和国政府信息公开条例》第十六条",
    }
}

/// Decides over every category. Findings with action `allow` are reported but
/// change nothing; those of `internal_affairs` (a process draft the policy
/// publishes) still get a reason of their own, so that a `publish` never reads
/// as "nothing found".
pub fn decide(findings: &[Finding]) -> Decision {
    decide_checked(findings, &Category::ALL)
}

/// Decides for a screening that ran the rules of the `checked` categories only
/// (findings of other categories are ignored). The `publish` reason names what
/// was checked, and a partial screening says that it is not a clearance.
pub fn decide_checked(findings: &[Finding], checked: &[Category]) -> Decision {
    let mut checked: Vec<Category> = Category::ALL.iter().copied().filter(|c| checked.contains(c)).collect();
    if checked.is_empty() {
        checked = Category::ALL.to_vec();
    }
    let partial = checked.len() < Category::ALL.len();
    let mut groups: BTreeMap<(Action, Category), (BTreeMap<Kind, usize>, Vec<&str>)> =
        BTreeMap::new();
    let reported = |f: &&Finding| {
        checked.contains(&f.category) && (f.action != Action::Allow || f.category == Category::InternalAffairs)
    };
    for f in findings.iter().filter(reported) {
        let g = groups.entry((f.action, f.category)).or_default();
        *g.0.entry(f.kind).or_default() += 1;
        for part in f.basis.split('；') {
            if !g.1.contains(&part) {
                g.1.push(part);
            }
        }
    }
    // 《条例》第十五条 and 《条例》第十五条（个人隐私）: keep the more specific citation.
    for (_, basis) in groups.values_mut() {
        let all = basis.clone();
        basis.retain(|p| !all.iter().any(|q| q != p && q.starts_with(p)));
    }
    let verdict = match groups.keys().map(|k| k.0).max() {
        Some(Action::Withhold) => Verdict::Withhold,
        Some(Action::Redact) => Verdict::Redact,
        _ => Verdict::Publish,
    };
    let mut reasons: Vec<Reason> = groups
        .into_iter()
        .rev()
        .map(|((action, cat), (kinds, basis))| {
            let what = kinds
                .iter()
                .map(|(k, n)| format!("{} ×{n}", k.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            let verb = match action {
                Action::Withhold => "document withheld",
                Action::Redact => "passages redacted",
                Action::Allow => "reported; the policy permits publishing",
            };
            let basis = if basis.is_empty() {
                category_basis(cat).to_owned()
            } else {
                basis.join("；")
            };
            Reason {
                category: cat.as_str().into(),
                action: action.as_str().into(),
                basis,
                summary: format!("{}: {what}; {verb}", cat.as_str()),
            }
        })
        .collect();
    let names = |cs: &mut dyn Iterator<Item = &Category>| cs.map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
    let unchecked = names(&mut Category::ALL.iter().filter(|c| !checked.contains(c)));
    if partial {
        for r in &mut reasons {
            r.summary.push_str(&format!(" (partial screening; not checked: {unchecked})"));
        }
    }
    if verdict == Verdict::Publish {
        let summary = if partial {
            format!(
                "partial screening: nothing to withhold or redact found in the categories checked ({}); not checked: {unchecked}; this is not a clearance to publish",
                names(&mut checked.iter())
            )
        } else {
            format!("nothing to withhold or redact found by the rule packs in any category ({})", names(&mut checked.iter()))
        };
        reasons.insert(
            0,
            Reason {
                category: "none".into(),
                action: "publish".into(),
                basis: "《中华人民共和国政府信息公开条例》第五条（以公开为常态、不公开为例外）".into(),
                summary,
            },
        );
    }
    Decision { verdict, reasons, checked, partial }
}

/// The decision for a document that could not be read: never publish.
pub fn unreadable(why: &str) -> Decision {
    Decision {
        verdict: Verdict::Withhold,
        reasons: vec![Reason {
            category: "unreadable".into(),
            action: "withhold".into(),
            basis: "《中华人民共和国政府信息公开条例》第十七条（先审查、后公开）: content that was not reviewed is not published".into(),
            summary: format!("unreadable: {why}"),
        }],
        checked: Category::ALL.to_vec(),
        partial: false,
    }
}

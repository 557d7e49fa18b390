//! `mishen rules check`: every rule carries its own tests.
//!
//! Compilation already rejects duplicate ids, invalid patterns and missing
//! lexicons; this adds the examples: each `examples` entry must produce a finding
//! of its rule, and no `negative_examples` entry may. The person-name model
//! (`models/person_name.crfsuite`) has examples of its own ([`MODEL_EXAMPLES`]).

use super::RuleProblem;
use crate::detect::Prepared;
use crate::screen::Screener;

/// Sentences on which the person-name model must find the given name, and
/// (empty name) sentences on which it must find none.
pub const MODEL_EXAMPLES: &[(&str, &str)] = &[
    ("申请人王小明于2024年3月提交了政府信息公开申请。", "王小明"),
    ("联系人：李建国，联系电话见附件。", "李建国"),
    ("中华人民共和国国务院", ""),
    ("根据《中华人民共和国政府信息公开条例》第十六条的规定，行政机关的内部事务信息可以不予公开。", ""),
];

/// Runs the model's examples ([`MODEL_EXAMPLES`]).
fn check_model(s: &Screener, problems: &mut Vec<RuleProblem>) {
    let Some(m) = s.pack().builtin.name_model.as_deref() else { return };
    for (text, want) in MODEL_EXAMPLES {
        let found: Vec<&str> = m.spans(s.engine().tokenizer(), text).iter().map(|x| &text[x.start..x.end]).collect();
        let ok = if want.is_empty() { found.is_empty() } else { found.contains(want) };
        if !ok {
            problems.push(RuleProblem {
                rule: super::PERSON_NAME_MODEL.into(),
                message: format!("example {text:?}: expected {want:?}, the model found {found:?}"),
            });
        }
    }
}

/// Runs every rule's examples; returns the problems (empty when all pass).
pub fn check_examples(s: &Screener) -> Vec<RuleProblem> {
    let pack = s.pack();
    let mut problems = Vec::new();
    for r in &pack.rules {
        let fires = |t: &str| {
            let p = Prepared::new(t, pack.policy.header_lines);
            s.engine().detect(&p).iter().any(|f| f.rule == r.id)
        };
        if r.spec.examples.is_empty() {
            problems.push(RuleProblem {
                rule: r.id.to_string(),
                message: "has no examples".into(),
            });
        }
        for e in &r.spec.examples {
            if !fires(e) {
                problems.push(RuleProblem {
                    rule: r.id.to_string(),
                    message: format!("example does not fire: {e:?}"),
                });
            }
        }
        for e in &r.spec.negative_examples {
            if fires(e) {
                problems.push(RuleProblem {
                    rule: r.id.to_string(),
                    message: format!("negative example fires: {e:?}"),
                });
            }
        }
    }
    check_model(s, &mut problems);
    problems
}

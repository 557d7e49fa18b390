//! `mishen rules check`: every rule carries its own tests.
//!
//! Compilation already rejects duplicate ids, invalid patterns and missing
//! lexicons; this adds the examples: each `examples` entry must produce a finding
//! of its rule, and no `negative_examples` entry may.

use super::RuleProblem;
use crate::detect::Prepared;
use crate::screen::Screener;

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
    problems
}

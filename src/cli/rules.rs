//! `mishen rules list` and `mishen rules check`.

use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List the compiled rules.
    List {
        /// Overlay the embedded packs with the packs in DIR.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Compile the packs and run every rule's examples; exit 1 on any problem.
    Check {
        /// Overlay the embedded packs with the packs in DIR.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

pub fn run(cmd: RulesCommand) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::List { rules } => {
            let s = super::screener(rules.as_deref())?;
            writeln!(out, "rules sha256 {}", s.rules_sha256())?;
            for r in &s.pack().rules {
                writeln!(
                    out,
                    "{:<34} {:<14} {:<20} {:<8} {}",
                    r.id,
                    r.category.as_str(),
                    r.kind.as_str(),
                    r.action.as_str(),
                    r.description
                )?;
            }
            Ok(0)
        }
        RulesCommand::Check { rules } => {
            let s = match super::screener(rules.as_deref()) {
                Ok(s) => s,
                Err(e) => {
                    writeln!(out, "rules check failed: {e:#}")?;
                    return Ok(1);
                }
            };
            let problems = mishen::rules::check::check_examples(&s);
            let n: usize = s
                .pack()
                .rules
                .iter()
                .map(|r| r.spec.examples.len() + r.spec.negative_examples.len())
                .sum();
            for p in &problems {
                writeln!(out, "{}: {}", p.rule, p.message)?;
            }
            if problems.is_empty() {
                writeln!(
                    out,
                    "ok: {} rules, {} examples checked; rules sha256 {}",
                    s.pack().rules.len(),
                    n,
                    s.rules_sha256()
                )?;
                Ok(0)
            } else {
                writeln!(
                    out,
                    "{} problem(s) in {} rules",
                    problems.len(),
                    s.pack().rules.len()
                )?;
                Ok(1)
            }
        }
    }
}

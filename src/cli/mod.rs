//! Subcommands: one file each. Exit codes: 0 clean, 1 worst verdict redact,
//! 3 a document withheld for its content, 4 a document withheld as unreadable
//! and none for its content (all subject to `--fail-on`), 2 usage or I/O error.

mod audit;
mod keys;
mod redact_to;
mod review;
mod rules;
mod screen;
mod serve;
mod walk;

use clap::{Parser, Subcommand};

/// Exit status for usage and I/O errors.
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser)]
#[command(
    name = "mishen",
    version,
    about = "密审: offline pre-publication confidentiality screener for Chinese documents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Screen documents: verdict, findings and redacted text.
    Screen(screen::ScreenArgs),
    /// List or check the rule packs.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Verify, export, list and show the signed audit log.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Record a reviewer's decision about a screening record.
    Review(review::ReviewArgs),
    /// Run the gRPC screening service (mishen.v1.ScreeningService).
    Serve(serve::ServeArgs),
    /// Show the audit log's public key.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // The service logs one line per request; batch commands only warnings.
    // MISHEN_LOG sets the filter (`info`, `mishen=debug`...); MISHEN_LOG_FORMAT=json
    // writes one JSON object per line for log collectors.
    let default = if matches!(cli.command, Command::Serve(_)) { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MISHEN_LOG").unwrap_or_else(|_| default.into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("MISHEN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().flatten_event(true).init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
    let r = match cli.command {
        Command::Screen(a) => screen::run(a),
        Command::Rules { command } => rules::run(command),
        Command::Audit { command } => audit::run(command),
        Command::Review(a) => review::run(a),
        Command::Keys { command } => keys::run(command),
        Command::Serve(a) => serve::run(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return 0;
            }
            eprintln!("mishen: {e:#}");
            EXIT_ERROR
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Builds the screener from `--rules`.
fn screener(rules: Option<&std::path::Path>) -> anyhow::Result<mishen::Screener> {
    let mut b = mishen::Screener::builder();
    if let Some(d) = rules {
        b = b.rules_dir(d);
    }
    Ok(b.build()?)
}

/// The actor recorded in audit records: `cli:<user>`.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let user: String = user.chars().filter(|c| !c.is_control()).take(64).collect();
    format!("cli:{user}")
}

/// Default data directory of the audit commands.
const DEFAULT_DATA_DIR: &str = "mishen-data";

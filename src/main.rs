//! The `mishen` command line. Parsing and dispatch only; see `cli/`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}

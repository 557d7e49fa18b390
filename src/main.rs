//! The `mishen` command line. Parsing and dispatch only; see `cli/`.

mod cli;

/// mimalloc instead of the system allocator: the service allocates on engine
/// threads and frees on the reactor (requests, responses, records), where
/// glibc's per-thread arenas spent a tenth of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}

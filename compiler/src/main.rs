//! The `plat` binary: parse arguments, run on a large stack, exit with the code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = plat::cli::Cli::parse();
    plat::compile::with_large_stack(move || plat::cli::run(cli))
}

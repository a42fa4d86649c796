//! The `plat` binary: parse arguments, run on a large stack, exit with the code.

use std::process::ExitCode;

use clap::Parser;

// A compilation makes millions of small allocations (syntax trees, values, the model, YAML
// trees), many on the compiler thread, where glibc's per-thread arena grows a page range at a
// time; mimalloc took a third off `plat check` of a 10,000-application platform
// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = plat::cli::Cli::parse();
    plat::compile::with_large_stack(move || plat::cli::run(cli))
}

//! The `plat` command line. Thin: parse arguments, call the library, map to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::SUCCESS
}

//! The whole front end in one call: load, check names and types, evaluate.

use crate::diagnostic::{self, Diagnostic};
use crate::eval::{eval, Limits, Program};
use crate::load::{load, Loaded, Loader};
use crate::types::{check, Env};

/// Everything the front end produced for one run.
#[derive(Debug)]
pub struct Compiled {
    /// Sources and parsed modules.
    pub loaded: Loaded,
    /// Names and types.
    pub env: Env,
    /// Values; `None` when loading or type checking failed (evaluation is skipped then, so
    /// that one mistake does not cascade into confusing follow-up errors).
    pub program: Option<Program>,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads `roots` (root-relative paths, in the order entities should be declared) with the
/// prelude, checks and evaluates them.
pub fn compile(prelude: &str, roots: &[String], loader: &dyn Loader, limits: Limits) -> Compiled {
    let (loaded, mut diagnostics) = load(prelude, roots, loader);
    let (env, type_diagnostics) = check(&loaded);
    diagnostics.extend(type_diagnostics);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        let (program, eval_diagnostics) = eval(&loaded, &env, limits);
        diagnostics.extend(eval_diagnostics);
        Some(program)
    };
    diagnostic::sort(&mut diagnostics);
    Compiled {
        loaded,
        env,
        program,
        diagnostics,
    }
}

//! The compiler's pipeline in one call: sources to the front end's values, then the model
//! and the platform checks, collecting every diagnostic.

use plat_lang::diagnostic::{self, Diagnostic};
use plat_lang::driver::{self, Compiled};
use plat_lang::eval::Limits;
use plat_lang::load::Loader;

use crate::model::{lower::lower, Model};
use crate::sources::{FsLoader, Project};

/// The platform prelude: the entity kinds and their types.
pub const PRELUDE: &str = include_str!("prelude.plat");

/// The result of compiling a project.
#[derive(Debug)]
pub struct Compilation {
    /// The front end's output (sources, types, values). Its modules' syntax trees are empty:
    /// they are freed once evaluated ([`compile_with`]).
    pub front: Compiled,
    /// The platform model, when the front end succeeded.
    pub model: Option<Model>,
    /// Every diagnostic of the run, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    /// True when any diagnostic is an error (or a warning, with `deny_warnings`).
    pub fn failed(&self, deny_warnings: bool) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.is_error() || deny_warnings)
    }
}

/// Compiles `project`: load, check, evaluate.
pub fn compile(project: &Project) -> Compilation {
    let loader = FsLoader::new(project.root.clone());
    compile_with(&loader, &project.files)
}

/// Compiles the root `files` read through `loader` (the file system for [`compile`], memory
/// for tests and the fuzz targets in `fuzz/`).
pub fn compile_with(loader: &dyn Loader, files: &[String]) -> Compilation {
    let mut front = driver::compile(PRELUDE, files, loader, Limits::default());
    release_syntax(&mut front);
    let mut diagnostics = front.diagnostics.clone();
    empty_files(&front, &mut diagnostics);
    let model = match &front.program {
        Some(program) if !front.has_errors() => {
            let (model, lowering) = lower(program);
            diagnostics.extend(lowering);
            diagnostics.extend(crate::check::run(&model));
            Some(model)
        }
        _ => None,
    };
    diagnostic::sort(&mut diagnostics);
    Compilation {
        front,
        model,
        diagnostics,
    }
}

/// Frees the syntax trees of every module once the front end is done: values, types and
/// diagnostics own everything they need, and nothing after evaluation reads a tree (the
/// sources stay, for diagnostics). On a large platform the trees are a third of the memory,
/// which lowering and the checks then reuse.
fn release_syntax(front: &mut Compiled) {
    for module in &mut front.loaded.modules {
        module.ast.items = Vec::new();
    }
}

fn empty_files(front: &Compiled, out: &mut Vec<Diagnostic>) {
    for (id, file) in front.loaded.sources.iter().skip(1) {
        // A file without a module could not be read; that error is reported already.
        let loaded = front.loaded.modules.iter().any(|m| m.file == id);
        if loaded && file.text.trim().is_empty() {
            out.push(
                Diagnostic::warning(
                    "source::empty",
                    plat_lang::span::Span::new(id, 0, 0),
                    format!("`{}` is empty", file.path),
                )
                .with_help("delete the file, or declare something in it"),
            );
        }
    }
}

/// Runs `f` on a thread with a large stack: evaluation of deeply nested (but bounded)
/// programs recurses, and the limits in `plat_lang` are sized for this stack.
pub fn with_large_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    const STACK: usize = 256 << 20;
    match std::thread::Builder::new().stack_size(STACK).spawn(f) {
        Ok(handle) => match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(_) => panic!("cannot start the compiler thread"),
    }
}

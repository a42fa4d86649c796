//! Loading a program: root files, their imports, the import sandbox and cycle detection.
//!
//! The language does no IO: files are read through the [`Loader`] trait, which the CLI
//! implements on the real file system (refusing symlinks that leave the root and
//! non-regular files). Here we enforce what can be decided from the path alone: no
//! absolute paths, no `..` that climbs above the root after normalisation.

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;
use crate::span::{FileId, Span};
use crate::syntax::ast::{File, Ident, ItemKind};
use crate::syntax::parser::parse;

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// No such file.
    NotFound,
    /// The path resolves (through a symlink) outside the project root.
    OutsideRoot,
    /// Not a regular file (a directory, a device, a fifo).
    NotAFile,
    /// The file is not UTF-8.
    InvalidUtf8,
    /// The file contains a NUL byte.
    NulByte,
    /// Any other IO failure, with its description.
    Io(String),
    /// The file has more than [`MAX_FILE_BYTES`] bytes (it was not read whole).
    TooLarge,
}

/// Reads source files by root-relative path (`lib/net.plat`).
pub trait Loader {
    /// The text of the file at `path`.
    fn load(&self, path: &str) -> Result<String, LoadError>;
}

/// Sources held in memory, by root-relative path: for tests, examples and the fuzz targets.
#[derive(Clone, Debug, Default)]
pub struct MemLoader {
    /// Path to text.
    pub files: BTreeMap<String, String>,
}

impl MemLoader {
    /// A loader holding one file.
    pub fn single(path: &str, text: &str) -> MemLoader {
        MemLoader {
            files: BTreeMap::from([(path.to_string(), text.to_string())]),
        }
    }
}

impl Loader for MemLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        self.files.get(path).cloned().ok_or(LoadError::NotFound)
    }
}

/// A parsed file and what it imports.
#[derive(Clone, Debug)]
pub struct Module {
    /// Its file.
    pub file: FileId,
    /// The parsed syntax tree.
    pub ast: File,
    /// Imports: (module index, alias, span of the import).
    pub imports: Vec<Import>,
}

/// A resolved import.
#[derive(Clone, Debug)]
pub struct Import {
    /// Index of the imported module in [`Loaded::modules`].
    pub module: usize,
    /// `as` name, for namespaced imports.
    pub alias: Option<Ident>,
    /// The import's path literal.
    pub span: Span,
}

/// Everything loaded for a run.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Source texts.
    pub sources: SourceMap,
    /// Modules; index 0 is the prelude. Roots follow in the order given.
    pub modules: Vec<Module>,
    /// Indexes of the root modules (whose entities make the platform).
    pub roots: Vec<usize>,
}

/// Maximum number of files a program may load.
pub const MAX_FILES: usize = 10_000;

/// Maximum bytes of one source file (64 MiB). A loader refuses a larger file before reading
/// it ([`LoadError::TooLarge`]); 100,000 applications are about 36 MB of source in all.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Maximum bytes of all the sources of a program together (256 MiB), prelude included: once
/// the files loaded so far have more, no further file is read.
pub const MAX_SOURCE_BYTES: u64 = 256 << 20;

/// Loads the prelude, every root path (sorted by the caller) and everything they import.
pub fn load(prelude: &str, roots: &[String], loader: &dyn Loader) -> (Loaded, Vec<Diagnostic>) {
    let mut state = State {
        loaded: Loaded::default(),
        by_path: BTreeMap::new(),
        diagnostics: Vec::new(),
        loader,
        source_bytes: prelude.len() as u64,
    };
    let file = state.loaded.sources.add("<prelude>".into(), prelude.into());
    state.add_module(file);
    for root in roots {
        let module = state.module_for(root, None);
        if let Some(module) = module {
            if !state.loaded.roots.contains(&module) {
                state.loaded.roots.push(module);
            }
        }
    }
    state.detect_cycles();
    (state.loaded, state.diagnostics)
}

struct State<'a> {
    loaded: Loaded,
    by_path: BTreeMap<String, Option<usize>>,
    diagnostics: Vec<Diagnostic>,
    loader: &'a dyn Loader,
    /// Bytes of the sources loaded so far.
    source_bytes: u64,
}

impl State<'_> {
    fn add_module(&mut self, file: FileId) -> usize {
        let (ast, diagnostics) = parse(file, &self.loaded.sources.get(file).text);
        self.diagnostics.extend(diagnostics);
        self.loaded.modules.push(Module {
            file,
            ast,
            imports: Vec::new(),
        });
        self.loaded.modules.len() - 1
    }

    /// The module for `path`, loading (and resolving its imports) on first use.
    fn module_for(&mut self, path: &str, import_span: Option<Span>) -> Option<usize> {
        if let Some(known) = self.by_path.get(path) {
            return *known;
        }
        if self.loaded.modules.len() >= MAX_FILES {
            let span = self.blame(path, import_span);
            self.diagnostics.push(
                Diagnostic::error("limit::files", span, format!("more than {MAX_FILES} files"))
                    .with_help("split the platform into several roots"),
            );
            self.by_path.insert(path.to_string(), None);
            return None;
        }
        if self.source_bytes > MAX_SOURCE_BYTES {
            let span = self.blame(path, import_span);
            self.diagnostics.push(
                Diagnostic::error(
                    "limit::source-size",
                    span,
                    format!(
                        "`{path}` is not read: the sources loaded before it have {} bytes, more than the {} MiB all sources may have together",
                        self.source_bytes,
                        MAX_SOURCE_BYTES >> 20
                    ),
                )
                .with_help("split the platform into several programs"),
            );
            self.by_path.insert(path.to_string(), None);
            return None;
        }
        let text = match self.loader.load(path) {
            Ok(text) if text.len() as u64 > MAX_FILE_BYTES => {
                let span = self.blame(path, import_span);
                self.report_load_error(path, LoadError::TooLarge, span);
                self.by_path.insert(path.to_string(), None);
                return None;
            }
            Ok(text) => text,
            Err(error) => {
                let span = self.blame(path, import_span);
                self.report_load_error(path, error, span);
                self.by_path.insert(path.to_string(), None);
                return None;
            }
        };
        self.source_bytes += text.len() as u64;
        let file = self.loaded.sources.add(path.to_string(), text);
        let module = self.add_module(file);
        self.by_path.insert(path.to_string(), Some(module));
        self.resolve_imports(module, path);
        Some(module)
    }

    fn resolve_imports(&mut self, module: usize, path: &str) {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let items: Vec<(String, Span, Option<Ident>)> = self.loaded.modules[module]
            .ast
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Import {
                    path,
                    path_span,
                    alias,
                } => Some((path.clone(), *path_span, alias.clone())),
                _ => None,
            })
            .collect();
        for (target, span, alias) in items {
            let Some(resolved) = self.resolve_path(dir, &target, span) else {
                continue;
            };
            if let Some(imported) = self.module_for(&resolved, Some(span)) {
                self.loaded.modules[module].imports.push(Import {
                    module: imported,
                    alias,
                    span,
                });
            }
        }
    }

    /// Joins `target` to `dir` and normalises it; `None` (reported) when it leaves the root.
    fn resolve_path(&mut self, dir: &str, target: &str, span: Span) -> Option<String> {
        let outside = |message: String| {
            Diagnostic::error("import::outside-root", span, message)
                .with_label("outside the project root")
                .with_help("imports are relative to the importing file and must stay under the project root")
        };
        if target.starts_with('/')
            || target.starts_with('\\')
            || target.get(1..3) == Some(":\\")
            || target.get(1..3) == Some(":/")
        {
            self.diagnostics
                .push(outside(format!("import of an absolute path `{target}`")));
            return None;
        }
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for segment in target.split(['/', '\\']) {
            match segment {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        self.diagnostics.push(outside(format!(
                            "import of `{target}` climbs above the project root"
                        )));
                        return None;
                    }
                }
                other => parts.push(other),
            }
        }
        if !target.ends_with(".plat") {
            self.diagnostics.push(
                Diagnostic::error(
                    "import::not-plat",
                    span,
                    format!("`{target}` is not a `.plat` file"),
                )
                .with_help("only `.plat` files can be imported"),
            );
            return None;
        }
        Some(parts.join("/"))
    }

    /// Where to report that `path` cannot be loaded: the import that names it or, for a
    /// root file, the start of that file (added to the sources without text, and without a
    /// module).
    fn blame(&mut self, path: &str, import_span: Option<Span>) -> Span {
        import_span.unwrap_or_else(|| {
            let file = self.loaded.sources.add(path.to_string(), String::new());
            Span::new(file, 0, 0)
        })
    }

    fn report_load_error(&mut self, path: &str, error: LoadError, span: Span) {
        let diagnostic = match error {
            LoadError::NotFound => {
                Diagnostic::error("import::not-found", span, format!("cannot find `{path}`"))
                    .with_help("the path is relative to the importing file")
            }
            LoadError::OutsideRoot => Diagnostic::error(
                "import::outside-root",
                span,
                format!("`{path}` resolves outside the project root"),
            )
            .with_help("a symbolic link may not lead out of the project root"),
            LoadError::NotAFile => Diagnostic::error(
                "import::not-a-file",
                span,
                format!("`{path}` is not a regular file"),
            )
            .with_help("import `.plat` files only"),
            LoadError::InvalidUtf8 => Diagnostic::error(
                "source::invalid-utf8",
                span,
                format!("`{path}` is not valid UTF-8"),
            )
            .with_help("save the file as UTF-8"),
            LoadError::NulByte => Diagnostic::error(
                "source::nul-byte",
                span,
                format!("`{path}` contains a NUL byte"),
            )
            .with_help("remove the NUL byte; .plat sources are text"),
            LoadError::Io(message) => Diagnostic::error(
                "import::io",
                span,
                format!("cannot read `{path}`: {message}"),
            )
            .with_help("check the file's permissions"),
            LoadError::TooLarge => Diagnostic::error(
                "limit::source-size",
                span,
                format!("`{path}` is larger than {} MiB", MAX_FILE_BYTES >> 20),
            )
            .with_help("split it into several files (a source file may have 64 MiB)"),
        };
        self.diagnostics.push(diagnostic);
    }

    /// Reports each import that closes a cycle, at the import leaving the first file of the cycle.
    fn detect_cycles(&mut self) {
        let count = self.loaded.modules.len();
        let mut state = vec![0u8; count]; // 0 new, 1 on stack, 2 done
        let mut reported = std::collections::BTreeSet::new();
        for start in 0..count {
            if state[start] != 0 {
                continue;
            }
            // Iterative DFS: (module, next import index, span of the import that led here).
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&(module, next)) = stack.last() {
                let imports = &self.loaded.modules[module].imports;
                if next >= imports.len() {
                    state[module] = 2;
                    stack.pop();
                    continue;
                }
                stack.last_mut().expect("non-empty").1 += 1;
                let target = imports[next].module;
                let closing_span = imports[next].span;
                match state[target] {
                    0 => {
                        state[target] = 1;
                        stack.push((target, 0));
                    }
                    1 => {
                        let position = stack
                            .iter()
                            .position(|(m, _)| *m == target)
                            .expect("on stack");
                        let (first, first_next) = stack[position];
                        let opening = self.loaded.modules[first].imports[first_next - 1].span;
                        if reported.insert(opening) {
                            let names: Vec<String> = stack[position..]
                                .iter()
                                .map(|(m, _)| {
                                    self.loaded
                                        .sources
                                        .get(self.loaded.modules[*m].file)
                                        .path
                                        .clone()
                                })
                                .chain(std::iter::once(
                                    self.loaded
                                        .sources
                                        .get(self.loaded.modules[target].file)
                                        .path
                                        .clone(),
                                ))
                                .collect();
                            let mut diagnostic = Diagnostic::error(
                                "import::cycle",
                                opening,
                                format!("import cycle: {}", names.join(" -> ")),
                            )
                            .with_label("this import starts the cycle")
                            .with_help(
                                "move what both files need into a third file that imports neither",
                            );
                            if closing_span != opening {
                                diagnostic = diagnostic
                                    .with_secondary(closing_span, "and this import closes it");
                            }
                            self.diagnostics.push(diagnostic);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

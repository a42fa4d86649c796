//! The layering of the `plat` crate: which of its top-level modules each module may name.
//!
//! The pipeline has no back-edges (`docs/ARCHITECTURE.md`, "Invariants"): the model and the
//! checks see only the language and the model, the summary and the graph only the model, the
//! emitters never the summary or the CLI, and so on up to `cli`, which may name anything. The
//! table [`LAYERS`] is that rule; this test reads every source file under `compiler/src` and
//! fails on a path to a module its table row does not allow, so a back-edge cannot return
//! unnoticed. Moving a helper down (to `shared`, or into the model) is the fix, not widening a
//! row.
//!
//! How a file is read, deliberately simply:
//! - a file belongs to the module of its first path component (`model/lower.rs` → `model`);
//! - every `crate::NAME` is a use of module `NAME`, and so is a `super::…::NAME` chain that
//!   climbs to the crate root;
//! - comment lines are skipped, and so is test code: an inline `#[cfg(test)] mod … {` runs to
//!   the end of its file (the convention here), and `tests.rs` files are test modules;
//! - `crate::{a, b}` is refused: name one module per path so that this test can read it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module of `compiler/src` and the modules of the crate it may name (besides
/// itself). Listed from the bottom layer up; a module missing here fails the test.
const LAYERS: &[(&str, &[&str])] = &[
    // Below everything: constants more than one layer shares; no crate paths at all.
    ("shared", &[]),
    ("parallel", &[]),
    ("sources", &[]),
    ("render", &[]),
    // The model sees only the language (another crate) and `shared`.
    ("model", &["shared"]),
    ("check", &["model"]),
    ("compile", &["check", "model", "sources"]),
    ("values", &["compile", "sources"]),
    ("docs", &["check", "compile", "model"]),
    // Beside each other above the model; none names another.
    ("emit", &["model", "parallel", "shared"]),
    ("summary", &["model", "shared"]),
    ("graph", &["model"]),
    ("explain", &["emit", "model"]),
    // The out/ tree takes emitted files; a build puts everything together.
    ("out", &["emit", "parallel", "shared"]),
    (
        "build",
        &[
            "compile", "emit", "model", "out", "shared", "sources", "summary",
        ],
    ),
    ("diff", &["emit", "model", "out", "summary"]),
    // The top: arguments, dispatch, printing.
    (
        "cli",
        &[
            "build", "check", "compile", "diff", "docs", "emit", "explain", "graph", "model",
            "out", "parallel", "render", "shared", "sources", "summary", "values",
        ],
    ),
];

/// Files that are not a module of the layering: the crate root declares the modules, and the
/// binary uses the library by its name (`plat::cli`).
const ROOTS: &[&str] = &["lib.rs", "main.rs"];

#[test]
fn modules_name_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).expect("below src");
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if parts.len() == 1 && ROOTS.contains(&relative.to_str().unwrap_or("")) {
            continue;
        }
        if parts.last().is_some_and(|p| p == "tests") {
            continue;
        }
        let module = parts[0].as_str();
        seen.insert(module.to_string());
        let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == module) else {
            problems.push(format!(
                "{}: module `{module}` is not in the layering table (compiler/tests/layers.rs)",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("readable source");
        for (line_number, name) in named_modules(&text, parts.len()) {
            if name == "{" {
                problems.push(format!(
                    "{}:{line_number}: `crate::{{…}}`: name one module per path",
                    relative.display()
                ));
            } else if name != module && !allowed.contains(&name.as_str()) {
                problems.push(format!(
                    "{}:{line_number}: `{module}` names `crate::{name}`, which is not below it",
                    relative.display()
                ));
            }
        }
    }
    for (name, _) in LAYERS {
        if !seen.contains(*name) {
            problems.push(format!(
                "the layering table names `{name}`, which has no file"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "back-edges in the layering:\n{}",
        problems.join("\n")
    );
}

/// The crate modules a file names, with line numbers, in its non-test, non-comment lines.
/// `depth` is how deep the file's own module is (`model.rs` 1, `model/lower.rs` 2), so that
/// `super::` chains climbing to the crate root are seen too.
fn named_modules(text: &str, depth: usize) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|next| next.contains("mod ") && next.trim_end().ends_with('{'))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            if at > 0 && is_ident(line.as_bytes()[at - 1]) {
                continue; // `plat_crate::…` or the like
            }
            found.push((i + 1, first_segment(&line[at + "crate::".len()..])));
        }
        let mut rest = *line;
        while let Some(at) = rest.find("super::") {
            let before_ok = at == 0 || !is_ident(rest.as_bytes()[at - 1]);
            let mut climbs = 0;
            let mut tail = &rest[at..];
            while let Some(after) = tail.strip_prefix("super::") {
                climbs += 1;
                tail = after;
            }
            if before_ok && climbs >= depth {
                found.push((i + 1, first_segment(tail)));
            }
            rest = tail;
        }
    }
    found
}

/// The module a path starts with (`emit` of `emit::Files`), or `{` for a group.
fn first_segment(path: &str) -> String {
    if path.starts_with('{') {
        return "{".to_string();
    }
    path.bytes()
        .take_while(|b| is_ident(*b))
        .map(char::from)
        .collect()
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable source directory")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The reader itself: a back-edge in a `use`, a `super::` chain to the root, a group, and
/// test code and comments that do not count.
#[test]
fn the_reader_sees_paths_and_skips_tests_and_comments() {
    let text = "use crate::model::Model;\n\
                // crate::cli in a comment\n\
                fn f() { super::super::emit::all(); super::Files; }\n\
                use crate::{a, b};\n\
                #[cfg(test)]\n\
                mod tests {\n\
                    use crate::cli;\n\
                }\n";
    let found: Vec<(usize, String)> = named_modules(text, 2);
    let names: Vec<(usize, &str)> = found.iter().map(|(l, n)| (*l, n.as_str())).collect();
    assert_eq!(names, [(1, "model"), (3, "emit"), (4, "{")]);
}

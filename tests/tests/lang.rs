//! Conformance tests of the language front end, driven by the fixture files in `tests/data/lang`:
//!
//! - `ok/*.plat`: programs that must compile without any diagnostic (their `assert`s prove
//!   the values); `project/` is checked as a directory.
//! - `err/*.plat`: one error scenario per file. Each `# expect: CODE at LINE` header (or
//!   `at FILE:LINE` for a diagnostic in another file) must be reported, the run must fail
//!   (unless every expectation is a warning), and the source followed by the rendered
//!   diagnostics is snapshotted in `snapshots/lang__err@<file>.snap`.
//! - Scenarios that need files which cannot be committed (invalid UTF-8, a NUL byte, a
//!   symbolic link, a directory named like a source) are built in a temporary directory, and
//!   limits too large for a fixture run through the front end with a small prelude or limits.
//!
//! `every_code_is_covered` scans the front end's sources for diagnostic codes and fails when
//! one has neither a fixture nor a special case here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plat::compile::{compile, with_large_stack, PRELUDE};
use plat::render::{render_human, Style};
use plat::sources::Project;
use plat_lang::diagnostic::{Diagnostic, Severity};
use plat_lang::eval::Limits;
use plat_lang::load::{LoadError, Loader};
use plat_lang::source::SourceMap;

/// The fixture directory.
fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lang")
}

/// One reported diagnostic, located.
#[derive(Debug)]
struct Found {
    code: &'static str,
    severity: Severity,
    file: String,
    line: usize,
}

/// What a `plat check` of a path produced, as plain data (the front end's values are not
/// `Send`, so they stay on the compiler thread).
struct Outcome {
    /// `plat check` would exit 1.
    failed: bool,
    diagnostics: Vec<Found>,
    rendered: String,
}

fn located(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<Found> {
    diagnostics
        .iter()
        .map(|d| {
            let file = sources.get(d.span.file);
            Found {
                code: d.code,
                severity: d.severity,
                file: file.path.clone(),
                line: file.line_col(d.span.start).0,
            }
        })
        .collect()
}

/// Compiles `path` (a file or a directory) the way `plat check` does.
fn check(path: &Path) -> Outcome {
    let path = path.to_path_buf();
    with_large_stack(move || {
        let project = Project::open(&path).expect("the fixture opens");
        let compilation = compile(&project);
        let sources = &compilation.front.loaded.sources;
        Outcome {
            failed: compilation.failed(false),
            diagnostics: located(sources, &compilation.diagnostics),
            rendered: render_human(sources, &compilation.diagnostics, Style::Plain),
        }
    })
}

/// The `# expect: CODE at LINE` / `# expect: CODE at FILE:LINE` headers of a fixture.
fn expectations(text: &str, file: &str) -> Vec<(String, String, usize)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(|rest| {
            let (code, place) = rest.split_once(" at ").expect("`CODE at LINE`");
            let (path, line) = place.rsplit_once(':').unwrap_or((file, place));
            let line = line.parse().expect("a line number");
            (code.to_string(), path.to_string(), line)
        })
        .collect()
}

#[test]
fn ok_fixtures_compile_without_diagnostics() {
    insta::glob!("../data/lang", "ok/*.plat", |path| {
        let outcome = check(path);
        assert!(
            outcome.diagnostics.is_empty() && !outcome.failed,
            "{} has diagnostics:\n{}",
            path.display(),
            outcome.rendered
        );
    });
}

/// The values `plat eval` prints for `path`, and the rendered diagnostics.
fn values(path: &Path) -> (String, String) {
    let path = path.to_path_buf();
    with_large_stack(move || {
        let project = Project::open(&path).expect("the fixture opens");
        let compilation = compile(&project);
        let sources = &compilation.front.loaded.sources;
        let json = plat::values::program_json(&compilation).expect("small values");
        (
            json.to_string(),
            render_human(sources, &compilation.diagnostics, Style::Plain),
        )
    })
}

/// A CRLF checkout of the ok fixtures (`ok/` with its `lib/`, every `\n` made `\r\n`)
/// evaluates to the same values as the LF one: multi-line strings keep no `\r`.
#[test]
fn line_endings_do_not_change_values() {
    let dir = TempDir::new("crlf");
    let ok = data().join("ok");
    let mut roots = Vec::new();
    for entry in walkdir::WalkDir::new(&ok) {
        let entry = entry.expect("walk the fixtures");
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(&ok).expect("below ok/");
        let text = std::fs::read_to_string(entry.path()).expect("read a fixture");
        assert!(!text.contains('\r'), "{} has a CR", relative.display());
        let copy = dir.write(
            &relative.display().to_string(),
            text.replace('\n', "\r\n").as_bytes(),
        );
        if relative.parent() == Some(Path::new("")) {
            roots.push((entry.path().to_path_buf(), copy));
        }
    }
    assert!(roots.len() > 5, "{roots:?}");
    for (lf, crlf) in roots {
        let (expected, rendered) = values(&lf);
        assert_eq!(rendered, "", "{}", lf.display());
        let (found, rendered) = values(&crlf);
        assert_eq!(rendered, "", "{} with CRLF line endings", lf.display());
        assert_eq!(found, expected, "{} with CRLF line endings", lf.display());
    }
}

#[test]
fn a_directory_loads_every_file_below_it() {
    let outcome = check(&data().join("project"));
    assert!(outcome.diagnostics.is_empty(), "{}", outcome.rendered);
}

#[test]
fn err_fixtures_report_their_codes() {
    insta::glob!("../data/lang", "err/*.plat", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = expectations(&text, &name);
        assert!(!expected.is_empty(), "{name} has no `# expect:` line");
        let outcome = check(path);
        for (code, file, line) in &expected {
            assert!(
                outcome
                    .diagnostics
                    .iter()
                    .any(|d| d.code == code && d.file == *file && d.line == *line),
                "{name}: expected {code} at {file}:{line}, found {:?}\n{}",
                outcome.diagnostics,
                outcome.rendered
            );
        }
        let only_warnings = expected.iter().all(|(code, ..)| {
            outcome
                .diagnostics
                .iter()
                .any(|d| d.code == code && d.severity == Severity::Warning)
        });
        assert_eq!(
            outcome.failed, !only_warnings,
            "{name}: exit code 1 expected exactly when an error is expected"
        );
        insta::assert_snapshot!(
            "err",
            format!(
                "----- SOURCE CODE\n{text}----- DIAGNOSTICS\n{}",
                outcome.rendered
            )
        );
    });
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("plat-lang-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, path: &str, bytes: &[u8]) -> PathBuf {
        let full = self.0.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).expect("parent");
        std::fs::write(&full, bytes).expect("write");
        full
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks `main.plat` of `dir`, asserts that exactly `code` is reported at `file:line`, and
/// snapshots the rendering as `snapshot`.
fn special(dir: &TempDir, snapshot: &str, code: &str, file: &str, line: usize) {
    let outcome = check(&dir.0.join("main.plat"));
    let codes: Vec<(&str, &str, usize)> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.file.as_str(), d.line))
        .collect();
    assert_eq!(codes, vec![(code, file, line)], "{}", outcome.rendered);
    assert!(outcome.failed);
    insta::assert_snapshot!(snapshot, outcome.rendered);
}

#[test]
fn invalid_utf8_is_reported_at_the_import() {
    let dir = TempDir::new("utf8");
    dir.write("main.plat", b"# Latin-1 text.\nimport \"latin1.plat\"\n");
    dir.write("latin1.plat", b"let name = \"caf\xe9\"\n");
    special(
        &dir,
        "invalid-utf8-import",
        "source::invalid-utf8",
        "main.plat",
        2,
    );
}

#[test]
fn a_nul_byte_is_reported_at_the_import() {
    let dir = TempDir::new("nul");
    dir.write("main.plat", b"import \"binary.plat\"\n");
    dir.write("binary.plat", b"let a = 1\0\n");
    special(&dir, "nul-byte-import", "source::nul-byte", "main.plat", 1);
}

#[test]
fn an_unreadable_root_file_is_blamed_on_itself() {
    let dir = TempDir::new("root");
    dir.write("main.plat", b"let name = \"caf\xe9\"\n");
    special(
        &dir,
        "invalid-utf8-root",
        "source::invalid-utf8",
        "main.plat",
        1,
    );
    dir.write("main.plat", b"let a = 1\0\n");
    let outcome = check(&dir.0.join("main.plat"));
    let codes: Vec<(&str, &str)> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.file.as_str()))
        .collect();
    assert_eq!(codes, vec![("source::nul-byte", "main.plat")]);
}

#[test]
fn importing_a_directory_is_refused() {
    let dir = TempDir::new("dir");
    dir.write("main.plat", b"import \"lib.plat\"\n");
    dir.write("lib.plat/inner.txt", b"not a source\n");
    special(
        &dir,
        "import-directory",
        "import::not-a-file",
        "main.plat",
        1,
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_may_not_leave_the_root() {
    let outside = TempDir::new("outside");
    let secret = outside.write("secret.plat", b"let secret_value = 1\n");
    let dir = TempDir::new("symlink");
    dir.write(
        "main.plat",
        b"# The link points outside.\nimport \"link.plat\"\n",
    );
    std::os::unix::fs::symlink(&secret, dir.0.join("link.plat")).expect("symlink");
    special(
        &dir,
        "symlink-outside-root",
        "import::outside-root",
        "main.plat",
        2,
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_the_root_is_followed() {
    let dir = TempDir::new("symlink-inside");
    dir.write(
        "main.plat",
        b"import \"link.plat\"\nassert value == 1, \"x\"\n",
    );
    let target = dir.write("lib/value.plat", b"let value = 1\n");
    std::os::unix::fs::symlink(&target, dir.0.join("link.plat")).expect("symlink");
    let outcome = check(&dir.0.join("main.plat"));
    assert!(outcome.diagnostics.is_empty(), "{}", outcome.rendered);
}

/// A source over 64 MiB (here a sparse file) is refused from its size, before it is read.
#[test]
fn a_source_over_64_mib_is_refused() {
    let dir = TempDir::new("source-size");
    let file = std::fs::File::create(dir.0.join("main.plat")).expect("create");
    file.set_len((64 << 20) + 1).expect("a sparse file");
    special(
        &dir,
        "limit-source-size",
        "limit::source-size",
        "main.plat",
        1,
    );
}

/// In a directory, a symbolic link named `.plat` is a source like an import of it: read when
/// it resolves inside the root, reported when it leaves it (it used to be skipped silently).
#[cfg(unix)]
#[test]
fn a_symlinked_source_in_a_directory_is_loaded_or_reported() {
    let outside = TempDir::new("linked-outside");
    let secret = outside.write("secret.plat", b"let secret_value = 1\n");
    let inside = TempDir::new("linked-inside");
    inside.write("main.plat", b"let a = 1\n");
    // Hidden directories are not searched: the file is loaded through the link only.
    let target = inside.write(".shared/check.plat", b"assert 1 == 2, \"loaded\"\n");
    std::os::unix::fs::symlink(&target, inside.0.join("inside.plat")).expect("symlink");
    let leaving = TempDir::new("linked-leaving");
    leaving.write("main.plat", b"let a = 1\n");
    std::os::unix::fs::symlink(&secret, leaving.0.join("outside.plat")).expect("symlink");
    for (dir, expected) in [
        (&inside, ("assert::failed", "inside.plat", 1)),
        (&leaving, ("import::outside-root", "outside.plat", 1)),
    ] {
        let outcome = check(&dir.0);
        let codes: Vec<(&str, &str, usize)> = outcome
            .diagnostics
            .iter()
            .map(|d| (d.code, d.file.as_str(), d.line))
            .collect();
        assert_eq!(codes, vec![expected], "{}", outcome.rendered);
    }
}

#[test]
fn a_diagnostic_beyond_column_65535_renders_without_a_snippet() {
    // miette panicked on this (regression: render.rs MAX_SNIPPET_COLUMN).
    let dir = TempDir::new("wide");
    let line = format!("let a = \"{}\" @\n", "x".repeat(70_000));
    dir.write("main.plat", line.as_bytes());
    let outcome = check(&dir.0.join("main.plat"));
    let codes: Vec<(&str, usize)> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line))
        .collect();
    assert_eq!(codes, vec![("parse::syntax", 1)]);
    assert!(
        outcome.rendered.contains("at main.plat:1:70012"),
        "{}",
        outcome.rendered
    );
}

/// Sources in memory, for scenarios that need a prelude or limits of their own.
struct Memory(BTreeMap<String, String>);

impl Loader for Memory {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        self.0.get(path).cloned().ok_or(LoadError::NotFound)
    }
}

/// Runs the front end on in-memory `files` (the root is `main.plat`) and returns the codes
/// with their lines, and the rendering.
fn front(prelude: &str, files: Vec<(String, String)>, limits: Limits) -> (Vec<Found>, String) {
    let prelude = prelude.to_string();
    with_large_stack(move || {
        let memory = Memory(files.into_iter().collect());
        let compiled =
            plat_lang::driver::compile(&prelude, &["main.plat".to_string()], &memory, limits);
        let sources = &compiled.loaded.sources;
        (
            located(sources, &compiled.diagnostics),
            render_human(sources, &compiled.diagnostics, Style::Plain),
        )
    })
}

fn codes(found: &[Found]) -> Vec<(&'static str, &str, usize)> {
    found
        .iter()
        .map(|d| (d.code, d.file.as_str(), d.line))
        .collect()
}

#[test]
fn a_kind_must_be_a_record_type() {
    let prelude = "## A kind whose type is not a record.\nkind port_number: int\n";
    let (found, rendered) = front(
        prelude,
        vec![("main.plat".into(), "let a = 1\n".into())],
        Limits::default(),
    );
    assert_eq!(codes(&found), vec![("type::kind", "<prelude>", 2)]);
    insta::assert_snapshot!("type-kind", rendered);
}

#[test]
fn the_number_of_files_is_limited() {
    let count = plat_lang::load::MAX_FILES;
    let mut main = String::new();
    let mut files = Vec::new();
    for i in 0..count {
        main.push_str(&format!("import \"f{i}.plat\" as f{i}\n"));
        files.push((format!("f{i}.plat"), format!("let v = {i}\n")));
    }
    files.push(("main.plat".into(), main));
    let (found, _) = front(PRELUDE, files, Limits::default());
    // The prelude and main.plat count: the import of f9998 is the first one refused.
    assert_eq!(
        codes(&found),
        vec![
            ("limit::files", "main.plat", count - 1),
            ("limit::files", "main.plat", count)
        ]
    );
}

#[test]
fn evaluation_steps_are_limited() {
    let limits = Limits {
        steps: 1_000,
        ..Limits::default()
    };
    let main = "let small = [for i in 0..10 => i]\nlet big = [for i in 0..10000 => i]\n";
    let (found, rendered) = front(PRELUDE, vec![("main.plat".into(), main.into())], limits);
    assert_eq!(codes(&found), vec![("limit::steps", "main.plat", 2)]);
    insta::assert_snapshot!("limit-steps", rendered);
}

#[test]
fn the_number_of_entities_is_limited() {
    let limits = Limits {
        entities: 3,
        ..Limits::default()
    };
    let main =
        "for i in 1..=5 {\n  vlan \"v-${i}\" { id = i, subnet = 10.0.0.0/8.subnet(24, i) }\n}\n";
    let (found, rendered) = front(PRELUDE, vec![("main.plat".into(), main.into())], limits);
    // Both refused entities share the span and message: reported once.
    assert_eq!(codes(&found), vec![("limit::entities", "main.plat", 2)]);
    insta::assert_snapshot!("limit-entities", rendered);
}

/// Codes exercised by the special tests above rather than by a fixture.
const SPECIAL_CODES: &[&str] = &[
    "source::invalid-utf8",
    "source::nul-byte",
    "import::not-a-file",
    "type::kind",
    "limit::files",
    "limit::source-size",
    "limit::steps",
    "limit::entities",
];

/// Every `"phase::what"` string literal in the front end's sources (`internal::` excepted).
fn codes_in_sources() -> BTreeSet<String> {
    const PHASES: &[&str] = &[
        "parse", "import", "source", "limit", "name", "type", "value", "eval", "assert",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("compiler/src/compile.rs")];
    let mut dirs = vec![root.join("lang/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("lang/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for literal in text.split('"').skip(1).step_by(2) {
            let Some((phase, what)) = literal.split_once("::") else {
                continue;
            };
            let kebab = !what.is_empty()
                && what
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if PHASES.contains(&phase) && kebab {
                codes.insert(literal.to_string());
            }
        }
    }
    codes
}

#[test]
fn every_code_is_covered() {
    let mut covered: BTreeSet<String> = SPECIAL_CODES.iter().map(|c| c.to_string()).collect();
    for entry in std::fs::read_dir(data().join("err")).expect("err fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "plat") {
            let text = std::fs::read_to_string(&path).expect("fixture");
            covered.extend(expectations(&text, "").into_iter().map(|(code, ..)| code));
        }
    }
    let codes = codes_in_sources();
    assert!(codes.len() > 40, "the scan found only {codes:?}");
    let missing: Vec<&String> = codes.difference(&covered).collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

//! End-to-end tests of the platform checks, through the library as `plat check` runs them.
//!
//! Fixtures are `.plat` platforms in `tests/data/checks/<code>/{ok,err}/`, each a single file or
//! a directory (a project of several files). A passing fixture must compile without any
//! diagnostic, not even a warning. A failing fixture states what it must report with
//! `# expect: CODE at LINE` comments (in the file the diagnostic is about); the test requires
//! exactly those diagnostics, at least one of them `check::<code>`, and snapshots the sources
//! with the rendered diagnostics (`checks__failing@<code>__err__<fixture>.snap`).
//! `tests/data/several-mistakes/` shows that independent mistakes are reported together.

use std::path::Path;

use plat::compile::{compile, Compilation};
use plat::render::{render_human, Style};
use plat::sources::Project;

/// Every passing fixture compiles without diagnostics.
#[test]
fn passing() {
    insta::glob!("../data/checks", "*/ok/*", |path| {
        let compilation = compile_fixture(path);
        let rendered = render(&compilation);
        assert!(
            compilation.diagnostics.is_empty(),
            "{} should pass without diagnostics, but reports:\n{rendered}",
            path.display()
        );
        assert!(compilation.model.is_some(), "{}: no model", path.display());
    });
}

/// Every failing fixture reports exactly what its `# expect:` comments say.
#[test]
fn failing() {
    insta::glob!("../data/checks", "*/err/*", |path| {
        let code = check_code(path);
        let expected = expected(path);
        assert!(
            expected.iter().any(|(_, _, c)| *c == code),
            "{}: a fixture under {code} must expect {code}",
            path.display()
        );
        insta::assert_snapshot!(check_fixture(path, &expected));
    });
}

/// Independent mistakes in one platform are all reported in one run.
#[test]
fn several_mistakes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/several-mistakes");
    let expected = expected(&path);
    let mut codes: Vec<&str> = expected.iter().map(|(_, _, code)| code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(
        codes.len() >= 5,
        "the fixture should make five kinds of mistakes"
    );
    insta::assert_snapshot!("several_mistakes", check_fixture(&path, &expected));
}

/// `(file, line, code)` of a diagnostic, the form of an expectation.
type Finding = (String, usize, String);

/// Compiles the fixture, compares its findings with `expected`, and returns the snapshot text.
fn check_fixture(path: &Path, expected: &[Finding]) -> String {
    let compilation = compile_fixture(path);
    let rendered = render(&compilation);
    let sources = &compilation.front.loaded.sources;
    let mut found: Vec<Finding> = compilation
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let file = sources.get(diagnostic.span.file);
            let (line, _) = file.line_col(diagnostic.span.start);
            (file.path.clone(), line, diagnostic.code.to_string())
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        expected,
        "{}: the diagnostics differ from the `# expect:` comments; they are:\n{rendered}",
        path.display()
    );
    snapshot(&compilation, &rendered)
}

fn compile_fixture(path: &Path) -> Compilation {
    let project = Project::open(path).unwrap_or_else(|error| panic!("{error}"));
    compile(&project)
}

fn render(compilation: &Compilation) -> String {
    render_human(
        &compilation.front.loaded.sources,
        &compilation.diagnostics,
        Style::Plain,
    )
}

/// The fixture's files with line numbers, then the diagnostics as `plat check` prints them.
fn snapshot(compilation: &Compilation, rendered: &str) -> String {
    let mut out = String::new();
    for (_, file) in compilation.front.loaded.sources.iter().skip(1) {
        out.push_str(&format!("----- SOURCE {}\n", file.path));
        for (index, line) in file.text.lines().enumerate() {
            out.push_str(format!("{:>3} | {line}", index + 1).trim_end());
            out.push('\n');
        }
    }
    out.push_str("----- DIAGNOSTICS\n");
    out.push_str(rendered);
    out
}

/// The check a fixture belongs to: `check::<directory two levels up>`.
fn check_code(path: &Path) -> String {
    let code_dir = path
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .expect("fixture under <code>/err/");
    format!("check::{}", code_dir.to_string_lossy())
}

/// The `# expect: CODE at LINE` comments of every `.plat` file of a fixture, sorted.
fn expected(path: &Path) -> Vec<Finding> {
    let (root, files) = if path.is_dir() {
        (path.to_path_buf(), plat_files(path))
    } else {
        let root = path.parent().expect("a fixture's directory").to_path_buf();
        let name = path.file_name().expect("a file name").to_string_lossy();
        (root, vec![name.into_owned()])
    };
    let mut expected = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(root.join(&file)).expect("readable fixture");
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("# expect: ") else {
                continue;
            };
            let (code, at) = rest.split_once(" at ").expect("`# expect: CODE at LINE`");
            let at = at.trim().parse().expect("a line number");
            expected.push((file.clone(), at, code.trim().to_string()));
        }
    }
    expected.sort();
    expected
}

/// Root-relative `/`-separated paths of the `.plat` files under `dir`, as the compiler names
/// them.
fn plat_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("readable fixture directory");
        if entry.path().extension().is_some_and(|e| e == "plat") {
            let relative = entry.path().strip_prefix(dir).expect("below the fixture");
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
    files
}

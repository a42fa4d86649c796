//! The formatter's properties (`plat_lang::format`): over every `.plat` file in the
//! repository and over programs generated from the grammar with a fixed seed, formatting
//! keeps the syntax tree (spans aside), keeps every comment, and is idempotent.

use std::path::{Path, PathBuf};

use plat_lang::format::{check_round_trip, format};
use plat_lang::span::FileId;
use plat_lang::syntax::parser::parse;
use plat_tests::generate::Generator;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// Every `.plat` file of the repository outside target directories.
fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(repo())
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || name == "target")
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "plat"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

#[test]
fn fixtures_round_trip() {
    let files = fixtures();
    assert!(files.len() > 20, "found only {} fixtures", files.len());
    let mut formatted = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if let Err(failure) = check_round_trip(&text) {
            panic!("{}: {failure}", path.display());
        }
        formatted += usize::from(format(&text).is_ok());
    }
    assert!(formatted > 20, "only {formatted} fixtures parse");
}

#[test]
fn platform_is_formatted() {
    for path in fixtures() {
        let relative = path.strip_prefix(repo()).expect("inside the repository");
        if !relative.starts_with("platform") && !relative.starts_with("tests/data/platforms") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let formatted = format(&text).expect("the platform parses");
        assert!(
            formatted == text,
            "{} is not formatted: run `plat fmt`",
            relative.display()
        );
    }
}

#[test]
fn generated_programs_round_trip() {
    let mut generator = Generator::new(0x5eed_1234_abcd_0001);
    for round in 0..3000 {
        let program = generator.program();
        let (_, diagnostics) = parse(FileId(0), &program);
        assert!(
            diagnostics.is_empty(),
            "generated program {round} does not parse: {diagnostics:#?}\n{program}"
        );
        if let Err(failure) = check_round_trip(&program) {
            panic!("generated program {round}:\n{program}\n{failure}");
        }
    }
}

#[test]
fn fmt_check_fails_until_fmt_writes() {
    use clap::Parser;
    use plat::cli::{run, Cli};
    use std::process::ExitCode;

    let dir = std::env::temp_dir().join(format!("plat-fmt-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("temporary directory");
    let file = dir.join("sub/a.plat");
    std::fs::write(&file, "let a = {x=1}\n").expect("write");
    std::fs::write(dir.join("broken.plat"), "let a = \n").expect("write");
    let plat = |args: &[&str]| {
        let cli = Cli::try_parse_from(std::iter::once("plat").chain(args.iter().copied()))
            .expect("valid arguments");
        run(cli)
    };
    let path = dir.display().to_string();
    assert_eq!(plat(&["fmt", "--check", &path]), ExitCode::from(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "let a = {x=1}\n");
    assert_eq!(plat(&["fmt", &path]), ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "let a = { x = 1 }\n"
    );
    assert_eq!(plat(&["fmt", "--check", &path]), ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.plat")).unwrap(),
        "let a = \n",
        "a file with syntax errors is left alone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! The acceptance property of the command line: no input makes `plat check`, `plat build` or
//! `plat fmt` panic, run for more than 10 seconds, or exit with a code other than 0, 1 or 2.
//! Inputs: every crashing input the fuzz targets found (`tests/data/lang/regressions/`), odd
//! files (empty, not UTF-8, a NUL byte, no `.plat` file at all) and generated programs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use plat::cli::{run, Cli};
use plat::compile::with_large_stack;
use plat_tests::generate::Generator;

const TIME_LIMIT: Duration = Duration::from_secs(10);

/// A fresh, empty directory for one case.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plat-robustness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Runs `plat ARGS` in-process on a large stack; fails on a bad exit code or a slow run.
fn plat(args: &[&str]) {
    let cli = Cli::try_parse_from(std::iter::once("plat").chain(args.iter().copied()))
        .expect("valid arguments");
    let started = Instant::now();
    let code = with_large_stack(move || run(cli));
    let elapsed = started.elapsed();
    assert!(
        [ExitCode::SUCCESS, ExitCode::from(1), ExitCode::from(2)].contains(&code),
        "plat {args:?} exited with {code:?}"
    );
    assert!(elapsed < TIME_LIMIT, "plat {args:?} took {elapsed:?}");
}

/// `plat check`, `plat build` and `plat fmt` (check, then write) on the directory `dir`.
fn every_command(dir: &Path) {
    let dir_text = dir.display().to_string();
    let out = dir.with_extension("out").display().to_string();
    plat(&["check", &dir_text]);
    plat(&["check", "--format", "json", &dir_text]);
    plat(&["build", &dir_text, "--out", &out]);
    plat(&["fmt", "--check", &dir_text]);
    plat(&["fmt", &dir_text]);
    plat(&["check", &dir_text]);
    let _ = std::fs::remove_dir_all(&out);
}

fn case(name: &str, bytes: &[u8]) {
    let dir = scratch(name);
    std::fs::write(dir.join("main.plat"), bytes).expect("write the case");
    every_command(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lang/regressions");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/lang/regressions")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "plat"))
        .collect();
    entries.sort();
    for path in entries {
        let bytes = std::fs::read(&path).expect("readable");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if let Err(failure) = plat_lang::format::check_round_trip(text) {
                panic!("{}: {failure}", path.display());
            }
        }
        let name = path
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy());
        case(&format!("regression-{name}"), &bytes);
    }
}

#[test]
fn odd_files() {
    case("empty", b"");
    case("blank", b"\n\n  \n");
    case("not-utf8", b"let a = \"\xff\"\n");
    case("nul", b"let a = 1\0\n");
    case("bom", "\u{feff}let a = 1\n".as_bytes());
    case("crlf", b"let a = 1\r\nlet b = a\r\n");
    case(
        "deep",
        format!("let a = {}1{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes(),
    );
    case(
        "long-sum",
        format!("let a = 0{}", " + 1".repeat(20_000)).as_bytes(),
    );
    let fields: Vec<String> = (0..20_000).map(|i| format!("f{i} = {i}")).collect();
    case(
        "wide-record",
        format!("let a = {{\n{}\n}}\n", fields.join("\n")).as_bytes(),
    );
    case(
        "long-chain",
        format!("let a = b{}\n", ".c".repeat(20_000)).as_bytes(),
    );
    let empty = scratch("no-files");
    every_command(&empty);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn generated_programs() {
    let mut generator = Generator::new(0x0dd_ba11);
    for round in 0..40 {
        case(
            &format!("generated-{round}"),
            generator.program().as_bytes(),
        );
    }
}

/// Work proportional to a size (copying strings and lists, comparing them, building ranges)
/// counts as evaluation steps, so the step limit bounds the time of a run.
#[test]
fn big_copies_and_comparisons_count_as_steps() {
    use plat_lang::eval::Limits;
    use plat_lang::load::MemLoader;

    let programs = [
        "let s = \"${\"0123456789abcdef\"}\"\nlet t = s + s + s + s + s + s + s + s + s + s + s + s + s + s + s + s\nlet x = [for i in 0..200 => (t + t + t + t + t + t + t + t).len()]\n",
        "let r = range(0, 2000)\nlet x = [for i in 0..100 => r == range(0, 2000)]\n",
        "let r = range(0, 2000)\nlet x = [for i in 0..100 => r.contains(-1)]\n",
        "let x = [for i in 0..100 => range(0, 2000).len()]\n",
        "let r = range(0, 2000)\nlet x = [for i in 0..100 => (r + r).len()]\n",
    ];
    for program in programs {
        let loader = MemLoader::single("main.plat", program);
        let limits = Limits {
            steps: 100_000,
            ..Limits::default()
        };
        let compiled = plat_lang::driver::compile(
            plat::compile::PRELUDE,
            &["main.plat".into()],
            &loader,
            limits,
        );
        let codes: Vec<&str> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"limit::steps"), "{program}: {codes:?}");
    }
}

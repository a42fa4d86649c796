//! Inputs that are small but enormous when expanded, or large enough to make a quadratic
//! path take minutes: each runs the real `plat` binary in a subprocess with its address space
//! (4 GiB) and CPU time (60 s) limited, so that a regression fails the test instead of taking
//! the machine or the test runner down. Nothing here measures time: the limits only guard.

use std::path::Path;
use std::process::Command;

/// What a run of plat produced.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `plat ARGS` in `dir` under `ulimit -v` and `ulimit -t`.
fn plat(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 && ulimit -t 60 && exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_plat"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run plat");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn project(source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("main.plat"), source).expect("write");
    dir
}

/// `let NAME0 = BASE` and forty lets of records whose two fields hold the previous one: 41
/// small records, 2^40 of them written out.
fn shared(name: &str, annotation: &str, base: &str) -> String {
    let mut text = format!("let {name}0{annotation} = {base}\n");
    for i in 1..=40 {
        text.push_str(&format!(
            "let {name}{i}{annotation} = {{ l = {name}{}, r = {name}{} }}\n",
            i - 1,
            i - 1
        ));
    }
    text
}

const CLUSTER: &str = r#"
cluster main {
  version      = "1.31.4"
  endpoint     = 10.20.0.5
  pod_cidr     = 10.244.0.0/16
  service_cidr = 10.96.0.0/12
}
"#;

/// A type error about a record type that shares its parts prints a bounded message (it used
/// to grow to 3.3 GB rendering the type); joining and comparing such types stays linear.
#[test]
fn types_that_share_their_parts_are_shown_bounded() {
    let mut source = shared("r", "", "{ a = 1 }");
    // The same shape built twice: joined (`if`) without a walk of 2^40 fields.
    source.push_str(&shared("s", "", "{ a = 2 }"));
    // A different leaf: the join is made field by field, sharing as the operands do.
    source.push_str(&shared("t", "", "{ a = \"x\" }"));
    // Unions that share their members.
    source.push_str("let c = true\nlet u0 = { a = 1 }\n");
    for i in 1..=40 {
        source.push_str(&format!(
            "let u{i} = if c then {{ l = u{} }} else {{ r = u{} }}\n",
            i - 1,
            i - 1
        ));
    }
    source.push_str("let same = if c then r40 else s40\n");
    source.push_str("let joined = [r40, t40]\n");
    source.push_str("let x: int = r40\nlet y: int = joined\nlet z: int = u40\n");
    let dir = project(&source);
    let run = plat(dir.path(), &["check", "."]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("type::mismatch").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains('…'), "{}", run.stderr);
    assert!(run.stderr.len() < 40_000, "{} bytes", run.stderr.len());
}

/// Coercing a value that shares its parts to a declared type that shares its parts (named
/// record types, each with two fields of the previous one, forty times over) coerces each
/// shared part once (it used to coerce 2^40 records).
#[test]
fn coercing_values_that_share_their_parts_is_linear() {
    let mut source = String::from("type T0 = { a: int(0..=10), b: int = 2 }\n");
    for i in 1..=40 {
        source.push_str(&format!("type T{i} = {{ l: T{}, r: T{} }}\n", i - 1, i - 1));
    }
    source.push_str("let v0: T0 = { a = 1 }\n");
    for i in 1..=40 {
        source.push_str(&format!(
            "let v{i}: T{i} = {{ l = v{}, r = v{} }}\n",
            i - 1,
            i - 1
        ));
    }
    source.push_str(&shared("r", "", "{ a = 3 }"));
    source.push_str("let again: T40 = v40\nlet inferred: T40 = r40\n");
    // The leaves, forty fields down: given, and filled in from the default.
    source.push_str(&format!(
        "assert again{}.a == 1 && inferred{}.b == 2, \"coerced\"\n",
        ".l".repeat(40),
        ".r".repeat(40)
    ));
    let dir = project(&source);
    let run = plat(dir.path(), &["check", "."]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

/// JSON data that shares its parts is refused before it is made: in a manifest's body
/// (`plat check`, `plat build`) and in what `plat eval` prints (it used to reach 5.6 GB).
#[test]
fn values_that_share_their_parts_are_refused_written_out() {
    let lets = shared("j", ": json", "{ a = 1 }");
    let manifest = format!(
        "{CLUSTER}{lets}\nmanifest big {{\n  cluster = cluster.main\n  body    = {{ apiVersion = \"v1\", kind = \"ConfigMap\", data = j40 }}\n}}\n"
    );
    let dir = project(&manifest);
    for args in [&["check", "."][..], &["build", ".", "--out", "out"]] {
        let run = plat(dir.path(), args);
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("limit::value-size"), "{}", run.stderr);
        assert!(run.stderr.len() < 10_000, "{} bytes", run.stderr.len());
    }
    assert!(!dir.path().join("out").exists());

    let dir = project(&lets);
    let run = plat(dir.path(), &["eval", "."]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("limit::value-size"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let run = plat(dir.path(), &["eval", ".", "--expr", "[j40]"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("limit::value-size"), "{}", run.stderr);
    // A value that fits is printed whole.
    let run = plat(dir.path(), &["eval", ".", "--expr", "j2"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.matches("\"a\": 1").count(), 4, "{}", run.stdout);
}

/// 50,000 errors: the human report draws the first 100 and counts the rest (rendering every
/// one took minutes); the JSON report lists all of them.
#[test]
fn a_human_report_draws_at_most_100_diagnostics() {
    let dir = project(&"let a = 1\n".repeat(50_000));
    let run = plat(dir.path(), &["check", "."]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stderr.matches("name::duplicate").count(), 100);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "… and 49,899 more not shown (49,999 errors in all; `--format json` lists every one)"
    );
    let run = plat(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(run.code, Some(1));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["diagnostics"].as_array().map(Vec::len), Some(49_999));
}

/// A source over 64 MiB is refused from its size, before it is read (here a sparse file).
#[test]
fn a_source_over_64_mib_is_refused_unread() {
    let dir = project("let a = 1\n");
    let big = std::fs::File::create(dir.path().join("big.plat")).expect("create");
    big.set_len((64 << 20) + 1).expect("a sparse file");
    let run = plat(dir.path(), &["check", "."]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("limit::source-size") && run.stderr.contains("big.plat"),
        "{}",
        run.stderr
    );
}

//! Robustness of the front end: any input yields diagnostics or values, never a panic, and
//! every run ends (limits on nesting, steps, list and string sizes).
//!
//! The inputs are deterministic: a xorshift generator with a constant seed mutates the
//! fixtures of `tests/data/lang` (byte flips, deletions, duplicated slices, inserted
//! tokens), strings random token soup from the language's vocabulary, and adds fixed
//! pathological inputs (10,000 open brackets, huge ranges, long strings). Each input is
//! written to a temporary directory and checked through `plat::compile::compile`, as
//! `plat check` does. An input that panicked is saved and printed; keep it as a regression
//! fixture under `tests/data/lang/err/` once fixed.

#![allow(clippy::print_stdout)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use plat::compile::{compile, with_large_stack};
use plat::render::{render_human, render_json, Style};
use plat::sources::Project;

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Words and punctuation of the language, and literals of every kind.
const VOCABULARY: &[&str] = &[
    "let",
    "type",
    "fn",
    "import",
    "as",
    "for",
    "in",
    "if",
    "then",
    "else",
    "assert",
    "with",
    "true",
    "false",
    "none",
    "kind",
    "single",
    "vlan",
    "host",
    "vm",
    "site",
    "rule",
    "x",
    "y",
    "cp-1",
    "a-b",
    "int",
    "string",
    "size",
    "port",
    "cidr",
    "ip",
    "mac",
    "json",
    "secret",
    "int(1..20)",
    "range",
    "join",
    "secret(\"s\")",
    "len",
    "host",
    "contains",
    "subnet",
    "keys",
    "..=",
    "..",
    "...",
    "->",
    "=>",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "?",
    "|",
    "\n",
    " ",
    "#",
    "##",
    "\"",
    "\"\"\"",
    "${",
    "\\",
    "0",
    "1",
    "-1",
    "42",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1_000",
    "8GiB",
    "1GB",
    "0B",
    "8192PiB",
    "500ms",
    "5min",
    "7d",
    "10.20.0.1",
    "10.20.0.0/24",
    "10.0.0.1/24",
    "256.0.0.1",
    "fd00::/64",
    "fd00::1",
    "::",
    "bc:24:11:0a:00:01",
    "\"text\"",
    "\"a ${x} b\"",
    "\"\\q\"",
    "\"\\u{41}\"",
    "@",
    "é",
    "\t",
    "\r\n",
    "0..100000000000",
    "0..=10",
    "1 / 0",
];

/// Pathological inputs that stress one limit each.
fn fixed_inputs() -> Vec<Vec<u8>> {
    let deep = |open: &str, close: &str, n: usize| {
        format!("let a = {}1{}\n", open.repeat(n), close.repeat(n)).into_bytes()
    };
    let mut inputs = vec![
        format!("let a = {}", "[".repeat(10_000)).into_bytes(),
        format!("let a = {}", "(".repeat(10_000)).into_bytes(),
        format!("let a = {}", "{ a = ".repeat(10_000)).into_bytes(),
        format!("let a = {}", "\"${".repeat(10_000)).into_bytes(),
        format!("let a = {}1", "-".repeat(10_000)).into_bytes(),
        format!("let a = {}true", "!".repeat(10_000)).into_bytes(),
        format!("type T = {}int", "[".repeat(10_000)).into_bytes(),
        format!("type T = int{}", "?".repeat(10_000)).into_bytes(),
        format!("let a = 1{}", " with { a = 1 }".repeat(10_000)).into_bytes(),
        format!("let a = {}1", "if true then 1 else ".repeat(10_000)).into_bytes(),
        format!("let a = {}1", "let x = 1 in ".repeat(10_000)).into_bytes(),
        format!("let a = 1{}\n", " + 1".repeat(10_000)).into_bytes(),
        format!("let a = x{}\n", ".y".repeat(10_000)).into_bytes(),
        format!("let a = [1]{}\n", "[0]".repeat(10_000)).into_bytes(),
        format!("for i in [1] {{\n{}", "for j in [1] {\n".repeat(10_000)).into_bytes(),
        deep("[", "]", 127),
        deep("[", "]", 129),
        deep("(", ")", 5_000),
        // Chains built in loops, far deeper than any phase may recurse.
        format!("let a = 1{}\n", " + 1".repeat(100_000)).into_bytes(),
        format!("let a = x{}\n", ".y".repeat(100_000)).into_bytes(),
        format!("let a = 1{}\n", " with { a = 1 }".repeat(100_000)).into_bytes(),
        format!("type T = int{}\n", "?".repeat(100_000)).into_bytes(),
        "for i in [1] {\n".repeat(100_000).into_bytes(),
        // Errors beyond column 65535 of one line (miette cannot pad that far).
        format!("let a = \"{}\" + 1 @\n", "x".repeat(70_000)).into_bytes(),
        b"let a = 0..100000000000\n".to_vec(),
        b"let a = -9223372036854775808..=9223372036854775807\n".to_vec(),
        b"let a = range(0, 9223372036854775807)\n".to_vec(),
        b"let a = [for i in 0..100000000000 => i]\n".to_vec(),
        b"let a = (0..1000000).len()\n".to_vec(),
        b"for i in 0..100000000000 { vlan \"v${i}\" { id = 1, subnet = 10.0.0.0/24 } }\n".to_vec(),
        format!("let a = \"{}\"\n", "x".repeat(1 << 20)).into_bytes(),
        format!("let a = \"\"\"\n{}\"\"\"\n", "  line ${1}\n".repeat(10_000)).into_bytes(),
        format!("let {} = 1\n", "a".repeat(100_000)).into_bytes(),
        format!("let a = {}\n", "9".repeat(100_000)).into_bytes(),
        format!("let a = \"{}\"\n", "\\u{41}".repeat(50_000)).into_bytes(),
        format!("let a = [{}]\n", "1, ".repeat(20_000)).into_bytes(),
        format!("let a = {{ {} }}\n", (0..5_000).map(|i| format!("f{i} = {i}")).collect::<Vec<_>>().join(", ")).into_bytes(),
        (0..300).map(|i| format!("let v{i} = v{}\n", i + 1)).collect::<String>().into_bytes(),
        (0..300).map(|i| format!("fn f{i}(x: int) -> int = f{}(x)\n", i + 1)).collect::<String>().into_bytes(),
        b"fn f(x: int) -> int = x\nlet a = f(f(f(f(f(f(f(f(1))))))))\n".to_vec(),
        b"let a = \"\\".to_vec(),
        b"let a = \"\"\"".to_vec(),
        b"let a = \"${".to_vec(),
        b"let a = \"${\"${\"${".to_vec(),
        b"}}}}}}".to_vec(),
        b"\"\"\"\n  \\x\n\"\"\"".to_vec(),
        b"let a = \"\"\"\n\t \t${1}\n   \"\"\"".to_vec(),
        b"let a = fd00::/64.size\nlet b = ::/0.size\nlet c = ::/0.subnet(128, 340282366920938463463374607431768211455)\n".to_vec(),
        b"let a = 0.0.0.0/0.subnet(32, 4294967295)\nlet b = ::/0.host(9223372036854775807)\n".to_vec(),
        b"let a = 8GiB * 9223372036854775807\nlet b = 1d * -9223372036854775808\n".to_vec(),
        "let a = \"é\\é\"\nlet b = \"\\u{d800}\"\n".as_bytes().to_vec(),
        b"\xff\xfe\x00let".to_vec(),
        Vec::new(),
    ];
    // The same nesting through every bracket kind at once.
    inputs.push(format!("let a = {}", "[({".repeat(3_000)).into_bytes());
    inputs
}

/// One to four random edits of `input`.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(5) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] = match rng.below(3) {
                    0 => rng.next() as u8,
                    1 => *rng.pick(b"()[]{}\"$\\:.,=-+*/%!<>|?#\n 0189az_"),
                    _ => out[at] ^ (1 << rng.below(8)),
                };
            }
            1 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                out.drain(start..end);
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let slice = out[start..end].to_vec();
                let at = rng.below(out.len() + 1);
                let copies = 1 + rng.below(3);
                for _ in 0..copies {
                    out.splice(at..at, slice.iter().copied());
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let word = rng.pick(VOCABULARY).as_bytes();
                out.splice(at..at, word.iter().copied());
            }
        }
    }
    out
}

/// 1 to 60 random words of the vocabulary.
fn soup(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..=rng.below(60) {
        out.extend_from_slice(rng.pick(VOCABULARY).as_bytes());
        if rng.below(3) == 0 {
            out.push(b' ');
        }
    }
    out
}

/// The fixture files, and the library files some of them import (copied next to the input).
fn fixtures(data: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![data.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("fixture dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "plat") {
                let bytes = std::fs::read(&path).expect("fixture");
                out.push((path.strip_prefix(data).unwrap().to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// Checks `bytes` as `input.plat` in `dir` and renders the diagnostics both ways.
fn check(dir: &Path, bytes: &[u8]) {
    let path = dir.join("input.plat");
    std::fs::write(&path, bytes).expect("write input");
    let project = Project::open(&path).expect("a .plat file opens");
    let compilation = compile(&project);
    let sources = &compilation.front.loaded.sources;
    render_human(sources, &compilation.diagnostics, Style::Plain);
    render_json(sources, &compilation.diagnostics);
}

#[test]
fn no_input_makes_the_front_end_panic() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/lang");
    let dir = std::env::temp_dir().join(format!("plat-robustness-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Imports of the fixtures resolve to the same library files.
    for (relative, bytes) in fixtures(&data) {
        if relative.components().count() > 2 {
            let target = dir.join(relative.iter().skip(1).collect::<PathBuf>());
            std::fs::create_dir_all(target.parent().unwrap()).expect("lib dir");
            std::fs::write(target, bytes).expect("lib file");
        }
    }
    let work = dir.clone();
    let (count, failures) = with_large_stack(move || {
        let seeds = fixtures(&data);
        let mut rng = Rng(0x5eed_1e55_c0ff_ee00);
        let mut inputs = fixed_inputs();
        for _ in 0..1_250 {
            let (_, seed) = rng.pick(&seeds);
            inputs.push(mutate(&mut rng, seed));
        }
        for _ in 0..1_250 {
            inputs.push(soup(&mut rng));
        }
        let mut failures = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            let result = catch_unwind(AssertUnwindSafe(|| check(&work, input)));
            if result.is_err() {
                let saved = work.join(format!("panic-{index}.plat"));
                std::fs::write(&saved, input).expect("save input");
                failures.push(format!(
                    "{}: {:?}",
                    saved.display(),
                    String::from_utf8_lossy(&input[..input.len().min(300)])
                ));
            }
        }
        (inputs.len(), failures)
    });
    println!("robustness: {count} inputs checked");
    assert!(
        failures.is_empty(),
        "{} inputs panicked (kept in {}):\n{}",
        failures.len(),
        dir.display(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! `cargo bench -p plat --bench pipeline`: the compiler's stages, timed one by one, over
//! generated platforms of growing size (see [`generate`]). Prints a Markdown table (the one in
//! docs/performance.md).
//!
//! Each stage runs on the previous stage's output, so the stage times add up to a build:
//! parse (lexing and parsing every file, sources in memory), names+types, evaluation,
//! lowering to the model, the platform checks, each emitter alone, all emitters as the build
//! runs them (`emit::all`: in parallel, plus `secrets.required`), then writing into an empty
//! out/ and a no-op rebuild (what `plat build` does when nothing changed). Every stage is
//! run `--runs` times (default 3; 1 above 50,000 apps) and the fastest run is shown.
//!
//! Options (after `--`):
//! - `--apps 1000,10000,100000`: the sizes (applications); each platform also has
//!   apps / `--vm-ratio` VMs (default 10; 0 for applications only).
//! - `--runs N`: repetitions per stage.
//! - `--write APPS VMS DIR`: only write the generated platform's sources into DIR (for timing
//!   the `plat` binary, e.g. with `/usr/bin/time -v plat build DIR --out OUT`).

#![allow(clippy::print_stdout)]

mod generate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plat::compile::{with_large_stack, PRELUDE};
use plat::emit::{self, Files};
use plat_lang::eval::Limits;
use plat_lang::load::{LoadError, Loader};

use generate::Shape;

/// Sources in memory, so that parsing is timed without the disk.
struct MemoryLoader(BTreeMap<String, String>);

impl Loader for MemoryLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        self.0.get(path).cloned().ok_or(LoadError::NotFound)
    }
}

struct Options {
    apps: Vec<usize>,
    vm_ratio: usize,
    runs: Option<usize>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--write") {
        let number = |i: usize| args.get(at + i).and_then(|a| a.parse().ok());
        let (Some(apps), Some(vms), Some(dir)) = (number(1), number(2), args.get(at + 3)) else {
            panic!("usage: --write APPS VMS DIR");
        };
        write_sources(Shape { apps, vms }, Path::new(dir));
        return;
    }
    let options = parse_options(&args);
    println!("| apps | VMs | sources | stage | time (ms) |");
    println!("|---:|---:|---:|---|---:|");
    for &apps in &options.apps {
        let vms = if options.vm_ratio == 0 {
            0
        } else {
            apps / options.vm_ratio
        };
        let runs = options.runs.unwrap_or(if apps > 50_000 { 1 } else { 3 });
        let shape = Shape { apps, vms };
        let rows = with_large_stack(move || measure(shape, runs));
        for (stage, time) in rows {
            println!(
                "| {apps} | {vms} | {} | {stage} | {:.1} |",
                size_label(shape),
                time.as_secs_f64() * 1000.0
            );
        }
    }
}

fn parse_options(args: &[String]) -> Options {
    let mut options = Options {
        apps: vec![1_000, 10_000, 100_000],
        vm_ratio: 10,
        runs: None,
    };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1);
        match args[i].as_str() {
            "--apps" => {
                options.apps = value
                    .expect("--apps 1000,10000")
                    .split(',')
                    .map(|n| n.parse().expect("--apps: numbers"))
                    .collect();
                i += 1;
            }
            "--vm-ratio" => {
                options.vm_ratio = value.and_then(|v| v.parse().ok()).expect("--vm-ratio N");
                i += 1;
            }
            "--runs" => {
                options.runs = Some(value.and_then(|v| v.parse().ok()).expect("--runs N"));
                i += 1;
            }
            _ => {} // `--bench` (added by cargo) and anything else
        }
        i += 1;
    }
    options
}

fn size_label(shape: Shape) -> String {
    let bytes: usize = generate::platform(shape).iter().map(|(_, t)| t.len()).sum();
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn write_sources(shape: Shape, dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the directory");
    for (path, text) in generate::platform(shape) {
        std::fs::write(dir.join(path), text).expect("write a source");
    }
}

/// Runs `f` `runs` times and returns its last result with the fastest time.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut fastest = Duration::MAX;
    let mut result = None;
    for _ in 0..runs.max(1) {
        drop(result.take());
        let started = Instant::now();
        let value = f();
        fastest = fastest.min(started.elapsed());
        result = Some(value);
    }
    (result.expect("ran at least once"), fastest)
}

/// Every stage's time for one platform.
fn measure(shape: Shape, runs: usize) -> Vec<(&'static str, Duration)> {
    let sources: BTreeMap<String, String> = generate::platform(shape).into_iter().collect();
    let roots: Vec<String> = sources.keys().cloned().collect();
    let loader = MemoryLoader(sources);
    let mut times = Vec::new();

    let ((loaded, load_diagnostics), t) =
        best(runs, || plat_lang::load::load(PRELUDE, &roots, &loader));
    times.push(("parse", t));
    let ((env, type_diagnostics), t) = best(runs, || plat_lang::types::check(&loaded));
    times.push(("names+types", t));
    let ((program, eval_diagnostics), t) = best(runs, || {
        plat_lang::eval::eval(&loaded, &env, Limits::default())
    });
    times.push(("evaluation", t));
    let ((model, lower_diagnostics), t) = best(runs, || plat::model::lower::lower(&program));
    times.push(("lowering", t));
    let (check_diagnostics, t) = best(runs, || plat::check::run(&model));
    times.push(("checks", t));
    let errors: Vec<_> = [
        load_diagnostics,
        type_diagnostics,
        eval_diagnostics,
        lower_diagnostics,
        check_diagnostics,
    ]
    .into_iter()
    .flatten()
    .filter(|d| d.is_error())
    .collect();
    assert!(
        errors.is_empty(),
        "the generated platform has errors: {errors:#?}"
    );

    let emitters: [(&'static str, fn(&plat::model::Model) -> Files); 4] = [
        ("emit proxmox", emit::proxmox::emit),
        ("emit pfsense", emit::pfsense::emit),
        ("emit cloud-init", emit::cloud_init::emit),
        ("emit kubernetes", emit::k8s::emit),
    ];
    for (name, emitter) in emitters {
        let (_, t) = best(runs, || emitter(&model));
        times.push((name, t));
    }
    let (files, t) = best(runs, || emit::all(&model));
    times.push(("emit all", t));

    let sources_hash = "bench".to_string();
    let out = scratch_dir();
    let (_, t) = best(runs, || {
        let _ = std::fs::remove_dir_all(&out);
        let lock = plat::out::Lock::new(sources_hash.clone(), &files);
        let plan = plat::out::plan(&out, &files, &lock).expect("plan");
        plat::out::write(&out, &files, &plan, &lock).expect("write");
    });
    times.push(("write (empty out/)", t));
    let (_, t) = best(runs, || {
        let lock = plat::out::Lock::new(sources_hash.clone(), &files);
        let plan = plat::out::plan(&out, &files, &lock).expect("plan");
        assert!(plan.is_clean());
    });
    times.push(("write (unchanged out/)", t));
    let _ = std::fs::remove_dir_all(&out);

    let total: Duration = times
        .iter()
        .filter(|(stage, _)| !stage.starts_with("emit ") || *stage == "emit all")
        .filter(|(stage, _)| *stage != "write (unchanged out/)")
        .map(|(_, t)| *t)
        .sum();
    times.push(("total (build into empty out/)", total));
    let bytes: usize = files.values().map(Vec::len).sum();
    eprintln!(
        "{} apps, {} VMs: {} files, {:.1} MB",
        shape.apps,
        shape.vms,
        files.len(),
        bytes as f64 / 1e6
    );
    times
}

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("plat-bench-{}", std::process::id()))
}

//! `cargo bench -p plat --bench pipeline`: the compiler's stages, timed one by one, over
//! generated platforms of growing size (see [`generate`]). Prints a Markdown table (the one in
//! docs/performance.md).
//!
//! Each stage runs on the previous stage's output, so the stage times add up to a build:
//! parse (lexing and parsing every file, sources in memory), names+types, evaluation,
//! lowering to the model, the platform checks, each emitter alone, all emitters as the build
//! runs them (`emit::all`: in parallel, plus `secrets.required`), then writing those files
//! into an empty out/ (as a rebuild writes), emitting and writing together as a first build
//! does (`build::outputs_into` an `out::NewTree`), and a no-op rebuild (what `plat build` does
//! when nothing changed: read and hash the sources and every owned file of out/). The total
//! is a first build: the front end, lowering, checks, and the streamed stage. Every stage is
//! run `--runs` times (default 3; 1 above 50,000 apps) and the fastest run is shown. Run
//! without `--bench` (as `cargo test --all-targets` does), the default is 100 apps, once.
//!
//! Options (after `--`):
//! - `--apps 1000,10000,100000`: the sizes (applications); each platform also has
//!   apps / `--vm-ratio` VMs (default 10; 0 for applications only).
//! - `--runs N`: repetitions per stage.
//! - `--write APPS VMS DIR`: only write the generated platform's sources into DIR (for timing
//!   the `plat` binary, e.g. with `/usr/bin/time -v plat build DIR --out OUT`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod generate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plat::compile::{with_large_stack, PRELUDE};
use plat::emit::{self, Files};
use plat_lang::eval::Limits;
use plat_lang::load::{LoadError, Loader};

use generate::Shape;

// The allocator of the `plat` binary (compiler/src/main.rs), so the stages cost what they
// cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    println!("| apps | VMs | sources | stage | wall (ms) | CPU (ms) |");
    println!("|---:|---:|---:|---|---:|---:|");
    for &apps in &options.apps {
        let vms = apps.checked_div(options.vm_ratio).unwrap_or(0);
        let runs = options.runs.unwrap_or(if apps > 50_000 { 1 } else { 3 });
        let shape = Shape { apps, vms };
        let rows = with_large_stack(move || measure(shape, runs));
        for (stage, time) in rows {
            println!(
                "| {apps} | {vms} | {} | {stage} | {:.0} | {:.0} |",
                size_label(shape),
                time.wall.as_secs_f64() * 1000.0,
                time.cpu.as_secs_f64() * 1000.0
            );
        }
    }
}

fn parse_options(args: &[String]) -> Options {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this benchmark without
    // it, unoptimised: then one small platform, once, as a smoke test.
    let benching = args.iter().any(|a| a == "--bench");
    let mut options = Options {
        apps: if benching {
            vec![1_000, 10_000, 100_000]
        } else {
            vec![100]
        },
        vm_ratio: 10,
        runs: (!benching).then_some(1),
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

/// A stage's time: elapsed, and CPU (user + system, every thread of the process; 10 ms
/// resolution) — on a shared machine the CPU time is the steadier of the two.
#[derive(Clone, Copy, Default)]
struct Time {
    wall: Duration,
    cpu: Duration,
}

impl std::iter::Sum for Time {
    fn sum<I: Iterator<Item = Time>>(times: I) -> Time {
        times.fold(Time::default(), |a, b| Time {
            wall: a.wall + b.wall,
            cpu: a.cpu + b.cpu,
        })
    }
}

/// The process's CPU time so far, from `/proc/self/stat` (utime + stime, in clock ticks of
/// 10 ms); zero where there is no /proc.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may contain spaces) start at field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Runs `f` `runs` times and returns its last result with the fastest time.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Time) {
    best_with(runs, || (), |()| f())
}

/// [`best`], with `setup` run before each run, untimed (removing the previous run's out/).
fn best_with<S, T>(
    runs: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> T,
) -> (T, Time) {
    let mut fastest = Time {
        wall: Duration::MAX,
        cpu: Duration::MAX,
    };
    let mut result = None;
    for _ in 0..runs.max(1) {
        drop(result.take());
        let input = setup();
        let (started, cpu) = (Instant::now(), cpu_time());
        let value = f(input);
        fastest.wall = fastest.wall.min(started.elapsed());
        fastest.cpu = fastest.cpu.min(cpu_time().saturating_sub(cpu));
        result = Some(value);
    }
    (result.expect("ran at least once"), fastest)
}

/// Every stage's time for one platform.
fn measure(shape: Shape, runs: usize) -> Vec<(&'static str, Time)> {
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
    generate::assert_no_errors([
        load_diagnostics,
        type_diagnostics,
        eval_diagnostics,
        lower_diagnostics,
        check_diagnostics,
    ]);

    type Emitter = fn(&plat::model::Model) -> Files;
    let emitters: [(&'static str, Emitter); 4] = [
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

    // The sources on disk too, for the no-op rebuild (which reads and hashes them).
    let scratch = scratch_dir();
    let (project_dir, out) = (scratch.join("platform"), scratch.join("out"));
    write_sources(shape, &project_dir);
    let project = plat::sources::Project::open(&project_dir).expect("open the sources");
    let sources_hash = plat::build::project_hash(&project).expect("hash the sources");
    let remove_out = || {
        let _ = std::fs::remove_dir_all(&out);
    };
    let (_, t) = best_with(runs, remove_out, |()| {
        let lock = plat::out::Lock::new(sources_hash.clone(), &files);
        let plan = plat::out::plan(&out, &files, &lock).expect("plan");
        plat::out::write(&out, &files, &plan, &lock).expect("write");
    });
    times.push(("write (empty out/)", t));
    // What a first build does after the checks: every file (the model summary too) written
    // into a new out/ as it is made.
    let (_, t) = best_with(runs, remove_out, |()| {
        let tree = plat::out::NewTree::create(&out, u64::MAX).expect("start the tree");
        plat::build::outputs_into(&model, &tree);
        tree.finish(sources_hash.clone()).expect("finish the tree");
    });
    times.push((FIRST_BUILD, t));
    let (_, t) = best(runs, || {
        // As a build does: take the build lock and look for an interrupted rebuild first.
        let existing = plat::out::Out::open_for_build(&out)
            .expect("open out/")
            .expect("out/");
        assert!(plat::build::up_to_date(&project, &existing, None));
    });
    times.push(("no-op rebuild (hash sources and out/)", t));
    let _ = std::fs::remove_dir_all(&scratch);

    // A first build: the front end, lowering and checks, then emitting and writing together.
    let total: Time = times
        .iter()
        .filter(|(stage, _)| {
            [
                "parse",
                "names+types",
                "evaluation",
                "lowering",
                "checks",
                FIRST_BUILD,
            ]
            .contains(stage)
        })
        .map(|(_, t)| *t)
        .sum();
    times.push(("total (first build)", total));
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

/// The stage that emits and writes a first build's files together.
const FIRST_BUILD: &str = "emit and write, streamed (first build)";

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("plat-bench-{}", std::process::id()))
}

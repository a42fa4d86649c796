//! `cargo bench -p plat --bench stages`: the compiler's stages, each timed alone with divan's
//! statistics (fastest, slowest, median and mean of its samples), over the generated platforms
//! of the `pipeline` bench (`pipeline/generate.rs`): 100, 1,000 and 10,000 applications, each
//! with apps / 10 VMs (hosts, VLANs, rules, cloud-init). The benchmark's argument is the
//! number of applications.
//!
//! Every stage's input is built before it is timed, once per size (the platform is compiled,
//! emitted and written out once and kept), and divan drops each stage's output outside the
//! timed region, so each number is that stage alone:
//!
//! - `parse`: lexing and parsing every file (`plat_lang::load::load`, sources in memory);
//! - `names_types`: names and types (`plat_lang::types::check`);
//! - `evaluation`: `plat_lang::eval::eval`;
//! - `lowering`: values to the platform model (`plat::model::lower::lower`);
//! - `checks`: the platform checks (`plat::check::run`);
//! - `emit::{proxmox, pfsense, cloud_init, kubernetes}`: each emitter alone;
//! - `emit::all`: every emitter as the build runs them (in parallel, plus `secrets.required`);
//! - `first_build`: emitting and writing together, as a first `plat build` does: each file
//!   written into a new out/ as it is made (`plat::out::NewTree`), then the lock;
//! - `write`: the lock, the plan and writing every file, already made, into an empty out/ (a
//!   fresh temporary directory per run), as a rebuild writes;
//! - `noop_rebuild`: what `plat build` does when nothing changed (read and hash the sources and
//!   every owned file of out/ against `plat.lock`).
//!
//! Options are divan's (after `--`): a filter (`parse`, `emit`, `emit::kubernetes`),
//! `--sample-count N`, `--max-time SECS`, `--test` (run each benchmark once), `--list`. The
//! benchmarks are listed in pipeline order (`--sort name` sorts them by name). The sizes can
//! be set with `PLAT_BENCH_APPS=100,1000`; in test mode (`--test`, or under `cargo test`)
//! they default to the smallest only.

#![allow(clippy::print_stderr)]

#[path = "pipeline/generate.rs"]
mod generate;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use divan::counter::BytesCount;
use divan::Bencher;
use plat::compile::{with_large_stack, PRELUDE};
use plat::emit::Files;
use plat::model::Model;
use plat::sources::Project;
use plat_lang::eval::{Limits, Program};
use plat_lang::load::{Loaded, MemLoader};
use plat_lang::types::Env;
use tempfile::TempDir;

use generate::Shape;

// The allocator of the `plat` binary (compiler/src/main.rs), so the stages cost what they
// cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Applications per generated platform, when `PLAT_BENCH_APPS` does not say.
const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// VMs are apps / `VM_RATIO`.
const VM_RATIO: usize = 10;

fn main() {
    // Pipeline order unless the command line or the environment asks for another.
    if std::env::var_os("DIVAN_SORT").is_none() && std::env::var_os("DIVAN_SORTR").is_none() {
        std::env::set_var("DIVAN_SORT", "location");
    }
    // On a large stack, as the binary runs the compiler (compiler/src/main.rs). Divan runs
    // each benchmark on the thread that calls it (these are all `bench_local`), so the
    // stages and their preparation run on this stack too. The generated platforms are flat
    // and need little (10,000 applications run on a 1 MiB stack); this is for likeness.
    with_large_stack(|| {
        divan::main();
        // What was benchmarked (after the table, which divan prints as it goes).
        PLATFORMS.with_borrow_mut(|platforms| {
            for platform in std::mem::take(platforms).into_values() {
                platform.describe();
            }
        });
    });
}

/// The sizes benchmarked: `PLAT_BENCH_APPS` (comma-separated), else [`SIZES`], or only the
/// smallest in test mode (divan's `--test`, or no `--bench`: run by `cargo test`).
fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("PLAT_BENCH_APPS") {
        return list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("PLAT_BENCH_APPS: numbers, e.g. 100,1000")
            })
            .collect();
    }
    let args: Vec<String> = std::env::args().collect();
    let test = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    if test {
        SIZES[..1].to_vec()
    } else {
        SIZES.to_vec()
    }
}

/// One generated platform and every stage's output, computed once.
struct Platform {
    shape: Shape,
    loader: MemLoader,
    roots: Vec<String>,
    source_bytes: usize,
    loaded: Loaded,
    env: Env,
    program: Program,
    model: Model,
    files: Files,
    output_bytes: usize,
    /// The sources on disk and an up-to-date out/, for the no-op rebuild.
    disk: RefCell<Option<Disk>>,
}

struct Disk {
    /// The directory holding both; removed when the platform is dropped.
    _scratch: TempDir,
    project: Project,
    sources_hash: String,
    out: PathBuf,
}

thread_local! {
    /// Platforms by number of applications. Their values are not `Send`, so they stay on the
    /// thread that runs the benchmarks.
    static PLATFORMS: RefCell<BTreeMap<usize, Rc<Platform>>> = const { RefCell::new(BTreeMap::new()) };
}

/// The platform of `apps` applications (and apps / [`VM_RATIO`] VMs), compiled and emitted.
fn platform(apps: usize) -> Rc<Platform> {
    if let Some(platform) = PLATFORMS.with_borrow(|p| p.get(&apps).cloned()) {
        return platform;
    }
    let platform = Rc::new(prepare(Shape {
        apps,
        vms: apps / VM_RATIO,
    }));
    PLATFORMS.with_borrow_mut(|p| p.insert(apps, platform.clone()));
    platform
}

/// Runs every stage once, as the `pipeline` bench does, and checks that the platform
/// compiles without errors.
fn prepare(shape: Shape) -> Platform {
    let files: BTreeMap<String, String> = generate::platform(shape).into_iter().collect();
    let source_bytes = files.values().map(String::len).sum();
    let roots: Vec<String> = files.keys().cloned().collect();
    let loader = MemLoader { files };
    let (loaded, load_diagnostics) = plat_lang::load::load(PRELUDE, &roots, &loader);
    let (env, type_diagnostics) = plat_lang::types::check(&loaded);
    let (program, eval_diagnostics) = plat_lang::eval::eval(&loaded, &env, Limits::default());
    let (model, lower_diagnostics) = plat::model::lower::lower(&program);
    let check_diagnostics = plat::check::run(&model);
    generate::assert_no_errors([
        load_diagnostics,
        type_diagnostics,
        eval_diagnostics,
        lower_diagnostics,
        check_diagnostics,
    ]);
    let files = plat::emit::all(&model);
    let output_bytes = files.values().map(Vec::len).sum();
    Platform {
        shape,
        loader,
        roots,
        source_bytes,
        loaded,
        env,
        program,
        model,
        files,
        output_bytes,
        disk: RefCell::new(None),
    }
}

impl Platform {
    fn describe(&self) {
        eprintln!(
            "{} apps, {} VMs: {:.2} MB of sources; {} files, {:.1} MB of output",
            self.shape.apps,
            self.shape.vms,
            self.source_bytes as f64 / 1e6,
            self.files.len(),
            self.output_bytes as f64 / 1e6
        );
    }

    /// The sources written into a temporary directory, and an out/ built from them.
    fn disk<T>(&self, f: impl FnOnce(&Disk) -> T) -> T {
        let mut disk = self.disk.borrow_mut();
        let disk = disk.get_or_insert_with(|| {
            let scratch = scratch();
            let root = scratch.path().join("platform");
            std::fs::create_dir_all(&root).expect("create the sources' directory");
            for (path, text) in &self.loader.files {
                std::fs::write(root.join(path), text).expect("write a source");
            }
            let project = Project::open(&root).expect("open the sources");
            let sources_hash = plat::build::project_hash(&project).expect("hash the sources");
            let out = scratch.path().join("out");
            write_files(&out, &self.files, &sources_hash);
            Disk {
                _scratch: scratch,
                project,
                sources_hash,
                out,
            }
        });
        f(disk)
    }
}

/// An empty temporary directory, removed when dropped.
fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("plat-bench-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Writes `files` into `out` as `plat build` does: the lock, the plan, the files.
fn write_files(out: &Path, files: &Files, sources_hash: &str) {
    let lock = plat::out::Lock::new(sources_hash.to_string(), files);
    let plan = plat::out::plan(out, files, &lock).expect("plan");
    plat::out::write(out, files, &plan, &lock).expect("write");
}

// Each stage: at most `sample_count` samples of one run each, stopping after `max_time`
// seconds (input preparation included), but always at least one sample; the
// 10,000-application stages take up to seconds.

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn parse(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    bencher
        .counter(BytesCount::new(platform.source_bytes))
        .bench_local(|| plat_lang::load::load(PRELUDE, &platform.roots, &platform.loader));
}

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn names_types(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    bencher.bench_local(|| plat_lang::types::check(&platform.loaded));
}

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn evaluation(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    bencher
        .bench_local(|| plat_lang::eval::eval(&platform.loaded, &platform.env, Limits::default()));
}

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn lowering(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    bencher.bench_local(|| plat::model::lower::lower(&platform.program));
}

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn checks(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    bencher.bench_local(|| plat::check::run(&platform.model));
}

/// The emitters, each alone, then all of them as the build runs them.
#[divan::bench_group(sample_count = 20, sample_size = 1, max_time = 4)]
mod emit {
    use super::*;

    fn emitter(bencher: Bencher, apps: usize, emit: fn(&Model) -> Files) {
        let platform = platform(apps);
        bencher.bench_local(|| emit(&platform.model));
    }

    #[divan::bench(args = sizes())]
    fn proxmox(bencher: Bencher, apps: usize) {
        emitter(bencher, apps, plat::emit::proxmox::emit);
    }

    #[divan::bench(args = sizes())]
    fn pfsense(bencher: Bencher, apps: usize) {
        emitter(bencher, apps, plat::emit::pfsense::emit);
    }

    #[divan::bench(args = sizes())]
    fn cloud_init(bencher: Bencher, apps: usize) {
        emitter(bencher, apps, plat::emit::cloud_init::emit);
    }

    #[divan::bench(args = sizes())]
    fn kubernetes(bencher: Bencher, apps: usize) {
        emitter(bencher, apps, plat::emit::k8s::emit);
    }

    #[divan::bench(args = sizes())]
    fn all(bencher: Bencher, apps: usize) {
        let platform = platform(apps);
        bencher
            .counter(BytesCount::new(platform.output_bytes))
            .bench_local(|| plat::emit::all(&platform.model));
    }
}

/// What a first build does after compiling: every file made and written as it is made into a
/// new out/ (`build::outputs_into` an `out::NewTree`, the model summary included), then the
/// lock. The emitters' and the file system's time together, overlapped as `plat build` does.
#[divan::bench(args = sizes(), sample_count = 10, sample_size = 1, max_time = 20)]
fn first_build(bencher: Bencher, apps: usize) {
    into_empty_out(bencher, apps, |platform, out, sources_hash| {
        let tree = plat::out::NewTree::create(out, u64::MAX).expect("start the tree");
        plat::build::outputs_into(&platform.model, &tree);
        tree.finish(sources_hash.to_string())
            .expect("finish the tree");
    });
}

/// Times `write` into an out/ in a fresh temporary directory per run (made before and removed
/// after it, untimed), counting the platform's output bytes.
fn into_empty_out(bencher: Bencher, apps: usize, write: impl Fn(&Platform, &Path, &str)) {
    let platform = platform(apps);
    let sources_hash = platform.disk(|disk| disk.sources_hash.clone());
    bencher
        .counter(BytesCount::new(platform.output_bytes))
        .with_inputs(scratch)
        .bench_local_refs(|dir| write(&platform, &dir.path().join("out"), &sources_hash));
}

/// Writing every file into an empty out/; the temporary directory is made before and removed
/// after each run, untimed. Longer runs than the others: at 10,000 applications one write is
/// seconds on a busy disk.
#[divan::bench(
    name = "write",
    args = sizes(),
    sample_count = 10,
    sample_size = 1,
    max_time = 20
)]
fn write_out(bencher: Bencher, apps: usize) {
    into_empty_out(bencher, apps, |platform, out, sources_hash| {
        write_files(out, &platform.files, sources_hash)
    });
}

#[divan::bench(args = sizes(), sample_count = 20, sample_size = 1, max_time = 4)]
fn noop_rebuild(bencher: Bencher, apps: usize) {
    let platform = platform(apps);
    platform.disk(|disk| {
        bencher.bench_local(|| {
            // As a build does: take the build lock and look for an interrupted rebuild first.
            let existing = plat::out::Out::open_for_build(&disk.out)
                .expect("open out/")
                .expect("out/");
            assert!(plat::build::up_to_date(&disk.project, &existing, None))
        });
    });
}

//! The command line: argument parsing and dispatch. The only module that prints or decides
//! exit codes: 0 success, 1 errors in the input (or drift with `--check`), 2 usage, IO or
//! internal errors.

// The CLI is the one module that prints (ARCHITECTURE.md, "only cli prints or exits").
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod inspect;

use crate::compile::{compile, Compilation};
use crate::render::{render_human, render_json, Style};
use crate::sources::Project;

/// plat — a pure, typed configuration compiler for a Proxmox, pfSense and Kubernetes platform.
#[derive(Parser, Debug)]
#[command(name = "plat", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to use colours in diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse, type-check, evaluate and run every platform check; write nothing.
    ///
    /// Example: `plat check platform/` or `plat check --format json file.plat`
    Check {
        /// A `.plat` file or a directory of them.
        #[arg(default_value = "platform")]
        path: PathBuf,
        /// Diagnostics as human text or one JSON object on stdout.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors (`--deny warnings`).
        #[arg(long, value_name = "warnings")]
        deny: Option<String>,
    },
    /// Compile the platform and write its files into the out/ directory.
    ///
    /// Only changed files are written; files plat no longer generates are removed; files
    /// plat does not own (not in out/plat.lock) are never touched.
    ///
    /// Example: `plat build` (compiles `platform/` into `out/`), `plat build --check` in CI.
    Build {
        /// The platform's sources.
        #[arg(default_value = "platform")]
        root: PathBuf,
        /// Where the generated files go.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Write nothing; exit 1 when out/ differs from what the sources produce.
        #[arg(long)]
        check: bool,
        /// Treat warnings as errors (`--deny warnings`).
        #[arg(long, value_name = "warnings")]
        deny: Option<String>,
    },
    /// Show what a build would change in out/: objects in words, then a diff per file.
    ///
    /// Above the diff, one line per changed platform object with its apply impact (in place,
    /// needs a VM reboot, re-runs cloud-init, recreates the VM, reloads the firewall, rolls a
    /// Deployment, ...), compared with the model summary the last build left in
    /// `out/plat.model.json`. Writes nothing; exits 0 whether or not there are changes.
    ///
    /// Example: `plat diff` (platform/ against out/), `plat diff platform --out /tmp/out`.
    Diff {
        /// The platform's sources.
        #[arg(default_value = "platform")]
        root: PathBuf,
        /// The out/ directory to compare with.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Show the `.plat` source behind a generated file, or behind one line of it.
    ///
    /// FILE is a path under the out/ directory (or relative to it); with `:LINE`, the line's
    /// key is traced to the model fields that produced it, and a value that is a prelude
    /// default names that default.
    ///
    /// Example: `plat explain out/proxmox/pve1/qemu-server/201.conf:22`.
    Explain {
        /// `FILE` or `FILE:LINE` (1-based).
        target: String,
        /// The platform's sources.
        #[arg(long, default_value = "platform")]
        root: PathBuf,
        /// The out/ directory FILE is in.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Source snippets for people, or one JSON object on stdout for tools.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the platform's topology as a diagram: hosts and their VMs, VLANs, the firewall,
    /// the cluster with its nodes, namespaces and services.
    ///
    /// Example: `plat graph > topology.mmd`, `plat graph --format dot | dot -Tsvg > topology.svg`.
    Graph {
        /// The platform's sources.
        #[arg(default_value = "platform")]
        root: PathBuf,
        /// Mermaid (`flowchart`) or Graphviz DOT.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Rewrite `.plat` files in the canonical layout (docs/language.md, "Formatting").
    ///
    /// Example: `plat fmt` (formats `platform/`, or `.` without one), `plat fmt --check
    /// platform tests/data` in CI. A file with syntax errors is left as it is (with a note on
    /// stderr; `plat check` reports its errors).
    Fmt {
        /// Write nothing; list the files that would change and exit 1 if there are any.
        #[arg(long)]
        check: bool,
        /// `.plat` files or directories (default: `platform/` if present, else `.`).
        paths: Vec<PathBuf>,
    },
    /// Print generated documentation.
    ///
    /// Example: `plat docs platform > docs/platform.md`, `plat docs errors > docs/errors.md`.
    #[command(hide = true)]
    Docs {
        /// Which document: `platform` or `errors`.
        which: String,
    },
    /// Print the values of a file (top-level lets and entities), or of one expression, as JSON.
    ///
    /// Example: `plat eval platform/ --expr 'vlan.nodes.subnet'` (a file's directory is its
    /// root, so a file that imports `../lib` is evaluated through its directory).
    Eval {
        /// A `.plat` file (or a directory).
        path: PathBuf,
        /// An expression to evaluate in the scope of the file.
        #[arg(long)]
        expr: Option<String>,
    },
}

/// Runs the command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    let style = match cli.color {
        Color::Always => Style::Color,
        Color::Never => Style::Plain,
        Color::Auto
            if std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal() =>
        {
            Style::Color
        }
        Color::Auto => Style::Plain,
    };
    match cli.command {
        Command::Check { path, format, deny } => check(path, format, deny, style),
        Command::Eval { path, expr } => eval(path, expr, style),
        Command::Docs { which } => docs(&which),
        Command::Diff { root, out } => inspect::diff(root, out, style),
        Command::Explain {
            target,
            root,
            out,
            format,
        } => inspect::explain(&target, root, out, format == Format::Json, style),
        Command::Graph { root, format } => {
            let format = match format {
                GraphFormat::Mermaid => crate::graph::Format::Mermaid,
                GraphFormat::Dot => crate::graph::Format::Dot,
            };
            inspect::graph(root, format, style)
        }
        Command::Fmt { check, paths } => fmt(paths, check),
        Command::Build {
            root,
            out,
            check,
            deny,
        } => build(root, out, check, deny, style),
    }
}

/// Opens the sources at `path`. A directory without `.plat` files is an input error, reported
/// as the diagnostic `source::no-files` (exit 1); an unreadable path is an IO error (exit 2).
fn open(path: &std::path::Path, format: Format, style: Style) -> Result<Project, ExitCode> {
    Project::open(path).map_err(|error| {
        if let crate::sources::ProjectError::NoSources(dir) = &error {
            let mut sources = plat_lang::source::SourceMap::default();
            let file = sources.add(dir.display().to_string(), String::new());
            let diagnostic = plat_lang::diagnostic::Diagnostic::error(
                "source::no-files",
                plat_lang::span::Span::new(file, 0, 0),
                format!("`{}` contains no .plat files", dir.display()),
            )
            .with_help("point plat at a directory of .plat sources, or at one .plat file");
            report_diagnostics(&sources, &[diagnostic], format, style);
            return ExitCode::from(1);
        }
        eprintln!("error: {error}");
        ExitCode::from(2)
    })
}

/// Compiles `root` for a command that needs the model: diagnostics printed, exit 1 on errors.
fn compiled(root: &std::path::Path, style: Style) -> Result<Compilation, ExitCode> {
    let project = open(root, Format::Human, style)?;
    let compilation = compile(&project);
    report(&compilation, Format::Human, style);
    if compilation.failed(false) {
        eprintln!("error: the sources have errors");
        return Err(ExitCode::from(1));
    }
    if compilation.model.is_none() {
        eprintln!("error: internal: no model after a successful compilation (this is a bug)");
        return Err(ExitCode::from(2));
    }
    Ok(compilation)
}

fn deny_warnings(deny: Option<String>) -> Result<bool, ExitCode> {
    match deny.as_deref() {
        None => Ok(false),
        Some("warnings") => Ok(true),
        Some(other) => {
            eprintln!("error: `--deny {other}`: only `--deny warnings` is supported");
            Err(ExitCode::from(2))
        }
    }
}

fn report(compilation: &Compilation, format: Format, style: Style) {
    report_diagnostics(
        &compilation.front.loaded.sources,
        &compilation.diagnostics,
        format,
        style,
    );
}

fn report_diagnostics(
    sources: &plat_lang::source::SourceMap,
    diagnostics: &[plat_lang::diagnostic::Diagnostic],
    format: Format,
    style: Style,
) {
    match format {
        Format::Json => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(render_json(sources, diagnostics).as_bytes());
        }
        Format::Human => {
            if !diagnostics.is_empty() {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(render_human(sources, diagnostics, style).as_bytes());
            }
        }
    }
}

fn check(path: PathBuf, format: Format, deny: Option<String>, style: Style) -> ExitCode {
    let deny = match deny_warnings(deny) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let project = match open(&path, format, style) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let compilation = compile(&project);
    report(&compilation, format, style);
    let code = if compilation.failed(deny) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends with this command: freeing the compilation's millions of small
    // allocations one by one costs 4 % of a large check, and the system reclaims them at once.
    std::mem::forget(compilation);
    code
}

fn eval(path: PathBuf, expr: Option<String>, style: Style) -> ExitCode {
    let project = match open(&path, Format::Human, style) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let compilation = compile(&project);
    report(&compilation, Format::Human, style);
    if compilation.failed(false) {
        return ExitCode::from(1);
    }
    let json = match expr {
        Some(text) => match crate::values::eval_expression(&project, &text) {
            Ok(json) => json,
            Err(failed) => {
                report(&failed, Format::Human, style);
                return ExitCode::from(1);
            }
        },
        None => match crate::values::program_json(&compilation) {
            Ok(json) => json,
            Err(diagnostic) => {
                report_diagnostics(
                    &compilation.front.loaded.sources,
                    &[*diagnostic],
                    Format::Human,
                    style,
                );
                return ExitCode::from(1);
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

fn build(
    root: PathBuf,
    out: PathBuf,
    check_only: bool,
    deny: Option<String>,
    style: Style,
) -> ExitCode {
    let started = std::time::Instant::now();
    let deny = match deny_warnings(deny) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let project = match open(&root, Format::Human, style) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // The existing out/, if any, before anything else: a build takes the build lock and
    // finishes (or undoes) an interrupted rebuild; `--check` refuses a tree left mid-rebuild.
    let opened = if check_only {
        crate::out::Out::open_to_read(&out)
    } else {
        crate::out::Out::open_for_build(&out)
    };
    let existing = match opened {
        Ok(existing) => existing,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    match existing.as_ref().map(|o| o.recovered()) {
        Some(crate::out::Recovered::RolledForward) => eprintln!(
            "plat: finished the rebuild of {} that was interrupted after it committed",
            out.display()
        ),
        Some(crate::out::Recovered::RolledBack) => eprintln!(
            "plat: removed what an interrupted rebuild of {} had staged; it was left as before that build",
            out.display()
        ),
        _ => {}
    }
    // Nothing changed since the last build: skip compiling. Not with `--deny warnings`, whose
    // verdict needs the diagnostics, which only a compilation gives. "Up to date" is said only
    // after every owned file was found with its recorded hash. `--check` always compiles: it
    // is the proof CI relies on.
    if !deny
        && !check_only
        && existing
            .as_ref()
            .is_some_and(|o| crate::build::up_to_date(&project, o))
    {
        eprintln!(
            "plat: {} is up to date (sources unchanged since the last build)",
            out.display()
        );
        return ExitCode::SUCCESS;
    }
    let mut compilation = compile(&project);
    report(&compilation, Format::Human, style);
    if compilation.failed(deny) {
        eprintln!("error: the sources have errors; nothing was written");
        return ExitCode::from(1);
    }
    let Some(model) = compilation.model.take() else {
        eprintln!("error: internal: no model after a successful compilation (this is a bug)");
        return ExitCode::from(2);
    };
    // The model is all that emitting needs: free the syntax trees and values first, keeping
    // the source texts for a last diagnostic.
    let sources = crate::build::sources_hash(&compilation);
    let too_big_at = crate::build::output_size_span(&compilation);
    let texts = std::mem::take(&mut compilation.front.loaded.sources);
    drop(compilation);
    let limit = crate::build::MAX_OUTPUT_BYTES;
    // Reports `limit::output-size` when the files hold `total` bytes, over the limit.
    let too_big = |total: u64| match crate::build::output_size(too_big_at, total, limit) {
        Some(diagnostic) => {
            report_diagnostics(&texts, &[diagnostic], Format::Human, style);
            eprintln!("error: nothing was written");
            true
        }
        None => false,
    };
    if !check_only && existing.is_none() {
        // A first build: each file goes to disk as soon as it is made (out::NewTree).
        let tree = match crate::out::NewTree::create(&out, limit) {
            Ok(tree) => tree,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
        crate::build::outputs_into(&model, &tree);
        drop(model);
        return match tree.finish(sources) {
            Ok(written) => {
                eprintln!(
                    "plat: {written} written, 0 unchanged, 0 removed in {:.2}s",
                    started.elapsed().as_secs_f64()
                );
                ExitCode::SUCCESS
            }
            Err(crate::out::Unfinished::TooBig(total)) => {
                too_big(total);
                ExitCode::from(1)
            }
            Err(crate::out::Unfinished::Failed(error)) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        };
    }
    let files = crate::build::outputs(&model);
    drop(model);
    if too_big(crate::build::total_size(&files)) {
        return ExitCode::from(1);
    }
    drop(texts);
    let lock = crate::out::Lock::new(sources, &files);
    let planned = match &existing {
        Some(existing) => existing.plan(&files, &lock),
        None => Ok(crate::out::Plan::all_new(&files)),
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let shown = |path: &str| out.join(path).display().to_string();
    if check_only {
        for path in &plan.added {
            eprintln!("missing: {} (would be added)", shown(path));
        }
        for path in &plan.changed {
            eprintln!("differs: {} (stale, or edited by hand)", shown(path));
        }
        for path in &plan.removed {
            eprintln!(
                "extra: {} (no longer generated; would be removed)",
                shown(path)
            );
        }
        for (path, what) in &plan.kept {
            eprintln!(
                "extra: {} (no longer generated, and {what}: would be left in place and disowned)",
                shown(path)
            );
        }
        for path in &plan.conflicts {
            eprintln!(
                "conflict: {} (exists but is not owned by plat)",
                shown(path)
            );
        }
        for (path, what) in &plan.obstacles {
            eprintln!(
                "conflict: {} ({what}; plat writes only regular files and never follows links)",
                shown(path)
            );
        }
        if plan.lock_changed
            && plan.added.is_empty()
            && plan.changed.is_empty()
            && plan.removed.is_empty()
            && plan.kept.is_empty()
        {
            eprintln!("differs: {}", shown(crate::out::LOCK));
        }
        if plan.is_clean() {
            eprintln!(
                "plat: {} is up to date ({} files)",
                out.display(),
                files.len()
            );
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "plat: {} is out of date; run `plat build` and commit the result",
            out.display()
        );
        return ExitCode::from(1);
    }
    if !plan.conflicts.is_empty() || !plan.obstacles.is_empty() {
        for path in &plan.conflicts {
            eprintln!(
                "error: {} exists but plat does not own it (it is not in plat.lock); move it away",
                shown(path)
            );
        }
        for (path, what) in &plan.obstacles {
            eprintln!(
                "error: {}: {what}; plat writes only regular files and never follows links: move it away",
                shown(path)
            );
        }
        return ExitCode::from(1);
    }
    let Some(existing) = existing else {
        eprintln!("error: internal: no out/ to rebuild (this is a bug)");
        return ExitCode::from(2);
    };
    if let Err(error) = existing.write(&files, &plan, &lock) {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    for (path, what) in &plan.kept {
        eprintln!(
            "warning: {} is no longer generated but {what}: left in place, and plat no longer owns it",
            shown(path)
        );
    }
    eprintln!(
        "plat: {} written, {} unchanged, {} removed in {:.2}s",
        plan.added.len() + plan.changed.len(),
        plan.unchanged.len(),
        plan.removed.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn fmt(mut paths: Vec<PathBuf>, check_only: bool) -> ExitCode {
    if paths.is_empty() {
        let platform = PathBuf::from("platform");
        paths.push(if platform.is_dir() {
            platform
        } else {
            PathBuf::from(".")
        });
    }
    let mut files = Vec::new();
    for path in &paths {
        match Project::open(path) {
            Ok(project) if path.is_dir() => {
                files.extend(project.files.iter().map(|f| path.join(f)));
            }
            Ok(_) => files.push(path.clone()),
            Err(crate::sources::ProjectError::NoSources(_)) => {}
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let mut changed = 0;
    for file in &files {
        match fmt_file(file, check_only) {
            Ok(true) => {
                changed += 1;
                println!("{}", file.display());
            }
            Ok(false) => {}
            Err(code) => return code,
        }
    }
    if check_only && changed > 0 {
        eprintln!("plat: {changed} file(s) not formatted; run `plat fmt`");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Formats one file; true when it changed (or would, with `check_only`).
fn fmt_file(path: &std::path::Path, check_only: bool) -> Result<bool, ExitCode> {
    let bytes = std::fs::read(path).map_err(|error| {
        eprintln!("error: cannot read {}: {error}", path.display());
        ExitCode::from(2)
    })?;
    let shown = path.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => text,
        _ => {
            eprintln!("{shown}: skipped: not UTF-8 text without NUL bytes");
            return Ok(false);
        }
    };
    match plat_lang::format::format(&text) {
        Ok(formatted) if formatted == text => Ok(false),
        Ok(formatted) => {
            if !check_only {
                std::fs::write(path, formatted).map_err(|error| {
                    eprintln!("error: cannot write {shown}: {error}");
                    ExitCode::from(2)
                })?;
            }
            Ok(true)
        }
        Err(diagnostics) => {
            // Formatting is layout only: a file that does not parse is left as it is, and
            // `plat check` reports its errors.
            let first = diagnostics.iter().find(|d| d.is_error());
            let file = plat_lang::source::SourceFile::new(shown.clone(), text);
            let (line, column) = first.map_or((1, 1), |d| file.line_col(d.span.start));
            let message = first.map_or("", |d| d.message.as_str());
            eprintln!("{shown}:{line}:{column}: skipped: syntax error: {message}");
            Ok(false)
        }
    }
}

fn docs(which: &str) -> ExitCode {
    let text = match which {
        "platform" => crate::docs::platform_md(),
        "errors" => crate::docs::errors_md(),
        other => {
            eprintln!("error: unknown document `{other}` (known: platform, errors)");
            return ExitCode::from(2);
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

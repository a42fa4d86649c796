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
        /// Diagnostics as human text or one JSON object on stdout (the build's own lines
        /// stay on stderr).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show what a build would change in out/: objects in words, then a diff per file.
    ///
    /// Above the diff, one line per changed platform object with its apply impact (in place,
    /// needs a VM reboot, re-runs cloud-init, recreates the VM, reloads the firewall, rolls a
    /// Deployment, ...), compared with the model summary the last build left in
    /// `out/plat.model.json`. Writes nothing; exits 0 whether or not there are changes.
    ///
    /// Without `--out`, a PATH inside an out/ tree (at or below the directory holding
    /// `plat.lock`) names that tree, and the sources are the ones its `plat.lock` records.
    ///
    /// Example: `plat diff` (platform/ against out/), `plat diff platform --out /tmp/out`,
    /// `plat diff /srv/platform/out`.
    Diff {
        /// The platform's sources, or a path in an out/ tree.
        #[arg(default_value = "platform", value_name = "PATH")]
        root: PathBuf,
        /// The out/ directory to compare with [default: out/ of PATH, else `out`].
        #[arg(long)]
        out: Option<PathBuf>,
        /// The diff as text, or one JSON object on stdout: the diagnostics, the object lines
        /// and the file diff.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show the `.plat` source behind a generated file, or behind one line of it.
    ///
    /// FILE is a path under the out/ directory (or relative to it); with `:LINE`, the line's
    /// key is traced to the model fields that produced it, and a value that is a prelude
    /// default names that default. The out/ directory is the nearest one above FILE holding
    /// `plat.lock`, and the sources are the ones that lock records, so that it works from any
    /// working directory; `--out` and `--root` name them instead.
    ///
    /// Example: `plat explain out/proxmox/pve1/qemu-server/201.conf:22`.
    Explain {
        /// `FILE` or `FILE:LINE` (1-based).
        target: String,
        /// The platform's sources [default: the root out/plat.lock records, else `platform`].
        #[arg(long)]
        root: Option<PathBuf>,
        /// The out/ directory FILE is in [default: the one above FILE, else `out`].
        #[arg(long)]
        out: Option<PathBuf>,
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

/// Why a command did not succeed. Commands return it; [`run`] alone turns it into the last
/// lines on stderr and the exit code: 1 for the input (the sources, or drift), 2 for usage,
/// IO and internal errors.
#[derive(Debug)]
pub(crate) enum Error {
    /// Errors in the sources, already reported as diagnostics (exit 1), and the line that
    /// sums them up (printed as `error: …`), if any.
    Sources(Option<String>),
    /// What is on disk is not what the sources produce (`build --check`, `fmt --check`), or
    /// something stands where a build writes: the lines that say so, printed as they are
    /// (exit 1).
    Drift(Vec<String>),
    /// out/ cannot be opened, read or written, or is not what plat wrote (exit 2).
    Out(crate::out::OutError),
    /// An argument plat cannot use (exit 2).
    Usage(String),
    /// A file outside out/ cannot be read or written (exit 2).
    Io(String),
    /// A bug in plat (exit 2).
    Internal(String),
}

impl Error {
    /// The process's exit code for this error.
    fn exit_code(&self) -> u8 {
        match self {
            Error::Sources(_) | Error::Drift(_) => 1,
            Error::Out(_) | Error::Usage(_) | Error::Io(_) | Error::Internal(_) => 2,
        }
    }

    /// The lines printed on stderr for this error.
    fn lines(&self) -> Vec<String> {
        match self {
            Error::Sources(None) => Vec::new(),
            Error::Sources(Some(message)) | Error::Usage(message) | Error::Io(message) => {
                vec![format!("error: {message}")]
            }
            Error::Drift(lines) => lines.clone(),
            Error::Out(error) => vec![format!("error: {error}")],
            Error::Internal(message) => vec![format!("error: internal: {message} (this is a bug)")],
        }
    }
}

impl From<crate::out::OutError> for Error {
    fn from(error: crate::out::OutError) -> Error {
        Error::Out(error)
    }
}

/// What a command that succeeded returns: its output is already written.
type Done = Result<(), Error>;

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
    let done = match cli.command {
        Command::Check { path, format, deny } => check(path, format, deny, style),
        Command::Eval { path, expr } => eval(path, expr, style),
        Command::Docs { which } => docs(&which),
        Command::Diff { root, out, format } => inspect::diff(root, out, format, style),
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
            format,
        } => build(root, out, check, deny, format, style),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut stderr = std::io::stderr().lock();
            for line in error.lines() {
                let _ = writeln!(stderr, "{line}");
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// Opens the sources at `path`. A directory without `.plat` files is an input error, reported
/// as the diagnostic `source::no-files` (exit 1); an unreadable path is an IO error (exit 2).
fn open(path: &std::path::Path, format: Format, style: Style) -> Result<Project, Error> {
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
            return Error::Sources(None);
        }
        Error::Io(error.to_string())
    })
}

/// Compiles `root` for a command that needs the model: diagnostics reported in `format`,
/// an error when the sources have errors.
fn compiled(root: &std::path::Path, format: Format, style: Style) -> Result<Compilation, Error> {
    let project = open(root, format, style)?;
    let compilation = compile(&project);
    if compilation.failed(false) {
        report(&compilation, format, style);
        return Err(Error::Sources(Some("the sources have errors".into())));
    }
    // A JSON report is the caller's to make, with what it adds to it.
    if format == Format::Human {
        report(&compilation, format, style);
    }
    if compilation.model.is_none() {
        return Err(no_model());
    }
    Ok(compilation)
}

fn no_model() -> Error {
    Error::Internal("no model after a successful compilation".into())
}

fn deny_warnings(deny: Option<String>) -> Result<bool, Error> {
    match deny.as_deref() {
        None => Ok(false),
        Some("warnings") => Ok(true),
        Some(other) => Err(Error::Usage(format!(
            "`--deny {other}`: only `--deny warnings` is supported"
        ))),
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

fn check(path: PathBuf, format: Format, deny: Option<String>, style: Style) -> Done {
    let deny = deny_warnings(deny)?;
    let project = open(&path, format, style)?;
    let compilation = compile(&project);
    report(&compilation, format, style);
    let failed = compilation.failed(deny);
    // The process ends with this command: freeing the compilation's millions of small
    // allocations one by one costs 4 % of a large check, and the system reclaims them at once.
    std::mem::forget(compilation);
    if failed {
        return Err(Error::Sources(None));
    }
    Ok(())
}

fn eval(path: PathBuf, expr: Option<String>, style: Style) -> Done {
    let project = open(&path, Format::Human, style)?;
    let compilation = compile(&project);
    report(&compilation, Format::Human, style);
    if compilation.failed(false) {
        return Err(Error::Sources(None));
    }
    let json = match expr {
        Some(text) => crate::values::eval_expression(&project, &text).map_err(|failed| {
            report(&failed, Format::Human, style);
            Error::Sources(None)
        })?,
        None => crate::values::program_json(&compilation).map_err(|diagnostic| {
            report_diagnostics(
                &compilation.front.loaded.sources,
                &[*diagnostic],
                Format::Human,
                style,
            );
            Error::Sources(None)
        })?,
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    Ok(())
}

/// `plat build`: with `--format json`, the diagnostics are one JSON object on stdout, printed
/// once whatever the outcome (when the sources were compiled, or found up to date).
fn build(
    root: PathBuf,
    out: PathBuf,
    check_only: bool,
    deny: Option<String>,
    format: Format,
    style: Style,
) -> Done {
    let mut json = None;
    let done = build_reporting(root, out, check_only, deny, format, style, &mut json);
    if let Some(json) = json {
        let _ = std::io::stdout().lock().write_all(json.as_bytes());
    }
    done
}

/// Diagnostics for people, printed at once on stderr, or kept as JSON in `json` for
/// [`build`] to print.
struct Reporter<'j> {
    format: Format,
    style: Style,
    json: &'j mut Option<String>,
}

impl Reporter<'_> {
    fn report(
        &mut self,
        sources: &plat_lang::source::SourceMap,
        diagnostics: &[plat_lang::diagnostic::Diagnostic],
    ) {
        match self.format {
            Format::Json => *self.json = Some(render_json(sources, diagnostics)),
            Format::Human => report_diagnostics(sources, diagnostics, Format::Human, self.style),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn build_reporting(
    root: PathBuf,
    out: PathBuf,
    check_only: bool,
    deny: Option<String>,
    format: Format,
    style: Style,
    json: &mut Option<String>,
) -> Done {
    let started = std::time::Instant::now();
    let deny = deny_warnings(deny)?;
    let project = open(&root, format, style)?;
    let mut reporter = Reporter {
        format,
        style,
        json,
    };
    // Where the sources are, from out/, for the lock (`plat explain` and `plat diff` find them
    // through it).
    let source_root = crate::out::source_root(&root, &out);
    // The existing out/, if any, before anything else: a build takes the build lock and
    // finishes (or undoes) an interrupted rebuild; `--check` refuses a tree left mid-rebuild.
    let existing = if check_only {
        crate::out::Out::open_to_read(&out)?
    } else {
        crate::out::Out::open_for_build(&out)?
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
            .is_some_and(|o| crate::build::up_to_date(&project, o, source_root.as_deref()))
    {
        reporter.report(&plat_lang::source::SourceMap::default(), &[]);
        eprintln!(
            "plat: {} is up to date (sources unchanged since the last build)",
            out.display()
        );
        return Ok(());
    }
    let mut compilation = compile(&project);
    reporter.report(&compilation.front.loaded.sources, &compilation.diagnostics);
    if compilation.failed(deny) {
        return Err(Error::Sources(Some(
            "the sources have errors; nothing was written".into(),
        )));
    }
    let model = compilation.model.take().ok_or_else(no_model)?;
    // The model is all that emitting needs: free the syntax trees and values first, keeping
    // the source texts (and the warnings) for a last diagnostic.
    let sources = crate::build::sources_hash(&compilation);
    let too_big_at = crate::build::output_size_span(&compilation);
    let texts = std::mem::take(&mut compilation.front.loaded.sources);
    let mut warnings = std::mem::take(&mut compilation.diagnostics);
    drop(compilation);
    let limit = crate::build::MAX_OUTPUT_BYTES;
    // `limit::output-size` when the files hold `total` bytes, over the limit: reported (after
    // the warnings, in JSON), and the build fails.
    let mut too_big = |total: u64| -> Done {
        let Some(diagnostic) = crate::build::output_size(too_big_at, total, limit) else {
            return Ok(());
        };
        match format {
            Format::Json => {
                warnings.push(diagnostic);
                reporter.report(&texts, &warnings);
            }
            Format::Human => reporter.report(&texts, &[diagnostic]),
        }
        Err(Error::Sources(Some("nothing was written".into())))
    };
    if !check_only && existing.is_none() {
        // A first build: each file goes to disk as soon as it is made (out::NewTree).
        let tree = crate::out::NewTree::create(&out, limit)?.with_root(source_root);
        crate::build::outputs_into(&model, &tree);
        drop(model);
        return match tree.finish(sources) {
            Ok(written) => {
                eprintln!(
                    "plat: {written} written, 0 unchanged, 0 removed in {:.2}s",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Err(crate::out::Unfinished::TooBig(total)) => {
                too_big(total).and(Err(Error::Sources(Some("nothing was written".into()))))
            }
            Err(crate::out::Unfinished::Failed(error)) => Err(error.into()),
        };
    }
    let files = crate::build::outputs(&model);
    drop(model);
    too_big(crate::build::total_size(&files))?;
    drop(texts);
    let lock = crate::out::Lock::new(sources, &files).with_root(source_root);
    let plan = match &existing {
        Some(existing) => existing.plan(&files, &lock)?,
        None => crate::out::Plan::all_new(&files),
    };
    let shown = |path: &str| out.join(path).display().to_string();
    if check_only {
        let mut lines = Vec::new();
        for path in &plan.added {
            lines.push(format!("missing: {} (would be added)", shown(path)));
        }
        for path in &plan.changed {
            lines.push(format!(
                "differs: {} (stale, or edited by hand)",
                shown(path)
            ));
        }
        for path in &plan.removed {
            lines.push(format!(
                "extra: {} (no longer generated; would be removed)",
                shown(path)
            ));
        }
        for (path, what) in &plan.kept {
            lines.push(format!(
                "extra: {} (no longer generated, and {what}: would be left in place and disowned)",
                shown(path)
            ));
        }
        for path in &plan.conflicts {
            lines.push(format!(
                "conflict: {} (exists but is not owned by plat)",
                shown(path)
            ));
        }
        for (path, what) in &plan.obstacles {
            lines.push(format!(
                "conflict: {} ({what}; plat writes only regular files and never follows links)",
                shown(path)
            ));
        }
        if plan.lock_changed
            && plan.added.is_empty()
            && plan.changed.is_empty()
            && plan.removed.is_empty()
            && plan.kept.is_empty()
        {
            lines.push(format!("differs: {}", shown(crate::out::LOCK)));
        }
        if plan.is_clean() {
            eprintln!(
                "plat: {} is up to date ({} files)",
                out.display(),
                files.len()
            );
            return Ok(());
        }
        lines.push(format!(
            "plat: {} is out of date; run `plat build` and commit the result",
            out.display()
        ));
        return Err(Error::Drift(lines));
    }
    if !plan.conflicts.is_empty() || !plan.obstacles.is_empty() {
        let mut lines = Vec::new();
        for path in &plan.conflicts {
            lines.push(format!(
                "error: {} exists but plat does not own it (it is not in plat.lock); move it away",
                shown(path)
            ));
        }
        for (path, what) in &plan.obstacles {
            lines.push(format!(
                "error: {}: {what}; plat writes only regular files and never follows links: move it away",
                shown(path)
            ));
        }
        return Err(Error::Drift(lines));
    }
    let Some(existing) = existing else {
        return Err(Error::Internal("no out/ to rebuild".into()));
    };
    existing.write(&files, &plan, &lock)?;
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
    Ok(())
}

fn fmt(mut paths: Vec<PathBuf>, check_only: bool) -> Done {
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
            Err(error) => return Err(Error::Io(error.to_string())),
        }
    }
    let mut changed = 0;
    for file in &files {
        if fmt_file(file, check_only)? {
            changed += 1;
            println!("{}", file.display());
        }
    }
    if check_only && changed > 0 {
        return Err(Error::Drift(vec![format!(
            "plat: {changed} file(s) not formatted; run `plat fmt`"
        )]));
    }
    Ok(())
}

/// Formats one file; true when it changed (or would, with `check_only`).
fn fmt_file(path: &std::path::Path, check_only: bool) -> Result<bool, Error> {
    let bytes = std::fs::read(path)
        .map_err(|error| Error::Io(format!("cannot read {}: {error}", path.display())))?;
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
                std::fs::write(path, formatted)
                    .map_err(|error| Error::Io(format!("cannot write {shown}: {error}")))?;
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

fn docs(which: &str) -> Done {
    let text = match which {
        "platform" => crate::docs::platform_md(),
        "errors" => crate::docs::errors_md(),
        other => {
            return Err(Error::Usage(format!(
                "unknown document `{other}` (known: platform, errors)"
            )))
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

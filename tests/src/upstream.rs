//! Run upstream tools on a directory of generated files and collect every failure.
//!
//! Each check returns an [`Outcome`]: [`Verdict::Passed`] with the number of files the tool
//! accepted, or [`Failures`] listing every file it rejected with what it said.
//! A check that finds nothing to check fails, so a wrong path never passes silently.
//!
//! External tools (installed by `.ci/install-tools.sh`):
//! - [`cloud_init_schema`]: Debian's `cloud-init` (`schema`, `devel net-convert`);
//! - [`kubernetes_validate`]: PyPI `kubernetes-validate` in strict mode;
//! - [`kustomize`]: `kubectl kustomize` with kustomize v5.
//!
//! When a tool is missing the check fails if the `CI` environment variable is set, and is
//! [`Verdict::Skipped`] with a notice on stderr otherwise.
//! [`pfsense_structure`] and [`proxmox_conf_syntax`] need no tool: they check against
//! upstream data kept in `tests/data/` (see its README).
//!
//! Tests: `tests/tests/upstream_tools.rs`, on the samples in `tests/data/samples/`.

mod cloud_init;
mod kubernetes;
mod pfsense;
mod proxmox;

pub use cloud_init::cloud_init_schema;
pub use kubernetes::{kubernetes_validate, kustomize, KNOWN_CRDS};
pub use pfsense::pfsense_structure;
pub use proxmox::proxmox_conf_syntax;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The result of one check: passed or skipped, or every failure found.
pub type Outcome = Result<Verdict, Failures>;

/// What a check did when nothing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The check ran on `checked` files and accepted all of them; `notes` says what it
    /// deliberately left out (e.g. documents of known CRDs).
    Passed {
        /// Files checked.
        checked: usize,
        /// Things left out on purpose, one line each.
        notes: Vec<String>,
    },
    /// The tool is not installed and `CI` is unset, so nothing was checked.
    Skipped {
        /// The missing tool.
        tool: &'static str,
    },
}

/// Every problem one check found.
#[derive(Clone, PartialEq, Eq)]
pub struct Failures {
    /// The check, e.g. `cloud-init schema`.
    pub check: &'static str,
    /// One entry per rejected file (or per problem in it).
    pub items: Vec<Failure>,
}

/// One rejected file or line, with the tool's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed: a path relative to the checked directory, or a tool name.
    pub subject: String,
    /// What the tool or the check said.
    pub message: String,
}

impl Failures {
    fn new(check: &'static str, items: Vec<Failure>) -> Self {
        Failures { check, items }
    }

    /// Whether any failure message contains `needle`.
    pub fn mentions(&self, needle: &str) -> bool {
        self.items
            .iter()
            .any(|item| item.message.contains(needle) || item.subject.contains(needle))
    }
}

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} failure(s)", self.check, self.items.len())?;
        let mut previous = None;
        for item in &self.items {
            if previous != Some(&item.subject) {
                writeln!(f, "--- {}", item.subject)?;
                previous = Some(&item.subject);
            }
            for line in item.message.trim_end().lines() {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

/// `unwrap()` on an [`Outcome`] prints the readable listing, not a struct dump.
impl fmt::Debug for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Failure {
    fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

/// Turns collected failures into an outcome for `checked` files.
fn finish(check: &'static str, checked: usize, items: Vec<Failure>, notes: Vec<String>) -> Outcome {
    if !items.is_empty() {
        return Err(Failures::new(check, items));
    }
    if checked == 0 {
        let nothing = Failure::new("(none)", "found no files to check");
        return Err(Failures::new(check, vec![nothing]));
    }
    Ok(Verdict::Passed { checked, notes })
}

/// The outcome when `tool` cannot be used: a failure under `CI`, otherwise a skip with a
/// notice on stderr.
#[allow(clippy::print_stderr)] // the notice is the point: a test run says what it left out
fn missing_tool(check: &'static str, tool: &'static str, why: &str) -> Outcome {
    let ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
    let message = format!("{tool} is not usable here ({why}); run .ci/install-tools.sh");
    if ci {
        return Err(Failures::new(check, vec![Failure::new(tool, message)]));
    }
    eprintln!("notice: skipping {check}: {message}");
    Ok(Verdict::Skipped { tool })
}

/// Output of a finished command: exit success and stdout followed by stderr.
struct Ran {
    success: bool,
    text: String,
}

/// Runs `program` with `args`; `None` when it cannot be started (not installed).
fn run(program: &str, args: &[&str]) -> Option<Ran> {
    let output = Command::new(program).args(args).output().ok()?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some(Ran {
        success: output.status.success(),
        text,
    })
}

/// Files under `dir` (recursively, sorted by path) for which `wanted` holds.
fn files_under(dir: &Path, wanted: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && wanted(entry.path()))
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// `path` relative to `dir` for messages (the path itself when it is not under `dir`).
fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// A fresh empty directory under the system temp dir, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(purpose: &str) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("plat-{purpose}-{}-{serial}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

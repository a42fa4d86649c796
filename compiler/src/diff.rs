//! `plat diff`: what a build would change in out/, as a summary per platform object (from
//! `out/plat.model.json`, see [`crate::summary`]) and a unified diff per file.
//!
//! Reads out/ and never writes it. Tests: `compiler/tests/cli.rs`.

use std::fmt::Write as _;
use std::path::Path;

use similar::TextDiff;

use crate::emit::Files;
use crate::model::Model;
use crate::out::{OutError, Plan};
use crate::summary::{self, Change, Summary};

/// The object changes from the summary in `out` to `model`; `None` when out/ has no summary
/// this version can read (never built, or built by an older plat).
pub fn object_changes(out: &Path, model: &Model) -> Result<Option<Vec<Change>>, OutError> {
    let old: Option<Summary> = crate::out::read(out, summary::PATH)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| summary::parse(&text));
    Ok(old.map(|old| summary::compare(&old, &summary::summarize(model))))
}

/// The summary lines: `vm cp-1: memory 4GiB -> 8GiB  [needs a VM reboot]`.
pub fn render_changes(changes: &[Change]) -> String {
    let mut text = String::new();
    for change in changes {
        let _ = writeln!(text, "{change}  [{}]", change.impact());
    }
    text
}

/// A unified diff (3 lines of context) of every file the plan adds, changes or removes,
/// paths shown under `shown` (the out/ directory as the user named it). The summary file is
/// left out: the object summary above the diff says the same in words.
pub fn render_files(
    out: &Path,
    shown: &str,
    files: &Files,
    plan: &Plan,
) -> Result<String, OutError> {
    let mut text = String::new();
    let mut paths: Vec<&String> = plan
        .added
        .iter()
        .chain(&plan.changed)
        .chain(&plan.removed)
        .filter(|p| p.as_str() != summary::PATH)
        .collect();
    paths.sort();
    for path in paths {
        let old = read(out, path, plan.added.contains(path))?;
        let new = files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let old_name = if plan.added.contains(path) && old.is_empty() {
            "/dev/null".to_string()
        } else {
            format!("a/{shown}/{path}")
        };
        let new_name = match &new {
            Some(_) => format!("b/{shown}/{path}"),
            None => "/dev/null".to_string(),
        };
        let new = new.unwrap_or_default();
        let diff = TextDiff::from_lines(&old, &new);
        let _ = write!(
            text,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&old_name, &new_name)
        );
    }
    Ok(text)
}

/// The current text of an owned file; empty for a file that does not exist yet.
fn read(out: &Path, path: &str, added: bool) -> Result<String, OutError> {
    match crate::out::read(out, path)? {
        Some(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        None if added => Ok(String::new()),
        None => Err(OutError {
            path: out.join(path),
            message: "no such file".into(),
        }),
    }
}

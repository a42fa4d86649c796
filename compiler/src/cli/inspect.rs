//! The commands that look at a build without making one: `plat diff`, `plat explain` and
//! `plat graph`. Each compiles the sources, reads out/ at most, and writes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{compiled, no_model, Done, Error, Format};
use plat_lang::source::SourceMap;

use crate::explain::{Explanation, Origin};
use crate::render::{render_json, render_snippets, Snippet, Style};

/// `plat diff`: object summary, then the unified diff of every file a build would touch.
/// Without `--out`, a `path` inside an out/ tree names it, and the sources are the ones its
/// lock records.
pub(super) fn diff(path: PathBuf, out: Option<PathBuf>, format: Format, style: Style) -> Done {
    let (root, out) = match out {
        Some(out) => (path, out),
        None => match crate::out::find(&path) {
            Some((out, _)) => match crate::out::recorded_root(&out)? {
                Some(root) => (root, out),
                None => {
                    return Err(Error::Usage(format!(
                        "{} records no source root (an older plat wrote it); name the sources: `plat diff SOURCES --out {}`",
                        out.join(crate::out::LOCK).display(),
                        out.display()
                    )))
                }
            },
            None => (path, PathBuf::from("out")),
        },
    };
    let compilation = compiled(&root, format, style)?;
    let model = compilation.model.as_ref().ok_or_else(no_model)?;
    let files = crate::build::outputs(model);
    let lock = crate::out::Lock::new(crate::build::sources_hash(&compilation), &files)
        .with_root(crate::out::source_root(&root, &out));
    let plan = crate::out::plan(&out, &files, &lock)?;
    let changes = crate::diff::object_changes(&out, model)?;
    let shown = out.display().to_string();
    let text = crate::diff::render_files(&out, shown.trim_end_matches('/'), &files, &plan)?;
    let touched = |list: &[String]| list.iter().filter(|p| *p != crate::summary::PATH).count();
    match format {
        Format::Human => print_diff(&out, changes.as_deref(), &text),
        Format::Json => {
            let report = render_json(&compilation.front.loaded.sources, &compilation.diagnostics);
            let mut report: serde_json::Value =
                serde_json::from_str(&report).map_err(|e| Error::Internal(e.to_string()))?;
            let objects = changes.as_ref().map(|changes| {
                crate::diff::render_changes(changes)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
            let paths = |list: &[String]| -> Vec<String> {
                list.iter()
                    .filter(|p| *p != crate::summary::PATH)
                    .cloned()
                    .collect()
            };
            report["objects"] = serde_json::json!(objects);
            report["files"] = serde_json::json!({
                "added": paths(&plan.added),
                "changed": paths(&plan.changed),
                "removed": paths(&plan.removed),
            });
            report["diff"] = serde_json::json!(text);
            let _ = writeln!(std::io::stdout().lock(), "{report}");
        }
    }
    let objects = changes
        .as_ref()
        .map_or("not compared".to_string(), |c| c.len().to_string());
    eprintln!(
        "plat: objects changed: {objects}; files a build would add: {}, change: {}, remove: {}",
        touched(&plan.added),
        touched(&plan.changed),
        touched(&plan.removed)
    );
    Ok(())
}

/// The object lines (or why there are none), a blank line, the file diffs.
fn print_diff(out: &Path, changes: Option<&[crate::summary::Change]>, files: &str) {
    let mut text = match changes {
        Some(changes) => crate::diff::render_changes(changes),
        None => format!(
            "(no {} in {}: objects cannot be compared, only files)\n",
            crate::summary::PATH,
            out.display()
        ),
    };
    if !text.is_empty() && !files.is_empty() {
        text.push('\n');
    }
    text.push_str(files);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `plat explain FILE[:LINE]`: out/ is `--out`, else the nearest directory above FILE
/// holding `plat.lock`, else `out`; the sources are `--root`, else the root that lock
/// records, else `platform`.
pub(super) fn explain(
    target: &str,
    root: Option<PathBuf>,
    out: Option<PathBuf>,
    json: bool,
    style: Style,
) -> Done {
    let (file, line) = split_line(target);
    if line == Some(0) {
        return Err(Error::Usage(format!(
            "`{target}`: lines are numbered from 1"
        )));
    }
    let (out, relative, found) = match out {
        Some(out) => {
            let relative = relative_to(&out, Path::new(file)).map_err(Error::Usage)?;
            (out, relative, false)
        }
        None => match crate::out::find(Path::new(file)) {
            Some((out, relative)) => (out, relative, true),
            None => {
                let out = PathBuf::from("out");
                let relative = relative_to(&out, Path::new(file)).map_err(Error::Usage)?;
                (out, relative, false)
            }
        },
    };
    let root = match root {
        Some(root) => root,
        None => match crate::out::recorded_root(&out)? {
            Some(root) => root,
            None if found && !Path::new("platform").exists() => {
                return Err(Error::Usage(format!(
                    "{} records no source root (an older plat wrote it), and there is no `platform` here: name the sources with `--root`",
                    out.join(crate::out::LOCK).display()
                )))
            }
            None => PathBuf::from("platform"),
        },
    };
    let compilation = compiled(&root, Format::Human, style)?;
    let model = compilation.model.as_ref().ok_or_else(no_model)?;
    let files = crate::build::outputs(model);
    let Some(generated) = files.get(&relative) else {
        return Err(Error::Usage(format!(
            "{file}: plat does not generate `{relative}` from {} (is it an operator's file, or a stale one?)",
            root.display()
        )));
    };
    let generated = String::from_utf8_lossy(generated).into_owned();
    warn_if_stale(&out, &relative, &generated, file);
    let explanation = crate::explain::explain(model, &relative, &generated, line);
    let Some(explanation) = explanation else {
        return Err(Error::Usage(match line {
            Some(n) if generated.lines().count() < n => format!(
                "{file} has {} lines; there is no line {n}",
                generated.lines().count()
            ),
            _ => format!("{file}: plat cannot explain this file (it is bookkeeping, not generated from one entity)"),
        }));
    };
    let sources = &compilation.front.loaded.sources;
    let mut stdout = std::io::stdout().lock();
    if json {
        let text = explanation_json(sources, file, line, &generated, &explanation);
        let _ = writeln!(stdout, "{text}");
        return Ok(());
    }
    let _ = stdout.write_all(header(file, line, &generated, &explanation).as_bytes());
    let snippets: Vec<Snippet> = explanation
        .origins
        .iter()
        .map(|origin| snippet(sources, origin))
        .collect();
    let _ = stdout.write_all(render_snippets(sources, &snippets, style).as_bytes());
    Ok(())
}

/// `plat graph`.
pub(super) fn graph(root: PathBuf, format: crate::graph::Format, style: Style) -> Done {
    let compilation = compiled(&root, Format::Human, style)?;
    let model = compilation.model.as_ref().ok_or_else(no_model)?;
    let _ = std::io::stdout()
        .lock()
        .write_all(crate::graph::render(model, format).as_bytes());
    Ok(())
}

/// `path:12` → (`path`, 12); a path without a numeric suffix has no line.
fn split_line(target: &str) -> (&str, Option<usize>) {
    match target.rsplit_once(':') {
        Some((file, number))
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (file, number.parse().ok())
        }
        _ => (target, None),
    }
}

/// `file` as a `/`-separated path relative to `out`: a path under out/ (as written, or after
/// resolving both), else taken as already relative to out/.
fn relative_to(out: &Path, file: &Path) -> Result<String, String> {
    let join = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    if let Ok(rest) = file.strip_prefix(out) {
        return Ok(join(rest));
    }
    if let (Ok(out_full), Ok(file_full)) = (out.canonicalize(), file.canonicalize()) {
        return match file_full.strip_prefix(&out_full) {
            Ok(rest) => Ok(join(rest)),
            Err(_) => Err(format!(
                "{} is not under the out/ directory {} (use --out)",
                file.display(),
                out.display()
            )),
        };
    }
    if file.is_absolute() {
        return Err(format!(
            "{}: no such file under {}",
            file.display(),
            out.display()
        ));
    }
    Ok(join(file))
}

/// Warns when the file at `relative` in `out` is not what the sources produce (read through
/// out/'s handles: a link or a FIFO there is reported, never followed or waited on).
fn warn_if_stale(out: &Path, relative: &str, generated: &str, shown: &str) {
    match crate::out::read(out, relative) {
        Ok(Some(bytes)) if bytes == generated.as_bytes() => {}
        Ok(Some(_)) => eprintln!(
            "warning: {shown} differs from what the sources produce (stale, or edited by hand); explaining the generated text"
        ),
        Ok(None) => eprintln!(
            "warning: {shown} does not exist yet; explaining the text `plat build` would write"
        ),
        Err(e) => eprintln!("warning: cannot read {e}; explaining the text `plat build` would write"),
    }
}

fn header(file: &str, line: Option<usize>, text: &str, explanation: &Explanation) -> String {
    let mut out = match line {
        Some(n) => format!(
            "{file}:{n}: {}\n",
            text.lines().nth(n - 1).unwrap_or_default().trim()
        ),
        None => format!("{file}\n"),
    };
    out.push_str(&format!("  generated for {}\n", explanation.owner));
    if let Some(note) = &explanation.note {
        out.push_str(&format!("  note: {note}\n"));
    }
    out.push('\n');
    out
}

/// `{"version":1,"file","line","text","owner","note","origins":[...]}`, each origin with its
/// source file, 1-based line and column range, and the default it is, if any.
fn explanation_json(
    sources: &SourceMap,
    file: &str,
    line: Option<usize>,
    text: &str,
    explanation: &Explanation,
) -> String {
    let origins: Vec<serde_json::Value> = explanation
        .origins
        .iter()
        .map(|origin| {
            let source = sources.get(origin.span.file);
            let (line, column) = source.line_col(origin.span.start);
            let (end_line, end_column) = source.line_col(origin.span.end);
            serde_json::json!({
                "what": origin.what,
                "file": source.path,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "source": sources.snippet(origin.span),
                "default_of": origin.default_of,
            })
        })
        .collect();
    let line_text = line.and_then(|n| text.lines().nth(n - 1));
    serde_json::json!({
        "version": 1,
        "file": file,
        "line": line,
        "text": line_text,
        "owner": explanation.owner,
        "note": explanation.note,
        "origins": origins,
    })
    .to_string()
}

fn snippet(sources: &SourceMap, origin: &Origin) -> Snippet {
    match &origin.default_of {
        Some(default) => Snippet {
            span: origin.span,
            message: format!(
                "{} = {} (a default)",
                origin.what,
                sources.snippet(origin.span).trim()
            ),
            label: format!("default of `{default}` in the prelude"),
            help: Some(format!(
                "set it in the entity to override the default of `{default}`"
            )),
        },
        None if origin.what.contains(": ") => Snippet {
            span: origin.span,
            message: origin.what.clone(),
            label: "set here".to_string(),
            help: None,
        },
        None => Snippet {
            span: origin.span,
            message: origin.what.clone(),
            label: "declared here".to_string(),
            help: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_a_numeric_suffix() {
        assert_eq!(split_line("out/a.conf:20"), ("out/a.conf", Some(20)));
        assert_eq!(split_line("out/a.conf"), ("out/a.conf", None));
        assert_eq!(split_line("c:/x"), ("c:/x", None));
    }

    #[test]
    fn paths_under_out_become_relative() {
        let out = Path::new("out");
        assert_eq!(
            relative_to(out, Path::new("out/proxmox/a.conf")),
            Ok("proxmox/a.conf".into())
        );
        assert_eq!(
            relative_to(out, Path::new("proxmox/a.conf")),
            Ok("proxmox/a.conf".into())
        );
    }
}

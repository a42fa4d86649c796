//! `plat explain`: from a generated file, or one line of it, back to the `.plat` source spans
//! that produced it.
//!
//! Mechanism: emitters stay pure `fn(&Model) -> Files` and know nothing of explanations.
//! Beside them, one small function per target reads a generated path (which names the entity
//! that owns the file: `proxmox/<host>/qemu-server/<vmid>.conf` is a VM, `cloud-init/<vm>/…` a
//! VM, `kubernetes/<cluster>/<ns>/service-<name>.yaml` a service) and, for a line, its key
//! (`memory:` in a `.conf`, a YAML key, an XML element inside a `<rule>`), and names the model
//! fields behind it. Every model field is an `At<T>`, so a field is a span, and a prelude
//! default is a span in the prelude with `from_default` set.
//!
//! The tables live in `explain/<target>.rs`, each citing the emitter it mirrors; a key the
//! table does not know falls back to the owning entity, so an explanation is never empty for
//! a file plat generates. Tests: at the bottom of each file and `compiler/tests/cli.rs`.

mod cloud_init;
mod k8s;
mod pfsense;
mod proxmox;

use plat_lang::span::Span;

use crate::model::{At, Model};

/// One source span behind a generated value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// What the span is, in the operator's words (`vm cp-3: memory`, `vm cp-3`).
    pub what: String,
    /// Where in the sources (or the prelude).
    pub span: Span,
    /// For a prelude default, the field it is the default of (`Vm.cpu`).
    pub default_of: Option<String>,
}

/// The explanation of a file or a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The entity that owns the file (`vm cp-3`).
    pub owner: String,
    /// The spans behind the line (or the file), most specific first.
    pub origins: Vec<Origin>,
    /// A remark on a value plat writes by itself (`plat writes this for every VM`).
    pub note: Option<String>,
}

/// The explanation of generated file `path` (relative to out/) whose text is `contents`, or
/// of its line `line` (1-based); `None` when plat does not generate `path` from the model or
/// the line does not exist.
pub fn explain(
    model: &Model,
    path: &str,
    contents: &str,
    line: Option<usize>,
) -> Option<Explanation> {
    let (target, rest) = path.split_once('/')?;
    let line = match line {
        Some(number) => Some(Line {
            number,
            text: contents.lines().nth(number.checked_sub(1)?)?,
            file: contents,
        }),
        None => None,
    };
    match target {
        "proxmox" => proxmox::explain(model, rest, line),
        "cloud-init" => cloud_init::explain(model, rest, line),
        "kubernetes" => k8s::explain(model, rest, line),
        "pfsense" => pfsense::explain(model, rest, line),
        _ => None,
    }
}

/// A line of a generated file.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    /// 1-based.
    number: usize,
    /// The line, without its end.
    text: &'a str,
    /// The whole file, for targets that read a line's surroundings.
    file: &'a str,
}

impl<'a> Line<'a> {
    /// The key of a `key: value` (YAML, `.conf`) or `- key: value` line; `None` for a line
    /// without a key (a list item, a comment, a block scalar's text).
    fn key(&self) -> Option<&'a str> {
        let trimmed = self.text.trim_start().trim_start_matches("- ");
        let (key, _) = trimmed.split_once(':')?;
        let key = key.trim().trim_matches('"');
        (!key.is_empty() && !key.contains(' ') && !key.starts_with('#')).then_some(key)
    }

    /// The element name of an XML line (`<descr>` → `descr`).
    fn element(&self) -> Option<&'a str> {
        let trimmed = self.text.trim_start().strip_prefix('<')?;
        let trimmed = trimmed.strip_prefix('/').unwrap_or(trimmed);
        let end = trimmed.find(['>', ' ', '/'])?;
        Some(&trimmed[..end])
    }
}

/// The origin of field `what` written as `at`; `prelude` names the field in the prelude
/// (`Vm.memory`) for when the value is its default.
fn field<T>(what: String, prelude: &str, at: &At<T>) -> Origin {
    Origin {
        what,
        span: at.span,
        default_of: at.from_default.then(|| prelude.to_string()),
    }
}

/// The origin of an entity's declaration.
fn entity(what: String, span: Span) -> Origin {
    Origin {
        what,
        span,
        default_of: None,
    }
}

/// An explanation of the whole of an entity's file, or of a line with no finer mapping.
fn owned_by(owner: String, span: Span) -> Explanation {
    Explanation {
        origins: vec![entity(owner.clone(), span)],
        owner,
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_elements_of_lines() {
        let line = |text| Line {
            number: 1,
            text,
            file: text,
        };
        assert_eq!(line("memory: 8192").key(), Some("memory"));
        assert_eq!(line("    - name: ops").key(), Some("name"));
        assert_eq!(line("#Disks, created once").key(), None);
        assert_eq!(
            line("\t\t<descr><![CDATA[x]]></descr>").element(),
            Some("descr")
        );
        assert_eq!(line("\t</rule>").element(), Some("rule"));
    }

    #[test]
    fn files_outside_the_targets_are_not_explained() {
        let model = crate::model::fixture::small();
        assert_eq!(explain(&model, "secrets.required", "", None), None);
        assert_eq!(explain(&model, "plat.model.json", "{}", None), None);
    }
}

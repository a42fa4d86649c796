//! A small YAML writer for the documents plat emits (cloud-init, Kubernetes, kubeadm).
//!
//! Why not serde_yaml: its writer leaves strings such as `on`, `yes`, `12:30`, `1_000`,
//! `2001-12-14` or `0755` unquoted, and YAML 1.1 readers (PyYAML in cloud-init, and
//! Kubernetes' sigs.k8s.io/yaml) read those back as booleans, sexagesimal integers, dates or
//! octal. Every string we write reads back as the same string under YAML 1.1 and 1.2.
//!
//! Layout: block style only, two-space indentation, sequences indented under their key,
//! a collection inside a sequence starts on the dash line (`- name: x`, `- - a`), empty collections as
//! `[]` / `{}`. Strings: see [`scalar`] (plain only when provably safe, else double-quoted;
//! multi-line values as literal block scalars). Keys longer than 1024 characters, which
//! YAML does not allow as implicit keys (PyYAML `scanner.py` `stale_possible_simple_keys`),
//! are written as explicit `? key` entries.
//!
//! Tests: unit tests below and in `yaml/scalar.rs`; `tests/tests/yaml_roundtrip.rs` reads a
//! corpus back with PyYAML (YAML 1.1) and with a YAML 1.2 parser.

mod scalar;

use scalar::Style;

/// A YAML node. Mappings keep insertion order (emitters choose the order explicitly).
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string (always read back as the same string).
    Str(String),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A mapping with string keys, in order.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// A string node.
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    /// A mapping from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
        Yaml::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A sequence of strings.
    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Yaml {
        Yaml::Seq(items.into_iter().map(Yaml::str).collect())
    }
}

/// Writes one document (no `---`), ending in a newline.
pub fn to_string(doc: &Yaml) -> String {
    let mut out = String::new();
    write_node(&mut out, doc, 0, false);
    out
}

/// Writes several documents separated by `---` lines.
pub fn documents(docs: &[Yaml]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(doc));
    }
    out
}

/// The longest key written as an implicit (`key: value`) key.
const MAX_IMPLICIT_KEY: usize = 1024;

/// Writes a node as a block: a non-empty mapping or sequence with its entries at column
/// `indent`, anything else on one line. With `continued`, the first line is the current one
/// (after `- `).
fn write_node(out: &mut String, node: &Yaml, indent: usize, continued: bool) {
    let mut first = true;
    let mut start_entry = |out: &mut String| {
        if !(first && continued) {
            push_indent(out, indent);
        }
        first = false;
    };
    match node {
        Yaml::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                start_entry(out);
                write_key(out, key, indent);
                write_value(out, value, indent, false);
            }
        }
        Yaml::Seq(items) if !items.is_empty() => {
            for item in items {
                start_entry(out);
                out.push('-');
                write_value(out, item, indent, true);
            }
        }
        // Only a document is a scalar here. It stays on one line: the indentation indicator
        // of a block scalar means different things at the top level to PyYAML and to YAML 1.2.
        other => {
            start_entry(out);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// Writes `key:` (or `? key` and `:` on the next line when the key is too long).
fn write_key(out: &mut String, key: &str, indent: usize) {
    let key = scalar::inline(key);
    if key.chars().count() > MAX_IMPLICIT_KEY {
        out.push_str("? ");
        out.push_str(&key);
        out.push('\n');
        push_indent(out, indent);
    } else {
        out.push_str(&key);
    }
    out.push(':');
}

/// Writes the value after `key:` or `-` at column `indent`, ending the line.
fn write_value(out: &mut String, value: &Yaml, indent: usize, after_dash: bool) {
    match value {
        Yaml::Map(_) | Yaml::Seq(_) if !is_empty_collection(value) => {
            if after_dash {
                out.push(' ');
                write_node(out, value, indent + 2, true);
            } else {
                out.push('\n');
                write_node(out, value, indent + 2, false);
            }
        }
        Yaml::Str(text) if scalar::value_style(text) == Style::Literal => {
            write_literal(out, text, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// Writes ` |…` and the lines of `text` at column `indent`; empty lines stay empty.
fn write_literal(out: &mut String, text: &str, indent: usize) {
    out.push(' ');
    out.push_str(&scalar::literal_header(text));
    out.push('\n');
    for line in scalar::literal_lines(text) {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn inline(node: &Yaml) -> String {
    match node {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Str(s) => scalar::inline(s),
        Yaml::Seq(_) => "[]".into(),
        Yaml::Map(_) => "{}".into(),
    }
}

fn is_empty_collection(node: &Yaml) -> bool {
    match node {
        Yaml::Map(entries) => entries.is_empty(),
        Yaml::Seq(items) => items.is_empty(),
        _ => false,
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Yaml {
        Yaml::map([
            ("name", Yaml::str("cp-1")),
            ("on", Yaml::str("yes")),
            ("count", Yaml::Int(3)),
            ("enabled", Yaml::Bool(true)),
            ("none", Yaml::Null),
            ("empty", Yaml::Seq(vec![])),
            ("nothing", Yaml::map::<String>([])),
            ("list", Yaml::strs(["a", "12:30"])),
            (
                "users",
                Yaml::Seq(vec![
                    Yaml::map([("name", Yaml::str("ops")), ("groups", Yaml::strs(["sudo"]))]),
                    Yaml::Seq(vec![Yaml::Int(1)]),
                ]),
            ),
            ("script", Yaml::str("#!/bin/sh\n  echo hi\n")),
            ("indented", Yaml::str("  x\ny")),
            ("kept", Yaml::Seq(vec![Yaml::str("a\n\nb\n\n")])),
        ])
    }

    #[test]
    fn writes_block_layout() {
        let expected = "\
name: cp-1
\"on\": \"yes\"
count: 3
enabled: true
none: null
empty: []
nothing: {}
list:
  - a
  - \"12:30\"
users:
  - name: ops
    groups:
      - sudo
  - - 1
script: |
  #!/bin/sh
    echo hi
indented: |2-
    x
  y
kept:
  - |+
    a

    b

";
        assert_eq!(to_string(&sample()), expected);
    }

    #[test]
    fn documents_are_separated() {
        let docs = documents(&[Yaml::map([("a", Yaml::Int(1))]), Yaml::str("on")]);
        assert_eq!(docs, "a: 1\n---\n\"on\"\n");
    }

    #[test]
    fn multi_line_keys_and_top_level_scalars_stay_quoted() {
        let doc = Yaml::map([("a\nb", Yaml::Null)]);
        assert_eq!(to_string(&doc), "\"a\\nb\": null\n");
        assert_eq!(to_string(&Yaml::str("x\ny")), "\"x\\ny\"\n");
    }

    #[test]
    fn long_keys_are_explicit() {
        let key = "k".repeat(MAX_IMPLICIT_KEY + 1);
        let doc = Yaml::map([(key.clone(), Yaml::strs(["v"]))]);
        assert_eq!(to_string(&doc), format!("? {key}\n:\n  - v\n"));
    }
}

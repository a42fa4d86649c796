//! A small YAML writer for the documents plat emits (cloud-init, Kubernetes, kubeadm).
//!
//! Why not serde_yaml: its writer leaves strings such as `on`, `yes`, `12:30`, `1_000`,
//! `2001-12-14` or `0755` unquoted, and YAML 1.1 readers (PyYAML in cloud-init, and
//! Kubernetes' sigs.k8s.io/yaml) read those back as booleans, sexagesimal integers, dates or
//! octal. Every string we write must read back as the same string under YAML 1.1 and 1.2.

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
}

/// Writes one document (no `---`), ending in a newline.
pub fn to_string(doc: &Yaml) -> String {
    let mut out = String::new();
    write_block(&mut out, doc, 0);
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

fn write_block(out: &mut String, node: &Yaml, indent: usize) {
    match node {
        Yaml::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                push_indent(out, indent);
                out.push_str(&scalar(key));
                out.push(':');
                write_value(out, value, indent);
            }
        }
        Yaml::Seq(items) if !items.is_empty() => {
            for item in items {
                push_indent(out, indent);
                out.push('-');
                write_value(out, item, indent);
            }
        }
        other => {
            push_indent(out, indent);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn write_value(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_block(out, value, indent + 2);
        }
        Yaml::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_block(out, value, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn inline(node: &Yaml) -> String {
    match node {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Str(s) => scalar(s),
        Yaml::Seq(_) => "[]".into(),
        Yaml::Map(_) => "{}".into(),
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A string as a YAML scalar: plain only when it is unambiguously a string, else double-quoted.
fn scalar(s: &str) -> String {
    if is_safe_plain(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings always serialize")
    }
}

fn is_safe_plain(s: &str) -> bool {
    let first = match s.chars().next() {
        Some(c) => c,
        None => return false,
    };
    first.is_ascii_alphabetic()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !is_reserved_word(s)
}

fn is_reserved_word(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    WORDS.contains(&s.to_ascii_lowercase().as_str())
}

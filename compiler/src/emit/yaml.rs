//! A small YAML writer for the documents plat emits (cloud-init, Kubernetes, kubeadm).
//!
//! Why not serde_yaml: its writer leaves strings such as `on`, `yes`, `12:30`, `1_000`,
//! `2001-12-14` or `0755` unquoted, and YAML 1.1 readers (PyYAML in cloud-init, and
//! Kubernetes' sigs.k8s.io/yaml) read those back as booleans, sexagesimal integers, dates or
//! octal. Every string we write reads back as the same string under YAML 1.1 and 1.2.
//!
//! Two ways in, one writer: a document is either built as a [`Yaml`] tree and written with
//! [`to_string`] / [`documents`] / [`Stream::node`], or written entry by entry, straight into
//! the output, with [`Stream::map`] and the [`Map`] and [`Seq`] it hands out (what the hot
//! Kubernetes emitters do: no tree, no string per scalar). Trees are written through the same
//! [`Map`] and [`Seq`], so both give the same bytes.
//!
//! Layout: block style only, two-space indentation, sequences indented under their key,
//! a collection inside a sequence starts on the dash line (`- name: x`, `- - a`), empty collections as
//! `[]` / `{}`. Strings: see `scalar` (plain only when provably safe, else double-quoted;
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
    let mut stream = Stream::new(String::new());
    stream.node(doc);
    stream.finish()
}

/// Writes several documents separated by `---` lines.
pub fn documents(docs: &[Yaml]) -> String {
    let mut stream = Stream::new(String::new());
    for doc in docs {
        stream.node(doc);
    }
    stream.finish()
}

/// Documents appended to a string, separated by `---` lines.
pub struct Stream {
    out: String,
    started: bool,
}

impl Stream {
    /// A stream that appends to `out` (which may already hold, say, comment lines).
    pub fn new(out: String) -> Stream {
        Stream {
            out,
            started: false,
        }
    }

    /// A mapping document whose entries `entries` writes.
    pub fn map(&mut self, entries: impl FnOnce(&mut Map)) {
        self.separate();
        Map::write(&mut self.out, 0, Start::Line, entries);
    }

    /// A document built as a tree.
    pub fn node(&mut self, doc: &Yaml) {
        self.separate();
        match doc {
            Yaml::Map(entries) if !entries.is_empty() => {
                Map::write(&mut self.out, 0, Start::Line, |map| map.nodes(entries));
            }
            Yaml::Seq(items) if !items.is_empty() => {
                Seq::write(&mut self.out, 0, Start::Line, |seq| seq.nodes(items));
            }
            // A scalar document stays on one line: the indentation indicator of a block
            // scalar means different things at the top level to PyYAML and to YAML 1.2.
            scalar => {
                write_one_line(&mut self.out, scalar);
                self.out.push('\n');
            }
        }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    /// The text written, as bytes without spare capacity (a build holds every file in memory
    /// until it writes them; shrinking copies only a buffer less than half used).
    pub fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.out.into_bytes();
        bytes.shrink_to_fit();
        bytes
    }

    fn separate(&mut self) {
        if self.started {
            self.out.push_str("---\n");
        }
        self.started = true;
    }
}

/// A block mapping being written: each call writes one entry.
pub struct Map<'o>(Block<'o>);

/// A block sequence being written: each call writes one item.
pub struct Seq<'o>(Block<'o>);

impl Map<'_> {
    /// Writes the mapping whose entries `entries` writes (`{}` when it writes none).
    fn write(out: &mut String, indent: usize, start: Start, entries: impl FnOnce(&mut Map)) {
        let mut map = Map(Block::new(out, indent, start));
        entries(&mut map);
        map.0.end("{}");
    }

    /// `key: value`.
    pub fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_str(self.0.out, value, self.0.indent + 2);
    }

    /// `key: 12`.
    pub fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        write_int(self.0.out, value);
    }

    /// `key: true`.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.0
            .out
            .push_str(if value { " true\n" } else { " false\n" });
    }

    /// `key:` and the mapping `entries` writes, indented under it.
    pub fn map(&mut self, key: &str, entries: impl FnOnce(&mut Map)) {
        self.key(key);
        Map::write(self.0.out, self.0.indent + 2, Start::NextLine, entries);
    }

    /// `key:` and the sequence `items` writes, indented under it.
    pub fn seq(&mut self, key: &str, items: impl FnOnce(&mut Seq)) {
        self.key(key);
        Seq::write(self.0.out, self.0.indent + 2, Start::NextLine, items);
    }

    /// `key:` and a sequence of strings.
    pub fn strs<S: AsRef<str>>(&mut self, key: &str, items: impl IntoIterator<Item = S>) {
        self.seq(key, |seq| {
            for item in items {
                seq.str(item.as_ref());
            }
        });
    }

    /// `key:` and a tree.
    pub fn node(&mut self, key: &str, value: &Yaml) {
        match value {
            Yaml::Str(text) => self.str(key, text),
            Yaml::Map(entries) => self.map(key, |map| map.nodes(entries)),
            Yaml::Seq(items) => self.seq(key, |seq| seq.nodes(items)),
            scalar => {
                self.key(key);
                self.0.out.push(' ');
                write_one_line(self.0.out, scalar);
                self.0.out.push('\n');
            }
        }
    }

    fn nodes(&mut self, entries: &[(String, Yaml)]) {
        for (key, value) in entries {
            self.node(key, value);
        }
    }

    /// Starts an entry with `key:` (or `? key` and `:` on the next line when the key is too
    /// long to be an implicit key).
    fn key(&mut self, key: &str) {
        self.0.start_entry();
        let out = &mut *self.0.out;
        let start = out.len();
        scalar::write_inline(out, key);
        // A key has at least as many bytes as characters: only long ones are counted.
        let written = &out[start..];
        if written.len() > MAX_IMPLICIT_KEY && written.chars().count() > MAX_IMPLICIT_KEY {
            out.insert_str(start, "? ");
            out.push('\n');
            push_indent(out, self.0.indent);
        }
        out.push(':');
    }
}

impl Seq<'_> {
    /// Writes the sequence whose items `items` writes (`[]` when it writes none).
    fn write(out: &mut String, indent: usize, start: Start, items: impl FnOnce(&mut Seq)) {
        let mut seq = Seq(Block::new(out, indent, start));
        items(&mut seq);
        seq.0.end("[]");
    }

    /// `- value`.
    pub fn str(&mut self, value: &str) {
        self.dash();
        write_str(self.0.out, value, self.0.indent + 2);
    }

    /// `- 12`.
    pub fn int(&mut self, value: i64) {
        self.dash();
        write_int(self.0.out, value);
    }

    /// `- ` and the mapping `entries` writes, its first entry on the dash line.
    pub fn map(&mut self, entries: impl FnOnce(&mut Map)) {
        self.dash();
        Map::write(self.0.out, self.0.indent + 2, Start::SameLine, entries);
    }

    /// `- ` and the sequence `items` writes, its first item on the dash line.
    pub fn seq(&mut self, items: impl FnOnce(&mut Seq)) {
        self.dash();
        Seq::write(self.0.out, self.0.indent + 2, Start::SameLine, items);
    }

    /// `- ` and a tree.
    pub fn node(&mut self, value: &Yaml) {
        match value {
            Yaml::Str(text) => self.str(text),
            Yaml::Map(entries) => self.map(|map| map.nodes(entries)),
            Yaml::Seq(items) => self.seq(|seq| seq.nodes(items)),
            scalar => {
                self.dash();
                self.0.out.push(' ');
                write_one_line(self.0.out, scalar);
                self.0.out.push('\n');
            }
        }
    }

    fn nodes(&mut self, items: &[Yaml]) {
        for item in items {
            self.node(item);
        }
    }

    fn dash(&mut self) {
        self.0.start_entry();
        self.0.out.push('-');
    }
}

/// Where the first entry of a collection starts; every later one starts a line of its own.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// At the start of a line (a document).
    Line,
    /// On the line after its `key:`.
    NextLine,
    /// On its `-` line, after a space.
    SameLine,
}

/// What a mapping and a sequence being written share: the output, the column of their
/// entries, and whether an entry was written yet (an empty collection is written `{}` or
/// `[]` on the line of its key or dash, which is known only at its end).
struct Block<'o> {
    out: &'o mut String,
    indent: usize,
    start: Start,
    empty: bool,
}

impl<'o> Block<'o> {
    fn new(out: &'o mut String, indent: usize, start: Start) -> Block<'o> {
        Block {
            out,
            indent,
            start,
            empty: true,
        }
    }

    /// Moves to where the next entry starts.
    fn start_entry(&mut self) {
        match (self.empty, self.start) {
            (true, Start::SameLine) => self.out.push(' '),
            (true, Start::NextLine) => {
                self.out.push('\n');
                push_indent(self.out, self.indent);
            }
            _ => push_indent(self.out, self.indent),
        }
        self.empty = false;
    }

    /// Ends the collection; `empty_text` is what an empty one is written as.
    fn end(self, empty_text: &str) {
        if self.empty {
            if self.start != Start::Line {
                self.out.push(' ');
            }
            self.out.push_str(empty_text);
            self.out.push('\n');
        }
    }
}

/// The longest key written as an implicit (`key: value`) key.
const MAX_IMPLICIT_KEY: usize = 1024;

/// Writes the rest of the line after `key:` or `-` for a string: ` value` in its inline
/// style, or a literal block scalar with its lines at column `indent`.
fn write_str(out: &mut String, text: &str, indent: usize) {
    match scalar::value_style(text) {
        Style::Literal => write_literal(out, text, indent),
        Style::Plain => {
            out.push(' ');
            out.push_str(text);
            out.push('\n');
        }
        Style::DoubleQuoted => {
            out.push(' ');
            scalar::write_double_quoted(out, text);
            out.push('\n');
        }
    }
}

/// Writes ` 12` and ends the line.
fn write_int(out: &mut String, value: i64) {
    out.push(' ');
    push_int(out, value);
    out.push('\n');
}

/// Writes the decimal digits of `value` (what `Display` writes, without its machinery).
fn push_int(out: &mut String, value: i64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Writes a node that fits on one line: a scalar, or an empty collection.
fn write_one_line(out: &mut String, node: &Yaml) {
    match node {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Int(i) => push_int(out, *i),
        Yaml::Str(s) => scalar::write_inline(out, s),
        Yaml::Seq(_) => out.push_str("[]"),
        Yaml::Map(_) => out.push_str("{}"),
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

fn push_indent(out: &mut String, indent: usize) {
    const SPACES: &str = "                                ";
    let mut left = indent;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
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
    fn entries_written_one_by_one_match_the_tree() {
        let mut stream = Stream::new("# header\n".to_string());
        stream.map(|map| {
            map.str("name", "cp-1");
            map.str("on", "yes");
            map.int("count", 3);
            map.bool("enabled", true);
            map.node("none", &Yaml::Null);
            map.seq("empty", |_| {});
            map.map("nothing", |_| {});
            map.strs("list", ["a", "12:30"]);
            map.seq("users", |users| {
                users.map(|user| {
                    user.str("name", "ops");
                    user.strs("groups", ["sudo"]);
                });
                users.seq(|inner| inner.int(1));
            });
            map.str("script", "#!/bin/sh\n  echo hi\n");
            map.str("indented", "  x\ny");
            map.seq("kept", |kept| kept.str("a\n\nb\n\n"));
        });
        stream.map(|_| {});
        stream.map(|map| {
            map.seq("items", |items| {
                items.map(|_| {});
                items.seq(|_| {});
            });
        });
        let tree_items = Yaml::Seq(vec![Yaml::Map(Vec::new()), Yaml::Seq(Vec::new())]);
        let trees = [
            sample(),
            Yaml::Map(Vec::new()),
            Yaml::map([("items", tree_items)]),
        ];
        let text = stream.finish();
        assert_eq!(text, format!("# header\n{}", documents(&trees)));
        assert!(
            text.ends_with("---\n{}\n---\nitems:\n  - {}\n  - []\n"),
            "{text}"
        );
    }

    #[test]
    fn integers_are_written_in_decimal() {
        for value in [0, 7, -7, 10, 65532, -100, i64::MAX, i64::MIN] {
            let mut out = String::new();
            push_int(&mut out, value);
            assert_eq!(out, value.to_string());
        }
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

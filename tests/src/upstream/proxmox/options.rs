//! The qm.conf(5) option table, parsed from pve-docs' `qm.conf.5-opts.adoc`.
//!
//! Entry lines of the generated file:
//! - `` `name`: `syntax` ('default =' `x`):: `` starts an option (`name[n]` when numbered);
//! - `` `key`=`type` ('default =' `x`);; `` is a key of that option's property string.
//!
//! The syntax string names the property-string keys (`[,bridge=<bridge>]`), the default key
//! that takes a bare value (`[model=]<enum>`), and key aliases (`[,<model>=<macaddr>]`: each
//! model name is a key). Types are `<boolean>`, `<integer> (min - max)`, `<number> (...)`,
//! enums `<a | b>`, or free text.
//!
//! Tests: `tests` below.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// pve-docs `generated/qm.conf.5-opts.adoc` (GFDL-1.3-or-later, see `tests/data/README.md`).
const QM_CONF_OPTS: &str = include_str!("../../../data/qm.conf.5-opts.adoc");

/// Options qemu-server has that the generated doc leaves out, written in the doc's own
/// entry format so they go through the same parser: `meta` (qemu-server
/// `src/PVE/QemuServer.pm` `$confdesc`, format `QemuServer/MetaInfo.pm` `$meta_info_fmt`),
/// which PVE writes on create and emitters are advised to write (reference `proxmox.md` §5).
const NOT_IN_DOC: &str = "\
`meta`: `[creation-qemu=<string>] [,ctime=<integer>]` ::
`creation-qemu`=`<string>` ;;
`ctime`=`<integer> (0 - N)` ;;
";

/// How many of a numbered option exist where the doc does not say "(n is 0 to X)":
/// qemu-server `src/PVE/QemuServer.pm` `$MAX_NETS`, `QemuServer/PCI.pm`
/// `$MAX_HOSTPCI_DEVICES`, `QemuServer/Memory.pm` `$MAX_NUMA`, `QemuServer/Drive.pm`
/// `$MAX_UNUSED_DISKS`, `QemuServer/Virtiofs.pm` `$MAX_VIRTIOFS` (at e6352be67f70).
const COUNTS_FROM_SOURCE: &[(&str, u32)] = &[
    ("hostpci", 16),
    ("ipconfig", 32),
    ("net", 32),
    ("numa", 8),
    ("unused", 256),
    ("virtiofs", 10),
];

/// The type of a value or a property-string item.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ValueType {
    /// `0` or `1` as written by PVE.
    Boolean,
    /// An integer within optional bounds.
    Integer { min: Option<f64>, max: Option<f64> },
    /// A number within optional bounds.
    Number { min: Option<f64>, max: Option<f64> },
    /// One of the listed words.
    Enum(Vec<String>),
    /// Anything (volumes, addresses, free text): not checked here.
    Free,
}

/// One option of qm.conf(5).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OptionSpec {
    /// The name without `[n]`.
    pub name: String,
    /// `Some` for numbered options (`net[n]`): how many exist, if known.
    pub numbered: Option<Option<u32>>,
    /// The type of the whole value (when it is not a property string).
    pub value: ValueType,
    /// Property-string keys and their types (empty: not a property string).
    pub properties: BTreeMap<String, ValueType>,
    /// The key a bare property-string value belongs to.
    pub default_key: Option<String>,
}

/// All options, by adoc name (`cores`, `net[n]`).
#[derive(Debug)]
pub(super) struct Options {
    by_name: BTreeMap<String, OptionSpec>,
}

impl Options {
    /// The table parsed from the bundled adoc (once).
    pub fn get() -> &'static Options {
        static OPTIONS: OnceLock<Options> = OnceLock::new();
        OPTIONS.get_or_init(|| parse(&format!("{QM_CONF_OPTS}\n{NOT_IN_DOC}")))
    }

    /// The option a config key names: `cores`, or `net0` for `net[n]` within its count.
    pub fn lookup(&self, key: &str) -> Result<&OptionSpec, String> {
        if let Some(spec) = self.by_name.get(key) {
            return Ok(spec);
        }
        let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &key[base.len()..];
        let canonical = !digits.is_empty() && (digits == "0" || !digits.starts_with('0'));
        let spec = self
            .by_name
            .get(&format!("{base}[n]"))
            .filter(|_| canonical)
            .ok_or_else(|| format!("unknown option `{key}`"))?;
        let index: u32 = digits
            .parse()
            .map_err(|_| format!("bad index in `{key}`"))?;
        match spec.numbered {
            Some(Some(count)) if index >= count => Err(format!(
                "`{key}` is out of range: `{base}` has {count} (0 to {})",
                count - 1
            )),
            _ => Ok(spec),
        }
    }
}

impl OptionSpec {
    /// Whether the value is a `key=value,...` property string.
    pub fn is_property_string(&self) -> bool {
        !self.properties.is_empty()
    }

    /// The type of property-string key `key`.
    pub fn property(&self, key: &str) -> Option<&ValueType> {
        self.properties.get(key)
    }
}

/// Parses the whole adoc into the option table.
fn parse(adoc: &str) -> Options {
    let mut by_name: BTreeMap<String, OptionSpec> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in adoc.lines() {
        if let Some((name, syntax)) = entry(line, "::", ": `") {
            by_name.insert(name.to_owned(), option_from_syntax(name, syntax));
            current = Some(name.to_owned());
        } else if let Some((key, type_text)) = entry(line, ";;", "=`") {
            if let Some(spec) = current.as_ref().and_then(|name| by_name.get_mut(name)) {
                spec.properties
                    .insert(key.to_owned(), ValueType::parse(type_text));
            }
        } else if let Some(spec) = current.as_ref().and_then(|name| by_name.get_mut(name)) {
            if let (Some(numbered @ None), Some(count)) = (&mut spec.numbered, doc_count(line)) {
                *numbered = Some(count);
            }
        }
    }
    by_name.values_mut().for_each(expand_aliases);
    Options { by_name }
}

/// `(name, syntax)` of an entry line `` `name`<sep>syntax` ...<end> ``.
fn entry<'a>(line: &'a str, end: &str, sep: &str) -> Option<(&'a str, &'a str)> {
    let line = line.trim_end().strip_suffix(end)?;
    let rest = line.strip_prefix('`')?;
    let (name, rest) = rest.split_once('`')?;
    let rest = rest.strip_prefix(sep)?;
    let (syntax, _) = rest.split_once('`')?;
    Some((name, syntax))
}

/// An option from its name (`net[n]`) and syntax string.
fn option_from_syntax(adoc_name: &str, syntax: &str) -> OptionSpec {
    let name = adoc_name.trim_end_matches("[n]").to_owned();
    let numbered = (name.len() != adoc_name.len()).then(|| count_from_source(&name));
    let mut spec = OptionSpec {
        name,
        numbered,
        value: ValueType::parse(syntax),
        properties: BTreeMap::new(),
        default_key: None,
    };
    for token in syntax.split_whitespace() {
        let token = token.trim_start_matches(['[', ',']);
        if let Some((key, rest)) = token.split_once('=') {
            if is_key(key) {
                spec.properties.insert(key.to_owned(), ValueType::Free);
                if rest.starts_with(']') {
                    spec.default_key = Some(key.to_owned());
                }
            } else if let Some(target) = key.strip_prefix('<').and_then(|k| k.strip_suffix('>')) {
                // `<model>=<macaddr>`: marks the alias until `expand_aliases`
                spec.properties
                    .insert(format!("<{target}>"), ValueType::Free);
            }
        }
    }
    spec
}

/// Replaces an alias marker `<model>` by one key per value of the `model` enum.
fn expand_aliases(spec: &mut OptionSpec) {
    let markers: Vec<String> = spec
        .properties
        .keys()
        .filter(|key| key.starts_with('<'))
        .cloned()
        .collect();
    for marker in markers {
        spec.properties.remove(&marker);
        let target = marker.trim_matches(['<', '>']);
        if let Some(ValueType::Enum(choices)) = spec.properties.get(target).cloned() {
            for choice in choices {
                spec.properties.entry(choice).or_insert(ValueType::Free);
            }
        }
    }
}

fn is_key(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `X + 1` from a description saying "(n is 0 to X".
fn doc_count(line: &str) -> Option<u32> {
    let (_, rest) = line.split_once("(n is 0 to ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<u32>().ok().map(|last| last + 1)
}

fn count_from_source(name: &str) -> Option<u32> {
    COUNTS_FROM_SOURCE
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, count)| *count)
}

impl ValueType {
    /// The type of an adoc type text such as `<integer> (1 - N)` or `<l24 | l26>`.
    fn parse(text: &str) -> ValueType {
        let text = text.trim();
        let (min, max) = range(text);
        if text.starts_with("<boolean>") {
            ValueType::Boolean
        } else if text.starts_with("<integer>") {
            ValueType::Integer { min, max }
        } else if text.starts_with("<number>") {
            ValueType::Number { min, max }
        } else if text == r"\d+" {
            ValueType::Integer {
                min: Some(0.0),
                max: None,
            }
        } else if let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
            enum_or_free(inner)
        } else {
            ValueType::Free
        }
    }
}

fn enum_or_free(inner: &str) -> ValueType {
    if !inner.contains(" | ") {
        return ValueType::Free;
    }
    ValueType::Enum(inner.split(" | ").map(str::to_owned).collect())
}

/// Bounds from a trailing `(min - max)`; `N` means unbounded.
fn range(text: &str) -> (Option<f64>, Option<f64>) {
    let Some((_, rest)) = text.split_once(" (") else {
        return (None, None);
    };
    let Some((low, high)) = rest.trim_end_matches(')').split_once(" - ") else {
        return (None, None);
    };
    (low.trim().parse().ok(), high.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(name: &str) -> &'static OptionSpec {
        Options::get().lookup(name).expect(name)
    }

    #[test]
    fn table_has_every_option_of_the_man_page() {
        let options = Options::get();
        assert!(options.by_name.len() > 80, "{}", options.by_name.len());
        for numbered in options
            .by_name
            .values()
            .filter(|spec| spec.numbered.is_some())
        {
            assert!(
                matches!(numbered.numbered, Some(Some(_))),
                "no count for {}",
                numbered.name
            );
        }
    }

    #[test]
    fn net_format_with_model_aliases() {
        let net = option("net0");
        assert_eq!(net.default_key.as_deref(), Some("model"));
        assert_eq!(
            net.property("tag"),
            Some(&ValueType::Integer {
                min: Some(1.0),
                max: Some(4094.0)
            })
        );
        assert_eq!(net.property("firewall"), Some(&ValueType::Boolean));
        assert_eq!(net.property("virtio"), Some(&ValueType::Free));
        assert_eq!(net.property("<model>"), None);
        assert_eq!(option("net31").name, "net");
    }

    #[test]
    fn plain_options_and_counts() {
        assert!(
            matches!(option("ostype").value, ValueType::Enum(ref v) if v.contains(&"l26".to_owned()))
        );
        assert_eq!(option("numa").value, ValueType::Boolean);
        assert_eq!(option("numa7").numbered, Some(Some(8)));
        assert_eq!(option("scsi30").numbered, Some(Some(31)));
        assert!(Options::get().lookup("scsi31").is_err());
        assert!(Options::get().lookup("net01").is_err());
        let startup = option("startup");
        assert_eq!(startup.default_key.as_deref(), Some("order"));
        assert!(startup.property("up").is_some());
        assert_eq!(option("memory").default_key.as_deref(), Some("current"));
        let meta = option("meta");
        assert_eq!(meta.default_key, None);
        assert!(meta.property("creation-qemu").is_some());
        assert!(matches!(
            meta.property("ctime"),
            Some(ValueType::Integer { .. })
        ));
    }
}

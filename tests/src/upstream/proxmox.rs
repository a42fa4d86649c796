//! Proxmox VE `qemu-server/<vmid>.conf`: every line against the option syntax of
//! `qm.conf(5)`.
//!
//! The option table is parsed from pve-docs' generated `qm.conf.5-opts.adoc` (a verbatim
//! copy in `tests/data/`, see the README there): one line `` `name`: `syntax` ... :: `` per
//! option (`name[n]` for numbered ones), followed by `` `key`=`type` ... ;; `` lines for the
//! keys of its property string. Checked per line of ours:
//! - the line is `key: value` (qemu-server `parse_vm_config`: `^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$`),
//!   a `#` description line, or blank; sections (`[PENDING]`, snapshots) are not expected;
//! - the key is an option, a numbered one within its count, and not repeated;
//! - property strings (pve-common `JSONSchema.pm` `parse_property_string`): every key
//!   exists, none repeats, at most one bare value and only where the format has a default
//!   key, and a model name as key only where the format allows `<model>=<macaddr>`;
//! - typed values: booleans are written `0`/`1` (what PVE's writer emits), integers and
//!   numbers are within their ranges, enums hold one of their values.
//!
//! Free-form types (volumes, MACs, CIDRs) are not checked here; the `proxmox.sh` validator
//! runs qemu-server itself on them.
//!
//! Tests: unit tests below; `tests/tests/upstream_tools.rs`.

mod options;

use super::{finish, Failure, Outcome};
use options::{OptionSpec, Options, ValueType};
use std::collections::BTreeSet;
use std::path::Path;

const CHECK: &str = "Proxmox qm.conf syntax";

/// Checks every line of the VM config at `conf_path` against qm.conf(5)'s option syntax.
pub fn proxmox_conf_syntax(conf_path: &Path) -> Outcome {
    let subject = conf_path.display().to_string();
    let failures = match std::fs::read_to_string(conf_path) {
        Ok(text) => check_text(&text)
            .into_iter()
            .map(|problem| Failure::new(&subject, problem))
            .collect(),
        Err(err) => vec![Failure::new(&subject, err.to_string())],
    };
    finish(CHECK, 1, failures, Vec::new())
}

/// Every problem of one config text, each prefixed with its line number.
fn check_text(text: &str) -> Vec<String> {
    let options = Options::get();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Err(problem) = check_line(options, line, &mut seen) {
            problems.push(format!("line {number}: {problem}: `{line}`"));
        }
    }
    problems
}

/// One line: blank, a description comment, or a known `key: value`.
fn check_line(options: &Options, line: &str, seen: &mut BTreeSet<String>) -> Result<(), String> {
    if line.trim().is_empty() || line.starts_with('#') {
        return Ok(());
    }
    if line.starts_with('[') {
        return Err(
            "sections (`[PENDING]`, snapshots) are not expected in a written config".into(),
        );
    }
    let (key, value) = split_line(line).ok_or("not a `key: value` line")?;
    let spec = options.lookup(key)?;
    if !seen.insert(key.to_owned()) {
        return Err(format!("`{key}` is set twice"));
    }
    if spec.is_property_string() {
        check_property_string(spec, value)
    } else {
        check_value(&spec.value, value).map_err(|why| format!("`{key}`: {why}"))
    }
}

/// `key` and trimmed `value`, by qemu-server's line pattern.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let letters = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let mut chars = letters.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
    let value = value.trim();
    (starts_with_letter && rest_ok && !value.is_empty()).then_some((key, value))
}

/// A `a=b,c=d` value against the option's property-string format.
fn check_property_string(spec: &OptionSpec, value: &str) -> Result<(), String> {
    let mut keys = BTreeSet::new();
    for part in value.split(',') {
        let (key, item) = match part.split_once('=') {
            Some((key, item)) => (key, item),
            None => (bare_key(spec, part)?, part),
        };
        let item_type = spec
            .property(key)
            .ok_or_else(|| format!("`{}` has no key `{key}`", spec.name))?;
        if !keys.insert(key) {
            return Err(format!("`{}`: key `{key}` given twice", spec.name));
        }
        check_value(item_type, item).map_err(|why| format!("`{}` `{key}`: {why}", spec.name))?;
    }
    Ok(())
}

/// The default key a bare value belongs to, if the format has one.
fn bare_key<'a>(spec: &'a OptionSpec, part: &str) -> Result<&'a str, String> {
    spec.default_key
        .as_deref()
        .ok_or_else(|| format!("`{}` takes no bare value `{part}`", spec.name))
}

/// One value against its type.
fn check_value(value_type: &ValueType, value: &str) -> Result<(), String> {
    match value_type {
        ValueType::Boolean if value == "0" || value == "1" => Ok(()),
        ValueType::Boolean => Err(format!("boolean `{value}` must be written 0 or 1")),
        ValueType::Integer { min, max } => {
            let number: i64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not an integer"))?;
            in_range(number as f64, *min, *max, value)
        }
        ValueType::Number { min, max } => {
            let number: f64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not a number"))?;
            in_range(number, *min, *max, value)
        }
        ValueType::Enum(choices) if choices.iter().any(|choice| choice == value) => Ok(()),
        ValueType::Enum(choices) => Err(format!("`{value}` is not one of {}", choices.join(" "))),
        ValueType::Free => Ok(()),
    }
}

fn in_range(number: f64, min: Option<f64>, max: Option<f64>, text: &str) -> Result<(), String> {
    let low = !min.is_some_and(|min| number < min);
    let high = !max.is_some_and(|max| number > max);
    if low && high {
        return Ok(());
    }
    let bound = |b: Option<f64>| b.map_or("N".to_owned(), |b| b.to_string());
    Err(format!(
        "`{text}` is outside {} - {}",
        bound(min),
        bound(max)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        check_text(text)
    }

    #[test]
    fn canonical_lines_pass() {
        let text = "#web server\nagent: 1\nboot: order=scsi0;net0\ncores: 2\nmemory: 2048\n\
            name: web01\nnet0: virtio=BC:24:11:2C:69:EC,bridge=vmbr0,firewall=1,tag=20\n\
            ostype: l26\nscsi0: local-lvm:vm-101-disk-0,discard=on,iothread=1,size=32G\n\
            scsihw: virtio-scsi-single\nstartup: order=1,up=30\nipconfig0: ip=10.0.0.5/24,gw=10.0.0.1\n";
        assert_eq!(problems(text), Vec::<String>::new());
    }

    #[test]
    fn unknown_key_and_out_of_range_index_fail() {
        assert_eq!(
            problems("cores: 2\nfoo: 1\nnet32: virtio,bridge=vmbr0\n"),
            [
                "line 2: unknown option `foo`: `foo: 1`",
                "line 3: `net32` is out of range: `net` has 32 (0 to 31): `net32: virtio,bridge=vmbr0`"
            ]
        );
    }

    #[test]
    fn property_string_keys_are_checked() {
        let found = problems("net0: virtio,bridge=vmbr0,colour=red\n");
        assert_eq!(
            found,
            ["line 1: `net` has no key `colour`: `net0: virtio,bridge=vmbr0,colour=red`"]
        );
        let twice = problems("net0: virtio,tag=2,tag=3\n");
        assert!(twice[0].contains("key `tag` given twice"), "{twice:?}");
        let bare = problems("ipconfig0: 10.0.0.5/24\n");
        assert!(bare[0].contains("takes no bare value"), "{bare:?}");
    }

    #[test]
    fn booleans_ranges_and_enums_are_checked() {
        let found =
            problems("onboot: yes\ncores: 0\nostype: linux\nnet0: virtio,firewall=true,tag=5000\n");
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("boolean `yes` must be written 0 or 1"));
        assert!(found[1].contains("`0` is outside 1 - N"));
        assert!(found[2].contains("`linux` is not one of"));
        assert!(found[3].contains("`net` `firewall`: boolean `true`"));
    }

    #[test]
    fn repeated_key_and_sections_fail() {
        let found = problems("cores: 2\ncores: 4\n[PENDING]\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("`cores` is set twice"));
        assert!(found[1].contains("sections"));
    }

    #[test]
    fn model_name_is_a_key_only_for_net() {
        assert_eq!(
            problems("net1: e1000=BC:24:11:00:00:01\n"),
            Vec::<String>::new()
        );
        let found = problems("scsi0: local:1,virtio=BC:24:11:00:00:01\n");
        assert!(found[0].contains("`scsi` has no key `virtio`"), "{found:?}");
    }
}

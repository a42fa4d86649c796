//! pfSense `config.xml`: well-formed XML with the shape pfSense's parser accepts, and the
//! sections of pfSense's factory default config.
//!
//! Rules (pfsense/pfsense `src/etc/inc/xmlparse.inc`, RELENG_2_7_2 and master):
//! - the root element is `<pfsense>`; element names are lower-cased when parsed;
//! - only *list tags* (`listtags()`) may occur more than once under one parent; any other
//!   repeated element makes the parser stop with "cannot occur more than once".
//!
//! Structure: every top-level section of the factory default (`tests/data/
//! pfsense-default-config.xml`, see the README there) must exist, and so must the elements
//! pfSense cannot boot without: `version`, `system/hostname`, `system/domain`,
//! `interfaces/wan/if`, `filter`.
//!
//! Tests: `tests/tests/upstream_tools.rs`.

use super::{finish, Failure, Outcome};
use roxmltree::{Document, Node};
use std::collections::BTreeMap;
use std::path::Path;

const CHECK: &str = "pfSense config.xml structure";

/// pfSense's factory default config.xml (Apache-2.0, see `tests/data/README.md`).
const FACTORY_DEFAULT: &str = include_str!("../../data/pfsense-default-config.xml");

/// Elements that must exist, as paths below `<pfsense>`.
const REQUIRED: &[&str] = &[
    "version",
    "system/hostname",
    "system/domain",
    "interfaces/wan/if",
    "filter",
];

/// `listtags()` of pfSense CE 2.7.2 (`src/etc/inc/xmlparse.inc`, RELENG_2_7_2), the release
/// the generated config must boot on. Master adds `laggroup` and `mobilegroup`, which 2.7.2
/// would reject when repeated, so they are not here.
const LIST_TAGS: &[&str] = &[
    "acls",
    "alias",
    "aliasurl",
    "allowedip",
    "allowedhostname",
    "authserver",
    "bridged",
    "build_port_path",
    "ca",
    "cacert",
    "cert",
    "crl",
    "clone",
    "config",
    "container",
    "columnitem",
    "checkipservice",
    "depends_on_package",
    "disk",
    "dnsserver",
    "dnsupdate",
    "domainoverrides",
    "dyndns",
    "earlyshellcmd",
    "element",
    "encryption-algorithm-option",
    "field",
    "fieldname",
    "gateway_item",
    "gateway_group",
    "gif",
    "gre",
    "group",
    "hash-algorithm-option",
    "hosts",
    "ifgroupentry",
    "igmpentry",
    "interface_array",
    "item",
    "key",
    "lagg",
    "lbaction",
    "lbpool",
    "l7rules",
    "lbprotocol",
    "member",
    "menu",
    "tab",
    "mobilekey",
    "monitor_type",
    "mount",
    "npt",
    "ntpserver",
    "onetoone",
    "openvpn-server",
    "openvpn-client",
    "openvpn-csc",
    "option",
    "package",
    "passthrumac",
    "phase1",
    "phase2",
    "ppp",
    "pppoe",
    "priv",
    "proxyarpnet",
    "pool",
    "qinqentry",
    "queue",
    "pages",
    "pipe",
    "radnsserver",
    "roll",
    "route",
    "row",
    "rrddatafile",
    "rule",
    "schedule",
    "service",
    "servernat",
    "servers",
    "sshkeyfile",
    "serversdisabled",
    "shellcmd",
    "staticmap",
    "subqueue",
    "switch",
    "swport",
    "timerange",
    "tunnel",
    "user",
    "vip",
    "virtual_server",
    "vlan",
    "vlangroup",
    "voucherdbfile",
    "vxlan",
    "wgpeer",
    "winsserver",
    "wolentry",
    "widget",
    "xmldatafile",
];

/// Checks `config_xml` for well-formedness, repeated non-list elements, and the sections and
/// required elements of pfSense's factory default config.
pub fn pfsense_structure(config_xml: &Path) -> Outcome {
    let subject = config_xml.display().to_string();
    let text = match std::fs::read_to_string(config_xml) {
        Ok(text) => text,
        Err(err) => {
            return finish(
                CHECK,
                1,
                vec![Failure::new(subject, err.to_string())],
                vec![],
            )
        }
    };
    let problems = check_text(&text);
    let failures = problems
        .into_iter()
        .map(|problem| Failure::new(&subject, problem))
        .collect();
    finish(CHECK, 1, failures, Vec::new())
}

/// Every problem in one config.xml text.
fn check_text(text: &str) -> Vec<String> {
    let document = match Document::parse(text) {
        Ok(document) => document,
        Err(err) => return vec![format!("not well-formed XML: {err}")],
    };
    let root = document.root_element();
    if name_of(root) != "pfsense" {
        return vec![format!(
            "root element is <{}>, not <pfsense>",
            name_of(root)
        )];
    }
    let mut problems = repeated_elements(&document, root);
    problems.extend(missing_elements(root));
    problems
}

/// Non-list elements that occur more than once under the same parent, anywhere.
fn repeated_elements(document: &Document, root: Node) -> Vec<String> {
    let mut problems = Vec::new();
    for parent in root.descendants().filter(Node::is_element) {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for child in parent.children().filter(Node::is_element) {
            let name = name_of(child);
            let count = seen.entry(name.clone()).or_default();
            *count += 1;
            if *count == 2 && !LIST_TAGS.contains(&name.as_str()) {
                let line = document.text_pos_at(child.range().start).row;
                let path = path_of(child);
                problems.push(format!(
                    "<{path}> occurs more than once (again at line {line}); \
                     only pfSense list tags may repeat"
                ));
            }
        }
    }
    problems
}

/// Sections of the factory default and required elements that `root` lacks.
fn missing_elements(root: Node) -> Vec<String> {
    let default_document = Document::parse(FACTORY_DEFAULT).expect("factory default parses");
    let sections = default_document
        .root_element()
        .children()
        .filter(Node::is_element)
        .map(name_of);
    let mut problems: Vec<String> = sections
        .filter(|section| find(root, section).is_none())
        .map(|section| format!("missing <{section}>: a section of pfSense's factory default"))
        .collect();
    for path in REQUIRED {
        if find(root, path).is_none() && !problems.iter().any(|p| p.contains(&format!("<{path}>")))
        {
            problems.push(format!("missing <{path}>: pfSense needs it to boot"));
        }
    }
    problems
}

/// The element at `path` (`a/b/c`, lower-case names) below `node`.
fn find<'a, 'input>(node: Node<'a, 'input>, path: &str) -> Option<Node<'a, 'input>> {
    path.split('/').try_fold(node, |current, step| {
        current
            .children()
            .find(|child| child.is_element() && name_of(*child) == step)
    })
}

/// An element's name as pfSense's parser sees it (lower-cased).
fn name_of(node: Node) -> String {
    node.tag_name().name().to_lowercase()
}

/// `a/b/c` from below the root down to `node`.
fn path_of(node: Node) -> String {
    let mut names: Vec<String> = node
        .ancestors()
        .filter(|ancestor| ancestor.is_element() && ancestor.parent_element().is_some())
        .map(name_of)
        .collect();
    names.reverse();
    names.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factory_default_passes_its_own_check() {
        assert_eq!(check_text(FACTORY_DEFAULT), Vec::<String>::new());
    }

    #[test]
    fn repeated_list_tag_passes_and_other_repeat_fails() {
        let with_rules = FACTORY_DEFAULT.replace("<filter>", "<filter><rule/><rule/>");
        assert_eq!(check_text(&with_rules), Vec::<String>::new());
        let twice = FACTORY_DEFAULT.replace("<hostname>", "<domain>x</domain><hostname>");
        let problems = check_text(&twice);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("<system/domain> occurs more than once"));
    }

    #[test]
    fn upper_case_names_count_as_lower_case() {
        let twice = FACTORY_DEFAULT.replace("<hostname>", "<Domain>x</Domain><hostname>");
        assert_eq!(check_text(&twice).len(), 1);
    }

    #[test]
    fn missing_wan_if_is_named() {
        let no_if = FACTORY_DEFAULT.replacen("<if>em0</if>", "", 1);
        assert_eq!(
            check_text(&no_if),
            ["missing <interfaces/wan/if>: pfSense needs it to boot"]
        );
    }
}

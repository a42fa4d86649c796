//! Explaining pfSense's `config.xml` (`emit/pfsense.rs`): the file belongs to the firewall; a
//! line inside a `<rule>` belongs to the rule or forward its `<descr>` names (`filter.rs`
//! writes `name` or `name: description`), inside a `<vlan>` to the VLAN of its `<tag>`, inside a
//! `<staticmap>` to the VM of its `<hostname>`; the system keys name the site's fields.

use super::{entity, field, Explanation, Line, Origin};
use crate::model::{Firewall, Model};

/// `rest` is the path after `pfsense/`.
pub(super) fn explain(model: &Model, rest: &str, line: Option<Line>) -> Option<Explanation> {
    let name = rest.strip_suffix("/config.xml")?;
    let firewall = model.firewalls.get(name)?;
    let owner = format!("firewall {}", firewall.name);
    let mut origins = line
        .map(|l| origins(model, firewall, l))
        .unwrap_or_default();
    if origins.is_empty() {
        origins.push(entity(owner.clone(), firewall.span));
    }
    Some(Explanation {
        owner,
        origins,
        note: None,
    })
}

fn origins(model: &Model, firewall: &Firewall, line: Line) -> Vec<Origin> {
    if let Some((block, lines)) = enclosing_block(line) {
        let value = |element: &str| {
            lines
                .iter()
                .find(|l| {
                    Line {
                        number: 0,
                        text: l,
                        file: "",
                    }
                    .element()
                        == Some(element)
                })
                .map(|l| inner_text(l))
        };
        return match block {
            "rule" => rule(model, &value("descr").unwrap_or_default(), line.element()),
            "vlan" => {
                let tag: Option<u16> = value("tag").and_then(|t| t.parse().ok());
                let vlan = model.vlans.values().find(|v| Some(*v.id) == tag);
                vlan.map(|v| vec![entity(format!("vlan {}", v.name), v.span)])
                    .unwrap_or_default()
            }
            _ => {
                let hostname = value("hostname").unwrap_or_default();
                let vm = model.vms.get(&hostname);
                vm.map(|v| vec![entity(format!("vm {}", v.name), v.span)])
                    .unwrap_or_default()
            }
        };
    }
    let Some(site) = &model.site else {
        return Vec::new();
    };
    let s = |f: &str| format!("site {}: {f}", *site.name);
    match line.element() {
        Some("hostname") => vec![field(
            format!("firewall {}: hostname", firewall.name),
            "Firewall.hostname",
            &firewall.hostname,
        )],
        Some("domain") => vec![field(s("domain"), "Site.domain", &site.domain)],
        Some("timezone") => vec![field(s("timezone"), "Site.timezone", &site.timezone)],
        Some("dnsserver") => vec![field(s("dns"), "Site.dns", &site.dns)],
        Some("timeservers") => vec![field(s("ntp"), "Site.ntp", &site.ntp)],
        _ => Vec::new(),
    }
}

/// The rule or forward a `<descr>` names, and the field behind `element`.
fn rule(model: &Model, descr: &str, element: Option<&str>) -> Vec<Origin> {
    let descr = descr.strip_prefix("NAT ").unwrap_or(descr);
    let name = descr.split(": ").next().unwrap_or(descr);
    if let Some(rule) = model.rules.get(name) {
        let what = |f: &str| format!("rule {name}: {f}");
        let specific = match element {
            Some("type") => Some(field(what("action"), "Rule.action", &rule.action)),
            Some("protocol") => Some(field(what("proto"), "Rule.proto", &rule.proto)),
            Some("source") => Some(field(what("from"), "Rule.from", &rule.from)),
            Some("destination") => Some(field(what("to"), "Rule.to", &rule.to)),
            Some("port") => Some(field(what("ports"), "Rule.ports", &rule.ports)),
            Some("log") => Some(field(what("log"), "Rule.log", &rule.log)),
            Some("descr") => Some(field(
                what("description"),
                "Rule.description",
                &rule.description,
            )),
            _ => None,
        };
        return specific
            .into_iter()
            .chain([entity(format!("rule {name}"), rule.span)])
            .collect();
    }
    match model.forwards.get(name) {
        Some(forward) => vec![entity(format!("forward {name}"), forward.span)],
        None => Vec::new(),
    }
}

/// The `<rule>`, `<vlan>` or `<staticmap>` block around `line`: its name and its lines.
fn enclosing_block<'a>(line: Line<'a>) -> Option<(&'static str, Vec<&'a str>)> {
    let lines: Vec<&str> = line.file.lines().collect();
    let index = line.number.checked_sub(1)?;
    for start in (0..=index.min(lines.len().checked_sub(1)?)).rev() {
        let text = lines[start].trim();
        for block in ["rule", "vlan", "staticmap"] {
            if start < index && text == format!("</{block}>") {
                return None;
            }
            if text == format!("<{block}>") {
                let close = format!("</{block}>");
                let end = (start..lines.len()).find(|&i| lines[i].trim() == close)?;
                return (end >= index).then(|| (block, lines[start..=end].to_vec()));
            }
        }
    }
    None
}

/// The text of a one-line element: `<descr><![CDATA[x]]></descr>` → `x`.
fn inner_text(line: &str) -> String {
    let text = line.trim();
    let start = text.find('>').map_or(0, |i| i + 1);
    let end = text.rfind("</").unwrap_or(text.len()).max(start);
    let inner = &text[start..end];
    inner
        .strip_prefix("<![CDATA[")
        .and_then(|i| i.strip_suffix("]]>"))
        .unwrap_or(inner)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_text_reads_cdata() {
        assert_eq!(inner_text("\t<descr><![CDATA[a: b]]></descr>"), "a: b");
        assert_eq!(inner_text("<tag>20</tag>"), "20");
    }

    #[test]
    fn a_line_inside_a_rule_names_the_rule() {
        let model = crate::model::fixture::small();
        let files = crate::emit::pfsense::emit(&model);
        let (path, bytes) = files.iter().next().expect("config.xml");
        let text = String::from_utf8_lossy(bytes);
        let rule = model.rules.values().next().expect("a rule");
        let number = text
            .lines()
            .position(|l| l.contains(&format!("[{}", rule.name)))
            .expect("the rule's descr")
            + 1;
        let explanation = crate::explain::explain(&model, path, &text, Some(number));
        let whats: Vec<String> = explanation
            .expect("explained")
            .origins
            .into_iter()
            .map(|o| o.what)
            .collect();
        assert_eq!(
            whats,
            [
                format!("rule {}: description", rule.name),
                format!("rule {}", rule.name)
            ]
        );
    }
}

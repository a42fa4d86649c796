//! `plat graph`: the platform's topology as a diagram, Mermaid or Graphviz DOT.
//!
//! One intermediate `Group` tree (hosts holding their VMs, the cluster holding its nodes and
//! namespaces, namespaces holding services and charts) and a list of `Edge`s (NICs to
//! VLANs, the firewall to every VLAN it routes, pass rules between VLANs, VMs and hosts,
//! nodes to their VMs) is built from the model, then printed by one small writer per format.
//! Output is deterministic: model order (declaration order), ids derived from names only.
//!
//! Tests at the bottom.

use std::collections::BTreeMap;

use crate::model::{Action, Endpoint, Model};

/// Diagram formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Mermaid `flowchart` (renders on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

/// The diagram of `model` in `format`, ending in one newline.
pub fn render(model: &Model, format: Format) -> String {
    let (root, edges) = build(model);
    match format {
        Format::Mermaid => mermaid(&root, &edges),
        Format::Dot => dot(&root, &edges),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Box,
    Round,
    Hexagon,
    Diamond,
}

struct Node {
    id: String,
    label: String,
    shape: Shape,
}

struct Group {
    id: String,
    label: String,
    nodes: Vec<Node>,
    groups: Vec<Group>,
}

struct Edge {
    from: String,
    to: String,
    label: String,
    /// Dotted: a relation (node runs on VM, rule allows), not a wire.
    dotted: bool,
}

fn group(id: String, label: String) -> Group {
    Group {
        id,
        label,
        nodes: Vec::new(),
        groups: Vec::new(),
    }
}

fn build(model: &Model) -> (Group, Vec<Edge>) {
    let mut root = group(String::new(), String::new());
    let mut edges = Vec::new();
    for vlan in model.vlans.values() {
        root.nodes.push(Node {
            id: id("vlan", &vlan.name),
            label: format!("vlan {}\n{} · {}", vlan.name, *vlan.id, *vlan.subnet),
            shape: Shape::Hexagon,
        });
    }
    for host in model.hosts.values() {
        let mut host_group = group(id("host-group", &host.name), format!("host {}", host.name));
        let host_id = id("host", &host.name);
        host_group.nodes.push(Node {
            id: host_id.clone(),
            label: format!("{}\n{}", host.name, *host.address),
            shape: Shape::Box,
        });
        edges.push(wire(host_id, id("vlan", &host.vlan), "mgmt"));
        for vm in model.vms.values().filter(|vm| *vm.host == host.name) {
            let label = format!(
                "{}\nvmid {} · {} vCPU · {}",
                vm.name,
                *vm.vmid,
                *vm.cores * *vm.sockets,
                crate::model::words::size(*vm.memory)
            );
            host_group.nodes.push(Node {
                id: id("vm", &vm.name),
                label,
                shape: Shape::Round,
            });
            for (slot, nic) in vm.nics.iter() {
                if let Some(vlan) = nic.vlan.as_ref() {
                    let address = nic.address.map_or("dhcp".to_string(), |a| a.to_string());
                    edges.push(wire(
                        id("vm", &vm.name),
                        id("vlan", vlan),
                        &format!("{slot} {address}"),
                    ));
                }
            }
        }
        root.groups.push(host_group);
    }
    firewalls(model, &mut root, &mut edges);
    kubernetes(model, &mut root, &mut edges);
    (root, edges)
}

fn wire(from: String, to: String, label: &str) -> Edge {
    Edge {
        from,
        to,
        label: label.to_string(),
        dotted: false,
    }
}

/// The firewall routes every VLAN (its gateway address); pass rules between VLANs, VMs and
/// hosts are dotted arrows, one per pair with the ports they open.
fn firewalls(model: &Model, root: &mut Group, edges: &mut Vec<Edge>) {
    for firewall in model.firewalls.values() {
        let fw_id = id("firewall", &firewall.name);
        root.nodes.push(Node {
            id: fw_id.clone(),
            label: format!("firewall {}", firewall.name),
            shape: Shape::Diamond,
        });
        for vlan in model.vlans.values() {
            edges.push(wire(
                fw_id.clone(),
                id("vlan", &vlan.name),
                &vlan.gateway.to_string(),
            ));
        }
        if let Some(vm) = firewall.vm.as_ref() {
            edges.push(Edge {
                from: fw_id.clone(),
                to: id("vm", vm),
                label: "runs as".into(),
                dotted: true,
            });
        }
    }
    let mut allowed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for rule in model.rules.values().filter(|r| *r.action == Action::Pass) {
        let (Some(from), Some(to)) = (endpoint(model, &rule.from), endpoint(model, &rule.to))
        else {
            continue;
        };
        // A VLAN reaching its own gateway (DNS on the firewall) is not a path between segments.
        if from == to {
            continue;
        }
        let proto = crate::model::words::proto(*rule.proto);
        let target = match &*rule.to {
            Endpoint::Cidr(cidr) => format!(" to {cidr}"),
            _ => String::new(),
        };
        let what = match *rule.ports {
            Some((a, b)) if a == b => format!("{proto} {a}"),
            Some((a, b)) => format!("{proto} {a}-{b}"),
            None => proto.to_string(),
        };
        let key = (from, to);
        if !allowed.contains_key(&key) {
            order.push(key.clone());
        }
        allowed
            .entry(key)
            .or_default()
            .push(format!("{what}{target}"));
    }
    for key in order {
        let label = allowed[&key].join(", ");
        edges.push(Edge {
            from: key.0,
            to: key.1,
            label: format!("allows {label}"),
            dotted: true,
        });
    }
}

fn endpoint(model: &Model, endpoint: &Endpoint) -> Option<String> {
    match endpoint {
        Endpoint::Vlan(name) if model.vlans.contains_key(name) => Some(id("vlan", name)),
        Endpoint::Vm(name) if model.vms.contains_key(name) => Some(id("vm", name)),
        Endpoint::Host(name) if model.hosts.contains_key(name) => Some(id("host", name)),
        // An address range inside one VLAN (an ingress address) is drawn as that VLAN.
        Endpoint::Cidr(cidr) => model
            .vlans
            .values()
            .find(|v| v.subnet.prefix <= cidr.prefix && v.subnet.contains(cidr.addr))
            .map(|v| id("vlan", &v.name)),
        _ => None,
    }
}

fn kubernetes(model: &Model, root: &mut Group, edges: &mut Vec<Edge>) {
    for cluster in model.clusters.values() {
        let label = format!("cluster {} (v{})", cluster.name, *cluster.version);
        let mut cluster_group = group(id("cluster", &cluster.name), label);
        for node in model.nodes.values().filter(|n| *n.cluster == cluster.name) {
            let role = crate::model::words::role(*node.role);
            cluster_group.nodes.push(Node {
                id: id("node", &node.name),
                label: format!("node {}\n{role}", node.name),
                shape: Shape::Round,
            });
            edges.push(Edge {
                from: id("node", &node.name),
                to: id("vm", &node.vm),
                label: "runs on".into(),
                dotted: true,
            });
        }
        for namespace in model
            .namespaces
            .values()
            .filter(|n| *n.cluster == cluster.name)
        {
            let mut ns = group(
                id("namespace", &namespace.name),
                format!("namespace {}", namespace.name),
            );
            for service in model
                .services
                .values()
                .filter(|s| *s.namespace == namespace.name)
            {
                ns.nodes.push(Node {
                    id: id("service", &service.name),
                    label: format!(
                        "service {}\n{} × {}",
                        service.name, *service.replicas, *service.image
                    ),
                    shape: Shape::Box,
                });
            }
            for chart in model
                .charts
                .values()
                .filter(|c| *c.namespace == namespace.name)
            {
                ns.nodes.push(Node {
                    id: id("chart", &chart.name),
                    label: format!("chart {}\n{} {}", chart.name, *chart.chart, *chart.version),
                    shape: Shape::Box,
                });
            }
            cluster_group.groups.push(ns);
        }
        root.groups.push(cluster_group);
    }
}

/// A node id from a kind and a name: letters and digits kept, anything else `_xx` (hex), so
/// that two names never share an id (`cp-1` → `vm_cp_2d1`).
fn id(kind: &str, name: &str) -> String {
    let mut out: String = kind.replace('-', "");
    out.push('_');
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02x}"));
        }
    }
    out
}

fn mermaid(root: &Group, edges: &[Edge]) -> String {
    let mut out =
        String::from("%% Generated by plat graph; regenerate with `plat graph`.\nflowchart LR\n");
    mermaid_group(root, 1, &mut out);
    for edge in edges {
        let label = mermaid_text(&edge.label);
        let arrow = if edge.dotted { "-.->" } else { "---" };
        out.push_str(&format!(
            "  {} {arrow}|\"{label}\"| {}\n",
            edge.from, edge.to
        ));
    }
    out
}

fn mermaid_group(group: &Group, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    for node in &group.nodes {
        let label = mermaid_text(&node.label);
        let (open, close) = match node.shape {
            Shape::Box => ("[", "]"),
            Shape::Round => ("(", ")"),
            Shape::Hexagon => ("{{", "}}"),
            Shape::Diamond => ("{", "}"),
        };
        out.push_str(&format!("{indent}{}{open}\"{label}\"{close}\n", node.id));
    }
    for inner in &group.groups {
        let label = mermaid_text(&inner.label);
        out.push_str(&format!("{indent}subgraph {}[\"{label}\"]\n", inner.id));
        mermaid_group(inner, depth + 1, out);
        out.push_str(&format!("{indent}end\n"));
    }
}

/// Mermaid label text: quotes as an entity, line breaks as `<br/>`.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace('\n', "<br/>")
}

fn dot(root: &Group, edges: &[Edge]) -> String {
    let mut out = String::from(
        "// Generated by plat graph; regenerate with `plat graph --format dot`.\ngraph platform {\n  rankdir=LR;\n  graph [fontname=\"sans-serif\"];\n  node [fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n",
    );
    dot_group(root, 1, &mut out);
    for edge in edges {
        let style = if edge.dotted {
            ", style=dashed, dir=forward"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {} -- {} [label=\"{}\"{style}];\n",
            edge.from,
            edge.to,
            dot_text(&edge.label)
        ));
    }
    out.push_str("}\n");
    out
}

fn dot_group(group: &Group, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    for node in &group.nodes {
        let shape = match node.shape {
            Shape::Box => "box",
            Shape::Round => "box, style=rounded",
            Shape::Hexagon => "hexagon",
            Shape::Diamond => "diamond",
        };
        out.push_str(&format!(
            "{indent}{} [label=\"{}\", shape={shape}];\n",
            node.id,
            dot_text(&node.label)
        ));
    }
    for inner in &group.groups {
        out.push_str(&format!("{indent}subgraph cluster_{} {{\n", inner.id));
        out.push_str(&format!(
            "{indent}  label=\"{}\";\n",
            dot_text(&inner.label)
        ));
        dot_group(inner, depth + 1, out);
        out.push_str(&format!("{indent}}}\n"));
    }
}

/// A DOT string's contents: `"` and `\` escaped, line breaks as `\n`.
fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    #[test]
    fn ids_are_injective_and_safe() {
        assert_eq!(id("vm", "cp-1"), "vm_cp_2d1");
        assert_ne!(id("vm", "a-b"), id("vm", "a_b"));
        assert_eq!(id("host-group", "pve1"), "hostgroup_pve1");
    }

    #[test]
    fn vms_sit_under_their_host_and_nics_reach_vlans() {
        let text = render(&fixture::small(), Format::Mermaid);
        let host = text.find("subgraph hostgroup_pve1").expect("host group");
        let vm = text.find("vm_cp_2d1(").expect("vm node");
        assert!(host < vm);
        assert!(
            text.contains("vm_cp_2d1 ---|\"net0 10.20.0.11\"| vlan_nodes"),
            "{text}"
        );
    }

    #[test]
    fn dot_is_balanced_and_deterministic() {
        let text = render(&fixture::small(), Format::Dot);
        assert_eq!(text, render(&fixture::small(), Format::Dot));
        assert_eq!(text.matches('{').count(), text.matches('}').count());
        assert!(text.ends_with("}\n"));
    }
}

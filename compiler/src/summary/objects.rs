//! The model read into summary objects: every platform object (`vm cp-1`) with its fields in
//! the operator's words (sizes in binary units, endpoints as `vlan nodes`, a rule's position as
//! the rule it follows).

use crate::model::words::{self, proto, role, size};
use crate::model::{Action, Endpoint, FieldValue, Model, Visit, Vm, WanMode};

use super::Summary;

/// The summary of `model`.
pub fn summarize(model: &Model) -> Summary {
    let mut summary = Summary::new();
    each_object(model, &mut |object, fields| {
        summary.entry(object).or_default().extend(fields);
    });
    summary
}

/// Every object of `model` with its fields, in model order (an object's fields in no order).
pub(super) fn each_object(model: &Model, put: &mut Put) {
    infrastructure(model, put);
    network(model, put);
    for vm in model.vms.values() {
        put(format!("vm {}", vm.name), vm_fields(vm));
    }
    kubernetes(model, put);
}

pub(super) type Put<'a> = dyn FnMut(String, Vec<(String, String)>) + 'a;

fn infrastructure(model: &Model, put: &mut Put) {
    if let Some(site) = &model.site {
        put(
            format!("site {}", *site.name),
            fields([
                ("domain", site.domain.value.clone()),
                ("timezone", site.timezone.value.clone()),
                ("dns", list(site.dns.iter())),
                ("ntp", list(site.ntp.iter())),
                ("ssh_keys", list(site.ssh_keys.iter().map(|k| key_name(k)))),
                ("admin_user", site.admin_user.value.clone()),
            ]),
        );
    }
    for vlan in model.vlans.values() {
        let dhcp = vlan.dhcp.as_ref().map(|r| format!("{}-{}", r.from, r.to));
        put(
            format!("vlan {}", vlan.name),
            fields([
                ("id", vlan.id.to_string()),
                ("subnet", vlan.subnet.to_string()),
                ("gateway", vlan.gateway.to_string()),
                ("dhcp", optional(dhcp)),
                ("description", vlan.description.value.clone()),
            ]),
        );
    }
    for host in model.hosts.values() {
        let mut host_fields = fields([
            ("cpu", host.cpu.to_string()),
            ("memory", size(*host.memory)),
            ("vlan", host.vlan.value.clone()),
            ("address", host.address.to_string()),
            ("cpu_overcommit", host.cpu_overcommit.to_string()),
            ("memory_reserved", size(*host.memory_reserved)),
            ("snippets_storage", host.snippets_storage.value.clone()),
        ]);
        for (name, bridge) in host.bridges.iter() {
            let ports = list(bridge.ports.iter());
            let value = format!("ports {ports}, vlan-aware {}", bridge.vlan_aware);
            host_fields.push((format!("bridge {name}"), value));
        }
        for (name, storage) in host.storage.iter() {
            let kind = format!("{:?}", storage.kind).to_lowercase();
            let value = format!("{kind} {}", size(storage.size));
            host_fields.push((format!("storage {name}"), value));
        }
        put(format!("host {}", host.name), host_fields);
    }
}

fn network(model: &Model, put: &mut Put) {
    for firewall in model.firewalls.values() {
        put(
            format!("firewall {}", firewall.name),
            fields([
                ("hostname", firewall.hostname.value.clone()),
                ("wan_interface", firewall.wan_interface.value.clone()),
                ("wan", wan(&firewall.wan_mode)),
                ("trunk", firewall.trunk.value.clone()),
                ("vm", optional(firewall.vm.value.clone())),
            ]),
        );
    }
    // Rule order is meaning (first match wins); recording each rule's predecessor shows a move
    // without every later rule's position changing.
    let mut previous = "(first)".to_string();
    for rule in model.rules.values() {
        put(
            format!("rule {}", rule.name),
            fields([
                ("after", std::mem::replace(&mut previous, rule.name.clone())),
                ("action", action(*rule.action).into()),
                ("from", endpoint(&rule.from)),
                ("to", endpoint(&rule.to)),
                ("proto", proto(*rule.proto).into()),
                ("ports", optional(rule.ports.map(ports))),
                ("log", rule.log.to_string()),
                ("description", rule.description.value.clone()),
            ]),
        );
    }
    for forward in model.forwards.values() {
        put(
            format!("forward {}", forward.name),
            fields([
                ("proto", proto(*forward.proto).into()),
                ("port", forward.port.to_string()),
                ("to", endpoint(&forward.to)),
                ("to_port", forward.to_port.to_string()),
                ("from", endpoint(&forward.from)),
                ("description", forward.description.value.clone()),
            ]),
        );
    }
}

/// A VM's fields, read from the prelude's description of `Vm` (`model::kinds`): every field
/// not tagged `## summary: omit`, in the operator's words; an optional record in one line
/// (`order=2,up=30,down=180`), each entry of a map of records field by field
/// (`disk scsi0 size`). A NIC without a written MAC shows the derived one.
fn vm_fields(vm: &Vm) -> Vec<(String, String)> {
    let mut vm_fields = Vec::new();
    record_fields(vm, &mut vm_fields);
    for (slot, nic) in vm.nics.iter() {
        let mac = crate::model::ids::nic_mac(&vm.name, slot, nic);
        vm_fields.push((format!("nic {slot} mac"), words::mac(&mac)));
    }
    vm_fields
}

/// The summary fields of a generated record (`model::Visit`).
fn record_fields(record: &dyn Visit, out: &mut Vec<(String, String)>) {
    for field in record.fields() {
        if !field.info.summary {
            continue;
        }
        match field.value {
            FieldValue::Map(entries) => {
                for (key, entry) in entries {
                    for inner in entry.fields() {
                        if inner.info.summary {
                            let name = format!("{} {key} {}", field.info.entry, inner.info.name);
                            out.push((name, inline(inner.value)));
                        }
                    }
                }
            }
            value => out.push((field.info.name.to_string(), inline(value))),
        }
    }
}

/// A value in one line: a record as `name=value,...` (its summary fields), none as `none`.
fn inline(value: FieldValue) -> String {
    match value {
        FieldValue::Text(text) => text,
        FieldValue::Record(None) => "none".to_string(),
        FieldValue::Record(Some(record)) => {
            let parts: Vec<String> = record
                .fields()
                .into_iter()
                .filter(|f| f.info.summary)
                .map(|f| format!("{}={}", f.info.name, inline(f.value)))
                .collect();
            parts.join(",")
        }
        FieldValue::Map(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(key, _)| *key).collect();
            format!("[{}]", keys.join(", "))
        }
    }
}

fn kubernetes(model: &Model, put: &mut Put) {
    for cluster in model.clusters.values() {
        put(
            format!("cluster {}", cluster.name),
            fields([
                ("version", cluster.version.value.clone()),
                (
                    "endpoint",
                    format!("{}:{}", *cluster.endpoint, *cluster.api_port),
                ),
                ("pod_cidr", cluster.pod_cidr.to_string()),
                ("service_cidr", cluster.service_cidr.to_string()),
                ("cni", format!("{:?}", *cluster.cni).to_lowercase()),
                ("dns_domain", cluster.dns_domain.value.clone()),
            ]),
        );
    }
    for node in model.nodes.values() {
        let taints = node
            .taints
            .iter()
            .map(|t| format!("{}={}:{}", t.key, t.value, t.effect));
        put(
            format!("node {}", node.name),
            fields([
                ("cluster", node.cluster.value.clone()),
                ("vm", node.vm.value.clone()),
                ("role", role(*node.role).to_string()),
                ("labels", pairs(&node.labels)),
                ("taints", list(taints)),
            ]),
        );
    }
    for namespace in model.namespaces.values() {
        put(
            format!("namespace {}", namespace.name),
            fields([
                ("cluster", namespace.cluster.value.clone()),
                ("pod_security", namespace.pod_security.value.clone()),
                ("default_deny", namespace.default_deny.to_string()),
                ("labels", pairs(&namespace.labels)),
            ]),
        );
    }
    for service in model.services.values() {
        let ingress = service
            .ingress
            .as_ref()
            .map(|i| format!("{}{}", i.host, i.path));
        let resources = format!(
            "{}m, {}",
            service.resources.millicpu,
            size(service.resources.memory)
        );
        put(
            format!("service {}", service.name),
            fields([
                ("namespace", service.namespace.value.clone()),
                ("image", service.image.value.clone()),
                ("replicas", service.replicas.to_string()),
                ("port", service.port.to_string()),
                ("env", pairs(&service.env)),
                ("resources", resources),
                ("health_path", optional(service.health_path.value.clone())),
                ("ingress", optional(ingress)),
                ("allow_from", list(service.allow_from.iter())),
                ("args", list(service.args.iter())),
                ("run_as_user", service.run_as_user.to_string()),
            ]),
        );
    }
    for chart in model.charts.values() {
        put(
            format!("chart {}", chart.name),
            fields([
                ("namespace", chart.namespace.value.clone()),
                ("repo", chart.repo.value.clone()),
                ("chart", chart.chart.value.clone()),
                ("version", chart.version.value.clone()),
                ("values", chart.values.to_string()),
            ]),
        );
    }
    for manifest in model.manifests.values() {
        put(
            format!("manifest {}", manifest.name),
            fields([
                ("cluster", manifest.cluster.value.clone()),
                ("namespace", optional(manifest.namespace.value.clone())),
                ("body", manifest.body.to_string()),
            ]),
        );
    }
}

fn fields<const N: usize>(pairs: [(&str, String); N]) -> Vec<(String, String)> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn list<T: ToString>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

fn pairs(items: &[(String, String)]) -> String {
    list(items.iter().map(|(k, v)| format!("{k}={v}")))
}

fn optional(value: Option<String>) -> String {
    value.unwrap_or_else(|| "none".to_string())
}

/// An SSH key by its comment (the last word), else a short hash of the key.
fn key_name(key: &str) -> String {
    let words: Vec<&str> = key.split_whitespace().collect();
    match words.as_slice() {
        [_, _, .., comment] if words.len() >= 3 => comment.to_string(),
        _ => format!("key-{}", &blake3::hash(key.as_bytes()).to_hex()[..12]),
    }
}

fn endpoint(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Any => "any".into(),
        Endpoint::Vlan(name) => format!("vlan {name}"),
        Endpoint::Host(name) => format!("host {name}"),
        Endpoint::Vm(name) => format!("vm {name}"),
        Endpoint::Cidr(cidr) => cidr.to_string(),
    }
}

fn action(action: Action) -> &'static str {
    match action {
        Action::Pass => "pass",
        Action::Block => "block",
        Action::Reject => "reject",
    }
}

fn wan(mode: &WanMode) -> String {
    match mode {
        WanMode::Dhcp => "dhcp".into(),
        WanMode::Static {
            address,
            prefix,
            gateway,
        } => match gateway {
            Some(gateway) => format!("static {address}/{prefix} via {gateway}"),
            None => format!("static {address}/{prefix}"),
        },
    }
}

fn ports((from, to): (u16, u16)) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}-{to}")
    }
}

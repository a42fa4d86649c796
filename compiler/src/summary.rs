//! The model summary: every platform object as a flat, sorted list of fields in the operator's
//! words (`vm cp-1` → `memory = 8GiB`), what `plat diff` compares between two builds.
//!
//! `plat build` writes it to `out/plat.model.json` (an owned file, listed in `plat.lock`), so
//! that `plat diff` knows the previous state without parsing generated files back. It is
//! derived from the model only, so it is as deterministic as the rest of out/: objects and
//! fields sorted by name, every value a string.
//!
//! The apply impact of a change is a property of the object kind and field that changed
//! ([`impact`]): memory needs a VM reboot, a static address re-runs cloud-init, a rule reloads
//! the firewall.
//!
//! Tests at the bottom.

mod impact;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::model::words::{proto, role, size};
use crate::model::{Action, Endpoint, Model, Vm, WanMode};

use impact::added_or_removed;
pub use impact::{impact, Impact};

/// The summary's path inside out/.
pub const PATH: &str = "plat.model.json";

/// Object key (`"vm cp-1"`) to its fields (`"memory"` → `"8GiB"`), both sorted.
pub type Summary = BTreeMap<String, BTreeMap<String, String>>;

/// One difference between two summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new object.
    Added(String),
    /// An object that is gone.
    Removed(String),
    /// A field of an object: old and new value (`None` when absent on that side).
    Field {
        /// The object (`vm cp-1`).
        object: String,
        /// The field (`memory`).
        field: String,
        /// The previous value.
        old: Option<String>,
        /// The new value.
        new: Option<String>,
    },
}

impl Change {
    /// What applying this change does.
    pub fn impact(&self) -> Impact {
        match self {
            Change::Added(object) => added_or_removed(kind_of(object), Impact::Create),
            Change::Removed(object) => added_or_removed(kind_of(object), Impact::Destroy),
            Change::Field { object, field, .. } => impact(kind_of(object), field),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added(object) => write!(f, "{object}: added"),
            Change::Removed(object) => write!(f, "{object}: removed"),
            Change::Field {
                object,
                field,
                old,
                new,
            } => {
                let shown = |v: &Option<String>| match v.as_deref() {
                    None => "(none)".to_string(),
                    Some("") => "\"\"".to_string(),
                    Some(text) => text.to_string(),
                };
                let (old, new) = (shown(old), shown(new));
                if old.len() + new.len() > 80 || old.contains('\n') || new.contains('\n') {
                    write!(f, "{object}: {field} changed")
                } else {
                    write!(f, "{object}: {field} {old} -> {new}")
                }
            }
        }
    }
}

/// The differences from `old` to `new`, objects and fields in sorted order.
pub fn compare(old: &Summary, new: &Summary) -> Vec<Change> {
    let mut changes = Vec::new();
    let objects: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for object in objects {
        match (old.get(object), new.get(object)) {
            (None, Some(_)) => changes.push(Change::Added(object.clone())),
            (Some(_), None) => changes.push(Change::Removed(object.clone())),
            (Some(before), Some(after)) => {
                let fields: std::collections::BTreeSet<&String> =
                    before.keys().chain(after.keys()).collect();
                for field in fields {
                    let (old, new) = (before.get(field), after.get(field));
                    if old != new {
                        changes.push(Change::Field {
                            object: object.clone(),
                            field: field.clone(),
                            old: old.cloned(),
                            new: new.cloned(),
                        });
                    }
                }
            }
            (None, None) => {}
        }
    }
    changes
}

fn kind_of(object: &str) -> &str {
    object.split(' ').next().unwrap_or(object)
}

/// The summary of `model`.
pub fn summarize(model: &Model) -> Summary {
    let mut summary = Summary::new();
    each_object(model, &mut |object, fields| {
        summary.entry(object).or_default().extend(fields);
    });
    summary
}

/// Every object of `model` with its fields, in model order (an object's fields in no order).
fn each_object(model: &Model, put: &mut Put) {
    infrastructure(model, put);
    network(model, put);
    for vm in model.vms.values() {
        put(format!("vm {}", vm.name), vm_fields(vm));
    }
    kubernetes(model, put);
}

type Put<'a> = dyn FnMut(String, Vec<(String, String)>) + 'a;

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

fn vm_fields(vm: &Vm) -> Vec<(String, String)> {
    let startup = vm
        .startup
        .as_ref()
        .map(|s| format!("order={},up={},down={}", s.order, s.up, s.down));
    let mut vm_fields = fields([
        ("host", vm.host.value.clone()),
        ("vmid", vm.vmid.to_string()),
        ("description", vm.description.value.clone()),
        ("cores", vm.cores.to_string()),
        ("sockets", vm.sockets.to_string()),
        ("cpu", vm.cpu.value.clone()),
        ("memory", size(*vm.memory)),
        ("image", optional(vm.image.value.clone())),
        ("onboot", vm.onboot.to_string()),
        ("startup", optional(startup)),
        ("tags", list(vm.tags.iter())),
        ("agent", vm.agent.to_string()),
        ("packages", list(vm.packages.iter())),
        ("cloud_init", vm.cloud_init.to_string()),
    ]);
    for (slot, disk) in vm.disks.iter() {
        vm_fields.push((format!("disk {slot} storage"), disk.storage.value.clone()));
        vm_fields.push((format!("disk {slot} size"), size(*disk.size)));
    }
    for (slot, nic) in vm.nics.iter() {
        let mac: Vec<String> = nic.mac.iter().map(|b| format!("{b:02X}")).collect();
        let address = nic.address.map(|a| a.to_string());
        vm_fields.push((format!("nic {slot} vlan"), optional(nic.vlan.value.clone())));
        vm_fields.push((format!("nic {slot} address"), optional(address)));
        vm_fields.push((format!("nic {slot} mac"), mac.join(":")));
        vm_fields.push((format!("nic {slot} bridge"), nic.bridge.value.clone()));
    }
    vm_fields
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

/// The text of `out/plat.model.json`: pretty JSON, keys sorted, one trailing newline.
pub fn render(summary: &Summary) -> String {
    /// The document, serialized as it stands: building a `serde_json::Value` first copied
    /// every string of the summary, the largest allocation of a large build.
    #[derive(serde::Serialize)]
    struct Document<'a> {
        generated: String,
        version: u32,
        objects: &'a Summary,
    }
    let document = Document {
        generated: generated(),
        version: 1,
        objects: summary,
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text.shrink_to_fit();
    text
}

/// The text of `out/plat.model.json` for `model`: `render(&summarize(model))`, without the
/// whole summary in memory at once (at 10,000 applications its maps were the peak of a first
/// build): each object is written out as soon as it is summarized, and the objects are then
/// joined in key order. The layout is serde_json's pretty printing, which `render` uses; a
/// test holds the two equal.
pub fn text(model: &Model) -> String {
    let mut objects: BTreeMap<String, String> = BTreeMap::new();
    let mut repeated = false;
    each_object(model, &mut |object, fields| {
        let fields = object_fields(fields);
        repeated |= objects.insert(object, fields).is_some();
    });
    if repeated {
        // An object put twice has its fields merged; no model does that (an object is its
        // kind and unique name), but should one, the whole summary says what that means.
        return render(&summarize(model));
    }
    let mut out = String::with_capacity(
        objects
            .iter()
            .map(|(object, fields)| object.len() + fields.len() + 16)
            .sum::<usize>()
            + 128,
    );
    out.push_str("{\n  \"generated\": ");
    out.push_str(&json_string(&generated()));
    out.push_str(",\n  \"version\": 1,\n  \"objects\": ");
    if objects.is_empty() {
        out.push_str("{}");
    } else {
        out.push('{');
        for (i, (object, fields)) in objects.into_iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&json_string(&object));
            out.push_str(": ");
            out.push_str(&fields);
        }
        out.push_str("\n  }");
    }
    out.push_str("\n}\n");
    out
}

/// The summary's `generated` line.
fn generated() -> String {
    format!(
        "by plat, do not edit; regenerate with `{}`",
        crate::shared::REGENERATE
    )
}

/// An object's fields as serde_json pretty-prints them at the depth of `objects`: sorted by
/// name, the last value of a name repeated winning (as when extending a map).
fn object_fields(mut fields: Vec<(String, String)>) -> String {
    fields.reverse();
    // A stable sort of the reversed fields puts the last given of each name first.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, first| later.0 == first.0);
    if fields.is_empty() {
        return "{}".to_string();
    }
    let mut out = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        out.push_str(if i == 0 { "\n      " } else { ",\n      " });
        out.push_str(&json_string(name));
        out.push_str(": ");
        out.push_str(&json_string(value));
    }
    out.push_str("\n    }");
    out
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Parses `out/plat.model.json`; `None` when it is not a summary this version wrote.
pub fn parse(text: &str) -> Option<Summary> {
    let document: Value = serde_json::from_str(text).ok()?;
    if document.get("version")?.as_i64()? != 1 {
        return None;
    }
    let mut summary = Summary::new();
    for (object, fields) in document.get("objects")?.as_object()? {
        let entry = summary.entry(object.clone()).or_default();
        for (field, value) in fields.as_object()? {
            entry.insert(field.clone(), value.as_str()?.to_string());
        }
    }
    Some(summary)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    #[test]
    fn text_is_the_rendered_summary() {
        let mut odd = fixture::small();
        // Names that need escaping, and no VMs, hosts or anything else at all.
        odd.vms["cp-1"].name = "cp-\"1\"\\\u{1}é".to_string();
        let empty = Model::default();
        for model in [
            fixture::small(),
            crate::emit::k8s::tests::full(),
            odd,
            empty,
        ] {
            assert_eq!(text(&model), render(&summarize(&model)));
        }
        let repeated: Vec<(String, String)> = vec![
            ("b".into(), "1".into()),
            ("a".into(), "2".into()),
            ("b".into(), "3".into()),
        ];
        // A name given twice keeps its last value, as extending a map does.
        let merged: BTreeMap<String, String> = repeated.iter().cloned().collect();
        assert_eq!(
            object_fields(repeated),
            object_fields(merged.into_iter().collect())
        );
        assert!(
            object_fields(vec![("b".into(), "1".into()), ("b".into(), "3".into())])
                .contains("\"b\": \"3\"")
        );
    }

    #[test]
    fn summary_round_trips_through_json() {
        let summary = summarize(&fixture::small());
        let text = render(&summary);
        assert_eq!(parse(&text), Some(summary));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn vm_memory_reads_in_binary_units() {
        let summary = summarize(&fixture::small());
        assert_eq!(summary["vm cp-1"]["memory"], "4GiB");
        assert_eq!(size(1536 << 20), "1536MiB");
        assert_eq!(size(1000), "1000B");
    }

    #[test]
    fn a_memory_change_needs_a_reboot_and_a_new_vm_is_created() {
        let old = summarize(&fixture::small());
        let mut model = fixture::small();
        model.vms["cp-1"].memory.value = 16 << 30;
        let removed = model.vms.shift_remove("worker-2");
        assert!(removed.is_some());
        let changes = compare(&old, &summarize(&model));
        let shown: Vec<String> = changes
            .iter()
            .map(|c| format!("{c} [{}]", c.impact()))
            .collect();
        assert_eq!(
            shown,
            [
                "vm cp-1: memory 4GiB -> 16GiB [needs a VM reboot]",
                "vm worker-2: removed [destroys the VM]",
            ]
        );
    }

    #[test]
    fn values_read_as_the_sources_write_them() {
        let summary = summarize(&fixture::small());
        assert_eq!(summary["host pve1"]["storage local-lvm"], "lvmthin 900GiB");
        assert_eq!(summary["node cp-1"]["role"], "control-plane");
        assert_eq!(summary["firewall fw1"]["wan"], "dhcp");
        assert_eq!(summary["rule nodes-out"]["after"], "nodes-no-mgmt");
    }

    #[test]
    fn impacts_follow_the_field() {
        assert_eq!(impact("vm", "disk scsi0 size"), Impact::InPlace);
        assert_eq!(impact("vm", "disk scsi0 storage"), Impact::Recreate);
        assert_eq!(impact("vm", "nic net0 address"), Impact::CloudInit);
        assert_eq!(impact("rule", "ports"), Impact::Firewall);
        assert_eq!(impact("service", "image"), Impact::Rollout);
        assert_eq!(impact("service", "replicas"), Impact::InPlace);
    }
}

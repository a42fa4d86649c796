//! Semantic checks of the platform: the rules no general configuration language knows
//! (unique VLAN ids, VMIDs, addresses and MACs; addresses inside their subnets; capacity of
//! each host; reachability of cluster nodes; firewall rules that can never match; ...).
//!
//! One check per file in `check/`, each `pub fn check(&Model, &mut Vec<Diagnostic>)` with a
//! stable code `check::<name>` and an `INFO` constant whose doc comment is the user
//! documentation (What it does / Why / Example / How to fix). [`CHECKS`] lists them all for
//! the docs generator; [`run`] runs them all.
//!
//! Invariants:
//! - Checks read only the model and never panic on a dangling reference (the front end
//!   reports those); they skip what they cannot resolve.
//! - Each check is O(n log n) in the size of the model: sort and scan, or `BTreeMap`s, never a
//!   scan of all objects per object.
//! - "First" and "second" mean declaration order: the model's order within one kind, the
//!   declaration spans across kinds (see [`static_addresses`]).
//! - A diagnostic points at the field that is wrong. When that field holds a prelude default
//!   (its span is in the prelude), it points at the entity or NIC that took the default.
//!
//! Unit tests sit beside each check; `tests` below checks [`CHECKS`] against [`run`].

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use plat_lang::diagnostic::{self, Diagnostic, Severity};
use plat_lang::span::Span;

use crate::model::{At, Model, Node, Role};

pub mod address_in_dhcp_range;
pub mod address_outside_subnet;
pub mod cidr_overlap;
pub mod control_plane_not_spread;
pub mod cross_cluster_reference;
pub mod duplicate_address;
pub mod duplicate_ingress_host;
pub mod duplicate_mac;
pub mod duplicate_node_vm;
pub mod duplicate_vlan_id;
pub mod duplicate_vmid;
pub mod host_capacity;
pub mod invalid_dhcp_range;
pub mod missing_site;
pub mod node_unreachable;
pub mod node_without_static_address;
pub mod reserved_address;
pub mod shadowed_rule;
pub mod unknown_bridge;
pub mod unknown_storage;

/// A check: a function adding its findings to a list.
pub type CheckFn = fn(&Model, &mut Vec<Diagnostic>);

/// A check's identity, documentation (for `docs/errors.md`) and function.
#[derive(Clone, Copy, Debug)]
pub struct CheckInfo {
    /// The stable diagnostic code, `check::<name>`.
    pub code: &'static str,
    /// Whether a finding fails the run.
    pub severity: Severity,
    /// Markdown with the sections What it does / Why / Example / How to fix, as written in
    /// the check's doc comment (each line keeps the one leading space of `///`).
    pub doc: &'static str,
    /// The check itself.
    pub check: CheckFn,
}

impl CheckInfo {
    /// The documentation as Markdown, with the leading space of each doc-comment line removed.
    pub fn doc_markdown(&self) -> String {
        let mut text = String::new();
        for line in self.doc.lines() {
            text.push_str(line.strip_prefix(' ').unwrap_or(line));
            text.push('\n');
        }
        text
    }
}

/// Every check's code, severity and documentation, in run order.
pub const CHECKS: &[CheckInfo] = &[
    missing_site::INFO,
    duplicate_vlan_id::INFO,
    cidr_overlap::INFO,
    invalid_dhcp_range::INFO,
    address_outside_subnet::INFO,
    reserved_address::INFO,
    address_in_dhcp_range::INFO,
    duplicate_address::INFO,
    duplicate_mac::INFO,
    duplicate_vmid::INFO,
    host_capacity::INFO,
    unknown_storage::INFO,
    unknown_bridge::INFO,
    node_without_static_address::INFO,
    node_unreachable::INFO,
    duplicate_node_vm::INFO,
    control_plane_not_spread::INFO,
    cross_cluster_reference::INFO,
    duplicate_ingress_host::INFO,
    shadowed_rule::INFO,
];

/// Runs every check over `model` and returns all findings, sorted by position then code.
pub fn run(model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for info in CHECKS {
        (info.check)(model, &mut out);
    }
    diagnostic::sort(&mut out);
    out
}

/// Declares a check's `INFO` constant (for the module's `check` function); its doc comment
/// becomes [`CheckInfo::doc`].
macro_rules! declare_check {
    ($(#[doc = $doc:literal])* code = $code:literal, severity = $severity:ident $(,)?) => {
        $(#[doc = $doc])*
        pub const INFO: $crate::check::CheckInfo = $crate::check::CheckInfo {
            code: $code,
            severity: plat_lang::diagnostic::Severity::$severity,
            doc: concat!($($doc, "\n"),*),
            check,
        };
    };
}
pub(crate) use declare_check;

/// The span of `field`, or `fallback` (its entity or NIC) when the value is a prelude default.
pub(crate) fn span_of<T>(field: &At<T>, fallback: Span) -> Span {
    if field.from_default {
        fallback
    } else {
        field.span
    }
}

/// Sort key putting declarations in source order (file, then offset).
pub(crate) fn source_order(span: Span) -> (u32, u32) {
    (span.file.0, span.start)
}

/// Calls `report(first, repeat)` for every item whose key an earlier item already had.
/// Items must come in declaration order.
pub(crate) fn for_each_repeat<K: Ord, T>(
    items: impl IntoIterator<Item = (K, T)>,
    mut report: impl FnMut(&T, &T),
) {
    let mut first: BTreeMap<K, T> = BTreeMap::new();
    for (key, item) in items {
        match first.entry(key) {
            Entry::Occupied(entry) => report(entry.get(), &item),
            Entry::Vacant(entry) => {
                entry.insert(item);
            }
        }
    }
}

/// Who holds a static address.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner<'m> {
    /// The gateway of the named VLAN.
    Gateway(&'m str),
    /// A host's management address.
    Host(&'m str),
    /// A VM's NIC: VM name and NIC slot.
    Nic(&'m str, &'m str),
    /// A cluster's endpoint, and the lead node that puts the cluster on its VLAN.
    Endpoint(&'m str, Option<&'m str>),
}

impl std::fmt::Display for Owner<'_> {
    /// `vm cp-1 (net0)`, `host pve1`, `the gateway of vlan nodes`, ...
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Gateway(vlan) => write!(f, "the gateway of vlan {vlan}"),
            Owner::Host(host) => write!(f, "host {host}"),
            Owner::Nic(vm, slot) => write!(f, "vm {vm} ({slot})"),
            Owner::Endpoint(cluster, _) => write!(f, "the endpoint of cluster {cluster}"),
        }
    }
}

/// A statically assigned address and the VLAN it must belong to. Built for every address of
/// the platform by several checks, so messages are formatted only when reported.
#[derive(Clone, Debug)]
pub(crate) struct StaticAddress<'m> {
    /// The address.
    pub ip: IpAddr,
    /// The field that sets it.
    pub span: Span,
    /// Who has it.
    pub owner: Owner<'m>,
    /// The VLAN it is on, when known.
    pub vlan: Option<&'m str>,
    /// The field that puts it on that VLAN.
    pub vlan_span: Span,
    /// Where its owner is declared (orders "first" and "second").
    pub declared: Span,
}

impl StaticAddress<'_> {
    /// What the field at `vlan_span` says, for its label: `net0 is on vlan nodes`.
    pub fn vlan_via(&self) -> String {
        let vlan = self.vlan.unwrap_or_default();
        match self.owner {
            Owner::Gateway(_) => format!("the subnet of vlan {vlan}"),
            Owner::Host(host) => format!("host {host} is on vlan {vlan}"),
            Owner::Nic(_, slot) => format!("{slot} is on vlan {vlan}"),
            Owner::Endpoint(cluster, node) => format!(
                "node {} of cluster {cluster} is on vlan {vlan}",
                node.unwrap_or_default()
            ),
        }
    }
}

/// Every static address of the platform in declaration order: VLAN gateways, host
/// management addresses, VM NIC addresses and cluster endpoints (on their nodes' VLAN). A NIC
/// of a firewall's VM that has its VLAN's gateway address is that gateway, not listed twice.
pub(crate) fn static_addresses(model: &Model) -> Vec<StaticAddress<'_>> {
    let mut addresses = Vec::new();
    for vlan in model.vlans.values() {
        addresses.push(StaticAddress {
            ip: *vlan.gateway,
            span: span_of(&vlan.gateway, vlan.span),
            owner: Owner::Gateway(&vlan.name),
            vlan: Some(&vlan.name),
            vlan_span: vlan.subnet.span,
            declared: vlan.span,
        });
    }
    for host in model.hosts.values() {
        addresses.push(StaticAddress {
            ip: *host.address,
            span: host.address.span,
            owner: Owner::Host(&host.name),
            vlan: Some(&host.vlan),
            vlan_span: host.vlan.span,
            declared: host.span,
        });
    }
    let firewall_vms: BTreeSet<&str> = model
        .firewalls
        .values()
        .filter_map(|firewall| firewall.vm.as_deref())
        .collect();
    for vm in model.vms.values() {
        for (slot, nic) in vm.nics.iter() {
            let Some(ip) = *nic.address else {
                continue;
            };
            if firewall_vms.contains(vm.name.as_str()) && is_gateway(model, &nic.vlan, ip) {
                // A firewall VM holding its VLAN's gateway address *is* the gateway.
                continue;
            }
            addresses.push(StaticAddress {
                ip,
                span: nic.address.span,
                owner: Owner::Nic(&vm.name, slot),
                vlan: Some(&nic.vlan),
                vlan_span: nic.vlan.span,
                declared: vm.span,
            });
        }
    }
    let cluster_vlans = cluster_vlans(model);
    for cluster in model.clusters.values() {
        let vlan = cluster_vlans.get(cluster.name.as_str());
        addresses.push(StaticAddress {
            ip: *cluster.endpoint,
            span: cluster.endpoint.span,
            owner: Owner::Endpoint(&cluster.name, vlan.map(|v| v.node)),
            vlan: vlan.map(|v| v.vlan),
            vlan_span: vlan.map_or(cluster.span, |v| v.span),
            declared: cluster.span,
        });
    }
    addresses.sort_by_key(|address| source_order(address.declared));
    addresses
}

fn is_gateway(model: &Model, vlan: &str, ip: IpAddr) -> bool {
    model
        .vlans
        .get(vlan)
        .is_some_and(|vlan| *vlan.gateway == ip)
}

/// The VLAN a cluster lives on: the one its lead node's VM reaches the endpoint through.
#[derive(Clone, Debug)]
pub(crate) struct ClusterVlan<'m> {
    /// The VLAN's name.
    pub vlan: &'m str,
    /// The lead node's NIC `vlan` field.
    pub span: Span,
    /// The lead node: the first control-plane node, else the first node.
    pub node: &'m str,
}

/// Each cluster's VLAN, for clusters with a node whose VM has a NIC on a declared VLAN. The
/// VLAN is that of the lead node's NIC whose subnet holds the endpoint, else its first NIC.
pub(crate) fn cluster_vlans(model: &Model) -> BTreeMap<&str, ClusterVlan<'_>> {
    let mut leads: BTreeMap<&str, &Node> = BTreeMap::new();
    for node in model.nodes.values() {
        match leads.entry(node.cluster.as_str()) {
            Entry::Vacant(entry) => {
                entry.insert(node);
            }
            Entry::Occupied(mut entry) => {
                let lead_is_worker = *entry.get().role != Role::ControlPlane;
                if lead_is_worker && *node.role == Role::ControlPlane {
                    entry.insert(node);
                }
            }
        }
    }
    let mut vlans = BTreeMap::new();
    for (cluster_name, node) in leads {
        let (Some(cluster), Some(vm)) = (
            model.clusters.get(cluster_name),
            model.vms.get(node.vm.as_str()),
        ) else {
            continue;
        };
        let on_known_vlan = || {
            vm.nics
                .values()
                .filter_map(|nic| Some((nic, model.vlans.get(nic.vlan.as_str())?)))
        };
        let nic = on_known_vlan()
            .find(|(_, vlan)| vlan.subnet.contains(*cluster.endpoint))
            .or_else(|| on_known_vlan().next());
        if let Some((nic, _)) = nic {
            let vlan = ClusterVlan {
                vlan: nic.vlan.as_str(),
                span: nic.vlan.span,
                node: &node.name,
            };
            vlans.insert(cluster_name, vlan);
        }
    }
    vlans
}

/// "a, b and 3 more": up to `limit` names for a message.
pub(crate) fn name_list<'a>(names: impl IntoIterator<Item = &'a str>, limit: usize) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let shown = names[..names.len().min(limit)].join(", ");
    match names.len().saturating_sub(limit) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the checks' unit tests: distinct spans and running one check.

    use super::*;
    use plat_lang::span::FileId;

    /// A distinct span number `n` in file 0 (`10n..10n+2`).
    pub fn span(n: usize) -> Span {
        Span::new(FileId(0), 10 * n, 10 * n + 2)
    }

    /// `value` written at span number `n`.
    pub fn at<T>(value: T, n: usize) -> At<T> {
        At::new(value, span(n))
    }

    /// Runs one check function.
    pub fn run_check(check: fn(&Model, &mut Vec<Diagnostic>), model: &Model) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check(model, &mut out);
        out
    }

    /// A parsed address.
    pub fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    /// A parsed subnet.
    pub fn cidr(text: &str) -> crate::model::Cidr {
        let (addr, prefix) = text.split_once('/').expect("test cidr");
        crate::model::Cidr::new(ip(addr), prefix.parse().expect("prefix")).expect("test cidr")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    #[test]
    fn the_small_platform_passes_every_check() {
        assert_eq!(run(&fixture::small()), Vec::new());
    }

    #[test]
    fn checks_have_distinct_codes_and_documentation() {
        let mut codes = Vec::new();
        for info in CHECKS {
            assert!(info.code.starts_with("check::"), "{}", info.code);
            let name = &info.code["check::".len()..];
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            let doc = info.doc_markdown();
            for section in ["What it does", "Why", "Example", "How to fix"] {
                assert!(
                    doc.contains(&format!("## {section}\n")),
                    "{name}: {section}"
                );
            }
            codes.push(info.code);
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CHECKS.len());
    }

    #[test]
    fn static_addresses_follow_declaration_order() {
        let mut model = fixture::small();
        model.vms["cp-1"].span = testing::span(1);
        model.hosts["pve1"].span = testing::span(2);
        let owners: Vec<String> = static_addresses(&model)
            .into_iter()
            .map(|a| a.owner.to_string())
            .collect();
        assert_eq!(owners[0], "the gateway of vlan mgmt");
        assert_eq!(owners[owners.len() - 2], "vm cp-1 (net0)");
        assert_eq!(owners[owners.len() - 1], "host pve1");
    }

    #[test]
    fn a_cluster_lives_on_its_control_plane_vlan() {
        let model = fixture::small();
        let vlans = cluster_vlans(&model);
        assert_eq!(vlans["main"].vlan, "nodes");
        assert_eq!(vlans["main"].node, "cp-1");
    }

    /// The conformance examples `errors/*.plat` as models, each value at the span of its
    /// line: they must report their `# expect: CODE at LINE`.
    mod examples {
        use super::*;
        use crate::check::testing::{cidr, ip};
        use crate::model::{Cluster, Host, Vlan, Vm};
        use plat_lang::span::FileId;

        fn line(n: usize) -> Span {
            Span::new(FileId(1), 100 * n, 100 * n + 10)
        }

        fn on<T>(value: T, n: usize) -> At<T> {
            At::new(value, line(n))
        }

        fn defaulted<T>(value: T) -> At<T> {
            At {
                from_default: true,
                ..At::new(value, Span::new(FileId(0), 1, 2))
            }
        }

        /// `vlan nodes` on line 2 and `host pve1` on lines 4 to 9.
        fn base(host_memory_gib: i64) -> Model {
            let small = fixture::small();
            let vlan = Vlan {
                span: line(2),
                id: on(20, 2),
                subnet: on(cidr("10.20.0.0/24"), 2),
                gateway: defaulted(ip("10.20.0.1")),
                dhcp: defaulted(None),
                description: defaulted(String::new()),
                ..small.vlans["nodes"].clone()
            };
            let host = Host {
                span: line(4),
                cpu: on(8, 5),
                memory: on(host_memory_gib << 30, 6),
                vlan: on("nodes".into(), 7),
                address: on(ip("10.20.0.2"), 8),
                storage: defaulted(Default::default()),
                cpu_overcommit: defaulted(4),
                memory_reserved: defaulted(2 << 30),
                ..small.hosts["pve1"].clone()
            };
            let mut model = Model::default();
            model.vlans.insert("nodes".into(), vlan);
            model.hosts.insert("pve1".into(), host);
            model
        }

        /// `vm NAME { host = host.pve1, vmid = VMID, memory = 2GiB, nics = ... }` at `first`.
        fn vm(model: &mut Model, name: &str, vmid: u32, address: &str, first: usize) {
            let small = fixture::small();
            let mut vm = Vm {
                name: name.into(),
                span: line(first),
                host: on("pve1".into(), first + 1),
                vmid: on(vmid, first + 1),
                memory: on(2 << 30, first + 1),
                disks: defaulted(Default::default()),
                ..small.vms["cp-1"].clone()
            };
            let nic = &mut vm.nics.value["net0"];
            nic.vlan = on("nodes".into(), first + 2);
            nic.address = on(Some(ip(address)), first + 2);
            nic.mac = defaulted(crate::model::ids::mac(name, "net0"));
            model.vms.insert(name.into(), vm);
        }

        fn expect(model: &Model, code: &str, at_line: usize) {
            let found = run(model);
            assert!(
                found
                    .iter()
                    .any(|d| d.code == code && d.span == line(at_line)),
                "{code} at {at_line} in {found:#?}"
            );
            assert!(found
                .iter()
                .all(|d| d.code == code || d.code == "check::missing-site"));
        }

        #[test]
        fn address_outside_subnet() {
            let mut model = base(32);
            vm(&mut model, "a", 101, "10.30.0.11", 11);
            expect(&model, "check::address-outside-subnet", 13);
        }

        #[test]
        fn duplicate_address() {
            let mut model = base(32);
            vm(&mut model, "a", 101, "10.20.0.11", 11);
            vm(&mut model, "b", 102, "10.20.0.11", 15);
            expect(&model, "check::duplicate-address", 17);
        }

        #[test]
        fn duplicate_vmid() {
            let mut model = base(32);
            vm(&mut model, "a", 101, "10.20.0.11", 11);
            vm(&mut model, "b", 101, "10.20.0.12", 15);
            expect(&model, "check::duplicate-vmid", 16);
        }

        #[test]
        fn host_capacity() {
            let mut model = base(16);
            for i in 1..=3 {
                vm(
                    &mut model,
                    &format!("big-{i}"),
                    100 + i,
                    &format!("10.20.0.{}", 10 + i),
                    12,
                );
                model.vms[&format!("big-{i}")].memory = on(8 << 30, 13);
            }
            expect(&model, "check::host-capacity", 6);
        }

        #[test]
        fn cidr_overlap() {
            let mut model = base(32);
            model.hosts.clear();
            let cluster = Cluster {
                span: line(4),
                version: on("1.31.4".into(), 5),
                endpoint: on(ip("10.20.0.5"), 6),
                pod_cidr: on(cidr("10.244.0.0/16"), 7),
                service_cidr: on(cidr("10.20.0.0/16"), 8),
                ..fixture::small().clusters["main"].clone()
            };
            model.clusters.insert("main".into(), cluster);
            expect(&model, "check::cidr-overlap", 8);
        }
    }

    /// A platform of about `n` VMs, nodes, rules and services, plus 4000 VLANs, built from
    /// the fixture's pieces with distinct names, ids and addresses.
    fn large(n: usize) -> Model {
        use crate::check::testing::{at, cidr};
        use crate::model::{ids, Endpoint, Proto};
        let small = fixture::small();
        let mut model = Model {
            site: small.site.clone(),
            ..Model::default()
        };
        let subnet = |i: usize| cidr(&format!("10.{}.{}.0/24", i / 256, i % 256));
        for i in 0..4000 {
            let mut vlan = small.vlans["nodes"].clone();
            vlan.name = format!("v{i}");
            vlan.id = at(i as u16 + 1, 0);
            vlan.subnet = at(subnet(i), 0);
            vlan.gateway = at(subnet(i).host(1).unwrap(), 0);
            vlan.dhcp = at(None, 0);
            model.vlans.insert(vlan.name.clone(), vlan);
        }
        for h in 0..n / 10 {
            let mut host = small.hosts["pve1"].clone();
            host.name = format!("h{h}");
            host.vlan = at(format!("v{}", h % 4000), 0);
            host.address = at(subnet(h % 4000).host(2 + (h / 4000) as u128).unwrap(), 0);
            model.hosts.insert(host.name.clone(), host);
        }
        for i in 0..n {
            let name = format!("vm{i}");
            let mut vm = small.vms["cp-1"].clone();
            vm.name = name.clone();
            vm.host = at(format!("h{}", i / 10), 0);
            vm.vmid = at(1000 + i as u32, 0);
            let nic = &mut vm.nics.value["net0"];
            nic.vlan = at(format!("v{}", i / 10 % 4000), 0);
            nic.address = at(
                subnet(i / 10 % 4000).host(10 + (i % 10 + i / 40000 * 10) as u128),
                0,
            );
            nic.mac = at(ids::mac(&name, "net0"), 0);
            model.vms.insert(name.clone(), vm);
            let mut node = small.nodes[if i % 10 == 0 { "cp-1" } else { "worker-1" }].clone();
            node.name = name.clone();
            node.vm = at(name, 0);
            node.cluster = at(format!("c{}", i / 10), 0);
            model.nodes.insert(node.name.clone(), node);
            let mut rule = small.rules["https-in"].clone();
            rule.name = format!("r{i}");
            rule.from = at(Endpoint::Vm(format!("vm{i}")), 0);
            rule.to = at(Endpoint::Vlan(format!("v{}", i % 4000)), 0);
            rule.proto = at(Proto::Tcp, 0);
            rule.ports = at(Some((i as u16 % 1000 + 1, i as u16 % 1000 + 1)), 0);
            model.rules.insert(rule.name.clone(), rule);
            let mut service = small.services["whoami"].clone();
            service.name = format!("s{i}");
            let mut ingress = service.ingress.value.clone().unwrap();
            ingress.host = format!("s{i}.lab.home.arpa");
            service.ingress = at(Some(ingress), 0);
            model.services.insert(service.name.clone(), service);
        }
        for c in 0..n / 10 {
            let mut cluster = small.clusters["main"].clone();
            cluster.name = format!("c{c}");
            cluster.endpoint = at(subnet(c % 4000).host(5 + (c / 4000) as u128).unwrap(), 0);
            model.clusters.insert(cluster.name.clone(), cluster);
        }
        model.namespaces = small.namespaces;
        model
    }

    #[test]
    fn a_large_clean_platform_has_no_findings() {
        let found = run(&large(2000));
        assert!(found.is_empty(), "{:#?}", &found[..found.len().min(3)]);
    }

    /// Every check is O(n log n): all of them together take about 10 s on 100k VMs, nodes,
    /// rules and services in a debug build on a busy 2-core machine.
    #[test]
    #[ignore = "scale test; run with --ignored"]
    fn checks_scale_to_a_hundred_thousand_objects() {
        let model = large(100_000);
        assert_eq!(model.vms.len(), 100_000);
        let started = std::time::Instant::now();
        let found = run(&model);
        let elapsed = started.elapsed();
        // 24 hash bits: 100k derived MACs collide a few hundred times (birthday bound).
        let (macs, others): (Vec<_>, Vec<_>) =
            found.iter().partition(|d| d.code == "check::duplicate-mac");
        assert!(others.is_empty(), "{:#?}", &others[..others.len().min(3)]);
        assert!(macs.len() < 1000, "{}", macs.len());
        assert!(elapsed.as_secs() < 60, "{elapsed:?}");
    }

    #[test]
    fn name_lists_are_bounded() {
        assert_eq!(name_list(["a", "b"], 3), "a, b");
        assert_eq!(name_list(["a", "b", "c", "d"], 2), "a, b and 2 more");
    }
}

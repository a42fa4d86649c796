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
//!   declaration spans across kinds (see `static_addresses`).
//! - A diagnostic points at the field that is wrong. When that field holds a prelude default
//!   (its span is in the prelude), it points at the entity or NIC that took the default.
//!
//! Unit tests sit beside each check; `check/tests.rs` tests the set as a whole (documentation,
//! the conformance examples as models, scale).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use plat_lang::diagnostic::{self, Diagnostic, Severity};
use plat_lang::span::Span;

use crate::model::{At, Model, Node, Role, Vlan};

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
pub mod efidisk_without_ovmf;
pub mod host_capacity;
pub mod hostpci_slot;
pub mod invalid_dhcp_range;
pub mod missing_site;
pub mod node_unreachable;
pub mod node_without_static_address;
pub mod ovmf_without_efidisk;
pub mod pcie_on_legacy_machine;
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
    ovmf_without_efidisk::INFO,
    efidisk_without_ovmf::INFO,
    pcie_on_legacy_machine::INFO,
    hostpci_slot::INFO,
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

/// The [`static_addresses`] on a declared VLAN, each with that VLAN: what the subnet checks
/// (`address-outside-subnet`, `reserved-address`, `address-in-dhcp-range`) look at.
pub(crate) fn addresses_on_vlans(
    model: &Model,
) -> impl Iterator<Item = (StaticAddress<'_>, &Vlan)> {
    static_addresses(model).into_iter().filter_map(|address| {
        let vlan = model.vlans.get(address.vlan?)?;
        Some((address, vlan))
    })
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
            if firewall_vms.contains(vm.name.as_str())
                && nic
                    .vlan
                    .as_deref()
                    .is_some_and(|vlan| is_gateway(model, vlan, ip))
            {
                // A firewall VM holding its VLAN's gateway address *is* the gateway.
                continue;
            }
            addresses.push(StaticAddress {
                ip,
                span: nic.address.span,
                owner: Owner::Nic(&vm.name, slot),
                vlan: nic.vlan.as_deref(),
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
            vm.nics.values().filter_map(|nic| {
                let name = nic.vlan.as_deref()?;
                Some((nic, name, model.vlans.get(name)?))
            })
        };
        let nic = on_known_vlan()
            .find(|(_, _, vlan)| vlan.subnet.contains(*cluster.endpoint))
            .or_else(|| on_known_vlan().next());
        if let Some((nic, name, _)) = nic {
            let vlan = ClusterVlan {
                vlan: name,
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
mod tests;

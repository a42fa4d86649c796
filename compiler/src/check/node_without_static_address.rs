//! `check::node-without-static-address`: a Kubernetes node whose VM has no static address.
//! Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{cluster_vlans, declare_check, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a node whose VM has no NIC with a static `address`.
    ///
    /// ## Why
    /// kubeadm writes each node's address into its certificates and the control plane's
    /// etcd member list; an address leased by DHCP can change and break the node. plat also
    /// needs the address to generate the node's network configuration and join command.
    ///
    /// ## Example
    /// ```plat
    /// vm w1 { host = host.pve1, vmid = 301, memory = 8GiB, nics = { net0 = { vlan = vlan.nodes } } }
    /// node w1 { cluster = cluster.main, vm = vm.w1, role = "worker" }
    /// ```
    ///
    /// ## How to fix
    /// Give one of the VM's NICs an `address` on the cluster's VLAN, e.g.
    /// `address = vlan.nodes.subnet.host(21)`, outside the DHCP range.
    code = "check::node-without-static-address",
    severity = Error,
}

/// What to write: an address on `vlan` (the cluster's, else the VM's first), when known.
fn help(vm: &str, vlan: Option<&str>) -> String {
    match vlan {
        Some(vlan) => format!(
            "give the nic of vm {vm} on vlan {vlan} a static `address`, e.g. `address = vlan.{vlan}.subnet.host(21)`"
        ),
        None => format!("put a nic of vm {vm} on a vlan and give it a static `address`"),
    }
}

/// Reports each node whose VM has only DHCP NICs, at the first NIC's `address` (or the VM's
/// `nics` when it has none).
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let cluster_vlans = cluster_vlans(model);
    for node in model.nodes.values() {
        let Some(vm) = model.vms.get(node.vm.as_str()) else {
            continue;
        };
        if vm.nics.values().any(|nic| nic.address.is_some()) {
            continue;
        }
        let vlan = cluster_vlans
            .get(node.cluster.as_str())
            .map(|cluster| cluster.vlan)
            .or_else(|| vm.nics.values().find_map(|nic| nic.vlan.as_deref()));
        let span = match vm.nics.first() {
            Some((_, nic)) => span_of(&nic.address, nic.span),
            None => span_of(&vm.nics, vm.span),
        };
        out.push(
            Diagnostic::error(
                INFO.code,
                span,
                format!("vm {} of node {} has no static address", vm.name, node.name),
            )
            .with_label("no static address")
            .with_secondary(node.vm.span, format!("used by node {} here", node.name))
            .with_help(help(&vm.name, vlan)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use indexmap::IndexMap;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn nodes_with_addresses_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_dhcp_node_is_reported_at_its_nic_address() {
        let mut model = fixture::small();
        model.nodes["worker-2"].vm.span = span(1);
        let nic = &mut model.vms["worker-2"].nics.value["net0"];
        nic.span = span(2);
        nic.address = at(None, 3);
        nic.address.from_default = true;
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::node-without-static-address");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "vm worker-2 of node worker-2 has no static address"
        );
        let help = d.help.as_deref().unwrap();
        assert!(help.contains("on vlan nodes"), "{help}");
        assert!(
            help.ends_with("`address = vlan.nodes.subnet.host(21)`"),
            "{help}"
        );
    }

    #[test]
    fn a_vm_without_nics_is_reported_at_its_nics() {
        let mut model = fixture::small();
        model.vms["cp-1"].nics = at(IndexMap::new(), 4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(4));
    }

    #[test]
    fn a_vm_that_is_no_node_may_use_dhcp() {
        let mut model = fixture::small();
        model.nodes.shift_remove("worker-2");
        model.vms["worker-2"].nics.value["net0"].address = at(None, 3);
        assert!(run_check(check, &model).is_empty());
    }
}

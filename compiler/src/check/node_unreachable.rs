//! `check::node-unreachable`: a Kubernetes node without a NIC on its cluster's VLAN. The
//! cluster's VLAN comes from `check::cluster_vlans`. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{cluster_vlans, declare_check};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a node whose VM has no NIC on the cluster's VLAN: the VLAN of the cluster's
    /// first control-plane node, on which its `endpoint` lives.
    ///
    /// ## Why
    /// Nodes reach the API endpoint, each other's kubelets and the pod network through the
    /// cluster's segment. A node on another VLAN depends on firewall rules and routing that
    /// plat does not generate for cluster traffic, and the floating endpoint (announced by
    /// ARP) is not visible from another segment.
    ///
    /// ## Example
    /// ```plat
    /// node cp-1 { cluster = cluster.main, vm = vm.cp-1, role = "control-plane" } # on vlan.nodes
    /// node w-1  { cluster = cluster.main, vm = vm.w-1,  role = "worker" }        # on vlan.services
    /// ```
    ///
    /// ## How to fix
    /// Put a NIC of the node's VM on the cluster's VLAN, or make the node part of a cluster on
    /// its own VLAN.
    code = "check::node-unreachable",
    severity = Error,
}

/// Reports each node off its cluster's VLAN, at the node's `vm` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let cluster_vlans = cluster_vlans(model);
    for node in model.nodes.values() {
        let (Some(cluster_vlan), Some(vm)) = (
            cluster_vlans.get(node.cluster.as_str()),
            model.vms.get(node.vm.as_str()),
        ) else {
            continue;
        };
        if vm
            .nics
            .values()
            .any(|nic| nic.vlan.as_deref() == Some(cluster_vlan.vlan))
        {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                node.vm.span,
                format!(
                    "node {} has no nic on vlan {}, the vlan of cluster {}",
                    node.name, cluster_vlan.vlan, *node.cluster
                ),
            )
            .with_label(format!(
                "vm {} is not on vlan {}",
                vm.name, cluster_vlan.vlan
            ))
            .with_secondary(
                cluster_vlan.span,
                format!(
                    "node {} puts cluster {} on vlan {} here",
                    cluster_vlan.node, *node.cluster, cluster_vlan.vlan
                ),
            )
            .with_help(format!(
                "add a nic on vlan {} to vm {}, e.g. `{{ vlan = vlan.{}, address = ... }}`",
                cluster_vlan.vlan, vm.name, cluster_vlan.vlan
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, ip, run_check, span};
    use crate::model::{fixture, Role};
    use plat_lang::diagnostic::Severity;

    #[test]
    fn nodes_on_the_cluster_vlan_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_worker_on_another_vlan_is_reported_at_its_node_vm() {
        let mut model = fixture::small();
        model.vms["cp-1"].nics.value["net0"].vlan.span = span(1);
        model.nodes["worker-1"].vm.span = span(2);
        let nic = &mut model.vms["worker-1"].nics.value["net0"];
        nic.vlan = at(Some("services".into()), 3);
        nic.address = at(Some(ip("10.30.0.21")), 4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::node-unreachable");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "node worker-1 has no nic on vlan nodes, the vlan of cluster main"
        );
    }

    #[test]
    fn the_control_plane_decides_the_vlan() {
        let mut model = fixture::small();
        // The first node declared is a worker on another VLAN: it is still the odd one out.
        let worker = model.nodes.shift_remove("worker-1").unwrap();
        model.nodes.shift_insert(0, "worker-1".into(), worker);
        assert_eq!(*model.nodes[0].role, Role::Worker);
        model.vms["worker-1"].nics.value["net0"].vlan = at(Some("services".into()), 3);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with("node worker-1"));
    }
}

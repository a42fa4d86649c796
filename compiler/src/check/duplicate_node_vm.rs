//! `check::duplicate-node-vm`: one VM used by two Kubernetes nodes. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, for_each_repeat};
use crate::model::{Model, Node};

declare_check! {
    /// ## What it does
    /// Reports a node whose `vm` an earlier node already runs on, in the same cluster or in
    /// another one.
    ///
    /// ## Why
    /// A machine runs one kubelet and joins one cluster: the second node would overwrite the
    /// first one's kubeadm configuration and cloud-init, and one of the clusters would wait
    /// forever for a node that never joins.
    ///
    /// ## Example
    /// ```plat
    /// node a { cluster = cluster.main, vm = vm.cp-1, role = "control-plane" }
    /// node b { cluster = cluster.lab,  vm = vm.cp-1, role = "worker" }
    /// ```
    ///
    /// ## How to fix
    /// Give each node its own VM.
    code = "check::duplicate-node-vm",
    severity = Error,
}

/// Reports every node after the first on a given VM, at its `vm` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let nodes = model.nodes.values().map(|node| (node.vm.as_str(), node));
    for_each_repeat(nodes, |first: &&Node, repeat: &&Node| {
        let clusters = if first.cluster.value == repeat.cluster.value {
            format!("cluster {}", *first.cluster)
        } else {
            format!("clusters {} and {}", *first.cluster, *repeat.cluster)
        };
        out.push(
            Diagnostic::error(
                INFO.code,
                repeat.vm.span,
                format!(
                    "vm {} of node {} already runs node {} ({clusters})",
                    *repeat.vm, repeat.name, first.name
                ),
            )
            .with_label("vm already used by a node")
            .with_secondary(
                first.vm.span,
                format!("first used here by node {}", first.name),
            )
            .with_help("give each node its own vm"),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn one_vm_per_node_passes() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_shared_vm_is_reported_at_the_second_node() {
        let mut model = fixture::small();
        model.nodes["cp-2"].vm = at("cp-2".into(), 1);
        model.nodes["worker-1"].vm = at("cp-2".into(), 2);
        model.nodes["worker-1"].cluster = at("lab".into(), 3);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-node-vm");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "vm cp-2 of node worker-1 already runs node cp-2 (clusters main and lab)"
        );
    }
}

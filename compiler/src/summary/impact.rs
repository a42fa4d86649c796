//! The apply impact of a change: what applying it does to the running platform, decided by
//! the object's kind and the field that changed (a VM's memory needs a reboot: plat enables no
//! memory hotplug; a seed change re-runs cloud-init: `instance-id` hashes the seed).
//! Tests: `summary/tests.rs`.

use std::fmt;

/// What applying a change does to the running platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Applied live, nothing restarts.
    InPlace,
    /// Takes effect at the VM's next cold boot (`qm reboot`).
    Reboot,
    /// The cloud-init seed changes: the next boot is a first boot and re-runs cloud-init.
    CloudInit,
    /// Reloads the pfSense filter (or its interfaces).
    Firewall,
    /// Changes a Deployment's pod template: Kubernetes rolls its pods.
    Rollout,
    /// Upgrades a Helm release.
    Helm,
    /// The Kubernetes node must be reset and joined again.
    Rejoin,
    /// A Kubernetes version upgrade (runbook `upgrade-kubernetes`).
    Upgrade,
    /// Fixed at `kubeadm init`: the cluster must be rebuilt.
    RebuildCluster,
    /// The VM is destroyed and created again (new disks, or on another host).
    Recreate,
    /// A new VM is created.
    Create,
    /// The VM is destroyed.
    Destroy,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impact::InPlace => "in place",
            Impact::Reboot => "needs a VM reboot",
            Impact::CloudInit => "re-runs cloud-init",
            Impact::Firewall => "reloads the firewall",
            Impact::Rollout => "rolls a Deployment",
            Impact::Helm => "upgrades a Helm release",
            Impact::Rejoin => "re-joins the node",
            Impact::Upgrade => "upgrades the cluster",
            Impact::RebuildCluster => "rebuilds the cluster",
            Impact::Recreate => "recreates the VM",
            Impact::Create => "creates the VM",
            Impact::Destroy => "destroys the VM",
        })
    }
}

/// The impact of changing `field` of an object of `kind` (`vm`, `rule`, ...).
pub fn impact(kind: &str, field: &str) -> Impact {
    let first = field.split(' ').next().unwrap_or(field);
    let last = field.rsplit(' ').next().unwrap_or(field);
    match (kind, first, last) {
        ("vm", "host" | "vmid" | "image", _) => Impact::Recreate,
        ("vm", "disk", "storage") => Impact::Recreate,
        ("vm", "disk", "size") => Impact::InPlace,
        ("vm", "cores" | "sockets" | "cpu" | "memory" | "agent", _) => Impact::Reboot,
        ("vm", "nic", "address") => Impact::CloudInit,
        ("vm", "nic", "mac") => Impact::Reboot,
        ("vm", "packages" | "cloud_init", _) => Impact::CloudInit,
        ("vm", _, _) => Impact::InPlace,
        ("site", "dns", _) => Impact::Firewall,
        ("site", _, _) => Impact::CloudInit,
        ("vlan" | "firewall" | "rule" | "forward", _, _) => Impact::Firewall,
        ("cluster", "version", _) => Impact::Upgrade,
        ("cluster", _, _) => Impact::RebuildCluster,
        ("node", "cluster" | "vm" | "role", _) => Impact::Rejoin,
        ("service", "replicas" | "ingress" | "allow_from", _) => Impact::InPlace,
        ("service", _, _) => Impact::Rollout,
        ("chart", _, _) => Impact::Helm,
        _ => Impact::InPlace,
    }
}

/// The impact of adding or removing an object of `kind`; `vm_impact` for a VM.
pub(super) fn added_or_removed(kind: &str, vm_impact: Impact) -> Impact {
    match kind {
        "vm" => vm_impact,
        "vlan" | "firewall" | "rule" | "forward" => Impact::Firewall,
        "node" => Impact::Rejoin,
        "cluster" => Impact::RebuildCluster,
        "service" => Impact::Rollout,
        "chart" => Impact::Helm,
        _ => Impact::InPlace,
    }
}

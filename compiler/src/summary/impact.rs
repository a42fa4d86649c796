//! The apply impact of a change: what applying it does to the running platform, decided by
//! the object's kind and the field that changed, as the prelude declares it beside the field
//! (`## impact: reboot`, read through `model::kinds`) (a VM's memory needs a reboot: plat enables no
//! memory hotplug; a seed change re-runs cloud-init: `instance-id` hashes the seed).
//! Tests: `summary/tests.rs`.

use std::fmt;

use crate::model::KindInfo;

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

impl Impact {
    /// The impact class a prelude field declares (`## impact: reboot`); the build script
    /// accepts only the classes of `model::doc_tags::IMPACTS`.
    pub fn from_tag(class: &str) -> Impact {
        match class {
            "reboot" => Impact::Reboot,
            "cloud-init" => Impact::CloudInit,
            "firewall" => Impact::Firewall,
            "rollout" => Impact::Rollout,
            "helm" => Impact::Helm,
            "rejoin" => Impact::Rejoin,
            "upgrade" => Impact::Upgrade,
            "rebuild-cluster" => Impact::RebuildCluster,
            "recreate" => Impact::Recreate,
            _ => Impact::InPlace,
        }
    }
}

/// The impact of changing `field` of an object of `kind` (`vm`, `rule`, ...), as the prelude
/// declares it: the summary field's first word names the prelude field (or, for an entry of a
/// map, its entry word: `disk scsi0 size`), whose `## impact:` class decides; a field of a
/// nested record (`size` there) has its own class, else the holding field's. A summary field
/// made from several (`after`, `endpoint`) has the class of the kind's type.
pub fn impact(kind: &str, field: &str) -> Impact {
    let Some(info) = KindInfo::of(kind) else {
        return Impact::InPlace;
    };
    let words: Vec<&str> = field.split(' ').collect();
    let declared = info
        .fields
        .iter()
        .find(|f| f.name == words[0] || f.entry == words[0]);
    let class = match declared {
        Some(declared) => {
            let nested = match (words.as_slice(), declared.record) {
                ([_, _, last], Some(record)) => record
                    .iter()
                    .find(|f| f.name == *last)
                    .and_then(|f| f.impact),
                _ => None,
            };
            nested.or(declared.impact).or(info.impact)
        }
        None => info.impact,
    };
    class.map_or(Impact::InPlace, Impact::from_tag)
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

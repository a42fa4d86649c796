//! Explaining cloud-init seeds (`emit/cloud_init.rs`): `cloud-init/<vm>/<file>` belongs to the
//! VM; the keys `user_data.rs` and `network.rs` fill from the site, the VM or a NIC name
//! that field. A Kubernetes node's seed also names the node (its kubeadm config is inside).

use super::{entity, field, Explanation, Line, Origin};
use crate::model::{Model, Vm};

/// `rest` is the path after `cloud-init/`.
pub(super) fn explain(model: &Model, rest: &str, line: Option<Line>) -> Option<Explanation> {
    let (name, file) = rest.split_once('/')?;
    if !matches!(file, "user-data" | "meta-data" | "network-config") {
        return None;
    }
    let vm = model.vms.get(name)?;
    let owner = format!("vm {}", vm.name);
    let node = model.nodes.values().find(|n| *n.vm == vm.name);
    let mut origins = line
        .map(|line| match file {
            "network-config" => network_key(model, vm, line),
            _ => user_data_key(model, vm, line),
        })
        .unwrap_or_default();
    // A node's seed carries its kubeadm config in `write_files`: its keys name the cluster.
    if let (true, Some(node), Some(key)) = (origins.is_empty(), node, line.and_then(|l| l.key())) {
        if let Some(cluster) = model.clusters.get(&*node.cluster) {
            origins = super::k8s::kubeadm_key(cluster, node, key);
        }
    }
    if origins.is_empty() {
        origins.push(entity(owner.clone(), vm.span));
        if let Some(node) = node {
            origins.push(entity(format!("node {}", node.name), node.span));
        }
    }
    let note = (file == "meta-data" && line.is_some_and(|l| l.key() == Some("instance-id")))
        .then(|| "a hash of user-data and network-config: any change re-runs cloud-init".into());
    Some(Explanation {
        owner,
        origins,
        note,
    })
}

fn user_data_key(model: &Model, vm: &Vm, line: Line) -> Vec<Origin> {
    let Some(site) = &model.site else {
        return Vec::new();
    };
    let s = |name: &str| format!("site {}: {name}", *site.name);
    match line.key() {
        Some("hostname" | "local-hostname") => vec![entity(format!("vm {}", vm.name), vm.span)],
        Some("fqdn") => vec![
            entity(format!("vm {}", vm.name), vm.span),
            field(s("domain"), "Site.domain", &site.domain),
        ],
        Some("timezone") => vec![field(s("timezone"), "Site.timezone", &site.timezone)],
        Some("ntp" | "servers") => vec![field(s("ntp"), "Site.ntp", &site.ntp)],
        Some("name") if line.text.trim_start().starts_with("- name:") => {
            vec![field(s("admin_user"), "Site.admin_user", &site.admin_user)]
        }
        Some("ssh_authorized_keys") => vec![field(s("ssh_keys"), "Site.ssh_keys", &site.ssh_keys)],
        Some("packages") => vec![field(
            format!("vm {}: packages", vm.name),
            "Vm.packages",
            &vm.packages,
        )],
        _ if line.text.trim_start().starts_with("- ssh-") => {
            vec![field(s("ssh_keys"), "Site.ssh_keys", &site.ssh_keys)]
        }
        _ => Vec::new(),
    }
}

/// A NIC's lines name the NIC whose address or MAC they carry.
fn network_key(model: &Model, vm: &Vm, line: Line) -> Vec<Origin> {
    let text = line.text.to_ascii_lowercase();
    for (slot, nic) in vm.nics.iter() {
        let nic_mac = crate::model::ids::nic_mac(&vm.name, slot, nic);
        let mac: Vec<String> = nic_mac.iter().map(|b| format!("{b:02x}")).collect();
        let what = |name: &str| format!("vm {}: nics.{slot}.{name}", vm.name);
        if text.contains(&mac.join(":")) {
            return vec![field(what("mac"), "Nic.mac", &nic_mac)];
        }
        if let Some(address) = *nic.address {
            if text.contains(&format!("\"{address}/")) {
                return vec![field(what("address"), "Nic.address", &nic.address)];
            }
        }
        let vlan = nic.vlan.as_ref().and_then(|v| model.vlans.get(v));
        if let Some(vlan) = vlan.filter(|v| text.contains(&format!("\"{}\"", *v.gateway))) {
            let what = format!("vlan {}: gateway", vlan.name);
            return vec![field(what, "Vlan.gateway", &vlan.gateway)];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::model::fixture;

    #[test]
    fn seeds_belong_to_their_vm_and_timezone_to_the_site() {
        let model = fixture::small();
        let whole = crate::explain::explain(&model, "cloud-init/cp-1/meta-data", "", None);
        assert_eq!(whole.expect("explained").owner, "vm cp-1");
        let text = "#cloud-config\ntimezone: Europe/Paris\n";
        let explanation =
            crate::explain::explain(&model, "cloud-init/cp-1/user-data", text, Some(2));
        let whats: Vec<String> = explanation
            .expect("explained")
            .origins
            .into_iter()
            .map(|o| o.what)
            .collect();
        assert_eq!(whats.len(), 1);
        assert!(whats[0].ends_with(": timezone"), "{whats:?}");
    }

    #[test]
    fn the_embedded_kubeadm_config_names_the_cluster() {
        let model = fixture::small();
        let text = "write_files:\n  - content: |\n      kubernetesVersion: v1.31.4\n";
        let path = "cloud-init/cp-1/user-data";
        let explanation = crate::explain::explain(&model, path, text, Some(3));
        let origins = explanation.expect("explained").origins;
        assert_eq!(origins[0].what, "cluster main: version");
    }
}

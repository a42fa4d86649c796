//! `proxmox/<host>/network/interfaces`: the host's ifupdown2 network configuration.
//!
//! Layout (what the PVE installer and GUI produce for a VLAN-aware setup, pve-docs
//! `pve-network.adoc`): the loopback, every bridge port as `inet manual`, each bridge, and the
//! host's management address on the VLAN interface `<bridge>.<management vlan id>` of its first
//! bridge (declaration order), with the management VLAN's gateway. A VLAN-aware bridge lists in
//! `bridge-vids` exactly the VLAN ids in use on it: the management VLAN (first bridge) and the
//! tags of the VM NICs of this host attached to it, sorted. A VLAN-aware bridge with none in
//! use gets PVE's default `2-4094`.
//!
//! Invariant: PVE reading and rewriting the file changes nothing but comments. Stanzas are
//! ordered as pve-common `src/PVE/Network/Interfaces.pm` `__write_etc_network_interfaces`
//! orders them (loopback, physical, bridges, then VLAN interfaces on bridges; each class in
//! file order, which is name order here), and each stanza's options as `__interface_to_string`
//! writes them (`address`, `gateway`, then `bridge-ports`, `bridge-stp`, `bridge-fd`,
//! `bridge-vlan-aware`, `bridge-vids`). Comments are skipped by PVE's reader.
//!
//! Tests at the bottom.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::notice;
use crate::model::{Bridge, Host, Model, Vm};

/// The trailing directive of a stock PVE install, kept so that hand-made extras still load.
const SOURCE: &str = "source /etc/network/interfaces.d/*";

/// The text of `host`'s `/etc/network/interfaces`.
#[cfg(test)]
pub(super) fn render(model: &Model, host: &Host) -> String {
    let vms: Vec<&Vm> = model
        .vms
        .values()
        .filter(|vm| *vm.host == host.name)
        .collect();
    render_with(model, host, &vms)
}

/// [`render`] with the VMs on `host` (in declaration order) already found, so that emitting
/// every host costs one pass over the VMs, not one per host.
pub(super) fn render_with(model: &Model, host: &Host, vms: &[&Vm]) -> String {
    let mut stanzas = vec!["auto lo\niface lo inet loopback\n".to_string()];
    let ports: BTreeSet<&str> = host
        .bridges
        .values()
        .flat_map(|bridge| bridge.ports.iter().map(String::as_str))
        .collect();
    stanzas.extend(
        ports
            .iter()
            .map(|port| format!("iface {port} inet manual\n")),
    );
    let mut bridges: Vec<(&String, &Bridge)> = host.bridges.iter().collect();
    bridges.sort_by_key(|(name, _)| *name);
    for (name, bridge) in bridges {
        stanzas.push(bridge_stanza(
            name,
            bridge,
            &vlans_in_use(model, host, vms, name),
        ));
    }
    stanzas.extend(management_stanza(model, host));
    format!(
        "# {}\n# Apply with ifreload -a.\n\n{}\n{SOURCE}\n",
        notice(),
        stanzas.join("\n")
    )
}

fn bridge_stanza(name: &str, bridge: &Bridge, vids: &BTreeSet<u16>) -> String {
    let ports = if bridge.ports.is_empty() {
        "none".to_string()
    } else {
        bridge.ports.join(" ")
    };
    let mut text = format!(
        "auto {name}\niface {name} inet manual\n\tbridge-ports {ports}\n\tbridge-stp off\n\tbridge-fd 0\n"
    );
    if bridge.vlan_aware {
        let vids = if vids.is_empty() {
            "2-4094".to_string()
        } else {
            vids.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        text.push_str(&format!("\tbridge-vlan-aware yes\n\tbridge-vids {vids}\n"));
    }
    text
}

/// The management VLAN interface, when the host has a bridge and its VLAN exists.
fn management_stanza(model: &Model, host: &Host) -> Option<String> {
    let bridge = host.bridges.keys().next()?;
    let vlan = model.vlans.get(&*host.vlan)?;
    let name = format!("{bridge}.{}", *vlan.id);
    let family = if host.address.is_ipv4() {
        "inet"
    } else {
        "inet6"
    };
    let mut text = format!(
        "auto {name}\niface {name} {family} static\n\taddress {}/{}\n",
        *host.address, vlan.subnet.prefix
    );
    if same_family(*vlan.gateway, *host.address) {
        text.push_str(&format!("\tgateway {}\n", *vlan.gateway));
    }
    Some(text)
}

/// VLAN ids used on `bridge` of `host`: the management VLAN if it is the first bridge, and
/// the tags of the host's VM NICs on it; every VLAN when an untagged NIC (a virtual
/// firewall's trunk) is on it, since the trunk carries all of them.
fn vlans_in_use(model: &Model, host: &Host, vms: &[&Vm], bridge: &str) -> BTreeSet<u16> {
    let trunk = vms
        .iter()
        .flat_map(|vm| vm.nics.values())
        .any(|nic| *nic.bridge == bridge && nic.vlan.is_none());
    if trunk && host.bridges.get(bridge).is_some_and(|b| b.vlan_aware) {
        return model.vlans.values().map(|vlan| *vlan.id).collect();
    }
    let mut names: Vec<&str> = Vec::new();
    if host
        .bridges
        .keys()
        .next()
        .is_some_and(|first| first == bridge)
    {
        names.push(&host.vlan);
    }
    for vm in vms {
        names.extend(
            vm.nics
                .values()
                .filter(|nic| *nic.bridge == bridge)
                .filter_map(|nic| nic.vlan.as_deref()),
        );
    }
    names
        .into_iter()
        .filter_map(|name| model.vlans.get(name).map(|vlan| *vlan.id))
        .collect()
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn interfaces(model: &Model) -> String {
        render(model, &model.hosts["pve1"])
    }

    #[test]
    fn small_platform_interfaces_is_exact() {
        assert_eq!(
            interfaces(&fixture::small()),
            "# Generated by plat, do not edit; regenerate with plat build.\n\
             # Apply with ifreload -a.\n\
             \n\
             auto lo\n\
             iface lo inet loopback\n\
             \n\
             iface enp1s0 inet manual\n\
             \n\
             auto vmbr0\n\
             iface vmbr0 inet manual\n\
             \tbridge-ports enp1s0\n\
             \tbridge-stp off\n\
             \tbridge-fd 0\n\
             \tbridge-vlan-aware yes\n\
             \tbridge-vids 10 20\n\
             \n\
             auto vmbr0.10\n\
             iface vmbr0.10 inet static\n\
             \taddress 10.10.0.2/24\n\
             \tgateway 10.10.0.1\n\
             \n\
             source /etc/network/interfaces.d/*\n"
        );
    }

    #[test]
    fn bridge_vids_follow_the_nics_on_each_bridge_sorted() {
        let mut model = fixture::small();
        model.hosts["pve1"].bridges.value.insert(
            "vmbr1".into(),
            Bridge {
                ports: vec!["enp2s0".into()],
                vlan_aware: true,
            },
        );
        let nic = &mut model.vms["worker-2"].nics.value["net0"];
        nic.vlan.value = Some("services".into());
        nic.bridge.value = "vmbr1".into();
        let mut extra = model.vms["worker-1"].nics["net0"].clone();
        extra.vlan.value = Some("mgmt".into());
        extra.bridge.value = "vmbr1".into();
        model.vms["worker-1"]
            .nics
            .value
            .insert("net1".into(), extra);
        let text = interfaces(&model);
        assert!(
            text.contains("iface enp1s0 inet manual\n\niface enp2s0 inet manual\n"),
            "{text}"
        );
        assert!(text.contains("\tbridge-ports enp1s0\n\tbridge-stp off\n\tbridge-fd 0\n\tbridge-vlan-aware yes\n\tbridge-vids 10 20\n\nauto vmbr1\n"), "{text}");
        assert!(text.contains("\tbridge-ports enp2s0\n\tbridge-stp off\n\tbridge-fd 0\n\tbridge-vlan-aware yes\n\tbridge-vids 10 30\n\nauto vmbr0.10\n"), "{text}");
    }

    #[test]
    fn other_hosts_vms_do_not_count() {
        let mut model = fixture::small();
        model.vms["worker-2"].host.value = "pve2".into();
        model.vms["worker-2"].nics.value["net0"].vlan.value = Some("services".into());
        assert!(interfaces(&model).contains("\tbridge-vids 10 20\n"));
    }

    #[test]
    fn a_portless_bridge_without_vlans_gets_pve_defaults() {
        let mut model = fixture::small();
        model.hosts["pve1"].bridges.value.insert(
            "vmbr9".into(),
            Bridge {
                ports: Vec::new(),
                vlan_aware: true,
            },
        );
        let text = interfaces(&model);
        assert!(text.contains("iface vmbr9 inet manual\n\tbridge-ports none\n\tbridge-stp off\n\tbridge-fd 0\n\tbridge-vlan-aware yes\n\tbridge-vids 2-4094\n"), "{text}");
    }

    #[test]
    fn a_plain_bridge_has_no_vlan_options() {
        let mut model = fixture::small();
        model.hosts["pve1"].bridges.value["vmbr0"].vlan_aware = false;
        let text = interfaces(&model);
        assert!(text.contains("\tbridge-fd 0\n\nauto vmbr0.10\n"), "{text}");
        assert!(!text.contains("bridge-vids"), "{text}");
    }
}

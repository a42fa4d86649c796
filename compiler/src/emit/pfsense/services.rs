//! `<dhcpd>` (a DHCP server per VLAN with a range, static mappings for every VM NIC with a
//! static address on it) and `<unbound>` (the DNS resolver, with a host override for every
//! Proxmox host and every VM).
//!
//! Tests: `tests` below.

use std::net::IpAddr;

use plat_lang::value::format_mac;

use super::plan::{ip_key, Plan};
use super::xml::El;
use crate::model::{Vlan, Vm};

/// `<dhcpd>`: one entry per VLAN interface with a DHCP range (`services_dhcp.php`).
pub fn dhcpd(plan: &Plan) -> El {
    El::new("dhcpd").with_all(plan.ifaces.iter().filter_map(|iface| {
        let vlan = iface.vlan?;
        let range = vlan.dhcp.as_ref()?;
        Some(
            El::new(iface.key.as_str())
                .with(El::flag("enable"))
                .with(
                    El::new("range")
                        .with(El::text("from", range.from.to_string()))
                        .with(El::text("to", range.to.to_string())),
                )
                .with_all(static_maps(plan, vlan)),
        )
    }))
}

/// A static mapping per VM NIC on `vlan` with a static address, sorted by address as the
/// GUI sorts them (`services_dhcp_edit.php`); MACs lowercase (`reference/pfsense.md` §5).
fn static_maps(plan: &Plan, vlan: &Vlan) -> Vec<El> {
    let mut maps: Vec<(IpAddr, El)> = Vec::new();
    for vm in plan.model.vms.values() {
        for (slot, nic) in vm.nics.iter() {
            let Some(address) = *nic.address else {
                continue;
            };
            if nic.vlan.as_deref() != Some(vlan.name.as_str()) {
                continue;
            }
            let el = El::new("staticmap")
                .with(El::text(
                    "mac",
                    format_mac(&crate::model::ids::nic_mac(&vm.name, slot, nic)),
                ))
                .with(El::flag("cid"))
                .with(El::text("ipaddr", address.to_string()))
                .with(El::text("hostname", vm.name.as_str()))
                .with(El::text("descr", format!("{} {slot}", vm.name)));
            maps.push((address, el));
        }
    }
    maps.sort_by_key(|(address, _)| ip_key(address));
    maps.into_iter().map(|(_, el)| el).collect()
}

/// `<unbound>`: the factory resolver settings, forwarding to the site's resolvers when it
/// lists some, and a host override per host and VM, sorted by host name as the GUI sorts
/// them (`services_unbound_host_edit.php`).
pub fn unbound(plan: &Plan) -> El {
    let forwarding = plan.model.site.as_ref().is_some_and(|s| !s.dns.is_empty());
    let mut hosts: Vec<(String, IpAddr, String)> = plan
        .model
        .hosts
        .values()
        .map(|h| (h.name.clone(), *h.address, "Proxmox host".to_string()))
        .collect();
    hosts.extend(plan.model.vms.values().filter_map(|vm| {
        let address = first_static_address(vm)?;
        Some((vm.name.clone(), address, format!("VM {}", vm.vmid.value)))
    }));
    hosts.sort_by(|a, b| (a.0.to_lowercase(), &a.0).cmp(&(b.0.to_lowercase(), &b.0)));
    El::new("unbound")
        .with(El::flag("enable"))
        .with(El::flag("dnssec"))
        .with(El::flag("active_interface"))
        .with(El::flag("outgoing_interface"))
        .with(El::flag("custom_options"))
        .with(El::flag("hideidentity"))
        .with(El::flag("hideversion"))
        .with(El::flag("dnssecstripped"))
        .with(El::flag("qname-minimisation"))
        .with_all(forwarding.then(|| El::flag("forwarding")))
        .with_all(hosts.into_iter().map(|(host, address, descr)| {
            El::new("hosts")
                .with(El::text("host", host))
                .with(El::text("domain", plan.domain))
                .with(El::text("ip", address.to_string()))
                .with(El::text("descr", descr))
                .with(El::flag("aliases"))
        }))
}

/// The address a VM's name resolves to: its first static address in NIC slot order.
pub fn first_static_address(vm: &Vm) -> Option<IpAddr> {
    vm.nics.values().find_map(|n| *n.address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{fixture, Nic};

    #[test]
    fn dhcp_only_where_a_range_is_declared() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let dhcpd = dhcpd(&plan);
        assert!(dhcpd.get("lan/range/from").is_none());
        assert_eq!(dhcpd.get("opt1/range/from"), Some("10.20.0.100"));
        assert_eq!(dhcpd.get("opt1/range/to"), Some("10.20.0.199"));
        let opt1 = dhcpd.children("opt1").next().unwrap();
        let maps: Vec<_> = opt1.children("staticmap").collect();
        assert_eq!(maps.len(), 5);
        assert_eq!(maps[0].get("ipaddr"), Some("10.20.0.11"));
        assert_eq!(maps[0].get("hostname"), Some("cp-1"));
        assert_eq!(
            maps[0].get("mac"),
            Some(format_mac(&crate::model::ids::mac("cp-1", "net0")).as_str())
        );
        assert_eq!(maps[4].get("hostname"), Some("worker-2"));
    }

    #[test]
    fn dhcp_nics_get_no_static_map() {
        let mut model = fixture::small();
        let vm = model.vms.get_mut("cp-2").unwrap();
        let nic: &mut Nic = vm.nics.value.get_mut("net0").unwrap();
        nic.address.value = None;
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let dhcpd = dhcpd(&plan);
        let opt1 = dhcpd.children("opt1").next().unwrap();
        assert_eq!(opt1.children("staticmap").count(), 4);
        let unbound = unbound(&plan);
        assert!(!unbound
            .children("hosts")
            .any(|h| h.get("host") == Some("cp-2")));
    }

    #[test]
    fn resolver_overrides_every_host_and_vm() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let unbound = unbound(&plan);
        assert_eq!(unbound.children("forwarding").count(), 1);
        let hosts: Vec<(&str, &str)> = unbound
            .children("hosts")
            .map(|h| (h.get("host").unwrap(), h.get("ip").unwrap()))
            .collect();
        assert_eq!(
            hosts,
            [
                ("cp-1", "10.20.0.11"),
                ("cp-2", "10.20.0.12"),
                ("cp-3", "10.20.0.13"),
                ("pve1", "10.10.0.2"),
                ("worker-1", "10.20.0.21"),
                ("worker-2", "10.20.0.22"),
            ]
        );
        let first = unbound.children("hosts").next().unwrap();
        assert_eq!(first.get("domain"), Some("lab.home.arpa"));
    }
}

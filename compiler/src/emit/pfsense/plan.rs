//! The layout of one firewall's config, decided once and read by every section: which
//! interface key (`wan`, `lan`, `optN`) each VLAN gets, the interface descriptions and alias
//! names (one namespace in pfSense), and on which interfaces traffic from an endpoint arrives.
//! The decisions are documented in the parent module (`emit/pfsense.rs`).
//!
//! Tests: `tests` below.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use plat_lang::value::{ip_to_u128, Cidr};

use super::names::Names;
use crate::model::{Endpoint, Firewall, Model, Vlan};

/// One assigned interface.
#[derive(Clone, Debug)]
pub struct Iface<'m> {
    /// Config key: `wan`, `lan`, `opt1`, ...
    pub key: String,
    /// Interface description, also pfSense's pf macro name (`[A-Z0-9_]`).
    pub descr: String,
    /// The device: the WAN NIC or `<trunk>.<tag>`.
    pub device: String,
    /// The VLAN it routes (`None` for the WAN).
    pub vlan: Option<&'m Vlan>,
}

/// What a host alias names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AliasOf {
    /// A Proxmox host's management address.
    Host,
    /// A VM's static addresses.
    Vm,
}

/// A host alias: a name for the addresses of a host or VM.
#[derive(Clone, Debug)]
pub struct Alias {
    /// Alias name (valid per `util.inc` `is_validaliasname`).
    pub name: String,
    /// What it names.
    pub of: AliasOf,
    /// The entity's name.
    pub entity: String,
    /// Addresses with a detail each (the NIC slot, or `management`).
    pub addresses: Vec<(IpAddr, String)>,
}

/// The layout of one firewall.
pub struct Plan<'m> {
    /// The model.
    pub model: &'m Model,
    /// The firewall.
    pub fw: &'m Firewall,
    /// The DNS domain: the site's, or pfSense's factory `home.arpa` without a site.
    pub domain: &'m str,
    /// Interfaces in pfSense's order: wan, lan, opt1, opt2, ...
    pub ifaces: Vec<Iface<'m>>,
    /// Host aliases: hosts, then VMs, in declaration order.
    pub aliases: Vec<Alias>,
    alias_names: BTreeMap<(AliasOf, String), usize>,
}

impl<'m> Plan<'m> {
    /// The layout of `fw`.
    pub fn new(model: &'m Model, fw: &'m Firewall) -> Plan<'m> {
        let mut vlans: Vec<&Vlan> = model.vlans.values().collect();
        vlans.sort_by_key(|v| *v.id);
        let mgmt = management_vlan(model);
        let mut keys = vec!["wan".to_string()];
        if mgmt.is_some() {
            keys.push("lan".into());
        }
        let others: Vec<&Vlan> = vlans
            .into_iter()
            .filter(|v| Some(v.name.as_str()) != mgmt.map(|m| m.name.as_str()))
            .collect();
        keys.extend((1..=others.len()).map(|i| format!("opt{i}")));
        let mut names = Names::new(&keys);
        let mut ifaces = vec![Iface {
            key: "wan".into(),
            descr: names.claim("WAN", Some("wan")),
            device: fw.wan_interface.to_string(),
            vlan: None,
        }];
        for (key, vlan) in keys[1..].iter().zip(mgmt.into_iter().chain(others)) {
            ifaces.push(Iface {
                key: key.clone(),
                descr: names.claim(&vlan.name.to_uppercase(), Some(key)),
                device: format!("{}.{}", *fw.trunk, *vlan.id),
                vlan: Some(vlan),
            });
        }
        let mut plan = Plan {
            model,
            fw,
            domain: model
                .site
                .as_ref()
                .map_or("home.arpa", |s| s.domain.as_str()),
            ifaces,
            aliases: Vec::new(),
            alias_names: BTreeMap::new(),
        };
        plan.add_aliases(&mut names);
        plan
    }

    fn add_aliases(&mut self, names: &mut Names) {
        let hosts = self.model.hosts.values().map(|h| {
            let addresses = vec![(*h.address, "management".to_string())];
            (AliasOf::Host, &h.name, addresses)
        });
        let vms = self.model.vms.values().map(|vm| {
            let addresses = vm
                .nics
                .iter()
                .filter_map(|(slot, nic)| nic.address.map(|a| (a, slot.clone())))
                .collect();
            (AliasOf::Vm, &vm.name, addresses)
        });
        for (of, entity, addresses) in hosts.chain(vms).collect::<Vec<_>>() {
            let prefix = match of {
                AliasOf::Host => "host_",
                AliasOf::Vm => "vm_",
            };
            let name = names.claim(&format!("{prefix}{entity}"), None);
            self.alias_names
                .insert((of, entity.clone()), self.aliases.len());
            self.aliases.push(Alias {
                name,
                of,
                entity: entity.clone(),
                addresses,
            });
        }
    }

    /// The alias naming `entity`, if it exists.
    pub fn alias(&self, of: AliasOf, entity: &str) -> Option<&Alias> {
        let index = self.alias_names.get(&(of, entity.to_string()))?;
        Some(&self.aliases[*index])
    }

    /// The interface routing the VLAN called `name`.
    pub fn vlan_iface(&self, name: &str) -> Option<&Iface<'m>> {
        self.ifaces
            .iter()
            .find(|i| i.vlan.is_some_and(|v| v.name == name))
    }

    /// The interfaces on which traffic from `from` arrives, in interface order: a VLAN's own;
    /// a host's management VLAN; every VLAN a VM has a NIC on; for a subnet, every VLAN it
    /// overlaps plus the WAN unless those VLANs cover it entirely; for `any`, all of them.
    pub fn source_ifaces(&self, from: &Endpoint) -> Vec<&Iface<'m>> {
        let vlans: BTreeSet<&str> = match from {
            Endpoint::Any => return self.ifaces.iter().collect(),
            Endpoint::Vlan(name) => BTreeSet::from([name.as_str()]),
            Endpoint::Host(name) => self
                .model
                .hosts
                .get(name)
                .map(|h| h.vlan.as_str())
                .into_iter()
                .collect(),
            Endpoint::Vm(name) => self
                .model
                .vms
                .get(name)
                .map(|vm| vm.nics.values().filter_map(|n| n.vlan.as_deref()).collect())
                .unwrap_or_default(),
            Endpoint::Cidr(cidr) => return self.cidr_ifaces(cidr),
        };
        self.ifaces
            .iter()
            .filter(|i| i.vlan.is_some_and(|v| vlans.contains(v.name.as_str())))
            .collect()
    }

    fn cidr_ifaces(&self, cidr: &Cidr) -> Vec<&Iface<'m>> {
        let inside: Vec<&Iface<'m>> = self
            .ifaces
            .iter()
            .filter(|i| i.vlan.is_some_and(|v| v.subnet.overlaps(cidr)))
            .collect();
        let subnets: Vec<Cidr> = inside
            .iter()
            .filter_map(|i| i.vlan)
            .map(|v| *v.subnet)
            .collect();
        let mut result = Vec::new();
        if !covers(&subnets, cidr) {
            result.push(&self.ifaces[0]);
        }
        result.extend(inside);
        result
    }
}

/// The source ranges pfSense's "Block private networks" option drops on the WAN
/// (`filter.inc`, rules 12001-12005).
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "127.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
];

impl Plan<'_> {
    /// True when a rule on the WAN or a forward names a source subnet in private address
    /// space: the WAN then must not block private sources, or that rule could never match.
    pub fn wan_admits_private(&self) -> bool {
        let private: Vec<Cidr> = PRIVATE.iter().filter_map(|p| parse_cidr(p)).collect();
        let is_private = |c: &Cidr| private.iter().any(|p| p.overlaps(c));
        let rules = self.model.rules.values().any(|r| match &*r.from {
            Endpoint::Cidr(c) => {
                is_private(c) && self.source_ifaces(&r.from).iter().any(|i| i.vlan.is_none())
            }
            _ => false,
        });
        let forwards = self
            .model
            .forwards
            .values()
            .any(|f| matches!(&*f.from, Endpoint::Cidr(c) if is_private(c)));
        rules || forwards
    }
}

fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, prefix) = text.split_once('/')?;
    Cidr::new(addr.parse().ok()?, prefix.parse().ok()?).ok()
}

/// The management VLAN: the lowest-id VLAN that a Proxmox host has its management address
/// on; it becomes `lan`.
fn management_vlan(model: &Model) -> Option<&Vlan> {
    model
        .hosts
        .values()
        .filter_map(|h| model.vlans.get(h.vlan.as_str()))
        .min_by_key(|v| *v.id)
}

/// True when the union of `subnets` contains every address of `cidr`.
fn covers(subnets: &[Cidr], cidr: &Cidr) -> bool {
    let mut spans: Vec<(u128, u128)> = subnets
        .iter()
        .filter(|s| s.addr.is_ipv4() == cidr.addr.is_ipv4())
        .map(|s| (s.network(), s.last()))
        .collect();
    spans.sort();
    let mut next = cidr.network();
    for (start, end) in spans {
        if start > next {
            break;
        }
        if end >= cidr.last() {
            return true;
        }
        next = next.max(end + 1);
    }
    false
}

/// The address as text for pfSense (`/32` and `/128` subnets are written as the address).
pub fn cidr_text(cidr: &Cidr) -> String {
    if cidr.prefix == cidr.bits() {
        cidr.addr.to_string()
    } else {
        cidr.to_string()
    }
}

/// Sort key for addresses (numeric, IPv4 before IPv6).
pub fn ip_key(ip: &IpAddr) -> (bool, u128) {
    (ip.is_ipv6(), ip_to_u128(*ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn cidr(text: &str) -> Cidr {
        let (a, p) = text.split_once('/').unwrap();
        Cidr::new(a.parse().unwrap(), p.parse().unwrap()).unwrap()
    }

    #[test]
    fn management_vlan_is_lan_and_the_rest_are_opt_in_id_order() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let got: Vec<(&str, &str, &str)> = plan
            .ifaces
            .iter()
            .map(|i| (i.key.as_str(), i.descr.as_str(), i.device.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("wan", "WAN", "igb0"),
                ("lan", "MGMT", "igb1.10"),
                ("opt1", "NODES", "igb1.20"),
                ("opt2", "SERVICES", "igb1.30"),
            ]
        );
    }

    #[test]
    fn without_hosts_there_is_no_lan() {
        let mut model = fixture::small();
        model.hosts.clear();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let keys: Vec<&str> = plan.ifaces.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["wan", "opt1", "opt2", "opt3"]);
    }

    #[test]
    fn sources_land_on_the_interfaces_they_arrive_on() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let keys = |ep: Endpoint| -> Vec<String> {
            plan.source_ifaces(&ep)
                .iter()
                .map(|i| i.key.clone())
                .collect()
        };
        assert_eq!(keys(Endpoint::Any), ["wan", "lan", "opt1", "opt2"]);
        assert_eq!(keys(Endpoint::Vlan("nodes".into())), ["opt1"]);
        assert_eq!(keys(Endpoint::Host("pve1".into())), ["lan"]);
        assert_eq!(keys(Endpoint::Vm("cp-1".into())), ["opt1"]);
        assert_eq!(keys(Endpoint::Cidr(cidr("10.20.0.0/25"))), ["opt1"]);
        assert_eq!(keys(Endpoint::Cidr(cidr("192.168.1.0/24"))), ["wan"]);
        assert_eq!(
            keys(Endpoint::Cidr(cidr("10.0.0.0/8"))),
            ["wan", "lan", "opt1", "opt2"]
        );
    }

    #[test]
    fn a_union_of_vlans_covers_a_supernet() {
        let subnets = [cidr("10.0.0.0/24"), cidr("10.0.1.0/24")];
        assert!(covers(&subnets, &cidr("10.0.0.0/23")));
        assert!(!covers(&subnets, &cidr("10.0.0.0/22")));
        assert!(!covers(&subnets[1..], &cidr("10.0.0.0/23")));
    }

    #[test]
    fn aliases_name_hosts_and_vms() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let vm = plan.alias(AliasOf::Vm, "worker-2").unwrap();
        assert_eq!(vm.name, "vm_worker_2");
        assert_eq!(
            vm.addresses,
            [("10.20.0.22".parse().unwrap(), "net0".into())]
        );
        assert_eq!(plan.alias(AliasOf::Host, "pve1").unwrap().name, "host_pve1");
    }
}

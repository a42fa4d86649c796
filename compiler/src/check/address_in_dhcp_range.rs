//! `check::address-in-dhcp-range`: a static address inside its VLAN's DHCP range. Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::value::ip_to_u128;

use super::{addresses_on_vlans, declare_check};
use crate::model::{DhcpRange, Model};

declare_check! {
    /// ## What it does
    /// Reports a static address (VM NIC, host, VLAN gateway, cluster endpoint) that lies in
    /// the `dhcp` range of its VLAN.
    ///
    /// ## Why
    /// The firewall's DHCP server hands out every address of the range: sooner or later a
    /// dynamic client gets the static address too, and both machines lose traffic.
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes {
    ///   id = 20, subnet = 10.20.0.0/24
    ///   dhcp = { from = 10.20.0.100, to = 10.20.0.199 }
    /// }
    /// vm a {
    ///   host = host.pve1, vmid = 101, memory = 2GiB
    ///   nics = { net0 = { vlan = vlan.nodes, address = 10.20.0.150 } }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Take static addresses from outside the range (e.g. below `dhcp.from`), or shrink the
    /// range.
    code = "check::address-in-dhcp-range",
    severity = Error,
}

/// Reports each static address inside its VLAN's DHCP range, at the address.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (address, vlan) in addresses_on_vlans(model) {
        let Some(range) = &*vlan.dhcp else {
            continue;
        };
        if !in_range(range, address.ip) {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                address.span,
                format!(
                    "address {} of {} is inside the dhcp range {}-{} of vlan {}",
                    address.ip, address.owner, range.from, range.to, vlan.name
                ),
            )
            .with_label("in the dhcp range")
            .with_secondary(
                vlan.dhcp.span,
                format!("dhcp range of vlan {} declared here", vlan.name),
            )
            .with_help(format!(
                "use a static address outside {}-{}, or shrink the dhcp range of vlan {}",
                range.from, range.to, vlan.name
            )),
        );
    }
}

fn in_range(range: &DhcpRange, ip: std::net::IpAddr) -> bool {
    let same_family = range.from.is_ipv4() == ip.is_ipv4() && range.to.is_ipv4() == ip.is_ipv4();
    let value = ip_to_u128(ip);
    same_family && ip_to_u128(range.from) <= value && value <= ip_to_u128(range.to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, ip, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn addresses_outside_the_range_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_nic_address_in_the_range_is_reported() {
        let mut model = fixture::small();
        model.vlans["nodes"].dhcp.span = span(2);
        model.vms["worker-2"].nics.value["net0"].address = at(Some(ip("10.20.0.199")), 1);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::address-in-dhcp-range");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(1));
        assert_eq!(d.secondary[0].span, span(2));
        assert!(d.message.contains("10.20.0.100-10.20.0.199 of vlan nodes"));
    }

    #[test]
    fn the_cluster_endpoint_counts() {
        let mut model = fixture::small();
        model.clusters["main"].endpoint = at(ip("10.20.0.100"), 1);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(1));
        assert!(found[0].message.contains("the endpoint of cluster main"));
    }

    #[test]
    fn families_are_compared_separately() {
        let range = DhcpRange {
            from: ip("10.0.0.1"),
            to: ip("10.0.0.9"),
        };
        assert!(in_range(&range, ip("10.0.0.9")));
        assert!(!in_range(&range, ip("::a")));
    }
}

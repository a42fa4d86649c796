//! `check::reserved-address`: a static address that is its subnet's network or broadcast
//! address. Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::value::ip_to_u128;

use super::{addresses_on_vlans, declare_check, Owner};
use crate::model::{Cidr, Model};

declare_check! {
    /// ## What it does
    /// Reports a static address (VM NIC, host, VLAN gateway, cluster endpoint) that is the
    /// network address of its VLAN's subnet, or its IPv4 broadcast address.
    ///
    /// ## Why
    /// The network and broadcast addresses of an IPv4 subnet are not host addresses: a
    /// machine given one cannot talk to its neighbours. In IPv6 the all-zero interface id is
    /// the subnet-router anycast address (RFC 4291, section 2.6.1). Subnets of `/31` and `/32`
    /// (`/127`, `/128`) have no such addresses (RFC 3021).
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes { id = 20, subnet = 10.20.0.0/24 }
    /// vm a {
    ///   host = host.pve1, vmid = 101, memory = 2GiB
    ///   nics = { net0 = { vlan = vlan.nodes, address = 10.20.0.255 } }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Use a host address: `subnet.host(1)` up to the one before the broadcast address.
    code = "check::reserved-address",
    severity = Error,
}

/// Reports each static address that is a network or broadcast address, at the address.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (address, vlan) in addresses_on_vlans(model) {
        let subnet = *vlan.subnet;
        let Some(what) = reserved(&subnet, address.ip) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                INFO.code,
                address.span,
                format!(
                    "address {} of {} is the {what} address of {subnet}",
                    address.ip, address.owner
                ),
            )
            .with_label(format!("{what} address"))
            .with_secondary(
                address.vlan_span,
                format!("{} ({subnet})", address.vlan_via()),
            )
            .with_help(match address.owner {
                Owner::Gateway(_) => format!(
                    "remove `gateway` to use the first address of {subnet}, or write another host address of it"
                ),
                _ => format!(
                    "use a host address of {subnet}, e.g. `vlan.{}.subnet.host(10)`",
                    vlan.name
                ),
            }),
        );
    }
}

/// `network` or `broadcast` when `ip` is that address of `subnet`.
fn reserved(subnet: &Cidr, ip: std::net::IpAddr) -> Option<&'static str> {
    if !subnet.contains(ip) || subnet.prefix + 1 >= subnet.bits() {
        return None;
    }
    let value = ip_to_u128(ip);
    if value == subnet.network() {
        Some("network")
    } else if subnet.addr.is_ipv4() && value == subnet.last() {
        Some("broadcast")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, cidr, ip, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn host_addresses_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_broadcast_nic_address_is_reported() {
        let mut model = fixture::small();
        let nic = &mut model.vms["cp-2"].nics.value["net0"];
        nic.address = at(Some(ip("10.20.0.255")), 1);
        nic.vlan.span = span(2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::reserved-address");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(1));
        assert_eq!(d.secondary[0].span, span(2));
        assert_eq!(
            d.message,
            "address 10.20.0.255 of vm cp-2 (net0) is the broadcast address of 10.20.0.0/24"
        );
    }

    #[test]
    fn a_network_gateway_is_reported() {
        let mut model = fixture::small();
        model.vlans["mgmt"].gateway = at(ip("10.10.0.0"), 1);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(1));
        assert!(found[0].message.contains("network address"));
        let help = found[0].help.as_deref().unwrap();
        assert!(help.starts_with("remove `gateway`"), "{help}");
    }

    #[test]
    fn point_to_point_and_ipv6_rules() {
        assert_eq!(reserved(&cidr("10.0.0.0/31"), ip("10.0.0.0")), None);
        assert_eq!(
            reserved(&cidr("10.0.0.0/30"), ip("10.0.0.3")),
            Some("broadcast")
        );
        assert_eq!(reserved(&cidr("fd00::/64"), ip("fd00::")), Some("network"));
        assert_eq!(
            reserved(&cidr("fd00::/64"), ip("fd00::ffff:ffff:ffff:ffff")),
            None
        );
    }
}

//! `check::address-outside-subnet`: a static address outside the subnet of its VLAN. The
//! addresses and their VLANs come from `check::static_addresses`. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{addresses_on_vlans, declare_check, Owner, StaticAddress};
use crate::model::{Cidr, Model};

declare_check! {
    /// ## What it does
    /// Reports a static address outside the subnet of the VLAN it is on: a VM NIC's
    /// `address` (its NIC's `vlan`), a host's `address` (its management `vlan`), a VLAN's
    /// `gateway`, and a cluster's `endpoint` (the VLAN of its control-plane nodes).
    ///
    /// ## Why
    /// A machine configured with an address of another subnet cannot reach its gateway or its
    /// neighbours; the API endpoint of a cluster is a floating address that the control-plane
    /// nodes announce on their own segment, so it must be in that segment's subnet.
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes { id = 20, subnet = 10.20.0.0/24 }
    /// vm a {
    ///   host = host.pve1, vmid = 101, memory = 2GiB
    ///   nics = { net0 = { vlan = vlan.nodes, address = 10.30.0.11 } }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Derive the address from the VLAN (`address = vlan.nodes.subnet.host(11)`), or put the
    /// NIC or host on the VLAN whose subnet holds the address.
    code = "check::address-outside-subnet",
    severity = Error,
}

/// What to write instead, for the field that sets the address.
fn help(address: &StaticAddress, vlan: &str, subnet: Cidr) -> String {
    match address.owner {
        Owner::Gateway(_) => format!(
            "remove `gateway` to use the first address of {subnet}, or write another address of it"
        ),
        Owner::Endpoint(..) => format!(
            "use a free address of {subnet}, e.g. `vlan.{vlan}.subnet.host(5)`, or put the cluster's nodes on the vlan whose subnet holds {}",
            address.ip
        ),
        Owner::Host(_) | Owner::Nic(..) => format!(
            "use an address of {subnet}, e.g. `vlan.{vlan}.subnet.host(10)`, or the vlan whose subnet holds {}",
            address.ip
        ),
    }
}

/// Reports each static address outside its VLAN's subnet, at the address field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (address, vlan) in addresses_on_vlans(model) {
        let subnet = *vlan.subnet;
        if subnet.contains(address.ip) {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                address.span,
                format!(
                    "address {} of {} is outside the subnet {subnet} of vlan {}",
                    address.ip, address.owner, vlan.name
                ),
            )
            .with_label(format!("not in {subnet}"))
            .with_secondary(
                address.vlan_span,
                format!("{} ({subnet})", address.vlan_via()),
            )
            .with_help(help(&address, &vlan.name, subnet)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, ip, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn addresses_inside_their_subnets_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_nic_address_outside_is_reported_at_the_address() {
        let mut model = fixture::small();
        let nic = &mut model.vms["worker-1"].nics.value["net0"];
        nic.address = at(Some(ip("10.30.0.11")), 1);
        nic.vlan.span = span(2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::address-outside-subnet");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(1));
        assert_eq!(d.secondary[0].span, span(2));
        assert_eq!(
            d.message,
            "address 10.30.0.11 of vm worker-1 (net0) is outside the subnet 10.20.0.0/24 of vlan nodes"
        );
    }

    #[test]
    fn a_host_address_outside_its_management_vlan_is_reported() {
        let mut model = fixture::small();
        model.hosts["pve1"].address = at(ip("10.20.0.2"), 1);
        model.hosts["pve1"].vlan.span = span(2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(1));
        assert_eq!(found[0].secondary[0].span, span(2));
        assert!(found[0].message.contains("host pve1"));
    }

    #[test]
    fn a_gateway_outside_is_reported() {
        let mut model = fixture::small();
        model.vlans["services"].gateway = at(ip("10.31.0.1"), 1);
        model.vlans["services"].subnet.span = span(2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(1));
        assert_eq!(found[0].secondary[0].span, span(2));
        // A gateway cannot refer to its own vlan's subnet: the help says to use the default.
        let help = found[0].help.as_deref().unwrap();
        assert!(help.starts_with("remove `gateway`"), "{help}");
    }

    #[test]
    fn a_defaulted_gateway_points_at_its_vlan() {
        let mut model = fixture::small();
        let vlan = &mut model.vlans["services"];
        vlan.span = span(3);
        vlan.gateway = at(ip("10.31.0.1"), 1);
        vlan.gateway.from_default = true;
        let found = run_check(check, &model);
        assert_eq!(found[0].span, span(3));
    }

    #[test]
    fn the_cluster_endpoint_must_be_on_its_nodes_vlan() {
        let mut model = fixture::small();
        model.clusters["main"].endpoint = at(ip("10.30.0.5"), 1);
        model.vms["cp-1"].nics.value["net0"].vlan.span = span(2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.span, span(1));
        assert_eq!(d.secondary[0].span, span(2));
        assert_eq!(
            d.secondary[0].message,
            "node cp-1 of cluster main is on vlan nodes (10.20.0.0/24)"
        );
        let help = d.help.as_deref().unwrap();
        assert!(
            help.contains("put the cluster's nodes on the vlan"),
            "{help}"
        );
    }
}

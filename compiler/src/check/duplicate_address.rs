//! `check::duplicate-address`: one static address given to two owners. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, for_each_repeat, static_addresses, StaticAddress};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a static address that an earlier declaration already uses: VLAN gateways, host
    /// addresses, VM NIC addresses and cluster endpoints are all compared.
    ///
    /// ## Why
    /// Two machines answering ARP for one address take turns receiving its traffic. A cluster
    /// endpoint equal to a node's own address stops being a floating address: when that node
    /// is down, the API is gone.
    ///
    /// ## Example
    /// ```plat
    /// vm a {
    ///   host = host.pve1, vmid = 101, memory = 2GiB
    ///   nics = { net0 = { vlan = vlan.nodes, address = 10.20.0.11 } }
    /// }
    /// vm b {
    ///   host = host.pve1, vmid = 102, memory = 2GiB
    ///   nics = { net0 = { vlan = vlan.nodes, address = 10.20.0.11 } }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Give each owner its own address; deriving addresses from an index
    /// (`vlan.nodes.subnet.host(10 + i)`) keeps generated VMs apart.
    code = "check::duplicate-address",
    severity = Error,
}

/// Reports every use of an address after its first, at the second use.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let addresses = static_addresses(model);
    let keyed = addresses.iter().map(|address| (address.ip, address));
    for_each_repeat(keyed, |first: &&StaticAddress, repeat: &&StaticAddress| {
        out.push(
            Diagnostic::error(
                INFO.code,
                repeat.span,
                format!(
                    "address {} of {} is already the address of {}",
                    repeat.ip, repeat.owner, first.owner
                ),
            )
            .with_label("duplicate address")
            .with_secondary(first.span, format!("first used here by {}", first.owner))
            .with_help("give each host, vm nic, gateway and cluster endpoint its own address"),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, ip, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn distinct_addresses_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_repeated_nic_address_is_reported_at_the_second_vm() {
        let mut model = fixture::small();
        model.vms["cp-1"].span = span(1);
        model.vms["cp-1"].nics.value["net0"].address = at(Some(ip("10.20.0.50")), 2);
        model.vms["cp-2"].span = span(3);
        model.vms["cp-2"].nics.value["net0"].address = at(Some(ip("10.20.0.50")), 4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-address");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(4));
        assert_eq!(d.secondary[0].span, span(2));
        assert_eq!(
            d.message,
            "address 10.20.0.50 of vm cp-2 (net0) is already the address of vm cp-1 (net0)"
        );
    }

    #[test]
    fn declaration_order_decides_across_kinds() {
        let mut model = fixture::small();
        // The VM is declared before the host: the host's address is the second use.
        model.vms["cp-1"].span = span(1);
        model.vms["cp-1"].nics.value["net0"].address = at(Some(ip("10.10.0.2")), 2);
        model.hosts["pve1"].span = span(3);
        model.hosts["pve1"].address = at(ip("10.10.0.2"), 4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(4));
        assert_eq!(found[0].secondary[0].span, span(2));
    }

    #[test]
    fn a_firewall_vm_holding_the_gateway_is_the_gateway() {
        let mut model = fixture::small();
        model.firewalls["fw1"].vm = at(Some("worker-2".into()), 1);
        model.vms["worker-2"].nics.value["net0"].address = at(Some(ip("10.20.0.1")), 2);
        assert!(run_check(check, &model).is_empty());
        model.firewalls["fw1"].vm = at(None, 1);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .contains("already the address of the gateway of vlan nodes"));
    }

    #[test]
    fn an_endpoint_equal_to_a_node_address_is_reported() {
        let mut model = fixture::small();
        model.clusters["main"].span = span(5);
        model.clusters["main"].endpoint = at(ip("10.20.0.11"), 6);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(6));
        assert!(found[0].message.contains("the endpoint of cluster main"));
    }
}

//! `check::duplicate-mac`: two NICs with one MAC address, explicit or derived. Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::Span;
use plat_lang::value::format_mac;

use super::{declare_check, for_each_repeat, source_order, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a VM NIC whose MAC address an earlier NIC already has. Explicit `mac` fields
    /// and the MACs plat derives from VM and NIC names (prefix `bc:24:11`) are compared.
    ///
    /// ## Why
    /// Switches and bridges forward a frame to one port per MAC: two NICs with one MAC
    /// steal each other's traffic, and the DHCP server hands them one lease. Derived MACs
    /// have 24 hash bits, so a collision is rare but possible on large platforms.
    ///
    /// ## Example
    /// ```plat
    /// vm a { ..., nics = { net0 = { vlan = vlan.nodes, mac = bc:24:11:00:00:01 } } }
    /// vm b { ..., nics = { net0 = { vlan = vlan.nodes, mac = bc:24:11:00:00:01 } } }
    /// ```
    ///
    /// ## How to fix
    /// Remove the explicit `mac` to get a derived one, or write a distinct one; when two
    /// derived MACs collide, set an explicit `mac` on one of the NICs.
    code = "check::duplicate-mac",
    severity = Error,
}

/// A NIC's MAC and where it comes from.
struct MacUse {
    span: Span,
    owner: String,
    derived: bool,
}

/// Reports every NIC after the first with a given MAC, at its `mac` field (or the NIC, for a
/// derived MAC).
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut uses = Vec::new();
    for vm in model.vms.values() {
        for (slot, nic) in vm.nics.iter() {
            let mac = crate::model::ids::nic_mac(&vm.name, slot, nic);
            let mac_use = MacUse {
                span: span_of(&mac, nic.span),
                owner: format!("vm {} ({slot})", vm.name),
                derived: mac.from_default,
            };
            uses.push((source_order(vm.span), *mac, mac_use));
        }
    }
    uses.sort_by_key(|(order, _, _)| *order);
    let keyed = uses
        .into_iter()
        .map(|(_, mac, mac_use)| (mac, (mac, mac_use)));
    for_each_repeat(keyed, |(mac, first), (_, repeat)| {
        let help = if repeat.derived && first.derived {
            format!(
                "the derived macs collide: set an explicit `mac` on {}",
                repeat.owner
            )
        } else {
            "give each nic its own mac, or remove `mac` to derive one".to_string()
        };
        out.push(
            Diagnostic::error(
                INFO.code,
                repeat.span,
                format!(
                    "mac {} of {} is already the mac of {}",
                    format_mac(mac),
                    repeat.owner,
                    first.owner
                ),
            )
            .with_label("duplicate mac")
            .with_secondary(first.span, format!("first used here by {}", first.owner))
            .with_help(help),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn derived_macs_of_the_fixture_are_distinct() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn an_explicit_copy_is_reported_at_the_second_mac() {
        let mut model = fixture::small();
        let mac = Some(crate::model::ids::mac("cp-1", "net0"));
        model.vms["cp-1"].nics.value["net0"].mac = at(mac, 1);
        model.vms["worker-1"].nics.value["net0"].mac = at(mac, 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-mac");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert!(d.message.starts_with("mac bc:24:11:"), "{}", d.message);
        assert!(d
            .message
            .ends_with("of vm worker-1 (net0) is already the mac of vm cp-1 (net0)"));
    }

    #[test]
    fn colliding_derived_macs_point_at_the_nics() {
        let mut model = fixture::small();
        // Two derived MACs that happen to be equal: a default with the same value.
        let mac = Some(crate::model::ids::mac("cp-1", "net0"));
        for (name, n) in [("cp-1", 1), ("cp-2", 2)] {
            let nic = &mut model.vms[name].nics.value["net0"];
            nic.span = span(n);
            nic.mac = at(mac, 9);
            nic.mac.from_default = true;
        }
        let found = run_check(check, &model);
        assert_eq!(found[0].span, span(2));
        assert_eq!(found[0].secondary[0].span, span(1));
        assert!(found[0]
            .help
            .as_deref()
            .unwrap()
            .contains("derived macs collide"));
    }
}

//! `check::invalid-dhcp-range`: a VLAN's DHCP range that is not a range of usable addresses
//! of its subnet. Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::value::ip_to_u128;

use super::declare_check;
use crate::model::{Cidr, DhcpRange, Model, Vlan};

declare_check! {
    /// ## What it does
    /// Reports a VLAN whose `dhcp` range has an end outside the VLAN's subnet, starts after
    /// it ends, or includes the subnet's network or broadcast address.
    ///
    /// ## Why
    /// pfSense refuses to save a DHCP range outside the interface's subnet, and a reversed
    /// range serves no address. Handing out the network or broadcast address breaks the
    /// client that receives it.
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes {
    ///   id     = 20
    ///   subnet = 10.20.0.0/24
    ///   dhcp   = { from = 10.20.0.200, to = 10.20.0.100 }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Write `from` no later than `to`, both usable addresses of the subnet, e.g.
    /// `dhcp = { from = 10.20.0.100, to = 10.20.0.199 }` (the fields of an entity cannot refer
    /// to each other, so a subnet shared by `subnet` and `dhcp` goes in a `let`).
    code = "check::invalid-dhcp-range",
    severity = Error,
}

/// Reports each VLAN with an unusable DHCP range, at its `dhcp` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vlan in model.vlans.values() {
        let Some(range) = &*vlan.dhcp else {
            continue;
        };
        if let Some(problem) = problem(vlan, range) {
            out.push(
                Diagnostic::error(
                    INFO.code,
                    vlan.dhcp.span,
                    format!(
                        "the dhcp range {}-{} of vlan {} {problem}",
                        range.from, range.to, vlan.name
                    ),
                )
                .with_label("invalid dhcp range")
                .with_secondary(
                    vlan.subnet.span,
                    format!("subnet {} declared here", *vlan.subnet),
                )
                .with_help(help(&vlan.subnet)),
            );
        }
    }
}

/// What to write instead: usable addresses of `subnet`, with an example range.
fn help(subnet: &Cidr) -> String {
    let usable = |index: u128| subnet.host(index).map(|ip| ip.to_string());
    let example = if subnet.size() >= 256 {
        usable(100).zip(usable(199))
    } else {
        usable(1).zip(usable(subnet.size().saturating_sub(2).max(1)))
    };
    match example {
        Some((from, to)) => format!(
            "use usable addresses of {subnet} with `from` <= `to`, e.g. `{{ from = {from}, to = {to} }}`"
        ),
        None => format!("use usable addresses of {subnet} with `from` <= `to`"),
    }
}

/// What is wrong with `range`, as the end of a message.
fn problem(vlan: &Vlan, range: &DhcpRange) -> Option<String> {
    let subnet = &*vlan.subnet;
    for (end, ip) in [("start", range.from), ("end", range.to)] {
        if !subnet.contains(ip) {
            return Some(format!("has its {end} {ip} outside the subnet {subnet}"));
        }
    }
    let (from, to) = (ip_to_u128(range.from), ip_to_u128(range.to));
    if from > to {
        return Some("starts after it ends".into());
    }
    let has_broadcast = subnet.addr.is_ipv4() && subnet.prefix < 31;
    if has_broadcast && from == subnet.network() {
        return Some(format!(
            "includes the network address {} of {subnet}",
            range.from
        ));
    }
    if has_broadcast && to == subnet.last() {
        return Some(format!(
            "includes the broadcast address {} of {subnet}",
            range.to
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, ip, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    fn with_range(from: &str, to: &str) -> Vec<Diagnostic> {
        let mut model = fixture::small();
        model.vlans["nodes"].subnet.span = span(1);
        model.vlans["nodes"].dhcp = at(
            Some(DhcpRange {
                from: ip(from),
                to: ip(to),
            }),
            2,
        );
        run_check(check, &model)
    }

    #[test]
    fn a_range_of_usable_addresses_passes() {
        assert!(run_check(check, &fixture::small()).is_empty());
        assert!(with_range("10.20.0.1", "10.20.0.254").is_empty());
        assert!(with_range("10.20.0.7", "10.20.0.7").is_empty());
    }

    #[test]
    fn a_reversed_range_is_reported() {
        let found = with_range("10.20.0.200", "10.20.0.100");
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::invalid-dhcp-range");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert!(d.message.ends_with("starts after it ends"), "{}", d.message);
    }

    #[test]
    fn ends_outside_the_subnet_are_reported() {
        let found = with_range("10.20.0.100", "10.20.1.10");
        assert!(found[0].message.contains("its end 10.20.1.10 outside"));
        let found = with_range("fd00::1", "10.20.0.10");
        assert!(found[0].message.contains("its start fd00::1 outside"));
    }

    #[test]
    fn the_broadcast_address_is_not_leased() {
        let found = with_range("10.20.0.100", "10.20.0.255");
        assert!(found[0]
            .message
            .ends_with("includes the broadcast address 10.20.0.255 of 10.20.0.0/24"));
        let found = with_range("10.20.0.0", "10.20.0.10");
        assert!(found[0]
            .message
            .ends_with("includes the network address 10.20.0.0 of 10.20.0.0/24"));
    }

    #[test]
    fn the_help_gives_a_range_that_can_be_written() {
        let found = with_range("10.20.0.200", "10.20.0.100");
        let help = found[0].help.as_deref().unwrap();
        assert!(
            help.ends_with("e.g. `{ from = 10.20.0.100, to = 10.20.0.199 }`"),
            "{help}"
        );
        let small = crate::check::testing::cidr("10.20.0.0/29");
        assert!(super::help(&small).ends_with("`{ from = 10.20.0.1, to = 10.20.0.6 }`"));
    }
}

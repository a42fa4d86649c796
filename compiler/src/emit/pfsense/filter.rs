//! `<aliases>`, `<filter>` and `<nat>`: host aliases, the platform's rules on the interfaces
//! their sources arrive on, and port forwards with their associated filter rules.
//!
//! Invariants: rules keep declaration order within each interface; `<filter>` groups them by
//! interface in interface order (what pfSense's `filter_rules_sort` does on save); trackers
//! are unique in the file. Endpoints name entities the model resolved (lowering guarantees
//! every reference resolves); an endpoint that does not resolve drops its rule.
//!
//! Tests: `tests` below.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::plan::{cidr_text, AliasOf, Iface, Plan};
use super::services::first_static_address;
use super::xml::El;
use crate::model::{ids, Action, Endpoint, Forward, Proto, Rule};

/// `<aliases>`: a host alias per Proxmox host and per VM (`alias-utils.inc`).
pub fn aliases(plan: &Plan) -> El {
    El::new("aliases").with_all(plan.aliases.iter().map(|alias| {
        let addresses: Vec<String> = alias.addresses.iter().map(|(a, _)| a.to_string()).collect();
        let details: Vec<&str> = alias.addresses.iter().map(|(_, d)| d.as_str()).collect();
        let descr = match alias.of {
            AliasOf::Host => format!("Proxmox host {}", alias.entity),
            AliasOf::Vm => format!("VM {}", alias.entity),
        };
        El::new("alias")
            .with(El::text("name", alias.name.as_str()))
            .with(El::text("type", "host"))
            .with(El::text("address", addresses.join(" ")))
            .with(El::text("descr", descr))
            .with(El::text("detail", details.join("||")))
    }))
}

/// Unique trackers: a derived tracker already used in this file moves to the next free
/// value in the derived range (`model::ids::tracker`).
#[derive(Default)]
struct Trackers(BTreeSet<u32>);

impl Trackers {
    fn claim(&mut self, mut tracker: u32) -> u32 {
        while !self.0.insert(tracker) {
            tracker = if tracker >= 999_999_999 {
                100_000_000
            } else {
                tracker + 1
            };
        }
        tracker
    }
}

/// `<filter>`: forward rules first on the WAN, then every rule on each interface its source
/// arrives on, grouped by interface.
pub fn filter(plan: &Plan) -> El {
    let mut trackers = Trackers::default();
    let mut rules: Vec<(usize, El)> = Vec::new();
    for forward in plan.model.forwards.values() {
        if let Some(nat) = Nat::of(plan, forward) {
            rules.push((0, nat.filter_rule(&mut trackers)));
        }
    }
    for rule in plan.model.rules.values() {
        for (copy, iface) in plan.source_ifaces(&rule.from).into_iter().enumerate() {
            let tracker = if copy == 0 {
                rule.tracker
            } else {
                ids::tracker("rule", &format!("{}@{}", rule.name, iface.key))
            };
            if let Some(el) = filter_rule(plan, rule, iface, trackers.claim(tracker)) {
                let position = plan.ifaces.iter().position(|i| i.key == iface.key);
                rules.push((position.unwrap_or(0), el));
            }
        }
    }
    rules.sort_by_key(|(position, _)| *position);
    El::new("filter").with_all(rules.into_iter().map(|(_, el)| el))
}

fn filter_rule(plan: &Plan, rule: &Rule, iface: &Iface, tracker: u32) -> Option<El> {
    let kind = match *rule.action {
        Action::Pass => "pass",
        Action::Block => "block",
        Action::Reject => "reject",
    };
    let ports = match (*rule.proto, *rule.ports) {
        (Proto::Tcp | Proto::Udp | Proto::TcpUdp, Some((from, to))) if from == to => {
            Some(from.to_string())
        }
        (Proto::Tcp | Proto::Udp | Proto::TcpUdp, Some((from, to))) => Some(format!("{from}-{to}")),
        _ => None,
    };
    let v6 = family_v6(plan, &rule.from) || family_v6(plan, &rule.to);
    let source = endpoint(plan, "source", &rule.from, None)?;
    let destination = endpoint(plan, "destination", &rule.to, ports)?;
    let descr = if rule.description.is_empty() {
        rule.name.clone()
    } else {
        format!("{}: {}", rule.name, *rule.description)
    };
    Some(
        El::new("rule")
            .with(El::text("tracker", tracker.to_string()))
            .with(El::text("type", kind))
            .with(El::text("interface", iface.key.as_str()))
            .with(El::text("ipprotocol", if v6 { "inet6" } else { "inet" }))
            .with(El::text("statetype", "keep state"))
            .with_all(protocol(*rule.proto).map(|p| El::text("protocol", p)))
            .with(source)
            .with(destination)
            .with_all(rule.log.then(|| El::flag("log")))
            .with(El::text("descr", descr)),
    )
}

/// pfSense's `<protocol>` value; `None` for any protocol.
fn protocol(proto: Proto) -> Option<&'static str> {
    match proto {
        Proto::Any => None,
        Proto::Tcp => Some("tcp"),
        Proto::Udp => Some("udp"),
        Proto::TcpUdp => Some("tcp/udp"),
        Proto::Icmp => Some("icmp"),
    }
}

/// True when the endpoint is an IPv6 subnet or address (the rule is then `inet6`).
fn family_v6(plan: &Plan, ep: &Endpoint) -> bool {
    match ep {
        Endpoint::Cidr(cidr) => cidr.addr.is_ipv6(),
        Endpoint::Host(name) => plan
            .model
            .hosts
            .get(name)
            .is_some_and(|h| h.address.is_ipv6()),
        Endpoint::Vlan(name) => plan
            .model
            .vlans
            .get(name)
            .is_some_and(|v| v.subnet.addr.is_ipv6()),
        Endpoint::Any | Endpoint::Vm(_) => false,
    }
}

/// An address block (`util.inc` `pconfig_to_address`): `<any>`, `<network>` for a VLAN's
/// interface subnet, or `<address>` with an alias or subnet; then the port, if any.
fn endpoint(plan: &Plan, tag: &str, ep: &Endpoint, port: Option<String>) -> Option<El> {
    let what = match ep {
        Endpoint::Any => El::flag("any"),
        Endpoint::Vlan(name) => El::text("network", plan.vlan_iface(name)?.key.as_str()),
        Endpoint::Host(name) => El::text("address", plan.alias(AliasOf::Host, name)?.name.as_str()),
        Endpoint::Vm(name) => El::text("address", plan.alias(AliasOf::Vm, name)?.name.as_str()),
        Endpoint::Cidr(cidr) => El::text("address", cidr_text(cidr)),
    };
    Some(
        El::new(tag)
            .with(what)
            .with_all(port.map(|p| El::text("port", p))),
    )
}

/// A port forward resolved against the plan.
struct Nat<'a> {
    forward: &'a Forward,
    target: IpAddr,
    id: String,
    descr: String,
}

impl<'a> Nat<'a> {
    /// The forward, when its target has an address (a VM's first static address).
    fn of(plan: &Plan, forward: &'a Forward) -> Option<Nat<'a>> {
        let target = match &*forward.to {
            Endpoint::Vm(name) => first_static_address(plan.model.vms.get(name)?)?,
            Endpoint::Host(name) => *plan.model.hosts.get(name)?.address,
            _ => return None,
        };
        let descr = if forward.description.is_empty() {
            forward.name.clone()
        } else {
            format!("{}: {}", forward.name, *forward.description)
        };
        Some(Nat {
            forward,
            target,
            id: format!("nat_{}", forward.tracker),
            descr,
        })
    }

    /// The allowed sources: `any` or a subnet (the only forms a forward's `from` takes).
    fn source(&self) -> El {
        let what = match &*self.forward.from {
            Endpoint::Cidr(cidr) => El::text("address", cidr_text(cidr)),
            _ => El::flag("any"),
        };
        El::new("source").with(what)
    }

    /// The `<nat><rule>` (`firewall_nat_edit.php`).
    fn nat_rule(&self) -> El {
        El::new("rule")
            .with(self.source())
            .with(
                El::new("destination")
                    .with(El::text("network", "wanip"))
                    .with(El::text("port", self.forward.port.to_string())),
            )
            .with(El::text("ipprotocol", family(self.target)))
            .with_all(protocol(*self.forward.proto).map(|p| El::text("protocol", p)))
            .with(El::text("target", self.target.to_string()))
            .with(El::text("local-port", self.forward.to_port.to_string()))
            .with(El::text("interface", "wan"))
            .with(El::text("descr", self.descr.as_str()))
            .with(El::text("associated-rule-id", self.id.as_str()))
    }

    /// The associated filter rule: it matches the translated destination.
    fn filter_rule(&self, trackers: &mut Trackers) -> El {
        El::new("rule")
            .with(El::text(
                "tracker",
                trackers.claim(self.forward.tracker).to_string(),
            ))
            .with(El::text("type", "pass"))
            .with(El::text("interface", "wan"))
            .with(El::text("ipprotocol", family(self.target)))
            .with(El::text("statetype", "keep state"))
            .with_all(protocol(*self.forward.proto).map(|p| El::text("protocol", p)))
            .with(self.source())
            .with(
                El::new("destination")
                    .with(El::text("address", self.target.to_string()))
                    .with(El::text("port", self.forward.to_port.to_string())),
            )
            .with(El::text("descr", format!("NAT {}", self.descr)))
            .with(El::text("associated-rule-id", self.id.as_str()))
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "inet"
    } else {
        "inet6"
    }
}

/// `<nat>`: automatic outbound NAT and a port forward per forward.
pub fn nat(plan: &Plan) -> El {
    El::new("nat")
        .with(El::new("outbound").with(El::text("mode", "automatic")))
        .with_all(
            plan.model
                .forwards
                .values()
                .filter_map(|f| Nat::of(plan, f))
                .map(|n| n.nat_rule()),
        )
}

//! `check::shadowed-rule` (warning): a filter rule that an earlier rule fully covers, so it
//! never matches (first match wins).
//!
//! Endpoints are address sets written as maximal CIDR blocks. Blocks nest or are disjoint,
//! so a set A contains a set B exactly when every maximal block of B lies inside one block
//! of A, which is a lookup of its at most 129 ancestors. Earlier rules are indexed by every
//! (from block, to block) pair they have and, within a pair, grouped by their exact sets;
//! each group keeps, per protocol, a staircase of the port ranges it covers. A later rule
//! only looks at groups under the ancestors of its first from and to blocks, so the check is
//! O(n log n) for rule sets that a platform writes (each lookup is bounded by the address
//! width), never a scan of all earlier rules.
//!
//! A VM endpoint is its static addresses when it is the earlier (covering) rule, and those
//! plus the DHCP range (else the subnet) of each DHCP NIC's VLAN when it is the later rule:
//! a rule covers only what it surely matches, and is covered only if all it may match is.
//! Tests below.

use std::collections::BTreeMap;

use plat_lang::diagnostic::Diagnostic;
use plat_lang::value::ip_to_u128;

use super::declare_check;
use crate::model::{Cidr, Endpoint, Model, Proto, Rule};

declare_check! {
    /// ## What it does
    /// Warns about a rule that can never match because one earlier rule matches all of its
    /// traffic: the earlier rule's `from` contains this rule's `from`, its `to` contains this
    /// `to` (as address sets: `"any"`, a VLAN's subnet, a subnet, a host's address, a VM's
    /// addresses), its `proto` covers this one (`any` covers all, `tcp/udp` covers `tcp` and
    /// `udp`), and its ports contain these ports (no ports means all).
    ///
    /// ## Why
    /// Rules are evaluated in order and the first match wins, so the later rule is dead: a
    /// `block` after a wider `pass` blocks nothing, which is usually a security mistake.
    ///
    /// ## Example
    /// ```plat
    /// rule nodes-out { from = vlan.nodes, to = "any" }
    /// rule no-ssh-to-mgmt { from = vlan.nodes, to = vlan.mgmt, proto = "tcp", port = 22, action = "block" }
    /// ```
    ///
    /// ## How to fix
    /// Move the narrower rule before the wider one, or remove it when both do the same.
    code = "check::shadowed-rule",
    severity = Warning,
}

/// Warns about each rule covered by one earlier rule, at the rule.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let rules: Vec<&Rule> = model.rules.values().collect();
    let mut earlier = Earlier::default();
    for (index, rule) in rules.iter().enumerate() {
        let (Some(from), Some(to)) = (sets(model, &rule.from), sets(model, &rule.to)) else {
            continue;
        };
        let ports = rule.ports.unwrap_or((0, u16::MAX));
        match earlier.find_cover(&from.over, &to.over, *rule.proto, ports) {
            Some(cover) => out.push(shadowed(rule, rules[cover])),
            None => earlier.insert(from.under, to.under, *rule.proto, ports, index),
        }
    }
}

fn shadowed(rule: &Rule, cover: &Rule) -> Diagnostic {
    let help = if *rule.action == *cover.action {
        format!(
            "remove rule {}: rule {} already does the same",
            rule.name, cover.name
        )
    } else {
        format!(
            "move rule {} before rule {}, or narrow rule {}",
            rule.name, cover.name, cover.name
        )
    };
    Diagnostic::warning(
        INFO.code,
        rule.span,
        format!(
            "rule {} can never match: the earlier rule {} matches all of its traffic",
            rule.name, cover.name
        ),
    )
    .with_label(format!("shadowed by rule {}", cover.name))
    .with_secondary(
        cover.span,
        format!("rule {} comes first and covers it", cover.name),
    )
    .with_help(help)
}

/// A CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Block {
    v6: bool,
    network: u128,
    prefix: u8,
}

/// `2^host_bits - 1`.
fn mask(host_bits: u32) -> u128 {
    if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

impl Block {
    fn bits(self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    /// The block itself, then each wider block containing it, up to `/0`.
    fn ancestors(self) -> impl Iterator<Item = Block> {
        (0..=self.prefix).rev().map(move |prefix| Block {
            v6: self.v6,
            network: self.network & !mask(u32::from(self.bits() - prefix)),
            prefix,
        })
    }
}

/// An inclusive range of addresses of one family.
type Range = (bool, u128, u128);

fn cidr_range(cidr: &Cidr) -> Range {
    (cidr.addr.is_ipv6(), cidr.network(), cidr.last())
}

fn ip_range(ip: std::net::IpAddr) -> Range {
    (ip.is_ipv6(), ip_to_u128(ip), ip_to_u128(ip))
}

/// The maximal CIDR blocks of the union of `ranges`, sorted.
fn blocks(mut ranges: Vec<Range>) -> Vec<Block> {
    ranges.sort();
    let mut merged: Vec<Range> = Vec::new();
    for (v6, lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if last.0 == v6 && (last.2 == u128::MAX || lo <= last.2 + 1) => {
                last.2 = last.2.max(hi);
            }
            _ => merged.push((v6, lo, hi)),
        }
    }
    let mut out = Vec::new();
    for range in merged {
        split(range, &mut out);
    }
    out
}

/// Appends the maximal aligned blocks covering `lo..=hi`.
fn split((v6, mut lo, hi): Range, out: &mut Vec<Block>) {
    let bits: u32 = if v6 { 128 } else { 32 };
    loop {
        let mut host_bits = lo.trailing_zeros().min(bits);
        while lo + mask(host_bits) > hi {
            host_bits -= 1;
        }
        out.push(Block {
            v6,
            network: lo,
            prefix: (bits - host_bits) as u8,
        });
        let last = lo + mask(host_bits);
        if last >= hi {
            return;
        }
        lo = last + 1;
    }
}

/// What an endpoint surely matches (`under`) and may match (`over`).
struct Sets {
    under: Vec<Block>,
    over: Vec<Block>,
}

/// The address sets of `endpoint`; none when it names something undeclared.
fn sets(model: &Model, endpoint: &Endpoint) -> Option<Sets> {
    let exact = |ranges: Vec<Range>| {
        let blocks = blocks(ranges);
        Sets {
            under: blocks.clone(),
            over: blocks,
        }
    };
    Some(match endpoint {
        Endpoint::Any => exact(vec![(false, 0, u128::from(u32::MAX)), (true, 0, u128::MAX)]),
        Endpoint::Cidr(cidr) => exact(vec![cidr_range(cidr)]),
        Endpoint::Vlan(name) => exact(vec![cidr_range(&model.vlans.get(name)?.subnet)]),
        Endpoint::Host(name) => exact(vec![ip_range(*model.hosts.get(name)?.address)]),
        Endpoint::Vm(name) => vm_sets(model, name)?,
    })
}

fn vm_sets(model: &Model, name: &str) -> Option<Sets> {
    let vm = model.vms.get(name)?;
    let (mut sure, mut possible) = (Vec::new(), Vec::new());
    for nic in vm.nics.values() {
        match *nic.address {
            Some(ip) => sure.push(ip_range(ip)),
            None => {
                let vlan = model.vlans.get(nic.vlan.as_deref()?)?;
                possible.push(match &*vlan.dhcp {
                    Some(range) if range.from.is_ipv4() == range.to.is_ipv4() => {
                        let (v6, from, to) = ip_range(range.from);
                        (v6, from, to.max(ip_to_u128(range.to)))
                    }
                    _ => cidr_range(&vlan.subnet),
                });
            }
        }
    }
    possible.extend(sure.iter().copied());
    Some(Sets {
        under: blocks(sure),
        over: blocks(possible),
    })
}

/// True when every block of `inner` lies inside a block of `outer` (both maximal, sorted).
fn contains(outer: &[Block], inner: &[Block]) -> bool {
    inner
        .iter()
        .all(|block| block.ancestors().any(|up| outer.binary_search(&up).is_ok()))
}

/// Port ranges none of which contains another, sorted by start (so also by end), each with
/// the rule it came from.
#[derive(Default)]
struct Staircase(BTreeMap<u16, (u16, usize)>);

impl Staircase {
    /// A rule whose range contains `lo..=hi`.
    fn covering(&self, (lo, hi): (u16, u16)) -> Option<usize> {
        let (_, &(end, rule)) = self.0.range(..=lo).next_back()?;
        (end >= hi).then_some(rule)
    }

    fn insert(&mut self, (lo, hi): (u16, u16), rule: usize) {
        if self.covering((lo, hi)).is_some() {
            return;
        }
        let inside: Vec<u16> = self
            .0
            .range(lo..)
            .take_while(|(_, &(end, _))| end <= hi)
            .map(|(&start, _)| start)
            .collect();
        for start in inside {
            self.0.remove(&start);
        }
        self.0.insert(lo, (hi, rule));
    }
}

fn proto_index(proto: Proto) -> usize {
    match proto {
        Proto::Any => 0,
        Proto::Tcp => 1,
        Proto::Udp => 2,
        Proto::TcpUdp => 3,
        Proto::Icmp => 4,
    }
}

/// The protocols whose rules match all traffic of `proto`.
fn covering_protos(proto: Proto) -> &'static [Proto] {
    match proto {
        Proto::Any => &[Proto::Any],
        Proto::Tcp => &[Proto::Tcp, Proto::TcpUdp, Proto::Any],
        Proto::Udp => &[Proto::Udp, Proto::TcpUdp, Proto::Any],
        Proto::TcpUdp => &[Proto::TcpUdp, Proto::Any],
        Proto::Icmp => &[Proto::Icmp, Proto::Any],
    }
}

/// Earlier rules with the same from and to sets.
struct Group {
    from: Vec<Block>,
    to: Vec<Block>,
    ports: [Staircase; 5],
}

/// The rules seen so far, indexed for covering queries.
#[derive(Default)]
struct Earlier {
    groups: Vec<Group>,
    by_sets: BTreeMap<(Vec<Block>, Vec<Block>), usize>,
    by_blocks: BTreeMap<Block, BTreeMap<Block, Vec<usize>>>,
    /// The prefix lengths of the from and to blocks indexed, so a query looks up only
    /// ancestors that can be there.
    from_prefixes: Prefixes,
    to_prefixes: Prefixes,
}

/// A set of prefix lengths per address family.
struct Prefixes([[bool; 129]; 2]);

impl Default for Prefixes {
    fn default() -> Prefixes {
        Prefixes([[false; 129]; 2])
    }
}

impl Prefixes {
    fn add(&mut self, block: Block) {
        self.0[usize::from(block.v6)][usize::from(block.prefix)] = true;
    }

    fn has(&self, block: &Block) -> bool {
        self.0[usize::from(block.v6)][usize::from(block.prefix)]
    }
}

impl Earlier {
    fn insert(
        &mut self,
        from: Vec<Block>,
        to: Vec<Block>,
        proto: Proto,
        ports: (u16, u16),
        rule: usize,
    ) {
        if from.is_empty() || to.is_empty() {
            return;
        }
        let key = (from, to);
        let group = match self.by_sets.get(&key) {
            Some(&group) => group,
            None => self.add_group(key),
        };
        self.groups[group].ports[proto_index(proto)].insert(ports, rule);
    }

    fn add_group(&mut self, (from, to): (Vec<Block>, Vec<Block>)) -> usize {
        let group = self.groups.len();
        for &from_block in &from {
            self.from_prefixes.add(from_block);
            let inner = self.by_blocks.entry(from_block).or_default();
            for &to_block in &to {
                self.to_prefixes.add(to_block);
                inner.entry(to_block).or_default().push(group);
            }
        }
        self.by_sets.insert((from.clone(), to.clone()), group);
        self.groups.push(Group {
            from,
            to,
            ports: Default::default(),
        });
        group
    }

    /// The earliest-found rule covering traffic from `from` to `to` with `proto` and `ports`.
    fn find_cover(
        &self,
        from: &[Block],
        to: &[Block],
        proto: Proto,
        ports: (u16, u16),
    ) -> Option<usize> {
        let (&from_first, &to_first) = (from.first()?, to.first()?);
        let mut best: Option<usize> = None;
        let from_ups = from_first
            .ancestors()
            .filter(|up| self.from_prefixes.has(up));
        for from_up in from_ups {
            let Some(inner) = self.by_blocks.get(&from_up) else {
                continue;
            };
            for to_up in to_first.ancestors().filter(|up| self.to_prefixes.has(up)) {
                for &group in inner.get(&to_up).into_iter().flatten() {
                    let group = &self.groups[group];
                    if !contains(&group.from, from) || !contains(&group.to, to) {
                        continue;
                    }
                    for &covering in covering_protos(proto) {
                        if let Some(rule) = group.ports[proto_index(covering)].covering(ports) {
                            best = Some(best.map_or(rule, |b| b.min(rule)));
                        }
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, cidr, ip, run_check, span};
    use crate::model::{fixture, ids, Action};
    use plat_lang::diagnostic::Severity;

    /// Adds `rules` to `model` in order, the n-th declared at `span(n)`.
    fn insert_in_order(model: &mut Model, rules: impl IntoIterator<Item = Rule>) {
        for (index, mut rule) in rules.into_iter().enumerate() {
            rule.span = span(index + 1);
            model.rules.insert(rule.name.clone(), rule);
        }
    }

    fn rule(
        name: &str,
        from: Endpoint,
        to: Endpoint,
        proto: Proto,
        ports: Option<(u16, u16)>,
    ) -> Rule {
        Rule {
            name: name.into(),
            span: span(0),
            from: at(from, 0),
            to: at(to, 0),
            action: at(Action::Pass, 0),
            proto: at(proto, 0),
            ports: at(ports, 0),
            log: at(false, 0),
            description: at(String::new(), 0),
            tracker: ids::tracker("rule", name),
        }
    }

    /// The fixture's rules replaced by `rules`, rule `i` declared at span `i + 1`.
    fn with_rules(rules: Vec<Rule>) -> Vec<Diagnostic> {
        let mut model = fixture::small();
        model.rules.clear();
        insert_in_order(&mut model, rules);
        run_check(check, &model)
    }

    fn vlan(name: &str) -> Endpoint {
        Endpoint::Vlan(name.into())
    }

    #[test]
    fn the_fixture_rules_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_narrow_block_after_a_wide_pass_is_reported() {
        let found = with_rules(vec![
            rule("nodes-out", vlan("nodes"), Endpoint::Any, Proto::Any, None),
            rule(
                "no-ssh",
                Endpoint::Vm("cp-1".into()),
                vlan("mgmt"),
                Proto::Tcp,
                Some((22, 22)),
            ),
        ]);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::shadowed-rule");
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "rule no-ssh can never match: the earlier rule nodes-out matches all of its traffic"
        );
    }

    #[test]
    fn a_narrow_rule_first_is_fine() {
        let found = with_rules(vec![
            rule(
                "no-ssh",
                Endpoint::Vm("cp-1".into()),
                vlan("mgmt"),
                Proto::Tcp,
                Some((22, 22)),
            ),
            rule("nodes-out", vlan("nodes"), Endpoint::Any, Proto::Any, None),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn ports_and_protocols_must_be_covered() {
        let web =
            |name: &str, proto, ports| rule(name, Endpoint::Any, vlan("services"), proto, ports);
        let found = with_rules(vec![
            web("web", Proto::Tcp, Some((80, 443))),
            web("https", Proto::Tcp, Some((443, 443))),
            web("alt", Proto::Tcp, Some((443, 444))),
            web("quic", Proto::Udp, Some((443, 443))),
            web("dns", Proto::TcpUdp, Some((53, 53))),
            web("dns-udp", Proto::Udp, Some((53, 53))),
            web("dns-tcp-udp", Proto::TcpUdp, Some((53, 53))),
            web("any-port", Proto::Tcp, None),
            web("ping", Proto::Icmp, None),
        ]);
        let shadowed: Vec<&str> = found
            .iter()
            .map(|d| d.message.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(shadowed, vec!["https", "dns-udp", "dns-tcp-udp"]);
    }

    #[test]
    fn any_is_covered_only_by_any() {
        let found = with_rules(vec![
            rule(
                "v4",
                Endpoint::Cidr(cidr("0.0.0.0/0")),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
            rule("all", Endpoint::Any, Endpoint::Any, Proto::Any, None),
            rule(
                "v6",
                Endpoint::Cidr(cidr("::/0")),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(3));
        assert_eq!(found[0].secondary[0].span, span(2));
    }

    #[test]
    fn a_union_of_earlier_rules_does_not_count() {
        let half = |name: &str, c: &str| {
            rule(
                name,
                Endpoint::Cidr(cidr(c)),
                Endpoint::Any,
                Proto::Any,
                None,
            )
        };
        let found = with_rules(vec![
            half("low", "10.20.0.0/25"),
            half("high", "10.20.0.128/25"),
            rule("nodes", vlan("nodes"), Endpoint::Any, Proto::Any, None),
        ]);
        assert!(found.is_empty());
    }

    #[test]
    fn vm_addresses_are_sets() {
        let mut model = fixture::small();
        model.rules.clear();
        let nics = &mut model.vms["cp-1"].nics.value;
        let mut net1 = nics["net0"].clone();
        net1.address = at(Some(ip("10.30.0.11")), 0);
        nics.insert("net1".into(), net1);
        let rules = [
            rule(
                "from-cp-1",
                Endpoint::Vm("cp-1".into()),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
            rule(
                "from-one",
                Endpoint::Cidr(cidr("10.30.0.11/32")),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
            rule(
                "from-host",
                Endpoint::Host("pve1".into()),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
        ];
        insert_in_order(&mut model, rules);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(2));
    }

    #[test]
    fn a_dhcp_vm_may_have_any_address_of_the_range() {
        let mut model = fixture::small();
        model.rules.clear();
        model.vms["worker-1"].nics.value["net0"].address = at(None, 0);
        let rules = [
            rule(
                "low-half",
                Endpoint::Cidr(cidr("10.20.0.0/25")),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
            rule(
                "dhcp-vm",
                Endpoint::Vm("worker-1".into()),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
            rule("nodes", vlan("nodes"), Endpoint::Any, Proto::Any, None),
            rule(
                "dhcp-vm-again",
                Endpoint::Vm("worker-1".into()),
                Endpoint::Any,
                Proto::Any,
                None,
            ),
        ];
        insert_in_order(&mut model, rules);
        let found = run_check(check, &model);
        // .100-.199 is not inside .0/25, but inside the VLAN; a DHCP VM covers nothing.
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(4));
        assert_eq!(found[0].secondary[0].span, span(3));
    }

    #[test]
    fn ranges_split_into_maximal_blocks() {
        let range = (
            false,
            ip_to_u128(ip("10.20.0.100")),
            ip_to_u128(ip("10.20.0.199")),
        );
        let prefixes: Vec<(String, u8)> = blocks(vec![range])
            .into_iter()
            .map(|b| {
                (
                    plat_lang::value::u128_to_ip(b.network, true).to_string(),
                    b.prefix,
                )
            })
            .collect();
        let expected = [
            ("10.20.0.100", 30),
            ("10.20.0.104", 29),
            ("10.20.0.112", 28),
            ("10.20.0.128", 26),
            ("10.20.0.192", 29),
        ];
        let expected: Vec<(String, u8)> =
            expected.iter().map(|(a, p)| (a.to_string(), *p)).collect();
        assert_eq!(prefixes, expected);
        let everything = blocks(vec![(true, 0, u128::MAX), (true, 5, 9)]);
        assert_eq!(
            everything,
            vec![Block {
                v6: true,
                network: 0,
                prefix: 0
            }]
        );
        let adjacent = blocks(vec![
            cidr_range(&cidr("10.0.0.0/25")),
            cidr_range(&cidr("10.0.0.128/25")),
        ]);
        assert_eq!(
            adjacent,
            vec![Block {
                v6: false,
                network: 0x0a00_0000,
                prefix: 24
            }]
        );
    }

    #[test]
    fn the_staircase_keeps_only_outer_ranges() {
        let mut stairs = Staircase::default();
        stairs.insert((80, 80), 0);
        stairs.insert((443, 443), 1);
        stairs.insert((1, 1024), 2);
        stairs.insert((1000, 2000), 3);
        assert_eq!(stairs.0.len(), 2);
        assert_eq!(stairs.covering((22, 22)), Some(2));
        assert_eq!(stairs.covering((1020, 1030)), Some(3));
        assert_eq!(stairs.covering((1000, 2001)), None);
    }
}

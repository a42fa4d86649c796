//! `check::cidr-overlap`: VLAN subnets that overlap each other, and cluster pod or service
//! networks that overlap each other or any VLAN. Sort and sweep; each cluster network is
//! looked up in the sorted VLAN subnets with a prefix maximum, so the check is O(n log n).
//! Tests below.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::Span;

use super::declare_check;
use crate::model::{Cidr, Cluster, Model};

declare_check! {
    /// ## What it does
    /// Reports a VLAN subnet that overlaps an earlier VLAN's subnet, and a cluster's
    /// `pod_cidr` or `service_cidr` that overlaps the other one or any VLAN's subnet.
    ///
    /// ## Why
    /// An address in two networks is routed to only one of them. A service network that
    /// covers a VLAN makes every node send that VLAN's traffic into kube-proxy or the CNI,
    /// so the nodes lose the hosts on it.
    ///
    /// ## Example
    /// ```plat
    /// vlan nodes { id = 20, subnet = 10.20.0.0/24 }
    /// cluster main {
    ///   version      = "1.31.4"
    ///   endpoint     = 10.20.0.5
    ///   pod_cidr     = 10.244.0.0/16
    ///   service_cidr = 10.20.0.0/16
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Choose disjoint ranges: the Kubernetes defaults `10.244.0.0/16` (pods) and
    /// `10.96.0.0/12` (services) are usually free of site networks.
    code = "check::cidr-overlap",
    severity = Error,
}

/// Reports overlapping VLAN subnets and cluster networks.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let subnets = VlanSubnets::new(model);
    subnets.report_overlaps(out);
    for cluster in model.clusters.values() {
        check_cluster(cluster, &subnets, out);
    }
}

fn check_cluster(cluster: &Cluster, subnets: &VlanSubnets, out: &mut Vec<Diagnostic>) {
    let networks = [
        ("pod_cidr", &cluster.pod_cidr),
        ("service_cidr", &cluster.service_cidr),
    ];
    if cluster.pod_cidr.overlaps(&cluster.service_cidr) {
        out.push(
            Diagnostic::error(
                INFO.code,
                cluster.service_cidr.span,
                format!(
                    "the service network {} of cluster {} overlaps its pod network {}",
                    *cluster.service_cidr, cluster.name, *cluster.pod_cidr
                ),
            )
            .with_label("overlaps the pod network")
            .with_secondary(cluster.pod_cidr.span, "pod network declared here")
            .with_help(
                "choose disjoint pod and service networks, e.g. 10.244.0.0/16 and 10.96.0.0/12",
            ),
        );
    }
    for (field, network) in networks {
        if let Some(vlan) = subnets.overlapping(&network.value) {
            out.push(
                Diagnostic::error(
                    INFO.code,
                    network.span,
                    format!(
                        "the {field} {} of cluster {} overlaps the subnet {} of vlan {}",
                        network.value, cluster.name, vlan.cidr, vlan.name
                    ),
                )
                .with_label(format!("overlaps vlan {}", vlan.name))
                .with_secondary(vlan.span, format!("vlan {} subnet declared here", vlan.name))
                .with_help(format!(
                    "choose a {field} outside every vlan subnet; cluster networks must not be routed anywhere else"
                )),
            );
        }
    }
}

/// One VLAN subnet as an integer range.
#[derive(Clone, Debug)]
struct Subnet<'m> {
    name: &'m str,
    cidr: Cidr,
    span: Span,
    /// Declaration index.
    order: usize,
}

impl Subnet<'_> {
    fn key(&self) -> (bool, u128) {
        (self.cidr.addr.is_ipv6(), self.cidr.network())
    }

    fn last(&self) -> (bool, u128) {
        (self.cidr.addr.is_ipv6(), self.cidr.last())
    }
}

/// VLAN subnets sorted by start, with the running maximum of their ends.
struct VlanSubnets<'m> {
    sorted: Vec<Subnet<'m>>,
    /// `reach[i]`: the index in `sorted[..=i]` of the subnet ending last.
    reach: Vec<usize>,
}

impl<'m> VlanSubnets<'m> {
    fn new(model: &'m Model) -> VlanSubnets<'m> {
        let mut sorted: Vec<Subnet<'m>> = model
            .vlans
            .values()
            .enumerate()
            .map(|(order, vlan)| Subnet {
                name: &vlan.name,
                cidr: *vlan.subnet,
                span: vlan.subnet.span,
                order,
            })
            .collect();
        sorted.sort_by_key(|subnet| (subnet.key(), subnet.order));
        let mut reach: Vec<usize> = Vec::with_capacity(sorted.len());
        for (index, subnet) in sorted.iter().enumerate() {
            let best = match reach.last() {
                Some(&previous) if sorted[previous].last() >= subnet.last() => previous,
                _ => index,
            };
            reach.push(best);
        }
        VlanSubnets { sorted, reach }
    }

    /// Each subnet that overlaps one sorted before it, reported at the later-declared one.
    fn report_overlaps(&self, out: &mut Vec<Diagnostic>) {
        for index in 1..self.sorted.len() {
            let earlier = &self.sorted[self.reach[index - 1]];
            let subnet = &self.sorted[index];
            if earlier.cidr.overlaps(&subnet.cidr) {
                let (first, second) = if earlier.order < subnet.order {
                    (earlier, subnet)
                } else {
                    (subnet, earlier)
                };
                out.push(overlap(first, second));
            }
        }
    }

    /// A VLAN subnet sharing an address with `network`, if any.
    fn overlapping(&self, network: &Cidr) -> Option<&Subnet<'m>> {
        let family = network.addr.is_ipv6();
        let end = self
            .sorted
            .partition_point(|subnet| subnet.key() <= (family, network.last()));
        let widest = &self.sorted[*self.reach[..end].last()?];
        widest.cidr.overlaps(network).then_some(widest)
    }
}

fn overlap(first: &Subnet, second: &Subnet) -> Diagnostic {
    Diagnostic::error(
        INFO.code,
        second.span,
        format!(
            "the subnet {} of vlan {} overlaps the subnet {} of vlan {}",
            second.cidr, second.name, first.cidr, first.name
        ),
    )
    .with_label(format!("overlaps vlan {}", first.name))
    .with_secondary(
        first.span,
        format!("vlan {} subnet declared here", first.name),
    )
    .with_help("give every vlan a subnet of its own")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, cidr, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn disjoint_networks_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_service_network_over_a_vlan_is_reported_at_the_cluster_field() {
        let mut model = fixture::small();
        model.vlans["nodes"].subnet = at(cidr("10.20.0.0/24"), 1);
        model.clusters["main"].service_cidr = at(cidr("10.20.0.0/16"), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::cidr-overlap");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert!(
            d.message.contains("service_cidr 10.20.0.0/16"),
            "{}",
            d.message
        );
    }

    #[test]
    fn a_network_inside_a_wide_earlier_vlan_is_found() {
        let mut model = fixture::small();
        model.vlans["mgmt"].subnet = at(cidr("10.0.0.0/8"), 1);
        model.clusters["main"].pod_cidr = at(cidr("10.244.0.0/16"), 2);
        model.clusters["main"].service_cidr = at(cidr("172.16.0.0/12"), 3);
        let found = run_check(check, &model);
        let spans: Vec<_> = found.iter().map(|d| d.span).collect();
        // mgmt covers nodes and services (reported at them, the later ones) and the pods.
        assert_eq!(spans, vec![Span::default(), Span::default(), span(2)]);
        assert_eq!(found[0].secondary[0].span, span(1));
    }

    #[test]
    fn pod_and_service_networks_must_be_disjoint() {
        let mut model = fixture::small();
        model.clusters["main"].pod_cidr = at(cidr("10.96.0.0/16"), 1);
        model.clusters["main"].service_cidr = at(cidr("10.96.0.0/12"), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(2));
        assert_eq!(found[0].secondary[0].span, span(1));
    }

    #[test]
    fn overlapping_vlans_are_reported_at_the_later_declared() {
        let mut model = fixture::small();
        model.vlans["mgmt"].subnet = at(cidr("10.30.0.0/25"), 1);
        model.vlans["services"].subnet = at(cidr("10.30.0.0/24"), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(2));
        assert_eq!(found[0].secondary[0].span, span(1));
        assert!(found[0].message.contains("vlan services overlaps"));
    }

    #[test]
    fn families_never_overlap() {
        let mut model = fixture::small();
        model.vlans["mgmt"].subnet = at(cidr("::/0"), 1);
        assert!(run_check(check, &model).is_empty());
    }
}

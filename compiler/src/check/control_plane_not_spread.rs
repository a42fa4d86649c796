//! `check::control-plane-not-spread` (warning): a cluster's control-plane nodes share a host
//! although other hosts could take them. Tests below.

use std::collections::BTreeMap;

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, name_list};
use crate::model::{Model, Role, Vm};

declare_check! {
    /// ## What it does
    /// Warns when a cluster's control-plane nodes run on fewer hosts than they could: when
    /// the platform has several hosts and two control-plane VMs share one while a host is
    /// left without any. Reported at the `host` of the first VM that shares.
    ///
    /// ## Why
    /// etcd keeps working while a majority of control-plane nodes is up. Three control-plane
    /// nodes on one host all go down with that host, so the cluster is no more available
    /// than with one.
    ///
    /// ## Example
    /// ```plat
    /// host pve1 { ... }
    /// host pve2 { ... }
    /// vm cp-1 { host = host.pve1, ... }
    /// vm cp-2 { host = host.pve1, ... }
    /// ```
    ///
    /// ## How to fix
    /// Place the control-plane VMs on different hosts (`host = ...` from the node index).
    code = "check::control-plane-not-spread",
    severity = Warning,
}

/// Warns once per cluster whose control-plane VMs could be spread over more hosts.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    if model.hosts.len() < 2 {
        return;
    }
    let mut control_planes: BTreeMap<&str, Vec<&Vm>> = BTreeMap::new();
    for node in model.nodes.values() {
        if *node.role != Role::ControlPlane {
            continue;
        }
        if let Some(vm) = model.vms.get(node.vm.as_str()) {
            if model.hosts.contains_key(vm.host.as_str()) {
                control_planes
                    .entry(node.cluster.as_str())
                    .or_default()
                    .push(vm);
            }
        }
    }
    for (cluster, vms) in control_planes {
        check_cluster(model, cluster, &vms, out);
    }
}

fn check_cluster(model: &Model, cluster: &str, vms: &[&Vm], out: &mut Vec<Diagnostic>) {
    let mut first_on_host: BTreeMap<&str, &Vm> = BTreeMap::new();
    let mut shared: Option<(&Vm, &Vm)> = None;
    for &vm in vms {
        match first_on_host.get(vm.host.as_str()) {
            Some(&first) => shared = shared.or(Some((first, vm))),
            None => {
                first_on_host.insert(vm.host.as_str(), vm);
            }
        }
    }
    let possible = vms.len().min(model.hosts.len());
    let (Some((first, repeat)), true) = (shared, first_on_host.len() < possible) else {
        return;
    };
    let free = model
        .hosts
        .keys()
        .filter(|host| !first_on_host.contains_key(host.as_str()))
        .map(String::as_str);
    out.push(
        Diagnostic::warning(
            INFO.code,
            repeat.host.span,
            format!(
                "the {} control-plane nodes of cluster {cluster} run on {} of {} hosts",
                vms.len(),
                first_on_host.len(),
                model.hosts.len()
            ),
        )
        .with_label(format!(
            "vm {} shares host {} with vm {}",
            repeat.name, *repeat.host, first.name
        ))
        .with_secondary(
            first.host.span,
            format!("vm {} is on host {} too", first.name, *first.host),
        )
        .with_help(format!(
            "place vm {} on another host ({}), so that losing one host keeps the control plane up",
            repeat.name,
            name_list(free, 4)
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    fn with_second_host() -> Model {
        let mut model = fixture::small();
        let mut pve2 = model.hosts["pve1"].clone();
        pve2.name = "pve2".into();
        model.hosts.insert("pve2".into(), pve2);
        model
    }

    #[test]
    fn one_host_or_spread_control_planes_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
        let mut model = with_second_host();
        model.vms["cp-2"].host = at("pve2".into(), 1);
        assert!(run_check(check, &model).is_empty());
    }

    #[test]
    fn control_planes_on_one_of_two_hosts_warn() {
        let mut model = with_second_host();
        model.vms["cp-1"].host = at("pve1".into(), 1);
        model.vms["cp-2"].host = at("pve1".into(), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::control-plane-not-spread");
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "the 3 control-plane nodes of cluster main run on 1 of 2 hosts"
        );
        assert!(d.help.as_deref().unwrap().contains("(pve2)"));
    }

    #[test]
    fn workers_do_not_count() {
        let mut model = with_second_host();
        model.vms["cp-2"].host = at("pve2".into(), 1);
        model.vms["worker-1"].host = at("pve2".into(), 2);
        assert!(run_check(check, &model).is_empty());
    }
}

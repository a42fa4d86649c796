//! `check::unknown-bridge`: a VM NIC on a bridge its host does not declare. Tests below.

use plat_lang::diagnostic::{did_you_mean, Diagnostic};

use super::{declare_check, name_list, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a VM NIC whose `bridge` is not a key of its host's `bridges`.
    ///
    /// ## Why
    /// Proxmox cannot start a VM whose NIC names a bridge that `network/interfaces` does not
    /// create; the VM fails at boot with "bridge does not exist".
    ///
    /// ## Example
    /// ```plat
    /// host pve1 { ..., bridges = { vmbr0 = { ports = ["enp1s0"] } } }
    /// vm a { host = host.pve1, ..., nics = { net0 = { vlan = vlan.nodes, bridge = "vmbr1" } } }
    /// ```
    ///
    /// ## How to fix
    /// Use one of the host's bridges (the default is `vmbr0`), or declare the bridge in the
    /// host's `bridges`.
    code = "check::unknown-bridge",
    severity = Error,
}

/// Reports each NIC on an undeclared bridge, at the NIC's `bridge` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        let Some(host) = model.hosts.get(vm.host.as_str()) else {
            continue;
        };
        for (slot, nic) in vm.nics.iter() {
            let name = nic.bridge.as_str();
            if host.bridges.contains_key(name) {
                continue;
            }
            let known = host.bridges.keys().map(String::as_str);
            let help = match did_you_mean(name, known.clone()) {
                // Bridges differ by a digit (vmbr0, vmbr1): a new bridge is as likely as a typo.
                Some(near) => format!(
                    "did you mean `{near}`? Otherwise declare `{name}` in the `bridges` of host {}",
                    host.name
                ),
                None if host.bridges.is_empty() => {
                    format!("declare the bridge in the `bridges` of host {}", host.name)
                }
                None => format!(
                    "use one of the bridges of host {}: {}",
                    host.name,
                    name_list(known, 8)
                ),
            };
            out.push(
                Diagnostic::error(
                    INFO.code,
                    span_of(&nic.bridge, nic.span),
                    format!(
                        "nic {slot} of vm {} is on bridge `{name}`, which host {} does not have",
                        vm.name, host.name
                    ),
                )
                .with_label("unknown bridge")
                .with_secondary(
                    span_of(&host.bridges, host.span),
                    format!("bridges of host {} declared here", host.name),
                )
                .with_help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn declared_bridges_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn an_unknown_bridge_is_reported_at_the_nic_bridge() {
        let mut model = fixture::small();
        model.hosts["pve1"].bridges.span = span(1);
        model.vms["worker-1"].nics.value["net0"].bridge = at("vmbr1".into(), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::unknown-bridge");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `vmbr0`? Otherwise declare `vmbr1` in the `bridges` of host pve1")
        );
    }

    #[test]
    fn a_defaulted_bridge_points_at_the_nic() {
        let mut model = fixture::small();
        model.hosts["pve1"].bridges.value.clear();
        let nic = &mut model.vms["worker-1"].nics.value["net0"];
        nic.span = span(3);
        nic.bridge.from_default = true;
        let found = run_check(check, &model);
        let worker = found
            .iter()
            .find(|d| d.message.contains("worker-1"))
            .unwrap();
        assert_eq!(worker.span, span(3));
        assert_eq!(
            worker.help.as_deref(),
            Some("declare the bridge in the `bridges` of host pve1")
        );
    }
}

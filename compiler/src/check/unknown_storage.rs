//! `check::unknown-storage`: a VM disk on a storage pool its host does not declare. Tests
//! below.

use plat_lang::diagnostic::{did_you_mean, Diagnostic};

use super::{declare_check, name_list, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a VM disk, EFI vars disk (`efidisk`) or TPM state disk (`tpm`) whose `storage`
    /// is not a key of its host's `storage`.
    ///
    /// ## Why
    /// Proxmox refuses to start a VM whose disk names a storage the node does not have, and
    /// the capacity check cannot count a disk on an unknown pool.
    ///
    /// ## Example
    /// ```plat
    /// host pve1 { ..., storage = { local-lvm = { kind = "lvmthin", size = 900GiB } } }
    /// vm a { host = host.pve1, ..., disks = { scsi0 = { storage = "local-lvn", size = 40GiB } } }
    /// ```
    ///
    /// ## How to fix
    /// Use one of the host's storage names, or declare the pool in the host's `storage`.
    code = "check::unknown-storage",
    severity = Error,
}

/// Reports each disk on an undeclared storage, at the disk's `storage` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        let Some(host) = model.hosts.get(vm.host.as_str()) else {
            continue;
        };
        let disks = vm
            .disks
            .iter()
            .map(|(slot, disk)| (format!("disk {slot}"), &disk.storage));
        let efidisk = vm
            .efidisk
            .as_ref()
            .map(|e| ("efidisk".to_string(), &e.storage));
        let tpm = vm
            .tpm
            .as_ref()
            .map(|t| ("tpm disk".to_string(), &t.storage));
        for (what, storage) in disks.chain(efidisk).chain(tpm) {
            let name = storage.as_str();
            if host.storage.contains_key(name) {
                continue;
            }
            let known = host.storage.keys().map(String::as_str);
            let help = match did_you_mean(name, known.clone()) {
                Some(near) => format!("did you mean `{near}`?"),
                None if host.storage.is_empty() => {
                    format!("declare the pool in the `storage` of host {}", host.name)
                }
                None => format!(
                    "use one of the storage pools of host {}: {}",
                    host.name,
                    name_list(known, 8)
                ),
            };
            out.push(
                Diagnostic::error(
                    INFO.code,
                    storage.span,
                    format!(
                        "{what} of vm {} is on storage `{name}`, which host {} does not have",
                        vm.name, host.name
                    ),
                )
                .with_label("unknown storage")
                .with_secondary(
                    span_of(&host.storage, host.span),
                    format!("storage of host {} declared here", host.name),
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
    fn declared_storage_passes() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_misspelt_storage_gets_a_suggestion() {
        let mut model = fixture::small();
        model.hosts["pve1"].storage.span = span(1);
        model.vms["cp-3"].disks.value["scsi0"].storage = at("local-lvn".into(), 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::unknown-storage");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "disk scsi0 of vm cp-3 is on storage `local-lvn`, which host pve1 does not have"
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `local-lvm`?"));
    }

    #[test]
    fn a_far_name_lists_the_pools() {
        let mut model = fixture::small();
        model.vms["cp-3"].disks.value["scsi0"].storage = at("ceph".into(), 2);
        let found = run_check(check, &model);
        assert_eq!(
            found[0].help.as_deref(),
            Some("use one of the storage pools of host pve1: local-lvm")
        );
    }
}

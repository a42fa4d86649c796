//! `check::duplicate-vmid`: two VMs with the same Proxmox VM id. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, for_each_repeat};
use crate::model::{Model, Vm};

declare_check! {
    /// ## What it does
    /// Reports a VM whose `vmid` an earlier VM already has.
    ///
    /// ## Why
    /// Proxmox keys every VM by its id, cluster-wide: the second VM would overwrite the
    /// first one's `qemu-server/<vmid>.conf` and its disks' volume names.
    ///
    /// ## Example
    /// ```plat
    /// vm a { host = host.pve1, vmid = 101, memory = 2GiB, nics = {} }
    /// vm b { host = host.pve1, vmid = 101, memory = 2GiB, nics = {} }
    /// ```
    ///
    /// ## How to fix
    /// Give the second VM an unused id. Deriving ids from an index (`vmid = 200 + i`)
    /// keeps generated VMs apart.
    code = "check::duplicate-vmid",
    severity = Error,
}

/// Reports every VM after the first with a given VMID, at its `vmid` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let vms = model.vms.values().map(|vm| (*vm.vmid, vm));
    for_each_repeat(vms, |first: &&Vm, repeat: &&Vm| {
        out.push(
            Diagnostic::error(
                INFO.code,
                repeat.vmid.span,
                format!(
                    "vm {} has vmid {}, which vm {} already has",
                    repeat.name, *repeat.vmid, first.name
                ),
            )
            .with_label("duplicate vmid")
            .with_secondary(
                first.vmid.span,
                format!("first used here by vm {}", first.name),
            )
            .with_help("give each vm its own vmid, for example `vmid = 200 + index`"),
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
    fn distinct_vmids_pass() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn a_repeated_vmid_is_reported_at_the_second_vm() {
        let mut model = fixture::small();
        model.vms["cp-1"].vmid = at(201, 1);
        model.vms["worker-2"].vmid = at(201, 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::duplicate-vmid");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "vm worker-2 has vmid 201, which vm cp-1 already has"
        );
    }
}

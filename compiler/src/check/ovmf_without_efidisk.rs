//! `check::ovmf-without-efidisk`: a UEFI (`bios = "ovmf"`) VM without an EFI vars disk. Tests
//! below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a VM with `bios = "ovmf"` and no `efidisk`.
    ///
    /// ## Why
    /// Without an EFI vars disk, OVMF keeps its variables in memory: boot entries and Secure
    /// Boot keys are lost at every stop, and Proxmox warns at every start.
    ///
    /// ## Example
    /// ```plat
    /// vm a { ..., bios = "ovmf" }
    /// ```
    ///
    /// ## How to fix
    /// Add `efidisk = { storage = "local-lvm" }` (a storage of the VM's host), or use
    /// `bios = "seabios"`.
    code = "check::ovmf-without-efidisk",
    severity = Error,
}

/// Reports each OVMF VM without an EFI disk, at its `bios` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        if vm.bios.as_str() != "ovmf" || vm.efidisk.is_some() {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                span_of(&vm.bios, vm.span),
                format!("vm {} boots OVMF (UEFI) without an EFI vars disk", vm.name),
            )
            .with_label("needs an `efidisk`")
            .with_help("add `efidisk = { storage = \"...\" }` with a storage of the VM's host, or use `bios = \"seabios\"`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;

    #[test]
    fn seabios_without_efidisk_passes() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn ovmf_without_efidisk_is_reported_at_bios() {
        let mut model = fixture::small();
        model.vms["cp-1"].bios = at("ovmf".into(), 3);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "check::ovmf-without-efidisk");
        assert_eq!(found[0].span, span(3));
    }
}

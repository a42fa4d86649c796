//! `check::efidisk-without-ovmf`: an EFI vars disk on a VM that boots SeaBIOS. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a VM with an `efidisk` and `bios = "seabios"` (the default).
    ///
    /// ## Why
    /// SeaBIOS never reads the EFI vars disk: it is allocated for nothing, and the VM was most
    /// likely meant to boot UEFI (an image built for UEFI does not boot on SeaBIOS).
    ///
    /// ## Example
    /// ```plat
    /// vm a { ..., efidisk = { storage = "local-lvm" } }
    /// ```
    ///
    /// ## How to fix
    /// Set `bios = "ovmf"`, or remove the `efidisk`.
    code = "check::efidisk-without-ovmf",
    severity = Error,
}

/// Reports each SeaBIOS VM with an EFI disk, at its `efidisk` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        if vm.bios.as_str() != "seabios" || vm.efidisk.is_none() {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                vm.efidisk.span,
                format!("vm {} has an EFI vars disk but boots SeaBIOS", vm.name),
            )
            .with_label("unused by SeaBIOS")
            .with_secondary(span_of(&vm.bios, vm.span), "the VM's firmware")
            .with_help("set `bios = \"ovmf\"` to boot UEFI, or remove the `efidisk`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::{fixture, VmEfidisk};

    #[test]
    fn efidisk_on_seabios_is_reported_at_the_efidisk() {
        let mut model = fixture::small();
        let efidisk = VmEfidisk {
            storage: at("local-lvm".into(), 5),
            ..VmEfidisk::placeholder()
        };
        model.vms["cp-1"].efidisk = at(Some(efidisk.clone()), 4);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "check::efidisk-without-ovmf");
        assert_eq!(found[0].span, span(4));
        model.vms["cp-1"].bios = at("ovmf".into(), 3);
        assert!(run_check(check, &model).is_empty());
    }
}

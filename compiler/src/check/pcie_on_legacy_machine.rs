//! `check::pcie-on-legacy-machine`: a PCI Express passthrough device on an i440fx (legacy PCI) VM. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::{declare_check, span_of};
use crate::model::Model;

declare_check! {
    /// ## What it does
    /// Reports a `hostpci` device with `pcie = true` on a VM whose `machine` is `i440fx` (the
    /// default).
    ///
    /// ## Why
    /// The i440fx machine has no PCI Express bus: qemu-server refuses to start the VM
    /// ("q35 machine model is not enabled").
    ///
    /// ## Example
    /// ```plat
    /// vm a { ..., hostpci = { hostpci0 = { device = "0000:01:00.0", pcie = true } } }
    /// ```
    ///
    /// ## How to fix
    /// Set `machine = "q35"`, or pass the device on the PCI bus (`pcie = false`).
    code = "check::pcie-on-legacy-machine",
    severity = Error,
}

/// Reports each PCIe device of an i440fx VM, at the device's `pcie` field.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        if vm.machine.as_str() != "i440fx" {
            continue;
        }
        for (slot, device) in vm.hostpci.iter().filter(|(_, d)| *d.pcie) {
            out.push(
                Diagnostic::error(
                    INFO.code,
                    span_of(&device.pcie, device.span),
                    format!(
                        "{slot} of vm {} is a PCI Express device, but the VM's machine is i440fx",
                        vm.name
                    ),
                )
                .with_label("needs `machine = \"q35\"`")
                .with_secondary(span_of(&vm.machine, vm.span), "the VM's machine type")
                .with_help("set `machine = \"q35\"` on the VM, or `pcie = false` on the device"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::{fixture, VmHostpci};

    #[test]
    fn pcie_on_i440fx_is_reported_and_q35_passes() {
        let mut model = fixture::small();
        let device = VmHostpci {
            device: at("0000:01:00.0".into(), 6),
            pcie: at(true, 7),
            ..VmHostpci::placeholder()
        };
        model.vms["cp-1"]
            .hostpci
            .value
            .insert("hostpci0".into(), device);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "check::pcie-on-legacy-machine");
        assert_eq!(found[0].span, span(7));
        model.vms["cp-1"].machine = at("q35".into(), 3);
        assert!(run_check(check, &model).is_empty());
    }
}

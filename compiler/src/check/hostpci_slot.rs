//! `check::hostpci-slot`: a `hostpci` key that is not a Proxmox slot name. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::declare_check;
use crate::model::Model;

/// qemu-server's number of `hostpciN` keys (`src/PVE/QemuServer/PCI.pm`,
/// `$MAX_HOSTPCI_DEVICES = 16`).
const SLOTS: usize = 16;

declare_check! {
    /// ## What it does
    /// Reports a key of a VM's `hostpci` that is not `hostpci0` to `hostpci15`.
    ///
    /// ## Why
    /// Each key becomes a key of the VM's config; qemu-server knows only `hostpci0` to
    /// `hostpci15` and refuses the config with any other.
    ///
    /// ## Example
    /// ```plat
    /// vm a { ..., machine = "q35", hostpci = { gpu = { device = "0000:01:00.0" } } }
    /// ```
    ///
    /// ## How to fix
    /// Name the device by its slot: `hostpci0`, `hostpci1`, ... `hostpci15`.
    code = "check::hostpci-slot",
    severity = Error,
}

/// Reports each `hostpci` entry whose key is not a slot, at the entry.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for vm in model.vms.values() {
        for (slot, device) in vm.hostpci.iter() {
            if is_slot(slot) {
                continue;
            }
            out.push(
                Diagnostic::error(
                    INFO.code,
                    device.span,
                    format!("`{slot}` of vm {} is not a hostpci slot", vm.name),
                )
                .with_label("not hostpci0 to hostpci15")
                .with_help(format!(
                    "name passthrough devices by slot: hostpci0 to hostpci{}",
                    SLOTS - 1
                )),
            );
        }
    }
}

/// `hostpci0` to `hostpci15`, without leading zeros.
fn is_slot(key: &str) -> bool {
    key.strip_prefix("hostpci")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .filter(|n| n.len() == 1 || !n.starts_with('0'))
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n < SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::{fixture, VmHostpci};

    #[test]
    fn slot_names() {
        assert!(is_slot("hostpci0") && is_slot("hostpci15"));
        assert!(!is_slot("hostpci16") && !is_slot("hostpci01") && !is_slot("gpu"));
        assert!(!is_slot("hostpci") && !is_slot("hostpci+1"));
    }

    #[test]
    fn a_named_device_is_reported_at_its_entry() {
        let mut model = fixture::small();
        let device = VmHostpci {
            span: span(8),
            device: at("0000:01:00.0".into(), 6),
            ..VmHostpci::placeholder()
        };
        model.vms["cp-1"].hostpci.value.insert("gpu".into(), device);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "check::hostpci-slot");
        assert_eq!(found[0].span, span(8));
    }
}

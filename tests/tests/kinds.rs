//! The prelude is the single description of a kind: `plat explain` finds the fields behind a
//! VM config line through the emitter's field paths and the prelude's metadata, with no
//! hand-written table naming the field (`compiler/src/explain/proxmox.rs`).

use plat::explain::{explain, Explanation};
use plat::model::{fixture, At, VmEfidisk, VmHostpci};
use plat_lang::span::{FileId, Span};

/// `machine:`, `efidisk0:` and `hostpci0:` point at their prelude fields (a default in the
/// prelude, or the written value).
#[test]
fn new_vm_keys_point_at_their_fields() {
    let mut model = fixture::small();
    let written = Span::new(FileId(1), 10, 20);
    let vm = &mut model.vms["cp-1"];
    vm.machine = At::new("q35".into(), written);
    vm.bios.value = "ovmf".into();
    let mut efidisk = VmEfidisk::placeholder();
    efidisk.storage.value = "local-lvm".into();
    vm.efidisk = At::new(Some(efidisk), written);
    let mut device = VmHostpci::placeholder();
    device.device.value = "0000:01:00.0".into();
    vm.hostpci.value.insert("hostpci0".into(), device);
    let files = plat::emit::proxmox::emit(&model);
    let path = "proxmox/pve1/qemu-server/201.conf";
    let text = String::from_utf8_lossy(&files[path]).into_owned();
    let explained = |key: &str| {
        let number = text
            .lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .expect("key in the file");
        explain(&model, path, &text, Some(number + 1)).expect("explained")
    };
    let whats = |e: Explanation| -> Vec<(String, Option<String>)> {
        e.origins
            .into_iter()
            .map(|o| (o.what, o.default_of))
            .collect()
    };
    let machine = explained("machine");
    assert_eq!(machine.origins[0].span, written);
    assert_eq!(whats(machine), [("vm cp-1: machine".to_string(), None)]);
    assert_eq!(
        whats(explained("efidisk0")),
        [
            ("vm cp-1: efidisk".to_string(), None),
            ("vm cp-1: efidisk.storage".to_string(), None),
            (
                "vm cp-1: efidisk.pre_enrolled_keys".to_string(),
                Some("Vm.efidisk.pre_enrolled_keys".to_string())
            ),
        ]
    );
    assert_eq!(
        whats(explained("hostpci0")),
        [
            ("vm cp-1: hostpci.hostpci0".to_string(), None),
            ("vm cp-1: hostpci.hostpci0.device".to_string(), None),
            (
                "vm cp-1: hostpci.hostpci0.pcie".to_string(),
                Some("Vm.hostpci.pcie".to_string())
            ),
            (
                "vm cp-1: hostpci.hostpci0.rombar".to_string(),
                Some("Vm.hostpci.rombar".to_string())
            ),
        ]
    );
}

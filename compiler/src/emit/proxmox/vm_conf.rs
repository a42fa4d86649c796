//! `proxmox/<host>/qemu-server/<vmid>.conf`: one VM's qemu-server configuration, written as
//! qemu-server's `write_vm_config` (`src/PVE/QemuServer.pm`) writes it: the description as `#`
//! lines first, each percent-encoded like pve-common `src/PVE/ParseUtils.pm` `encode_text`,
//! then every key sorted, property strings in `print_property_string` order.
//!
//! Decisions:
//! - A config file cannot create a disk: `import-from` and the `STORAGE:SIZE` form exist only
//!   in the API schema (qemu-server `src/PVE/QemuServer/Drive.pm`, `$drivedesc_hash_with_alloc`
//!   versus `parse_vm_config`'s `$drivedesc_hash`; a file carrying them fails to parse). Each
//!   disk therefore names the volume PVE allocates for it ([`Pools::disk_volume`]), and the
//!   description carries the `qm` commands that create those volumes once, the first disk
//!   with `import-from=<image>` when the VM has an image.
//! - Cloud-init comes from plat's own files through `cicustom` snippets; the description states
//!   how `cloud-init/<vm>/{user-data,network-config,meta-data}` map to
//!   `snippets/<vmid>-{user,network,meta}.yaml` on the host's snippets storage. The `ipconfigN`
//!   keys repeat the addressing so PVE's GUI shows it (a custom network snippet wins in the
//!   guest).
//! - `ide2` is the cloud-init drive on the first disk's storage; PVE allocates it at start.
//! - No `meta` key: it would record a QEMU version and a creation time plat cannot know.
//! - `machine`, `bios` and `numa` are written only when they differ from qemu-server's own
//!   defaults (`src/PVE/QemuServer.pm` `$confdesc`: `bios` default `seabios`, `numa` default
//!   0; `machine` unset is the i440fx `pc` machine, and `i440fx` itself is no valid value of
//!   `src/PVE/QemuServer/Machine.pm` `$machine_fmt`), so configs without them stay as they were.
//! - `efidisk0` and `tpmstate0` are volumes like the disks: the config names the volume PVE
//!   allocates (after the VM's disks on the same storage) and the description carries the
//!   `qm set` that creates it (`STORAGE:1`, the allocation form of `src/PVE/QemuServer/Drive.pm`
//!   `$drivedesc_hash_with_alloc`, which a config file cannot carry). `efitype=4m` (the vars
//!   size Secure Boot needs; Drive.pm `%efitype_fmt`) and `pre-enrolled-keys`; a TPM is
//!   `version=v2.0` (Drive.pm `%tpmversion_fmt`, whose default is v1.2).
//! - `hostpciN`: the device address as the default key, `pcie=1` and `rombar=0` only when they
//!   differ from `src/PVE/QemuServer/PCI.pm` `$hostpci_fmt`'s defaults (pcie 0, rombar 1).
//!
//! Tests at the bottom.

use std::collections::{BTreeMap, BTreeSet};

use super::storage::{cloudinit_storage, snippets_storage, Pools};
use super::{format_size, notice, property_string};
use crate::model::{Bytes, Disk, Model, Nic, Vm};

/// The cloud-init files of a VM in plat's output (`cloud-init/<vm>/<file>`) and the snippet
/// each becomes: `snippets/<vmid>-<kind>.yaml`, given to `cicustom` as `<kind>=`.
const SNIPPETS: [(&str, &str); 3] = [
    ("user-data", "user"),
    ("network-config", "network"),
    ("meta-data", "meta"),
];

/// The text of `vm`'s config file.
pub(super) fn render(model: &Model, pools: &Pools, vm: &Vm) -> String {
    let mut text: String = description(model, pools, vm)
        .iter()
        .map(|line| format!("#{}\n", encode_text(line)))
        .collect();
    for (key, line) in keys(model, pools, vm) {
        text.push_str(&format!("{key}: {}\n", line.value));
    }
    text
}

/// One key of the config: its value, and what it is made from, for `plat explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The value written after `key: `.
    pub value: String,
    /// The fields it is made from, as paths: a VM field (`memory`, `disks.scsi0.size`,
    /// `nics.net0`), a field of the VM's host (`host:snippets_storage`) or of a VLAN
    /// (`vlan:nodes.id`). `plat explain` resolves them through the prelude's field metadata.
    pub fields: Vec<String>,
    /// For a value plat writes by itself, why.
    pub note: Option<&'static str>,
}

/// A key made from `fields`.
fn key(value: impl Into<String>, fields: &[&str]) -> Key {
    Key {
        value: value.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        note: None,
    }
}

/// A key plat writes by itself (`note` says why).
fn fixed(value: impl Into<String>, note: &'static str) -> Key {
    Key {
        value: value.into(),
        fields: Vec::new(),
        note: Some(note),
    }
}

const EVERY_VM: &str = "plat writes this value for every VM";
const DERIVED: &str = "derived from the VM's name (blake3), stable across builds";

/// Every key of the main section; the map's order is the order PVE writes.
pub(crate) fn keys(model: &Model, pools: &Pools, vm: &Vm) -> BTreeMap<String, Key> {
    let mut keys: BTreeMap<String, Key> = machine_keys(vm)
        .into_iter()
        .map(|(name, key)| (name.to_string(), key))
        .collect();
    keys.extend(device_keys(model, pools, vm));
    keys
}

/// The keys that describe the virtual machine itself.
fn machine_keys(vm: &Vm) -> Vec<(&'static str, Key)> {
    let vga = if vm.console.as_str() == "vga" {
        "std"
    } else {
        "serial0"
    };
    let mut keys = vec![
        ("agent", key(flag(*vm.agent), &["agent"])),
        ("cores", key(vm.cores.to_string(), &["cores"])),
        ("cpu", key(vm.cpu.value.clone(), &["cpu"])),
        (
            "memory",
            key(mebibytes(*vm.memory).to_string(), &["memory"]),
        ),
        ("name", key(vm.name.clone(), &[])),
        ("onboot", key(flag(*vm.onboot), &["onboot"])),
        ("ostype", key(vm.ostype.value.clone(), &["ostype"])),
        ("serial0", fixed("socket", EVERY_VM)),
        (
            "smbios1",
            fixed(format!("uuid={}", vm.smbios_uuid()), DERIVED),
        ),
        ("sockets", key(vm.sockets.to_string(), &["sockets"])),
        ("vga", key(vga, &["console"])),
        ("vmgenid", fixed(vm.vmgenid(), DERIVED)),
    ];
    if vm.machine.as_str() != "i440fx" {
        keys.push(("machine", key(vm.machine.value.clone(), &["machine"])));
    }
    if vm.bios.as_str() != "seabios" {
        keys.push(("bios", key(vm.bios.value.clone(), &["bios"])));
    }
    if *vm.numa {
        keys.push(("numa", key(flag(true), &["numa"])));
    }
    if let Some(balloon) = *vm.balloon {
        keys.push(("balloon", key(mebibytes(balloon).to_string(), &["balloon"])));
    }
    if let Some(startup) = vm.startup.as_ref() {
        let (order, up, down) = (*startup.order, *startup.up, *startup.down);
        let value = format!("order={order},up={up},down={down}");
        keys.push(("startup", key(value, &["startup"])));
    }
    keys.extend(tags(vm).map(|tags| ("tags", key(tags, &["tags"]))));
    keys
}

/// Disks, the cloud-init drive and its snippets, NICs with their addressing, boot order.
fn device_keys(model: &Model, pools: &Pools, vm: &Vm) -> Vec<(String, Key)> {
    let mut keys = vec![("scsihw".to_string(), fixed("virtio-scsi-single", EVERY_VM))];
    if let Some(iso) = vm.iso.as_ref() {
        keys.push((
            "ide0".to_string(),
            key(format!("{iso},media=cdrom"), &["iso"]),
        ));
    }
    if *vm.cloud_init {
        // The cloud-init drive lives on the first disk's storage, its snippets on the host's.
        let first_disk = vm
            .disks
            .keys()
            .next()
            .map(|slot| format!("disks.{slot}.storage"));
        let from: Vec<&str> = ["cloud_init", "host:snippets_storage"]
            .into_iter()
            .chain(first_disk.as_deref())
            .collect();
        let ci_volume = pools.cloudinit_volume(&cloudinit_storage(model, vm), *vm.vmid);
        keys.push((
            "ide2".to_string(),
            key(format!("{ci_volume},media=cdrom"), &from),
        ));
        keys.push(("cicustom".to_string(), key(cicustom(model, vm), &from)));
    }
    if let Some(boot) = boot_order(vm) {
        keys.push(("boot".to_string(), key(boot, &["disks", "nics"])));
    }
    for (slot, volume, disk) in volumes(pools, vm) {
        let options = drive_options(slot, disk, Some(format_size(*disk.size)));
        let fields = [
            format!("disks.{slot}"),
            format!("disks.{slot}.storage"),
            format!("disks.{slot}.size"),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        keys.push((
            slot.to_string(),
            key(property_string(Some(volume), &options), &fields),
        ));
    }
    for (slot, _, volume, options) in state_volumes(pools, vm) {
        let fields: &[&str] = match slot {
            "efidisk0" => &["efidisk", "efidisk.storage", "efidisk.pre_enrolled_keys"],
            _ => &["tpm", "tpm.storage"],
        };
        let value = property_string(Some(volume), &options);
        keys.push((slot.to_string(), key(value, fields)));
    }
    for (slot, device) in vm.hostpci.iter() {
        let mut options = Vec::new();
        if *device.pcie {
            options.push(("pcie", flag(true)));
        }
        if !*device.rombar {
            options.push(("rombar", flag(false)));
        }
        let fields = [
            format!("hostpci.{slot}"),
            format!("hostpci.{slot}.device"),
            format!("hostpci.{slot}.pcie"),
            format!("hostpci.{slot}.rombar"),
        ];
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let value = property_string(Some(device.device.value.clone()), &options);
        keys.push((slot.clone(), key(value, &fields)));
    }
    for (slot, nic) in vm.nics.iter() {
        let vlan = nic.vlan.as_ref().filter(|v| model.vlans.contains_key(*v));
        let mut fields = vec![
            format!("nics.{slot}"),
            format!("nics.{slot}.mac"),
            format!("nics.{slot}.bridge"),
            format!("nics.{slot}.vlan"),
        ];
        fields.extend(vlan.map(|v| format!("vlan:{v}.id")));
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        keys.push((slot.clone(), key(net(model, vm, slot, nic), &fields)));
        match slot.strip_prefix("net") {
            Some(index) if *vm.cloud_init => {
                let mut fields = vec![format!("nics.{slot}"), format!("nics.{slot}.address")];
                if let Some(v) = vlan {
                    fields.push(format!("vlan:{v}.subnet"));
                    fields.push(format!("vlan:{v}.gateway"));
                }
                let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                keys.push((
                    format!("ipconfig{index}"),
                    key(ipconfig(model, nic), &fields),
                ));
            }
            _ => {}
        }
    }
    keys
}

/// Each disk with the volume PVE allocates for it, numbered per storage in slot order.
fn volumes<'vm>(pools: &Pools, vm: &'vm Vm) -> Vec<(&'vm str, String, &'vm Disk)> {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    vm.disks
        .iter()
        .map(|(slot, disk)| {
            let index = used.entry(disk.storage.as_str()).or_default();
            let volume = pools.disk_volume(&disk.storage, *vm.vmid, *index);
            *index += 1;
            (slot.as_str(), volume, disk)
        })
        .collect()
}

/// The EFI vars and TPM state volumes (`efidisk0`, `tpmstate0`) with their options, numbered
/// on their storage after the VM's disks, in that order.
fn state_volumes<'vm>(pools: &Pools, vm: &'vm Vm) -> Vec<StateVolume<'vm>> {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for disk in vm.disks.values() {
        *used.entry(disk.storage.as_str()).or_default() += 1;
    }
    let mut next = |storage: &'vm str| {
        let index = used.entry(storage).or_default();
        *index += 1;
        pools.disk_volume(storage, *vm.vmid, *index - 1)
    };
    let mut volumes = Vec::new();
    if let Some(efidisk) = vm.efidisk.as_ref() {
        let options = vec![
            ("efitype", "4m".to_string()),
            ("pre-enrolled-keys", flag(*efidisk.pre_enrolled_keys)),
        ];
        let volume = next(efidisk.storage.as_str());
        volumes.push(("efidisk0", efidisk.storage.as_str(), volume, options));
    }
    if let Some(tpm) = vm.tpm.as_ref() {
        let options = vec![("version", "v2.0".to_string())];
        let volume = next(tpm.storage.as_str());
        volumes.push(("tpmstate0", tpm.storage.as_str(), volume, options));
    }
    volumes
}

/// A state volume: its key, storage, volume and options.
type StateVolume<'vm> = (&'static str, &'vm str, String, Vec<(&'static str, String)>);

/// The options of a drive on `slot`'s bus: `iothread` only where qemu-server honours it
/// (SCSI on `virtio-scsi-single`, VirtIO), `ssd` only where the format has it (not VirtIO).
fn drive_options(slot: &str, disk: &Disk, size: Option<String>) -> Vec<(&'static str, String)> {
    let bus = slot.trim_end_matches(|c: char| c.is_ascii_digit());
    let mut options = Vec::new();
    if *disk.discard {
        options.push(("discard", "on".to_string()));
    }
    if bus == "scsi" || bus == "virtio" {
        options.push(("iothread", "1".to_string()));
    }
    if *disk.ssd && bus != "virtio" {
        options.push(("ssd", "1".to_string()));
    }
    if let Some(size) = size {
        options.push(("size", size));
    }
    options
}

/// `netN`: model and MAC combined as PVE prints them (`virtio=BC:24:11:..`), bridge, VLAN tag.
fn net(model: &Model, vm: &Vm, slot: &str, nic: &Nic) -> String {
    let mac = crate::model::ids::nic_mac(&vm.name, slot, nic);
    let mac: Vec<String> = mac.iter().map(|byte| format!("{byte:02X}")).collect();
    let mut options = vec![("bridge", nic.bridge.value.clone())];
    if *nic.firewall {
        options.push(("firewall", "1".to_string()));
    }
    if let Some(vlan) = nic.vlan.as_ref().and_then(|name| model.vlans.get(name)) {
        options.push(("tag", vlan.id.to_string()));
    }
    property_string(Some(format!("virtio={}", mac.join(":"))), &options)
}

/// `ipconfigN`: the static address with its VLAN's prefix and gateway, or `ip=dhcp`.
fn ipconfig(model: &Model, nic: &Nic) -> String {
    let vlan = nic.vlan.as_ref().and_then(|name| model.vlans.get(name));
    let Some(address) = *nic.address else {
        return "ip=dhcp".to_string();
    };
    let (ip, gw) = if address.is_ipv4() {
        ("ip", "gw")
    } else {
        ("ip6", "gw6")
    };
    let prefix = vlan.map_or(if address.is_ipv4() { 32 } else { 128 }, |v| {
        v.subnet.prefix
    });
    let mut options = vec![(ip, format!("{address}/{prefix}"))];
    if let Some(gateway) = vlan.map(|v| *v.gateway) {
        if gateway.is_ipv4() == address.is_ipv4() {
            options.push((gw, gateway.to_string()));
        }
    }
    property_string(None, &options)
}

/// `cicustom`: the three snippets on the host's snippets storage.
fn cicustom(model: &Model, vm: &Vm) -> String {
    let storage = snippets_storage(model, vm);
    let options: Vec<(&str, String)> = SNIPPETS
        .iter()
        .map(|(_, kind)| (*kind, format!("{storage}:{}", snippet(vm, kind))))
        .collect();
    property_string(None, &options)
}

fn snippet(vm: &Vm, kind: &str) -> String {
    format!("snippets/{}-{kind}.yaml", *vm.vmid)
}

/// `boot: order=...`: the disks, then the NICs (network boot as the fallback).
fn boot_order(vm: &Vm) -> Option<String> {
    let cdrom = vm.iso.is_some().then_some("ide0");
    let devices: Vec<&str> = vm
        .disks
        .keys()
        .map(String::as_str)
        .chain(cdrom)
        .chain(vm.nics.keys().map(String::as_str))
        .collect();
    (!devices.is_empty()).then(|| format!("order={}", devices.join(";")))
}

/// `tags`: lower-cased, sorted, without duplicates, `;`-separated, as PVE's API stores them
/// (pve-guest-common `src/PVE/GuestHelpers.pm` `get_unique_tags`, default tag-style).
fn tags(vm: &Vm) -> Option<String> {
    let tags: BTreeSet<String> = vm.tags.iter().map(|t| t.to_lowercase()).collect();
    (!tags.is_empty()).then(|| tags.into_iter().collect::<Vec<_>>().join(";"))
}

/// The description: the generated-file notice, the VM's own description, the snippet mapping
/// and the disk-creation commands, one entry per line.
fn description(model: &Model, pools: &Pools, vm: &Vm) -> Vec<String> {
    let mut lines = vec![notice()];
    let own = vm.description.trim_end();
    if !own.is_empty() {
        lines.push(String::new());
        lines.extend(own.lines().map(str::to_string));
    }
    if *vm.cloud_init {
        lines.push(String::new());
        lines.push(format!(
            "Cloud-init snippets on storage {}, copied from cloud-init/{}/ of the plat output",
            snippets_storage(model, vm),
            vm.name
        ));
        lines.push(String::new());
        for (file, kind) in SNIPPETS {
            lines.push(format!("    {file:<14} -> {}", snippet(vm, kind)));
        }
    }
    let commands = disk_commands(pools, vm);
    if !commands.is_empty() {
        lines.push(String::new());
        lines.push("Disks, created once before the first start with".to_string());
        lines.push(String::new());
        lines.extend(commands.into_iter().map(|command| format!("    {command}")));
    }
    lines
}

/// The `qm` commands that allocate the VM's disks with the names this file uses: the first
/// disk imports the VM's image (`STORAGE:0,import-from=...`, then grows to its size), other
/// disks are allocated at their size (`STORAGE:SIZE_IN_GiB`). `format=raw` pins the format
/// the volume names assume.
fn disk_commands(pools: &Pools, vm: &Vm) -> Vec<String> {
    let vmid = *vm.vmid;
    let mut commands = Vec::new();
    for (position, (slot, _, disk)) in volumes(pools, vm).into_iter().enumerate() {
        let mut options = drive_options(slot, disk, None);
        options.push(("format", "raw".to_string()));
        let image = vm.image.as_ref().filter(|_| position == 0);
        let allocation = match image {
            Some(image) => {
                options.push(("import-from", image.clone()));
                format!("{}:0", *disk.storage)
            }
            None => format!("{}:{}", *disk.storage, gibibytes(*disk.size)),
        };
        let drive = property_string(Some(allocation), &options);
        commands.push(format!("qm set {vmid} --{slot} {drive}"));
        if image.is_some() {
            let size = format_size(*disk.size);
            commands.push(format!("qm disk resize {vmid} {slot} {size}"));
        }
    }
    for (slot, storage, _, mut options) in state_volumes(pools, vm) {
        if slot == "efidisk0" {
            options.push(("format", "raw".to_string()));
        }
        let drive = property_string(Some(format!("{storage}:1")), &options);
        commands.push(format!("qm set {vmid} --{slot} {drive}"));
    }
    commands
}

fn flag(value: bool) -> String {
    if value { "1" } else { "0" }.to_string()
}

/// Whole MiB, rounded up so a VM never gets less than declared.
fn mebibytes(bytes: Bytes) -> Bytes {
    (bytes + (1 << 20) - 1) >> 20
}

/// A size in GiB as an exact decimal (the API's `STORAGE:SIZE_IN_GiB` takes a fraction).
fn gibibytes(bytes: Bytes) -> String {
    const GIB: Bytes = 1 << 30;
    let mut text = (bytes / GIB).to_string();
    let mut rest = bytes % GIB;
    if rest != 0 {
        text.push('.');
    }
    while rest != 0 {
        rest *= 10;
        text.push(char::from(b'0' + (rest / GIB) as u8));
        rest %= GIB;
    }
    text
}

/// One description line as PVE writes it: control and non-ASCII bytes, `:` and `%`
/// percent-encoded (pve-common `src/PVE/ParseUtils.pm` `encode_text`).
fn encode_text(line: &str) -> String {
    line.bytes()
        .map(|byte| match byte {
            0x20..=0x24 | 0x26..=0x39 | 0x3b..=0x7e => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{fixture, At, Startup};

    fn conf(model: &Model, vm: &str) -> String {
        render(model, &Pools::resolve(model), &model.vms[vm])
    }

    fn line<'a>(text: &'a str, key: &str) -> &'a str {
        let prefix = format!("{key}: ");
        text.lines()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
    }

    #[test]
    fn memory_is_whole_mebibytes() {
        let model = fixture::small();
        assert_eq!(line(&conf(&model, "cp-1"), "memory"), "memory: 4096");
        assert_eq!(line(&conf(&model, "worker-1"), "memory"), "memory: 8192");
    }

    #[test]
    fn net0_has_uppercase_derived_mac_bridge_and_tag() {
        let model = fixture::small();
        let mac = crate::model::ids::mac("cp-1", "net0");
        let expected = format!(
            "net0: virtio={:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X},bridge=vmbr0,tag=20",
            mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
        );
        let text = conf(&model, "cp-1");
        assert_eq!(line(&text, "net0"), expected);
        assert!(line(&text, "net0").starts_with("net0: virtio=BC:24:11:"));
    }

    #[test]
    fn firewall_flag_is_written_when_set() {
        let mut model = fixture::small();
        model.vms["cp-1"].nics.value["net0"].firewall.value = true;
        assert!(line(&conf(&model, "cp-1"), "net0").ends_with(",bridge=vmbr0,firewall=1,tag=20"));
    }

    #[test]
    fn cicustom_points_at_the_vmid_snippets_on_the_snippets_storage() {
        let model = fixture::small();
        assert_eq!(
            line(&conf(&model, "cp-2"), "cicustom"),
            "cicustom: meta=local:snippets/202-meta.yaml,network=local:snippets/202-network.yaml,user=local:snippets/202-user.yaml"
        );
    }

    #[test]
    fn disks_cloudinit_and_boot() {
        let text = conf(&fixture::small(), "worker-1");
        assert_eq!(
            line(&text, "scsi0"),
            "scsi0: local-lvm:vm-211-disk-0,discard=on,iothread=1,size=100G,ssd=1"
        );
        assert_eq!(
            line(&text, "ide2"),
            "ide2: local-lvm:vm-211-cloudinit,media=cdrom"
        );
        assert_eq!(line(&text, "boot"), "boot: order=scsi0;net0");
        assert_eq!(line(&text, "scsihw"), "scsihw: virtio-scsi-single");
    }

    #[test]
    fn ipconfig_matches_the_static_address_or_uses_dhcp() {
        let mut model = fixture::small();
        assert_eq!(
            line(&conf(&model, "cp-1"), "ipconfig0"),
            "ipconfig0: gw=10.20.0.1,ip=10.20.0.11/24"
        );
        model.vms["cp-1"].nics.value["net0"].address.value = None;
        assert_eq!(
            line(&conf(&model, "cp-1"), "ipconfig0"),
            "ipconfig0: ip=dhcp"
        );
    }

    #[test]
    fn identity_lines() {
        let model = fixture::small();
        let text = conf(&model, "cp-3");
        let vm = &model.vms["cp-3"];
        assert_eq!(
            line(&text, "smbios1"),
            format!("smbios1: uuid={}", vm.smbios_uuid())
        );
        assert_eq!(line(&text, "vmgenid"), format!("vmgenid: {}", vm.vmgenid()));
        assert_eq!(line(&text, "name"), "name: cp-3");
        assert_eq!(line(&text, "tags"), "tags: control-plane;k8s");
        assert_eq!(line(&text, "serial0"), "serial0: socket");
        assert_eq!(line(&text, "vga"), "vga: serial0");
        assert_eq!(line(&text, "ostype"), "ostype: l26");
        assert_eq!(line(&text, "agent"), "agent: 1");
        assert_eq!(line(&text, "onboot"), "onboot: 1");
        assert!(!text.contains("\nstartup: "));
    }

    #[test]
    fn startup_and_tags_normalised() {
        let mut model = fixture::small();
        let vm = &mut model.vms["cp-1"];
        vm.startup.value = Some(Startup {
            span: Default::default(),
            order: At::new(2, Default::default()),
            up: At::new(30, Default::default()),
            down: At::new(180, Default::default()),
        });
        vm.tags.value = vec!["Zeta".into(), "alpha".into(), "zeta".into()];
        let text = conf(&model, "cp-1");
        assert_eq!(line(&text, "startup"), "startup: order=2,up=30,down=180");
        assert_eq!(line(&text, "tags"), "tags: alpha;zeta");
    }

    #[test]
    fn keys_are_sorted_after_the_description() {
        let text = conf(&fixture::small(), "cp-1");
        let keys: Vec<&str> = text
            .lines()
            .skip_while(|line| line.starts_with('#'))
            .map(|line| line.split_once(": ").expect("key: value").0)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        assert_eq!(
            keys,
            [
                "agent",
                "boot",
                "cicustom",
                "cores",
                "cpu",
                "ide2",
                "ipconfig0",
                "memory",
                "name",
                "net0",
                "onboot",
                "ostype",
                "scsi0",
                "scsihw",
                "serial0",
                "smbios1",
                "sockets",
                "tags",
                "vga",
                "vmgenid"
            ]
        );
    }

    #[test]
    fn description_is_encoded_and_carries_mapping_and_disk_commands() {
        let mut model = fixture::small();
        model.vms["cp-1"].description.value = "Control plane: 100% ours\nsecond line é".into();
        let text = conf(&model, "cp-1");
        let description: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert_eq!(
            description,
            [
                "#Generated by plat, do not edit; regenerate with plat build.",
                "#",
                "#Control plane%3A 100%25 ours",
                "#second line %C3%A9",
                "#",
                "#Cloud-init snippets on storage local, copied from cloud-init/cp-1/ of the plat output",
                "#",
                "#    user-data      -> snippets/201-user.yaml",
                "#    network-config -> snippets/201-network.yaml",
                "#    meta-data      -> snippets/201-meta.yaml",
                "#",
                "#Disks, created once before the first start with",
                "#",
                "#    qm set 201 --scsi0 local-lvm%3A0,discard=on,format=raw,import-from=local%3Aimport/debian-12-genericcloud-amd64.qcow2,iothread=1,ssd=1",
                "#    qm disk resize 201 scsi0 40G",
            ]
        );
    }

    #[test]
    fn further_disks_are_allocated_at_their_size_and_numbered_per_storage() {
        let mut model = fixture::small();
        let vm = &mut model.vms["cp-1"];
        let mut data = vm.disks["scsi0"].clone();
        data.size.value = 1536 << 20;
        vm.disks.value.insert("virtio1".into(), data);
        let text = conf(&model, "cp-1");
        assert_eq!(
            line(&text, "virtio1"),
            "virtio1: local-lvm:vm-201-disk-1,discard=on,iothread=1,size=1536M"
        );
        assert!(
            text.contains(
                "#    qm set 201 --virtio1 local-lvm%3A1.5,discard=on,format=raw,iothread=1\n"
            ),
            "{text}"
        );
        assert_eq!(line(&text, "boot"), "boot: order=scsi0;virtio1;net0");
    }

    #[test]
    fn without_image_the_first_disk_is_allocated_empty() {
        let mut model = fixture::small();
        model.vms["cp-1"].image.value = None;
        let text = conf(&model, "cp-1");
        assert!(
            text.contains(
                "#    qm set 201 --scsi0 local-lvm%3A40,discard=on,format=raw,iothread=1,ssd=1\n"
            ),
            "{text}"
        );
        assert!(!text.contains("resize"));
    }

    #[test]
    fn sizes_in_gib() {
        assert_eq!(gibibytes(40 << 30), "40");
        assert_eq!(gibibytes(3 << 29), "1.5");
        assert_eq!(gibibytes(1 << 20), "0.0009765625");
        assert_eq!(mebibytes((1 << 20) + 1), 2);
    }
}

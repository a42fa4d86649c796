//! Explaining Proxmox files (`emit/proxmox.rs`): a `qemu-server/<vmid>.conf` key by key
//! (`emit/proxmox/vm_conf.rs` writes them), `network/interfaces` as its host,
//! `storage.cfg` as the hosts' storage declarations.

use super::{entity, field, owned_by, Explanation, Line, Origin};
use crate::model::{Host, Model, Vm};

/// `rest` is the path after `proxmox/`.
pub(super) fn explain(model: &Model, rest: &str, line: Option<Line>) -> Option<Explanation> {
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["storage.cfg"] => storage(model, line),
        [host, "network", "interfaces"] => {
            let host = model.hosts.get(*host)?;
            let mut explanation = owned_by(format!("host {}", host.name), host.span);
            if let Some(origins) = line.map(|l| interfaces_line(model, host, l)) {
                if !origins.is_empty() {
                    explanation.origins = origins;
                }
            }
            Some(explanation)
        }
        [host, "qemu-server", conf] => {
            let vmid: u32 = conf.strip_suffix(".conf")?.parse().ok()?;
            let vm = model
                .vms
                .values()
                .find(|vm| *vm.host == *host && *vm.vmid == vmid)?;
            Some(match line {
                Some(line) => vm_line(model, vm, line),
                None => owned_by(format!("vm {}", vm.name), vm.span),
            })
        }
        _ => None,
    }
}

/// A line of `network/interfaces` (`interfaces.rs`): the management address and its VLAN's
/// gateway, or the bridges.
fn interfaces_line(model: &Model, host: &Host, line: Line) -> Vec<Origin> {
    let h = |f: &str| format!("host {}: {f}", host.name);
    let first = line.text.split_whitespace().next().unwrap_or_default();
    let vlan = model.vlans.get(&*host.vlan);
    match first {
        "address" => vec![
            field(h("address"), "Host.address", &host.address),
            field(h("vlan"), "Host.vlan", &host.vlan),
        ],
        "gateway" => match vlan {
            Some(vlan) => vec![field(
                format!("vlan {}: gateway", vlan.name),
                "Vlan.gateway",
                &vlan.gateway,
            )],
            None => Vec::new(),
        },
        _ if first.starts_with("bridge") || line.text.contains("vmbr") => {
            vec![field(h("bridges"), "Host.bridges", &host.bridges)]
        }
        _ => Vec::new(),
    }
}

/// `storage.cfg`: a pool's section (`type: name` and its indented options) comes from the
/// hosts that declare that pool.
fn storage(model: &Model, line: Option<Line>) -> Option<Explanation> {
    let section = line.and_then(|line| {
        let above: Vec<&str> = line.file.lines().take(line.number).collect();
        let header = above
            .iter()
            .rev()
            .take_while(|l| !l.is_empty())
            .find(|l| !l.starts_with(char::is_whitespace) && !l.starts_with('#'))?;
        let (_, name) = header.split_once(": ")?;
        Some(name.trim().to_string())
    });
    let mut origins = Vec::new();
    for host in model.hosts.values() {
        match &section {
            Some(pool) => {
                if let Some(storage) = host.storage.get(pool) {
                    let what = format!("host {}: storage {pool}", host.name);
                    origins.push(entity(what, storage.span));
                }
            }
            None => origins.push(field(
                format!("host {}: storage", host.name),
                "Host.storage",
                &host.storage,
            )),
        }
    }
    // A pool no host declares is the snippets storage plat adds (`local` on a stock install).
    if origins.is_empty() {
        for host in model.hosts.values() {
            origins.push(field(
                format!("host {}: snippets_storage", host.name),
                "Host.snippets_storage",
                &host.snippets_storage,
            ));
        }
    }
    (!origins.is_empty()).then(|| Explanation {
        owner: "the hosts' storage".to_string(),
        origins,
        note: None,
    })
}

/// One line of a VM config: the description (`#` lines) or a key.
fn vm_line(model: &Model, vm: &Vm, line: Line) -> Explanation {
    let owner = format!("vm {}", vm.name);
    let key = if line.text.starts_with('#') {
        None
    } else {
        line.key()
    };
    let (origins, note) = match key {
        Some(key) => vm_key(model, vm, key),
        None => description(vm, line.text),
    };
    let origins = if origins.is_empty() {
        vec![entity(owner.clone(), vm.span)]
    } else {
        origins
    };
    Explanation {
        owner,
        origins,
        note: note.map(str::to_string),
    }
}

/// The fields behind one key of the config, as `vm_conf::keys` computes them.
fn vm_key(model: &Model, vm: &Vm, key: &str) -> (Vec<Origin>, Option<&'static str>) {
    let at = |name: &str| format!("vm {}: {name}", vm.name);
    let declared = || vec![entity(format!("vm {}", vm.name), vm.span)];
    let origins = match key {
        "agent" => vec![field(at("agent"), "Vm.agent", &vm.agent)],
        "cores" => vec![field(at("cores"), "Vm.cores", &vm.cores)],
        "cpu" => vec![field(at("cpu"), "Vm.cpu", &vm.cpu)],
        "memory" => vec![field(at("memory"), "Vm.memory", &vm.memory)],
        "onboot" => vec![field(at("onboot"), "Vm.onboot", &vm.onboot)],
        "sockets" => vec![field(at("sockets"), "Vm.sockets", &vm.sockets)],
        "startup" => vec![field(at("startup"), "Vm.startup", &vm.startup)],
        "tags" => vec![field(at("tags"), "Vm.tags", &vm.tags)],
        "name" => declared(),
        "boot" => vec![
            field(at("disks"), "Vm.disks", &vm.disks),
            field(at("nics"), "Vm.nics", &vm.nics),
        ],
        "cicustom" | "ide2" => cloud_init(model, vm),
        "smbios1" | "vmgenid" => {
            return (
                declared(),
                Some("derived from the VM's name (blake3), stable across builds"),
            )
        }
        "ostype" | "serial0" | "vga" | "scsihw" => {
            return (declared(), Some("plat writes this value for every VM"))
        }
        slot => device(model, vm, slot),
    };
    (origins, None)
}

/// `cicustom` and `ide2`: the VM's `cloud_init` switch, the host's snippets storage and the
/// storage of the first disk (where the cloud-init drive lives).
fn cloud_init(model: &Model, vm: &Vm) -> Vec<Origin> {
    let mut origins = vec![field(
        format!("vm {}: cloud_init", vm.name),
        "Vm.cloud_init",
        &vm.cloud_init,
    )];
    if let Some(host) = model.hosts.get(&*vm.host) {
        origins.push(field(
            format!("host {}: snippets_storage", host.name),
            "Host.snippets_storage",
            &host.snippets_storage,
        ));
    }
    if let Some((slot, disk)) = vm.disks.first() {
        let what = format!("vm {}: disks.{slot}.storage", vm.name);
        origins.push(field(what, "Disk.storage", &disk.storage));
    }
    origins
}

/// A disk slot (`scsi0`), a NIC (`net0`) or its addressing (`ipconfig0`).
fn device(model: &Model, vm: &Vm, key: &str) -> Vec<Origin> {
    let name = &vm.name;
    if let Some(disk) = vm.disks.get(key) {
        return vec![
            entity(format!("vm {name}: disks.{key}"), disk.span),
            field(
                format!("vm {name}: disks.{key}.storage"),
                "Disk.storage",
                &disk.storage,
            ),
            field(
                format!("vm {name}: disks.{key}.size"),
                "Disk.size",
                &disk.size,
            ),
        ];
    }
    let slot = match key.strip_prefix("ipconfig") {
        Some(index) => format!("net{index}"),
        None => key.to_string(),
    };
    let Some(nic) = vm.nics.get(&slot) else {
        return Vec::new();
    };
    let vlan = nic.vlan.as_ref().and_then(|v| model.vlans.get(v));
    let mut origins = vec![entity(format!("vm {name}: nics.{slot}"), nic.span)];
    if key.starts_with("ipconfig") {
        origins.push(field(
            format!("vm {name}: nics.{slot}.address"),
            "Nic.address",
            &nic.address,
        ));
        if let Some(vlan) = vlan {
            let v = &vlan.name;
            origins.push(field(
                format!("vlan {v}: subnet"),
                "Vlan.subnet",
                &vlan.subnet,
            ));
            origins.push(field(
                format!("vlan {v}: gateway"),
                "Vlan.gateway",
                &vlan.gateway,
            ));
        }
    } else {
        origins.push(field(
            format!("vm {name}: nics.{slot}.mac"),
            "Nic.mac",
            &nic.mac,
        ));
        origins.push(field(
            format!("vm {name}: nics.{slot}.bridge"),
            "Nic.bridge",
            &nic.bridge,
        ));
        origins.push(field(
            format!("vm {name}: nics.{slot}.vlan"),
            "Nic.vlan",
            &nic.vlan,
        ));
        if let Some(vlan) = vlan {
            origins.push(field(
                format!("vlan {}: id", vlan.name),
                "Vlan.id",
                &vlan.id,
            ));
        }
    }
    origins
}

/// A description line: the VM's own description, or a part plat writes (notice, snippet
/// mapping, disk commands).
fn description(vm: &Vm, text: &str) -> (Vec<Origin>, Option<&'static str>) {
    let decoded = decode_text(text.trim_start_matches('#'));
    let at = |name: &str| format!("vm {}: {name}", vm.name);
    if !decoded.trim().is_empty() && vm.description.lines().any(|l| l == decoded) {
        return (
            vec![field(at("description"), "Vm.description", &vm.description)],
            None,
        );
    }
    if decoded.trim_start().starts_with("qm ") {
        return (
            vec![
                field(at("disks"), "Vm.disks", &vm.disks),
                field(at("image"), "Vm.image", &vm.image),
            ],
            Some("the command that creates the disk once, before the first start"),
        );
    }
    (
        vec![entity(format!("vm {}", vm.name), vm.span)],
        Some("part of the description plat writes for every VM"),
    )
}

/// Reverses the percent-encoding of description lines (`%3A` → `:`).
fn decode_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::proxmox;
    use crate::model::fixture;

    fn explain_key(key: &str) -> Explanation {
        let model = fixture::small();
        let files = proxmox::emit(&model);
        let path = "proxmox/pve1/qemu-server/201.conf";
        let text = String::from_utf8_lossy(&files[path]).into_owned();
        let number = text
            .lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .expect("key in the file");
        crate::explain::explain(&model, path, &text, Some(number + 1)).expect("explained")
    }

    #[test]
    fn every_key_of_a_vm_config_is_explained() {
        let model = fixture::small();
        let files = proxmox::emit(&model);
        let path = "proxmox/pve1/qemu-server/201.conf";
        let text = String::from_utf8_lossy(&files[path]).into_owned();
        for (number, line) in text.lines().enumerate() {
            let explanation = crate::explain::explain(&model, path, &text, Some(number + 1));
            let explanation = explanation.expect("every line");
            assert_eq!(explanation.owner, "vm cp-1");
            assert!(!explanation.origins.is_empty(), "{line}");
        }
    }

    #[test]
    fn memory_points_at_the_memory_field() {
        let model = fixture::small();
        let explanation = explain_key("memory");
        assert_eq!(explanation.origins.len(), 1);
        assert_eq!(explanation.origins[0].what, "vm cp-1: memory");
        assert_eq!(explanation.origins[0].span, model.vms["cp-1"].memory.span);
    }

    #[test]
    fn a_nic_names_its_vlan_tag() {
        let whats: Vec<String> = explain_key("net0")
            .origins
            .into_iter()
            .map(|o| o.what)
            .collect();
        assert!(whats.contains(&"vlan nodes: id".to_string()), "{whats:?}");
    }

    #[test]
    fn storage_options_belong_to_their_section() {
        let model = fixture::small();
        let text = "# header\n\nlvmthin: local-lvm\n\tthinpool data\n";
        let explanation = crate::explain::explain(&model, "proxmox/storage.cfg", text, Some(4));
        let whats: Vec<String> = explanation
            .expect("explained")
            .origins
            .into_iter()
            .map(|o| o.what)
            .collect();
        assert_eq!(whats, ["host pve1: storage local-lvm"]);
    }

    #[test]
    fn description_lines_decode() {
        assert_eq!(decode_text("tank%3A0,a%25b"), "tank:0,a%b");
    }
}

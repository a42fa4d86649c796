//! Explaining Proxmox files (`emit/proxmox.rs`): a `qemu-server/<vmid>.conf` key by key
//! (`emit/proxmox/vm_conf.rs` writes them), `network/interfaces` as its host,
//! `storage.cfg` as the hosts' storage declarations.

use plat_lang::span::Span;

use super::{entity, field, owned_by, Explanation, Line, Origin};
use crate::emit::proxmox;
use crate::model::{At, FieldValue, Host, Model, Visit, Vm};

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

/// The fields behind one key of the config: those `vm_conf::keys` names beside the key it
/// writes, resolved to spans through the prelude's field metadata (`model::Visit`); no table
/// here names a VM field.
fn vm_key(model: &Model, vm: &Vm, key: &str) -> (Vec<Origin>, Option<&'static str>) {
    let keys = proxmox::vm_keys(model, vm);
    let Some(line) = keys.get(key) else {
        return (Vec::new(), None);
    };
    let origins = line
        .fields
        .iter()
        .filter_map(|path| origin(model, vm, path))
        .collect();
    (origins, line.note)
}

/// The origin of one field path of a VM config key (`vm_conf::Key::fields`).
fn origin(model: &Model, vm: &Vm, path: &str) -> Option<Origin> {
    if let Some(name) = path.strip_prefix("host:") {
        let host = model.hosts.get(&*vm.host)?;
        return other_entity(
            format!("host {}", host.name),
            "Host",
            name,
            |name| match name {
                "snippets_storage" => Some(&host.snippets_storage),
                _ => None,
            },
        );
    }
    if let Some(rest) = path.strip_prefix("vlan:") {
        let (vlan, name) = rest.split_once('.')?;
        let vlan = model.vlans.get(vlan)?;
        let what = format!("vlan {}", vlan.name);
        return match name {
            "id" => Some(field(format!("{what}: id"), "Vlan.id", &vlan.id)),
            "subnet" => Some(field(
                format!("{what}: subnet"),
                "Vlan.subnet",
                &vlan.subnet,
            )),
            "gateway" => Some(field(
                format!("{what}: gateway"),
                "Vlan.gateway",
                &vlan.gateway,
            )),
            _ => None,
        };
    }
    let parts: Vec<&str> = path.split('.').collect();
    let (span, default_of) = locate(vm, &parts)?;
    Some(Origin {
        what: format!("vm {}: {path}", vm.name),
        span,
        default_of,
    })
}

/// A field of an entity whose kind is not generated from the prelude yet (`Host`): the few
/// the VM config uses.
fn other_entity<'a>(
    owner: String,
    ty: &str,
    name: &str,
    get: impl Fn(&str) -> Option<&'a At<String>>,
) -> Option<Origin> {
    let at = get(name)?;
    Some(field(
        format!("{owner}: {name}"),
        &format!("{ty}.{name}"),
        at,
    ))
}

/// Where the field at `path` of a generated record was written (a map entry: where the entry
/// was), and, for a prelude default, the field it is the default of (`Nic.mac`).
fn locate(record: &dyn Visit, path: &[&str]) -> Option<(Span, Option<String>)> {
    let (first, rest) = path.split_first()?;
    let field = record
        .fields()
        .into_iter()
        .find(|f| f.info.name == *first)?;
    if rest.is_empty() {
        let default_of = format!("{}.{}", record.type_name(), field.info.name);
        return Some((field.span, field.from_default.then_some(default_of)));
    }
    match field.value {
        FieldValue::Record(Some(inner)) => locate(inner, rest),
        FieldValue::Map(entries) => {
            let (key, rest) = rest.split_first()?;
            let (_, entry) = entries.into_iter().find(|(k, _)| k == key)?;
            if rest.is_empty() {
                Some((entry.span(), None))
            } else {
                locate(entry, rest)
            }
        }
        _ => None,
    }
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

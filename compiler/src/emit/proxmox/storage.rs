//! `proxmox/storage.cfg`, the cluster-wide storage configuration, and the names of the volumes
//! VMs keep on those storages.
//!
//! Invariants:
//! - One section per storage name: the union of every host's declared pools, in declaration
//!   order (hosts in model order), after the built-in `dir: local` (path `/var/lib/vz`), which
//!   PVE forces to exist with that type and path (pve-storage `src/PVE/Storage/Plugin.pm`
//!   `parse_config`). A name declared with two kinds is emitted from its first declaration
//!   and the conflict is written as a comment above the section.
//! - A pool declared by only some hosts is restricted to them with `nodes`.
//! - `content` is what plat puts there, limited to what the storage type allows: declared pools
//!   hold `images,rootdir` (as a stock install's `local-lvm`); `local` holds the stock
//!   `backup,iso,vztmpl`; a host's snippets storage adds `snippets,import` (for `cicustom` and
//!   `import-from`); a VM disk or cloud-init drive adds `images`; an image source adds `import`.
//! - Keys are written as `SectionConfig::write_config` does (pve-common
//!   `src/PVE/SectionConfig.pm`): the type's required keys sorted, then optional keys sorted.
//! - Volume names follow what PVE allocates (pve-storage `find_free_diskname`): block storages
//!   `vm-<vmid>-disk-<n>`, directory storages `<vmid>/vm-<vmid>-disk-<n>.raw` (a dir storage's
//!   default format, `DirPlugin.pm` `plugindata`); cloud-init drives `vm-<vmid>-cloudinit`, on
//!   directories `.qcow2` (qemu-server `src/PVE/API2/Qemu.pm`, cloud-init drive creation).
//!
//! Defaults when a pool leaves a field out: `lvmthin` thin pool `data` in volume group `pve`
//! and `lvm` volume group `pve` (the installer's layout), `zfspool` pool `rpool/data` (the
//! installer's ZFS layout), `dir` path `/mnt/<name>`.
//!
//! Tests at the bottom.

use std::collections::BTreeSet;

use super::notice;
use crate::model::{Model, Storage, StorageKind, Vm};

/// The storage every PVE node has (pve-storage `Plugin.pm` `parse_config`).
const LOCAL: &str = "local";

/// Every storage of the cluster, resolved from the hosts' declarations and the VMs' use.
pub(super) struct Pools {
    pools: Vec<Pool>,
    host_count: usize,
}

/// One storage.cfg section.
struct Pool {
    name: String,
    kind: StorageKind,
    /// The type's required keys with their values, sorted by key.
    settings: Vec<(&'static str, String)>,
    /// Hosts that declare it (all hosts for `local`).
    hosts: BTreeSet<String>,
    content: BTreeSet<&'static str>,
    /// Conflicts found while merging declarations, written as comments.
    notes: Vec<String>,
}

impl Pools {
    /// Merges the hosts' storage declarations and records what the VMs keep where.
    pub(super) fn resolve(model: &Model) -> Pools {
        let mut pools = Pools {
            pools: vec![local_pool(model)],
            host_count: model.hosts.len(),
        };
        for host in model.hosts.values() {
            for (name, storage) in host.storage.iter() {
                pools.declare(&host.name, name, storage);
            }
        }
        for vm in model.vms.values() {
            pools.record_use(model, vm);
        }
        for host in model.hosts.values() {
            pools.add_content(&host.snippets_storage, &["snippets", "import"]);
        }
        pools
    }

    /// The text of `storage.cfg`.
    pub(super) fn render(&self) -> String {
        let sections: Vec<String> = self
            .pools
            .iter()
            .map(|pool| pool.render(self.host_count))
            .collect();
        format!("# {}\n\n{}", notice(), sections.join("\n"))
    }

    /// The volume ID of the `index`-th disk of `vmid` on `storage` (counted per storage).
    pub(super) fn disk_volume(&self, storage: &str, vmid: u32, index: usize) -> String {
        match self.kind(storage) {
            StorageKind::Dir => format!("{storage}:{vmid}/vm-{vmid}-disk-{index}.raw"),
            _ => format!("{storage}:vm-{vmid}-disk-{index}"),
        }
    }

    /// The volume ID of the cloud-init drive of `vmid` on `storage`.
    pub(super) fn cloudinit_volume(&self, storage: &str, vmid: u32) -> String {
        match self.kind(storage) {
            StorageKind::Dir => format!("{storage}:{vmid}/vm-{vmid}-cloudinit.qcow2"),
            _ => format!("{storage}:vm-{vmid}-cloudinit"),
        }
    }

    /// The type of `storage`; an undeclared one (a check reports it) is named like a block
    /// storage.
    fn kind(&self, storage: &str) -> StorageKind {
        self.find(storage)
            .map_or(StorageKind::LvmThin, |pool| pool.kind)
    }

    fn find(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|pool| pool.name == name)
    }

    fn declare(&mut self, host: &str, name: &str, storage: &Storage) {
        let Some(pool) = self.pools.iter_mut().find(|pool| pool.name == name) else {
            self.pools.push(declared_pool(host, name, storage));
            return;
        };
        if pool.kind != storage.kind {
            pool.notes.push(format!(
                "{name} is declared as {} on {host}; the {} declaration above wins.",
                type_name(storage.kind),
                type_name(pool.kind),
            ));
        } else if pool.settings != settings(name, storage) {
            pool.notes.push(format!(
                "{name} is declared with other settings on {host}; the settings above win."
            ));
        }
        pool.hosts.insert(host.to_string());
        let kind = pool.kind;
        pool.add(kind_content(kind, &["images", "rootdir"]));
    }

    fn record_use(&mut self, model: &Model, vm: &Vm) {
        for disk in vm.disks.values() {
            self.add_content(&disk.storage, &["images"]);
        }
        self.add_content(&cloudinit_storage(model, vm), &["images"]);
        if let Some(image) = vm.image.as_ref() {
            if let Some((storage, _)) = image.split_once(':') {
                self.add_content(storage, &["import"]);
            }
        }
    }

    fn add_content(&mut self, name: &str, content: &[&'static str]) {
        if let Some(pool) = self.pools.iter_mut().find(|pool| pool.name == name) {
            let kind = pool.kind;
            pool.add(kind_content(kind, content));
        }
    }
}

impl Pool {
    fn add(&mut self, content: impl IntoIterator<Item = &'static str>) {
        self.content.extend(content);
    }

    fn render(&self, host_count: usize) -> String {
        let mut text: String = self.notes.iter().map(|n| format!("# {n}\n")).collect();
        text.push_str(&format!("{}: {}\n", type_name(self.kind), self.name));
        for (key, value) in &self.settings {
            text.push_str(&format!("\t{key} {value}\n"));
        }
        let content: Vec<&str> = self.content.iter().copied().collect();
        text.push_str(&format!("\tcontent {}\n", content.join(",")));
        if self.hosts.len() < host_count {
            let hosts: Vec<&str> = self.hosts.iter().map(String::as_str).collect();
            text.push_str(&format!("\tnodes {}\n", hosts.join(",")));
        }
        text
    }
}

/// The storage holding the cloud-init drive of `vm`: its first disk's, else its host's
/// snippets storage.
pub(super) fn cloudinit_storage(model: &Model, vm: &Vm) -> String {
    match vm.disks.values().next() {
        Some(disk) => disk.storage.value.clone(),
        None => snippets_storage(model, vm),
    }
}

/// The directory storage of `vm`'s host that holds its cloud-init snippets.
pub(super) fn snippets_storage(model: &Model, vm: &Vm) -> String {
    model.hosts.get(&*vm.host).map_or_else(
        || LOCAL.to_string(),
        |host| host.snippets_storage.value.clone(),
    )
}

fn local_pool(model: &Model) -> Pool {
    Pool {
        name: LOCAL.to_string(),
        kind: StorageKind::Dir,
        settings: vec![("path", "/var/lib/vz".to_string())],
        hosts: model.hosts.keys().cloned().collect(),
        content: ["backup", "iso", "vztmpl"].into_iter().collect(),
        notes: Vec::new(),
    }
}

fn declared_pool(host: &str, name: &str, storage: &Storage) -> Pool {
    Pool {
        name: name.to_string(),
        kind: storage.kind,
        settings: settings(name, storage),
        hosts: BTreeSet::from([host.to_string()]),
        content: kind_content(storage.kind, &["images", "rootdir"])
            .into_iter()
            .collect(),
        notes: Vec::new(),
    }
}

/// The required keys of a storage type, sorted, with the declared or default values.
fn settings(name: &str, storage: &Storage) -> Vec<(&'static str, String)> {
    let or = |value: &Option<String>, default: &str| value.clone().unwrap_or(default.into());
    match storage.kind {
        StorageKind::Dir => vec![("path", or(&storage.pool, &format!("/mnt/{name}")))],
        StorageKind::LvmThin => vec![
            ("thinpool", or(&storage.pool, "data")),
            ("vgname", or(&storage.vgname, "pve")),
        ],
        StorageKind::ZfsPool => vec![("pool", or(&storage.pool, "rpool/data"))],
        StorageKind::Lvm => vec![("vgname", or(&storage.vgname, "pve"))],
    }
}

/// The section type keyword.
fn type_name(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Dir => "dir",
        StorageKind::LvmThin => "lvmthin",
        StorageKind::ZfsPool => "zfspool",
        StorageKind::Lvm => "lvm",
    }
}

/// The members of `content` that a storage of `kind` may hold (each plugin's `plugindata`).
fn kind_content(kind: StorageKind, content: &[&'static str]) -> Vec<&'static str> {
    let allowed: &[&str] = match kind {
        StorageKind::Dir => &[
            "backup", "images", "import", "iso", "rootdir", "snippets", "vztmpl",
        ],
        StorageKind::LvmThin | StorageKind::ZfsPool | StorageKind::Lvm => &["images", "rootdir"],
    };
    content
        .iter()
        .copied()
        .filter(|c| allowed.contains(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn storage_cfg(model: &Model) -> String {
        Pools::resolve(model).render()
    }

    fn second_host(model: &mut Model) {
        let mut host = model.hosts["pve1"].clone();
        host.name = "pve2".into();
        host.storage.value.clear();
        host.storage.value.insert(
            "tank".into(),
            Storage {
                kind: StorageKind::ZfsPool,
                pool: Some("tank/vm".into()),
                ..model.hosts["pve1"].storage["local-lvm"].clone()
            },
        );
        model.hosts.insert("pve2".into(), host);
    }

    #[test]
    fn small_platform_gets_local_with_snippets_and_import_and_local_lvm() {
        assert_eq!(
            storage_cfg(&fixture::small()),
            "# Generated by plat, do not edit; regenerate with plat build.\n\
             \n\
             dir: local\n\
             \tpath /var/lib/vz\n\
             \tcontent backup,import,iso,snippets,vztmpl\n\
             \n\
             lvmthin: local-lvm\n\
             \tthinpool data\n\
             \tvgname pve\n\
             \tcontent images,rootdir\n"
        );
    }

    #[test]
    fn a_pool_of_some_hosts_gets_nodes() {
        let mut model = fixture::small();
        second_host(&mut model);
        let text = storage_cfg(&model);
        assert!(text.contains("lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent images,rootdir\n\tnodes pve1\n"), "{text}");
        assert!(
            text.contains(
                "zfspool: tank\n\tpool tank/vm\n\tcontent images,rootdir\n\tnodes pve2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "dir: local\n\tpath /var/lib/vz\n\tcontent backup,import,iso,snippets,vztmpl\n\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_name_declared_twice_with_two_kinds_is_emitted_once_with_a_note() {
        let mut model = fixture::small();
        second_host(&mut model);
        let tank = model.hosts["pve2"].storage["tank"].clone();
        model.hosts["pve2"].storage.value.insert(
            "local-lvm".into(),
            Storage {
                kind: StorageKind::Dir,
                pool: Some("/srv".into()),
                ..tank
            },
        );
        let text = storage_cfg(&model);
        assert_eq!(text.matches(": local-lvm\n").count(), 1, "{text}");
        assert!(
            text.contains(
                "# local-lvm is declared as dir on pve2; the lvmthin declaration above wins.\n\
             lvmthin: local-lvm\n"
            ),
            "{text}"
        );
        // Declared by both hosts now, so no `nodes` restriction.
        assert!(
            text.contains("\tcontent images,rootdir\n\nzfspool: tank"),
            "{text}"
        );
    }

    #[test]
    fn a_dir_snippets_storage_gets_snippets_import_and_images() {
        let mut model = fixture::small();
        let host = &mut model.hosts["pve1"];
        host.snippets_storage.value = "data".into();
        host.storage.value.insert(
            "data".into(),
            Storage {
                kind: StorageKind::Dir,
                pool: None,
                ..host.storage["local-lvm"].clone()
            },
        );
        let text = storage_cfg(&model);
        assert!(
            text.contains(
                "dir: data\n\tpath /mnt/data\n\tcontent images,import,rootdir,snippets\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn volumes_are_named_as_pve_allocates_them() {
        let mut model = fixture::small();
        let host = &mut model.hosts["pve1"];
        host.storage.value.insert(
            "data".into(),
            Storage {
                kind: StorageKind::Dir,
                pool: None,
                ..host.storage["local-lvm"].clone()
            },
        );
        let pools = Pools::resolve(&model);
        assert_eq!(
            pools.disk_volume("local-lvm", 201, 0),
            "local-lvm:vm-201-disk-0"
        );
        assert_eq!(
            pools.disk_volume("data", 201, 1),
            "data:201/vm-201-disk-1.raw"
        );
        assert_eq!(
            pools.cloudinit_volume("local-lvm", 201),
            "local-lvm:vm-201-cloudinit"
        );
        assert_eq!(
            pools.cloudinit_volume("local", 201),
            "local:201/vm-201-cloudinit.qcow2"
        );
    }
}

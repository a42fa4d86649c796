//! cloud-init NoCloud seeds: for every VM, `cloud-init/<vm>/user-data`, `meta-data` and
//! `network-config` (version 2), which the Proxmox emitter attaches as `cicustom` snippets
//! (reference/cloud-init.md).
//!
//! Invariants:
//! - `user-data` starts with the `#cloud-config` line (cloud-init reads the first line as the
//!   format header, `doc/rtd/reference/config-format-headers.rst`); `meta-data` and
//!   `network-config` start with the generated-file comment.
//! - `instance-id` is a hash of the bytes of `user-data` and `network-config`: any change to
//!   them makes the next boot a first boot of a new instance, so cloud-init applies it
//!   (`doc/rtd/explanation/first_boot.rst`). SSH host keys survive that (`ssh_deletekeys:
//!   false`, see `user_data`).
//! - Output depends only on the model: lists keep model order, nothing is read from the host.
//! - A reference the checks would reject (a NIC's unknown VLAN, a node's unknown cluster) is
//!   skipped here rather than panicking; the checks report it.
//!
//! The kubeadm config of a Kubernetes node is produced by the Kubernetes emitter; it reaches
//! the node through the `kubeadm_config` parameter of [`vm_files`] (written to
//! [`kubeadm_config_path`]); [`emit`] passes each node's, and declares its secrets for
//! `user-data`.
//!
//! Tests: below and in the submodules; `tests/` runs the upstream validators on the output.

mod kubernetes;
mod network;
mod user_data;

use std::collections::BTreeMap;

use super::k8s::kubeadm::NodeFile;
use super::yaml::{self, Yaml};
use super::{Files, Out, Secrets, REGENERATE};
use crate::model::{ids, Model, Node, Vm};

pub use kubernetes::kubeadm_config_path;

/// The seed files of every VM.
pub fn emit(model: &Model) -> Files {
    super::collect(|out| emit_into(model, out))
}

/// The seed files of every VM, into `out`. A node's `user-data` embeds its kubeadm config, and
/// so refers to the secrets that config refers to; no other seed file refers to a secret.
pub fn emit_into(model: &Model, out: &Out) {
    // Each node's kubeadm config comes from the Kubernetes emitter, so the file written on the
    // node is byte for byte the one under kubernetes/<cluster>/kubeadm/.
    let mut kubeadm: BTreeMap<String, NodeFile> = BTreeMap::new();
    for cluster in model.clusters.values() {
        for file in crate::emit::k8s::kubeadm::files(model, cluster).files {
            kubeadm.insert(file.node.clone(), file);
        }
    }
    let node_by_vm: BTreeMap<&str, &Node> = model
        .nodes
        .values()
        .map(|node| (node.vm.as_str(), node))
        .collect();
    let none = Secrets::default();
    for vm in model.vms.values().filter(|vm| *vm.cloud_init) {
        let node = node_by_vm.get(vm.name.as_str()).copied();
        match node.and_then(|node| kubeadm.remove(&node.name)) {
            Some(file) => {
                let config = String::from_utf8_lossy(&file.bytes).into_owned();
                seed(model, vm, node, Some(config), &file.secrets, out);
            }
            None => seed(model, vm, node, None, &none, out),
        }
    }
}

/// The three seed files of `vm`, under `cloud-init/<vm>/`. When `vm` runs a Kubernetes node,
/// `kubeadm_config` is that node's kubeadm config file (from the Kubernetes emitter), written
/// to [`kubeadm_config_path`] with mode 0600; `None` writes no kubeadm file. Without a site
/// (a check reports that) there is nothing to configure and no file is produced.
pub fn vm_files(model: &Model, vm: &Vm, kubeadm_config: Option<String>) -> Files {
    // The files alone: the secrets the caller's config refers to are the caller's to list.
    let none = Secrets::default();
    super::collect(|out| seed(model, vm, node_of(model, vm), kubeadm_config, &none, out))
}

/// [`vm_files`] with the VM's node already looked up, into `out`; `config_secrets` are the
/// secrets `kubeadm_config` refers to.
fn seed(
    model: &Model,
    vm: &Vm,
    node: Option<&Node>,
    kubeadm_config: Option<String>,
    config_secrets: &Secrets,
    out: &Out,
) {
    let Some(site) = &model.site else {
        return;
    };
    let user_data = user_data::render(model, site, vm, node, kubeadm_config);
    let network_config = network::render(model, site, vm);
    let meta_data = meta_data(vm, &user_data, &network_config);
    let dir = format!("cloud-init/{}", vm.name);
    let none = Secrets::default();
    out.put(
        format!("{dir}/user-data"),
        user_data.into_bytes(),
        config_secrets,
    );
    out.put(
        format!("{dir}/network-config"),
        network_config.into_bytes(),
        &none,
    );
    out.put(format!("{dir}/meta-data"), meta_data.into_bytes(), &none);
}

/// The Kubernetes node that runs on `vm`, if any (the first one, in declaration order).
pub fn node_of<'m>(model: &'m Model, vm: &Vm) -> Option<&'m Node> {
    model.nodes.values().find(|node| *node.vm == vm.name)
}

/// The generated-file comment line (YAML, shell, TOML and apt files all take `#` comments).
fn header() -> String {
    format!("# Generated by plat; do not edit. Regenerate with `{REGENERATE}`.\n")
}

/// `meta-data`: the content-derived `instance-id` and the hostname.
fn meta_data(vm: &Vm, user_data: &str, network_config: &str) -> String {
    let mut seed = Vec::with_capacity(user_data.len() + network_config.len() + 1);
    seed.extend_from_slice(user_data.as_bytes());
    seed.push(0);
    seed.extend_from_slice(network_config.as_bytes());
    let instance_id = format!("plat-{}-{}", vm.name, ids::content_id(&seed));
    let doc = Yaml::map([
        ("instance-id", Yaml::str(instance_id)),
        ("local-hostname", Yaml::str(vm.name.clone())),
    ]);
    header() + &yaml::to_string(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn text(files: &Files, path: &str) -> String {
        String::from_utf8(files[path].clone()).expect("utf-8")
    }

    #[test]
    fn every_vm_gets_three_seed_files() {
        let files = emit(&fixture::small());
        assert_eq!(files.len(), 5 * 3);
        for vm in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"] {
            for file in ["user-data", "meta-data", "network-config"] {
                let path = format!("cloud-init/{vm}/{file}");
                assert!(text(&files, &path).ends_with('\n'), "{path}");
            }
        }
    }

    #[test]
    fn headers_come_first() {
        let files = emit(&fixture::small());
        let user_data = text(&files, "cloud-init/cp-1/user-data");
        assert!(user_data.starts_with("#cloud-config\n# Generated by plat; do not edit."));
        for file in ["meta-data", "network-config"] {
            let content = text(&files, &format!("cloud-init/cp-1/{file}"));
            assert!(content
                .starts_with("# Generated by plat; do not edit. Regenerate with `plat build`.\n"));
        }
    }

    #[test]
    fn meta_data_names_the_vm_and_hashes_the_content() {
        let model = fixture::small();
        let files = emit(&model);
        let meta = text(&files, "cloud-init/worker-1/meta-data");
        let lines: Vec<&str> = meta.lines().collect();
        assert!(
            lines[1].starts_with("instance-id: plat-worker-1-"),
            "{meta}"
        );
        assert_eq!(lines[1].len(), "instance-id: plat-worker-1-".len() + 16);
        assert_eq!(lines[2], "local-hostname: worker-1");
        let vm = &model.vms["worker-1"];
        let _ = vm;
        let same = emit(&model);
        assert_eq!(
            same["cloud-init/worker-1/meta-data"],
            files["cloud-init/worker-1/meta-data"]
        );
    }

    #[test]
    fn instance_id_changes_with_user_data_and_network_config() {
        let model = fixture::small();
        let vm = &model.vms["cp-1"];
        let id = |files: &Files| text(files, "cloud-init/cp-1/meta-data");
        let base = id(&vm_files(&model, vm, None));
        assert_ne!(base, id(&vm_files(&model, vm, Some("kind: X\n".into()))));
        let mut packages = model.clone();
        packages.vms["cp-1"].packages.value.push("htop".into());
        assert_ne!(base, id(&vm_files(&packages, &packages.vms["cp-1"], None)));
        let mut address = model.clone();
        let nic = &mut address.vms["cp-1"].nics.value["net0"];
        nic.address.value = Some("10.20.0.99".parse().expect("ip"));
        assert_ne!(base, id(&vm_files(&address, &address.vms["cp-1"], None)));
    }

    #[test]
    fn kubernetes_node_files_are_deferred_or_private_as_needed() {
        let model = fixture::small();
        let files = vm_files(
            &model,
            &model.vms["cp-3"],
            Some("kind: JoinConfiguration\n".into()),
        );
        let user_data = text(&files, "cloud-init/cp-3/user-data");
        assert!(user_data
            .contains("  - path: /etc/apt/sources.list.d/kubernetes.list\n    content: |\n"));
        assert!(user_data.contains("    permissions: \"0644\"\n    defer: true\n"));
        assert!(user_data.contains(
            "  - path: /etc/kubernetes/kubeadm/cp-3.yaml\n    content: |\n      kind: JoinConfiguration\n    owner: \"root:root\"\n    permissions: \"0600\"\n"
        ));
        let runcmd = user_data.split("\nruncmd:\n").nth(1).expect("runcmd");
        assert!(runcmd.starts_with("  - systemctl enable --now qemu-guest-agent\n"));
        assert!(runcmd.ends_with("  - apt-mark hold kubelet kubeadm kubectl\n"));
    }

    /// Every file of one VM under a `//// path` header, for review in one snapshot.
    #[test]
    fn snapshot_of_a_control_plane_seed() {
        let model = fixture::small();
        let files = vm_files(&model, &model.vms["cp-1"], None);
        let rendered: String = files
            .keys()
            .map(|path| format!("//// {path}\n{}", text(&files, path)))
            .collect();
        insta::assert_snapshot!(rendered);
    }

    #[test]
    fn no_site_no_files() {
        let mut model = fixture::small();
        model.site = None;
        assert!(emit(&model).is_empty());
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(emit(&fixture::small()), emit(&fixture::small()));
    }
}

//! The operating-system preparation of a Kubernetes node (what kubeadm's "Installing
//! kubeadm" and "Container runtimes" pages ask for), as user-data files, packages and
//! commands:
//! - kernel modules `overlay` and `br_netfilter`, loaded now and at every boot
//!   (`/etc/modules-load.d/kubernetes.conf`);
//! - sysctls: bridged traffic through iptables, IPv4 and IPv6 forwarding
//!   (`/etc/sysctl.d/90-kubernetes.conf`, applied with `sysctl --system` after the modules);
//! - swap off now and in `/etc/fstab` (the kubelet refuses to start with swap by default);
//! - containerd from Debian with the systemd cgroup driver (`SystemdCgroup = true`, the
//!   driver kubeadm configures for the kubelet); its config is written before the package is
//!   installed, so the first start uses it (cloud-init installs with `--force-confold`);
//! - the Kubernetes apt repository of the cluster's minor version
//!   (`https://pkgs.k8s.io/core:/stable:/v1.31/deb/`), its signing key fetched at first boot
//!   (nothing secret or key-like is inlined), and kubelet, kubeadm and kubectl pinned to the
//!   cluster's version (`1.31.4-1.1`) and held. A version change in the sources is installed
//!   on the next boot (the instance id changes with it), over the hold;
//! - the node's kubeadm config at [`kubeadm_config_path`], when the caller supplies it.
//!
//! Order (Debian's `/etc/cloud/cloud.cfg`): `write_files` runs in the init stage, packages in
//! the final stage, then deferred `write_files`, then `runcmd`. The repository list is
//! deferred: present before its key, it would make the final stage's `apt-get update` fail
//! and with it every package install.
//!
//! Tests at the bottom.

use super::header;
use super::user_data::{Provision, WriteFile};
use crate::model::{Cluster, Model, Node};

/// Where the kubeadm config of node `node` is written on its VM.
pub fn kubeadm_config_path(node: &str) -> String {
    format!("/etc/kubernetes/kubeadm/{node}.yaml")
}

/// The Debian revision of every package on pkgs.k8s.io (`<version>-1.1`).
const PACKAGE_REVISION: &str = "1.1";
/// The ASCII-armored repository key; apt reads armored keys from `.asc` files (sources.list(5)).
const KEYRING: &str = "/etc/apt/keyrings/kubernetes-apt-keyring.asc";
/// The Kubernetes packages, pinned and held.
const KUBE_PACKAGES: [&str; 3] = ["kubelet", "kubeadm", "kubectl"];

/// Adds the preparation of `node` to `provision`. A node whose cluster does not exist gets
/// nothing (the checks report the dangling reference).
pub(super) fn prepare(
    model: &Model,
    node: &Node,
    kubeadm_config: Option<String>,
    provision: &mut Provision,
) {
    let Some(cluster) = model.clusters.get(&*node.cluster) else {
        return;
    };
    provision.install(["containerd", "curl", "ca-certificates"]);
    provision.files.extend(os_files());
    provision.files.push(repository_file(cluster));
    if let Some(content) = kubeadm_config {
        provision.files.push(WriteFile {
            path: kubeadm_config_path(&node.name),
            content,
            permissions: "0600",
            defer: false,
        });
    }
    os_commands(provision);
    package_commands(cluster, provision);
}

/// `https://pkgs.k8s.io/core:/stable:/v1.31/deb/` for version `1.31.4`.
fn repository_url(cluster: &Cluster) -> String {
    let minor: Vec<&str> = cluster.version.split('.').take(2).collect();
    format!(
        "https://pkgs.k8s.io/core:/stable:/v{}/deb/",
        minor.join(".")
    )
}

fn os_files() -> [WriteFile; 3] {
    let file = |path: &str, body: &str| WriteFile {
        path: path.to_string(),
        content: header() + body,
        permissions: "0644",
        defer: false,
    };
    [
        file(
            "/etc/modules-load.d/kubernetes.conf",
            "overlay\nbr_netfilter\n",
        ),
        file(
            "/etc/sysctl.d/90-kubernetes.conf",
            "net.bridge.bridge-nf-call-iptables = 1\n\
             net.bridge.bridge-nf-call-ip6tables = 1\n\
             net.ipv4.ip_forward = 1\n\
             net.ipv6.conf.all.forwarding = 1\n",
        ),
        // Config version 2 is read by containerd 1.6 and 1.7 and migrated by 2.x; keys not
        // given keep containerd's defaults (containerd `docs/cri/config.md`).
        file(
            "/etc/containerd/config.toml",
            "version = 2\n\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  \
             runtime_type = \"io.containerd.runc.v2\"\n\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  \
             SystemdCgroup = true\n",
        ),
    ]
}

fn repository_file(cluster: &Cluster) -> WriteFile {
    WriteFile {
        path: "/etc/apt/sources.list.d/kubernetes.list".into(),
        content: format!(
            "{}deb [signed-by={KEYRING}] {} /\n",
            header(),
            repository_url(cluster)
        ),
        permissions: "0644",
        defer: true,
    }
}

fn os_commands(provision: &mut Provision) {
    provision.run(&["modprobe", "overlay"]);
    provision.run(&["modprobe", "br_netfilter"]);
    provision.run(&["sysctl", "--system"]);
    provision.run(&["swapoff", "-a"]);
    provision.run(&[
        "sed",
        "-i",
        "/^[^#].*[[:space:]]swap[[:space:]]/s/^/#/",
        "/etc/fstab",
    ]);
    provision.run(&["systemctl", "restart", "containerd"]);
}

fn package_commands(cluster: &Cluster, provision: &mut Provision) {
    let key_url = format!("{}Release.key", repository_url(cluster));
    provision.run(&["curl", "-fsSL", "--create-dirs", "-o", KEYRING, &key_url]);
    provision.run(&["apt-get", "update"]);
    let pinned: Vec<String> = KUBE_PACKAGES
        .iter()
        .map(|package| format!("{package}={}-{PACKAGE_REVISION}", *cluster.version))
        .collect();
    let mut install = vec!["apt-get", "install", "-y", "--allow-change-held-packages"];
    install.extend(pinned.iter().map(String::as_str));
    provision.run(&install);
    let mut hold = vec!["apt-mark", "hold"];
    hold.extend(KUBE_PACKAGES);
    provision.run(&hold);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn provision(model: &Model, node: &str, kubeadm: Option<&str>) -> Provision {
        let mut provision = Provision::default();
        prepare(
            model,
            &model.nodes[node],
            kubeadm.map(String::from),
            &mut provision,
        );
        provision
    }

    fn file<'p>(provision: &'p Provision, path: &str) -> &'p WriteFile {
        let found = provision.files.iter().find(|file| file.path == path);
        found.unwrap_or_else(|| panic!("no {path}"))
    }

    fn has_command(provision: &Provision, argv: &[&str]) -> bool {
        provision.commands.iter().any(|command| command == argv)
    }

    #[test]
    fn kernel_modules_and_sysctls_persist_and_apply() {
        let prep = provision(&fixture::small(), "worker-1", None);
        let modules = file(&prep, "/etc/modules-load.d/kubernetes.conf");
        assert!(modules.content.ends_with("\noverlay\nbr_netfilter\n"));
        let sysctl = &file(&prep, "/etc/sysctl.d/90-kubernetes.conf").content;
        assert!(sysctl.contains("\nnet.bridge.bridge-nf-call-iptables = 1\n"));
        assert!(sysctl.contains("\nnet.bridge.bridge-nf-call-ip6tables = 1\n"));
        assert!(sysctl.contains("\nnet.ipv4.ip_forward = 1\n"));
        let position = |argv: &[&str]| prep.commands.iter().position(|c| c == argv);
        assert!(position(&["modprobe", "br_netfilter"]) < position(&["sysctl", "--system"]));
        assert!(has_command(&prep, &["swapoff", "-a"]));
    }

    #[test]
    fn containerd_uses_the_systemd_cgroup_driver() {
        let prep = provision(&fixture::small(), "cp-1", None);
        let config = file(&prep, "/etc/containerd/config.toml");
        assert!(
            !config.defer,
            "written before the package starts containerd"
        );
        assert!(config.content.contains("\nversion = 2\n"));
        assert!(config
            .content
            .ends_with(".runtimes.runc.options]\n  SystemdCgroup = true\n"));
        assert_eq!(prep.packages, ["containerd", "curl", "ca-certificates"]);
    }

    #[test]
    fn repository_and_packages_follow_the_cluster_version() {
        let mut model = fixture::small();
        let prep = provision(&model, "cp-1", None);
        let list = file(&prep, "/etc/apt/sources.list.d/kubernetes.list");
        assert!(list.defer, "the list must not exist before its key");
        assert!(list.content.ends_with(
            "\ndeb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /\n"
        ));
        assert!(has_command(
            &prep,
            &[
                "curl",
                "-fsSL",
                "--create-dirs",
                "-o",
                "/etc/apt/keyrings/kubernetes-apt-keyring.asc",
                "https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key",
            ]
        ));
        assert!(has_command(
            &prep,
            &[
                "apt-get",
                "install",
                "-y",
                "--allow-change-held-packages",
                "kubelet=1.31.4-1.1",
                "kubeadm=1.31.4-1.1",
                "kubectl=1.31.4-1.1",
            ]
        ));
        assert_eq!(
            prep.commands.last().expect("hold"),
            &["apt-mark", "hold", "kubelet", "kubeadm", "kubectl"]
        );
        model.clusters["main"].version.value = "1.32.0".into();
        let prep = provision(&model, "cp-1", None);
        assert!(file(&prep, "/etc/apt/sources.list.d/kubernetes.list")
            .content
            .contains("/core:/stable:/v1.32/deb/ /\n"));
        assert!(prep
            .commands
            .iter()
            .flatten()
            .any(|arg| arg == "kubeadm=1.32.0-1.1"));
    }

    #[test]
    fn kubeadm_config_is_written_when_supplied() {
        let model = fixture::small();
        assert_eq!(
            kubeadm_config_path("cp-2"),
            "/etc/kubernetes/kubeadm/cp-2.yaml"
        );
        let without = provision(&model, "cp-2", None);
        assert!(without
            .files
            .iter()
            .all(|f| !f.path.starts_with("/etc/kubernetes/")));
        let with = provision(&model, "cp-2", Some("kind: JoinConfiguration\n"));
        let config = file(&with, "/etc/kubernetes/kubeadm/cp-2.yaml");
        assert_eq!(config.content, "kind: JoinConfiguration\n");
        assert_eq!(config.permissions, "0600");
    }

    #[test]
    fn unknown_cluster_prepares_nothing() {
        let mut model = fixture::small();
        model.clusters.clear();
        let prep = provision(&model, "cp-1", Some("x"));
        assert!(prep.files.is_empty() && prep.commands.is_empty() && prep.packages.is_empty());
    }
}

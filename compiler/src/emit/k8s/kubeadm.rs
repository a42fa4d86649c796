//! kubeadm configuration: one file per node, `kubernetes/<cluster>/kubeadm/<node>.yaml`
//! (kubeadm.k8s.io/v1beta4, reference/kubernetes.md §1-6).
//!
//! - The first control-plane node in declaration order initialises the cluster: its file holds
//!   InitConfiguration, ClusterConfiguration and a KubeletConfiguration (`cgroupDriver: systemd`,
//!   which kubeadm stores in the cluster and applies to every node). Every other node joins with
//!   a JoinConfiguration; control-plane joiners add `controlPlane.localAPIEndpoint`.
//! - A node's address is the first static address of its VM's NICs (slot order); it becomes
//!   the kubelet's `node-ip` and, on control planes, the API server's advertise address. A VM
//!   on DHCP only gets neither (kubeadm then detects the default interface's address).
//! - `taints` is always written, so kubeadm's implicit control-plane taint (applied only when
//!   the field is nil: kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go`,
//!   `NodeRegistrationOptions.Taints`) never applies: a node has exactly the taints its `node`
//!   declares, so `taints = []` on a control plane makes it schedulable.
//! - Node labels go to the kubelet's `node-labels` flag (v1beta4 `[{name, value}]` args).
//!
//! Secrets are never values. A file refers to a secret as `${secret:NAME}`
//! ([`Secrets::reference`], which declares it for the file), which the apply step replaces by
//! the secret's value before running kubeadm, and every name used is listed with what it
//! holds in `kubernetes/<cluster>/secrets.required` ([`Required::render`]):
//! - `kubeadm-<cluster>-certificate-key` (64 hex characters), in InitConfiguration
//!   `certificateKey` and in control-plane joins, only when there is more than one control
//!   plane; the init node runs `kubeadm init --config <node>.yaml --upload-certs`.
//! - `kubeadm-<cluster>-bootstrap-token` (`[a-z0-9]{6}.[a-z0-9]{16}`) and
//!   `kubeadm-<cluster>-ca-cert-hash` (`sha256:<hex of the CA's SubjectPublicKeyInfo>`), in
//!   every JoinConfiguration's `discovery.bootstrapToken`.
//!
//! InitConfiguration has no `bootstrapTokens`: a token there is a `BootstrapTokenString`
//! that must match the token pattern when decoded (kubernetes/kubernetes
//! `cmd/kubeadm/app/apis/bootstraptoken/v1/types.go`), so a reference cannot stand in, and a
//! literal would be a committed secret. `discovery.bootstrapToken.token`, `certificateKey` and
//! `caCertHashes` are plain strings, so references there decode (and validate) as they are. After `kubeadm init`, the apply step creates the join token with
//! `kubeadm token create <bootstrap-token> --ttl 1h` and reads the CA hash from
//! `/etc/kubernetes/pki/ca.crt` (or pre-creates the CA, reference/kubernetes.md §7).
//! kubeadm's own default token from init is left to expire (24h).
//!
//! The container runtime is containerd on its default socket; the node image must run it with
//! the systemd cgroup driver (`SystemdCgroup = true`), matching the KubeletConfiguration.
//! Tests are at the bottom.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::yaml_file;
use crate::emit::yaml::Yaml;
use crate::emit::Secrets;
use crate::model::{Cluster, Model, Node, Role};

/// The kubeadm config API version.
pub const API_VERSION: &str = "kubeadm.k8s.io/v1beta4";
/// containerd's default CRI socket.
pub const CRI_SOCKET: &str = "unix:///var/run/containerd/containerd.sock";

/// The kubeadm files of one cluster and the secrets they reference.
#[derive(Debug, Default)]
pub struct KubeadmFiles {
    /// One file per node, in declaration order.
    pub files: Vec<NodeFile>,
    /// Every secret the files refer to, with what it holds.
    pub required: Required,
}

/// A node's kubeadm file.
#[derive(Debug)]
pub struct NodeFile {
    /// The node's name.
    pub node: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// The secrets the file refers to.
    pub secrets: Secrets,
}

/// Secret names with a one-line description of the expected value, sorted by name.
#[derive(Debug, Default, PartialEq)]
pub struct Required(BTreeMap<String, String>);

impl Required {
    /// True when nothing is referenced.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `secrets.required` file: the header, then `NAME  # description` per line.
    pub fn render(&self) -> Vec<u8> {
        let mut out = super::header();
        out.push_str(
            "# Secrets the kubeadm files refer to, with what each holds. The apply step\n",
        );
        out.push_str(
            "# must provide them; out/secrets.required lists every file that uses each.\n",
        );
        for (name, description) in &self.0 {
            out.push_str(&format!("{name}  # {description}\n"));
        }
        out.into_bytes()
    }
}

/// Where a node's file writes its secret references: each is declared for the file and
/// listed, with its description, for the cluster.
struct Refs<'r> {
    file: Secrets,
    required: &'r mut Required,
}

impl Refs<'_> {
    /// Records that the file refers to `name` and returns the reference to write.
    fn reference(&mut self, name: &str, description: &str) -> String {
        self.required
            .0
            .insert(name.to_string(), description.to_string());
        self.file.reference(name)
    }
}

/// The kubeadm config files of `cluster`'s nodes.
pub fn files(model: &Model, cluster: &Cluster) -> KubeadmFiles {
    let nodes: Vec<&Node> = model
        .nodes
        .values()
        .filter(|node| *node.cluster == cluster.name)
        .collect();
    let control_planes = nodes
        .iter()
        .filter(|node| *node.role == Role::ControlPlane)
        .count();
    let init = nodes
        .iter()
        .position(|node| *node.role == Role::ControlPlane);
    let mut out = KubeadmFiles::default();
    let ctx = Ctx {
        model,
        cluster,
        multi_control_plane: control_planes > 1,
    };
    for (index, node) in nodes.iter().enumerate() {
        let mut refs = Refs {
            file: Secrets::default(),
            required: &mut out.required,
        };
        let docs = if Some(index) == init {
            ctx.init_documents(node, &mut refs)
        } else {
            vec![ctx.join_configuration(node, &mut refs)]
        };
        out.files.push(NodeFile {
            node: node.name.clone(),
            bytes: file(docs, node, Some(index) == init),
            secrets: refs.file,
        });
    }
    out
}

struct Ctx<'m> {
    model: &'m Model,
    cluster: &'m Cluster,
    multi_control_plane: bool,
}

/// The node's file, with a comment saying how to apply it.
fn file(docs: Vec<Yaml>, node: &Node, init: bool) -> Vec<u8> {
    let command = if init {
        format!("kubeadm init --config {}.yaml --upload-certs", node.name)
    } else {
        format!("kubeadm join --config {}.yaml", node.name)
    };
    let note = format!(
        "Apply on node {} (after resolving its secret references): {command}",
        node.name
    );
    let mut file = yaml_file(&[&note]);
    for doc in &docs {
        file.node(doc);
    }
    file.into_bytes()
}

impl Ctx<'_> {
    fn init_documents(&self, node: &Node, secrets: &mut Refs) -> Vec<Yaml> {
        let mut init = vec![
            ("apiVersion", Yaml::str(API_VERSION)),
            ("kind", Yaml::str("InitConfiguration")),
            ("localAPIEndpoint", self.local_api_endpoint(node)),
            ("nodeRegistration", self.node_registration(node)),
        ];
        if self.multi_control_plane {
            init.push(("certificateKey", Yaml::str(self.certificate_key(secrets))));
        }
        vec![
            Yaml::map(init),
            self.cluster_configuration(),
            kubelet_configuration(),
        ]
    }

    fn cluster_configuration(&self) -> Yaml {
        let cluster = self.cluster;
        Yaml::map([
            ("apiVersion", Yaml::str(API_VERSION)),
            ("kind", Yaml::str("ClusterConfiguration")),
            ("clusterName", Yaml::str(&cluster.name)),
            (
                "kubernetesVersion",
                Yaml::str(format!("v{}", *cluster.version)),
            ),
            ("controlPlaneEndpoint", Yaml::str(self.api_endpoint())),
            (
                "networking",
                Yaml::map([
                    ("podSubnet", Yaml::str(cluster.pod_cidr.to_string())),
                    ("serviceSubnet", Yaml::str(cluster.service_cidr.to_string())),
                    ("dnsDomain", Yaml::str(&*cluster.dns_domain)),
                ]),
            ),
        ])
    }

    fn join_configuration(&self, node: &Node, secrets: &mut Refs) -> Yaml {
        let cluster = &self.cluster.name;
        let token = secrets.reference(
            &format!("kubeadm-{cluster}-bootstrap-token"),
            "kubeadm bootstrap token [a-z0-9]{6}.[a-z0-9]{16}, created after init with `kubeadm token create`",
        );
        let ca_hash = secrets.reference(
            &format!("kubeadm-{cluster}-ca-cert-hash"),
            "sha256:<hex SHA-256 of the cluster CA's DER SubjectPublicKeyInfo>",
        );
        let mut join = vec![
            ("apiVersion", Yaml::str(API_VERSION)),
            ("kind", Yaml::str("JoinConfiguration")),
            ("nodeRegistration", self.node_registration(node)),
            (
                "discovery",
                Yaml::map([(
                    "bootstrapToken",
                    Yaml::map([
                        ("apiServerEndpoint", Yaml::str(self.api_endpoint())),
                        ("token", Yaml::str(token)),
                        ("caCertHashes", Yaml::Seq(vec![Yaml::str(ca_hash)])),
                    ]),
                )]),
            ),
        ];
        if *node.role == Role::ControlPlane {
            let mut control_plane = vec![("localAPIEndpoint", self.local_api_endpoint(node))];
            control_plane.push(("certificateKey", Yaml::str(self.certificate_key(secrets))));
            join.push(("controlPlane", Yaml::map(control_plane)));
        }
        Yaml::map(join)
    }

    fn certificate_key(&self, secrets: &mut Refs) -> String {
        secrets.reference(
            &format!("kubeadm-{}-certificate-key", self.cluster.name),
            "kubeadm certificate key, 64 hex characters (`kubeadm certs certificate-key`)",
        )
    }

    /// `<endpoint>:<api_port>`, with brackets around an IPv6 endpoint.
    fn api_endpoint(&self) -> String {
        SocketAddr::new(*self.cluster.endpoint, *self.cluster.api_port).to_string()
    }

    fn local_api_endpoint(&self, node: &Node) -> Yaml {
        let mut entries = Vec::new();
        if let Some(address) = node_address(self.model, node) {
            entries.push(("advertiseAddress", Yaml::str(address.to_string())));
        }
        entries.push(("bindPort", Yaml::Int(i64::from(*self.cluster.api_port))));
        Yaml::map(entries)
    }

    fn node_registration(&self, node: &Node) -> Yaml {
        Yaml::map([
            ("name", Yaml::str(&node.name)),
            ("criSocket", Yaml::str(CRI_SOCKET)),
            ("taints", taints(node)),
            (
                "kubeletExtraArgs",
                Yaml::Seq(kubelet_args(self.model, node)),
            ),
        ])
    }
}

fn kubelet_configuration() -> Yaml {
    Yaml::map([
        ("apiVersion", Yaml::str("kubelet.config.k8s.io/v1beta1")),
        ("kind", Yaml::str("KubeletConfiguration")),
        ("cgroupDriver", Yaml::str("systemd")),
    ])
}

fn taints(node: &Node) -> Yaml {
    Yaml::Seq(
        node.taints
            .iter()
            .map(|taint| {
                let mut entries = vec![("key", Yaml::str(&taint.key))];
                if !taint.value.is_empty() {
                    entries.push(("value", Yaml::str(&taint.value)));
                }
                entries.push(("effect", Yaml::str(&taint.effect)));
                Yaml::map(entries)
            })
            .collect(),
    )
}

/// kubelet flags as v1beta4 `Arg`s: `node-ip` and `node-labels` (`k=v,k=v`), when present.
fn kubelet_args(model: &Model, node: &Node) -> Vec<Yaml> {
    let mut args = Vec::new();
    if let Some(address) = node_address(model, node) {
        args.push(arg("node-ip", address.to_string()));
    }
    if !node.labels.is_empty() {
        let labels: Vec<String> = node
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        args.push(arg("node-labels", labels.join(",")));
    }
    args
}

fn arg(name: &str, value: String) -> Yaml {
    Yaml::map([("name", Yaml::str(name)), ("value", Yaml::Str(value))])
}

/// The first static address of the node's VM, in NIC slot order.
pub fn node_address(model: &Model, node: &Node) -> Option<IpAddr> {
    let vm = model.vms.get(node.vm.as_str())?;
    vm.nics.values().find_map(|nic| *nic.address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::k8s::tests::{doc, docs, file_text, get, has, s};
    use crate::model::{fixture, At, Taint};

    fn path(node: &str) -> String {
        format!("kubernetes/main/kubeadm/{node}.yaml")
    }

    #[test]
    fn first_control_plane_initialises() {
        let model = fixture::small();
        let kinds: Vec<Yaml> = docs(&model, &path("cp-1"))
            .iter()
            .map(|doc| get(doc, &["kind"]).clone())
            .collect();
        let expected = [
            "InitConfiguration",
            "ClusterConfiguration",
            "KubeletConfiguration",
        ];
        assert_eq!(kinds, expected.map(s));
        let init = doc(&model, &path("cp-1"), "InitConfiguration");
        assert_eq!(get(&init, &["apiVersion"]), &s("kubeadm.k8s.io/v1beta4"));
        let endpoint = &["localAPIEndpoint"];
        assert_eq!(
            get(&init, &[endpoint[0], "advertiseAddress"]),
            &s("10.20.0.11")
        );
        assert_eq!(get(&init, &[endpoint[0], "bindPort"]), &Yaml::Int(6443));
        let key = s("${secret:kubeadm-main-certificate-key}");
        assert_eq!(get(&init, &["certificateKey"]), &key);
        assert!(!has(&init, &[], "bootstrapTokens"));
        let kubelet = doc(&model, &path("cp-1"), "KubeletConfiguration");
        assert_eq!(get(&kubelet, &["cgroupDriver"]), &s("systemd"));
        let text = file_text(&model, &path("cp-1"));
        assert!(
            text.contains("kubeadm init --config cp-1.yaml --upload-certs\n"),
            "{text}"
        );
    }

    #[test]
    fn cluster_configuration_carries_the_cluster() {
        let cluster = doc(&fixture::small(), &path("cp-1"), "ClusterConfiguration");
        assert_eq!(get(&cluster, &["clusterName"]), &s("main"));
        assert_eq!(get(&cluster, &["kubernetesVersion"]), &s("v1.31.4"));
        assert_eq!(
            get(&cluster, &["controlPlaneEndpoint"]),
            &s("10.20.0.5:6443")
        );
        let networking = |key| get(&cluster, &["networking", key]).clone();
        assert_eq!(networking("podSubnet"), s("10.244.0.0/16"));
        assert_eq!(networking("serviceSubnet"), s("10.96.0.0/12"));
        assert_eq!(networking("dnsDomain"), s("cluster.local"));
    }

    #[test]
    fn node_registration_has_name_socket_taints_and_node_ip() {
        let init = doc(&fixture::small(), &path("cp-1"), "InitConfiguration");
        let registration = get(&init, &["nodeRegistration"]);
        assert_eq!(get(registration, &["name"]), &s("cp-1"));
        assert_eq!(get(registration, &["criSocket"]), &s(CRI_SOCKET));
        assert_eq!(get(registration, &["taints"]), &Yaml::Seq(Vec::new()));
        let node_ip = Yaml::map([("name", s("node-ip")), ("value", s("10.20.0.11"))]);
        assert_eq!(
            get(registration, &["kubeletExtraArgs"]),
            &Yaml::Seq(vec![node_ip])
        );
    }

    #[test]
    fn other_control_planes_join_with_their_endpoint_and_key() {
        let model = fixture::small();
        assert_eq!(docs(&model, &path("cp-2")).len(), 1);
        let join = doc(&model, &path("cp-2"), "JoinConfiguration");
        let control_plane = get(&join, &["controlPlane"]);
        let address = get(control_plane, &["localAPIEndpoint", "advertiseAddress"]);
        assert_eq!(address, &s("10.20.0.12"));
        let key = s("${secret:kubeadm-main-certificate-key}");
        assert_eq!(get(control_plane, &["certificateKey"]), &key);
    }

    #[test]
    fn workers_join_through_bootstrap_token_discovery() {
        let join = doc(&fixture::small(), &path("worker-1"), "JoinConfiguration");
        let discovery = get(&join, &["discovery", "bootstrapToken"]);
        assert_eq!(get(discovery, &["apiServerEndpoint"]), &s("10.20.0.5:6443"));
        let token = s("${secret:kubeadm-main-bootstrap-token}");
        assert_eq!(get(discovery, &["token"]), &token);
        let hash = s("${secret:kubeadm-main-ca-cert-hash}");
        assert_eq!(get(discovery, &["caCertHashes"]), &Yaml::Seq(vec![hash]));
        let node_ip = get(
            &join,
            &["nodeRegistration", "kubeletExtraArgs", "0", "value"],
        );
        assert_eq!(node_ip, &s("10.20.0.21"));
        assert!(!has(&join, &[], "controlPlane"));
    }

    #[test]
    fn labels_and_taints_are_written() {
        let mut model = fixture::small();
        let node = model.nodes.get_mut("worker-2").unwrap();
        let labels = vec![("disk".into(), "ssd".into()), ("zone".into(), "a".into())];
        node.labels = At::new(labels, Default::default());
        let taint = Taint {
            key: "dedicated".into(),
            value: "db".into(),
            effect: "NoSchedule".into(),
        };
        node.taints = At::new(vec![taint], Default::default());
        let join = doc(&model, &path("worker-2"), "JoinConfiguration");
        let taint = Yaml::map([
            ("key", s("dedicated")),
            ("value", s("db")),
            ("effect", s("NoSchedule")),
        ]);
        let registration = get(&join, &["nodeRegistration"]);
        assert_eq!(get(registration, &["taints"]), &Yaml::Seq(vec![taint]));
        let labels = Yaml::map([("name", s("node-labels")), ("value", s("disk=ssd,zone=a"))]);
        assert_eq!(get(registration, &["kubeletExtraArgs", "1"]), &labels);
    }

    #[test]
    fn secrets_required_lists_every_reference() {
        let model = fixture::small();
        let text = file_text(&model, "kubernetes/main/secrets.required");
        let names: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| line.split_whitespace().next().unwrap())
            .collect();
        let expected = [
            "kubeadm-main-bootstrap-token",
            "kubeadm-main-ca-cert-hash",
            "kubeadm-main-certificate-key",
        ];
        assert_eq!(names, expected);
        let kubeadm = files(&model, &model.clusters["main"]);
        let declared: Vec<&str> = kubeadm
            .files
            .iter()
            .flat_map(|file| file.secrets.names())
            .collect();
        for name in declared {
            assert!(names.contains(&name), "{name}");
        }
    }

    #[test]
    fn each_file_declares_the_references_it_holds() {
        let model = fixture::small();
        let kubeadm = files(&model, &model.clusters["main"]);
        let secrets = |node: &str| -> Vec<&str> {
            let file = kubeadm.files.iter().find(|file| file.node == node);
            file.unwrap().secrets.names().collect()
        };
        assert_eq!(secrets("cp-1"), ["kubeadm-main-certificate-key"]);
        let control_plane_join = [
            "kubeadm-main-bootstrap-token",
            "kubeadm-main-ca-cert-hash",
            "kubeadm-main-certificate-key",
        ];
        assert_eq!(secrets("cp-2"), control_plane_join);
        let worker_join = ["kubeadm-main-bootstrap-token", "kubeadm-main-ca-cert-hash"];
        assert_eq!(secrets("worker-1"), worker_join);
    }

    #[test]
    fn single_control_plane_needs_no_certificate_key() {
        let mut model = fixture::small();
        model.nodes.shift_remove("cp-2");
        model.nodes.shift_remove("cp-3");
        let init = doc(&model, &path("cp-1"), "InitConfiguration");
        assert!(!has(&init, &[], "certificateKey"));
        let secrets = file_text(&model, "kubernetes/main/secrets.required");
        assert!(!secrets.contains("certificate-key"), "{secrets}");
    }

    #[test]
    fn dhcp_node_has_no_address_and_ipv6_endpoint_is_bracketed() {
        let mut model = fixture::small();
        let nic = model.vms["worker-1"].nics.value["net0"].clone();
        let mut nic = nic;
        nic.address = At::new(None, Default::default());
        model
            .vms
            .get_mut("worker-1")
            .unwrap()
            .nics
            .value
            .insert("net0".into(), nic);
        let cluster = model.clusters.get_mut("main").unwrap();
        cluster.endpoint = At::new("fd00::5".parse().unwrap(), Default::default());
        let join = doc(&model, &path("worker-1"), "JoinConfiguration");
        let endpoint = get(&join, &["discovery", "bootstrapToken", "apiServerEndpoint"]);
        assert_eq!(endpoint, &s("[fd00::5]:6443"));
        let args = get(&join, &["nodeRegistration", "kubeletExtraArgs"]);
        assert_eq!(args, &Yaml::Seq(Vec::new()));
    }
}

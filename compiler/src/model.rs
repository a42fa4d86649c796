//! The typed platform model: what the sources describe, lowered from evaluated values.
//!
//! Invariants:
//! - Every field is an [`At`]: its value plus the span of the `.plat` text that produced it
//!   (a prelude default points into the prelude and has `from_default` set), so checks and
//!   `plat explain` can point at source.
//! - Collections are [`IndexMap`]s keyed by entity name, in declaration order (files sorted by
//!   path, then source order). Emitters sort explicitly where order is not meaning; rule
//!   order *is* meaning (first match wins).
//! - References between entities are names, resolved through the maps (`model.vlans[&name]`).
//! - Generated identifiers (MACs, UUIDs, trackers) are derived in `model::ids` from stable
//!   names only.
//!
//! The kinds `Vm`, `Disk`, `Nic` and `Startup` (and the records written inline in them) are
//! generated from the prelude (`model::kinds`); the others are written here.
//!
//! Lowering lives in `model/lower.rs`; tests of lowering are in `tests/`.

use std::net::IpAddr;
use std::ops::Deref;

use indexmap::IndexMap;
use plat_lang::span::Span;
pub use plat_lang::value::Cidr;

pub use kinds::*;

pub mod doc_tags;
/// Test fixtures: compiled only for the crate's unit tests and, through the `fixtures`
/// feature, for the test crates that enable it (`tests/Cargo.toml`); never into the shipped
/// library.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixture;
pub mod ids;
pub mod kinds;
pub mod lower;
pub mod names;
pub mod words;

/// A value with the span of the source that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub span: Span,
    /// True when the value is a prelude (or type) default rather than written by the operator.
    pub from_default: bool,
}

impl<T> At<T> {
    /// A value written at `span`.
    pub fn new(value: T, span: Span) -> At<T> {
        At {
            value,
            span,
            from_default: false,
        }
    }
}

impl<T> Deref for At<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Sizes are bytes.
pub type Bytes = i64;

/// The whole platform.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The site (absent only when the sources declare none; a check reports that).
    pub site: Option<Site>,
    /// VLANs by name.
    pub vlans: IndexMap<String, Vlan>,
    /// Proxmox hosts by name.
    pub hosts: IndexMap<String, Host>,
    /// Firewalls by name.
    pub firewalls: IndexMap<String, Firewall>,
    /// Filter rules, in evaluation order.
    pub rules: IndexMap<String, Rule>,
    /// Port forwards.
    pub forwards: IndexMap<String, Forward>,
    /// VMs by name.
    pub vms: IndexMap<String, Vm>,
    /// Kubernetes clusters.
    pub clusters: IndexMap<String, Cluster>,
    /// Kubernetes nodes.
    pub nodes: IndexMap<String, Node>,
    /// Namespaces.
    pub namespaces: IndexMap<String, Namespace>,
    /// Services (workloads).
    pub services: IndexMap<String, Service>,
    /// Helm chart releases.
    pub charts: IndexMap<String, Chart>,
    /// Raw manifests.
    pub manifests: IndexMap<String, Manifest>,
}

/// The site.
#[derive(Clone, Debug)]
pub struct Site {
    /// Where it is declared.
    pub span: Span,
    /// Short name.
    pub name: At<String>,
    /// DNS domain.
    pub domain: At<String>,
    /// IANA time zone.
    pub timezone: At<String>,
    /// Upstream resolvers.
    pub dns: At<Vec<IpAddr>>,
    /// NTP servers.
    pub ntp: At<Vec<String>>,
    /// Operator SSH keys.
    pub ssh_keys: At<Vec<String>>,
    /// Operator login.
    pub admin_user: At<String>,
}

/// A DHCP range.
#[derive(Clone, Debug, PartialEq)]
pub struct DhcpRange {
    /// First address.
    pub from: IpAddr,
    /// Last address.
    pub to: IpAddr,
}

/// A VLAN.
#[derive(Clone, Debug)]
pub struct Vlan {
    /// Entity name.
    pub name: String,
    /// Where it is declared (the name).
    pub span: Span,
    /// 802.1Q tag.
    pub id: At<u16>,
    /// Subnet.
    pub subnet: At<Cidr>,
    /// Gateway (the firewall's address).
    pub gateway: At<IpAddr>,
    /// DHCP range.
    pub dhcp: At<Option<DhcpRange>>,
    /// Description.
    pub description: At<String>,
}

/// A bridge on a host.
#[derive(Clone, Debug)]
pub struct Bridge {
    /// Physical ports.
    pub ports: Vec<String>,
    /// VLAN aware.
    pub vlan_aware: bool,
}

/// Proxmox storage types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StorageKind {
    /// LVM thin pool.
    LvmThin,
    /// ZFS pool.
    ZfsPool,
    /// Directory.
    Dir,
    /// Thick LVM.
    Lvm,
}

/// A storage pool.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Where it is declared.
    pub span: Span,
    /// Type.
    pub kind: StorageKind,
    /// Capacity.
    pub size: Bytes,
    /// Pool / thin pool / path.
    pub pool: Option<String>,
    /// Volume group.
    pub vgname: Option<String>,
}

/// A Proxmox host.
#[derive(Clone, Debug)]
pub struct Host {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Hardware threads.
    pub cpu: At<u32>,
    /// Memory.
    pub memory: At<Bytes>,
    /// Management VLAN (name).
    pub vlan: At<String>,
    /// Management address.
    pub address: At<IpAddr>,
    /// Bridges by name.
    pub bridges: At<IndexMap<String, Bridge>>,
    /// Storage pools by name.
    pub storage: At<IndexMap<String, Storage>>,
    /// vCPUs per thread.
    pub cpu_overcommit: At<u32>,
    /// Memory kept for the host.
    pub memory_reserved: At<Bytes>,
    /// Storage for snippets and imports.
    pub snippets_storage: At<String>,
}

/// WAN addressing.
#[derive(Clone, Debug, PartialEq)]
pub enum WanMode {
    /// DHCP client.
    Dhcp,
    /// Static address.
    Static {
        /// Address with prefix length.
        address: IpAddr,
        /// Prefix length.
        prefix: u8,
        /// Upstream gateway.
        gateway: Option<IpAddr>,
    },
}

/// A firewall.
#[derive(Clone, Debug)]
pub struct Firewall {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Host name.
    pub hostname: At<String>,
    /// WAN interface.
    pub wan_interface: At<String>,
    /// WAN addressing.
    pub wan_mode: At<WanMode>,
    /// Trunk interface.
    pub trunk: At<String>,
    /// The VM it runs as (name).
    pub vm: At<Option<String>>,
}

/// A rule endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Endpoint {
    /// Anything.
    Any,
    /// A VLAN's subnet (name).
    Vlan(String),
    /// A host's management address (name).
    Host(String),
    /// A VM's addresses (name).
    Vm(String),
    /// A subnet.
    Cidr(Cidr),
}

/// Rule actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Pass.
    Pass,
    /// Block silently.
    Block,
    /// Reject.
    Reject,
}

/// Protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// Any protocol.
    Any,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// TCP and UDP.
    TcpUdp,
    /// ICMP.
    Icmp,
}

/// A filter rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Source.
    pub from: At<Endpoint>,
    /// Destination.
    pub to: At<Endpoint>,
    /// Action.
    pub action: At<Action>,
    /// Protocol.
    pub proto: At<Proto>,
    /// Destination ports (inclusive range; a single port is `(p, p)`).
    pub ports: At<Option<(u16, u16)>>,
    /// Log.
    pub log: At<bool>,
    /// Description.
    pub description: At<String>,
    /// Derived pfSense tracker.
    pub tracker: u32,
}

/// A port forward.
#[derive(Clone, Debug)]
pub struct Forward {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Protocol.
    pub proto: At<Proto>,
    /// WAN port.
    pub port: At<u16>,
    /// Target (a Vm or Host endpoint).
    pub to: At<Endpoint>,
    /// Target port.
    pub to_port: At<u16>,
    /// Allowed sources (`Any` or `Cidr`).
    pub from: At<Endpoint>,
    /// Description.
    pub description: At<String>,
    /// Derived tracker of the associated filter rule.
    pub tracker: u32,
}

/// CNI plugins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cni {
    /// Cilium.
    Cilium,
    /// Calico.
    Calico,
    /// Flannel.
    Flannel,
}

/// A Kubernetes cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Version, without a `v`.
    pub version: At<String>,
    /// API endpoint address.
    pub endpoint: At<IpAddr>,
    /// API port.
    pub api_port: At<u16>,
    /// Pod CIDR.
    pub pod_cidr: At<Cidr>,
    /// Service CIDR.
    pub service_cidr: At<Cidr>,
    /// CNI.
    pub cni: At<Cni>,
    /// DNS domain.
    pub dns_domain: At<String>,
}

/// Node roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Control plane.
    ControlPlane,
    /// Worker.
    Worker,
}

/// A taint.
#[derive(Clone, Debug, PartialEq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Effect.
    pub effect: String,
}

/// A Kubernetes node.
#[derive(Clone, Debug)]
pub struct Node {
    /// Entity name (the Kubernetes node name).
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Cluster (name).
    pub cluster: At<String>,
    /// VM (name).
    pub vm: At<String>,
    /// Role.
    pub role: At<Role>,
    /// Labels, sorted by key.
    pub labels: At<Vec<(String, String)>>,
    /// Taints.
    pub taints: At<Vec<Taint>>,
}

/// A namespace.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Cluster (name).
    pub cluster: At<String>,
    /// Pod Security level: `privileged`, `baseline` or `restricted`.
    pub pod_security: At<String>,
    /// Default-deny ingress.
    pub default_deny: At<bool>,
    /// Extra labels, in source order.
    pub labels: At<Vec<(String, String)>>,
}

/// Requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    /// CPU millicores.
    pub millicpu: u32,
    /// Memory.
    pub memory: Bytes,
}

/// Ingress exposure.
#[derive(Clone, Debug, PartialEq)]
pub struct Ingress {
    /// Host.
    pub host: String,
    /// Path prefix.
    pub path: String,
    /// Ingress class.
    pub class: String,
    /// cert-manager cluster issuer.
    pub issuer: Option<String>,
}

/// A workload.
#[derive(Clone, Debug)]
pub struct Service {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Namespace (name).
    pub namespace: At<String>,
    /// Image.
    pub image: At<String>,
    /// Replicas.
    pub replicas: At<u32>,
    /// Port.
    pub port: At<u16>,
    /// Environment, in source order.
    pub env: At<Vec<(String, String)>>,
    /// Requests.
    pub resources: At<Resources>,
    /// Probe path.
    pub health_path: At<Option<String>>,
    /// Ingress.
    pub ingress: At<Option<Ingress>>,
    /// Namespaces allowed in (names).
    pub allow_from: At<Vec<String>>,
    /// Container args.
    pub args: At<Vec<String>>,
    /// User and group id of the container.
    pub run_as_user: At<u32>,
}

/// JSON-like data (chart values, raw manifests), fields in source order.
pub type Data = serde_json::Value;

/// A Helm release.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Entity name (the release name).
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Namespace (name).
    pub namespace: At<String>,
    /// Repository URL.
    pub repo: At<String>,
    /// Chart name.
    pub chart: At<String>,
    /// Version.
    pub version: At<String>,
    /// Values.
    pub values: At<Data>,
}

/// A raw manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Entity name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Cluster (name).
    pub cluster: At<String>,
    /// Namespace (name).
    pub namespace: At<Option<String>>,
    /// The object.
    pub body: At<Data>,
}

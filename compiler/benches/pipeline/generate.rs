//! The benchmark's workload generator: a platform of `apps` applications and `vms` virtual
//! machines, written as `.plat` sources.
//!
//! The applications are the peer benchmark's workload (the same text as
//! `/work/shared/bench/gen_plat.py`: per app a namespace and a service with image, replicas,
//! port, env, resources and an ingress rule), so `plat check` on `apps` can be compared with
//! the peers' programs. The VMs add the infrastructure side: one Proxmox host per
//! [`VMS_PER_HOST`] VMs, one VLAN per [`VMS_PER_VLAN`] VMs with three filter rules each, one
//! rule per ten VMs, and a Debian cloud image (so each VM gets cloud-init files).
//!
//! The output depends on the two counts only: same counts, same bytes.

use std::fmt::Write;

/// VMs sharing one Proxmox host (well within its capacity: see `host` below).
pub const VMS_PER_HOST: usize = 100;
/// VMs sharing one VLAN (a /24: host numbers 10 to 209).
pub const VMS_PER_VLAN: usize = 200;

const TEAMS: [&str; 4] = ["payments", "search", "infra", "web"];

/// The size of a generated platform.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Applications (namespace + service each).
    pub apps: usize,
    /// Virtual machines (with hosts, VLANs, rules and cloud-init).
    pub vms: usize,
}

/// The platform's files: (root-relative path, text), in path order.
pub fn platform(shape: Shape) -> Vec<(String, String)> {
    let mut files = vec![
        ("apps.plat".to_string(), apps(shape.apps)),
        ("cluster.plat".to_string(), CLUSTER.to_string()),
    ];
    if shape.vms > 0 {
        files.push(("infra.plat".to_string(), infra(shape.vms)));
    }
    files
}

/// The cluster the applications run in (as in `gen_plat.py`).
const CLUSTER: &str = r#"vlan nodes { id = 20, subnet = 10.20.0.0/24 }

cluster bench {
  version      = "1.31.4"
  endpoint     = vlan.nodes.subnet.host(5)
  pod_cidr     = 10.244.0.0/16
  service_cidr = 10.96.0.0/12
}

namespace ingress { cluster = cluster.bench, pod_security = "baseline" }
"#;

fn apps(n: usize) -> String {
    let mut out = String::with_capacity(n * 400);
    for i in 0..n {
        let team = TEAMS[i % 4];
        let _ = write!(
            out,
            r#"namespace app-{i} {{ cluster = cluster.bench }}

service app-{i} {{
  namespace  = namespace.app-{i}
  image      = "registry.example.com/{team}/app-{i}:1.{minor}.0"
  replicas   = {replicas}
  port       = {port}
  env        = {{ APP_NAME = "app-{i}", TEAM = "{team}", LOG_LEVEL = "info" }}
  resources  = {{ millicpu = {millicpu}, memory = {memory}MiB }}
  allow_from = [namespace.ingress]
}}

"#,
            minor = i % 10,
            replicas = 1 + i % 3,
            port = 8000 + i % 100,
            millicpu = 100 * (1 + i % 4),
            memory = 128 * (1 + i % 2),
        );
    }
    out
}

/// The third and fourth octets of VLAN `v`'s subnet, inside 172.16.0.0/12.
fn vlan_subnet(v: usize) -> String {
    format!("172.{}.{}.0/24", 16 + v / 256, v % 256)
}

fn infra(vms: usize) -> String {
    let hosts = vms.div_ceil(VMS_PER_HOST);
    let vlans = vms.div_ceil(VMS_PER_VLAN);
    let mut out = String::with_capacity(vms * 700);
    out.push_str(
        r#"site {
  name     = "bench"
  domain   = "bench.example"
  dns      = [9.9.9.9]
  ntp      = ["0.pool.ntp.org"]
  ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHH8CMSoyJvG3W2Bhrhya3OVcBvyV908o9IiV1Ixwaa0 ops@bench"]
}

vlan mgmt { id = 10, subnet = 10.0.0.0/16, description = "Management" }

firewall fw { hostname = "fw", wan = { interface = "vtnet0" }, trunk = "vtnet1" }

rule mgmt-out { from = vlan.mgmt, to = "any", description = "Management: everything" }

"#,
    );
    for h in 0..hosts {
        let _ = write!(
            out,
            r#"host h-{h} {{
  cpu     = 64
  memory  = 512GiB
  vlan    = vlan.mgmt
  address = vlan.mgmt.subnet.host({address})
  bridges = {{ vmbr0 = {{ ports = ["enp5s0"] }} }}
  storage = {{ tank = {{ kind = "zfspool", pool = "tank", size = 8TiB }} }}
}}

"#,
            address = 2 + h,
        );
    }
    for v in 0..vlans {
        let _ = write!(
            out,
            r#"vlan v-{v} {{ id = {id}, subnet = {subnet}, description = "Segment {v}" }}

rule v-{v}-dns {{
  from  = vlan.v-{v}
  to    = vlan.v-{v}.subnet.subnet(32, 1)
  proto = "tcp/udp"
  port  = 53
}}

rule v-{v}-private {{ from = vlan.v-{v}, to = 10.0.0.0/8, action = "block", log = true }}

rule v-{v}-https {{ from = vlan.v-{v}, to = "any", proto = "tcp", port = 443 }}

"#,
            id = 100 + v,
            subnet = vlan_subnet(v),
        );
    }
    for i in 0..vms {
        let _ = write!(
            out,
            r#"vm vm-{i} {{
  host        = host.h-{host}
  vmid        = {vmid}
  description = "Benchmark VM {i}"
  cores       = 2
  memory      = 2GiB
  image       = "local:import/debian-12-genericcloud-amd64.qcow2"
  disks       = {{ scsi0 = {{ storage = "tank", size = 20GiB }} }}
  nics        = {{ net0 = {{ vlan = vlan.v-{vlan}, address = vlan.v-{vlan}.subnet.host({index}){mac} }} }}
  startup     = {{ order = {order}, up = 5 }}
  tags        = ["bench", "{team}"]
  packages    = ["curl"]
}}

"#,
            host = i / VMS_PER_HOST,
            vmid = 1000 + i,
            vlan = i / VMS_PER_VLAN,
            index = 10 + i % VMS_PER_VLAN,
            order = 10 + i % 50,
            team = TEAMS[i % 4],
            mac = explicit_mac(i),
        );
        if i % 10 == 0 {
            let _ = write!(
                out,
                r#"rule vm-{i}-ssh {{ from = vlan.mgmt, to = vm.vm-{i}, proto = "tcp", port = 22 }}

"#
            );
        }
    }
    out
}

/// Derived MACs keep Proxmox's prefix and 24 hashed bits, so among many thousands of VMs two
/// collide (`check::duplicate-mac`), as a real platform that large would find out too and fix
/// with explicit MACs. VMs past the first 4,096 get one: locally administered, from the index.
fn explicit_mac(i: usize) -> String {
    if i < 4096 {
        return String::new();
    }
    let [_, b, c, d] = (i as u32).to_be_bytes();
    format!(", mac = 02:00:00:{b:02x}:{c:02x}:{d:02x}")
}

/// Panics with every error among `stages`' diagnostics: a generated platform must compile.
pub fn assert_no_errors(stages: impl IntoIterator<Item = Vec<plat_lang::diagnostic::Diagnostic>>) {
    let errors: Vec<_> = stages
        .into_iter()
        .flatten()
        .filter(|d| d.is_error())
        .collect();
    assert!(
        errors.is_empty(),
        "the generated platform has errors: {errors:#?}"
    );
}

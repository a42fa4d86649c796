//! A hand-built model equal to what the `platform-small` example lowers to, for emitter unit
//! tests that must not depend on the language front end. Spans are all default (file 0).

use super::*;

fn at<T>(value: T) -> At<T> {
    At::new(value, Span::default())
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("fixture address")
}

fn cidr(text: &str) -> Cidr {
    let (addr, prefix) = text.split_once('/').expect("fixture cidr");
    Cidr::new(ip(addr), prefix.parse().expect("prefix")).expect("fixture cidr")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn vlan(name: &str, id: u16, subnet: &str, dhcp: Option<(&str, &str)>, description: &str) -> Vlan {
    let subnet = cidr(subnet);
    Vlan {
        name: name.into(),
        span: Span::default(),
        id: at(id),
        gateway: at(subnet.host(1).expect("gateway")),
        subnet: at(subnet),
        dhcp: at(dhcp.map(|(from, to)| DhcpRange {
            from: ip(from),
            to: ip(to),
        })),
        description: at(description.into()),
    }
}

// Every field is written today; `..Vm::placeholder()` takes the ones the prelude adds.
#[allow(clippy::needless_update)]
fn node_vm(name: &str, index: u32, cores: u32, memory_gib: i64, disk_gib: i64, role: &str) -> Vm {
    let mut disks = IndexMap::new();
    disks.insert(
        "scsi0".to_string(),
        Disk {
            span: Span::default(),
            storage: at("local-lvm".into()),
            size: at(disk_gib << 30),
            discard: at(true),
            ssd: at(true),
        },
    );
    let mut nics = IndexMap::new();
    nics.insert(
        "net0".to_string(),
        Nic {
            span: Span::default(),
            vlan: at(Some("nodes".into())),
            address: at(Some(ip(&format!("10.20.0.{}", 10 + index)))),
            mac: at(None),
            bridge: at("vmbr0".into()),
            firewall: at(false),
        },
    );
    Vm {
        name: name.into(),
        span: Span::default(),
        host: at("pve1".into()),
        vmid: at(200 + index),
        description: at(String::new()),
        cores: at(cores),
        sockets: at(1),
        cpu: at("x86-64-v2-AES".into()),
        memory: at(memory_gib << 30),
        image: at(Some(
            "local:import/debian-12-genericcloud-amd64.qcow2".into(),
        )),
        disks: at(disks),
        nics: at(nics),
        onboot: at(true),
        startup: at(None),
        tags: at(strings(&["k8s", role])),
        agent: at(true),
        packages: at(Vec::new()),
        cloud_init: at(true),
        ostype: at("l26".into()),
        console: at("serial".into()),
        iso: at(None),
        ..Vm::placeholder()
    }
}

/// The `platform-small` example as a model.
pub fn small() -> Model {
    let mut model = Model {
        site: Some(Site {
            span: Span::default(),
            name: at("lab".into()),
            domain: at("lab.home.arpa".into()),
            timezone: at("Europe/Paris".into()),
            dns: at(vec![ip("9.9.9.9"), ip("1.1.1.1")]),
            ntp: at(strings(&["pool.ntp.org"])),
            ssh_keys: at(strings(&[
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ0ZXN0a2V5Zm9ycGxhdGV4YW1wbGVzb25seTAwMDA ops@laptop",
            ])),
            admin_user: at("ops".into()),
        }),
        ..Model::default()
    };
    for v in [
        vlan(
            "mgmt",
            10,
            "10.10.0.0/24",
            None,
            "Proxmox, firewall and switch management",
        ),
        vlan(
            "nodes",
            20,
            "10.20.0.0/24",
            Some(("10.20.0.100", "10.20.0.199")),
            "Kubernetes nodes",
        ),
        vlan(
            "services",
            30,
            "10.30.0.0/24",
            None,
            "Load-balanced service addresses",
        ),
    ] {
        model.vlans.insert(v.name.clone(), v);
    }
    let mut bridges = IndexMap::new();
    bridges.insert(
        "vmbr0".to_string(),
        Bridge {
            ports: strings(&["enp1s0"]),
            vlan_aware: true,
        },
    );
    let mut storage = IndexMap::new();
    storage.insert(
        "local-lvm".to_string(),
        Storage {
            span: Span::default(),
            kind: StorageKind::LvmThin,
            size: 900 << 30,
            pool: None,
            vgname: None,
        },
    );
    model.hosts.insert(
        "pve1".into(),
        Host {
            name: "pve1".into(),
            span: Span::default(),
            cpu: at(16),
            memory: at(64 << 30),
            vlan: at("mgmt".into()),
            address: at(ip("10.10.0.2")),
            bridges: at(bridges),
            storage: at(storage),
            cpu_overcommit: at(4),
            memory_reserved: at(2 << 30),
            snippets_storage: at("local".into()),
        },
    );
    model.firewalls.insert(
        "fw1".into(),
        Firewall {
            name: "fw1".into(),
            span: Span::default(),
            hostname: at("fw1".into()),
            wan_interface: at("igb0".into()),
            wan_mode: at(WanMode::Dhcp),
            trunk: at("igb1".into()),
            vm: at(None),
        },
    );
    let rules = [
        (
            "nodes-no-mgmt",
            Endpoint::Vlan("nodes".into()),
            Endpoint::Vlan("mgmt".into()),
            Action::Block,
            Proto::Any,
            None,
            "nodes never reach the management network",
        ),
        (
            "nodes-out",
            Endpoint::Vlan("nodes".into()),
            Endpoint::Any,
            Action::Pass,
            Proto::Any,
            None,
            "nodes reach the internet",
        ),
        (
            "https-in",
            Endpoint::Any,
            Endpoint::Vlan("services".into()),
            Action::Pass,
            Proto::Tcp,
            Some((443, 443)),
            "",
        ),
    ];
    for (name, from, to, action, proto, ports, description) in rules {
        model.rules.insert(
            name.into(),
            Rule {
                name: name.into(),
                span: Span::default(),
                from: at(from),
                to: at(to),
                action: at(action),
                proto: at(proto),
                ports: at(ports),
                log: at(false),
                description: at(description.into()),
                tracker: ids::tracker("rule", name),
            },
        );
    }
    for i in 1..=3 {
        let name = format!("cp-{i}");
        model
            .vms
            .insert(name.clone(), node_vm(&name, i, 2, 4, 40, "control-plane"));
    }
    for i in 1..=2 {
        let name = format!("worker-{i}");
        model
            .vms
            .insert(name.clone(), node_vm(&name, 10 + i, 4, 8, 100, "worker"));
    }
    model.clusters.insert(
        "main".into(),
        Cluster {
            name: "main".into(),
            span: Span::default(),
            version: at("1.31.4".into()),
            endpoint: at(ip("10.20.0.5")),
            api_port: at(6443),
            pod_cidr: at(cidr("10.244.0.0/16")),
            service_cidr: at(cidr("10.96.0.0/12")),
            cni: at(Cni::Cilium),
            dns_domain: at("cluster.local".into()),
        },
    );
    for name in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"] {
        let role = if name.starts_with("cp") {
            Role::ControlPlane
        } else {
            Role::Worker
        };
        model.nodes.insert(
            name.into(),
            Node {
                name: name.into(),
                span: Span::default(),
                cluster: at("main".into()),
                vm: at(name.into()),
                role: at(role),
                labels: at(Vec::new()),
                taints: at(Vec::new()),
            },
        );
    }
    model.namespaces.insert(
        "web".into(),
        Namespace {
            name: "web".into(),
            span: Span::default(),
            cluster: at("main".into()),
            pod_security: at("restricted".into()),
            default_deny: at(true),
            labels: at(Vec::new()),
        },
    );
    model.services.insert(
        "whoami".into(),
        Service {
            name: "whoami".into(),
            span: Span::default(),
            namespace: at("web".into()),
            image: at("traefik/whoami:v1.10.3".into()),
            replicas: at(2),
            port: at(80),
            env: at(vec![
                ("WHOAMI_NAME".into(), "lab".into()),
                ("FEATURE".into(), "on".into()),
                ("WINDOW".into(), "12:30".into()),
            ]),
            resources: at(Resources {
                millicpu: 100,
                memory: 64 << 20,
            }),
            health_path: at(None),
            ingress: at(Some(Ingress {
                host: "whoami.lab.home.arpa".into(),
                path: "/".into(),
                class: "nginx".into(),
                issuer: None,
            })),
            allow_from: at(Vec::new()),
            args: at(Vec::new()),
            run_as_user: at(65532),
        },
    );
    model
}

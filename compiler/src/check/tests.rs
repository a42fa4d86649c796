//! Tests of the check set as a whole: every check documented with a distinct code, the
//! `platform-small` fixture clean, the conformance examples (`errors/*.plat`) as models
//! reporting their expected code at their expected line, and a scale test.

use super::*;
use crate::model::fixture;

#[test]
fn the_small_platform_passes_every_check() {
    assert_eq!(run(&fixture::small()), Vec::new());
}

#[test]
fn checks_have_distinct_codes_and_documentation() {
    let mut codes = Vec::new();
    for info in CHECKS {
        assert!(info.code.starts_with("check::"), "{}", info.code);
        let name = &info.code["check::".len()..];
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        let doc = info.doc_markdown();
        for section in ["What it does", "Why", "Example", "How to fix"] {
            assert!(
                doc.contains(&format!("## {section}\n")),
                "{name}: {section}"
            );
        }
        codes.push(info.code);
    }
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), CHECKS.len());
}

#[test]
fn static_addresses_follow_declaration_order() {
    let mut model = fixture::small();
    model.vms["cp-1"].span = testing::span(1);
    model.hosts["pve1"].span = testing::span(2);
    let owners: Vec<String> = static_addresses(&model)
        .into_iter()
        .map(|a| a.owner.to_string())
        .collect();
    assert_eq!(owners[0], "the gateway of vlan mgmt");
    assert_eq!(owners[owners.len() - 2], "vm cp-1 (net0)");
    assert_eq!(owners[owners.len() - 1], "host pve1");
}

#[test]
fn a_cluster_lives_on_its_control_plane_vlan() {
    let model = fixture::small();
    let vlans = cluster_vlans(&model);
    assert_eq!(vlans["main"].vlan, "nodes");
    assert_eq!(vlans["main"].node, "cp-1");
}

/// The conformance examples `errors/*.plat` as models, each value at the span of its
/// line: they must report their `# expect: CODE at LINE`.
mod examples {
    use super::*;
    use crate::check::testing::{cidr, ip};
    use crate::model::{Cluster, Host, Vlan, Vm};
    use plat_lang::span::FileId;

    fn line(n: usize) -> Span {
        Span::new(FileId(1), 100 * n, 100 * n + 10)
    }

    fn on<T>(value: T, n: usize) -> At<T> {
        At::new(value, line(n))
    }

    fn defaulted<T>(value: T) -> At<T> {
        At {
            from_default: true,
            ..At::new(value, Span::new(FileId(0), 1, 2))
        }
    }

    /// `vlan nodes` on line 2 and `host pve1` on lines 4 to 9.
    fn base(host_memory_gib: i64) -> Model {
        let small = fixture::small();
        let vlan = Vlan {
            span: line(2),
            id: on(20, 2),
            subnet: on(cidr("10.20.0.0/24"), 2),
            gateway: defaulted(ip("10.20.0.1")),
            dhcp: defaulted(None),
            description: defaulted(String::new()),
            ..small.vlans["nodes"].clone()
        };
        let host = Host {
            span: line(4),
            cpu: on(8, 5),
            memory: on(host_memory_gib << 30, 6),
            vlan: on("nodes".into(), 7),
            address: on(ip("10.20.0.2"), 8),
            storage: defaulted(Default::default()),
            cpu_overcommit: defaulted(4),
            memory_reserved: defaulted(2 << 30),
            ..small.hosts["pve1"].clone()
        };
        let mut model = Model::default();
        model.vlans.insert("nodes".into(), vlan);
        model.hosts.insert("pve1".into(), host);
        model
    }

    /// `vm NAME { host = host.pve1, vmid = VMID, memory = 2GiB, nics = ... }` at `first`.
    fn vm(model: &mut Model, name: &str, vmid: u32, address: &str, first: usize) {
        let small = fixture::small();
        let mut vm = Vm {
            name: name.into(),
            span: line(first),
            host: on("pve1".into(), first + 1),
            vmid: on(vmid, first + 1),
            memory: on(2 << 30, first + 1),
            disks: defaulted(Default::default()),
            ..small.vms["cp-1"].clone()
        };
        let nic = &mut vm.nics.value["net0"];
        nic.vlan = on(Some("nodes".into()), first + 2);
        nic.address = on(Some(ip(address)), first + 2);
        nic.mac = defaulted(None);
        model.vms.insert(name.into(), vm);
    }

    fn expect(model: &Model, code: &str, at_line: usize) {
        let found = run(model);
        assert!(
            found
                .iter()
                .any(|d| d.code == code && d.span == line(at_line)),
            "{code} at {at_line} in {found:#?}"
        );
        assert!(found
            .iter()
            .all(|d| d.code == code || d.code == "check::missing-site"));
    }

    #[test]
    fn address_outside_subnet() {
        let mut model = base(32);
        vm(&mut model, "a", 101, "10.30.0.11", 11);
        expect(&model, "check::address-outside-subnet", 13);
    }

    #[test]
    fn duplicate_address() {
        let mut model = base(32);
        vm(&mut model, "a", 101, "10.20.0.11", 11);
        vm(&mut model, "b", 102, "10.20.0.11", 15);
        expect(&model, "check::duplicate-address", 17);
    }

    #[test]
    fn duplicate_vmid() {
        let mut model = base(32);
        vm(&mut model, "a", 101, "10.20.0.11", 11);
        vm(&mut model, "b", 101, "10.20.0.12", 15);
        expect(&model, "check::duplicate-vmid", 16);
    }

    #[test]
    fn host_capacity() {
        let mut model = base(16);
        for i in 1..=3 {
            vm(
                &mut model,
                &format!("big-{i}"),
                100 + i,
                &format!("10.20.0.{}", 10 + i),
                12,
            );
            model.vms[&format!("big-{i}")].memory = on(8 << 30, 13);
        }
        expect(&model, "check::host-capacity", 6);
    }

    #[test]
    fn cidr_overlap() {
        let mut model = base(32);
        model.hosts.clear();
        let cluster = Cluster {
            span: line(4),
            version: on("1.31.4".into(), 5),
            endpoint: on(ip("10.20.0.5"), 6),
            pod_cidr: on(cidr("10.244.0.0/16"), 7),
            service_cidr: on(cidr("10.20.0.0/16"), 8),
            ..fixture::small().clusters["main"].clone()
        };
        model.clusters.insert("main".into(), cluster);
        expect(&model, "check::cidr-overlap", 8);
    }
}

/// A platform of about `n` VMs, nodes, rules and services, plus 4000 VLANs, built from
/// the fixture's pieces with distinct names, ids and addresses.
fn large(n: usize) -> Model {
    use crate::check::testing::{at, cidr};
    use crate::model::{ids, Endpoint, Proto};
    let small = fixture::small();
    let mut model = Model {
        site: small.site.clone(),
        ..Model::default()
    };
    let subnet = |i: usize| cidr(&format!("10.{}.{}.0/24", i / 256, i % 256));
    for i in 0..4000 {
        let mut vlan = small.vlans["nodes"].clone();
        vlan.name = format!("v{i}");
        vlan.id = at(i as u16 + 1, 0);
        vlan.subnet = at(subnet(i), 0);
        vlan.gateway = at(subnet(i).host(1).unwrap(), 0);
        vlan.dhcp = at(None, 0);
        model.vlans.insert(vlan.name.clone(), vlan);
    }
    for h in 0..n / 10 {
        let mut host = small.hosts["pve1"].clone();
        host.name = format!("h{h}");
        host.vlan = at(format!("v{}", h % 4000), 0);
        host.address = at(subnet(h % 4000).host(2 + (h / 4000) as u128).unwrap(), 0);
        model.hosts.insert(host.name.clone(), host);
    }
    for i in 0..n {
        let name = format!("vm{i}");
        let mut vm = small.vms["cp-1"].clone();
        vm.name = name.clone();
        vm.host = at(format!("h{}", i / 10), 0);
        vm.vmid = at(1000 + i as u32, 0);
        let nic = &mut vm.nics.value["net0"];
        nic.vlan = at(Some(format!("v{}", i / 10 % 4000)), 0);
        nic.address = at(
            subnet(i / 10 % 4000).host(10 + (i % 10 + i / 40000 * 10) as u128),
            0,
        );
        nic.mac = at(Some(ids::mac(&name, "net0")), 0);
        model.vms.insert(name.clone(), vm);
        let mut node = small.nodes[if i % 10 == 0 { "cp-1" } else { "worker-1" }].clone();
        node.name = name.clone();
        node.vm = at(name, 0);
        node.cluster = at(format!("c{}", i / 10), 0);
        model.nodes.insert(node.name.clone(), node);
        let mut rule = small.rules["https-in"].clone();
        rule.name = format!("r{i}");
        rule.from = at(Endpoint::Vm(format!("vm{i}")), 0);
        rule.to = at(Endpoint::Vlan(format!("v{}", i % 4000)), 0);
        rule.proto = at(Proto::Tcp, 0);
        rule.ports = at(Some((i as u16 % 1000 + 1, i as u16 % 1000 + 1)), 0);
        model.rules.insert(rule.name.clone(), rule);
        let mut service = small.services["whoami"].clone();
        service.name = format!("s{i}");
        let mut ingress = service.ingress.value.clone().unwrap();
        ingress.host = format!("s{i}.lab.home.arpa");
        service.ingress = at(Some(ingress), 0);
        model.services.insert(service.name.clone(), service);
    }
    for c in 0..n / 10 {
        let mut cluster = small.clusters["main"].clone();
        cluster.name = format!("c{c}");
        cluster.endpoint = at(subnet(c % 4000).host(5 + (c / 4000) as u128).unwrap(), 0);
        model.clusters.insert(cluster.name.clone(), cluster);
    }
    model.namespaces = small.namespaces;
    model
}

#[test]
fn a_large_clean_platform_has_no_findings() {
    let found = run(&large(2000));
    assert!(found.is_empty(), "{:#?}", &found[..found.len().min(3)]);
}

/// Every check is O(n log n): all of them together take about 10 s on 100k VMs, nodes,
/// rules and services in a debug build on a busy 2-core machine.
#[test]
#[ignore = "scale test; run with --ignored"]
fn checks_scale_to_a_hundred_thousand_objects() {
    let model = large(100_000);
    assert_eq!(model.vms.len(), 100_000);
    let started = std::time::Instant::now();
    let found = run(&model);
    let elapsed = started.elapsed();
    // 24 hash bits: 100k derived MACs collide a few hundred times (birthday bound).
    let (macs, others): (Vec<_>, Vec<_>) =
        found.iter().partition(|d| d.code == "check::duplicate-mac");
    assert!(others.is_empty(), "{:#?}", &others[..others.len().min(3)]);
    assert!(macs.len() < 1000, "{}", macs.len());
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
}

#[test]
fn name_lists_are_bounded() {
    assert_eq!(name_list(["a", "b"], 3), "a, b");
    assert_eq!(name_list(["a", "b", "c", "d"], 2), "a, b and 2 more");
}

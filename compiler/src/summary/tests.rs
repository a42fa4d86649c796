//! Tests of the summary: objects, the JSON text, changes and impacts.

use std::collections::BTreeMap;

use super::json::object_fields;
use super::*;
use crate::model::fixture;
use crate::model::words::size;
use crate::model::Model;

#[test]
fn text_is_the_rendered_summary() {
    let mut odd = fixture::small();
    // Names that need escaping, and no VMs, hosts or anything else at all.
    odd.vms["cp-1"].name = "cp-\"1\"\\\u{1}é".to_string();
    let empty = Model::default();
    for model in [
        fixture::small(),
        crate::emit::k8s::tests::full(),
        odd,
        empty,
    ] {
        assert_eq!(text(&model), render(&summarize(&model)));
    }
    let repeated: Vec<(String, String)> = vec![
        ("b".into(), "1".into()),
        ("a".into(), "2".into()),
        ("b".into(), "3".into()),
    ];
    // A name given twice keeps its last value, as extending a map does.
    let merged: BTreeMap<String, String> = repeated.iter().cloned().collect();
    assert_eq!(
        object_fields(repeated),
        object_fields(merged.into_iter().collect())
    );
    assert!(
        object_fields(vec![("b".into(), "1".into()), ("b".into(), "3".into())])
            .contains("\"b\": \"3\"")
    );
}

#[test]
fn summary_round_trips_through_json() {
    let summary = summarize(&fixture::small());
    let text = render(&summary);
    assert_eq!(parse(&text), Some(summary));
    assert!(text.ends_with("}\n"));
}

#[test]
fn vm_memory_reads_in_binary_units() {
    let summary = summarize(&fixture::small());
    assert_eq!(summary["vm cp-1"]["memory"], "4GiB");
    assert_eq!(size(1536 << 20), "1536MiB");
    assert_eq!(size(1000), "1000B");
}

#[test]
fn a_memory_change_needs_a_reboot_and_a_new_vm_is_created() {
    let old = summarize(&fixture::small());
    let mut model = fixture::small();
    model.vms["cp-1"].memory.value = 16 << 30;
    let removed = model.vms.shift_remove("worker-2");
    assert!(removed.is_some());
    let changes = compare(&old, &summarize(&model));
    let shown: Vec<String> = changes
        .iter()
        .map(|c| format!("{c} [{}]", c.impact()))
        .collect();
    assert_eq!(
        shown,
        [
            "vm cp-1: memory 4GiB -> 16GiB [needs a VM reboot]",
            "vm worker-2: removed [destroys the VM]",
        ]
    );
}

#[test]
fn values_read_as_the_sources_write_them() {
    let summary = summarize(&fixture::small());
    assert_eq!(summary["host pve1"]["storage local-lvm"], "lvmthin 900GiB");
    assert_eq!(summary["node cp-1"]["role"], "control-plane");
    assert_eq!(summary["firewall fw1"]["wan"], "dhcp");
    assert_eq!(summary["rule nodes-out"]["after"], "nodes-no-mgmt");
}

#[test]
fn impacts_follow_the_field() {
    assert_eq!(impact("vm", "disk scsi0 size"), Impact::InPlace);
    assert_eq!(impact("vm", "disk scsi0 storage"), Impact::Recreate);
    assert_eq!(impact("vm", "nic net0 address"), Impact::CloudInit);
    assert_eq!(impact("rule", "ports"), Impact::Firewall);
    assert_eq!(impact("service", "image"), Impact::Rollout);
    assert_eq!(impact("service", "replicas"), Impact::InPlace);
}

/// The impacts of the `match` the prelude's tags replaced, field by field.
#[test]
fn impacts_are_those_of_the_prelude_tags() {
    let expected = [
        ("vm", "host", Impact::Recreate),
        ("vm", "vmid", Impact::Recreate),
        ("vm", "image", Impact::Recreate),
        ("vm", "cores", Impact::Reboot),
        ("vm", "sockets", Impact::Reboot),
        ("vm", "cpu", Impact::Reboot),
        ("vm", "memory", Impact::Reboot),
        ("vm", "agent", Impact::Reboot),
        ("vm", "nic net0 mac", Impact::Reboot),
        ("vm", "nic net0 vlan", Impact::InPlace),
        ("vm", "nic net0 bridge", Impact::InPlace),
        ("vm", "packages", Impact::CloudInit),
        ("vm", "cloud_init", Impact::CloudInit),
        ("vm", "description", Impact::InPlace),
        ("vm", "onboot", Impact::InPlace),
        ("vm", "startup", Impact::InPlace),
        ("vm", "tags", Impact::InPlace),
        ("site", "dns", Impact::Firewall),
        ("site", "domain", Impact::CloudInit),
        ("site", "ssh_keys", Impact::CloudInit),
        ("vlan", "dhcp", Impact::Firewall),
        ("firewall", "wan_interface", Impact::Firewall),
        ("firewall", "wan", Impact::Firewall),
        ("rule", "after", Impact::Firewall),
        ("forward", "to_port", Impact::Firewall),
        ("cluster", "version", Impact::Upgrade),
        ("cluster", "endpoint", Impact::RebuildCluster),
        ("cluster", "cni", Impact::RebuildCluster),
        ("node", "cluster", Impact::Rejoin),
        ("node", "vm", Impact::Rejoin),
        ("node", "role", Impact::Rejoin),
        ("node", "labels", Impact::InPlace),
        ("service", "ingress", Impact::InPlace),
        ("service", "allow_from", Impact::InPlace),
        ("service", "resources", Impact::Rollout),
        ("chart", "values", Impact::Helm),
        ("namespace", "labels", Impact::InPlace),
        ("manifest", "body", Impact::InPlace),
        ("host", "memory", Impact::InPlace),
        ("host", "storage local-lvm", Impact::InPlace),
        ("host", "bridge vmbr0", Impact::InPlace),
        ("unknown", "x", Impact::InPlace),
    ];
    for (kind, field, impact_of) in expected {
        assert_eq!(impact(kind, field), impact_of, "{kind} {field}");
    }
}

/// The VM fields added to the prelude with their emitter lines (machine, bios, efidisk, tpm,
/// hostpci, balloon, numa) are in the summary, and a change of each needs a reboot: from their
/// prelude declarations alone.
#[test]
fn new_vm_fields_show_and_need_a_reboot() {
    use crate::model::{VmEfidisk, VmHostpci, VmTpm};
    let old_model = fixture::small();
    let old = summarize(&old_model);
    let vm = &old["vm cp-1"];
    for (field, value) in [
        ("machine", "i440fx"),
        ("bios", "seabios"),
        ("efidisk", "none"),
        ("tpm", "none"),
        ("balloon", "none"),
        ("numa", "false"),
    ] {
        assert_eq!(vm[field], value, "{field}");
    }
    let mut model = fixture::small();
    let vm = &mut model.vms["cp-1"];
    vm.machine.value = "q35".into();
    vm.bios.value = "ovmf".into();
    let mut efidisk = VmEfidisk::placeholder();
    efidisk.storage.value = "local-lvm".into();
    vm.efidisk.value = Some(efidisk);
    let mut tpm = VmTpm::placeholder();
    tpm.storage.value = "local-lvm".into();
    vm.tpm.value = Some(tpm);
    let mut device = VmHostpci::placeholder();
    device.device.value = "0000:01:00.0".into();
    vm.hostpci.value.insert("hostpci0".into(), device);
    vm.balloon.value = Some(2 << 30);
    vm.numa.value = true;
    let shown: Vec<String> = compare(&old, &summarize(&model))
        .iter()
        .map(|c| format!("{c} [{}]", c.impact()))
        .collect();
    assert_eq!(
        shown,
        [
            "vm cp-1: balloon none -> 2GiB [needs a VM reboot]",
            "vm cp-1: bios seabios -> ovmf [needs a VM reboot]",
            "vm cp-1: efidisk none -> storage=local-lvm,pre_enrolled_keys=true [needs a VM reboot]",
            "vm cp-1: hostpci hostpci0 device (none) -> 0000:01:00.0 [needs a VM reboot]",
            "vm cp-1: hostpci hostpci0 pcie (none) -> false [needs a VM reboot]",
            "vm cp-1: hostpci hostpci0 rombar (none) -> true [needs a VM reboot]",
            "vm cp-1: machine i440fx -> q35 [needs a VM reboot]",
            "vm cp-1: numa false -> true [needs a VM reboot]",
            "vm cp-1: tpm none -> storage=local-lvm [needs a VM reboot]",
        ]
    );
}

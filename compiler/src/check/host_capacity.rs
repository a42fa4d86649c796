//! `check::host-capacity`: a host whose VMs need more memory, vCPUs or storage than it has.
//! One pass groups VMs by host index; each host is then summed once. Tests below.

use std::collections::BTreeMap;

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::Span;
use plat_lang::value::format_size;

use super::{declare_check, name_list, span_of};
use crate::model::{Bytes, Disk, Host, Model, Storage, Vm};

declare_check! {
    /// ## What it does
    /// Sums what the VMs placed on each host ask for, and reports a host where
    /// - the VMs' `memory` plus the host's `memory_reserved` exceed its `memory`
    ///   (at the host's `memory`);
    /// - the VMs' vCPUs (`cores` times `sockets`) exceed `cpu` times `cpu_overcommit`
    ///   (at the host's `cpu`);
    /// - the disks on one storage pool exceed the pool's `size` (at the storage entry).
    ///
    /// ## Why
    /// Proxmox starts VMs until memory runs out; then the kernel's OOM killer stops a VM,
    /// usually the biggest. Too many vCPUs make every VM slow, and a full thin pool corrupts
    /// the disks written to it. Overcommit is declared, so the limits are yours to raise.
    ///
    /// ## Example
    /// ```plat
    /// host pve1 { cpu = 8, memory = 16GiB, vlan = vlan.nodes, address = 10.20.0.2 }
    /// for i in 1..=3 {
    ///   vm "big-${i}" { host = host.pve1, vmid = 100 + i, memory = 8GiB, nics = {} }
    /// }
    /// ```
    ///
    /// ## How to fix
    /// Move VMs to another host, give them less, or declare what the host really has
    /// (`memory`, `cpu`, `cpu_overcommit`, storage `size`).
    code = "check::host-capacity",
    severity = Error,
}

/// How many VMs or disks a diagnostic names as secondary labels.
const SHOWN: usize = 8;

/// Reports each host over its memory, CPU or storage capacity.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut vms_by_host: Vec<Vec<&Vm>> = vec![Vec::new(); model.hosts.len()];
    for vm in model.vms.values() {
        if let Some(index) = model.hosts.get_index_of(vm.host.as_str()) {
            vms_by_host[index].push(vm);
        }
    }
    for (host, vms) in model.hosts.values().zip(&vms_by_host) {
        check_memory(host, vms, out);
        check_cpu(host, vms, out);
        check_storage(host, vms, out);
    }
}

fn check_memory(host: &Host, vms: &[&Vm], out: &mut Vec<Diagnostic>) {
    let for_vms: Bytes = vms.iter().map(|vm| *vm.memory).sum();
    let needed = for_vms + *host.memory_reserved;
    if needed <= *host.memory {
        return;
    }
    let mut diagnostic = Diagnostic::error(
        INFO.code,
        host.memory.span,
        format!(
            "host {} has {} of memory but needs {}: {} for vms {} and {} reserved",
            host.name,
            format_size(*host.memory),
            format_size(needed),
            format_size(for_vms),
            name_list(vms.iter().map(|vm| vm.name.as_str()), SHOWN),
            format_size(*host.memory_reserved),
        ),
    )
    .with_label(format!("{} short", format_size(needed - *host.memory)));
    let users = vms
        .iter()
        .map(|vm| (*vm.memory, vm.memory.span, format!("vm {}", vm.name)));
    for (span, label) in usage_labels(users, ("uses", "use"), format_size) {
        diagnostic = diagnostic.with_secondary(span, label);
    }
    if !host.memory_reserved.from_default {
        diagnostic =
            diagnostic.with_secondary(host.memory_reserved.span, "memory kept for the host");
    }
    out.push(diagnostic.with_help(format!(
        "move a vm to another host, lower the vms' memory, or raise the memory of host {}",
        host.name
    )));
}

fn check_cpu(host: &Host, vms: &[&Vm], out: &mut Vec<Diagnostic>) {
    let vcpus = |vm: &Vm| u64::from(*vm.cores) * u64::from(*vm.sockets);
    let used: u64 = vms.iter().map(|vm| vcpus(vm)).sum();
    let capacity = u64::from(*host.cpu) * u64::from(*host.cpu_overcommit);
    if used <= capacity {
        return;
    }
    let mut diagnostic = Diagnostic::error(
        INFO.code,
        host.cpu.span,
        format!(
            "host {} runs {used} vcpus on vms {} but allows {capacity}: {} with cpu_overcommit {}",
            host.name,
            name_list(vms.iter().map(|vm| vm.name.as_str()), SHOWN),
            plural(u64::from(*host.cpu), "thread"),
            *host.cpu_overcommit,
        ),
    )
    .with_label(format!("{} too many", plural(used - capacity, "vcpu")));
    let users = vms.iter().map(|vm| {
        let span = span_of(&vm.cores, vm.span);
        (vcpus(vm), span, format!("vm {}", vm.name))
    });
    for (span, label) in usage_labels(users, ("has", "have"), |n| plural(n, "vcpu")) {
        diagnostic = diagnostic.with_secondary(span, label);
    }
    if !host.cpu_overcommit.from_default {
        diagnostic =
            diagnostic.with_secondary(host.cpu_overcommit.span, "overcommit declared here");
    }
    out.push(diagnostic.with_help(format!(
        "move a vm to another host, give vms fewer cores, or raise `cpu_overcommit` of host {}",
        host.name
    )));
}

fn check_storage(host: &Host, vms: &[&Vm], out: &mut Vec<Diagnostic>) {
    let mut disks_by_pool: BTreeMap<&str, Vec<(&Vm, &str, &Disk)>> = BTreeMap::new();
    for vm in vms {
        for (slot, disk) in vm.disks.iter() {
            disks_by_pool
                .entry(disk.storage.as_str())
                .or_default()
                .push((vm, slot, disk));
        }
    }
    for (pool, disks) in disks_by_pool {
        if let Some(storage) = host.storage.get(pool) {
            check_pool(host, pool, storage, &disks, out);
        }
    }
}

fn check_pool(
    host: &Host,
    pool: &str,
    storage: &Storage,
    disks: &[(&Vm, &str, &Disk)],
    out: &mut Vec<Diagnostic>,
) {
    let used: Bytes = disks.iter().map(|(_, _, disk)| *disk.size).sum();
    if used <= storage.size {
        return;
    }
    let mut diagnostic = Diagnostic::error(
        INFO.code,
        span_or(storage.span, host.storage.span),
        format!(
            "storage {pool} of host {} holds {} but its disks need {}",
            host.name,
            format_size(storage.size),
            format_size(used)
        ),
    )
    .with_label(format!("{} short", format_size(used - storage.size)));
    let owners: Vec<String> = disks
        .iter()
        .map(|(vm, slot, _)| format!("vm {} {slot}", vm.name))
        .collect();
    let users = disks
        .iter()
        .zip(&owners)
        .map(|((_, _, disk), owner)| (*disk.size, span_of(&disk.size, disk.span), owner.clone()));
    for (span, label) in usage_labels(users, ("uses", "use"), format_size) {
        diagnostic = diagnostic.with_secondary(span, label);
    }
    out.push(diagnostic.with_help(format!(
        "move disks to another storage, shrink them, or declare the real size of {pool} (disks of {})",
        name_list(owners.iter().map(String::as_str), SHOWN)
    )));
}

/// Secondary labels for the `SHOWN` largest users, largest first: one label per source span,
/// so that VMs generated by one `for` share a label (`vm a, vm b use 8GiB each`) instead of
/// stacking labels on one place. `verbs` agree with one and with several owners.
fn usage_labels<N: Ord + Copy + std::iter::Sum<N>>(
    items: impl Iterator<Item = (N, Span, String)>,
    verbs: (&str, &str),
    amount: impl Fn(N) -> String,
) -> Vec<(Span, String)> {
    let mut items: Vec<_> = items.collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let mut groups: Vec<(Span, Vec<(N, String)>)> = Vec::new();
    let mut group_of: BTreeMap<(u32, u32, u32), usize> = BTreeMap::new();
    for (count, span, owner) in items {
        let key = (span.file.0, span.start, span.end);
        match group_of.get(&key) {
            Some(&group) => groups[group].1.push((count, owner)),
            None if groups.len() < SHOWN => {
                group_of.insert(key, groups.len());
                groups.push((span, vec![(count, owner)]));
            }
            None => {}
        }
    }
    let label = |users: &[(N, String)]| {
        let (one, many) = verbs;
        let owners = name_list(users.iter().map(|(_, owner)| owner.as_str()), SHOWN);
        let first = users[0].0;
        if users.len() == 1 {
            format!("{owners} {one} {}", amount(first))
        } else if users.iter().all(|(count, _)| *count == first) {
            format!("{owners} {many} {} each", amount(first))
        } else {
            let total: N = users.iter().map(|(count, _)| *count).sum();
            format!("{owners} {many} {} together", amount(total))
        }
    };
    groups
        .into_iter()
        .map(|(span, users)| (span, label(&users)))
        .collect()
}

/// `1 vcpu`, `2 vcpus`.
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `span`, unless it is empty (a storage entry lowered without one), then `fallback`.
fn span_or(span: Span, fallback: Span) -> Span {
    if span.is_empty() {
        fallback
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::fixture;
    use plat_lang::diagnostic::Severity;

    #[test]
    fn the_fixture_fits_its_host() {
        assert!(run_check(check, &fixture::small()).is_empty());
    }

    #[test]
    fn memory_over_capacity_is_reported_at_the_host_memory() {
        let mut model = fixture::small();
        // 3 x 4GiB + 2 x 8GiB + 2GiB reserved = 30GiB.
        model.hosts["pve1"].memory = at(16 << 30, 1);
        model.vms["worker-1"].memory = at(8 << 30, 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::host-capacity");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(1));
        assert_eq!(
            d.message,
            "host pve1 has 16GiB of memory but needs 30GiB: 28GiB for vms cp-1, cp-2, cp-3, worker-1, worker-2 and 2GiB reserved"
        );
        assert_eq!(d.label, "14GiB short");
        // Largest first: worker-1 (written at span 2), then worker-2, then the control plane.
        assert_eq!(d.secondary[0].span, span(2));
        assert_eq!(d.secondary[0].message, "vm worker-1 uses 8GiB");
        // The other vms share the fixture's one span, so one label; then the reserve
        // (written in the fixture, not defaulted).
        assert_eq!(
            d.secondary[1].message,
            "vm worker-2, vm cp-1, vm cp-2, vm cp-3 use 20GiB together"
        );
        assert_eq!(d.secondary.len(), 3);
        assert_eq!(d.secondary[2].message, "memory kept for the host");
    }

    #[test]
    fn the_reserve_counts() {
        let mut model = fixture::small();
        model.hosts["pve1"].memory = at(30 << 30, 1);
        assert!(run_check(check, &model).is_empty());
        model.hosts["pve1"].memory_reserved = at(3 << 30, 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].secondary.last().unwrap().span, span(2));
    }

    #[test]
    fn cpu_over_the_overcommit_is_reported_at_the_host_cpu() {
        let mut model = fixture::small();
        // 3 x 2 + 2 x 4 = 14 vcpus.
        model.hosts["pve1"].cpu = at(3, 1);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(1));
        assert!(found[0].message.starts_with("host pve1 runs 14 vcpus"));
        assert!(found[0]
            .message
            .ends_with("allows 12: 3 threads with cpu_overcommit 4"));
        model.hosts["pve1"].cpu_overcommit = at(5, 2);
        assert!(run_check(check, &model).is_empty());
    }

    #[test]
    fn a_full_storage_pool_is_reported_at_the_storage_entry() {
        let mut model = fixture::small();
        // 3 x 40GiB + 2 x 100GiB = 320GiB.
        let storage = &mut model.hosts["pve1"].storage.value["local-lvm"];
        storage.size = 300 << 30;
        storage.span = span(1);
        model.vms["worker-2"].disks.value["scsi0"].size = at(100 << 30, 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.span, span(1));
        assert_eq!(
            d.message,
            "storage local-lvm of host pve1 holds 300GiB but its disks need 320GiB"
        );
        assert_eq!(d.secondary[1].span, span(2));
        assert_eq!(d.secondary[1].message, "vm worker-2 scsi0 uses 100GiB");
    }

    #[test]
    fn vms_on_other_hosts_do_not_count() {
        let mut model = fixture::small();
        model.hosts["pve1"].memory = at(16 << 30, 1);
        let mut pve2 = model.hosts["pve1"].clone();
        pve2.name = "pve2".into();
        model.hosts.insert("pve2".into(), pve2);
        for name in ["worker-1", "worker-2"] {
            model.vms[name].host = at("pve2".into(), 3);
        }
        // pve1: 12GiB + 2GiB, pve2: 16GiB + 2GiB.
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with("host pve2 has 16GiB"));
    }

    #[test]
    fn vms_written_at_one_place_share_a_label() {
        let mut model = fixture::small();
        model.hosts["pve1"].memory = at(16 << 30, 1);
        for name in ["cp-1", "cp-2", "cp-3"] {
            model.vms[name].memory = at(4 << 30, 2);
        }
        let found = run_check(check, &model);
        let labels: Vec<_> = found[0]
            .secondary
            .iter()
            .filter(|l| l.span == span(2))
            .collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].message, "vm cp-1, vm cp-2, vm cp-3 use 4GiB each");
    }

    #[test]
    fn defaulted_cores_point_at_the_vm() {
        let mut model = fixture::small();
        model.hosts["pve1"].cpu = at(1, 1);
        let vm = &mut model.vms["worker-1"];
        vm.span = span(3);
        vm.cores.from_default = true;
        let found = run_check(check, &model);
        assert!(found[0].secondary.iter().any(|l| l.span == span(3)));
        assert!(
            found[0].message.contains("1 thread with"),
            "{}",
            found[0].message
        );
    }
}

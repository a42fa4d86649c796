//! The pfSense emitter: one complete `pfsense/<firewall>/config.xml` per firewall, to restore
//! whole under Diagnostics > Backup & Restore. Built from the structure of the factory default
//! (`reference/pfsense-default-config.xml`: system with groups and admin user, web GUI, cron,
//! rrd, ...) with the platform's data in place of the factory LAN. Format rules are in
//! `reference/pfsense.md`; the writer is `pfsense/xml.rs`.
//!
//! Decisions:
//! - **`<version>` 23.3**, the `latest_config` of CE 2.7.1/2.7.2 (`src/etc/inc/globals.inc`):
//!   2.7.2 loads it without an upgrade step and newer releases upgrade it on boot, whereas a
//!   newer version would make 2.7.2 warn that the file comes from a newer release.
//! - **Interfaces**: `wan` is the WAN NIC (DHCP or static; a static WAN with an upstream gateway
//!   gets the gateway `WANGW` as default route). Each VLAN is a VLAN interface `<trunk>.<tag>`.
//!   The *management VLAN* — the lowest-id VLAN a Proxmox host has its address on — is `lan`,
//!   so pfSense's anti-lockout rule keeps the web GUI and SSH reachable from it whatever the
//!   rules say (`filter.inc` only adds it on `lan`). The other VLANs are `opt1..optN` in
//!   VLAN-id order. Without hosts there is no `lan`. Interface descriptions are the VLAN names
//!   in upper case (`NODES`); descriptions and alias names share one namespace and are made
//!   valid and unique (`pfsense/names.rs`). The trunk's parent NIC is not assigned: pfSense
//!   brings a VLAN's parent up by itself.
//! - **WAN blocks**: as in the factory default the WAN blocks bogon and private sources —
//!   private ones only while no rule on the WAN and no forward names a private source subnet,
//!   since pfSense's block runs first and such a rule could never match (a lab WAN behind a
//!   home router is the usual case).
//! - **Where a rule goes**: pf filters on the way in, so a rule lives on every interface its
//!   *source* arrives on: a VLAN's interface; a host's management VLAN; every VLAN a VM has a
//!   NIC on; for a subnet, every VLAN it overlaps, plus the WAN unless those VLANs cover it
//!   entirely; for `any`, the WAN and every VLAN. A rule on several interfaces is repeated on
//!   each at its declared position — not a floating rule, because pfSense evaluates floating
//!   rules before all interface rules, which would break "first match wins in declaration
//!   order". The first copy carries the rule's tracker, each further copy a tracker derived
//!   from the rule name and interface key; a collision moves to the next free value.
//! - **Endpoints**: a VLAN is `<network>optN</network>` (the interface subnet, kept current by
//!   pfSense, so no per-VLAN aliases), a host or VM is its host alias, a subnet is an
//!   `<address>`, `any` is `<any>`. Ports (`443`, `30000-32767`) go on the destination and only
//!   for tcp, udp and tcp/udp, the protocols pfSense filters ports for. A rule is `inet6` when
//!   an endpoint is an IPv6 subnet or host, `inet` otherwise. Every host gets an alias
//!   `host_<name>`, every VM `vm_<name>` with its static addresses (details: the NIC slots).
//! - **Default deny between VLANs**: pfSense ends every ruleset with its logged "Default deny
//!   rule" and passes nothing that no rule passes, so no explicit block rules are appended:
//!   they would add rules without changing what passes. The factory's "Default allow LAN to
//!   any" rules are not emitted: only the platform's rules pass traffic.
//! - **Port forwards**: a `<nat><rule>` on the WAN address to the target (a VM's first static
//!   address, or the host's) plus the associated filter rule on the WAN, linked by
//!   `associated-rule-id` `nat_<tracker>`, matching the translated destination. Forward rules
//!   come first on the WAN, so rules whose source is `any` do not shadow them; restrict a
//!   forward with its `from`. A forward to a VM without a static address has no target and is
//!   not emitted (a platform check must reject it). Outbound NAT is `automatic`.
//! - **DHCP**: a server on each VLAN with a `dhcp` range, with a static mapping for every VM
//!   NIC with a static address on that VLAN (derived MAC, address, hostname = VM name). VLANs
//!   without a range get no server and no mappings: their VMs are configured statically by
//!   cloud-init.
//! - **DNS**: the resolver (unbound) with a host override `<name>.<domain>` for every host
//!   (its address) and every VM (its first static address). With site resolvers it forwards to
//!   them (`<system><dnsserver>`); without, it resolves itself and the WAN's DHCP may supply
//!   servers (`dnsallowoverride`).
//! - **Access**: the factory `admin` user (password `pfsense`, change it in the GUI) gets the
//!   site's SSH keys, and SSH is enabled key-only when there are keys.
//! - The VLANs are IPv4 (prelude): the WAN gets no IPv6 configuration and there is no DHCPv6.
//!
//! Tests: each submodule tests its section; `pfsense/tests.rs` checks whole documents and
//! dumps them for the upstream validator.

mod filter;
mod names;
mod plan;
mod services;
mod system;
mod xml;

use super::{Files, Out, Secrets, REGENERATE};
use crate::model::{Firewall, Model};
use plan::Plan;
use xml::El;

/// The config revision written to `<version>` (CE 2.7.2's `latest_config`).
pub const CONFIG_VERSION: &str = "23.3";

/// The files of this target: `pfsense/<firewall>/config.xml` per firewall.
pub fn emit(model: &Model) -> Files {
    super::collect(|out| emit_into(model, out))
}

/// The files of this target, into `out`, each with the secret it refers to (the admin
/// password hash).
pub fn emit_into(model: &Model, out: &Out) {
    for fw in model.firewalls.values() {
        let mut secrets = Secrets::default();
        let text = config_xml(model, fw, &mut secrets);
        out.put(
            format!("pfsense/{}/config.xml", fw.name),
            text.into_bytes(),
            &secrets,
        );
    }
}

/// The whole config.xml of `fw`; the secrets it refers to are added to `secrets`.
pub fn config_xml(model: &Model, fw: &Firewall, secrets: &mut Secrets) -> String {
    let comment = format!("Generated by plat; do not edit. Regenerate with `{REGENERATE}`.");
    xml::document(&comment, &config(model, fw, secrets))
}

/// The `<pfsense>` tree, sections in the factory default's order.
fn config(model: &Model, fw: &Firewall, secrets: &mut Secrets) -> El {
    let plan = Plan::new(model, fw);
    El::new("pfsense")
        .with(El::text("version", CONFIG_VERSION))
        .with(El::flag("lastchange"))
        .with(system::system(&plan, model.site.as_ref(), secrets))
        .with(system::interfaces(&plan))
        .with_all(system::gateways(&plan))
        .with(El::new("staticroutes"))
        .with(services::dhcpd(&plan))
        // No DHCPv6 server: the platform's VLANs are IPv4; the section exists (empty) as in
        // the factory default, so every part of pfSense that reads it finds it.
        .with(system::factory("dhcpdv6"))
        .with(system::factory("snmpd"))
        .with(system::factory("diag"))
        .with(system::factory("syslog"))
        .with(filter::nat(&plan))
        .with(filter::filter(&plan))
        .with(system::factory("shaper"))
        .with(system::factory("ipsec"))
        .with(filter::aliases(&plan))
        .with_all(
            [
                "proxyarp", "cron", "wol", "rrd", "widgets", "openvpn", "dnshaper",
            ]
            .map(system::factory),
        )
        .with(services::unbound(&plan))
        .with(system::vlans(&plan))
        .with(system::factory("qinqs"))
}

#[cfg(test)]
mod tests;

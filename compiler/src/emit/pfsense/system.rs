//! `<system>`, `<interfaces>`, `<vlans>`, `<gateways>` and the factory sections pfSense
//! expects in every config (`pfsense-default-config.xml`: cron jobs, rrd, widgets, ...).
//! Element order follows the factory default and pfSense's GUI writers so that a first save
//! in the GUI does not reorder the file.
//!
//! Tests: `tests` below.

use super::plan::{Iface, Plan};
use super::xml::{base64, El};
use crate::emit::Secrets;
use crate::model::{Site, WanMode};

/// The factory default's NTP pool, used when the site lists no NTP servers.
const FACTORY_TIMESERVERS: &str = "2.pfsense.pool.ntp.org";

/// The name of the WAN gateway of a static WAN.
pub const WAN_GATEWAY: &str = "WANGW";

/// `<system>`: host name, domain, DNS, time, the factory groups and admin user (with the
/// operator's SSH keys), web GUI, SSH and the factory tunables.
pub fn system(plan: &Plan, site: Option<&Site>, secrets: &mut Secrets) -> El {
    let dns: Vec<String> = site.map_or(Vec::new(), |s| {
        s.dns.iter().map(|d| d.to_string()).collect()
    });
    let keys: &[String] = site.map_or(&[], |s| &s.ssh_keys);
    let ntp = site
        .map(|s| s.ntp.join(" "))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| FACTORY_TIMESERVERS.to_string());
    let mut system = El::new("system")
        .with(El::text("optimization", "normal"))
        .with(El::text("hostname", plan.fw.hostname.as_str()))
        .with(El::text("domain", plan.domain))
        .with_all(dns.iter().map(|d| El::text("dnsserver", d.as_str())));
    if dns.is_empty() {
        // No resolvers declared: take the ones the WAN's DHCP server offers.
        system.push(El::flag("dnsallowoverride"));
    }
    system = system
        .with(group("all", "All Users", "1998", None))
        .with(group(
            "admins",
            "System Administrators",
            "1999",
            Some("page-all"),
        ))
        .with(admin_user(&plan.fw.name, keys, secrets))
        .with(El::text("nextuid", "2000"))
        .with(El::text("nextgid", "2000"))
        .with(El::text(
            "timezone",
            site.map_or("Etc/UTC", |s| s.timezone.as_str()),
        ))
        .with(El::text("timeservers", ntp))
        .with(
            El::new("webgui")
                .with(El::text("protocol", "https"))
                .with(El::flag("loginautocomplete")),
        );
    if !keys.is_empty() {
        // Key-only SSH (the GUI writes "enabled"; `src/etc/sshd` tests `sshdkeyonly`).
        system.push(
            El::new("ssh")
                .with(El::text("enable", "enabled"))
                .with(El::text("sshdkeyonly", "enabled")),
        );
    }
    system.with_all([
        El::text("disablenatreflection", "yes"),
        El::flag("disablesegmentationoffloading"),
        El::flag("disablelargereceiveoffloading"),
        El::flag("ipv6allow"),
        El::text("maximumtableentries", "400000"),
        El::text("powerd_ac_mode", "hadp"),
        El::text("powerd_battery_mode", "hadp"),
        El::text("powerd_normal_mode", "hadp"),
        El::new("bogons").with(El::text("interval", "monthly")),
        El::flag("hn_altq_enable"),
    ])
}

fn group(name: &str, description: &str, gid: &str, privilege: Option<&str>) -> El {
    El::new("group")
        .with(El::text("name", name))
        .with(El::text("description", description))
        .with(El::text("scope", "system"))
        .with(El::text("gid", gid))
        .with(El::text("member", "0"))
        .with_all(privilege.map(|p| El::text("priv", p)))
}

/// The admin user (uid 0) with the operator's SSH keys (`auth.inc` `local_user_set`
/// base64-decodes `authorizedkeys`). Its password hash is a secret reference, never the
/// factory `pfsense` password: the apply step puts a bcrypt hash in its place.
fn admin_user(firewall: &str, keys: &[String], secrets: &mut Secrets) -> El {
    let mut user = El::new("user")
        .with(El::text("name", "admin"))
        .with(El::text("descr", "System Administrator"))
        .with(El::text("scope", "system"))
        .with(El::text("groupname", "admins"))
        .with(El::text(
            "bcrypt-hash",
            secrets.reference(&format!("pfsense-{firewall}-admin-bcrypt-hash")),
        ))
        .with(El::text("uid", "0"))
        .with(El::text("priv", "user-shell-access"));
    if !keys.is_empty() {
        let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
        user.push(El::text("authorizedkeys", base64(text.as_bytes())));
    }
    user
}

/// `<interfaces>`: the WAN, then one interface per VLAN on the trunk.
pub fn interfaces(plan: &Plan) -> El {
    El::new("interfaces").with_all(plan.ifaces.iter().map(|i| interface(plan, i)))
}

fn interface(plan: &Plan, iface: &Iface) -> El {
    let el = El::new(iface.key.as_str())
        .with(El::flag("enable"))
        .with(El::text("if", iface.device.as_str()))
        .with(El::text("descr", iface.descr.as_str()));
    match iface.vlan {
        Some(vlan) => el
            .with(El::text("ipaddr", vlan.gateway.to_string()))
            .with(El::text("subnet", vlan.subnet.prefix.to_string())),
        None => {
            let el = match &*plan.fw.wan_mode {
                WanMode::Dhcp => el.with(El::text("ipaddr", "dhcp")).with(El::flag("subnet")),
                WanMode::Static {
                    address,
                    prefix,
                    gateway,
                } => el
                    .with(El::text("ipaddr", address.to_string()))
                    .with(El::text("subnet", prefix.to_string()))
                    .with_all(gateway.map(|_| El::text("gateway", WAN_GATEWAY))),
            };
            // The factory WAN blocks private and bogon sources; private ones only while no
            // rule or forward admits a private source there.
            let blockpriv = (!plan.wan_admits_private()).then(|| El::flag("blockpriv"));
            el.with_all(blockpriv).with(El::flag("blockbogons"))
        }
    }
}

/// `<vlans>`: one per VLAN, in interface order (`interfaces_vlan_edit.php`).
pub fn vlans(plan: &Plan) -> El {
    El::new("vlans").with_all(plan.ifaces.iter().filter_map(|iface| {
        let vlan = iface.vlan?;
        let descr = if vlan.description.is_empty() {
            vlan.name.as_str()
        } else {
            vlan.description.as_str()
        };
        Some(
            El::new("vlan")
                .with(El::text("if", plan.fw.trunk.as_str()))
                .with(El::text("tag", vlan.id.to_string()))
                .with(El::flag("pcp"))
                .with(El::text("descr", descr))
                .with(El::text("vlanif", iface.device.as_str())),
        )
    }))
}

/// `<gateways>` for a static WAN with an upstream gateway; `None` otherwise (a DHCP WAN's
/// gateway is created by pfSense itself as `WAN_DHCP`).
pub fn gateways(plan: &Plan) -> Option<El> {
    let WanMode::Static {
        gateway: Some(gateway),
        ..
    } = &*plan.fw.wan_mode
    else {
        return None;
    };
    let family = if gateway.is_ipv4() { "inet" } else { "inet6" };
    let default = if gateway.is_ipv4() {
        "defaultgw4"
    } else {
        "defaultgw6"
    };
    Some(
        El::new("gateways")
            .with(
                El::new("gateway_item")
                    .with(El::text("interface", "wan"))
                    .with(El::text("gateway", gateway.to_string()))
                    .with(El::text("name", WAN_GATEWAY))
                    .with(El::text("weight", "1"))
                    .with(El::text("ipprotocol", family))
                    .with(El::text("descr", "WAN upstream gateway")),
            )
            .with(El::text(default, WAN_GATEWAY)),
    )
}

/// The factory sections that carry no platform data, by name, as in the factory default
/// (`pfsense-default-config.xml`); a name without factory content is an empty section.
pub fn factory(name: &str) -> El {
    match name {
        "snmpd" => El::new(name)
            .with(El::flag("syslocation"))
            .with(El::flag("syscontact"))
            .with(El::text("rocommunity", "public")),
        "diag" => El::new(name).with(El::new("ipv6nat").with(El::flag("ipaddr"))),
        "syslog" => El::new(name).with(El::text("filterdescriptions", "1")),
        "cron" => cron(),
        "rrd" => El::new(name).with(El::flag("enable")),
        "widgets" => El::new(name)
            .with(El::text(
                "sequence",
                "system_information:col1:show,disks:col1:show,\
                 netgate_services_and_support:col2:show,interfaces:col2:show",
            ))
            .with(El::text("period", "10")),
        _ => El::new(name),
    }
}

/// The factory cron table.
fn cron() -> El {
    const CRON: &[(&str, &str, &str, &str, &str, &str)] = &[
        ("*/1", "*", "*", "*", "*", "/usr/sbin/newsyslog"),
        ("1", "3", "*", "*", "*", "/etc/rc.periodic daily"),
        ("15", "4", "*", "*", "6", "/etc/rc.periodic weekly"),
        ("30", "5", "1", "*", "*", "/etc/rc.periodic monthly"),
        (
            "1,31",
            "0-5",
            "*",
            "*",
            "*",
            "/usr/bin/nice -n20 adjkerntz -a",
        ),
        (
            "1",
            "3",
            "1",
            "*",
            "*",
            "/usr/bin/nice -n20 /etc/rc.update_bogons.sh",
        ),
        (
            "1",
            "1",
            "*",
            "*",
            "*",
            "/usr/bin/nice -n20 /etc/rc.dyndns.update",
        ),
        (
            "*/60",
            "*",
            "*",
            "*",
            "*",
            "/usr/bin/nice -n20 /usr/local/sbin/expiretable -v -t 3600 virusprot",
        ),
        (
            "30",
            "12",
            "*",
            "*",
            "*",
            "/usr/bin/nice -n20 /etc/rc.update_urltables",
        ),
        (
            "1",
            "0",
            "*",
            "*",
            "*",
            "/usr/bin/nice -n20 /etc/rc.update_pkg_metadata",
        ),
    ];
    El::new("cron").with_all(
        CRON.iter()
            .map(|(minute, hour, mday, month, wday, command)| {
                El::new("item")
                    .with(El::text("minute", *minute))
                    .with(El::text("hour", *hour))
                    .with(El::text("mday", *mday))
                    .with(El::text("month", *month))
                    .with(El::text("wday", *wday))
                    .with(El::text("who", "root"))
                    .with(El::text("command", *command))
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    #[test]
    fn system_carries_site_facts() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let system = system(&plan, model.site.as_ref(), &mut Secrets::default());
        assert_eq!(system.get("hostname"), Some("fw1"));
        assert_eq!(system.get("domain"), Some("lab.home.arpa"));
        assert_eq!(system.get("timezone"), Some("Europe/Paris"));
        assert_eq!(system.get("timeservers"), Some("pool.ntp.org"));
        let dns: Vec<_> = system.children("dnsserver").filter_map(El::value).collect();
        assert_eq!(dns, ["9.9.9.9", "1.1.1.1"]);
        assert_eq!(system.children("dnsallowoverride").count(), 0);
        assert_eq!(system.get("ssh/sshdkeyonly"), Some("enabled"));
        let keys = system.get("user/authorizedkeys").unwrap();
        assert!(keys.starts_with("c3NoLWVkMjU1MTkg"), "{keys}"); // "ssh-ed25519 "
    }

    #[test]
    fn vlan_interfaces_sit_on_the_trunk() {
        let model = fixture::small();
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let ifs = interfaces(&plan);
        assert_eq!(ifs.get("wan/if"), Some("igb0"));
        assert_eq!(ifs.get("wan/ipaddr"), Some("dhcp"));
        assert_eq!(ifs.get("wan/blockpriv"), Some(""));
        assert_eq!(ifs.get("wan/blockbogons"), Some(""));
        assert_eq!(ifs.get("lan/if"), Some("igb1.10"));
        assert_eq!(ifs.get("lan/ipaddr"), Some("10.10.0.1"));
        assert_eq!(ifs.get("opt2/subnet"), Some("24"));
        let vlans = vlans(&plan);
        let first = vlans.children("vlan").next().unwrap();
        assert_eq!(first.get("tag"), Some("10"));
        assert_eq!(first.get("vlanif"), Some("igb1.10"));
        assert_eq!(
            first.get("descr"),
            Some("Proxmox, firewall and switch management")
        );
        assert!(gateways(&plan).is_none());
    }

    #[test]
    fn static_wan_has_a_gateway() {
        let mut model = fixture::small();
        let fw = model.firewalls.get_mut("fw1").unwrap();
        fw.wan_mode.value = WanMode::Static {
            address: "203.0.113.10".parse().unwrap(),
            prefix: 24,
            gateway: Some("203.0.113.1".parse().unwrap()),
        };
        let plan = Plan::new(&model, &model.firewalls["fw1"]);
        let ifs = interfaces(&plan);
        assert_eq!(ifs.get("wan/ipaddr"), Some("203.0.113.10"));
        assert_eq!(ifs.get("wan/gateway"), Some(WAN_GATEWAY));
        assert_eq!(ifs.get("wan/blockpriv"), Some(""));
        let gws = gateways(&plan).unwrap();
        assert_eq!(gws.get("gateway_item/gateway"), Some("203.0.113.1"));
        assert_eq!(gws.get("defaultgw4"), Some(WAN_GATEWAY));
    }
}

//! Whole-document tests of the pfSense emitter: the `platform-small` fixture and a variant
//! with a static WAN, forwards, a dual-homed VM, a DHCP-only NIC and rules between hosts,
//! VMs, subnets and port ranges. `dump_pfsense` writes both for the upstream validator.

use super::*;
use crate::model::{fixture, ids, Action, At, Cidr, Endpoint, Forward, Nic, Proto, Rule, WanMode};
use plat_lang::span::Span;

fn at<T>(value: T) -> At<T> {
    At::new(value, Span::default())
}

fn cidr(text: &str) -> Cidr {
    let (a, p) = text.split_once('/').unwrap();
    Cidr::new(a.parse().unwrap(), p.parse().unwrap()).unwrap()
}

fn rule(
    name: &str,
    from: Endpoint,
    to: Endpoint,
    action: Action,
    proto: Proto,
    ports: Option<(u16, u16)>,
) -> Rule {
    Rule {
        name: name.into(),
        span: Span::default(),
        from: at(from),
        to: at(to),
        action: at(action),
        proto: at(proto),
        ports: at(ports),
        log: at(false),
        description: at(String::new()),
        tracker: ids::tracker("rule", name),
    }
}

fn forward(name: &str, port: u16, to: Endpoint, to_port: u16, from: Endpoint) -> Forward {
    Forward {
        name: name.into(),
        span: Span::default(),
        proto: at(Proto::Tcp),
        port: at(port),
        to: at(to),
        to_port: at(to_port),
        from: at(from),
        description: at("ingress <https> & more".into()),
        tracker: ids::tracker("forward", name),
    }
}

/// `platform-small` with a static WAN, forwards, a second NIC on cp-1, a DHCP-only NIC,
/// and rules from and to hosts, VMs, subnets and port ranges.
pub(super) fn variant() -> Model {
    let mut model = fixture::small();
    model.firewalls["fw1"].wan_mode.value = WanMode::Static {
        address: "203.0.113.10".parse().unwrap(),
        prefix: 24,
        gateway: Some("203.0.113.1".parse().unwrap()),
    };
    let cp1 = &mut model.vms["cp-1"];
    cp1.nics.value.insert(
        "net1".into(),
        Nic {
            span: Span::default(),
            vlan: at(Some("services".into())),
            address: at(Some("10.30.0.11".parse().unwrap())),
            mac: at(Some(ids::mac("cp-1", "net1"))),
            bridge: at("vmbr0".into()),
            firewall: at(false),
        },
    );
    model.vms["worker-2"].nics.value["net0"].address.value = None;
    model.vlans["services"].description.value = "LB \"vip\" <pool> & 'é' &amp;".into();
    use Endpoint::*;
    for r in [
        rule(
            "admin-ssh",
            Host("pve1".into()),
            Vm("cp-1".into()),
            Action::Pass,
            Proto::Tcp,
            Some((22, 22)),
        ),
        rule(
            "api",
            Vm("worker-1".into()),
            Vm("cp-1".into()),
            Action::Pass,
            Proto::Tcp,
            Some((6443, 6443)),
        ),
        rule(
            "nodeports",
            Cidr(cidr("192.168.1.0/24")),
            Vlan("nodes".into()),
            Action::Pass,
            Proto::TcpUdp,
            Some((30000, 32767)),
        ),
        rule(
            "part-of-nodes",
            Cidr(cidr("10.20.0.0/25")),
            Host("pve1".into()),
            Action::Reject,
            Proto::Udp,
            Some((53, 53)),
        ),
        rule(
            "rfc1918-ping",
            Cidr(cidr("10.0.0.0/8")),
            Any,
            Action::Pass,
            Proto::Icmp,
            None,
        ),
        rule(
            "dual-homed",
            Vm("cp-1".into()),
            Cidr(cidr("10.10.0.2/32")),
            Action::Block,
            Proto::Any,
            None,
        ),
        rule(
            "v6-ping",
            Cidr(cidr("2001:db8::/32")),
            Any,
            Action::Pass,
            Proto::Icmp,
            None,
        ),
        rule(
            "dhcp-vm",
            Vm("worker-2".into()),
            Any,
            Action::Pass,
            Proto::Any,
            None,
        ),
    ] {
        model.rules.insert(r.name.clone(), r);
    }
    model.rules["admin-ssh"].log.value = true;
    for f in [
        forward("https", 443, Vm("cp-1".into()), 8443, Any),
        forward(
            "pve-ui",
            8006,
            Host("pve1".into()),
            8006,
            Cidr(cidr("198.51.100.0/24")),
        ),
    ] {
        model.forwards.insert(f.name.clone(), f);
    }
    model
}

/// `platform-small` without site and hosts (so without `lan`), with a static WAN that has no
/// upstream gateway.
fn bare() -> Model {
    let mut model = fixture::small();
    model.site = None;
    model.hosts.clear();
    model.firewalls["fw1"].wan_mode.value = WanMode::Static {
        address: "192.0.2.2".parse().unwrap(),
        prefix: 30,
        gateway: None,
    };
    model
}

#[test]
fn bare_config_has_no_lan_and_factory_defaults() {
    let model = bare();
    let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
    assert!(!text.contains("<lan>"));
    assert!(text.contains("<opt1>\n\t\t\t<enable></enable>\n\t\t\t<if>igb1.10</if>"));
    assert!(text.contains("<domain>home.arpa</domain>"));
    assert!(text.contains("<timezone>Etc/UTC</timezone>"));
    assert!(text.contains("<dnsallowoverride></dnsallowoverride>"));
    assert!(!text.contains("<ssh>") && !text.contains("<forwarding>"));
    assert!(!text.contains("<gateways>") && !text.contains("<gateway>"));
}

fn rules_of(text: &str) -> Vec<String> {
    text.split("<rule>")
        .skip(1)
        .map(|r| r.split("</rule>").next().unwrap().to_string())
        .collect()
}

#[test]
fn one_config_per_firewall() {
    let files = emit(&fixture::small());
    let keys: Vec<&String> = files.keys().collect();
    assert_eq!(keys, ["pfsense/fw1/config.xml"]);
    let text = String::from_utf8(files["pfsense/fw1/config.xml"].clone()).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\"?>\n<!-- Generated by plat"));
    assert!(text.contains("\n\t<version>23.3</version>\n"));
    assert!(text.ends_with("</pfsense>\n"));
    assert!(!text.contains('\r'));
}

#[test]
fn small_rules_land_in_declared_order_per_interface() {
    let model = fixture::small();
    let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
    let rules = rules_of(text.split("<filter>").nth(1).unwrap());
    let summary: Vec<(String, String)> = rules
        .iter()
        .map(|r| {
            let field = |tag: &str| {
                r.split(&format!("<{tag}>"))
                    .nth(1)
                    .unwrap()
                    .split('<')
                    .next()
                    .unwrap()
                    .to_string()
            };
            (field("interface"), field("type"))
        })
        .collect();
    let expect = [
        ("wan", "pass"),   // https-in
        ("lan", "pass"),   // https-in
        ("opt1", "block"), // nodes-no-mgmt
        ("opt1", "pass"),  // nodes-out
        ("opt1", "pass"),  // https-in
        ("opt2", "pass"),  // https-in
    ];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(summary, expect);
    let block = &rules[2];
    assert!(block.contains(&format!(
        "<tracker>{}</tracker>",
        ids::tracker("rule", "nodes-no-mgmt")
    )));
    assert!(block.contains("<source>\n\t\t\t\t<network>opt1</network>\n\t\t\t</source>"));
    assert!(block.contains("<destination>\n\t\t\t\t<network>lan</network>\n\t\t\t</destination>"));
    assert!(block.contains(
        "<descr><![CDATA[nodes-no-mgmt: nodes never reach the management network]]></descr>"
    ));
    let https_wan = &rules[0];
    assert!(https_wan.contains(&format!(
        "<tracker>{}</tracker>",
        ids::tracker("rule", "https-in")
    )));
    assert!(https_wan.contains("<protocol>tcp</protocol>"));
    assert!(https_wan.contains("<network>opt2</network>\n\t\t\t\t<port>443</port>"));
    let https_lan = &rules[1];
    assert!(https_lan.contains(&format!(
        "<tracker>{}</tracker>",
        ids::tracker("rule", "https-in@lan")
    )));
}

#[test]
fn variant_rules_use_aliases_subnets_and_ranges() {
    let model = variant();
    let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
    let filter = text
        .split("<filter>")
        .nth(1)
        .unwrap()
        .split("</filter>")
        .next()
        .unwrap();
    let rules = rules_of(filter);
    let find = |descr: &str| -> Vec<&String> {
        rules
            .iter()
            .filter(|r| r.contains(&format!("<descr><![CDATA[{descr}")))
            .collect()
    };
    let ssh = find("admin-ssh");
    assert_eq!(ssh.len(), 1);
    assert!(ssh[0].contains("<interface>lan</interface>"));
    assert!(ssh[0].contains("<address>host_pve1</address>"));
    assert!(ssh[0].contains("<address>vm_cp_1</address>\n\t\t\t\t<port>22</port>"));
    assert!(ssh[0].contains("<log></log>"));
    let nodeports = find("nodeports");
    assert_eq!(nodeports.len(), 1);
    assert!(nodeports[0].contains("<interface>wan</interface>"));
    assert!(nodeports[0].contains("<protocol>tcp/udp</protocol>"));
    assert!(nodeports[0].contains("<port>30000-32767</port>"));
    assert!(nodeports[0].contains("<address>192.168.1.0/24</address>"));
    let v6 = find("v6-ping");
    assert_eq!(v6.len(), 1);
    assert!(v6[0].contains("<interface>wan</interface>\n\t\t\t<ipprotocol>inet6</ipprotocol>"));
    let reject = find("part-of-nodes");
    assert!(
        reject[0].contains("<type>reject</type>")
            && reject[0].contains("<interface>opt1</interface>")
    );
    let ping: Vec<&str> = find("rfc1918-ping")
        .iter()
        .map(|r| {
            if r.contains("<interface>wan<") {
                "wan"
            } else {
                "vlan"
            }
        })
        .collect();
    assert_eq!(ping, ["wan", "vlan", "vlan", "vlan"]);
    let dual: Vec<bool> = find("dual-homed")
        .iter()
        .map(|r| r.contains("<address>10.10.0.2</address>"))
        .collect();
    assert_eq!(dual, [true, true]); // cp-1 is on nodes (opt1) and services (opt2)
                                    // Forward rules come first on the WAN and match the translated destination.
    assert!(
        rules[0].contains("<descr><![CDATA[NAT https: ingress &lt;https&gt; &amp; more]]></descr>")
    );
    assert!(rules[0].contains("<address>10.20.0.11</address>\n\t\t\t\t<port>8443</port>"));
    assert!(rules[1].contains("<address>198.51.100.0/24</address>"));
    let nat = text
        .split("<nat>")
        .nth(1)
        .unwrap()
        .split("</nat>")
        .next()
        .unwrap();
    assert!(nat.contains("<mode>automatic</mode>"));
    let id = format!(
        "<associated-rule-id>nat_{}</associated-rule-id>",
        ids::tracker("forward", "https")
    );
    assert!(nat.contains(&id) && rules[0].contains(&id));
    assert!(nat.contains("<target>10.20.0.11</target>\n\t\t\t<local-port>8443</local-port>"));
    assert!(nat.contains("<network>wanip</network>\n\t\t\t\t<port>443</port>"));
    // Trackers are unique.
    let trackers: std::collections::BTreeSet<&str> = rules
        .iter()
        .map(|r| {
            r.split("<tracker>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(trackers.len(), rules.len());
}

#[test]
fn a_private_source_on_the_wan_lifts_blockpriv() {
    let small = fixture::small();
    assert!(
        config_xml(&small, &small.firewalls["fw1"], &mut Secrets::default())
            .contains("<blockpriv></blockpriv>")
    );
    let model = variant(); // rule `nodeports` comes from 192.168.1.0/24 on the WAN
    let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
    assert!(!text.contains("<blockpriv>"));
    assert!(text.contains("<blockbogons></blockbogons>"));
}

#[test]
fn variant_has_gateway_aliases_and_mappings() {
    let model = variant();
    let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
    assert!(text.contains("<gateway>WANGW</gateway>"));
    assert!(text.contains("<defaultgw4>WANGW</defaultgw4>"));
    assert!(text.contains("<name>vm_cp_1</name>\n\t\t\t<type>host</type>\n\t\t\t<address>10.20.0.11 10.30.0.11</address>"));
    assert!(text.contains("<detail><![CDATA[net0||net1]]></detail>"));
    assert!(text
        .contains("<name>vm_worker_2</name>\n\t\t\t<type>host</type>\n\t\t\t<address></address>"));
    // cp-1's second NIC is on services, which has no DHCP server: no mapping.
    assert!(!text.contains("<ipaddr>10.30.0.11</ipaddr>"));
    assert!(!text.contains("<hostname>worker-2</hostname>"));
}

/// Writes the small example and the variant for the upstream validator:
/// `cargo test -p plat dump_pfsense -- --ignored`, then
/// `/work/shared/validators/pfsense.sh --print-rules $TMPDIR/plat-pfsense/<name>.xml`.
#[test]
#[ignore]
fn dump_pfsense() {
    let dir = std::env::temp_dir().join("plat-pfsense");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, model) in [
        ("small", fixture::small()),
        ("variant", variant()),
        ("bare", bare()),
    ] {
        let text = config_xml(&model, &model.firewalls["fw1"], &mut Secrets::default());
        std::fs::write(dir.join(format!("{name}.xml")), text).unwrap();
    }
}

//! Lowering: evaluated entities (records with spans) to the typed [`Model`].
//!
//! The values have already been coerced to the prelude's kind types, so every field exists
//! and has the declared shape; a mismatch here is a bug in the prelude/model pairing and is
//! reported as `internal::lowering` rather than a panic.

use std::net::IpAddr;

use indexmap::IndexMap;
use plat_lang::diagnostic::Diagnostic;
use plat_lang::eval::{Entity, Program};
use plat_lang::span::Span;
use plat_lang::value::{too_large, Field, Record, SizeBudget, Value, MAX_VALUE_SIZE};

use super::*;

/// Builds the model from the program's entities.
pub fn lower(program: &Program) -> (Model, Vec<Diagnostic>) {
    let mut lower = Lower {
        diagnostics: Vec::new(),
        data_budget: SizeBudget::new(MAX_VALUE_SIZE),
    };
    let mut model = Model::default();
    reserve(&mut model, program);
    for entity in &program.entities {
        let name = entity.id.name.to_string();
        let r = Rec {
            record: &entity.value,
            span: entity.span,
        };
        let result = match &*entity.id.kind {
            "site" => lower.site(&r).map(|s| model.site = Some(s)),
            "vlan" => lower
                .vlan(&r, &name)
                .map(|v| insert(&mut model.vlans, name, v)),
            "host" => lower
                .host(&r, &name)
                .map(|v| insert(&mut model.hosts, name, v)),
            "vm" => lower.vm(&r, &name).map(|v| insert(&mut model.vms, name, v)),
            "firewall" => lower
                .firewall(&r, &name)
                .map(|v| insert(&mut model.firewalls, name, v)),
            "rule" => lower
                .rule(&r, &name)
                .map(|v| insert(&mut model.rules, name, v)),
            "forward" => lower
                .forward(&r, &name)
                .map(|v| insert(&mut model.forwards, name, v)),
            "cluster" => lower
                .cluster(&r, &name)
                .map(|v| insert(&mut model.clusters, name, v)),
            "node" => lower
                .node(&r, &name)
                .map(|v| insert(&mut model.nodes, name, v)),
            "namespace" => lower
                .namespace(&r, &name)
                .map(|v| insert(&mut model.namespaces, name, v)),
            "service" => lower
                .service(&r, &name)
                .map(|v| insert(&mut model.services, name, v)),
            "chart" => lower
                .chart(&r, &name)
                .map(|v| insert(&mut model.charts, name, v)),
            "manifest" => lower
                .manifest(&r, &name)
                .map(|v| insert(&mut model.manifests, name, v)),
            other => Err(lower.bug(entity, &format!("no lowering for kind `{other}`"))),
        };
        let _ = result;
    }
    (model, lower.diagnostics)
}

/// Room in each of the model's maps for exactly the entities of its kind: grown by doubling,
/// a map of ten thousand services has up to half its room unused.
fn reserve(model: &mut Model, program: &Program) {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for entity in &program.entities {
        *counts.entry(&entity.id.kind).or_default() += 1;
    }
    let count = |kind: &str| counts.get(kind).copied().unwrap_or(0);
    model.vlans.reserve_exact(count("vlan"));
    model.hosts.reserve_exact(count("host"));
    model.vms.reserve_exact(count("vm"));
    model.firewalls.reserve_exact(count("firewall"));
    model.rules.reserve_exact(count("rule"));
    model.forwards.reserve_exact(count("forward"));
    model.clusters.reserve_exact(count("cluster"));
    model.nodes.reserve_exact(count("node"));
    model.namespaces.reserve_exact(count("namespace"));
    model.services.reserve_exact(count("service"));
    model.charts.reserve_exact(count("chart"));
    model.manifests.reserve_exact(count("manifest"));
}

fn insert<T>(map: &mut IndexMap<String, T>, name: String, value: T) {
    map.insert(name, value);
}

struct Lower {
    diagnostics: Vec<Diagnostic>,
    /// What is left for JSON data (charts' values, manifests' bodies) made from values.
    data_budget: SizeBudget,
}

/// Lowering stopped for one entity (reported).
struct Bug;

type L<T> = Result<T, Bug>;

/// A record being lowered, with the span to blame for problems.
struct Rec<'a> {
    record: &'a Record,
    span: Span,
}

impl<'a> Rec<'a> {
    fn sub(field: &'a Field) -> Option<Rec<'a>> {
        match &field.value {
            Value::Record(record) => Some(Rec {
                record,
                span: field.span,
            }),
            _ => None,
        }
    }
}

fn at<T>(field: &Field, value: T) -> At<T> {
    At {
        value,
        span: field.span,
        from_default: field.from_default,
    }
}

impl Lower {
    fn bug(&mut self, entity: &Entity, message: &str) -> Bug {
        self.diagnostics.push(
            Diagnostic::error(
                "internal::lowering",
                entity.span,
                format!("{}: {message}", entity.id),
            )
            .with_help("this is a bug in plat; please report it with the source that triggers it"),
        );
        Bug
    }

    fn wrong(&mut self, r: &Rec, name: &str, what: &str) -> Bug {
        let span = r.record.field(name).map_or(r.span, |f| f.span);
        self.diagnostics.push(
            Diagnostic::error(
                "internal::lowering",
                span,
                format!("field `{name}` is not {what}"),
            )
            .with_help(
                "this is a bug in plat (the prelude and the model disagree); please report it",
            ),
        );
        Bug
    }

    fn field<'r>(&mut self, r: &Rec<'r>, name: &str) -> L<&'r Field> {
        match r.record.field(name) {
            Some(field) => Ok(field),
            None => Err(self.wrong(r, name, "present")),
        }
    }

    fn string(&mut self, r: &Rec, name: &str) -> L<At<String>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Str(s) => Ok(at(field, s.to_string())),
            _ => Err(self.wrong(r, name, "a string")),
        }
    }

    fn opt_string(&mut self, r: &Rec, name: &str) -> L<At<Option<String>>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Str(s) => Ok(at(field, Some(s.to_string()))),
            Value::None => Ok(at(field, None)),
            _ => Err(self.wrong(r, name, "a string or none")),
        }
    }

    fn int<T: TryFrom<i64>>(&mut self, r: &Rec, name: &str) -> L<At<T>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Int(i) => match T::try_from(*i) {
                Ok(v) => Ok(at(field, v)),
                Err(_) => Err(self.wrong(r, name, "in range")),
            },
            _ => Err(self.wrong(r, name, "an int")),
        }
    }

    fn opt_int<T: TryFrom<i64>>(&mut self, r: &Rec, name: &str) -> L<At<Option<T>>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::None => Ok(at(field, None)),
            Value::Int(i) => match T::try_from(*i) {
                Ok(v) => Ok(at(field, Some(v))),
                Err(_) => Err(self.wrong(r, name, "in range")),
            },
            _ => Err(self.wrong(r, name, "an int or none")),
        }
    }

    fn boolean(&mut self, r: &Rec, name: &str) -> L<At<bool>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Bool(b) => Ok(at(field, *b)),
            _ => Err(self.wrong(r, name, "a bool")),
        }
    }

    fn size(&mut self, r: &Rec, name: &str) -> L<At<Bytes>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Size(b) => Ok(at(field, *b)),
            _ => Err(self.wrong(r, name, "a size")),
        }
    }

    fn ip(&mut self, r: &Rec, name: &str) -> L<At<IpAddr>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Ip(ip) => Ok(at(field, *ip)),
            _ => Err(self.wrong(r, name, "an address")),
        }
    }

    fn opt_ip(&mut self, r: &Rec, name: &str) -> L<At<Option<IpAddr>>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Ip(ip) => Ok(at(field, Some(*ip))),
            Value::None => Ok(at(field, None)),
            _ => Err(self.wrong(r, name, "an address or none")),
        }
    }

    fn cidr(&mut self, r: &Rec, name: &str) -> L<At<Cidr>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Cidr(c) => Ok(at(field, *c)),
            _ => Err(self.wrong(r, name, "a subnet")),
        }
    }

    fn reference(&mut self, r: &Rec, name: &str) -> L<At<String>> {
        let field = self.field(r, name)?;
        match field.value.entity() {
            Some(id) => Ok(at(field, id.name.to_string())),
            None => Err(self.wrong(r, name, "an entity reference")),
        }
    }

    fn opt_reference(&mut self, r: &Rec, name: &str) -> L<At<Option<String>>> {
        let field = self.field(r, name)?;
        match (&field.value, field.value.entity()) {
            (Value::None, _) => Ok(at(field, None)),
            (_, Some(id)) => Ok(at(field, Some(id.name.to_string()))),
            _ => Err(self.wrong(r, name, "an entity reference or none")),
        }
    }

    fn strings(&mut self, r: &Rec, name: &str) -> L<At<Vec<String>>> {
        let field = self.field(r, name)?;
        let Some(items) = field.value.as_list() else {
            return Err(self.wrong(r, name, "a list"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Str(s) => out.push(s.to_string()),
                _ => return Err(self.wrong(r, name, "a list of strings")),
            }
        }
        Ok(at(field, out))
    }

    fn references(&mut self, r: &Rec, name: &str) -> L<At<Vec<String>>> {
        let field = self.field(r, name)?;
        let Some(items) = field.value.as_list() else {
            return Err(self.wrong(r, name, "a list"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.entity() {
                Some(id) => out.push(id.name.to_string()),
                None => return Err(self.wrong(r, name, "a list of references")),
            }
        }
        Ok(at(field, out))
    }

    fn string_map(&mut self, r: &Rec, name: &str) -> L<At<Vec<(String, String)>>> {
        let field = self.field(r, name)?;
        let Some(map) = field.value.as_record() else {
            return Err(self.wrong(r, name, "a map"));
        };
        let mut out = Vec::with_capacity(map.fields.len());
        for entry in &map.fields {
            match &entry.value {
                Value::Str(s) => out.push((entry.name.to_string(), s.to_string())),
                _ => return Err(self.wrong(r, name, "a map of strings")),
            }
        }
        Ok(at(field, out))
    }

    fn sub<'r>(&mut self, r: &Rec<'r>, name: &str) -> L<Option<Rec<'r>>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::None => Ok(None),
            _ => match Rec::sub(field) {
                Some(sub) => Ok(Some(sub)),
                None => Err(self.wrong(r, name, "a record")),
            },
        }
    }

    /// The entries of a map field, sorted by slot (`net2` before `net10`).
    fn entries<'r>(&mut self, r: &Rec<'r>, name: &str) -> L<(&'r Field, Vec<(String, Rec<'r>)>)> {
        let field = self.field(r, name)?;
        let Some(map) = field.value.as_record() else {
            return Err(self.wrong(r, name, "a map"));
        };
        let mut out = Vec::new();
        for entry in &map.fields {
            match Rec::sub(entry) {
                Some(sub) => out.push((entry.name.to_string(), sub)),
                None => return Err(self.wrong(r, name, "a map of records")),
            }
        }
        out.sort_by(|(a, _), (b, _)| slot_key(a).cmp(&slot_key(b)));
        Ok((field, out))
    }

    // ----- kinds -----

    fn site(&mut self, r: &Rec) -> L<Site> {
        let dns_field = self.field(r, "dns")?;
        let mut dns = Vec::new();
        for item in dns_field.value.as_list().unwrap_or(&[]) {
            if let Value::Ip(ip) = item {
                dns.push(*ip);
            }
        }
        Ok(Site {
            span: r.span,
            name: self.string(r, "name")?,
            domain: self.string(r, "domain")?,
            timezone: self.string(r, "timezone")?,
            dns: at(dns_field, dns),
            ntp: self.strings(r, "ntp")?,
            ssh_keys: self.strings(r, "ssh_keys")?,
            admin_user: self.string(r, "admin_user")?,
        })
    }

    fn vlan(&mut self, r: &Rec, name: &str) -> L<Vlan> {
        let dhcp_field = self.field(r, "dhcp")?;
        let dhcp = match self.sub(r, "dhcp")? {
            Some(range) => Some(DhcpRange {
                from: self.ip(&range, "from")?.value,
                to: self.ip(&range, "to")?.value,
            }),
            None => None,
        };
        Ok(Vlan {
            name: name.into(),
            span: r.span,
            id: self.int(r, "id")?,
            subnet: self.cidr(r, "subnet")?,
            gateway: self.ip(r, "gateway")?,
            dhcp: at(dhcp_field, dhcp),
            description: self.string(r, "description")?,
        })
    }

    fn host(&mut self, r: &Rec, name: &str) -> L<Host> {
        let (bridges_field, bridge_entries) = self.entries(r, "bridges")?;
        let mut bridges = IndexMap::new();
        for (bridge_name, bridge) in bridge_entries {
            bridges.insert(
                bridge_name,
                Bridge {
                    ports: self.strings(&bridge, "ports")?.value,
                    vlan_aware: self.boolean(&bridge, "vlan_aware")?.value,
                },
            );
        }
        let (storage_field, storage_entries) = self.entries(r, "storage")?;
        let mut storage = IndexMap::new();
        for (storage_name, pool) in storage_entries {
            let kind = match self.string(&pool, "kind")?.as_str() {
                "lvmthin" => StorageKind::LvmThin,
                "zfspool" => StorageKind::ZfsPool,
                "dir" => StorageKind::Dir,
                "lvm" => StorageKind::Lvm,
                _ => return Err(self.wrong(&pool, "kind", "a storage kind")),
            };
            storage.insert(
                storage_name,
                Storage {
                    span: pool.span,
                    kind,
                    size: self.size(&pool, "size")?.value,
                    pool: self.opt_string(&pool, "pool")?.value,
                    vgname: self.opt_string(&pool, "vgname")?.value,
                },
            );
        }
        Ok(Host {
            name: name.into(),
            span: r.span,
            cpu: self.int(r, "cpu")?,
            memory: self.size(r, "memory")?,
            vlan: self.reference(r, "vlan")?,
            address: self.ip(r, "address")?,
            bridges: at(bridges_field, bridges),
            storage: at(storage_field, storage),
            cpu_overcommit: self.int(r, "cpu_overcommit")?,
            memory_reserved: self.size(r, "memory_reserved")?,
            snippets_storage: self.string(r, "snippets_storage")?,
        })
    }

    fn vm(&mut self, r: &Rec, name: &str) -> L<Vm> {
        let (disks_field, disk_entries) = self.entries(r, "disks")?;
        let mut disks = IndexMap::new();
        for (slot, disk) in disk_entries {
            disks.insert(
                slot,
                Disk {
                    span: disk.span,
                    storage: self.string(&disk, "storage")?,
                    size: self.size(&disk, "size")?,
                    discard: self.boolean(&disk, "discard")?.value,
                    ssd: self.boolean(&disk, "ssd")?.value,
                },
            );
        }
        let (nics_field, nic_entries) = self.entries(r, "nics")?;
        let mut nics = IndexMap::new();
        for (slot, nic) in nic_entries {
            let mac_field = self.field(&nic, "mac")?;
            let mac = match &mac_field.value {
                Value::Mac(mac) => at(mac_field, *mac),
                _ => At {
                    value: ids::mac(name, &slot),
                    span: nic.span,
                    from_default: true,
                },
            };
            nics.insert(
                slot,
                Nic {
                    span: nic.span,
                    vlan: self.opt_reference(&nic, "vlan")?,
                    address: self.opt_ip(&nic, "address")?,
                    mac,
                    bridge: self.string(&nic, "bridge")?,
                    firewall: self.boolean(&nic, "firewall")?.value,
                },
            );
        }
        let startup_field = self.field(r, "startup")?;
        let startup = match self.sub(r, "startup")? {
            Some(s) => Some(Startup {
                order: self.int(&s, "order")?.value,
                up: self.int(&s, "up")?.value,
                down: self.int(&s, "down")?.value,
            }),
            None => None,
        };
        Ok(Vm {
            name: name.into(),
            span: r.span,
            host: self.reference(r, "host")?,
            vmid: self.int(r, "vmid")?,
            description: self.string(r, "description")?,
            cores: self.int(r, "cores")?,
            sockets: self.int(r, "sockets")?,
            cpu: self.string(r, "cpu")?,
            memory: self.size(r, "memory")?,
            image: self.opt_string(r, "image")?,
            disks: at(disks_field, disks),
            nics: at(nics_field, nics),
            onboot: self.boolean(r, "onboot")?,
            startup: at(startup_field, startup),
            tags: self.strings(r, "tags")?,
            agent: self.boolean(r, "agent")?,
            packages: self.strings(r, "packages")?,
            cloud_init: self.boolean(r, "cloud_init")?,
            ostype: self.string(r, "ostype")?,
            console: self.string(r, "console")?,
            iso: self.opt_string(r, "iso")?,
            smbios_uuid: ids::uuid("smbios", name),
            vmgenid: ids::uuid("vmgenid", name),
        })
    }

    fn firewall(&mut self, r: &Rec, name: &str) -> L<Firewall> {
        let wan_field = self.field(r, "wan")?;
        let Some(wan) = self.sub(r, "wan")? else {
            return Err(self.wrong(r, "wan", "a record"));
        };
        let mode = match self.string(&wan, "mode")?.as_str() {
            "static" => {
                let address = self.opt_ip(&wan, "ip")?.value;
                let cidr = self.field(&wan, "address")?;
                let (address, prefix) = match (&cidr.value, address) {
                    (Value::Cidr(c), Some(ip)) => (ip, c.prefix),
                    (Value::Cidr(c), None) => (c.addr, c.prefix),
                    (_, Some(ip)) => (ip, if ip.is_ipv4() { 32 } else { 128 }),
                    _ => (IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
                };
                WanMode::Static {
                    address,
                    prefix,
                    gateway: self.opt_ip(&wan, "gateway")?.value,
                }
            }
            _ => WanMode::Dhcp,
        };
        Ok(Firewall {
            name: name.into(),
            span: r.span,
            hostname: self.string(r, "hostname")?,
            wan_interface: self.string(&wan, "interface")?,
            wan_mode: at(wan_field, mode),
            trunk: self.string(r, "trunk")?,
            vm: self.opt_reference(r, "vm")?,
        })
    }

    fn endpoint(&mut self, r: &Rec, name: &str) -> L<At<Endpoint>> {
        let field = self.field(r, name)?;
        let endpoint = match &field.value {
            Value::Str(s) if &**s == "any" => Endpoint::Any,
            Value::Cidr(c) => Endpoint::Cidr(*c),
            value => match value.entity() {
                Some(id) if &*id.kind == "vlan" => Endpoint::Vlan(id.name.to_string()),
                Some(id) if &*id.kind == "host" => Endpoint::Host(id.name.to_string()),
                Some(id) if &*id.kind == "vm" => Endpoint::Vm(id.name.to_string()),
                _ => return Err(self.wrong(r, name, "an endpoint")),
            },
        };
        Ok(at(field, endpoint))
    }

    fn proto(&mut self, r: &Rec, name: &str) -> L<At<Proto>> {
        let text = self.string(r, name)?;
        let proto = match text.as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "tcp/udp" => Proto::TcpUdp,
            "icmp" => Proto::Icmp,
            _ => Proto::Any,
        };
        Ok(At {
            value: proto,
            span: text.span,
            from_default: text.from_default,
        })
    }

    fn rule(&mut self, r: &Rec, name: &str) -> L<Rule> {
        let action_text = self.string(r, "action")?;
        let action = match action_text.as_str() {
            "block" => Action::Block,
            "reject" => Action::Reject,
            _ => Action::Pass,
        };
        let port = self.opt_int::<u16>(r, "port")?;
        let range_field = self.field(r, "ports")?;
        let range = match self.sub(r, "ports")? {
            Some(range) => Some((
                self.int::<u16>(&range, "from")?.value,
                self.int::<u16>(&range, "to")?.value,
            )),
            None => None,
        };
        let ports = match (port.value, range) {
            (Some(p), _) => At {
                value: Some((p, p)),
                span: port.span,
                from_default: false,
            },
            (None, Some(range)) => at(range_field, Some(range)),
            (None, None) => port.clone().map_none(),
        };
        Ok(Rule {
            name: name.into(),
            span: r.span,
            from: self.endpoint(r, "from")?,
            to: self.endpoint(r, "to")?,
            action: At {
                value: action,
                span: action_text.span,
                from_default: action_text.from_default,
            },
            proto: self.proto(r, "proto")?,
            ports,
            log: self.boolean(r, "log")?,
            description: self.string(r, "description")?,
            tracker: ids::tracker("rule", name),
        })
    }

    fn forward(&mut self, r: &Rec, name: &str) -> L<Forward> {
        let port = self.int::<u16>(r, "port")?;
        let to_port = self.opt_int::<u16>(r, "to_port")?;
        let to_port = match to_port.value {
            Some(p) => At {
                value: p,
                span: to_port.span,
                from_default: false,
            },
            None => At {
                value: port.value,
                span: to_port.span,
                from_default: true,
            },
        };
        Ok(Forward {
            name: name.into(),
            span: r.span,
            proto: self.proto(r, "proto")?,
            port,
            to: self.endpoint(r, "to")?,
            to_port,
            from: self.endpoint(r, "from")?,
            description: self.string(r, "description")?,
            tracker: ids::tracker("forward", name),
        })
    }

    fn cluster(&mut self, r: &Rec, name: &str) -> L<Cluster> {
        let cni_text = self.string(r, "cni")?;
        let cni = match cni_text.as_str() {
            "calico" => Cni::Calico,
            "flannel" => Cni::Flannel,
            _ => Cni::Cilium,
        };
        Ok(Cluster {
            name: name.into(),
            span: r.span,
            version: self.string(r, "version")?,
            endpoint: self.ip(r, "endpoint")?,
            api_port: self.int(r, "api_port")?,
            pod_cidr: self.cidr(r, "pod_cidr")?,
            service_cidr: self.cidr(r, "service_cidr")?,
            cni: At {
                value: cni,
                span: cni_text.span,
                from_default: cni_text.from_default,
            },
            dns_domain: self.string(r, "dns_domain")?,
        })
    }

    fn node(&mut self, r: &Rec, name: &str) -> L<Node> {
        let role_text = self.string(r, "role")?;
        let role = if role_text.as_str() == "control-plane" {
            Role::ControlPlane
        } else {
            Role::Worker
        };
        let taints_field = self.field(r, "taints")?;
        let mut taints = Vec::new();
        for item in taints_field.value.as_list().unwrap_or(&[]) {
            let Value::Record(record) = item else {
                continue;
            };
            let taint = Rec {
                record,
                span: taints_field.span,
            };
            taints.push(Taint {
                key: self.string(&taint, "key")?.value,
                value: self.string(&taint, "value")?.value,
                effect: self.string(&taint, "effect")?.value,
            });
        }
        Ok(Node {
            name: name.into(),
            span: r.span,
            cluster: self.reference(r, "cluster")?,
            vm: self.reference(r, "vm")?,
            role: At {
                value: role,
                span: role_text.span,
                from_default: role_text.from_default,
            },
            labels: self.string_map(r, "labels")?,
            taints: at(taints_field, taints),
        })
    }

    fn namespace(&mut self, r: &Rec, name: &str) -> L<Namespace> {
        Ok(Namespace {
            name: name.into(),
            span: r.span,
            cluster: self.reference(r, "cluster")?,
            pod_security: self.string(r, "pod_security")?,
            default_deny: self.boolean(r, "default_deny")?,
            labels: self.string_map(r, "labels")?,
        })
    }

    fn service(&mut self, r: &Rec, name: &str) -> L<Service> {
        let resources_field = self.field(r, "resources")?;
        let Some(resources) = self.sub(r, "resources")? else {
            return Err(self.wrong(r, "resources", "a record"));
        };
        let resources = Resources {
            millicpu: self.int(&resources, "millicpu")?.value,
            memory: self.size(&resources, "memory")?.value,
        };
        let ingress_field = self.field(r, "ingress")?;
        let ingress = match self.sub(r, "ingress")? {
            Some(i) => Some(Ingress {
                host: self.string(&i, "host")?.value,
                path: self.string(&i, "path")?.value,
                class: self.string(&i, "class")?.value,
                issuer: self.opt_string(&i, "issuer")?.value,
            }),
            None => None,
        };
        Ok(Service {
            name: name.into(),
            span: r.span,
            namespace: self.reference(r, "namespace")?,
            image: self.string(r, "image")?,
            replicas: self.int(r, "replicas")?,
            port: self.int(r, "port")?,
            env: self.string_map(r, "env")?,
            resources: at(resources_field, resources),
            health_path: self.opt_string(r, "health_path")?,
            ingress: at(ingress_field, ingress),
            allow_from: self.references(r, "allow_from")?,
            args: self.strings(r, "args")?,
            run_as_user: self.int(r, "run_as_user")?,
        })
    }

    fn data(&mut self, r: &Rec, name: &str) -> L<At<Data>> {
        let field = self.field(r, name)?;
        // Values share their parts: refuse data that would be huge written out before making it.
        if !self.data_budget.charge(&field.value) {
            self.diagnostics
                .push(too_large(field.span, &format!("field `{name}`")));
            return Err(Bug);
        }
        Ok(at(field, to_data(&field.value)))
    }

    fn chart(&mut self, r: &Rec, name: &str) -> L<Chart> {
        Ok(Chart {
            name: name.into(),
            span: r.span,
            namespace: self.reference(r, "namespace")?,
            repo: self.string(r, "repo")?,
            chart: self.string(r, "chart")?,
            version: self.string(r, "version")?,
            values: self.data(r, "values")?,
        })
    }

    fn manifest(&mut self, r: &Rec, name: &str) -> L<Manifest> {
        Ok(Manifest {
            name: name.into(),
            span: r.span,
            cluster: self.reference(r, "cluster")?,
            namespace: self.opt_reference(r, "namespace")?,
            body: self.data(r, "body")?,
        })
    }
}

impl At<Option<u16>> {
    fn map_none(self) -> At<Option<(u16, u16)>> {
        At {
            value: None,
            span: self.span,
            from_default: self.from_default,
        }
    }
}

/// JSON data from a `json`-typed value; record fields keep their order.
fn to_data(value: &Value) -> Data {
    match value {
        Value::None => Data::Null,
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(i) => Data::from(*i),
        Value::Str(s) => Data::String(s.to_string()),
        Value::List(items) => Data::Array(items.iter().map(to_data).collect()),
        Value::Record(record) => Data::Object(
            record
                .fields
                .iter()
                .map(|f| (f.name.to_string(), to_data(&f.value)))
                .collect(),
        ),
        Value::Secret(name) => Data::String(crate::emit::secret_ref(name)),
        other => Data::String(other.to_string()),
    }
}

/// Sort key for slot names: `net2` before `net10`.
fn slot_key(name: &str) -> (&str, u64, &str) {
    let digits_start = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, digits) = name.split_at(digits_start);
    (prefix, digits.parse().unwrap_or(0), name)
}

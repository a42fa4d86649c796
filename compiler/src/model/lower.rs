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
use crate::shared::SECRET_REFERENCE;

/// Builds the model from the program's entities.
pub fn lower(program: &Program) -> (Model, Vec<Diagnostic>) {
    let mut lower = Lower {
        diagnostics: Vec::new(),
        data_budget: SizeBudget::new(MAX_VALUE_SIZE),
    };
    let mut model = Model::default();
    reserve(&mut model, program);
    for entity in &program.entities {
        // A reference to an entity is its name: checked once, here, at the declaration, as
        // any string that enters the model (`text`: no forged secret reference).
        let name = lower.text(&entity.id.name, entity.span);
        // Every named entity's name may become a path segment in out/ (`names`). A refused
        // name is reported and the entity still lowered, so that its other problems and those
        // of entities referring to it are reported in the same run; a build with an error
        // writes nothing, so the name never reaches a path.
        if &*entity.id.kind != "site" {
            lower
                .diagnostics
                .extend(names::check(&entity.id.kind, &name, entity.span));
        }
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
            "vm" => lower
                .lower_vm(&r, &name)
                .map(|v| insert(&mut model.vms, name, v)),
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

    /// A string of the sources entering the model; `span` is its value's (or, for an item of
    /// a list, the list's). Every string of the model comes through here, so that one that
    /// would read as a secret reference in a generated file is reported whatever field it is
    /// in and however it was built: the apply step would replace it with the secret's value.
    /// The string is kept, so that lowering goes on and every such string is reported in one
    /// run (the build fails and writes nothing).
    fn text(&mut self, text: &str, span: Span) -> String {
        if let Some(start) = text.find(SECRET_REFERENCE) {
            let rest = &text[start..];
            let end = rest.find('}').map_or(rest.len(), |end| end + 1);
            let reference: String = rest[..end].chars().take(80).collect();
            self.diagnostics.push(
                Diagnostic::error(
                    "check::secret-reference-in-string",
                    span,
                    format!(
                        "this string contains `{reference}`, which reads as a secret reference"
                    ),
                )
                .with_help(
                    "only plat writes secret references, where a generated file needs a secret; \
                     the apply step would put the secret's value here. Remove `${secret:` from \
                     the string: a literal `$` is written `\\$`, but never before `{secret:`",
                ),
            );
        }
        text.to_string()
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
            Value::Str(s) => Ok(at(field, self.text(s, field.span))),
            _ => Err(self.wrong(r, name, "a string")),
        }
    }

    fn opt_string(&mut self, r: &Rec, name: &str) -> L<At<Option<String>>> {
        let field = self.field(r, name)?;
        match &field.value {
            Value::Str(s) => Ok(at(field, Some(self.text(s, field.span)))),
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
                Value::Str(s) => out.push(self.text(s, field.span)),
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
                Value::Str(s) => {
                    out.push((self.text(&entry.name, entry.span), self.text(s, entry.span)))
                }
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
                Some(sub) => out.push((self.text(&entry.name, entry.span), sub)),
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
        Ok(at(field, self.json(&field.value, field.span)))
    }

    /// JSON data from a `json`-typed value at `span`; record fields keep their order (and
    /// their spans). The type checker keeps secrets out of `json` values (a file refers to a
    /// secret only where plat writes the reference); one here is a bug, reported.
    fn json(&mut self, value: &Value, span: Span) -> Data {
        match value {
            Value::None => Data::Null,
            Value::Bool(b) => Data::Bool(*b),
            Value::Int(i) => Data::from(*i),
            Value::Str(s) => Data::String(self.text(s, span)),
            Value::List(items) => {
                Data::Array(items.iter().map(|item| self.json(item, span)).collect())
            }
            Value::Record(record) => Data::Object(
                record
                    .fields
                    .iter()
                    .map(|f| {
                        let key = self.text(&f.name, f.span);
                        (key, self.json(&f.value, f.span))
                    })
                    .collect(),
            ),
            Value::Secret(_) => {
                self.diagnostics.push(
                    Diagnostic::error("internal::lowering", span, "a secret in `json` data")
                        .with_help("this is a bug in plat (the type checker admits secrets in json); please report it"),
                );
                Data::Null
            }
            other => Data::String(self.text(&other.to_string(), span)),
        }
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

// The lowering of the kinds generated from the prelude (`model::kinds`): `lower_vm`,
// `lower_disk`, ... (`compiler/build/kinds.rs` writes it). Each field is one `at(field, value)`,
// its value converted by `Lower::leaf` (a [`FromValue`] type), `entity_name`, or the lowering of
// a nested record.
include!(concat!(env!("OUT_DIR"), "/kinds_lower.rs"));

/// A model value made from one evaluated value: the one mechanism the generated lowering uses
/// for every leaf type (`string`, `int`, `size`, ...). A prelude type that needs interpreting
/// gets a hand-written Rust type implementing it.
trait FromValue: Sized {
    /// What the value should have been, for the internal error.
    const WHAT: &'static str;
    /// The model value of `value` (written at `span`), or `None` when it has another shape.
    fn from_value(lower: &mut Lower, value: &Value, span: Span) -> Option<Self>;
}

impl FromValue for String {
    const WHAT: &'static str = "a string";
    fn from_value(lower: &mut Lower, value: &Value, span: Span) -> Option<Self> {
        match value {
            Value::Str(s) => Some(lower.text(s, span)),
            _ => None,
        }
    }
}

impl FromValue for bool {
    const WHAT: &'static str = "a bool";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromValue for u32 {
    const WHAT: &'static str = "an int in range";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Int(i) => u32::try_from(*i).ok(),
            _ => None,
        }
    }
}

impl FromValue for u16 {
    const WHAT: &'static str = "a port";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Int(i) => u16::try_from(*i).ok(),
            _ => None,
        }
    }
}

/// `size` ([`Bytes`]).
impl FromValue for i64 {
    const WHAT: &'static str = "a size";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Size(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromValue for IpAddr {
    const WHAT: &'static str = "an address";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Ip(ip) => Some(*ip),
            _ => None,
        }
    }
}

impl FromValue for Cidr {
    const WHAT: &'static str = "a subnet";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Cidr(c) => Some(*c),
            _ => None,
        }
    }
}

impl FromValue for [u8; 6] {
    const WHAT: &'static str = "a MAC";
    fn from_value(_: &mut Lower, value: &Value, _: Span) -> Option<Self> {
        match value {
            Value::Mac(mac) => Some(*mac),
            _ => None,
        }
    }
}

impl Lower {
    /// A leaf value of the generated lowering.
    fn leaf<T: FromValue>(&mut self, value: &Value, span: Span) -> L<T> {
        match T::from_value(self, value, span) {
            Some(value) => Ok(value),
            None => Err(self.mismatch(span, T::WHAT)),
        }
    }

    /// A reference to an entity: its name.
    fn entity_name(&mut self, value: &Value, span: Span) -> L<String> {
        match value.entity() {
            Some(id) => Ok(id.name.to_string()),
            None => Err(self.mismatch(span, "an entity reference")),
        }
    }

    /// A value of another shape than the prelude declares (a bug).
    fn mismatch(&mut self, span: Span, what: &str) -> Bug {
        self.diagnostics.push(
            Diagnostic::error(
                "internal::lowering",
                span,
                format!("this value is not {what}"),
            )
            .with_help(
                "this is a bug in plat (the prelude and the model disagree); please report it",
            ),
        );
        Bug
    }
}

/// Map entries sorted by slot (`net2` before `net10`).
fn slot_sorted<T>(mut entries: Vec<(String, T)>) -> IndexMap<String, T> {
    entries.sort_by(|(a, _), (b, _)| slot_key(a).cmp(&slot_key(b)));
    entries.into_iter().collect()
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

/// Sort key for slot names: `net2` before `net10`.
fn slot_key(name: &str) -> (&str, u64, &str) {
    let digits_start = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (prefix, digits) = name.split_at(digits_start);
    (prefix, digits.parse().unwrap_or(0), name)
}

#[cfg(test)]
mod tests {
    use plat_lang::load::MemLoader;

    const CODE: &str = "check::secret-reference-in-string";

    /// The lines (1-based) and messages of the forged references `source` is reported for.
    fn forged(source: &str) -> Vec<(usize, String)> {
        let loader = MemLoader::single("main.plat", source);
        let compilation = crate::compile::compile_with(&loader, &["main.plat".to_string()]);
        let sources = &compilation.front.loaded.sources;
        assert!(compilation.model.is_some(), "{:?}", compilation.diagnostics);
        compilation
            .diagnostics
            .iter()
            .filter(|d| d.code == CODE)
            .map(|d| {
                let (line, _) = sources.get(d.span.file).line_col(d.span.start);
                (line, d.message.clone())
            })
            .collect()
    }

    fn lines(found: &[(usize, String)]) -> Vec<usize> {
        found.iter().map(|(line, _)| *line).collect()
    }

    #[test]
    fn every_kind_of_string_is_checked_however_it_was_built() {
        let found = forged(
            r#"let name = "kubeadm-main-bootstrap-token"
vlan a { id = 10, subnet = 10.0.0.0/24, description = "$" + "{secret:" + name + "}" }
cluster c {
  version = "1.31.4"
  endpoint = 10.0.0.5
  pod_cidr = 10.244.0.0/16
  service_cidr = 10.96.0.0/12
}
namespace n { cluster = cluster.c, labels = { "\${secret:k}" = "v" } }
chart h {
  namespace = namespace.n
  repo = "https://example.org/charts"
  chart = "h"
  version = "1.0.0"
  values = { a = [1, { b = "x \${secret:${name}} y" }], "\${secret:key}" = true }
}
service s {
  namespace = namespace.n
  image = "example.org/s:1"
  port = 80
  env = { A = "ok", B = "\${secret:${name}" }
  args = ["--x", "\${secret:y}"]
  resources = { millicpu = 10, memory = 16MiB }
}
"#,
        );
        // The chart's values hold two: a nested string and a key.
        assert_eq!(lines(&found), [2, 9, 15, 15, 21, 22], "{found:?}");
        assert!(
            found[0]
                .1
                .contains("`${secret:kubeadm-main-bootstrap-token}`"),
            "{}",
            found[0].1
        );
        // A reference without its closing brace is quoted to the end of the string.
        assert!(
            found[4]
                .1
                .contains("`${secret:kubeadm-main-bootstrap-token`"),
            "{}",
            found[4].1
        );
    }

    #[test]
    fn dollars_that_do_not_read_as_a_reference_pass() {
        let found = forged(
            r#"vlan a { id = 10, subnet = 10.0.0.0/24, description = "\$5 \${HOME} \$ {secret:x} {secret:y} \${SECRET:z} secret:w" }
"#,
        );
        assert_eq!(found, []);
    }
}

//! Evaluated values. Records keep their fields in source order and remember, per field,
//! the span of the expression that produced the value (or the default it came from), so
//! that the compiler's model and `plat explain` can point at source text.

use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;

use crate::span::Span;

/// An interned-by-sharing name: field names, entity names, kinds.
///
/// Shared between threads (`Arc`) because large files are parsed in parts on several threads
/// (`syntax::parser::parse`); a clone is one uncontended atomic increment.
pub type Name = std::sync::Arc<str>;

/// A map from names, for lookups among thousands of entities, where a B-tree of strings costs
/// a dozen string comparisons a lookup. It iterates in insertion order; its hasher has fixed
/// keys, so nothing about it varies between runs.
pub type NameMap<V> = indexmap::IndexMap<Name, V, FixedHasher>;

/// The hasher of [`NameMap`]: foldhash with its fixed seed (SipHash, the standard library's,
/// was a twentieth of a large check, hashing short names).
pub type FixedHasher = foldhash::fast::FixedState;

/// A value of the language. Cheap to clone: compound values are shared.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// The absent optional.
    None,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit integer (ports and refined integers too).
    Int(i64),
    /// A string.
    Str(Rc<str>),
    /// A size in bytes.
    Size(i64),
    /// A duration in milliseconds.
    Duration(i64),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A subnet.
    Cidr(Cidr),
    /// A MAC address.
    Mac([u8; 6]),
    /// A reference to a secret, resolved when the platform is applied.
    Secret(Rc<str>),
    /// A list.
    List(Rc<Vec<Value>>),
    /// A record or a map (both are ordered string-keyed fields; the static type says which).
    Record(Rc<Record>),
}

/// The most that values written out in full may weigh together, in about the bytes of their
/// JSON (64 MiB): a manifest's or chart's data, or what `plat eval` prints. Values share their
/// parts, so one built in a few lines (a record of two fields that both hold the previous
/// record, forty times over) is 2^40 records written out; [`SizeBudget`] refuses it before
/// anything is written.
pub const MAX_VALUE_SIZE: u64 = 64 << 20;

/// What is left of [`MAX_VALUE_SIZE`] (or another limit) for writing values out in full.
#[derive(Clone, Debug)]
pub struct SizeBudget {
    left: u64,
}

impl SizeBudget {
    /// A budget of `limit` (about bytes of JSON).
    pub fn new(limit: u64) -> SizeBudget {
        SizeBudget { left: limit }
    }

    /// Takes `value`'s size written out in full (8 a value and 2 a level of nesting, plus the
    /// bytes of its strings and field names; a nested entity is a reference) from the budget; false, taking nothing,
    /// when it does not fit. Costs at most about the budget, however much the value shares.
    pub fn charge(&mut self, value: &Value) -> bool {
        let mut left = self.left;
        let mut stack = vec![(value, 0u64)];
        while let Some((value, depth)) = stack.pop() {
            // A line of indented output (YAML, pretty JSON) for each value.
            let size = 8
                + 2 * depth
                + match value {
                    Value::Str(s) | Value::Secret(s) => s.len() as u64,
                    Value::List(items) => {
                        stack.extend(items.iter().map(|item| (item, depth + 1)));
                        0
                    }
                    Value::Record(record) if depth == 0 || record.entity.is_none() => {
                        stack.extend(record.fields.iter().map(|f| (&f.value, depth + 1)));
                        record.fields.iter().map(|f| f.name.len() as u64).sum()
                    }
                    _ => 0,
                };
            match left.checked_sub(size) {
                Some(rest) => left = rest,
                None => return false,
            }
        }
        self.left = left;
        true
    }
}

/// `limit::value-size` at `span`: `what` (`the data of manifest x`) is too large written out.
pub fn too_large(span: Span, what: &str) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::error(
        "limit::value-size",
        span,
        format!(
            "{what} is too large written out in full (more than {} MiB with the values before it)",
            MAX_VALUE_SIZE >> 20
        ),
    )
    .with_label("too large written out")
    .with_help(
        "a value that holds the same part twice, many levels deep, doubles in size at each \
         level when written out: build the data without repeating large parts",
    )
}

/// A record value: ordered fields, and the entity it is, when it is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Fields in source (or declaration) order.
    pub fields: Vec<Field>,
    /// Set when this record is a declared entity (so it is a reference, not a copy).
    pub entity: Option<EntityId>,
}

/// One field of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Field name (or map key).
    pub name: Name,
    /// The value.
    pub value: Value,
    /// The expression that produced the value (a default's expression in the prelude or a
    /// type declaration when `from_default`).
    pub span: Span,
    /// True when the value was filled in from a type's default.
    pub from_default: bool,
}

/// The identity of a declared entity: its kind and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId {
    /// The kind, e.g. `vm`.
    pub kind: Name,
    /// The entity's name, e.g. `cp-1` (empty for a singleton such as `site`).
    pub name: Name,
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{} {}", self.kind, self.name)
        }
    }
}

impl Record {
    /// The field called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.field(name).map(|f| &f.value)
    }

    /// The field called `name`, with its span.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| &*f.name == name)
    }
}

/// An IP subnet: a network address and a prefix length (host bits are zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Bits in an address of this family.
    pub fn bits(&self) -> u8 {
        match self.addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    /// The network address as an integer.
    pub fn network(&self) -> u128 {
        ip_to_u128(self.addr)
    }

    /// Number of addresses, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        let host_bits = u32::from(self.bits() - self.prefix);
        if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        }
    }

    /// The last address (broadcast for IPv4) as an integer.
    pub fn last(&self) -> u128 {
        self.network() + (self.size() - 1)
    }

    /// True when `ip` is inside this subnet.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let value = ip_to_u128(ip);
        value >= self.network() && value <= self.last()
    }

    /// True when the two subnets share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && self.network() <= other.last()
            && other.network() <= self.last()
    }

    /// The `index`th address of the subnet (0 is the network address), if inside.
    pub fn host(&self, index: u128) -> Option<IpAddr> {
        if index >= self.size() {
            return None;
        }
        Some(u128_to_ip(self.network() + index, self.addr.is_ipv4()))
    }

    /// The `index`th subnet of prefix length `prefix` inside this one.
    pub fn subnet(&self, prefix: u8, index: u128) -> Option<Cidr> {
        if prefix < self.prefix || prefix > self.bits() {
            return None;
        }
        let count_bits = u32::from(prefix - self.prefix);
        if count_bits < 128 && index >= (1u128 << count_bits) {
            return None;
        }
        let step_bits = u32::from(self.bits() - prefix);
        let offset = if step_bits >= 128 {
            0
        } else {
            index << step_bits
        };
        Some(Cidr {
            addr: u128_to_ip(self.network() + offset, self.addr.is_ipv4()),
            prefix,
        })
    }

    /// A subnet from an address and prefix, if the host bits are zero and the prefix fits.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, String> {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(format!("prefix /{prefix} is longer than {bits} bits"));
        }
        let host_bits = u32::from(bits - prefix);
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if ip_to_u128(addr) & mask != 0 {
            return Err(format!("{addr}/{prefix} has host bits set"));
        }
        Ok(Cidr { addr, prefix })
    }

    /// The netmask in dotted form (IPv4 only), e.g. `255.255.255.0`.
    pub fn netmask_v4(&self) -> Option<std::net::Ipv4Addr> {
        match self.addr {
            IpAddr::V4(_) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                Some(std::net::Ipv4Addr::from(mask))
            }
            IpAddr::V6(_) => None,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An address as an integer (IPv4 in the low 32 bits).
pub fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An integer as an address of the given family.
pub fn u128_to_ip(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(value as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(value))
    }
}

/// Formats a MAC canonically: lowercase, colon separated.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// Size units, largest first: (suffix, bytes).
pub const SIZE_UNITS: &[(&str, i64)] = &[
    ("PiB", 1 << 50),
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("PB", 1_000_000_000_000_000),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("KB", 1_000),
    ("B", 1),
];

/// Duration units, largest first: (suffix, milliseconds).
pub const DURATION_UNITS: &[(&str, i64)] = &[
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("min", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Formats a size with its largest exact binary unit (`8GiB`), else decimal, else bytes.
pub fn format_size(bytes: i64) -> String {
    if bytes == 0 {
        return "0B".into();
    }
    for (suffix, unit) in SIZE_UNITS {
        if bytes % unit == 0 {
            return format!("{}{}", bytes / unit, suffix);
        }
    }
    format!("{bytes}B")
}

/// Formats a duration with its largest exact unit (`90s`, `2h`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    for (suffix, unit) in DURATION_UNITS {
        if ms % unit == 0 {
            return format!("{}{}", ms / unit, suffix);
        }
    }
    format!("{ms}ms")
}

/// The most text a list or record is shown with (in bytes, in messages); a longer text ends
/// with `…`.
pub const MAX_VALUE_TEXT: usize = 2048;

impl fmt::Display for Value {
    /// The canonical text of a value, as string interpolation shows it. Lists and records,
    /// which only messages show, stop after [`MAX_VALUE_TEXT`] bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::List(_) | Value::Record(_) => f
                .write_str(&crate::bounded::text(MAX_VALUE_TEXT, |out| {
                    write_value(self, out, false)
                })),
            scalar => write_value(scalar, f, false),
        }
    }
}

/// Writes `value`; strings inside lists and records are quoted.
fn write_value(value: &Value, f: &mut dyn fmt::Write, nested: bool) -> fmt::Result {
    match value {
        Value::None => write!(f, "none"),
        Value::Bool(b) => write!(f, "{b}"),
        Value::Int(i) => write!(f, "{i}"),
        Value::Str(s) if nested => write!(f, "{s:?}"),
        Value::Str(s) => write!(f, "{s}"),
        Value::Size(bytes) => write!(f, "{}", format_size(*bytes)),
        Value::Duration(ms) => write!(f, "{}", format_duration(*ms)),
        Value::Ip(ip) => write!(f, "{ip}"),
        Value::Cidr(cidr) => write!(f, "{cidr}"),
        Value::Mac(mac) => write!(f, "{}", format_mac(mac)),
        Value::Secret(name) => write!(f, "secret({name:?})"),
        Value::List(items) => {
            write!(f, "[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write_value(item, f, true)?;
            }
            write!(f, "]")
        }
        Value::Record(record) => {
            if let Some(id) = &record.entity {
                return write!(f, "{id}");
            }
            write!(f, "{{ ")?;
            for (i, field) in record.fields.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{} = ", field.name)?;
                write_value(&field.value, f, true)?;
            }
            write!(f, " }}")
        }
    }
}

impl Value {
    /// The record inside, if this is one.
    pub fn as_record(&self) -> Option<&Record> {
        match self {
            Value::Record(r) => Some(r),
            _ => None,
        }
    }

    /// The string inside, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The list inside, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entity this value refers to, if it is a declared entity.
    pub fn entity(&self) -> Option<&EntityId> {
        self.as_record().and_then(|r| r.entity.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        let (addr, prefix) = text.split_once('/').unwrap();
        Cidr::new(addr.parse().unwrap(), prefix.parse().unwrap()).unwrap()
    }

    #[test]
    fn subnet_arithmetic() {
        let lan = cidr("10.20.0.0/24");
        assert_eq!(lan.host(11).unwrap().to_string(), "10.20.0.11");
        assert_eq!(lan.host(256), None);
        assert_eq!(lan.size(), 256);
        assert!(lan.contains("10.20.0.255".parse().unwrap()));
        assert!(!lan.contains("10.21.0.0".parse().unwrap()));
        assert_eq!(
            cidr("10.100.0.0/16").subnet(24, 3).unwrap().to_string(),
            "10.100.3.0/24"
        );
        assert_eq!(cidr("10.100.0.0/16").subnet(24, 256), None);
        assert!(cidr("10.0.0.0/8").overlaps(&cidr("10.20.0.0/24")));
        assert!(!cidr("10.0.0.0/8").overlaps(&cidr("11.0.0.0/8")));
        assert_eq!(cidr("::/0").size(), u128::MAX);
        assert!(Cidr::new("10.0.0.1".parse().unwrap(), 24).is_err());
        assert_eq!(lan.netmask_v4().unwrap().to_string(), "255.255.255.0");
    }

    /// A record of two fields that both hold the previous record, forty times over: small in
    /// memory, 2^40 records written out.
    fn shared(levels: usize) -> Value {
        let leaf = |name: &str, value: Value| Field {
            name: name.into(),
            value,
            span: Span::default(),
            from_default: false,
        };
        let mut value = Value::Record(Rc::new(Record {
            fields: vec![leaf("a", Value::Int(1))],
            entity: None,
        }));
        for _ in 0..levels {
            value = Value::Record(Rc::new(Record {
                fields: vec![leaf("l", value.clone()), leaf("r", value)],
                entity: None,
            }));
        }
        value
    }

    #[test]
    fn size_budget_is_charged_the_size_written_out() {
        let mut budget = SizeBudget::new(MAX_VALUE_SIZE);
        assert!(!budget.charge(&shared(40)), "2^40 records fit");
        // Refused without taking anything: a small value still fits.
        assert!(budget.charge(&shared(3)));
        // Each value 8, 2 a level, plus its field names: 1, 2 and 4 records of `l` and `r` at
        // depths 0 to 2, 8 records of `a` at depth 3, 8 ints at depth 4.
        let mut exact = SizeBudget::new(u64::MAX);
        assert!(exact.charge(&shared(3)));
        let expected = (8 + 2) + 2 * (8 + 2 + 2) + 4 * (8 + 4 + 2) + 8 * (8 + 6 + 1) + 8 * (8 + 8);
        assert_eq!(u64::MAX - exact.left, expected);
    }

    #[test]
    fn compound_values_are_shown_bounded() {
        let text = shared(40).to_string();
        assert!(text.len() <= MAX_VALUE_TEXT + 3, "{} bytes", text.len());
        assert!(text.ends_with('…'));
        assert_eq!(shared(1).to_string(), "{ l = { a = 1 }, r = { a = 1 } }");
    }

    #[test]
    fn canonical_units() {
        assert_eq!(format_size(8 << 30), "8GiB");
        assert_eq!(format_size(1_000_000_000), "1GB");
        assert_eq!(format_size(1500), "1500B");
        assert_eq!(format_duration(90_000), "90s");
        assert_eq!(format_duration(7_200_000), "2h");
    }
}

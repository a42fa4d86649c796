//! Types and assignability.

use std::fmt;
use std::rc::Rc;

use crate::span::Span;
use crate::syntax::ast::Expr;
use crate::value::Name;

/// A resolved type.
#[derive(Clone, Debug)]
pub enum Type {
    /// The type of an expression that already has an error; accepts and is accepted by all.
    Error,
    /// The element type of `[]`: assignable to anything.
    Never,
    /// The type of `none`.
    None,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `int(lo..=hi)`, bounds inclusive; `port` is `int(1..=65535)`.
    IntRange(i64, i64),
    /// `string`.
    Str,
    /// A string literal type.
    StrLit(Name),
    /// `size`.
    Size,
    /// `duration`.
    Duration,
    /// `ip`.
    Ip,
    /// `cidr`.
    Cidr,
    /// `mac`.
    Mac,
    /// `secret`.
    Secret,
    /// `json`: null, bool, int, string, lists and records of json.
    Json,
    /// `[T]`.
    List(Rc<Type>),
    /// `{string: T}`.
    Map(Rc<Type>),
    /// A record type (named, anonymous, or an entity kind's).
    Record(Rc<RecordType>),
    /// `T?`.
    Optional(Rc<Type>),
    /// `A | B`.
    Union(Rc<Vec<Type>>),
}

/// A record type.
#[derive(Debug)]
pub struct RecordType {
    /// The declared name (`App`), if any.
    pub name: Option<Name>,
    /// The entity kind whose type this is (`vm`), if any.
    pub kind: Option<Name>,
    /// Fields in declaration order.
    pub fields: Vec<FieldType>,
    /// The module whose scope the defaults are evaluated in.
    pub module: usize,
}

/// A field of a record type.
#[derive(Debug)]
pub struct FieldType {
    /// Name.
    pub name: Name,
    /// Type.
    pub ty: Type,
    /// Default expression (may refer to earlier fields).
    pub default: Option<Rc<Expr>>,
    /// Documentation.
    pub doc: Option<String>,
    /// Where the field is declared.
    pub span: Span,
}

impl RecordType {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldType> {
        self.fields.iter().find(|f| &*f.name == name)
    }
}

impl Type {
    /// `port`.
    pub fn port() -> Type {
        Type::IntRange(1, 65535)
    }

    /// True for the integer types.
    pub fn is_int(&self) -> bool {
        matches!(self, Type::Int | Type::IntRange(..))
    }

    /// True for the string types.
    pub fn is_str(&self) -> bool {
        matches!(self, Type::Str | Type::StrLit(_))
    }

    /// True when the type is (or absorbs) an error.
    pub fn is_error(&self) -> bool {
        matches!(self, Type::Error)
    }

    /// The type without an outer `?`.
    pub fn strip_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    /// The type after widening literals (`"a"` to `string`, `int(..)` to `int`).
    pub fn widen(&self) -> Type {
        match self {
            Type::StrLit(_) => Type::Str,
            Type::IntRange(..) => Type::Int,
            Type::Union(members) if members.iter().all(|m| m.widen().is_str()) => Type::Str,
            Type::Union(members) if members.iter().all(|m| m.is_int()) => Type::Int,
            other => other.clone(),
        }
    }

    /// True when values of this type may need coercion (defaults, range checks, references).
    pub fn needs_coercion(&self) -> bool {
        match self {
            Type::IntRange(..) | Type::Record(_) | Type::Union(_) => true,
            Type::List(inner) | Type::Map(inner) | Type::Optional(inner) => inner.needs_coercion(),
            _ => false,
        }
    }
}

/// Can a value of type `actual` be used where `expected` is required?
/// Refinements (`int(1..=20)`) and union membership of computed values are checked at run
/// time; everything else is decided here.
pub fn assignable(actual: &Type, expected: &Type) -> bool {
    use Type::*;
    match (actual, expected) {
        (Error, _) | (_, Error) | (Never, _) => true,
        (Union(members), _) => members.iter().all(|m| assignable(m, expected)),
        (_, Json) => json_compatible(actual),
        (None, Optional(_)) => true,
        (Optional(a), Optional(b)) => assignable(a, b),
        (_, Optional(b)) => assignable(actual, b),
        (_, Union(members)) => members.iter().any(|m| assignable(actual, m)),
        (Int | IntRange(..), Int | IntRange(..)) => true,
        (StrLit(_), Str) => true,
        (StrLit(a), StrLit(b)) => a == b,
        (List(a), List(b)) => assignable(a, b),
        (Map(a), Map(b)) => assignable(a, b),
        (Record(r), Map(v)) => r.kind.is_none() && r.fields.iter().all(|f| assignable(&f.ty, v)),
        (Record(a), Record(b)) => record_assignable(a, b),
        (Bool, Bool)
        | (Str, Str)
        | (Size, Size)
        | (Duration, Duration)
        | (Ip, Ip)
        | (Cidr, Cidr)
        | (Mac, Mac)
        | (Secret, Secret)
        | (None, None) => true,
        _ => false,
    }
}

fn record_assignable(actual: &Rc<RecordType>, expected: &Rc<RecordType>) -> bool {
    if Rc::ptr_eq(actual, expected) {
        return true;
    }
    if let (Some(a), Some(b)) = (&actual.kind, &expected.kind) {
        return a == b;
    }
    if actual.name.is_some() && expected.name.is_some() && actual.kind.is_none() {
        // Two declared record types are the same only if they are the same declaration.
        return false;
    }
    expected
        .fields
        .iter()
        .all(|field| match actual.field(&field.name) {
            Some(a) => assignable(&a.ty, &field.ty),
            None => field.default.is_some(),
        })
        && actual
            .fields
            .iter()
            .all(|f| expected.field(&f.name).is_some())
}

fn json_compatible(ty: &Type) -> bool {
    use Type::*;
    match ty {
        Error | Never | None | Bool | Int | IntRange(..) | Str | StrLit(_) | Json => true,
        List(inner) | Map(inner) | Optional(inner) => json_compatible(inner),
        Record(r) => r.kind.is_none() && r.fields.iter().all(|f| json_compatible(&f.ty)),
        Union(members) => members.iter().all(json_compatible),
        _ => false,
    }
}

fn same_fields(x: &RecordType, y: &RecordType) -> bool {
    x.name.is_none()
        && y.name.is_none()
        && x.kind.is_none()
        && y.kind.is_none()
        && x.fields.len() == y.fields.len()
        && x.fields.iter().all(|f| y.field(&f.name).is_some())
}

/// The type of `if c then a else b` (and of list elements): the wider of the two, or a union.
pub fn join(a: &Type, b: &Type) -> Type {
    if matches!(a, Type::Never | Type::Error) {
        return b.clone();
    }
    if matches!(b, Type::Never | Type::Error) {
        return a.clone();
    }
    match (a, b) {
        (Type::None, Type::None) => Type::None,
        (Type::None, other) | (other, Type::None) => match other {
            Type::Optional(_) => other.clone(),
            _ => Type::Optional(Rc::new(other.clone())),
        },
        (Type::StrLit(x), Type::StrLit(y)) if x != y => {
            Type::Union(Rc::new(vec![a.clone(), b.clone()]))
        }
        (Type::Record(x), Type::Record(y))
            if same_fields(x, y) && !assignable(a, b) && !assignable(b, a) =>
        {
            // Two anonymous records with the same fields join field by field, so that a list
            // of such records keeps one record type.
            let fields = x
                .fields
                .iter()
                .map(|f| FieldType {
                    name: f.name.clone(),
                    ty: join(
                        &f.ty,
                        &y.field(&f.name).map_or(Type::Error, |g| g.ty.clone()),
                    ),
                    default: None,
                    doc: None,
                    span: f.span,
                })
                .collect();
            Type::Record(Rc::new(RecordType {
                name: None,
                kind: None,
                fields,
                module: x.module,
            }))
        }
        _ if assignable(a, b) => b.clone(),
        _ if assignable(b, a) => a.clone(),
        _ if a.widen().is_str() && b.widen().is_str() => Type::Str,
        _ if a.is_int() && b.is_int() => Type::Int,
        _ => Type::Union(Rc::new(vec![a.clone(), b.clone()])),
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Error => write!(f, "{{unknown}}"),
            Type::Never => write!(f, "[]"),
            Type::None => write!(f, "none"),
            Type::Bool => write!(f, "bool"),
            Type::Int => write!(f, "int"),
            Type::IntRange(1, 65535) => write!(f, "port"),
            Type::IntRange(lo, hi) => write!(f, "int({lo}..={hi})"),
            Type::Str => write!(f, "string"),
            Type::StrLit(s) => write!(f, "{s:?}"),
            Type::Size => write!(f, "size"),
            Type::Duration => write!(f, "duration"),
            Type::Ip => write!(f, "ip"),
            Type::Cidr => write!(f, "cidr"),
            Type::Mac => write!(f, "mac"),
            Type::Secret => write!(f, "secret"),
            Type::Json => write!(f, "json"),
            Type::List(inner) => write!(f, "[{inner}]"),
            Type::Map(inner) => write!(f, "{{string: {inner}}}"),
            Type::Record(r) => match &r.name {
                Some(name) => write!(f, "{name}"),
                None => {
                    write!(f, "{{ ")?;
                    for (i, field) in r.fields.iter().enumerate() {
                        if i > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{}: {}", field.name, field.ty)?;
                    }
                    write!(f, " }}")
                }
            },
            Type::Optional(inner) => match &**inner {
                Type::Union(_) => write!(f, "({inner})?"),
                _ => write!(f, "{inner}?"),
            },
            Type::Union(members) => {
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        write!(f, " | ")?;
                    }
                    write!(f, "{m}")?;
                }
                Ok(())
            }
        }
    }
}

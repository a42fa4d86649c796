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
    /// Where the record was written, for the type of a record literal (its fields' spans are
    /// then the names as written): a mismatch found where the record is used is reported at
    /// the literal's fields.
    pub written: Option<Span>,
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
    assignable_in(actual, expected, &mut Memo::default())
}

/// Answers already given within one top-level question, by the identity of the shared
/// (`Rc`) types they were about. Types built by inference share their parts: a record of two
/// fields that both hold the previous record, forty times over, is forty records, but 2^40
/// of them when walked as a tree; with the answers kept, each pair of shared types is decided
/// once. Nothing is kept for the first [`Memo::FREE`] questions, which is all that almost
/// every type needs.
#[derive(Default)]
struct Memo {
    questions: u32,
    assignable: Answers<(usize, usize), bool>,
    json: Answers<usize, bool>,
    join: Answers<(usize, usize), Type>,
}

impl Memo {
    const FREE: u32 = 64;

    /// Counts a question; true once answers are worth keeping.
    fn keeping(&mut self) -> bool {
        self.questions = self.questions.saturating_add(1);
        self.questions > Memo::FREE
    }
}

/// Answers by identity; nothing iterates them.
type Answers<K, V> = indexmap::IndexMap<K, V, crate::value::FixedHasher>;

/// The identity of a type that has parts, if it has any: the address of its `Rc` (aligned
/// to 8 at least), with the variant in the low bits (`[T]`, `{string: T}` and `T?` share
/// `T`'s `Rc`). Every type asked about is borrowed for the whole question, so no address is
/// reused while the answers are kept.
pub(crate) fn identity(ty: &Type) -> Option<usize> {
    match ty {
        Type::List(inner) => Some(Rc::as_ptr(inner) as usize),
        Type::Map(inner) => Some(Rc::as_ptr(inner) as usize | 1),
        Type::Optional(inner) => Some(Rc::as_ptr(inner) as usize | 2),
        Type::Record(r) => Some(Rc::as_ptr(r) as usize | 3),
        Type::Union(members) => Some(Rc::as_ptr(members) as *const u8 as usize | 4),
        _ => None,
    }
}

fn assignable_in(actual: &Type, expected: &Type, memo: &mut Memo) -> bool {
    let key = match (memo.keeping(), identity(actual), identity(expected)) {
        (true, Some(a), Some(e)) => Some((a, e)),
        _ => None,
    };
    if let Some(known) = key.and_then(|key| memo.assignable.get(&key)) {
        return *known;
    }
    let answer = assignable_uncached(actual, expected, memo);
    if let Some(key) = key {
        memo.assignable.insert(key, answer);
    }
    answer
}

fn assignable_uncached(actual: &Type, expected: &Type, memo: &mut Memo) -> bool {
    use Type::*;
    match (actual, expected) {
        (Error, _) | (_, Error) | (Never, _) => true,
        (Union(members), _) => members.iter().all(|m| assignable_in(m, expected, memo)),
        (_, Json) => json_compatible(actual, memo),
        (None, Optional(_)) => true,
        (Optional(a), Optional(b)) => assignable_in(a, b, memo),
        (_, Optional(b)) => assignable_in(actual, b, memo),
        (_, Union(members)) => members.iter().any(|m| assignable_in(actual, m, memo)),
        (Int | IntRange(..), Int | IntRange(..)) => true,
        (StrLit(_), Str) => true,
        (StrLit(a), StrLit(b)) => a == b,
        (List(a), List(b)) => assignable_in(a, b, memo),
        (Map(a), Map(b)) => assignable_in(a, b, memo),
        (Record(r), Map(v)) => {
            r.kind.is_none() && r.fields.iter().all(|f| assignable_in(&f.ty, v, memo))
        }
        (Record(a), Record(b)) => record_assignable(a, b, memo),
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

fn record_assignable(actual: &Rc<RecordType>, expected: &Rc<RecordType>, memo: &mut Memo) -> bool {
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
            Some(a) => assignable_in(&a.ty, &field.ty, memo),
            None => field.default.is_some(),
        })
        && actual
            .fields
            .iter()
            .all(|f| expected.field(&f.name).is_some())
}

fn json_compatible(ty: &Type, memo: &mut Memo) -> bool {
    use Type::*;
    let key = match (memo.keeping(), identity(ty)) {
        (true, Some(id)) => Some(id),
        _ => Option::None,
    };
    if let Some(known) = key.and_then(|key| memo.json.get(&key)) {
        return *known;
    }
    let answer = match ty {
        Error | Never | None | Bool | Int | IntRange(..) | Str | StrLit(_) | Json => true,
        List(inner) | Map(inner) | Optional(inner) => json_compatible(inner, memo),
        Record(r) => r.kind.is_none() && r.fields.iter().all(|f| json_compatible(&f.ty, memo)),
        Union(members) => members.iter().all(|m| json_compatible(m, memo)),
        _ => false,
    };
    if let Some(key) = key {
        memo.json.insert(key, answer);
    }
    answer
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
/// The result shares the parts the two types share: answers about shared parts are kept.
pub fn join(a: &Type, b: &Type) -> Type {
    join_in(a, b, &mut Memo::default())
}

fn join_in(a: &Type, b: &Type, memo: &mut Memo) -> Type {
    let key = match (memo.keeping(), identity(a), identity(b)) {
        (true, Some(x), Some(y)) => Some((x, y)),
        _ => None,
    };
    if let Some(known) = key.and_then(|key| memo.join.get(&key)) {
        return known.clone();
    }
    let joined = join_uncached(a, b, memo);
    if let Some(key) = key {
        memo.join.insert(key, joined.clone());
    }
    joined
}

fn join_uncached(a: &Type, b: &Type, memo: &mut Memo) -> Type {
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
            if same_fields(x, y) && !assignable_in(a, b, memo) && !assignable_in(b, a, memo) =>
        {
            // Two anonymous records with the same fields join field by field, so that a list
            // of such records keeps one record type.
            let fields = x
                .fields
                .iter()
                .map(|f| FieldType {
                    name: f.name.clone(),
                    ty: match y.field(&f.name) {
                        Some(g) => join_in(&f.ty, &g.ty, memo),
                        None => join_in(&f.ty, &Type::Error, memo),
                    },
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
                written: x.written,
            }))
        }
        _ if assignable_in(a, b, memo) => b.clone(),
        _ if assignable_in(b, a, memo) => a.clone(),
        _ if a.widen().is_str() && b.widen().is_str() => Type::Str,
        _ if a.is_int() && b.is_int() => Type::Int,
        _ => Type::Union(Rc::new(vec![a.clone(), b.clone()])),
    }
}

/// The most text a type is shown with (in bytes); a longer rendering ends with `…`. Shared
/// parts are shown in full each time they occur, so a small type can be enormous as text.
pub const MAX_TYPE_TEXT: usize = 2048;

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::bounded::text(MAX_TYPE_TEXT, |out| {
            write_type(self, out)
        }))
    }
}

/// Writes `ty` to `f`, stopping at the first error (the text's limit).
fn write_type(ty: &Type, f: &mut crate::bounded::Bounded) -> fmt::Result {
    use fmt::Write;
    match ty {
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
        Type::List(inner) => {
            f.write_str("[")?;
            write_type(inner, f)?;
            f.write_str("]")
        }
        Type::Map(inner) => {
            f.write_str("{string: ")?;
            write_type(inner, f)?;
            f.write_str("}")
        }
        Type::Record(r) => match &r.name {
            Some(name) => write!(f, "{name}"),
            None => {
                write!(f, "{{ ")?;
                for (i, field) in r.fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}: ", field.name)?;
                    write_type(&field.ty, f)?;
                }
                write!(f, " }}")
            }
        },
        Type::Optional(inner) => match &**inner {
            Type::Union(_) => {
                f.write_str("(")?;
                write_type(inner, f)?;
                f.write_str(")?")
            }
            _ => {
                write_type(inner, f)?;
                f.write_str("?")
            }
        },
        Type::Union(members) => {
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    write!(f, " | ")?;
                }
                write_type(m, f)?;
            }
            Ok(())
        }
    }
}

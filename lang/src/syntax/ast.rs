//! The syntax tree. Every node carries a [`Span`]; nothing here is resolved or typed yet.

use std::net::IpAddr;

use crate::span::{FileId, Span};
use crate::value::{Cidr, Name};

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: Name,
    /// Where.
    pub span: Span,
}

/// A parsed source file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Which file.
    pub file: FileId,
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level (or `for`-nested) declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// The whole item.
    pub span: Span,
    /// The `##` documentation above it.
    pub doc: Option<String>,
}

/// The kinds of items.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `import "path"` or `import "path" as name`.
    Import {
        /// The path as written.
        path: String,
        /// The path literal's span.
        path_span: Span,
        /// The namespace, for `as`.
        alias: Option<Ident>,
    },
    /// `let name: T = value`.
    Let {
        /// Name.
        name: Ident,
        /// Declared type.
        ty: Option<TypeExpr>,
        /// Value.
        value: Expr,
    },
    /// `type Name = T`.
    Type {
        /// Name.
        name: Ident,
        /// Definition.
        ty: TypeExpr,
    },
    /// `fn name(params) -> T = body`.
    Fn {
        /// Name.
        name: Ident,
        /// Parameters.
        params: Vec<Param>,
        /// Return type.
        ret: TypeExpr,
        /// Body.
        body: Expr,
    },
    /// `kind name: Type [single]` (prelude only).
    Kind {
        /// Kind name (`vm`).
        name: Ident,
        /// Its record type.
        ty: TypeExpr,
        /// Exactly one, unnamed (`site`).
        single: bool,
    },
    /// `KIND [NAME] { fields }` or `KIND NAME = expr`.
    Entity {
        /// The kind.
        kind: Ident,
        /// The entity's name.
        name: EntityName,
        /// Its fields.
        body: EntityBody,
    },
    /// `for x in iter { items }`.
    For {
        /// Loop variable.
        var: Ident,
        /// What it iterates.
        iter: Expr,
        /// Generated items.
        items: Vec<Item>,
    },
    /// `assert cond, message`.
    Assert {
        /// Condition.
        cond: Expr,
        /// Message.
        message: Expr,
    },
}

/// A function parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Name.
    pub name: Ident,
    /// Type.
    pub ty: TypeExpr,
}

/// How an entity is named.
#[derive(Clone, Debug, PartialEq)]
pub enum EntityName {
    /// No name (singleton kinds).
    None,
    /// A plain name.
    Ident(Ident),
    /// A computed name (a string expression).
    Computed(Expr),
}

/// The body of an entity declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum EntityBody {
    /// `{ field = value ... }`.
    Block(Vec<FieldInit>, Span),
    /// `= expr`.
    Expr(Expr),
}

/// `name = value` inside a record literal or block.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    /// Field name or map key (a string key is allowed: `"a.b/c" = 1`).
    pub name: Ident,
    /// Value.
    pub value: Expr,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `!`.
    Not,
    /// `-`.
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text (escapes already processed).
    Lit(String),
    /// `${expr}` (boxed: a literal part, by far the most common, is then a third of the size).
    Interp(Box<Expr>),
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `none`.
    None,
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A string, possibly interpolated.
    Str(Vec<StrPart>),
    /// A size literal in bytes.
    Size(i64),
    /// A duration literal in milliseconds.
    Duration(i64),
    /// An address literal.
    Ip(IpAddr),
    /// A subnet literal.
    Cidr(Cidr),
    /// A MAC literal.
    Mac([u8; 6]),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ a = 1 }`.
    Record(Vec<FieldInit>),
    /// A name.
    Name(Ident),
    /// `e.name`.
    Field(Box<Expr>, Ident),
    /// `e[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(Ident, Vec<Expr>),
    /// `e.m(args)`.
    Method(Box<Expr>, Ident, Vec<Expr>),
    /// `!e`, `-e`.
    Unary(UnOp, Box<Expr>),
    /// `a + b`, ...
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `let x: T = e in body`.
    LetIn(Ident, Option<Box<TypeExpr>>, Box<Expr>, Box<Expr>),
    /// `e with { f = v }`.
    With(Box<Expr>, Vec<FieldInit>),
    /// `[for x in xs if p => f]`.
    Comprehension {
        /// Variable.
        var: Ident,
        /// Iterated list.
        iter: Box<Expr>,
        /// Filter.
        filter: Option<Box<Expr>>,
        /// Produced element.
        body: Box<Expr>,
    },
    /// `a..b`, `a..=b`.
    Range(Box<Expr>, Box<Expr>, bool),
    /// `(e)`, kept for faithful formatting.
    Paren(Box<Expr>),
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What it is.
    pub kind: TypeKind,
    /// Where.
    pub span: Span,
}

/// The kinds of type expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A named type (`int`, `App`), possibly namespaced (`apps.Web`).
    Name(Option<Ident>, Ident),
    /// `int(lo..hi)` or `int(lo..=hi)`.
    IntRange(i64, i64, bool),
    /// `[T]`.
    List(Box<TypeExpr>),
    /// `{string: T}`.
    Map(Box<TypeExpr>),
    /// `{ field: T = default }`.
    Record(Vec<TypeField>),
    /// `T?`.
    Optional(Box<TypeExpr>),
    /// `A | B`.
    Union(Vec<TypeExpr>),
    /// `"literal"`.
    StrLit(String),
}

/// A field of a record type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeField {
    /// Name.
    pub name: Ident,
    /// Type.
    pub ty: TypeExpr,
    /// Default value, which may refer to earlier fields.
    pub default: Option<Expr>,
    /// `##` documentation.
    pub doc: Option<String>,
}

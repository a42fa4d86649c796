//! The model's kinds, generated from `src/prelude.plat` (see `src/model/kinds.rs` for what
//! the generated items are and `docs/ARCHITECTURE.md`, "The prelude is the description of a
//! kind"). Two files:
//!
//! - `kinds.rs` (included by `model::kinds`): metadata of every prelude record type
//!   (`info::VM`, one `FieldInfo` per field: name, type and default as written, doc, impact,
//!   summary flag) and `KINDS`; and, for the types in [`GENERATED`] and the records written
//!   inline in them, the struct (fields named as in the prelude, each an `At<T>`) and its
//!   `Visit` implementation.
//! - `kinds_lower.rs` (included by `model::lower`): the lowering of each generated struct from
//!   an evaluated record, one `at(field, value)` per field.
//!
//! Deterministic: output depends only on the prelude's text.

use std::collections::BTreeMap;
use std::fmt::Write;

use plat_lang::span::{FileId, Span};
use plat_lang::syntax::ast::{Expr, ExprKind, ItemKind, StrPart, TypeExpr, TypeField, TypeKind};
use plat_lang::syntax::parser;

#[path = "../src/model/doc_tags.rs"]
mod doc_tags;

/// The prelude types that become generated structs (with every record type written inline in
/// them). The others keep hand-written structs in `model.rs` for now; their metadata
/// (`info::…`) is generated all the same.
pub const GENERATED: &[&str] = &["Vm", "Disk", "Nic", "Startup"];

/// How a prelude type is represented in the model.
#[derive(Clone, Debug)]
enum Shape {
    /// A value with a `FromValue` implementation (`String`, `u32`, `Bytes`, ...), and how its
    /// summary words are written from `v: &T`.
    Leaf { rust: &'static str, words: Words },
    /// A reference to an entity of a kind: its name.
    Ref,
    /// `T?`.
    Opt(Box<Shape>),
    /// `[T]`.
    List(Box<Shape>),
    /// `{string: T}` of records: sorted by slot (`net2` before `net10`).
    Map(Box<Shape>),
    /// A generated record struct.
    Struct(String),
}

#[derive(Clone, Copy, Debug)]
enum Words {
    Clone,
    Display,
    Size,
    Mac,
}

struct Type<'a> {
    name: String,
    /// How the prelude names it: `Vm`, or `Vm.efidisk` for a record written inline.
    prelude: String,
    doc: String,
    impact: Option<String>,
    fields: &'a [TypeField],
}

struct Gen<'a> {
    text: &'a str,
    kinds: BTreeMap<String, String>,
    /// Every record type: named ones and those written inline (`VmEfidisk`), in prelude order.
    types: Vec<Type<'a>>,
    /// Which of `types` get a struct.
    structs: Vec<String>,
}

/// Generates `(kinds.rs, kinds_lower.rs)` from the prelude's text.
pub fn generate(prelude: &str) -> (String, String) {
    let (file, diagnostics) = parser::parse(FileId(0), prelude);
    assert!(
        diagnostics.is_empty(),
        "the prelude does not parse: {diagnostics:?}"
    );
    let mut gen = Gen {
        text: prelude,
        kinds: BTreeMap::new(),
        types: Vec::new(),
        structs: Vec::new(),
    };
    let mut kind_order = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::Kind { name, ty, .. } => {
                let ty = gen.snippet(ty.span).to_string();
                kind_order.push((name.name.to_string(), ty.clone()));
                gen.kinds.insert(ty, name.name.to_string());
            }
            ItemKind::Type { name, ty } => {
                if let TypeKind::Record(fields) = &ty.kind {
                    let tags = doc_tags::split(item.doc.as_deref().unwrap_or_default());
                    let name = name.name.to_string();
                    gen.add_type(name.clone(), name, tags, fields);
                }
            }
            _ => {}
        }
    }
    for ty in GENERATED {
        gen.mark_struct(ty);
    }
    gen.check_tags(&kind_order);
    (gen.kinds_rs(&kind_order), gen.lower_rs())
}

impl<'a> Gen<'a> {
    fn snippet(&self, span: Span) -> &'a str {
        &self.text[span.start as usize..span.end as usize]
    }

    fn add_type(
        &mut self,
        name: String,
        prelude: String,
        tags: doc_tags::DocTags,
        fields: &'a [TypeField],
    ) {
        self.types.push(Type {
            name: name.clone(),
            prelude: prelude.clone(),
            doc: tags.prose,
            impact: tags.impact,
            fields,
        });
        for field in fields {
            if let Some(inner) = inline_record(&field.ty) {
                let doc = field.doc.as_deref().unwrap_or_default();
                let tags = doc_tags::split(doc);
                let inline = doc_tags::DocTags {
                    impact: None,
                    ..tags
                };
                let path = format!("{prelude}.{}", field.name.name);
                self.add_type(inline_name(&name, &field.name.name), path, inline, inner);
            }
        }
    }

    fn ty(&self, name: &str) -> &Type<'a> {
        self.types
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no record type `{name}` in the prelude"))
    }

    /// `name` and every record type its fields use get a struct.
    fn mark_struct(&mut self, name: &str) {
        if self.structs.iter().any(|s| s == name) {
            return;
        }
        self.structs.push(name.to_string());
        let fields = self.ty(name).fields;
        for field in fields {
            for used in self.records_in(name, &field.name.name, &field.ty) {
                self.mark_struct(&used);
            }
        }
    }

    fn records_in(&self, owner: &str, field: &str, ty: &TypeExpr) -> Vec<String> {
        match &ty.kind {
            TypeKind::Record(_) => vec![inline_name(owner, field)],
            TypeKind::Optional(inner) | TypeKind::List(inner) | TypeKind::Map(inner) => {
                self.records_in(owner, field, inner)
            }
            TypeKind::Name(None, id)
                if !self.kinds.contains_key(&*id.name)
                    && self.types.iter().any(|t| *t.name == *id.name) =>
            {
                vec![id.name.to_string()]
            }
            _ => Vec::new(),
        }
    }

    /// Every field of a kind's type declares its impact, or the type does (a default for its
    /// fields and for what the summary derives); the classes are known ones.
    fn check_tags(&self, kinds: &[(String, String)]) {
        for ty in &self.types {
            let tags = ty
                .fields
                .iter()
                .map(|f| doc_tags::split(f.doc.as_deref().unwrap_or_default()).impact);
            for class in tags.chain([ty.impact.clone()]).flatten() {
                assert!(
                    doc_tags::IMPACTS.contains(&class.as_str()),
                    "type {}: unknown impact class `{class}` (one of {:?})",
                    ty.name,
                    doc_tags::IMPACTS
                );
            }
        }
        for (_, ty_name) in kinds {
            let ty = self.ty(ty_name);
            for field in ty.fields {
                let tags = doc_tags::split(field.doc.as_deref().unwrap_or_default());
                assert!(
                    tags.impact.is_some() || ty.impact.is_some(),
                    "{}.{}: declare its apply impact with a `## impact: CLASS` line",
                    ty.name,
                    field.name.name
                );
            }
        }
    }

    fn shape(&self, owner: &str, field: &str, ty: &TypeExpr) -> Shape {
        let leaf = |rust, words| Shape::Leaf { rust, words };
        match &ty.kind {
            TypeKind::Name(None, id) => match &*id.name {
                "string" => leaf("String", Words::Clone),
                "int" => leaf("u32", Words::Display),
                "port" => leaf("u16", Words::Display),
                "size" => leaf("Bytes", Words::Size),
                "bool" => leaf("bool", Words::Display),
                "ip" => leaf("IpAddr", Words::Display),
                "cidr" => leaf("Cidr", Words::Display),
                "mac" => leaf("[u8; 6]", Words::Mac),
                name if self.kinds.contains_key(name) => Shape::Ref,
                name if self.structs.iter().any(|s| s == name) => Shape::Struct(name.to_string()),
                other => panic!("{owner}.{field}: no model type for `{other}`"),
            },
            TypeKind::IntRange(lo, _, _) if *lo >= 0 => leaf("u32", Words::Display),
            TypeKind::Union(parts)
                if parts.iter().all(|p| matches!(p.kind, TypeKind::StrLit(_))) =>
            {
                leaf("String", Words::Clone)
            }
            TypeKind::Optional(inner) => Shape::Opt(Box::new(self.shape(owner, field, inner))),
            TypeKind::List(inner) => Shape::List(Box::new(self.shape(owner, field, inner))),
            TypeKind::Map(inner) => match self.shape(owner, field, inner) {
                inner @ Shape::Struct(_) => Shape::Map(Box::new(inner)),
                _ => panic!("{owner}.{field}: only maps of records have a model type yet"),
            },
            TypeKind::Record(_) => Shape::Struct(inline_name(owner, field)),
            _ => panic!(
                "{owner}.{field}: no model type for `{}`",
                self.snippet(ty.span)
            ),
        }
    }

    fn kinds_rs(&self, kinds: &[(String, String)]) -> String {
        let mut out = String::new();
        out.push_str(
            "// Generated by compiler/build.rs from compiler/src/prelude.plat; do not edit.\n\n",
        );
        out.push_str("/// The metadata of every prelude record type, by type (`VM` is `Vm`, `VM_EFIDISK` the\n/// record written inline in `Vm.efidisk`).\npub mod info {\n    use super::FieldInfo;\n\n");
        for ty in &self.types {
            let _ = writeln!(
                out,
                "    /// The fields of `{}`, in prelude order.\n    pub const {}: &[FieldInfo] = &[",
                ty.name,
                upper_snake(&ty.name)
            );
            for field in ty.fields {
                let tags = doc_tags::split(field.doc.as_deref().unwrap_or_default());
                let default = field
                    .default
                    .as_ref()
                    .map(|d| self.snippet(d.span).replace('\n', " "));
                let record = self
                    .records_in(&ty.name, &field.name.name, &field.ty)
                    .first()
                    .map(|r| upper_snake(r));
                let _ = writeln!(
                    out,
                    "        FieldInfo {{ name: {:?}, ty: {:?}, default: {}, doc: {:?}, impact: {}, summary: {}, entry: {:?}, record: {} }},",
                    &*field.name.name,
                    self.snippet(field.ty.span).replace('\n', " "),
                    option(default.as_deref()),
                    tags.prose,
                    option(tags.impact.as_deref()),
                    tags.summary,
                    if matches!(field.ty.kind, TypeKind::Map(_)) {
                        singular(&field.name.name)
                    } else {
                        &field.name.name
                    },
                    record.map_or("None".to_string(), |r| format!("Some({r})")),
                );
            }
            out.push_str("    ];\n");
        }
        out.push_str("}\n\n/// Every kind of the prelude, in prelude order.\npub const KINDS: &[KindInfo] = &[\n");
        for (kind, ty) in kinds {
            let _ = writeln!(
                out,
                "    KindInfo {{ kind: {kind:?}, ty: {ty:?}, impact: {}, fields: info::{} }},",
                option(self.ty(ty).impact.as_deref()),
                upper_snake(ty)
            );
        }
        out.push_str("];\n");
        for name in &self.structs {
            self.struct_rs(name, &mut out);
        }
        out
    }

    fn struct_rs(&self, name: &str, out: &mut String) {
        let ty = self.ty(name);
        let entity = self.kinds.contains_key(name);
        let _ = writeln!(out, "\n{}", doc_comment(&ty.doc, ""));
        let _ = writeln!(
            out,
            "#[derive(Clone, Debug, PartialEq)]\npub struct {name} {{"
        );
        if entity {
            out.push_str("    /// Entity name.\n    pub name: String,\n    /// Where it is declared.\n    pub span: Span,\n");
        } else {
            out.push_str("    /// Where it is written.\n    pub span: Span,\n");
        }
        for field in ty.fields {
            let shape = self.shape(name, &field.name.name, &field.ty);
            let tags = doc_tags::split(field.doc.as_deref().unwrap_or_default());
            let _ = writeln!(
                out,
                "{}\n    pub {}: At<{}>,",
                doc_comment(&tags.prose, "    "),
                ident(&field.name.name),
                rust_type(&shape)
            );
        }
        out.push_str("}\n");
        let _ = writeln!(
            out,
            "\nimpl {name} {{\n    /// The prelude's description of each field.\n    pub const FIELDS: &'static [FieldInfo] = info::{};\n}}",
            upper_snake(name)
        );
        let _ = writeln!(
            out,
            "\nimpl Visit for {name} {{\n    fn type_name(&self) -> &'static str {{\n        {:?}\n    }}\n\n    fn span(&self) -> Span {{\n        self.span\n    }}\n\n    fn fields(&self) -> Vec<FieldRef<'_>> {{\n        vec![",
            ty.prelude
        );
        for (index, field) in ty.fields.iter().enumerate() {
            let shape = self.shape(name, &field.name.name, &field.ty);
            let access = format!("self.{}", ident(&field.name.name));
            let _ = writeln!(
                out,
                "            FieldRef {{ info: &Self::FIELDS[{index}], span: {access}.span, from_default: {access}.from_default, value: {} }},",
                visit_value(&shape, &format!("(&{access}.value)"))
            );
        }
        out.push_str("        ]\n    }\n}\n");
        let _ = writeln!(
            out,
            "\n#[cfg(any(test, feature = \"fixtures\"))]\nimpl {name} {{\n    /// For hand-built test models: every field at its prelude default when that is a literal\n    /// (`from_default` set), else at an empty value; spans are the default span. A fixture\n    /// writes the fields it cares about and takes the rest from here (`..{name}::placeholder()`),\n    /// so that a new prelude field with a literal default needs no fixture change.\n    pub fn placeholder() -> {name} {{\n        {name} {{"
        );
        if entity {
            out.push_str("            name: String::new(),\n");
        }
        out.push_str("            span: Span::default(),\n");
        for field in ty.fields {
            let (value, literal) = match field.default.as_ref().and_then(literal) {
                Some(value) => (value, true),
                None => ("Default::default()".to_string(), false),
            };
            let _ = writeln!(
                out,
                "            {}: At {{ value: {value}, span: Span::default(), from_default: {literal} }},",
                ident(&field.name.name)
            );
        }
        out.push_str("        }\n    }\n}\n");
    }

    fn lower_rs(&self) -> String {
        let mut out = String::new();
        out.push_str("// Generated by compiler/build.rs from compiler/src/prelude.plat; do not edit.\n\nimpl Lower {\n");
        for name in &self.structs {
            let ty = self.ty(name);
            let snake = snake(name);
            if self.kinds.contains_key(name) {
                let _ = writeln!(
                    out,
                    "    /// Lowers entity `name`, of type `{name}`.\n    fn lower_{snake}(&mut self, r: &Rec, name: &str) -> L<{name}> {{\n        Ok({name} {{\n            name: name.into(),\n            span: r.span,"
                );
            } else {
                let _ = writeln!(
                    out,
                    "    /// Lowers a `{name}` record at `span`.\n    fn lower_{snake}(&mut self, value: &Value, span: Span) -> L<{name}> {{\n        let Some(record) = value.as_record() else {{\n            return Err(self.mismatch(span, \"a record\"));\n        }};\n        let r = &Rec {{ record, span }};\n        Ok({name} {{\n            span,"
                );
            }
            for field in ty.fields {
                let shape = self.shape(name, &field.name.name, &field.ty);
                let _ = writeln!(
                    out,
                    "            {}: {{\n                let field = self.field(r, {:?})?;\n                let value = {}?;\n                at(field, value)\n            }},",
                    ident(&field.name.name),
                    &*field.name.name,
                    convert(&shape, "&field.value", "field.span", 0)
                );
            }
            out.push_str("        })\n    }\n\n");
        }
        out.push_str("}\n");
        out
    }
}

/// A literal prelude default as a Rust expression (`none`, `{}`, `[]`, a string, bool, int or
/// size); `None` for a default that needs evaluating.
fn literal(default: &Expr) -> Option<String> {
    Some(match &default.kind {
        ExprKind::None => "None".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) | ExprKind::Size(i) => format!("{i}"),
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => "String::new()".into(),
            [StrPart::Lit(text)] => format!("String::from({text:?})"),
            _ => return None,
        },
        ExprKind::Record(fields) if fields.is_empty() => "Default::default()".into(),
        ExprKind::List(items) if items.is_empty() => "Vec::new()".into(),
        _ => return None,
    })
}

/// An expression of type `L<T>` converting `value` (a `&Value`) at `span`; `self` is `Lower`.
fn convert(shape: &Shape, value: &str, span: &str, depth: usize) -> String {
    let v = format!("v{depth}");
    match shape {
        Shape::Leaf { rust, .. } => format!("self.leaf::<{rust}>({value}, {span})"),
        Shape::Ref => format!("self.entity_name({value}, {span})"),
        Shape::Struct(name) => format!("self.lower_{}({value}, {span})", snake(name)),
        Shape::Opt(inner) => format!(
            "match {value} {{ Value::None => Ok(None), {v} => {}.map(Some) }}",
            convert(inner, &v, span, depth + 1)
        ),
        Shape::List(inner) => format!(
            "match {value}.as_list() {{ Some(items) => {{ let mut out = Vec::with_capacity(items.len()); for {v} in items.iter() {{ out.push({}?); }} Ok(out) }} None => Err(self.mismatch({span}, \"a list\")) }}",
            convert(inner, &v, span, depth + 1)
        ),
        Shape::Map(inner) => format!(
            "match {value}.as_record() {{ Some(map) => {{ let mut out = Vec::with_capacity(map.fields.len()); for {v} in &map.fields {{ let key = self.text(&{v}.name, {v}.span); out.push((key, {}?)); }} Ok(slot_sorted(out)) }} None => Err(self.mismatch({span}, \"a map\")) }}",
            convert(inner, &format!("&{v}.value"), &format!("{v}.span"), depth + 1)
        ),
    }
}

/// The `FieldValue` of a field whose value is `value` (a `&T`).
fn visit_value(shape: &Shape, value: &str) -> String {
    match shape {
        Shape::Struct(_) => format!("FieldValue::Record(Some({value}))"),
        Shape::Opt(inner) if matches!(**inner, Shape::Struct(_)) => {
            format!("FieldValue::Record({value}.as_ref().map(|r| r as &dyn Visit))")
        }
        Shape::Map(_) => format!(
            "FieldValue::Map({value}.iter().map(|(k, r)| (k.as_str(), r as &dyn Visit)).collect())"
        ),
        _ => format!("FieldValue::Text({})", words(shape, value)),
    }
}

/// A `String` expression: the summary words of `value` (a `&T`).
fn words(shape: &Shape, value: &str) -> String {
    match shape {
        Shape::Leaf { words, .. } => match words {
            Words::Clone => format!("String::clone({value})"),
            Words::Display => format!("{value}.to_string()"),
            Words::Size => format!("words::size(*{value})"),
            Words::Mac => format!("words::mac({value})"),
        },
        Shape::Ref => format!("String::clone({value})"),
        Shape::Opt(inner) => format!(
            "match {value} {{ Some(v) => {}, None => \"none\".to_string() }}",
            words(inner, "v")
        ),
        Shape::List(inner) => format!("words::list({value}.iter().map(|v| {}))", words(inner, "v")),
        Shape::Map(_) | Shape::Struct(_) => unreachable!("records are visited"),
    }
}

fn rust_type(shape: &Shape) -> String {
    match shape {
        Shape::Leaf { rust, .. } => rust.to_string(),
        Shape::Ref => "String".into(),
        Shape::Opt(inner) => format!("Option<{}>", rust_type(inner)),
        Shape::List(inner) => format!("Vec<{}>", rust_type(inner)),
        Shape::Map(inner) => format!("IndexMap<String, {}>", rust_type(inner)),
        Shape::Struct(name) => name.clone(),
    }
}

fn inline_record(ty: &TypeExpr) -> Option<&[TypeField]> {
    match &ty.kind {
        TypeKind::Record(fields) => Some(fields),
        TypeKind::Optional(inner) | TypeKind::List(inner) | TypeKind::Map(inner) => {
            inline_record(inner)
        }
        _ => None,
    }
}

/// The struct of a record written inline as field `field` of `owner`: `VmEfidisk`.
fn inline_name(owner: &str, field: &str) -> String {
    let camel: String = field
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{owner}{camel}")
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn upper_snake(name: &str) -> String {
    snake(name).to_ascii_uppercase()
}

/// The summary's name of one entry of a map field: `disks` → `disk`, `hostpci` → `hostpci`.
fn singular(field: &str) -> &str {
    field.strip_suffix('s').unwrap_or(field)
}

fn option(value: Option<&str>) -> String {
    value.map_or("None".to_string(), |v| format!("Some({v:?})"))
}

fn ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
        "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
        "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// A `///` comment from prelude prose; brackets outside code spans are escaped so rustdoc
/// reads no link in them.
fn doc_comment(prose: &str, indent: &str) -> String {
    let prose = if prose.trim().is_empty() {
        "(Undocumented in the prelude.)"
    } else {
        prose
    };
    prose
        .lines()
        .map(|line| {
            let mut out = String::new();
            let mut code = false;
            for c in line.chars() {
                match c {
                    '`' => {
                        code = !code;
                        out.push(c);
                    }
                    '[' | ']' if !code => {
                        out.push('\\');
                        out.push(c);
                    }
                    _ => out.push(c),
                }
            }
            format!("{indent}/// {out}").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

//! The type checker. See the parent module for the contract.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::scope::{scopes, Global, ModuleScope};
use super::ty::{assignable, join, FieldType, RecordType, Type};
use super::{Env, Kind};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::load::Loaded;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::value::{Name, NameMap};

/// The most text a field path (`Vm.disks.scsi0.size`) is shown with, in bytes.
const MAX_PATH_TEXT: usize = 512;

/// How many fields one explanation of a record mismatch looks at, and how many diagnostics
/// it reports, at most: types share their parts, so a walk must not follow them all.
const EXPLAIN_STEPS: u32 = 256;
const EXPLAIN_REPORTS: u32 = 16;

/// Builtin functions: name and arity.
pub const BUILTINS: &[(&str, usize)] = &[("range", 2), ("join", 2), ("secret", 1)];

/// Names of the primitive types.
pub const PRIMITIVES: &[&str] = &[
    "bool", "int", "string", "size", "duration", "ip", "cidr", "mac", "port", "secret", "json",
];

/// Checks every module of `loaded`. Returns the environment for evaluation and diagnostics.
pub fn check(loaded: &Loaded) -> (Env, Vec<Diagnostic>) {
    let mut checker = Checker {
        loaded,
        env: Env {
            modules: scopes(loaded),
            ..Env::default()
        },
        diagnostics: Vec::new(),
        let_types: BTreeMap::new(),
        fn_sigs: BTreeMap::new(),
        type_state: BTreeMap::new(),
        entity_names: BTreeMap::new(),
        calls: BTreeMap::new(),
        current_fn: None,
        path: Vec::new(),
        explained: BTreeMap::new(),
    };
    checker.declare_kinds();
    checker.report_duplicates();
    checker.collect_entity_names();
    for module in 0..loaded.modules.len() {
        checker.check_module(module);
    }
    checker.detect_recursion();
    (checker.env, checker.diagnostics)
}

#[derive(Clone)]
enum State<T> {
    InProgress,
    Done(T),
}

/// A function: module index and item index.
type FnId = (usize, usize);

#[derive(Clone)]
struct FnSig {
    params: Vec<(Name, Type)>,
    ret: Type,
}

struct Checker<'a> {
    loaded: &'a Loaded,
    env: Env,
    diagnostics: Vec<Diagnostic>,
    let_types: BTreeMap<(usize, usize), State<Type>>,
    fn_sigs: BTreeMap<(usize, usize), State<FnSig>>,
    type_state: BTreeMap<(usize, usize), State<Type>>,
    /// Per kind: statically named entities, and whether any name is computed.
    entity_names: BTreeMap<Name, (NameMap<Span>, bool)>,
    /// Call graph between functions: caller to (callee, call span).
    calls: BTreeMap<FnId, Vec<(FnId, Span)>>,
    current_fn: Option<(usize, usize)>,
    /// Where in the value being checked against a declared record type the checker is: the
    /// record type's name, then field names, map keys and `[index]`es (`Vm`, `disks`,
    /// `scsi0`). Empty outside such a value, and set aside (`detached`) wherever an
    /// expression is checked on its own (a call's arguments, a condition).
    path: Vec<Name>,
    /// The diagnostics [`Checker::explain`] reported, by place, code and message: their
    /// index in `diagnostics`.
    explained: BTreeMap<(Span, &'static str, String), usize>,
}

/// Local variables in scope, innermost last.
#[derive(Clone, Default)]
struct Locals {
    vars: Vec<(Name, Type)>,
}

impl Locals {
    fn get(&self, name: &str) -> Option<&Type> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, t)| t)
    }

    fn with(&self, name: Name, ty: Type) -> Locals {
        let mut vars = self.vars.clone();
        vars.push((name, ty));
        Locals { vars }
    }
}

impl<'a> Checker<'a> {
    fn item(&self, module: usize, index: usize) -> &'a Item {
        &self.loaded.modules[module].ast.items[index]
    }

    fn error(&mut self, diagnostic: Diagnostic) -> Type {
        self.diagnostics.push(diagnostic);
        Type::Error
    }

    /// Runs `f` outside the value being checked: the field path starts afresh.
    fn detached<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = std::mem::take(&mut self.path);
        let result = f(self);
        self.path = saved;
        result
    }

    /// The path of the current place with `field` appended (`Vm.disks.scsi0.size`), or
    /// `None` when the checker is not inside a record.
    fn field_path(&self, field: Option<&str>) -> Option<String> {
        if self.path.is_empty() {
            return None;
        }
        let mut out = String::new();
        for segment in self.path.iter().map(|s| &**s).chain(field) {
            if !out.is_empty() && !segment.starts_with('[') {
                out.push('.');
            }
            out.push_str(segment);
        }
        // A path is for reading: the names are bounded by the sources, but keep the text small.
        if out.len() > MAX_PATH_TEXT {
            let mut end = MAX_PATH_TEXT;
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            out.push('…');
        }
        Some(out)
    }

    // ----- declarations -----

    fn declare_kinds(&mut self) {
        let prelude = &self.loaded.modules[0];
        for item in &prelude.ast.items {
            if let ItemKind::Kind { name, ty, single } = &item.kind {
                let resolved = self.resolve_type(0, ty);
                let Type::Record(record) = resolved else {
                    self.diagnostics.push(Diagnostic::error(
                        "type::kind",
                        ty.span,
                        "a kind's type must be a record type",
                    ));
                    continue;
                };
                let kind_type = Rc::new(RecordType {
                    name: record.name.clone(),
                    kind: Some(name.name.clone()),
                    fields: record
                        .fields
                        .iter()
                        .map(|f| FieldType {
                            name: f.name.clone(),
                            ty: f.ty.clone(),
                            default: f.default.clone(),
                            doc: f.doc.clone(),
                            span: f.span,
                        })
                        .collect(),
                    module: record.module,
                    written: None,
                });
                // The type name (`Vm`) now means the kind's type everywhere.
                if let Some(type_name) = &record.name {
                    self.env
                        .named_types
                        .insert((0, type_name.clone()), Type::Record(kind_type.clone()));
                    if let Some(index) = self.env.modules[0].types.get(type_name).copied() {
                        self.type_state
                            .insert((0, index), State::Done(Type::Record(kind_type.clone())));
                    }
                }
                self.env.kinds.push(Kind {
                    name: name.name.clone(),
                    ty: kind_type,
                    single: *single,
                    doc: item.doc.clone(),
                });
            }
        }
    }

    fn report_duplicates(&mut self) {
        for (module_index, module) in self.loaded.modules.iter().enumerate() {
            let mut values: BTreeMap<Name, Span> = BTreeMap::new();
            let mut types: BTreeMap<Name, Span> = BTreeMap::new();
            for item in &module.ast.items {
                let (name, table, what) = match &item.kind {
                    ItemKind::Let { name, .. } | ItemKind::Fn { name, .. } => {
                        (name, &mut values, "value")
                    }
                    ItemKind::Type { name, .. } => (name, &mut types, "type"),
                    ItemKind::Kind { name, .. } if module_index != 0 => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "name::kind-outside-prelude",
                                name.span,
                                "kinds can only be declared in the prelude",
                            )
                            .with_help(
                                "declare a `type` and use it in entities of an existing kind",
                            ),
                        );
                        continue;
                    }
                    _ => continue,
                };
                if let Some(first) = table.get(&name.name) {
                    let first = *first;
                    self.diagnostics.push(
                        Diagnostic::error(
                            "name::duplicate",
                            name.span,
                            format!("`{}` is declared twice", name.name),
                        )
                        .with_label(format!("second {what} named `{}`", name.name))
                        .with_secondary(first, "first declared here")
                        .with_help("rename one of them"),
                    );
                } else {
                    table.insert(name.name.clone(), name.span);
                }
                if module_index != 0 && self.env.kind(&name.name).is_some() {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "name::reserved",
                            name.span,
                            format!("`{}` is the name of an entity kind", name.name),
                        )
                        .with_help("choose another name; kinds are global"),
                    );
                }
            }
        }
    }

    fn collect_entity_names(&mut self) {
        fn walk(
            items: &[Item],
            in_loop: bool,
            out: &mut BTreeMap<Name, (NameMap<Span>, bool)>,
            dups: &mut Vec<(Span, Span, Name, Name)>,
        ) {
            for item in items {
                match &item.kind {
                    ItemKind::Entity { kind, name, .. } => {
                        let entry = out.entry(kind.name.clone()).or_default();
                        match name {
                            EntityName::Ident(ident) if !in_loop => {
                                if let Some(first) = entry.0.get(&ident.name) {
                                    dups.push((
                                        ident.span,
                                        *first,
                                        kind.name.clone(),
                                        ident.name.clone(),
                                    ));
                                } else {
                                    entry.0.insert(ident.name.clone(), ident.span);
                                }
                            }
                            EntityName::None => {}
                            _ => entry.1 = true,
                        }
                    }
                    ItemKind::For { items, .. } => walk(items, true, out, dups),
                    _ => {}
                }
            }
        }
        let mut dups = Vec::new();
        for module in self.loaded.modules.iter().skip(1) {
            walk(&module.ast.items, false, &mut self.entity_names, &mut dups);
        }
        for (span, first, kind, name) in dups {
            self.diagnostics.push(
                Diagnostic::error(
                    "name::duplicate",
                    span,
                    format!("{kind} `{name}` is declared twice"),
                )
                .with_label("second declaration")
                .with_secondary(first, "first declared here")
                .with_help(format!(
                    "entity names are unique per kind; rename one of the {kind}s"
                )),
            );
        }
    }

    // ----- types -----

    /// Resolves a type expression in `module`'s scope and records it for evaluation.
    fn resolve_type(&mut self, module: usize, texpr: &TypeExpr) -> Type {
        let ty = self.resolve_type_inner(module, texpr);
        self.env.type_exprs.insert(texpr.span, ty.clone());
        ty
    }

    fn resolve_type_inner(&mut self, module: usize, texpr: &TypeExpr) -> Type {
        match &texpr.kind {
            TypeKind::StrLit(s) => Type::StrLit(s.as_str().into()),
            TypeKind::IntRange(lo, hi, inclusive) => {
                let hi = if *inclusive {
                    *hi
                } else {
                    hi.saturating_sub(1)
                };
                if hi < *lo {
                    return self.error(
                        Diagnostic::error(
                            "type::empty-range",
                            texpr.span,
                            "this integer range is empty",
                        )
                        .with_help("write `int(lo..hi)` with lo < hi (`..=` includes hi)"),
                    );
                }
                Type::IntRange(*lo, hi)
            }
            TypeKind::List(inner) => Type::List(Rc::new(self.resolve_type(module, inner))),
            TypeKind::Map(inner) => Type::Map(Rc::new(self.resolve_type(module, inner))),
            TypeKind::Optional(inner) => {
                let inner = self.resolve_type(module, inner);
                match inner {
                    Type::Optional(_) => inner,
                    other => Type::Optional(Rc::new(other)),
                }
            }
            TypeKind::Union(members) => {
                let members: Vec<Type> = members
                    .iter()
                    .map(|m| self.resolve_type(module, m))
                    .collect();
                Type::Union(Rc::new(members))
            }
            TypeKind::Record(fields) => Type::Record(self.record_type(module, None, fields)),
            TypeKind::Name(namespace, name) => self.named_type(module, namespace.as_ref(), name),
        }
    }

    fn record_type(
        &mut self,
        module: usize,
        name: Option<Name>,
        fields: &[TypeField],
    ) -> Rc<RecordType> {
        let mut seen: BTreeMap<Name, Span> = BTreeMap::new();
        let mut out: Vec<FieldType> = Vec::new();
        for field in fields {
            if let Some(first) = seen.get(&field.name.name) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "name::duplicate",
                        field.name.span,
                        format!("field `{}` is declared twice", field.name.name),
                    )
                    .with_secondary(*first, "first declared here")
                    .with_help("remove one of them"),
                );
                continue;
            }
            seen.insert(field.name.name.clone(), field.name.span);
            let ty = self.resolve_type(module, &field.ty);
            out.push(FieldType {
                name: field.name.name.clone(),
                ty,
                default: field.default.clone().map(Rc::new),
                doc: field.doc.clone(),
                span: field.name.span,
            });
        }
        // Defaults are checked with the earlier fields in scope.
        let mut locals = Locals::default();
        for field in &out {
            if let Some(default) = &field.default {
                self.detached(|c| c.check_against(module, &locals, default, &field.ty));
            }
            locals = locals.with(field.name.clone(), field.ty.clone());
        }
        Rc::new(RecordType {
            name,
            kind: None,
            fields: out,
            module,
            written: None,
        })
    }

    fn named_type(&mut self, module: usize, namespace: Option<&Ident>, name: &Ident) -> Type {
        let target_module = match namespace {
            Some(ns) => match self.env.modules[module].namespaces.get(&ns.name) {
                Some(m) => *m,
                None => {
                    return self.error(
                        Diagnostic::error(
                            "name::unknown",
                            ns.span,
                            format!("no imported namespace `{}`", ns.name),
                        )
                        .with_help("import the file with `import \"path.plat\" as NAME`"),
                    )
                }
            },
            None => module,
        };
        if namespace.is_none() {
            let primitive = match &*name.name {
                "bool" => Some(Type::Bool),
                "int" => Some(Type::Int),
                "string" => Some(Type::Str),
                "size" => Some(Type::Size),
                "duration" => Some(Type::Duration),
                "ip" => Some(Type::Ip),
                "cidr" => Some(Type::Cidr),
                "mac" => Some(Type::Mac),
                "port" => Some(Type::port()),
                "secret" => Some(Type::Secret),
                "json" => Some(Type::Json),
                _ => None,
            };
            if let Some(primitive) = primitive {
                return primitive;
            }
        }
        let found = if namespace.is_some() {
            self.env.modules[target_module]
                .types
                .get(&name.name)
                .map(|i| (target_module, *i))
        } else {
            ModuleScope::lookup_type(&self.env.modules, module, &name.name)
        };
        let Some((decl_module, index)) = found else {
            let mut candidates: Vec<String> = PRIMITIVES.iter().map(|s| s.to_string()).collect();
            for m in [target_module, 0] {
                candidates.extend(self.env.modules[m].types.keys().map(|k| k.to_string()));
            }
            let mut diagnostic = Diagnostic::error(
                "name::unknown",
                name.span,
                format!("unknown type `{}`", name.name),
            );
            diagnostic = match did_you_mean(&name.name, candidates.iter().map(|s| s.as_str())) {
                Some(s) => diagnostic.with_help(format!("did you mean `{s}`?")),
                None => diagnostic
                    .with_help("declare it with `type NAME = ...` or import the file that does"),
            };
            return self.error(diagnostic);
        };
        self.type_decl(decl_module, index)
    }

    fn type_decl(&mut self, module: usize, index: usize) -> Type {
        match self.type_state.get(&(module, index)) {
            Some(State::Done(ty)) => return ty.clone(),
            Some(State::InProgress) => {
                let item = self.item(module, index);
                return self.error(
                    Diagnostic::error("type::recursive", item.span, "this type refers to itself")
                        .with_help("types cannot be recursive: every value must be finite"),
                );
            }
            None => {}
        }
        self.type_state.insert((module, index), State::InProgress);
        let item = self.item(module, index);
        let ItemKind::Type { name, ty } = &item.kind else {
            return Type::Error;
        };
        let resolved = match &ty.kind {
            TypeKind::Record(fields) => {
                Type::Record(self.record_type(module, Some(name.name.clone()), fields))
            }
            _ => self.resolve_type(module, ty),
        };
        self.env.type_exprs.insert(ty.span, resolved.clone());
        self.env
            .named_types
            .insert((module, name.name.clone()), resolved.clone());
        self.type_state
            .insert((module, index), State::Done(resolved.clone()));
        resolved
    }

    fn let_type(&mut self, module: usize, index: usize, at: Span) -> Type {
        match self.let_types.get(&(module, index)) {
            Some(State::Done(ty)) => return ty.clone(),
            Some(State::InProgress) => {
                return self.error(
                    Diagnostic::error("name::cycle", at, "this value depends on itself").with_help(
                        "a `let` cannot refer to itself, directly or through other lets",
                    ),
                );
            }
            None => {}
        }
        self.let_types.insert((module, index), State::InProgress);
        let item = self.item(module, index);
        let ItemKind::Let { ty, value, .. } = &item.kind else {
            return Type::Error;
        };
        let saved = self.current_fn.take();
        let result = match ty {
            Some(texpr) => {
                let declared = self.resolve_type(module, texpr);
                self.check_against(module, &Locals::default(), value, &declared);
                declared
            }
            None => self.infer(module, &Locals::default(), value),
        };
        self.current_fn = saved;
        self.let_types
            .insert((module, index), State::Done(result.clone()));
        result
    }

    fn fn_sig(&mut self, module: usize, index: usize) -> FnSig {
        if let Some(State::Done(sig)) = self.fn_sigs.get(&(module, index)) {
            return sig.clone();
        }
        let item = self.item(module, index);
        let ItemKind::Fn { params, ret, .. } = &item.kind else {
            return FnSig {
                params: Vec::new(),
                ret: Type::Error,
            };
        };
        let sig = FnSig {
            params: params
                .iter()
                .map(|p| (p.name.name.clone(), self.resolve_type(module, &p.ty)))
                .collect(),
            ret: self.resolve_type(module, ret),
        };
        self.fn_sigs
            .insert((module, index), State::Done(sig.clone()));
        sig
    }

    // ----- items -----

    fn check_module(&mut self, module: usize) {
        let items = &self.loaded.modules[module].ast.items;
        for (index, item) in items.iter().enumerate() {
            match &item.kind {
                ItemKind::Let { .. } => {
                    self.let_type(module, index, item.span);
                }
                ItemKind::Type { .. } => {
                    self.type_decl(module, index);
                }
                ItemKind::Fn { body, params, .. } => {
                    let sig = self.fn_sig(module, index);
                    let mut locals = Locals::default();
                    for (name, ty) in &sig.params {
                        locals = locals.with(name.clone(), ty.clone());
                    }
                    let mut seen = BTreeSet::new();
                    for param in params {
                        if !seen.insert(param.name.name.clone()) {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "name::duplicate",
                                    param.name.span,
                                    format!("parameter `{}` is declared twice", param.name.name),
                                )
                                .with_help("rename one of the parameters"),
                            );
                        }
                    }
                    self.current_fn = Some((module, index));
                    self.check_against(module, &locals, body, &sig.ret);
                    self.current_fn = None;
                }
                ItemKind::Kind { .. } | ItemKind::Import { .. } => {}
                _ => self.check_declaration(module, &Locals::default(), item),
            }
        }
    }

    /// Entities, `for` and `assert` (also inside `for`).
    fn check_declaration(&mut self, module: usize, locals: &Locals, item: &Item) {
        match &item.kind {
            ItemKind::Entity { kind, name, body } => {
                self.check_entity(module, locals, kind, name, body)
            }
            ItemKind::For { var, iter, items } => {
                let iter_type = self.infer(module, locals, iter);
                let element = match iter_type {
                    Type::List(inner) => (*inner).clone(),
                    Type::Error => Type::Error,
                    other => self.error(
                        Diagnostic::error(
                            "type::mismatch",
                            iter.span,
                            format!("`for` needs a list, found {other}"),
                        )
                        .with_help("iterate a list or a range such as `1..=3`"),
                    ),
                };
                let inner = locals.with(var.name.clone(), element);
                for nested in items {
                    match &nested.kind {
                        ItemKind::Entity { .. }
                        | ItemKind::For { .. }
                        | ItemKind::Assert { .. } => self.check_declaration(module, &inner, nested),
                        _ => {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    "name::misplaced",
                                    nested.span,
                                    "only entities, `for` and `assert` may appear inside `for`",
                                )
                                .with_help(
                                    "move `let`, `type`, `fn` and `import` to the top level",
                                ),
                            );
                        }
                    }
                }
            }
            ItemKind::Assert { cond, message } => {
                self.check_against(module, locals, cond, &Type::Bool);
                self.check_against(module, locals, message, &Type::Str);
            }
            _ => {}
        }
    }

    fn check_entity(
        &mut self,
        module: usize,
        locals: &Locals,
        kind: &Ident,
        name: &EntityName,
        body: &EntityBody,
    ) {
        let Some(kind_info) = self.env.kind(&kind.name).cloned() else {
            let names: Vec<String> = self.env.kinds.iter().map(|k| k.name.to_string()).collect();
            let help = match did_you_mean(&kind.name, names.iter().map(|s| s.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the kinds are: {}", names.join(", ")),
            };
            self.diagnostics.push(
                Diagnostic::error(
                    "name::unknown",
                    kind.span,
                    format!("unknown entity kind `{}`", kind.name),
                )
                .with_help(help),
            );
            return;
        };
        match (name, kind_info.single) {
            (EntityName::None, false) => self.diagnostics.push(
                Diagnostic::error(
                    "name::missing-name",
                    kind.span,
                    format!("a {} needs a name", kind.name),
                )
                .with_help(format!("write `{} NAME {{ ... }}`", kind.name)),
            ),
            (EntityName::Ident(ident), true) => self.diagnostics.push(
                Diagnostic::error(
                    "name::unexpected-name",
                    ident.span,
                    format!("there is only one {}; it has no name", kind.name),
                )
                .with_help(format!("write `{} {{ ... }}`", kind.name)),
            ),
            (EntityName::Computed(expr), _) => {
                self.check_against(module, locals, expr, &Type::Str);
            }
            _ => {}
        }
        let expected = Type::Record(kind_info.ty.clone());
        match body {
            EntityBody::Block(fields, span) => {
                self.check_record_literal(module, locals, fields, *span, &kind_info.ty)
            }
            EntityBody::Expr(expr) => self.check_against(module, locals, expr, &expected),
        }
    }

    fn detect_recursion(&mut self) {
        // Depth-first search for a cycle in the call graph; report the call that closes it.
        let nodes: Vec<(usize, usize)> = self.calls.keys().copied().collect();
        let mut done = BTreeSet::new();
        let mut reported = BTreeSet::new();
        for start in nodes {
            let mut stack: Vec<((usize, usize), usize)> = vec![(start, 0)];
            let mut on_stack = BTreeSet::from([start]);
            while let Some(&(node, next)) = stack.last() {
                let edges = self.calls.get(&node).cloned().unwrap_or_default();
                if next >= edges.len() || done.contains(&node) {
                    done.insert(node);
                    on_stack.remove(&node);
                    stack.pop();
                    continue;
                }
                stack.last_mut().expect("non-empty").1 += 1;
                let (callee, span) = edges[next];
                if on_stack.contains(&callee) {
                    if reported.insert(span) {
                        let ItemKind::Fn { name, .. } = &self.item(callee.0, callee.1).kind else {
                            continue;
                        };
                        let message = if callee == node {
                            format!("function `{}` calls itself", name.name)
                        } else {
                            format!("function `{}` is called recursively", name.name)
                        };
                        self.diagnostics.push(
                            Diagnostic::error("name::recursion", span, message)
                                .with_secondary(name.span, "declared here")
                                .with_help("functions cannot be recursive, so that every program terminates; use a comprehension over a range instead"),
                        );
                    }
                } else if !done.contains(&callee) {
                    on_stack.insert(callee);
                    stack.push((callee, 0));
                }
            }
        }
    }

    // ----- expressions -----

    /// Checks `expr` where a value of type `expected` is required.
    fn check_against(&mut self, module: usize, locals: &Locals, expr: &Expr, expected: &Type) {
        match (&expr.kind, expected) {
            (_, Type::Error) => {
                self.detached(|c| c.infer(module, locals, expr));
            }
            (ExprKind::Paren(inner), _) => self.check_against(module, locals, inner, expected),
            (ExprKind::Record(fields), _) => match record_target(expected) {
                Target::Record(record) => {
                    self.check_record_literal(module, locals, fields, expr.span, &record)
                }
                Target::Map(value) => {
                    self.check_unique_fields(fields);
                    for field in fields {
                        self.path.push(field.name.name.clone());
                        self.check_against(module, locals, &field.value, &value);
                        self.path.pop();
                    }
                }
                Target::Json => {
                    self.check_unique_fields(fields);
                    for field in fields {
                        self.path.push(field.name.name.clone());
                        self.check_against(module, locals, &field.value, &Type::Json);
                        self.path.pop();
                    }
                }
                Target::None => self.check_inferred(module, locals, expr, expected),
            },
            (ExprKind::List(items), _) => match list_target(expected) {
                Some(element) => {
                    for (i, item) in items.iter().enumerate() {
                        self.path.push(format!("[{i}]").into());
                        self.check_against(module, locals, item, &element);
                        self.path.pop();
                    }
                }
                None => self.check_inferred(module, locals, expr, expected),
            },
            (ExprKind::If(cond, then, otherwise), _) => {
                self.detached(|c| c.check_against(module, locals, cond, &Type::Bool));
                self.check_against(module, locals, then, expected);
                self.check_against(module, locals, otherwise, expected);
            }
            (ExprKind::LetIn(name, ty, value, body), _) => {
                let bound = self.detached(|c| c.bind_let(module, locals, ty.as_deref(), value));
                let inner = locals.with(name.name.clone(), bound);
                self.check_against(module, &inner, body, expected);
            }
            _ => self.check_inferred(module, locals, expr, expected),
        }
    }

    fn check_inferred(&mut self, module: usize, locals: &Locals, expr: &Expr, expected: &Type) {
        let actual = self.detached(|c| c.infer(module, locals, expr));
        if !assignable(&actual, expected) {
            let mut budget = Budget {
                steps: EXPLAIN_STEPS,
                reports: EXPLAIN_REPORTS,
            };
            if !self.explain(&actual, expected, expr.span, &mut budget) {
                self.mismatch(expr.span, expected, &actual);
            }
        }
    }

    /// A value of type `actual` is not the `expected` here (at the current path).
    fn mismatch(&mut self, span: Span, expected: &Type, actual: &Type) {
        let diagnostic = self.mismatch_diagnostic(span, expected, actual);
        self.diagnostics.push(diagnostic);
    }

    fn mismatch_diagnostic(&self, span: Span, expected: &Type, actual: &Type) -> Diagnostic {
        let help = mismatch_help(expected, actual);
        let message = match self.field_path(None) {
            Some(path) if self.path.len() > 1 => {
                format!("`{path}` expects {expected}, found {actual}")
            }
            _ => format!("expected {expected}, found {actual}"),
        };
        Diagnostic::error("type::mismatch", span, message)
            .with_label(format!("this is {actual}"))
            .with_help(help)
    }

    /// Reports why a record of type `actual`, written as a literal elsewhere (through a
    /// `let` or an argument), is not the `expected` record used at `used`: each offending
    /// field where the literal gives it, with a label at the use. False when `actual` is not
    /// such a record (nothing was reported).
    fn explain(&mut self, actual: &Type, expected: &Type, used: Span, budget: &mut Budget) -> bool {
        let Type::Record(written) = actual else {
            return false;
        };
        let Some(literal) = written.written else {
            return false;
        };
        let written = written.clone();
        let root = self.path.is_empty();
        let mut reported = false;
        match record_target(expected) {
            Target::Record(record) => {
                if root {
                    self.path.push(record_root(&record));
                }
                let used_as = format!("used as {expected} here");
                let mut unknown = Vec::new();
                for field in &written.fields {
                    if !budget.step() {
                        break;
                    }
                    match record.field(&field.name) {
                        Some(declared) => {
                            if assignable(&field.ty, &declared.ty) {
                                continue;
                            }
                            self.path.push(field.name.clone());
                            if self.explain(&field.ty, &declared.ty, used, budget) {
                                reported = true;
                            } else if budget.report() {
                                let diagnostic = self
                                    .mismatch_diagnostic(field.span, &declared.ty, &field.ty)
                                    .with_secondary(used, used_as.clone());
                                self.report_explained(diagnostic);
                                reported = true;
                            }
                            self.path.pop();
                        }
                        None => {
                            if budget.report() {
                                let (diagnostic, suggested) =
                                    self.unknown_field_diagnostic(field.span, &field.name, &record);
                                self.report_explained(
                                    diagnostic.with_secondary(used, used_as.clone()),
                                );
                                unknown.extend(suggested);
                                reported = true;
                            }
                        }
                    }
                }
                let missing: Vec<&FieldType> = record
                    .fields
                    .iter()
                    .filter(|f| {
                        f.default.is_none()
                            && written.field(&f.name).is_none()
                            && !unknown.iter().any(|u| **u == *f.name)
                    })
                    .collect();
                if !missing.is_empty() && budget.report() {
                    let diagnostic = self
                        .missing_fields_diagnostic(literal, &record, &missing)
                        .with_label("the record is written here")
                        .with_secondary(used, used_as);
                    self.report_explained(diagnostic);
                    reported = true;
                }
                if root {
                    self.path.pop();
                }
            }
            Target::Map(value) if written.kind.is_none() => {
                let used_as = format!("used as {expected} here");
                for field in &written.fields {
                    if !budget.step() {
                        break;
                    }
                    if assignable(&field.ty, &value) {
                        continue;
                    }
                    self.path.push(field.name.clone());
                    if self.explain(&field.ty, &value, used, budget) {
                        reported = true;
                    } else if budget.report() {
                        let diagnostic = self
                            .mismatch_diagnostic(field.span, &value, &field.ty)
                            .with_secondary(used, used_as.clone());
                        self.report_explained(diagnostic);
                        reported = true;
                    }
                    self.path.pop();
                }
            }
            _ => {}
        }
        reported
    }

    /// Reports a diagnostic of [`Checker::explain`]. The same record used in several places
    /// is reported once, with a label at each use (a few at most).
    fn report_explained(&mut self, diagnostic: Diagnostic) {
        const USES_SHOWN: usize = 8;
        let key = (diagnostic.span, diagnostic.code, diagnostic.message.clone());
        match self.explained.get(&key) {
            Some(&index) => {
                let existing = &mut self.diagnostics[index];
                for label in diagnostic.secondary {
                    if existing.secondary.len() < USES_SHOWN && !existing.secondary.contains(&label)
                    {
                        existing.secondary.push(label);
                    }
                }
            }
            None => {
                self.explained.insert(key, self.diagnostics.len());
                self.diagnostics.push(diagnostic);
            }
        }
    }

    /// Reports every field given again, pointing at the previous time it was given. Sorting
    /// the names (with their positions) puts repeats side by side: O(n log n), and no map
    /// built for the many small records that have none.
    fn check_unique_fields(&mut self, fields: &[FieldInit]) {
        let mut names: Vec<(&str, usize)> = fields
            .iter()
            .enumerate()
            .map(|(i, field)| (&*field.name.name, i))
            .collect();
        names.sort_unstable();
        for pair in names.windows(2) {
            let [(previous, first), (name, again)] = pair else {
                continue;
            };
            if previous != name {
                continue;
            }
            let field = &fields[*again].name;
            self.diagnostics.push(
                Diagnostic::error(
                    "name::duplicate",
                    field.span,
                    format!("field `{name}` is given twice"),
                )
                .with_secondary(fields[*first].name.span, "first given here")
                .with_help("remove one of them"),
            );
        }
    }

    fn check_record_literal(
        &mut self,
        module: usize,
        locals: &Locals,
        fields: &[FieldInit],
        span: Span,
        record: &RecordType,
    ) {
        let root = self.path.is_empty();
        if root {
            self.path.push(record_root(record));
        }
        self.check_unique_fields(fields);
        let mut suggested = Vec::new();
        for field in fields {
            match record.field(&field.name.name) {
                Some(declared) => {
                    let ty = declared.ty.clone();
                    self.path.push(field.name.name.clone());
                    self.check_against(module, locals, &field.value, &ty);
                    self.path.pop();
                }
                None => {
                    let (diagnostic, suggestion) =
                        self.unknown_field_diagnostic(field.name.span, &field.name.name, record);
                    self.diagnostics.push(diagnostic);
                    suggested.extend(suggestion);
                    self.detached(|c| c.infer(module, locals, &field.value));
                }
            }
        }
        // A field suggested for a misspelt one is not reported missing as well.
        let missing: Vec<&FieldType> = record
            .fields
            .iter()
            .filter(|f| {
                f.default.is_none()
                    && !fields.iter().any(|g| g.name.name == f.name)
                    && !suggested.iter().any(|s| **s == *f.name)
            })
            .collect();
        if !missing.is_empty() {
            let diagnostic = self.missing_fields_diagnostic(span, record, &missing);
            self.diagnostics.push(diagnostic);
        }
        if root {
            self.path.pop();
        }
    }

    /// `type::missing-field` for the `missing` fields of `record`, written at `span` (at the
    /// current path).
    fn missing_fields_diagnostic(
        &self,
        span: Span,
        record: &RecordType,
        missing: &[&FieldType],
    ) -> Diagnostic {
        let names: Vec<String> = missing.iter().map(|f| format!("`{}`", f.name)).collect();
        let what = match self.field_path(None) {
            Some(path) if self.path.len() > 1 => format!("`{path}`"),
            _ => record
                .name
                .as_ref()
                .map_or("this record".to_string(), |n| format!("{n}")),
        };
        let mut diagnostic = Diagnostic::error(
            "type::missing-field",
            span,
            format!(
                "missing field{} {} of {what}",
                if names.len() > 1 { "s" } else { "" },
                names.join(", ")
            ),
        )
        .with_help(format!(
            "add {} (fields without a default must be given)",
            names.join(", ")
        ));
        for field in missing {
            if field.span != Span::default() {
                diagnostic = diagnostic
                    .with_secondary(field.span, format!("`{}` declared here", field.name));
            }
        }
        diagnostic
    }

    /// An access to a field `record` does not have. When the record was written as a literal
    /// and has a field of a near name, that field is shown where it is written.
    fn unknown_field(&mut self, span: Span, name: &str, record: &RecordType) {
        let (mut diagnostic, suggestion) =
            self.detached(|c| c.unknown_field_diagnostic(span, name, record));
        if record.written.is_some() {
            if let Some(near) = suggestion.and_then(|s| record.field(&s)) {
                diagnostic = diagnostic.with_secondary(
                    near.span,
                    format!("the record is written with `{}` here", near.name),
                );
            }
        }
        self.diagnostics.push(diagnostic);
    }

    /// `type::unknown-field` for `name` given for `record` at `span` (at the current path),
    /// and the field suggested instead, if any.
    fn unknown_field_diagnostic(
        &self,
        span: Span,
        name: &str,
        record: &RecordType,
    ) -> (Diagnostic, Option<Name>) {
        let what = record
            .name
            .as_ref()
            .map_or("this record".to_string(), |n| format!("{n}"));
        let suggestion = did_you_mean(name, record.fields.iter().map(|f| &*f.name));
        let help = match &suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                let names: Vec<&str> = record.fields.iter().map(|f| &*f.name).collect();
                format!("the fields of {what} are: {}", names.join(", "))
            }
        };
        let (message, label) = match self.field_path(Some(name)) {
            Some(path) if self.path.len() > 1 || record.name.is_some() => (
                format!("unknown field `{path}`"),
                format!("{what} has no field `{name}`"),
            ),
            _ => (
                format!("{what} has no field `{name}`"),
                "unknown field".to_string(),
            ),
        };
        let diagnostic = Diagnostic::error("type::unknown-field", span, message)
            .with_label(label)
            .with_help(help);
        let suggestion = suggestion.and_then(|s| record.field(&s).map(|f| f.name.clone()));
        (diagnostic, suggestion)
    }

    fn bind_let(
        &mut self,
        module: usize,
        locals: &Locals,
        ty: Option<&TypeExpr>,
        value: &Expr,
    ) -> Type {
        match ty {
            Some(texpr) => {
                let declared = self.resolve_type(module, texpr);
                self.check_against(module, locals, value, &declared);
                declared
            }
            None => self.infer(module, locals, value),
        }
    }

    /// The type of `expr`, reporting what is wrong inside it.
    fn infer(&mut self, module: usize, locals: &Locals, expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::None => Type::None,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Int(_) => Type::Int,
            ExprKind::Size(_) => Type::Size,
            ExprKind::Duration(_) => Type::Duration,
            ExprKind::Ip(_) => Type::Ip,
            ExprKind::Cidr(_) => Type::Cidr,
            ExprKind::Mac(_) => Type::Mac,
            ExprKind::Str(parts) => self.infer_string(module, locals, parts),
            ExprKind::Paren(inner) => self.infer(module, locals, inner),
            ExprKind::List(items) => {
                let mut element = Type::Never;
                for item in items {
                    let ty = self.infer(module, locals, item);
                    element = join(&element, &ty);
                }
                Type::List(Rc::new(element))
            }
            ExprKind::Record(fields) => {
                self.check_unique_fields(fields);
                let fields = fields
                    .iter()
                    .map(|f| FieldType {
                        name: f.name.name.clone(),
                        ty: self.infer(module, locals, &f.value),
                        default: None,
                        doc: None,
                        span: f.name.span,
                    })
                    .collect();
                Type::Record(Rc::new(RecordType {
                    name: None,
                    kind: None,
                    fields,
                    module,
                    written: Some(expr.span),
                }))
            }
            ExprKind::Name(ident) => self.infer_name(module, locals, ident),
            ExprKind::Field(base, field) => self.infer_field(module, locals, base, field),
            ExprKind::Index(base, index) => self.infer_index(module, locals, base, index),
            ExprKind::Call(name, args) => self.infer_call(module, locals, name, args, expr.span),
            ExprKind::Method(receiver, name, args) => {
                self.infer_method(module, locals, receiver, name, args, expr.span)
            }
            ExprKind::Unary(op, operand) => {
                let ty = self.infer(module, locals, operand);
                match (op, &ty) {
                    (_, Type::Error) => Type::Error,
                    (UnOp::Not, Type::Bool) => Type::Bool,
                    (UnOp::Neg, Type::Int | Type::IntRange(..)) => Type::Int,
                    (UnOp::Neg, Type::Size | Type::Duration) => ty.clone(),
                    (UnOp::Not, _) => self.operator_error(operand.span, "`!` needs a bool", &ty),
                    (UnOp::Neg, _) => {
                        self.operator_error(operand.span, "`-` needs an int, size or duration", &ty)
                    }
                }
            }
            ExprKind::Binary(op, left, right) => {
                self.infer_binary(module, locals, *op, left, right, expr.span)
            }
            ExprKind::If(cond, then, otherwise) => {
                self.check_against(module, locals, cond, &Type::Bool);
                let a = self.infer(module, locals, then);
                let b = self.infer(module, locals, otherwise);
                join(&a, &b)
            }
            ExprKind::LetIn(name, ty, value, body) => {
                let bound = self.bind_let(module, locals, ty.as_deref(), value);
                let inner = locals.with(name.name.clone(), bound);
                self.infer(module, &inner, body)
            }
            ExprKind::With(base, fields) => {
                self.infer_with(module, locals, base, fields, expr.span)
            }
            ExprKind::Comprehension {
                var,
                iter,
                filter,
                body,
            } => {
                let iter_type = self.infer(module, locals, iter);
                let element = match iter_type {
                    Type::List(inner) => (*inner).clone(),
                    Type::Error => Type::Error,
                    other => self.error(
                        Diagnostic::error("type::mismatch", iter.span, format!("a comprehension needs a list, found {other}"))
                            .with_help("iterate a list or a range such as `0..n`; for a map use `.keys()` or `.values()`"),
                    ),
                };
                let inner = locals.with(var.name.clone(), element);
                if let Some(filter) = filter {
                    self.check_against(module, &inner, filter, &Type::Bool);
                }
                let body = self.infer(module, &inner, body);
                Type::List(Rc::new(body))
            }
            ExprKind::Range(lo, hi, _) => {
                self.check_against(module, locals, lo, &Type::Int);
                self.check_against(module, locals, hi, &Type::Int);
                Type::List(Rc::new(Type::Int))
            }
        }
    }

    fn operator_error(&mut self, span: Span, message: &str, found: &Type) -> Type {
        self.error(
            Diagnostic::error("type::mismatch", span, format!("{message}, found {found}"))
                .with_help("there are no implicit conversions; convert the value explicitly"),
        )
    }

    fn infer_string(&mut self, module: usize, locals: &Locals, parts: &[StrPart]) -> Type {
        let mut literal = String::new();
        let mut only_literal = true;
        for part in parts {
            match part {
                StrPart::Lit(text) => literal.push_str(text),
                StrPart::Interp(expr) => {
                    only_literal = false;
                    let ty = self.infer(module, locals, expr);
                    if !interpolatable(&ty) {
                        let help = if matches!(ty, Type::Secret) {
                            "a secret is never written into text; pass it to a secret-typed field"
                        } else {
                            "only scalars (strings, numbers, sizes, durations, addresses, bools) can be interpolated"
                        };
                        self.diagnostics.push(
                            Diagnostic::error(
                                "type::mismatch",
                                expr.span,
                                format!("cannot interpolate {ty} into a string"),
                            )
                            .with_help(help),
                        );
                    }
                }
            }
        }
        if only_literal {
            Type::StrLit(literal.into())
        } else {
            Type::Str
        }
    }

    fn is_kind_name(&self, locals: &Locals, module: usize, name: &str) -> bool {
        locals.get(name).is_none()
            && ModuleScope::lookup_value(&self.env.modules, module, name).is_none()
            && self.env.kind(name).is_some()
    }

    fn infer_name(&mut self, module: usize, locals: &Locals, ident: &Ident) -> Type {
        if let Some(ty) = locals.get(&ident.name) {
            return ty.clone();
        }
        match ModuleScope::lookup_value(&self.env.modules, module, &ident.name) {
            Some(Global::Let(m, i)) => return self.let_type(m, i, ident.span),
            Some(Global::Fn(..)) => {
                return self.error(
                    Diagnostic::error(
                        "type::mismatch",
                        ident.span,
                        format!("`{}` is a function, not a value", ident.name),
                    )
                    .with_help(format!("call it: `{}(...)`", ident.name)),
                )
            }
            None => {}
        }
        if let Some(kind) = self.env.kind(&ident.name).cloned() {
            if kind.single {
                return Type::Record(kind.ty.clone());
            }
            return self.error(
                Diagnostic::error(
                    "type::mismatch",
                    ident.span,
                    format!("`{}` is a kind, not a value", ident.name),
                )
                .with_help(format!(
                    "refer to one {0}: `{0}.NAME` or `{0}[\"NAME\"]`",
                    ident.name
                )),
            );
        }
        if self.env.modules[module]
            .namespaces
            .contains_key(&ident.name)
        {
            return self.error(
                Diagnostic::error(
                    "type::mismatch",
                    ident.span,
                    format!("`{}` is an imported namespace, not a value", ident.name),
                )
                .with_help(format!("use one of its names: `{}.NAME`", ident.name)),
            );
        }
        let mut candidates: Vec<String> = locals.vars.iter().map(|(n, _)| n.to_string()).collect();
        candidates.extend(
            ModuleScope::visible_values(&self.env.modules, module)
                .iter()
                .map(|n| n.to_string()),
        );
        candidates.extend(self.env.kinds.iter().map(|k| k.name.to_string()));
        // `count-1` where `count` exists: the user meant a subtraction.
        let subtraction = ident
            .name
            .split_once('-')
            .is_some_and(|(first, _)| candidates.iter().any(|c| c == first));
        let help = match did_you_mean(&ident.name, candidates.iter().map(|s| s.as_str())) {
            _ if subtraction => format!(
                "names may contain `-`, so this is one name; to subtract, put spaces around the minus: `{}`",
                ident.name.replace('-', " - ")
            ),
            Some(s) => format!("did you mean `{s}`?"),
            None if ident.name.contains('-') => {
                "names may contain `-`: to subtract, put spaces around the minus (`a - 1`)"
                    .to_string()
            }
            None => "declare it with `let`, or import the file that declares it".to_string(),
        };
        self.error(
            Diagnostic::error(
                "name::unknown",
                ident.span,
                format!("unknown name `{}`", ident.name),
            )
            .with_label("not found")
            .with_help(help),
        )
    }

    /// `kind.NAME` / `kind["NAME"]`: checks the name when every entity of the kind is named statically.
    fn entity_lookup(&mut self, kind: &Kind, name: Option<(&str, Span)>) -> Type {
        if let Some((name, span)) = name {
            let known = match self.entity_names.get(&kind.name) {
                Some((names, computed)) => *computed || names.contains_key(name),
                None => false,
            };
            if !known {
                let names = self
                    .entity_names
                    .get(&kind.name)
                    .map(|(names, _)| names.clone())
                    .unwrap_or_default();
                let help = match did_you_mean(name, names.keys().map(|k| &**k)) {
                    Some(s) => format!("did you mean `{}.{s}`?", kind.name),
                    None if names.is_empty() => format!("no {} is declared", kind.name),
                    None => {
                        let mut list: Vec<&str> = names.keys().map(|k| &**k).collect();
                        list.sort_unstable();
                        format!("the {}s are: {}", kind.name, list.join(", "))
                    }
                };
                return self.error(
                    Diagnostic::error(
                        "name::unknown",
                        span,
                        format!("no {} named `{name}`", kind.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
            }
        }
        Type::Record(kind.ty.clone())
    }

    fn infer_field(&mut self, module: usize, locals: &Locals, base: &Expr, field: &Ident) -> Type {
        if let ExprKind::Name(base_name) = &base.kind {
            if self.is_kind_name(locals, module, &base_name.name) {
                let kind = self.env.kind(&base_name.name).cloned().expect("kind");
                if !kind.single {
                    return self.entity_lookup(&kind, Some((&field.name, field.span)));
                }
            }
            if locals.get(&base_name.name).is_none() {
                if let Some(target) = self.env.modules[module]
                    .namespaces
                    .get(&base_name.name)
                    .copied()
                {
                    return match self.env.modules[target].values.get(&field.name).copied() {
                        Some(Global::Let(m, i)) => self.let_type(m, i, field.span),
                        Some(Global::Fn(..)) => self.error(
                            Diagnostic::error(
                                "type::mismatch",
                                field.span,
                                format!("`{}` is a function", field.name),
                            )
                            .with_help("call it with arguments"),
                        ),
                        None => self.unknown_in_namespace(target, field),
                    };
                }
            }
        }
        let base_type = self.infer(module, locals, base);
        self.field_type(&base_type, field)
    }

    fn unknown_in_namespace(&mut self, target: usize, field: &Ident) -> Type {
        let names: Vec<String> = self.env.modules[target]
            .values
            .keys()
            .map(|k| k.to_string())
            .collect();
        let help = match did_you_mean(&field.name, names.iter().map(|s| s.as_str())) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "check the imported file's declarations".into(),
        };
        self.error(
            Diagnostic::error(
                "name::unknown",
                field.span,
                format!("the imported file has no `{}`", field.name),
            )
            .with_help(help),
        )
    }

    fn field_type(&mut self, base_type: &Type, field: &Ident) -> Type {
        match base_type {
            Type::Error => Type::Error,
            Type::Json => Type::Json,
            Type::Optional(inner) => self.field_type(&inner.clone(), field),
            Type::Union(members) if members.iter().all(|m| matches!(m, Type::Record(_))) => {
                let mut joined = Type::Never;
                for member in members.iter() {
                    let Type::Record(record) = member else { continue };
                    match record.field(&field.name) {
                        Some(f) => joined = join(&joined, &f.ty),
                        None => {
                            let record = record.clone();
                            self.unknown_field(field.span, &field.name, &record);
                            return Type::Error;
                        }
                    }
                }
                joined
            }
            Type::Record(record) => match record.field(&field.name) {
                Some(f) => f.ty.clone(),
                None => {
                    self.unknown_field(field.span, &field.name, record);
                    Type::Error
                }
            },
            Type::Cidr => match &*field.name {
                "prefix" => Type::Int,
                "size" => Type::Int,
                "network" => Type::Ip,
                "netmask" => Type::Ip,
                _ => self.error(
                    Diagnostic::error("type::unknown-field", field.span, format!("a cidr has no field `{}`", field.name))
                        .with_help("cidr fields: prefix, size, network, netmask; methods: host(n), contains(ip), subnet(prefix, n)"),
                ),
            },
            Type::Map(_) => self.error(
                Diagnostic::error("type::unknown-field", field.span, format!("a map has no field `{}`", field.name))
                    .with_help(format!("look the key up with `[\"{}\"]`", field.name)),
            ),
            other => self.error(
                Diagnostic::error("type::unknown-field", field.span, format!("{other} has no field `{}`", field.name))
                    .with_help("only records have fields"),
            ),
        }
    }

    fn infer_index(&mut self, module: usize, locals: &Locals, base: &Expr, index: &Expr) -> Type {
        if let ExprKind::Name(base_name) = &base.kind {
            if self.is_kind_name(locals, module, &base_name.name) {
                let kind = self.env.kind(&base_name.name).cloned().expect("kind");
                self.check_against(module, locals, index, &Type::Str);
                let literal = match &index.kind {
                    ExprKind::Str(parts) => match parts.as_slice() {
                        [StrPart::Lit(text)] => Some((text.as_str(), index.span)),
                        [] => Some(("", index.span)),
                        _ => None,
                    },
                    _ => None,
                };
                return self.entity_lookup(&kind, literal);
            }
        }
        let base_type = self.infer(module, locals, base);
        match base_type.strip_optional() {
            Type::Error => {
                self.infer(module, locals, index);
                Type::Error
            }
            Type::List(element) => {
                let element = (**element).clone();
                self.check_against(module, locals, index, &Type::Int);
                element
            }
            Type::Map(value) => {
                let value = (**value).clone();
                self.check_against(module, locals, index, &Type::Str);
                value
            }
            Type::Json => {
                self.infer(module, locals, index);
                Type::Json
            }
            Type::Record(record) => {
                let record = record.clone();
                match &index.kind {
                    ExprKind::Str(parts) if matches!(parts.as_slice(), [StrPart::Lit(_)]) => {
                        let [StrPart::Lit(name)] = parts.as_slice() else {
                            unreachable!("matched")
                        };
                        match record.field(name) {
                            Some(f) => f.ty.clone(),
                            None => {
                                self.unknown_field(index.span, name, &record);
                                Type::Error
                            }
                        }
                    }
                    _ => self.error(
                        Diagnostic::error(
                            "type::mismatch",
                            index.span,
                            "a record is indexed by a literal field name",
                        )
                        .with_help("use `.field`, or declare the value as a map `{string: T}`"),
                    ),
                }
            }
            other => {
                let other = other.clone();
                self.error(
                    Diagnostic::error("type::mismatch", base.span, format!("cannot index {other}"))
                        .with_help("lists take `[int]`, maps take `[string]`"),
                )
            }
        }
    }

    fn infer_call(
        &mut self,
        module: usize,
        locals: &Locals,
        name: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Type {
        if locals.get(&name.name).is_none() {
            if let Some(Global::Fn(m, i)) =
                ModuleScope::lookup_value(&self.env.modules, module, &name.name)
            {
                return self.call_fn(module, locals, (m, i), name, args, span);
            }
        }
        match &*name.name {
            "range" => {
                self.check_args(module, locals, name, args, &[Type::Int, Type::Int], span);
                Type::List(Rc::new(Type::Int))
            }
            "join" => {
                self.check_args(
                    module,
                    locals,
                    name,
                    args,
                    &[Type::List(Rc::new(Type::Str)), Type::Str],
                    span,
                );
                Type::Str
            }
            "secret" => {
                self.check_args(module, locals, name, args, &[Type::Str], span);
                Type::Secret
            }
            _ => {
                for arg in args {
                    self.infer(module, locals, arg);
                }
                let mut candidates: Vec<String> =
                    BUILTINS.iter().map(|(n, _)| n.to_string()).collect();
                candidates.extend(
                    ModuleScope::visible_values(&self.env.modules, module)
                        .iter()
                        .map(|n| n.to_string()),
                );
                let help = match did_you_mean(&name.name, candidates.iter().map(|s| s.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it with `fn`, or import the file that declares it".into(),
                };
                self.error(
                    Diagnostic::error(
                        "name::unknown",
                        name.span,
                        format!("unknown function `{}`", name.name),
                    )
                    .with_help(help),
                )
            }
        }
    }

    fn call_fn(
        &mut self,
        module: usize,
        locals: &Locals,
        target: (usize, usize),
        name: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Type {
        if let Some(caller) = self.current_fn {
            self.calls
                .entry(caller)
                .or_default()
                .push((target, name.span));
        }
        let sig = self.fn_sig(target.0, target.1);
        let params: Vec<Type> = sig.params.iter().map(|(_, t)| t.clone()).collect();
        self.check_args(module, locals, name, args, &params, span);
        sig.ret
    }

    fn check_args(
        &mut self,
        module: usize,
        locals: &Locals,
        name: &Ident,
        args: &[Expr],
        params: &[Type],
        span: Span,
    ) {
        if args.len() != params.len() {
            self.diagnostics.push(
                Diagnostic::error(
                    "type::arity",
                    span,
                    format!(
                        "`{}` takes {} argument{}, found {}",
                        name.name,
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .with_help(format!(
                    "pass exactly {} argument{}",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" }
                )),
            );
        }
        for (i, arg) in args.iter().enumerate() {
            match params.get(i) {
                Some(param) => self.check_against(module, locals, arg, param),
                None => {
                    self.infer(module, locals, arg);
                }
            }
        }
    }

    fn infer_method(
        &mut self,
        module: usize,
        locals: &Locals,
        receiver: &Expr,
        name: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Type {
        if let ExprKind::Name(ns) = &receiver.kind {
            if locals.get(&ns.name).is_none() {
                if let Some(target) = self.env.modules[module].namespaces.get(&ns.name).copied() {
                    return match self.env.modules[target].values.get(&name.name).copied() {
                        Some(Global::Fn(m, i)) => {
                            self.call_fn(module, locals, (m, i), name, args, span)
                        }
                        Some(Global::Let(..)) => self.error(
                            Diagnostic::error(
                                "type::mismatch",
                                name.span,
                                format!("`{}` is a value, not a function", name.name),
                            )
                            .with_help(format!(
                                "write `{}.{}` without arguments",
                                ns.name, name.name
                            )),
                        ),
                        None => self.unknown_in_namespace(target, name),
                    };
                }
            }
        }
        let receiver_type = self.infer(module, locals, receiver);
        let Some((params, ret)) = method_signature(&receiver_type, &name.name) else {
            if receiver_type.is_error() {
                for arg in args {
                    self.infer(module, locals, arg);
                }
                return Type::Error;
            }
            let available = methods_of(&receiver_type);
            let help = match did_you_mean(&name.name, available.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if available.is_empty() => format!("{receiver_type} has no methods"),
                None => format!("methods of {receiver_type}: {}", available.join(", ")),
            };
            for arg in args {
                self.infer(module, locals, arg);
            }
            return self.error(
                Diagnostic::error(
                    "type::unknown-method",
                    name.span,
                    format!("{receiver_type} has no method `{}`", name.name),
                )
                .with_help(help),
            );
        };
        self.check_args(module, locals, name, args, &params, span);
        ret
    }

    fn infer_with(
        &mut self,
        module: usize,
        locals: &Locals,
        base: &Expr,
        fields: &[FieldInit],
        span: Span,
    ) -> Type {
        let base_type = self.infer(module, locals, base);
        match &base_type {
            Type::Error => {
                for field in fields {
                    self.infer(module, locals, &field.value);
                }
                Type::Error
            }
            Type::Record(record) => {
                let record = record.clone();
                self.check_unique_fields(fields);
                for field in fields {
                    match record.field(&field.name.name) {
                        Some(declared) => {
                            let ty = declared.ty.clone();
                            self.check_against(module, locals, &field.value, &ty);
                        }
                        None => {
                            self.unknown_field(field.name.span, &field.name.name, &record);
                            self.infer(module, locals, &field.value);
                        }
                    }
                }
                self.env.with_types.insert(span, base_type.clone());
                base_type
            }
            Type::Map(value) => {
                let value = (**value).clone();
                for field in fields {
                    self.check_against(module, locals, &field.value, &value);
                }
                self.env.with_types.insert(span, base_type.clone());
                base_type
            }
            other => {
                let other = other.clone();
                self.error(
                    Diagnostic::error(
                        "type::mismatch",
                        base.span,
                        format!("`with` needs a record, found {other}"),
                    )
                    .with_help("`with` copies a record and replaces some of its fields"),
                )
            }
        }
    }

    fn infer_binary(
        &mut self,
        module: usize,
        locals: &Locals,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        span: Span,
    ) -> Type {
        let l = self.infer(module, locals, left);
        let r = self.infer(module, locals, right);
        if l.is_error() || r.is_error() {
            return match op {
                BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::And
                | BinOp::Or => Type::Bool,
                _ => Type::Error,
            };
        }
        use Type::*;
        let result = match op {
            BinOp::And | BinOp::Or => matches!((&l, &r), (Bool, Bool)).then_some(Bool),
            BinOp::Eq | BinOp::Ne => (assignable(&l, &r)
                || assignable(&r, &l)
                || (l.widen().is_str() && r.widen().is_str()))
            .then_some(Bool),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ordered = (l.is_int() && r.is_int())
                    || (l.widen().is_str() && r.widen().is_str())
                    || matches!((&l, &r), (Size, Size) | (Duration, Duration) | (Ip, Ip));
                ordered.then_some(Bool)
            }
            BinOp::Add => match (&l, &r) {
                _ if l.is_int() && r.is_int() => Some(Int),
                _ if l.widen().is_str() && r.widen().is_str() => Some(Str),
                (Size, Size) => Some(Size),
                (Duration, Duration) => Some(Duration),
                (List(a), List(b)) => Some(List(Rc::new(join(a, b)))),
                _ => Option::None,
            },
            BinOp::Sub => match (&l, &r) {
                _ if l.is_int() && r.is_int() => Some(Int),
                (Size, Size) => Some(Size),
                (Duration, Duration) => Some(Duration),
                _ => Option::None,
            },
            BinOp::Mul => match (&l, &r) {
                _ if l.is_int() && r.is_int() => Some(Int),
                (Size, _) if r.is_int() => Some(Size),
                (_, Size) if l.is_int() => Some(Size),
                (Duration, _) if r.is_int() => Some(Duration),
                (_, Duration) if l.is_int() => Some(Duration),
                _ => Option::None,
            },
            BinOp::Div => match (&l, &r) {
                _ if l.is_int() && r.is_int() => Some(Int),
                (Size, _) if r.is_int() => Some(Size),
                (Duration, _) if r.is_int() => Some(Duration),
                (Size, Size) | (Duration, Duration) => Some(Int),
                _ => Option::None,
            },
            BinOp::Rem => (l.is_int() && r.is_int()).then_some(Int),
        };
        match result {
            Some(ty) => ty,
            Option::None => {
                let help = match (op, &l, &r) {
                    (BinOp::Add, Size, _) | (BinOp::Add, _, Size) => {
                        "sizes add to sizes: write a unit (`512MiB`)".to_string()
                    }
                    (BinOp::Eq | BinOp::Ne, _, _) => {
                        "values of different types are never equal".to_string()
                    }
                    _ => "there are no implicit conversions between types".to_string(),
                };
                self.error(
                    Diagnostic::error(
                        "type::mismatch",
                        span,
                        format!("cannot apply `{}` to {l} and {r}", op.symbol()),
                    )
                    .with_help(help),
                )
            }
        }
    }
}

/// What is left of one explanation's bounds ([`EXPLAIN_STEPS`], [`EXPLAIN_REPORTS`]).
struct Budget {
    steps: u32,
    reports: u32,
}

impl Budget {
    /// Takes one step; false when none is left.
    fn step(&mut self) -> bool {
        self.steps
            .checked_sub(1)
            .map(|left| self.steps = left)
            .is_some()
    }

    /// Takes one report; false when none is left.
    fn report(&mut self) -> bool {
        self.reports
            .checked_sub(1)
            .map(|left| self.reports = left)
            .is_some()
    }
}

/// The first segment of a field path in a value of `record`'s type: its name (`Vm`), else its
/// kind, else nothing.
fn record_root(record: &RecordType) -> Name {
    match (&record.name, &record.kind) {
        (Some(name), _) | (None, Some(name)) => name.clone(),
        (None, None) => Name::from(""),
    }
}

enum Target {
    Record(Rc<RecordType>),
    Map(Type),
    Json,
    None,
}

/// What a record literal should be checked against, given the expected type.
fn record_target(expected: &Type) -> Target {
    match expected {
        Type::Record(r) => Target::Record(r.clone()),
        Type::Map(v) => Target::Map((**v).clone()),
        Type::Json => Target::Json,
        Type::Optional(inner) => record_target(inner),
        Type::Union(members) => {
            let records: Vec<&Type> = members
                .iter()
                .filter(|m| matches!(m, Type::Record(_) | Type::Map(_) | Type::Json))
                .collect();
            if records.len() == 1 {
                record_target(records[0])
            } else {
                Target::None
            }
        }
        _ => Target::None,
    }
}

fn list_target(expected: &Type) -> Option<Type> {
    match expected {
        Type::List(element) => Some((**element).clone()),
        Type::Json => Some(Type::Json),
        Type::Optional(inner) => list_target(inner),
        _ => None,
    }
}

fn interpolatable(ty: &Type) -> bool {
    if let Type::Union(members) = ty {
        return members.iter().all(interpolatable);
    }
    matches!(
        ty,
        Type::Error
            | Type::Bool
            | Type::Int
            | Type::IntRange(..)
            | Type::Str
            | Type::StrLit(_)
            | Type::Size
            | Type::Duration
            | Type::Ip
            | Type::Cidr
            | Type::Mac
    )
}

fn mismatch_help(expected: &Type, actual: &Type) -> String {
    match (expected.strip_optional(), actual) {
        (Type::Size, Type::Int | Type::IntRange(..)) => "an int is not a size: write a unit, such as `8GiB` or `512MiB`".into(),
        (Type::Duration, Type::Int | Type::IntRange(..)) => "an int is not a duration: write a unit, such as `30s` or `5min`".into(),
        (Type::Secret, _) => "secrets never appear in sources: write `secret(\"name\")` and provide the value when applying".into(),
        (Type::Str, Type::Int | Type::IntRange(..)) => "write the number as a string: `\"42\"`, or interpolate it: `\"${n}\"`".into(),
        (Type::Ip, Type::Str | Type::StrLit(_)) => "write the address without quotes: `10.0.0.1`".into(),
        (Type::Cidr, Type::Str | Type::StrLit(_)) => "write the subnet without quotes: `10.0.0.0/24`".into(),
        (Type::Union(members), Type::Str) if members.iter().all(|m| matches!(m, Type::StrLit(_))) => {
            format!("write one of {expected} literally")
        }
        (Type::Record(r), _) if r.kind.is_some() => {
            let kind = r.kind.as_deref().unwrap_or("");
            format!("refer to a declared {kind}: `{kind}.NAME`")
        }
        _ => format!("give a value of type {expected}"),
    }
}

/// The parameter types and result of `receiver.name(...)`.
pub fn method_signature(receiver: &Type, name: &str) -> Option<(Vec<Type>, Type)> {
    use Type::*;
    let list = |t: Type| List(Rc::new(t));
    Some(match (receiver.strip_optional(), name) {
        (Cidr, "host") => (vec![Int], Ip),
        (Cidr, "contains") => (vec![Ip], Bool),
        (Cidr, "subnet") => (vec![Int, Int], Cidr),
        (List(_), "len") => (vec![], Int),
        (List(element), "contains") => (vec![element.widen()], Bool),
        (Map(_), "len") => (vec![], Int),
        (Map(_), "keys") => (vec![], list(Str)),
        (Map(value), "values") => (vec![], list((**value).clone())),
        (Map(_), "contains") => (vec![Str], Bool),
        (Record(r), "keys") if r.kind.is_none() => (vec![], list(Str)),
        (Record(r), "len") if r.kind.is_none() => (vec![], Int),
        (Str | StrLit(_), "len") => (vec![], Int),
        (Str | StrLit(_), "contains") => (vec![Str], Bool),
        (Str | StrLit(_), "starts_with") => (vec![Str], Bool),
        (Str | StrLit(_), "ends_with") => (vec![Str], Bool),
        (Str | StrLit(_), "lower") => (vec![], Str),
        (Str | StrLit(_), "upper") => (vec![], Str),
        (Error, _) => return Option::None,
        _ => return Option::None,
    })
}

fn methods_of(receiver: &Type) -> Vec<&'static str> {
    const ALL: &[&str] = &[
        "host",
        "contains",
        "subnet",
        "len",
        "keys",
        "values",
        "starts_with",
        "ends_with",
        "lower",
        "upper",
    ];
    ALL.iter()
        .copied()
        .filter(|m| method_signature(receiver, m).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, MemLoader};

    /// The type checker's diagnostics for `text`, with a small prelude, as (code, message,
    /// line of the primary span, help, secondary messages).
    fn diagnose(text: &str) -> Vec<(&'static str, String, usize, String, Vec<String>)> {
        let prelude = "type Disk = { size: size, ssd: bool = true }\n\
                       type Vm = { memory: size, disks: {string: Disk} = {}, tags: [string] = [] }\n\
                       kind vm: Vm\n";
        let loader = MemLoader::single("main.plat", text);
        let (loaded, load_diagnostics) = load(prelude, &["main.plat".to_string()], &loader);
        assert!(load_diagnostics.is_empty(), "{load_diagnostics:?}");
        let (_, mut diagnostics) = check(&loaded);
        crate::diagnostic::sort(&mut diagnostics);
        diagnostics
            .into_iter()
            .map(|d| {
                let file = loaded.sources.get(d.span.file);
                (
                    d.code,
                    d.message,
                    file.line_col(d.span.start).0,
                    d.help.unwrap_or_default(),
                    d.secondary.into_iter().map(|l| l.message).collect(),
                )
            })
            .collect()
    }

    const SHAPE: &str = "type NodeShape = { cores: int, memory: size }\n";

    #[test]
    fn a_misspelt_field_is_named_by_its_path_with_the_field_it_means() {
        let found = diagnose(&format!(
            "{SHAPE}let s: NodeShape = {{\n  cores = 4\n  memroy = 8GiB\n}}\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        let (code, message, line, help, _) = &found[0];
        assert_eq!(*code, "type::unknown-field");
        assert_eq!(message, "unknown field `NodeShape.memroy`");
        assert_eq!(*line, 4);
        assert_eq!(help, "did you mean `memory`?");
    }

    #[test]
    fn a_field_of_the_wrong_type_names_the_type_it_expects() {
        let found = diagnose(&format!(
            "{SHAPE}let s: NodeShape = {{\n  cores = 4\n  memory = 8\n}}\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "type::mismatch");
        assert_eq!(found[0].1, "`NodeShape.memory` expects size, found int");
        assert_eq!(found[0].2, 4);
    }

    #[test]
    fn nested_fields_are_named_by_the_whole_path() {
        let found = diagnose(
            "vm web {\n  memory = 1GiB\n  disks = { scsi0 = { sise = 1GiB } }\n  tags = [\"a\", 1]\n}\n",
        );
        let messages: Vec<(&str, &str, usize)> = found
            .iter()
            .map(|(code, message, line, ..)| (*code, message.as_str(), *line))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "type::unknown-field",
                    "unknown field `Vm.disks.scsi0.sise`",
                    3
                ),
                (
                    "type::mismatch",
                    "`Vm.tags[1]` expects string, found int",
                    4
                ),
            ],
            "{found:?}"
        );
    }

    #[test]
    fn a_record_through_an_untyped_let_is_reported_where_it_is_written() {
        let found = diagnose(&format!(
            "{SHAPE}let shape = {{\n  cores = \"4\"\n  memroy = 8GiB\n}}\nlet s: NodeShape = shape\n"
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "type::mismatch");
        assert_eq!(found[0].1, "`NodeShape.cores` expects int, found \"4\"");
        assert_eq!(found[0].2, 3);
        assert_eq!(found[0].4, ["used as NodeShape here"]);
        assert_eq!(found[1].0, "type::unknown-field");
        assert_eq!(found[1].1, "unknown field `NodeShape.memroy`");
        assert_eq!(found[1].2, 4);
        assert_eq!(found[1].3, "did you mean `memory`?");
        assert_eq!(found[1].4, ["used as NodeShape here"]);
    }

    #[test]
    fn a_record_through_an_argument_is_reported_where_it_is_written() {
        let found = diagnose(&format!(
            "{SHAPE}fn mem(s: NodeShape) -> size = s.memory\nlet shape = {{ cores = 1 }}\nlet m = mem(shape)\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "type::missing-field");
        assert_eq!(found[0].1, "missing field `memory` of NodeShape");
        assert_eq!(found[0].2, 3);
        assert!(found[0].4.contains(&"used as NodeShape here".to_string()));
    }

    #[test]
    fn a_record_used_twice_is_reported_once_with_both_uses() {
        let found = diagnose(&format!(
            "{SHAPE}fn mem(s: NodeShape) -> size = s.memory\nlet shape = {{ cores = 1, memroy = 1GiB }}\nlet a = mem(shape)\nlet b: NodeShape = shape\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "unknown field `NodeShape.memroy`");
        assert_eq!(
            found[0].4,
            ["used as NodeShape here", "used as NodeShape here"]
        );
    }

    #[test]
    fn a_record_nested_through_a_let_keeps_the_path_of_its_use() {
        let found = diagnose(
            "let d = { sise = 1GiB }\nvm web {\n  memory = 1GiB\n  disks = { scsi0 = d }\n}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "unknown field `Vm.disks.scsi0.sise`");
        assert_eq!(found[0].2, 1);
        assert_eq!(found[0].4, ["used as Disk here"]);
    }

    #[test]
    fn explaining_a_shared_record_is_bounded() {
        // Forty levels of a record whose two fields hold the previous one: 2^40 fields as a
        // tree. The explanation stops after a bounded number of reports.
        let mut text = String::from("type Leaf = { x: int }\nlet r0 = { x = \"no\" }\n");
        for i in 1..=40 {
            text.push_str(&format!("let r{i} = {{ a = r{p}, b = r{p} }}\n", p = i - 1));
        }
        let expected = format!("{}Leaf{}", "{string: ".repeat(40), "}".repeat(40));
        text.push_str(&format!("let big: {expected} = r40\n"));
        let found = diagnose(&text);
        assert!(!found.is_empty());
        assert_eq!(found.len(), EXPLAIN_REPORTS as usize, "{found:?}");
        assert!(found.iter().all(|d| d.1.len() < 2 * MAX_PATH_TEXT));
    }
}

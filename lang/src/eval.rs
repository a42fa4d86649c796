//! Evaluation: the checked program to values. Pure and total: no IO, no recursion in the
//! evaluated program (the checker rejects it), and hard limits on steps, depth and sizes, so
//! every run ends with values or diagnostics — never a panic, never a stack overflow.
//!
//! Order: first every `for` is expanded and every entity name computed (so the set of
//! entities is known), then entities, `let`s and `assert`s are evaluated, each lazily and
//! at most once. A failed value is reported once and poisons only what depends on it.

mod coerce;
mod expr;
mod ops;

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::load::Loaded;
use crate::span::Span;
use crate::syntax::ast::{EntityBody, EntityName, Item, ItemKind};
use crate::types::{Env, Type};
use crate::value::{EntityId, FixedHasher, Name, NameMap, Record, Value};

/// Resource limits for one evaluation.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Expression evaluations.
    pub steps: u64,
    /// Nested calls, lets and entities being evaluated at once.
    pub depth: u32,
    /// Elements in one list.
    pub list_length: usize,
    /// List elements built by ranges and concatenations over the whole evaluation (bounds
    /// memory where nested comprehensions multiply lengths).
    pub list_elements: u64,
    /// Bytes in one string.
    pub string_size: usize,
    /// Declared entities.
    pub entities: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            steps: 500_000_000,
            depth: 200,
            list_length: 5_000_000,
            list_elements: 20_000_000,
            string_size: 64 << 20,
            entities: 10_000_000,
        }
    }
}

/// A declared entity and its value.
#[derive(Clone, Debug)]
pub struct Entity {
    /// Kind and name.
    pub id: EntityId,
    /// The declaration's name (or kind, for singletons).
    pub span: Span,
    /// Its fields, coerced to the kind's type (defaults filled in).
    pub value: Rc<Record>,
}

/// A top-level `let` and its value.
#[derive(Clone, Debug)]
pub struct LetValue {
    /// Module index.
    pub module: usize,
    /// Name.
    pub name: Name,
    /// Value.
    pub value: Value,
    /// The declaration.
    pub span: Span,
}

/// The evaluated program.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Entities in declaration order (files by path, then source order, then loop order).
    pub entities: Vec<Entity>,
    /// Top-level lets, in module then source order.
    pub lets: Vec<LetValue>,
}

/// Evaluates every module of `loaded` (checked into `env`).
pub fn eval(loaded: &Loaded, env: &Env, limits: Limits) -> (Program, Vec<Diagnostic>) {
    let mut evaluator = Evaluator::new(loaded, env, limits);
    evaluator.expand_all();
    let mut program = Program::default();
    for index in 0..evaluator.decls.len() {
        if let Ok(value) = evaluator.force_entity(index, evaluator.decls[index].span) {
            let decl = &evaluator.decls[index];
            if let Value::Record(record) = value {
                program.entities.push(Entity {
                    id: decl.id.clone(),
                    span: decl.span,
                    value: record,
                });
            }
        }
    }
    for (module_index, module) in loaded.modules.iter().enumerate() {
        for (item_index, item) in module.ast.items.iter().enumerate() {
            if let ItemKind::Let { name, .. } = &item.kind {
                if let Ok(value) = evaluator.force_let(module_index, item_index, name.span) {
                    program.lets.push(LetValue {
                        module: module_index,
                        name: name.name.clone(),
                        value,
                        span: item.span,
                    });
                }
            }
        }
    }
    let asserts = std::mem::take(&mut evaluator.asserts);
    for (module, item, locals) in asserts {
        evaluator.run_assert(module, item, locals);
    }
    (program, evaluator.diagnostics)
}

/// An error was reported (or a dependency failed): stop evaluating this value.
#[derive(Debug)]
pub(crate) struct Stop;

pub(crate) type R<T> = Result<T, Stop>;

#[derive(Clone, Debug)]
enum Slot {
    InProgress,
    Done(Value),
    Failed,
}

/// An `assert` waiting for evaluation: module, item, loop variables.
type PendingAssert<'a> = (usize, &'a Item, Vec<(Name, Value)>);

struct Decl<'a> {
    id: EntityId,
    span: Span,
    module: usize,
    item: &'a Item,
    locals: Vec<(Name, Value)>,
    static_name: bool,
    slot: Option<Slot>,
}

pub(crate) struct Evaluator<'a> {
    loaded: &'a Loaded,
    env: &'a Env,
    limits: Limits,
    diagnostics: Vec<Diagnostic>,
    steps: u64,
    depth: u32,
    /// The module whose scope names are resolved in.
    module: usize,
    /// Local variables, innermost last.
    locals: Vec<(Name, Value)>,
    lets: BTreeMap<(usize, usize), Slot>,
    decls: Vec<Decl<'a>>,
    /// Index into `decls` by kind, then by name. Nothing iterates the names into output (the
    /// did-you-mean help picks the same name whatever the order).
    by_id: BTreeMap<Name, NameMap<usize>>,
    expanding: bool,
    asserts: Vec<PendingAssert<'a>>,
    steps_reported: bool,
    elements: u64,
    /// Shared values already coerced, by the identity of the value and of the type
    /// (`coerce::Coerced`).
    coerced: indexmap::IndexMap<(usize, usize), coerce::Coerced, FixedHasher>,
}

impl<'a> Evaluator<'a> {
    fn new(loaded: &'a Loaded, env: &'a Env, limits: Limits) -> Evaluator<'a> {
        Evaluator {
            loaded,
            env,
            limits,
            diagnostics: Vec::new(),
            steps: 0,
            depth: 0,
            module: 0,
            locals: Vec::new(),
            lets: BTreeMap::new(),
            decls: Vec::new(),
            by_id: BTreeMap::new(),
            expanding: false,
            asserts: Vec::new(),
            steps_reported: false,
            elements: 0,
            coerced: indexmap::IndexMap::default(),
        }
    }

    pub(crate) fn fail<T>(&mut self, diagnostic: Diagnostic) -> R<T> {
        self.diagnostics.push(diagnostic);
        Err(Stop)
    }

    /// Counts one step; fails when the step budget is spent.
    pub(crate) fn step(&mut self, span: Span) -> R<()> {
        self.steps += 1;
        if self.steps > self.limits.steps {
            if !self.steps_reported {
                self.steps_reported = true;
                let limit = self.limits.steps;
                return self.fail(
                    Diagnostic::error("limit::steps", span, format!("evaluation takes more than {limit} steps"))
                        .with_help("the program is too large to evaluate; look for a comprehension over a huge range"),
                );
            }
            return Err(Stop);
        }
        Ok(())
    }

    /// Counts `count` new list elements against the whole evaluation's budget.
    pub(crate) fn allocate(&mut self, count: u64, span: Span) -> R<()> {
        self.elements = self.elements.saturating_add(count);
        if self.elements > self.limits.list_elements {
            let limit = self.limits.list_elements;
            return self.fail(
                Diagnostic::error(
                    "limit::list-length",
                    span,
                    format!("the program builds more than {limit} list elements in total"),
                )
                .with_help(
                    "a comprehension over a large range multiplies list sizes; use smaller ranges",
                ),
            );
        }
        Ok(())
    }

    /// Fails when a string of `len` bytes would exceed the string size limit.
    pub(crate) fn string_size(&mut self, len: usize, span: Span) -> R<()> {
        if len > self.limits.string_size {
            let limit = self.limits.string_size;
            return self.fail(
                Diagnostic::error(
                    "limit::string-size",
                    span,
                    format!("this string is longer than {limit} bytes"),
                )
                .with_help("build smaller strings"),
            );
        }
        Ok(())
    }

    /// Counts work proportional to a size as `amount` steps (elements built or compared, bytes
    /// copied / 8), so that the step limit also bounds the time of big copies and comparisons.
    pub(crate) fn charge(&mut self, amount: u64, span: Span) -> R<()> {
        self.steps = self.steps.saturating_add(amount);
        self.step(span)
    }

    /// Steps left before the limit.
    pub(crate) fn steps_left(&self) -> u64 {
        self.limits.steps.saturating_sub(self.steps)
    }

    /// Runs `f` one level deeper, failing past the depth limit.
    pub(crate) fn deeper<T>(&mut self, span: Span, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.depth >= self.limits.depth {
            let limit = self.limits.depth;
            return self.fail(
                Diagnostic::error(
                    "limit::depth",
                    span,
                    format!("evaluation nests deeper than {limit} levels"),
                )
                .with_help("a chain of lets, calls or entity references is too long; flatten it"),
            );
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Runs `f` in `module`'s scope with `locals`, restoring the current scope after.
    pub(crate) fn in_scope<T>(
        &mut self,
        module: usize,
        mut locals: Vec<(Name, Value)>,
        f: impl FnOnce(&mut Self) -> R<T>,
    ) -> R<T> {
        self.in_lent_scope(module, &mut locals, f)
    }

    /// Like [`Evaluator::in_scope`], with `locals` lent for the call (moved in and back out)
    /// instead of copied: a record's defaults see the fields before them, and copying that
    /// scope for every default made coercing a record quadratic in its fields.
    pub(crate) fn in_lent_scope<T>(
        &mut self,
        module: usize,
        locals: &mut Vec<(Name, Value)>,
        f: impl FnOnce(&mut Self) -> R<T>,
    ) -> R<T> {
        let saved_module = std::mem::replace(&mut self.module, module);
        std::mem::swap(&mut self.locals, locals);
        let result = f(self);
        std::mem::swap(&mut self.locals, locals);
        self.module = saved_module;
        result
    }

    // ----- expansion -----

    fn expand_all(&mut self) {
        self.expanding = true;
        let loaded = self.loaded;
        for (module_index, module) in loaded.modules.iter().enumerate().skip(1) {
            for item in &module.ast.items {
                let _ = self.in_scope(module_index, Vec::new(), |ev| ev.expand(item));
            }
        }
        self.expanding = false;
    }

    fn expand(&mut self, item: &'a Item) -> R<()> {
        match &item.kind {
            ItemKind::For { var, iter, items } => {
                let list = self.eval(iter)?;
                let Value::List(elements) = list else {
                    return self.fail(
                        Diagnostic::error("type::mismatch", iter.span, "`for` needs a list")
                            .with_help("iterate a list or a range"),
                    );
                };
                for element in elements.iter() {
                    self.locals.push((var.name.clone(), element.clone()));
                    for nested in items {
                        let _ = self.expand(nested);
                    }
                    self.locals.pop();
                }
                Ok(())
            }
            ItemKind::Entity { kind, name, .. } => {
                let (entity_name, span, static_name) = match name {
                    EntityName::None => (Name::from(""), kind.span, true),
                    EntityName::Ident(ident) => {
                        (ident.name.clone(), ident.span, self.locals.is_empty())
                    }
                    EntityName::Computed(expr) => {
                        let value = self.eval(expr)?;
                        let text: Name = match value {
                            Value::Str(s) => Name::from(&*s),
                            other => other.to_string().into(),
                        };
                        (text, expr.span, false)
                    }
                };
                self.declare(kind.name.clone(), entity_name, span, item, static_name)
            }
            ItemKind::Assert { .. } => {
                self.asserts.push((self.module, item, self.locals.clone()));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn declare(
        &mut self,
        kind: Name,
        name: Name,
        span: Span,
        item: &'a Item,
        static_name: bool,
    ) -> R<()> {
        if self.env.kind(&kind).is_none() {
            return Err(Stop); // reported by the checker
        }
        if self.decls.len() >= self.limits.entities {
            let limit = self.limits.entities;
            return self.fail(
                Diagnostic::error(
                    "limit::entities",
                    span,
                    format!("more than {limit} entities"),
                )
                .with_help("a loop generates too many entities"),
            );
        }
        if name.is_empty() && !self.env.kind(&kind).is_some_and(|k| k.single) {
            return self.fail(
                Diagnostic::error(
                    "name::missing-name",
                    span,
                    format!("this {kind} has an empty name"),
                )
                .with_help("give every entity a non-empty name"),
            );
        }
        if let Some(first) = self.by_id.get(&kind).and_then(|names| names.get(&name)) {
            let first = &self.decls[*first];
            if !(static_name && first.static_name) || name.is_empty() {
                let what = if name.is_empty() {
                    format!("{kind} is declared twice")
                } else {
                    format!("{kind} `{name}` is declared twice")
                };
                let first_span = first.span;
                return self.fail(
                    Diagnostic::error("name::duplicate", span, what)
                        .with_label("second declaration")
                        .with_secondary(first_span, "first declared here")
                        .with_help("entity names are unique per kind"),
                );
            }
            return Err(Stop);
        }
        let index = self.decls.len();
        self.by_id
            .entry(kind.clone())
            .or_default()
            .insert(name.clone(), index);
        self.decls.push(Decl {
            id: EntityId { kind, name },
            span,
            module: self.module,
            item,
            locals: self.locals.clone(),
            static_name,
            slot: None,
        });
        Ok(())
    }

    // ----- lazy values -----

    pub(crate) fn force_let(&mut self, module: usize, index: usize, at: Span) -> R<Value> {
        match self.lets.get(&(module, index)) {
            Some(Slot::Done(value)) => return Ok(value.clone()),
            Some(Slot::Failed) => return Err(Stop),
            Some(Slot::InProgress) => {
                return self.fail(
                    Diagnostic::error("eval::cycle", at, "this value depends on itself")
                        .with_help("break the cycle between these definitions"),
                )
            }
            None => {}
        }
        self.lets.insert((module, index), Slot::InProgress);
        let item = &self.loaded.modules[module].ast.items[index];
        let ItemKind::Let { ty, value, .. } = &item.kind else {
            return Err(Stop);
        };
        let result = self.deeper(at, |ev| {
            ev.in_scope(module, Vec::new(), |ev| {
                let v = ev.eval(value)?;
                match ty {
                    Some(texpr) => {
                        let declared = ev
                            .env
                            .type_exprs
                            .get(&texpr.span)
                            .cloned()
                            .unwrap_or(Type::Error);
                        ev.coerce(v, &declared, value.span, 0)
                    }
                    None => Ok(v),
                }
            })
        });
        let slot = match &result {
            Ok(v) => Slot::Done(v.clone()),
            Err(_) => Slot::Failed,
        };
        self.lets.insert((module, index), slot);
        result
    }

    /// The entity `kind`/`name`, evaluated on first use.
    pub(crate) fn lookup_entity(&mut self, kind: &Name, name: &str, span: Span) -> R<Value> {
        if self.expanding {
            return self.fail(
                Diagnostic::error(
                    "eval::entity-in-expansion",
                    span,
                    "entity names and `for` ranges cannot depend on entities",
                )
                .with_help("compute loop ranges and names from `let`s and literals only"),
            );
        }
        let found = self.by_id.get(kind).and_then(|names| names.get(name));
        let Some(index) = found.copied() else {
            let names: Vec<&str> = self
                .by_id
                .get(kind)
                .map(|names| names.keys().map(|n| &**n).collect())
                .unwrap_or_default();
            let help = match did_you_mean(name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("declare it: `{kind} {name} {{ ... }}`"),
            };
            return self.fail(
                Diagnostic::error("name::unknown", span, format!("no {kind} named `{name}`"))
                    .with_help(help),
            );
        };
        self.force_entity(index, span)
    }

    /// The singleton entity of `kind` (`site`).
    pub(crate) fn singleton(&mut self, kind: &Name, span: Span) -> R<Value> {
        if !self
            .by_id
            .get(kind)
            .is_some_and(|names| names.contains_key(""))
        {
            return self.fail(
                Diagnostic::error("name::unknown", span, format!("no {kind} is declared"))
                    .with_help(format!("declare it once: `{kind} {{ ... }}`")),
            );
        }
        self.lookup_entity(kind, "", span)
    }

    fn force_entity(&mut self, index: usize, at: Span) -> R<Value> {
        match &self.decls[index].slot {
            Some(Slot::Done(value)) => return Ok(value.clone()),
            Some(Slot::Failed) => return Err(Stop),
            Some(Slot::InProgress) => {
                let id = self.decls[index].id.clone();
                return self.fail(
                    Diagnostic::error("eval::cycle", at, format!("{id} depends on itself"))
                        .with_help("entities may refer to each other, but not in a cycle"),
                );
            }
            None => {}
        }
        self.decls[index].slot = Some(Slot::InProgress);
        let module = self.decls[index].module;
        let locals = self.decls[index].locals.clone();
        let item = self.decls[index].item;
        let id = self.decls[index].id.clone();
        let result = self.deeper(at, |ev| {
            ev.in_scope(module, locals, |ev| ev.entity_value(item, &id))
        });
        self.decls[index].slot = Some(match &result {
            Ok(v) => Slot::Done(v.clone()),
            Err(_) => Slot::Failed,
        });
        result
    }

    fn entity_value(&mut self, item: &'a Item, id: &EntityId) -> R<Value> {
        let ItemKind::Entity { body, .. } = &item.kind else {
            return Err(Stop);
        };
        let kind = self.env.kind(&id.kind).expect("declared kinds only");
        let ty = Type::Record(kind.ty.clone());
        let (value, span) = match body {
            EntityBody::Block(fields, span) => (self.record_literal(fields)?, *span),
            EntityBody::Expr(expr) => {
                let value = self.eval(expr)?;
                // A copy of another entity is a new record, not a reference to it.
                let value = match value {
                    Value::Record(record) if record.entity.is_some() => {
                        Value::Record(Rc::new(Record {
                            fields: record.fields.clone(),
                            entity: None,
                        }))
                    }
                    other => other,
                };
                (value, expr.span)
            }
        };
        let coerced = self.coerce(value, &ty, span, 0)?;
        let Value::Record(record) = coerced else {
            return Err(Stop);
        };
        Ok(Value::Record(Rc::new(Record {
            fields: record.fields.clone(),
            entity: Some(id.clone()),
        })))
    }

    fn run_assert(&mut self, module: usize, item: &'a Item, locals: Vec<(Name, Value)>) {
        let ItemKind::Assert { cond, message } = &item.kind else {
            return;
        };
        let _ = self.in_scope(module, locals, |ev| {
            let holds = ev.eval(cond)?;
            if holds == Value::Bool(true) {
                return Ok(());
            }
            let text = match ev.eval(message)? {
                Value::Str(s) => s.to_string(),
                other => other.to_string(),
            };
            ev.fail(
                Diagnostic::error(
                    "assert::failed",
                    item.span,
                    format!("assertion failed: {text}"),
                )
                .with_label("this condition is false")
                .with_help("fix the values the assertion checks, or the assertion"),
            )
        });
    }
}

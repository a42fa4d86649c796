//! Evaluation of expressions.

use std::rc::Rc;

use super::{Evaluator, Stop, R};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::*;
use crate::types::{Global, ModuleScope, Type};
use crate::value::{Field, Name, Record, Value};

impl Evaluator<'_> {
    /// Evaluates `expr` in the current scope.
    pub(crate) fn eval(&mut self, expr: &Expr) -> R<Value> {
        self.step(expr.span)?;
        match &expr.kind {
            ExprKind::None => Ok(Value::None),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::Size(b) => Ok(Value::Size(*b)),
            ExprKind::Duration(ms) => Ok(Value::Duration(*ms)),
            ExprKind::Ip(ip) => Ok(Value::Ip(*ip)),
            ExprKind::Cidr(c) => Ok(Value::Cidr(*c)),
            ExprKind::Mac(m) => Ok(Value::Mac(*m)),
            ExprKind::Str(parts) => self.eval_string(parts, expr.span),
            ExprKind::Paren(inner) => self.eval(inner),
            ExprKind::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.eval(item)?);
                }
                Ok(Value::List(Rc::new(values)))
            }
            ExprKind::Record(fields) => self.record_literal(fields),
            ExprKind::Name(ident) => self.eval_name(ident),
            ExprKind::Field(base, field) => self.eval_field(base, field),
            ExprKind::Index(base, index) => self.eval_index(base, index),
            ExprKind::Call(name, args) => self.eval_call(name, args, expr.span),
            ExprKind::Method(receiver, name, args) => {
                self.eval_method(receiver, name, args, expr.span)
            }
            ExprKind::Unary(op, operand) => {
                let value = self.eval(operand)?;
                self.unary(*op, value, expr.span)
            }
            ExprKind::Binary(op, left, right) => self.eval_binary(*op, left, right, expr.span),
            ExprKind::If(cond, then, otherwise) => {
                if self.eval(cond)? == Value::Bool(true) {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ExprKind::LetIn(name, ty, value, body) => {
                let mut bound = self.eval(value)?;
                if let Some(texpr) = ty {
                    let declared = self
                        .env
                        .type_exprs
                        .get(&texpr.span)
                        .cloned()
                        .unwrap_or(Type::Error);
                    bound = self.coerce(bound, &declared, value.span, 0)?;
                }
                self.locals.push((name.name.clone(), bound));
                let result = self.eval(body);
                self.locals.pop();
                result
            }
            ExprKind::With(base, fields) => self.eval_with(base, fields, expr.span),
            ExprKind::Comprehension {
                var,
                iter,
                filter,
                body,
            } => {
                let Value::List(elements) = self.eval(iter)? else {
                    return self.fail(
                        Diagnostic::error(
                            "type::mismatch",
                            iter.span,
                            "a comprehension needs a list",
                        )
                        .with_help("iterate a list"),
                    );
                };
                let mut out = Vec::new();
                for element in elements.iter() {
                    self.locals.push((var.name.clone(), element.clone()));
                    let keep = match filter {
                        Some(filter) => self.eval(filter).map(|v| v == Value::Bool(true)),
                        None => Ok(true),
                    };
                    let produced = match keep {
                        Ok(true) => self.eval(body).map(Some),
                        Ok(false) => Ok(None),
                        Err(stop) => Err(stop),
                    };
                    self.locals.pop();
                    if let Some(value) = produced? {
                        out.push(value);
                    }
                }
                Ok(Value::List(Rc::new(out)))
            }
            ExprKind::Range(lo, hi, inclusive) => {
                let lo_value = self.int(lo)?;
                let hi_value = self.int(hi)?;
                // The end is computed in i128: `..=9223372036854775807` includes the last int.
                let end = i128::from(hi_value) + i128::from(*inclusive);
                self.range(lo_value, end, expr.span)
            }
        }
    }

    fn int(&mut self, expr: &Expr) -> R<i64> {
        match self.eval(expr)? {
            Value::Int(i) => Ok(i),
            _ => self.fail(
                Diagnostic::error("type::mismatch", expr.span, "expected an int")
                    .with_help("give an integer"),
            ),
        }
    }

    /// The list `lo..end` (exclusive; `end` may be one past i64::MAX).
    pub(crate) fn range(&mut self, lo: i64, end: i128, span: Span) -> R<Value> {
        let length = (end - i128::from(lo)).max(0);
        if length > self.limits.list_length as i128 {
            let limit = self.limits.list_length;
            return self.fail(
                Diagnostic::error(
                    "limit::list-length",
                    span,
                    format!("this range has {length} elements, more than {limit}"),
                )
                .with_help("use a smaller range"),
            );
        }
        self.allocate(length as u64, span)?;
        self.charge(length as u64, span)?;
        Ok(Value::List(Rc::new(
            (0..length as i64).map(|i| Value::Int(lo + i)).collect(),
        )))
    }

    fn eval_string(&mut self, parts: &[StrPart], span: Span) -> R<Value> {
        if let [StrPart::Lit(text)] = parts {
            return Ok(Value::Str(text.as_str().into()));
        }
        let mut out = String::new();
        for part in parts {
            match part {
                StrPart::Lit(text) => out.push_str(text),
                StrPart::Interp(expr) => match self.eval(expr)? {
                    Value::Str(s) => out.push_str(&s),
                    Value::Secret(_) => {
                        return self.fail(
                            Diagnostic::error(
                                "type::mismatch",
                                expr.span,
                                "a secret cannot be interpolated",
                            )
                            .with_help("pass the secret to a secret-typed field"),
                        )
                    }
                    other => out.push_str(&other.to_string()),
                },
            }
            self.string_size(out.len(), span)?;
        }
        self.charge(out.len() as u64 / 8, span)?;
        Ok(Value::Str(out.into()))
    }

    /// A record literal: fields in source order, each with the span of its value.
    pub(crate) fn record_literal(&mut self, fields: &[FieldInit]) -> R<Value> {
        let mut out = Vec::with_capacity(fields.len());
        for field in fields {
            let value = self.eval(&field.value)?;
            out.push(Field {
                name: field.name.name.clone(),
                value,
                span: field.value.span,
                from_default: false,
            });
        }
        Ok(Value::Record(Rc::new(Record {
            fields: out,
            entity: None,
        })))
    }

    fn local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    fn is_kind_name(&self, name: &str) -> bool {
        self.local(name).is_none()
            && ModuleScope::lookup_value(&self.env.modules, self.module, name).is_none()
            && self.env.kind(name).is_some()
    }

    fn eval_name(&mut self, ident: &Ident) -> R<Value> {
        if let Some(value) = self.local(&ident.name) {
            return Ok(value.clone());
        }
        match ModuleScope::lookup_value(&self.env.modules, self.module, &ident.name) {
            Some(Global::Let(m, i)) => self.force_let(m, i, ident.span),
            Some(Global::Fn(..)) => Err(Stop),
            None => match self.env.kind(&ident.name) {
                Some(kind) if kind.single => {
                    let kind = kind.name.clone();
                    self.singleton(&kind, ident.span)
                }
                _ => Err(Stop), // reported by the checker
            },
        }
    }

    fn namespace(&self, expr: &Expr) -> Option<usize> {
        match &expr.kind {
            ExprKind::Name(ns) if self.local(&ns.name).is_none() => self.env.modules[self.module]
                .namespaces
                .get(&ns.name)
                .copied(),
            _ => None,
        }
    }

    fn eval_field(&mut self, base: &Expr, field: &Ident) -> R<Value> {
        if let ExprKind::Name(base_name) = &base.kind {
            if self.is_kind_name(&base_name.name) {
                let kind = self.env.kind(&base_name.name).expect("kind");
                if !kind.single {
                    let kind = kind.name.clone();
                    return self.lookup_entity(&kind, &field.name, field.span);
                }
            }
        }
        if let Some(target) = self.namespace(base) {
            return match self.env.modules[target].values.get(&field.name).copied() {
                Some(Global::Let(m, i)) => self.force_let(m, i, field.span),
                _ => Err(Stop),
            };
        }
        let value = self.eval(base)?;
        self.field_of(value, field, base.span)
    }

    fn field_of(&mut self, value: Value, field: &Ident, base_span: Span) -> R<Value> {
        match value {
            Value::Record(record) => match record.get(&field.name) {
                Some(v) => Ok(v.clone()),
                None => self.fail(
                    Diagnostic::error(
                        "value::missing-field",
                        field.span,
                        format!("this record has no field `{}`", field.name),
                    )
                    .with_help("check the field name"),
                ),
            },
            Value::Cidr(cidr) => match &*field.name {
                "prefix" => Ok(Value::Int(i64::from(cidr.prefix))),
                "size" => match i64::try_from(cidr.size()) {
                    Ok(n) => Ok(Value::Int(n)),
                    Err(_) => self.fail(
                        Diagnostic::error(
                            "value::overflow",
                            field.span,
                            format!("{cidr} has more addresses than an int holds"),
                        )
                        .with_help("`.size` is for IPv4 and small IPv6 subnets"),
                    ),
                },
                "network" => Ok(Value::Ip(cidr.addr)),
                "netmask" => match cidr.netmask_v4() {
                    Some(mask) => Ok(Value::Ip(mask.into())),
                    None => self.fail(
                        Diagnostic::error(
                            "value::ipv6",
                            field.span,
                            "IPv6 subnets have no netmask",
                        )
                        .with_help("use `.prefix`"),
                    ),
                },
                _ => Err(Stop),
            },
            Value::None => self.fail(
                Diagnostic::error(
                    "value::none",
                    base_span,
                    format!("this value is none, so it has no field `{}`", field.name),
                )
                .with_help("check for none first: `if x == none then ... else x.field`"),
            ),
            _ => Err(Stop),
        }
    }

    fn eval_index(&mut self, base: &Expr, index: &Expr) -> R<Value> {
        if let ExprKind::Name(base_name) = &base.kind {
            if self.is_kind_name(&base_name.name) {
                let kind = self.env.kind(&base_name.name).expect("kind").name.clone();
                let name = match self.eval(index)? {
                    Value::Str(s) => s,
                    _ => return Err(Stop),
                };
                return self.lookup_entity(&kind, &name, index.span);
            }
        }
        let container = self.eval(base)?;
        let key = self.eval(index)?;
        match (container, key) {
            (Value::List(items), Value::Int(i)) => {
                match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                    Some(v) => Ok(v.clone()),
                    None => {
                        let len = items.len();
                        self.fail(
                            Diagnostic::error(
                                "value::out-of-range",
                                index.span,
                                format!("index {i} is out of range for a list of {len}"),
                            )
                            .with_help(format!("indexes go from 0 to {}", len.saturating_sub(1))),
                        )
                    }
                }
            }
            (Value::Record(record), Value::Str(key)) => match record.get(&key) {
                Some(v) => Ok(v.clone()),
                None => {
                    let keys: Vec<&str> = record.fields.iter().map(|f| &*f.name).collect();
                    let help = match crate::diagnostic::did_you_mean(&key, keys.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the keys are: {}", keys.join(", ")),
                    };
                    self.fail(
                        Diagnostic::error(
                            "value::missing-key",
                            index.span,
                            format!("no key `{key}`"),
                        )
                        .with_help(help),
                    )
                }
            },
            (Value::None, _) => self.fail(
                Diagnostic::error("value::none", base.span, "this value is none")
                    .with_help("check for none first"),
            ),
            _ => Err(Stop),
        }
    }

    fn eval_call(&mut self, name: &Ident, args: &[Expr], span: Span) -> R<Value> {
        if self.local(&name.name).is_none() {
            if let Some(Global::Fn(m, i)) =
                ModuleScope::lookup_value(&self.env.modules, self.module, &name.name)
            {
                return self.call_fn(m, i, args, span);
            }
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(arg)?);
        }
        self.builtin(&name.name, values, span)
    }

    fn call_fn(&mut self, module: usize, index: usize, args: &[Expr], span: Span) -> R<Value> {
        let item = &self.loaded.modules[module].ast.items[index];
        let ItemKind::Fn {
            params, ret, body, ..
        } = &item.kind
        else {
            return Err(Stop);
        };
        let mut locals: Vec<(Name, Value)> = Vec::with_capacity(params.len());
        for (param, arg) in params.iter().zip(args) {
            let value = self.eval(arg)?;
            let ty = self
                .env
                .type_exprs
                .get(&param.ty.span)
                .cloned()
                .unwrap_or(Type::Error);
            let value = self.coerce(value, &ty, arg.span, 0)?;
            locals.push((param.name.name.clone(), value));
        }
        let ret_type = self
            .env
            .type_exprs
            .get(&ret.span)
            .cloned()
            .unwrap_or(Type::Error);
        self.deeper(span, |ev| {
            ev.in_scope(module, locals, |ev| {
                let value = ev.eval(body)?;
                ev.coerce(value, &ret_type, body.span, 0)
            })
        })
    }

    fn eval_method(
        &mut self,
        receiver: &Expr,
        name: &Ident,
        args: &[Expr],
        span: Span,
    ) -> R<Value> {
        if let Some(target) = self.namespace(receiver) {
            return match self.env.modules[target].values.get(&name.name).copied() {
                Some(Global::Fn(m, i)) => self.call_fn(m, i, args, span),
                _ => Err(Stop),
            };
        }
        let value = self.eval(receiver)?;
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(self.eval(arg)?);
        }
        self.method(value, &name.name, values, span, receiver.span)
    }

    fn eval_with(&mut self, base: &Expr, fields: &[FieldInit], span: Span) -> R<Value> {
        let Value::Record(record) = self.eval(base)? else {
            return self.fail(
                Diagnostic::error("value::none", base.span, "`with` needs a record")
                    .with_help("check for none first"),
            );
        };
        let mut out: Vec<Field> = record.fields.clone();
        for field in fields {
            let value = self.eval(&field.value)?;
            let new = Field {
                name: field.name.name.clone(),
                value,
                span: field.value.span,
                from_default: false,
            };
            match out.iter_mut().find(|f| f.name == field.name.name) {
                Some(slot) => *slot = new,
                None => out.push(new),
            }
        }
        let value = Value::Record(Rc::new(Record {
            fields: out,
            entity: None,
        }));
        let ty = self
            .env
            .with_types
            .get(&span)
            .cloned()
            .unwrap_or(Type::Error);
        self.coerce(value, &ty, span, 0)
    }
}

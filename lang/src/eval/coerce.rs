//! Coercion of values to declared types: fills in defaults (evaluated with the earlier
//! fields in scope), checks refinements (`int(1..=20)`) and union membership, orders record
//! fields as declared, and requires entity references where a kind type is nested.

use std::rc::Rc;

use super::{Evaluator, R};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::types::ty::{identity, RecordType};
use crate::types::Type;
use crate::value::{Field, Name, Record, Value};

/// A shared value coerced to a type. Values share their parts (a record of two fields that
/// both hold the previous record, forty times over, is 2^40 records walked as a tree), so a
/// list or record held elsewhere too is coerced once per type: the answer is kept under the
/// identity of the value and of the type, and under the answer's own identity (coercing a
/// coerced value again gives it back). Holding the value and the type keeps their addresses
/// from being reused while the answer is kept.
pub(crate) struct Coerced {
    _value: Value,
    _ty: Type,
    answer: Value,
}

/// The contents of `rc`: moved out when nothing else holds it, else a copy (whose parts are
/// then shared).
fn owned<T: Clone>(rc: Rc<T>) -> T {
    Rc::try_unwrap(rc).unwrap_or_else(|rc| (*rc).clone())
}

/// The key of a list or record that is shared (held elsewhere too) coerced to `ty`.
fn shared_key(value: &Value, ty: &Type) -> Option<(usize, usize)> {
    let value = match value {
        Value::List(items) if Rc::strong_count(items) > 1 => {
            Rc::as_ptr(items) as *const u8 as usize
        }
        Value::Record(record) if Rc::strong_count(record) > 1 => Rc::as_ptr(record) as usize,
        _ => return None,
    };
    Some((value, identity(ty)?))
}

impl Evaluator<'_> {
    /// `value` as `ty`, from the answers kept for shared values, or made by `make` (and then
    /// kept, when the value is shared).
    fn coerce_shared(
        &mut self,
        value: Value,
        ty: &Type,
        make: impl FnOnce(&mut Self, Value) -> R<Value>,
    ) -> R<Value> {
        let Some(key) = shared_key(&value, ty) else {
            return make(self, value);
        };
        if let Some(known) = self.coerced.get(&key) {
            return Ok(known.answer.clone());
        }
        let answer = make(self, value.clone())?;
        if let Some(again) = shared_key(&answer, ty).or_else(|| {
            // A fresh answer is held only here: key it all the same.
            let id = match &answer {
                Value::List(items) => Rc::as_ptr(items) as *const u8 as usize,
                Value::Record(record) => Rc::as_ptr(record) as usize,
                _ => return None,
            };
            Some((id, identity(ty)?))
        }) {
            if again != key {
                self.coerced.insert(
                    again,
                    Coerced {
                        _value: answer.clone(),
                        _ty: ty.clone(),
                        answer: answer.clone(),
                    },
                );
            }
        }
        self.coerced.insert(
            key,
            Coerced {
                _value: value,
                _ty: ty.clone(),
                answer: answer.clone(),
            },
        );
        Ok(answer)
    }

    /// `value` as a value of type `ty`. `depth` is 0 for the value itself and grows inside
    /// records and lists: a kind type below depth 0 must hold a declared entity.
    pub(crate) fn coerce(&mut self, value: Value, ty: &Type, span: Span, depth: u32) -> R<Value> {
        if !ty.needs_coercion() {
            return Ok(value);
        }
        match (ty, value) {
            (Type::IntRange(lo, hi), Value::Int(i)) => {
                if i < *lo || i > *hi {
                    let shown = Type::IntRange(*lo, *hi);
                    return self.fail(
                        Diagnostic::error(
                            "value::out-of-range",
                            span,
                            format!("{i} is outside {shown}"),
                        )
                        .with_label(format!("must be between {lo} and {hi}"))
                        .with_help(format!("give a value from {lo} to {hi}")),
                    );
                }
                Ok(Value::Int(i))
            }
            (Type::Optional(_), Value::None) => Ok(Value::None),
            (Type::Optional(inner), value) => self.coerce(value, inner, span, depth),
            (Type::List(element), value @ Value::List(_)) => {
                self.coerce_shared(value, ty, |ev, value| {
                    let Value::List(items) = value else {
                        return Ok(value);
                    };
                    let items = owned(items);
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(ev.coerce(item, element, span, depth + 1)?);
                    }
                    Ok(Value::List(Rc::new(out)))
                })
            }
            (Type::Map(element), value @ Value::Record(_)) => {
                self.coerce_shared(value, ty, |ev, value| {
                    let Value::Record(record) = value else {
                        return Ok(value);
                    };
                    let record = owned(record);
                    let mut fields = Vec::with_capacity(record.fields.len());
                    for field in record.fields {
                        let value = ev.coerce(field.value, element, field.span, depth + 1)?;
                        fields.push(Field { value, ..field });
                    }
                    Ok(Value::Record(Rc::new(Record {
                        fields,
                        entity: None,
                    })))
                })
            }
            (Type::Union(members), value) => {
                let member = members.iter().find(|m| matches_shape(&value, m)).cloned();
                match member {
                    Some(member) => self.coerce(value, &member, span, depth),
                    None => {
                        let shown = Type::Union(members.clone());
                        self.fail(
                            Diagnostic::error(
                                "value::not-in-union",
                                span,
                                format!("{value} is not one of {shown}"),
                            )
                            .with_help(format!("give one of: {shown}")),
                        )
                    }
                }
            }
            (Type::Record(record_type), Value::Record(record)) => {
                self.coerce_record(record_type, record, span, depth)
            }
            (_, value) => Ok(value),
        }
    }

    fn coerce_record(
        &mut self,
        ty: &Rc<RecordType>,
        record: Rc<Record>,
        span: Span,
        depth: u32,
    ) -> R<Value> {
        if let Some(entity) = &record.entity {
            if let Some(kind) = &ty.kind {
                if &entity.kind != kind {
                    return self.fail(
                        Diagnostic::error(
                            "type::mismatch",
                            span,
                            format!("expected a {kind}, found {entity}"),
                        )
                        .with_help(format!("refer to a declared {kind}")),
                    );
                }
            }
            return Ok(Value::Record(record));
        }
        if let (Some(kind), true) = (&ty.kind, depth > 0) {
            return self.fail(
                Diagnostic::error("type::not-a-reference", span, format!("expected a reference to a declared {kind}, found a record"))
                    .with_label("an anonymous record")
                    .with_help(format!("declare the {kind} with `{kind} NAME {{ ... }}` and refer to it as `{kind}.NAME`")),
            );
        }
        // What is checked above depends on where the record is; what follows only on the
        // record and its type, so the answer is kept for a shared record.
        let as_type = Type::Record(ty.clone());
        self.coerce_shared(Value::Record(record), &as_type, |ev, value| {
            let Value::Record(record) = value else {
                return Ok(value);
            };
            ev.coerce_fields(ty, owned(record), span, depth)
        })
    }

    /// The fields of `record` as those of `ty` (see [`Evaluator::coerce_record`]).
    fn coerce_fields(
        &mut self,
        ty: &Rc<RecordType>,
        record: Record,
        span: Span,
        depth: u32,
    ) -> R<Value> {
        let mut fields: Vec<Field> = Vec::with_capacity(ty.fields.len());
        let mut scope: Vec<(Name, Value)> = Vec::new();
        // The given fields are moved out as they are used: a part held by nothing else stays
        // unshared (see `Coerced`).
        let mut given: Vec<Option<Field>> = record.fields.into_iter().map(Some).collect();
        for field_type in &ty.fields {
            let found = given
                .iter_mut()
                .find(|f| f.as_ref().is_some_and(|f| f.name == field_type.name))
                .and_then(Option::take);
            let field = match found {
                Some(given) => {
                    let value = self.coerce(given.value, &field_type.ty, given.span, depth + 1)?;
                    Field { value, ..given }
                }
                None => match &field_type.default {
                    Some(default) => {
                        let value =
                            self.in_lent_scope(ty.module, &mut scope, |ev| ev.eval(default))?;
                        let value = self.coerce(value, &field_type.ty, default.span, depth + 1)?;
                        Field {
                            name: field_type.name.clone(),
                            value,
                            span: default.span,
                            from_default: true,
                        }
                    }
                    None => {
                        let what = ty
                            .name
                            .as_ref()
                            .map_or("this record".to_string(), |n| n.to_string());
                        return self.fail(
                            Diagnostic::error(
                                "type::missing-field",
                                span,
                                format!("missing field `{}` of {what}", field_type.name),
                            )
                            .with_help(format!("add `{}`", field_type.name)),
                        );
                    }
                },
            };
            scope.push((field.name.clone(), field.value.clone()));
            fields.push(field);
        }
        if let Some(extra) = given.iter().flatten().find(|f| ty.field(&f.name).is_none()) {
            let what = ty
                .name
                .as_ref()
                .map_or("this record".to_string(), |n| n.to_string());
            return self.fail(
                Diagnostic::error(
                    "type::unknown-field",
                    extra.span,
                    format!("{what} has no field `{}`", extra.name),
                )
                .with_help("remove the field"),
            );
        }
        Ok(Value::Record(Rc::new(Record {
            fields,
            entity: None,
        })))
    }
}

/// Does `value` have the shape of `ty` (used to pick a union member)?
fn matches_shape(value: &Value, ty: &Type) -> bool {
    match (value, ty) {
        (_, Type::Error | Type::Json) => true,
        (Value::None, Type::None | Type::Optional(_)) => true,
        (_, Type::Optional(inner)) => matches_shape(value, inner),
        (Value::Str(s), Type::StrLit(lit)) => **s == **lit,
        (Value::Str(_), Type::Str) => true,
        (Value::Int(_), Type::Int) => true,
        (Value::Int(i), Type::IntRange(lo, hi)) => i >= lo && i <= hi,
        (Value::Bool(_), Type::Bool) => true,
        (Value::Size(_), Type::Size) => true,
        (Value::Duration(_), Type::Duration) => true,
        (Value::Ip(_), Type::Ip) => true,
        (Value::Cidr(_), Type::Cidr) => true,
        (Value::Mac(_), Type::Mac) => true,
        (Value::Secret(_), Type::Secret) => true,
        (Value::List(_), Type::List(_)) => true,
        (Value::Record(r), Type::Record(t)) => match (&r.entity, &t.kind) {
            (Some(entity), Some(kind)) => &entity.kind == kind,
            (Some(_), None) | (None, Some(_)) => false,
            (None, None) => r.fields.iter().all(|f| t.field(&f.name).is_some()),
        },
        (Value::Record(r), Type::Map(_)) => r.entity.is_none(),
        (_, Type::Union(members)) => members.iter().any(|m| matches_shape(value, m)),
        _ => false,
    }
}

//! Operators, builtin functions and methods, with checked arithmetic.

use std::cmp::Ordering;
use std::rc::Rc;

use super::{Evaluator, Stop, R};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Expr, UnOp};
use crate::value::{ip_to_u128, Value};

/// Structural equality, ignoring spans; entities are equal when they are the same entity.
/// Counts the values it visits in `visited` and gives up (false) once they exceed `budget`:
/// the caller charges them as evaluation steps, so comparing huge values hits `limit::steps`.
fn equal_counted(a: &Value, b: &Value, visited: &mut u64, budget: u64) -> bool {
    *visited += 1;
    if *visited > budget {
        return false;
    }
    match (a, b) {
        (Value::Record(x), Value::Record(y)) => {
            if let (Some(i), Some(j)) = (&x.entity, &y.entity) {
                return i == j;
            }
            x.entity.is_none() == y.entity.is_none()
                && x.fields.len() == y.fields.len()
                && x.fields.iter().all(|f| {
                    y.get(&f.name)
                        .is_some_and(|v| equal_counted(&f.value, v, visited, budget))
                })
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(a, b)| equal_counted(a, b, visited, budget))
        }
        (Value::Str(x), Value::Str(y)) => {
            *visited += (x.len().min(y.len()) / 8) as u64;
            x == y
        }
        _ => a == b,
    }
}

fn ordering(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y))
        | (Value::Size(x), Value::Size(y))
        | (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Ip(x), Value::Ip(y)) if x.is_ipv4() == y.is_ipv4() => {
            Some(ip_to_u128(*x).cmp(&ip_to_u128(*y)))
        }
        _ => None,
    }
}

impl Evaluator<'_> {
    fn overflow<T>(&mut self, span: Span) -> R<T> {
        self.fail(
            Diagnostic::error("value::overflow", span, "arithmetic overflow")
                .with_help("integers, sizes and durations are 64-bit; the result does not fit"),
        )
    }

    pub(crate) fn unary(&mut self, op: UnOp, value: Value, span: Span) -> R<Value> {
        match (op, value) {
            (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            (UnOp::Neg, Value::Int(i)) => i
                .checked_neg()
                .map(Value::Int)
                .map_or_else(|| self.overflow(span), Ok),
            (UnOp::Neg, Value::Size(i)) => i
                .checked_neg()
                .map(Value::Size)
                .map_or_else(|| self.overflow(span), Ok),
            (UnOp::Neg, Value::Duration(i)) => i
                .checked_neg()
                .map(Value::Duration)
                .map_or_else(|| self.overflow(span), Ok),
            _ => Err(Stop),
        }
    }

    pub(crate) fn eval_binary(
        &mut self,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        span: Span,
    ) -> R<Value> {
        // `&&` and `||` short-circuit.
        if op == BinOp::And || op == BinOp::Or {
            let l = self.eval(left)?;
            if (op == BinOp::And && l == Value::Bool(false))
                || (op == BinOp::Or && l == Value::Bool(true))
            {
                return Ok(l);
            }
            return self.eval(right);
        }
        let l = self.eval(left)?;
        let r = self.eval(right)?;
        self.binary(op, l, r, span, right.span)
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value, span: Span, right_span: Span) -> R<Value> {
        use Value::*;
        let checked = |v: Option<i64>| v.ok_or(());
        let result: Result<Value, ()> = match (op, &l, &r) {
            (BinOp::Eq | BinOp::Ne, _, _) => {
                let mut visited = 0;
                let equal = equal_counted(&l, &r, &mut visited, self.steps_left());
                self.charge(visited, span)?;
                Ok(Bool(equal == (op == BinOp::Eq)))
            }
            (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, _, _) => {
                let Some(order) = ordering(&l, &r) else {
                    return self.fail(
                        Diagnostic::error(
                            "value::incomparable",
                            span,
                            format!("cannot compare {l} with {r}"),
                        )
                        .with_help("addresses of different families are not ordered"),
                    );
                };
                Ok(Bool(match op {
                    BinOp::Lt => order == Ordering::Less,
                    BinOp::Le => order != Ordering::Greater,
                    BinOp::Gt => order == Ordering::Greater,
                    _ => order != Ordering::Less,
                }))
            }
            (BinOp::Add, Int(a), Int(b)) => checked(a.checked_add(*b)).map(Int),
            (BinOp::Add, Size(a), Size(b)) => checked(a.checked_add(*b)).map(Size),
            (BinOp::Add, Duration(a), Duration(b)) => checked(a.checked_add(*b)).map(Duration),
            (BinOp::Add, Str(a), Str(b)) => {
                self.charge((a.len() + b.len()) as u64 / 8, span)?;
                self.string_size(a.len() + b.len(), span)?;
                Ok(Str(format!("{a}{b}").into()))
            }
            (BinOp::Add, List(a), List(b)) => {
                self.charge((a.len() + b.len()) as u64, span)?;
                if a.len() + b.len() > self.limits.list_length {
                    let limit = self.limits.list_length;
                    return self.fail(
                        Diagnostic::error(
                            "limit::list-length",
                            span,
                            format!("this list is longer than {limit} elements"),
                        )
                        .with_help("build smaller lists"),
                    );
                }
                self.allocate((a.len() + b.len()) as u64, span)?;
                Ok(List(Rc::new(a.iter().chain(b.iter()).cloned().collect())))
            }
            (BinOp::Sub, Int(a), Int(b)) => checked(a.checked_sub(*b)).map(Int),
            (BinOp::Sub, Size(a), Size(b)) => checked(a.checked_sub(*b)).map(Size),
            (BinOp::Sub, Duration(a), Duration(b)) => checked(a.checked_sub(*b)).map(Duration),
            (BinOp::Mul, Int(a), Int(b)) => checked(a.checked_mul(*b)).map(Int),
            (BinOp::Mul, Size(a), Int(b)) | (BinOp::Mul, Int(b), Size(a)) => {
                checked(a.checked_mul(*b)).map(Size)
            }
            (BinOp::Mul, Duration(a), Int(b)) | (BinOp::Mul, Int(b), Duration(a)) => {
                checked(a.checked_mul(*b)).map(Duration)
            }
            (BinOp::Div | BinOp::Rem, _, Int(0) | Size(0) | Duration(0)) => {
                return self.fail(
                    Diagnostic::error("value::division-by-zero", right_span, "division by zero")
                        .with_help("the divisor must not be zero"),
                )
            }
            (BinOp::Div, Int(a), Int(b)) => checked(a.checked_div(*b)).map(Int),
            (BinOp::Div, Size(a), Int(b)) => checked(a.checked_div(*b)).map(Size),
            (BinOp::Div, Duration(a), Int(b)) => checked(a.checked_div(*b)).map(Duration),
            (BinOp::Div, Size(a), Size(b)) | (BinOp::Div, Duration(a), Duration(b)) => {
                checked(a.checked_div(*b)).map(Int)
            }
            (BinOp::Rem, Int(a), Int(b)) => checked(a.checked_rem(*b)).map(Int),
            _ => return Err(Stop),
        };
        match result {
            Ok(v) => Ok(v),
            Err(()) => self.overflow(span),
        }
    }

    pub(crate) fn builtin(&mut self, name: &str, args: Vec<Value>, span: Span) -> R<Value> {
        match (name, args.as_slice()) {
            ("range", [Value::Int(lo), Value::Int(hi)]) => self.range(*lo, i128::from(*hi), span),
            ("join", [Value::List(items), Value::Str(sep)]) => {
                self.charge(items.len() as u64, span)?;
                let parts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                Ok(Value::Str(parts.join(sep).into()))
            }
            ("secret", [Value::Str(name)]) => {
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
                if !valid {
                    return self.fail(
                        Diagnostic::error(
                            "value::secret-name",
                            span,
                            format!("`{name}` is not a valid secret name"),
                        )
                        .with_help("secret names use letters, digits and `-_./`"),
                    );
                }
                Ok(Value::Secret(name.clone()))
            }
            _ => Err(Stop),
        }
    }

    pub(crate) fn method(
        &mut self,
        receiver: Value,
        name: &str,
        args: Vec<Value>,
        span: Span,
        receiver_span: Span,
    ) -> R<Value> {
        use Value::*;
        match (&receiver, name, args.as_slice()) {
            (None, _, _) => self.fail(
                Diagnostic::error(
                    "value::none",
                    receiver_span,
                    format!("this value is none, so `.{name}()` cannot apply"),
                )
                .with_help("check for none first"),
            ),
            (Cidr(cidr), "host", [Int(n)]) => {
                match u128::try_from(*n).ok().and_then(|n| cidr.host(n)) {
                    Some(ip) => Ok(Ip(ip)),
                    Option::None => self.fail(
                        Diagnostic::error(
                            "value::out-of-range",
                            span,
                            format!("{cidr} has no host number {n}"),
                        )
                        .with_help(format!(
                            "host numbers of {cidr} go from 0 to {}",
                            cidr.size().saturating_sub(1)
                        )),
                    ),
                }
            }
            (Cidr(cidr), "contains", [Ip(ip)]) => Ok(Bool(cidr.contains(*ip))),
            (Cidr(cidr), "subnet", [Int(prefix), Int(index)]) => {
                let result = u8::try_from(*prefix)
                    .ok()
                    .zip(u128::try_from(*index).ok())
                    .and_then(|(p, i)| cidr.subnet(p, i));
                match result {
                    Some(subnet) => Ok(Cidr(subnet)),
                    Option::None => self.fail(
                        Diagnostic::error("value::invalid-subnet", span, format!("{cidr} has no /{prefix} subnet number {index}"))
                            .with_help(format!("the prefix must be between {} and {}, and the index below 2^(prefix - {})", cidr.prefix, cidr.bits(), cidr.prefix)),
                    ),
                }
            }
            (List(items), "len", []) => Ok(Int(items.len() as i64)),
            (List(items), "contains", [x]) => {
                let mut visited = 0;
                let budget = self.steps_left();
                let found = items
                    .iter()
                    .any(|i| equal_counted(i, x, &mut visited, budget));
                self.charge(visited, span)?;
                Ok(Bool(found))
            }
            (Record(r), "len", []) => Ok(Int(r.fields.len() as i64)),
            (Record(r), "keys", []) => Ok(List(Rc::new(
                r.fields.iter().map(|f| Str(Rc::from(&*f.name))).collect(),
            ))),
            (Record(r), "values", []) => Ok(List(Rc::new(
                r.fields.iter().map(|f| f.value.clone()).collect(),
            ))),
            (Record(r), "contains", [Str(key)]) => Ok(Bool(r.get(key).is_some())),
            (Str(s), "len", []) => Ok(Int(s.chars().count() as i64)),
            (Str(s), "contains", [Str(x)]) => Ok(Bool(s.contains(&**x))),
            (Str(s), "starts_with", [Str(x)]) => Ok(Bool(s.starts_with(&**x))),
            (Str(s), "ends_with", [Str(x)]) => Ok(Bool(s.ends_with(&**x))),
            (Str(s), "lower", []) => Ok(Str(s.to_lowercase().into())),
            (Str(s), "upper", []) => Ok(Str(s.to_uppercase().into())),
            _ => Err(Stop),
        }
    }
}

//! Names and types: resolves every name and checks every expression's type before anything
//! is evaluated. All independent errors are collected; an expression with an error gets
//! [`Type::Error`], which is compatible with everything, so one mistake is reported once.
//!
//! The result, [`Env`], is what evaluation needs from this phase: the kinds, each module's
//! scope, and the resolved type of every type expression and `with` base.

mod checker;
mod scope;
pub mod ty;

use std::collections::BTreeMap;
use std::rc::Rc;

pub use checker::check;
pub use scope::{Global, ModuleScope};
pub use ty::{assignable, RecordType, Type};

use crate::span::Span;
use crate::value::Name;

/// An entity kind declared in the prelude (`kind vm: Vm`).
#[derive(Clone, Debug)]
pub struct Kind {
    /// `vm`.
    pub name: Name,
    /// Its record type.
    pub ty: Rc<RecordType>,
    /// Exactly one, without a name (`site`).
    pub single: bool,
    /// The kind's documentation.
    pub doc: Option<String>,
}

/// What type checking hands to evaluation.
#[derive(Debug, Default)]
pub struct Env {
    /// Entity kinds by name, in prelude order.
    pub kinds: Vec<Kind>,
    /// The scope of each module (same indexes as `Loaded::modules`).
    pub modules: Vec<ModuleScope>,
    /// The resolved type of every checked type expression, by its span.
    pub type_exprs: BTreeMap<Span, Type>,
    /// The record type of each `with` expression's base, by the `with` expression's span.
    pub with_types: BTreeMap<Span, Type>,
    /// Named types declared in each module, resolved.
    pub named_types: BTreeMap<(usize, Name), Type>,
}

impl Env {
    /// The kind called `name`.
    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| &*k.name == name)
    }
}

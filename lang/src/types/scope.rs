//! Module scopes: what a name means in a module. Shared by type checking and evaluation so
//! that both resolve names the same way.

use std::collections::BTreeMap;

use crate::load::Loaded;
use crate::syntax::ast::ItemKind;
use crate::value::Name;

/// A global declaration: module index and item index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Global {
    /// A `let`.
    Let(usize, usize),
    /// A `fn`.
    Fn(usize, usize),
}

/// The declarations of one module and what it imports.
#[derive(Clone, Debug, Default)]
pub struct ModuleScope {
    /// `let`s and `fn`s declared here.
    pub values: BTreeMap<Name, Global>,
    /// `type`s declared here (item index).
    pub types: BTreeMap<Name, usize>,
    /// Namespaced imports: alias to module.
    pub namespaces: BTreeMap<Name, usize>,
    /// Plainly imported modules, in import order.
    pub imports: Vec<usize>,
}

/// Builds each module's scope. Duplicate declarations are reported by the checker.
pub fn scopes(loaded: &Loaded) -> Vec<ModuleScope> {
    loaded
        .modules
        .iter()
        .enumerate()
        .map(|(index, module)| {
            let mut scope = ModuleScope::default();
            for (item_index, item) in module.ast.items.iter().enumerate() {
                match &item.kind {
                    ItemKind::Let { name, .. } => {
                        scope
                            .values
                            .entry(name.name.clone())
                            .or_insert(Global::Let(index, item_index));
                    }
                    ItemKind::Fn { name, .. } => {
                        scope
                            .values
                            .entry(name.name.clone())
                            .or_insert(Global::Fn(index, item_index));
                    }
                    ItemKind::Type { name, .. } => {
                        scope.types.entry(name.name.clone()).or_insert(item_index);
                    }
                    _ => {}
                }
            }
            for import in &module.imports {
                match &import.alias {
                    Some(alias) => {
                        scope.namespaces.insert(alias.name.clone(), import.module);
                    }
                    None => scope.imports.push(import.module),
                }
            }
            scope
        })
        .collect()
}

impl ModuleScope {
    /// Looks `name` up: this module, then plain imports, then the prelude (module 0).
    pub fn lookup_value(scopes: &[ModuleScope], module: usize, name: &str) -> Option<Global> {
        let scope = &scopes[module];
        scope
            .values
            .get(name)
            .copied()
            .or_else(|| {
                scope
                    .imports
                    .iter()
                    .find_map(|m| scopes[*m].values.get(name).copied())
            })
            .or_else(|| scopes[0].values.get(name).copied())
    }

    /// Looks a type name up the same way; returns (module, item index).
    pub fn lookup_type(
        scopes: &[ModuleScope],
        module: usize,
        name: &str,
    ) -> Option<(usize, usize)> {
        let scope = &scopes[module];
        scope
            .types
            .get(name)
            .map(|i| (module, *i))
            .or_else(|| {
                scope
                    .imports
                    .iter()
                    .find_map(|m| scopes[*m].types.get(name).map(|i| (*m, *i)))
            })
            .or_else(|| scopes[0].types.get(name).map(|i| (0, *i)))
    }

    /// Every value name visible in `module` (for "did you mean").
    pub fn visible_values(scopes: &[ModuleScope], module: usize) -> Vec<Name> {
        let scope = &scopes[module];
        let mut names: Vec<Name> = scope.values.keys().cloned().collect();
        for m in scope.imports.iter().chain(std::iter::once(&0)) {
            names.extend(scopes[*m].values.keys().cloned());
        }
        names
    }
}

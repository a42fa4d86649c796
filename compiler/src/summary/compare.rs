//! How two summaries differ: the changes, objects and fields in sorted order, each with its
//! apply impact.

use std::fmt;

use super::impact::{added_or_removed, impact, Impact};
use super::Summary;

/// One difference between two summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new object.
    Added(String),
    /// An object that is gone.
    Removed(String),
    /// A field of an object: old and new value (`None` when absent on that side).
    Field {
        /// The object (`vm cp-1`).
        object: String,
        /// The field (`memory`).
        field: String,
        /// The previous value.
        old: Option<String>,
        /// The new value.
        new: Option<String>,
    },
}

impl Change {
    /// What applying this change does.
    pub fn impact(&self) -> Impact {
        match self {
            Change::Added(object) => added_or_removed(kind_of(object), Impact::Create),
            Change::Removed(object) => added_or_removed(kind_of(object), Impact::Destroy),
            Change::Field { object, field, .. } => impact(kind_of(object), field),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added(object) => write!(f, "{object}: added"),
            Change::Removed(object) => write!(f, "{object}: removed"),
            Change::Field {
                object,
                field,
                old,
                new,
            } => {
                let shown = |v: &Option<String>| match v.as_deref() {
                    None => "(none)".to_string(),
                    Some("") => "\"\"".to_string(),
                    Some(text) => text.to_string(),
                };
                let (old, new) = (shown(old), shown(new));
                if old.len() + new.len() > 80 || old.contains('\n') || new.contains('\n') {
                    write!(f, "{object}: {field} changed")
                } else {
                    write!(f, "{object}: {field} {old} -> {new}")
                }
            }
        }
    }
}

/// The differences from `old` to `new`, objects and fields in sorted order.
pub fn compare(old: &Summary, new: &Summary) -> Vec<Change> {
    let mut changes = Vec::new();
    let objects: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for object in objects {
        match (old.get(object), new.get(object)) {
            (None, Some(_)) => changes.push(Change::Added(object.clone())),
            (Some(_), None) => changes.push(Change::Removed(object.clone())),
            (Some(before), Some(after)) => {
                let fields: std::collections::BTreeSet<&String> =
                    before.keys().chain(after.keys()).collect();
                for field in fields {
                    let (old, new) = (before.get(field), after.get(field));
                    if old != new {
                        changes.push(Change::Field {
                            object: object.clone(),
                            field: field.clone(),
                            old: old.cloned(),
                            new: new.cloned(),
                        });
                    }
                }
            }
            (None, None) => {}
        }
    }
    changes
}

fn kind_of(object: &str) -> &str {
    object.split(' ').next().unwrap_or(object)
}

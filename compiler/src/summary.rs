//! The model summary: every platform object as a flat, sorted list of fields in the operator's
//! words (`vm cp-1` → `memory = 8GiB`), what `plat diff` compares between two builds.
//!
//! `plat build` writes it to `out/plat.model.json` (an owned file, listed in `plat.lock`), so
//! that `plat diff` knows the previous state without parsing generated files back. It is
//! derived from the model only, so it is as deterministic as the rest of out/: objects and
//! fields sorted by name, every value a string.
//!
//! By concern: [`summarize`] reads the model into objects (`objects.rs`); [`text`],
//! [`render`] and [`parse`] are the JSON file (`json.rs`); [`compare`] lists the changes
//! between two summaries (`compare.rs`), and the apply impact of a change is a property of the
//! object kind and field that changed ([`impact`], `impact.rs`): memory needs a VM reboot, a
//! static address re-runs cloud-init, a rule reloads the firewall.
//!
//! Tests in `summary/tests.rs`.

mod compare;
mod impact;
mod json;
mod objects;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use compare::{compare, Change};
pub use impact::{impact, Impact};
pub use json::{parse, render, text};
pub use objects::summarize;

/// The summary's path inside out/.
pub const PATH: &str = "plat.model.json";

/// Object key (`"vm cp-1"`) to its fields (`"memory"` → `"8GiB"`), both sorted.
pub type Summary = BTreeMap<String, BTreeMap<String, String>>;

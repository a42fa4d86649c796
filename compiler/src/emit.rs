//! Emitters: pure functions from the [`Model`] to generated files. Each backend is one module
//! with one entry point `emit(&Model) -> Files`; emitters never see the AST or values, only
//! the model. Output must be byte-for-byte deterministic: LF line endings, one trailing
//! newline, no time, no environment, explicit sort keys.

use std::collections::BTreeMap;

use crate::model::Model;

pub mod cloud_init;
pub mod k8s;
pub mod pfsense;
pub mod proxmox;
pub mod yaml;

/// Generated files: path relative to `out/` (with `/` separators) to contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The command that regenerates every file; named in each generated file's header.
pub const REGENERATE: &str = "plat build";

/// Every target's files for `model`.
pub fn all(model: &Model) -> Files {
    let mut files = Files::new();
    files.extend(proxmox::emit(model));
    files.extend(pfsense::emit(model));
    files.extend(cloud_init::emit(model));
    files.extend(k8s::emit(model));
    files
}

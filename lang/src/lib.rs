//! The .plat language: syntax, names, types and evaluation. This crate does no IO and knows
//! nothing of Proxmox, pfSense, cloud-init or Kubernetes.

mod bounded;
pub mod diagnostic;
pub mod driver;
pub mod eval;
pub mod format;
pub mod load;
pub mod source;
pub mod span;
pub mod syntax;
pub mod types;
pub mod value;

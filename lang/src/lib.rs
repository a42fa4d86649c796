//! The .plat language: syntax, names, types and evaluation. This crate does no IO and knows
//! nothing of Proxmox, pfSense, cloud-init or Kubernetes.

pub mod diagnostic;
pub mod span;
pub mod value;

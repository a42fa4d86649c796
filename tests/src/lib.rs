//! End-to-end tests live in `tests/tests/`; this library holds their shared helpers.
//!
//! - [`upstream`]: run upstream tools (cloud-init, kubernetes-validate, kustomize) and
//!   upstream format data (pfSense default config, qm.conf(5)) on generated files.
//! - [`generate`]: random programs from the grammar, for property tests.
//! - [`hostile`]: hostile out/ trees and the safety properties of `plat build` (issue #13).

pub mod generate;
pub mod hostile;
pub mod upstream;

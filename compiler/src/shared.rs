//! The few constants that more than one layer writes or checks, kept below all of them: this
//! module uses nothing else of the crate, so the model, the emitters, the summary, the build
//! and out/ can all share it without one reaching into another (the layering is in
//! `docs/ARCHITECTURE.md` and enforced by `compiler/tests/layers.rs`).

/// The command that regenerates every file; named in each generated file's header and in the
/// model summary.
pub const REGENERATE: &str = "plat build";

/// How generated files refer to a secret: `${secret:NAME}`, which the apply step replaces
/// with the secret's value (secrets never enter sources or out/). No string from the sources
/// may contain it (`check::secret-reference-in-string`, checked while lowering the model), so
/// every reference in a generated file is one an emitter wrote with `emit::Secrets::reference`.
pub const SECRET_REFERENCE: &str = "${secret:";

/// The most bytes one build may emit (all files together): 1 GiB.
pub const MAX_OUTPUT_BYTES: u64 = 1 << 30;

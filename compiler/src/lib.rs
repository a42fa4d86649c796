//! The plat compiler: the platform prelude, lowering of evaluated values into the typed
//! [`model::Model`], the semantic checks, the emitters and the out/ writer. The `plat`
//! binary (`main.rs`) is a thin shell over [`cli`].

pub mod build;
pub mod check;
pub mod cli;
pub mod compile;
pub mod docs;
pub mod emit;
pub mod model;
pub mod out;
pub mod render;
pub mod sources;
pub mod values;

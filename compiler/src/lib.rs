//! The plat compiler: the platform prelude, lowering of evaluated values into the typed
//! [`model::Model`], the semantic checks, the emitters and the out/ writer. The `plat`
//! binary (`main.rs`) is a thin shell over [`cli`].

pub mod build;
pub mod check;
pub mod cli;
pub mod compile;
pub mod diff;
pub mod docs;
pub mod emit;
pub mod explain;
pub mod graph;
pub mod model;
pub mod out;
pub mod parallel;
pub mod render;
pub mod shared;
pub mod sources;
pub mod summary;
pub mod values;

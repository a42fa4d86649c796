//! The plat compiler: the platform prelude, lowering of evaluated values into the typed
//! [`model::Model`], the semantic checks, the emitters and the out/ writer. The `plat`
//! binary (`main.rs`) is a thin shell over [`cli`].

pub mod check;
pub mod emit;
pub mod model;

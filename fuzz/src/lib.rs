//! The properties the fuzz targets check, as plain functions so that a crashing input can be
//! replayed without libFuzzer (`tests/data/lang/regressions/` holds every one found, run by
//! `tests/tests/regressions.rs`).
//!
//! - [`parse`]: the lexer and parser never panic, whatever the text.
//! - [`check`]: the whole front end, lowering and platform checks (and the emitters, when
//!   those pass) never panic on a one-file program held in memory.
//! - [`fmt`]: formatting a program that parses gives text that parses to the same tree
//!   (spans aside), and formatting that text again changes nothing.

use plat_lang::load::MemLoader;
use plat_lang::span::FileId;
use plat_lang::syntax::parser::{parse as parse_file, parse_expr};

/// The lexer and parser on `text`, as a file and as an expression.
pub fn parse(text: &str) {
    let _ = parse_file(FileId(1), text);
    let _ = parse_expr(FileId(1), text);
}

/// Front end, lowering and checks on `text` as the program's only file; then, when that
/// succeeds, every emitter (what `plat build` writes).
pub fn check(text: &str) {
    let loader = MemLoader::single("main.plat", text);
    let compilation = plat::compile::compile_with(&loader, &["main.plat".to_string()]);
    if let Some(model) = &compilation.model {
        if !compilation.failed(false) {
            let _ = plat::emit::all(model);
        }
    }
}

/// The formatter's round trip; panics with a description when a property fails.
pub fn fmt(text: &str) {
    if let Err(failure) = plat_lang::format::check_round_trip(text) {
        panic!("{failure}");
    }
}

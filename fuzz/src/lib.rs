//! The properties the fuzz targets check, as plain functions so that a crashing input can be
//! replayed without libFuzzer (`tests/data/lang/regressions/` holds every one found, run by
//! `tests/tests/regressions.rs`).
//!
//! - [`parse`]: the lexer and parser never panic, whatever the text.
//! - [`check`]: the whole front end, lowering and platform checks (and the emitters, when
//!   those pass) never panic on a one-file program held in memory.
//! - [`fmt`]: formatting a program that parses gives text that parses to the same tree
//!   (spans aside), and formatting that text again changes nothing.
//! - [`lock`]: any bytes as `out/plat.lock` neither panic the lock parser nor make a build
//!   touch anything outside out/ or disagree with `--check` ([`plat_tests::hostile`]).
//! - [`hostile_out`]: the same properties, the bytes choosing the whole hostile scenario
//!   (platform, damage done to out/, changed sources).

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

/// `bytes` as the lock: parsed directly, then as the `plat.lock` of a built out/ with victims
/// around it (the build is made once per process and copied); panics with the scenario when a
/// property of [`plat_tests::hostile`] fails.
pub fn lock(bytes: &[u8]) {
    // The parser alone: it must reject, never panic.
    let _ = plat::out::Lock::parse(&String::from_utf8_lossy(bytes));
    if let Err(failure) = plat_tests::hostile::Scenario::with_lock(bytes).run() {
        panic!("{failure}");
    }
}

/// The hostile scenario that `bytes` choose ([`plat_tests::hostile::Bytes`]); panics with the
/// scenario when one of its properties fails.
pub fn hostile_out(bytes: &[u8]) {
    let mut choices = plat_tests::hostile::Bytes::new(bytes);
    let scenario = match plat_tests::hostile::Scenario::choose(&mut choices) {
        Ok(scenario) => scenario,
        Err(why) => panic!("cannot set up a scenario: {why}"),
    };
    if let Err(failure) = scenario.run() {
        panic!("{failure}");
    }
}

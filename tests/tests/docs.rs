//! The generated documentation is current and complete: `docs/platform.md` and the checks
//! section of `docs/errors.md` are what `plat docs platform|errors` prints, and every
//! diagnostic code the compiler can emit has a section in `docs/errors.md`.

use std::path::{Path, PathBuf};

/// The repository root (this crate is `tests/`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = repository().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn platform_md_is_generated() {
    assert!(
        read("docs/platform.md") == plat::docs::platform_md(),
        "docs/platform.md is stale: run `cargo run -p plat -- docs platform > docs/platform.md`"
    );
}

#[test]
fn errors_md_checks_section_is_generated() {
    let committed = read("docs/errors.md");
    assert!(
        committed == plat::docs::with_checks(&committed),
        "the checks section of docs/errors.md is stale: run \
         `cargo run -p plat -- docs errors > docs/errors.md`"
    );
}

#[test]
fn errors_md_documents_every_code() {
    let errors_md = read("docs/errors.md");
    let mut missing = Vec::new();
    for code in emitted_codes() {
        if !errors_md.contains(&format!("### `{code}`")) {
            missing.push(code);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/errors.md has no `### `code`` section for: {}",
        missing.join(", ")
    );
}

/// Every diagnostic code written as a string literal in `lang/src` and `compiler/src`, sorted.
fn emitted_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for crate_src in ["lang/src", "compiler/src"] {
        for entry in walkdir::WalkDir::new(repository().join(crate_src)) {
            let entry = entry.expect("readable source directory");
            if entry.path().extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(entry.path()).expect("readable source");
                codes.extend(codes_in(&text));
            }
        }
    }
    assert!(codes.len() > 50, "the scan found too few codes: {codes:?}");
    codes.sort();
    codes.dedup();
    codes
}

/// Matches of `"(parse|type|name|value|limit|import|source|eval|assert|check)::[a-z0-9-]+"`.
fn codes_in(text: &str) -> Vec<String> {
    const PHASES: [&str; 10] = [
        "parse", "type", "name", "value", "limit", "import", "source", "eval", "assert", "check",
    ];
    let mut codes = Vec::new();
    for (quote, _) in text.match_indices('"') {
        let rest = &text[quote + 1..];
        let Some((phase, after)) = rest.split_once("::") else {
            continue;
        };
        if !PHASES.contains(&phase) {
            continue;
        }
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('"') {
            codes.push(format!("{phase}::{}", &after[..name_len]));
        }
    }
    codes
}

#[test]
fn codes_in_matches_only_whole_quoted_codes() {
    let text = r#"error("type::mismatch", x); "check::duplicate-vmid" "name::Bad" "check::"
        "plat::types::mismatch" "value::out-of-range"."#;
    assert_eq!(
        codes_in(text),
        [
            "type::mismatch",
            "check::duplicate-vmid",
            "value::out-of-range"
        ]
    );
}

//! The formatter: one canonical layout for `.plat` sources (`plat fmt`). Pure: text in, text
//! out.
//!
//! Properties, checked by `tests/tests/fmt.rs` over every fixture and generated programs, and
//! by the `fmt` fuzz target (`fuzz/`):
//! - meaning-preserving: the output parses to the same tree as the input, spans aside
//!   ([`tree::same_tree`]);
//! - idempotent: formatting the output again changes nothing;
//! - every comment is kept, in order (a comment inside an expression that cannot hold it moves
//!   to the next line that can).
//!
//! The layout (docs/language.md, "Formatting"): two-space indentation; entity blocks one field
//! per line with `=` aligned within the block; a bracketed group (list, record, call
//! arguments, parameters, record type) stays on one line when it was written on one line, holds
//! no comment and fits in [`WIDTH`] columns, else it is broken one element per line; blank lines
//! between items and fields are kept, at most one in a row.
//! Literals are copied as written (`8GiB` stays `8GiB`, strings keep their escapes).

mod printer;
pub mod tree;

use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use crate::syntax::lexer::lex_with_comments;
use crate::syntax::parser::parse;

/// The line width a one-line group must fit in.
pub const WIDTH: usize = 100;

/// Formats `text`. A file with syntax errors is not formatted: its diagnostics are returned.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    let (file, diagnostics) = parse(FileId(0), text);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let comments = lex_with_comments(FileId(0), text).comments;
    Ok(printer::print(text, &file, &comments))
}

/// Checks the formatter's properties on `text`: when it parses, its formatting parses to the
/// same tree and formats to itself. Returns a description of the first property that fails.
pub fn check_round_trip(text: &str) -> Result<(), String> {
    let Ok(once) = format(text) else {
        return Ok(());
    };
    let (before, _) = parse(FileId(0), text);
    let (after, diagnostics) = parse(FileId(0), &once);
    if let Some(error) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!(
            "the formatted text does not parse: {}\n--- formatted:\n{once}",
            error.message
        ));
    }
    if !tree::same_tree(&before, &after) {
        return Err(format!(
            "the formatted text parses to another tree\n--- formatted:\n{once}\n--- before:\n{:#?}\n--- after:\n{:#?}",
            tree::erased(&before),
            tree::erased(&after)
        ));
    }
    let twice = format(&once).map_err(|d| format!("formatting twice fails: {d:?}"))?;
    if twice != once {
        return Err(format!(
            "formatting is not idempotent\n--- once:\n{once}\n--- twice:\n{twice}"
        ));
    }
    let count = |t: &str| lex_with_comments(FileId(0), t).comments.len();
    if count(text) != count(&once) {
        return Err(format!("comments were lost\n--- formatted:\n{once}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        check_round_trip(text).unwrap_or_else(|f| panic!("{f}"));
        format(text).expect("parses")
    }

    #[test]
    fn long_assert_message_moves_to_the_next_line() {
        let message = format!("\"{}\"", "m".repeat(90));
        assert_eq!(
            fmt(&format!("assert a == 1, {message}\n")),
            format!("assert a == 1,\n  {message}\n")
        );
    }
}

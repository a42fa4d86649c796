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

    #[test]
    fn entity_blocks_align_and_break() {
        assert_eq!(
            fmt("vm web { cores = 2, memory = 4GiB, tags = [\"a\",\"b\"] }\n"),
            "vm web {\n  cores  = 2\n  memory = 4GiB\n  tags   = [\"a\", \"b\"]\n}\n"
        );
    }

    #[test]
    fn groups_keep_the_shape_they_were_written_in() {
        assert_eq!(fmt("let a = {x=1,y=2}\n"), "let a = { x = 1, y = 2 }\n");
        assert_eq!(
            fmt("let a = {x=1,\ny=2}\n"),
            "let a = {\n  x = 1\n  y = 2\n}\n"
        );
        assert_eq!(fmt("let a = [\n1, 2]\n"), "let a = [\n  1,\n  2,\n]\n");
        assert_eq!(
            fmt("let a = [{\n  x = 1\n}]\n"),
            "let a = [{\n  x = 1\n}]\n"
        );
        let long = format!("let a = [{}]\n", vec!["\"item\""; 20].join(", "));
        assert!(fmt(&long).starts_with("let a = [\n  \"item\",\n"));
    }

    #[test]
    fn comments_stay_in_order() {
        let text = "# head\n\n\n\n## doc\nlet a = 1 + # inside\n  2 # after\nlet b = { # open\n  x = 1 # x\n  # before close\n}\n";
        assert_eq!(
            fmt(text),
            "# head\n\n## doc\nlet a = 1 + 2\n# inside\n# after\nlet b = {\n  # open\n  x = 1 # x\n  # before close\n}\n"
        );
    }

    #[test]
    fn doc_comments_never_trail() {
        let text = "type T = { a: int, ## about b\n b: int }\n";
        assert_eq!(
            fmt(text),
            "type T = {\n  a: int\n  ## about b\n  b: int\n}\n"
        );
    }

    #[test]
    fn tokens_that_would_merge_are_spaced() {
        assert_eq!(
            fmt("let a = fd00::1 .. fd00::5\n"),
            "let a = fd00::1 .. fd00::5\n"
        );
        assert_eq!(fmt("let a = fd00::1 .x\n"), "let a = fd00::1 .x\n");
        assert_eq!(fmt("let a = 1 .. 3\n"), "let a = 1..3\n");
        assert_eq!(
            fmt("let a = { x = b\n , with = 1 }\n"),
            "let a = {\n  x    = b,\n  with = 1\n}\n"
        );
    }

    #[test]
    fn folded_negative_literals_are_normalised() {
        assert_eq!(fmt("let a = - 1_000\n"), "let a = -1_000\n");
        assert_eq!(fmt("let a = - -1\n"), "let a = 1\n");
        assert_eq!(fmt("let a = -(1)\n"), "let a = -(1)\n");
    }

    #[test]
    fn types_keep_needed_parentheses() {
        assert_eq!(
            fmt("let a: (int | string)? = 1\n"),
            "let a: (int | string)? = 1\n"
        );
        assert_eq!(
            fmt("type T = int | (string | size)\n"),
            "type T = int | (string | size)\n"
        );
        assert_eq!(fmt("type T = ((int))\n"), "type T = int\n");
        assert_eq!(fmt("type M = {string:int}\n"), "type M = {string: int}\n");
        assert_eq!(
            fmt("type S = \"a\\\"b\" | \"c\"\n"),
            "type S = \"a\\\"b\" | \"c\"\n"
        );
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n"), "");
        assert_eq!(fmt("# only\n\n\n# comments   \n"), "# only\n\n# comments\n");
    }

    #[test]
    fn multi_line_strings_are_kept_verbatim() {
        let text = "vm a {\n      script = \"\"\"\n        echo ${x}   \n          two\n        \"\"\"\n}\n";
        assert_eq!(
            fmt(text),
            "vm a {\n  script = \"\"\"\n        echo ${x}   \n          two\n        \"\"\"\n}\n"
        );
    }

    #[test]
    fn syntax_errors_are_returned() {
        let errors = format("let a = \n").expect_err("does not parse");
        assert_eq!(errors[0].code, "parse::syntax");
    }

    #[test]
    fn odd_comment_places_round_trip() {
        let cases = [
            "fn f(a: int) # c\n -> int = 1\n",
            "vm # c\n x { }\n",
            "for x in # c\n xs {\n}\n",
            "let a = [ # c\n for x in xs => x]\n",
            "let a = f(\n# c\n)\n",
            "let a = [1, 2 # c\n]\n",
            "let a = [{\n a = 1 } # c\n]\n",
            "let a = \"${b # c\n}\" # d\n",
            "let a = - # c\n 1\n",
            "kind k: { # c\n a: int } single\n",
            "type T = { ## d\n string: int }\n",
            "let a = {\n## d\n}\n",
            "vm x {\n  a = 1\n  ## dangling\n}\n## end\n",
            "let a = x with { # c\n}\n",
            "assert a, # c\n \"m\"\n",
            "let a = 1\r\n# c\r\nlet b = \"\"\"\r\n  x\r\n  \"\"\"\r\n",
        ];
        for case in cases {
            if let Err(failure) = check_round_trip(case) {
                panic!("{case:?}: {failure}");
            }
            assert!(format(case).is_ok(), "{case:?} parses");
        }
    }
}

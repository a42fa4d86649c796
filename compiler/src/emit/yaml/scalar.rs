//! How one string is written: plain, double-quoted or as a literal block scalar.
//!
//! Invariant: every string reads back as the same string under YAML 1.1 (PyYAML's
//! `SafeLoader`, which cloud-init uses; libyaml and go-yaml v2 behind `sigs.k8s.io/yaml`)
//! and YAML 1.2 (core schema). The rule is conservative: a string is plain only when its
//! characters and first character rule out every implicit type of both versions, so no
//! list of resolver patterns has to be complete for the output to be right.
//!
//! Tests: the unit tests below; `tests/tests/yaml_roundtrip.rs` reads a corpus back
//! with PyYAML and with a YAML 1.2 parser.

use std::fmt::Write as _;

/// The style a string is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    /// Unquoted.
    Plain,
    /// `"..."` with escapes; always one line.
    DoubleQuoted,
    /// `|` block scalar (only for values in a block collection, never keys).
    Literal,
}

/// The style for a mapping key or a value that cannot be a block scalar.
pub(super) fn inline_style(text: &str) -> Style {
    if is_safe_plain(text) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

/// The style for a value of a block mapping or sequence entry.
pub(super) fn value_style(text: &str) -> Style {
    // Plain text has no line break, so it never fits a literal: the common case is decided
    // by one check.
    if is_safe_plain(text) {
        Style::Plain
    } else if fits_literal(text) {
        Style::Literal
    } else {
        Style::DoubleQuoted
    }
}

/// Writes `text` as a one-line scalar in its inline style.
pub(super) fn write_inline(out: &mut String, text: &str) {
    match inline_style(text) {
        Style::Plain => out.push_str(text),
        _ => write_double_quoted(out, text),
    }
}

/// Writes `text` as a double-quoted scalar. Characters outside YAML's printable set, the
/// YAML 1.1 line breaks (NEL, LS, PS, which PyYAML would fold), the BOM, tabs and the two
/// characters that end or escape a double-quoted scalar are written as escapes; everything
/// else is written as is (YAML 1.2 spec §5.7, PyYAML `scanner.py` `ESCAPE_CODES`).
pub(super) fn write_double_quoted(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    // Characters written as they are go out in runs, between the escaped ones.
    let mut run_start = 0;
    for (at, c) in text.char_indices() {
        if is_raw_printable(c) && c != '"' && c != '\\' {
            continue;
        }
        out.push_str(&text[run_start..at]);
        run_start = at + c.len_utf8();
        // Writing into a String cannot fail.
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            '\n' => out.write_str("\\n"),
            '\t' => out.write_str("\\t"),
            '\r' => out.write_str("\\r"),
            '\0' => out.write_str("\\0"),
            c if (c as u32) < 0x100 => write!(out, "\\x{:02X}", c as u32),
            c if (c as u32) < 0x10000 => write!(out, "\\u{:04X}", c as u32),
            c => write!(out, "\\U{:08X}", c as u32),
        };
    }
    out.push_str(&text[run_start..]);
    out.push('"');
}

/// The header of a literal block scalar for `text` (which [`value_style`] chose as
/// [`Style::Literal`]): `|`, the indentation indicator `2` when the first non-empty line
/// starts with white space (the reader could not detect the indentation otherwise), and
/// the chomping indicator that keeps the trailing line breaks exactly: `-` for none,
/// nothing (clip) for one, `+` (keep) for more.
pub(super) fn literal_header(text: &str) -> String {
    let mut header = String::from("|");
    let first_line = text.split('\n').find(|line| !line.is_empty());
    if first_line.is_some_and(|line| line.starts_with([' ', '\t'])) {
        header.push('2');
    }
    let trailing_breaks = text.len() - text.trim_end_matches('\n').len();
    match trailing_breaks {
        0 => header.push('-'),
        1 => {}
        _ => header.push('+'),
    }
    header
}

/// The content lines of a literal block scalar: `text` split at line breaks, without the
/// final break (the chomping indicator carries it).
pub(super) fn literal_lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n')
}

/// Plain is safe when the string starts with an ASCII letter or `/` (no implicit type of
/// YAML 1.1 or 1.2 starts with `/`, and the only letter-first ones are the bool and null
/// words), uses only characters that are never indicators inside a plain scalar (so no
/// `:`, which also keeps MAC addresses and times quoted, and no `#`), has no leading,
/// trailing or doubled space, and is not one of the reserved words.
///
/// Every string written goes through here, so it works on bytes: the allowed characters are
/// all ASCII, so any byte of a multi-byte character rules plain out, and a byte-wise check
/// says the same as a character-wise one (the unit tests compare it with a direct
/// transcription of the rule above).
fn is_safe_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    // One pass, no early exit: the loop compiles to a few branch-free instructions per byte
    // (a table load, an AND and an OR). Spaces are rare, so only text with one is searched
    // for a doubled one.
    let (all, any) = bytes.iter().fold((PLAIN, 0), |(all, any), &byte| {
        let class = BYTE_CLASS[usize::from(byte)];
        (all & class, any | class)
    });
    let (all_plain, any_space) = (all & PLAIN != 0, any & SPACE != 0);
    (first.is_ascii_alphabetic() || first == b'/')
        && all_plain
        && !(any_space && (bytes.last() == Some(&b' ') || text.contains("  ")))
        && !(bytes.len() <= LONGEST_RESERVED_WORD && is_reserved_word(text))
}

/// [`BYTE_CLASS`] bit: [`is_plain_char`] allows the byte.
const PLAIN: u8 = 1;
/// [`BYTE_CLASS`] bit: the byte is a space.
const SPACE: u8 = 2;

/// The class bits of each byte.
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte: u8 = 0;
    while byte < 128 {
        if is_plain_char(byte as char) {
            table[byte as usize] |= PLAIN;
        }
        if byte == b' ' {
            table[byte as usize] |= SPACE;
        }
        byte += 1;
    }
    table
};

const fn is_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/' | '@' | '+' | '=' | '~')
}

/// Words some YAML version reads as a bool or null, compared case-insensitively (YAML 1.1
/// bool and null types, PyYAML `resolver.py`; go-yaml v2 `resolve.go`; YAML 1.2 core).
fn is_reserved_word(text: &str) -> bool {
    RESERVED_WORDS
        .iter()
        .any(|word| word.eq_ignore_ascii_case(text))
}

const RESERVED_WORDS: [&str; 11] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
];

/// The length of the longest of [`RESERVED_WORDS`]: longer strings need no comparison.
const LONGEST_RESERVED_WORD: usize = {
    let mut longest = 0;
    let mut i = 0;
    while i < RESERVED_WORDS.len() {
        if RESERVED_WORDS[i].len() > longest {
            longest = RESERVED_WORDS[i].len();
        }
        i += 1;
    }
    longest
};

/// A literal block scalar holds the text exactly when it has a line break and every other
/// character may appear raw in YAML 1.1 and 1.2 content (tabs included); CR, NEL, LS and
/// PS are line breaks to YAML 1.1 and would be normalised, so such text is double-quoted.
/// Text made only of line breaks is double-quoted too (no content line to anchor it).
fn fits_literal(text: &str) -> bool {
    text.contains('\n')
        && text.chars().any(|c| c != '\n')
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || is_raw_printable(c))
}

/// Characters both YAML versions accept raw in a scalar, excluding the line breaks of
/// YAML 1.1 (U+0085, U+2028, U+2029) and the byte order mark (YAML 1.2 spec §5.1 `c-printable`,
/// PyYAML `reader.py` `NON_PRINTABLE`).
fn is_raw_printable(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double_quoted(text: &str) -> String {
        let mut out = String::new();
        write_double_quoted(&mut out, text);
        out
    }

    /// The plain rule of [`is_safe_plain`] written down directly, character by character.
    fn is_safe_plain_reference(text: &str) -> bool {
        let Some(first) = text.chars().next() else {
            return false;
        };
        (first.is_ascii_alphabetic() || first == '/')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -_./@+=~".contains(c))
            && !text.ends_with(' ')
            && !text.contains("  ")
            && !is_reserved_word(text)
    }

    #[test]
    fn byte_wise_plain_check_agrees_with_the_rule() {
        // Every string of up to four characters over an alphabet with each kind of
        // character (allowed first, allowed later, space, indicators, control, non-ASCII),
        // and the reserved words in several cases with something before or after.
        let alphabet: Vec<char> = "aZ9/ -_.@+=~:#\t\u{85}é😀".chars().collect();
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = last
                .iter()
                .flat_map(|text| alphabet.iter().map(move |c| format!("{text}{c}")))
                .collect();
            texts.extend(longer.iter().cloned());
            last = longer;
        }
        for word in RESERVED_WORDS {
            for cased in [word.to_string(), word.to_uppercase(), capitalise(word)] {
                for around in ["", " ", "a", "/", "-", ":"] {
                    texts.push(format!("{around}{cased}"));
                    texts.push(format!("{cased}{around}"));
                }
            }
        }
        // Longer strings: every ASCII character and every character of the alphabet at each
        // position of some identifiers.
        let others = (0..128u8).map(char::from).chain(alphabet.iter().copied());
        let others: Vec<char> = others.collect();
        for base in [
            "apiVersion",
            "app.kubernetes.io/name",
            "abcdefgh",
            "ABCDEFGH/0123-._x",
        ] {
            for at in 0..base.len() {
                for &c in &others {
                    let mut text = base.to_string();
                    text.replace_range(at..=at, &c.to_string());
                    texts.push(text);
                }
            }
        }
        texts.push("ssh-ed25519 AAAAC3Nz+/= ops@laptop".into());
        texts.push("x".repeat(2000));
        for text in &texts {
            assert_eq!(
                is_safe_plain(text),
                is_safe_plain_reference(text),
                "{text:?}"
            );
        }
    }

    fn capitalise(word: &str) -> String {
        let mut chars = word.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_ascii_uppercase().to_string() + chars.as_str()
        })
    }

    #[test]
    fn plain_only_for_unambiguous_strings() {
        for text in [
            "lab",
            "cp-1",
            "/etc/kubernetes/kubeadm/cp-1.yaml",
            "ssh-ed25519 AAAAC3Nz+/= ops@laptop",
            "node-role.kubernetes.io/control-plane",
            "v1.31.4",
        ] {
            assert_eq!(inline_style(text), Style::Plain, "{text:?}");
        }
        for text in [
            "",
            "on",
            "On",
            "YES",
            "no",
            "y",
            "N",
            "off",
            "true",
            "False",
            "null",
            "NULL",
            "~",
            "<<",
            "=",
            ".inf",
            "-.inf",
            ".nan",
            "-",
            "+1",
            "1e3",
            "12:30",
            "1_000",
            "2001-12-14",
            "0755",
            "0x1F",
            "0o17",
            "0b101",
            "1.31",
            "10.20.0.5",
            " lead",
            "trail ",
            "a #b",
            "#c",
            "a: b",
            "key:",
            "- x",
            "tab\there",
            "ctl\u{1}",
            "café",
            "a  b",
            "bc:24:11:0a:00:01",
            "a:b",
            "*ref",
            "&anchor",
            "!tag",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "'q'",
            "\"q\"",
            "a,b",
            "[x]",
            "{x}",
            "?x",
            "x?",
        ] {
            assert_eq!(inline_style(text), Style::DoubleQuoted, "{text:?}");
        }
    }

    /// [`write_double_quoted`] written down directly, one character at a time.
    fn double_quoted_reference(text: &str) -> String {
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                c if is_raw_printable(c) => out.push(c),
                c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02X}", c as u32)),
                c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push_str(&format!("\\U{:08X}", c as u32)),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn escaping_in_runs_agrees_with_escaping_each_character() {
        let alphabet: Vec<char> =
            "a \"\\\n\t\r\0\u{1}\u{7f}\u{85}\u{a0}\u{2028}\u{feff}é😀\u{10ffff}"
                .chars()
                .collect();
        let mut texts = vec![String::new()];
        for &a in &alphabet {
            for &b in &alphabet {
                for &c in &alphabet {
                    texts.push(format!("{a}"));
                    texts.push(format!("{a}{b}"));
                    texts.push(format!("{a}{b}{c}"));
                    texts.push(format!("run {a} of {b}{c} text"));
                }
            }
        }
        for text in &texts {
            assert_eq!(
                double_quoted(text),
                double_quoted_reference(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn double_quotes_escape_what_readers_would_change() {
        assert_eq!(double_quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(double_quoted("x\ty\n"), r#""x\ty\n""#);
        assert_eq!(double_quoted("\u{1}\u{7f}\u{85}"), r#""\x01\x7F\x85""#);
        assert_eq!(double_quoted("\u{2028}\u{feff}"), r#""\u2028\uFEFF""#);
        assert_eq!(double_quoted("é ✓ 😀"), "\"é ✓ 😀\"");
        assert_eq!(double_quoted(" on "), "\" on \"");
    }

    #[test]
    fn literal_headers_carry_chomping_and_indentation() {
        assert_eq!(literal_header("a\nb"), "|-");
        assert_eq!(literal_header("a\nb\n"), "|");
        assert_eq!(literal_header("a\nb\n\n"), "|+");
        assert_eq!(literal_header("  a\nb\n"), "|2");
        assert_eq!(literal_header("\n\n\tb\n\n"), "|2+");
        assert_eq!(
            literal_lines("a\n\nb\n").collect::<Vec<_>>(),
            ["a", "", "b"]
        );
        assert_eq!(literal_lines("a\n\n").collect::<Vec<_>>(), ["a", ""]);
    }

    #[test]
    fn literal_only_for_multi_line_text_without_special_breaks() {
        assert_eq!(value_style("a\nb"), Style::Literal);
        assert_eq!(value_style("#!/bin/sh\n\techo: hi # x\n"), Style::Literal);
        assert_eq!(value_style("a\r\nb"), Style::DoubleQuoted);
        assert_eq!(value_style("a\u{85}b\n"), Style::DoubleQuoted);
        assert_eq!(value_style("\n\n"), Style::DoubleQuoted);
        assert_eq!(value_style("plain"), Style::Plain);
    }
}

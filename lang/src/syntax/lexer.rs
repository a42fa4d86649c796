//! The lexer: source text to tokens with byte spans.
//!
//! Literals are recognised with nom combinators (`literal_*` below); the driver loop is a
//! small state machine because string interpolation nests (`"a ${f("b")} c"`): a mode stack
//! tracks whether we are in code, inside a string, or inside `${ … }`.
//!
//! Lexing rules worth knowing (docs/language.md repeats them for users):
//! - Identifiers may contain `-` between alphanumerics (`cp-1`); `a - b` is subtraction.
//! - A MAC is six two-digit hex groups; an IPv6 literal contains `::` or seven colons and
//!   parses as an address; an IPv4 literal is four dotted numbers; either may carry `/prefix`.
//! - `"""` strings keep their raw text here; the parser removes the common indentation
//!   before processing escapes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1, take_while_m_n};
use nom::character::complete::digit1;
use nom::combinator::{opt, recognize};
use nom::multi::count;
use nom::sequence::{pair, preceded, tuple};
use nom::IResult;

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::value::{ip_to_u128, u128_to_ip, Cidr, Name, DURATION_UNITS, SIZE_UNITS};

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name or keyword.
    Ident(Name),
    /// An integer.
    Int(i64),
    /// A size in bytes.
    Size(i64),
    /// A duration in milliseconds.
    Duration(i64),
    /// An address.
    Ip(IpAddr),
    /// A subnet.
    Cidr(Cidr),
    /// A MAC.
    Mac([u8; 6]),
    /// `"` or `"""`.
    StrStart(bool),
    /// Text inside a string (escapes processed unless the string is `"""`).
    StrText(String),
    /// `${`.
    InterpStart,
    /// The `}` closing `${`.
    InterpEnd,
    /// Closing quote(s).
    StrEnd,
    /// A `##` documentation comment line (text after `##`).
    Doc(String),
    /// Punctuation and operators, as written.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A token with its span and whether a line break precedes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Where.
    pub span: Span,
    /// A newline stands between this token and the previous one.
    pub newline_before: bool,
}

/// The punctuation that starts with the byte `first`, longest first (so that the first one the
/// text starts with is the token). Chosen by the first byte, because scanning a list of every
/// punctuation for each token was a sixth of the lexer's time.
fn puncts_starting_with(first: u8) -> &'static [&'static str] {
    match first {
        b'.' => &["..=", "...", "..", "."],
        b'-' => &["->", "-"],
        b'=' => &["=>", "==", "="],
        b'!' => &["!=", "!"],
        b'<' => &["<=", "<"],
        b'>' => &[">=", ">"],
        b'&' => &["&&"],
        b'|' => &["||", "|"],
        b'(' => &["("],
        b')' => &[")"],
        b'[' => &["["],
        b']' => &["]"],
        b'{' => &["{"],
        b'}' => &["}"],
        b',' => &[","],
        b':' => &[":"],
        b'+' => &["+"],
        b'*' => &["*"],
        b'/' => &["/"],
        b'%' => &["%"],
        b'?' => &["?"],
        _ => &[],
    }
}

enum Mode {
    Code { braces: u32 },
    Str { triple: bool },
}

/// Splits `text` into tokens. Errors are reported and lexing continues.
pub fn lex(file: FileId, text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let lexed = lex_with_comments(file, text);
    (lexed.tokens, lexed.diagnostics)
}

/// What [`lex_with_comments`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Lexed {
    /// The tokens, ending with [`Tok::Eof`].
    pub tokens: Vec<Token>,
    /// Every comment line (`#` and `##`, up to but excluding the line break), in order. The
    /// parser never sees them; the formatter keeps them.
    pub comments: Vec<Span>,
    /// Lexing errors.
    pub diagnostics: Vec<Diagnostic>,
}

/// Like [`lex`], and also returns the span of every comment (the formatter's trivia).
pub fn lex_with_comments(file: FileId, text: &str) -> Lexed {
    lex_from(file, text, 0).0
}

/// Lexes `text[start..]` as if the text before `start` were not there, except that `start`
/// is the start of a line (or 0); spans keep their offsets in `text`. Also says whether the
/// lexer ended at top level, outside any string, interpolation or braces: the state it is in
/// at `start`, so that lexing a file in parts at such points gives the tokens of the whole.
pub(crate) fn lex_from(file: FileId, text: &str, start: usize) -> (Lexed, bool) {
    let mut lexer = Lexer {
        file,
        text,
        pos: start,
        // About one token per five bytes of source in practice; reserving for one per four
        // avoids copying a large vector as it grows (pages not yet written cost nothing).
        tokens: Vec::with_capacity((text.len() - start) / 4 + 16),
        diagnostics: Vec::new(),
        newline: start > 0,
        modes: vec![Mode::Code { braces: 0 }],
        comments: Vec::new(),
        names: NameSet::default(),
    };
    lexer.run();
    let at_top_level = matches!(lexer.modes[..], [Mode::Code { braces: 0 }]);
    let end = text.len();
    lexer.tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(file, end, end),
        newline_before: true,
    });
    let lexed = Lexed {
        tokens: lexer.tokens,
        comments: lexer.comments,
        diagnostics: lexer.diagnostics,
    };
    (lexed, at_top_level)
}

struct Lexer<'a> {
    file: FileId,
    text: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
    newline: bool,
    modes: Vec<Mode>,
    comments: Vec<Span>,
    /// Every name lexed so far, so that each occurrence of a name shares one allocation (a
    /// platform repeats its field and kind names thousands of times).
    names: NameSet,
}

type NameSet = indexmap::IndexSet<Name, crate::value::FixedHasher>;

impl<'a> Lexer<'a> {
    /// The shared [`Name`] for `text`.
    fn name(&mut self, text: &str) -> Name {
        if let Some(name) = self.names.get(text) {
            return name.clone();
        }
        let name: Name = text.into();
        self.names.insert(name.clone());
        name
    }

    fn run(&mut self) {
        while self.pos < self.text.len() {
            match self.modes.last() {
                Some(Mode::Str { triple }) => {
                    let triple = *triple;
                    self.string_piece(triple);
                }
                _ => self.code_token(),
            }
        }
        if let Some(Mode::Str { .. }) = self.modes.last() {
            let end = self.text.len();
            self.error(
                end,
                end,
                "unterminated string",
                "close the string with `\"`",
            );
        }
    }

    fn push(&mut self, tok: Tok, start: usize, end: usize) {
        self.tokens.push(Token {
            tok,
            span: Span::new(self.file, start, end),
            newline_before: self.newline,
        });
        self.newline = false;
    }

    fn error(&mut self, start: usize, end: usize, message: &str, help: &str) {
        self.diagnostics.push(
            Diagnostic::error("parse::syntax", Span::new(self.file, start, end), message)
                .with_help(help),
        );
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn code_token(&mut self) {
        // Runs of spaces (indentation, aligned `=`) in one step.
        let bytes = self.text.as_bytes();
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
        let spaces = bytes[self.pos..].iter().take_while(|b| blank(b)).count();
        if spaces > 0 {
            self.pos += spaces;
            return;
        }
        let rest = self.rest();
        let c = rest.chars().next().expect("not at end");
        let start = self.pos;
        if c == '\n' {
            self.newline = true;
            self.pos += 1;
            return;
        }
        if c.is_whitespace() {
            self.pos += c.len_utf8();
            return;
        }
        if c == '#' {
            let line_end = rest.find('\n').unwrap_or(rest.len());
            self.comments
                .push(Span::new(self.file, start, start + line_end));
            if let Some(doc) = rest[..line_end].strip_prefix("##") {
                let doc = doc.strip_prefix(' ').unwrap_or(doc).trim_end().to_string();
                self.push(Tok::Doc(doc), start, start + line_end);
            }
            self.pos += line_end;
            return;
        }
        if c == '"' {
            let triple = rest.starts_with("\"\"\"");
            let len = if triple { 3 } else { 1 };
            self.push(Tok::StrStart(triple), start, start + len);
            self.pos += len;
            self.modes.push(Mode::Str { triple });
            return;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            if let Some((tok, len)) = self.literal_or_ident() {
                self.push(tok, start, start + len);
                self.pos += len;
                return;
            }
        }
        if c == '{' {
            if let Some(Mode::Code { braces }) = self.modes.last_mut() {
                *braces += 1;
            }
        }
        if c == '}' {
            let closes_interp =
                matches!(self.modes.last(), Some(Mode::Code { braces: 0 })) && self.modes.len() > 1;
            if closes_interp {
                self.modes.pop();
                self.push(Tok::InterpEnd, start, start + 1);
                self.pos += 1;
                return;
            }
            if let Some(Mode::Code { braces }) = self.modes.last_mut() {
                *braces = braces.saturating_sub(1);
            }
        }
        let punct = puncts_starting_with(rest.as_bytes()[0])
            .iter()
            .find(|p| rest.starts_with(**p));
        if let Some(p) = punct {
            if *p == "..." {
                self.error(
                    start,
                    start + 3,
                    "unexpected `...`",
                    "ranges are written `a..b` or `a..=b`",
                );
                self.pos += 3;
                return;
            }
            self.push(Tok::Punct(p), start, start + p.len());
            self.pos += p.len();
            return;
        }
        self.error(
            start,
            start + c.len_utf8(),
            &format!("unexpected character `{}`", c.escape_debug()),
            "remove it, or put it inside a string",
        );
        self.pos += c.len_utf8();
    }

    /// Recognises a MAC, IPv6, IPv4/CIDR, number with unit, or identifier at `pos`.
    fn literal_or_ident(&mut self) -> Option<(Tok, usize)> {
        let rest = self.rest();
        let start = self.pos;
        // Fast path for the common case, a name not followed by `:`. A MAC (`ab:…`) or an
        // IPv6 address (`fe80::…`) that starts with a letter has `:` right after its first
        // group of hex digits, which is all or the start of the name, and a name can only be
        // followed by `:` there, so without it the slow path below would find the same name.
        if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let len = identifier_len(rest);
            if rest.as_bytes().get(len) != Some(&b':') {
                return Some((Tok::Ident(self.name(&rest[..len])), len));
            }
        }
        // And for a number (`8000`, `128MiB`, `1_000`): a MAC, an IPv6 or an IPv4 address that
        // starts with a digit has `:` or `.` right after its first group of digits and letters,
        // so without one, each literal below would fail and the number is what remains.
        let bytes = rest.as_bytes();
        if bytes.first().is_some_and(u8::is_ascii_digit) {
            let run = bytes
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if !matches!(bytes.get(run), Some(b':' | b'.')) {
                return self.number(rest, start);
            }
        }
        if let Ok((after, mac)) = literal_mac(rest) {
            if !after.starts_with(is_word_char) {
                return Some((Tok::Mac(mac), rest.len() - after.len()));
            }
        }
        if let Some((tok, len)) = self.literal_ipv6(rest, start) {
            return Some((tok, len));
        }
        let first = rest.chars().next()?;
        if first.is_ascii_digit() {
            if let Ok((after, text)) = literal_ipv4(rest) {
                return Some(self.ip_or_cidr(text, start, rest.len() - after.len()));
            }
            return self.number(rest, start);
        }
        if first.is_ascii_alphabetic() || first == '_' {
            let (_, name) = identifier(rest).ok()?;
            return Some((Tok::Ident(self.name(name)), name.len()));
        }
        None
    }

    fn literal_ipv6(&mut self, rest: &'a str, start: usize) -> Option<(Tok, usize)> {
        let text = literal_ipv6_text(rest)?;
        let after = &rest[text.len()..];
        let colons = text.split('/').next().unwrap_or("").matches(':').count();
        let address = text.split('/').next().unwrap_or("");
        if !(address.contains("::") || colons == 7) || after.starts_with(is_word_char) {
            return None;
        }
        address.parse::<Ipv6Addr>().ok()?;
        Some(self.ip_or_cidr(text, start, text.len()))
    }

    fn ip_or_cidr(&mut self, text: &'a str, start: usize, len: usize) -> (Tok, usize) {
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = match address.parse::<Ipv4Addr>() {
            Ok(v4) => IpAddr::V4(v4),
            Err(_) => match address.parse::<Ipv6Addr>() {
                Ok(v6) => IpAddr::V6(v6),
                Err(_) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "parse::literal",
                            Span::new(self.file, start, start + len),
                            format!("`{address}` is not a valid address"),
                        )
                        .with_help(
                            "each part of an IPv4 address is a number from 0 to 255, without leading zeros",
                        ),
                    );
                    return (Tok::Ip(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), len);
                }
            },
        };
        let Some(prefix) = prefix else {
            return (Tok::Ip(addr), len);
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let span = Span::new(self.file, start, start + len);
        let Some(prefix) = prefix.parse::<u8>().ok().filter(|p| *p <= bits) else {
            self.diagnostics.push(
                Diagnostic::error(
                    "parse::literal",
                    span,
                    format!(
                        "`{text}` is not a valid subnet: the prefix is longer than {bits} bits"
                    ),
                )
                .with_help("an IPv4 prefix is 0 to 32 bits long, an IPv6 prefix 0 to 128"),
            );
            return (Tok::Cidr(Cidr { addr, prefix: 0 }), len);
        };
        match Cidr::new(addr, prefix) {
            Ok(cidr) => (Tok::Cidr(cidr), len),
            Err(_) => {
                let host_bits = u32::from(bits - prefix);
                let host_mask = u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
                let network = Cidr {
                    addr: u128_to_ip(ip_to_u128(addr) & !host_mask, addr.is_ipv4()),
                    prefix,
                };
                self.diagnostics.push(
                    Diagnostic::error(
                        "parse::literal",
                        span,
                        format!("`{text}` is not a valid subnet: its host bits are not zero"),
                    )
                    .with_help(format!(
                        "write the network address, with the host bits zero: `{network}`"
                    )),
                );
                (Tok::Cidr(network), len)
            }
        }
    }

    fn number(&mut self, rest: &'a str, start: usize) -> Option<(Tok, usize)> {
        let (after, (digits, unit)) = number_with_unit(rest).ok()?;
        let len = rest.len() - after.len();
        let span = Span::new(self.file, start, start + len);
        let clean: std::borrow::Cow<'_, str> = if digits.contains('_') {
            digits
                .chars()
                .filter(|c| *c != '_')
                .collect::<String>()
                .into()
        } else {
            digits.into()
        };
        let after_minus = matches!(
            self.tokens.last(),
            Some(Token {
                tok: Tok::Punct("-"),
                ..
            })
        );
        if unit.is_empty() && after_minus && clean.parse::<u64>() == Ok(1 << 63) {
            // The magnitude of i64::MIN: the parser negates it (see `Parser::unary`).
            return Some((Tok::Int(i64::MIN), len));
        }
        let Ok(n) = clean.parse::<i64>() else {
            self.diagnostics.push(
                Diagnostic::error(
                    "value::overflow",
                    span,
                    format!("`{digits}` does not fit in a 64-bit integer"),
                )
                .with_help("integers range from -9223372036854775808 to 9223372036854775807"),
            );
            return Some((Tok::Int(0), len));
        };
        if unit.is_empty() {
            return Some((Tok::Int(n), len));
        }
        let scaled = |units: &[(&str, i64)]| {
            units
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, f)| n.checked_mul(*f))
        };
        let (tok, result) = if let Some(r) = scaled(SIZE_UNITS) {
            (Tok::Size as fn(i64) -> Tok, r)
        } else if let Some(r) = scaled(DURATION_UNITS) {
            (Tok::Duration as fn(i64) -> Tok, r)
        } else {
            self.diagnostics.push(
                Diagnostic::error("parse::literal", span, format!("unknown unit `{unit}`"))
                    .with_help(
                        "sizes: B KB MB GB TB PB KiB MiB GiB TiB PiB; durations: ms s min h d",
                    ),
            );
            return Some((Tok::Int(n), len));
        };
        match result {
            Some(value) => Some((tok(value), len)),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "value::overflow",
                        span,
                        format!("`{digits}{unit}` is too large"),
                    )
                    .with_help(
                        "sizes and durations are limited to 64-bit byte and millisecond counts",
                    ),
                );
                Some((tok(0), len))
            }
        }
    }

    /// Inside a string: text up to the next `${`, escape or closing quote.
    fn string_piece(&mut self, triple: bool) {
        let start = self.pos;
        let rest = self.rest();
        let close = if triple { "\"\"\"" } else { "\"" };
        if rest.starts_with(close) {
            self.modes.pop();
            self.push(Tok::StrEnd, start, start + close.len());
            self.pos += close.len();
            return;
        }
        if rest.starts_with("${") {
            self.push(Tok::InterpStart, start, start + 2);
            self.pos += 2;
            self.modes.push(Mode::Code { braces: 0 });
            return;
        }
        // Every byte that can end the piece is ASCII, and the bytes of a multi-byte UTF-8
        // character are never ASCII, so the scan goes byte by byte.
        // The same scan notes the first NUL and whether there is any escape.
        let mut end = 0;
        let mut nul = None;
        let mut escaped = false;
        let bytes = rest.as_bytes();
        while end < bytes.len() {
            match bytes[end] {
                b'"' if bytes[end..].starts_with(close.as_bytes()) => break,
                b'$' if bytes.get(end + 1) == Some(&b'{') => break,
                b'\n' if !triple => break,
                b'\\' if end + 1 < bytes.len() => {
                    escaped = true;
                    if bytes[end + 1] == 0 {
                        nul.get_or_insert(end + 1);
                    }
                    end += 1 + utf8_width(bytes[end + 1]);
                }
                0 => {
                    nul.get_or_insert(end);
                    end += 1;
                }
                _ => end += 1,
            }
        }
        if end == 0 {
            // A newline inside a one-line string.
            self.error(
                start,
                start + 1,
                "unterminated string",
                "close the string before the end of the line, or use `\"\"\"` for multi-line text",
            );
            self.modes.pop();
            return;
        }
        let raw = &rest[..end];
        if let Some(offset) = nul {
            // Files with NUL bytes are refused before lexing (`source::nul-byte`); text from
            // elsewhere must not smuggle one in: the `"""` dedent uses NUL as a placeholder.
            self.error(
                start + offset,
                start + offset + 1,
                "a NUL character in a string",
                "write `\\u{0}` for a NUL character",
            );
            self.push(
                Tok::StrText(raw.replace('\0', "\u{fffd}")),
                start,
                start + end,
            );
            self.pos += end;
            return;
        }
        let text = if triple || !escaped {
            raw.to_string()
        } else {
            match unescape(raw) {
                Ok(text) => text,
                Err((offset, message)) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "parse::escape",
                            Span::new(
                                self.file,
                                start + offset,
                                start + offset + escape_len(raw, offset),
                            ),
                            message,
                        )
                        .with_help("escapes are \\n \\t \\r \\\\ \\\" \\$ and \\u{hex}"),
                    );
                    raw.to_string()
                }
            }
        };
        self.push(Tok::StrText(text), start, start + end);
        self.pos += end;
    }
}

/// The length in bytes of the escape starting with the `\\` at byte `offset` of `raw`: the
/// backslash and the character after it (to the end of `raw` if there is none).
pub fn escape_len(raw: &str, offset: usize) -> usize {
    1 + raw
        .get(offset + 1..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8)
}

/// Processes escapes. On error, returns the byte offset of the bad escape and a message.
pub fn unescape(raw: &str) -> Result<String, (usize, String)> {
    if !raw.contains('\\') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, '"')) => out.push('"'),
            Some((_, '$')) => out.push('$'),
            Some((_, 'u')) => {
                let tail = &raw[i + 2..];
                let parsed = tail
                    .strip_prefix('{')
                    .and_then(|t| t.split_once('}'))
                    .and_then(|(hex, _)| {
                        u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .map(|c| (c, hex.len() + 2))
                    });
                let Some((ch, len)) = parsed else {
                    return Err((i, "invalid unicode escape".into()));
                };
                out.push(ch);
                for _ in 0..len {
                    chars.next();
                }
            }
            Some((_, other)) => return Err((i, format!("unknown escape `\\{other}`"))),
            None => return Err((i, "a string cannot end with a lone `\\`".into())),
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn hex2(input: &str) -> IResult<&str, u8> {
    let (rest, digits) = take_while_m_n(2, 2, |c: char| c.is_ascii_hexdigit())(input)?;
    Ok((
        rest,
        u8::from_str_radix(digits, 16).expect("two hex digits"),
    ))
}

/// The length in bytes of the UTF-8 character that starts with byte `first`.
fn utf8_width(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The length of the [`identifier`] at the start of `input` (which starts with a letter or
/// `_`), by hand: the lexer's hottest loop.
fn identifier_len(input: &str) -> usize {
    let bytes = input.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut len = 0;
    while len < bytes.len() {
        if word(bytes[len]) {
            len += 1;
        } else if bytes[len] == b'-' && bytes.get(len + 1).is_some_and(|&b| word(b)) {
            len += 2;
        } else {
            break;
        }
    }
    len
}

/// `bc:24:11:0a:00:01`.
fn literal_mac(input: &str) -> IResult<&str, [u8; 6]> {
    let (rest, (first, others)) = pair(hex2, count(preceded(tag(":"), hex2), 5))(input)?;
    let mut mac = [first, 0, 0, 0, 0, 0];
    mac[1..].copy_from_slice(&others);
    Ok((rest, mac))
}

/// The text of a possible IPv6 literal with an optional `/prefix`. The scan stops after 64
/// characters (the longest address is 45): without the cap, every name of a chain like
/// `b.c.c.c…` rescanned the rest of the chain (hex digits and dots), so lexing was quadratic.
fn literal_ipv6_text(input: &str) -> Option<&str> {
    let is_part = |b: &u8| b.is_ascii_hexdigit() || *b == b':' || *b == b'.';
    let len = input.bytes().take(64).take_while(is_part).count();
    if len == 0 {
        return None;
    }
    let digits = input[len..]
        .strip_prefix('/')
        .map_or(0, |p| p.bytes().take_while(u8::is_ascii_digit).count());
    let end = if digits > 0 { len + 1 + digits } else { len };
    Some(&input[..end])
}

/// `10.20.0.0` with an optional `/24`.
fn literal_ipv4(input: &str) -> IResult<&str, &str> {
    recognize(tuple((
        digit1,
        count(preceded(tag("."), digit1), 3),
        opt(pair(tag("/"), digit1)),
    )))(input)
}

/// Digits (with `_`) and an optional unit suffix.
fn number_with_unit(input: &str) -> IResult<&str, (&str, &str)> {
    pair(
        recognize(pair(
            digit1,
            take_while(|c: char| c.is_ascii_digit() || c == '_'),
        )),
        take_while(|c: char| c.is_ascii_alphabetic()),
    )(input)
}

/// `[A-Za-z_][A-Za-z0-9_]*` with inner `-` between word characters.
fn identifier(input: &str) -> IResult<&str, &str> {
    let word = |i| take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(i);
    recognize(pair(
        alt((
            take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
            tag("_"),
        )),
        nom::multi::many0(alt((word, recognize(pair(tag("-"), word))))),
    ))(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_punctuation_is_found_by_its_first_byte_longest_first() {
        for first in 0..=u8::MAX {
            let puncts = puncts_starting_with(first);
            for (i, p) in puncts.iter().enumerate() {
                assert_eq!(p.as_bytes()[0], first, "{p}");
                // No longer punctuation after a shorter one it starts with.
                for later in &puncts[i + 1..] {
                    assert!(!later.starts_with(p), "{later} after {p}");
                }
            }
        }
        for p in [
            "..=", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "|", "?", "%",
        ] {
            assert_eq!(toks(p), vec![Tok::Punct(p)]);
        }
    }

    fn toks(text: &str) -> Vec<Tok> {
        let (tokens, diagnostics) = lex(FileId(0), text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        tokens
            .into_iter()
            .map(|t| t.tok)
            .filter(|t| *t != Tok::Eof)
            .collect()
    }

    #[test]
    fn literals() {
        assert_eq!(toks("1_000"), vec![Tok::Int(1000)]);
        assert_eq!(toks("8GiB"), vec![Tok::Size(8 << 30)]);
        assert_eq!(toks("1GB"), vec![Tok::Size(1_000_000_000)]);
        assert_eq!(toks("5min"), vec![Tok::Duration(300_000)]);
        assert_eq!(
            toks("10.20.0.1"),
            vec![Tok::Ip("10.20.0.1".parse().unwrap())]
        );
        assert!(matches!(toks("10.20.0.0/24")[0], Tok::Cidr(_)));
        assert!(matches!(toks("fd00:20::/64")[0], Tok::Cidr(_)));
        assert_eq!(
            toks("fd00:20::5"),
            vec![Tok::Ip("fd00:20::5".parse().unwrap())]
        );
        assert_eq!(
            toks("bc:24:11:0a:00:01"),
            vec![Tok::Mac([0xbc, 0x24, 0x11, 0x0a, 0, 1])]
        );
    }

    #[test]
    fn literals_that_start_with_a_digit() {
        // Numbers take a fast path; MACs and addresses that start with a digit must not.
        assert_eq!(toks("8000,"), vec![Tok::Int(8000), Tok::Punct(",")]);
        assert_eq!(toks("128MiB}"), vec![Tok::Size(128 << 20), Tok::Punct("}")]);
        assert_eq!(toks("30s"), vec![Tok::Duration(30_000)]);
        assert_eq!(
            toks("02:00:00:0a:00:01"),
            vec![Tok::Mac([2, 0, 0, 0x0a, 0, 1])]
        );
        assert_eq!(
            toks("2001:db8::1"),
            vec![Tok::Ip("2001:db8::1".parse().unwrap())]
        );
        assert_eq!(toks("10.0.0.1"), vec![Tok::Ip("10.0.0.1".parse().unwrap())]);
        assert_eq!(
            toks("1..3"),
            vec![Tok::Int(1), Tok::Punct(".."), Tok::Int(3)]
        );
        assert_eq!(toks("2-1"), vec![Tok::Int(2), Tok::Punct("-"), Tok::Int(1)]);
    }

    #[test]
    fn identifier_len_matches_the_grammar() {
        for text in [
            "a", "_", "cp-1 x", "a--b", "a-", "a-b-c.d", "x_1-y_2:", "abc def", "a-_b", "é",
        ] {
            if !text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                continue;
            }
            let (_, name) = identifier(text).unwrap();
            assert_eq!(identifier_len(text), name.len(), "{text}");
        }
    }

    #[test]
    fn names_beside_hex_literals() {
        assert_eq!(
            toks("ab:cd:ef:01:02:03"),
            vec![Tok::Mac([0xab, 0xcd, 0xef, 1, 2, 3])]
        );
        assert!(matches!(toks("fe80::1")[..], [Tok::Ip(_)]));
        assert!(matches!(toks("abcd::/64")[..], [Tok::Cidr(_)]));
        assert_eq!(toks("fe80"), vec![Tok::Ident("fe80".into())]);
        assert_eq!(toks("ab.cd").len(), 3);
        assert_eq!(toks("ab: int").len(), 3);
    }

    #[test]
    fn identifiers_and_ranges() {
        assert_eq!(toks("cp-1"), vec![Tok::Ident("cp-1".into())]);
        assert_eq!(toks("a - b").len(), 3);
        assert_eq!(
            toks("1..=3"),
            vec![Tok::Int(1), Tok::Punct("..="), Tok::Int(3)]
        );
        assert_eq!(toks("x: int").len(), 3);
        assert_eq!(toks("a->b").len(), 3);
    }

    #[test]
    fn interpolation_nests() {
        let t = toks(r#""a ${f("b")} c""#);
        assert_eq!(t[0], Tok::StrStart(false));
        assert_eq!(t[1], Tok::StrText("a ".into()));
        assert_eq!(t[2], Tok::InterpStart);
        assert_eq!(*t.last().unwrap(), Tok::StrEnd);
    }

    #[test]
    fn comments_are_trivia() {
        let text = "# one\nlet a = \"# not\" ## two\nlet b = \"${c # three\n}\"\n";
        let lexed = lex_with_comments(FileId(0), text);
        let comments: Vec<&str> = lexed
            .comments
            .iter()
            .map(|s| &text[s.start as usize..s.end as usize])
            .collect();
        assert_eq!(comments, vec!["# one", "## two", "# three"]);
        assert_eq!(lex(FileId(0), text).0, lexed.tokens, "tokens are unchanged");
    }

    #[test]
    fn nul_in_a_string_is_an_error() {
        let (tokens, d) = lex(FileId(0), "let a = \"\"\"\n  a\0b\n  \"\"\"\n");
        assert_eq!(d[0].message, "a NUL character in a string");
        assert!(tokens
            .iter()
            .all(|t| !matches!(&t.tok, Tok::StrText(s) if s.contains('\0'))));
    }

    #[test]
    fn errors_are_reported() {
        let (_, d) = lex(FileId(0), "10.20.0.300 8XB 10.0.0.1/24 \"abc");
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                "parse::literal",
                "parse::literal",
                "parse::literal",
                "parse::syntax"
            ]
        );
        let (_, d) = lex(FileId(0), "99999999999999999999");
        assert_eq!(d[0].code, "value::overflow");
    }
}

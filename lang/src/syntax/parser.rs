//! The parser: tokens to [`File`]. Recursive descent for items, precedence climbing for
//! binary operators. `parse_x` functions may not match (return `None` without consuming);
//! `expect_x` functions must match and report `parse::syntax` otherwise.
//!
//! Recovery: an error inside an item abandons that item and skips to the next token that
//! starts a line at column 0, so one run reports the syntax errors of every item.

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ast::*;
use crate::syntax::depth::{self, MAX_TREE_DEPTH};
use crate::syntax::lexer::{escape_len, lex, lex_from, unescape, Tok, Token};

/// Nesting depth beyond which the parser reports `limit::depth` instead of recursing.
pub const MAX_DEPTH: u32 = 128;

const KEYWORDS: &[&str] = &[
    "let", "type", "fn", "import", "as", "for", "in", "if", "then", "else", "assert", "with",
    "true", "false", "none",
];

/// Parses one file. Returns the items that parsed and every syntax error.
///
/// A large file is first parsed in parts on several threads (`parse_in_parts`); when that
/// cannot be shown to give the same items, or finds an error, the file is parsed whole, so the
/// result and the diagnostics are always those of the sequential parse.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    if text.len() >= PARALLEL_BYTES {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let parts = (text.len() / PART_BYTES).max(threads);
        if let Some(items) = parse_in_parts(file, text, threads, parts) {
            return (File { file, items }, Vec::new());
        }
    }
    let (items, diagnostics) = parse_whole(file, text);
    (File { file, items }, diagnostics)
}

/// The sequential parse: `text` lexed and parsed whole, on this thread.
fn parse_whole(file: FileId, text: &str) -> (Vec<Item>, Vec<Diagnostic>) {
    let (tokens, diagnostics) = lex(file, text);
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        lexer_errors: diagnostics.len(),
        diagnostics,
        depth: 0,
    };
    let items = parser.items_until_eof();
    (items, parser.diagnostics)
}

/// Files smaller than this are parsed on one thread: starting threads costs more than it saves.
const PARALLEL_BYTES: usize = 256 << 10;

/// About how much text a part has. Parts are much smaller than a thread's share of a large
/// file so that each part's tokens are freed, and their memory reused, before the next part is
/// lexed: fresh memory costs a page fault per page, which was a third of a large check. The
/// tokens of a 128 KiB part take about 1.5 MB; with 512 KiB parts, the peak memory of a
/// 10,000-application build was 10 MB higher (docs/performance.md).
const PART_BYTES: usize = 128 << 10;

/// The stack of a parsing thread: as much as the compiler's own thread has
/// (`plat::compile::with_large_stack`), since items nest as deep there as anywhere. It is
/// reserved, not used.
const PART_STACK: usize = 256 << 20;

/// Parses `text` in `parts` parts of about the same size, split at blank lines followed by the
/// start of an item, on `threads` threads (each a contiguous run of parts). Returns `None` (parse the file
/// whole) unless every part lexed and parsed without a diagnostic and ended cleanly: at top
/// level (no string, interpolation or brace open) and not after a `##` comment, which belongs
/// to the next item. Then the parts' tokens are exactly the whole file's, and no item can
/// continue past a split (an item never continues with a name at the start of a line), so the
/// items are those of the sequential parse, in the same order.
fn parse_in_parts(file: FileId, text: &str, threads: usize, parts: usize) -> Option<Vec<Item>> {
    let bounds = split_bounds(text, parts, &mut 0);
    if bounds.len() < 3 {
        return None;
    }
    let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    // Each thread parses a contiguous run of parts, one after the other.
    let per_thread = ranges.len().div_ceil(threads);
    let runs: Vec<Option<Vec<Item>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .chunks(per_thread)
            .map(|run| {
                std::thread::Builder::new()
                    .stack_size(PART_STACK)
                    .spawn_scoped(scope, move || {
                        let mut items = Vec::new();
                        for &(start, end) in run {
                            items.extend(parse_part(file, &text[..end], start)?);
                        }
                        Some(items)
                    })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle.ok()?.join() {
                Ok(items) => items,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let runs: Vec<Vec<Item>> = runs.into_iter().collect::<Option<_>>()?;
    let mut items = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    for run in runs {
        items.extend(run);
    }
    Some(items)
}

/// Where to split `text` into about `parts` parts: 0, the splits ([`item_split`]), the end.
/// Each search starts after the previous split, so no byte is searched twice; and when one
/// finds no split, none after it would either (rescanning to the end for every part made a
/// large file without blank lines quadratic). `searched` counts the bytes searched.
fn split_bounds(text: &str, parts: usize, searched: &mut usize) -> Vec<usize> {
    let mut bounds = vec![0];
    for part in 1..parts {
        let from = (text.len() * part / parts).max(bounds[bounds.len() - 1] + 1);
        match item_split(text, from) {
            Some(split) => {
                *searched += split.saturating_sub(from);
                bounds.push(split);
            }
            None => {
                *searched += text.len().saturating_sub(from);
                break;
            }
        }
    }
    bounds.push(text.len());
    bounds
}

/// The first offset at or after `from` that starts a line after a blank line (`\n\n`) with a
/// name that starts an item: `let`, `type`, `fn`, `import` or an entity kind (any name that is
/// not a keyword). `None` when there is none.
fn item_split(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(found) = text.get(at..)?.find("\n\n") {
        let start = at + found + 2;
        let word = &text[start..start + identifier_prefix(&bytes[start..])];
        let starts_item = !word.is_empty()
            && word.as_bytes()[0].is_ascii_alphabetic()
            && (["let", "type", "fn", "import"].contains(&word) || !KEYWORDS.contains(&word));
        if starts_item {
            return Some(start);
        }
        at = start - 1;
    }
    None
}

/// The length of the run of name characters (ASCII letters, digits, `_`) at the start.
fn identifier_prefix(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// Parses `text[start..]` (see [`parse_in_parts`]); `None` unless it ended cleanly.
fn parse_part(file: FileId, text: &str, start: usize) -> Option<Vec<Item>> {
    let (lexed, at_top_level) = lex_from(file, text, start);
    let tokens = lexed.tokens;
    let before_eof = tokens.len().checked_sub(2).map(|i| &tokens[i].tok);
    if !at_top_level || !lexed.diagnostics.is_empty() || matches!(before_eof, Some(Tok::Doc(_))) {
        return None;
    }
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        lexer_errors: 0,
        diagnostics: Vec::new(),
        depth: 0,
    };
    let items = parser.items_until_eof();
    parser.diagnostics.is_empty().then_some(items)
}

/// Parses a standalone expression (for `plat eval --expr`).
pub fn parse_expr(file: FileId, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    let (tokens, diagnostics) = lex(file, text);
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        lexer_errors: diagnostics.len(),
        diagnostics,
        depth: 0,
    };
    let mut expr = parser.expect_expr().ok();
    if let Some(span) = expr.as_ref().and_then(depth::expr_too_deep) {
        parser.too_deep(span);
        expr = None;
    }
    if expr.is_some() && parser.peek() != &Tok::Eof {
        let _ = parser.fail::<()>("end of input");
    }
    (expr, parser.diagnostics)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// The first `lexer_errors` diagnostics are the lexer's, in source order.
    lexer_errors: usize,
    depth: u32,
}

/// What [`Parser::bump`] moved past. The parser reads token values with `peek`, so bumping
/// needs no copy of the token (it once cloned every token, strings included).
struct Bumped {
    span: Span,
}

/// Marker: an error was reported; unwind to the item level.
struct Failed;

type PResult<T> = Result<T, Failed>;

impl Parser<'_> {
    // ----- token helpers -----

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        let index = (self.pos + offset).min(self.tokens.len() - 1);
        &self.tokens[index].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    /// Moves past the current token (never past `Eof`) and says where it was.
    fn bump(&mut self) -> Bumped {
        let span = self.tokens[self.pos].span;
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        Bumped { span }
    }

    /// Moves the text out of the current token when `text` finds some there (a string piece,
    /// a `##` line), and moves past it. The parser never reads a token twice, so the text is
    /// taken, not copied.
    fn take_text(
        &mut self,
        text: impl FnOnce(&mut Tok) -> Option<&mut String>,
    ) -> Option<(String, Span)> {
        let taken = std::mem::take(text(&mut self.tokens[self.pos].tok)?);
        Some((taken, self.bump().span))
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn is_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Ident(name) if &**name == k)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, k: &str) -> bool {
        if self.is_keyword(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Ident(name) if KEYWORDS.contains(&&**name) => format!("keyword `{name}`"),
            Tok::Ident(name) => format!("name `{name}`"),
            Tok::Int(i) => format!("number `{i}`"),
            Tok::Size(_) => "a size".into(),
            Tok::Duration(_) => "a duration".into(),
            Tok::Ip(_) => "an address".into(),
            Tok::Cidr(_) => "a subnet".into(),
            Tok::Mac(_) => "a MAC address".into(),
            Tok::StrStart(_) | Tok::StrText(_) | Tok::StrEnd => "a string".into(),
            Tok::InterpStart | Tok::InterpEnd => "an interpolation".into(),
            Tok::Doc(_) => "a doc comment".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "end of file".into(),
        }
    }

    fn fail<T>(&mut self, expected: &str) -> PResult<T> {
        let found = Self::describe(self.peek());
        let span = self.span();
        if self.follows_lexer_error() {
            // The lexer dropped what stood here and said why; this error would only repeat it.
            return Err(Failed);
        }
        let help = match self.peek() {
            Tok::Punct("}") | Tok::Punct(",") | Tok::Punct(")") | Tok::Punct("]")
                if expected.contains("expression") =>
            {
                "every field needs a value after `=`".to_string()
            }
            _ => format!("write {expected} here"),
        };
        self.diagnostics.push(
            Diagnostic::error(
                "parse::syntax",
                span,
                format!("expected {expected}, found {found}"),
            )
            .with_label(format!("expected {expected}"))
            .with_help(help),
        );
        Err(Failed)
    }

    /// True when a lexer diagnostic lies between the previous token and the current one: the
    /// lexer rejected text there (an unknown character, `...`, an unterminated string).
    fn follows_lexer_error(&self) -> bool {
        let gap_start = if self.pos == 0 {
            0
        } else {
            self.prev_span().end
        };
        let gap_end = self.span().start;
        let lexer = &self.diagnostics[..self.lexer_errors];
        let first = lexer.partition_point(|d| d.span.start < gap_start);
        lexer.get(first).is_some_and(|d| d.span.end <= gap_end)
    }

    fn expect_punct(&mut self, p: &'static str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            self.fail(&format!("`{p}`"))
        }
    }

    fn expect_keyword(&mut self, k: &str) -> PResult<Span> {
        if self.is_keyword(k) {
            Ok(self.bump().span)
        } else {
            self.fail(&format!("`{k}`"))
        }
    }

    fn expect_ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek() {
            Tok::Ident(name) if !KEYWORDS.contains(&&**name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => self.fail(what),
        }
    }

    /// A field name: any identifier, keywords included (`type = "ClusterIP"`).
    fn expect_field_name(&mut self, what: &str) -> PResult<Ident> {
        match self.peek() {
            Tok::Ident(name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => self.fail(what),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error(
                    "limit::depth",
                    span,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                )
                .with_help("split the expression with `let` bindings or functions"),
            );
            return Err(Failed);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Reports a declaration whose tree is deeper than [`depth::MAX_TREE_DEPTH`] at `span`'s
    /// start (the deepest node may span many lines).
    fn too_deep(&mut self, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(
                "limit::depth",
                Span {
                    end: span.start,
                    ..span
                },
                format!("this declaration nests deeper than {MAX_TREE_DEPTH} levels"),
            )
            .with_help("split long chains of operators, fields or `with` with `let` bindings"),
        );
    }

    /// Skips to the next token that starts a line at column 0.
    fn recover(&mut self) {
        self.bump();
        while self.peek() != &Tok::Eof {
            let token = &self.tokens[self.pos];
            let at_line_start = token.newline_before
                && (token.span.start == 0
                    || self.text.as_bytes()[token.span.start as usize - 1] == b'\n');
            if at_line_start
                && !matches!(
                    token.tok,
                    Tok::Punct("}") | Tok::StrText(_) | Tok::StrEnd | Tok::InterpEnd
                )
            {
                return;
            }
            self.bump();
        }
    }

    // ----- items -----

    fn items_until_eof(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            let doc = self.docs();
            if self.peek() == &Tok::Eof {
                break;
            }
            let before = self.pos;
            match self.expect_item(doc) {
                Ok(item) => match depth::item_too_deep(&item) {
                    Some(span) => self.too_deep(span),
                    None => items.push(item),
                },
                Err(Failed) => {
                    if self
                        .diagnostics
                        .last()
                        .is_some_and(|d| d.code == "limit::depth")
                    {
                        // Recovering inside runaway nesting would report it once per line.
                        break;
                    }
                    if self.pos == before || !self.at_line_start() {
                        self.recover();
                    }
                }
            }
        }
        exact(items)
    }

    fn at_line_start(&self) -> bool {
        let token = &self.tokens[self.pos];
        token.tok == Tok::Eof
            || (token.newline_before
                && (token.span.start == 0
                    || self.text.as_bytes()[token.span.start as usize - 1] == b'\n'))
    }

    fn docs(&mut self) -> Option<String> {
        let mut lines = Vec::new();
        while let Some((line, _)) = self.take_text(|tok| match tok {
            Tok::Doc(line) => Some(line),
            _ => None,
        }) {
            lines.push(line);
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn expect_item(&mut self, doc: Option<String>) -> PResult<Item> {
        let start = self.span();
        let kind = match self.peek() {
            Tok::Ident(k) => match &**k {
                "import" => self.import()?,
                "let" => self.let_item()?,
                "type" => self.type_item()?,
                "fn" => self.fn_item()?,
                "kind"
                    if matches!(self.peek_at(1), Tok::Ident(_))
                        && self.peek_at(2) == &Tok::Punct(":") =>
                {
                    self.kind_item()?
                }
                "for" => self.for_item()?,
                "assert" => self.assert_item()?,
                name if KEYWORDS.contains(&name) => return self.fail(
                    "a declaration (`let`, `type`, `fn`, `import`, `for`, `assert` or an entity)",
                ),
                _ => self.entity()?,
            },
            _ => {
                return self.fail(
                    "a declaration (`let`, `type`, `fn`, `import`, `for`, `assert` or an entity)",
                )
            }
        };
        Ok(Item {
            kind,
            span: start.to(self.prev_span()),
            doc,
        })
    }

    fn import(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("import")?;
        let (path, path_span) = self.expect_plain_string("an import path in quotes")?;
        let alias = if self.eat_keyword("as") {
            Some(self.expect_ident("a namespace name")?)
        } else {
            None
        };
        Ok(ItemKind::Import {
            path,
            path_span,
            alias,
        })
    }

    fn let_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("let")?;
        let name = self.expect_ident("a name")?;
        let ty = if self.eat_punct(":") {
            Some(self.expect_type()?)
        } else {
            None
        };
        self.expect_punct("=")?;
        let value = self.expect_expr()?;
        Ok(ItemKind::Let { name, ty, value })
    }

    fn type_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("type")?;
        let name = self.expect_ident("a type name")?;
        self.expect_punct("=")?;
        let ty = self.expect_type()?;
        Ok(ItemKind::Type { name, ty })
    }

    fn fn_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("fn")?;
        let name = self.expect_ident("a function name")?;
        self.expect_punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            let param = self.expect_ident("a parameter name")?;
            self.expect_punct(":")?;
            let ty = self.expect_type()?;
            params.push(Param { name: param, ty });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        self.expect_punct("->")?;
        let ret = self.expect_type()?;
        self.expect_punct("=")?;
        let body = self.expect_expr()?;
        Ok(ItemKind::Fn {
            name,
            params,
            ret,
            body,
        })
    }

    fn kind_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("kind")?;
        let name = self.expect_ident("a kind name")?;
        self.expect_punct(":")?;
        let ty = self.expect_type()?;
        let single = if self.is_keyword("single") && !self.tokens[self.pos].newline_before {
            self.bump();
            true
        } else {
            false
        };
        Ok(ItemKind::Kind { name, ty, single })
    }

    fn for_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("for")?;
        let var = self.expect_ident("a loop variable")?;
        self.expect_keyword("in")?;
        let iter = self.expect_expr()?;
        self.expect_punct("{")?;
        self.enter()?;
        let items = self.for_body();
        self.leave();
        Ok(ItemKind::For {
            var,
            iter,
            items: items?,
        })
    }

    /// The declarations of a `for` up to and including the closing `}`.
    fn for_body(&mut self) -> PResult<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            let doc = self.docs();
            if self.eat_punct("}") {
                return Ok(exact(items));
            }
            if self.peek() == &Tok::Eof {
                return self.fail("`}`");
            }
            items.push(self.expect_item(doc)?);
        }
    }

    fn assert_item(&mut self) -> PResult<ItemKind> {
        self.expect_keyword("assert")?;
        let cond = self.expect_expr()?;
        self.expect_punct(",")?;
        let message = self.expect_expr()?;
        Ok(ItemKind::Assert { cond, message })
    }

    fn entity(&mut self) -> PResult<ItemKind> {
        let kind = self.expect_ident("an entity kind")?;
        let name = match self.peek() {
            Tok::Ident(_) => EntityName::Ident(self.expect_ident("an entity name")?),
            Tok::StrStart(_) => EntityName::Computed(self.expect_expr_prec(Prec::Postfix)?),
            _ => EntityName::None,
        };
        let body = if self.eat_punct("=") {
            EntityBody::Expr(self.expect_expr()?)
        } else if self.is_punct("{") {
            let open = self.bump().span;
            let fields = self.field_inits()?;
            EntityBody::Block(fields, open.to(self.prev_span()))
        } else {
            return self.fail("`{` or `=` after the entity name");
        };
        Ok(ItemKind::Entity { kind, name, body })
    }

    /// Fields up to and including the closing `}` (the `{` is consumed by the caller).
    fn field_inits(&mut self) -> PResult<Vec<FieldInit>> {
        let mut fields = Vec::new();
        loop {
            self.docs();
            if self.eat_punct("}") {
                return Ok(exact(fields));
            }
            let name = match self.peek() {
                Tok::StrStart(_) => {
                    let (text, span) = self.expect_plain_string("a field name")?;
                    Ident {
                        name: text.into(),
                        span,
                    }
                }
                _ => self.expect_field_name("a field name or `}`")?,
            };
            self.expect_punct("=")?;
            let value = self.expect_expr()?;
            fields.push(FieldInit { name, value });
            self.eat_punct(",");
        }
    }

    fn expect_plain_string(&mut self, what: &str) -> PResult<(String, Span)> {
        let start = self.span();
        if !matches!(self.peek(), Tok::StrStart(false)) {
            return self.fail(what);
        }
        self.bump();
        let mut text = String::new();
        loop {
            match self.peek().clone() {
                Tok::StrText(t) => {
                    text.push_str(&t);
                    self.bump();
                }
                Tok::StrEnd => {
                    self.bump();
                    return Ok((text, start.to(self.prev_span())));
                }
                _ => return self.fail(&format!("{what} without interpolation")),
            }
        }
    }

    // ----- types -----

    fn expect_type(&mut self) -> PResult<TypeExpr> {
        self.enter()?;
        let result = self.type_union();
        self.leave();
        result
    }

    fn type_union(&mut self) -> PResult<TypeExpr> {
        let first = self.type_postfix()?;
        if !self.is_punct("|") {
            return Ok(first);
        }
        let mut members = vec![first];
        while self.eat_punct("|") {
            members.push(self.type_postfix()?);
        }
        let span = members[0].span.to(members[members.len() - 1].span);
        Ok(TypeExpr {
            kind: TypeKind::Union(members),
            span,
        })
    }

    fn type_postfix(&mut self) -> PResult<TypeExpr> {
        let mut ty = self.type_atom()?;
        while self.is_punct("?") {
            let end = self.bump().span;
            let span = ty.span.to(end);
            ty = TypeExpr {
                kind: TypeKind::Optional(Box::new(ty)),
                span,
            };
        }
        Ok(ty)
    }

    fn type_atom(&mut self) -> PResult<TypeExpr> {
        let start = self.span();
        let kind = match self.peek().clone() {
            Tok::StrStart(false) => {
                TypeKind::StrLit(self.expect_plain_string("a string literal type")?.0)
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.expect_type()?;
                self.expect_punct(")")?;
                return Ok(TypeExpr {
                    kind: inner.kind,
                    span: start.to(self.prev_span()),
                });
            }
            Tok::Punct("[") => {
                self.bump();
                let inner = self.expect_type()?;
                self.expect_punct("]")?;
                TypeKind::List(Box::new(inner))
            }
            Tok::Punct("{") => {
                self.bump();
                self.record_type()?
            }
            Tok::Ident(name) if &*name == "int" && self.peek_at(1) == &Tok::Punct("(") => {
                self.bump();
                self.bump();
                let lo = self.expect_signed_int()?;
                let inclusive = if self.eat_punct("..=") {
                    true
                } else {
                    self.expect_punct("..")?;
                    false
                };
                let hi = self.expect_signed_int()?;
                self.expect_punct(")")?;
                TypeKind::IntRange(lo, hi, inclusive)
            }
            Tok::Ident(_) => {
                let first = self.expect_ident("a type")?;
                if self.is_punct(".") {
                    self.bump();
                    let second = self.expect_ident("a type name")?;
                    TypeKind::Name(Some(first), second)
                } else {
                    TypeKind::Name(None, first)
                }
            }
            _ => return self.fail("a type"),
        };
        Ok(TypeExpr {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn expect_signed_int(&mut self) -> PResult<i64> {
        let negative = self.eat_punct("-");
        match self.peek().clone() {
            // i64::MIN marks the magnitude 2^63, which the lexer allows only after `-`.
            Tok::Int(i) => {
                self.bump();
                Ok(if negative { i.wrapping_neg() } else { i })
            }
            _ => self.fail("an integer bound"),
        }
    }

    /// After `{`: a record type, or `{string: T}` for a map.
    fn record_type(&mut self) -> PResult<TypeKind> {
        let mut fields = Vec::new();
        loop {
            let doc = self.docs();
            if self.eat_punct("}") {
                break;
            }
            let name = self.expect_field_name("a field name or `}`")?;
            self.expect_punct(":")?;
            let ty = self.expect_type()?;
            let default = if self.eat_punct("=") {
                Some(self.expect_expr()?)
            } else {
                None
            };
            fields.push(TypeField {
                name,
                ty,
                default,
                doc,
            });
            self.eat_punct(",");
        }
        if fields.len() == 1 && &*fields[0].name.name == "string" && fields[0].default.is_none() {
            let field = fields.pop().expect("one field");
            return Ok(TypeKind::Map(Box::new(field.ty)));
        }
        Ok(TypeKind::Record(fields))
    }

    // ----- expressions -----

    fn expect_expr(&mut self) -> PResult<Expr> {
        self.expect_expr_prec(Prec::Lowest)
    }

    fn expect_expr_prec(&mut self, min: Prec) -> PResult<Expr> {
        self.enter()?;
        let result = self.binary(min);
        self.leave();
        result
    }

    fn binary(&mut self, min: Prec) -> PResult<Expr> {
        let mut left = self.unary()?;
        while let Some((op, prec)) = self.binary_op() {
            if prec < min {
                break;
            }
            self.bump();
            if op == BinKind::Range(false) || op == BinKind::Range(true) {
                let right = self.expect_expr_prec(Prec::Additive)?;
                let span = left.span.to(right.span);
                let inclusive = op == BinKind::Range(true);
                left = Expr {
                    kind: ExprKind::Range(Box::new(left), Box::new(right), inclusive),
                    span,
                };
                continue;
            }
            let BinKind::Op(op) = op else {
                unreachable!("ranges handled above")
            };
            // Comparisons do not chain; arithmetic and logic are left-associative.
            let next = if prec == Prec::Compare {
                Prec::Range
            } else {
                prec.next()
            };
            let right = self.expect_expr_prec(next)?;
            let span = left.span.to(right.span);
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span,
            };
            if prec == Prec::Compare && self.binary_op().is_some_and(|(_, p)| p == Prec::Compare) {
                let span = self.span();
                self.diagnostics.push(
                    Diagnostic::error("parse::syntax", span, "comparisons do not chain")
                        .with_label("a second comparison")
                        .with_help("join two comparisons with `&&`: `a < b && b < c`"),
                );
                return Err(Failed);
            }
        }
        Ok(left)
    }

    fn binary_op(&self) -> Option<(BinKind, Prec)> {
        let Tok::Punct(p) = self.peek() else {
            return None;
        };
        let (op, prec) = match *p {
            "||" => (BinKind::Op(BinOp::Or), Prec::Or),
            "&&" => (BinKind::Op(BinOp::And), Prec::And),
            "==" => (BinKind::Op(BinOp::Eq), Prec::Compare),
            "!=" => (BinKind::Op(BinOp::Ne), Prec::Compare),
            "<" => (BinKind::Op(BinOp::Lt), Prec::Compare),
            "<=" => (BinKind::Op(BinOp::Le), Prec::Compare),
            ">" => (BinKind::Op(BinOp::Gt), Prec::Compare),
            ">=" => (BinKind::Op(BinOp::Ge), Prec::Compare),
            ".." => (BinKind::Range(false), Prec::Range),
            "..=" => (BinKind::Range(true), Prec::Range),
            "+" => (BinKind::Op(BinOp::Add), Prec::Additive),
            "-" => (BinKind::Op(BinOp::Sub), Prec::Additive),
            "*" => (BinKind::Op(BinOp::Mul), Prec::Multiplicative),
            "/" => (BinKind::Op(BinOp::Div), Prec::Multiplicative),
            "%" => (BinKind::Op(BinOp::Rem), Prec::Multiplicative),
            _ => return None,
        };
        Some((op, prec))
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let op = if self.is_punct("!") {
            UnOp::Not
        } else if self.is_punct("-") {
            UnOp::Neg
        } else {
            return self.postfix();
        };
        self.bump();
        // `-9223372036854775808`: the lexer marks the magnitude 2^63 after a `-` as
        // `Int(i64::MIN)`, which is exactly the value of the negated literal.
        if op == UnOp::Neg && self.peek() == &Tok::Int(i64::MIN) {
            let end = self.bump().span;
            return Ok(Expr {
                kind: ExprKind::Int(i64::MIN),
                span: start.to(end),
            });
        }
        self.enter()?;
        let operand = self.unary();
        self.leave();
        let operand = operand?;
        // Fold `-literal` so that literals stay literals (`- -9223372036854775808` is left to
        // evaluation, which reports the overflow).
        if let (UnOp::Neg, ExprKind::Int(i)) = (op, &operand.kind) {
            if let Some(negated) = i.checked_neg() {
                return Ok(Expr {
                    kind: ExprKind::Int(negated),
                    span: start.to(operand.span),
                });
            }
        }
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary(op, Box::new(operand)),
            span,
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.primary()?;
        loop {
            if self.is_punct(".") {
                self.bump();
                let name = self.expect_field_name("a field or method name")?;
                if self.is_punct("(") && !self.tokens[self.pos].newline_before {
                    let args = self.call_args()?;
                    let span = expr.span.to(self.prev_span());
                    expr = Expr {
                        kind: ExprKind::Method(Box::new(expr), name, args),
                        span,
                    };
                } else {
                    let span = expr.span.to(name.span);
                    expr = Expr {
                        kind: ExprKind::Field(Box::new(expr), name),
                        span,
                    };
                }
            } else if self.is_punct("[") && !self.tokens[self.pos].newline_before {
                self.bump();
                let index = self.expect_expr()?;
                self.expect_punct("]")?;
                let span = expr.span.to(self.prev_span());
                expr = Expr {
                    kind: ExprKind::Index(Box::new(expr), Box::new(index)),
                    span,
                };
            } else if self.is_keyword("with") {
                self.bump();
                self.expect_punct("{")?;
                let fields = self.field_inits()?;
                let span = expr.span.to(self.prev_span());
                expr = Expr {
                    kind: ExprKind::With(Box::new(expr), fields),
                    span,
                };
            } else {
                return Ok(expr);
            }
        }
    }

    fn call_args(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            args.push(self.expect_expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok(exact(args))
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let literal = |kind| Ok(Some(kind));
        let kind: PResult<Option<ExprKind>> = match self.peek().clone() {
            Tok::Int(i64::MIN) => {
                // The magnitude 2^63 after a binary `-` (`a - 9223372036854775808`).
                self.diagnostics.push(
                    Diagnostic::error(
                        "value::overflow",
                        start,
                        "`9223372036854775808` does not fit in a 64-bit integer",
                    )
                    .with_help("integers range from -9223372036854775808 to 9223372036854775807"),
                );
                literal(ExprKind::Int(0))
            }
            Tok::Int(i) => literal(ExprKind::Int(i)),
            Tok::Size(b) => literal(ExprKind::Size(b)),
            Tok::Duration(ms) => literal(ExprKind::Duration(ms)),
            Tok::Ip(ip) => literal(ExprKind::Ip(ip)),
            Tok::Cidr(c) => literal(ExprKind::Cidr(c)),
            Tok::Mac(m) => literal(ExprKind::Mac(m)),
            _ => Ok(None),
        };
        if let Some(kind) = kind? {
            self.bump();
            return Ok(Expr { kind, span: start });
        }
        match self.peek().clone() {
            Tok::StrStart(triple) => self.string(triple),
            Tok::Punct("(") => {
                self.bump();
                let inner = self.expect_expr()?;
                self.expect_punct(")")?;
                Ok(Expr {
                    kind: ExprKind::Paren(Box::new(inner)),
                    span: start.to(self.prev_span()),
                })
            }
            Tok::Punct("[") => self.list(),
            Tok::Punct("{") => {
                self.bump();
                let fields = self.field_inits()?;
                Ok(Expr {
                    kind: ExprKind::Record(fields),
                    span: start.to(self.prev_span()),
                })
            }
            Tok::Ident(name) => match &*name {
                "true" | "false" => {
                    self.bump();
                    Ok(Expr {
                        kind: ExprKind::Bool(&*name == "true"),
                        span: start,
                    })
                }
                "none" => {
                    self.bump();
                    Ok(Expr {
                        kind: ExprKind::None,
                        span: start,
                    })
                }
                "if" => self.if_expr(),
                "let" => self.let_in(),
                _ => {
                    let ident = self.expect_ident("an expression")?;
                    if self.is_punct("(") && !self.tokens[self.pos].newline_before {
                        let args = self.call_args()?;
                        return Ok(Expr {
                            kind: ExprKind::Call(ident, args),
                            span: start.to(self.prev_span()),
                        });
                    }
                    Ok(Expr {
                        span: ident.span,
                        kind: ExprKind::Name(ident),
                    })
                }
            },
            _ => self.fail("an expression"),
        }
    }

    fn if_expr(&mut self) -> PResult<Expr> {
        let start = self.expect_keyword("if")?;
        let cond = self.expect_expr()?;
        self.expect_keyword("then")?;
        let then = self.expect_expr()?;
        self.expect_keyword("else")?;
        let otherwise = self.expect_expr()?;
        let span = start.to(otherwise.span);
        Ok(Expr {
            kind: ExprKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)),
            span,
        })
    }

    fn let_in(&mut self) -> PResult<Expr> {
        let start = self.expect_keyword("let")?;
        let name = self.expect_ident("a name")?;
        let ty = if self.eat_punct(":") {
            Some(Box::new(self.expect_type()?))
        } else {
            None
        };
        self.expect_punct("=")?;
        let value = self.expect_expr()?;
        self.expect_keyword("in")?;
        let body = self.expect_expr()?;
        let span = start.to(body.span);
        Ok(Expr {
            kind: ExprKind::LetIn(name, ty, Box::new(value), Box::new(body)),
            span,
        })
    }

    fn list(&mut self) -> PResult<Expr> {
        let start = self.expect_punct("[")?;
        if self.eat_keyword("for") {
            let var = self.expect_ident("a loop variable")?;
            self.expect_keyword("in")?;
            let iter = self.expect_expr()?;
            let filter = if self.eat_keyword("if") {
                Some(Box::new(self.expect_expr()?))
            } else {
                None
            };
            self.expect_punct("=>")?;
            let body = self.expect_expr()?;
            self.expect_punct("]")?;
            return Ok(Expr {
                kind: ExprKind::Comprehension {
                    var,
                    iter: Box::new(iter),
                    filter,
                    body: Box::new(body),
                },
                span: start.to(self.prev_span()),
            });
        }
        let mut items = Vec::new();
        while !self.is_punct("]") {
            items.push(self.expect_expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("]")?;
        Ok(Expr {
            kind: ExprKind::List(exact(items)),
            span: start.to(self.prev_span()),
        })
    }

    fn string(&mut self, triple: bool) -> PResult<Expr> {
        let start = self.bump().span;
        let mut raw_parts: Vec<(Option<String>, Option<Expr>, Span)> = Vec::new();
        loop {
            let text = self.take_text(|tok| match tok {
                Tok::StrText(text) => Some(text),
                _ => None,
            });
            if let Some((text, span)) = text {
                raw_parts.push((Some(text), None, span));
                continue;
            }
            match self.peek() {
                Tok::InterpStart => {
                    self.bump();
                    let expr = self.expect_expr()?;
                    if !matches!(self.peek(), Tok::InterpEnd) {
                        return self.fail("`}` closing the interpolation");
                    }
                    self.bump();
                    let span = expr.span;
                    raw_parts.push((None, Some(expr), span));
                }
                Tok::StrEnd => {
                    self.bump();
                    break;
                }
                _ => return self.fail("the end of the string"),
            }
        }
        let span = start.to(self.prev_span());
        let parts = if triple {
            self.dedent(raw_parts)?
        } else {
            Self::plain_parts(raw_parts)
        };
        Ok(Expr {
            kind: ExprKind::Str(parts),
            span,
        })
    }

    fn plain_parts(raw: Vec<(Option<String>, Option<Expr>, Span)>) -> Vec<StrPart> {
        // `exact`: collecting in place keeps `raw`'s larger allocation, for as long as the
        // syntax tree lives.
        exact(
            raw.into_iter()
                .map(|(text, expr, _)| match (text, expr) {
                    (Some(text), _) => StrPart::Lit(text),
                    (None, Some(expr)) => StrPart::Interp(Box::new(expr)),
                    (None, None) => StrPart::Lit(String::new()),
                })
                .collect(),
        )
    }

    /// `"""` strings: drop the first line break, the last line if it is only indentation, and
    /// the common indentation of every line; then process escapes.
    fn dedent(&mut self, raw: Vec<(Option<String>, Option<Expr>, Span)>) -> PResult<Vec<StrPart>> {
        // Work on a flat text where each interpolation is a placeholder character, so that
        // line structure is visible; placeholders count as content.
        const HOLE: char = '\u{0}';
        let mut flat = String::new();
        let mut exprs = Vec::new();
        let mut spans = Vec::new();
        for (text, expr, span) in raw {
            match (text, expr) {
                (Some(text), _) => {
                    // Escapes are checked on the raw text, where the error's position is known;
                    // removing indentation never creates or breaks an escape.
                    if let Err((offset, message)) = unescape(&text) {
                        let start = span.start as usize + offset;
                        let end = start + escape_len(&text, offset);
                        self.diagnostics.push(
                            Diagnostic::error(
                                "parse::escape",
                                Span::new(span.file, start, end),
                                message,
                            )
                            .with_help("escapes are \\n \\t \\r \\\\ \\\" \\$ and \\u{hex}"),
                        );
                        return Err(Failed);
                    }
                    spans.push((flat.len(), span));
                    // Line breaks are `\n` whatever the file's line endings (a CRLF checkout):
                    // a value must not depend on them. An escaped `\r` is still a CR.
                    if text.contains('\r') {
                        flat.push_str(&text.replace("\r\n", "\n"));
                    } else {
                        flat.push_str(&text);
                    }
                }
                (None, Some(expr)) => {
                    flat.push(HOLE);
                    exprs.push(expr);
                }
                _ => {}
            }
        }
        let body = flat.strip_prefix('\n').unwrap_or(&flat);
        let mut lines: Vec<&str> = body.split('\n').collect();
        if lines.len() > 1
            && lines
                .last()
                .is_some_and(|l| l.chars().all(|c| c == ' ' || c == '\t'))
        {
            let last = lines.len() - 1;
            lines[last] = "";
        }
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
            .min()
            .unwrap_or(0);
        let dedented: Vec<&str> = lines
            .iter()
            .map(|l| {
                if l.len() >= indent {
                    &l[indent..]
                } else {
                    l.trim_start_matches([' ', '\t'])
                }
            })
            .collect();
        let text = dedented.join("\n");
        let mut parts = Vec::new();
        let mut exprs = exprs.into_iter();
        for (i, chunk) in text.split(HOLE).enumerate() {
            if i > 0 {
                parts.push(StrPart::Interp(Box::new(
                    exprs.next().expect("one expression per hole"),
                )));
            }
            match unescape(chunk) {
                Ok(text) => parts.push(StrPart::Lit(text)),
                Err((_, message)) => {
                    let span = spans.first().map_or(self.prev_span(), |(_, s)| *s);
                    self.diagnostics.push(
                        Diagnostic::error("parse::escape", span, message)
                            .with_help("escapes are \\n \\t \\r \\\\ \\\" \\$ and \\u{hex}"),
                    );
                    return Err(Failed);
                }
            }
        }
        Ok(exact(parts))
    }
}

/// `v` with no spare capacity. A growing vector has up to half its room unused, and syntax
/// trees live until evaluation ends: on a large platform that spare room was a quarter of the
/// trees' memory.
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BinKind {
    Op(BinOp),
    Range(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Lowest,
    Or,
    And,
    Compare,
    Range,
    Additive,
    Multiplicative,
    Postfix,
}

impl Prec {
    fn next(self) -> Prec {
        match self {
            Prec::Lowest => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Compare,
            Prec::Compare => Prec::Range,
            Prec::Range => Prec::Additive,
            Prec::Additive => Prec::Multiplicative,
            Prec::Multiplicative | Prec::Postfix => Prec::Postfix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> File {
        let (file, diagnostics) = parse(FileId(0), text);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        file
    }

    /// Finding the split points searches each byte at most once, with or without blank lines
    /// (it used to search to the end of the file for every part when there was none).
    #[test]
    fn split_search_is_linear() {
        let one_line = format!("let a = \"{}\"\n", "x".repeat(1 << 20));
        let blank_lines = "let a = 1\n\n".repeat(100_000);
        let late_split = format!("{}\n\nlet b = 1\n", "x".repeat(1 << 20));
        for text in [&one_line, &blank_lines, &late_split] {
            for parts in [2, 8, 1000] {
                let mut searched = 0;
                let bounds = split_bounds(text, parts, &mut searched);
                assert!(
                    searched <= text.len(),
                    "{searched} bytes searched in a text of {} with {parts} parts",
                    text.len()
                );
                assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
            }
        }
        assert_eq!(split_bounds(&one_line, 1000, &mut 0).len(), 2);
    }

    /// Whenever the parallel parse answers, it answers what the sequential one does.
    fn same_in_parts(text: &str) -> bool {
        let mut answered = false;
        for (threads, parts) in [(2, 2), (3, 3), (2, 5), (4, 9)] {
            if let Some(items) = parse_in_parts(FileId(0), text, threads, parts) {
                let (expected, diagnostics) = parse_whole(FileId(0), text);
                assert!(
                    diagnostics.is_empty(),
                    "parts ignored {diagnostics:?} in {text:?}"
                );
                assert_eq!(
                    items, expected,
                    "{parts} parts on {threads} threads: {text:?}"
                );
                answered = true;
            }
        }
        answered
    }

    #[test]
    fn parts_parse_as_the_whole() {
        let app = |i: usize| {
            format!(
                "namespace app-{i} {{ cluster = cluster.main }}\n\n\
                 ## The app.\nservice app-{i} {{\n  port = {i}\n  env = {{ A = \"${{x}}-{i}\" }}\n}}\n\n\
                 let l{i} = [\n\n  1,\n\n  2]\n\n"
            )
        };
        let plain: String = (0..40).map(app).collect();
        assert!(same_in_parts(&plain), "a plain file splits");
        // Each of these must either split where it is safe or give up, never differ.
        let tricky = [
            // A blank line and an item inside a multi-line string.
            format!("let s = \"\"\"\n{}\n\"\"\"\n{}", app(1), plain),
            // A `##` comment separated from its item by a blank line.
            plain.replace("## The app.\n", "## The app.\n\n"),
            // An unclosed brace, and a syntax error.
            format!("{plain}vlan x {{\n\n{plain}"),
            format!("{plain}let = 1\n\n{plain}"),
            // Keywords at the start of a line continue an expression.
            plain.replace(
                "let l1 = [",
                "let c = if true\n\nthen 1\n\nelse 2\nlet l1 = [",
            ),
            // Windows line breaks: no blank `\n\n`.
            plain.replace('\n', "\r\n"),
        ];
        for text in &tricky {
            same_in_parts(text);
        }
    }

    #[test]
    fn items() {
        let file = ok(r#"
import "lib/net.plat" as net
let a: int = 1 + 2 * 3
type App = { image: string, port: port = 8080, replicas: int(1..20) = 2 }
fn f(x: int, y: "a" | "b") -> int = x
vlan nodes { id = 20, subnet = 10.20.0.0/24 }
vm "cp-${i}" = f(1) with { cores = 4 }
site { name = "lab" }
for i in 1..=3 { vlan "t-${i}" { id = i } }
assert a == 7, "math"
"#);
        assert_eq!(file.items.len(), 9);
    }

    #[test]
    fn multiline_strings_dedent() {
        let file = ok("let doc = \"\"\"\n  first\n    indented\n  last\n  \"\"\"\n");
        let ItemKind::Let { value, .. } = &file.items[0].kind else {
            panic!()
        };
        assert_eq!(
            value.kind,
            ExprKind::Str(vec![StrPart::Lit("first\n  indented\nlast\n".into())])
        );
    }

    #[test]
    fn errors_recover_per_item() {
        let (file, diagnostics) = parse(
            FileId(0),
            "let a = 1\nlet b = { x = 1, y = }\nlet c = )\nlet d = 4\n",
        );
        assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
        assert_eq!(file.items.len(), 2);
    }

    #[test]
    fn deep_nesting_is_a_diagnostic() {
        let text = format!("let a = {}1{}", "(".repeat(5000), ")".repeat(5000));
        let (_, diagnostics) = parse(FileId(0), &text);
        assert_eq!(diagnostics[0].code, "limit::depth");
    }
}

//! The printer: one recursive walk over the syntax tree that writes the canonical layout.
//!
//! Comments are trivia from the lexer, printed in source order: before an item, a field, an
//! element or a closing bracket, every comment that starts before it is written on its own
//! line; a comment that follows an element on its line stays there. A comment inside an
//! expression that has no such place (`1 + # c` ...) moves to the next one.
//!
//! Groups (brackets with elements) are tried flat first: a flat rendering is a second
//! printer in flat mode, which fails on anything that needs a line break.

use std::mem;

use super::WIDTH;
use crate::span::Span;
use crate::syntax::ast::*;

/// Flat mode met something that needs a line break.
struct NotFlat;

type R = Result<(), NotFlat>;

/// Prints `file`, parsed from `src`, with the `comments` of `src`.
pub(super) fn print(src: &str, file: &File, comments: &[Span]) -> String {
    let mut printer = Printer::new(src, comments, false);
    printer.items(&file.items);
    printer.flush_before(u32::MAX);
    let mut out = printer.out;
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

struct Printer<'a> {
    src: &'a str,
    comments: &'a [Span],
    /// Which comments are printed (empty in flat mode, which prints none).
    done: Vec<bool>,
    /// The first comment that may not be printed yet.
    next: usize,
    out: String,
    indent: usize,
    flat: bool,
    /// The next line is the first inside its block (no blank line before it).
    first: bool,
}

/// How a bracketed group looks.
#[derive(Clone, Copy)]
struct Group {
    open: &'static str,
    close: &'static str,
    /// `{ a = 1 }` rather than `{a = 1}` when flat.
    pad: bool,
    /// The source range holding the elements (a line break or comment in it breaks the group).
    lo: u32,
    hi: u32,
}

/// One element of a group.
#[derive(Clone, Copy)]
enum Elem<'t> {
    Expr(&'t Expr),
    /// A field, the width its name is padded to when broken, and whether a comma must follow
    /// it on its own line.
    Field(&'t FieldInit, usize, bool),
    Param(&'t Param),
    TypeField(&'t TypeField),
    MapValue(&'t TypeExpr),
}

impl Elem<'_> {
    fn range(&self) -> (u32, u32) {
        match self {
            Elem::Expr(e) => (e.span.start, e.span.end),
            Elem::Field(f, ..) => (f.name.span.start, f.value.span.end),
            Elem::Param(p) => (p.name.span.start, p.ty.span.end),
            Elem::TypeField(f) => (
                f.name.span.start,
                f.default.as_ref().map_or(f.ty.span.end, |d| d.span.end),
            ),
            Elem::MapValue(t) => (t.span.start, t.span.end),
        }
    }
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, comments: &'a [Span], flat: bool) -> Printer<'a> {
        Printer {
            src,
            comments,
            done: if flat {
                Vec::new()
            } else {
                vec![false; comments.len()]
            },
            next: 0,
            out: String::new(),
            indent: 0,
            flat,
            first: true,
        }
    }

    // ----- output and trivia -----

    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn slice(&self, span: Span) -> &'a str {
        let start = (span.start as usize).min(self.src.len());
        let end = (span.end as usize).clamp(start, self.src.len());
        &self.src[start..end]
    }

    fn range_text(&self, lo: u32, hi: u32) -> &'a str {
        self.slice(Span {
            file: Default::default(),
            start: lo,
            end: hi,
        })
    }

    fn column(&self) -> usize {
        let line = match self.out.rfind('\n') {
            Some(i) => &self.out[i + 1..],
            None => &self.out,
        };
        line.chars().count()
    }

    fn trim_spaces(&mut self) {
        let len = self.out.trim_end_matches(' ').len();
        self.out.truncate(len);
    }

    fn nl(&mut self) {
        self.trim_spaces();
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push(' ');
        }
    }

    /// Starts the line of something at `pos`: keeps one blank line if the source had one.
    fn start_line(&mut self, pos: u32) {
        if self.out.is_empty() {
            self.first = false;
            return;
        }
        if !self.first && self.blank_before(pos) {
            self.trim_spaces();
            self.out.push('\n');
        }
        self.nl();
        self.first = false;
    }

    fn blank_before(&self, pos: u32) -> bool {
        let before = self.range_text(0, pos);
        let gap = &before[before.trim_end().len()..];
        gap.matches('\n').count() >= 2
    }

    fn next_comment(&mut self) -> Option<Span> {
        while self.next < self.done.len() && self.done[self.next] {
            self.next += 1;
        }
        (self.next < self.done.len()).then(|| self.comments[self.next])
    }

    fn write_comment(&mut self, comment: Span) {
        let text = self.slice(comment).trim_end();
        self.w(text);
        self.done[self.next] = true;
    }

    /// Writes every comment that starts before `pos`, each on its own line.
    fn flush_before(&mut self, pos: u32) {
        while let Some(comment) = self.next_comment() {
            if comment.start >= pos {
                break;
            }
            self.start_line(comment.start);
            self.write_comment(comment);
        }
    }

    /// Keeps a comment that follows `end` on the same source line on the output line.
    fn trailing(&mut self, end: u32) {
        let Some(comment) = self.next_comment() else {
            return;
        };
        let between = self.range_text(end, comment.start);
        // A `##` line documents what follows it: it never trails.
        let doc = self.slice(comment).starts_with("##");
        if !doc && comment.start >= end && between.chars().all(|c| matches!(c, ' ' | '\t' | ',')) {
            self.w(" ");
            self.write_comment(comment);
        }
    }

    fn has_comment_in(&self, lo: u32, hi: u32) -> bool {
        let i = self.comments.partition_point(|c| c.start < lo);
        i < self.comments.len() && self.comments[i].start < hi
    }

    /// Marks the comments inside `span` (written verbatim with it) as printed.
    fn consume_comments_in(&mut self, span: Span) {
        if self.flat {
            return;
        }
        let mut i = self.comments.partition_point(|c| c.start < span.start);
        while i < self.comments.len() && self.comments[i].start < span.end {
            self.done[i] = true;
            i += 1;
        }
    }

    /// Writes what `body` prints as one element of a broken block.
    fn element(&mut self, start: u32, end: u32, body: impl FnOnce(&mut Self) -> R) -> R {
        self.flush_before(start);
        self.start_line(start);
        body(self)?;
        self.trailing(end);
        Ok(())
    }

    /// The inside of a broken block whose closing bracket is before `hi`: one level deeper.
    fn block(&mut self, hi: u32, body: impl FnOnce(&mut Self) -> R) -> R {
        self.indent += 2;
        let first = mem::replace(&mut self.first, true);
        let result = body(self);
        self.flush_before(hi);
        self.indent -= 2;
        self.first = first;
        self.nl();
        result
    }

    // ----- items -----

    fn items(&mut self, items: &[Item]) {
        for item in items {
            let _ = self.element(item.span.start, item.span.end, |p| p.item(item));
        }
    }

    fn item(&mut self, item: &Item) -> R {
        match &item.kind {
            ItemKind::Import {
                path_span, alias, ..
            } => {
                self.w("import ");
                let path = self.slice(*path_span);
                self.w(path);
                if let Some(alias) = alias {
                    self.w(" as ");
                    self.w(&alias.name);
                }
                Ok(())
            }
            ItemKind::Let { name, ty, value } => {
                self.w("let ");
                self.w(&name.name);
                if let Some(ty) = ty {
                    self.w(": ");
                    self.ty(ty)?;
                }
                self.w(" = ");
                self.expr(value)
            }
            ItemKind::Type { name, ty } => {
                self.w("type ");
                self.w(&name.name);
                self.w(" = ");
                self.ty(ty)
            }
            ItemKind::Fn {
                name,
                params,
                ret,
                body,
            } => {
                self.w("fn ");
                self.w(&name.name);
                let elems: Vec<Elem> = params.iter().map(Elem::Param).collect();
                let group = Group {
                    open: "(",
                    close: ")",
                    pad: false,
                    lo: name.span.end,
                    hi: ret.span.start,
                };
                self.group(group, &elems)?;
                self.w(" -> ");
                self.ty(ret)?;
                self.w(" = ");
                self.expr(body)
            }
            ItemKind::Kind { name, ty, single } => {
                self.w("kind ");
                self.w(&name.name);
                self.w(": ");
                self.ty(ty)?;
                if *single {
                    self.w(" single");
                }
                Ok(())
            }
            ItemKind::Entity { kind, name, body } => {
                self.w(&kind.name);
                match name {
                    EntityName::None => {}
                    EntityName::Ident(ident) => {
                        self.w(" ");
                        self.w(&ident.name);
                    }
                    EntityName::Computed(expr) => {
                        self.w(" ");
                        self.expr(expr)?;
                    }
                }
                match body {
                    EntityBody::Block(fields, span) => {
                        self.w(" ");
                        self.entity_block(fields, *span)
                    }
                    EntityBody::Expr(expr) => {
                        self.w(" = ");
                        self.expr(expr)
                    }
                }
            }
            ItemKind::For { var, iter, items } => {
                self.w("for ");
                self.w(&var.name);
                self.w(" in ");
                self.expr(iter)?;
                self.w(" {");
                let hi = item.span.end;
                if items.is_empty() && !self.has_comment_in(iter.span.end, hi) {
                    self.w("}");
                    return Ok(());
                }
                self.block(hi, |p| {
                    p.items(items);
                    Ok(())
                })?;
                self.w("}");
                Ok(())
            }
            ItemKind::Assert { cond, message } => {
                self.w("assert ");
                self.expr(cond)?;
                self.w(",");
                // A message that does not fit goes on the next line, indented.
                let mut sub = Printer::new(self.src, self.comments, true);
                let fits = sub.expr(message).is_err()
                    || self.column() + 1 + sub.out.chars().count() <= WIDTH;
                if fits || self.flat {
                    self.w(" ");
                    return self.expr(message);
                }
                self.indent += 2;
                self.nl();
                let result = self.expr(message);
                self.indent -= 2;
                result
            }
        }
    }

    /// An entity's `{ fields }`: always one field per line.
    fn entity_block(&mut self, fields: &[FieldInit], span: Span) -> R {
        if self.flat {
            return Err(NotFlat);
        }
        if fields.is_empty() && !self.has_comment_in(span.start, span.end) {
            self.w("{}");
            return Ok(());
        }
        self.w("{");
        let elems = self.field_elems(fields);
        self.block(span.end, |p| {
            for elem in elems {
                let (start, end) = elem.range();
                p.element(start, end, |p| p.broken_elem(elem))?;
            }
            Ok(())
        })?;
        self.w("}");
        Ok(())
    }

    // ----- groups -----

    /// A group flat when it was written on one line, holds no comment and fits; else broken.
    fn group(&mut self, group: Group, elems: &[Elem]) -> R {
        let written_flat = !self.range_text(group.lo, group.hi).contains('\n')
            && !self.has_comment_in(group.lo, group.hi);
        if self.flat {
            return if written_flat {
                self.flat_group(group, elems)
            } else {
                Err(NotFlat)
            };
        }
        if written_flat {
            let mut sub = Printer::new(self.src, self.comments, true);
            if sub.flat_group(group, elems).is_ok()
                && self.column() + sub.out.chars().count() <= WIDTH
            {
                self.w(&sub.out);
                return Ok(());
            }
        }
        self.w(group.open);
        if elems.is_empty() && !self.has_comment_in(group.lo, group.hi) {
            self.w(group.close);
            return Ok(());
        }
        if let Some(expr) = self.hugged(group, elems) {
            self.expr(expr)?;
            self.w(group.close);
            return Ok(());
        }
        self.block(group.hi, |p| {
            for elem in elems {
                let (start, end) = elem.range();
                p.element(start, end, |p| p.broken_elem(*elem))?;
            }
            Ok(())
        })?;
        self.w(group.close);
        Ok(())
    }

    /// The one element of a broken list or argument group that hugs its brackets
    /// (`[{` ... `}]`): a record or list written on several lines, with no comment around it.
    fn hugged<'e>(&self, group: Group, elems: &[Elem<'e>]) -> Option<&'e Expr> {
        let [Elem::Expr(expr)] = elems else {
            return None;
        };
        let bracketed = matches!(expr.kind, ExprKind::Record(_) | ExprKind::List(_));
        let broken = self.slice(expr.span).contains('\n');
        let commented = self.has_comment_in(group.lo, expr.span.start)
            || self.has_comment_in(expr.span.end, group.hi);
        (bracketed && broken && !commented && group.open != "{").then_some(*expr)
    }

    fn flat_group(&mut self, group: Group, elems: &[Elem]) -> R {
        self.w(group.open);
        if !elems.is_empty() {
            if group.pad {
                self.w(" ");
            }
            for (i, elem) in elems.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.elem(*elem, 0)?;
            }
            if group.pad {
                self.w(" ");
            }
        }
        self.w(group.close);
        Ok(())
    }

    /// One element on its own line, with its separator.
    fn broken_elem(&mut self, elem: Elem) -> R {
        match elem {
            Elem::Field(_, width, comma) => {
                self.elem(elem, width)?;
                if comma {
                    self.w(",");
                }
                Ok(())
            }
            Elem::Expr(_) | Elem::Param(_) => {
                self.elem(elem, 0)?;
                self.w(",");
                Ok(())
            }
            Elem::TypeField(_) | Elem::MapValue(_) => self.elem(elem, 0),
        }
    }

    /// The fields of a block as elements: names padded to the longest, and a comma before a
    /// field named `with`, which would otherwise continue the value (`x with { ... }`).
    fn field_elems<'f>(&self, fields: &'f [FieldInit]) -> Vec<Elem<'f>> {
        let width = fields
            .iter()
            .map(|f| self.slice(f.name.span).chars().count())
            .max()
            .unwrap_or(0);
        let with_follows = |i: usize| {
            fields
                .get(i + 1)
                .is_some_and(|f| self.slice(f.name.span) == "with")
        };
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| Elem::Field(f, width, with_follows(i)))
            .collect()
    }

    /// One element; a field's name is padded to `width`.
    fn elem(&mut self, elem: Elem, width: usize) -> R {
        match elem {
            Elem::Expr(expr) => self.expr(expr),
            Elem::Field(field, ..) => {
                let name = self.slice(field.name.span);
                self.w(name);
                for _ in name.chars().count()..width {
                    self.w(" ");
                }
                self.w(" = ");
                self.expr(&field.value)
            }
            Elem::Param(param) => {
                self.w(&param.name.name);
                self.w(": ");
                self.ty(&param.ty)
            }
            Elem::TypeField(field) => {
                self.w(&field.name.name);
                self.w(": ");
                self.ty(&field.ty)?;
                if let Some(default) = &field.default {
                    self.w(" = ");
                    self.expr(default)?;
                }
                Ok(())
            }
            Elem::MapValue(ty) => {
                self.w("string: ");
                self.ty(ty)
            }
        }
    }

    fn fields_group(&mut self, fields: &[FieldInit], lo: u32, hi: u32) -> R {
        let elems = self.field_elems(fields);
        let group = Group {
            open: "{",
            close: "}",
            pad: true,
            lo,
            hi,
        };
        self.group(group, &elems)
    }

    fn args_group(&mut self, args: &[Expr], lo: u32, hi: u32) -> R {
        let elems: Vec<Elem> = args.iter().map(Elem::Expr).collect();
        let group = Group {
            open: "(",
            close: ")",
            pad: false,
            lo,
            hi,
        };
        self.group(group, &elems)
    }

    // ----- types -----

    fn ty(&mut self, ty: &TypeExpr) -> R {
        match &ty.kind {
            TypeKind::Name(namespace, name) => {
                if let Some(namespace) = namespace {
                    self.w(&namespace.name);
                    self.w(".");
                }
                self.w(&name.name);
                Ok(())
            }
            TypeKind::IntRange(lo, hi, inclusive) => {
                let op = if *inclusive { "..=" } else { ".." };
                self.w(&format!("int({lo}{op}{hi})"));
                Ok(())
            }
            TypeKind::List(inner) => {
                self.w("[");
                self.ty(inner)?;
                self.w("]");
                Ok(())
            }
            TypeKind::Map(inner) => {
                let group = Group {
                    open: "{",
                    close: "}",
                    pad: false,
                    lo: ty.span.start,
                    hi: ty.span.end,
                };
                self.group(group, &[Elem::MapValue(inner)])
            }
            TypeKind::Record(fields) => {
                let elems: Vec<Elem> = fields.iter().map(Elem::TypeField).collect();
                let group = Group {
                    open: "{",
                    close: "}",
                    pad: true,
                    lo: ty.span.start,
                    hi: ty.span.end,
                };
                self.group(group, &elems)
            }
            TypeKind::Optional(inner) => {
                self.ty_member(inner)?;
                self.w("?");
                Ok(())
            }
            TypeKind::Union(members) => {
                for (i, member) in members.iter().enumerate() {
                    if i > 0 {
                        self.w(" | ");
                    }
                    self.ty_member(member)?;
                }
                Ok(())
            }
            TypeKind::StrLit(text) => {
                self.w(&quote(text));
                Ok(())
            }
        }
    }

    /// A type inside `?` or `|`: a union there needs parentheses.
    fn ty_member(&mut self, ty: &TypeExpr) -> R {
        if matches!(ty.kind, TypeKind::Union(_)) {
            self.w("(");
            self.ty(ty)?;
            self.w(")");
            Ok(())
        } else {
            self.ty(ty)
        }
    }

    // ----- expressions -----

    fn expr(&mut self, expr: &Expr) -> R {
        match &expr.kind {
            ExprKind::None => self.w("none"),
            ExprKind::Bool(b) => self.w(if *b { "true" } else { "false" }),
            ExprKind::Int(value) => self.int(*value, expr.span),
            ExprKind::Size(_)
            | ExprKind::Duration(_)
            | ExprKind::Ip(_)
            | ExprKind::Cidr(_)
            | ExprKind::Mac(_) => {
                let text = self.slice(expr.span);
                self.w(text);
            }
            ExprKind::Str(_) => {
                let text = self.slice(expr.span);
                if self.flat && text.contains('\n') {
                    return Err(NotFlat);
                }
                self.consume_comments_in(expr.span);
                self.w(text);
            }
            ExprKind::List(items) => {
                let elems: Vec<Elem> = items.iter().map(Elem::Expr).collect();
                let group = Group {
                    open: "[",
                    close: "]",
                    pad: false,
                    lo: expr.span.start,
                    hi: expr.span.end,
                };
                return self.group(group, &elems);
            }
            ExprKind::Record(fields) => {
                return self.fields_group(fields, expr.span.start, expr.span.end)
            }
            ExprKind::Name(name) => self.w(&name.name),
            ExprKind::Field(base, name) => {
                self.dotted(base)?;
                self.w(&name.name);
            }
            ExprKind::Index(base, index) => {
                self.expr(base)?;
                self.w("[");
                self.expr(index)?;
                self.w("]");
            }
            ExprKind::Call(name, args) => {
                self.w(&name.name);
                return self.args_group(args, name.span.end, expr.span.end);
            }
            ExprKind::Method(base, name, args) => {
                self.dotted(base)?;
                self.w(&name.name);
                return self.args_group(args, name.span.end, expr.span.end);
            }
            ExprKind::Unary(op, operand) => {
                self.w(match op {
                    UnOp::Not => "!",
                    UnOp::Neg => "-",
                });
                return self.expr(operand);
            }
            ExprKind::Binary(op, left, right) => {
                self.expr(left)?;
                self.w(" ");
                self.w(op.symbol());
                self.w(" ");
                return self.expr(right);
            }
            ExprKind::If(cond, then, otherwise) => {
                self.w("if ");
                self.expr(cond)?;
                self.w(" then ");
                self.expr(then)?;
                self.w(" else ");
                return self.expr(otherwise);
            }
            ExprKind::LetIn(name, ty, value, body) => {
                self.w("let ");
                self.w(&name.name);
                if let Some(ty) = ty {
                    self.w(": ");
                    self.ty(ty)?;
                }
                self.w(" = ");
                self.expr(value)?;
                self.w(" in ");
                return self.expr(body);
            }
            ExprKind::With(base, fields) => {
                self.expr(base)?;
                self.w(" with ");
                return self.fields_group(fields, base.span.end, expr.span.end);
            }
            ExprKind::Comprehension {
                var,
                iter,
                filter,
                body,
            } => {
                self.w("[for ");
                self.w(&var.name);
                self.w(" in ");
                self.expr(iter)?;
                if let Some(filter) = filter {
                    self.w(" if ");
                    self.expr(filter)?;
                }
                self.w(" => ");
                self.expr(body)?;
                self.w("]");
            }
            ExprKind::Range(left, right, inclusive) => {
                self.expr(left)?;
                // `fd00::1..x` would lex as one malformed address: space such operands.
                let spaced = ends_with_address(left) || starts_with_address(right);
                let op = if *inclusive { "..=" } else { ".." };
                if spaced {
                    self.w(&format!(" {op} "));
                } else {
                    self.w(op);
                }
                return self.expr(right);
            }
            ExprKind::Paren(inner) => {
                self.w("(");
                self.expr(inner)?;
                self.w(")");
            }
        }
        Ok(())
    }

    /// `base.` (spaced after an address literal, which would swallow the dot).
    fn dotted(&mut self, base: &Expr) -> R {
        self.expr(base)?;
        if ends_with_address(base) {
            self.w(" ");
        }
        self.w(".");
        Ok(())
    }

    /// An integer as written, except that a folded `-` (`- 1`, `--1`) is normalised.
    fn int(&mut self, value: i64, span: Span) {
        let text = self.slice(span);
        if !text.starts_with('-') {
            self.w(text);
            return;
        }
        let digits_at = text
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
            .len();
        let digits = &text[digits_at..];
        if value < 0 {
            self.w("-");
        }
        self.w(digits);
    }
}

fn ends_with_address(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Ip(_) | ExprKind::Cidr(_) | ExprKind::Mac(_) => true,
        ExprKind::Binary(_, _, last)
        | ExprKind::Range(_, last, _)
        | ExprKind::Unary(_, last)
        | ExprKind::If(_, _, last)
        | ExprKind::LetIn(_, _, _, last) => ends_with_address(last),
        _ => false,
    }
}

fn starts_with_address(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Ip(_) | ExprKind::Cidr(_) | ExprKind::Mac(_) => true,
        ExprKind::Binary(_, first, _)
        | ExprKind::Range(first, _, _)
        | ExprKind::Field(first, _)
        | ExprKind::Index(first, _)
        | ExprKind::Method(first, _, _)
        | ExprKind::With(first, _) => starts_with_address(first),
        _ => false,
    }
}

/// A string literal for `text` (a type's literal, which has no interpolation).
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

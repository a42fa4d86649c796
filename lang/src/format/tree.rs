//! Syntax-tree equality with spans ignored: the formatter's meaning-preservation property
//! ("the formatted text parses to the same tree") is [`same_tree`]. It works by erasing every
//! span (and the file id) of a copy of each tree and comparing the copies with `==`, so a new
//! AST field is compared automatically; only new *span* fields need a line in `erase`.

use crate::span::{FileId, Span};
use crate::syntax::ast::*;

/// True when `a` and `b` are the same tree, spans and file ids aside.
pub fn same_tree(a: &File, b: &File) -> bool {
    erased(a) == erased(b)
}

/// A copy of `file` with every span zeroed.
pub fn erased(file: &File) -> File {
    let mut copy = file.clone();
    copy.file = FileId::default();
    for item in &mut copy.items {
        erase_item(item);
    }
    copy
}

fn erase(span: &mut Span) {
    *span = Span::default();
}

fn erase_ident(ident: &mut Ident) {
    erase(&mut ident.span);
}

fn erase_item(item: &mut Item) {
    erase(&mut item.span);
    match &mut item.kind {
        ItemKind::Import {
            path_span, alias, ..
        } => {
            erase(path_span);
            if let Some(alias) = alias {
                erase_ident(alias);
            }
        }
        ItemKind::Let { name, ty, value } => {
            erase_ident(name);
            if let Some(ty) = ty {
                erase_type(ty);
            }
            erase_expr(value);
        }
        ItemKind::Type { name, ty } => {
            erase_ident(name);
            erase_type(ty);
        }
        ItemKind::Fn {
            name,
            params,
            ret,
            body,
        } => {
            erase_ident(name);
            for param in params {
                erase_ident(&mut param.name);
                erase_type(&mut param.ty);
            }
            erase_type(ret);
            erase_expr(body);
        }
        ItemKind::Kind { name, ty, .. } => {
            erase_ident(name);
            erase_type(ty);
        }
        ItemKind::Entity { kind, name, body } => {
            erase_ident(kind);
            match name {
                EntityName::None => {}
                EntityName::Ident(ident) => erase_ident(ident),
                EntityName::Computed(expr) => erase_expr(expr),
            }
            match body {
                EntityBody::Block(fields, span) => {
                    erase(span);
                    erase_fields(fields);
                }
                EntityBody::Expr(expr) => erase_expr(expr),
            }
        }
        ItemKind::For { var, iter, items } => {
            erase_ident(var);
            erase_expr(iter);
            for item in items {
                erase_item(item);
            }
        }
        ItemKind::Assert { cond, message } => {
            erase_expr(cond);
            erase_expr(message);
        }
    }
}

fn erase_fields(fields: &mut [FieldInit]) {
    for field in fields {
        erase_ident(&mut field.name);
        erase_expr(&mut field.value);
    }
}

fn erase_type(ty: &mut TypeExpr) {
    erase(&mut ty.span);
    match &mut ty.kind {
        TypeKind::Name(namespace, name) => {
            if let Some(namespace) = namespace {
                erase_ident(namespace);
            }
            erase_ident(name);
        }
        TypeKind::IntRange(..) | TypeKind::StrLit(_) => {}
        TypeKind::List(inner) | TypeKind::Map(inner) | TypeKind::Optional(inner) => {
            erase_type(inner)
        }
        TypeKind::Record(fields) => {
            for field in fields {
                erase_ident(&mut field.name);
                erase_type(&mut field.ty);
                if let Some(default) = &mut field.default {
                    erase_expr(default);
                }
            }
        }
        TypeKind::Union(members) => {
            for member in members {
                erase_type(member);
            }
        }
    }
}

fn erase_expr(expr: &mut Expr) {
    erase(&mut expr.span);
    match &mut expr.kind {
        ExprKind::None
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Size(_)
        | ExprKind::Duration(_)
        | ExprKind::Ip(_)
        | ExprKind::Cidr(_)
        | ExprKind::Mac(_) => {}
        ExprKind::Str(parts) => {
            for part in parts {
                if let StrPart::Interp(inner) = part {
                    erase_expr(inner);
                }
            }
        }
        ExprKind::List(items) => items.iter_mut().for_each(erase_expr),
        ExprKind::Record(fields) => erase_fields(fields),
        ExprKind::Name(name) => erase_ident(name),
        ExprKind::Field(base, name) => {
            erase_expr(base);
            erase_ident(name);
        }
        ExprKind::Index(base, index) => {
            erase_expr(base);
            erase_expr(index);
        }
        ExprKind::Call(name, args) => {
            erase_ident(name);
            args.iter_mut().for_each(erase_expr);
        }
        ExprKind::Method(base, name, args) => {
            erase_expr(base);
            erase_ident(name);
            args.iter_mut().for_each(erase_expr);
        }
        ExprKind::Unary(_, inner) | ExprKind::Paren(inner) => erase_expr(inner),
        ExprKind::Binary(_, left, right) | ExprKind::Range(left, right, _) => {
            erase_expr(left);
            erase_expr(right);
        }
        ExprKind::If(cond, then, otherwise) => {
            erase_expr(cond);
            erase_expr(then);
            erase_expr(otherwise);
        }
        ExprKind::LetIn(name, ty, value, body) => {
            erase_ident(name);
            if let Some(ty) = ty {
                erase_type(ty);
            }
            erase_expr(value);
            erase_expr(body);
        }
        ExprKind::With(base, fields) => {
            erase_expr(base);
            erase_fields(fields);
        }
        ExprKind::Comprehension {
            var,
            iter,
            filter,
            body,
        } => {
            erase_ident(var);
            erase_expr(iter);
            if let Some(filter) = filter {
                erase_expr(filter);
            }
            erase_expr(body);
        }
    }
}

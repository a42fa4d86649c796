//! The depth of a parsed declaration, measured without recursion.
//!
//! The parser bounds its own recursion (brackets, nested expressions), but operator chains
//! (`1 + 1 + ...`), postfix chains (`x.a.b...`, `r with {..} with {..}`) and `T???` are
//! built in loops, as left-deep trees of any depth; every later phase walks them
//! recursively. A declaration deeper than [`MAX_TREE_DEPTH`] is refused here with
//! `limit::depth`, so that no phase can overflow its stack. Tests: `lang/tests/literals.rs`
//! (`deep_chains_are_refused`) and `tests/tests/robustness.rs`.

use crate::span::Span;
use crate::syntax::ast::*;

/// The deepest tree one declaration may form, counting items, expressions and types.
pub const MAX_TREE_DEPTH: usize = 1_000;

enum Node<'a> {
    Item(&'a Item),
    Expr(&'a Expr),
    Type(&'a TypeExpr),
}

/// The span of a node deeper than [`MAX_TREE_DEPTH`] in `item`, if any.
pub fn item_too_deep(item: &Item) -> Option<Span> {
    too_deep(Node::Item(item))
}

/// The span of a node deeper than [`MAX_TREE_DEPTH`] in `expr`, if any.
pub fn expr_too_deep(expr: &Expr) -> Option<Span> {
    too_deep(Node::Expr(expr))
}

fn too_deep(root: Node<'_>) -> Option<Span> {
    let mut stack = vec![(root, 1)];
    let mut children = Vec::new();
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Some(match node {
                Node::Item(item) => item.span,
                Node::Expr(expr) => expr.span,
                Node::Type(ty) => ty.span,
            });
        }
        match node {
            Node::Item(item) => item_children(item, &mut children),
            Node::Expr(expr) => expr_children(expr, &mut children),
            Node::Type(ty) => type_children(ty, &mut children),
        }
        stack.extend(children.drain(..).map(|child| (child, depth + 1)));
    }
    None
}

fn item_children<'a>(item: &'a Item, out: &mut Vec<Node<'a>>) {
    match &item.kind {
        ItemKind::Import { .. } => {}
        ItemKind::Let { ty, value, .. } => {
            out.extend(ty.iter().map(Node::Type));
            out.push(Node::Expr(value));
        }
        ItemKind::Type { ty, .. } | ItemKind::Kind { ty, .. } => out.push(Node::Type(ty)),
        ItemKind::Fn {
            params, ret, body, ..
        } => {
            out.extend(params.iter().map(|p| Node::Type(&p.ty)));
            out.push(Node::Type(ret));
            out.push(Node::Expr(body));
        }
        ItemKind::Entity { name, body, .. } => {
            if let EntityName::Computed(expr) = name {
                out.push(Node::Expr(expr));
            }
            match body {
                EntityBody::Block(fields, _) => {
                    out.extend(fields.iter().map(|f| Node::Expr(&f.value)));
                }
                EntityBody::Expr(expr) => out.push(Node::Expr(expr)),
            }
        }
        ItemKind::For { iter, items, .. } => {
            out.push(Node::Expr(iter));
            out.extend(items.iter().map(Node::Item));
        }
        ItemKind::Assert { cond, message } => {
            out.push(Node::Expr(cond));
            out.push(Node::Expr(message));
        }
    }
}

fn expr_children<'a>(expr: &'a Expr, out: &mut Vec<Node<'a>>) {
    match &expr.kind {
        ExprKind::None
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Size(_)
        | ExprKind::Duration(_)
        | ExprKind::Ip(_)
        | ExprKind::Cidr(_)
        | ExprKind::Mac(_)
        | ExprKind::Name(_) => {}
        ExprKind::Str(parts) => out.extend(parts.iter().filter_map(|part| match part {
            StrPart::Interp(expr) => Some(Node::Expr(expr)),
            StrPart::Lit(_) => None,
        })),
        ExprKind::List(items) | ExprKind::Call(_, items) => {
            out.extend(items.iter().map(Node::Expr));
        }
        ExprKind::Record(fields) => out.extend(fields.iter().map(|f| Node::Expr(&f.value))),
        ExprKind::Field(base, _) | ExprKind::Unary(_, base) | ExprKind::Paren(base) => {
            out.push(Node::Expr(base));
        }
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) | ExprKind::Range(a, b, _) => {
            out.push(Node::Expr(a));
            out.push(Node::Expr(b));
        }
        ExprKind::Method(receiver, _, args) => {
            out.push(Node::Expr(receiver));
            out.extend(args.iter().map(Node::Expr));
        }
        ExprKind::If(cond, then, otherwise) => {
            out.extend([cond, then, otherwise].map(|e| Node::Expr(e)));
        }
        ExprKind::LetIn(_, ty, value, body) => {
            out.extend(ty.iter().map(|t| Node::Type(t)));
            out.push(Node::Expr(value));
            out.push(Node::Expr(body));
        }
        ExprKind::With(base, fields) => {
            out.push(Node::Expr(base));
            out.extend(fields.iter().map(|f| Node::Expr(&f.value)));
        }
        ExprKind::Comprehension {
            iter, filter, body, ..
        } => {
            out.push(Node::Expr(iter));
            out.extend(filter.iter().map(|f| Node::Expr(f)));
            out.push(Node::Expr(body));
        }
    }
}

fn type_children<'a>(ty: &'a TypeExpr, out: &mut Vec<Node<'a>>) {
    match &ty.kind {
        TypeKind::Name(..) | TypeKind::IntRange(..) | TypeKind::StrLit(_) => {}
        TypeKind::List(inner) | TypeKind::Map(inner) | TypeKind::Optional(inner) => {
            out.push(Node::Type(inner));
        }
        TypeKind::Record(fields) => {
            for field in fields {
                out.push(Node::Type(&field.ty));
                out.extend(field.default.iter().map(Node::Expr));
            }
        }
        TypeKind::Union(members) => out.extend(members.iter().map(Node::Type)),
    }
}

//! Syntax: source text to a [`ast::File`]. The lexer turns text into tokens (literals are
//! recognised with nom), the parser builds the tree by recursive descent with precedence
//! climbing. A file with a syntax error still yields the items before and after it: the
//! parser skips to the next top-level item and goes on, so several errors are reported.

pub mod ast;
mod depth;
pub mod lexer;
pub mod parser;

//! Values as JSON, for `plat eval`. Sizes are byte counts, durations milliseconds,
//! addresses and subnets their canonical text, secrets `{"secret": name}`, entity
//! references `{"ref": "kind name"}`. Record fields keep their order.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::span::FileId;
use plat_lang::syntax::parser::parse_expr;
use plat_lang::value::Value;
use serde_json::{json, Map, Value as Json};

use crate::compile::Compilation;

/// A value as JSON; nested entities become references.
pub fn to_json(value: &Value, top: bool) -> Json {
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Str(s) => json!(s.as_ref()),
        Value::Size(b) => json!(b),
        Value::Duration(ms) => json!(ms),
        Value::Ip(_) | Value::Cidr(_) | Value::Mac(_) => json!(value.to_string()),
        Value::Secret(name) => json!({ "secret": name.as_ref() }),
        Value::List(items) => Json::Array(items.iter().map(|v| to_json(v, false)).collect()),
        Value::Record(record) => {
            if let (Some(id), false) = (&record.entity, top) {
                return json!({ "ref": id.to_string() });
            }
            let mut map = Map::new();
            for field in &record.fields {
                map.insert(field.name.to_string(), to_json(&field.value, false));
            }
            Json::Object(map)
        }
    }
}

/// `{"lets": {...}, "entities": {"kind": {"name": {...}}}}` for the root files.
pub fn program_json(compilation: &Compilation) -> Json {
    let Some(program) = &compilation.front.program else {
        return Json::Null;
    };
    let loaded = &compilation.front.loaded;
    let mut lets = Map::new();
    for value in &program.lets {
        if loaded.roots.contains(&value.module) {
            lets.insert(value.name.to_string(), to_json(&value.value, true));
        }
    }
    let mut entities = Map::new();
    for entity in &program.entities {
        let kind = entities
            .entry(entity.id.kind.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(map) = kind {
            map.insert(
                entity.id.name.to_string(),
                to_json(&Value::Record(entity.value.clone()), true),
            );
        }
    }
    json!({ "lets": lets, "entities": entities })
}

/// Evaluates `text` in the scope of the first root file.
pub fn eval_expression(compilation: &Compilation, text: &str) -> Result<Json, Vec<Diagnostic>> {
    let loaded = &compilation.front.loaded;
    let module = loaded.roots.first().copied().unwrap_or(0);
    // The expression is parsed as a file of its own; its spans point at that text.
    let (expr, diagnostics) = parse_expr(FileId(u32::MAX), text);
    let Some(expr) = expr else {
        return Err(diagnostics);
    };
    plat_lang::eval::eval_expr(loaded, &compilation.front.env, module, &expr)
        .map(|v| to_json(&v, true))
}

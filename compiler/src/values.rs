//! Values as JSON, for `plat eval`. Sizes are byte counts, durations milliseconds,
//! addresses and subnets their canonical text, secrets `{"secret": name}`, entity
//! references `{"ref": "kind name"}`. Record fields keep their order.

use plat_lang::diagnostic::Diagnostic;
use plat_lang::eval::Limits;
use plat_lang::load::{LoadError, Loader};
use plat_lang::value::{too_large, SizeBudget, Value, MAX_VALUE_SIZE};
use serde_json::{json, Map, Value as Json};

use crate::compile::{Compilation, PRELUDE};
use crate::sources::{FsLoader, Project};

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

/// `{"lets": {...}, "entities": {"kind": {"name": {...}}}}` for the root files; a
/// `limit::value-size` error when that would be more than [`MAX_VALUE_SIZE`] written out.
pub fn program_json(compilation: &Compilation) -> Result<Json, Box<Diagnostic>> {
    let Some(program) = &compilation.front.program else {
        return Ok(Json::Null);
    };
    let loaded = &compilation.front.loaded;
    let mut budget = SizeBudget::new(MAX_VALUE_SIZE);
    let mut lets = Map::new();
    for value in &program.lets {
        if loaded.roots.contains(&value.module) {
            if !budget.charge(&value.value) {
                return Err(Box::new(too_large(
                    value.span,
                    &format!("`{}`", value.name),
                )));
            }
            lets.insert(value.name.to_string(), to_json(&value.value, true));
        }
    }
    let mut entities = Map::new();
    for entity in &program.entities {
        let record = Value::Record(entity.value.clone());
        if !budget.charge(&record) {
            return Err(Box::new(too_large(entity.span, &entity.id.to_string())));
        }
        let kind = entities
            .entry(entity.id.kind.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(map) = kind {
            map.insert(entity.id.name.to_string(), to_json(&record, true));
        }
    }
    Ok(json!({ "lets": lets, "entities": entities }))
}

/// The name of the synthetic file `plat eval --expr` adds to the project.
const EXPRESSION_FILE: &str = "<expr>.plat";

/// Serves the project's files, plus the synthetic expression file.
struct WithExpression<'a> {
    files: FsLoader,
    expression: &'a str,
}

impl Loader for WithExpression<'_> {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        if path == EXPRESSION_FILE {
            return Ok(self.expression.to_string());
        }
        self.files.load(path)
    }
}

/// Evaluates `text` with everything the project declares in scope: the expression becomes
/// `let result = (...)` in a synthetic file that imports every root file, so it is
/// type-checked like any other source before it is evaluated. A result more than
/// [`MAX_VALUE_SIZE`] written out is a `limit::value-size` error.
pub fn eval_expression(project: &Project, text: &str) -> Result<Json, Box<Compilation>> {
    let mut source: String = project
        .files
        .iter()
        .map(|f| format!("import \"{f}\"\n"))
        .collect();
    source.push_str(&format!("let result = (\n{text}\n)\n"));
    let loader = WithExpression {
        files: FsLoader::new(project.root.clone()),
        expression: &source,
    };
    let mut roots = project.files.clone();
    roots.push(EXPRESSION_FILE.to_string());
    let front = plat_lang::driver::compile(PRELUDE, &roots, &loader, Limits::default());
    let mut too_big = None;
    let value = front.program.as_ref().and_then(|program| {
        let module = front.loaded.modules.len().checked_sub(1)?;
        let result = program
            .lets
            .iter()
            .find(|l| l.module == module && &*l.name == "result")?;
        if !SizeBudget::new(MAX_VALUE_SIZE).charge(&result.value) {
            too_big = Some(too_large(result.span, "the result"));
            return None;
        }
        Some(to_json(&result.value, true))
    });
    match value {
        Some(json) if !front.has_errors() => Ok(json),
        _ => {
            let mut diagnostics = front.diagnostics.clone();
            diagnostics.extend(too_big);
            Err(Box::new(Compilation {
                front,
                model: None,
                diagnostics,
            }))
        }
    }
}

//! The text of `out/plat.model.json`: written object by object in a build ([`text`]), whole
//! from a summary ([`render`], the same bytes), and read back by `plat diff` ([`parse`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::Model;

use super::objects::each_object;
use super::{summarize, Summary};

/// The text of `out/plat.model.json`: pretty JSON, keys sorted, one trailing newline.
pub fn render(summary: &Summary) -> String {
    /// The document, serialized as it stands: building a `serde_json::Value` first copied
    /// every string of the summary, the largest allocation of a large build.
    #[derive(serde::Serialize)]
    struct Document<'a> {
        generated: String,
        version: u32,
        objects: &'a Summary,
    }
    let document = Document {
        generated: generated(),
        version: 1,
        objects: summary,
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text.shrink_to_fit();
    text
}

/// The text of `out/plat.model.json` for `model`: `render(&summarize(model))`, without the
/// whole summary in memory at once (at 10,000 applications its maps were the peak of a first
/// build): each object is written out as soon as it is summarized, and the objects are then
/// joined in key order. The layout is serde_json's pretty printing, which `render` uses; a
/// test holds the two equal.
pub fn text(model: &Model) -> String {
    let mut objects: BTreeMap<String, String> = BTreeMap::new();
    let mut repeated = false;
    each_object(model, &mut |object, fields| {
        let fields = object_fields(fields);
        repeated |= objects.insert(object, fields).is_some();
    });
    if repeated {
        // An object put twice has its fields merged; no model does that (an object is its
        // kind and unique name), but should one, the whole summary says what that means.
        return render(&summarize(model));
    }
    let mut out = String::with_capacity(
        objects
            .iter()
            .map(|(object, fields)| object.len() + fields.len() + 16)
            .sum::<usize>()
            + 128,
    );
    out.push_str("{\n  \"generated\": ");
    out.push_str(&json_string(&generated()));
    out.push_str(",\n  \"version\": 1,\n  \"objects\": ");
    if objects.is_empty() {
        out.push_str("{}");
    } else {
        out.push('{');
        for (i, (object, fields)) in objects.into_iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&json_string(&object));
            out.push_str(": ");
            out.push_str(&fields);
        }
        out.push_str("\n  }");
    }
    out.push_str("\n}\n");
    out
}

/// The summary's `generated` line.
fn generated() -> String {
    format!(
        "by plat, do not edit; regenerate with `{}`",
        crate::shared::REGENERATE
    )
}

/// An object's fields as serde_json pretty-prints them at the depth of `objects`: sorted by
/// name, the last value of a name repeated winning (as when extending a map).
pub(super) fn object_fields(mut fields: Vec<(String, String)>) -> String {
    fields.reverse();
    // A stable sort of the reversed fields puts the last given of each name first.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, first| later.0 == first.0);
    if fields.is_empty() {
        return "{}".to_string();
    }
    let mut out = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        out.push_str(if i == 0 { "\n      " } else { ",\n      " });
        out.push_str(&json_string(name));
        out.push_str(": ");
        out.push_str(&json_string(value));
    }
    out.push_str("\n    }");
    out
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Parses `out/plat.model.json`; `None` when it is not a summary this version wrote.
pub fn parse(text: &str) -> Option<Summary> {
    let document: Value = serde_json::from_str(text).ok()?;
    if document.get("version")?.as_i64()? != 1 {
        return None;
    }
    let mut summary = Summary::new();
    for (object, fields) in document.get("objects")?.as_object()? {
        let entry = summary.entry(object.clone()).or_default();
        for (field, value) in fields.as_object()? {
            entry.insert(field.clone(), value.as_str()?.to_string());
        }
    }
    Some(summary)
}

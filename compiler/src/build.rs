//! What a build produces besides the targets' files, and what it records about its inputs.

use crate::compile::Compilation;
use crate::emit::Files;
use crate::model::Model;

/// Every file a build owns in out/: the targets' files ([`crate::emit::all`]) and the model
/// summary `plat.model.json` that `plat diff` compares against ([`crate::summary`]).
pub fn outputs(model: &Model) -> Files {
    let mut files = crate::emit::all(model);
    let summary = crate::summary::render(&crate::summary::summarize(model));
    files.insert(crate::summary::PATH.to_string(), summary.into_bytes());
    files
}

/// blake3 over every loaded source (path and text, in path order) and the prelude.
pub fn sources_hash(compilation: &Compilation) -> String {
    let mut files: Vec<(&str, &str)> = compilation
        .front
        .loaded
        .sources
        .iter()
        .map(|(_, f)| (f.path.as_str(), f.text.as_str()))
        .collect();
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for (path, text) in files {
        hasher.update(path.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

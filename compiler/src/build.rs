//! What a build records about its inputs.

use crate::compile::Compilation;

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

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

/// The most bytes one build may emit (all files together): 1 GiB.
pub const MAX_OUTPUT_BYTES: u64 = 1 << 30;

/// `limit::output-size` when `files` hold more than `limit` bytes together. The span is the
/// first root file's start: no one declaration is to blame.
pub fn output_size(
    compilation: &Compilation,
    files: &crate::emit::Files,
    limit: u64,
) -> Option<plat_lang::diagnostic::Diagnostic> {
    let total: u64 = files.values().map(|bytes| bytes.len() as u64).sum();
    if total <= limit {
        return None;
    }
    let loaded = &compilation.front.loaded;
    let file = loaded
        .roots
        .first()
        .map(|&root| loaded.modules[root].file)
        .unwrap_or_default();
    Some(
        plat_lang::diagnostic::Diagnostic::error(
            "limit::output-size",
            plat_lang::span::Span::new(file, 0, 0),
            format!("the build would write {total} bytes, more than the limit of {limit} bytes"),
        )
        .with_help(
            "fewer or smaller entities: large lists or strings repeated across many files add up",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::Files;

    fn compilation() -> Compilation {
        let loader = plat_lang::load::MemLoader::single("main.plat", "let a = 1\n");
        crate::compile::compile_with(&loader, &["main.plat".to_string()])
    }

    #[test]
    fn output_size_is_limited() {
        let compilation = compilation();
        let files: Files = [
            ("a".to_string(), vec![b'x'; 60]),
            ("b".to_string(), vec![b'y'; 40]),
        ]
        .into_iter()
        .collect();
        assert!(output_size(&compilation, &files, 100).is_none());
        let diagnostic = output_size(&compilation, &files, 99).expect("over the limit");
        assert_eq!(diagnostic.code, "limit::output-size");
        assert!(
            diagnostic.message.contains("100 bytes"),
            "{}",
            diagnostic.message
        );
        let main = compilation.front.loaded.sources.find("main.plat");
        assert_eq!(Some(diagnostic.span.file), main);
    }
}

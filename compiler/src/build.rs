//! What a build produces besides the targets' files, what it records about its inputs, and
//! the no-op check that uses it.

use plat_lang::load::Loader;

use crate::compile::{Compilation, PRELUDE};
use crate::emit::{Collect, Files, Sink};
use crate::model::Model;
pub use crate::shared::MAX_OUTPUT_BYTES;
use crate::sources::{FsLoader, Project};

/// Every file a build owns in out/: the targets' files ([`crate::emit::all`]) and the model
/// summary `plat.model.json` that `plat diff` compares against ([`crate::summary`]).
pub fn outputs(model: &Model) -> Files {
    let files = Collect::default();
    outputs_into(model, &files);
    files.into_files()
}

/// [`outputs`], put into `sink` as they are made. The summary comes first, so that its memory
/// is free again before the emitters start.
pub fn outputs_into(model: &Model, sink: &dyn Sink) {
    sink.put(
        crate::summary::PATH.to_string(),
        crate::summary::text(model).into_bytes(),
    );
    crate::emit::all_into(model, sink);
}

/// blake3 over every loaded source (path and text, in path order) and the prelude.
pub fn sources_hash(compilation: &Compilation) -> String {
    hash_sources(
        compilation
            .front
            .loaded
            .sources
            .iter()
            .map(|(_, f)| (f.path.as_str(), f.text.as_str()))
            .collect(),
    )
}

/// The [`sources_hash`] a compilation of `project` would record if it loads exactly the
/// project's files (true of a directory: every `.plat` file below it is a root, so every
/// import is one of them), read from disk without parsing. `None` when a file cannot be read.
pub fn project_hash(project: &Project) -> Option<String> {
    let loader = FsLoader::new(project.root.clone());
    let texts: Vec<(&str, String)> = project
        .files
        .iter()
        .map(|path| loader.load(path).ok().map(|text| (path.as_str(), text)))
        .collect::<Option<_>>()?;
    let mut files: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (*p, t.as_str())).collect();
    files.push(("<prelude>", PRELUDE));
    Some(hash_sources(files))
}

/// True when `out` already holds what `project` compiles to: `plat.lock` records this
/// compiler, the project's current [`project_hash`] and `root` as the source root
/// ([`crate::out::source_root`]; `None`: no root line), and every owned file is intact
/// ([`crate::out::Out::matches`]). Then compiling and emitting would change nothing. When
/// the project loads files other than its own (an import outside them), the hashes differ
/// and the answer is false: a full build runs.
pub fn up_to_date(project: &Project, out: &crate::out::Out, root: Option<&str>) -> bool {
    project_hash(project).is_some_and(|hash| out.matches(crate::out::COMPILER, &hash, root))
}

fn hash_sources(mut files: Vec<(&str, &str)>) -> String {
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

/// Where `limit::output-size` points: the first root file's start (no one declaration is to
/// blame). Taken before the compilation is freed to emit.
pub fn output_size_span(compilation: &Compilation) -> plat_lang::span::Span {
    let loaded = &compilation.front.loaded;
    let file = loaded
        .roots
        .first()
        .map(|&root| loaded.modules[root].file)
        .unwrap_or_default();
    plat_lang::span::Span::new(file, 0, 0)
}

/// `limit::output-size` at `span` ([`output_size_span`]) when a build's files hold `total`
/// bytes together, more than `limit`.
pub fn output_size(
    span: plat_lang::span::Span,
    total: u64,
    limit: u64,
) -> Option<plat_lang::diagnostic::Diagnostic> {
    if total <= limit {
        return None;
    }
    Some(
        plat_lang::diagnostic::Diagnostic::error(
            "limit::output-size",
            span,
            format!("the build would write {total} bytes, more than the limit of {limit} bytes"),
        )
        .with_help(
            "fewer or smaller entities: large lists or strings repeated across many files add up",
        ),
    )
}

/// The bytes of `files` together.
pub fn total_size(files: &Files) -> u64 {
    files.values().map(|bytes| bytes.len() as u64).sum()
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
        let span = output_size_span(&compilation);
        assert_eq!(total_size(&files), 100);
        assert!(output_size(span, total_size(&files), 100).is_none());
        let diagnostic = output_size(span, total_size(&files), 99).expect("over the limit");
        assert_eq!(diagnostic.code, "limit::output-size");
        assert!(
            diagnostic.message.contains("100 bytes"),
            "{}",
            diagnostic.message
        );
        let main = compilation.front.loaded.sources.find("main.plat");
        assert_eq!(Some(diagnostic.span.file), main);
    }

    #[test]
    fn project_hash_is_the_hash_a_compilation_records() {
        let dir = std::env::temp_dir().join(format!("plat-build-hash-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/net.plat"), "let x = 1\n").unwrap();
        std::fs::write(
            dir.join("main.plat"),
            "import \"lib/net.plat\"\nvlan a { id = x, subnet = 10.0.0.0/24 }\n",
        )
        .unwrap();
        let project = Project::open(&dir).unwrap();
        let compilation = crate::compile::compile(&project);
        assert_eq!(project_hash(&project), Some(sources_hash(&compilation)));
        std::fs::write(dir.join("main.plat"), "").unwrap();
        assert_ne!(project_hash(&project), Some(sources_hash(&compilation)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

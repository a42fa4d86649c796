//! Computes the compiler's fingerprint: blake3 over the source files of `lang` and `compiler`
//! (`.rs` and `.plat`, by relative path). `plat.lock` records it next to the version, so that
//! a no-op build is skipped only when both the sources *and the compiler* are unchanged, and
//! a compiler change shows as a change of `out/plat.lock`. It depends on the source text only,
//! never on the machine, the toolchain or the time, so every checkout computes the same value.

//!
//! It also generates the model's kinds from the prelude (`build/kinds.rs`, included by
//! `src/model/kinds.rs` and `src/model/lower.rs`).

use std::path::{Path, PathBuf};

#[path = "build/kinds.rs"]
mod kinds;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    generate_kinds(&manifest);
    let roots = [
        ("compiler", manifest.join("src")),
        ("compiler-build", manifest.join("build")),
        ("lang", manifest.join("../lang/src")),
    ];
    let mut files = Vec::new();
    for (label, root) in &roots {
        println!("cargo:rerun-if-changed={}", root.display());
        collect(label, root, root, &mut files);
    }
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for (relative, path) in &files {
        let text = std::fs::read(path).expect("read a source file");
        hasher.update(relative.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(&text);
    }
    let fingerprint = hasher.finalize().to_hex();
    println!(
        "cargo:rustc-env=PLAT_COMPILER_FINGERPRINT={}",
        &fingerprint[..16]
    );
}

/// Writes `$OUT_DIR/kinds.rs` and `$OUT_DIR/kinds_lower.rs` from `src/prelude.plat`.
fn generate_kinds(manifest: &Path) {
    let prelude_path = manifest.join("src/prelude.plat");
    println!("cargo:rerun-if-changed={}", prelude_path.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("build").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("src/model/doc_tags.rs").display()
    );
    let prelude = std::fs::read_to_string(&prelude_path).expect("read the prelude");
    let (kinds, lower) = kinds::generate(&prelude);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    write_if_changed(&out.join("kinds.rs"), &kinds);
    write_if_changed(&out.join("kinds_lower.rs"), &lower);
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write generated code");
    }
}

fn collect(label: &str, root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(label, root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "plat") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((format!("{label}/{}", parts.join("/")), path));
        }
    }
}

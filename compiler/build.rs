//! Computes the compiler's fingerprint: blake3 over the source files of `lang` and `compiler`
//! (`.rs` and `.plat`, by relative path). `plat.lock` records it next to the version, so that
//! a no-op build is skipped only when both the sources *and the compiler* are unchanged, and
//! a compiler change shows as a change of `out/plat.lock`. It depends on the source text only,
//! never on the machine, the toolchain or the time, so every checkout computes the same value.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let roots = [
        ("compiler", manifest.join("src")),
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

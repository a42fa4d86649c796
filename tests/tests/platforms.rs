//! The emitters end to end: test platforms in `tests/data/platforms/` (and the repository's own
//! `platform/`) compiled into complete output trees, which must be
//! - byte-identical from build to build, whatever path the sources are opened by;
//! - accepted by the upstream tools (cloud-init, kubernetes-validate, kustomize) and by the
//!   structural checks against pfSense's default config and Proxmox's option syntax;
//! - what the insta snapshots (one `//// path` header per file) say they are.
//!
//! The repository's committed `out/` is checked the same way, and every `out/` path the
//! runbooks name must exist in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plat::emit::Files;
use plat_tests::upstream::{
    cloud_init_schema, kubernetes_validate, kustomize, pfsense_structure, proxmox_conf_syntax,
    Outcome, Verdict,
};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn platform(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/platforms")
        .join(name)
}

/// Compiles `dir` and emits every file; panics with the rendered diagnostics on an error.
fn build(dir: &Path) -> Files {
    let dir = dir.to_path_buf();
    plat::compile::with_large_stack(move || {
        let project = plat::sources::Project::open(&dir).expect("open project");
        let compilation = plat::compile::compile(&project);
        let rendered = plat::render::render_human(
            &compilation.front.loaded.sources,
            &compilation.diagnostics,
            plat::render::Style::Plain,
        );
        assert!(compilation.diagnostics.is_empty(), "{rendered}");
        plat::emit::all(compilation.model.as_ref().expect("model"))
    })
}

fn tree_text(files: &Files) -> String {
    let mut out = String::new();
    for (path, bytes) in files {
        out.push_str(&format!("//// {path}\n"));
        out.push_str(&String::from_utf8_lossy(bytes));
    }
    out
}

/// Writes `files` under a fresh temporary directory and returns it.
fn write_tree(name: &str, files: &Files) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plat-platforms-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, bytes) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
    }
    dir
}

fn assert_passes(what: &str, outcome: Outcome) {
    match outcome {
        Ok(Verdict::Passed { .. }) | Ok(Verdict::Skipped { .. }) => {}
        Err(failures) => panic!("{what}:\n{failures}"),
    }
}

fn files_named(dir: &Path, name: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir(dir)
        .into_iter()
        .filter(|p| name(&p.to_string_lossy()))
        .collect();
    found.sort();
    found
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every upstream check on an output tree in `dir`, for clusters of Kubernetes `version`.
fn validate_tree(dir: &Path, k8s_version: &str) {
    assert_passes("cloud-init", cloud_init_schema(&dir.join("cloud-init")));
    for cluster in std::fs::read_dir(dir.join("kubernetes"))
        .expect("kubernetes/")
        .flatten()
    {
        let cluster = cluster.path();
        assert_passes(
            "kubernetes-validate",
            kubernetes_validate(&cluster, k8s_version),
        );
        assert_passes("kustomize", kustomize(&cluster));
    }
    let configs = files_named(dir, |p| p.ends_with("config.xml"));
    assert!(!configs.is_empty(), "no config.xml under {}", dir.display());
    for config in configs {
        assert_passes("pfSense structure", pfsense_structure(&config));
    }
    let confs = files_named(dir, |p| p.ends_with(".conf") && p.contains("qemu-server"));
    assert!(!confs.is_empty(), "no VM configs under {}", dir.display());
    for conf in confs {
        assert_passes("Proxmox option syntax", proxmox_conf_syntax(&conf));
    }
}

#[test]
fn small_platform_output() {
    let files = build(&platform("small"));
    insta::assert_snapshot!("small", tree_text(&files));
}

#[test]
fn edge_platform_output() {
    let files = build(&platform("edge"));
    insta::assert_snapshot!("edge", tree_text(&files));
}

/// UEFI on q35 with an EFI disk, a TPM, PCI(e) passthrough, ballooning and NUMA: the VM
/// configs (the Proxmox harness builds their KVM command lines, docs/ARCHITECTURE.md).
#[test]
fn passthrough_platform_vm_configs() {
    let files = build(&platform("passthrough"));
    let confs: Files = files
        .into_iter()
        .filter(|(path, _)| path.ends_with(".conf") && path.contains("qemu-server"))
        .collect();
    assert_eq!(confs.len(), 2);
    insta::assert_snapshot!("passthrough", tree_text(&confs));
    let dir = write_tree("passthrough", &confs);
    for conf in files_named(&dir, |p| p.ends_with(".conf")) {
        assert_passes("Proxmox option syntax", proxmox_conf_syntax(&conf));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn builds_are_byte_identical_whatever_the_path() {
    for name in ["small", "edge"] {
        let first = build(&platform(name));
        let second = build(&platform(name));
        assert_eq!(first, second, "{name}: two builds differ");
        // The same sources reached through another path (a `..` detour).
        let detour = platform(name).join("..").join(name);
        assert_eq!(first, build(&detour), "{name}: the path changed the output");
    }
}

#[test]
fn every_generated_file_ends_in_one_newline_without_carriage_returns() {
    for name in ["small", "edge"] {
        for (path, bytes) in build(&platform(name)) {
            assert!(
                bytes.ends_with(b"\n") && !bytes.ends_with(b"\n\n"),
                "{name}: {path}"
            );
            assert!(
                !bytes.contains(&b'\r'),
                "{name}: {path} has a carriage return"
            );
        }
    }
}

/// `secrets.required` is exact: it lists each secret with precisely the files whose text
/// refers to it, for every test platform and the repository's own. The build lists what the
/// emitters declare; only this test reads the text.
#[test]
fn secrets_required_lists_exactly_the_references_in_the_files() {
    const REFERENCE: &str = "${secret:";
    let platforms = [
        platform("small"),
        platform("edge"),
        repository().join("platform"),
    ];
    for dir in platforms {
        let mut files = build(&dir);
        let index = files.remove("secrets.required").unwrap_or_default();
        let index = String::from_utf8(index).expect("UTF-8");
        let mut listed = BTreeMap::new();
        for line in index.lines().filter(|line| !line.starts_with('#')) {
            let (name, users) = line
                .split_once("  # used by ")
                .expect("NAME  # used by ...");
            let users: BTreeSet<String> = users.split(", ").map(String::from).collect();
            listed.insert(name.to_string(), users);
        }
        let mut present: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            for after in text.split(REFERENCE).skip(1) {
                let name = after.split('}').next().unwrap_or_default().to_string();
                present.entry(name).or_default().insert(path.clone());
            }
        }
        assert!(!present.is_empty(), "{}: no secret at all", dir.display());
        assert_eq!(listed, present, "{}", dir.display());
        assert!(!index.contains(REFERENCE), "{index}");
    }
}

#[test]
fn small_output_passes_upstream_validators() {
    let dir = write_tree("small", &build(&platform("small")));
    validate_tree(&dir, "1.31.4");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn edge_output_passes_upstream_validators() {
    let dir = write_tree("edge", &build(&platform("edge")));
    validate_tree(&dir, "1.32.2");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn committed_out_is_what_the_platform_produces_and_passes_upstream_validators() {
    let files = build(&repository().join("platform"));
    for (path, bytes) in &files {
        let committed = std::fs::read(repository().join("out").join(path)).unwrap_or_default();
        assert!(
            committed == *bytes,
            "out/{path} is stale: run `cargo run --release -- build`"
        );
    }
    let version = std::fs::read_to_string(repository().join("platform/20-core/cluster.plat"))
        .ok()
        .and_then(|text| {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with("version"))?;
            Some(line.split('"').nth(1)?.to_string())
        })
        .unwrap_or_else(|| "1.31".into());
    validate_tree(&repository().join("out"), &version);
}

/// Every `out/...` path a runbook or README names (in backticks, without `<placeholders>`)
/// exists in the committed out/.
#[test]
fn runbook_paths_exist_in_out() {
    let mut documents = files_named(&repository().join("docs/runbooks"), |p| p.ends_with(".md"));
    documents.extend(files_named(&repository().join("platform"), |p| {
        p.ends_with(".md")
    }));
    documents.push(repository().join("README.md"));
    let mut checked = 0;
    for document in documents {
        let text = std::fs::read_to_string(&document).expect("read document");
        for quoted in text.split('`').skip(1).step_by(2) {
            for word in quoted.split_whitespace() {
                let Some(start) = word.find("out/") else {
                    continue;
                };
                if start > 0 && !word[..start].ends_with(['/', '=', '(', '"', '\'']) {
                    continue;
                }
                let path = word[start..].trim_end_matches([',', ';', ')', '.', ':', '"', '\'']);
                // `FILE:LINE` (as `plat explain` takes it) names FILE.
                let path = match path.rsplit_once(':') {
                    Some((file, line)) if line.chars().all(|c| c.is_ascii_digit()) => file,
                    _ => path,
                };
                if path.contains(['<', '*', '$', '{']) || path == "out/" {
                    continue;
                }
                let full = repository().join(path);
                assert!(
                    full.exists(),
                    "{} names {path}, which the build does not produce",
                    document.display()
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} out/ paths found in the runbooks"
    );
}

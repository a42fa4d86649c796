//! Kubernetes manifests: strict schema validation with `kubernetes-validate` and
//! `kubectl kustomize` on every kustomization.
//!
//! `kubernetes-validate` (PyPI; the Kubernetes OpenAPI schemas per release) only *warns*
//! when it has no schema for a kind (`kubernetes_validate/utils.py`, `SchemaNotFoundError`)
//! and exits 0. Here that is a failure, because a typo in `apiVersion` or a removed API
//! looks the same, except for the custom resources listed in [`KNOWN_CRDS`] by exact
//! `apiVersion` and `kind`: those are skipped and named in the verdict's notes.
//! kubeadm, kubelet and kube-proxy configuration files (under a `kubeadm/` folder) are not
//! API objects and are left to their own checks; `kustomization.yaml` goes to [`kustomize`].
//!
//! Tests: `tests/tests/upstream_tools.rs`.

use super::{files_under, finish, missing_tool, relative, run, Failure, Outcome};
use std::path::{Path, PathBuf};

/// Custom resources the platform emits whose schemas `kubernetes-validate` does not have:
/// `(apiVersion, kind)`. An older or newer version of the same kind is *not* skipped.
/// Flux: helm-controller `HelmRelease` v2 (GA since Flux 2.3), source-controller
/// `HelmRepository`/`GitRepository` v1, kustomize-controller `Kustomization` v1.
pub const KNOWN_CRDS: &[(&str, &str)] = &[
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    // cert-manager (cert-manager.io/v1) and MetalLB (metallb.io/v1beta1), as the platform's
    // raw manifests use them.
    ("cert-manager.io/v1", "Certificate"),
    ("cert-manager.io/v1", "ClusterIssuer"),
    ("cert-manager.io/v1", "Issuer"),
    ("metallb.io/v1beta1", "IPAddressPool"),
    ("metallb.io/v1beta1", "L2Advertisement"),
];

const VALIDATE: &str = "kubernetes-validate --strict";
const KUSTOMIZE: &str = "kubectl kustomize";

/// Validates every YAML file under `dir` (except `kustomization.yaml` and files under a
/// `kubeadm/` folder) against the strict schemas of Kubernetes `k8s_version` (`1.31` or
/// `1.31.4`).
pub fn kubernetes_validate(dir: &Path, k8s_version: &str) -> Outcome {
    let probe = run("python3", &["-m", "kubernetes_validate", "--version"]);
    if !probe.is_some_and(|ran| ran.success) {
        return missing_tool(VALIDATE, "kubernetes-validate", "python3 cannot import it");
    }
    let files = files_under(dir, |path| is_manifest(dir, path));
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut rest = files.as_slice();
    while !rest.is_empty() {
        let Some(batch) = validate_batch(rest, k8s_version) else {
            failures.push(Failure::new("python3", "could not be started"));
            break;
        };
        for (index, (path, text)) in rest.iter().zip(&batch.texts).enumerate() {
            let subject = relative(dir, path);
            let verdict = read_validate_output(text, batch.stopped_at != Some(index));
            notes.extend(
                verdict
                    .skipped
                    .iter()
                    .map(|crd| format!("{subject}: {crd}")),
            );
            failures.extend(
                verdict
                    .errors
                    .into_iter()
                    .map(|e| Failure::new(&subject, e)),
            );
        }
        if !batch.unattributed.trim().is_empty() {
            failures.push(Failure::new("kubernetes-validate", batch.unattributed));
        }
        rest = &rest[batch.stopped_at.map_or(rest.len(), |index| index + 1)..];
    }
    finish(VALIDATE, files.len(), failures, notes)
}

/// Runs `kubectl kustomize` on every folder under `dir` that holds a `kustomization.yaml`.
pub fn kustomize(dir: &Path) -> Outcome {
    if let Err(why) = kustomize_v5() {
        return missing_tool(KUSTOMIZE, "kubectl", &why);
    }
    let kustomizations = files_under(dir, |path| file_name(path) == "kustomization.yaml");
    let mut failures = Vec::new();
    for file in &kustomizations {
        let folder = file.parent().unwrap_or(dir);
        let folder_text = folder.to_string_lossy();
        match run("kubectl", &["kustomize", &folder_text]) {
            Some(ran) if ran.success => {}
            Some(ran) => failures.push(Failure::new(relative(dir, file), ran.text)),
            None => failures.push(Failure::new(relative(dir, file), "kubectl did not start")),
        }
    }
    finish(KUSTOMIZE, kustomizations.len(), failures, Vec::new())
}

/// Whether `path` is an API manifest for `kubernetes-validate`.
fn is_manifest(dir: &Path, path: &Path) -> bool {
    let yaml = matches!(
        path.extension().and_then(|ext| ext.to_str()),
        Some("yaml" | "yml")
    );
    let under_kubeadm = path
        .strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .any(|part| part.as_os_str() == "kubeadm");
    yaml && !under_kubeadm && !file_name(path).starts_with("kustomization.")
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("")
}

/// `Ok` when `kubectl` runs and its built-in kustomize is v5; the reason otherwise.
fn kustomize_v5() -> Result<(), String> {
    let ran = run("kubectl", &["version", "--client"]).ok_or("kubectl is not installed")?;
    let version = ran
        .text
        .lines()
        .find_map(|line| line.strip_prefix("Kustomize Version: "))
        .unwrap_or("none")
        .trim()
        .to_owned();
    if version.starts_with("v5.") {
        Ok(())
    } else {
        Err(format!("its kustomize is {version}, v5 is needed"))
    }
}

/// One `kubernetes-validate` run over several files, its output split by file.
#[derive(Debug, Default, PartialEq)]
struct Batch {
    /// Output lines about each file, in the order of the files given.
    texts: Vec<String>,
    /// The file whose YAML could not be read: the run stopped there (`SystemExit` in
    /// `resources_from_file`), so the files after it were not checked.
    stopped_at: Option<usize>,
    /// Output that names no file.
    unattributed: String,
}

/// Runs `kubernetes-validate --strict --quiet` once on `files` (one process: loading the
/// schemas dominates its run time).
fn validate_batch(files: &[PathBuf], k8s_version: &str) -> Option<Batch> {
    let names: Vec<String> = files
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    let mut args = vec![
        "-m",
        "kubernetes_validate",
        "--strict",
        "--quiet",
        "-k",
        k8s_version,
    ];
    args.extend(names.iter().map(String::as_str));
    let ran = run("python3", &args)?;
    Some(split_by_file(&ran.text, &names))
}

/// Sorts output lines to the file each names (`ERROR <file> ...`, `WARN <file> ...`,
/// `Couldn't parse YAML from file <file>: ...`); continuation lines follow their file.
fn split_by_file(text: &str, names: &[String]) -> Batch {
    let mut batch = Batch {
        texts: vec![String::new(); names.len()],
        ..Batch::default()
    };
    let mut current = None;
    for line in text.lines() {
        if let Some(index) = stop_file(line, names) {
            batch.stopped_at = Some(index);
            current = Some(index);
        } else if let Some(index) = reported_file(line, names) {
            current = Some(index);
        }
        let target = match current {
            Some(index) => &mut batch.texts[index],
            None => &mut batch.unattributed,
        };
        target.push_str(line);
        target.push('\n');
    }
    batch
}

/// The file of an `ERROR`/`WARN`/`FATAL` line.
fn reported_file(line: &str, names: &[String]) -> Option<usize> {
    let (level, rest) = line.split_once(' ')?;
    if !matches!(level, "ERROR" | "WARN" | "FATAL") {
        return None;
    }
    names.iter().position(|name| {
        rest.strip_prefix(name.as_str())
            .is_some_and(|tail| tail.starts_with(' '))
    })
}

/// The file a fatal read error names (`utils.py` `resources_from_file`).
fn stop_file(line: &str, names: &[String]) -> Option<usize> {
    let rest = line
        .strip_prefix("Couldn't parse YAML from file ")
        .or_else(|| line.strip_prefix("Couldn't open file "))?;
    names.iter().position(|name| {
        rest.strip_prefix(name.as_str())
            .is_some_and(|tail| tail.starts_with(':') || tail.starts_with(' '))
    })
}

/// What one `kubernetes-validate --quiet` run said about one file.
#[derive(Debug, Default, PartialEq)]
struct ValidateVerdict {
    errors: Vec<String>,
    skipped: Vec<String>,
}

/// Sorts the output lines: `ERROR`/`FATAL` fail; a missing schema fails unless the kind is
/// in [`KNOWN_CRDS`]; anything else on a failed run (e.g. a YAML syntax error) fails.
fn read_validate_output(text: &str, success: bool) -> ValidateVerdict {
    let mut verdict = ValidateVerdict::default();
    for line in text.lines() {
        if let Some((api_version, kind)) = missing_schema(line) {
            if KNOWN_CRDS.contains(&(api_version, kind)) {
                verdict
                    .skipped
                    .push(format!("{kind} {api_version} (known CRD)"));
            } else {
                let why = "no schema: misspelt or removed API, or a CRD missing from KNOWN_CRDS";
                verdict.errors.push(format!("{line}\n({why})"));
            }
        } else if line.starts_with("ERROR ") || line.starts_with("FATAL ") {
            verdict.errors.push(line.to_owned());
        }
    }
    if !success && verdict.errors.is_empty() {
        verdict.errors.push(text.trim_end().to_owned());
    }
    verdict
}

/// `(apiVersion, kind)` from `WARN <file> Couldn't find schema for kind K with api version V
/// for kubernetes version X`.
fn missing_schema(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("WARN ")?;
    let (_, rest) = rest.split_once(" Couldn't find schema for kind ")?;
    let (kind, rest) = rest.split_once(" with api version ")?;
    let (api_version, _) = rest.split_once(" for kubernetes version ")?;
    Some((api_version, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WARN_HELMRELEASE: &str = "WARN a.yaml Couldn't find schema for kind HelmRelease \
        with api version helm.toolkit.fluxcd.io/v2 for kubernetes version 1.31";

    #[test]
    fn known_crd_is_skipped_with_a_note() {
        let verdict = read_validate_output(WARN_HELMRELEASE, true);
        assert!(verdict.errors.is_empty());
        assert_eq!(
            verdict.skipped,
            ["HelmRelease helm.toolkit.fluxcd.io/v2 (known CRD)"]
        );
    }

    #[test]
    fn other_version_of_a_known_crd_fails() {
        let line = WARN_HELMRELEASE.replace("fluxcd.io/v2 ", "fluxcd.io/v2beta1 ");
        let verdict = read_validate_output(&line, true);
        assert_eq!(verdict.errors.len(), 1);
        assert!(verdict.errors[0].contains("KNOWN_CRDS"));
    }

    #[test]
    fn failed_run_without_error_line_keeps_the_output() {
        let verdict = read_validate_output("Couldn't parse YAML from file x.yaml: bad", false);
        assert_eq!(
            verdict.errors,
            ["Couldn't parse YAML from file x.yaml: bad"]
        );
    }

    #[test]
    fn batch_output_is_split_by_file_and_stops_at_bad_yaml() {
        let names = ["/o/a.yaml", "/o/b.yaml", "/o/c.yaml"].map(String::from);
        let text = "ERROR /o/a.yaml did not validate: x\nmore about a\n\
                    Couldn't parse YAML from file /o/b.yaml: mapping values\n  in line 3\n";
        let batch = split_by_file(text, &names);
        assert_eq!(
            batch.texts,
            [
                "ERROR /o/a.yaml did not validate: x\nmore about a\n",
                "Couldn't parse YAML from file /o/b.yaml: mapping values\n  in line 3\n",
                ""
            ]
        );
        assert_eq!(batch.stopped_at, Some(1));
        assert_eq!(batch.unattributed, "");
    }

    #[test]
    fn kubeadm_folder_and_kustomization_are_not_manifests() {
        let dir = Path::new("/out/k8s");
        assert!(is_manifest(dir, Path::new("/out/k8s/apps/app.yaml")));
        assert!(!is_manifest(dir, Path::new("/out/k8s/kubeadm/init.yaml")));
        assert!(!is_manifest(
            dir,
            Path::new("/out/k8s/apps/kustomization.yaml")
        ));
        assert!(!is_manifest(dir, Path::new("/out/k8s/apps/README.md")));
    }
}

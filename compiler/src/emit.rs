//! Emitters: pure functions from the [`Model`] to generated files. Each backend is one module
//! with one entry point `emit_into(&Model, &Out)` (and `emit(&Model) -> Files`, the same in
//! memory); emitters never see the AST or values, only the model. Output must be
//! byte-for-byte deterministic: LF line endings, one trailing newline, no time, no
//! environment, explicit sort keys.
//!
//! Secret references: a file refers to a secret as `${secret:NAME}`, written only through
//! [`Secrets::reference`], which records the name for the file as it returns the reference;
//! the emitter puts each file with the secrets it recorded ([`Out::put`]), and
//! `secrets.required` lists those declarations. Nothing scans the generated text, and no
//! string from the sources can forge a reference: lowering rejects any that contains one
//! (`check::secret-reference-in-string`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use crate::model::Model;
use crate::parallel::locked;
pub use crate::shared::{REGENERATE, SECRET_REFERENCE};

pub mod cloud_init;
pub mod k8s;
pub mod pfsense;
pub mod proxmox;
pub mod yaml;

/// Generated files: path relative to `out/` (with `/` separators) to contents.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Where generated files go as they are made: a map in memory ([`Collect`]), or a new out/
/// tree on disk (`crate::out::NewTree`), so that a first build never holds every file at once.
/// Emitters may put files from several threads and in any order; every path is put once.
pub trait Sink: Sync {
    /// Takes the file at `path` (relative to out/).
    fn put(&self, path: String, bytes: Vec<u8>);
}

/// A [`Sink`] that keeps every file in a map, sorted by path.
#[derive(Default)]
pub struct Collect(Mutex<Files>);

impl Collect {
    /// The files put so far.
    pub fn into_files(self) -> Files {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sink for Collect {
    fn put(&self, path: String, bytes: Vec<u8>) {
        locked(&self.0).insert(path, bytes);
    }
}

/// The secrets one generated file refers to, by name, sorted.
///
/// A reference is written only by [`Secrets::reference`], which records the name as it
/// returns the reference: the set is exactly the references written with it. The emitter
/// puts the file with its set ([`Out::put`]), and `secrets.required` lists the sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets(BTreeSet<String>);

impl Secrets {
    /// Records that the file refers to secret `name`; returns the reference to write.
    pub fn reference(&mut self, name: &str) -> String {
        if !self.0.contains(name) {
            self.0.insert(name.to_string());
        }
        format!("{SECRET_REFERENCE}{name}}}")
    }

    /// True when the file refers to no secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Every target's files for `model`, and `secrets.required`, in memory.
pub fn all(model: &Model) -> Files {
    let files = Collect::default();
    all_into(model, &files);
    files.into_files()
}

/// Every target's files for `model` into `sink`, then `secrets.required`.
///
/// The targets are independent, so each runs on its own thread; what they put does not depend
/// on scheduling, and `secrets.required` lists the secrets every file declares, sorted.
pub fn all_into(model: &Model, sink: &dyn Sink) {
    let targets: [fn(&Model, &Out); 4] = [
        proxmox::emit_into,
        pfsense::emit_into,
        cloud_init::emit_into,
        k8s::emit_into,
    ];
    let out = Out::new(sink);
    std::thread::scope(|scope| {
        let out = &out;
        let handles: Vec<_> = targets
            .iter()
            .map(|emit| scope.spawn(move || emit(model, out)))
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    if let Some(index) = out.secrets_required() {
        sink.put("secrets.required".to_string(), index);
    }
}

/// Where emitters put their files: each with the secrets it refers to, as the emitter
/// declared them while writing the references ([`Secrets::reference`]). The file goes on to
/// the [`Sink`]; the declarations are what `secrets.required` lists. Nothing reads the bytes.
pub struct Out<'s> {
    sink: &'s dyn Sink,
    /// Secret name to the files that refer to it.
    used: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

impl<'s> Out<'s> {
    /// Files go to `sink`.
    pub fn new(sink: &'s dyn Sink) -> Out<'s> {
        Out {
            sink,
            used: Mutex::default(),
        }
    }

    /// Puts the file at `path` (relative to out/), which refers to exactly `secrets`.
    pub fn put(&self, path: String, bytes: Vec<u8>, secrets: &Secrets) {
        if !secrets.is_empty() {
            let mut used = locked(&self.used);
            for name in secrets.names() {
                used.entry(name.to_string())
                    .or_default()
                    .insert(path.clone());
            }
        }
        self.sink.put(path, bytes);
    }

    /// `secrets.required`: each secret, with the files that use it, sorted; `None` when no
    /// file refers to a secret.
    fn secrets_required(&self) -> Option<Vec<u8>> {
        let used = locked(&self.used);
        if used.is_empty() {
            return None;
        }
        let mut out =
            format!("# Generated by plat; do not edit. Regenerate with `{REGENERATE}`.\n");
        out.push_str(
            "# Secrets the apply step must provide, with the files that refer to them. A file\n",
        );
        out.push_str(
            "# refers to secret NAME as a dollar sign and {secret:NAME}: replace each reference\n",
        );
        out.push_str("# with the value when copying the files to their targets.\n");
        for (name, paths) in used.iter() {
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            out.push_str(&format!("{name}  # used by {}\n", paths.join(", ")));
        }
        Some(out.into_bytes())
    }
}

/// The files `emit` puts, in memory (a target's files alone, without `secrets.required`).
pub fn collect(emit: impl FnOnce(&Out)) -> Files {
    let files = Collect::default();
    emit(&Out::new(&files));
    files.into_files()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    /// The references in `files`' text: secret name to the files that hold it. Only tests
    /// scan; the build lists what the emitters declare.
    fn scanned(files: &Files) -> BTreeMap<String, BTreeSet<String>> {
        let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, bytes) in files {
            let text = String::from_utf8_lossy(bytes);
            for after in text.split(SECRET_REFERENCE).skip(1) {
                let name = after.split('}').next().unwrap_or_default();
                found.entry(name.into()).or_default().insert(path.clone());
            }
        }
        found
    }

    /// Every target's files for `model` and what they declared.
    fn declared(model: &Model) -> (Files, BTreeMap<String, BTreeSet<String>>) {
        let files = Collect::default();
        let out = Out::new(&files);
        for emit in [
            proxmox::emit_into,
            pfsense::emit_into,
            cloud_init::emit_into,
            k8s::emit_into,
        ] {
            emit(model, &out);
        }
        let used = out
            .used
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        (files.into_files(), used)
    }

    #[test]
    fn a_reference_is_recorded_as_it_is_written() {
        let mut secrets = Secrets::default();
        assert!(secrets.is_empty());
        assert_eq!(secrets.reference("b-key"), "${secret:b-key}");
        assert_eq!(secrets.reference("a-key"), "${secret:a-key}");
        assert_eq!(secrets.reference("b-key"), "${secret:b-key}");
        assert_eq!(secrets.names().collect::<Vec<_>>(), ["a-key", "b-key"]);
    }

    #[test]
    fn secrets_required_lists_declarations_not_text() {
        let files = Collect::default();
        let out = Out::new(&files);
        let mut secrets = Secrets::default();
        let text = format!("token: {}\n", secrets.reference("real"));
        out.put("b".into(), text.into_bytes(), &secrets);
        let forged = b"# an undeclared ${secret:forged} and a ${secret:NAME}\n".to_vec();
        out.put("a".into(), forged, &Secrets::default());
        let index = String::from_utf8(out.secrets_required().expect("a secret")).unwrap();
        let entries: Vec<&str> = index.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(entries, ["real  # used by b"]);
        assert!(!index.contains(SECRET_REFERENCE), "{index}");
        assert_eq!(files.into_files().len(), 2);
    }

    #[test]
    fn every_file_declares_exactly_the_references_it_holds() {
        for model in [fixture::small(), k8s::tests::full()] {
            let (files, used) = declared(&model);
            assert!(!used.is_empty());
            assert_eq!(used, scanned(&files));
        }
    }

    #[test]
    fn secrets_required_is_exact() {
        let files = all(&fixture::small());
        let index = String::from_utf8(files["secrets.required"].clone()).unwrap();
        let names: Vec<&str> = index
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let expected = [
            "kubeadm-main-bootstrap-token",
            "kubeadm-main-ca-cert-hash",
            "kubeadm-main-certificate-key",
            "pfsense-fw1-admin-bcrypt-hash",
        ];
        assert_eq!(names, expected);
        // No generated text, comments included, holds a reference nobody declared.
        let (_, used) = declared(&fixture::small());
        let mut files = files;
        files.remove("secrets.required");
        assert_eq!(scanned(&files), used);
    }

    #[test]
    fn no_secret_no_secrets_required() {
        let mut model = fixture::small();
        model.firewalls.clear();
        model.clusters.clear();
        model.nodes.clear();
        assert!(!all(&model).contains_key("secrets.required"));
    }
}

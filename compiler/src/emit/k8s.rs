//! The Kubernetes target: kubeadm configurations and manifests, per cluster.
//!
//! Layout of the files, under `kubernetes/<cluster>/`:
//! - `kubeadm/<node>.yaml`: one kubeadm config per node ([`kubeadm`]);
//! - `secrets.required`: the secrets the kubeadm files reference ([`kubeadm`] says how they are
//!   written and resolved);
//! - `<namespace>/`: `namespace.yaml` (Namespace, default-deny NetworkPolicy),
//!   `service-<name>.yaml` per service ([`workloads`]), `chart-<name>.yaml` per Helm chart
//!   ([`flux`]), `manifest-<name>.yaml` per namespaced raw manifest ([`raw`]), and a
//!   `kustomization.yaml` listing them;
//! - `manifest-<name>.yaml` per cluster-scoped raw manifest, and `kustomization.yaml` listing
//!   those files and every namespace directory ([`kustomize`]), so that
//!   `kubectl apply -k kubernetes/<cluster>` applies the whole cluster (not kubeadm, which is
//!   not an API object).
//!
//! Each submodule builds [`Output`]s (YAML trees, rendered last), so tests can assert on
//! fields rather than on layout.
//!
//! Invariants: file names are derived from entity names only and prefixed by their kind, so
//! two entities never share a file (a namespace named `kubeadm` would share the kubeadm
//! directory; the checks should reserve that name); every object plat builds carries
//! `app.kubernetes.io/managed-by: plat` (raw manifests stay as written); entities whose
//! cluster or namespace does not resolve are skipped (the checks report them). Every file
//! starts with [`header`]. Tests are at the bottom of each module; the shared helpers and
//! `tests::full()` (the small fixture plus a chart, manifests, TLS and `allow_from`) are here.

use std::collections::BTreeMap;

use super::yaml::{self, Yaml};
use super::{Files, REGENERATE};
use crate::model::{Chart, Cluster, Manifest, Model, Namespace, Service};

pub mod flux;
pub mod kubeadm;
pub mod kustomize;
pub mod raw;
pub mod workloads;

/// Label naming the application an object belongs to.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// One generated file before it is written out.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// YAML documents, preceded by the header and a comment line per note.
    Yaml {
        /// Comment lines after the header.
        notes: Vec<String>,
        /// The documents, separated by `---`.
        docs: Vec<Yaml>,
    },
    /// Plain text, header included.
    Text(String),
}

impl Output {
    /// YAML documents without notes.
    pub fn yaml(docs: Vec<Yaml>) -> Output {
        Output::Yaml {
            notes: Vec::new(),
            docs,
        }
    }

    /// The file's bytes.
    pub fn render(&self) -> Vec<u8> {
        match self {
            Output::Yaml { notes, docs } => {
                let mut out = header();
                for note in notes {
                    out.push_str(&format!("# {note}\n"));
                }
                out.push_str(&yaml::documents(docs));
                out.into_bytes()
            }
            Output::Text(text) => text.clone().into_bytes(),
        }
    }
}

/// The files of this target.
pub fn emit(model: &Model) -> Files {
    // Each file is rendered as soon as it is built, so the YAML trees of one file at a time
    // are in memory, not those of every service.
    let mut files = Files::new();
    let index = Index::new(model);
    for cluster in model.clusters.values() {
        emit_cluster(model, &index, cluster, &mut |path, output| {
            files.insert(path, output.render());
        });
    }
    files
}

/// The files of this target before rendering, by path.
pub fn outputs(model: &Model) -> BTreeMap<String, Output> {
    let mut files = BTreeMap::new();
    let index = Index::new(model);
    for cluster in model.clusters.values() {
        emit_cluster(model, &index, cluster, &mut |path, output| {
            files.insert(path, output);
        });
    }
    files
}

/// The services, charts and namespaced manifests of each namespace, in declaration order:
/// built once, so that a namespace's files cost its own entities, not a scan of all of them.
struct Index<'m> {
    services: BTreeMap<&'m str, Vec<&'m Service>>,
    charts: BTreeMap<&'m str, Vec<&'m Chart>>,
    manifests: BTreeMap<&'m str, Vec<&'m Manifest>>,
}

impl<'m> Index<'m> {
    fn new(model: &'m Model) -> Index<'m> {
        let mut index = Index {
            services: BTreeMap::new(),
            charts: BTreeMap::new(),
            manifests: BTreeMap::new(),
        };
        for service in model.services.values() {
            let entry = index.services.entry(service.namespace.as_str());
            entry.or_default().push(service);
        }
        for chart in model.charts.values() {
            let entry = index.charts.entry(chart.namespace.as_str());
            entry.or_default().push(chart);
        }
        for manifest in model.manifests.values() {
            if let Some(namespace) = manifest.namespace.as_deref() {
                index.manifests.entry(namespace).or_default().push(manifest);
            }
        }
        index
    }
}

/// Where [`emit_cluster`] puts each file: path and contents.
type Sink<'a> = dyn FnMut(String, Output) + 'a;

/// The generated-file header: a comment line, nothing variable.
pub fn header() -> String {
    format!("# Generated by plat; do not edit. Regenerate with `{REGENERATE}`.\n")
}

/// `metadata` of an object: name, namespace when given, and labels.
pub fn metadata(name: &str, namespace: Option<&str>, labels: Yaml) -> Yaml {
    let mut entries = vec![("name", Yaml::str(name))];
    if let Some(namespace) = namespace {
        entries.push(("namespace", Yaml::str(namespace)));
    }
    entries.push(("labels", labels));
    Yaml::map(entries)
}

/// The standard labels of an object belonging to application `name`.
pub fn app_labels(name: &str) -> Yaml {
    Yaml::map([
        (NAME_LABEL, Yaml::str(name)),
        (MANAGED_BY_LABEL, Yaml::str("plat")),
    ])
}

/// The namespaces of `cluster`, in declaration order.
pub fn namespaces_of<'m>(
    model: &'m Model,
    cluster: &'m Cluster,
) -> impl Iterator<Item = &'m Namespace> + 'm {
    model
        .namespaces
        .values()
        .filter(move |namespace| *namespace.cluster == cluster.name)
}

fn emit_cluster(model: &Model, index: &Index, cluster: &Cluster, files: &mut Sink) {
    let root = format!("kubernetes/{}", cluster.name);
    let kubeadm = kubeadm::files(model, cluster);
    for (node, text) in kubeadm.files {
        files(format!("{root}/kubeadm/{node}.yaml"), text);
    }
    if !kubeadm.secrets.is_empty() {
        files(format!("{root}/secrets.required"), kubeadm.secrets.render());
    }
    let mut cluster_resources = Vec::new();
    for manifest in raw::cluster_scoped(model, cluster) {
        let file = format!("manifest-{}.yaml", manifest.name);
        files(format!("{root}/{file}"), raw::file(manifest));
        cluster_resources.push(file);
    }
    for namespace in namespaces_of(model, cluster) {
        let resources = emit_namespace(model, index, namespace, &root, files);
        files(
            format!("{root}/{}/kustomization.yaml", namespace.name),
            kustomize::kustomization(&resources),
        );
        cluster_resources.push(namespace.name.clone());
    }
    files(
        format!("{root}/kustomization.yaml"),
        kustomize::kustomization(&cluster_resources),
    );
}

/// Writes the files of one namespace directory; returns their names in kustomize order.
fn emit_namespace(
    model: &Model,
    index: &Index,
    namespace: &Namespace,
    root: &str,
    files: &mut Sink,
) -> Vec<String> {
    let dir = format!("{root}/{}", namespace.name);
    let name = namespace.name.as_str();
    let mut out = vec![(
        "namespace.yaml".to_string(),
        workloads::namespace_file(model, namespace),
    )];
    for service in index.services.get(name).into_iter().flatten() {
        let file = format!("service-{}.yaml", service.name);
        out.push((file, workloads::service_file(service)));
    }
    for chart in index.charts.get(name).into_iter().flatten() {
        out.push((format!("chart-{}.yaml", chart.name), flux::file(chart)));
    }
    for manifest in index.manifests.get(name).into_iter().flatten() {
        if *manifest.cluster == *namespace.cluster {
            out.push((
                format!("manifest-{}.yaml", manifest.name),
                raw::file(manifest),
            ));
        }
    }
    let names = out.iter().map(|(file, _)| file.clone()).collect();
    for (file, output) in out {
        files(format!("{dir}/{file}"), output);
    }
    names
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{fixture, At, Chart, Ingress, Manifest, Resources, Service};
    use plat_lang::span::Span;
    use serde_json::json;

    fn at<T>(value: T) -> At<T> {
        At::new(value, Span::default())
    }

    /// `fixture::small()` plus what it lacks: an `ingress` namespace with an ingress-nginx
    /// chart, a service with a health path, TLS and `allow_from`, a namespaced and a
    /// cluster-scoped raw manifest.
    pub fn full() -> Model {
        let mut model = fixture::small();
        let mut ingress = model.namespaces["web"].clone();
        ingress.name = "ingress".into();
        ingress.pod_security = at("baseline".into());
        ingress.default_deny = at(false);
        ingress.labels = at(vec![("team".into(), "platform".into())]);
        model.namespaces.insert("ingress".into(), ingress);
        model.charts.insert(
            "ingress-nginx".into(),
            Chart {
                name: "ingress-nginx".into(),
                span: Span::default(),
                namespace: at("ingress".into()),
                repo: at("https://kubernetes.github.io/ingress-nginx".into()),
                chart: at("ingress-nginx".into()),
                version: at("4.11.3".into()),
                values: at(json!({
                    "controller": { "replicaCount": 2, "service": { "type": "LoadBalancer" } },
                    "tolerations": [],
                })),
            },
        );
        let api = Service {
            name: "api".into(),
            span: Span::default(),
            namespace: at("web".into()),
            image: at("registry.example/api:1.0".into()),
            replicas: at(1),
            port: at(8080),
            env: at(vec![
                ("PORT".into(), "8080".into()),
                ("DEBUG".into(), "false".into()),
            ]),
            resources: at(Resources {
                millicpu: 250,
                memory: 100_000_000,
            }),
            health_path: at(Some("/healthz".into())),
            ingress: at(Some(Ingress {
                host: "api.lab.home.arpa".into(),
                path: "/v1".into(),
                class: "nginx".into(),
                issuer: Some("letsencrypt".into()),
            })),
            allow_from: at(vec!["web".into(), "ingress".into()]),
            args: at(vec!["--listen".into(), ":8080".into()]),
            run_as_user: at(65532),
        };
        model.services.insert("api".into(), api);
        let manifests = [
            (
                "settings",
                Some("web"),
                json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": { "name": "settings", "labels": { "tier": "web" } },
                    "data": { "zeta": "1", "alpha": "true", "mode": "0755" },
                }),
            ),
            (
                "read-nodes",
                None,
                json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": { "name": "read-nodes" },
                    "rules": [{ "apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"] }],
                }),
            ),
        ];
        for (name, namespace, body) in manifests {
            let manifest = Manifest {
                name: name.into(),
                span: Span::default(),
                cluster: at("main".into()),
                namespace: at(namespace.map(String::from)),
                body: at(body),
            };
            model.manifests.insert(name.into(), manifest);
        }
        model
    }

    /// Writes `emit(fixture::small())` and `emit(full())` under `$PLAT_K8S_DUMP/{small,full}`
    /// for the upstream validators:
    /// `PLAT_K8S_DUMP=/tmp/k8s cargo test -p plat dump_for_validators -- --ignored`.
    #[test]
    #[ignore]
    fn dump_for_validators() {
        let dir = std::path::PathBuf::from(std::env::var("PLAT_K8S_DUMP").expect("PLAT_K8S_DUMP"));
        for (name, model) in [("small", fixture::small()), ("full", full())] {
            for (path, bytes) in emit(&model) {
                let path = dir.join(name).join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
        }
    }

    /// The text of `path` in `files`.
    pub fn text<'f>(files: &'f Files, path: &str) -> &'f str {
        let bytes = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing; have {:?}", files.keys()));
        std::str::from_utf8(bytes).expect("utf-8")
    }

    /// The rendered text of `path` in `emit(model)`.
    pub fn file_text(model: &Model, path: &str) -> String {
        text(&emit(model), path).to_string()
    }

    /// The YAML documents of `path` in `outputs(model)`.
    pub fn docs(model: &Model, path: &str) -> Vec<Yaml> {
        let outputs = outputs(model);
        match outputs.get(path) {
            Some(Output::Yaml { docs, .. }) => docs.clone(),
            other => panic!("{path}: {other:?}; have {:?}", outputs.keys()),
        }
    }

    /// The document of kind `kind` in `path`.
    pub fn doc(model: &Model, path: &str, kind: &str) -> Yaml {
        let docs = docs(model, path);
        docs.iter()
            .find(|doc| get(doc, &["kind"]) == &Yaml::str(kind))
            .unwrap_or_else(|| panic!("no {kind} in {path}: {docs:?}"))
            .clone()
    }

    /// The node at `path` (mapping keys, or sequence indexes as numbers).
    pub fn get<'y>(node: &'y Yaml, path: &[&str]) -> &'y Yaml {
        path.iter().fold(node, |node, step| {
            let found = match node {
                Yaml::Map(entries) => entries.iter().find(|(k, _)| k == step).map(|(_, v)| v),
                Yaml::Seq(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            found.unwrap_or_else(|| panic!("no {step:?} in {node:?} (path {path:?})"))
        })
    }

    /// True when the mapping at `path` has `key`.
    pub fn has(node: &Yaml, path: &[&str], key: &str) -> bool {
        matches!(get(node, path), Yaml::Map(entries) if entries.iter().any(|(k, _)| k == key))
    }

    /// A string node.
    pub fn s(text: &str) -> Yaml {
        Yaml::str(text)
    }

    /// The keys of the mapping at `path`, in order.
    pub fn keys(node: &Yaml, path: &[&str]) -> Vec<String> {
        match get(node, path) {
            Yaml::Map(entries) => entries.iter().map(|(k, _)| k.clone()).collect(),
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn small_has_the_expected_files() {
        let files = emit(&fixture::small());
        let paths: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "kubernetes/main/kubeadm/cp-1.yaml",
                "kubernetes/main/kubeadm/cp-2.yaml",
                "kubernetes/main/kubeadm/cp-3.yaml",
                "kubernetes/main/kubeadm/worker-1.yaml",
                "kubernetes/main/kubeadm/worker-2.yaml",
                "kubernetes/main/kustomization.yaml",
                "kubernetes/main/secrets.required",
                "kubernetes/main/web/kustomization.yaml",
                "kubernetes/main/web/namespace.yaml",
                "kubernetes/main/web/service-whoami.yaml",
            ]
        );
    }

    #[test]
    fn every_file_has_the_header_and_one_trailing_newline() {
        for (path, bytes) in emit(&full()) {
            let text = String::from_utf8(bytes).expect("utf-8");
            assert!(text.starts_with("# Generated by plat"), "{path}");
            assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{path}");
            assert!(!text.contains('\r'), "{path}");
        }
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(emit(&full()), emit(&full()));
    }

    #[test]
    fn kustomizations_list_every_file_and_directory() {
        let model = full();
        let cluster = doc(
            &model,
            "kubernetes/main/kustomization.yaml",
            "Kustomization",
        );
        let expected = ["manifest-read-nodes.yaml", "web", "ingress"].map(s);
        assert_eq!(get(&cluster, &["resources"]), &Yaml::Seq(expected.to_vec()));
        let web = doc(
            &model,
            "kubernetes/main/web/kustomization.yaml",
            "Kustomization",
        );
        let expected = [
            "namespace.yaml",
            "service-whoami.yaml",
            "service-api.yaml",
            "manifest-settings.yaml",
        ];
        assert_eq!(
            get(&web, &["resources"]),
            &Yaml::Seq(expected.map(s).to_vec())
        );
        let files = emit(&model);
        for (path, _) in files
            .iter()
            .filter(|(p, _)| p.ends_with("/kustomization.yaml"))
        {
            let dir = path.trim_end_matches("kustomization.yaml");
            let listed = text(&files, path);
            for other in files.keys().filter_map(|p| p.strip_prefix(dir)) {
                let entry = other.split('/').next().unwrap();
                let skip = ["kustomization.yaml", "kubeadm", "secrets.required"];
                if !skip.contains(&entry) {
                    assert!(
                        listed.contains(&format!(" {entry}\n")),
                        "{path} lacks {entry}"
                    );
                }
            }
        }
    }

    #[test]
    fn clusters_are_emitted_apart() {
        let mut model = fixture::small();
        let mut edge = model.clusters["main"].clone();
        edge.name = "edge".into();
        model.clusters.insert("edge".into(), edge);
        let mut node = model.nodes["worker-2"].clone();
        node.cluster = at("edge".into());
        model.nodes.insert("worker-2".into(), node);
        let mut namespace = model.namespaces["web"].clone();
        namespace.name = "apps".into();
        namespace.cluster = at("edge".into());
        model.namespaces.insert("apps".into(), namespace);
        let files = emit(&model);
        assert!(files.contains_key("kubernetes/edge/kubeadm/worker-2.yaml"));
        assert!(!files.contains_key("kubernetes/main/kubeadm/worker-2.yaml"));
        assert!(files.contains_key("kubernetes/edge/apps/namespace.yaml"));
        let edge = text(&files, "kubernetes/edge/kustomization.yaml");
        assert!(
            edge.contains(" apps\n") && !edge.contains(" web\n"),
            "{edge}"
        );
        let secrets = text(&files, "kubernetes/edge/secrets.required");
        assert!(
            secrets.contains("\nkubeadm-edge-bootstrap-token "),
            "{secrets}"
        );
        let join = doc(
            &model,
            "kubernetes/edge/kubeadm/worker-2.yaml",
            "JoinConfiguration",
        );
        let token = get(&join, &["discovery", "bootstrapToken", "token"]);
        assert_eq!(token, &s("${secret:kubeadm-edge-bootstrap-token}"));
    }

    #[test]
    fn objects_are_labelled_managed_by_plat() {
        let model = full();
        for path in outputs(&model).keys().filter(|p| !p.contains("kubeadm/")) {
            if path.ends_with("kustomization.yaml") || path.ends_with("secrets.required") {
                continue;
            }
            for doc in docs(&model, path) {
                if path.contains("manifest-") {
                    continue;
                }
                let label = get(&doc, &["metadata", "labels", MANAGED_BY_LABEL]);
                assert_eq!(label, &s("plat"), "{path}");
            }
        }
    }
}

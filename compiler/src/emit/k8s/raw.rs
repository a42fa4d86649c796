//! Raw manifests, written as the operator gave them: `manifest-<name>.yaml`, in the namespace
//! directory for a namespaced manifest, at the cluster's root for a cluster-scoped one.
//!
//! The body is converted key by key (serde_json keeps source order, `preserve_order`), with
//! one addition: a namespaced manifest whose `metadata` has no `namespace` gets its entity's
//! namespace (inserted after `name`), so the object lands where the model says and not in
//! `default`. A namespace written in the body is kept as written.
//!
//! The language has no floating-point numbers, so every JSON number from the front end is an
//! `i64`; any other number (only a hand-built model can hold one) is written as its decimal
//! text in quotes. Tests are at the bottom.

use super::yaml_file;
use crate::emit::yaml::Yaml;
use crate::model::{Cluster, Data, Manifest, Model};

/// The manifests of `cluster` without a namespace, in declaration order.
pub fn cluster_scoped<'m>(
    model: &'m Model,
    cluster: &'m Cluster,
) -> impl Iterator<Item = &'m Manifest> + 'm {
    model
        .manifests
        .values()
        .filter(move |manifest| *manifest.cluster == cluster.name && manifest.namespace.is_none())
}

/// `manifest-<name>.yaml`: the body as one document.
pub fn file(manifest: &Manifest) -> Vec<u8> {
    let mut body = to_yaml(&manifest.body);
    if let Some(namespace) = &*manifest.namespace {
        default_namespace(&mut body, namespace);
    }
    let mut file = yaml_file(&[]);
    file.node(&body);
    file.into_bytes()
}

/// JSON data as a YAML tree, keys in their order.
pub fn to_yaml(data: &Data) -> Yaml {
    match data {
        Data::Null => Yaml::Null,
        Data::Bool(b) => Yaml::Bool(*b),
        Data::Number(n) => n
            .as_i64()
            .map_or_else(|| Yaml::Str(n.to_string()), Yaml::Int),
        Data::String(s) => Yaml::str(s),
        Data::Array(items) => Yaml::Seq(items.iter().map(to_yaml).collect()),
        Data::Object(fields) => Yaml::Map(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), to_yaml(value)))
                .collect(),
        ),
    }
}

/// Sets `metadata.namespace` after `metadata.name` when the body has metadata without one.
fn default_namespace(body: &mut Yaml, namespace: &str) {
    let Yaml::Map(entries) = body else { return };
    let Some((_, Yaml::Map(meta))) = entries.iter_mut().find(|(key, _)| key == "metadata") else {
        return;
    };
    if meta.iter().any(|(key, _)| key == "namespace") {
        return;
    }
    let at = meta
        .iter()
        .position(|(key, _)| key == "name")
        .map_or(0, |index| index + 1);
    meta.insert(at, ("namespace".into(), Yaml::str(namespace)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::k8s::tests::{doc, file_text, full, get, has, keys, s};
    use serde_json::json;

    #[test]
    fn namespaced_manifest_keeps_key_order_and_gets_its_namespace() {
        let path = "kubernetes/main/web/manifest-settings.yaml";
        let config = doc(&full(), path, "ConfigMap");
        assert_eq!(
            keys(&config, &[]),
            ["apiVersion", "kind", "metadata", "data"]
        );
        assert_eq!(
            keys(&config, &["metadata"]),
            ["name", "namespace", "labels"]
        );
        assert_eq!(get(&config, &["metadata", "namespace"]), &s("web"));
        assert_eq!(keys(&config, &["data"]), ["zeta", "alpha", "mode"]);
        let text = file_text(&full(), path);
        assert!(
            text.contains("  alpha: \"true\"\n  mode: \"0755\"\n"),
            "{text}"
        );
    }

    #[test]
    fn cluster_scoped_manifest_sits_at_the_cluster_root() {
        let role = doc(
            &full(),
            "kubernetes/main/manifest-read-nodes.yaml",
            "ClusterRole",
        );
        assert!(!has(&role, &["metadata"], "namespace"));
        assert_eq!(get(&role, &["rules", "0", "apiGroups", "0"]), &s(""));
    }

    #[test]
    fn written_namespace_is_kept() {
        let written = json!({ "metadata": { "namespace": "other", "name": "x" } });
        let mut body = to_yaml(&written);
        default_namespace(&mut body, "web");
        assert_eq!(body, to_yaml(&written));
    }

    #[test]
    fn scalars_keep_their_types() {
        assert_eq!(to_yaml(&json!(-3)), Yaml::Int(-3));
        assert_eq!(to_yaml(&json!(null)), Yaml::Null);
        assert_eq!(to_yaml(&json!(true)), Yaml::Bool(true));
        assert_eq!(to_yaml(&json!("1")), s("1"));
    }
}

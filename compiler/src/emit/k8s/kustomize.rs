//! `kustomization.yaml` files: one per namespace directory listing its files, one per cluster
//! listing its cluster-scoped files and namespace directories, so `kubectl apply -k` works at
//! either level. Resources are listed in the order given (kustomize itself orders the output
//! by kind, Namespaces first). No transformers: every object already names its namespace.
//! Tests are in `k8s.rs` and beside the emitters of each file kind.

use super::Output;
use crate::emit::yaml::Yaml;

/// A Kustomization listing `resources` (files or directories relative to it).
pub fn kustomization(resources: &[String]) -> Output {
    Output::yaml(vec![Yaml::map([
        ("apiVersion", Yaml::str("kustomize.config.k8s.io/v1beta1")),
        ("kind", Yaml::str("Kustomization")),
        (
            "resources",
            Yaml::Seq(resources.iter().map(Yaml::str).collect()),
        ),
    ])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_resources_in_order() {
        let text =
            String::from_utf8(kustomization(&["b.yaml".into(), "a".into()]).render()).unwrap();
        assert!(text.ends_with(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - b.yaml\n  - a\n"
        ));
    }
}

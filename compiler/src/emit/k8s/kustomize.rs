//! `kustomization.yaml` files: one per namespace directory listing its files, one per cluster
//! listing its cluster-scoped files and namespace directories, so `kubectl apply -k` works at
//! either level. Resources are listed in the order given (kustomize itself orders the output
//! by kind, Namespaces first). No transformers: every object already names its namespace.
//! Tests are in `k8s.rs` and beside the emitters of each file kind.

use super::yaml_file;

/// A Kustomization listing `resources` (files or directories relative to it).
pub fn kustomization<S: AsRef<str>>(resources: &[S]) -> Vec<u8> {
    let mut file = yaml_file(&[]);
    file.map(|doc| {
        doc.str("apiVersion", "kustomize.config.k8s.io/v1beta1");
        doc.str("kind", "Kustomization");
        doc.strs("resources", resources);
    });
    file.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_resources_in_order() {
        let text = String::from_utf8(kustomization(&["b.yaml", "a"])).unwrap();
        assert!(text.ends_with(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - b.yaml\n  - a\n"
        ));
    }
}

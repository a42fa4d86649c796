//! `check::cross-cluster-reference`: a Kubernetes object that refers to a namespace of
//! another cluster. Tests below.

use plat_lang::diagnostic::Diagnostic;

use super::declare_check;
use crate::model::{Manifest, Model, Service};

declare_check! {
    /// ## What it does
    /// Reports references that cross clusters: a service whose `allow_from` names a
    /// namespace of another cluster than the service's own namespace, and a manifest whose
    /// `namespace` belongs to another cluster than its `cluster`.
    ///
    /// ## Why
    /// Each cluster is applied on its own: a NetworkPolicy can only select namespaces of its
    /// cluster, so an `allow_from` of another cluster silently allows nothing, and a manifest
    /// would be applied to a cluster that has no such namespace.
    ///
    /// ## Example
    /// ```plat
    /// namespace web { cluster = cluster.main }
    /// namespace ops { cluster = cluster.lab }
    /// service api { namespace = namespace.web, allow_from = [namespace.ops], ... }
    /// ```
    ///
    /// ## How to fix
    /// Refer only to namespaces of the object's own cluster; traffic between clusters goes
    /// through an ingress or a firewall rule.
    code = "check::cross-cluster-reference",
    severity = Error,
}

/// Reports each cross-cluster reference, at the field that makes it.
pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for service in model.services.values() {
        check_service(model, service, out);
    }
    for manifest in model.manifests.values() {
        check_manifest(model, manifest, out);
    }
}

fn cluster_of<'m>(model: &'m Model, namespace: &str) -> Option<&'m str> {
    model
        .namespaces
        .get(namespace)
        .map(|ns| ns.cluster.as_str())
}

fn check_service(model: &Model, service: &Service, out: &mut Vec<Diagnostic>) {
    let Some(home) = cluster_of(model, &service.namespace) else {
        return;
    };
    for allowed in service.allow_from.iter() {
        let Some(other) = cluster_of(model, allowed) else {
            continue;
        };
        if other == home {
            continue;
        }
        out.push(
            Diagnostic::error(
                INFO.code,
                service.allow_from.span,
                format!(
                    "service {} allows namespace {allowed} of cluster {other}, but runs in cluster {home}",
                    service.name
                ),
            )
            .with_label(format!("namespace {allowed} is in cluster {other}"))
            .with_secondary(
                service.namespace.span,
                format!("namespace {} of cluster {home} here", *service.namespace),
            )
            .with_help(format!(
                "allow only namespaces of cluster {home}; reach services of another cluster through an ingress"
            )),
        );
    }
}

fn check_manifest(model: &Model, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let Some(namespace) = manifest.namespace.as_deref() else {
        return;
    };
    let Some(other) = cluster_of(model, namespace) else {
        return;
    };
    if other == manifest.cluster.as_str() {
        return;
    }
    out.push(
        Diagnostic::error(
            INFO.code,
            manifest.namespace.span,
            format!(
                "manifest {} is for cluster {}, but its namespace {namespace} is in cluster {other}",
                manifest.name, *manifest.cluster
            ),
        )
        .with_label(format!("namespace of cluster {other}"))
        .with_secondary(manifest.cluster.span, format!("cluster {} here", *manifest.cluster))
        .with_help(format!(
            "use a namespace of cluster {}, or apply the manifest to cluster {other}",
            *manifest.cluster
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{at, run_check, span};
    use crate::model::{fixture, Namespace};
    use plat_lang::diagnostic::Severity;

    fn with_lab_namespace() -> Model {
        let mut model = fixture::small();
        let mut ops: Namespace = model.namespaces["web"].clone();
        ops.name = "ops".into();
        ops.cluster = at("lab".into(), 9);
        model.namespaces.insert("ops".into(), ops);
        model
    }

    #[test]
    fn references_within_a_cluster_pass() {
        let mut model = fixture::small();
        model.services["whoami"].allow_from = at(vec!["web".into()], 1);
        assert!(run_check(check, &model).is_empty());
    }

    #[test]
    fn allow_from_another_cluster_is_reported() {
        let mut model = with_lab_namespace();
        let service = &mut model.services["whoami"];
        service.namespace.span = span(1);
        service.allow_from = at(vec!["web".into(), "ops".into()], 2);
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert_eq!(d.code, "check::cross-cluster-reference");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.span, span(2));
        assert_eq!(d.secondary[0].span, span(1));
        assert_eq!(
            d.message,
            "service whoami allows namespace ops of cluster lab, but runs in cluster main"
        );
    }

    #[test]
    fn a_manifest_namespace_of_another_cluster_is_reported() {
        let mut model = with_lab_namespace();
        model.manifests.insert(
            "cm".into(),
            Manifest {
                name: "cm".into(),
                span: span(0),
                cluster: at("main".into(), 1),
                namespace: at(Some("ops".into()), 2),
                body: at(serde_json::json!({}), 3),
            },
        );
        let found = run_check(check, &model);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, span(2));
        assert_eq!(found[0].secondary[0].span, span(1));
    }
}

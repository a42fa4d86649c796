//! Helm charts as Flux objects: `chart-<name>.yaml` holds a HelmRepository
//! (`source.toolkit.fluxcd.io/v1`) and a HelmRelease (`helm.toolkit.fluxcd.io/v2`), both named
//! after the chart entity and in its namespace, so the release name is the entity name.
//!
//! Each release gets its own HelmRepository (one mechanism, no sharing between namespaces); an
//! `oci://` URL makes it an OCI repository. Flux reconciles both every hour. These kinds are
//! custom resources: the cluster needs Flux's CRDs and controllers installed before
//! `kubectl apply -k`. Values are written as the model holds them, key order kept.
//! Tests are at the bottom.

use super::{metadata, raw::to_yaml, Output, MANAGED_BY_LABEL, NAME_LABEL};
use crate::emit::yaml::Yaml;
use crate::model::Chart;

/// How often Flux reconciles the repository and the release.
pub const INTERVAL: &str = "1h";

/// `chart-<name>.yaml`: the HelmRepository and the HelmRelease.
pub fn file(chart: &Chart) -> Output {
    Output::yaml(vec![helm_repository(chart), helm_release(chart)])
}

fn labels(chart: &Chart) -> Yaml {
    Yaml::map([
        (NAME_LABEL, Yaml::str(&*chart.chart)),
        ("app.kubernetes.io/instance", Yaml::str(&chart.name)),
        (MANAGED_BY_LABEL, Yaml::str("plat")),
    ])
}

fn helm_repository(chart: &Chart) -> Yaml {
    let mut spec = vec![("interval", Yaml::str(INTERVAL))];
    if chart.repo.starts_with("oci://") {
        spec.push(("type", Yaml::str("oci")));
    }
    spec.push(("url", Yaml::str(&*chart.repo)));
    Yaml::map([
        ("apiVersion", Yaml::str("source.toolkit.fluxcd.io/v1")),
        ("kind", Yaml::str("HelmRepository")),
        (
            "metadata",
            metadata(&chart.name, Some(&chart.namespace), labels(chart)),
        ),
        ("spec", Yaml::map(spec)),
    ])
}

fn helm_release(chart: &Chart) -> Yaml {
    let chart_spec = Yaml::map([
        ("chart", Yaml::str(&*chart.chart)),
        ("version", Yaml::str(&*chart.version)),
        (
            "sourceRef",
            Yaml::map([
                ("kind", Yaml::str("HelmRepository")),
                ("name", Yaml::str(&chart.name)),
            ]),
        ),
    ]);
    let mut spec = vec![
        ("interval", Yaml::str(INTERVAL)),
        ("chart", Yaml::map([("spec", chart_spec)])),
    ];
    let values = to_yaml(&chart.values);
    if values != Yaml::Map(Vec::new()) && values != Yaml::Null {
        spec.push(("values", values));
    }
    Yaml::map([
        ("apiVersion", Yaml::str("helm.toolkit.fluxcd.io/v2")),
        ("kind", Yaml::str("HelmRelease")),
        (
            "metadata",
            metadata(&chart.name, Some(&chart.namespace), labels(chart)),
        ),
        ("spec", Yaml::map(spec)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::k8s::tests::{doc, full, get, has, keys, s};
    use crate::model::At;

    const PATH: &str = "kubernetes/main/ingress/chart-ingress-nginx.yaml";

    #[test]
    fn repository_points_at_the_chart_repo() {
        let repository = doc(&full(), PATH, "HelmRepository");
        assert_eq!(
            get(&repository, &["apiVersion"]),
            &s("source.toolkit.fluxcd.io/v1")
        );
        assert_eq!(get(&repository, &["metadata", "namespace"]), &s("ingress"));
        let url = s("https://kubernetes.github.io/ingress-nginx");
        assert_eq!(get(&repository, &["spec", "url"]), &url);
        assert!(!has(&repository, &["spec"], "type"));
    }

    #[test]
    fn release_references_its_repository_and_keeps_values_in_order() {
        let release = doc(&full(), PATH, "HelmRelease");
        assert_eq!(
            get(&release, &["apiVersion"]),
            &s("helm.toolkit.fluxcd.io/v2")
        );
        let chart = get(&release, &["spec", "chart", "spec"]);
        assert_eq!(get(chart, &["chart"]), &s("ingress-nginx"));
        assert_eq!(get(chart, &["version"]), &s("4.11.3"));
        let source = Yaml::map([("kind", s("HelmRepository")), ("name", s("ingress-nginx"))]);
        assert_eq!(get(chart, &["sourceRef"]), &source);
        assert_eq!(
            keys(&release, &["spec", "values"]),
            ["controller", "tolerations"]
        );
        let replicas = get(&release, &["spec", "values", "controller", "replicaCount"]);
        assert_eq!(replicas, &Yaml::Int(2));
        assert_eq!(
            get(&release, &["spec", "values", "tolerations"]),
            &Yaml::Seq(Vec::new())
        );
    }

    #[test]
    fn oci_repository_has_its_type_and_empty_values_are_left_out() {
        let mut model = full();
        let chart = model.charts.get_mut("ingress-nginx").unwrap();
        chart.repo = At::new("oci://ghcr.io/example/charts".into(), Default::default());
        chart.values = At::new(serde_json::json!({}), Default::default());
        let repository = doc(&model, PATH, "HelmRepository");
        assert_eq!(get(&repository, &["spec", "type"]), &s("oci"));
        assert!(!has(&doc(&model, PATH, "HelmRelease"), &["spec"], "values"));
    }
}

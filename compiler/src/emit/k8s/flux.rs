//! Helm charts as Flux objects: `chart-<name>.yaml` holds a HelmRepository
//! (`source.toolkit.fluxcd.io/v1`) and a HelmRelease (`helm.toolkit.fluxcd.io/v2`), both named
//! after the chart entity and in its namespace, so the release name is the entity name.
//!
//! Each release gets its own HelmRepository (one mechanism, no sharing between namespaces); an
//! `oci://` URL makes it an OCI repository. Flux reconciles both every hour. These kinds are
//! custom resources: the cluster needs Flux's CRDs and controllers installed before
//! `kubectl apply -k`. Values are written as the model holds them, key order kept.
//! Tests are at the bottom.

use super::{metadata, raw::to_yaml, yaml_file, MANAGED_BY_LABEL, NAME_LABEL};
use crate::emit::yaml::{Map, Yaml};
use crate::model::Chart;

/// How often Flux reconciles the repository and the release.
pub const INTERVAL: &str = "1h";

/// `chart-<name>.yaml`: the HelmRepository and the HelmRelease.
pub fn file(chart: &Chart) -> Vec<u8> {
    let mut file = yaml_file(&[]);
    file.map(|doc| helm_repository(doc, chart));
    file.map(|doc| helm_release(doc, chart));
    file.into_bytes()
}

fn chart_metadata(meta: &mut Map, chart: &Chart) {
    metadata(meta, &chart.name, Some(&chart.namespace), |labels| {
        labels.str(NAME_LABEL, &chart.chart);
        labels.str("app.kubernetes.io/instance", &chart.name);
        labels.str(MANAGED_BY_LABEL, "plat");
    });
}

fn helm_repository(doc: &mut Map, chart: &Chart) {
    doc.str("apiVersion", "source.toolkit.fluxcd.io/v1");
    doc.str("kind", "HelmRepository");
    doc.map("metadata", |meta| chart_metadata(meta, chart));
    doc.map("spec", |spec| {
        spec.str("interval", INTERVAL);
        if chart.repo.starts_with("oci://") {
            spec.str("type", "oci");
        }
        spec.str("url", &chart.repo);
    });
}

fn helm_release(doc: &mut Map, chart: &Chart) {
    doc.str("apiVersion", "helm.toolkit.fluxcd.io/v2");
    doc.str("kind", "HelmRelease");
    doc.map("metadata", |meta| chart_metadata(meta, chart));
    doc.map("spec", |spec| {
        spec.str("interval", INTERVAL);
        spec.map("chart", |chart_entry| {
            chart_entry.map("spec", |chart_spec| {
                chart_spec.str("chart", &chart.chart);
                chart_spec.str("version", &chart.version);
                chart_spec.map("sourceRef", |source| {
                    source.str("kind", "HelmRepository");
                    source.str("name", &chart.name);
                });
            });
        });
        let values = to_yaml(&chart.values);
        if values != Yaml::Map(Vec::new()) && values != Yaml::Null {
            spec.node("values", &values);
        }
    });
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

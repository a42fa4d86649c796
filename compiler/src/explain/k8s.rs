//! Explaining Kubernetes files (`emit/k8s.rs`): the path names the entity
//! (`kubernetes/<cluster>/kubeadm/<node>.yaml`, `<ns>/service-<name>.yaml`,
//! `<ns>/chart-<name>.yaml`, `manifest-<name>.yaml`, a namespace's `namespace.yaml` and
//! `kustomization.yaml`); the keys `kubeadm.rs`, `workloads.rs` and `flux.rs` fill from one
//! field name that field.

use super::{entity, field, Explanation, Line, Origin};
use crate::model::{Cluster, Model, Node, Service};

/// `rest` is the path after `kubernetes/`.
pub(super) fn explain(model: &Model, rest: &str, line: Option<Line>) -> Option<Explanation> {
    let parts: Vec<&str> = rest.split('/').collect();
    let cluster = model.clusters.get(*parts.first()?)?;
    let key = line.and_then(|l| l.key());
    let (owner, span, mut origins) = match parts[1..] {
        ["kustomization.yaml" | "secrets.required"] => (
            format!("cluster {}", cluster.name),
            cluster.span,
            Vec::new(),
        ),
        ["kubeadm", file] => {
            let node = model.nodes.get(file.strip_suffix(".yaml")?)?;
            let origins = key
                .map(|k| kubeadm_key(cluster, node, k))
                .unwrap_or_default();
            (format!("node {}", node.name), node.span, origins)
        }
        [file] | [_, file] if file.starts_with("manifest-") => {
            let name = file.strip_prefix("manifest-")?.strip_suffix(".yaml")?;
            let manifest = model.manifests.get(name)?;
            let what = format!("manifest {name}: body");
            let origins = vec![field(what, "Manifest.body", &manifest.body)];
            (format!("manifest {name}"), manifest.span, origins)
        }
        [namespace, "namespace.yaml" | "kustomization.yaml"] => {
            let namespace = model.namespaces.get(namespace)?;
            let owner = format!("namespace {}", namespace.name);
            let origins = match line.map(|l| l.text) {
                Some(text) if text.contains("pod-security.kubernetes.io/") => vec![field(
                    format!("{owner}: pod_security"),
                    "Namespace.pod_security",
                    &namespace.pod_security,
                )],
                _ => Vec::new(),
            };
            (owner, namespace.span, origins)
        }
        [_, file] if file.starts_with("service-") => {
            let name = file.strip_prefix("service-")?.strip_suffix(".yaml")?;
            let service = model.services.get(name)?;
            let origins = key.map(|k| service_key(service, k)).unwrap_or_default();
            (format!("service {name}"), service.span, origins)
        }
        [_, file] if file.starts_with("chart-") => {
            let name = file.strip_prefix("chart-")?.strip_suffix(".yaml")?;
            let chart = model.charts.get(name)?;
            let what = |f: &str| format!("chart {name}: {f}");
            let origins = match key {
                Some("url") => vec![field(what("repo"), "Chart.repo", &chart.repo)],
                Some("chart") => vec![field(what("chart"), "Chart.chart", &chart.chart)],
                Some("version") => vec![field(what("version"), "Chart.version", &chart.version)],
                Some("values") => vec![field(what("values"), "Chart.values", &chart.values)],
                _ => Vec::new(),
            };
            (format!("chart {name}"), chart.span, origins)
        }
        _ => return None,
    };
    if origins.is_empty() {
        origins.push(entity(owner.clone(), span));
    }
    Some(Explanation {
        owner,
        origins,
        note: None,
    })
}

/// A key of a node's kubeadm config (also embedded in the node's cloud-init `user-data`).
pub(super) fn kubeadm_key(cluster: &Cluster, node: &Node, key: &str) -> Vec<Origin> {
    let c = |f: &str| format!("cluster {}: {f}", cluster.name);
    match key {
        "kubernetesVersion" => vec![field(c("version"), "Cluster.version", &cluster.version)],
        "podSubnet" => vec![field(c("pod_cidr"), "Cluster.pod_cidr", &cluster.pod_cidr)],
        "serviceSubnet" => vec![field(
            c("service_cidr"),
            "Cluster.service_cidr",
            &cluster.service_cidr,
        )],
        "dnsDomain" => vec![field(
            c("dns_domain"),
            "Cluster.dns_domain",
            &cluster.dns_domain,
        )],
        "controlPlaneEndpoint" | "apiServerEndpoint" | "bindPort" => vec![
            field(c("endpoint"), "Cluster.endpoint", &cluster.endpoint),
            field(c("api_port"), "Cluster.api_port", &cluster.api_port),
        ],
        "clusterName" => vec![entity(format!("cluster {}", cluster.name), cluster.span)],
        "taints" => vec![field(
            format!("node {}: taints", node.name),
            "Node.taints",
            &node.taints,
        )],
        "node-labels" => vec![field(
            format!("node {}: labels", node.name),
            "Node.labels",
            &node.labels,
        )],
        _ => Vec::new(),
    }
}

fn service_key(service: &Service, key: &str) -> Vec<Origin> {
    let s = |f: &str| format!("service {}: {f}", service.name);
    match key {
        "image" => vec![field(s("image"), "Service.image", &service.image)],
        "replicas" | "minAvailable" => {
            vec![field(s("replicas"), "Service.replicas", &service.replicas)]
        }
        "containerPort" | "targetPort" | "port" | "number" => {
            vec![field(s("port"), "Service.port", &service.port)]
        }
        "env" | "value" => vec![field(s("env"), "Service.env", &service.env)],
        "cpu" | "memory" | "requests" | "limits" => {
            vec![field(
                s("resources"),
                "Service.resources",
                &service.resources,
            )]
        }
        "livenessProbe" | "readinessProbe" | "path" => {
            vec![field(
                s("health_path"),
                "Service.health_path",
                &service.health_path,
            )]
        }
        "host" | "hosts" | "ingressClassName" | "secretName" => {
            vec![field(s("ingress"), "Service.ingress", &service.ingress)]
        }
        "args" => vec![field(s("args"), "Service.args", &service.args)],
        "runAsUser" | "runAsGroup" | "fsGroup" => {
            vec![field(
                s("run_as_user"),
                "Service.run_as_user",
                &service.run_as_user,
            )]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::fixture;

    #[test]
    fn kubeadm_version_is_the_clusters() {
        let model = fixture::small();
        let text = "kind: ClusterConfiguration\nkubernetesVersion: v1.31.5\n";
        let path = "kubernetes/main/kubeadm/cp-1.yaml";
        let explanation = crate::explain::explain(&model, path, text, Some(2));
        let explanation = explanation.expect("explained");
        assert_eq!(explanation.owner, "node cp-1");
        assert_eq!(explanation.origins[0].what, "cluster main: version");
    }
}

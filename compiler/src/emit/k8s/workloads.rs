//! Namespaces and services: `namespace.yaml` and `service-<name>.yaml` in a namespace directory.
//!
//! - `namespace.yaml`: the Namespace, labelled for Pod Security admission (`enforce`, `audit`
//!   and `warn` at the namespace's level, versions pinned to the cluster's minor release), and,
//!   when `default_deny`, a NetworkPolicy `default-deny-ingress` selecting every pod.
//! - `service-<name>.yaml`: Deployment, Service (ClusterIP), Ingress (when asked), the
//!   service's NetworkPolicy (when anything is allowed in) and a PodDisruptionBudget (when
//!   replicas > 1), in that order.
//!
//! The Deployment satisfies the `restricted` Pod Security Standard: non-root, RuntimeDefault
//! seccomp, no privilege escalation, every capability dropped, read-only root file system
//! (with an `emptyDir` on `/tmp`, which most programs need). Images must therefore declare a
//! non-root user. Requests are the model's resources and limits twice them; memory is written
//! in whole MiB, rounded up.
//!
//! The ingress controller runs in the namespace named [`INGRESS_NAMESPACE`]: a service with an
//! ingress admits traffic from that namespace. Namespaces are matched on
//! `kubernetes.io/metadata.name`, which the API server sets and nobody can forge. Pods of the
//! service's own namespace are admitted only if the namespace is listed in `allow_from`.
//! Tests are at the bottom.

use super::{app_labels, metadata, yaml_file, MANAGED_BY_LABEL, NAME_LABEL};
use crate::emit::yaml::Map;
use crate::model::{Ingress, Model, Namespace, Service};

/// The namespace the ingress controller runs in.
pub const INGRESS_NAMESPACE: &str = "ingress";
/// The immutable label the API server puts on every namespace.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The Pod Security admission labels: per mode, the level label and the version label.
const POD_SECURITY_LABELS: [(&str, &str); 3] = [
    (
        "pod-security.kubernetes.io/enforce",
        "pod-security.kubernetes.io/enforce-version",
    ),
    (
        "pod-security.kubernetes.io/audit",
        "pod-security.kubernetes.io/audit-version",
    ),
    (
        "pod-security.kubernetes.io/warn",
        "pod-security.kubernetes.io/warn-version",
    ),
];

/// `namespace.yaml`: the Namespace and its default-deny policy.
pub fn namespace_file(model: &Model, namespace: &Namespace) -> Vec<u8> {
    let mut file = yaml_file(&[]);
    file.map(|doc| namespace_object(doc, model, namespace));
    if *namespace.default_deny {
        file.map(|doc| default_deny(doc, &namespace.name));
    }
    file.into_bytes()
}

/// `service-<name>.yaml`: every object of one service.
pub fn service_file(service: &Service) -> Vec<u8> {
    let mut file = yaml_file(&[]);
    file.map(|doc| deployment(doc, service));
    file.map(|doc| service_object(doc, service));
    if let Some(ingress) = &*service.ingress {
        file.map(|doc| ingress_object(doc, service, ingress));
    }
    let allowed = allowed_namespaces(service);
    if !allowed.is_empty() {
        file.map(|doc| network_policy(doc, service, &allowed));
    }
    if *service.replicas > 1 {
        file.map(|doc| pod_disruption_budget(doc, service));
    }
    file.into_bytes()
}

fn namespace_object(doc: &mut Map, model: &Model, namespace: &Namespace) {
    let level = namespace.pod_security.as_str();
    let version = model
        .clusters
        .get(namespace.cluster.as_str())
        .map_or("latest".to_string(), |cluster| {
            minor_version(&cluster.version)
        });
    let mut labels = vec![(MANAGED_BY_LABEL, "plat")];
    labels.extend(
        namespace
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    for (level_label, version_label) in POD_SECURITY_LABELS {
        labels.push((level_label, level));
        labels.push((version_label, version.as_str()));
    }
    doc.str("apiVersion", "v1");
    doc.str("kind", "Namespace");
    doc.map("metadata", |meta| {
        metadata(meta, &namespace.name, None, |map| {
            for (key, value) in label_map(labels) {
                map.str(key, value);
            }
        });
    });
}

/// `v1.31` for `1.31.4`; `latest` when the version has no minor part.
fn minor_version(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => ["v", major, ".", minor].concat(),
        _ => "latest".to_string(),
    }
}

/// Labels without repeated keys: a later value replaces an earlier one with the same key, in
/// place.
fn label_map<'l>(labels: Vec<(&'l str, &'l str)>) -> Vec<(&'l str, &'l str)> {
    let mut entries: Vec<(&str, &str)> = Vec::with_capacity(labels.len());
    for (key, value) in labels {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
    }
    entries
}

fn default_deny(doc: &mut Map, namespace: &str) {
    doc.str("apiVersion", "networking.k8s.io/v1");
    doc.str("kind", "NetworkPolicy");
    doc.map("metadata", |meta| {
        metadata(meta, "default-deny-ingress", Some(namespace), |labels| {
            labels.str(MANAGED_BY_LABEL, "plat");
        });
    });
    doc.map("spec", |spec| {
        spec.map("podSelector", |_| {});
        spec.strs("policyTypes", ["Ingress"]);
    });
}

/// `apiVersion`, `kind` and `metadata` of an object of `service`.
fn object_head(doc: &mut Map, api_version: &str, kind: &str, service: &Service) {
    doc.str("apiVersion", api_version);
    doc.str("kind", kind);
    doc.map("metadata", |meta| service_metadata(meta, service));
}

fn service_metadata(meta: &mut Map, service: &Service) {
    metadata(meta, &service.name, Some(&service.namespace), |labels| {
        app_labels(labels, &service.name);
    });
}

fn selector(selector: &mut Map, service: &Service) {
    selector.map("matchLabels", |labels| {
        labels.str(NAME_LABEL, &service.name)
    });
}

fn deployment(doc: &mut Map, service: &Service) {
    object_head(doc, "apps/v1", "Deployment", service);
    doc.map("spec", |spec| {
        spec.int("replicas", i64::from(*service.replicas));
        spec.map("selector", |map| selector(map, service));
        spec.map("template", |template| {
            template.map("metadata", |meta| {
                meta.map("labels", |labels| app_labels(labels, &service.name));
            });
            template.map("spec", |pod| pod_spec(pod, service));
        });
    });
}

fn pod_spec(pod: &mut Map, service: &Service) {
    let user = i64::from(*service.run_as_user);
    pod.bool("automountServiceAccountToken", false);
    pod.map("securityContext", |context| {
        context.bool("runAsNonRoot", true);
        context.int("runAsUser", user);
        context.int("runAsGroup", user);
        context.int("fsGroup", user);
        context.map("seccompProfile", runtime_default);
    });
    pod.seq("containers", |containers| {
        containers.map(|map| container(map, service));
    });
    pod.seq("volumes", |volumes| {
        volumes.map(|volume| {
            volume.str("name", "tmp");
            volume.map("emptyDir", |_| {});
        });
    });
}

fn runtime_default(profile: &mut Map) {
    profile.str("type", "RuntimeDefault");
}

fn container(container: &mut Map, service: &Service) {
    container.str("name", &service.name);
    container.str("image", &service.image);
    if !service.args.is_empty() {
        container.strs("args", service.args.iter());
    }
    container.seq("ports", |ports| {
        ports.map(|port| {
            port.int("containerPort", i64::from(*service.port));
            port.str("protocol", "TCP");
        });
    });
    if !service.env.is_empty() {
        container.seq("env", |env| {
            for (name, value) in service.env.iter() {
                env.map(|var| {
                    var.str("name", name);
                    var.str("value", value);
                });
            }
        });
    }
    container.map("resources", |map| resources(map, service));
    container.map("livenessProbe", |map| probe(map, service));
    container.map("readinessProbe", |map| probe(map, service));
    container.map("securityContext", container_security_context);
    container.seq("volumeMounts", |mounts| {
        mounts.map(|mount| {
            mount.str("name", "tmp");
            mount.str("mountPath", "/tmp");
        });
    });
}

fn container_security_context(context: &mut Map) {
    context.bool("allowPrivilegeEscalation", false);
    context.map("capabilities", |capabilities| {
        capabilities.strs("drop", ["ALL"]);
    });
    context.bool("readOnlyRootFilesystem", true);
    context.bool("runAsNonRoot", true);
    context.map("seccompProfile", runtime_default);
}

/// Requests from the model, limits twice the requests.
fn resources(resources: &mut Map, service: &Service) {
    let millicpu = i64::from(service.resources.millicpu);
    let mebibytes = mebibytes(service.resources.memory);
    let quantities = |map: &mut Map, factor: i64| {
        map.str("cpu", &format!("{}m", millicpu * factor));
        map.str("memory", &format!("{}Mi", mebibytes * factor));
    };
    resources.map("requests", |map| quantities(map, 1));
    resources.map("limits", |map| quantities(map, 2));
}

/// A memory size in whole MiB, rounded up.
fn mebibytes(bytes: i64) -> i64 {
    const MIB: i64 = 1 << 20;
    (bytes.max(0) + MIB - 1) / MIB
}

/// An HTTP GET on `health_path`, or a TCP connect, on the service port.
fn probe(probe: &mut Map, service: &Service) {
    let port = i64::from(*service.port);
    match &*service.health_path {
        Some(path) => probe.map("httpGet", |get| {
            get.str("path", path);
            get.int("port", port);
        }),
        None => probe.map("tcpSocket", |socket| socket.int("port", port)),
    }
}

fn service_object(doc: &mut Map, service: &Service) {
    let port = i64::from(*service.port);
    object_head(doc, "v1", "Service", service);
    doc.map("spec", |spec| {
        spec.str("type", "ClusterIP");
        spec.map("selector", |labels| labels.str(NAME_LABEL, &service.name));
        spec.seq("ports", |ports| {
            ports.map(|map| {
                map.int("port", port);
                map.int("targetPort", port);
                map.str("protocol", "TCP");
            });
        });
    });
}

fn ingress_object(doc: &mut Map, service: &Service, ingress: &Ingress) {
    doc.str("apiVersion", "networking.k8s.io/v1");
    doc.str("kind", "Ingress");
    doc.map("metadata", |meta| {
        service_metadata(meta, service);
        if let Some(issuer) = &ingress.issuer {
            meta.map("annotations", |annotations| {
                annotations.str("cert-manager.io/cluster-issuer", issuer);
            });
        }
    });
    doc.map("spec", |spec| {
        spec.str("ingressClassName", &ingress.class);
        if ingress.issuer.is_some() {
            spec.seq("tls", |tls| {
                tls.map(|entry| {
                    entry.strs("hosts", [&ingress.host]);
                    entry.str("secretName", &format!("{}-tls", service.name));
                });
            });
        }
        spec.seq("rules", |rules| {
            rules.map(|rule| {
                rule.str("host", &ingress.host);
                rule.map("http", |http| {
                    http.seq("paths", |paths| {
                        paths.map(|path| ingress_path(path, service, ingress));
                    });
                });
            });
        });
    });
}

fn ingress_path(path: &mut Map, service: &Service, ingress: &Ingress) {
    path.str("path", &ingress.path);
    path.str("pathType", "Prefix");
    path.map("backend", |backend| {
        backend.map("service", |target| {
            target.str("name", &service.name);
            target.map("port", |port| port.int("number", i64::from(*service.port)));
        });
    });
}

/// The namespaces allowed in: `allow_from`, then the ingress namespace when exposed.
fn allowed_namespaces(service: &Service) -> Vec<&str> {
    let mut names: Vec<&str> = service.allow_from.iter().map(String::as_str).collect();
    if service.ingress.is_some() {
        names.push(INGRESS_NAMESPACE);
    }
    let mut unique = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

/// The service's NetworkPolicy, admitting the `allowed` namespaces on its port.
fn network_policy(doc: &mut Map, service: &Service, allowed: &[&str]) {
    object_head(doc, "networking.k8s.io/v1", "NetworkPolicy", service);
    doc.map("spec", |spec| {
        spec.map("podSelector", |map| selector(map, service));
        spec.strs("policyTypes", ["Ingress"]);
        spec.seq("ingress", |rules| {
            rules.map(|rule| {
                rule.seq("from", |from| {
                    for namespace in allowed {
                        from.map(|peer| {
                            peer.map("namespaceSelector", |selector| {
                                selector.map("matchLabels", |labels| {
                                    labels.str(NAMESPACE_NAME_LABEL, namespace);
                                });
                            });
                        });
                    }
                });
                rule.seq("ports", |ports| {
                    ports.map(|port| {
                        port.str("protocol", "TCP");
                        port.int("port", i64::from(*service.port));
                    });
                });
            });
        });
    });
}

fn pod_disruption_budget(doc: &mut Map, service: &Service) {
    object_head(doc, "policy/v1", "PodDisruptionBudget", service);
    doc.map("spec", |spec| {
        spec.int("maxUnavailable", 1);
        spec.map("selector", |map| selector(map, service));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::k8s::tests::{doc, file_text, full, get, has, keys, s};
    use crate::emit::yaml::Yaml;
    use crate::model::{fixture, At};

    const WHOAMI: &str = "kubernetes/main/web/service-whoami.yaml";
    const API: &str = "kubernetes/main/web/service-api.yaml";
    const NAMESPACE: &str = "kubernetes/main/web/namespace.yaml";
    const CONTAINER: [&str; 5] = ["spec", "template", "spec", "containers", "0"];

    fn container<'y>(deployment: &'y Yaml, rest: &[&str]) -> &'y Yaml {
        get(get(deployment, &CONTAINER), rest)
    }

    #[test]
    fn namespace_has_pod_security_labels() {
        let namespace = doc(&fixture::small(), NAMESPACE, "Namespace");
        let labels = get(&namespace, &["metadata", "labels"]);
        let enforce = get(labels, &["pod-security.kubernetes.io/enforce"]);
        assert_eq!(enforce, &s("restricted"));
        let version = get(labels, &["pod-security.kubernetes.io/warn-version"]);
        assert_eq!(version, &s("v1.31"));
        let text = file_text(&full(), "kubernetes/main/ingress/namespace.yaml");
        assert!(text.contains("    team: platform\n"), "{text}");
        assert!(
            text.contains("    pod-security.kubernetes.io/audit: baseline\n"),
            "{text}"
        );
    }

    #[test]
    fn default_deny_selects_every_pod_for_ingress() {
        let policy = doc(&fixture::small(), NAMESPACE, "NetworkPolicy");
        assert_eq!(
            get(&policy, &["metadata", "name"]),
            &s("default-deny-ingress")
        );
        assert_eq!(
            get(&policy, &["spec", "podSelector"]),
            &Yaml::Map(Vec::new())
        );
        let types = Yaml::Seq(vec![s("Ingress")]);
        assert_eq!(get(&policy, &["spec", "policyTypes"]), &types);
        assert!(!has(&policy, &["spec"], "ingress"));
        let text = file_text(&full(), "kubernetes/main/ingress/namespace.yaml");
        assert!(!text.contains("NetworkPolicy"), "{text}");
    }

    #[test]
    fn deployment_is_restricted_compliant() {
        let deployment = doc(&fixture::small(), WHOAMI, "Deployment");
        assert_eq!(get(&deployment, &["spec", "replicas"]), &Yaml::Int(2));
        let pod = get(
            &deployment,
            &["spec", "template", "spec", "securityContext"],
        );
        assert_eq!(get(pod, &["runAsNonRoot"]), &Yaml::Bool(true));
        assert_eq!(get(pod, &["seccompProfile", "type"]), &s("RuntimeDefault"));
        let context = container(&deployment, &["securityContext"]);
        assert_eq!(
            get(context, &["allowPrivilegeEscalation"]),
            &Yaml::Bool(false)
        );
        let drop = Yaml::Seq(vec![s("ALL")]);
        assert_eq!(get(context, &["capabilities", "drop"]), &drop);
        assert_eq!(get(context, &["readOnlyRootFilesystem"]), &Yaml::Bool(true));
        assert_eq!(get(context, &["runAsNonRoot"]), &Yaml::Bool(true));
        let mount = container(&deployment, &["volumeMounts", "0", "mountPath"]);
        assert_eq!(mount, &s("/tmp"));
        let selector = get(
            &deployment,
            &["spec", "selector", "matchLabels", NAME_LABEL],
        );
        assert_eq!(selector, &s("whoami"));
    }

    #[test]
    fn env_keeps_model_order_and_quotes_ambiguous_values() {
        let deployment = doc(&fixture::small(), WHOAMI, "Deployment");
        let env = |i: &str, key| container(&deployment, &["env", i, key]).clone();
        assert_eq!(
            [env("0", "name"), env("0", "value")],
            [s("WHOAMI_NAME"), s("lab")]
        );
        assert_eq!(
            [env("1", "name"), env("1", "value")],
            [s("FEATURE"), s("on")]
        );
        assert_eq!(
            [env("2", "name"), env("2", "value")],
            [s("WINDOW"), s("12:30")]
        );
        let text = file_text(&fixture::small(), WHOAMI);
        assert!(text.contains(" value: \"on\"\n"), "{text}");
        assert!(text.contains(" value: \"12:30\"\n"), "{text}");
        let text = file_text(&full(), API);
        assert!(text.contains(" value: \"8080\"\n"), "{text}");
        assert!(text.contains(" value: \"false\"\n"), "{text}");
    }

    #[test]
    fn args_are_written_in_order() {
        let deployment = doc(&full(), API, "Deployment");
        let args = Yaml::Seq(vec![s("--listen"), s(":8080")]);
        assert_eq!(container(&deployment, &["args"]), &args);
        assert!(!has(
            &doc(&full(), WHOAMI, "Deployment"),
            &CONTAINER,
            "args"
        ));
    }

    #[test]
    fn resources_limits_are_twice_the_requests() {
        let deployment = doc(&fixture::small(), WHOAMI, "Deployment");
        let quantity = |kind, key| container(&deployment, &["resources", kind, key]).clone();
        assert_eq!(quantity("requests", "cpu"), s("100m"));
        assert_eq!(quantity("requests", "memory"), s("64Mi"));
        assert_eq!(quantity("limits", "cpu"), s("200m"));
        assert_eq!(quantity("limits", "memory"), s("128Mi"));
        let deployment = doc(&full(), API, "Deployment");
        let memory = |kind| container(&deployment, &["resources", kind, "memory"]).clone();
        assert_eq!(
            [memory("requests"), memory("limits")],
            [s("96Mi"), s("192Mi")]
        );
    }

    #[test]
    fn probes_use_tcp_or_the_health_path() {
        let deployment = doc(&fixture::small(), WHOAMI, "Deployment");
        let port = container(&deployment, &["livenessProbe", "tcpSocket", "port"]);
        assert_eq!(port, &Yaml::Int(80));
        let deployment = doc(&full(), API, "Deployment");
        let probe = container(&deployment, &["readinessProbe", "httpGet"]);
        let expected = Yaml::map([("path", s("/healthz")), ("port", Yaml::Int(8080))]);
        assert_eq!(probe, &expected);
        assert_eq!(
            container(&deployment, &["livenessProbe", "httpGet"]),
            &expected
        );
    }

    #[test]
    fn service_is_cluster_ip_on_the_port() {
        let service = doc(&fixture::small(), WHOAMI, "Service");
        assert_eq!(get(&service, &["spec", "type"]), &s("ClusterIP"));
        assert_eq!(
            get(&service, &["spec", "selector", NAME_LABEL]),
            &s("whoami")
        );
        assert_eq!(
            get(&service, &["spec", "ports", "0", "targetPort"]),
            &Yaml::Int(80)
        );
    }

    #[test]
    fn ingress_routes_the_host_and_gets_tls_with_an_issuer() {
        let ingress = doc(&fixture::small(), WHOAMI, "Ingress");
        assert_eq!(get(&ingress, &["spec", "ingressClassName"]), &s("nginx"));
        let rule = get(&ingress, &["spec", "rules", "0"]);
        assert_eq!(get(rule, &["host"]), &s("whoami.lab.home.arpa"));
        let path = get(rule, &["http", "paths", "0"]);
        assert_eq!(get(path, &["pathType"]), &s("Prefix"));
        let port = get(path, &["backend", "service", "port", "number"]);
        assert_eq!(port, &Yaml::Int(80));
        assert!(!has(&ingress, &["spec"], "tls"));
        assert!(!has(&ingress, &["metadata"], "annotations"));
        let ingress = doc(&full(), API, "Ingress");
        let issuer = get(
            &ingress,
            &["metadata", "annotations", "cert-manager.io/cluster-issuer"],
        );
        assert_eq!(issuer, &s("letsencrypt"));
        let tls = get(&ingress, &["spec", "tls", "0"]);
        assert_eq!(
            get(tls, &["hosts"]),
            &Yaml::Seq(vec![s("api.lab.home.arpa")])
        );
        assert_eq!(get(tls, &["secretName"]), &s("api-tls"));
        assert_eq!(
            keys(&ingress, &["spec"]),
            ["ingressClassName", "tls", "rules"]
        );
    }

    #[test]
    fn network_policy_allows_declared_namespaces_and_the_ingress_controller() {
        let policy = doc(&full(), API, "NetworkPolicy");
        let from = |i: &str| {
            let selector = ["spec", "ingress", "0", "from", i, "namespaceSelector"];
            get(
                get(&policy, &selector),
                &["matchLabels", NAMESPACE_NAME_LABEL],
            )
            .clone()
        };
        assert_eq!([from("0"), from("1")], [s("web"), s("ingress")]);
        assert!(
            matches!(get(&policy, &["spec", "ingress", "0", "from"]), Yaml::Seq(f) if f.len() == 2)
        );
        let port = get(&policy, &["spec", "ingress", "0", "ports", "0", "port"]);
        assert_eq!(port, &Yaml::Int(8080));
        let whoami = doc(&fixture::small(), WHOAMI, "NetworkPolicy");
        let selector = [
            "spec",
            "ingress",
            "0",
            "from",
            "0",
            "namespaceSelector",
            "matchLabels",
        ];
        let only = get(&whoami, &selector);
        assert_eq!(get(only, &[NAMESPACE_NAME_LABEL]), &s(INGRESS_NAMESPACE));
    }

    #[test]
    fn no_policy_when_nothing_is_allowed_in() {
        let mut model = fixture::small();
        let service = model.services.get_mut("whoami").unwrap();
        service.ingress = At::new(None, Default::default());
        let text = file_text(&model, WHOAMI);
        assert!(
            !text.contains("NetworkPolicy") && !text.contains("Ingress"),
            "{text}"
        );
    }

    #[test]
    fn pdb_only_with_more_than_one_replica() {
        let pdb = doc(&fixture::small(), WHOAMI, "PodDisruptionBudget");
        assert_eq!(get(&pdb, &["apiVersion"]), &s("policy/v1"));
        assert_eq!(get(&pdb, &["spec", "maxUnavailable"]), &Yaml::Int(1));
        assert!(!file_text(&full(), API).contains("PodDisruptionBudget"));
    }

    #[test]
    fn later_labels_replace_earlier_ones_in_place() {
        let labels = label_map(vec![("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(labels, [("a", "3"), ("b", "2")]);
        assert_eq!(minor_version("1.31.4"), "v1.31");
        assert_eq!(minor_version("1"), "latest");
        assert_eq!(mebibytes((1 << 20) + 1), 2);
    }
}

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

use super::{app_labels, metadata, Output, MANAGED_BY_LABEL, NAME_LABEL};
use crate::emit::yaml::Yaml;
use crate::model::{Ingress, Model, Namespace, Service};

/// The namespace the ingress controller runs in.
pub const INGRESS_NAMESPACE: &str = "ingress";
/// The immutable label the API server puts on every namespace.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// `namespace.yaml`: the Namespace and its default-deny policy.
pub fn namespace_file(model: &Model, namespace: &Namespace) -> Output {
    let mut docs = vec![namespace_object(model, namespace)];
    if *namespace.default_deny {
        docs.push(default_deny(&namespace.name));
    }
    Output::yaml(docs)
}

/// `service-<name>.yaml`: every object of one service.
pub fn service_file(service: &Service) -> Output {
    let mut docs = vec![deployment(service), service_object(service)];
    if let Some(ingress) = &*service.ingress {
        docs.push(ingress_object(service, ingress));
    }
    if let Some(policy) = network_policy(service) {
        docs.push(policy);
    }
    if *service.replicas > 1 {
        docs.push(pod_disruption_budget(service));
    }
    Output::yaml(docs)
}

fn namespace_object(model: &Model, namespace: &Namespace) -> Yaml {
    let level = namespace.pod_security.as_str();
    let version = model
        .clusters
        .get(namespace.cluster.as_str())
        .map_or("latest".to_string(), |cluster| {
            minor_version(&cluster.version)
        });
    let mut labels = vec![(MANAGED_BY_LABEL.to_string(), "plat".to_string())];
    labels.extend(namespace.labels.iter().cloned());
    for mode in ["enforce", "audit", "warn"] {
        let key = format!("pod-security.kubernetes.io/{mode}");
        labels.push((key.clone(), level.to_string()));
        labels.push((format!("{key}-version"), version.clone()));
    }
    Yaml::map([
        ("apiVersion", Yaml::str("v1")),
        ("kind", Yaml::str("Namespace")),
        (
            "metadata",
            metadata(&namespace.name, None, label_map(labels)),
        ),
    ])
}

/// `v1.31` for `1.31.4`; `latest` when the version has no minor part.
fn minor_version(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("v{major}.{minor}"),
        _ => "latest".to_string(),
    }
}

/// Labels as a mapping; a later value replaces an earlier one with the same key, in place.
fn label_map(labels: Vec<(String, String)>) -> Yaml {
    let mut entries: Vec<(String, Yaml)> = Vec::new();
    for (key, value) in labels {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = Yaml::Str(value),
            None => entries.push((key, Yaml::Str(value))),
        }
    }
    Yaml::Map(entries)
}

fn default_deny(namespace: &str) -> Yaml {
    Yaml::map([
        ("apiVersion", Yaml::str("networking.k8s.io/v1")),
        ("kind", Yaml::str("NetworkPolicy")),
        (
            "metadata",
            metadata(
                "default-deny-ingress",
                Some(namespace),
                Yaml::map([(MANAGED_BY_LABEL, Yaml::str("plat"))]),
            ),
        ),
        (
            "spec",
            Yaml::map([
                ("podSelector", Yaml::map::<&str>([])),
                ("policyTypes", Yaml::Seq(vec![Yaml::str("Ingress")])),
            ]),
        ),
    ])
}

fn object(api_version: &str, kind: &str, service: &Service, spec: Yaml) -> Yaml {
    object_annotated(api_version, kind, service, None, spec)
}

fn object_annotated(
    api_version: &str,
    kind: &str,
    service: &Service,
    annotations: Option<Yaml>,
    spec: Yaml,
) -> Yaml {
    let mut meta = metadata(
        &service.name,
        Some(&service.namespace),
        app_labels(&service.name),
    );
    if let (Yaml::Map(entries), Some(annotations)) = (&mut meta, annotations) {
        entries.push(("annotations".into(), annotations));
    }
    Yaml::map([
        ("apiVersion", Yaml::str(api_version)),
        ("kind", Yaml::str(kind)),
        ("metadata", meta),
        ("spec", spec),
    ])
}

fn selector(service: &Service) -> Yaml {
    Yaml::map([(
        "matchLabels",
        Yaml::map([(NAME_LABEL, Yaml::str(&service.name))]),
    )])
}

fn deployment(service: &Service) -> Yaml {
    let pod_spec = Yaml::map([
        ("automountServiceAccountToken", Yaml::Bool(false)),
        (
            "securityContext",
            Yaml::map([
                ("runAsNonRoot", Yaml::Bool(true)),
                ("runAsUser", Yaml::Int(i64::from(*service.run_as_user))),
                ("runAsGroup", Yaml::Int(i64::from(*service.run_as_user))),
                ("fsGroup", Yaml::Int(i64::from(*service.run_as_user))),
                ("seccompProfile", runtime_default()),
            ]),
        ),
        ("containers", Yaml::Seq(vec![container(service)])),
        (
            "volumes",
            Yaml::Seq(vec![Yaml::map([
                ("name", Yaml::str("tmp")),
                ("emptyDir", Yaml::map::<&str>([])),
            ])]),
        ),
    ]);
    let spec = Yaml::map([
        ("replicas", Yaml::Int(i64::from(*service.replicas))),
        ("selector", selector(service)),
        (
            "template",
            Yaml::map([
                (
                    "metadata",
                    Yaml::map([("labels", app_labels(&service.name))]),
                ),
                ("spec", pod_spec),
            ]),
        ),
    ]);
    object("apps/v1", "Deployment", service, spec)
}

fn runtime_default() -> Yaml {
    Yaml::map([("type", Yaml::str("RuntimeDefault"))])
}

fn container(service: &Service) -> Yaml {
    let mut entries = vec![
        ("name", Yaml::str(&service.name)),
        ("image", Yaml::str(&*service.image)),
    ];
    if !service.args.is_empty() {
        entries.push((
            "args",
            Yaml::Seq(service.args.iter().map(Yaml::str).collect()),
        ));
    }
    entries.push((
        "ports",
        Yaml::Seq(vec![Yaml::map([
            ("containerPort", Yaml::Int(i64::from(*service.port))),
            ("protocol", Yaml::str("TCP")),
        ])]),
    ));
    if !service.env.is_empty() {
        let env = service.env.iter().map(|(name, value)| {
            Yaml::map([("name", Yaml::str(name)), ("value", Yaml::str(value))])
        });
        entries.push(("env", Yaml::Seq(env.collect())));
    }
    entries.push(("resources", resources(service)));
    entries.push(("livenessProbe", probe(service)));
    entries.push(("readinessProbe", probe(service)));
    entries.push(("securityContext", container_security_context()));
    entries.push((
        "volumeMounts",
        Yaml::Seq(vec![Yaml::map([
            ("name", Yaml::str("tmp")),
            ("mountPath", Yaml::str("/tmp")),
        ])]),
    ));
    Yaml::map(entries)
}

fn container_security_context() -> Yaml {
    Yaml::map([
        ("allowPrivilegeEscalation", Yaml::Bool(false)),
        (
            "capabilities",
            Yaml::map([("drop", Yaml::Seq(vec![Yaml::str("ALL")]))]),
        ),
        ("readOnlyRootFilesystem", Yaml::Bool(true)),
        ("runAsNonRoot", Yaml::Bool(true)),
        ("seccompProfile", runtime_default()),
    ])
}

/// Requests from the model, limits twice the requests.
fn resources(service: &Service) -> Yaml {
    let millicpu = i64::from(service.resources.millicpu);
    let mebibytes = mebibytes(service.resources.memory);
    let quantities = |factor: i64| {
        Yaml::map([
            ("cpu", Yaml::str(format!("{}m", millicpu * factor))),
            ("memory", Yaml::str(format!("{}Mi", mebibytes * factor))),
        ])
    };
    Yaml::map([("requests", quantities(1)), ("limits", quantities(2))])
}

/// A memory size in whole MiB, rounded up.
fn mebibytes(bytes: i64) -> i64 {
    const MIB: i64 = 1 << 20;
    (bytes.max(0) + MIB - 1) / MIB
}

/// An HTTP GET on `health_path`, or a TCP connect, on the service port.
fn probe(service: &Service) -> Yaml {
    let port = Yaml::Int(i64::from(*service.port));
    match &*service.health_path {
        Some(path) => Yaml::map([(
            "httpGet",
            Yaml::map([("path", Yaml::str(path)), ("port", port)]),
        )]),
        None => Yaml::map([("tcpSocket", Yaml::map([("port", port)]))]),
    }
}

fn service_object(service: &Service) -> Yaml {
    let port = Yaml::Int(i64::from(*service.port));
    let spec = Yaml::map([
        ("type", Yaml::str("ClusterIP")),
        (
            "selector",
            Yaml::map([(NAME_LABEL, Yaml::str(&service.name))]),
        ),
        (
            "ports",
            Yaml::Seq(vec![Yaml::map([
                ("port", port.clone()),
                ("targetPort", port),
                ("protocol", Yaml::str("TCP")),
            ])]),
        ),
    ]);
    object("v1", "Service", service, spec)
}

fn ingress_object(service: &Service, ingress: &Ingress) -> Yaml {
    let backend = Yaml::map([(
        "service",
        Yaml::map([
            ("name", Yaml::str(&service.name)),
            (
                "port",
                Yaml::map([("number", Yaml::Int(i64::from(*service.port)))]),
            ),
        ]),
    )]);
    let path = Yaml::map([
        ("path", Yaml::str(&ingress.path)),
        ("pathType", Yaml::str("Prefix")),
        ("backend", backend),
    ]);
    let rule = Yaml::map([
        ("host", Yaml::str(&ingress.host)),
        ("http", Yaml::map([("paths", Yaml::Seq(vec![path]))])),
    ]);
    let mut spec = vec![("ingressClassName", Yaml::str(&ingress.class))];
    if ingress.issuer.is_some() {
        spec.push((
            "tls",
            Yaml::Seq(vec![Yaml::map([
                ("hosts", Yaml::Seq(vec![Yaml::str(&ingress.host)])),
                ("secretName", Yaml::str(format!("{}-tls", service.name))),
            ])]),
        ));
    }
    spec.push(("rules", Yaml::Seq(vec![rule])));
    let annotations = ingress
        .issuer
        .as_ref()
        .map(|issuer| Yaml::map([("cert-manager.io/cluster-issuer", Yaml::str(issuer))]));
    object_annotated(
        "networking.k8s.io/v1",
        "Ingress",
        service,
        annotations,
        Yaml::map(spec),
    )
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

fn network_policy(service: &Service) -> Option<Yaml> {
    let namespaces = allowed_namespaces(service);
    if namespaces.is_empty() {
        return None;
    }
    let from = namespaces.iter().map(|name| {
        Yaml::map([(
            "namespaceSelector",
            Yaml::map([(
                "matchLabels",
                Yaml::map([(NAMESPACE_NAME_LABEL, Yaml::str(*name))]),
            )]),
        )])
    });
    let rule = Yaml::map([
        ("from", Yaml::Seq(from.collect())),
        (
            "ports",
            Yaml::Seq(vec![Yaml::map([
                ("protocol", Yaml::str("TCP")),
                ("port", Yaml::Int(i64::from(*service.port))),
            ])]),
        ),
    ]);
    let spec = Yaml::map([
        ("podSelector", selector(service)),
        ("policyTypes", Yaml::Seq(vec![Yaml::str("Ingress")])),
        ("ingress", Yaml::Seq(vec![rule])),
    ]);
    Some(object(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        service,
        spec,
    ))
}

fn pod_disruption_budget(service: &Service) -> Yaml {
    let spec = Yaml::map([
        ("maxUnavailable", Yaml::Int(1)),
        ("selector", selector(service)),
    ]);
    object("policy/v1", "PodDisruptionBudget", service, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::k8s::tests::{doc, file_text, full, get, has, keys, s};
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
        let labels = label_map(vec![
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("a".into(), "3".into()),
        ]);
        assert_eq!(labels, Yaml::map([("a", s("3")), ("b", s("2"))]));
        assert_eq!(minor_version("1.31.4"), "v1.31");
        assert_eq!(minor_version("1"), "latest");
        assert_eq!(mebibytes((1 << 20) + 1), 2);
    }
}

//! The upstream-tool helpers (`plat_tests::upstream`) on hand-written samples in
//! `tests/data/samples/`: each good sample passes, each bad one fails for its stated reason.
//!
//! Where a tool is missing and `CI` is unset, the helper skips (with a notice) and these
//! tests accept that; under `CI` a missing tool is a failure.

use plat_tests::upstream::{
    cloud_init_schema, kubernetes_validate, kustomize, pfsense_structure, proxmox_conf_syntax,
    Outcome, Verdict,
};
use std::path::PathBuf;

/// The Kubernetes release the samples target (the fixture platform's minor version).
const K8S_VERSION: &str = "1.31.4";

fn sample(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/samples")
        .join(path)
}

/// Asserts a pass (or a skip for a missing tool outside CI); returns the notes.
fn assert_passes(outcome: Outcome) -> Vec<String> {
    match outcome {
        Ok(Verdict::Passed { notes, .. }) => notes,
        Ok(Verdict::Skipped { .. }) => Vec::new(),
        Err(failures) => panic!("expected a pass:\n{failures}"),
    }
}

/// Asserts a failure whose listing mentions `reason` (or a skip outside CI).
fn assert_fails(outcome: Outcome, reason: &str) {
    match outcome {
        Err(failures) => assert!(
            failures.mentions(reason),
            "failure does not mention {reason:?}:\n{failures}"
        ),
        Ok(Verdict::Skipped { .. }) => {}
        Ok(passed) => panic!("expected a failure mentioning {reason:?}, got {passed:?}"),
    }
}

#[test]
fn cloud_init_good_seed_passes() {
    assert_passes(cloud_init_schema(&sample("cloud-init/good")));
}

#[test]
fn cloud_init_rejects_wrong_type_in_user_data() {
    let outcome = cloud_init_schema(&sample("cloud-init/bad-user-data"));
    assert_fails(outcome, "package_update");
}

#[test]
fn cloud_init_rejects_user_data_without_header() {
    let outcome = cloud_init_schema(&sample("cloud-init/bad-header"));
    assert_fails(outcome, "#cloud-config");
}

#[test]
fn cloud_init_rejects_bad_prefix_in_network_config() {
    let outcome = cloud_init_schema(&sample("cloud-init/bad-network"));
    assert_fails(outcome, "10.10.20.14/33");
}

#[test]
fn cloud_init_fails_on_a_folder_without_seeds() {
    let outcome = cloud_init_schema(&sample("proxmox"));
    assert_fails(outcome, "found no files");
}

#[test]
fn kubernetes_good_manifests_pass_and_known_crds_are_noted() {
    let notes = assert_passes(kubernetes_validate(&sample("kubernetes/good"), K8S_VERSION));
    if !notes.is_empty() {
        assert_eq!(
            notes,
            [
                "flux/ingress-nginx.yaml: HelmRepository source.toolkit.fluxcd.io/v1 (known CRD)",
                "flux/ingress-nginx.yaml: HelmRelease helm.toolkit.fluxcd.io/v2 (known CRD)",
            ]
        );
    }
}

#[test]
fn kubernetes_rejects_unknown_field() {
    let outcome = kubernetes_validate(&sample("kubernetes/bad-field"), K8S_VERSION);
    assert_fails(outcome, "'replica' was unexpected");
}

#[test]
fn kubernetes_rejects_removed_api() {
    let outcome = kubernetes_validate(&sample("kubernetes/bad-api"), K8S_VERSION);
    assert_fails(outcome, "policy/v1beta1");
}

#[test]
fn kubernetes_rejects_unlisted_crd_version() {
    let outcome = kubernetes_validate(&sample("kubernetes/bad-crd-version"), K8S_VERSION);
    assert_fails(outcome, "helm.toolkit.fluxcd.io/v2beta1");
}

#[test]
fn kubernetes_reports_files_after_one_that_is_not_yaml() {
    let failures = match kubernetes_validate(&sample("kubernetes/bad-yaml"), K8S_VERSION) {
        Err(failures) => failures,
        Ok(Verdict::Skipped { .. }) => return,
        Ok(passed) => panic!("expected two failures, got {passed:?}"),
    };
    assert!(failures.mentions("Couldn't parse YAML"), "{failures}");
    assert!(failures.mentions("'color' was unexpected"), "{failures}");
    assert_eq!(failures.items.len(), 2, "{failures}");
}

#[test]
fn kustomize_builds_good_kustomizations() {
    assert_passes(kustomize(&sample("kubernetes/good")));
}

#[test]
fn kustomize_rejects_missing_resource() {
    assert_fails(
        kustomize(&sample("kubernetes/bad-kustomize")),
        "missing.yaml",
    );
}

#[test]
fn pfsense_good_config_passes() {
    assert_passes(pfsense_structure(&sample("pfsense/good-config.xml")));
}

#[test]
fn pfsense_bad_configs_fail_for_their_reason() {
    let cases = [
        (
            "bad-duplicate.xml",
            "<system/hostname> occurs more than once",
        ),
        ("bad-no-wan-if.xml", "missing <interfaces/wan/if>"),
        ("bad-no-unbound.xml", "missing <unbound>"),
        ("bad-malformed.xml", "not well-formed XML"),
        ("bad-root.xml", "not <pfsense>"),
    ];
    for (file, reason) in cases {
        let outcome = pfsense_structure(&sample(&format!("pfsense/{file}")));
        let failures = outcome.expect_err(file);
        assert!(failures.mentions(reason), "{file}: {failures}");
        assert_eq!(failures.items.len(), 1, "{file}: {failures}");
    }
}

#[test]
fn proxmox_good_config_passes() {
    assert_passes(proxmox_conf_syntax(&sample("proxmox/101.conf")));
}

#[test]
fn proxmox_bad_configs_fail_for_their_reason() {
    let cases = [
        ("bad-unknown-key.conf", "line 3: unknown option `cpus`"),
        ("bad-boolean.conf", "line 4: `onboot`: boolean `yes`"),
        ("bad-net-key.conf", "line 4: `net` has no key `vlan`"),
        ("bad-tag-range.conf", "`5000` is outside 1 - 4094"),
    ];
    for (file, reason) in cases {
        let outcome = proxmox_conf_syntax(&sample(&format!("proxmox/{file}")));
        let failures = outcome.expect_err(file);
        assert!(failures.mentions(reason), "{file}: {failures}");
        assert_eq!(failures.items.len(), 1, "{file}: {failures}");
    }
}

#[test]
fn failure_listing_is_readable() {
    let failures = proxmox_conf_syntax(&sample("proxmox/bad-boolean.conf")).unwrap_err();
    let text = failures.to_string();
    let path = sample("proxmox/bad-boolean.conf");
    assert_eq!(
        text,
        format!(
            "Proxmox qm.conf syntax: 1 failure(s)\n--- {}\n    line 4: `onboot`: boolean `yes` \
             must be written 0 or 1: `onboot: yes`\n",
            path.display()
        )
    );
}

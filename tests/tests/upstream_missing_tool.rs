//! A missing upstream tool fails the check under `CI` and is skipped otherwise.
//!
//! Its own test binary with a single test: it changes `PATH` and `CI`, which are
//! process-wide, so nothing may run beside it.

use plat_tests::upstream::{cloud_init_schema, kubernetes_validate, kustomize, Outcome, Verdict};
use std::path::{Path, PathBuf};

fn run_all(dir: &Path) -> [Outcome; 3] {
    [
        cloud_init_schema(dir),
        kubernetes_validate(dir, "1.31"),
        kustomize(dir),
    ]
}

#[test]
fn missing_tool_fails_under_ci_and_skips_otherwise() {
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/samples");
    let empty = std::env::temp_dir().join(format!("plat-no-tools-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let saved_path = std::env::var_os("PATH");
    let saved_ci = std::env::var_os("CI");
    std::env::set_var("PATH", &empty);

    std::env::set_var("CI", "true");
    for outcome in run_all(&samples) {
        let failures = outcome.expect_err("a missing tool must fail under CI");
        assert!(failures.mentions("run .ci/install-tools.sh"), "{failures}");
    }
    std::env::remove_var("CI");
    for outcome in run_all(&samples) {
        assert!(
            matches!(outcome, Ok(Verdict::Skipped { .. })),
            "{outcome:?}"
        );
    }

    match saved_path {
        Some(path) => std::env::set_var("PATH", path),
        None => std::env::remove_var("PATH"),
    }
    if let Some(ci) = saved_ci {
        std::env::set_var("CI", ci);
    }
    let _ = std::fs::remove_dir(&empty);
}

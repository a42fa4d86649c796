//! `cloud-init` on NoCloud seed files: `user-data` against the cloud-config schema,
//! `network-config` through cloud-init's own network parser (and its schema when the
//! installed version has one).
//!
//! Debian 12 ships cloud-init 22.4.2, the version its cloud images run. That version's
//! `cloud-init schema` has no network-config schema (the `--schema-type` flag came with
//! 23.x, canonical/cloud-init `cloudinit/config/schema.py`), and its cloud-config schema does
//! not reject unknown top-level keys. So every `network-config` also goes through
//! `cloud-init devel net-convert` to ENI for Debian: the parser and renderer a Debian guest
//! without netplan runs at boot, which rejects what it cannot turn into a network state
//! (bad addresses or prefixes, `to: default` routes in 22.4).
//!
//! Tests: `tests/tests/upstream_tools.rs`.

use super::{files_under, finish, missing_tool, relative, run, Failure, Outcome, ScratchDir};
use std::path::Path;

const CHECK: &str = "cloud-init schema";

/// Checks every `user-data` under `dir` with `cloud-init schema -c` and every
/// `network-config` with the installed cloud-init's network-config schema (if it has one)
/// and its `devel net-convert` parser.
pub fn cloud_init_schema(dir: &Path) -> Outcome {
    let Some(help) = run("cloud-init", &["schema", "--help"]).filter(|ran| ran.success) else {
        return missing_tool(
            CHECK,
            "cloud-init",
            "`cloud-init schema --help` did not run",
        );
    };
    let has_network_schema = help.text.contains("--schema-type");
    let files = files_under(dir, |path| {
        matches!(file_name(path), "user-data" | "network-config")
    });
    let mut failures = Vec::new();
    for path in &files {
        let subject = relative(dir, path);
        let problems = match file_name(path) {
            "user-data" => check_user_data(path),
            _ => check_network_config(path, has_network_schema),
        };
        failures.extend(problems.into_iter().map(|msg| Failure::new(&subject, msg)));
    }
    finish(CHECK, files.len(), failures, Vec::new())
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("")
}

/// `cloud-init schema -c FILE`: `#cloud-config` header and the cloud-config JSON schema.
fn check_user_data(path: &Path) -> Vec<String> {
    let file = path.to_string_lossy();
    tool_errors("cloud-init schema -c", &["schema", "-c", &file])
}

/// The network-config schema (if the installed version has it), then `net-convert`.
fn check_network_config(path: &Path, has_network_schema: bool) -> Vec<String> {
    let file = path.to_string_lossy();
    let mut problems = Vec::new();
    if has_network_schema {
        let args = ["schema", "--schema-type", "network-config", "-c", &file];
        problems.extend(tool_errors(
            "cloud-init schema --schema-type network-config",
            &args,
        ));
    }
    problems.extend(net_convert(&file));
    problems
}

/// `cloud-init devel net-convert -k yaml -D debian -O eni`: cloud-init's network_state
/// parser plus the ENI renderer Debian guests use.
fn net_convert(file: &str) -> Vec<String> {
    let scratch = match ScratchDir::new("net-convert") {
        Ok(scratch) => scratch,
        Err(err) => return vec![format!("cannot make a scratch directory: {err}")],
    };
    let out = scratch.0.to_string_lossy();
    let args = [
        "devel",
        "net-convert",
        "-p",
        file,
        "-k",
        "yaml",
        "-D",
        "debian",
        "-O",
        "eni",
        "-d",
        &out,
    ];
    tool_errors("cloud-init devel net-convert -O eni", &args)
}

/// Runs `cloud-init ARGS`; one message with its output when it fails.
fn tool_errors(what: &str, args: &[&str]) -> Vec<String> {
    match run("cloud-init", args) {
        Some(ran) if ran.success => Vec::new(),
        Some(ran) => vec![format!("`{what}` failed:\n{}", summary(&ran.text))],
        None => vec![format!("`{what}` could not be started")],
    }
}

/// A tool's output, with a Python traceback cut down to its last line (the reason).
fn summary(text: &str) -> String {
    let text = text.trim_end();
    match text.split_once("Traceback (most recent call last):") {
        Some((before, traceback)) => {
            let reason = traceback.lines().last().unwrap_or_default();
            format!("{}{reason}", before.trim_start())
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn traceback_is_cut_to_its_reason() {
        let text = "Read input.\nTraceback (most recent call last):\n  File \"x\", line 1\n\
                    ValueError: Address 10.0.0.1/33 is not a valid ip address\n";
        assert_eq!(
            summary(text),
            "Read input.\nValueError: Address 10.0.0.1/33 is not a valid ip address"
        );
        assert_eq!(summary("Error: bad\n"), "Error: bad");
    }
}

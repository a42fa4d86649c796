//! End-to-end tests of the `plat` binary: each runs the real executable in a temporary
//! directory holding a small platform written here, and snapshots the exit code, stdout and
//! stderr (temporary paths shown as `[TMP]`, the build's timing as `[TIME]`).
//!
//! They live in the compiler crate because only its own tests get `CARGO_BIN_EXE_plat`.

use std::collections::BTreeMap;
use std::time::SystemTime;

mod common;

use common::Project;

impl Project {
    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read")
    }

    /// Replaces `from` by `to` in a source file (exactly once).
    fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert_eq!(text.matches(from).count(), 1, "{from:?} in {relative}");
        self.write(relative, &text.replace(from, to));
    }

    /// Runs plat in the project directory; the transcript of the run, filtered.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let output = self.plat(args);
        let code = output.status.code().unwrap_or(-1);
        let transcript = format!(
            "args: {}\nexit: {code}\n----- stdout -----\n{}----- stderr -----\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (code, self.filter(&transcript))
    }

    fn filter(&self, text: &str) -> String {
        let mut text = text.to_string();
        let root = self.dir.path();
        if let Ok(canonical) = root.canonicalize() {
            text = text.replace(&canonical.display().to_string(), "[TMP]");
        }
        text = text.replace(&root.display().to_string(), "[TMP]");
        text.lines()
            .map(|line| format!("{}\n", filter_time(line)))
            .collect()
    }

    /// Every file under out/, with its bytes.
    /// Names in the project directory that start with `.`: what a build left beside out/.
    fn hidden_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.path(""))
            .expect("project directory")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.starts_with('.'))
            .collect()
    }

    fn tree(&self) -> BTreeMap<String, Vec<u8>> {
        let out = self.path("out");
        let mut files = BTreeMap::new();
        for entry in walkdir::WalkDir::new(&out).sort_by_file_name() {
            let entry = entry.expect("walk out/");
            if entry.file_type().is_file() {
                let relative = entry.path().strip_prefix(&out).expect("under out/");
                files.insert(
                    relative.display().to_string(),
                    std::fs::read(entry.path()).expect("read"),
                );
            }
        }
        files
    }

    fn mtimes(&self) -> BTreeMap<String, SystemTime> {
        self.tree()
            .keys()
            .map(|path| {
                let metadata = std::fs::metadata(self.path("out").join(path)).expect("stat");
                (path.clone(), metadata.modified().expect("mtime"))
            })
            .collect()
    }

    fn build(&self) {
        let (code, transcript) = self.run(&["build"]);
        assert_eq!(code, 0, "{transcript}");
    }

    /// [`Project::run`] with another working directory, `cwd`.
    fn run_in(&self, cwd: &std::path::Path, args: &[&str]) -> (i32, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_plat"))
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .output()
            .expect("run plat");
        let code = output.status.code().unwrap_or(-1);
        let args = args.join(" ");
        let transcript = format!(
            "args: {args}\nexit: {code}\n----- stdout -----\n{}----- stderr -----\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (code, self.filter(&transcript))
    }

    /// The absolute path of `relative` in the project, as text.
    fn absolute(&self, relative: &str) -> String {
        self.path(relative).display().to_string()
    }
}

/// ` in 0.04s` at the end of the build's summary line → ` in [TIME]`.
fn filter_time(line: &str) -> String {
    if let Some((head, tail)) = line.rsplit_once(" in ") {
        let number = tail.strip_suffix('s').unwrap_or("");
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return format!("{head} in [TIME]");
        }
    }
    line.to_string()
}

/// The 1-based number of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect("the line")
        + 1
}

#[test]
fn help_of_each_subcommand() {
    let project = Project::new();
    for command in ["build", "check", "diff", "explain", "graph", "eval"] {
        let (code, transcript) = project.run(&[command, "--help"]);
        assert_eq!(code, 0);
        assert!(
            transcript.contains("Example"),
            "{command} --help has an example"
        );
        insta::assert_snapshot!(format!("help_{command}"), transcript);
    }
}

#[test]
fn usage_and_io_errors_exit_2_and_name_the_path() {
    let project = Project::new();
    let (code, transcript) = project.run(&["build", "nowhere"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(transcript);
    let (code, _) = project.run(&["graph", "--format", "png"]);
    assert_eq!(code, 2);
}

#[test]
fn a_first_build_writes_everything_and_check_passes() {
    let project = Project::new();
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(transcript);
    let paths: Vec<String> = project.tree().into_keys().collect();
    insta::assert_snapshot!("first_build_tree", paths.join("\n"));
    let (code, transcript) = project.run(&["build", "--check"]);
    assert_eq!(code, 0, "{transcript}");
    // The new tree was written beside out/ and renamed into place: nothing else is left.
    let hidden = project.hidden_entries();
    assert!(hidden.is_empty(), "left beside out/: {hidden:?}");
}

#[test]
fn a_first_build_into_a_path_taken_by_a_file_fails_and_leaves_nothing() {
    let project = Project::new();
    project.write("out", "not a directory\n");
    let (code, transcript) = project.run(&["build"]);
    assert_ne!(code, 0, "{transcript}");
    assert_eq!(project.read("out"), "not a directory\n");
    let hidden = project.hidden_entries();
    assert!(hidden.is_empty(), "left beside out/: {hidden:?}");
}

#[test]
fn a_hand_edit_makes_check_fail_and_names_the_file() {
    let project = Project::new();
    project.build();
    let conf = "out/proxmox/pve1/qemu-server/201.conf";
    let edited = project.read(conf).replace("memory: 4096", "memory: 4097");
    project.write(conf, &edited);
    let (code, transcript) = project.run(&["build", "--check"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(transcript);
}

#[test]
fn removing_a_vm_removes_exactly_its_files() {
    let project = Project::new();
    project.build();
    let before = project.tree();
    let nas = "vm nas {\n  host   = host.pve1\n  vmid   = 150\n  memory = 2GiB\n  disks  = { scsi0 = { storage = \"local-lvm\", size = 16GiB } }\n  nics   = { net0 = { vlan = vlan.nodes, address = 10.20.0.50 } }\n}\n";
    project.edit("platform/vms.plat", nas, "");
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 0, "{transcript}");
    insta::assert_snapshot!(transcript);
    let after = project.tree();
    let removed: Vec<&String> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    assert_eq!(
        removed,
        [
            "cloud-init/nas/meta-data",
            "cloud-init/nas/network-config",
            "cloud-init/nas/user-data",
            "proxmox/pve1/qemu-server/150.conf",
        ]
    );
    assert!(
        !project.path("out/cloud-init/nas").exists(),
        "empty directory removed"
    );
    assert!(
        after.keys().all(|p| before.contains_key(p)),
        "nothing added"
    );
}

#[test]
fn an_operators_own_file_survives_every_build() {
    let project = Project::new();
    project.write("out/NOTES.md", "my notes\n");
    project.write("out/proxmox/pve1/README", "mine too\n");
    project.build();
    project.edit("platform/vms.plat", "memory = 4GiB", "memory = 6GiB");
    project.build();
    project.edit("platform/vms.plat", "vm cp-1 {", "vm cp-9 {");
    project.edit("platform/vms.plat", "vm = vm.cp-1,", "vm = vm.cp-9,");
    project.build();
    let (code, transcript) = project.run(&["build", "--check"]);
    assert_eq!(code, 0, "{transcript}");
    assert_eq!(project.read("out/NOTES.md"), "my notes\n");
    assert_eq!(project.read("out/proxmox/pve1/README"), "mine too\n");
    let lock = project.read("out/plat.lock");
    assert!(!lock.contains("NOTES.md") && !lock.contains("README"));
}

#[test]
fn a_source_with_an_error_leaves_out_byte_identical() {
    let project = Project::new();
    project.build();
    let before = project.tree();
    let mtimes = project.mtimes();
    project.edit("platform/vms.plat", "memory = 8GiB", "memory = 8");
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(transcript);
    assert_eq!(project.tree(), before);
    assert_eq!(project.mtimes(), mtimes);
}

/// A string that would read as a secret reference (here the cluster's bootstrap token, forged
/// into an env value and a VM tag) fails the build: nothing is written, not even a first out/.
#[test]
fn a_forged_secret_reference_fails_the_build_and_writes_nothing() {
    let project = Project::new();
    project.edit(
        "platform/vms.plat",
        "port      = 80",
        "port      = 80\n  env       = { TOKEN = \"\\${secret:kubeadm-main-bootstrap-token}\" }",
    );
    project.edit(
        "platform/vms.plat",
        "memory = 2GiB",
        "memory = 2GiB\n  tags   = [\"$\" + \"{secret:pfsense-fw1-admin-bcrypt-hash}\"]",
    );
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 1, "{transcript}");
    assert_eq!(
        transcript
            .matches("check::secret-reference-in-string")
            .count(),
        2,
        "{transcript}"
    );
    insta::assert_snapshot!(transcript);
    assert!(!project.path("out").exists(), "{transcript}");
    let hidden = project.hidden_entries();
    assert!(hidden.is_empty(), "left beside out/: {hidden:?}");
}

#[test]
fn a_no_op_rebuild_rewrites_nothing() {
    let project = Project::new();
    project.build();
    let mtimes = project.mtimes();
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(transcript);
    assert_eq!(project.mtimes(), mtimes);
}

#[test]
fn two_builds_at_once_are_refused() {
    let project = Project::new();
    project.build();
    let before = project.tree();
    // This test process holds the build lock, as a running build would.
    project.write("out/.plat-build.lock", &format!("{}\n", std::process::id()));
    project.edit("platform/vms.plat", "memory = 4GiB", "memory = 6GiB");
    let (code, transcript) = project.run(&["build"]);
    assert_eq!(code, 2);
    let transcript = transcript.replace(&std::process::id().to_string(), "[PID]");
    insta::assert_snapshot!(transcript);
    let mut after = project.tree();
    after.remove(".plat-build.lock");
    assert_eq!(after, before);
    std::fs::remove_file(project.path("out/.plat-build.lock")).expect("release");
    project.build();
}

#[test]
fn explain_a_memory_line_points_at_the_source() {
    let project = Project::new();
    project.build();
    let conf = "out/proxmox/pve1/qemu-server/201.conf";
    let line = line_of(&project.read(conf), "memory:");
    let (code, transcript) = project.run(&["explain", &format!("{conf}:{line}")]);
    assert_eq!(code, 0);
    assert!(transcript.contains("vms.plat:6:"), "{transcript}");
    insta::assert_snapshot!(transcript);
    let target = format!("{conf}:{line}");
    let (code, transcript) = project.run(&["explain", "--format", "json", &target]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("explain_json", transcript);
}

#[test]
fn explain_a_default_names_it_and_a_file_names_its_entity() {
    let project = Project::new();
    project.build();
    let conf = "out/proxmox/pve1/qemu-server/201.conf";
    let line = line_of(&project.read(conf), "cpu:");
    let (code, transcript) = project.run(&["explain", &format!("{conf}:{line}")]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("explain_default", transcript);
    let (code, transcript) = project.run(&["explain", "out/cloud-init/worker-1/user-data"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("explain_cloud_init_file", transcript);
    let (code, transcript) = project.run(&["explain", "out/NOTES.md"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("explain_not_generated", transcript);
}

#[test]
fn diff_shows_a_changed_memory_in_words_and_as_a_file_diff() {
    let project = Project::new();
    project.build();
    project.edit("platform/vms.plat", "memory = 4GiB", "memory = 8GiB");
    let before = project.tree();
    let (code, transcript) = project.run(&["diff"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(transcript);
    assert_eq!(project.tree(), before, "diff writes nothing");
}

#[test]
fn diff_names_added_and_removed_objects_with_their_impact() {
    let project = Project::new();
    project.build();
    project.edit("platform/vms.plat", "vm nas {", "vm files {");
    let rule = "rule web-in {\n  from  = \"any\"\n  to    = vlan.nodes\n  proto = \"tcp\"\n  port  = 443\n}\n";
    project.write("platform/rules.plat", rule);
    let (code, transcript) = project.run(&["diff"]);
    assert_eq!(code, 0, "{transcript}");
    let summary: Vec<&str> = transcript
        .lines()
        .skip_while(|l| !l.starts_with("----- stdout"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        summary,
        [
            "rule web-in: added  [reloads the firewall]",
            "vm files: added  [creates the VM]",
            "vm nas: removed  [destroys the VM]",
        ]
    );
}

#[test]
fn explain_finds_out_and_the_sources_from_an_absolute_path_anywhere() {
    let project = Project::new();
    project.build();
    let conf = "out/proxmox/pve1/qemu-server/201.conf";
    let line = line_of(&project.read(conf), "memory:");
    let elsewhere = tempfile::tempdir().expect("another directory");
    let target = format!("{}:{line}", project.absolute(conf));
    let (code, transcript) = project.run_in(elsewhere.path(), &["explain", &target]);
    assert_eq!(code, 0, "{transcript}");
    assert!(transcript.contains("vms.plat:6:"), "{transcript}");
    insta::assert_snapshot!(transcript);
    // From inside out/, a path relative to it.
    let inside = project.path("out/proxmox");
    let (code, transcript) = project.run_in(
        &inside,
        &["explain", &format!("pve1/qemu-server/201.conf:{line}")],
    );
    assert_eq!(code, 0, "{transcript}");
    assert!(transcript.contains("vms.plat:6:"), "{transcript}");
    // An explicit root still wins: here, one that does not exist.
    let (code, transcript) =
        project.run_in(elsewhere.path(), &["explain", "--root", "nowhere", &target]);
    assert_eq!(code, 2, "{transcript}");
    assert!(transcript.contains("cannot read nowhere"), "{transcript}");
    // A lock an older plat wrote records no root: said so, and `--root` names the sources.
    let lock = project.read("out/plat.lock");
    project.write("out/plat.lock", &lock.replace("root ../platform\n", ""));
    let (code, transcript) = project.run_in(elsewhere.path(), &["explain", &target]);
    assert_eq!(code, 2, "{transcript}");
    assert!(
        transcript.contains("records no source root"),
        "{transcript}"
    );
    let root = project.absolute("platform");
    let (code, transcript) =
        project.run_in(elsewhere.path(), &["explain", "--root", &root, &target]);
    assert_eq!(code, 0, "{transcript}");
}

#[test]
fn diff_finds_out_and_the_sources_from_a_path_in_out() {
    let project = Project::new();
    project.build();
    project.edit("platform/vms.plat", "memory = 4GiB", "memory = 8GiB");
    let (code, plain) = project.run(&["diff"]);
    assert_eq!(code, 0, "{plain}");
    // A path below out/, relative: the same diff.
    let (code, transcript) = project.run(&["diff", "out/proxmox"]);
    assert_eq!(code, 0, "{transcript}");
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&transcript), body(&plain));
    // out/ itself, absolutely, from another directory.
    let elsewhere = tempfile::tempdir().expect("another directory");
    let (code, transcript) = project.run_in(elsewhere.path(), &["diff", &project.absolute("out")]);
    assert_eq!(code, 0, "{transcript}");
    insta::assert_snapshot!(transcript);
}

#[test]
fn the_lock_records_the_sources_and_a_bad_root_line_is_refused_with_its_line() {
    let project = Project::new();
    project.build();
    let lock = project.read("out/plat.lock");
    assert!(lock.contains("\nroot ../platform\n"), "{lock}");
    let (code, transcript) = project.run(&["build", "--check"]);
    assert_eq!(code, 0, "{transcript}");
    // Built through other paths to the same directories: the same lock.
    let elsewhere = tempfile::tempdir().expect("another directory");
    let (code, transcript) = project.run_in(
        elsewhere.path(),
        &[
            "build",
            "--check",
            &project.absolute("platform"),
            "--out",
            &project.absolute("out"),
        ],
    );
    assert_eq!(code, 0, "{transcript}");
    project.write(
        "out/plat.lock",
        &lock.replace("root ../platform", "root ../plat//form"),
    );
    let (code, transcript) = project.run(&["build", "--check"]);
    assert_eq!(code, 2, "{transcript}");
    insta::assert_snapshot!(transcript);
    let (code, transcript) = project.run(&["explain", "out/proxmox/pve1/qemu-server/201.conf"]);
    assert_eq!(code, 2, "{transcript}");
    assert!(transcript.contains("plat.lock: line 6:"), "{transcript}");
}

#[test]
fn build_and_diff_report_diagnostics_as_json() {
    let project = Project::new();
    project.build();
    project.edit("platform/vms.plat", "memory = 8GiB", "memory = 8");
    let (code, transcript) = project.run(&["build", "--format", "json"]);
    assert_eq!(code, 1, "{transcript}");
    insta::assert_snapshot!("build_json_error", transcript);
    let (code, transcript) = project.run(&["diff", "--format", "json"]);
    assert_eq!(code, 1, "{transcript}");
    insta::assert_snapshot!("diff_json_error", transcript);
    project.edit("platform/vms.plat", "memory = 8", "memory = 16GiB");
    let (code, transcript) = project.run(&["diff", "--format", "json"]);
    assert_eq!(code, 0, "{transcript}");
    insta::assert_snapshot!("diff_json", transcript);
    let (code, transcript) = project.run(&["build", "--format", "json"]);
    assert_eq!(code, 0, "{transcript}");
    insta::assert_snapshot!("build_json", transcript);
    let (code, transcript) = project.run(&["build", "--format", "json"]);
    assert_eq!(code, 0, "{transcript}");
    insta::assert_snapshot!("build_json_up_to_date", transcript);
}

#[test]
fn graph_as_mermaid_and_dot() {
    let project = Project::new();
    let (code, transcript) = project.run(&["graph"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("graph_mermaid", transcript);
    let (code, transcript) = project.run(&["graph", "--format", "dot"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("graph_dot", transcript);
}

#[test]
fn time_filter() {
    assert_eq!(
        filter_time("plat: 2 written, 0 unchanged, 0 removed in 0.14s"),
        "plat: 2 written, 0 unchanged, 0 removed in [TIME]"
    );
    assert_eq!(filter_time("gone in 60 seconds"), "gone in 60 seconds");
}

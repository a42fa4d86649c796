//! End-to-end tests of entity names as path segments: a name that would lead a generated file
//! out of out/ is refused at its source with `name::path-segment`, and the build writes
//! nothing, inside out/ or beside it. A name of the longest length allowed still builds.
//!
//! Each test runs the real `plat` binary in a temporary directory holding the small platform
//! of `cli.rs` (`cli/network.plat`, `cli/vms.plat`).

use std::collections::BTreeMap;
use std::path::Path;

mod common;

use common::Project;

/// Entities whose names climb out of out/. Where each file would land without the check, from
/// the project directory (out/'s parent; a first build writes into a hidden sibling of out/ at
/// the same depth, so both kinds of build reach the same places):
/// - `kubernetes/main/../../../victim/namespace.yaml` is `victim/namespace.yaml`;
/// - `cloud-init/../../victim-vm/user-data` is `victim-vm/user-data`;
/// - `kubernetes/main/manifest-x/../../../../victim.yaml` is `victim.yaml`;
/// - `kubernetes/main/web/service-../../../../../../escaped.yaml` is `escaped.yaml`, a file that
///   does not exist yet: the build must not create it either.
const EVIL: &str = r#"
namespace "../../../victim" { cluster = cluster.main }

vm "../../victim-vm" {
  host   = host.pve1
  vmid   = 666
  memory = 1GiB
  disks  = { scsi0 = { storage = "local-lvm", size = 8GiB } }
  nics   = { net0 = { vlan = vlan.nodes, address = 10.20.0.66 } }
}

manifest "x/../../../../victim" {
  cluster = cluster.main
  body    = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "x" } }
}

service "../../../../../../escaped" {
  namespace = namespace.web
  image     = "traefik/whoami:v1.10.3"
  port      = 80
  resources = { millicpu = 100, memory = 64MiB }
}
"#;

/// The files the traversal names would overwrite, with their contents.
const VICTIMS: [(&str, &str); 3] = [
    (
        "victim/namespace.yaml",
        "the operator's own namespace.yaml\n",
    ),
    ("victim-vm/user-data", "the operator's own user-data\n"),
    ("victim.yaml", "the operator's own victim.yaml\n"),
];

/// The test project with the victims beside `platform/`.
fn with_victims() -> Project {
    let project = Project::new();
    for (path, text) in VICTIMS {
        project.write(path, text);
    }
    project
}

impl Project {
    /// Runs plat in the project directory: exit code and stderr.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let output = self.plat(args);
        let code = output.status.code().unwrap_or(-1);
        (code, String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// Every entry of the project directory with a file's bytes (`None` for a directory),
    /// paths relative to the project; `skip_out` leaves out/ and everything in it out.
    fn entries(&self, skip_out: bool) -> BTreeMap<String, Option<Vec<u8>>> {
        let root = self.dir.path();
        walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| !(skip_out && entry.path() == root.join("out")))
            .map(|entry| {
                let entry = entry.expect("walk the project");
                let relative = relative(root, entry.path());
                let bytes = entry
                    .file_type()
                    .is_file()
                    .then(|| std::fs::read(entry.path()).expect("read"));
                (relative, bytes)
            })
            .collect()
    }

    /// out/ alone, every entry with a file's bytes.
    fn out(&self) -> BTreeMap<String, Option<Vec<u8>>> {
        self.entries(false)
            .into_iter()
            .filter(|(path, _)| path == "out" || path.starts_with("out/"))
            .collect()
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let parts: Vec<String> = path
        .strip_prefix(root)
        .expect("below the project")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Asserts a refused build: exit 1, one `name::path-segment` per traversal name, and the
/// victims still there, byte for byte.
fn assert_refused(project: &Project, code: i32, stderr: &str) {
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr.matches("name::path-segment").count(),
        4,
        "one diagnostic per name expected:\n{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(
        !project.path("escaped.yaml").exists(),
        "escaped.yaml was created"
    );
    for (path, text) in VICTIMS {
        let now = std::fs::read_to_string(project.path(path))
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        assert_eq!(now, text, "{path} was overwritten");
    }
}

#[test]
fn a_first_build_with_traversal_names_writes_nothing_anywhere() {
    let project = with_victims();
    project.write("platform/evil.plat", EVIL);
    let before = project.entries(false);
    let (code, stderr) = project.run(&["build"]);
    assert_refused(&project, code, &stderr);
    // Not even out/ or its hidden staging directory: the whole project is as it was.
    assert_eq!(project.entries(false), before);
}

#[test]
fn a_rebuild_with_traversal_names_leaves_out_and_its_surroundings_alone() {
    let project = with_victims();
    let (code, stderr) = project.run(&["build"]);
    assert_eq!(code, 0, "{stderr}");
    project.write("platform/evil.plat", EVIL);
    let outside = project.entries(true);
    let out = project.out();
    let (code, stderr) = project.run(&["build"]);
    assert_refused(&project, code, &stderr);
    assert_eq!(
        project.entries(true),
        outside,
        "something changed beside out/"
    );
    assert_eq!(project.out(), out, "out/ changed");
}

/// The longest name allowed (`MAX` bytes) for every kind whose name is in a generated path:
/// the build succeeds, so every file name it makes fits the file system's 255 bytes even with
/// the longest prefix and suffix an emitter adds (`manifest-` and `.yaml`).
#[test]
fn names_of_the_longest_length_allowed_build() {
    const MAX: usize = 200;
    let long = |c: char| c.to_string().repeat(MAX);
    let project = with_victims();
    let [h, v, f, c, n, ns, s, ch, m, p] =
        ['h', 'v', 'f', 'c', 'n', 's', 'w', 'k', 'm', 'p'].map(long);
    project.write(
        "platform/long.plat",
        &format!(
            r#"
host {h} {{
  cpu     = 8
  memory  = 16GiB
  vlan    = vlan.mgmt
  address = 10.10.0.3
  storage = {{ local-lvm = {{ kind = "lvmthin", size = 100GiB }} }}
}}
firewall {f} {{
  hostname = "fw2"
  wan      = {{ interface = "igb2" }}
  trunk    = "igb3"
}}
vm {v} {{
  host   = host.{h}
  vmid   = 700
  memory = 1GiB
  disks  = {{ scsi0 = {{ storage = "local-lvm", size = 8GiB }} }}
  nics   = {{ net0 = {{ vlan = vlan.nodes, address = 10.20.0.70 }} }}
}}
cluster {c} {{
  version      = "1.31.5"
  endpoint     = 10.20.0.9
  pod_cidr     = 10.245.0.0/16
  service_cidr = 10.112.0.0/12
}}
node {n} {{ cluster = cluster.{c}, vm = vm.{v}, role = "control-plane" }}
namespace {ns} {{ cluster = cluster.{c} }}
service {s} {{
  namespace = namespace.{ns}
  image     = "traefik/whoami:v1.10.3"
  port      = 80
  resources = {{ millicpu = 100, memory = 64MiB }}
}}
chart {ch} {{
  namespace = namespace.{ns}
  repo      = "https://example.org/charts"
  chart     = "x"
  version   = "1.0.0"
}}
manifest {m} {{
  cluster = cluster.{c}
  body    = {{ apiVersion = "v1", kind = "ConfigMap", metadata = {{ name = "x" }} }}
}}
manifest {p} {{
  cluster   = cluster.{c}
  namespace = namespace.{ns}
  body      = {{ apiVersion = "v1", kind = "ConfigMap", metadata = {{ name = "y" }} }}
}}
"#
        ),
    );
    let (code, stderr) = project.run(&["build"]);
    assert_eq!(code, 0, "{stderr}");
    let out = project.out();
    let longest = out
        .keys()
        .flat_map(|path| path.split('/'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest <= 255, "a path segment of {longest} bytes");
    assert!(
        out.keys()
            .any(|path| path.ends_with(&format!("/manifest-{m}.yaml"))),
        "the cluster-scoped manifest's file is missing"
    );
}

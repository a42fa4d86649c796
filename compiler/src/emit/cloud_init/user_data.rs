//! `user-data`: the cloud-config of one VM (schema `schema-cloud-config-v1.json`; every key
//! here is also in Debian 12's cloud-init 22.4 schema).
//!
//! What it configures, in this order:
//! - hostname, FQDN `<vm>.<site.domain>` and `/etc/hosts` (`manage_etc_hosts: true`);
//! - time zone and NTP servers (`site.ntp`; none leaves cloud-init's default pools);
//! - the operator (`site.admin_user`) as the only user: SSH keys only, password locked,
//!   passwordless sudo (there is no password to type). Listing users without `default` drops
//!   the image's default user (`doc/module-docs/cc_users_groups/data.yaml`);
//! - `ssh_pwauth: false`, `disable_root: true`, and `ssh_deletekeys: false`: the instance id
//!   changes with every content change (see the parent module), and deleting host keys then
//!   would make every reconfiguration look like a man-in-the-middle; keys still get generated
//!   on the first boot, when the image has none (cloud-init `cc_ssh.py`);
//! - packages: the guest agent when `vm.agent`, the Kubernetes node's packages, then
//!   `vm.packages`, installed by `package_update_upgrade_install` in the final stage;
//! - `write_files` and `runcmd` (guest agent start, Kubernetes node preparation).
//!
//! Tests at the bottom.

use super::header;
use super::kubernetes;
use crate::emit::yaml::{self, Yaml};
use crate::model::{Model, Node, Site, Vm};

/// The guest agent's Debian package and systemd unit.
const GUEST_AGENT: &str = "qemu-guest-agent";

/// What the VM gets beyond identity and users: packages, files, commands.
#[derive(Debug, Default)]
pub(super) struct Provision {
    /// Debian packages, in order, without duplicates.
    pub packages: Vec<String>,
    /// Files for `write_files`.
    pub files: Vec<WriteFile>,
    /// `runcmd` commands as argument vectors, written as shell lines ([`shell_line`]).
    pub commands: Vec<Vec<String>>,
}

/// One `write_files` entry (owner root:root, the module's default).
#[derive(Debug)]
pub(super) struct WriteFile {
    /// Absolute path on the VM.
    pub path: String,
    /// Content, written as is.
    pub content: String,
    /// Octal mode, e.g. `0644`.
    pub permissions: &'static str,
    /// Write in the final stage, after packages are installed (`write-files-deferred`).
    pub defer: bool,
}

impl Provision {
    /// Adds packages, skipping those already listed.
    pub fn install<S: AsRef<str>>(&mut self, packages: impl IntoIterator<Item = S>) {
        for package in packages {
            let package = package.as_ref();
            if !self.packages.iter().any(|p| p == package) {
                self.packages.push(package.to_string());
            }
        }
    }

    /// Adds a `runcmd` command.
    pub fn run(&mut self, argv: &[&str]) {
        self.commands
            .push(argv.iter().map(|arg| arg.to_string()).collect());
    }
}

/// The `user-data` file of `vm`.
pub(super) fn render(
    model: &Model,
    site: &Site,
    vm: &Vm,
    node: Option<&Node>,
    kubeadm_config: Option<String>,
) -> String {
    let mut provision = Provision::default();
    if *vm.agent {
        provision.install([GUEST_AGENT]);
        provision.run(&["systemctl", "enable", "--now", GUEST_AGENT]);
    }
    if let Some(node) = node {
        kubernetes::prepare(model, node, kubeadm_config, &mut provision);
    }
    provision.install(vm.packages.iter());
    let mut entries = identity(site, vm);
    entries.extend(access(site));
    entries.extend(provisioning(provision));
    format!(
        "#cloud-config\n{}{}",
        header(),
        yaml::to_string(&Yaml::Map(entries))
    )
}

type Entries = Vec<(String, Yaml)>;

fn entry(key: &str, value: Yaml) -> (String, Yaml) {
    (key.to_string(), value)
}

/// Hostname, FQDN, hosts file, time zone and NTP.
fn identity(site: &Site, vm: &Vm) -> Entries {
    let mut ntp = vec![entry("enabled", Yaml::Bool(true))];
    let servers = unique(site.ntp.iter());
    if !servers.is_empty() {
        ntp.push(entry("servers", Yaml::strs(servers)));
    }
    vec![
        entry("hostname", Yaml::str(vm.name.clone())),
        entry("fqdn", Yaml::str(format!("{}.{}", vm.name, *site.domain))),
        entry("manage_etc_hosts", Yaml::Bool(true)),
        entry("timezone", Yaml::str(site.timezone.value.clone())),
        entry("ntp", Yaml::Map(ntp)),
    ]
}

/// The operator's account and the SSH policy.
fn access(site: &Site) -> Entries {
    let user = Yaml::map([
        ("name", Yaml::str(site.admin_user.value.clone())),
        ("groups", Yaml::strs(["sudo"])),
        ("shell", Yaml::str("/bin/bash")),
        ("sudo", Yaml::str("ALL=(ALL) NOPASSWD:ALL")),
        ("lock_passwd", Yaml::Bool(true)),
        ("ssh_authorized_keys", Yaml::strs(site.ssh_keys.iter())),
    ]);
    vec![
        entry("users", Yaml::Seq(vec![user])),
        entry("disable_root", Yaml::Bool(true)),
        entry("ssh_pwauth", Yaml::Bool(false)),
        entry("ssh_deletekeys", Yaml::Bool(false)),
    ]
}

/// `package_update`, `packages`, `write_files` and `runcmd`, each only when non-empty.
fn provisioning(provision: Provision) -> Entries {
    let mut entries = Entries::new();
    if !provision.packages.is_empty() {
        entries.push(entry("package_update", Yaml::Bool(true)));
        entries.push(entry("packages", Yaml::strs(provision.packages)));
    }
    if !provision.files.is_empty() {
        let files = provision.files.into_iter().map(write_file).collect();
        entries.push(entry("write_files", Yaml::Seq(files)));
    }
    if !provision.commands.is_empty() {
        let commands = provision
            .commands
            .iter()
            .map(|argv| Yaml::str(shell_line(argv)))
            .collect();
        entries.push(entry("runcmd", Yaml::Seq(commands)));
    }
    entries
}

fn write_file(file: WriteFile) -> Yaml {
    let mut entries = vec![
        entry("path", Yaml::str(file.path)),
        entry("content", Yaml::str(file.content)),
        entry("owner", Yaml::str("root:root")),
        entry("permissions", Yaml::str(file.permissions)),
    ];
    if file.defer {
        entries.push(entry("defer", Yaml::Bool(true)));
    }
    Yaml::Map(entries)
}

/// `argv` as one POSIX shell line: each argument as is when it has only characters the
/// shell never interprets, else in single quotes (a quote inside becomes `'\''`). cloud-init
/// runs each string item of `runcmd` as one line of a `sh` script (`cc_runcmd.py`).
fn shell_line(argv: &[String]) -> String {
    let quote = |arg: &String| {
        let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
        if !arg.is_empty() && arg.chars().all(safe) {
            arg.clone()
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        }
    };
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// `items` in order without repeats (cloud-init's schema wants unique NTP servers).
fn unique<'a>(items: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture;

    fn user_data(model: &Model, vm: &str) -> String {
        let site = model.site.as_ref().expect("site");
        render(
            model,
            site,
            &model.vms[vm],
            super::super::node_of(model, &model.vms[vm]),
            None,
        )
    }

    /// The lines of the block under top-level key `key` (up to the next top-level key).
    fn block<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
        let start = format!("{key}:");
        text.lines()
            .skip_while(|line| !line.starts_with(&start))
            .enumerate()
            .take_while(|(i, line)| *i == 0 || line.starts_with(' ') || line.is_empty())
            .map(|(_, line)| line)
            .collect()
    }

    #[test]
    fn identity_and_time() {
        let text = user_data(&fixture::small(), "worker-2");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#cloud-config");
        assert_eq!(lines[2], "hostname: worker-2");
        assert_eq!(lines[3], "fqdn: worker-2.lab.home.arpa");
        assert_eq!(lines[4], "manage_etc_hosts: true");
        assert_eq!(lines[5], "timezone: Europe/Paris");
        assert_eq!(
            block(&text, "ntp"),
            [
                "ntp:",
                "  enabled: true",
                "  servers:",
                "    - pool.ntp.org"
            ]
        );
    }

    #[test]
    fn operator_has_keys_only() {
        let text = user_data(&fixture::small(), "cp-1");
        assert_eq!(
            block(&text, "users"),
            [
                "users:",
                "  - name: ops",
                "    groups:",
                "      - sudo",
                "    shell: /bin/bash",
                "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"",
                "    lock_passwd: true",
                "    ssh_authorized_keys:",
                "      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ0ZXN0a2V5Zm9ycGxhdGV4YW1wbGVzb25seTAwMDA ops@laptop",
            ]
        );
        assert!(text.contains("\ndisable_root: true\nssh_pwauth: false\nssh_deletekeys: false\n"));
        assert!(
            !text.contains(" passwd:") && !text.contains("hashed_passwd"),
            "no password"
        );
        assert!(!text.contains("chpasswd"));
    }

    #[test]
    fn guest_agent_is_installed_and_started_only_when_asked() {
        let mut model = fixture::small();
        model.nodes.clear();
        let text = user_data(&model, "cp-1");
        assert_eq!(
            block(&text, "packages"),
            ["packages:", "  - qemu-guest-agent"]
        );
        assert_eq!(
            block(&text, "runcmd"),
            ["runcmd:", "  - systemctl enable --now qemu-guest-agent"]
        );
        model.vms["cp-1"].agent.value = false;
        let text = user_data(&model, "cp-1");
        assert!(!text.contains("qemu-guest-agent"), "{text}");
        assert!(!text.contains("package_update"), "{text}");
        assert!(!text.contains("runcmd"), "{text}");
    }

    #[test]
    fn extra_packages_follow_without_duplicates() {
        let mut model = fixture::small();
        model.nodes.clear();
        model.vms["worker-1"].packages.value =
            vec!["htop".into(), "qemu-guest-agent".into(), "on".into()];
        let text = user_data(&model, "worker-1");
        assert_eq!(
            block(&text, "packages"),
            [
                "packages:",
                "  - qemu-guest-agent",
                "  - htop",
                "  - \"on\""
            ]
        );
        assert!(text.contains("\npackage_update: true\n"));
    }

    #[test]
    fn commands_are_quoted_for_the_shell() {
        let argv = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shell_line(&argv(&["apt-get", "install", "-y", "kubelet=1.31.4-1.1"])),
            "apt-get install -y kubelet=1.31.4-1.1"
        );
        assert_eq!(
            shell_line(&argv(&["sed", "-i", "/^#/s/x/y/", "a b", "", "it's"])),
            r"sed -i '/^#/s/x/y/' 'a b' '' 'it'\''s'"
        );
    }

    #[test]
    fn ntp_servers_are_unique_and_optional() {
        let mut model = fixture::small();
        let site = model.site.as_mut().expect("site");
        site.ntp.value = vec!["10.10.0.1".into(), "10.10.0.1".into()];
        let text = user_data(&model, "cp-1");
        assert_eq!(
            block(&text, "ntp"),
            [
                "ntp:",
                "  enabled: true",
                "  servers:",
                "    - \"10.10.0.1\""
            ]
        );
        model.site.as_mut().expect("site").ntp.value.clear();
        assert_eq!(
            block(&user_data(&model, "cp-1"), "ntp"),
            ["ntp:", "  enabled: true"]
        );
    }
}

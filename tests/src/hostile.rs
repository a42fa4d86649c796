//! Hostile out/ trees: scenarios that attack the promises `plat build` makes about out/
//! (issue #13), for the property test `tests/tests/out_safety.rs` and the fuzz targets
//! `lock` and `hostile_out` (`fuzz/`).
//!
//! A scenario builds a small platform into `<tmp>/repo/out`, surrounded by victims (files and
//! a directory outside out/ with known contents); then it damages out/ the way an attacker,
//! a careless operator or a broken tool could (symlinks out of the tree, FIFOs, `/dev/zero`,
//! tampered `plat.lock` lines, read-only directories, files where directories belong), maybe
//! edits the sources, and runs `plat build`, `plat build --check` and `plat diff` in-process.
//! It then asserts:
//!
//! - (a) nothing outside out/ was created, deleted or changed (the whole `<tmp>` tree minus
//!   `repo/out`, walked without following links: types, bytes, permissions, link targets);
//! - (b) build and `--check` agree: a build that exits 0 is followed by a `--check` that exits
//!   0 and a build that changes nothing; a `--check` that exits 0 means out/ holds exactly the
//!   generated files (regular files in real directories) and the lock that lists them;
//! - (c) no command panics or hangs (each runs on a worker thread with a wall-clock guard,
//!   [`HANG_LIMIT`]: a FIFO or a link to `/dev/zero` made the build of issue #13 wait forever),
//!   nor holds more than [`MEMORY_LIMIT`] at its peak (`--check` read `/dev/zero` into memory).
//!
//! Refusing to build is always allowed; touching a victim or disagreeing never is.
//!
//! The same code serves a seeded property test and libFuzzer: every decision is asked of a
//! [`Choices`] ([`Seeded`] for tests, [`Bytes`] for a fuzz input).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use clap::Parser;

/// How long one plat command may run before the scenario fails as "hung". Generous: the
/// commands take milliseconds on these platforms; this only turns a hang into a failure.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Choices

/// Where a scenario's decisions come from.
pub trait Choices {
    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize;

    /// True or false.
    fn flag(&mut self) -> bool {
        self.below(2) == 1
    }
}

/// Choices from a seed (splitmix64): the same seed makes the same scenario everywhere.
pub struct Seeded(u64);

impl Seeded {
    /// Choices that depend only on `seed`.
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }
}

impl Choices for Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}

/// Choices read from a fuzz input, one byte each (two when `n` is over 256); an exhausted
/// input answers 0, so every input is a complete scenario.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Choices read from `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    fn byte(&mut self) -> usize {
        match self.data.split_first() {
            Some((&first, rest)) => {
                self.data = rest;
                first as usize
            }
            None => 0,
        }
    }
}

impl Choices for Bytes<'_> {
    fn below(&mut self, n: usize) -> usize {
        let value = if n > 256 {
            self.byte() << 8 | self.byte()
        } else {
            self.byte()
        };
        value % n
    }
}

// ---------------------------------------------------------------------------------------------
// Platforms

/// A small, valid platform. Variants differ in which files they generate (VMs, firewall,
/// cluster, namespaces) and in their contents (memory), so that a rebuild adds, changes and
/// removes files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variant {
    /// 1 to 3 VMs on the one host.
    pub vms: u8,
    /// A pfSense firewall with one rule.
    pub firewall: bool,
    /// A Kubernetes cluster: a control plane on the first VM, a worker on the second.
    pub cluster: bool,
    /// 0 to 2 namespaces with one service each (only with a cluster).
    pub namespaces: u8,
    /// Every VM's memory in GiB (2 or 4).
    pub memory_gib: u8,
}

impl Default for Variant {
    /// The variant with a bit of everything, for the named tests.
    fn default() -> Variant {
        Variant {
            vms: 2,
            firewall: true,
            cluster: true,
            namespaces: 1,
            memory_gib: 4,
        }
    }
}

impl Variant {
    /// A variant chosen by `choices`.
    pub fn choose(choices: &mut impl Choices) -> Variant {
        let cluster = choices.flag();
        Variant {
            vms: 1 + choices.below(3) as u8,
            firewall: choices.flag(),
            cluster,
            namespaces: if cluster { choices.below(3) as u8 } else { 0 },
            memory_gib: if choices.flag() { 4 } else { 2 },
        }
    }

    /// The platform's sources: file name (in `platform/`) and text.
    pub fn sources(&self) -> Vec<(&'static str, String)> {
        let mut network = String::from(
            r#"site {
  name     = "hostile"
  domain   = "hostile.example"
  ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RrZXlmb3JjbGl0ZXN0c29ubHkwMDAwMDA ops@test"]
}

vlan mgmt {
  id     = 10
  subnet = 10.10.0.0/24
}

vlan nodes {
  id     = 20
  subnet = 10.20.0.0/24
}

host pve1 {
  cpu     = 16
  memory  = 64GiB
  vlan    = vlan.mgmt
  address = 10.10.0.2
  storage = { local-lvm = { kind = "lvmthin", size = 500GiB } }
}
"#,
        );
        if self.firewall {
            network.push_str(
                r#"
firewall fw1 {
  hostname = "fw1"
  wan      = { interface = "igb0" }
  trunk    = "igb1"
}

rule nodes-out {
  from = vlan.nodes
  to   = "any"
}
"#,
            );
        }
        let mut workloads = String::new();
        for i in 1..=self.vms {
            workloads.push_str(&format!(
                r#"
vm vm-{i} {{
  host   = host.pve1
  vmid   = {vmid}
  cores  = 2
  memory = {memory}GiB
  disks  = {{ scsi0 = {{ storage = "local-lvm", size = 16GiB }} }}
  nics   = {{ net0 = {{ vlan = vlan.nodes, address = 10.20.0.{address} }} }}
}}
"#,
                vmid = 200 + u32::from(i),
                memory = self.memory_gib,
                address = 10 + u32::from(i),
            ));
        }
        if self.cluster {
            workloads.push_str(
                r#"
cluster main {
  version      = "1.31.5"
  endpoint     = 10.20.0.100
  pod_cidr     = 10.244.0.0/16
  service_cidr = 10.96.0.0/12
}

node vm-1 { cluster = cluster.main, vm = vm.vm-1, role = "control-plane" }
"#,
            );
            if self.vms >= 2 {
                workloads.push_str(
                    "node vm-2 { cluster = cluster.main, vm = vm.vm-2, role = \"worker\" }\n",
                );
            }
            for n in 1..=self.namespaces {
                workloads.push_str(&format!(
                    r#"
namespace ns-{n} {{ cluster = cluster.main }}

service web-{n} {{
  namespace = namespace.ns-{n}
  image     = "traefik/whoami:v1.10.3"
  port      = 80
  resources = {{ millicpu = 100, memory = 64MiB }}
}}
"#
                ));
            }
        }
        vec![("network.plat", network), ("workloads.plat", workloads)]
    }

    /// Writes the sources into `platform`, replacing any there.
    fn write(&self, platform: &Path) -> std::io::Result<()> {
        for (name, text) in self.sources() {
            fs::write(platform.join(name), text)?;
        }
        Ok(())
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} VM(s) of {} GiB", self.vms, self.memory_gib)?;
        if self.firewall {
            write!(f, ", a firewall")?;
        }
        if self.cluster {
            write!(f, ", a cluster with {} namespace(s)", self.namespaces)?;
        }
        Ok(())
    }
}

/// What a clean first build of a variant makes: every owned file's bytes and the lock's text.
pub struct Reference {
    /// Owned files (relative to out/) and their bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// `out/plat.lock`.
    pub lock: String,
    /// The out/ it was built in, copied as the first build of each scenario.
    out: PathBuf,
}

impl Reference {
    /// The owned directories (relative to out/), parents before children.
    pub fn directories(&self) -> Vec<String> {
        let mut directories: Vec<String> = self
            .files
            .keys()
            .flat_map(|path| {
                let mut parents = Vec::new();
                let mut rest = path.as_str();
                while let Some((parent, _)) = rest.rsplit_once('/') {
                    parents.push(parent.to_string());
                    rest = parent;
                }
                parents
            })
            .collect();
        directories.sort();
        directories.dedup();
        directories
    }
}

/// The reference build of `variant`: made once per process (with a real `plat build` into a
/// private directory) and kept, so that scenarios start from a copy instead of a build.
pub fn reference(variant: Variant) -> Result<Arc<Reference>, String> {
    static REFERENCES: OnceLock<Mutex<HashMap<Variant, Arc<Reference>>>> = OnceLock::new();
    let references = REFERENCES.get_or_init(Mutex::default);
    if let Some(found) = lock_ignoring_poison(references).get(&variant) {
        return Ok(found.clone());
    }
    let dir = scratch("reference")?;
    let platform = dir.join("platform");
    let out = dir.join("out");
    fs::create_dir_all(&platform).map_err(|e| format!("{}: {e}", platform.display()))?;
    variant
        .write(&platform)
        .map_err(|e| format!("writing the sources: {e}"))?;
    match plat(
        &["build", path_str(&platform), "--out", path_str(&out)],
        None,
    ) {
        Ok(0) => {}
        Ok(code) => return Err(format!("the reference build of {variant} exited {code}")),
        Err(why) => return Err(format!("the reference build of {variant} {why}")),
    }
    let lock = fs::read_to_string(out.join("plat.lock")).map_err(|e| format!("lock: {e}"))?;
    let mut files = BTreeMap::new();
    for line in lock.lines() {
        if let Some(path) = line.strip_prefix("file ").and_then(|r| r.split_once(' ')) {
            let bytes = fs::read(out.join(path.1)).map_err(|e| format!("{}: {e}", path.1))?;
            files.insert(path.1.to_string(), bytes);
        }
    }
    let reference = Arc::new(Reference { files, lock, out });
    lock_ignoring_poison(references).insert(variant, reference.clone());
    Ok(reference)
}

fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Victims

/// The victims, relative to `<tmp>`, with their contents. `victim/` is also the target of the
/// directory links; `victim/proxmox` mirrors a name out/ uses, so that a write through a link
/// lands on an existing file rather than only creating one.
const VICTIMS: &[(&str, &str)] = &[
    ("victim/a.txt", "victim a: must survive every build\n"),
    ("victim/x", "victim x\n"),
    ("victim/storage.cfg", "victim storage.cfg: not plat's\n"),
    ("victim/proxmox/storage.cfg", "victim nested storage.cfg\n"),
    ("victim_rel.txt", "victim next to repo/\n"),
    ("repo/victim.txt", "victim inside repo/, beside out/\n"),
    ("repo/victim_rel.txt", "victim at out/../victim_rel.txt\n"),
];

/// Where a lock line escapes to, relative to out/ (or absolute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// `../victim_rel.txt`: `repo/victim_rel.txt`.
    Parent,
    /// `../../victim_rel.txt`.
    Grandparent,
    /// `../../victim/x`.
    VictimDir,
    /// The absolute path of `victim/a.txt`.
    Absolute,
    /// `proxmox/../../victim.txt`: up through an owned directory.
    Through,
    /// `../victim`: the victim directory itself.
    Directory,
}

const ESCAPES: [Escape; 6] = [
    Escape::Parent,
    Escape::Grandparent,
    Escape::VictimDir,
    Escape::Absolute,
    Escape::Through,
    Escape::Directory,
];

impl Escape {
    /// The path written in the lock, and the victim (relative to `<tmp>`) it names.
    fn path(self, tmp: &Path) -> (String, &'static str) {
        match self {
            Escape::Parent => ("../victim_rel.txt".into(), "repo/victim_rel.txt"),
            Escape::Grandparent => ("../../victim_rel.txt".into(), "victim_rel.txt"),
            Escape::VictimDir => ("../../victim/x".into(), "victim/x"),
            Escape::Absolute => (
                tmp.join("victim/a.txt").display().to_string(),
                "victim/a.txt",
            ),
            Escape::Through => ("proxmox/../../victim.txt".into(), "repo/victim.txt"),
            Escape::Directory => ("../../victim".into(), "victim"),
        }
    }
}

/// A way to spell an owned path that is not its canonical spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spelling {
    /// `a//b`.
    DoubleSlash,
    /// `./a/b`.
    DotSlash,
    /// `a/b/`.
    TrailingSlash,
    /// `a/b` followed by a NUL byte.
    Nul,
    /// `a/b` followed by a carriage return (the line ends `\r\n`).
    CarriageReturn,
    /// `a/b ` (a trailing space).
    TrailingSpace,
    /// `a/./b`.
    InnerDot,
}

const SPELLINGS: [Spelling; 7] = [
    Spelling::DoubleSlash,
    Spelling::DotSlash,
    Spelling::TrailingSlash,
    Spelling::Nul,
    Spelling::CarriageReturn,
    Spelling::TrailingSpace,
    Spelling::InnerDot,
];

impl Spelling {
    fn spell(self, path: &str) -> String {
        match self {
            Spelling::DoubleSlash => match path.split_once('/') {
                Some((head, tail)) => format!("{head}//{tail}"),
                None => format!("{path}//"),
            },
            Spelling::DotSlash => format!("./{path}"),
            Spelling::TrailingSlash => format!("{path}/"),
            Spelling::Nul => format!("{path}\0"),
            Spelling::CarriageReturn => format!("{path}\r"),
            Spelling::TrailingSpace => format!("{path} "),
            Spelling::InnerDot => match path.rsplit_once('/') {
                Some((head, tail)) => format!("{head}/./{tail}"),
                None => format!("./{path}"),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// One thing done to out/ between the first build and the next. Paths are relative to out/.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// An owned directory replaced by a symlink to `<tmp>/victim`.
    DirectoryToVictim(String),
    /// An owned file replaced by a symlink to a victim file.
    FileToVictim(String),
    /// A symlink to a victim file at `.NAME.plat-tmp` beside an owned file (the temporary
    /// name a rewrite uses), and the owned file edited so that a build rewrites it.
    TemporaryToVictim(String),
    /// An owned file replaced by a FIFO.
    Fifo(String),
    /// An owned file replaced by a symlink to `/dev/zero`.
    DevZero(String),
    /// An owned directory made read-only (0555).
    ReadOnlyDirectory(String),
    /// An owned directory replaced by a regular file.
    FileForDirectory(String),
    /// An owned file replaced by a directory holding an operator's file.
    DirectoryForFile(String),
    /// An owned file edited by hand (ordinary drift: a build rewrites it).
    Edit(String),
    /// An owned file deleted (ordinary drift: a build writes it again).
    Delete(String),
    /// An operator's file in out/ that plat does not own.
    OperatorFile(String),
    /// A `file` line added to the lock naming a path outside out/; with the victim's real hash
    /// when `real_hash`, so that checking the hash before deleting is not enough.
    LockEscape {
        /// Where it escapes to.
        escape: Escape,
        /// The victim's blake3 instead of zeros.
        real_hash: bool,
    },
    /// The `file` line of an owned file removed from the lock.
    LockRemoveLine(String),
    /// The `file` line of an owned file given a wrong hash.
    LockWrongHash(String),
    /// The `file` line of an owned file written twice.
    LockDuplicate(String),
    /// A `file` line for an owned file, spelled another way, added to the lock.
    LockSpelling(String, Spelling),
    /// Bytes appended to the lock.
    LockGarbage(Vec<u8>),
    /// The lock replaced by these bytes (the `lock` fuzz target).
    LockBytes(Vec<u8>),
}

impl Mutation {
    /// A mutation of a build of `reference` chosen by `choices`.
    pub fn choose(choices: &mut impl Choices, reference: &Reference) -> Mutation {
        let files: Vec<&String> = reference
            .files
            .keys()
            .filter(|path| *path != "plat.lock")
            .collect();
        let directories = reference.directories();
        let file = files[choices.below(files.len())].clone();
        let directory = if directories.is_empty() {
            None
        } else {
            Some(directories[choices.below(directories.len())].clone())
        };
        match (choices.below(18), directory) {
            (0, Some(d)) => Mutation::DirectoryToVictim(d),
            (1, _) => Mutation::FileToVictim(file),
            (2, _) => Mutation::TemporaryToVictim(file),
            (3, _) => Mutation::Fifo(file),
            (4, _) => Mutation::DevZero(file),
            (5, Some(d)) => Mutation::ReadOnlyDirectory(d),
            (6, Some(d)) => Mutation::FileForDirectory(d),
            (7, _) => Mutation::DirectoryForFile(file),
            (8, _) => Mutation::Delete(file),
            (9, _) => Mutation::OperatorFile(
                [
                    "notes.txt",
                    "proxmox/notes.txt",
                    "kubernetes/main/ns-2/namespace.yaml",
                ][choices.below(3)]
                .to_string(),
            ),
            (10, _) => Mutation::LockEscape {
                escape: ESCAPES[choices.below(ESCAPES.len())],
                real_hash: choices.flag(),
            },
            (11, _) => Mutation::LockRemoveLine(file),
            (12, _) => Mutation::LockWrongHash(file),
            (13, _) => Mutation::LockDuplicate(file),
            (14, _) => Mutation::LockSpelling(file, SPELLINGS[choices.below(SPELLINGS.len())]),
            (15, _) => {
                let length = 1 + choices.below(12);
                Mutation::LockGarbage((0..length).map(|_| choices.below(256) as u8).collect())
            }
            _ => Mutation::Edit(file),
        }
    }

    /// True for the mutations that made the build of issue #13 hang (run them last: a hung
    /// worker thread cannot be stopped, and one reading `/dev/zero` may fill memory).
    pub fn may_hang(&self) -> bool {
        matches!(self, Mutation::Fifo(_) | Mutation::DevZero(_))
    }

    /// Does it to the out/ of `work`.
    fn apply(&self, work: &Workspace) -> std::io::Result<()> {
        let out = &work.out;
        let victim = |relative: &str| work.tmp.join(relative);
        match self {
            Mutation::DirectoryToVictim(directory) => {
                let full = out.join(directory);
                fs::remove_dir_all(&full)?;
                std::os::unix::fs::symlink(victim("victim"), &full)
            }
            Mutation::FileToVictim(file) => {
                let full = out.join(file);
                fs::remove_file(&full)?;
                std::os::unix::fs::symlink(victim("victim/a.txt"), &full)
            }
            Mutation::TemporaryToVictim(file) => {
                let full = out.join(file);
                let name = full.file_name().unwrap_or_default().to_string_lossy();
                let temporary = full.with_file_name(format!(".{name}.plat-tmp"));
                std::os::unix::fs::symlink(victim("victim/a.txt"), temporary)?;
                append(&full, b"# edited by hand\n")
            }
            Mutation::Fifo(file) => {
                let full = out.join(file);
                fs::remove_file(&full)?;
                let status = std::process::Command::new("mkfifo").arg(&full).status()?;
                if status.success() {
                    Ok(())
                } else {
                    Err(std::io::Error::other(format!("mkfifo: {status}")))
                }
            }
            Mutation::DevZero(file) => {
                let full = out.join(file);
                fs::remove_file(&full)?;
                std::os::unix::fs::symlink("/dev/zero", &full)
            }
            Mutation::ReadOnlyDirectory(directory) => {
                fs::set_permissions(out.join(directory), fs::Permissions::from_mode(0o555))
            }
            Mutation::FileForDirectory(directory) => {
                let full = out.join(directory);
                fs::remove_dir_all(&full)?;
                write_plain(&full, b"a file where plat made a directory\n")
            }
            Mutation::DirectoryForFile(file) => {
                let full = out.join(file);
                fs::remove_file(&full)?;
                fs::create_dir(&full)?;
                write_plain(&full.join("operator.txt"), b"the operator's\n")
            }
            Mutation::Edit(file) => append(&out.join(file), b"# edited by hand\n"),
            Mutation::Delete(file) => fs::remove_file(out.join(file)),
            Mutation::OperatorFile(file) => {
                let full = out.join(file);
                if let Some(parent) = full.parent() {
                    fs::create_dir_all(parent)?;
                }
                write_plain(&full, b"the operator's own file\n")
            }
            Mutation::LockEscape { escape, real_hash } => {
                let (path, target) = escape.path(&work.tmp);
                let hash = match fs::read(victim(target)) {
                    Ok(bytes) if *real_hash => blake3::hash(&bytes).to_hex().to_string(),
                    _ => "0".repeat(64),
                };
                append(&work.lock(), format!("file {hash} {path}\n").as_bytes())
            }
            Mutation::LockRemoveLine(file) => edit_lock(work, |line| {
                (line_path(line) != Some(file.as_str())).then(|| line.to_string())
            }),
            Mutation::LockWrongHash(file) => edit_lock(work, |line| {
                Some(if line_path(line) == Some(file.as_str()) {
                    format!("file {} {file}", "f".repeat(64))
                } else {
                    line.to_string()
                })
            }),
            Mutation::LockDuplicate(file) => edit_lock(work, |line| {
                Some(if line_path(line) == Some(file.as_str()) {
                    format!("{line}\n{line}")
                } else {
                    line.to_string()
                })
            }),
            Mutation::LockSpelling(file, spelling) => {
                let text = fs::read(work.lock())?;
                let hash = String::from_utf8_lossy(&text)
                    .lines()
                    .find(|line| line_path(line) == Some(file.as_str()))
                    .and_then(|line| line.split(' ').nth(1))
                    .unwrap_or("0")
                    .to_string();
                append(
                    &work.lock(),
                    format!("file {hash} {}\n", spelling.spell(file)).as_bytes(),
                )
            }
            Mutation::LockGarbage(bytes) => append(&work.lock(), bytes),
            Mutation::LockBytes(bytes) => write_plain(&work.lock(), bytes),
        }
    }
}

/// Writes `bytes` to `path`, which is a regular file or nothing. Anything else an earlier
/// mutation put there is refused (and the mutation skipped), as in [`append`].
fn write_plain(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.file_type().is_file() => {
            Err(std::io::Error::other("not a regular file any more"))
        }
        _ => fs::write(path, bytes),
    }
}

/// Appends `bytes` to the regular file at `path`. Anything else an earlier mutation put there
/// is refused (and the mutation skipped): opening a FIFO to write would wait for a reader
/// forever, and a link would lead the harness itself into a victim.
fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if !fs::symlink_metadata(path)?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file any more"));
    }
    fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(bytes)
}

/// The path of a `file HASH PATH` lock line.
fn line_path(line: &str) -> Option<&str> {
    line.strip_prefix("file ")?.split_once(' ').map(|(_, p)| p)
}

/// Rewrites the lock line by line (`None` drops a line). Lines that are not UTF-8 (garbage
/// an earlier mutation appended) are kept as they are.
fn edit_lock(work: &Workspace, mut f: impl FnMut(&str) -> Option<String>) -> std::io::Result<()> {
    let bytes = fs::read(work.lock())?;
    let mut edited = Vec::new();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    for line in lines {
        match std::str::from_utf8(line) {
            Ok(text) => {
                if let Some(kept) = f(text) {
                    edited.extend_from_slice(kept.as_bytes());
                    edited.push(b'\n');
                }
            }
            Err(_) => {
                edited.extend_from_slice(line);
                edited.push(b'\n');
            }
        }
    }
    write_plain(&work.lock(), &edited)
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::DirectoryToVictim(d) => write!(f, "directory {d}/ -> symlink to victim/"),
            Mutation::FileToVictim(p) => write!(f, "file {p} -> symlink to victim/a.txt"),
            Mutation::TemporaryToVictim(p) => write!(
                f,
                "symlink to victim/a.txt at the temporary name beside {p}, and {p} edited"
            ),
            Mutation::Fifo(p) => write!(f, "file {p} -> FIFO"),
            Mutation::DevZero(p) => write!(f, "file {p} -> symlink to /dev/zero"),
            Mutation::ReadOnlyDirectory(d) => write!(f, "directory {d}/ made read-only"),
            Mutation::FileForDirectory(d) => write!(f, "directory {d}/ -> regular file"),
            Mutation::DirectoryForFile(p) => write!(f, "file {p} -> directory"),
            Mutation::Edit(p) => write!(f, "file {p} edited by hand"),
            Mutation::Delete(p) => write!(f, "file {p} deleted"),
            Mutation::OperatorFile(p) => write!(f, "operator's file {p} added"),
            Mutation::LockEscape { escape, real_hash } => write!(
                f,
                "lock: `file` line escaping out/ ({escape:?}, {} hash)",
                if *real_hash { "the victim's" } else { "a zero" }
            ),
            Mutation::LockRemoveLine(p) => write!(f, "lock: line of {p} removed"),
            Mutation::LockWrongHash(p) => write!(f, "lock: wrong hash for {p}"),
            Mutation::LockDuplicate(p) => write!(f, "lock: line of {p} duplicated"),
            Mutation::LockSpelling(p, s) => {
                write!(f, "lock: {p} also listed as {:?} ({s:?})", s.spell(p))
            }
            Mutation::LockGarbage(bytes) => {
                write!(
                    f,
                    "lock: garbage appended {:?}",
                    String::from_utf8_lossy(bytes)
                )
            }
            Mutation::LockBytes(bytes) => {
                let shown: String = String::from_utf8_lossy(bytes).chars().take(400).collect();
                write!(f, "lock replaced by {} bytes: {shown:?}", bytes.len())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A whole scenario: the platform built first, what is done to out/, and the platform (if
/// any) the sources are changed to before building again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The platform of the first build.
    pub first: Variant,
    /// What is done to out/ after it, in order.
    pub mutations: Vec<Mutation>,
    /// The sources are changed to this platform before the hostile build.
    pub rebuild: Option<Variant>,
}

impl Scenario {
    /// A scenario chosen by `choices` (1 to 3 mutations).
    pub fn choose(choices: &mut impl Choices) -> Result<Scenario, String> {
        let first = Variant::choose(choices);
        let reference = reference(first)?;
        let count = 1 + choices.below(3);
        let mutations = (0..count)
            .map(|_| Mutation::choose(choices, &reference))
            .collect();
        let rebuild = choices.flag().then(|| Variant::choose(choices));
        Ok(Scenario {
            first,
            mutations,
            rebuild,
        })
    }

    /// The scenario of the `lock` fuzz target: `bytes` as the lock of the default platform's
    /// out/, rebuilt as it is.
    pub fn with_lock(bytes: &[u8]) -> Scenario {
        Scenario {
            first: Variant::default(),
            mutations: vec![Mutation::LockBytes(bytes.to_vec())],
            rebuild: None,
        }
    }

    /// True when a mutation may hang today's build ([`Mutation::may_hang`]).
    pub fn may_hang(&self) -> bool {
        self.mutations.iter().any(Mutation::may_hang)
    }

    /// Runs the scenario and checks its properties; the failure says what went wrong, with the
    /// scenario and a transcript of the commands.
    pub fn run(&self) -> Result<(), Failure> {
        let mut transcript = Vec::new();
        let result = self.run_into(&mut transcript);
        result.map_err(|(why, hung)| Failure {
            scenario: self.to_string(),
            transcript: transcript.join("\n"),
            why,
            hung,
        })
    }

    fn run_into(&self, transcript: &mut Vec<String>) -> Result<(), (String, bool)> {
        let plain = |why: String| (why, false);
        let reference = reference(self.first).map_err(plain)?;
        let work = Workspace::new(self.first, &reference).map_err(plain)?;
        for mutation in &self.mutations {
            // An earlier mutation may have taken this one's target away (a directory replaced
            // by a file, a file deleted): then this one is skipped, as the transcript says.
            if let Err(error) = mutation.apply(&work) {
                transcript.push(format!("skipped `{mutation}`: {error}"));
            }
        }
        let variant = self.rebuild.unwrap_or(self.first);
        if let Some(rebuild) = self.rebuild {
            rebuild
                .write(&work.platform)
                .map_err(|e| plain(format!("cannot write the sources: {e}")))?;
        }
        let before = snapshot(&work.tmp, Some(&work.out)).map_err(plain)?;
        let result = work.commands(variant, transcript);
        if let Err((_, true)) = &result {
            // A worker thread may still be inside out/: leave the directory to it.
            work.keep();
            return result;
        }
        let after = snapshot(&work.tmp, Some(&work.out)).map_err(plain)?;
        // (a) comes first: a build that went through a link into a victim usually also
        // disagrees with --check, and the victim is the worse news.
        if let Some(change) = first_difference(&before, &after) {
            return Err(plain(format!("something outside out/ changed: {change}")));
        }
        result
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "build [{}]", self.first)?;
        for mutation in &self.mutations {
            writeln!(f, "  then {mutation}")?;
        }
        match self.rebuild {
            Some(variant) => write!(f, "  then the sources changed to [{variant}]"),
            None => write!(f, "  then the sources left as they are"),
        }
    }
}

/// A scenario whose properties failed.
#[derive(Debug)]
pub struct Failure {
    /// The scenario, described.
    pub scenario: String,
    /// Each command run and its exit code.
    pub transcript: String,
    /// What went wrong.
    pub why: String,
    /// True when a command hung (its thread may still be running).
    pub hung: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\nscenario:\n{}\ncommands:\n{}",
            self.why, self.scenario, self.transcript
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Workspaces

/// `<tmp>` with `repo/platform`, `repo/out` and the victims; removed on drop (unless a hung
/// command may still be using it).
struct Workspace {
    tmp: PathBuf,
    platform: PathBuf,
    out: PathBuf,
    keep: std::cell::Cell<bool>,
}

impl Workspace {
    /// A workspace whose out/ is a copy of `reference` (the first build of `variant`).
    fn new(variant: Variant, reference: &Reference) -> Result<Workspace, String> {
        let tmp = scratch("scenario")?;
        let work = Workspace {
            platform: tmp.join("repo/platform"),
            out: tmp.join("repo/out"),
            tmp,
            keep: std::cell::Cell::new(false),
        };
        let io = |e: std::io::Error| format!("setting up {}: {e}", work.tmp.display());
        fs::create_dir_all(&work.platform).map_err(io)?;
        variant.write(&work.platform).map_err(io)?;
        for (path, text) in VICTIMS {
            let full = work.tmp.join(path);
            fs::create_dir_all(full.parent().unwrap_or(&work.tmp)).map_err(io)?;
            fs::write(&full, text).map_err(io)?;
        }
        copy_tree(&reference.out, &work.out).map_err(io)?;
        Ok(work)
    }

    fn lock(&self) -> PathBuf {
        self.out.join("plat.lock")
    }

    fn keep(&self) {
        self.keep.set(true);
    }

    /// Runs plat with `args` (paths filled in), noting it in the transcript.
    fn plat(&self, command: &str, transcript: &mut Vec<String>) -> Result<u8, (String, bool)> {
        let platform = path_str(&self.platform);
        let out = path_str(&self.out);
        let args: Vec<&str> = match command {
            "build" => vec!["build", platform, "--out", out],
            "build --check" => vec!["build", platform, "--out", out, "--check"],
            _ => vec!["diff", platform, "--out", out],
        };
        let result = plat(&args, Some(&self.out));
        match &result {
            Ok(code) => transcript.push(format!("plat {command} -> exit {code}")),
            Err(why) => transcript.push(format!("plat {command} -> {why}")),
        }
        result.map_err(|why| {
            let hung = why.starts_with("hung");
            (format!("plat {command} {why}"), hung)
        })
    }

    /// The hostile build, --check and diff, and property (b).
    fn commands(
        &self,
        variant: Variant,
        transcript: &mut Vec<String>,
    ) -> Result<(), (String, bool)> {
        let plain = |why: String| (why, false);
        let built = self.plat("build", transcript)?;
        let checked = self.plat("build --check", transcript)?;
        self.plat("diff", transcript)?;
        if built == 0 && checked != 0 {
            return Err(plain(format!(
                "build and --check disagree: build exited 0, then --check exited {checked}"
            )));
        }
        if checked == 0 {
            let reference = reference(variant).map_err(plain)?;
            self.matches(&reference).map_err(|why| {
                plain(format!(
                    "--check exited 0 but out/ is not what the sources make: {why}"
                ))
            })?;
        }
        if built == 0 {
            // A build that succeeded leaves nothing for the next one to do.
            let before = snapshot(&self.out, None).map_err(plain)?;
            let again = self.plat("build", transcript)?;
            let after = snapshot(&self.out, None).map_err(plain)?;
            if again != 0 {
                return Err(plain(format!(
                    "a build after a successful build exited {again}"
                )));
            }
            if let Some(change) = first_difference(&before, &after) {
                return Err(plain(format!(
                    "a build after a successful build was not a no-op: {change}"
                )));
            }
        }
        Ok(())
    }

    /// Whether out/ holds exactly `reference`'s lock and, at each path the lock lists, a
    /// regular file (under real directories) with the generated bytes.
    fn matches(&self, reference: &Reference) -> Result<(), String> {
        let lock = fs::read(self.lock()).map_err(|e| format!("plat.lock: {e}"))?;
        if lock != reference.lock.as_bytes() {
            return Err(format!(
                "plat.lock is not the generated lock:\n{}",
                String::from_utf8_lossy(&lock)
            ));
        }
        for (path, bytes) in &reference.files {
            let mut full = self.out.clone();
            for component in path.split('/') {
                full.push(component);
                let metadata = fs::symlink_metadata(&full).map_err(|e| format!("{path}: {e}"))?;
                let wanted_directory = full != self.out.join(path);
                let kind = metadata.file_type();
                if (wanted_directory && !kind.is_dir()) || (!wanted_directory && !kind.is_file()) {
                    return Err(format!("{} is a {}", full.display(), kind_name(kind)));
                }
            }
            if fs::read(&full).map_err(|e| format!("{path}: {e}"))? != *bytes {
                return Err(format!("{path} does not hold the generated bytes"));
            }
        }
        Ok(())
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.keep.get() {
            remove_tree(&self.tmp);
        }
    }
}

/// A new empty directory under the system's temporary directory.
fn scratch(what: &str) -> Result<PathBuf, String> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static STALE: std::sync::Once = std::sync::Once::new();
    // The references live as long as their process, and a hung scenario's directory is kept:
    // the first scratch directory of a process removes those of processes that are gone.
    STALE.call_once(remove_stale_scratch);
    let dir = std::env::temp_dir().join(format!(
        "plat-hostile-{}-{what}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    remove_tree(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Canonical, so that absolute paths in locks and the victims' paths agree.
    dir.canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Removes the scratch directories (`plat-hostile-PID-*`) of processes that have ended.
fn remove_stale_scratch() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("plat-hostile-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                remove_tree(&entry.path());
            }
        }
    }
}

/// Removes `dir`, first making every directory in it writable again (a scenario may have made
/// one read-only). Links are not followed.
fn remove_tree(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
    let _ = fs::remove_dir_all(dir);
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let relative = entry
            .path()
            .strip_prefix(from)
            .map_err(std::io::Error::other)?;
        let target = to.join(relative);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn path_str(path: &Path) -> &str {
    // The scratch directories are made of UTF-8 names.
    path.to_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Running plat

/// Runs `plat ARGS` in-process on a worker thread: the exit code, or why there is none (a
/// panic, or a hang past [`HANG_LIMIT`]). After a hang, the FIFOs under `out` are opened from
/// this side so that a thread blocked opening one can finish.
pub fn plat(args: &[&str], out: Option<&Path>) -> Result<u8, String> {
    let argv: Vec<String> = ["plat", "--color", "never"]
        .iter()
        .copied()
        .chain(args.iter().copied())
        .map(String::from)
        .collect();
    let cli = plat::cli::Cli::try_parse_from(&argv).map_err(|e| format!("bad arguments: {e}"))?;
    // One command at a time in this process, so that its peak memory is its own.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = lock_ignoring_poison(&ONE_AT_A_TIME);
    reset_peak_memory();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| plat::cli::run(cli));
        let _ = send.send(result);
    });
    match receive.recv_timeout(HANG_LIMIT) {
        Ok(Ok(code)) => match peak_memory() {
            Some(peak) if peak > MEMORY_LIMIT => Err(format!(
                "exited {} but held {} MiB at its peak (more than {} MiB: reading a file \
                 without bound?)",
                exit_code(code),
                peak >> 20,
                MEMORY_LIMIT >> 20
            )),
            _ => Ok(exit_code(code)),
        },
        Ok(Err(payload)) => Err(format!("panicked: {}", panic_message(payload.as_ref()))),
        Err(_) => {
            if let Some(out) = out {
                release_fifos(out);
            }
            Err(format!("hung: no exit after {} s", HANG_LIMIT.as_secs()))
        }
    }
}

/// The most memory this process may hold at its peak while one plat command runs: the
/// scenarios' platforms make a few hundred KiB of files, so even a generous limit tells a
/// command that reads a file without bound (a link to `/dev/zero`) from one that does not.
pub const MEMORY_LIMIT: u64 = 1 << 30;

/// Resets the peak resident size of this process (`VmHWM`, Linux's `clear_refs` value 5).
fn reset_peak_memory() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident size of this process since the last reset, in bytes (`VmHWM`).
fn peak_memory() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib << 10)
}

/// The number in an `ExitCode`, which has no accessor: compared with each possible one.
fn exit_code(code: std::process::ExitCode) -> u8 {
    (0..=255u8)
        .find(|&n| std::process::ExitCode::from(n) == code)
        .unwrap_or(255)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Opens every FIFO under `out` for reading and for writing without blocking, a few times, so
/// that a thread blocked opening one (as reader or writer) wakes up and sees its end.
fn release_fifos(out: &Path) {
    // O_NONBLOCK on Linux; std has no name for it and the workspace has no libc.
    const NONBLOCK: i32 = 0o4000;
    use std::os::unix::fs::FileTypeExt;
    for _ in 0..20 {
        for entry in walkdir::WalkDir::new(out).into_iter().flatten() {
            if entry.file_type().is_fifo() {
                let open = |read: bool| {
                    fs::OpenOptions::new()
                        .read(read)
                        .write(!read)
                        .custom_flags(NONBLOCK)
                        .open(entry.path())
                };
                let reader = open(true);
                let writer = open(false);
                std::thread::sleep(Duration::from_millis(10));
                drop((reader, writer));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Lowers this process's address-space limit (`prlimit`, soft limit only) so that reading
/// `/dev/zero` to the end fails with an allocation error instead of taking the machine's
/// memory. Once per process; best effort (without `prlimit` nothing changes).
pub fn guard_memory(bytes: u64) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::process::Command::new("prlimit")
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--as={bytes}:"))
            .status();
    });
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// One entry of a tree, as compared before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    File {
        mode: u32,
        bytes: Vec<u8>,
        modified: Option<std::time::SystemTime>,
    },
    Directory {
        mode: u32,
    },
    Symlink {
        target: PathBuf,
    },
    Other {
        kind: String,
        mode: u32,
    },
}

/// Every entry under `root` (relative paths), without following links; `skip` (the out/ of a
/// workspace) is left out with everything under it. File modification times are recorded only
/// inside out/ (`skip` is `None`): outside it, content is what matters.
fn snapshot(root: &Path, skip: Option<&Path>) -> Result<BTreeMap<PathBuf, Entry>, String> {
    let mut entries = BTreeMap::new();
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| Some(entry.path()) != skip);
    for entry in walk {
        let entry = entry.map_err(|e| format!("walking {}: {e}", root.display()))?;
        let path = entry.path();
        let metadata =
            fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mode = metadata.permissions().mode();
        let kind = metadata.file_type();
        let value = if kind.is_symlink() {
            Entry::Symlink {
                target: fs::read_link(path).map_err(|e| format!("{}: {e}", path.display()))?,
            }
        } else if kind.is_dir() {
            Entry::Directory { mode }
        } else if kind.is_file() {
            // Read only when readable: a scenario never makes a file unreadable, but a build
            // could; then the mode tells.
            Entry::File {
                mode,
                bytes: fs::read(path).unwrap_or_default(),
                modified: if skip.is_none() {
                    metadata.modified().ok()
                } else {
                    None
                },
            }
        } else {
            // FIFOs and devices are never opened: that could block.
            Entry::Other {
                kind: kind_name(kind),
                mode,
            }
        };
        let relative = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        entries.insert(relative, value);
    }
    Ok(entries)
}

fn kind_name(kind: fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    let name = if kind.is_symlink() {
        "symlink"
    } else if kind.is_dir() {
        "directory"
    } else if kind.is_file() {
        "regular file"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else {
        "device"
    };
    name.to_string()
}

/// The first path that differs between two snapshots, described.
fn first_difference(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
) -> Option<String> {
    for (path, entry) in before {
        match after.get(path) {
            None => return Some(format!("{} was deleted", path.display())),
            Some(now) if now != entry => {
                return Some(format!(
                    "{} changed: {} -> {}",
                    path.display(),
                    describe(entry),
                    describe(now)
                ))
            }
            Some(_) => {}
        }
    }
    after
        .keys()
        .find(|path| !before.contains_key(*path))
        .map(|path| {
            format!(
                "{} was created ({})",
                path.display(),
                describe(&after[path])
            )
        })
}

fn describe(entry: &Entry) -> String {
    match entry {
        Entry::File {
            mode,
            bytes,
            modified,
        } => format!(
            "regular file {mode:o} of {} bytes {:?}{}",
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)]),
            modified.map_or(String::new(), |m| format!(" modified {m:?}"))
        ),
        Entry::Directory { mode } => format!("directory {mode:o}"),
        Entry::Symlink { target } => format!("symlink to {}", target.display()),
        Entry::Other { kind, mode } => format!("{kind} {mode:o}"),
    }
}

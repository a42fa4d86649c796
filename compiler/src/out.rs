//! The out/ tree: what plat owns there, how it is written, and how drift is detected.
//!
//! The safety model (docs/ARCHITECTURE.md, "out/ safety"):
//! - plat owns exactly the files listed in `out/plat.lock`; any other file under out/ is the
//!   operator's and is never modified or deleted. Every path plat writes, reads or deletes is
//!   a plain relative path below out/ ([`path::check`]), whether it came from an emitter, the
//!   lock or the journal; anything else is refused before the disk is touched.
//! - Every operation goes through directory handles that never follow links ([`handle`]): a
//!   symbolic link, FIFO, device or directory where plat expects a regular file (or a
//!   directory) is an obstacle that the build refuses and `--check` reports, never a place
//!   plat reads or writes through. Files are read only when regular, with a size bound.
//! - An owned file that is no longer generated is deleted only when its content still has the
//!   hash the lock recorded; one changed by hand is left in place and disowned.
//! - A first build (out/ does not exist) writes into a hidden directory beside out/
//!   ([`NewTree`]) and renames it into place: out/ appears whole or not at all.
//! - A rebuild stages every new file in `out/.plat-stage/`, writes the rebuild's intent to
//!   `out/.plat-journal` (the commit point), then moves the files into place, deletes, and
//!   installs the new lock. The next run first finishes a journaled rebuild (roll forward) or
//!   removes an uncommitted stage (roll back), so a crash at any instant leaves, once
//!   recovered, the old tree or the new one. `--check` and `plat diff` refuse a tree with a
//!   pending journal.
//! - Unchanged files are not rewritten (their bytes and modification times stay).
//! - Two builds on the same out/ are refused (`out/.plat-build.lock`, taken before anything
//!   else, the no-op check included).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::emit::{Files, Sink};
use crate::parallel::locked;

mod fault;
pub mod handle;
mod journal;
pub mod path;

use handle::{Dir, Found, Walker};

/// The compiler a lock records: its version and the fingerprint of its sources (`build.rs`),
/// so that a changed compiler is never mistaken for the one that wrote out/.
pub const COMPILER: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("PLAT_COMPILER_FINGERPRINT")
);

/// The lock file's name inside out/.
pub const LOCK: &str = "plat.lock";
const BUILD_LOCK: &str = ".plat-build.lock";
/// The largest `plat.lock` read (a 100,000-application build's lock is about 30 MB).
const MAX_LOCK_BYTES: u64 = 256 << 20;
/// The largest owned file read back; a build never writes a larger one
/// ([`crate::shared::MAX_OUTPUT_BYTES`]).
pub const MAX_FILE_BYTES: u64 = crate::shared::MAX_OUTPUT_BYTES;

/// What `out/plat.lock` records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    /// The compiler version that wrote it.
    pub compiler: String,
    /// blake3 of the sources.
    pub sources: String,
    /// Owned files (plain relative paths below out/) and their blake3 hashes.
    pub files: BTreeMap<String, String>,
    /// Where the sources were, as the build named them: a path relative to the lock's
    /// directory (`../platform`), or absolute when the two share no directory but `/`
    /// ([`source_root`]). `plat explain` and `plat diff` find the sources through it. Only a
    /// hint for commands that read: it is not covered by the digest, and an explicit root
    /// always wins.
    pub root: Option<String>,
    /// The `digest` line as read (blake3 of the `file` lines); [`Lock::render`] always writes
    /// the digest of [`Lock::files`], so a lock with a line removed or added by hand no longer
    /// renders to its own text, and the no-op check ([`Out::matches`]) sees it.
    read_digest: Option<String>,
}

/// Why a `plat.lock` was refused: the line (1-based) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockError {
    /// The line, 1-based (0: the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// True when `text` is a blake3 hash as plat writes it: 64 lowercase hex digits.
fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Lock {
    /// The lock describing `files`.
    pub fn new(sources: String, files: &Files) -> Lock {
        Lock {
            compiler: COMPILER.to_string(),
            sources,
            files: files
                .iter()
                .map(|(path, bytes)| (path.clone(), hash(bytes)))
                .collect(),
            root: None,
            read_digest: None,
        }
    }

    /// This lock, recording `root` as where the sources are ([`Lock::root`]); a root that
    /// a lock line cannot hold ([`check_root`]) is not recorded.
    pub fn with_root(mut self, root: Option<String>) -> Lock {
        self.root = root.filter(|r| check_root(r).is_ok());
        self
    }

    /// The digest of the file list: blake3 over the `file` lines as rendered.
    fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for (path, hash) in &self.files {
            hasher.update(b"file ");
            hasher.update(hash.as_bytes());
            hasher.update(b" ");
            hasher.update(path.as_bytes());
            hasher.update(b"\n");
        }
        hasher.finalize().to_hex().to_string()
    }

    /// The lock's text: one line per fact, sorted, diff-friendly.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# plat.lock: the files plat owns in this directory, with their blake3 hashes.\n",
        );
        out.push_str(
            "# Generated by `plat build`; do not edit. Files not listed here are never touched.\n",
        );
        out.push_str("version 2\n");
        out.push_str(&format!("compiler {}\n", self.compiler));
        out.push_str(&format!("sources {}\n", self.sources));
        if let Some(root) = &self.root {
            out.push_str(&format!("root {root}\n"));
        }
        out.push_str(&format!("digest {}\n", self.digest()));
        for (path, hash) in &self.files {
            out.push_str(&format!("file {hash} {path}\n"));
        }
        out
    }

    /// True when the lock's `digest` line matches its `file` lines (a lock plat wrote and
    /// nobody edited). A lock of version 1 has no digest and is never intact.
    pub fn intact(&self) -> bool {
        self.read_digest.as_deref() == Some(self.digest().as_str())
    }

    /// Parses a lock strictly: a `version` line (1 or 2), one `compiler`, one `sources` and (in
    /// version 2) one `digest` line and at most one `root` line (a path: [`check_root`]),
    /// `file HASH PATH` lines with a blake3 hash and a plain
    /// relative path ([`path::check`]) in strictly increasing order, comments and blank
    /// lines. Anything else is refused with the line and the reason.
    pub fn parse(text: &str) -> Result<Lock, LockError> {
        let mut lock = Lock::default();
        let mut version = None;
        let mut seen = BTreeSet::new();
        let wrong = |line: usize, message: String| LockError { line, message };
        // Lines end at `\n` only: a `\r` stays in the line, and in a path it is refused.
        for (index, line) in text.split('\n').enumerate() {
            let number = index + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (key, rest) = line
                .split_once(' ')
                .ok_or_else(|| wrong(number, format!("`{line}` is not a lock line")))?;
            if key != "file" && !seen.insert(key) {
                return Err(wrong(number, format!("a second `{key}` line")));
            }
            if key != "version" && version.is_none() {
                return Err(wrong(number, "the `version` line must come first".into()));
            }
            match key {
                "version" => match rest {
                    "1" | "2" => version = Some(rest == "2"),
                    _ => {
                        return Err(wrong(
                            number,
                            format!("version {rest} is not one this plat reads"),
                        ))
                    }
                },
                "compiler" => lock.compiler = rest.to_string(),
                "sources" if is_hash(rest) => lock.sources = rest.to_string(),
                "root" if version == Some(true) => {
                    check_root(rest).map_err(|why| {
                        wrong(number, format!("{rest:?} is not a source root: {why}"))
                    })?;
                    lock.root = Some(rest.to_string());
                }
                "digest" if is_hash(rest) && version == Some(true) => {
                    lock.read_digest = Some(rest.to_string())
                }
                "file" => {
                    let (hash, path) = rest
                        .split_once(' ')
                        .ok_or_else(|| wrong(number, "a `file` line is `file HASH PATH`".into()))?;
                    if !is_hash(hash) {
                        return Err(wrong(number, format!("`{hash}` is not a blake3 hash")));
                    }
                    path::check(path).map_err(|why| {
                        wrong(
                            number,
                            format!("{path:?} is not a plain relative path below out/: {why}"),
                        )
                    })?;
                    if lock
                        .files
                        .last_key_value()
                        .is_some_and(|(last, _)| last.as_str() >= path)
                    {
                        return Err(wrong(
                            number,
                            format!("{path:?} is out of order or listed twice"),
                        ));
                    }
                    lock.files.insert(path.to_string(), hash.to_string());
                }
                _ => return Err(wrong(number, format!("`{line}` is not a lock line"))),
            }
        }
        for key in ["version", "compiler", "sources"] {
            if !seen.contains(key) {
                return Err(wrong(0, format!("the `{key}` line is missing")));
            }
        }
        if version == Some(true) && lock.read_digest.is_none() {
            return Err(wrong(0, "the `digest` line is missing".into()));
        }
        Ok(lock)
    }
}

/// The longest `root` a lock records.
const MAX_ROOT: usize = 4096;

/// Refuses a `root` a lock cannot record: empty, longer than 4096 bytes, or with a NUL or
/// another control character (a newline included), or an empty segment (`a//b`).
pub fn check_root(root: &str) -> Result<(), String> {
    if root.is_empty() {
        return Err("it is empty".into());
    }
    if root.len() > MAX_ROOT {
        return Err(format!("it is longer than {MAX_ROOT} bytes"));
    }
    if root.chars().any(char::is_control) {
        return Err("it holds a control character".into());
    }
    if root.trim_start_matches('/').split('/').any(str::is_empty) && root != "/" {
        return Err("it has an empty segment".into());
    }
    Ok(())
}

/// What a lock in `out` records as the source root `root` ([`Lock::root`]): the path from
/// out/ to the root, computed from both paths made absolute (against the working directory,
/// not resolving links; resolving them when a path holds `..`); the absolute root when the two
/// share no directory but `/`. `None` when a path cannot be made absolute or a lock line
/// cannot hold it (not UTF-8, a control character).
pub fn source_root(root: &Path, out: &Path) -> Option<String> {
    use std::path::Component;
    let plain = |path: &Path| -> Option<PathBuf> {
        let absolute = std::path::absolute(path).ok()?;
        if absolute
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        {
            return Some(absolute);
        }
        // `..` (or `.`) left in the path: resolve it, out/ by its parent (it may not exist).
        match (absolute.parent(), absolute.file_name()) {
            (Some(parent), Some(name)) => Some(parent.canonicalize().ok()?.join(name)),
            _ => absolute.canonicalize().ok(),
        }
    };
    let (root, out) = (plain(root)?, plain(out)?);
    let root_parts: Vec<_> = root.components().skip(1).collect();
    let out_parts: Vec<_> = out.components().skip(1).collect();
    let common = root_parts
        .iter()
        .zip(&out_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let text = if common == 0 {
        root.to_str()?.to_string()
    } else {
        let mut parts: Vec<&str> = vec![".."; out_parts.len() - common];
        for part in &root_parts[common..] {
            parts.push(part.as_os_str().to_str()?);
        }
        if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        }
    };
    check_root(&text).ok().map(|()| text)
}

/// The out/ tree `path` is in: the nearest directory at or above `path` holding a
/// `plat.lock` (a regular file), and `path` relative to it (`""` for that directory itself).
/// A relative path is looked for above the working directory too, and the out/ directory is
/// then named absolutely. `None` when no such directory is found.
///
/// The directories are opened from the top down; once one holding a lock is found (inside an
/// out/ tree), each deeper one is opened from its parent's handle without following links, so
/// a link inside out/ never leads to another tree. Above that the path is the operator's, as
/// an `--out` path is. Only whether a lock is there is looked at; nothing is read.
pub fn find(path: &Path) -> Option<(PathBuf, String)> {
    use std::path::Component;
    let components: Vec<Component> = path.components().collect();
    // `start` (kept as it is: `/`, `../..`, or the working directory) and the plain names
    // after it; a candidate is `start` and the first k names.
    let plain_from = components
        .iter()
        .rposition(|c| !matches!(c, Component::Normal(_)))
        .map_or(0, |i| i + 1);
    let mut names: Vec<String> = Vec::new();
    let (start, shown_from) = if plain_from == 0 {
        // A plain relative path: below the working directory, named as given.
        let cwd = std::env::current_dir().ok()?;
        for c in cwd.components().skip(1) {
            names.push(c.as_os_str().to_str()?.to_string());
        }
        (PathBuf::from("/"), names.len())
    } else {
        (components[..plain_from].iter().collect(), 0)
    };
    for c in &components[plain_from..] {
        names.push(c.as_os_str().to_str()?.to_string());
    }
    // How candidate k is named: relative to the working directory when it is at or below it.
    let shown = |k: usize| -> PathBuf {
        if plain_from == 0 && k >= shown_from {
            names[shown_from..k].iter().collect()
        } else {
            let mut p = start.clone();
            p.extend(&names[..k]);
            p
        }
    };
    let mut found = None;
    let mut held: Option<Dir> = None;
    for k in 0..=names.len() {
        let dir = match (found, held.take()) {
            (Some(_), Some(parent)) => match parent.sub(&names[k - 1]) {
                Ok(Found::File(dir)) => dir,
                _ => break,
            },
            _ => {
                let name = shown(k);
                let name = if name.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    name
                };
                match Dir::open(&name) {
                    Ok(Some(dir)) => dir,
                    _ => continue,
                }
            }
        };
        if dir.is_file(LOCK) {
            found = Some(k);
        }
        held = Some(dir);
    }
    let k = found?;
    let out = shown(k);
    let out = if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    };
    Some((out, names[k..].join("/")))
}

/// The source root recorded in the lock of the out/ at `out` ([`Lock::root`]), as a path:
/// an absolute one as it is, a relative one joined to `out` (`out/../platform` named
/// `platform`: out/ is a real directory, so its `..` is its parent; [`Out::open_to_read`]
/// refuses a link). `None` when out/ or its
/// lock does not exist or the lock records no root; an error when the lock is not one plat
/// wrote.
pub fn recorded_root(out: &Path) -> Result<Option<PathBuf>, OutError> {
    let Some(existing) = Out::open_to_read(out)? else {
        return Ok(None);
    };
    let Some(root) = existing.read_lock()?.and_then(|lock| lock.root) else {
        return Ok(None);
    };
    let root = Path::new(&root);
    if root.is_absolute() {
        return Ok(Some(root.to_path_buf()));
    }
    // Only out/'s own `..` is its parent for certain: a directory above it may be a link.
    let joined = match root.strip_prefix("..") {
        Ok(rest) if out.file_name().is_some() => out.parent().unwrap_or(Path::new("")).join(rest),
        _ => out.join(root),
    };
    Ok(Some(if joined.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        joined
    }))
}

/// blake3 of `bytes`, hex.
pub fn hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// What a build did or would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Generated files that do not exist yet.
    pub added: Vec<String>,
    /// Owned files whose content changes (or was edited by hand).
    pub changed: Vec<String>,
    /// Owned files that are no longer generated, still as plat wrote them: deleted.
    pub removed: Vec<String>,
    /// Files whose content is already right.
    pub unchanged: Vec<String>,
    /// Generated paths that exist but are not owned (the operator's files): a conflict.
    pub conflicts: Vec<String>,
    /// Paths plat must read or write where something else stands: a symbolic link, a FIFO, a
    /// device, a directory, or a path through one of those; with what is there, in words.
    /// The build refuses them; plat never follows or replaces them.
    pub obstacles: Vec<(String, String)>,
    /// Owned files that are no longer generated but were changed since plat wrote them (or
    /// replaced by something else): left in place and disowned, with what changed.
    pub kept: Vec<(String, String)>,
    /// The lock file itself differs.
    pub lock_changed: bool,
}

impl Plan {
    /// True when out/ is exactly what the sources produce.
    pub fn is_clean(&self) -> bool {
        self.added.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.conflicts.is_empty()
            && self.obstacles.is_empty()
            && self.kept.is_empty()
            && !self.lock_changed
    }

    /// The plan for an out/ that does not exist: every file is new.
    pub fn all_new(files: &Files) -> Plan {
        Plan {
            added: files.keys().cloned().collect(),
            lock_changed: true,
            ..Plan::default()
        }
    }
}

/// An out/ failure: which path, and why.
#[derive(Debug)]
pub struct OutError {
    /// The path involved.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Refuses a generated path that is not plain: no emitter may name a file outside out/, and
/// this is the last line of defence behind the names' own checks.
fn check_generated(out: &Path, files: &Files) -> Result<(), OutError> {
    for path in files.keys() {
        path::check(path).map_err(|why| OutError {
            path: out.to_path_buf(),
            message: format!("refusing to write {path:?}: {why} (this is a bug in plat)"),
        })?;
    }
    Ok(())
}

/// What opening out/ for a build found left by an interrupted one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovered {
    /// Nothing: the last build finished.
    Nothing,
    /// A rebuild had committed (its journal was written): it was finished.
    RolledForward,
    /// A rebuild had staged files but not committed: they were removed, out/ is as before it.
    RolledBack,
}

/// An existing out/ directory, open for a build (holding the build lock) or for reading.
pub struct Out {
    path: PathBuf,
    dir: Arc<Dir>,
    _build_lock: Option<BuildLock>,
    recovered: Recovered,
}

impl Out {
    /// Opens the existing out/ at `path` to build into it: takes the build lock, then finishes
    /// a rebuild that committed but did not finish, or removes one that did not commit.
    /// `None` when out/ does not exist (a first build: [`NewTree`]).
    pub fn open_for_build(path: &Path) -> Result<Option<Out>, OutError> {
        let Some(dir) = Dir::open(path)? else {
            return Ok(None);
        };
        let dir = Arc::new(dir);
        let build_lock = BuildLock::acquire(&dir)?;
        let recovered = journal::recover(&dir)?;
        Ok(Some(Out {
            path: path.to_path_buf(),
            dir,
            _build_lock: Some(build_lock),
            recovered,
        }))
    }

    /// Opens the existing out/ at `path` to read it (`--check`, `plat diff`): refused while an
    /// interrupted rebuild waits to be finished, since the tree may then be half old, half
    /// new. `None` when out/ does not exist.
    pub fn open_to_read(path: &Path) -> Result<Option<Out>, OutError> {
        let Some(dir) = Dir::open(path)? else {
            return Ok(None);
        };
        if dir.exists(journal::JOURNAL) {
            return Err(OutError {
                path: dir.path_of(journal::JOURNAL),
                message: "an interrupted build left out/ between the old tree and the new one; run `plat build` to finish it".into(),
            });
        }
        Ok(Some(Out {
            path: path.to_path_buf(),
            dir: Arc::new(dir),
            _build_lock: None,
            recovered: Recovered::Nothing,
        }))
    }

    /// What opening found of an interrupted build.
    pub fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// The current lock, if any; an error when it is not a lock plat wrote.
    pub fn read_lock(&self) -> Result<Option<Lock>, OutError> {
        Ok(self.lock_file()?.map(|(_, lock)| lock))
    }

    /// The current lock's bytes as they are on disk (what `--check` compares byte for byte)
    /// and as parsed, read once.
    fn lock_file(&self) -> Result<Option<(Vec<u8>, Lock)>, OutError> {
        let bytes = match self.dir.read(LOCK, MAX_LOCK_BYTES)? {
            Found::Missing => return Ok(None),
            Found::File(bytes) => bytes,
            Found::Obstacle(what) => {
                return Err(OutError {
                    path: self.dir.path_of(LOCK),
                    message: format!("is {what}, not a lock file plat wrote; move it away"),
                })
            }
            Found::TooBig(size) => {
                return Err(OutError {
                    path: self.dir.path_of(LOCK),
                    message: format!("is {size} bytes, more than a lock can be; move it away"),
                })
            }
        };
        let refused = |message: String| {
            OutError {
            path: self.dir.path_of(LOCK),
            message: format!("{message}; this is not a lock plat wrote (fix or remove the line, or move the file away to start over)"),
        }
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| refused("is not UTF-8".into()))?;
        let lock = Lock::parse(text).map_err(|e| refused(e.to_string()))?;
        Ok(Some((bytes, lock)))
    }

    /// True when out/ holds exactly what a build by `compiler` of sources hashing to `sources`
    /// and found at `root` ([`Lock::root`]) would write: the lock is intact, was written for
    /// those, and every owned file still has its recorded hash. Any doubt answers false, and
    /// the full build decides (and repairs).
    pub fn matches(&self, compiler: &str, sources: &str, root: Option<&str>) -> bool {
        let Ok(Some((text, lock))) = self.lock_file() else {
            return false;
        };
        if lock.compiler != compiler
            || lock.sources != sources
            || lock.root.as_deref() != root
            || !lock.intact()
        {
            return false;
        }
        // The lock must be exactly what a build writes, byte for byte, as `--check` demands
        // (`Plan::lock_changed`): a blank or comment line added by hand parses, but is drift.
        if text != lock.render().as_bytes() {
            return false;
        }
        let owned: Vec<(&String, &String)> = lock.files.iter().collect();
        crate::parallel::in_runs(&owned, 1, |run| {
            let mut buffer = vec![0; 64 << 10];
            let mut walker = Walker::new(&self.dir);
            run.iter().all(|(path, expected)| {
                matches!(walker.hash(path, &mut buffer),
                    Ok(Found::File(hash)) if hash.to_hex().as_str() == expected.as_str())
            })
        })
        .into_iter()
        .all(|unchanged| unchanged)
    }

    /// Compares `files` (and `lock`, the lock that describes them) with what is in out/.
    pub fn plan(&self, files: &Files, lock: &Lock) -> Result<Plan, OutError> {
        check_generated(&self.path, files)?;
        let (old_text, old) = self.lock_file()?.unwrap_or_default();
        let generated: Vec<(&String, &Vec<u8>)> = files.iter().collect();
        // Each file's verdict, in path order whatever the threads do.
        let verdicts = crate::parallel::in_runs(&generated, 1, |run| {
            let mut walker = Walker::new(&self.dir);
            run.iter()
                .map(|(path, bytes)| {
                    let owned = old.files.contains_key(*path);
                    Ok(match walker.read(path, bytes.len() as u64)? {
                        Found::File(existing) if existing == **bytes && owned => Verdict::Unchanged,
                        // Same bytes but not yet listed: the lock will adopt it.
                        Found::File(existing) if existing == **bytes => Verdict::Added,
                        Found::File(_) | Found::TooBig(_) if owned => Verdict::Changed,
                        Found::File(_) | Found::TooBig(_) => Verdict::Conflict,
                        Found::Missing => Verdict::Added,
                        Found::Obstacle(what) => Verdict::Obstacle(what),
                    })
                })
                .collect::<Result<Vec<_>, OutError>>()
        });
        let mut plan = Plan::default();
        for (verdict, (path, _)) in verdicts
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .zip(&generated)
        {
            let path = (*path).clone();
            match verdict {
                Verdict::Unchanged => plan.unchanged.push(path),
                Verdict::Added => plan.added.push(path),
                Verdict::Changed => plan.changed.push(path),
                Verdict::Conflict => plan.conflicts.push(path),
                Verdict::Obstacle(what) => plan.obstacles.push((path, what)),
            }
        }
        let mut walker = Walker::new(&self.dir);
        let mut buffer = vec![0; 64 << 10];
        for (path, expected) in &old.files {
            if files.contains_key(path) {
                continue;
            }
            match walker.hash(path, &mut buffer)? {
                Found::Missing => {}
                Found::File(hash) if hash.to_hex().as_str() == expected => {
                    plan.removed.push(path.clone())
                }
                Found::File(_) | Found::TooBig(_) => plan
                    .kept
                    .push((path.clone(), "changed since plat wrote it".into())),
                Found::Obstacle(what) => plan.kept.push((path.clone(), format!("now {what}"))),
            }
        }
        // No lock at all reads as empty bytes, which no rendered lock is.
        plan.lock_changed = old_text != lock.render().as_bytes();
        Ok(plan)
    }

    /// Writes `files` according to `plan`, then the lock: staged, journaled, then moved into
    /// place (`journal`). Refuses a plan with conflicts or obstacles.
    pub fn write(&self, files: &Files, plan: &Plan, lock: &Lock) -> Result<(), OutError> {
        check_generated(&self.path, files)?;
        if let Some((path, what)) = plan.obstacles.first() {
            return Err(OutError {
                path: self.path.join(path),
                message: format!("{what}; plat never writes through or replaces it"),
            });
        }
        if let Some(path) = plan.conflicts.first() {
            return Err(OutError {
                path: self.path.join(path),
                message: "exists but plat does not own it (it is not in plat.lock)".into(),
            });
        }
        if plan.added.is_empty()
            && plan.changed.is_empty()
            && plan.removed.is_empty()
            && !plan.lock_changed
        {
            return Ok(());
        }
        let old = self.read_lock()?.unwrap_or_default();
        // The lock has hashed every file already; the journal records the same hashes.
        let puts: Vec<(&str, &[u8], String)> = plan
            .added
            .iter()
            .chain(&plan.changed)
            .map(|path| {
                let bytes = files[path].as_slice();
                let recorded = lock.files.get(path).cloned();
                (
                    path.as_str(),
                    bytes,
                    recorded.unwrap_or_else(|| hash(bytes)),
                )
            })
            .collect();
        let deletes: Vec<(&str, &str)> = plan
            .removed
            .iter()
            .filter_map(|path| Some((path.as_str(), old.files.get(path)?.as_str())))
            .collect();
        journal::rebuild(&self.dir, &puts, &deletes, &lock.render())
    }

    /// The owned file at `path` (relative to out/), read back for `plat diff` or `explain`:
    /// `None` when it does not exist, an error when something other than a regular file is
    /// there.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, OutError> {
        path::check(path).map_err(|why| OutError {
            path: self.path.join(path),
            message: why,
        })?;
        match Walker::new(&self.dir).read(path, MAX_FILE_BYTES)? {
            Found::File(bytes) => Ok(Some(bytes)),
            Found::Missing => Ok(None),
            Found::Obstacle(what) => Err(OutError {
                path: self.path.join(path),
                message: format!("is {what}; plat reads only regular files"),
            }),
            Found::TooBig(size) => Err(OutError {
                path: self.path.join(path),
                message: format!("is {size} bytes, more than plat ever writes"),
            }),
        }
    }
}

/// One generated file compared with out/.
enum Verdict {
    Unchanged,
    Added,
    Changed,
    Conflict,
    Obstacle(String),
}

/// Compares `files` with what is in `out` (for reading: `--check`, `plat diff`); every file
/// is new when out/ does not exist.
pub fn plan(out: &Path, files: &Files, lock: &Lock) -> Result<Plan, OutError> {
    match Out::open_to_read(out)? {
        Some(existing) => existing.plan(files, lock),
        None => {
            check_generated(out, files)?;
            Ok(Plan::all_new(files))
        }
    }
}

/// Writes `files` into `out` according to `plan`, then the lock: a first build through a
/// [`NewTree`], a rebuild through [`Out::write`] (after recovering an interrupted one).
pub fn write(out: &Path, files: &Files, plan: &Plan, lock: &Lock) -> Result<(), OutError> {
    match Out::open_for_build(out)? {
        Some(existing) => existing.write(files, plan, lock),
        None => write_new(out, files, lock),
    }
}

/// The owned file at `path` in the out/ at `out` ([`Out::read`]); `None` when out/ or the
/// file does not exist.
pub fn read(out: &Path, path: &str) -> Result<Option<Vec<u8>>, OutError> {
    match Out::open_to_read(out)? {
        Some(existing) => existing.read(path),
        None => Ok(None),
    }
}

/// Writes a whole new out/ (it does not exist yet) from `files`, through a [`NewTree`].
fn write_new(out: &Path, files: &Files, lock: &Lock) -> Result<(), OutError> {
    check_generated(out, files)?;
    let tree = NewTree::create(out, u64::MAX)?.with_root(lock.root.clone());
    let paths: Vec<&String> = files.keys().collect();
    in_parallel(&paths, |path| {
        let bytes = &files[*path];
        // The lock has hashed every file already.
        tree.write_with(path, bytes, || {
            lock.files
                .get(*path)
                .cloned()
                .unwrap_or_else(|| hash(bytes))
        });
        Ok(())
    })?;
    match tree.finish(lock.sources.clone()) {
        Ok(_) => Ok(()),
        Err(Unfinished::Failed(error)) => Err(error),
        Err(Unfinished::TooBig(total)) => Err(OutError {
            path: out.to_path_buf(),
            message: format!("{total} bytes are more than a tree can hold"),
        }),
    }
}

/// A new out/ being written (out/ does not exist yet): each file goes into a hidden sibling
/// directory, `.NAME.plat-new.PID`, as soon as it is put, and [`NewTree::finish`] writes the
/// lock and renames the directory to out/ (refusing to replace anything that appeared there
/// meanwhile). So out/ appears complete, lock included, or not at all, and its files need no
/// temporary names of their own (a rename per file was a third of the time of writing 30,000
/// files on tmpfs); and a first build never holds all its files in memory, only those being
/// made. A build that fails or stops removes the directory; one that is killed leaves it, and
/// it is safe to delete. Files and directories are created through handles of the new tree's
/// own directories ([`handle`]), each path checked plain first.
///
/// Files may be put from several threads in any order: the lock is sorted by path, and every
/// path is put once (a second file at the same path is a bug, reported by `finish`).
pub struct NewTree {
    out: PathBuf,
    staging: PathBuf,
    root: Arc<Dir>,
    limit: u64,
    /// Bytes put so far, written or not.
    total: AtomicU64,
    /// What the writing threads share; each file takes the lock once (and once more for a
    /// new directory), for a lookup and a push.
    shared: Mutex<Shared>,
    /// Set at the first failure; nothing is written after it.
    failed: AtomicBool,
    /// The first failure.
    error: Mutex<Option<OutError>>,
    /// The source root the lock records ([`Lock::root`]).
    source_root: Option<String>,
    finished: bool,
}

#[derive(Default)]
struct Shared {
    /// Every file put, with its blake3 hash, in the order put (sorted by `finish`).
    hashes: Vec<(String, String)>,
    /// Directories (relative to out/) known to exist in the new tree, open.
    directories: BTreeMap<String, Arc<Dir>>,
}

/// Why [`NewTree::finish`] wrote no out/.
#[derive(Debug)]
pub enum Unfinished {
    /// The files put hold this many bytes, more than the limit.
    TooBig(u64),
    /// Writing failed.
    Failed(OutError),
}

impl NewTree {
    /// Starts a new tree for `out`, which is refused later if more than `limit` bytes are put.
    pub fn create(out: &Path, limit: u64) -> Result<NewTree, OutError> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let parent = out.parent().unwrap_or(Path::new("."));
        let staging = parent.join(format!(".{name}.plat-new.{}", std::process::id()));
        // A directory of this name is a leftover of a killed build that had this process id
        // (`remove_dir_all` removes a link itself, never what it points to).
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging).map_err(|e| OutError {
            path: staging.clone(),
            message: e.to_string(),
        })?;
        let root = match Dir::open(&staging)? {
            Some(dir) => Arc::new(dir),
            None => return Err(handle::error(&staging, rustix::io::Errno::NOENT)),
        };
        Ok(NewTree {
            out: out.to_path_buf(),
            staging,
            root,
            limit,
            total: AtomicU64::new(0),
            shared: Mutex::default(),
            failed: AtomicBool::new(false),
            error: Mutex::default(),
            source_root: None,
            finished: false,
        })
    }

    /// This tree, its lock recording `root` as where the sources are ([`Lock::with_root`]).
    pub fn with_root(mut self, root: Option<String>) -> NewTree {
        self.source_root = root.filter(|r| check_root(r).is_ok());
        self
    }

    /// Writes the file at `path` (relative to out/) into the tree, unless the tree is already
    /// over its limit or has failed: then the file is only counted.
    pub fn write(&self, path: &str, bytes: &[u8]) {
        self.write_with(path, bytes, || hash(bytes));
    }

    /// [`NewTree::write`], with the file's hash from `hash` (when the caller has it already).
    fn write_with(&self, path: &str, bytes: &[u8], hash: impl FnOnce() -> String) {
        let total = self.total.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if total + bytes.len() as u64 > self.limit || self.failed.load(Ordering::Relaxed) {
            return;
        }
        let result = path::check(path)
            .map_err(|why| OutError {
                path: self.out.clone(),
                message: format!("refusing to write {path:?}: {why} (this is a bug in plat)"),
            })
            .and_then(|()| {
                let entry = (path.to_string(), hash());
                let (directory, name) = path.rsplit_once('/').unwrap_or(("", path));
                let known = {
                    let mut shared = locked(&self.shared);
                    shared.hashes.push(entry);
                    shared.directories.get(directory).cloned()
                };
                let dir = match known {
                    Some(dir) => dir,
                    None => self.directory(directory)?,
                };
                dir.create(name, bytes)
            });
        if let Err(error) = result {
            self.failed.store(true, Ordering::Relaxed);
            locked(&self.error).get_or_insert(error);
        }
    }

    /// The open directory `directory` (relative to out/; "" is the root) of the new tree,
    /// created with its parents as needed. Created outside the lock: two threads creating the
    /// same directory is harmless.
    fn directory(&self, directory: &str) -> Result<Arc<Dir>, OutError> {
        if directory.is_empty() {
            return Ok(self.root.clone());
        }
        let parent = match directory.rsplit_once('/') {
            Some((parent, _)) => parent,
            None => "",
        };
        let known = locked(&self.shared).directories.get(parent).cloned();
        let parent_dir = match known {
            Some(dir) => dir,
            None => self.directory(parent)?,
        };
        let name = directory
            .rsplit_once('/')
            .map_or(directory, |(_, name)| name);
        let dir = Arc::new(parent_dir.sub_or_create(name)?);
        locked(&self.shared)
            .directories
            .insert(directory.to_string(), dir.clone());
        Ok(dir)
    }

    /// Writes the lock (this compiler, `sources`, every file's hash) and moves the tree into
    /// place as out/. Returns the number of files (the lock not counted).
    pub fn finish(mut self, sources: String) -> Result<usize, Unfinished> {
        let total = self.total.load(Ordering::Relaxed);
        if total > self.limit {
            return Err(Unfinished::TooBig(total));
        }
        if let Some(error) = locked(&self.error).take() {
            return Err(Unfinished::Failed(error));
        }
        let hashes = std::mem::take(&mut locked(&self.shared).hashes);
        let count = hashes.len();
        let files: BTreeMap<String, String> = hashes.into_iter().collect();
        if files.len() != count {
            return Err(Unfinished::Failed(OutError {
                path: self.out.clone(),
                message: "two generated files have the same path (this is a bug in plat)".into(),
            }));
        }
        let lock = Lock {
            compiler: COMPILER.to_string(),
            sources,
            files,
            root: self.source_root.take(),
            read_digest: None,
        };
        self.root
            .create(LOCK, lock.render().as_bytes())
            .map_err(Unfinished::Failed)?;
        // NOREPLACE: an out/ that appeared meanwhile (a directory, a link, a file) is never
        // replaced; the build fails instead.
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            &self.staging,
            rustix::fs::CWD,
            &self.out,
            rustix::fs::RenameFlags::NOREPLACE,
        )
        .map_err(|e| {
            Unfinished::Failed(OutError {
                path: self.out.clone(),
                message: format!(
                    "cannot move the new tree into place ({}); did another build create it meanwhile?",
                    std::io::Error::from(e)
                ),
            })
        })?;
        self.finished = true;
        Ok(count)
    }
}

impl Sink for NewTree {
    fn put(&self, path: String, bytes: Vec<u8>) {
        self.write(&path, &bytes);
    }
}

impl Drop for NewTree {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Runs `f` on every item, over one thread per core ([`crate::parallel::in_runs`]: creating,
/// hashing and renaming files is mostly kernel CPU time). The error reported is the first one
/// in item order, whatever the scheduling.
fn in_parallel<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Result<(), OutError> + Sync,
) -> Result<(), OutError> {
    crate::parallel::in_runs(items, 1, |run| run.iter().try_for_each(&f))
        .into_iter()
        .collect()
}

/// Refuses a second concurrent build on the same out/ (released on drop).
struct BuildLock {
    dir: Arc<Dir>,
}

impl BuildLock {
    fn acquire(dir: &Arc<Dir>) -> Result<BuildLock, OutError> {
        let pid = format!("{}\n", std::process::id());
        for _ in 0..2 {
            if dir.create_if_absent(BUILD_LOCK, pid.as_bytes())? {
                return Ok(BuildLock { dir: dir.clone() });
            }
            // A lock left by a build that died (its process is gone) is taken over.
            let holder = match dir.read(BUILD_LOCK, 64)? {
                Found::File(bytes) => String::from_utf8_lossy(&bytes).trim().parse::<u32>().ok(),
                Found::Missing => continue,
                Found::Obstacle(what) => {
                    return Err(OutError {
                        path: dir.path_of(BUILD_LOCK),
                        message: format!("is {what}, not plat's build lock; move it away"),
                    })
                }
                Found::TooBig(_) => None,
            };
            let alive = holder.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if alive || !Path::new("/proc/self").exists() {
                return Err(OutError {
                    path: dir.path_of(BUILD_LOCK),
                    message: format!(
                        "another plat build is running on this directory (process {}); wait for it, or delete this file if it is stale",
                        holder.map_or("unknown".to_string(), |p| p.to_string())
                    ),
                });
            }
            dir.remove_file(BUILD_LOCK)?;
        }
        Err(OutError {
            path: dir.path_of(BUILD_LOCK),
            message: "cannot take the build lock".into(),
        })
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        let _ = self.dir.remove_file(BUILD_LOCK);
    }
}

#[cfg(test)]
mod tests;

//! Rebuilds that are old-or-new at any instant: stage, commit an intent, apply; and the
//! recovery the next run makes before anything else.
//!
//! A rebuild (out/ exists) goes:
//! 1. every new or changed file is written into `out/.plat-stage/` under its position in the
//!    journal (`0`, `1`, ...), and the new lock as `lock`;
//! 2. the journal, `out/.plat-journal`, is written under a temporary name, the file system is
//!    synced, and the journal is renamed into place: the commit point;
//! 3. the staged files are renamed to their paths, owned files no longer generated are
//!    deleted (when still as plat wrote them), the lock is renamed to `plat.lock`, the stage
//!    directory is removed, and last the journal.
//!
//! A crash before 2 leaves the old tree and a stage without a journal: [`recover`] removes
//! the stage (roll back). A crash after 2 leaves a journal: [`recover`] applies it again, which
//! is idempotent: a staged file already moved is checked in place by its hash, a deleted file
//! is already gone (roll forward). Either way the tree is then the old one or the new one. A
//! failure before the commit (a full disk, say) removes what it staged; one after it leaves
//! the journal for the next run to finish, and `--check` refuses the tree until then.

use super::handle::{Dir, Found, Walker};
use super::{hash, is_hash, path, OutError, Recovered, LOCK, MAX_FILE_BYTES, MAX_LOCK_BYTES};

/// The journal's name in out/: present exactly while a committed rebuild is unfinished.
pub const JOURNAL: &str = ".plat-journal";
/// The journal being written, before the commit.
const JOURNAL_NEW: &str = ".plat-journal.new";
/// The staging directory in out/.
const STAGE: &str = ".plat-stage";
/// The new lock's name in the stage.
const STAGED_LOCK: &str = "lock";

/// A rebuild's intent.
#[derive(Debug, PartialEq, Eq)]
struct Journal {
    /// Files to move into place: the k-th is staged as `k`, with its blake3 hash.
    puts: Vec<(String, String)>,
    /// Owned files to delete, when they still have this hash.
    deletes: Vec<(String, String)>,
    /// The hash of the new lock's text.
    lock: String,
}

impl Journal {
    fn render(&self) -> String {
        let mut text = String::from(
            "# plat journal: a rebuild of this directory that committed and may not have finished.\n\
             # The next `plat build` finishes it before anything else. Do not edit.\n\
             version 1\n",
        );
        for (path, hash) in &self.puts {
            text.push_str(&format!("put {hash} {path}\n"));
        }
        for (path, hash) in &self.deletes {
            text.push_str(&format!("delete {hash} {path}\n"));
        }
        text.push_str(&format!("lock {}\nend\n", self.lock));
        text
    }

    /// Parses a journal strictly (it is input like the lock: every path plain, every hash a
    /// hash, `end` last); `None` when it is not one plat wrote.
    fn parse(text: &str) -> Option<Journal> {
        let mut lines = text.split('\n').filter(|l| !l.starts_with('#'));
        if lines.next()? != "version 1" {
            return None;
        }
        let mut journal = Journal {
            puts: Vec::new(),
            deletes: Vec::new(),
            lock: String::new(),
        };
        let mut ended = false;
        for line in lines {
            if ended {
                if line.is_empty() {
                    continue;
                }
                return None;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "put" | "delete" => {
                    let (hash, path) = rest.split_once(' ')?;
                    if !is_hash(hash) || path::check(path).is_err() {
                        return None;
                    }
                    let list = if key == "put" {
                        &mut journal.puts
                    } else {
                        &mut journal.deletes
                    };
                    list.push((path.to_string(), hash.to_string()));
                }
                "lock" if is_hash(rest) => journal.lock = rest.to_string(),
                "end" if rest.is_empty() && !journal.lock.is_empty() => ended = true,
                _ => return None,
            }
        }
        ended.then_some(journal)
    }
}

/// Rebuilds the out/ open at `dir`: writes `puts` (path, bytes, their hash as the lock records
/// it), deletes `deletes` (path, recorded hash) when unchanged, and installs `lock_text` as
/// the lock, old-or-new at any instant (the module's doc). The caller holds the build lock and has recovered.
pub fn rebuild(
    dir: &Dir,
    puts: &[(&str, &[u8], String)],
    deletes: &[(&str, &str)],
    lock_text: &str,
) -> Result<(), OutError> {
    let journal = Journal {
        puts: puts
            .iter()
            .map(|(path, _, hash)| (path.to_string(), hash.clone()))
            .collect(),
        deletes: deletes
            .iter()
            .map(|(path, hash)| (path.to_string(), hash.to_string()))
            .collect(),
        lock: hash(lock_text.as_bytes()),
    };
    if let Err(error) = stage_and_commit(dir, puts, lock_text, &journal) {
        // Not committed: nothing of this build may remain. A failure to clean up is reported
        // after the first error, which is what the operator must fix (a full disk, say).
        let _ = dir.remove_file(JOURNAL_NEW);
        let _ = discard_stage(dir);
        return Err(error);
    }
    apply(dir, &journal)
}

/// Steps 1 and 2: the staged files, the journal, the commit.
fn stage_and_commit(
    dir: &Dir,
    puts: &[(&str, &[u8], String)],
    lock_text: &str,
    journal: &Journal,
) -> Result<(), OutError> {
    let stage = dir.sub_or_create(STAGE)?;
    let numbered: Vec<(usize, &[u8])> = puts
        .iter()
        .enumerate()
        .map(|(k, (_, bytes, _))| (k, *bytes))
        .collect();
    super::in_parallel(&numbered, |(k, bytes)| stage.create(&k.to_string(), bytes))?;
    stage.create(STAGED_LOCK, lock_text.as_bytes())?;
    dir.create(JOURNAL_NEW, journal.render().as_bytes())?;
    // Everything staged is on disk before the journal says it is there.
    dir.sync_file_system()?;
    dir.rename(JOURNAL_NEW, dir, JOURNAL)?;
    dir.sync()
}

/// Step 3, and the roll forward: idempotent, so a crash inside it is repaired by running it
/// again.
fn apply(dir: &Dir, journal: &Journal) -> Result<(), OutError> {
    let stage = match dir.sub(STAGE)? {
        Found::File(stage) => Some(stage),
        Found::Missing => None,
        Found::Obstacle(what) => return Err(refused(dir, STAGE, &what)),
        Found::TooBig(_) => None,
    };
    let numbered: Vec<(usize, &(String, String))> = journal.puts.iter().enumerate().collect();
    crate::parallel::in_runs(&numbered, 1, |run| {
        let mut walker = Walker::new(dir);
        let mut buffer = vec![0; 64 << 10];
        run.iter().try_for_each(|(k, (path, expected))| {
            let staged = k.to_string();
            if let Some(stage) = stage.as_ref().filter(|stage| stage.exists(&staged)) {
                let (target, name) = match walker.parent(path, true)? {
                    Found::File(found) => found,
                    Found::Obstacle(what) => return Err(refused(dir, path, &what)),
                    _ => return Err(refused(dir, path, "missing")),
                };
                return stage.rename(&staged, target, name);
            }
            // Moved before a crash: it must be in place, with its hash.
            match walker.hash(path, &mut buffer)? {
                Found::File(hash) if hash.to_hex().as_str() == expected => Ok(()),
                _ => Err(refused(
                    dir,
                    path,
                    "neither staged nor in place as the journal says",
                )),
            }
        })
    })
    .into_iter()
    .collect::<Result<(), OutError>>()?;
    let mut walker = Walker::new(dir);
    let mut buffer = vec![0; 64 << 10];
    for (path, expected) in &journal.deletes {
        // A file changed since plat wrote it stays (the plan reported it as kept).
        walker.remove_if(path, expected, &mut buffer)?;
    }
    match stage.as_ref().filter(|stage| stage.exists(STAGED_LOCK)) {
        Some(stage) => stage.rename(STAGED_LOCK, dir, LOCK)?,
        None => match dir.read(LOCK, MAX_LOCK_BYTES)? {
            Found::File(text) if hash(&text) == journal.lock => {}
            _ => return Err(refused(dir, LOCK, "not the lock the journal names")),
        },
    }
    discard_stage(dir)?;
    dir.remove_file(JOURNAL)?;
    Ok(())
}

/// Finishes or undoes what an interrupted rebuild left in the out/ open at `dir` (the caller
/// holds the build lock).
pub fn recover(dir: &Dir) -> Result<Recovered, OutError> {
    if dir.exists(JOURNAL) {
        let text = match dir.read(JOURNAL, MAX_FILE_BYTES)? {
            Found::File(bytes) => String::from_utf8(bytes).ok(),
            Found::Obstacle(what) => return Err(refused(dir, JOURNAL, &what)),
            _ => None,
        };
        let Some(journal) = text.as_deref().and_then(Journal::parse) else {
            return Err(refused(dir, JOURNAL, "not a journal plat wrote"));
        };
        apply(dir, &journal)?;
        return Ok(Recovered::RolledForward);
    }
    if dir.exists(STAGE) || dir.exists(JOURNAL_NEW) {
        dir.remove_file(JOURNAL_NEW)?;
        discard_stage(dir)?;
        return Ok(Recovered::RolledBack);
    }
    Ok(Recovered::Nothing)
}

/// Removes the stage directory and the regular files in it (plat puts nothing else there; a
/// link or a directory inside is refused, not followed).
fn discard_stage(dir: &Dir) -> Result<(), OutError> {
    let stage = match dir.sub(STAGE)? {
        Found::File(stage) => stage,
        Found::Missing => return Ok(()),
        Found::Obstacle(what) => return Err(refused(dir, STAGE, &what)),
        Found::TooBig(_) => return Ok(()),
    };
    for (name, file_type) in stage.entries()? {
        if file_type != rustix::fs::FileType::RegularFile {
            return Err(refused(&stage, &name, "not a file plat staged"));
        }
        stage.remove_file(&name)?;
    }
    dir.remove_empty_dir(STAGE);
    Ok(())
}

/// The error for `name` in `dir` that recovery cannot get past.
fn refused(dir: &Dir, name: &str, what: &str) -> OutError {
    OutError {
        path: dir.path_of(name),
        message: format!(
            "{what}; plat cannot finish or undo the interrupted build here: move it away and run `plat build` again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::Journal;

    #[test]
    fn a_journal_round_trips_and_refuses_anything_else() {
        let h = "0".repeat(64);
        let journal = Journal {
            puts: vec![("a/b".into(), h.clone())],
            deletes: vec![("c".into(), h.clone())],
            lock: h.clone(),
        };
        let text = journal.render();
        assert_eq!(Journal::parse(&text), Some(journal));
        let truncated = text.replace("end\n", "");
        assert_eq!(Journal::parse(&truncated), None);
        let escaping = text.replace(" a/b", " ../victim");
        assert_eq!(Journal::parse(&escaping), None);
        assert_eq!(Journal::parse(""), None);
    }
}

//! Every file-system operation plat makes under out/, relative to directory handles that
//! never follow symbolic links: a directory is opened with `O_DIRECTORY | O_NOFOLLOW` from its
//! parent's handle, a file with `O_NOFOLLOW | O_NONBLOCK` and read only when `fstat` says it
//! is a regular file, a new file with `O_CREAT | O_EXCL | O_NOFOLLOW`, and renames and deletes
//! name one segment inside a held handle (`renameat`, `unlinkat`). So nothing placed under
//! out/ (a link to another directory, a link at a temporary's name, a FIFO, a device) can
//! redirect a write, a delete or a read, and nothing outside out/ is ever named.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use super::fault::Step;

/// An open directory under (or being) out/, and its path for messages.
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// What is at a path plat wants to read.
#[derive(Debug)]
pub enum Found<T> {
    /// Nothing.
    Missing,
    /// Something plat neither reads nor replaces: a symbolic link, a directory, a FIFO, a
    /// device or socket, or a path through one of those. The words say what.
    Obstacle(String),
    /// A regular file larger than the caller's bound (its size).
    TooBig(u64),
    /// A regular file's contents (or what the caller made of them).
    File(T),
}

impl<T> Found<T> {
    /// `f` of a regular file found; whatever else was found passes through unchanged.
    pub fn then<U, E>(self, f: impl FnOnce(T) -> Result<Found<U>, E>) -> Result<Found<U>, E> {
        match self {
            Found::File(file) => f(file),
            Found::Missing => Ok(Found::Missing),
            Found::Obstacle(what) => Ok(Found::Obstacle(what)),
            Found::TooBig(size) => Ok(Found::TooBig(size)),
        }
    }
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::RDONLY);

/// What a non-regular file type is, in words.
fn kind(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Symlink => "a symbolic link",
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Socket => "a socket",
        _ => "not a regular file",
    }
}

/// The error of a failed system call on `path`.
pub fn error(path: &Path, errno: Errno) -> super::OutError {
    super::OutError {
        path: path.to_path_buf(),
        message: std::io::Error::from(errno).to_string(),
    }
}

impl Dir {
    /// Opens the directory at `path` (the out/ directory itself, as the operator named it):
    /// `None` when nothing is there. A symbolic link there is refused like any other: plat
    /// writes only into a real directory.
    pub fn open(path: &Path) -> Result<Option<Dir>, super::OutError> {
        match rustix::fs::open(path, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Some(Dir {
                fd,
                path: path.to_path_buf(),
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP | Errno::NOTDIR) => Err(super::OutError {
                path: path.to_path_buf(),
                message: "is not a directory (a symbolic link or a file); plat writes only into a real directory".into(),
            }),
            Err(e) => Err(error(path, e)),
        }
    }

    /// The path of `name` in this directory, for messages.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The subdirectory `name`: `Found::Missing` when absent, `Found::Obstacle` when something
    /// else is there (a symbolic link to a directory included).
    pub fn sub(&self, name: &str) -> Result<Found<Dir>, super::OutError> {
        match rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Found::File(Dir {
                fd,
                path: self.path.join(name),
            })),
            Err(Errno::NOENT) => Ok(Found::Missing),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let what = self.kind_of(name).unwrap_or("not a directory");
                Ok(Found::Obstacle(format!("{what} where a directory belongs")))
            }
            Err(e) => Err(error(&self.path.join(name), e)),
        }
    }

    /// The subdirectory `name`, created when missing.
    pub fn sub_or_create(&self, name: &str) -> Result<Dir, super::OutError> {
        super::fault::point(&self.path.join(name), Step::Create)?;
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(error(&self.path.join(name), e)),
        }
        match self.sub(name)? {
            Found::File(dir) => Ok(dir),
            Found::Obstacle(what) => Err(super::OutError {
                path: self.path.join(name),
                message: format!("is {what}; plat never follows links in out/"),
            }),
            _ => Err(error(&self.path.join(name), Errno::NOENT)),
        }
    }

    /// What kind of non-regular file `name` is, when it is one.
    fn kind_of(&self, name: &str) -> Option<&'static str> {
        let stat = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        let file_type = FileType::from_raw_mode(stat.st_mode);
        (file_type != FileType::RegularFile).then(|| kind(file_type))
    }

    /// Opens the regular file `name` to read, if that is what is there.
    fn open_regular(&self, name: &str) -> Result<Found<(std::fs::File, u64)>, super::OutError> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Found::Missing),
            Err(Errno::LOOP) => return Ok(Found::Obstacle(kind(FileType::Symlink).into())),
            Err(Errno::NXIO) => return Ok(Found::Obstacle(kind(FileType::Socket).into())),
            Err(e) => return Err(error(&self.path.join(name), e)),
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| error(&self.path.join(name), e))?;
        let file_type = FileType::from_raw_mode(stat.st_mode);
        if file_type != FileType::RegularFile {
            return Ok(Found::Obstacle(kind(file_type).into()));
        }
        Ok(Found::File((std::fs::File::from(fd), stat.st_size as u64)))
    }

    /// The contents of the regular file `name`, when it holds at most `limit` bytes.
    pub fn read(&self, name: &str, limit: u64) -> Result<Found<Vec<u8>>, super::OutError> {
        self.open_regular(name)?.then(|(mut file, size)| {
            if size > limit {
                return Ok(Found::TooBig(size));
            }
            // The size can change under us; the bound holds whatever the file does.
            let mut bytes = Vec::with_capacity(size as usize);
            (&mut file)
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| super::OutError {
                    path: self.path.join(name),
                    message: e.to_string(),
                })?;
            if bytes.len() as u64 > limit {
                return Ok(Found::TooBig(bytes.len() as u64));
            }
            Ok(Found::File(bytes))
        })
    }

    /// blake3 of the regular file `name`, in as few system calls as a regular file allows:
    /// `open`, `fstat`, one `read` into `buffer` when the file is smaller than it, `close`.
    pub fn hash(
        &self,
        name: &str,
        buffer: &mut [u8],
    ) -> Result<Found<blake3::Hash>, super::OutError> {
        self.open_regular(name)?.then(|(mut file, _)| {
            let mut hasher = blake3::Hasher::new();
            loop {
                let read = file.read(buffer).map_err(|e| super::OutError {
                    path: self.path.join(name),
                    message: e.to_string(),
                })?;
                hasher.update(&buffer[..read]);
                if read < buffer.len() {
                    return Ok(Found::File(hasher.finalize()));
                }
            }
        })
    }

    /// Creates the file `name`, which must not exist (not even as a link), with `bytes`.
    pub fn create(&self, name: &str, bytes: &[u8]) -> Result<(), super::OutError> {
        match self.create_if_absent(name, bytes)? {
            true => Ok(()),
            false => Err(error(&self.path.join(name), Errno::EXIST)),
        }
    }

    /// [`Dir::create`], answering `false` (and writing nothing) when `name` exists.
    pub fn create_if_absent(&self, name: &str, bytes: &[u8]) -> Result<bool, super::OutError> {
        use std::io::Write;
        super::fault::point(&self.path.join(name), Step::Create)?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o666)) {
            Ok(fd) => fd,
            Err(Errno::EXIST) => return Ok(false),
            Err(e) => return Err(error(&self.path.join(name), e)),
        };
        // No fsync per file: a rebuild syncs the file system once before it commits
        // (`journal`), and an fsync per file made a 30,000-file build take minutes.
        std::fs::File::from(fd)
            .write_all(bytes)
            .map_err(|e| super::OutError {
                path: self.path.join(name),
                message: e.to_string(),
            })?;
        Ok(true)
    }

    /// Moves `from` in this directory to `to` in `target`, replacing a file there.
    pub fn rename(&self, from: &str, target: &Dir, to: &str) -> Result<(), super::OutError> {
        super::fault::point(&target.path.join(to), Step::Change)?;
        rustix::fs::renameat(&self.fd, from, &target.fd, to)
            .map_err(|e| error(&target.path.join(to), e))
    }

    /// Moves `from` in this directory to `to` in `target`, which must not exist.
    pub fn rename_new(&self, from: &str, target: &Dir, to: &str) -> Result<(), super::OutError> {
        super::fault::point(&target.path.join(to), Step::Change)?;
        rustix::fs::renameat_with(&self.fd, from, &target.fd, to, RenameFlags::NOREPLACE)
            .map_err(|e| error(&target.path.join(to), e))
    }

    /// Deletes the file (or link) `name`; `false` when it was not there.
    pub fn remove_file(&self, name: &str) -> Result<bool, super::OutError> {
        super::fault::point(&self.path.join(name), Step::Change)?;
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(error(&self.path.join(name), e)),
        }
    }

    /// True when a regular file (not a link to one) is at `name`.
    pub fn is_file(&self, name: &str) -> bool {
        rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile)
    }

    /// True when something (of any type, a link included) is at `name`.
    pub fn exists(&self, name: &str) -> bool {
        rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// Deletes the directory `name` if it is empty; `false` when it is not (or is missing).
    pub fn remove_empty_dir(&self, name: &str) -> bool {
        if super::fault::point(&self.path.join(name), Step::Change).is_err() {
            return false;
        }
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).is_ok()
    }

    /// The names in this directory with their types, sorted.
    pub fn entries(&self) -> Result<Vec<(String, FileType)>, super::OutError> {
        let fd = rustix::fs::openat(&self.fd, ".", DIR_FLAGS, Mode::empty())
            .map_err(|e| error(&self.path, e))?;
        let mut entries = Vec::new();
        for entry in rustix::fs::Dir::read_from(&fd).map_err(|e| error(&self.path, e))? {
            let entry = entry.map_err(|e| error(&self.path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                entries.push((name, entry.file_type()));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// Flushes the whole file system this directory is on (`syncfs`): what was written
    /// before is on disk after.
    pub fn sync_file_system(&self) -> Result<(), super::OutError> {
        rustix::fs::syncfs(&self.fd).map_err(|e| error(&self.path, e))
    }

    /// Flushes this directory's entries (a rename into it is on disk after).
    pub fn sync(&self) -> Result<(), super::OutError> {
        rustix::fs::fsync(&self.fd).map_err(|e| error(&self.path, e))
    }
}

/// Walks sorted paths below one root directory, keeping the chain of directories of the last
/// path open, so that a run of paths in the same directory opens it once.
pub struct Walker<'r> {
    root: &'r Dir,
    /// The open directories of the last path, outermost first, with their names.
    chain: Vec<(String, Dir)>,
}

impl<'r> Walker<'r> {
    /// A walker below `root`.
    pub fn new(root: &'r Dir) -> Walker<'r> {
        Walker {
            root,
            chain: Vec::new(),
        }
    }

    /// The directory that holds `path` (a checked plain relative path) and the file's name in
    /// it, creating missing directories when `create`. `Found::Missing` when a directory is
    /// missing (and not created), `Found::Obstacle` when something else is in a directory's
    /// place.
    pub fn parent<'p>(
        &mut self,
        path: &'p str,
        create: bool,
    ) -> Result<Found<(&Dir, &'p str)>, super::OutError> {
        let (directories, name) = match path.rsplit_once('/') {
            Some((directories, name)) => (directories.split('/').collect::<Vec<_>>(), name),
            None => (Vec::new(), path),
        };
        let common = self
            .chain
            .iter()
            .zip(&directories)
            .take_while(|((open, _), wanted)| open == *wanted)
            .count();
        self.chain.truncate(common);
        for (index, &segment) in directories.iter().enumerate().skip(common) {
            let parent = self.chain.last().map_or(self.root, |(_, dir)| dir);
            let dir = if create {
                parent.sub_or_create(segment)?
            } else {
                match parent.sub(segment)? {
                    Found::File(dir) => dir,
                    Found::Missing => return Ok(Found::Missing),
                    Found::Obstacle(what) => {
                        let at = directories[..=index].join("/");
                        return Ok(Found::Obstacle(format!("{at} is {what}")));
                    }
                    Found::TooBig(size) => return Ok(Found::TooBig(size)),
                }
            };
            self.chain.push((segment.to_string(), dir));
        }
        let dir = self.chain.last().map_or(self.root, |(_, dir)| dir);
        Ok(Found::File((dir, name)))
    }

    /// The regular file at `path` (a checked plain relative path), when it holds at most
    /// `limit` bytes ([`Dir::read`]).
    pub fn read(&mut self, path: &str, limit: u64) -> Result<Found<Vec<u8>>, super::OutError> {
        self.parent(path, false)?
            .then(|(dir, name)| dir.read(name, limit))
    }

    /// blake3 of the regular file at `path` ([`Dir::hash`]).
    pub fn hash(
        &mut self,
        path: &str,
        buffer: &mut [u8],
    ) -> Result<Found<blake3::Hash>, super::OutError> {
        self.parent(path, false)?
            .then(|(dir, name)| dir.hash(name, buffer))
    }

    /// Deletes the file at `path` if its blake3 hash is `expected`, then every directory it was
    /// in that is left empty. Returns what was there when it was not deleted.
    pub fn remove_if(
        &mut self,
        path: &str,
        expected: &str,
        buffer: &mut [u8],
    ) -> Result<Found<()>, super::OutError> {
        let (dir, name) = match self.parent(path, false)? {
            Found::File(found) => found,
            // Not reached for a file: only what was found instead passes through.
            other => return other.then(|_| Ok(Found::Missing)),
        };
        let found = match dir.hash(name, buffer)? {
            Found::File(hash) if hash.to_hex().as_str() == expected => {
                dir.remove_file(name)?;
                Found::File(())
            }
            Found::File(_) | Found::TooBig(_) => {
                return Ok(Found::Obstacle("changed since plat wrote it".into()))
            }
            Found::Obstacle(what) => return Ok(Found::Obstacle(what)),
            // Already gone (a rebuild finished after a crash): its directories may remain.
            Found::Missing => Found::Missing,
        };
        // Empty directories go, innermost first, each through its parent's handle.
        while let Some((name, _)) = self.chain.pop() {
            let parent = self.chain.last().map_or(self.root, |(_, dir)| dir);
            if !parent.remove_empty_dir(&name) {
                break;
            }
        }
        self.chain.clear();
        Ok(found)
    }
}

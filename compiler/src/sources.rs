//! Finding and reading `.plat` sources on disk: the only place the front end touches the
//! file system. Implements [`plat_lang::load::Loader`] with the import sandbox: paths stay
//! under the project root after resolving symlinks, and only regular UTF-8 files without
//! NUL bytes are read.

use std::path::{Path, PathBuf};

use std::io::Read;

use plat_lang::load::{LoadError, Loader, MAX_FILE_BYTES};

/// The sources of one run: a root directory and the root files in it.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project root (canonical).
    pub root: PathBuf,
    /// Root-relative paths (`/`-separated) of the files whose entities form the platform,
    /// sorted.
    pub files: Vec<String>,
}

/// Why a project could not be opened.
#[derive(Debug)]
pub enum ProjectError {
    /// The path does not exist or cannot be read.
    Io(PathBuf, std::io::Error),
    /// A directory without any `.plat` file.
    NoSources(PathBuf),
    /// A file that is not a `.plat` file.
    NotPlat(PathBuf),
}

impl std::fmt::Display for ProjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectError::Io(path, error) => write!(f, "cannot read {}: {error}", path.display()),
            ProjectError::NoSources(path) => {
                write!(f, "{} contains no .plat files", path.display())
            }
            ProjectError::NotPlat(path) => write!(f, "{} is not a .plat file", path.display()),
        }
    }
}

impl Project {
    /// A file (root = its directory) or a directory (every `.plat` file below it).
    pub fn open(path: &Path) -> Result<Project, ProjectError> {
        let metadata =
            std::fs::metadata(path).map_err(|e| ProjectError::Io(path.to_path_buf(), e))?;
        if metadata.is_file() {
            if path.extension().is_none_or(|e| e != "plat") {
                return Err(ProjectError::NotPlat(path.to_path_buf()));
            }
            let canonical = path
                .canonicalize()
                .map_err(|e| ProjectError::Io(path.to_path_buf(), e))?;
            let root = canonical
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            let name = canonical
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(Project {
                root,
                files: vec![name],
            });
        }
        let root = path
            .canonicalize()
            .map_err(|e| ProjectError::Io(path.to_path_buf(), e))?;
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(&root)
            .follow_links(false)
            .sort_by_file_name();
        for entry in walker
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        {
            let entry = entry.map_err(|e| ProjectError::Io(root.clone(), e.into()))?;
            // A symbolic link named `.plat` is a source like a file at its path: the loader
            // reads it when it resolves inside the root and reports it otherwise
            // (`import::outside-root`, `import::not-found`, `import::not-a-file`), as for an
            // import. Links to directories are not followed.
            let file_type = entry.file_type();
            if (file_type.is_file() || file_type.is_symlink())
                && entry.path().extension().is_some_and(|e| e == "plat")
            {
                let relative = entry.path().strip_prefix(&root).expect("below root");
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(parts.join("/"));
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(ProjectError::NoSources(path.to_path_buf()));
        }
        Ok(Project { root, files })
    }
}

/// Reads files under a root, refusing anything that leaves it.
pub struct FsLoader {
    root: PathBuf,
}

impl FsLoader {
    /// A loader for `root` (canonical).
    pub fn new(root: PathBuf) -> FsLoader {
        FsLoader { root }
    }
}

impl Loader for FsLoader {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        let full = self.root.join(path);
        let canonical = match full.canonicalize() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::NotFound),
            Err(e) => return Err(LoadError::Io(e.to_string())),
        };
        if !canonical.starts_with(&self.root) {
            return Err(LoadError::OutsideRoot);
        }
        let metadata = std::fs::metadata(&canonical).map_err(|e| LoadError::Io(e.to_string()))?;
        if !metadata.is_file() {
            return Err(LoadError::NotAFile);
        }
        if metadata.len() > MAX_FILE_BYTES {
            return Err(LoadError::TooLarge);
        }
        // Read at most one byte more than the limit: the file may have grown since.
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        std::fs::File::open(&canonical)
            .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| LoadError::Io(e.to_string()))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(LoadError::TooLarge);
        }
        if bytes.contains(&0) {
            return Err(LoadError::NulByte);
        }
        String::from_utf8(bytes).map_err(|_| LoadError::InvalidUtf8)
    }
}

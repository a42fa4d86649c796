//! Deterministic fault injection for the writer's tests: every step that changes the disk
//! calls [`point`] first. In a test process started with `PLAT_FAULT=crash:N` the N-th step
//! (counting from 0) aborts the process on the spot, as `kill -9` would (no destructor, no
//! clean-up); with `PLAT_FAULT=nospace:N` the N-th step and every later one that needs space
//! (a new file or directory; not a rename or a delete) fail with `ENOSPC`, as a full disk
//! would. Outside `cfg(test)` [`point`] does nothing and costs nothing.

/// What a step does to the disk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Creates a file or directory: needs space.
    Create,
    /// Renames or deletes: needs none.
    Change,
}

use std::path::Path;

/// Called before each step that changes the disk at `path`.
#[cfg(test)]
pub fn point(path: &Path, what: Step) -> Result<(), super::OutError> {
    use armed::Fault;
    let Some(fault) = armed::fault() else {
        return Ok(());
    };
    let step = armed::next();
    match fault {
        Fault::Crash(at) if step == at => std::process::abort(),
        Fault::NoSpace(at) if step >= at && what == Step::Create => {
            Err(super::handle::error(path, rustix::io::Errno::NOSPC))
        }
        _ => Ok(()),
    }
}

/// Called before each step that changes the disk at `path` (nothing outside tests).
#[cfg(not(test))]
#[inline(always)]
pub fn point(_path: &Path, _what: Step) -> Result<(), super::OutError> {
    Ok(())
}

/// The fault a test process asked for, and the steps counted so far.
#[cfg(test)]
mod armed {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// What `PLAT_FAULT` asks for.
    #[derive(Clone, Copy)]
    pub enum Fault {
        Crash(u64),
        NoSpace(u64),
    }

    pub fn fault() -> Option<Fault> {
        static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
        *FAULT.get_or_init(|| {
            let spec = std::env::var("PLAT_FAULT").ok()?;
            let (kind, at) = spec.split_once(':')?;
            let at = at.parse().ok()?;
            match kind {
                "crash" => Some(Fault::Crash(at)),
                "nospace" => Some(Fault::NoSpace(at)),
                _ => None,
            }
        })
    }

    /// Steps taken so far in this process.
    pub static STEPS: AtomicU64 = AtomicU64::new(0);

    pub fn next() -> u64 {
        STEPS.fetch_add(1, Ordering::SeqCst)
    }
}

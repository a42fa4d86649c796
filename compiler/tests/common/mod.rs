//! What the binary's end-to-end tests share: a temporary project holding the small test
//! platform (`cli/network.plat`, `cli/vms.plat`), and running the real `plat` in it. Each test
//! file adds the views of the project it needs in its own `impl Project` block.

use std::path::PathBuf;
use std::process::{Command, Output};

pub const NETWORK: &str = include_str!("../cli/network.plat");
pub const VMS: &str = include_str!("../cli/vms.plat");

/// A temporary project: `platform/` with the test platform, `out/` once built.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let project = Project {
            dir: tempfile::tempdir().expect("temporary directory"),
        };
        project.write("platform/network.plat", NETWORK);
        project.write("platform/vms.plat", VMS);
        project
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// Runs plat in the project directory, without colours.
    pub fn plat(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_plat"))
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run plat")
    }
}

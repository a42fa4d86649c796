//! Which paths plat may write or delete under out/: plain relative paths, checked the same way
//! wherever one comes from (an emitter, `plat.lock`, the rebuild journal).

/// The longest path plat accepts below out/ (Linux's `PATH_MAX`).
pub const MAX_PATH: usize = 4096;
/// The longest single segment (Linux's `NAME_MAX`).
pub const MAX_SEGMENT: usize = 255;

/// Names in out/'s top directory that are plat's own bookkeeping, never a generated file:
/// the lock, the build lock, the rebuild journal and staging directory. A path whose first
/// segment starts with `.plat-` (or is `plat.lock`) is refused as a file.
pub fn reserved(first_segment: &str) -> bool {
    first_segment == super::LOCK || first_segment.starts_with(".plat-")
}

/// `Ok` when `path` is a plain relative path below out/: `/`-separated segments, none empty,
/// `.` or `..`, none with a backslash, a NUL or another control character, none longer than
/// [`MAX_SEGMENT`], the whole no longer than [`MAX_PATH`], and not one of plat's own names
/// ([`reserved`]). Otherwise why not, in words.
pub fn check(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("the path is longer than {MAX_PATH} bytes"));
    }
    if path.starts_with('/') {
        return Err("the path is absolute".into());
    }
    for (index, segment) in path.split('/').enumerate() {
        match segment {
            "" => return Err("the path has an empty segment (`//` or a trailing `/`)".into()),
            "." | ".." => return Err(format!("the path has a `{segment}` segment")),
            _ => {}
        }
        if segment.len() > MAX_SEGMENT {
            return Err(format!("a segment is longer than {MAX_SEGMENT} bytes"));
        }
        if let Some(c) = segment.chars().find(|&c| c == '\\' || c.is_control()) {
            return Err(format!("the path contains {c:?}"));
        }
        if index == 0 && reserved(segment) {
            return Err(format!("`{segment}` is plat's own bookkeeping, not a file"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_relative_paths_pass() {
        for path in [
            "a",
            "proxmox/pve1/qemu-server/201.conf",
            "kubernetes/main/kubeadm/cp-1.yaml",
            "secrets.required",
            "a/.hidden",
            "a/..b",
            "x/plat.lock",
            "x/.plat-stage",
        ] {
            assert_eq!(check(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        let long_segment = "x".repeat(256);
        let long_path = "a/".repeat(2100) + "b";
        for path in [
            "",
            "/etc/passwd",
            "../victim",
            "a/../../victim",
            "a/./b",
            ".",
            "a//b",
            "a/",
            "a\\..\\b",
            "a\0b",
            "a\nb",
            "a\u{7f}",
            "a\u{85}b",
            long_segment.as_str(),
            long_path.as_str(),
            "plat.lock",
            ".plat-journal",
            ".plat-stage/0",
            ".plat-build.lock",
        ] {
            assert!(check(path).is_err(), "{path:?} was accepted");
        }
    }
}

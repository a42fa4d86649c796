//! The writer's tests: the lock as input, the first build's tree, rebuilds against hostile
//! out/ trees, and crashes and full disks at every step (`fault`).

// A test that cannot run here says why on stderr.
#![allow(clippy::print_stderr)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

#[test]
fn lock_round_trips() {
    let mut files = Files::new();
    files.insert("a/b.txt".into(), b"hello\n".to_vec());
    let lock = Lock::new("a".repeat(64), &files);
    let parsed = Lock::parse(&lock.render()).unwrap();
    assert!(parsed.intact());
    assert_eq!(parsed.render(), lock.render());
    assert!(Lock::parse("nonsense").is_err());
}

/// A lock text with these `file` lines (rendered by hand, as an attacker would).
fn lock_text(lines: &[&str]) -> String {
    let mut text = format!("version 1\ncompiler x\nsources {}\n", "0".repeat(64));
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[test]
fn a_lock_is_parsed_strictly() {
    let h = "a".repeat(64);
    let good = format!("file {h} a/b");
    assert!(Lock::parse(&lock_text(&[&good])).is_ok());
    for bad in [
        format!("file {h} ../victim_rel.txt"),
        format!("file {h} /etc/passwd"),
        format!("file {h} a/../../x"),
        format!("file {h} a//b"),
        format!("file {h} a/b/"),
        format!("file {h} ./a"),
        format!("file {h} a\rb"),
        format!("file {h} plat.lock"),
        format!("file {h} .plat-journal"),
        "file 0000 a/b".to_string(),
        format!("file {} a/b", "A".repeat(64)),
        format!("file {h}"),
        "bogus line".into(),
    ] {
        let error = Lock::parse(&lock_text(&[&bad])).expect_err(&bad);
        assert_eq!(error.line, 4, "{bad}: {error}");
    }
    // Out of order, or twice.
    assert!(Lock::parse(&lock_text(&[
        &format!("file {h} b"),
        &format!("file {h} a")
    ]))
    .is_err());
    assert!(Lock::parse(&lock_text(&[&good, &good])).is_err());
    // Missing or repeated header lines.
    assert!(Lock::parse("version 1\ncompiler x\n").is_err());
    assert!(Lock::parse(&format!("compiler x\nversion 1\nsources {h}\n")).is_err());
    assert!(Lock::parse(&format!("version 1\nversion 1\ncompiler x\nsources {h}\n")).is_err());
    assert!(Lock::parse(&format!("version 3\ncompiler x\nsources {h}\n")).is_err());
    assert!(Lock::parse(&format!("version 2\ncompiler x\nsources {h}\n")).is_err());
}

#[test]
fn a_lock_with_a_line_removed_is_not_intact() {
    let lock = Lock::new("c".repeat(64), &sample());
    let text = lock.render();
    let line = text.lines().find(|l| l.starts_with("file ")).unwrap();
    let truncated = text.replacen(&format!("{line}\n"), "", 1);
    let parsed = Lock::parse(&truncated).unwrap();
    assert!(!parsed.intact());
    assert_ne!(parsed.render(), truncated);
}

/// A fresh directory under the system's temporary directory, and the `out` path in it.
fn scratch(name: &str) -> (PathBuf, PathBuf) {
    // Tests run on several threads: each call gets its own directory.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("plat-out-{name}-{}-{call}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    (dir, out)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn sample() -> Files {
    (0..40)
        .map(|i| {
            (
                format!("k/ns-{}/f-{i}.yaml", i % 7),
                format!("{i}\n").into_bytes(),
            )
        })
        .chain([("top.txt".to_string(), b"top\n".to_vec())])
        .collect()
}

/// [`sample`] changed every way a rebuild can change it: files changed, added (some in new
/// directories), removed (a whole directory among them).
fn changed_sample() -> Files {
    let mut files = sample();
    files.retain(|path, _| !path.starts_with("k/ns-3/") && !path.ends_with("-7.yaml"));
    for (i, bytes) in files.values_mut().enumerate() {
        if i % 3 == 0 {
            bytes.extend_from_slice(b"changed\n");
        }
    }
    for i in 0..12 {
        files.insert(format!("new/d-{}/g-{i}.yaml", i % 4), vec![b'n'; 100 + i]);
    }
    files
}

/// A first build of `files` into `out`.
fn build(out: &Path, files: &Files, sources: &str) {
    let lock = Lock::new(sources.repeat(64), files);
    let plan = plan(out, files, &lock).unwrap();
    write(out, files, &plan, &lock).unwrap();
}

/// Every entry under `dir` (not following links): path to its kind and contents.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let relative = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let what = if entry.file_type().is_dir() {
            "directory".to_string()
        } else if entry.file_type().is_symlink() {
            format!("link to {}", fs::read_link(entry.path()).unwrap().display())
        } else if entry.file_type().is_file() {
            String::from_utf8_lossy(&fs::read(entry.path()).unwrap()).into_owned()
        } else {
            "special".to_string()
        };
        found.insert(relative, what);
    }
    found
}

/// What [`tree`] finds in an out/ holding exactly `files` and their lock.
fn expected_tree(files: &Files, sources: &str) -> BTreeMap<String, String> {
    let (dir, out) = scratch(&format!("expected-{sources}"));
    build(&out, files, sources);
    let found = tree(&out);
    fs::remove_dir_all(&dir).unwrap();
    found
}

#[test]
fn a_new_tree_written_from_threads_is_what_write_makes() {
    let files = sample();
    let (dir, out) = scratch("new-tree");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    let paths: Vec<&String> = files.keys().rev().collect();
    in_parallel(&paths, |path| {
        tree.put((*path).clone(), files[*path].clone());
        Ok(())
    })
    .unwrap();
    assert_eq!(tree.finish("c".repeat(64)).unwrap(), files.len());
    assert_eq!(entries(&dir), vec!["out"], "the staging directory is gone");
    let lock = Lock::new("c".repeat(64), &files);
    assert_eq!(fs::read_to_string(out.join(LOCK)).unwrap(), lock.render());
    for (path, bytes) in &files {
        assert_eq!(&fs::read(out.join(path)).unwrap(), bytes, "{path}");
    }
    // The in-memory path (`write` into an out/ that does not exist) agrees.
    let (other_dir, other) = scratch("new-tree-write");
    build(&other, &files, "c");
    for path in files.keys().chain([&LOCK.to_string()]) {
        assert_eq!(
            fs::read(out.join(path)).unwrap(),
            fs::read(other.join(path)).unwrap()
        );
    }
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&other_dir).unwrap();
}

#[test]
fn a_new_tree_over_its_limit_counts_every_byte_and_leaves_nothing() {
    let (dir, out) = scratch("new-tree-limit");
    let tree = NewTree::create(&out, 10).unwrap();
    tree.put("a/one".into(), vec![b'x'; 6]);
    tree.put("a/two".into(), vec![b'x'; 6]);
    tree.put("b/three".into(), vec![b'x'; 6]);
    match unfinished(&dir, tree) {
        Unfinished::TooBig(total) => assert_eq!(total, 18),
        other => panic!("{other:?}"),
    }
}

/// Why `tree` does not finish, after checking that it left nothing in `dir` (then removed).
fn unfinished(dir: &Path, tree: NewTree) -> Unfinished {
    let why = tree.finish("c".repeat(64)).expect_err("an unfinished tree");
    assert!(entries(dir).is_empty(), "{:?}", entries(dir));
    fs::remove_dir_all(dir).unwrap();
    why
}

#[test]
fn a_new_tree_refuses_a_path_put_twice_and_leaves_nothing() {
    let (dir, out) = scratch("new-tree-twice");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    tree.put("a/same".into(), b"1".to_vec());
    tree.put("a/same".into(), b"2".to_vec());
    assert!(matches!(unfinished(&dir, tree), Unfinished::Failed(_)));
}

#[test]
fn a_new_tree_refuses_a_path_that_is_not_plain_and_writes_nothing_outside() {
    let (dir, out) = scratch("new-tree-escape");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    tree.put("../victim".into(), b"escaped\n".to_vec());
    tree.put("a/../../victim2".into(), b"escaped\n".to_vec());
    match unfinished(&dir, tree) {
        Unfinished::Failed(error) => assert!(error.message.contains("refusing"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_new_tree_that_cannot_write_reports_the_path_and_leaves_nothing() {
    let (dir, out) = scratch("new-tree-fail");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    tree.put("a".into(), b"a file\n".to_vec());
    // `a` is a file, so nothing can be written below it.
    tree.put("a/b".into(), b"below a file\n".to_vec());
    tree.put("c".into(), b"after the failure\n".to_vec());
    match unfinished(&dir, tree) {
        Unfinished::Failed(error) => assert!(error.path.ends_with("a"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_new_tree_never_replaces_an_out_that_appeared_meanwhile() {
    let (dir, out) = scratch("new-tree-race");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    tree.put("a".into(), b"new\n".to_vec());
    // An empty directory would be replaced by a plain rename(2).
    fs::create_dir(&out).unwrap();
    assert!(tree.finish("c".repeat(64)).is_err());
    assert!(entries(&out).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_tree_dropped_unfinished_removes_its_directory() {
    let (dir, out) = scratch("new-tree-drop");
    let tree = NewTree::create(&out, u64::MAX).unwrap();
    tree.put("a/b".into(), b"x".to_vec());
    assert_eq!(entries(&dir).len(), 1);
    drop(tree);
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hashing_agrees_with_hashing_the_bytes_whatever_the_size() {
    let (dir, _) = scratch("hash-file");
    let root = handle::Dir::open(&dir).unwrap().unwrap();
    let mut buffer = vec![0; 16];
    for size in [0, 1, 15, 16, 17, 32, 100] {
        let bytes: Vec<u8> = (0..size).map(|i| i as u8).collect();
        fs::write(dir.join(format!("f{size}")), &bytes).unwrap();
        match root.hash(&format!("f{size}"), &mut buffer).unwrap() {
            Found::File(hash) => assert_eq!(hash, blake3::hash(&bytes), "{size}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        root.hash("missing", &mut buffer),
        Ok(Found::Missing)
    ));
    fs::remove_dir_all(&dir).unwrap();
}

/// A victim outside out/: a directory with a file, and a file beside out/.
fn victim(dir: &Path) -> (PathBuf, BTreeMap<String, String>) {
    let victim = dir.join("victim");
    fs::create_dir_all(&victim).unwrap();
    fs::write(victim.join("keep.txt"), "the operator's\n").unwrap();
    fs::write(dir.join("victim_rel.txt"), "the operator's too\n").unwrap();
    let before = tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with("out"))
        .collect();
    (victim, before)
}

fn outside(dir: &Path) -> BTreeMap<String, String> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.starts_with("out"))
        .collect()
}

#[test]
fn a_lock_entry_outside_out_is_refused_and_deletes_nothing() {
    let (dir, out) = scratch("lock-escape");
    let files = sample();
    build(&out, &files, "a");
    let (_, before) = victim(&dir);
    let lock_path = out.join(LOCK);
    let text = fs::read_to_string(&lock_path).unwrap();
    let victim_hash = hash(b"the operator's too\n");
    for forged in [
        format!("file {victim_hash} ../victim_rel.txt\n"),
        format!(
            "file {victim_hash} {}\n",
            dir.join("victim_rel.txt").display()
        ),
        "file 0000 ../victim_rel.txt\n".to_string(),
    ] {
        fs::write(&lock_path, format!("{text}{forged}")).unwrap();
        let opened = Out::open_for_build(&out).unwrap().unwrap();
        let error = opened.read_lock().expect_err(&forged);
        assert!(
            error.message.contains("not a plain relative path")
                || error.message.contains("not a blake3"),
            "{error}"
        );
        // Neither the plan nor the no-op check goes ahead.
        let lock = Lock::new("b".repeat(64), &BTreeMap::new());
        assert!(opened.plan(&BTreeMap::new(), &lock).is_err());
        assert!(!opened.matches(COMPILER, &"a".repeat(64), None));
        assert_eq!(outside(&dir), before, "{forged}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_owned_directory_replaced_by_a_link_is_an_obstacle_never_followed() {
    let (dir, out) = scratch("dir-link");
    let files = sample();
    build(&out, &files, "a");
    let (victim, before) = victim(&dir);
    fs::remove_dir_all(out.join("k/ns-1")).unwrap();
    symlink(&victim, out.join("k/ns-1")).unwrap();
    let changed = changed_sample();
    let lock = Lock::new("b".repeat(64), &changed);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    let plan = opened.plan(&changed, &lock).unwrap();
    assert!(
        plan.obstacles
            .iter()
            .any(|(p, what)| p.starts_with("k/ns-1/") && what.contains("symbolic link")),
        "{plan:?}"
    );
    assert!(opened.write(&changed, &plan, &lock).is_err());
    assert!(!opened.matches(COMPILER, &"a".repeat(64), None));
    drop(opened);
    assert_eq!(outside(&dir), before);
    assert!(fs::symlink_metadata(out.join("k/ns-1"))
        .unwrap()
        .file_type()
        .is_symlink());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn links_fifos_and_devices_at_owned_paths_are_obstacles_and_nothing_hangs() {
    let (dir, out) = scratch("special");
    let files = sample();
    build(&out, &files, "a");
    let (victim, before) = victim(&dir);
    let fifo = out.join("k/ns-0/f-0.yaml");
    fs::remove_file(&fifo).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        // Without mkfifo, a link stands in its place (still an obstacle).
        symlink(victim.join("keep.txt"), &fifo).unwrap();
    }
    fs::remove_file(out.join("k/ns-0/f-7.yaml")).unwrap();
    symlink("/dev/zero", out.join("k/ns-0/f-7.yaml")).unwrap();
    fs::remove_file(out.join("top.txt")).unwrap();
    symlink(victim.join("keep.txt"), out.join("top.txt")).unwrap();
    let lock = Lock::new("b".repeat(64), &files);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    assert!(!opened.matches(COMPILER, &"a".repeat(64), None));
    let plan = opened.plan(&files, &lock).unwrap();
    let obstacles: Vec<&str> = plan.obstacles.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        obstacles,
        ["k/ns-0/f-0.yaml", "k/ns-0/f-7.yaml", "top.txt"],
        "{plan:?}"
    );
    assert!(opened.write(&files, &plan, &lock).is_err());
    assert!(opened.read("k/ns-0/f-7.yaml").is_err());
    drop(opened);
    assert_eq!(outside(&dir), before);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_link_at_a_staging_name_is_never_written_through() {
    let (dir, out) = scratch("stage-link");
    let files = sample();
    build(&out, &files, "a");
    let (victim, before) = victim(&dir);
    // The staging directory, and a file in it, planted as links.
    symlink(&victim, out.join(".plat-stage")).unwrap();
    let opened = Out::open_for_build(&out);
    assert!(
        opened.is_err(),
        "a link at the stage's name is refused, not followed"
    );
    fs::remove_file(out.join(".plat-stage")).unwrap();
    fs::create_dir(out.join(".plat-stage")).unwrap();
    symlink(victim.join("keep.txt"), out.join(".plat-stage/0")).unwrap();
    assert!(Out::open_for_build(&out).is_err());
    assert_eq!(outside(&dir), before);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_changed_by_hand_is_never_deleted_only_disowned() {
    let (dir, out) = scratch("kept");
    let files = sample();
    build(&out, &files, "a");
    fs::write(out.join("top.txt"), "the operator's now\n").unwrap();
    let mut fewer = files.clone();
    fewer.remove("top.txt");
    fewer.remove("k/ns-1/f-1.yaml");
    let lock = Lock::new("b".repeat(64), &fewer);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    let plan = opened.plan(&fewer, &lock).unwrap();
    assert_eq!(plan.removed, ["k/ns-1/f-1.yaml"]);
    assert_eq!(plan.kept.len(), 1);
    opened.write(&fewer, &plan, &lock).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("top.txt")).unwrap(),
        "the operator's now\n"
    );
    assert!(!out.join("k/ns-1/f-1.yaml").exists());
    assert!(opened.matches(COMPILER, &"b".repeat(64), None));
    drop(opened);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_lock_is_never_up_to_date_and_a_build_repairs_it() {
    let (dir, out) = scratch("truncated");
    let files = sample();
    build(&out, &files, "a");
    let text = fs::read_to_string(out.join(LOCK)).unwrap();
    let line = text.lines().find(|l| l.ends_with(" top.txt")).unwrap();
    fs::write(out.join(LOCK), text.replace(&format!("{line}\n"), "")).unwrap();
    let lock = Lock::new("a".repeat(64), &files);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    assert!(!opened.matches(COMPILER, &"a".repeat(64), None));
    let plan = opened.plan(&files, &lock).unwrap();
    assert!(!plan.is_clean());
    opened.write(&files, &plan, &lock).unwrap();
    assert!(opened.matches(COMPILER, &"a".repeat(64), None));
    assert!(opened.plan(&files, &lock).unwrap().is_clean());
    drop(opened);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lock_with_a_line_added_that_still_parses_is_never_up_to_date() {
    // Found by the `hostile_out` fuzz target: a blank line or a comment appended to the lock
    // parsed, and the no-op check said "up to date" while `--check` saw the lock differ.
    for added in ["\n", "# a comment\n"] {
        let (dir, out) = scratch("lock-added-line");
        let files = sample();
        build(&out, &files, "a");
        let text = fs::read_to_string(out.join(LOCK)).unwrap();
        fs::write(out.join(LOCK), format!("{text}{added}")).unwrap();
        let lock = Lock::new("a".repeat(64), &files);
        let opened = Out::open_for_build(&out).unwrap().unwrap();
        assert!(
            !opened.matches(COMPILER, &"a".repeat(64), None),
            "{added:?}"
        );
        let plan = opened.plan(&files, &lock).unwrap();
        assert!(plan.lock_changed && !plan.is_clean());
        opened.write(&files, &plan, &lock).unwrap();
        assert!(opened.matches(COMPILER, &"a".repeat(64), None));
        drop(opened);
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_rebuild_is_what_a_first_build_of_the_new_files_makes() {
    let (dir, out) = scratch("rebuild");
    build(&out, &sample(), "a");
    let changed = changed_sample();
    build(&out, &changed, "b");
    assert_eq!(tree(&out), expected_tree(&changed, "b"));
    fs::remove_dir_all(&dir).unwrap();
}

/// Set in the environment of a test process that performs one rebuild for a fault test.
const CHILD: &str = "PLAT_OUT_FAULT_CHILD";

/// The rebuild a fault test interrupts, in a child process ([`rebuild_in_child`]): `sample`
/// to `changed_sample` in the out/ named by [`CHILD`]. Does nothing in a normal test run.
#[test]
fn fault_child() {
    let Ok(out) = std::env::var(CHILD) else {
        return;
    };
    let files = changed_sample();
    let lock = Lock::new("b".repeat(64), &files);
    let result = Out::open_for_build(Path::new(&out)).and_then(|opened| {
        let opened = opened.expect("out/ exists");
        let plan = opened.plan(&files, &lock)?;
        opened.write(&files, &plan, &lock)
    });
    if let Err(error) = result {
        // The parent reads only the exit code.
        let _ = error;
        std::process::exit(3);
    }
}

/// Runs [`fault_child`] on `out` with `PLAT_FAULT=fault`: its exit code, `None` when it was
/// killed (aborted at the fault).
fn rebuild_in_child(out: &Path, fault: &str) -> Option<i32> {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "out::tests::fault_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, out)
        .env("PLAT_FAULT", fault)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    status.code()
}

/// Recovers `out` as the next build would, and returns its tree.
fn recovered(out: &Path) -> BTreeMap<String, String> {
    drop(Out::open_for_build(out).unwrap().unwrap());
    tree(out)
}

#[test]
fn a_rebuild_killed_at_any_step_is_old_or_new_once_recovered() {
    let (old, new) = (
        expected_tree(&sample(), "a"),
        expected_tree(&changed_sample(), "b"),
    );
    let (dir, out) = scratch("crash");
    let (mut olds, mut news) = (0, 0);
    for step in 0.. {
        assert!(step < 2000, "the rebuild never finished");
        let _ = fs::remove_dir_all(&out);
        build(&out, &sample(), "a");
        let code = rebuild_in_child(&out, &format!("crash:{step}"));
        let after = recovered(&out);
        assert!(
            after == old || after == new,
            "killed at step {step}: a mix\n{after:#?}"
        );
        if code.is_some() {
            assert_eq!(code, Some(0), "the rebuild failed at step {step}");
            assert_eq!(after, new);
            break;
        }
        if after == old {
            olds += 1
        } else {
            news += 1
        }
    }
    // Crashes fell on both sides of the commit.
    assert!(olds > 10 && news > 10, "{olds} old, {news} new");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_disk_at_any_step_leaves_the_old_tree_and_nothing_else() {
    let old = expected_tree(&sample(), "a");
    let new = expected_tree(&changed_sample(), "b");
    let (dir, out) = scratch("nospace");
    for step in 0.. {
        assert!(step < 2000, "the rebuild never finished");
        let _ = fs::remove_dir_all(&out);
        build(&out, &sample(), "a");
        let code = rebuild_in_child(&out, &format!("nospace:{step}"));
        if code == Some(0) {
            assert_eq!(tree(&out), new);
            break;
        }
        assert_eq!(code, Some(3), "step {step}");
        if out.join(journal::JOURNAL).exists() {
            // Out of space after the commit: the next build finishes it.
            assert_eq!(recovered(&out), new, "step {step}");
        } else {
            // Before it: nothing of the failed build is left, and nothing claims to be up to
            // date with the new sources.
            assert_eq!(tree(&out), old, "step {step}");
            let opened = Out::open_for_build(&out).unwrap().unwrap();
            assert_eq!(opened.recovered(), &Recovered::Nothing);
            assert!(!opened.matches(COMPILER, &"b".repeat(64), None));
            assert!(opened.matches(COMPILER, &"a".repeat(64), None));
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_tmpfs_leaves_the_old_tree_and_nothing_else() {
    let (dir, out) = scratch("tmpfs");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=256k,nr_inodes=400",
            "plat-test",
            dir.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root and mount rights); the injected ENOSPC test covers the same paths");
        fs::remove_dir_all(&dir).unwrap();
        return;
    }
    let files = sample();
    build(&out, &files, "a");
    let before = tree(&out);
    // Four times the space there is.
    let mut big = files.clone();
    for i in 0..8 {
        big.insert(format!("big/{i}"), vec![b'x'; 128 << 10]);
    }
    let lock = Lock::new("b".repeat(64), &big);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    let plan = opened.plan(&big, &lock).unwrap();
    let error = opened
        .write(&big, &plan, &lock)
        .expect_err("the disk is full");
    assert!(error.message.contains("No space left"), "{error}");
    assert!(!opened.matches(COMPILER, &"b".repeat(64), None));
    drop(opened);
    assert_eq!(tree(&out), before);
    let _ = Command::new("umount").arg(&dir).status();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_read_only_directory_fails_the_rebuild_cleanly() {
    let (dir, out) = scratch("read-only");
    build(&out, &sample(), "a");
    let before = tree(&out);
    fs::set_permissions(out.join("k/ns-2"), fs::Permissions::from_mode(0o555)).unwrap();
    let changed = changed_sample();
    let lock = Lock::new("b".repeat(64), &changed);
    let opened = Out::open_for_build(&out).unwrap().unwrap();
    let plan = opened.plan(&changed, &lock).unwrap();
    // As root the mode does not stop the rebuild; as anyone else it fails after the commit
    // or before it: either way the tree is then old or new.
    let _ = opened.write(&changed, &plan, &lock);
    drop(opened);
    fs::set_permissions(out.join("k/ns-2"), fs::Permissions::from_mode(0o755)).unwrap();
    let after = recovered(&out);
    assert!(after == before || after == expected_tree(&changed, "b"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lock_records_the_source_root_and_refuses_a_bad_one_with_its_line() {
    let lock = Lock::new("a".repeat(64), &sample()).with_root(Some("../platform".into()));
    let text = lock.render();
    assert!(text.contains("\nroot ../platform\n"), "{text}");
    let parsed = Lock::parse(&text).unwrap();
    assert_eq!(parsed.root.as_deref(), Some("../platform"));
    assert!(parsed.intact(), "the root is not part of the digest");
    assert_eq!(parsed.render(), text);
    // Absent: none recorded, and the text has no `root` line.
    let bare = Lock::new("a".repeat(64), &sample());
    assert_eq!(Lock::parse(&bare.render()).unwrap().root, None);
    let h = "0".repeat(64);
    let with =
        |root: &str| format!("version 2\ncompiler x\nsources {h}\nroot {root}\ndigest {h}\n");
    assert!(Lock::parse(&with("/srv/platform")).is_ok());
    for bad in ["", "a\rb", "a\u{0}b", "a//b", "a/\u{1b}[2J"] {
        let error = Lock::parse(&with(bad)).expect_err(bad);
        assert_eq!(error.line, 4, "{bad:?}: {error}");
    }
    let long = "a".repeat(MAX_ROOT + 1);
    assert_eq!(Lock::parse(&with(&long)).unwrap_err().line, 4);
    // Twice, or in a version 1 lock.
    let twice = format!("version 2\ncompiler x\nsources {h}\nroot a\nroot b\ndigest {h}\n");
    assert_eq!(Lock::parse(&twice).unwrap_err().line, 5);
    let old = format!("version 1\ncompiler x\nsources {h}\nroot a\n");
    assert_eq!(Lock::parse(&old).unwrap_err().line, 4);
    // A root no lock line can hold is not recorded.
    let lock = Lock::new("a".repeat(64), &sample()).with_root(Some("a\nfile x y".into()));
    assert_eq!(lock.root, None);
}

#[test]
fn the_source_root_is_the_path_from_out_to_the_sources() {
    let root = |r: &str, o: &str| source_root(Path::new(r), Path::new(o));
    assert_eq!(
        root("/w/platform", "/w/out").as_deref(),
        Some("../platform")
    );
    assert_eq!(root("/w/a/b", "/w/out").as_deref(), Some("../a/b"));
    assert_eq!(
        root("/w/platform", "/w/x/out").as_deref(),
        Some("../../platform")
    );
    assert_eq!(root("/w/out/src", "/w/out").as_deref(), Some("src"));
    assert_eq!(root("/w", "/w").as_deref(), Some("."));
    // Nothing shared but `/`: the absolute root.
    assert_eq!(
        root("/srv/platform", "/tmp/out").as_deref(),
        Some("/srv/platform")
    );
    // Relative paths are taken from the working directory: the same answer.
    assert_eq!(root("platform", "out").as_deref(), Some("../platform"));
    let (dir, _) = scratch("source-root");
    let platform = dir.join("platform");
    fs::create_dir_all(&platform).unwrap();
    // `..` is resolved (out/ need not exist).
    let out = dir.join("platform/../out");
    assert_eq!(source_root(&platform, &out).as_deref(), Some("../platform"));
}

#[test]
fn finding_out_walks_up_to_the_lock_and_never_through_a_link_inside_out() {
    let (dir, _) = scratch("find");
    let out = dir.join("out");
    fs::create_dir_all(out.join("proxmox/pve1")).unwrap();
    fs::write(out.join(LOCK), "version 2\n").unwrap();
    let file = out.join("proxmox/pve1/201.conf");
    assert_eq!(
        find(&file),
        Some((out.clone(), "proxmox/pve1/201.conf".to_string()))
    );
    assert_eq!(find(&out), Some((out.clone(), String::new())));
    // Nothing above holds a lock.
    assert_eq!(find(&dir.join("elsewhere/x")), None);
    // A link inside out/ to a directory with a lock of its own is not followed.
    let other = dir.join("other");
    fs::create_dir_all(other.join("sub")).unwrap();
    fs::write(other.join("sub").join(LOCK), "version 2\n").unwrap();
    symlink(&other, out.join("link")).unwrap();
    assert_eq!(
        find(&out.join("link/sub/a.conf")),
        Some((out.clone(), "link/sub/a.conf".to_string()))
    );
    // A lock that is a link is no lock.
    fs::remove_file(out.join(LOCK)).unwrap();
    symlink(other.join("sub").join(LOCK), out.join(LOCK)).unwrap();
    assert_eq!(find(&file), None);
}

#[test]
fn a_build_whose_source_root_moved_is_no_no_op() {
    let (_dir, out) = scratch("root-moved");
    let files = sample();
    let lock = Lock::new("a".repeat(64), &files).with_root(Some("../platform".into()));
    write(&out, &files, &Plan::all_new(&files), &lock).unwrap();
    let opened = Out::open_to_read(&out).unwrap().unwrap();
    let sources = "a".repeat(64);
    assert!(opened.matches(COMPILER, &sources, Some("../platform")));
    assert!(!opened.matches(COMPILER, &sources, Some("../elsewhere")));
    assert!(!opened.matches(COMPILER, &sources, None));
    assert_eq!(
        recorded_root(&out).unwrap(),
        Some(out.parent().unwrap().join("platform"))
    );
}

//! Unit tests of the file follower and the offset store, on real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use std::fs::OpenOptions;

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn follower(path: &Path, stored: Option<Position>) -> (Follower, Resume) {
    Follower::resume(path.to_path_buf(), stored, 100, 1024).unwrap()
}

/// Reads and commits until idle; returns the complete lines as strings and the switches.
fn drain(f: &mut Follower) -> (Vec<String>, Vec<Switch>) {
    let (mut lines, mut switches) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        match f.next().unwrap() {
            Step::Idle => return (lines, switches),
            Step::Switched(s) => switches.push(s),
            Step::Chunk(c) => {
                for l in c.lines {
                    lines.push(match l {
                        Line::Complete(b) => String::from_utf8(b).unwrap(),
                        Line::TooLong(n) => format!("<{n} bytes>"),
                    });
                }
                f.commit(c.end);
            }
        }
    }
    panic!("never idle");
}

#[test]
fn reads_complete_lines_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "one\r\n\n  \ntwo\nthr");
    let (mut f, how) = follower(&path, None);
    assert_eq!(how, Resume::Fresh);
    assert_eq!(drain(&mut f).0, ["one", "two"]);
    assert_eq!(f.position().unwrap().offset, 13);
    assert_eq!(drain(&mut f).0, Vec::<String>::new(), "partial line waits");
    append(&path, "ee\n");
    assert_eq!(drain(&mut f).0, ["three"]);
    assert_eq!(f.position().unwrap().offset, 19);
}

#[test]
fn uncommitted_lines_are_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "a\nb\n");
    let (mut f, _) = follower(&path, None);
    let Step::Chunk(first) = f.next().unwrap() else {
        panic!()
    };
    let Step::Chunk(again) = f.next().unwrap() else {
        panic!()
    };
    assert_eq!(first.lines, again.lines);
    assert_eq!((again.end, again.bytes), (4, 4));
}

#[test]
fn batches_are_bounded_and_long_lines_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let long = "x".repeat(3000);
    append(&path, &format!("1\n2\n3\n{long}\n4\n"));
    let (mut f, _) = Follower::resume(path.clone(), None, 2, 1024).unwrap();
    let Step::Chunk(c) = f.next().unwrap() else {
        panic!()
    };
    assert_eq!(c.lines.len(), 2, "max_lines");
    f.commit(c.end);
    let Step::Chunk(c) = f.next().unwrap() else {
        panic!()
    };
    assert_eq!(
        c.lines,
        [Line::Complete(b"3".to_vec()), Line::TooLong(3001)]
    );
    f.commit(c.end);
    assert_eq!(drain(&mut f).0, ["4"]);
}

#[test]
fn follows_rotation_without_losing_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "a\nb\n");
    let (mut f, _) = follower(&path, None);
    assert_eq!(drain(&mut f).0, ["a", "b"]);
    // Written after the last read, then rotated the way lumberjack does it: renamed,
    // and a new file created at the same path.
    append(&path, "c\n");
    std::fs::rename(&path, dir.path().join("audit-2024-06-11T09-30-00.000.log")).unwrap();
    append(&path, "d\n");
    let (lines, switches) = drain(&mut f);
    assert_eq!(lines, ["c", "d"]);
    assert_eq!(switches, [Switch::Rotated { abandoned: 0 }]);
    append(&path, "e\n");
    assert_eq!(drain(&mut f).0, ["e"]);
    // Renamed, the new file not created yet: wait on the old one.
    std::fs::rename(&path, dir.path().join("audit-2024-06-11T09-31-00.000.log")).unwrap();
    assert_eq!(drain(&mut f), (vec![], vec![]));
    append(&path, "f\n");
    let (lines, switches) = drain(&mut f);
    assert_eq!(lines, ["f"]);
    assert_eq!(switches, [Switch::Rotated { abandoned: 0 }]);
    assert_eq!(f.position().unwrap().offset, 2);
}

#[test]
fn rotation_abandons_an_unfinished_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "a\npart");
    let (mut f, _) = follower(&path, None);
    assert_eq!(drain(&mut f).0, ["a"]);
    std::fs::rename(&path, dir.path().join("old.log")).unwrap();
    append(&path, "b\n");
    let (lines, switches) = drain(&mut f);
    assert_eq!(lines, ["b"]);
    assert_eq!(switches, [Switch::Rotated { abandoned: 4 }]);
}

#[test]
fn truncation_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "first\nsecond\n");
    let (mut f, _) = follower(&path, None);
    assert_eq!(drain(&mut f).0.len(), 2);
    std::fs::write(&path, "x\n").unwrap();
    let (lines, switches) = drain(&mut f);
    assert_eq!(lines, ["x"]);
    assert_eq!(switches, [Switch::Truncated]);
}

#[test]
fn waits_for_the_file_to_appear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (mut f, how) = follower(&path, None);
    assert_eq!(how, Resume::Fresh);
    assert!(f.position().is_none());
    assert!(matches!(f.next().unwrap(), Step::Idle));
    append(&path, "a\n");
    let (lines, switches) = drain(&mut f);
    assert_eq!(
        (lines, switches),
        (vec!["a".to_string()], vec![Switch::Opened])
    );
}

#[test]
fn resumes_at_the_stored_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "a\nb\n");
    let (mut f, _) = follower(&path, None);
    drain(&mut f);
    let pos = f.position().unwrap();
    append(&path, "c\n");
    let (mut f, how) = follower(&path, Some(pos.clone()));
    assert_eq!(how, Resume::Continued);
    assert_eq!(drain(&mut f).0, ["c"]);
    // A position stored for another path does not apply.
    let other = Position {
        log_path: dir.path().join("other.log"),
        ..pos.clone()
    };
    assert_eq!(follower(&path, Some(other)).1, Resume::Fresh);
    // Nor one past the end of the (truncated) file.
    let beyond = Position {
        offset: 1000,
        ..pos
    };
    let (mut f, how) = follower(&path, Some(beyond));
    assert_eq!(how, Resume::StoredFileGone);
    assert_eq!(drain(&mut f).0, ["a", "b", "c"]);
}

#[test]
fn resume_finishes_the_file_rotated_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    append(&path, "a\n");
    let (mut f, _) = follower(&path, None);
    drain(&mut f);
    let pos = f.position().unwrap();
    drop(f);
    append(&path, "b\n");
    let rotated = dir.path().join("audit-2024-06-11T10-00-00.000.log");
    std::fs::rename(&path, &rotated).unwrap();
    append(&path, "c\n");
    let (mut f, how) = follower(&path, Some(pos.clone()));
    assert_eq!(how, Resume::RotatedFileFound);
    let (lines, switches) = drain(&mut f);
    assert_eq!(lines, ["b", "c"]);
    assert_eq!(switches, [Switch::Rotated { abandoned: 0 }]);
    // Had the old file been deleted, reading starts at the new file's beginning.
    std::fs::remove_file(&rotated).unwrap();
    let (mut f, how) = follower(&path, Some(pos));
    assert_eq!(how, Resume::StoredFileGone);
    assert_eq!(drain(&mut f).0, ["c"]);
}

#[test]
fn offset_store_round_trips_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::new(dir.path(), "k8s_audit/prod cluster");
    assert_eq!(
        store.path(),
        dir.path().join("k8s_audit_prod_cluster.offset.json")
    );
    assert_eq!(store.load().unwrap(), None);
    let pos = Position {
        log_path: "/var/log/kubernetes/audit/audit.log".into(),
        inode: 1234,
        offset: 5678,
    };
    store.save(&pos).unwrap();
    assert_eq!(store.load().unwrap(), Some(pos.clone()));
    let next = Position {
        offset: 9999,
        ..pos
    };
    store.save(&next).unwrap();
    assert_eq!(store.load().unwrap(), Some(next));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    std::fs::write(store.path(), "{not json").unwrap();
    assert_eq!(store.load().unwrap_err().kind(), io::ErrorKind::InvalidData);
}

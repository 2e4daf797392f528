//! Tests of the `file` exporter and its rotation, in temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::Rotation;
use super::exporter::encode_line;
use super::writer::FileWriter;
use super::*;
use crate::shared::test_support::{ctx, logs, metrics, toml, traces};
use crate::shared::time::is_backup_timestamp;
use harrier_core::error::ErrorKind;
use harrier_pdata::Batch;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

fn build(section: &str) -> Arc<dyn Exporter> {
    FileExporterFactory
        .build(&toml(section), &ctx("file"))
        .unwrap()
}

fn section(path: &Path, extra: &str) -> String {
    format!("path = {:?}\n{extra}", path.display().to_string())
}

/// Decodes every line of `path`, trying each signal.
fn read_batches(path: &Path) -> Vec<Batch> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            Signal::ALL
                .iter()
                .filter(|s| line.contains(&format!("\"resource{}", resource_key(**s))))
                .find_map(|s| harrier_pdata::json::decode_request(*s, line.as_bytes()).ok())
                .unwrap_or_else(|| panic!("undecodable line: {line}"))
        })
        .collect()
}

fn resource_key(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "Spans",
        Signal::Metrics => "Metrics",
        Signal::Logs => "Logs",
    }
}

/// Backup file names in `dir`, sorted.
fn backups(dir: &Path, stem: &str, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix(&format!("{stem}-"))
                .and_then(|r| r.strip_suffix(ext))
                .is_some_and(is_backup_timestamp)
        })
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn writes_one_decodable_request_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/out.json");
    let exporter = build(&section(&path, ""));
    exporter.start().await.unwrap();
    let sent = [traces(3, "a"), metrics(), logs(2, "b")];
    for batch in &sent {
        exporter.export(batch).await.unwrap();
    }
    assert_eq!(read_batches(&path), sent);
    exporter.shutdown().await;
    let after = exporter.export(&logs(1, "late")).await.unwrap_err();
    assert_eq!(after.kind(), ErrorKind::Permanent);

    // A restart appends instead of truncating.
    let exporter = build(&section(&path, ""));
    exporter.start().await.unwrap();
    exporter.export(&logs(1, "c")).await.unwrap();
    assert_eq!(read_batches(&path).len(), 4);
}

#[test]
fn rotation_keeps_max_backups_and_loses_no_kept_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.jsonl");
    std::fs::write(dir.path().join("spans-notes.jsonl"), "not a backup").unwrap();
    let line = |i: usize| format!("{{\"line\":{i:04}}}\n");
    let line_len = line(0).len() as u64;
    let rotation = Rotation {
        max_bytes: 3 * line_len,
        max_backups: 2,
    };
    let mut writer = FileWriter::open(&path, Some(rotation)).unwrap();
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for i in 0..20 {
        // Several writes share a millisecond: backup names must still be unique.
        let now = start + Duration::from_millis(i as u64 / 4);
        writer.write_line(line(i).as_bytes(), now).unwrap();
    }
    writer.close().unwrap();
    let kept = backups(dir.path(), "spans", ".jsonl");
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(dir.path().join("spans-notes.jsonl").exists());
    let mut lines = Vec::new();
    for name in kept
        .iter()
        .chain(std::iter::once(&"spans.jsonl".to_string()))
    {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(text.len() as u64 <= rotation.max_bytes, "{name} too big");
        lines.extend(text.lines().map(str::to_string));
    }
    let expected: Vec<String> = (12..20).map(|i| line(i).trim_end().to_string()).collect();
    assert_eq!(lines, expected);
}

#[tokio::test]
async fn rotates_through_the_configured_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.json");
    let exporter = build(&section(
        &path,
        "rotation = { max_megabytes = 1, max_backups = 1 }",
    ));
    exporter.start().await.unwrap();
    let big = logs(1, &"x".repeat(400 * 1024));
    for _ in 0..5 {
        exporter.export(&big).await.unwrap();
    }
    exporter.shutdown().await;
    assert_eq!(backups(dir.path(), "logs", ".json").len(), 1);
    let current = read_batches(&path);
    assert_eq!(current.len(), 1);
    assert_eq!(current[0], big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_exports_never_interleave_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("concurrent.json");
    let exporter = build(&section(&path, ""));
    exporter.start().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let exporter = Arc::clone(&exporter);
            tokio::spawn(async move {
                for i in 0..25 {
                    let tag = format!("{t}-{i}-{}", "y".repeat(2000));
                    exporter.export(&traces(3, &tag)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let batches = read_batches(&path);
    assert_eq!(batches.len(), 200);
    assert!(batches.iter().all(|b| b.item_count() == 3));
}

#[tokio::test]
async fn unwritable_path_fails_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let path = blocker.join("sub/out.json");
    let exporter = build(&section(&path, ""));
    let error = exporter.start().await.unwrap_err();
    assert!(
        error.message.contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn encodes_exactly_one_line() {
    let line = encode_line(&logs(2, "multi\nline"));
    assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
    assert_eq!(line.last(), Some(&b'\n'));
}

#[test]
fn validation_reports_every_problem_with_its_path() {
    let errors = |text: &str| -> Vec<String> {
        FileExporterFactory
            .validate(&toml(text))
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect()
    };
    assert_eq!(errors(""), ["path"]);
    assert_eq!(
        errors("path = \"/tmp/x.json\"\nrotation = { max_megabytes = 0, max_backups = 0 }"),
        ["rotation.max_megabytes", "rotation.max_backups"]
    );
    assert_eq!(
        errors("path = \"/tmp/x.json\"\nrotation = { max_size = 5 }"),
        ["rotation.max_size"]
    );
    assert_eq!(
        errors("path = \"/tmp/x.json\"\nformat = \"proto\""),
        ["format"]
    );
    assert_eq!(
        FileExporterFactory.validate(&toml("path = \"x.json\"\n[rotation]")),
        Ok(())
    );
    assert_eq!(RotationConfig::default().max_megabytes, 100);
    assert_eq!(RotationConfig::default().max_backups, 100);
}

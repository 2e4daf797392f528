//! The file and its rotation, lumberjack style: before a write would push the file past
//! `max_bytes`, the file is renamed to `<stem>-<UTC time with millis>.<ext>` beside it
//! and a new one is started; beyond `max_backups` the oldest backups are deleted.
//!
//! Every call is blocking I/O; the exporter runs them on tokio's blocking pool, one at a
//! time (the writer sits behind a mutex).

use super::config::Rotation;
use crate::shared::time::{backup_timestamp, is_backup_timestamp};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The open output file.
#[derive(Debug)]
pub(crate) struct FileWriter {
    path: PathBuf,
    rotation: Option<Rotation>,
    /// `None` after a failed rotation: the next write reopens.
    file: Option<File>,
    /// Bytes in the current file.
    size: u64,
}

/// Backup names: `<stem>-` ... `<ext>` around a timestamp.
struct BackupPattern {
    dir: PathBuf,
    prefix: String,
    suffix: String,
}

impl BackupPattern {
    fn of(path: &Path) -> BackupPattern {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let suffix = path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        BackupPattern {
            dir,
            prefix: format!("{stem}-"),
            suffix,
        }
    }

    fn name(&self, timestamp: &str) -> PathBuf {
        self.dir
            .join(format!("{}{timestamp}{}", self.prefix, self.suffix))
    }

    /// Whether `file_name` is one of our backups (the timestamp must have its exact shape,
    /// so unrelated files are never deleted).
    fn matches(&self, file_name: &str) -> bool {
        file_name
            .strip_prefix(&self.prefix)
            .and_then(|rest| rest.strip_suffix(&self.suffix))
            .is_some_and(is_backup_timestamp)
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl FileWriter {
    /// Opens `path` for appending (creating it and its directory).
    ///
    /// # Errors
    /// The I/O error of creating the directory or opening the file.
    pub(crate) fn open(path: &Path, rotation: Option<Rotation>) -> io::Result<FileWriter> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(FileWriter {
            path: path.to_path_buf(),
            rotation,
            file: Some(file),
            size,
        })
    }

    /// Appends one complete line (rotating first if needed) and flushes it to the OS.
    /// A line larger than the rotation size goes into a file of its own rather than
    /// being refused. A failed write is cut off again, so a half line never stays in
    /// the file.
    ///
    /// # Errors
    /// The I/O error of rotating or writing.
    pub(crate) fn write_line(&mut self, line: &[u8], now: SystemTime) -> io::Result<()> {
        let len = line.len() as u64;
        if let Some(rotation) = self.rotation
            && self.size > 0
            && self.size.saturating_add(len) > rotation.max_bytes
        {
            self.rotate(rotation, now)?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let file = open_append(&self.path)?;
                self.size = file.metadata()?.len();
                self.file.insert(file)
            }
        };
        if let Err(e) = file.write_all(line).and_then(|()| file.flush()) {
            // Best effort: drop whatever part of the line made it to the file.
            let _ = file.set_len(self.size);
            return Err(e);
        }
        self.size += len;
        Ok(())
    }

    /// Flushes and closes the file.
    ///
    /// # Errors
    /// The I/O error of syncing.
    pub(crate) fn close(&mut self) -> io::Result<()> {
        match self.file.take() {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }

    fn rotate(&mut self, rotation: Rotation, now: SystemTime) -> io::Result<()> {
        let pattern = BackupPattern::of(&self.path);
        // Two rotations in the same millisecond: take the next free one, which keeps
        // names unique and in order.
        let mut backup = pattern.name(&backup_timestamp(now));
        let mut step = 1;
        while backup.exists() && step < 1000 {
            backup = pattern.name(&backup_timestamp(now + Duration::from_millis(step)));
            step += 1;
        }
        self.file = None;
        fs::rename(&self.path, &backup)?;
        // From here on the active file is new (a failed open is retried by the next write).
        self.size = 0;
        self.file = Some(open_append(&self.path)?);
        // Failing to prune must not lose the line about to be written: log it instead.
        if let Err(e) = prune_backups(&pattern, rotation.max_backups) {
            tracing::warn!(dir = %pattern.dir.display(), error = %e, "cannot list old backups");
        }
        Ok(())
    }
}

/// Deletes the oldest backups beyond `keep`. The fixed-width timestamps sort by name.
fn prune_backups(pattern: &BackupPattern, keep: usize) -> io::Result<()> {
    let mut backups: Vec<PathBuf> = fs::read_dir(&pattern.dir)?
        .filter_map(Result::ok)
        .filter(|entry| pattern.matches(&entry.file_name().to_string_lossy()))
        .map(|entry| entry.path())
        .collect();
    if backups.len() <= keep {
        return Ok(());
    }
    backups.sort();
    let excess = backups.len() - keep;
    for old in &backups[..excess] {
        if let Err(e) = fs::remove_file(old) {
            tracing::warn!(file = %old.display(), error = %e, "cannot delete old backup");
        }
    }
    Ok(())
}

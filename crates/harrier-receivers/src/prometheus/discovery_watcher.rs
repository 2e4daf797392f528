//! [`FileWatcher`]: polls the files of `file_sd_configs` and reports the combined
//! target groups when they change (see the parent module for the rules).

use super::{
    FileSdConfig, MAX_POLL_INTERVAL, MAX_TARGET_FILE_BYTES, MIN_POLL_INTERVAL, TargetGroup,
    default_refresh_interval, expand_globs, parse_target_file,
};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What [`FileWatcher`] remembers of a file to notice a change without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// A file being watched: its stamp when last read and the groups of the last
/// successful read.
#[derive(Debug, Default)]
struct WatchedFile {
    stamp: Option<FileStamp>,
    groups: Vec<TargetGroup>,
}

/// Polls the files of `file_sd_configs` and reports the combined target groups when
/// they change. Owns no task: the caller calls [`FileWatcher::poll`] every
/// [`FileWatcher::poll_interval`] (from a blocking context; it does file I/O).
#[derive(Debug)]
pub struct FileWatcher {
    /// Every configured pattern, without duplicates.
    patterns: Vec<String>,
    /// The smallest `refresh_interval`: how often every file is re-read.
    refresh_interval: Duration,
    /// The files matched at the last poll, by path.
    files: BTreeMap<PathBuf, WatchedFile>,
    /// The combined groups last returned (`None` before the first poll).
    last: Option<Vec<TargetGroup>>,
    /// When every file was last re-read regardless of its stamp.
    last_full_read: Option<Instant>,
}

impl FileWatcher {
    /// A watcher for the files of `configs` (assumed valid, see
    /// [`FileSdConfig::problems`]). Reads nothing until the first poll.
    pub fn new(configs: &[FileSdConfig]) -> FileWatcher {
        let mut patterns: Vec<String> = Vec::new();
        for pattern in configs.iter().flat_map(|c| &c.files) {
            if !patterns.contains(pattern) {
                patterns.push(pattern.clone());
            }
        }
        let refresh_interval = configs
            .iter()
            .map(|c| c.refresh_interval)
            .min()
            .unwrap_or_else(default_refresh_interval)
            .max(MIN_POLL_INTERVAL);
        FileWatcher {
            patterns,
            refresh_interval,
            files: BTreeMap::new(),
            last: None,
            last_full_read: None,
        }
    }

    /// How often to call [`FileWatcher::poll`]: the smallest `refresh_interval`, but
    /// at most [`MAX_POLL_INTERVAL`] so that edits are picked up within seconds
    /// (Prometheus uses inotify for that; polling needs no watch descriptors and works
    /// on every filesystem), and at least [`MIN_POLL_INTERVAL`].
    pub fn poll_interval(&self) -> Duration {
        self.refresh_interval.min(MAX_POLL_INTERVAL)
    }

    /// Expands the globs, re-reads files whose modification time or size changed
    /// (all files once per `refresh_interval`), forgets files that are gone, and
    /// returns the combined groups (ordered by file path, then position in the file)
    /// if they differ from the last returned ones; the first poll always returns
    /// them. The second element lists the files that could not be read or parsed
    /// (`"<path>: <error>"`); each keeps its previous groups and is retried when it
    /// changes or at the next full re-read.
    pub fn poll(&mut self) -> (Option<Vec<TargetGroup>>, Vec<String>) {
        self.poll_at(Instant::now())
    }

    /// [`FileWatcher::poll`] at time `now`.
    pub(super) fn poll_at(&mut self, now: Instant) -> (Option<Vec<TargetGroup>>, Vec<String>) {
        let full_read = self.last_full_read.is_none_or(|last| {
            now.checked_duration_since(last)
                .is_some_and(|elapsed| elapsed >= self.refresh_interval)
        });
        if full_read {
            self.last_full_read = Some(now);
        }
        let mut errors = Vec::new();
        let mut files = BTreeMap::new();
        for path in expand_globs(&self.patterns) {
            let mut file = self.files.remove(&path).unwrap_or_default();
            let stamp = fs::metadata(&path).ok().map(|m| FileStamp {
                modified: m.modified().ok(),
                len: m.len(),
            });
            if full_read || stamp.is_none() || file.stamp != stamp {
                // Recorded even when the read fails, so that a broken file is
                // reported once per change (or full re-read), not on every poll.
                file.stamp = stamp;
                match read_target_file(&path) {
                    Ok(groups) => file.groups = groups,
                    Err(e) => errors.push(format!("{}: {e}", path.display())),
                }
            }
            files.insert(path, file);
        }
        // Files no longer matched are dropped with their groups.
        self.files = files;

        let combined = self.files.values().flat_map(|f| f.groups.iter());
        if let Some(last) = &self.last
            && last.iter().eq(combined.clone())
        {
            return (None, errors);
        }
        let combined: Vec<TargetGroup> = combined.cloned().collect();
        self.last = Some(combined.clone());
        (Some(combined), errors)
    }
}

/// Reads and parses one target file, refusing files above [`MAX_TARGET_FILE_BYTES`].
fn read_target_file(path: &Path) -> Result<Vec<TargetGroup>, String> {
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    let mut content = String::new();
    file.take(MAX_TARGET_FILE_BYTES + 1)
        .read_to_string(&mut content)
        .map_err(|e| e.to_string())?;
    if content.len() as u64 > MAX_TARGET_FILE_BYTES {
        return Err(format!(
            "larger than {MAX_TARGET_FILE_BYTES} bytes; not read"
        ));
    }
    parse_target_file(path, &content)
}

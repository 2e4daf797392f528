//! `exporters.file` settings and their validation.

use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::path::PathBuf;

/// `exporters.file`: OTLP/JSON lines in a local file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// The file to append to; its directory is created if missing. Required; no default.
    pub path: Option<PathBuf>,
    /// Size-based rotation; absent (the default) means the file grows without limit.
    pub rotation: Option<RotationConfig>,
}

/// `exporters.file.rotation`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RotationConfig {
    /// Rotate before the file would grow beyond this many megabytes (MiB; default 100).
    pub max_megabytes: u64,
    /// Rotated files to keep; the oldest are deleted beyond this (default 100, at least
    /// 1: unlike lumberjack, 0 does not mean "keep all").
    pub max_backups: usize,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_megabytes: 100,
            max_backups: 100,
        }
    }
}

/// Rotation limits in the units the writer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rotation {
    /// Rotate before the file would exceed this many bytes.
    pub max_bytes: u64,
    /// Backups to keep.
    pub max_backups: usize,
}

/// A validated [`FileConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSettings {
    /// The active file.
    pub path: PathBuf,
    /// Rotation, if enabled.
    pub rotation: Option<Rotation>,
}

impl FileConfig {
    /// Checks every setting (no I/O).
    ///
    /// # Errors
    /// Every problem found, with paths relative to the exporter's section.
    pub(crate) fn validate(&self) -> Result<FileSettings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let path = match &self.path {
            None => {
                errors.push(ConfigError::new(
                    "path",
                    "is required (e.g. \"/var/lib/harrier/traces.jsonl\")",
                ));
                None
            }
            Some(p) if p.as_os_str().is_empty() || p.file_name().is_none() => {
                errors.push(ConfigError::new(
                    "path",
                    format!("{:?} does not name a file", p.display().to_string()),
                ));
                None
            }
            Some(p) => Some(p.clone()),
        };
        let mut rotation = None;
        if let Some(r) = &self.rotation {
            if r.max_megabytes == 0 {
                errors.push(ConfigError::new(
                    "rotation.max_megabytes",
                    "must be at least 1",
                ));
            }
            if r.max_backups == 0 {
                errors.push(ConfigError::new(
                    "rotation.max_backups",
                    "must be at least 1 (backups are always bounded)",
                ));
            }
            rotation = Some(Rotation {
                max_bytes: r.max_megabytes.saturating_mul(1024 * 1024),
                max_backups: r.max_backups,
            });
        }
        match path {
            Some(path) if errors.is_empty() => Ok(FileSettings { path, rotation }),
            _ => Err(errors),
        }
    }
}

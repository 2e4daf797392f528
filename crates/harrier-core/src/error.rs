//! Errors shared by the framework and components.

use std::fmt;
use std::time::Duration;

/// A configuration problem, located by its full key path
/// (e.g. `service.pipelines.traces.exporters[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key path, with `[i]` for list elements. Empty for the document root.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Prefixes the path with `prefix` (a component's own errors are relative to its
    /// section).
    pub fn under(mut self, prefix: &str) -> ConfigError {
        self.path = join_path(prefix, &self.path);
        self
    }
}

/// Joins two key paths with a dot, unless either is empty or `rest` is an index.
pub fn join_path(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A component failed to start or run (bind failure, unreadable file, ...).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ComponentError {
    /// What failed, in words.
    pub message: String,
}

impl ComponentError {
    /// A new error with a message.
    pub fn new(message: impl Into<String>) -> ComponentError {
        ComponentError {
            message: message.into(),
        }
    }
}

/// Whether an export failure may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Transient (connection refused, UNAVAILABLE, 429/502/503/504, timeout): retry,
    /// not earlier than `retry_after` when the server said so.
    Retryable {
        /// Server-requested minimum delay (gRPC RetryInfo, HTTP Retry-After).
        retry_after: Option<Duration>,
    },
    /// Will never succeed (bad request, unauthorized, unencodable): log, count, drop.
    Permanent,
}

/// An exporter's failure to deliver one batch, classified for the retry logic.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ExportError {
    kind: ErrorKind,
    message: String,
}

impl ExportError {
    /// A retryable failure.
    pub fn retryable(message: impl Into<String>, retry_after: Option<Duration>) -> ExportError {
        ExportError {
            kind: ErrorKind::Retryable { retry_after },
            message: message.into(),
        }
    }

    /// A permanent failure: the data is dropped and counted.
    pub fn permanent(message: impl Into<String>) -> ExportError {
        ExportError {
            kind: ErrorKind::Permanent,
            message: message.into(),
        }
    }

    /// How the retry logic must treat this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether it may be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Retryable { .. })
    }
}

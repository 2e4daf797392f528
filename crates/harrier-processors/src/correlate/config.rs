//! `correlate` settings.

use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `processors.correlate` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelateConfig {
    /// Spans the shared index holds at most, over all traces (default 100000). When a
    /// new span would exceed it, the oldest traces are evicted whole.
    pub max_entries: usize,
    /// How long an indexed trace stays usable, counted from when its first span was
    /// indexed (default `5m`). Expired traces are evicted on the next access.
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// Removes the log attribute(s) the trace context was taken from (default `false`).
    /// Bodies are never changed.
    pub remove_source_fields: bool,
}

impl Default for CorrelateConfig {
    fn default() -> Self {
        CorrelateConfig {
            max_entries: 100_000,
            ttl: Duration::from_secs(300),
            remove_source_fields: false,
        }
    }
}

impl CorrelateConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Each problem with its key.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.max_entries == 0 {
            errors.push(ConfigError::new("max_entries", "must be at least 1"));
        }
        if self.ttl.is_zero() {
            errors.push(ConfigError::new("ttl", "must be longer than 0s"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

//! `batch` settings.

use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `processors.batch` settings (the OTel Collector's keys and defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Items that trigger sending a batch, regardless of the timeout (default 8192).
    pub send_batch_size: usize,
    /// Longest time an item waits for its batch to fill (default `200ms`; `0s` sends
    /// immediately, only splitting by `send_batch_max_size`).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Upper bound on a sent batch's items; larger batches are split (default 0: no cap).
    /// Must be 0 or at least `send_batch_size`.
    pub send_batch_max_size: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            send_batch_size: 8192,
            timeout: Duration::from_millis(200),
            send_batch_max_size: 0,
        }
    }
}

impl BatchConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Each problem with its key.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.send_batch_size == 0 {
            errors.push(ConfigError::new("send_batch_size", "must be at least 1"));
        }
        if self.send_batch_max_size != 0 && self.send_batch_max_size < self.send_batch_size {
            errors.push(ConfigError::new(
                "send_batch_max_size",
                format!(
                    "must be 0 (no cap) or at least send_batch_size ({})",
                    self.send_batch_size
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

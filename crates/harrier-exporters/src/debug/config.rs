//! `exporters.debug` settings and their validation.

use harrier_core::error::ConfigError;
use serde::Deserialize;

/// `exporters.debug`: prints batches to standard output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DebugConfig {
    /// How much to print: `basic` (default), `normal` or `detailed`.
    pub verbosity: Verbosity,
    /// Batches printed per second before sampling starts (default: unset, meaning every
    /// batch is printed).
    pub sampling_initial: Option<u64>,
    /// Once `sampling_initial` batches were printed within a second, print only every
    /// n-th further batch of that second; 0 prints none of them (default 0 when
    /// `sampling_initial` is set; only valid together with it).
    pub sampling_thereafter: Option<u64>,
}

/// `exporters.debug.verbosity`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One line per batch: signal, resource count, item count (the default).
    #[default]
    Basic,
    /// One line per item (span name and ids, log body, metric name and point count),
    /// under one line per resource and scope.
    Normal,
    /// Every field of every item, several lines each.
    Detailed,
}

/// Per-second sampling limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sampling {
    /// Batches printed each second before sampling.
    pub initial: u64,
    /// Then every n-th (0: none).
    pub thereafter: u64,
}

impl DebugConfig {
    /// Checks the settings; returns the sampling limits, if sampling is on.
    ///
    /// # Errors
    /// Every problem found, with paths relative to the exporter's section.
    pub(crate) fn validate(&self) -> Result<Option<Sampling>, Vec<ConfigError>> {
        match (self.sampling_initial, self.sampling_thereafter) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(vec![ConfigError::new(
                "sampling_thereafter",
                "is only used together with sampling_initial",
            )]),
            (Some(initial), thereafter) => Ok(Some(Sampling {
                initial,
                thereafter: thereafter.unwrap_or(0),
            })),
        }
    }
}

//! The debug exporter: renders each batch and writes it to stdout in one locked write
//! (so concurrent workers never interleave), optionally sampled per second.

use super::config::{Sampling, Verbosity};
use super::format::format_batch;
use async_trait::async_trait;
use harrier_core::component::Exporter;
use harrier_core::error::ExportError;
use harrier_pdata::Batch;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Per-second sampling, like zap's sampler behind the OTel Collector's debug exporter:
/// within each one-second window the first `initial` batches pass, then every
/// `thereafter`-th.
#[derive(Debug)]
pub(crate) struct Sampler {
    limits: Sampling,
    /// Start of the current window and batches seen in it.
    window: Mutex<(Instant, u64)>,
}

impl Sampler {
    /// A sampler whose first window starts at `now`.
    pub(crate) fn new(limits: Sampling, now: Instant) -> Sampler {
        Sampler {
            limits,
            window: Mutex::new((now, 0)),
        }
    }

    /// Whether the batch seen at `now` is printed.
    pub(crate) fn admit(&self, now: Instant) -> bool {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.saturating_duration_since(window.0) >= Duration::from_secs(1) {
            *window = (now, 0);
        }
        window.1 += 1;
        let seen = window.1;
        let Sampling {
            initial,
            thereafter,
        } = self.limits;
        seen <= initial || (thereafter > 0 && (seen - initial).is_multiple_of(thereafter))
    }
}

/// Prints batches to stdout.
pub(crate) struct DebugExporter {
    verbosity: Verbosity,
    sampler: Option<Sampler>,
}

impl DebugExporter {
    /// A new exporter.
    pub(crate) fn new(verbosity: Verbosity, sampling: Option<Sampling>) -> DebugExporter {
        DebugExporter {
            verbosity,
            sampler: sampling.map(|s| Sampler::new(s, Instant::now())),
        }
    }
}

#[async_trait]
impl Exporter for DebugExporter {
    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        if let Some(sampler) = &self.sampler
            && !sampler.admit(Instant::now())
        {
            return Ok(());
        }
        let mut text = Vec::new();
        format_batch(batch, self.verbosity, &mut text);
        let stdout = std::io::stdout();
        let mut stdout = stdout.lock();
        stdout
            .write_all(&text)
            .and_then(|()| stdout.flush())
            .map_err(|e| ExportError::permanent(format!("writing to stdout: {e}")))
    }
}

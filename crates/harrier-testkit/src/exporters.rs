//! Exporters for tests: `collect` keeps every batch in memory; `control` can be paused
//! (to fill queues: backpressure tests) and made to fail (retry tests).

use async_trait::async_trait;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, Registry};
use harrier_core::error::{ConfigError, ExportError};
use harrier_pdata::{Batch, Signal};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Shared state of the test exporters: what arrived, and switches.
#[derive(Default)]
pub struct Probe {
    batches: Mutex<Vec<Batch>>,
    paused: AtomicBool,
    resume: Notify,
    failures_left: AtomicUsize,
    attempts: AtomicUsize,
    in_export: AtomicUsize,
}

impl Probe {
    /// A fresh probe.
    pub fn new() -> Arc<Probe> {
        Arc::new(Probe::default())
    }
    /// Every batch exported so far.
    pub fn batches(&self) -> Vec<Batch> {
        self.batches.lock().map(|b| b.clone()).unwrap_or_default()
    }
    /// Items exported so far.
    pub fn items(&self) -> usize {
        self.batches().iter().map(Batch::item_count).sum()
    }
    /// Blocks every export until [`Probe::resume`].
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }
    /// Lets paused exports proceed.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        self.resume.notify_waiters();
    }
    /// The next `n` exports fail with a retryable error.
    pub fn fail_next(&self, n: usize) {
        self.failures_left.store(n, Ordering::SeqCst);
    }
    /// Export attempts so far.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
    /// Exports currently blocked or running.
    pub fn in_export(&self) -> usize {
        self.in_export.load(Ordering::SeqCst)
    }
}

struct ProbeExporter(Arc<Probe>);

#[async_trait]
impl Exporter for ProbeExporter {
    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let probe = &self.0;
        probe.attempts.fetch_add(1, Ordering::SeqCst);
        probe.in_export.fetch_add(1, Ordering::SeqCst);
        while probe.paused.load(Ordering::SeqCst) {
            let notified = probe.resume.notified();
            if !probe.paused.load(Ordering::SeqCst) {
                break;
            }
            notified.await;
        }
        probe.in_export.fetch_sub(1, Ordering::SeqCst);
        let fail = probe
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(ExportError::retryable("probe: injected failure", None));
        }
        if let Ok(mut b) = probe.batches.lock() {
            b.push(batch.clone());
        }
        Ok(())
    }
}

/// Factory for the `probe` test exporter bound to one [`Probe`].
pub struct ProbeFactory(pub Arc<Probe>);

impl Factory for ProbeFactory {
    fn type_name(&self) -> &'static str {
        "probe"
    }
    fn description(&self) -> &'static str {
        "test exporter: records batches; can pause and fail"
    }
    fn validate(&self, _config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        Ok(())
    }
}

impl ExporterFactory for ProbeFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        _config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        Ok(Arc::new(ProbeExporter(Arc::clone(&self.0))))
    }
}

/// Adds the `probe` exporter for `probe` to a registry.
pub fn register_probe(registry: &mut Registry, probe: &Arc<Probe>) {
    registry.add_exporter(ProbeFactory(Arc::clone(probe)));
}

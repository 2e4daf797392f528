//! The running graph: build, start, shut down.
//!
//! ```text
//! receiver --Output--> [pipeline channel] -> processors -> Fanout --> [exporter queue] -> ExporterRunner -> exporter
//! ```
//!
//! [`Topology::build`] checks the config and constructs every component (no I/O).
//! [`Topology::start`] starts them in reverse flow order: extensions and the own-metrics
//! endpoint, exporters (and their runners), pipelines, then receivers (which bind). A
//! failure before start-up completes stops what was started and names the component.
//!
//! [`RunningTopology::shutdown`] is a cascade of channel closures under one deadline
//! (`service.shutdown_timeout`): receivers stop accepting and drop their outputs; each
//! pipeline drains its input, flushes its processors (the batch processor emits what it
//! holds) and drops its fanout; each exporter queue then closes, and the runners drain it
//! and finish in-flight sends. Whatever is still queued at the deadline is counted as
//! failed. Nothing accepted is lost while the downstream is healthy.

mod fanout;
mod pipeline;
mod running;

pub use running::{RESTART_BACKOFF_INITIAL, RESTART_BACKOFF_MAX, RunningTopology, ShutdownReport};
pub mod runner;

use crate::channel::{self, Limits};
use crate::component::{
    BuildContext, Exporter, Extension, ExtensionContext, Kind, Receiver, ReceiverContext, Registry,
};
use crate::config::{Config, graph};
use crate::envelope::Envelope;
use crate::error::{ComponentError, ConfigError};
use crate::http_server;
use crate::id::ComponentId;
use crate::output::{Output, PipelineInput};
use crate::telemetry::Telemetry;
use fanout::{Fanout, Target};
use futures::FutureExt;
use harrier_pdata::Signal;
use pipeline::{Pipeline, ProcessorCounters};
use runner::{ExporterCounters, RunnerConfig, RunningExporter};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Bounds of every pipeline's input channel. Together with each exporter's queue and the
/// receivers' request caps these bound the collector's memory (see docs/ARCHITECTURE.md).
pub const PIPELINE_CHANNEL_LIMITS: Limits = Limits {
    max_messages: 64,
    max_items: Some(16_384),
    max_bytes: Some(64 * 1024 * 1024),
};

/// The collector's readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Health {
    /// Components are starting.
    Starting = 0,
    /// Every pipeline runs.
    Ready = 1,
    /// Shutting down.
    Stopping = 2,
}

impl Health {
    /// Lower-case name for status bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Ready => "ready",
            Health::Stopping => "stopping",
        }
    }
}

/// Shared readiness state, read by the health check.
#[derive(Debug, Clone)]
pub struct HealthState {
    state: Arc<AtomicU8>,
    started: Instant,
    since: SystemTime,
}

impl Default for HealthState {
    fn default() -> Self {
        HealthState {
            state: Arc::new(AtomicU8::new(Health::Starting as u8)),
            started: Instant::now(),
            since: SystemTime::now(),
        }
    }
}

impl HealthState {
    /// Current state.
    pub fn get(&self) -> Health {
        match self.state.load(Ordering::Acquire) {
            1 => Health::Ready,
            2 => Health::Stopping,
            _ => Health::Starting,
        }
    }
    /// Sets the state.
    pub fn set(&self, h: Health) {
        self.state.store(h as u8, Ordering::Release);
    }
    /// When the collector started (wall clock).
    pub fn since(&self) -> SystemTime {
        self.since
    }
    /// Time since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A failure to start, naming the component.
#[derive(Debug, thiserror::Error)]
#[error("{component}: {error}")]
pub struct StartError {
    /// `receivers.otlp`, `service.telemetry.metrics.address`, ...
    pub component: String,
    /// What failed.
    pub error: ComponentError,
}

/// A built receiver and what it takes to rebuild it after a failure.
struct BuiltReceiver {
    id: ComponentId,
    receiver: Box<dyn Receiver>,
    output: Output,
    rebuild: Box<dyn Fn() -> Result<Box<dyn Receiver>, ConfigError> + Send + Sync>,
}

struct BuiltExporter {
    id: ComponentId,
    exporter: Arc<dyn Exporter>,
    config: RunnerConfig,
    queue: channel::Receiver<runner::ExportItem>,
    counters: ExporterCounters,
}

/// A built, not yet started topology.
pub struct Topology {
    telemetry: Telemetry,
    metrics_address: String,
    shutdown_timeout: Duration,
    extensions: Vec<(ComponentId, Box<dyn Extension>)>,
    exporters: Vec<BuiltExporter>,
    pipelines: Vec<Pipeline>,
    receivers: Vec<BuiltReceiver>,
    /// Warnings from the graph check.
    pub warnings: Vec<String>,
}

impl Topology {
    /// Checks `config` against `registry` and constructs every component. No I/O.
    ///
    /// # Errors
    /// Every config problem found, each naming its key path.
    pub fn build(
        config: &Config,
        registry: &Registry,
        telemetry: &Telemetry,
    ) -> Result<Topology, Vec<ConfigError>> {
        let checked = graph::check(config, registry)?;
        let mut errors = Vec::new();
        let pipelines_of = |kind: Kind, id: &ComponentId| -> Vec<Signal> {
            let mut s: Vec<Signal> = config
                .service
                .pipelines
                .iter()
                .filter(|(_, p)| match kind {
                    Kind::Receiver => p.receivers.contains(id),
                    Kind::Processor => p.processors.contains(id),
                    Kind::Exporter => p.exporters.contains(id),
                    Kind::Extension => false,
                })
                .map(|(pid, _)| pid.signal)
                .collect();
            s.dedup();
            s
        };
        let shared = crate::component::SharedState::default();
        let ctx = |id: &ComponentId, kind: Kind, pipeline: Option<String>| BuildContext {
            id: id.clone(),
            pipeline,
            signals: pipelines_of(kind, id),
            telemetry: telemetry.clone(),
            shared: shared.clone(),
        };

        // Exporters: one instance each, shared by the pipelines that list it.
        let mut exporters = Vec::new();
        let mut exporter_inputs: BTreeMap<ComponentId, Target> = BTreeMap::new();
        for (id, section) in &config.exporters {
            if pipelines_of(Kind::Exporter, id).is_empty() {
                continue;
            }
            let path = format!("exporters.{id}");
            let Some(factory) = registry.exporter(id.kind()) else {
                continue;
            };
            let (runner_config, rest) = match RunnerConfig::split(section) {
                Ok(x) => x,
                Err(errs) => {
                    errors.extend(errs.into_iter().map(|e| e.under(&path)));
                    continue;
                }
            };
            match factory.build(&rest, &ctx(id, Kind::Exporter, None)) {
                Ok(exporter) => {
                    let (tx, rx) = runner::queue(&runner_config, id, telemetry);
                    let counters = ExporterCounters::new(telemetry, id);
                    exporter_inputs.insert(
                        id.clone(),
                        Target {
                            id: id.clone(),
                            sender: tx,
                            when_full: runner_config.sending_queue.when_full,
                            counters: counters.clone(),
                        },
                    );
                    exporters.push(BuiltExporter {
                        id: id.clone(),
                        exporter,
                        config: runner_config,
                        queue: rx,
                        counters,
                    });
                }
                Err(e) => errors.push(e.under(&path)),
            }
        }

        // Pipelines: processors are built once per pipeline.
        let mut pipelines = Vec::new();
        let mut receiver_inputs: BTreeMap<ComponentId, Vec<(Signal, PipelineInput)>> =
            BTreeMap::new();
        for (pid, p) in &config.service.pipelines {
            let name = pid.to_string();
            let (tx, rx) = channel::bounded::<Envelope>(PIPELINE_CHANNEL_LIMITS);
            let mut processors = Vec::new();
            let mut gates = Vec::new();
            for id in &p.processors {
                let Some(factory) = registry.processor(id.kind()) else {
                    continue;
                };
                let Some(section) = config.processors.get(id) else {
                    continue;
                };
                match factory.build(section, &ctx(id, Kind::Processor, Some(name.clone()))) {
                    Ok(processor) => {
                        if let Some(gate) = processor.admission_gate() {
                            gates.push(gate);
                        }
                        let idstr = id.to_string();
                        let labels = [("processor", idstr.as_str()), ("pipeline", name.as_str())];
                        let counters = ProcessorCounters {
                            incoming: telemetry.counter(
                                "otelcol_processor_incoming_items",
                                "Items passed to the processor.",
                                &labels,
                            ),
                            outgoing: telemetry.counter(
                                "otelcol_processor_outgoing_items",
                                "Items emitted by the processor.",
                                &labels,
                            ),
                        };
                        processors.push((processor, counters));
                    }
                    Err(e) => errors.push(e.under(&format!("processors.{id}"))),
                }
            }
            let targets = p
                .exporters
                .iter()
                .filter_map(|id| exporter_inputs.get(id))
                .map(|t| Target {
                    id: t.id.clone(),
                    sender: t.sender.clone(),
                    when_full: t.when_full,
                    counters: t.counters.clone(),
                })
                .collect();
            for id in &p.receivers {
                receiver_inputs.entry(id.clone()).or_default().push((
                    pid.signal,
                    PipelineInput {
                        pipeline: name.clone(),
                        sender: tx.clone(),
                        gates: gates.clone(),
                    },
                ));
            }
            let stats = tx.stats_handle();
            telemetry.gauge_fn(
                "harrier_pipeline_queued_items",
                "Items waiting in the pipeline's input channel.",
                &[("pipeline", name.as_str())],
                move || stats.stats().items as f64,
            );
            pipelines.push(Pipeline {
                name,
                input: rx,
                processors,
                fanout: Fanout { targets },
            });
        }
        // Only pipelines' fanouts may hold exporter senders, so queues close after them.
        drop(exporter_inputs);

        let mut receivers = Vec::new();
        for (id, inputs) in receiver_inputs {
            let Some(factory) = registry.receiver(id.kind()) else {
                continue;
            };
            let Some(section) = config.receivers.get(&id) else {
                continue;
            };
            let mut by_signal: Vec<(Signal, Vec<PipelineInput>)> = Vec::new();
            for (signal, input) in inputs {
                match by_signal.iter_mut().find(|(s, _)| *s == signal) {
                    Some((_, list)) => list.push(input),
                    None => by_signal.push((signal, vec![input])),
                }
            }
            let build_ctx = ctx(&id, Kind::Receiver, None);
            match factory.build(section, &build_ctx) {
                Ok(receiver) => {
                    let output = Output::new(id.clone(), telemetry.clone(), by_signal);
                    let (factory, section) = (Arc::clone(factory), section.clone());
                    receivers.push(BuiltReceiver {
                        id,
                        receiver,
                        output,
                        rebuild: Box::new(move || factory.build(&section, &build_ctx)),
                    });
                }
                Err(e) => errors.push(e.under(&format!("receivers.{id}"))),
            }
        }

        let mut extensions = Vec::new();
        for id in &config.service.extensions {
            let (Some(factory), Some(section)) =
                (registry.extension(id.kind()), config.extensions.get(id))
            else {
                continue;
            };
            match factory.build(section, &ctx(id, Kind::Extension, None)) {
                Ok(ext) => extensions.push((id.clone(), ext)),
                Err(e) => errors.push(e.under(&format!("extensions.{id}"))),
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Topology {
            telemetry: telemetry.clone(),
            metrics_address: config.service.telemetry.metrics.address.clone(),
            shutdown_timeout: config.service.shutdown_timeout,
            extensions,
            exporters,
            pipelines,
            receivers,
            warnings: checked.warnings,
        })
    }
}

#[cfg(test)]
mod tests;

//! The `ExporterRunner`: the framework around every exporter.
//!
//! It owns the exporter's queue (the exporter's input channel *is* the queue), a pool of
//! `num_consumers` workers, the per-attempt `timeout`, and retries with jittered
//! exponential backoff for retryable errors only (never earlier than a server's
//! `Retry-After`). Permanent errors are logged and counted, never retried. The config
//! keys `sending_queue`, `retry_on_failure` and `timeout` sit in each exporter's section
//! and are taken out before the exporter's factory sees it, as in the OTel Collector's
//! exporterhelper.
//!
//! Shutdown: when every pipeline feeding the queue has ended, the queue closes; workers
//! drain it and finish in-flight sends. If the shutdown deadline passes first, `hard_stop`
//! is cancelled: retries stop, and whatever is still queued is counted as failed.

use crate::channel::{self, Limits, Receiver, Sender, Weighted};
use crate::component::{Exporter, parse_config};
use crate::config::duration;
use crate::envelope::{DeliveryStatus, Finalizers};
use crate::error::{ConfigError, ErrorKind};
use crate::id::ComponentId;
use crate::telemetry::{Counter, Telemetry};
use harrier_pdata::{Batch, Signal};
use rand::Rng;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What sits in an exporter's queue: a shared batch and this copy's finalizers.
#[derive(Debug)]
pub struct ExportItem {
    /// The data, shared between the exporters of a fanout.
    pub batch: Arc<Batch>,
    /// This copy's finalizers.
    pub finalizers: Finalizers,
    /// Cached item count.
    pub items: usize,
    /// Approximate bytes.
    pub bytes: usize,
}

impl Weighted for ExportItem {
    fn items(&self) -> usize {
        self.items
    }
    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// How queue capacity is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sizer {
    /// Batches (export requests), the OTel Collector's default.
    Requests,
    /// Items (spans, data points, log records).
    Items,
    /// Bytes (approximate encoded size).
    Bytes,
}

/// What to do when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait (slows the pipeline: backpressure reaches the receivers). Default.
    Block,
    /// Refuse this exporter's copy (counted in `otelcol_exporter_enqueue_failed_*`),
    /// isolating the other exporters of the pipeline from this one.
    Drop,
}

/// `sending_queue`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Whether to queue at all (default true). Disabled: capacity 1, one consumer.
    pub enabled: bool,
    /// Capacity, in units of `sizer` (default 1000).
    pub queue_size: usize,
    /// Concurrent export workers (default 10).
    pub num_consumers: usize,
    /// `requests` (default), `items` or `bytes`.
    pub sizer: Sizer,
    /// `block` (default) or `drop`.
    pub when_full: WhenFull,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            queue_size: 1000,
            num_consumers: 10,
            sizer: Sizer::Requests,
            when_full: WhenFull::Block,
        }
    }
}

/// `retry_on_failure`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Whether to retry retryable errors (default true).
    pub enabled: bool,
    /// First backoff (default 5s).
    #[serde(with = "duration")]
    pub initial_interval: Duration,
    /// Backoff cap (default 30s).
    #[serde(with = "duration")]
    pub max_interval: Duration,
    /// Give up after this long since the first attempt (default 300s; 0 = never).
    #[serde(with = "duration")]
    pub max_elapsed_time: Duration,
    /// Backoff growth factor (default 1.5).
    pub multiplier: f64,
    /// Jitter: each wait is drawn from interval x [1 - f, 1 + f] (default 0.5).
    pub randomization_factor: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

/// The framework's exporter settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunnerConfig {
    /// `sending_queue`.
    pub sending_queue: QueueConfig,
    /// `retry_on_failure`.
    pub retry_on_failure: RetryConfig,
    /// Per-attempt timeout (default 5s).
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            timeout: Duration::from_secs(5),
        }
    }
}

const FRAMEWORK_KEYS: [&str; 3] = ["sending_queue", "retry_on_failure", "timeout"];

impl RunnerConfig {
    /// Takes the framework keys out of an exporter's section: returns the runner
    /// settings and the rest for the exporter's own factory.
    ///
    /// # Errors
    /// Every problem in the framework keys, with paths relative to the section.
    pub fn split(section: &toml::Value) -> Result<(RunnerConfig, toml::Value), Vec<ConfigError>> {
        let mut rest = section.clone();
        let mut framework = toml::Table::new();
        if let toml::Value::Table(t) = &mut rest {
            for key in FRAMEWORK_KEYS {
                if let Some(v) = t.remove(key) {
                    framework.insert(key.to_string(), v);
                }
            }
        }
        let config: RunnerConfig =
            parse_config(&toml::Value::Table(framework)).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let q = &config.sending_queue;
        if q.queue_size == 0 {
            errors.push(ConfigError::new(
                "sending_queue.queue_size",
                "must be at least 1",
            ));
        }
        if q.num_consumers == 0 {
            errors.push(ConfigError::new(
                "sending_queue.num_consumers",
                "must be at least 1",
            ));
        }
        let r = &config.retry_on_failure;
        if r.enabled && r.initial_interval.is_zero() {
            errors.push(ConfigError::new(
                "retry_on_failure.initial_interval",
                "must be greater than 0",
            ));
        }
        if r.max_interval < r.initial_interval {
            errors.push(ConfigError::new(
                "retry_on_failure.max_interval",
                "must not be less than initial_interval",
            ));
        }
        if !(r.multiplier >= 1.0 && r.multiplier.is_finite()) {
            errors.push(ConfigError::new(
                "retry_on_failure.multiplier",
                "must be a number >= 1",
            ));
        }
        if !(0.0..=1.0).contains(&r.randomization_factor) {
            errors.push(ConfigError::new(
                "retry_on_failure.randomization_factor",
                "must be between 0 and 1",
            ));
        }
        if config.timeout.is_zero() {
            errors.push(ConfigError::new("timeout", "must be greater than 0"));
        }
        if errors.is_empty() {
            Ok((config, rest))
        } else {
            Err(errors)
        }
    }

    /// The queue's channel limits.
    pub fn queue_limits(&self) -> Limits {
        let q = &self.sending_queue;
        if !q.enabled {
            return Limits {
                max_messages: 1,
                max_items: None,
                max_bytes: None,
            };
        }
        match q.sizer {
            Sizer::Requests => Limits {
                max_messages: q.queue_size,
                max_items: None,
                max_bytes: None,
            },
            Sizer::Items => Limits {
                max_messages: q.queue_size,
                max_items: Some(q.queue_size),
                max_bytes: None,
            },
            Sizer::Bytes => Limits {
                max_messages: q.queue_size,
                max_items: None,
                max_bytes: Some(q.queue_size),
            },
        }
    }

    /// Workers exporting concurrently.
    pub fn consumers(&self) -> usize {
        if self.sending_queue.enabled {
            self.sending_queue.num_consumers
        } else {
            1
        }
    }
}

/// Per-signal counters of one exporter.
#[derive(Clone)]
pub(crate) struct ExporterCounters {
    sent: [Counter; 3],
    failed: [Counter; 3],
    pub(crate) enqueue_failed: [Counter; 3],
    retries: Counter,
}

fn signal_index(s: Signal) -> usize {
    match s {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

impl ExporterCounters {
    pub(crate) fn new(telemetry: &Telemetry, id: &ComponentId) -> ExporterCounters {
        let id = id.to_string();
        let labels = [("exporter", id.as_str())];
        let make = |what: &str, help: &str| {
            Signal::ALL.map(|s| {
                let noun = s.item_noun();
                telemetry.counter(
                    &format!("otelcol_exporter_{what}_{noun}"),
                    &format!("{help} ({noun})."),
                    &labels,
                )
            })
        };
        ExporterCounters {
            sent: make("sent", "Successfully sent"),
            failed: make(
                "send_failed",
                "Failed to send (permanent error, retries exhausted, or dropped at shutdown)",
            ),
            enqueue_failed: make("enqueue_failed", "Refused by a full sending queue"),
            retries: telemetry.counter(
                "harrier_exporter_retries",
                "Export attempts retried after a retryable error.",
                &labels,
            ),
        }
    }

    pub(crate) fn enqueue_failed(&self, signal: Signal, items: usize) {
        self.enqueue_failed[signal_index(signal)].add(items as u64);
    }
}

/// A started runner: its worker tasks.
pub(crate) struct RunningExporter {
    pub(crate) id: ComponentId,
    pub(crate) workers: Vec<JoinHandle<()>>,
    pub(crate) receiver: Arc<Mutex<Receiver<ExportItem>>>,
    pub(crate) counters: ExporterCounters,
    pub(crate) exporter: Arc<dyn Exporter>,
}

/// Creates an exporter's queue and registers its size metrics.
pub(crate) fn queue(
    config: &RunnerConfig,
    id: &ComponentId,
    telemetry: &Telemetry,
) -> (Sender<ExportItem>, Receiver<ExportItem>) {
    let (tx, rx) = channel::bounded::<ExportItem>(config.queue_limits());
    let idstr = id.to_string();
    let labels = [("exporter", idstr.as_str())];
    let sizer = config.sending_queue.sizer;
    let weak = tx.stats_handle();
    telemetry.gauge_fn(
        "otelcol_exporter_queue_size",
        "Current size of the sending queue (in units of its sizer).",
        &labels,
        move || {
            let s = weak.stats();
            match sizer {
                Sizer::Requests => s.messages as f64,
                Sizer::Items => s.items as f64,
                Sizer::Bytes => s.bytes as f64,
            }
        },
    );
    let capacity = if config.sending_queue.enabled {
        config.sending_queue.queue_size
    } else {
        1
    };
    telemetry
        .gauge(
            "otelcol_exporter_queue_capacity",
            "Fixed capacity of the sending queue.",
            &labels,
        )
        .set(capacity as i64);
    (tx, rx)
}

/// Starts the workers of one exporter.
pub(crate) fn start(
    id: ComponentId,
    exporter: Arc<dyn Exporter>,
    config: RunnerConfig,
    queue: Receiver<ExportItem>,
    counters: ExporterCounters,
    hard_stop: CancellationToken,
) -> RunningExporter {
    let receiver = Arc::new(Mutex::new(queue));
    let config = Arc::new(config);
    let workers = (0..config.consumers())
        .map(|_| {
            let receiver = Arc::clone(&receiver);
            let exporter = Arc::clone(&exporter);
            let config = Arc::clone(&config);
            let counters = counters.clone();
            let hard_stop = hard_stop.clone();
            let id = id.clone();
            tokio::spawn(async move {
                loop {
                    let next = { receiver.lock().await.recv().await };
                    let Some(item) = next else { break };
                    deliver(&id, exporter.as_ref(), &config, &counters, &hard_stop, item).await;
                }
            })
        })
        .collect();
    RunningExporter {
        id,
        workers,
        receiver,
        counters,
        exporter,
    }
}

/// The wait before retry number `attempt` (0-based): exponential, capped, jittered.
pub fn backoff(config: &RetryConfig, attempt: u32, jitter_unit: f64) -> Duration {
    let base =
        config.initial_interval.as_secs_f64() * config.multiplier.powi(attempt.min(64) as i32);
    let capped = base.min(config.max_interval.as_secs_f64());
    let f = config.randomization_factor;
    // jitter_unit in [0, 1) maps to [1 - f, 1 + f).
    let scaled = capped * (1.0 - f + 2.0 * f * jitter_unit);
    Duration::from_secs_f64(scaled.max(0.0))
}

async fn deliver(
    id: &ComponentId,
    exporter: &dyn Exporter,
    config: &RunnerConfig,
    counters: &ExporterCounters,
    hard_stop: &CancellationToken,
    item: ExportItem,
) {
    let signal = item.batch.signal();
    let idx = signal_index(signal);
    let first = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let attempt_result = tokio::select! {
            r = tokio::time::timeout(config.timeout, exporter.export(&item.batch)) => r,
            _ = hard_stop.cancelled() => {
                tracing::error!(exporter = %id, %signal, items = item.items, "dropping data: shutdown deadline reached during an export attempt");
                counters.failed[idx].add(item.items as u64);
                item.finalizers.update(DeliveryStatus::Errored);
                return;
            }
        };
        let result = match attempt_result {
            Ok(r) => r,
            Err(_) => Err(crate::error::ExportError::retryable(
                format!(
                    "export timed out after {}",
                    humantime::format_duration(config.timeout)
                ),
                None,
            )),
        };
        let error = match result {
            Ok(()) => {
                counters.sent[idx].add(item.items as u64);
                item.finalizers.update(DeliveryStatus::Delivered);
                return;
            }
            Err(e) => e,
        };
        let retry = &config.retry_on_failure;
        let wait = match error.kind() {
            ErrorKind::Retryable { retry_after } if retry.enabled => {
                let w = backoff(retry, attempt, rand::rng().random::<f64>());
                // A server's Retry-After is a floor on the wait, never shortened by backoff.
                Some(retry_after.map_or(w, |ra| ra.max(w)))
            }
            _ => None,
        };
        let within_budget = |w: Duration| {
            retry.max_elapsed_time.is_zero() || first.elapsed() + w <= retry.max_elapsed_time
        };
        match wait {
            Some(w) if within_budget(w) && !hard_stop.is_cancelled() => {
                tracing::warn!(exporter = %id, %signal, error = %error, retry_in = ?w, attempt, "export failed; will retry");
                counters.retries.inc();
                attempt += 1;
                tokio::select! {
                    _ = tokio::time::sleep(w) => {}
                    _ = hard_stop.cancelled() => {
                        tracing::error!(exporter = %id, %signal, items = item.items, "dropping data: shutdown deadline reached while retrying");
                        counters.failed[idx].add(item.items as u64);
                        item.finalizers.update(DeliveryStatus::Errored);
                        return;
                    }
                }
            }
            _ => {
                let why = if error.is_retryable() {
                    "retries exhausted or disabled"
                } else {
                    "permanent error"
                };
                tracing::error!(exporter = %id, %signal, items = item.items, error = %error, "dropping data: {why}");
                counters.failed[idx].add(item.items as u64);
                item.finalizers.update(DeliveryStatus::Errored);
                return;
            }
        }
    }
}

impl RunningExporter {
    /// Counts what is still queued as failed (called at the shutdown deadline after the
    /// workers were stopped).
    pub(crate) async fn drop_remaining(&self) -> usize {
        let mut rx = self.receiver.lock().await;
        rx.close();
        let mut dropped = 0;
        while let Some(item) = rx.try_recv() {
            self.counters.failed[signal_index(item.batch.signal())].add(item.items as u64);
            dropped += item.items;
        }
        if dropped > 0 {
            tracing::error!(exporter = %self.id, items = dropped, "dropping queued data: shutdown deadline reached");
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let c = RetryConfig {
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            multiplier: 2.0,
            randomization_factor: 0.5,
            ..RetryConfig::default()
        };
        assert_eq!(backoff(&c, 0, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(&c, 2, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(&c, 10, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(&c, 0, 0.0), Duration::from_millis(500));
        assert!(backoff(&c, 0, 0.999) < Duration::from_millis(1500));
    }

    #[test]
    fn splits_framework_keys() {
        let v: toml::Value = toml::from_str(
            r#"
            endpoint = "x"
            timeout = "2s"
            sending_queue = { queue_size = 5, sizer = "items" }
            retry_on_failure = { initial_interval = "100ms", max_interval = "1s" }
            "#,
        )
        .unwrap();
        let (c, rest) = RunnerConfig::split(&v).unwrap();
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.sending_queue.queue_size, 5);
        assert_eq!(c.queue_limits().max_items, Some(5));
        assert_eq!(rest.as_table().map(|t| t.len()), Some(1));
        let bad: toml::Value = toml::from_str("sending_queue = { queue_sise = 5 }").unwrap();
        let errs = RunnerConfig::split(&bad).unwrap_err();
        assert!(errs[0].to_string().contains("queue_sise"), "{}", errs[0]);
        let bad: toml::Value = toml::from_str("timeout = \"5 parsecs\"").unwrap();
        let errs = RunnerConfig::split(&bad).unwrap_err();
        assert_eq!(errs[0].path, "timeout");
    }
}

//! Receiver `host_metrics`: metrics about the machine the collector runs on, after the
//! OTel Collector's `hostmetrics` receiver and the OTel semantic conventions for system
//! metrics.
//!
//! Every `collection_interval` the receiver runs the enabled scrapers ([`Scraper`]) on
//! a blocking thread, puts everything they produced into one metrics [`Batch`] under a
//! `host.name` resource, and hands it to [`Output::send`]. A failing scraper is logged
//! and counted (`harrier_receiver_host_metrics_errors{receiver, scraper}`); the others
//! still report. Cumulative sums start at the machine's boot time (`btime` in
//! `/proc/stat`), or at the receiver's start when that is unknown, so the start time is
//! the same in every collection. Files under `/proc` are read below `root_path`, and
//! the filesystem scraper measures the host's mounts below it too.

mod config;
mod procfs;
mod scrape;
#[cfg(test)]
mod tests;

pub use config::{HostMetricsConfig, Scraper, ScraperConfig};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::envelope::Envelope;
use harrier_core::error::{ComponentError, ConfigError};
use harrier_core::output::Output;
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use harrier_pdata::otlp::resource::v1::Resource;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// Factory for `host_metrics`.
pub struct HostMetricsFactory;

impl Factory for HostMetricsFactory {
    fn type_name(&self) -> &'static str {
        "host_metrics"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["hostmetrics"]
    }
    fn description(&self) -> &'static str {
        "CPU, memory, load, filesystem, disk, network, paging and process metrics of this host"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<HostMetricsConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
}

impl ReceiverFactory for HostMetricsFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Metrics]
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: HostMetricsConfig = parse_config(config)?;
        config.validate().map_err(|mut e| e.remove(0))?;
        Ok(Box::new(HostMetricsReceiver { config }))
    }
}

/// The built receiver.
pub struct HostMetricsReceiver {
    config: HostMetricsConfig,
}

#[async_trait]
impl Receiver for HostMetricsReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let output = ctx.output.with_transport("internal");
        let receiver = output.id().to_string();
        let scrapers: Vec<(Scraper, Counter)> = self
            .config
            .enabled()
            .into_iter()
            .map(|s| {
                let counter = output.telemetry().counter(
                    "harrier_receiver_host_metrics_errors",
                    "Number of failed host_metrics scrapes.",
                    &[("receiver", receiver.as_str()), ("scraper", s.name())],
                );
                (s, counter)
            })
            .collect();
        let run = Run {
            output,
            root: self.config.root_path.clone(),
            interval: self.config.collection_interval,
            scrapers,
        };
        Ok(run.serve(ctx.shutdown).boxed())
    }
}

/// What the collection loop owns.
struct Run {
    output: Output,
    root: PathBuf,
    interval: Duration,
    scrapers: Vec<(Scraper, Counter)>,
}

/// Facts read once at start.
struct Identity {
    start_unix_nanos: u64,
    host_name: String,
}

impl Identity {
    fn read(root: &Path) -> Identity {
        let boot = scrape::read_proc(root, "stat")
            .ok()
            .and_then(|text| procfs::parse_stat(&text).boot_time);
        let start_unix_nanos =
            boot.map_or_else(now_unix_nanos, |s| s.saturating_mul(1_000_000_000));
        let host_name = scrape::read_proc(root, "sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| sysinfo::System::host_name().ok())
            .unwrap_or_default();
        Identity {
            start_unix_nanos,
            host_name,
        }
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Run {
    async fn serve(self, shutdown: CancellationToken) {
        let root = self.root.clone();
        let identity = match tokio::task::spawn_blocking(move || Identity::read(&root)).await {
            Ok(identity) => Arc::new(identity),
            Err(e) => {
                tracing::error!(receiver = %self.output.id(), error = %e, "host_metrics could not start");
                return;
            }
        };
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let Some(batch) = self.collect(&identity).await else {
                continue;
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                sent = self.output.send(Envelope::new(batch), None) => {
                    if let Err(e) = sent {
                        tracing::warn!(receiver = %self.output.id(), error = %e, "host metrics not accepted");
                    }
                }
            }
        }
    }

    /// One collection; `None` when no scraper produced anything.
    async fn collect(&self, identity: &Identity) -> Option<Batch> {
        let times = scrape::Times {
            start: identity.start_unix_nanos,
            now: now_unix_nanos(),
        };
        let root = self.root.clone();
        let scrapers: Vec<Scraper> = self.scrapers.iter().map(|(s, _)| *s).collect();
        let results = tokio::task::spawn_blocking(move || {
            scrapers
                .into_iter()
                .map(|s| scrape::scrape(s, &root, times))
                .collect::<Vec<_>>()
        })
        .await;
        let results = match results {
            Ok(results) => results,
            Err(e) => {
                tracing::warn!(receiver = %self.output.id(), error = %e, "host metrics collection failed");
                return None;
            }
        };
        let mut metrics: Vec<Metric> = Vec::new();
        for ((scraper, errors), result) in self.scrapers.iter().zip(results) {
            match result {
                Ok(m) => metrics.extend(m),
                Err(e) => {
                    errors.inc();
                    tracing::warn!(receiver = %self.output.id(), scraper = scraper.name(), error = %e, "scrape failed");
                }
            }
        }
        if metrics.is_empty() {
            return None;
        }
        Some(Batch::Metrics(vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "host.name".to_string(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(identity.host_name.clone())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "harrier/host_metrics".to_string(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }]))
    }
}

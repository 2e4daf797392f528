//! Exporter `prometheus_remote_write`: pushes metrics to a Prometheus remote-write 1.0
//! endpoint (Prometheus with `--web.enable-remote-write-receiver`, Mimir, Cortex,
//! Thanos receive, VictoriaMetrics), configured like the OpenTelemetry Collector's
//! `prometheusremotewrite` exporter.
//!
//! - [`PrometheusRemoteWriteConfig`]: endpoint, headers, TLS, external labels, naming;
//! - `convert`: OTLP -> series (names and labels shared with the `prometheus` pull
//!   exporter's `naming` module);
//! - `request`: splitting by `max_batch_size_bytes`;
//! - `proto`: the wire messages, mirroring `proto/prometheus/remote_write.proto`;
//! - `exporter`: the reqwest client, snappy, response classification.
//!
//! Queueing, retries and the per-attempt timeout belong to the framework's
//! `ExporterRunner`; each `export` is one attempt at the whole batch. Long-form
//! documentation: `docs/components/exporters.md`.

mod config;
mod convert;
mod exporter;
mod proto;
mod request;
#[cfg(test)]
mod tests;

pub use config::{
    DEFAULT_MAX_BATCH_SIZE_BYTES, PrometheusRemoteWriteConfig, RemoteWriteTlsConfig,
    ResourceToTelemetryConfig, TargetInfoConfig,
};

use crate::shared::first_error;
use exporter::{DroppedPoints, RemoteWriteExporter};
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// The counter of points the conversion drops (rendered with `_total`), labelled by
/// `exporter` and `reason` (`delta_temporality`, `exponential_histogram`).
pub const DROPPED_POINTS_METRIC: &str = "harrier_exporter_prometheus_remote_write_dropped_points";

/// Factory for the `prometheus_remote_write` exporter.
pub struct PrometheusRemoteWriteExporterFactory;

impl Factory for PrometheusRemoteWriteExporterFactory {
    fn type_name(&self) -> &'static str {
        "prometheus_remote_write"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["prometheusremotewrite"]
    }
    fn description(&self) -> &'static str {
        "Pushes metrics to a Prometheus remote-write endpoint"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let config: PrometheusRemoteWriteConfig = parse_config(config).map_err(|e| vec![e])?;
        config.validate().map(|_| ())
    }
}

impl ExporterFactory for PrometheusRemoteWriteExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Metrics]
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config: PrometheusRemoteWriteConfig = parse_config(config)?;
        let settings = config.validate().map_err(first_error)?;
        let id = ctx.id.to_string();
        let counter = |reason: &str| {
            ctx.telemetry.counter(
                DROPPED_POINTS_METRIC,
                "Metric points the prometheus_remote_write exporter dropped in conversion \
                 (non-cumulative sums and histograms, exponential histograms).",
                &[("exporter", id.as_str()), ("reason", reason)],
            )
        };
        let dropped = DroppedPoints {
            delta: counter("delta_temporality"),
            exponential: counter("exponential_histogram"),
        };
        Ok(Arc::new(RemoteWriteExporter::new(settings, dropped)))
    }
}

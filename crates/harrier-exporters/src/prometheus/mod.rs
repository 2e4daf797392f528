//! Exporter `prometheus`: serves the latest value of every metric series at
//! `http://<endpoint>/metrics` in the Prometheus text format 0.0.4 (OpenMetrics 1.0 when
//! the scraper's `Accept` header asks for it), named per the
//! OpenTelemetry "Prometheus and OpenMetrics compatibility" specification.
//!
//! Key types: [`PrometheusConfig`]; the store (`store.rs`) holding each series' state
//! behind one mutex, which `export` updates and the HTTP handler renders; the naming
//! rules (`naming.rs`); text primitives (`text.rs`). Long-form documentation:
//! `docs/components/exporters.md`.

mod config;
mod exporter;
pub(crate) mod naming;
mod store;
#[cfg(test)]
mod tests;
pub(crate) mod text;

pub use config::PrometheusConfig;

use exporter::PrometheusExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use store::Store;
use tokio_util::sync::CancellationToken;

/// Factory for the `prometheus` exporter.
pub struct PrometheusExporterFactory;

fn parse(config: &toml::Value) -> Result<PrometheusConfig, Vec<ConfigError>> {
    let parsed = parse_config::<PrometheusConfig>(config).map_err(|e| vec![e])?;
    let problems = parsed.problems();
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

impl Factory for PrometheusExporterFactory {
    fn type_name(&self) -> &'static str {
        "prometheus"
    }
    fn description(&self) -> &'static str {
        "Serves metrics for Prometheus to scrape"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse(config).map(|_| ())
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse(config)
            .ok()
            .and_then(|c| c.socket_addr().ok())
            .map(|addr| vec![("endpoint".to_string(), addr)])
            .unwrap_or_default()
    }
}

impl ExporterFactory for PrometheusExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Metrics]
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config = parse(config).map_err(|mut errors| errors.remove(0))?;
        let expiration = config.expiration()?;
        let id = ctx.id.to_string();
        let labels: &[(&str, &str)] = &[("exporter", id.as_str())];
        Ok(Arc::new(PrometheusExporter {
            endpoint: config.endpoint.clone(),
            store: Arc::new(Store::new(&config.const_labels, expiration)),
            shutdown: CancellationToken::new(),
            expired_series: ctx.telemetry.counter(
                "harrier_exporter_prometheus_expired_series",
                "Series the prometheus exporter removed because they were not updated within metric_expiration.",
                labels,
            ),
            skipped_points: ctx.telemetry.counter(
                "harrier_exporter_prometheus_skipped_points",
                "Exponential histogram points the prometheus exporter skipped (not supported).",
                labels,
            ),
            warned_exponential: AtomicBool::new(false),
        }))
    }
}

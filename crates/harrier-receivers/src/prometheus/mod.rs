//! Receiver `prometheus`: scrapes Prometheus targets, as a Prometheus server or the OTel
//! Collector's prometheus receiver does, and produces OTLP metrics.
//!
//! - `config.rs`: `scrape_configs` with Prometheus's keys and defaults.
//! - [`discovery`]: `static_configs` and `file_sd_configs`; [`relabel`]: relabeling.
//! - `targets.rs`: target label population and URLs; `scrape.rs`: the loops and the
//!   HTTP client; [`parse`]: the text 0.0.4 / OpenMetrics 1.0 parser; `convert.rs`:
//!   exposition -> OTLP; `series.rs`: start-time tracking, staleness markers and the
//!   grouping of points into metrics.
//!
//! Long-form documentation: `docs/components/prometheus_receiver.md`.

mod config;
mod convert;
pub mod discovery;
pub mod parse;
pub mod relabel;
mod scrape;
mod series;
mod targets;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_scrape;

pub use config::{PrometheusConfig, ScrapeConfig};
pub use convert::{Counts, Options, TargetInfo, convert};
pub use series::SeriesTracker;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::error::{ComponentError, ConfigError};
use scrape::JobRuntime;
use std::sync::Arc;

/// Factory for the `prometheus` receiver.
pub struct PrometheusFactory;

impl Factory for PrometheusFactory {
    fn type_name(&self) -> &'static str {
        "prometheus"
    }
    fn description(&self) -> &'static str {
        "Scrapes Prometheus targets (text 0.0.4 and OpenMetrics) with Prometheus's scrape_configs"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<PrometheusConfig>(config)
            .map_err(|e| vec![e])?
            .jobs()
            .map(|_| ())
    }
}

impl ReceiverFactory for PrometheusFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Metrics]
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: PrometheusConfig = parse_config(config)?;
        config.jobs().map_err(|mut e| e.remove(0))?;
        Ok(Box::new(PrometheusReceiver { config }))
    }
}

/// The built receiver.
pub struct PrometheusReceiver {
    config: PrometheusConfig,
}

#[async_trait]
impl Receiver for PrometheusReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let output = ctx.output.with_transport("http");
        let receiver = output.id().to_string();
        let jobs = self.config.jobs().map_err(|errors| {
            ComponentError::new(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let telemetry = output.telemetry().clone();
        let mut runtimes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let client = scrape::build_client(&job).await?;
            let labels = [
                ("receiver", receiver.as_str()),
                ("job", job.config.job_name.as_str()),
            ];
            runtimes.push(Arc::new(JobRuntime {
                client,
                output: output.clone(),
                scrapes: telemetry.counter(
                    "harrier_receiver_prometheus_scrapes",
                    "Number of successful scrapes.",
                    &labels,
                ),
                failures: telemetry.counter(
                    "harrier_receiver_prometheus_scrape_failures",
                    "Number of failed scrapes (target down, timeout, bad exposition, limits).",
                    &labels,
                ),
                sd_errors: telemetry.counter(
                    "harrier_receiver_prometheus_discovery_errors",
                    "Number of unusable target files and invalid targets.",
                    &labels,
                ),
                stale_markers: telemetry.counter(
                    "harrier_receiver_prometheus_stale_markers",
                    "Number of staleness markers emitted.",
                    &labels,
                ),
                targets: telemetry.gauge(
                    "harrier_receiver_prometheus_targets",
                    "Number of targets being scraped.",
                    &labels,
                ),
                job,
            }));
        }
        let shutdown = ctx.shutdown;
        Ok(async move {
            let loops = runtimes
                .into_iter()
                .map(|rt| scrape::run_job(rt, shutdown.clone()));
            futures::future::join_all(loops).await;
        }
        .boxed())
    }
}

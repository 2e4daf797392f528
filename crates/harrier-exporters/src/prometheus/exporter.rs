//! The prometheus exporter: `export` folds batches into the [`Store`]; an HTTP server
//! bound in `start` renders the store on every `GET /metrics`; `shutdown` (or dropping
//! the exporter) cancels the server.

use super::store::{Format, Store};
use async_trait::async_trait;
use bytes::Bytes;
use harrier_core::component::Exporter;
use harrier_core::error::{ComponentError, ExportError};
use harrier_core::http_server::{self, Handler};
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Scrapers are few; more concurrent connections than this wait to be accepted.
const MAX_CONNECTIONS: usize = 16;
/// How long in-flight scrapes may take to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(2);
/// The Prometheus text exposition format's content type.
pub(crate) const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The OpenMetrics 1.0 content type, served when the `Accept` header asks for it.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves the latest value of every series for scraping.
pub(crate) struct PrometheusExporter {
    pub(crate) endpoint: String,
    pub(crate) store: Arc<Store>,
    pub(crate) shutdown: CancellationToken,
    /// Series removed because they were not updated within `metric_expiration`.
    pub(crate) expired_series: Counter,
    /// Exponential histogram points skipped (not supported).
    pub(crate) skipped_points: Counter,
    pub(crate) warned_exponential: AtomicBool,
}

impl Drop for PrometheusExporter {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[async_trait]
impl Exporter for PrometheusExporter {
    async fn start(&self) -> Result<(), ComponentError> {
        let listener = http_server::bind(&self.endpoint).await?;
        let store = Arc::clone(&self.store);
        let expired = self.expired_series.clone();
        let handler: Handler = Arc::new(move |request| {
            let store = Arc::clone(&store);
            let expired = expired.clone();
            Box::pin(async move {
                if request.uri().path() != "/metrics" {
                    return http_server::response(404, "text/plain", "not found\n");
                }
                if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
                    return http_server::response(405, "text/plain", "method not allowed\n");
                }
                let wants_openmetrics = request
                    .headers()
                    .get_all(http::header::ACCEPT)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| v.contains("application/openmetrics-text"));
                let (format, content_type) = if wants_openmetrics {
                    (Format::OpenMetrics, OPENMETRICS_CONTENT_TYPE)
                } else {
                    (Format::Text, TEXT_CONTENT_TYPE)
                };
                expired.add(store.expire(Instant::now()) as u64);
                http_server::response(200, content_type, Bytes::from(store.render_as(format)))
            })
        });
        tokio::spawn(http_server::serve(
            listener,
            handler,
            self.shutdown.clone(),
            MAX_CONNECTIONS,
            DRAIN,
        ));
        Ok(())
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let Batch::Metrics(resources) = batch else {
            return Err(ExportError::permanent(
                "the prometheus exporter accepts metrics only",
            ));
        };
        let outcome = self.store.update(resources, Instant::now());
        if outcome.skipped_exponential_points > 0 {
            self.skipped_points.add(outcome.skipped_exponential_points);
            if !self.warned_exponential.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    points = outcome.skipped_exponential_points,
                    "prometheus exporter skips exponential histograms (counted, logged once)"
                );
            }
        }
        Ok(())
    }

    async fn shutdown(&self) {
        self.shutdown.cancel();
    }
}

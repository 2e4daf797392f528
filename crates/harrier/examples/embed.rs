//! Embedding Harrier in your own tokio service.
//!
//! Starts a collector from a TOML string inside the application's runtime (OTLP/HTTP on
//! an ephemeral-looking fixed port, debug exporter), registers an extra exporter of the
//! application's own, sends one log record to it over loopback, and shuts down.
//!
//! Run: `cargo run -p harrier --example embed`

use async_trait::async_trait;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory};
use harrier_core::error::{ConfigError, ExportError};
use harrier_pdata::{Batch, Signal};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An application-defined exporter: counts the items it receives.
struct Counting(Arc<AtomicUsize>);

#[async_trait]
impl Exporter for Counting {
    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        self.0.fetch_add(batch.item_count(), Ordering::Relaxed);
        Ok(())
    }
}

struct CountingFactory(Arc<AtomicUsize>);

impl Factory for CountingFactory {
    fn type_name(&self) -> &'static str {
        "counting"
    }
    fn description(&self) -> &'static str {
        "counts items (example)"
    }
    fn validate(&self, _config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        Ok(())
    }
}

impl ExporterFactory for CountingFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(&self, _: &toml::Value, _: &BuildContext) -> Result<Arc<dyn Exporter>, ConfigError> {
        Ok(Arc::new(Counting(Arc::clone(&self.0))))
    }
}

const CONFIG: &str = r#"
[receivers.otlp.http]
endpoint = "127.0.0.1:14318"
[processors.batch]
timeout = "50ms"
[exporters.counting]
[exporters.debug]
verbosity = "normal"
[service.telemetry.metrics]
address = ""
[service.pipelines.logs]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["counting", "debug"]
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let counted = Arc::new(AtomicUsize::new(0));
    let mut registry = harrier::registry();
    registry.add_exporter(CountingFactory(Arc::clone(&counted)));
    let config = harrier::Config::from_toml(CONFIG).map_err(harrier::CollectorError::Config)?;
    let collector =
        harrier::Collector::start_with(&config, &registry, harrier::Telemetry::new()).await?;

    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hello from the embedding app"}}]}]}]}"#;
    let response = reqwest::Client::new()
        .post("http://127.0.0.1:14318/v1/logs")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    println!("collector answered {}", response.status());

    let report = collector.shutdown().await;
    println!(
        "clean shutdown: {}, items counted by the app's exporter: {}",
        report.clean,
        counted.load(Ordering::Relaxed)
    );
    Ok(())
}

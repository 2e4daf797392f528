//! Exporter `otlp_http` (alias `otlphttp`): sends every signal to an OTLP/HTTP endpoint
//! as protobuf or OTLP/JSON, with reqwest.
//!
//! - [`OtlpHttpConfig`]: base and per-signal URLs, encoding, compression, headers, TLS;
//! - `exporter`: the client and request building;
//! - `response`: the OTLP/HTTP classification of responses (pure).
//!
//! Queueing, retries and the per-attempt timeout belong to the framework's
//! `ExporterRunner`; each `export` here is exactly one `POST`.

mod config;
mod exporter;
mod response;
#[cfg(test)]
mod tests;

pub use config::{HttpCompression, HttpEncoding, OtlpHttpConfig, OtlpHttpTlsConfig};

use crate::shared::first_error;
use crate::shared::partial_success::PartialSuccessReporter;
use exporter::OtlpHttpExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// Factory for the `otlp_http` exporter.
pub struct OtlpHttpExporterFactory;

impl Factory for OtlpHttpExporterFactory {
    fn type_name(&self) -> &'static str {
        "otlp_http"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["otlphttp"]
    }
    fn description(&self) -> &'static str {
        "Sends traces, metrics and logs over OTLP/HTTP (protobuf or JSON)"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let config: OtlpHttpConfig = parse_config(config).map_err(|e| vec![e])?;
        config.validate().map(|_| ())
    }
}

impl ExporterFactory for OtlpHttpExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config: OtlpHttpConfig = parse_config(config)?;
        let settings = config.validate().map_err(first_error)?;
        // Only now are the signals known: each one served needs a URL.
        if let Some(signal) = ctx.signals.iter().find(|s| settings.url(**s).is_none()) {
            return Err(ConfigError::new(
                "endpoint",
                format!("is required for {signal} (or set {signal}_endpoint)"),
            ));
        }
        Ok(Arc::new(OtlpHttpExporter::new(
            settings,
            PartialSuccessReporter::new(ctx),
        )))
    }
}

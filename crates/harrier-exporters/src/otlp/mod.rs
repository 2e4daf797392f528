//! Exporter `otlp` (alias `otlp_grpc`): sends every signal to an OTLP/gRPC endpoint
//! (another collector, a gateway, a vendor) with tonic and opentelemetry-proto's
//! generated clients.
//!
//! - [`OtlpConfig`]: endpoint, compression, metadata headers, TLS;
//! - `exporter`: the lazily connected client and the OTLP error classification.
//!
//! Queueing, retries and the per-attempt timeout belong to the framework's
//! `ExporterRunner`; each `export` here is exactly one `Export` call.

mod codec;
mod config;
mod exporter;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

pub use config::{GrpcCompression, OtlpConfig, OtlpTlsConfig};

use crate::shared::first_error;
use crate::shared::partial_success::PartialSuccessReporter;
use exporter::OtlpGrpcExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// Factory for the `otlp` exporter.
pub struct OtlpExporterFactory;

impl Factory for OtlpExporterFactory {
    fn type_name(&self) -> &'static str {
        "otlp"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["otlp_grpc"]
    }
    fn description(&self) -> &'static str {
        "Sends traces, metrics and logs over OTLP/gRPC"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let config: OtlpConfig = parse_config(config).map_err(|e| vec![e])?;
        config.validate().map(|_| ())
    }
}

impl ExporterFactory for OtlpExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config: OtlpConfig = parse_config(config)?;
        let settings = config.validate().map_err(first_error)?;
        Ok(Arc::new(OtlpGrpcExporter::new(
            settings,
            PartialSuccessReporter::new(ctx),
        )))
    }
}

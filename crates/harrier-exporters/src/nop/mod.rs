//! Exporter `nop`: discards everything it is given and reports success. For benchmarks
//! and for pipelines whose only purpose is their side effects (e.g. a connector-less
//! test of receivers).

mod config;
mod exporter;
#[cfg(test)]
mod tests;

pub use config::NopConfig;

use exporter::NopExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// Factory for the `nop` exporter.
pub struct NopExporterFactory;

impl Factory for NopExporterFactory {
    fn type_name(&self) -> &'static str {
        "nop"
    }
    fn description(&self) -> &'static str {
        "Discards everything (for benchmarks)"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<NopConfig>(config)
            .map(|_| ())
            .map_err(|e| vec![e])
    }
}

impl ExporterFactory for NopExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        parse_config::<NopConfig>(config)?;
        Ok(Arc::new(NopExporter))
    }
}

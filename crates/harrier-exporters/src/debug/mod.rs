//! Exporter `debug` (alias `logging`): prints every signal to standard output, for
//! trying out pipelines and looking at data.
//!
//! - [`DebugConfig`]: verbosity and sampling;
//! - [`format_batch`] (in `format`, with `detailed` and `detailed_metrics`): the pure
//!   text renderings;
//! - `exporter`: sampling and the locked stdout write.

mod config;
mod detailed;
mod detailed_metrics;
mod exporter;
mod format;
#[cfg(test)]
mod tests;

pub use config::{DebugConfig, Verbosity};
pub use format::format_batch;

use crate::shared::first_error;
use exporter::DebugExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// Factory for the `debug` exporter.
pub struct DebugExporterFactory;

impl Factory for DebugExporterFactory {
    fn type_name(&self) -> &'static str {
        "debug"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["logging"]
    }
    fn description(&self) -> &'static str {
        "Prints traces, metrics and logs to stdout (basic, normal or detailed)"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let config: DebugConfig = parse_config(config).map_err(|e| vec![e])?;
        config.validate().map(|_| ())
    }
}

impl ExporterFactory for DebugExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config: DebugConfig = parse_config(config)?;
        let sampling = config.validate().map_err(first_error)?;
        Ok(Arc::new(DebugExporter::new(config.verbosity, sampling)))
    }
}

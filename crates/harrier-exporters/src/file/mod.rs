//! Exporter `file`: appends every batch to a local file as one OTLP/JSON export request
//! per line (the OTel Collector's file exporter with `format: json`), optionally
//! rotating by size.
//!
//! - [`FileConfig`]: path and rotation;
//! - `writer`: the file, rotation and backup pruning (blocking I/O);
//! - `exporter`: encoding and the hand-off to the blocking pool.
//!
//! The file is opened in `start` (an unwritable path fails start-up, naming it); write
//! errors are permanent export errors.

mod config;
mod exporter;
#[cfg(test)]
mod tests;
mod writer;

pub use config::{FileConfig, RotationConfig};

use crate::shared::first_error;
use exporter::FileExporter;
use harrier_core::component::{BuildContext, Exporter, ExporterFactory, Factory, parse_config};
use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use std::sync::Arc;

/// Factory for the `file` exporter.
pub struct FileExporterFactory;

impl Factory for FileExporterFactory {
    fn type_name(&self) -> &'static str {
        "file"
    }
    fn description(&self) -> &'static str {
        "Appends OTLP/JSON lines to a local file, with optional size-based rotation"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let config: FileConfig = parse_config(config).map_err(|e| vec![e])?;
        config.validate().map(|_| ())
    }
}

impl ExporterFactory for FileExporterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError> {
        let config: FileConfig = parse_config(config)?;
        let settings = config.validate().map_err(first_error)?;
        Ok(Arc::new(FileExporter::new(settings)))
    }
}

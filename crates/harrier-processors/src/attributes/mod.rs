//! Processor `attributes`: inserts, updates, upserts, deletes, hashes, extracts and
//! converts attributes of spans, log records and metric data points, as the OTel
//! Collector's attributes processor does.
//!
//! Actions run in order on each selected item's own attributes (not on span events,
//! resources or scopes; `resource` handles resources). `include` / `exclude` select
//! items (see [`crate::matching`]). Everything is compiled at build time; the hot path
//! allocates only what an action writes. The action list is shared with `resource`
//! ([`action`]).

pub mod action;
mod config;
mod processor;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_select;

pub use config::{AttributesConfig, CompiledAttributes};
pub use processor::AttributesProcessor;

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `attributes`.
pub struct AttributesFactory;

impl Factory for AttributesFactory {
    fn type_name(&self) -> &'static str {
        "attributes"
    }
    fn description(&self) -> &'static str {
        "inserts, updates, deletes, hashes, extracts or converts item attributes"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<AttributesConfig>(config)
            .map_err(|e| vec![e])?
            .compile()
            .map(|_| ())
    }
}

impl ProcessorFactory for AttributesFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let compiled = parse_config::<AttributesConfig>(config)?
            .compile()
            .map_err(|mut e| e.remove(0))?;
        Ok(Box::new(AttributesProcessor::new(compiled)))
    }
}

//! Processor `batch`: groups items into batches of `send_batch_size`, sends a partial
//! batch after `timeout`, and splits batches above `send_batch_max_size`.
//!
//! Finalizers travel with the data: a merged batch carries the finalizers of every
//! envelope in it, and each piece of a split carries its own fork, so a receiver waiting
//! for delivery is answered only once every piece was handed on. Whatever is held is
//! emitted at shutdown (`flush`).

mod config;
mod processor;
#[cfg(test)]
mod tests;

pub use config::BatchConfig;
pub use processor::BatchProcessor;

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `batch`.
pub struct BatchFactory;

impl Factory for BatchFactory {
    fn type_name(&self) -> &'static str {
        "batch"
    }
    fn description(&self) -> &'static str {
        "groups items into batches by size and timeout; splits oversize batches"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<BatchConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
}

impl ProcessorFactory for BatchFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: BatchConfig = parse_config(config)?;
        Ok(Box::new(BatchProcessor::new(config, ctx)))
    }
}

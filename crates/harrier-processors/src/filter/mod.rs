//! Processor `filter`: drops spans, span events, log records, metrics and metric data
//! points that match structured conditions.
//!
//! Each level (`traces.span`, `traces.span_event`, `metrics.metric`,
//! `metrics.data_point`, `logs.log_record`) takes one [`ConditionConfig`]: a leaf
//! (`attribute`, `resource_attribute`, `name`, `name_matches`, `kind`, `status_code`,
//! `severity_below`, `body_matches`) or a combinator (`any`, `all`, `not`). Scope and
//! resource groups left empty are removed. Drops are counted in
//! `harrier_processor_filter_dropped_{spans,span_events,log_records,metric_points}`.
//! Dropping is on purpose, so an envelope left with no items is marked delivered and
//! not passed on. Long-form documentation: `docs/components/filter.md`.

mod condition;
mod config;
mod processor;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_config;

pub use condition::{Condition, Level};
pub use config::{
    AttributeConditionConfig, CompiledFilter, ConditionConfig, FilterConfig, LogsFilterConfig,
    MetricsFilterConfig, OneOrMany, TracesFilterConfig,
};
pub use processor::FilterProcessor;

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `filter`.
pub struct FilterFactory;

impl Factory for FilterFactory {
    fn type_name(&self) -> &'static str {
        "filter"
    }
    fn description(&self) -> &'static str {
        "drops spans, span events, log records, metrics or data points matching conditions"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<FilterConfig>(config)
            .map_err(|e| vec![e])?
            .compile()
            .map(|_| ())
    }
}

impl ProcessorFactory for FilterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let compiled = parse_config::<FilterConfig>(config)?
            .compile()
            .map_err(|mut e| e.remove(0))?;
        Ok(Box::new(FilterProcessor::new(compiled, ctx)))
    }
}

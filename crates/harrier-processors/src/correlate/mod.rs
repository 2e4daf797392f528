//! Processor `correlate`: links logs to traces.
//!
//! Listed in a traces pipeline it indexes the spans passing through (they pass on
//! unchanged); listed in a logs pipeline it gives every log record without a trace id
//! the one found in its attributes or body ([`Extractor`]: `trace_id`/`traceId`/
//! `trace.id`, `span_id`/`spanId`/`span.id`, `traceparent`, in attributes, JSON or map
//! bodies and text), and enriches records whose trace is indexed with `span.name` and,
//! where the resource lacks them, the span's `service.name` and `k8s.*` resource
//! attributes. One id listed in both pipelines shares one bounded [`SpanIndex`] through
//! the topology's [`harrier_core::component::SharedState`]. Operator guide:
//! `docs/components/correlate.md`.

mod config;
mod extract;
mod index;
mod json;
mod processor;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extract;
#[cfg(test)]
mod tests_index;

pub use config::CorrelateConfig;
pub use extract::{Extractor, Found, SpanId, TraceId};
pub use index::{Link, ResourceInfo, SpanIndex};
pub use processor::{CorrelateProcessor, SPAN_NAME_ATTRIBUTE};

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `correlate`.
pub struct CorrelateFactory;

impl Factory for CorrelateFactory {
    fn type_name(&self) -> &'static str {
        "correlate"
    }
    fn description(&self) -> &'static str {
        "fills in log trace context from attributes and bodies; enriches logs from indexed spans"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<CorrelateConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
}

impl ProcessorFactory for CorrelateFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Traces, Signal::Logs]
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: CorrelateConfig = parse_config(config)?;
        Ok(Box::new(CorrelateProcessor::new(&config, ctx)?))
    }
}

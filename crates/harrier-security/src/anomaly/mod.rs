//! Processor `anomaly`: turns Kubernetes telemetry into security findings in-flight.
//!
//! It looks at log records by their `event.domain` (`k8s.audit` audit events,
//! `runtime` events, `network.flow` records) and at spans of kind CLIENT, runs the
//! stateless rules ([`crate::rules`]) and the stateful detectors ([`engine`]) on them,
//! and tags items with findings in place with `security.anomaly.types`,
//! `security.anomaly.severity` and `security.anomaly.reason`. Other items pass
//! unchanged, without a copy.
//!
//! The stateful detectors keep per-entity "new value" baselines ([`baseline`]) in
//! event time, bounded by `max_entities`, shared by every pipeline the processor id is
//! listed in ([`store`]) and persisted under `storage_dir`. Key types:
//! [`AnomalyFactory`], [`AnomalyConfig`], [`AnomalyProcessor`]. Operator guide:
//! `docs/components/anomaly.md`.

pub mod baseline;
pub mod burst;
mod config;
pub mod dedupe;
pub mod engine;
pub mod names;
mod processor;
pub mod store;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_audit;
#[cfg(test)]
mod tests_pipeline;
#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_traffic;
pub mod verdicts;

pub use config::{
    AnomalyConfig, BASELINES, DetectorSettings, DetectorTable, ImageIdentity, NOVEL_API_CALL,
    NOVEL_CONNECTION, NOVEL_EXEC, NOVEL_IMAGE, NOVEL_PROCESS, NOVEL_SOURCE, ProcessGroup,
    RBAC_DENIED, RBAC_DENIED_BURST, STATEFUL, SourceField,
};
pub use processor::{AnomalyProcessor, REASON_ATTRIBUTE, SEVERITY_ATTRIBUTE, TYPES_ATTRIBUTE};

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::error::ConfigError;

/// Factory for `anomaly`.
pub struct AnomalyFactory;

impl Factory for AnomalyFactory {
    fn type_name(&self) -> &'static str {
        "anomaly"
    }
    fn description(&self) -> &'static str {
        "tags audit, runtime, flow records and client spans with security findings (rules and learned baselines)"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<AnomalyConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
}

impl ProcessorFactory for AnomalyFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs, Signal::Traces]
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: AnomalyConfig = parse_config(config)?;
        Ok(Box::new(AnomalyProcessor::new(&config, ctx)?))
    }
}

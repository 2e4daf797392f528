//! Processor `resource`: the `attributes` actions applied to the resource attributes of
//! traces, metrics and logs, as the OTel Collector's resource processor does (no
//! include / exclude: every resource is changed).
//!
//! The action list is the OTel key `attributes` (`actions` is accepted too). A batch
//! whose resource is absent gets an empty one first, so `insert` and `upsert` apply.

#[cfg(test)]
mod tests;

use crate::attributes::action::{ActionConfig, Actions, compile_actions};
use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory, parse_config};
use harrier_core::envelope::Envelope;
use harrier_core::error::ConfigError;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::resource::v1::Resource;
use serde::Deserialize;

/// `processors.resource` settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceConfig {
    /// Actions applied in order to every resource's attributes (at least one required;
    /// default none). Same keys as `attributes`' `actions`.
    #[serde(alias = "actions")]
    pub attributes: Vec<ActionConfig>,
}

impl ResourceConfig {
    /// Checks and compiles the actions.
    ///
    /// # Errors
    /// Every problem with its key path (`attributes[i].<key>`).
    pub fn compile(&self) -> Result<Actions, Vec<ConfigError>> {
        compile_actions(&self.attributes, "attributes")
    }
}

/// Factory for `resource`.
pub struct ResourceFactory;

impl Factory for ResourceFactory {
    fn type_name(&self) -> &'static str {
        "resource"
    }
    fn description(&self) -> &'static str {
        "inserts, updates, deletes, hashes, extracts or converts resource attributes"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<ResourceConfig>(config)
            .map_err(|e| vec![e])?
            .compile()
            .map(|_| ())
    }
}

impl ProcessorFactory for ResourceFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let actions = parse_config::<ResourceConfig>(config)?
            .compile()
            .map_err(|mut e| e.remove(0))?;
        Ok(Box::new(ResourceProcessor { actions }))
    }
}

/// Runs the actions on every resource of a batch.
pub struct ResourceProcessor {
    actions: Actions,
}

impl ResourceProcessor {
    /// Applies the actions to every resource of `batch`.
    pub fn apply(&self, batch: &mut Batch) {
        let apply = |resource: &mut Option<Resource>| {
            let attrs: &mut Vec<KeyValue> =
                &mut resource.get_or_insert_with(Resource::default).attributes;
            self.actions.apply(attrs);
        };
        match batch {
            Batch::Traces(rs) => rs.iter_mut().for_each(|r| apply(&mut r.resource)),
            Batch::Metrics(rm) => rm.iter_mut().for_each(|r| apply(&mut r.resource)),
            Batch::Logs(rl) => rl.iter_mut().for_each(|r| apply(&mut r.resource)),
        }
    }
}

impl Processor for ResourceProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        self.apply(&mut envelope.batch);
        out.push(envelope);
    }
}

//! `attributes` settings.

use super::action::{ActionConfig, Actions, compile_actions};
use crate::matching::{ItemSelector, MatchConfig};
use harrier_core::error::ConfigError;
use serde::Deserialize;

/// `processors.attributes` settings (the OTel Collector's keys).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributesConfig {
    /// Actions applied in order to the attributes of each selected span, log record and
    /// data point (at least one required; default none).
    pub actions: Vec<ActionConfig>,
    /// Only items matching this block are processed (default: every item).
    pub include: Option<MatchConfig>,
    /// Items matching this block are not processed (default: none excluded).
    pub exclude: Option<MatchConfig>,
}

/// The compiled form of [`AttributesConfig`].
#[derive(Debug, Clone)]
pub struct CompiledAttributes {
    /// The actions.
    pub actions: Actions,
    /// Which items they apply to.
    pub selector: ItemSelector,
}

impl AttributesConfig {
    /// Checks and compiles the settings (every regex compiled once, here).
    ///
    /// # Errors
    /// Every problem with its key path.
    pub fn compile(&self) -> Result<CompiledAttributes, Vec<ConfigError>> {
        let actions = compile_actions(&self.actions, "actions");
        let selector = ItemSelector::compile(self.include.as_ref(), self.exclude.as_ref());
        match (actions, selector) {
            (Ok(actions), Ok(selector)) => Ok(CompiledAttributes { actions, selector }),
            (a, s) => Err(a.err().into_iter().chain(s.err()).flatten().collect()),
        }
    }
}

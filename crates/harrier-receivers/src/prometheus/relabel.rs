//! TEMPORARY stub (replaced on merge).
#![allow(missing_docs, dead_code)]
use harrier_core::error::ConfigError;
use serde::Deserialize;
pub type Labels = Vec<(String, String)>;
#[derive(Debug, Clone, Deserialize)]
pub struct RelabelConfig {
    #[serde(default)]
    pub source_labels: Vec<String>,
}
pub struct Relabeler;
impl Relabeler {
    pub fn new(_configs: &[RelabelConfig], _key: &str) -> Result<Relabeler, Vec<ConfigError>> {
        Ok(Relabeler)
    }
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn apply(&self, _labels: &mut Labels) -> bool {
        true
    }
}

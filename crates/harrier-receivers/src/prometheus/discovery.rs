//! TEMPORARY stub (replaced on merge).
#![allow(missing_docs, dead_code)]
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub source: String,
}
#[derive(Debug, Clone, Deserialize)]
pub struct StaticConfig {
    pub targets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}
#[derive(Debug, Clone, Deserialize)]
pub struct FileSdConfig {
    pub files: Vec<String>,
}
pub struct FileWatcher;
impl FileWatcher {
    pub fn new(_configs: &[FileSdConfig]) -> FileWatcher {
        FileWatcher
    }
    pub fn poll(&mut self) -> (Option<Vec<TargetGroup>>, Vec<String>) {
        (None, Vec::new())
    }
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(5)
    }
}

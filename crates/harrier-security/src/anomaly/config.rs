//! `anomaly` settings: the processor's own keys and one table per detector.
//!
//! `[processors.anomaly.detectors.<name>]` tables are kept as raw TOML in
//! [`AnomalyConfig::detectors`]: the stateless rules ([`crate::rules::NAMES`]) parse
//! their own tables, the stateful detectors ([`STATEFUL`]) are parsed here into
//! [`DetectorSettings`]. A name in neither list is an error naming its key.

use crate::finding::Severity;
use crate::rules;
use harrier_core::component::parse_config;
use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// `rbac_denied`: every 401/403 audit event.
pub const RBAC_DENIED: &str = "rbac_denied";
/// `rbac_denied_burst`: many denials by one identity within a window.
pub const RBAC_DENIED_BURST: &str = "rbac_denied_burst";
/// `novel_api_call`: an identity's first use of an API operation.
pub const NOVEL_API_CALL: &str = "novel_api_call";
/// `novel_source`: an identity seen from a new address or user agent.
pub const NOVEL_SOURCE: &str = "novel_source";
/// `novel_image`: an image never seen in the namespace (or cluster).
pub const NOVEL_IMAGE: &str = "novel_image";
/// `novel_exec`: an identity's first exec into a workload.
pub const NOVEL_EXEC: &str = "novel_exec";
/// `novel_process`: a process never seen for an image or workload.
pub const NOVEL_PROCESS: &str = "novel_process";
/// `novel_connection`: a source -> destination:port edge never seen.
pub const NOVEL_CONNECTION: &str = "novel_connection";

/// The stateful detectors this module implements.
pub const STATEFUL: &[&str] = &[
    RBAC_DENIED,
    RBAC_DENIED_BURST,
    NOVEL_API_CALL,
    NOVEL_SOURCE,
    NOVEL_IMAGE,
    NOVEL_EXEC,
    NOVEL_PROCESS,
    NOVEL_CONNECTION,
];

/// The baselines (detectors with a learning period), in snapshot order.
pub const BASELINES: &[&str] = &[
    NOVEL_API_CALL,
    NOVEL_SOURCE,
    NOVEL_IMAGE,
    NOVEL_EXEC,
    NOVEL_PROCESS,
    NOVEL_CONNECTION,
];

/// `processors.anomaly` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Directory where the baselines are persisted (default: none, baselines live in
    /// memory only). Created when the first snapshot is written.
    pub storage_dir: Option<PathBuf>,
    /// How often the baselines are written to `storage_dir` (default `60s`); they are
    /// also written at shutdown.
    #[serde(with = "duration")]
    pub snapshot_interval: Duration,
    /// Entities each detector keeps at most (default 100000); the least recently seen
    /// one is evicted and counted in `harrier_processor_anomaly_evictions`.
    pub max_entities: usize,
    /// Values each entity of a baseline keeps at most (default 1000); the least
    /// recently seen value is dropped first.
    pub max_values_per_entity: usize,
    /// How long (event time) an audit `(k8s.audit.id, k8s.audit.stage)` pair is
    /// remembered to drop duplicates (default `10m`).
    #[serde(with = "duration")]
    pub dedupe_window: Duration,
    /// Audit `(id, stage)` pairs remembered at most (default 100000).
    pub dedupe_capacity: usize,
    /// One table per detector or rule, keyed by its name.
    pub detectors: BTreeMap<String, toml::Value>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            storage_dir: None,
            snapshot_interval: Duration::from_secs(60),
            max_entities: 100_000,
            max_values_per_entity: 1000,
            dedupe_window: Duration::from_secs(600),
            dedupe_capacity: 100_000,
            detectors: BTreeMap::new(),
        }
    }
}

/// How `novel_image` and `novel_process` name an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageIdentity {
    /// Registry and repository, without tag or digest (`ghcr.io/acme/api`): a new tag
    /// of a known image is not novel.
    Repository,
    /// The full reference as written in the pod spec (`ghcr.io/acme/api:1.4.2`).
    Reference,
}

/// What `novel_process` keys its baseline by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessGroup {
    /// The container image (see `image_identity`).
    Image,
    /// The workload: `k8s.namespace.name` + `k8s.workload.name` (or the pod name
    /// without its generated suffix).
    Workload,
}

/// What `novel_source` tracks per identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceField {
    /// `source.address`
    Address,
    /// `user_agent.original`, normalised (versions removed).
    UserAgent,
}

/// One stateful detector's table. Every key is optional; keys that do not apply to a
/// detector are rejected by [`DetectorSettings::parse`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetector {
    enabled: Option<bool>,
    severity: Option<Severity>,
    #[serde(default, with = "opt_duration")]
    learning_period: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    forget_after: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    window: Option<Duration>,
    threshold: Option<usize>,
    distinct_resources: Option<usize>,
    fields: Option<Vec<SourceField>>,
    image_identity: Option<ImageIdentity>,
    group_by: Option<ProcessGroup>,
}

/// Settings of one stateful detector, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorSettings {
    /// Whether it runs (default `true`).
    pub enabled: bool,
    /// Overrides the detector's built-in severities when set.
    pub severity: Option<Severity>,
    /// How long (event time) after an entity is first seen its novelties stay silent
    /// (default `24h`).
    pub learning_period: Duration,
    /// A value (or a whole entity) not seen for this long is forgotten (default `14d`).
    pub forget_after: Duration,
    /// `rbac_denied_burst`: the sliding window (default `5m`).
    pub window: Duration,
    /// `rbac_denied_burst`: denials within `window` that make a burst (default 10).
    pub threshold: usize,
    /// `rbac_denied_burst`: distinct denied (verb, resource) pairs within `window` that
    /// make a burst (default 5).
    pub distinct_resources: usize,
    /// `novel_source`: what is tracked (default both `address` and `user_agent`).
    pub fields: Vec<SourceField>,
    /// `novel_image` / `novel_process`: image naming (default `repository`).
    pub image_identity: ImageIdentity,
    /// `novel_process`: baseline key (default `image`).
    pub group_by: ProcessGroup,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            enabled: true,
            severity: None,
            learning_period: Duration::from_secs(24 * 3600),
            forget_after: Duration::from_secs(14 * 24 * 3600),
            window: Duration::from_secs(300),
            threshold: 10,
            distinct_resources: 5,
            fields: vec![SourceField::Address, SourceField::UserAgent],
            image_identity: ImageIdentity::Repository,
            group_by: ProcessGroup::Image,
        }
    }
}

impl DetectorSettings {
    /// Parses the table of the stateful detector `name` (paths relative to the table).
    ///
    /// # Errors
    /// Unknown keys, keys that do not apply to `name`, bad values.
    pub fn parse(name: &str, table: &toml::Value) -> Result<DetectorSettings, Vec<ConfigError>> {
        let raw: RawDetector = parse_config(table).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let mut not_for = |set: bool, key: &str, only: &str| {
            if set {
                errors.push(ConfigError::new(
                    key,
                    format!("unknown key for detector `{name}` (only {only} has it)"),
                ));
            }
        };
        let novelty = BASELINES.contains(&name);
        not_for(
            !novelty && raw.learning_period.is_some(),
            "learning_period",
            "the novel_* detectors",
        );
        not_for(
            !novelty && raw.forget_after.is_some(),
            "forget_after",
            "the novel_* detectors",
        );
        let burst = name == RBAC_DENIED_BURST;
        not_for(!burst && raw.window.is_some(), "window", RBAC_DENIED_BURST);
        not_for(
            !burst && raw.threshold.is_some(),
            "threshold",
            RBAC_DENIED_BURST,
        );
        not_for(
            !burst && raw.distinct_resources.is_some(),
            "distinct_resources",
            RBAC_DENIED_BURST,
        );
        not_for(
            name != NOVEL_SOURCE && raw.fields.is_some(),
            "fields",
            NOVEL_SOURCE,
        );
        not_for(
            name != NOVEL_IMAGE && name != NOVEL_PROCESS && raw.image_identity.is_some(),
            "image_identity",
            "novel_image and novel_process",
        );
        not_for(
            name != NOVEL_PROCESS && raw.group_by.is_some(),
            "group_by",
            NOVEL_PROCESS,
        );
        let d = DetectorSettings::default();
        let settings = DetectorSettings {
            enabled: raw.enabled.unwrap_or(d.enabled),
            severity: raw.severity,
            learning_period: raw.learning_period.unwrap_or(d.learning_period),
            forget_after: raw.forget_after.unwrap_or(d.forget_after),
            window: raw.window.unwrap_or(d.window),
            threshold: raw.threshold.unwrap_or(d.threshold),
            distinct_resources: raw.distinct_resources.unwrap_or(d.distinct_resources),
            fields: raw.fields.unwrap_or(d.fields),
            image_identity: raw.image_identity.unwrap_or(d.image_identity),
            group_by: raw.group_by.unwrap_or(d.group_by),
        };
        if settings.forget_after.is_zero() {
            errors.push(ConfigError::new("forget_after", "must be longer than 0s"));
        }
        if settings.window.is_zero() {
            errors.push(ConfigError::new("window", "must be longer than 0s"));
        }
        if settings.threshold == 0 {
            errors.push(ConfigError::new("threshold", "must be at least 1"));
        }
        if settings.distinct_resources == 0 {
            errors.push(ConfigError::new("distinct_resources", "must be at least 1"));
        }
        if settings.fields.is_empty() {
            errors.push(ConfigError::new("fields", "must name at least one field"));
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// Every stateful detector's settings, by name.
pub type DetectorTable = BTreeMap<&'static str, DetectorSettings>;

impl AnomalyConfig {
    /// Checks the processor keys and every detector table (stateful ones here, rules
    /// through [`rules::RuleSet::from_config`]).
    ///
    /// # Errors
    /// Each problem with its key path relative to the processor's section.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if let Err(mut e) = self.detector_settings() {
            errors.append(&mut e);
        }
        if let Err(mut e) = rules::RuleSet::from_config(&self.detectors) {
            errors.append(&mut e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The processor's own keys and the stateful detectors' settings, defaults applied
    /// for absent tables.
    ///
    /// # Errors
    /// Each problem with its key path relative to the processor's section.
    pub fn detector_settings(&self) -> Result<DetectorTable, Vec<ConfigError>> {
        let mut errors = Vec::new();
        for (key, zero) in [
            ("snapshot_interval", self.snapshot_interval.is_zero()),
            ("dedupe_window", self.dedupe_window.is_zero()),
        ] {
            if zero {
                errors.push(ConfigError::new(key, "must be longer than 0s"));
            }
        }
        for (key, zero) in [
            ("max_entities", self.max_entities == 0),
            ("max_values_per_entity", self.max_values_per_entity == 0),
            ("dedupe_capacity", self.dedupe_capacity == 0),
        ] {
            if zero {
                errors.push(ConfigError::new(key, "must be at least 1"));
            }
        }
        for name in self.detectors.keys() {
            if !STATEFUL.contains(&name.as_str()) && !rules::NAMES.contains(&name.as_str()) {
                let mut known: Vec<&str> = STATEFUL.iter().chain(rules::NAMES).copied().collect();
                known.sort_unstable();
                errors.push(ConfigError::new(
                    format!("detectors.{name}"),
                    format!("unknown detector; known: {}", known.join(", ")),
                ));
            }
        }
        let mut table = DetectorTable::new();
        for name in STATEFUL {
            let parsed = match self.detectors.get(*name) {
                None => Ok(DetectorSettings::default()),
                Some(value) => DetectorSettings::parse(name, value),
            };
            match parsed {
                Ok(settings) => {
                    table.insert(name, settings);
                }
                Err(e) => {
                    errors.extend(e.into_iter().map(|e| e.under(&format!("detectors.{name}"))))
                }
            }
        }
        if errors.is_empty() {
            Ok(table)
        } else {
            Err(errors)
        }
    }
}

/// An optional humantime duration.
mod opt_duration {
    use serde::Deserializer;
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        harrier_core::config::duration::deserialize(d).map(Some)
    }
}

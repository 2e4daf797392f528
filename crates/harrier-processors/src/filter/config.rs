//! `filter` settings: one optional drop condition per signal level.

use super::condition::{Condition, Level};
use harrier_core::error::ConfigError;
use serde::Deserialize;

/// `processors.filter` settings: an item is dropped when its level's condition matches.
/// Levels without a condition keep everything (the default: nothing is dropped).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// Conditions for traces.
    pub traces: TracesFilterConfig,
    /// Conditions for metrics.
    pub metrics: MetricsFilterConfig,
    /// Conditions for logs.
    pub logs: LogsFilterConfig,
}

/// `traces.*`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracesFilterConfig {
    /// Drops matching spans (default: none).
    pub span: Option<ConditionConfig>,
    /// Drops matching span events from the spans that are kept (default: none).
    pub span_event: Option<ConditionConfig>,
}

/// `metrics.*`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsFilterConfig {
    /// Drops matching metrics with all their data points (default: none).
    pub metric: Option<ConditionConfig>,
    /// Drops matching data points; a metric left without points is dropped (default: none).
    pub data_point: Option<ConditionConfig>,
}

/// `logs.*`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsFilterConfig {
    /// Drops matching log records (default: none).
    pub log_record: Option<ConditionConfig>,
}

/// A string or a list of strings (any of them).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One string.
    One(String),
    /// Several; one matching is enough.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// `attribute` / `resource_attribute`: a key, and `equals` (typed) or `matches` (a regex
/// on the string form); with neither, the key only has to exist.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeConditionConfig {
    /// The attribute key (required).
    pub key: String,
    /// The value it must equal (any TOML value; compared typed: `200` is not `"200"`).
    pub equals: Option<toml::Value>,
    /// A regex its string form must match (unanchored).
    pub matches: Option<String>,
}

/// A condition: a TOML table with exactly one key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionConfig {
    /// Matches when any sub-condition matches.
    Any(Vec<ConditionConfig>),
    /// Matches when every sub-condition matches.
    All(Vec<ConditionConfig>),
    /// Matches when the sub-condition does not (e.g. keep only some metric names).
    Not(Box<ConditionConfig>),
    /// The item's own attribute (spans, span events, log records, data points).
    Attribute(AttributeConditionConfig),
    /// A resource attribute (every level).
    ResourceAttribute(AttributeConditionConfig),
    /// Name equals one of these (spans, span events, metrics, data points' metric).
    Name(OneOrMany),
    /// Name matches one of these regexes (same levels as `name`).
    NameMatches(OneOrMany),
    /// Span kind is one of these (`server`, `client`, `internal`, `producer`,
    /// `consumer`, `unspecified`).
    Kind(OneOrMany),
    /// Span status code is one of these (`unset`, `ok`, `error`).
    StatusCode(OneOrMany),
    /// Log severity number is defined and below this level (`"INFO"` or `9`).
    SeverityBelow(toml::Value),
    /// Log body (its string form) matches this regex.
    BodyMatches(String),
}

/// The compiled conditions, per level.
#[derive(Debug, Clone, Default)]
pub struct CompiledFilter {
    /// `traces.span`.
    pub span: Option<Condition>,
    /// `traces.span_event`.
    pub span_event: Option<Condition>,
    /// `metrics.metric`.
    pub metric: Option<Condition>,
    /// `metrics.data_point`.
    pub data_point: Option<Condition>,
    /// `logs.log_record`.
    pub log_record: Option<Condition>,
}

impl FilterConfig {
    /// Checks and compiles every condition (regexes compiled once, here).
    ///
    /// # Errors
    /// Every problem with its key path, e.g. `logs.log_record.any[1].body_matches`.
    pub fn compile(&self) -> Result<CompiledFilter, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut compile = |c: &Option<ConditionConfig>, level: Level, path: &str| {
            c.as_ref().and_then(|c| {
                Condition::compile(c, level, path)
                    .map_err(|e| errors.extend(e))
                    .ok()
            })
        };
        let compiled = CompiledFilter {
            span: compile(&self.traces.span, Level::Span, "traces.span"),
            span_event: compile(
                &self.traces.span_event,
                Level::SpanEvent,
                "traces.span_event",
            ),
            metric: compile(&self.metrics.metric, Level::Metric, "metrics.metric"),
            data_point: compile(
                &self.metrics.data_point,
                Level::DataPoint,
                "metrics.data_point",
            ),
            log_record: compile(&self.logs.log_record, Level::LogRecord, "logs.log_record"),
        };
        if errors.is_empty() {
            Ok(compiled)
        } else {
            Err(errors)
        }
    }
}

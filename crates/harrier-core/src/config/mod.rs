//! Configuration: TOML text -> [`Config`], shaped like the OTel Collector's YAML.
//!
//! ```toml
//! [receivers.otlp]
//! grpc.endpoint = "127.0.0.1:4317"
//! [processors.batch]
//! [exporters."otlp/gateway"]
//! endpoint = "http://gateway:4317"
//! [service.pipelines.traces]
//! receivers = ["otlp"]
//! processors = ["batch"]
//! exporters = ["otlp/gateway"]
//! ```
//!
//! Loading collects *every* problem it can find (each a [`ConfigError`] naming its full
//! key path) instead of stopping at the first. Component sections stay `toml::Value`
//! here; each factory parses its own. [`graph::check`] then validates the graph against
//! a [`crate::component::Registry`].

pub mod env;
pub mod graph;
mod types;

pub use types::{ByteSize, duration};

use crate::component::{Kind, parse_config};
use crate::error::ConfigError;
use crate::id::ComponentId;
use harrier_pdata::Signal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A pipeline's id: its signal and optional name (`traces`, `logs/security`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId {
    /// The signal it carries.
    pub signal: Signal,
    /// Its instance name.
    pub name: Option<String>,
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{}", self.signal, n),
            None => write!(f, "{}", self.signal),
        }
    }
}

/// One `service.pipelines.<id>` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PipelineConfig {
    /// Receivers feeding the pipeline.
    pub receivers: Vec<ComponentId>,
    /// Processors, in order.
    pub processors: Vec<ComponentId>,
    /// Exporters the pipeline fans out to.
    pub exporters: Vec<ComponentId>,
}

/// `service.telemetry.metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsTelemetryConfig {
    /// Where `/metrics` is served (default `127.0.0.1:8888`); `""` disables it.
    pub address: String,
}

impl Default for MetricsTelemetryConfig {
    fn default() -> Self {
        MetricsTelemetryConfig {
            address: "127.0.0.1:8888".into(),
        }
    }
}

/// `service.telemetry.logs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsTelemetryConfig {
    /// `tracing` filter: `error`, `warn`, `info` (default), `debug`, `trace`, or an
    /// env-filter directive such as `info,harrier_receivers=debug`.
    pub level: String,
    /// `console` (default) or `json`.
    pub encoding: String,
}

impl Default for LogsTelemetryConfig {
    fn default() -> Self {
        LogsTelemetryConfig {
            level: "info".into(),
            encoding: "console".into(),
        }
    }
}

/// `service.telemetry`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Own metrics.
    pub metrics: MetricsTelemetryConfig,
    /// Own logs.
    pub logs: LogsTelemetryConfig,
}

/// `service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Extensions to start.
    pub extensions: Vec<ComponentId>,
    /// The pipelines.
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    /// Own telemetry.
    pub telemetry: TelemetryConfig,
    /// Deadline for a graceful shutdown (default 30s).
    pub shutdown_timeout: Duration,
}

/// A loaded (not yet graph-checked) configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `receivers.<id>` sections.
    pub receivers: BTreeMap<ComponentId, toml::Value>,
    /// `processors.<id>` sections.
    pub processors: BTreeMap<ComponentId, toml::Value>,
    /// `exporters.<id>` sections.
    pub exporters: BTreeMap<ComponentId, toml::Value>,
    /// `extensions.<id>` sections.
    pub extensions: BTreeMap<ComponentId, toml::Value>,
    /// `service`.
    pub service: ServiceConfig,
}

impl Config {
    /// The components of one kind.
    pub fn section(&self, kind: Kind) -> &BTreeMap<ComponentId, toml::Value> {
        match kind {
            Kind::Receiver => &self.receivers,
            Kind::Processor => &self.processors,
            Kind::Exporter => &self.exporters,
            Kind::Extension => &self.extensions,
        }
    }

    /// Parses TOML text, substituting `${env:...}` from the process environment.
    ///
    /// # Errors
    /// Every problem found, each with its key path.
    pub fn from_toml(text: &str) -> Result<Config, Vec<ConfigError>> {
        Config::from_toml_with_env(text, &env::ProcessEnv)
    }

    /// Parses TOML text with a custom environment lookup.
    ///
    /// # Errors
    /// Every problem found, each with its key path.
    pub fn from_toml_with_env(
        text: &str,
        lookup: &dyn env::Lookup,
    ) -> Result<Config, Vec<ConfigError>> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            vec![ConfigError::new(
                "",
                format!("invalid TOML: {}", e.to_string().trim_end()),
            )]
        })?;
        let mut root = toml::Value::Table(table);
        let mut errors = Vec::new();
        env::substitute(&mut root, "", lookup, &mut errors);
        let toml::Value::Table(mut table) = root else {
            return Err(vec![ConfigError::new(
                "",
                "the config must be a TOML table",
            )]);
        };
        let mut take = |kind: Kind, errors: &mut Vec<ConfigError>| {
            components(table.remove(kind.section()), kind.section(), errors)
        };
        let receivers = take(Kind::Receiver, &mut errors);
        let processors = take(Kind::Processor, &mut errors);
        let exporters = take(Kind::Exporter, &mut errors);
        let extensions = take(Kind::Extension, &mut errors);
        let service = service(table.remove("service"), &mut errors);
        for key in table.keys() {
            errors.push(ConfigError::new(
                key.clone(),
                "unknown top-level key (expected receivers, processors, exporters, extensions, service)",
            ));
        }
        match (errors.is_empty(), service) {
            (true, Some(service)) => Ok(Config {
                receivers,
                processors,
                exporters,
                extensions,
                service,
            }),
            _ => Err(errors),
        }
    }
}

fn components(
    section: Option<toml::Value>,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<ComponentId, toml::Value> {
    let mut out = BTreeMap::new();
    let Some(section) = section else {
        return out;
    };
    let toml::Value::Table(table) = section else {
        errors.push(ConfigError::new(path, "expected a table of components"));
        return out;
    };
    for (key, value) in table {
        let key_path = format!("{path}.{key}");
        let id = match ComponentId::parse(&key) {
            Ok(id) => id,
            Err(e) => {
                errors.push(ConfigError::new(
                    key_path,
                    format!("invalid component id: {e}"),
                ));
                continue;
            }
        };
        match value {
            toml::Value::Table(_) => {
                out.insert(id, value);
            }
            other => errors.push(ConfigError::new(
                key_path,
                format!("expected a table of settings, found {}", other.type_str()),
            )),
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawService {
    extensions: Vec<String>,
    pipelines: BTreeMap<String, RawPipeline>,
    telemetry: TelemetryConfig,
    #[serde(with = "duration")]
    shutdown_timeout: Duration,
}

impl Default for RawService {
    fn default() -> Self {
        RawService {
            extensions: Vec::new(),
            pipelines: BTreeMap::new(),
            telemetry: TelemetryConfig::default(),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawPipeline {
    receivers: Vec<String>,
    processors: Vec<String>,
    exporters: Vec<String>,
}

fn service(value: Option<toml::Value>, errors: &mut Vec<ConfigError>) -> Option<ServiceConfig> {
    let Some(value) = value else {
        errors.push(ConfigError::new(
            "service",
            "missing: the config needs a [service] section with pipelines",
        ));
        return None;
    };
    let raw: RawService = match parse_config::<RawService>(&value) {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(e.under("service"));
            return None;
        }
    };
    let ids = |list: &[String], path: &str, errors: &mut Vec<ConfigError>| -> Vec<ComponentId> {
        list.iter()
            .enumerate()
            .filter_map(|(i, s)| match ComponentId::parse(s) {
                Ok(id) => Some(id),
                Err(e) => {
                    errors.push(ConfigError::new(
                        format!("{path}[{i}]"),
                        format!("invalid component id {s:?}: {e}"),
                    ));
                    None
                }
            })
            .collect()
    };
    let extensions = ids(&raw.extensions, "service.extensions", errors);
    let mut pipelines = BTreeMap::new();
    for (key, p) in raw.pipelines {
        let path = format!("service.pipelines.{key}");
        let (signal, name) = match key.split_once('/') {
            Some((s, n)) => (s, Some(n.to_string())),
            None => (key.as_str(), None),
        };
        let Some(signal) = Signal::parse(signal) else {
            errors.push(ConfigError::new(
                path,
                format!("unknown signal {signal:?}: a pipeline id is traces, metrics or logs, optionally followed by /name"),
            ));
            continue;
        };
        if name.as_deref() == Some("") {
            errors.push(ConfigError::new(
                path,
                "the pipeline name after '/' must not be empty",
            ));
            continue;
        }
        let pipeline = PipelineConfig {
            receivers: ids(&p.receivers, &format!("{path}.receivers"), errors),
            processors: ids(&p.processors, &format!("{path}.processors"), errors),
            exporters: ids(&p.exporters, &format!("{path}.exporters"), errors),
        };
        pipelines.insert(PipelineId { signal, name }, pipeline);
    }
    Some(ServiceConfig {
        extensions,
        pipelines,
        telemetry: raw.telemetry,
        shutdown_timeout: raw.shutdown_timeout,
    })
}

#[cfg(test)]
mod tests;

//! Target discovery for the `prometheus` receiver: `static_configs` and
//! `file_sd_configs`, with the semantics of Prometheus's static and file discovery.
//!
//! Both produce [`TargetGroup`]s: a list of `host:port` targets sharing a set of
//! labels, identified by a `source` (`static:<i>`, or `<path>:<i>` for the i-th group
//! of a file, as in Prometheus).
//!
//! File discovery reads JSON (`.json`) or YAML (`.yml`, `.yaml`) files holding a list
//! of `{targets: [...], labels: {...}}` objects ([`parse_target_file`]); every group
//! gets the label `__meta_filepath` with the file's path. The last path component of a
//! configured file may be a glob (`targets/*.json`, [`expand_globs`]).
//!
//! Prometheus watches the files' directories with inotify and re-reads everything on
//! every event and every `refresh_interval`. [`FileWatcher`] polls instead: every
//! [`FileWatcher::poll_interval`] (at most 5 s) it expands the globs, stats every
//! file and re-reads those whose modification time or size changed, and re-reads all
//! of them every `refresh_interval` to catch a rewrite the stat could not see. A file
//! that cannot be read or parsed keeps the groups it had before, and the error is
//! handed to the caller to log and count; a file that is gone (or no longer matches
//! a glob) loses its groups. A configured path that does not exist is not an error:
//! it contributes no groups, as in Prometheus.
//!
//! Relative paths are resolved against the collector's working directory; resolving
//! them against the configuration file's directory, as Prometheus does, is the
//! caller's job.

#[path = "discovery_glob.rs"]
mod glob;
#[path = "discovery_watcher.rs"]
mod watcher;

pub use glob::expand_globs;
pub use watcher::FileWatcher;

use crate::prometheus::relabel::is_valid_label_name;
use glob::{Glob, has_glob_chars};
use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::Path;
use std::time::Duration;

/// The label holding the path of the file a group came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Largest target file read; a larger one is an error (and keeps its old groups).
pub const MAX_TARGET_FILE_BYTES: u64 = 16 << 20;

/// The longest time between two polls of [`FileWatcher`].
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest time between two polls of [`FileWatcher`], whatever the
/// `refresh_interval` (guards against a zero interval).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Targets sharing a set of labels, from one static config or one entry of a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetGroup {
    /// Targets as `host:port` (`[::1]:9100` for IPv6), checked by [`validate_target`].
    pub targets: Vec<String>,
    /// Labels of every target of the group (for files, including `__meta_filepath`).
    pub labels: BTreeMap<String, String>,
    /// Where the group comes from: `static:<i>` or `<path>:<i>`.
    pub source: String,
}

/// One entry of `static_configs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// Targets as `host:port`. Required (may be empty).
    pub targets: Vec<String>,
    /// Labels given to every target. Default none.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl StaticConfig {
    /// Checks targets and label names. `key` is the entry's own path (e.g.
    /// `...static_configs[0]`).
    pub fn problems(&self, key: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (i, target) in self.targets.iter().enumerate() {
            if let Err(message) = validate_target(target) {
                errors.push(ConfigError::new(format!("{key}.targets[{i}]"), message));
            }
        }
        for name in self.labels.keys() {
            if !is_valid_label_name(name) {
                errors.push(ConfigError::new(
                    format!("{key}.labels.{name}"),
                    "not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                ));
            }
        }
        errors
    }

    /// The group of the `index`-th static config (source `static:<index>`).
    pub fn to_group(&self, index: usize) -> TargetGroup {
        TargetGroup {
            targets: self.targets.clone(),
            labels: self.labels.clone(),
            source: format!("static:{index}"),
        }
    }
}

/// The groups of a `static_configs` list, in order.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| c.to_group(i))
        .collect()
}

fn default_refresh_interval() -> Duration {
    Duration::from_secs(5 * 60)
}

/// One entry of `file_sd_configs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// Files to read, ending in `.json`, `.yml` or `.yaml`. The last path component
    /// may be a glob (`*`, `?`, `[a-z]`, `[^a-z]`, `\` escapes), e.g.
    /// `targets/*.json`; directories may not. Required, at least one.
    pub files: Vec<String>,
    /// How often every file is re-read even if it seems unchanged. Changes are
    /// noticed sooner, see [`FileWatcher::poll_interval`]. Default `5m`; must be above
    /// zero.
    #[serde(default = "default_refresh_interval", with = "duration")]
    pub refresh_interval: Duration,
}

impl Default for FileSdConfig {
    fn default() -> FileSdConfig {
        FileSdConfig {
            files: Vec::new(),
            refresh_interval: default_refresh_interval(),
        }
    }
}

impl FileSdConfig {
    /// Checks the file patterns and the interval, as Prometheus does when loading
    /// its configuration. `key` is the entry's own path (e.g. `...file_sd_configs[0]`).
    pub fn problems(&self, key: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.files.is_empty() {
            errors.push(ConfigError::new(
                format!("{key}.files"),
                "at least one file is required",
            ));
        }
        for (i, pattern) in self.files.iter().enumerate() {
            if let Err(message) = validate_file_pattern(pattern) {
                errors.push(ConfigError::new(format!("{key}.files[{i}]"), message));
            }
        }
        if self.refresh_interval.is_zero() {
            errors.push(ConfigError::new(
                format!("{key}.refresh_interval"),
                "must be greater than zero",
            ));
        }
        errors
    }
}

/// Checks one `files` entry: a supported extension, glob characters only in the last
/// path component, a well-formed glob.
fn validate_file_pattern(pattern: &str) -> Result<(), String> {
    let path = Path::new(pattern);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(format!("{pattern:?} does not name a file"));
    };
    if file_format(path).is_none() {
        return Err(format!(
            "{pattern:?} must end in .json, .yml or .yaml (the format is taken from \
             the extension)"
        ));
    }
    if let Some(parent) = path.parent()
        && parent.to_str().is_some_and(has_glob_chars)
    {
        return Err(format!(
            "{pattern:?}: only the file name may contain glob characters (*, ?, [)"
        ));
    }
    Glob::parse(name)
        .map(|_| ())
        .map_err(|e| format!("{pattern:?}: {e}"))
}

/// The format of a target file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Yaml,
}

fn file_format(path: &Path) -> Option<Format> {
    // As Prometheus: all-lower or all-upper extensions.
    match path.extension()?.to_str()? {
        "json" | "JSON" => Some(Format::Json),
        "yml" | "yaml" | "YML" | "YAML" => Some(Format::Yaml),
        _ => None,
    }
}

/// Checks that `target` is `host:port`: a host name or IPv4 address, or an IPv6
/// address in brackets, and a port from 1 to 65535; no scheme, path, query or user.
///
/// # Errors
/// A message naming the target and what is wrong with it.
pub fn validate_target(target: &str) -> Result<(), String> {
    if target.is_empty() {
        return Err("empty target; expected host:port".to_string());
    }
    if target.contains("://") {
        return Err(format!(
            "target {target:?} must be host:port without a scheme (set `scheme` instead)"
        ));
    }
    if target.contains('/') {
        return Err(format!(
            "target {target:?} must be host:port without a path (set `metrics_path` instead)"
        ));
    }
    if let Some(c) = target
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@'))
    {
        return Err(format!(
            "target {target:?} contains {c:?}; expected host:port"
        ));
    }
    let (host, port) = if let Some(bracketed) = target.strip_prefix('[') {
        let Some((address, port)) = bracketed.split_once("]:") else {
            return Err(format!(
                "target {target:?} must be [ipv6-address]:port with a port"
            ));
        };
        // A zone (`%eth0`) may follow a link-local address.
        let address = address.split_once('%').map_or(address, |(a, _)| a);
        if address.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "target {target:?}: {address:?} is not an IPv6 address"
            ));
        }
        (address, port)
    } else {
        let Some((host, port)) = target.rsplit_once(':') else {
            return Err(format!("target {target:?} has no port; expected host:port"));
        };
        if host.contains(':') {
            return Err(format!(
                "target {target:?}: an IPv6 address must be in brackets, e.g. [::1]:9100"
            ));
        }
        if host.contains(['[', ']']) {
            return Err(format!("target {target:?} has a malformed host"));
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(format!("target {target:?} has no host; expected host:port"));
    }
    let digits = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(p) if digits && p > 0 => Ok(()),
        _ => Err(format!(
            "target {target:?} has an invalid port {port:?}; expected 1-65535"
        )),
    }
}

/// One group as written in a target file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, LabelValue>,
}

/// A label value: a string, or (as YAML writers often produce, and Prometheus's YAML
/// decoder accepts) a number, boolean or null, taken as text.
#[derive(Debug)]
struct LabelValue(String);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LabelValue, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = LabelValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string label value")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<LabelValue, E> {
                Ok(LabelValue(String::new()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Parses the content of a target file, JSON or YAML by the extension of `path`: a
/// list of `{targets: [host:port, ...], labels: {name: value}}` (both keys optional,
/// no others). Group `i` gets source `<path>:<i>` and the label `__meta_filepath` =
/// `path`. An empty YAML document is an empty list.
///
/// # Errors
/// An unsupported extension, a syntax or structure error, an invalid target (see
/// [`validate_target`]) or label name; the message names the group and the culprit.
pub fn parse_target_file(path: &Path, content: &str) -> Result<Vec<TargetGroup>, String> {
    let groups: Vec<FileGroup> = match file_format(path) {
        Some(Format::Json) => serde_json::from_str(content).map_err(|e| e.to_string())?,
        Some(Format::Yaml) => {
            let parsed: Option<Vec<FileGroup>> =
                serde_yaml::from_str(content).map_err(|e| e.to_string())?;
            parsed.unwrap_or_default()
        }
        None => {
            return Err(format!(
                "unsupported file extension of {}; expected .json, .yml or .yaml",
                path.display()
            ));
        }
    };
    let file = path.display().to_string();
    let mut result = Vec::with_capacity(groups.len());
    for (i, group) in groups.into_iter().enumerate() {
        for target in &group.targets {
            validate_target(target).map_err(|e| format!("group {i}: {e}"))?;
        }
        let mut labels = BTreeMap::new();
        for (name, LabelValue(value)) in group.labels {
            if !is_valid_label_name(&name) {
                return Err(format!("group {i}: {name:?} is not a valid label name"));
            }
            labels.insert(name, value);
        }
        labels.insert(FILEPATH_LABEL.to_string(), file.clone());
        result.push(TargetGroup {
            targets: group.targets,
            labels,
            source: format!("{file}:{i}"),
        });
    }
    Ok(result)
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;

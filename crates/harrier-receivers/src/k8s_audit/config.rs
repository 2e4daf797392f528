//! `k8s_audit` receiver settings and their validation.
//!
//! Two inputs share one mapping: the audit **webhook** (`endpoint`, `path`) and the
//! audit **log file** (`log_path`, `storage_dir`). The webhook runs when `endpoint` is
//! set, or when `log_path` is not (then on the default `127.0.0.1:8099`), so an empty
//! `[receivers.k8s_audit]` section is a working webhook and a section with only
//! `log_path` opens no port. `endpoint = ""` turns the webhook off explicitly.

use super::event::Stage;
use harrier_core::config::{ByteSize, duration};
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The webhook's listen address when none is given.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:8099";

/// `receivers.k8s_audit`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct K8sAuditConfig {
    /// Webhook listen address, `host:port`. Absent: `127.0.0.1:8099` unless `log_path`
    /// is set (then no webhook); `""`: no webhook.
    pub endpoint: Option<String>,
    /// The URL path kube-apiserver posts to (default `/audit`).
    pub path: String,
    /// Largest accepted webhook body (default `32MiB`); in file mode also the longest
    /// line and the most bytes read per batch.
    pub max_request_body_size: ByteSize,
    /// Webhook requests processed at once (default 16). Further requests wait up to
    /// `backpressure_wait` for a slot, then get 503.
    pub max_concurrent_requests: usize,
    /// How long a webhook request may wait for a slot or for room in a full pipeline
    /// before it is answered 503 with `Retry-After` (default `1s`).
    #[serde(with = "duration")]
    pub backpressure_wait: Duration,
    /// The audit log backend's file (`--audit-log-path`) to follow. Absent: no file mode.
    pub log_path: Option<PathBuf>,
    /// Directory for the file mode's read offset. Required with `log_path`.
    pub storage_dir: Option<PathBuf>,
    /// Lines read per batch in file mode (default 1000).
    pub max_batch_lines: usize,
    /// How often file mode looks for new lines once it has read everything (default `1s`).
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Stages kept (default `["ResponseComplete", "Panic"]`: one record per request).
    pub stages: Vec<String>,
    /// Whether `requestObject` / `responseObject` become attributes (default true).
    pub include_objects: bool,
    /// Written as the resource attribute `k8s.cluster.name` (default: absent).
    pub cluster_name: Option<String>,
}

impl Default for K8sAuditConfig {
    fn default() -> Self {
        K8sAuditConfig {
            endpoint: None,
            path: "/audit".into(),
            max_request_body_size: ByteSize::mib(32),
            max_concurrent_requests: 16,
            backpressure_wait: Duration::from_secs(1),
            log_path: None,
            storage_dir: None,
            max_batch_lines: 1000,
            poll_interval: Duration::from_secs(1),
            stages: vec!["ResponseComplete".into(), "Panic".into()],
            include_objects: true,
            cluster_name: None,
        }
    }
}

/// The file mode's settings, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSettings {
    /// The followed file.
    pub log_path: PathBuf,
    /// Where the offset is kept.
    pub storage_dir: PathBuf,
    /// Lines per batch.
    pub max_batch_lines: usize,
    /// Bytes per batch, and the longest line.
    pub max_batch_bytes: usize,
    /// Idle poll interval.
    pub poll_interval: Duration,
}

impl K8sAuditConfig {
    /// The webhook's listen address, if the webhook runs (see the module docs).
    pub fn webhook_endpoint(&self) -> Option<&str> {
        match (self.endpoint.as_deref(), &self.log_path) {
            (Some(""), _) => None,
            (Some(e), _) => Some(e),
            (None, None) => Some(DEFAULT_ENDPOINT),
            (None, Some(_)) => None,
        }
    }

    /// The file mode's settings, if `log_path` is set (and `storage_dir`, checked by
    /// [`K8sAuditConfig::validate`]).
    pub(crate) fn file_settings(&self) -> Option<FileSettings> {
        Some(FileSettings {
            log_path: self.log_path.clone()?,
            storage_dir: self.storage_dir.clone()?,
            max_batch_lines: self.max_batch_lines,
            max_batch_bytes: self.max_request_body_size.as_usize(),
            poll_interval: self.poll_interval,
        })
    }

    /// The stage filter, parsed.
    pub(crate) fn stage_filter(&self) -> Vec<Stage> {
        self.stages.iter().filter_map(|s| Stage::parse(s)).collect()
    }

    /// Checks every setting (no I/O).
    ///
    /// # Errors
    /// Every problem found, with paths relative to the receiver's section.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        let endpoint = self.webhook_endpoint();
        if endpoint.is_none() && self.log_path.is_none() {
            errors.push(ConfigError::new(
                "",
                "enable at least one input: set `endpoint` (the audit webhook, e.g. \"127.0.0.1:8099\") and/or `log_path` (the audit log file)",
            ));
        }
        if let Some(e) = endpoint
            && let Err(err) = addr(e)
        {
            errors.push(err);
        }
        if !self.path.starts_with('/') {
            errors.push(ConfigError::new(
                "path",
                format!("must start with '/', found {:?}", self.path),
            ));
        }
        if self.max_request_body_size.0 == 0 {
            errors.push(ConfigError::new(
                "max_request_body_size",
                "must be greater than 0",
            ));
        }
        if self.max_concurrent_requests == 0 {
            errors.push(ConfigError::new(
                "max_concurrent_requests",
                "must be at least 1",
            ));
        }
        if let Some(p) = &self.log_path {
            if p.as_os_str().is_empty() || p.file_name().is_none() {
                errors.push(ConfigError::new(
                    "log_path",
                    format!("{:?} does not name a file", p.display().to_string()),
                ));
            }
            match &self.storage_dir {
                None => errors.push(ConfigError::new(
                    "storage_dir",
                    "is required with log_path: the read offset is kept there (e.g. \"/var/lib/harrier/k8s_audit\")",
                )),
                Some(d) if d.as_os_str().is_empty() => {
                    errors.push(ConfigError::new("storage_dir", "must not be empty"));
                }
                Some(_) => {}
            }
        }
        if self.max_batch_lines == 0 {
            errors.push(ConfigError::new("max_batch_lines", "must be at least 1"));
        }
        if self.poll_interval.is_zero() {
            errors.push(ConfigError::new("poll_interval", "must be greater than 0"));
        }
        if self.stages.is_empty() {
            errors.push(ConfigError::new(
                "stages",
                "must name at least one stage (e.g. [\"ResponseComplete\", \"Panic\"])",
            ));
        }
        for (i, s) in self.stages.iter().enumerate() {
            if Stage::parse(s).is_none() {
                errors.push(ConfigError::new(
                    format!("stages[{i}]"),
                    format!(
                        "unknown stage {s:?}: use RequestReceived, ResponseStarted, ResponseComplete or Panic"
                    ),
                ));
            }
        }
        if self.cluster_name.as_deref() == Some("") {
            errors.push(ConfigError::new(
                "cluster_name",
                "must not be empty (leave it out instead)",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The webhook's address, for duplicate-port checks.
    pub fn listen_addresses(&self) -> Vec<(String, SocketAddr)> {
        self.webhook_endpoint()
            .and_then(|e| addr(e).ok())
            .map(|a| vec![("endpoint".to_string(), a)])
            .unwrap_or_default()
    }
}

fn addr(endpoint: &str) -> Result<SocketAddr, ConfigError> {
    endpoint.parse().map_err(|e| {
        ConfigError::new(
            "endpoint",
            format!("invalid address {endpoint:?}: {e} (expected host:port, e.g. 127.0.0.1:8099)"),
        )
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

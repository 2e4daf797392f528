//! `exporters.prometheus_remote_write` settings and their validation. Keys and defaults
//! follow the OpenTelemetry Collector's `prometheusremotewrite` exporter; `timeout`,
//! `sending_queue` and `retry_on_failure` are the framework's (`ExporterRunner`).

use crate::prometheus::naming::{label_name, metric_name_chars};
use harrier_core::error::ConfigError;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Default `max_batch_size_bytes`, the Collector's (about 2.86 MiB uncompressed).
pub const DEFAULT_MAX_BATCH_SIZE_BYTES: usize = 3_000_000;

/// `exporters.prometheus_remote_write`: pushes metrics to a Prometheus remote-write
/// 1.0 endpoint (Prometheus, Mimir, Cortex, Thanos receive, VictoriaMetrics).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusRemoteWriteConfig {
    /// The remote-write URL, e.g. `http://prometheus:9090/api/v1/write` (required).
    pub endpoint: Option<String>,
    /// Extra HTTP headers sent with every request, e.g. `X-Scope-OrgID` or
    /// `Authorization` (default: none). `Content-Encoding`, `Content-Type` and
    /// `X-Prometheus-Remote-Write-Version` are the protocol's and cannot be set.
    pub headers: BTreeMap<String, String>,
    /// TLS settings for `https://` endpoints (default: see [`RemoteWriteTlsConfig`]).
    pub tls: RemoteWriteTlsConfig,
    /// Labels added to every series, `target_info` included, unless the series already
    /// has a label of that name (default: none). Names must be valid Prometheus label
    /// names not starting with `__`; values must not be empty.
    pub external_labels: BTreeMap<String, String>,
    /// Prefix of every metric name, joined with `_` (default: none).
    pub namespace: Option<String>,
    /// The uncompressed request size at which a batch is split into several requests
    /// (default 3000000). A single series larger than this is sent alone.
    pub max_batch_size_bytes: usize,
    /// Whether names get unit suffixes (`_seconds`, `_bytes`, `_ratio`) and counters
    /// `_total` (default true).
    pub add_metric_suffixes: bool,
    /// Whether every resource attribute also becomes a label of every series (default:
    /// see [`ResourceToTelemetryConfig`]).
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// Whether each resource gets a `target_info` series (default: see
    /// [`TargetInfoConfig`]).
    pub target_info: TargetInfoConfig,
    /// Whether requests carry metric metadata (type, help, unit) (default false).
    pub send_metadata: bool,
}

impl Default for PrometheusRemoteWriteConfig {
    fn default() -> Self {
        PrometheusRemoteWriteConfig {
            endpoint: None,
            headers: BTreeMap::new(),
            tls: RemoteWriteTlsConfig::default(),
            external_labels: BTreeMap::new(),
            namespace: None,
            max_batch_size_bytes: DEFAULT_MAX_BATCH_SIZE_BYTES,
            add_metric_suffixes: true,
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            target_info: TargetInfoConfig::default(),
            send_metadata: false,
        }
    }
}

/// `exporters.prometheus_remote_write.tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteWriteTlsConfig {
    /// PEM file of the CA certificates to trust instead of the platform's (default:
    /// none).
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs `key_file` (default: none).
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM); needs `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Accept any server certificate, for tests only (default false).
    pub insecure_skip_verify: bool,
}

/// `exporters.prometheus_remote_write.resource_to_telemetry_conversion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceToTelemetryConfig {
    /// Copy every resource attribute to every series as a label (default false: only
    /// `job`/`instance` come from the resource, the rest goes to `target_info`).
    pub enabled: bool,
}

/// `exporters.prometheus_remote_write.target_info`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetInfoConfig {
    /// Send a `target_info` series (value 1) per resource, labelled with its
    /// attributes other than `service.name`, `service.namespace` and
    /// `service.instance.id` (default true).
    pub enabled: bool,
}

impl Default for TargetInfoConfig {
    fn default() -> Self {
        TargetInfoConfig { enabled: true }
    }
}

/// A validated [`PrometheusRemoteWriteConfig`].
#[derive(Debug, Clone)]
pub(crate) struct RemoteWriteSettings {
    /// Where requests go.
    pub url: Url,
    /// Parsed extra headers.
    pub headers: HeaderMap,
    /// CA bundle to read at start.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key for mutual TLS, read at start.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// What the conversion needs.
    pub conversion: ConversionSettings,
    /// Split threshold (uncompressed bytes).
    pub max_batch_size_bytes: usize,
}

/// The settings of the OTLP -> remote-write conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConversionSettings {
    /// Sorted by name.
    pub external_labels: Vec<(String, String)>,
    /// Metric name prefix, already sanitised.
    pub namespace: Option<String>,
    /// Unit suffixes and `_total`.
    pub add_metric_suffixes: bool,
    /// Resource attributes on every series.
    pub resource_to_telemetry: bool,
    /// `target_info` series.
    pub target_info: bool,
    /// Metric metadata in requests.
    pub send_metadata: bool,
}

/// Headers the protocol fixes; configuring them would break the request.
const RESERVED_HEADERS: [&str; 5] = [
    "content-encoding",
    "content-type",
    "x-prometheus-remote-write-version",
    "content-length",
    "host",
];

impl PrometheusRemoteWriteConfig {
    /// Checks every setting (no I/O) and returns the run-time settings.
    ///
    /// # Errors
    /// Every problem found, with paths relative to the exporter's section.
    pub(crate) fn validate(&self) -> Result<RemoteWriteSettings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let url = match self.endpoint.as_deref() {
            Some(text) => parse_url(text)
                .map_err(|m| errors.push(ConfigError::new("endpoint", m)))
                .ok(),
            None => {
                errors.push(ConfigError::new(
                    "endpoint",
                    "is required (e.g. \"http://prometheus:9090/api/v1/write\")",
                ));
                None
            }
        };
        let headers = parse_headers(&self.headers, &mut errors);
        if let Some(path) = &self.tls.ca_file
            && path.as_os_str().is_empty()
        {
            errors.push(ConfigError::new("tls.ca_file", "must not be empty"));
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            errors.push(ConfigError::new(
                "tls",
                "cert_file and key_file must be set together",
            ));
        }
        for (name, value) in &self.external_labels {
            let path = format!("external_labels.{name}");
            if name.is_empty() || label_name(name) != *name {
                errors.push(ConfigError::new(
                    path,
                    "not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                ));
            } else if name.starts_with("__") {
                errors.push(ConfigError::new(
                    path,
                    "names starting with \"__\" are reserved by Prometheus",
                ));
            } else if value.is_empty() {
                errors.push(ConfigError::new(
                    path,
                    "must not be empty (an empty value means no label)",
                ));
            }
        }
        if let Some(namespace) = &self.namespace
            && (namespace.is_empty() || metric_name_chars(namespace) != *namespace)
        {
            errors.push(ConfigError::new(
                "namespace",
                "not a valid Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            ));
        }
        if self.max_batch_size_bytes == 0 {
            errors.push(ConfigError::new(
                "max_batch_size_bytes",
                "must be greater than 0",
            ));
        }
        match (url, errors.is_empty()) {
            (Some(url), true) => Ok(RemoteWriteSettings {
                url,
                headers,
                ca_file: self.tls.ca_file.clone(),
                client_identity: self.tls.cert_file.clone().zip(self.tls.key_file.clone()),
                insecure_skip_verify: self.tls.insecure_skip_verify,
                conversion: ConversionSettings {
                    external_labels: self
                        .external_labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    namespace: self.namespace.clone(),
                    add_metric_suffixes: self.add_metric_suffixes,
                    resource_to_telemetry: self.resource_to_telemetry_conversion.enabled,
                    target_info: self.target_info.enabled,
                    send_metadata: self.send_metadata,
                },
                max_batch_size_bytes: self.max_batch_size_bytes,
            }),
            _ => Err(errors),
        }
    }
}

/// Parses an absolute `http://` or `https://` URL.
fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("invalid URL {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "invalid URL {text:?}: scheme {:?} is not supported (use http:// or https://)",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("invalid URL {text:?}: no host"));
    }
    Ok(url)
}

fn parse_headers(headers: &BTreeMap<String, String>, errors: &mut Vec<ConfigError>) -> HeaderMap {
    let mut parsed = HeaderMap::with_capacity(headers.len());
    for (key, value) in headers {
        let path = format!("headers.{key}");
        let Ok(name) = HeaderName::from_bytes(key.as_bytes()) else {
            errors.push(ConfigError::new(path, "invalid HTTP header name"));
            continue;
        };
        if RESERVED_HEADERS.contains(&name.as_str()) {
            errors.push(ConfigError::new(
                path,
                "is set by the exporter (fixed by the remote-write protocol)",
            ));
            continue;
        }
        match HeaderValue::from_str(value) {
            Ok(v) => {
                parsed.insert(name, v);
            }
            Err(_) => errors.push(ConfigError::new(path, "invalid HTTP header value")),
        }
    }
    parsed
}

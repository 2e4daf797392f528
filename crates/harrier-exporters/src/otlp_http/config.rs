//! `exporters.otlp_http` settings and their validation.

use harrier_core::error::ConfigError;
use harrier_pdata::Signal;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `exporters.otlp_http`: an OTLP/HTTP client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpHttpConfig {
    /// Base URL, e.g. `https://gateway:4318`; each signal is posted to the base plus
    /// `/v1/traces`, `/v1/metrics` or `/v1/logs`. Required unless every signal the
    /// exporter serves has its own `*_endpoint` (default: none).
    pub endpoint: Option<String>,
    /// Full URL for traces, used as is instead of `endpoint` + `/v1/traces` (default:
    /// none).
    pub traces_endpoint: Option<String>,
    /// Full URL for metrics, instead of `endpoint` + `/v1/metrics` (default: none).
    pub metrics_endpoint: Option<String>,
    /// Full URL for logs, instead of `endpoint` + `/v1/logs` (default: none).
    pub logs_endpoint: Option<String>,
    /// Body encoding: `proto` (default, `application/x-protobuf`) or `json`
    /// (`application/json`, OTLP/JSON).
    pub encoding: HttpEncoding,
    /// Body compression: `gzip` (default) or `none`.
    pub compression: HttpCompression,
    /// Extra HTTP headers sent with every request (default: none).
    pub headers: BTreeMap<String, String>,
    /// TLS settings for `https://` URLs (default: see [`OtlpHttpTlsConfig`]).
    pub tls: OtlpHttpTlsConfig,
}

impl Default for OtlpHttpConfig {
    fn default() -> Self {
        OtlpHttpConfig {
            endpoint: None,
            traces_endpoint: None,
            metrics_endpoint: None,
            logs_endpoint: None,
            encoding: HttpEncoding::Proto,
            compression: HttpCompression::Gzip,
            headers: BTreeMap::new(),
            tls: OtlpHttpTlsConfig::default(),
        }
    }
}

/// `exporters.otlp_http.encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpEncoding {
    /// Binary protobuf (the default).
    Proto,
    /// OTLP/JSON.
    Json,
}

impl HttpEncoding {
    /// The request's `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            HttpEncoding::Proto => "application/x-protobuf",
            HttpEncoding::Json => "application/json",
        }
    }
}

/// `exporters.otlp_http.compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HttpCompression {
    /// gzip (the default), sent with `Content-Encoding: gzip`.
    #[serde(rename = "gzip")]
    Gzip,
    /// No compression.
    #[serde(rename = "none")]
    Uncompressed,
}

/// `exporters.otlp_http.tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpHttpTlsConfig {
    /// PEM file of the CA certificates to trust instead of the platform's (default:
    /// none, the platform verifier decides).
    pub ca_file: Option<PathBuf>,
}

/// A validated [`OtlpHttpConfig`].
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    /// The URL each signal is posted to; `None` when neither `endpoint` nor the signal's
    /// own URL is set.
    pub urls: [Option<Url>; 3],
    /// Body encoding.
    pub encoding: HttpEncoding,
    /// Body compression.
    pub compression: HttpCompression,
    /// Parsed extra headers.
    pub headers: HeaderMap,
    /// CA bundle to read at start.
    pub ca_file: Option<PathBuf>,
}

impl HttpSettings {
    /// The URL for `signal`, if configured.
    pub(crate) fn url(&self, signal: Signal) -> Option<&Url> {
        self.urls[signal_index(signal)].as_ref()
    }
}

/// Position of a signal in per-signal arrays.
pub(crate) fn signal_index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
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

/// `base` + `/v1/<signal>`, keeping any path prefix of `base`.
fn signal_url(base: &Url, signal: Signal) -> Url {
    let mut url = base.clone();
    let path = format!(
        "{}/v1/{}",
        base.path().trim_end_matches('/'),
        signal.as_str()
    );
    url.set_path(&path);
    url
}

impl OtlpHttpConfig {
    /// Checks every setting (no I/O) and returns the run-time settings.
    ///
    /// # Errors
    /// Every problem found, with paths relative to the exporter's section.
    pub(crate) fn validate(&self) -> Result<HttpSettings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let base = self.endpoint.as_deref().and_then(|text| {
            parse_url(text)
                .map_err(|m| errors.push(ConfigError::new("endpoint", m)))
                .ok()
        });
        let overrides = [
            ("traces_endpoint", &self.traces_endpoint, Signal::Traces),
            ("metrics_endpoint", &self.metrics_endpoint, Signal::Metrics),
            ("logs_endpoint", &self.logs_endpoint, Signal::Logs),
        ];
        let mut urls: [Option<Url>; 3] = [None, None, None];
        for (key, text, signal) in overrides {
            urls[signal_index(signal)] = match text {
                Some(text) => parse_url(text)
                    .map_err(|m| errors.push(ConfigError::new(key, m)))
                    .ok(),
                None => base.as_ref().map(|b| signal_url(b, signal)),
            };
        }
        let any_url_given =
            self.endpoint.is_some() || overrides.iter().any(|(_, text, _)| text.is_some());
        if !any_url_given {
            errors.push(ConfigError::new(
                "endpoint",
                "is required (e.g. \"http://gateway:4318\"), unless traces_endpoint, \
                 metrics_endpoint and logs_endpoint are set",
            ));
        }
        let headers = parse_headers(&self.headers, &mut errors);
        if let Some(path) = &self.tls.ca_file
            && path.as_os_str().is_empty()
        {
            errors.push(ConfigError::new("tls.ca_file", "must not be empty"));
        }
        if errors.is_empty() {
            Ok(HttpSettings {
                urls,
                encoding: self.encoding,
                compression: self.compression,
                headers,
                ca_file: self.tls.ca_file.clone(),
            })
        } else {
            Err(errors)
        }
    }
}

/// Headers the exporter sets itself.
const RESERVED_HEADERS: [&str; 4] = ["content-type", "content-encoding", "content-length", "host"];

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
                "is set by the exporter (from encoding and compression)",
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

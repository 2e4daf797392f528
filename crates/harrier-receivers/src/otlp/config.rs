//! `otlp` receiver settings.

use harrier_core::config::{ByteSize, duration};
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// `receivers.otlp.grpc`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// Listen address (default `127.0.0.1:4317`).
    pub endpoint: String,
    /// Largest accepted message after decompression, in MiB (default 4).
    pub max_recv_msg_size_mib: usize,
    /// HTTP/2 streams per connection (default 100).
    pub max_concurrent_streams: u32,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: "127.0.0.1:4317".into(),
            max_recv_msg_size_mib: 4,
            max_concurrent_streams: 100,
        }
    }
}

/// `receivers.otlp.http`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address (default `127.0.0.1:4318`).
    pub endpoint: String,
    /// Path for traces (default `/v1/traces`).
    pub traces_url_path: String,
    /// Path for metrics (default `/v1/metrics`).
    pub metrics_url_path: String,
    /// Path for logs (default `/v1/logs`).
    pub logs_url_path: String,
    /// Largest accepted body, both as sent and after decompression (default `20MiB`).
    pub max_request_body_size: ByteSize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: "127.0.0.1:4318".into(),
            traces_url_path: "/v1/traces".into(),
            metrics_url_path: "/v1/metrics".into(),
            logs_url_path: "/v1/logs".into(),
            max_request_body_size: ByteSize::mib(20),
        }
    }
}

/// `receivers.otlp`. At least one of `grpc` and `http` must be present; an empty table
/// (`[receivers.otlp.grpc]`) enables a protocol with its defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// gRPC server, if enabled.
    pub grpc: Option<GrpcConfig>,
    /// HTTP server, if enabled.
    pub http: Option<HttpConfig>,
    /// Requests processed at once over both protocols (default 64). Further requests
    /// wait for a slot up to `backpressure_wait`, then are refused retryably.
    pub max_concurrent_requests: usize,
    /// How long a request may wait for room (a request slot, or space in a full
    /// pipeline) before it is refused with gRPC `UNAVAILABLE` / HTTP 503 (default `1s`).
    #[serde(with = "duration")]
    pub backpressure_wait: Duration,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            grpc: None,
            http: None,
            max_concurrent_requests: 64,
            backpressure_wait: Duration::from_secs(1),
        }
    }
}

fn addr(endpoint: &str, key: &str) -> Result<SocketAddr, ConfigError> {
    endpoint.parse().map_err(|e| {
        ConfigError::new(
            key,
            format!("invalid address {endpoint:?}: {e} (expected host:port, e.g. 127.0.0.1:4317)"),
        )
    })
}

fn url_path(path: &str, key: &str, errors: &mut Vec<ConfigError>) {
    if !path.starts_with('/') {
        errors.push(ConfigError::new(
            key,
            format!("must start with '/', found {path:?}"),
        ));
    }
}

impl OtlpConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// Each problem with its key.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.grpc.is_none() && self.http.is_none() {
            errors.push(ConfigError::new("", "enable at least one protocol: add [receivers.otlp.grpc] and/or [receivers.otlp.http]"));
        }
        if let Some(g) = &self.grpc {
            if let Err(e) = addr(&g.endpoint, "grpc.endpoint") {
                errors.push(e);
            }
            if g.max_recv_msg_size_mib == 0 {
                errors.push(ConfigError::new(
                    "grpc.max_recv_msg_size_mib",
                    "must be at least 1",
                ));
            }
        }
        if let Some(h) = &self.http {
            if let Err(e) = addr(&h.endpoint, "http.endpoint") {
                errors.push(e);
            }
            url_path(&h.traces_url_path, "http.traces_url_path", &mut errors);
            url_path(&h.metrics_url_path, "http.metrics_url_path", &mut errors);
            url_path(&h.logs_url_path, "http.logs_url_path", &mut errors);
            if h.max_request_body_size.0 == 0 {
                errors.push(ConfigError::new(
                    "http.max_request_body_size",
                    "must be greater than 0",
                ));
            }
        }
        if self.max_concurrent_requests == 0 {
            errors.push(ConfigError::new(
                "max_concurrent_requests",
                "must be at least 1",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Addresses listened on, for duplicate-port checks.
    pub fn listen_addresses(&self) -> Vec<(String, SocketAddr)> {
        let mut out = Vec::new();
        if let Some(Ok(a)) = self.grpc.as_ref().map(|g| addr(&g.endpoint, "")) {
            out.push(("grpc.endpoint".to_string(), a));
        }
        if let Some(Ok(a)) = self.http.as_ref().map(|h| addr(&h.endpoint, "")) {
            out.push(("http.endpoint".to_string(), a));
        }
        out
    }
}

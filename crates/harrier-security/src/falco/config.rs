//! `falco` receiver settings and their validation.
//!
//! One listener serves two paths: `path` for Falco's `http_output` and falcosidekick's
//! webhook (JSON alerts), `tetragon_path` for Tetragon's JSON export (one event per line).

use harrier_core::config::{ByteSize, duration};
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// The listen address when none is given.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:2801";

/// `receivers.falco`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FalcoConfig {
    /// Listen address, `host:port` (default `127.0.0.1:2801`).
    pub endpoint: String,
    /// The URL path Falco's `http_output` (or falcosidekick's webhook output) posts
    /// alerts to (default `/`).
    pub path: String,
    /// The URL path accepting Tetragon JSON export lines (default `/tetragon`).
    pub tetragon_path: String,
    /// Largest accepted request body (default `4MiB`).
    pub max_request_body_size: ByteSize,
    /// Requests processed at once (default 16). Further requests wait up to
    /// `backpressure_wait` for a slot, then get 503.
    pub max_concurrent_requests: usize,
    /// How long a request may wait for a slot or for room in a full pipeline before it
    /// is answered 503 with `Retry-After` (default `1s`).
    #[serde(with = "duration")]
    pub backpressure_wait: Duration,
}

impl Default for FalcoConfig {
    fn default() -> Self {
        FalcoConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            path: "/".into(),
            tetragon_path: "/tetragon".into(),
            max_request_body_size: ByteSize::mib(4),
            max_concurrent_requests: 16,
            backpressure_wait: Duration::from_secs(1),
        }
    }
}

impl FalcoConfig {
    /// Checks every setting (no I/O).
    ///
    /// # Errors
    /// Every problem found, with paths relative to the receiver's section.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if let Err(e) = self.socket_addr() {
            errors.push(e);
        }
        for (key, path) in [("path", &self.path), ("tetragon_path", &self.tetragon_path)] {
            if !path.starts_with('/') {
                errors.push(ConfigError::new(
                    key,
                    format!("must start with '/', found {path:?}"),
                ));
            }
        }
        if self.path == self.tetragon_path {
            errors.push(ConfigError::new(
                "tetragon_path",
                format!(
                    "must differ from `path` (both are {:?}): the two inputs have different formats",
                    self.path
                ),
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
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The listen address, for duplicate-port checks.
    pub fn listen_addresses(&self) -> Vec<(String, SocketAddr)> {
        self.socket_addr()
            .map(|a| vec![("endpoint".to_string(), a)])
            .unwrap_or_default()
    }

    fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.endpoint.parse().map_err(|e| {
            ConfigError::new(
                "endpoint",
                format!(
                    "invalid address {:?}: {e} (expected host:port, e.g. {DEFAULT_ENDPOINT})",
                    self.endpoint
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use harrier_core::component::parse_config;

    fn config(text: &str) -> FalcoConfig {
        parse_config(&toml::from_str::<toml::Value>(text).unwrap()).unwrap()
    }

    fn error_keys(text: &str) -> Vec<String> {
        match config(text).validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn defaults_are_documented_ones() {
        let c = config("");
        assert_eq!(c, FalcoConfig::default());
        assert_eq!(c.endpoint, "127.0.0.1:2801");
        assert_eq!(c.path, "/");
        assert_eq!(c.tetragon_path, "/tetragon");
        assert_eq!(c.max_request_body_size.0, 4 << 20);
        assert_eq!(c.max_concurrent_requests, 16);
        assert_eq!(c.backpressure_wait, Duration::from_secs(1));
        assert!(c.validate().is_ok());
        assert_eq!(c.listen_addresses()[0].0, "endpoint");
    }

    #[test]
    fn errors_name_their_keys() {
        let e = error_keys(
            "endpoint = 'nowhere'\npath = 'falco'\ntetragon_path = 'falco'\nmax_request_body_size = 0\nmax_concurrent_requests = 0",
        );
        let keys: Vec<&str> = e.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "endpoint",
                "path",
                "tetragon_path",
                "tetragon_path",
                "max_request_body_size",
                "max_concurrent_requests"
            ],
            "{e:?}"
        );
        assert!(e[0].contains("host:port"), "{e:?}");
        assert!(e[3].contains("must differ"), "{e:?}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let value = toml::from_str::<toml::Value>("endpint = '127.0.0.1:1'").unwrap();
        let err = parse_config::<FalcoConfig>(&value).unwrap_err().to_string();
        assert!(err.contains("endpint"), "{err}");
    }
}

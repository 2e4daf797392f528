//! `exporters.prometheus` settings and their validation.

use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// `exporters.prometheus`: serves the latest value of every series for scraping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// The address to serve `/metrics` on (default `"127.0.0.1:8889"`).
    pub endpoint: String,
    /// Labels added to every series (default none).
    pub const_labels: BTreeMap<String, String>,
    /// Series not updated for this long are removed (humantime; default `"5m"`).
    pub metric_expiration: String,
}

impl Default for PrometheusConfig {
    fn default() -> PrometheusConfig {
        PrometheusConfig {
            endpoint: "127.0.0.1:8889".into(),
            const_labels: BTreeMap::new(),
            metric_expiration: "5m".into(),
        }
    }
}

impl PrometheusConfig {
    /// The parsed `endpoint`.
    ///
    /// # Errors
    /// A [`ConfigError`] at `endpoint` when it is not `host:port` with an IP host.
    pub fn socket_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.endpoint
            .parse()
            .map_err(|e| ConfigError::new("endpoint", format!("invalid address: {e}")))
    }

    /// The parsed `metric_expiration`.
    ///
    /// # Errors
    /// A [`ConfigError`] at `metric_expiration` when it is not a positive duration.
    pub fn expiration(&self) -> Result<Duration, ConfigError> {
        match humantime::parse_duration(&self.metric_expiration) {
            Ok(d) if !d.is_zero() => Ok(d),
            Ok(_) => Err(ConfigError::new("metric_expiration", "must be positive")),
            Err(e) => Err(ConfigError::new("metric_expiration", e.to_string())),
        }
    }

    /// Every problem in this config.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        if let Err(e) = self.socket_addr() {
            problems.push(e);
        }
        if let Err(e) = self.expiration() {
            problems.push(e);
        }
        for name in self.const_labels.keys() {
            if super::naming::label_name(name) != *name {
                problems.push(ConfigError::new(
                    format!("const_labels.{name}"),
                    "not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                ));
            }
        }
        problems
    }
}

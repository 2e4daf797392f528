//! Extension `health_check`: `GET /` (or the configured `path`) on `endpoint` answers 200
//! with a JSON status once every pipeline runs, 503 while starting or shutting down.

use crate::component::{
    BuildContext, Extension, ExtensionContext, ExtensionFactory, Factory, parse_config,
};
use crate::error::{ComponentError, ConfigError};
use crate::http_server;
use crate::topology::Health;
use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// `extensions.health_check` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckConfig {
    /// Listen address (default `127.0.0.1:13133`).
    pub endpoint: String,
    /// Path answered (default `/`).
    pub path: String,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            endpoint: "127.0.0.1:13133".into(),
            path: "/".into(),
        }
    }
}

impl HealthCheckConfig {
    fn validate(&self) -> Result<SocketAddr, ConfigError> {
        self.endpoint.parse().map_err(|e| {
            ConfigError::new(
                "endpoint",
                format!("invalid address {:?}: {e}", self.endpoint),
            )
        })
    }
}

/// Factory for `health_check`.
pub struct HealthCheckFactory;

impl Factory for HealthCheckFactory {
    fn type_name(&self) -> &'static str {
        "health_check"
    }
    fn description(&self) -> &'static str {
        "HTTP health endpoint: 200 when all pipelines run, 503 otherwise"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        let c: HealthCheckConfig = parse_config(config).map_err(|e| vec![e])?;
        c.validate().map(|_| ()).map_err(|e| vec![e])
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<HealthCheckConfig>(config)
            .ok()
            .and_then(|c| c.validate().ok())
            .map(|a| vec![("endpoint".to_string(), a)])
            .unwrap_or_default()
    }
}

impl ExtensionFactory for HealthCheckFactory {
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Extension>, ConfigError> {
        let config: HealthCheckConfig = parse_config(config)?;
        Ok(Box::new(HealthCheck { config }))
    }
}

struct HealthCheck {
    config: HealthCheckConfig,
}

#[async_trait]
impl Extension for HealthCheck {
    async fn start(
        self: Box<Self>,
        ctx: ExtensionContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let listener = http_server::bind(&self.config.endpoint).await?;
        let path = self.config.path.clone();
        let health = ctx.health.clone();
        let handler: http_server::Handler = Arc::new(move |req| {
            let (status, body) = if req.uri().path() == path {
                let h = health.get();
                let since = health
                    .since()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let body = format!(
                    r#"{{"status":"{}","upSince":{},"uptime":"{}"}}"#,
                    h.as_str(),
                    since,
                    humantime::format_duration(Duration::from_secs(health.uptime().as_secs()))
                );
                (if h == Health::Ready { 200 } else { 503 }, body)
            } else {
                (404, r#"{"status":"not found"}"#.to_string())
            };
            let resp = http_server::response(status, "application/json", body);
            async move { resp }.boxed()
        });
        Ok(http_server::serve(listener, handler, ctx.shutdown, 64, Duration::from_secs(1)).boxed())
    }
}

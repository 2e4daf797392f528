//! Receiver `falco`: runtime security events from Falco and Tetragon as OTLP logs.
//!
//! One HTTP listener, two paths:
//!
//! - `path` (default `/`) takes **Falco alerts** as Falco's `http_output` (with
//!   `json_output: true`) and falcosidekick's webhook output post them: one alert, a JSON
//!   array of alerts, or several one after the other. [`alert`] maps each to a log record
//!   with `falco.rule`, `falco.priority` (-> severity), `falco.tags` and the output
//!   fields as attributes.
//! - `tetragon_path` (default `/tetragon`) takes **Tetragon JSON export lines**, one event
//!   per line. [`tetragon`] maps `process_exec` / `process_exit` (and other probes) to
//!   runtime records and socket kprobes (`tcp_connect`, ...) to flow records.
//!
//! Runtime records carry `event.domain = "runtime"`, `process.executable.name`,
//! `process.command_line`, `container.image.name`, `k8s.namespace.name`, `k8s.pod.name`
//! and, where known, `k8s.workload.name`; flow records `event.domain = "network.flow"`
//! with `source.*` / `destination.*` addresses, ports and `*.k8s.*` names: the shapes
//! the `anomaly` processor's `novel_process` and `novel_connection` detectors read. The
//! [`receiver`] answers 200 only once the records were admitted into the pipelines and
//! 503 with `Retry-After` when refused. Reference: `docs/components/falco.md`.

pub mod alert;
mod attributes;
mod config;
mod receiver;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
pub mod tetragon;

pub use attributes::SCOPE_NAME;
pub use config::{DEFAULT_ENDPOINT, FalcoConfig};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::error::{ComponentError, ConfigError};
use std::net::SocketAddr;

/// Factory for `falco`.
pub struct FalcoFactory;

impl Factory for FalcoFactory {
    fn type_name(&self) -> &'static str {
        "falco"
    }
    fn description(&self) -> &'static str {
        "Falco alerts (http_output, falcosidekick) and Tetragon JSON export events as logs"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<FalcoConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<FalcoConfig>(config)
            .map(|c| c.listen_addresses())
            .unwrap_or_default()
    }
}

impl ReceiverFactory for FalcoFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: FalcoConfig = parse_config(config)?;
        config.validate().map_err(|errors| {
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| ConfigError::new("", "invalid configuration"))
        })?;
        Ok(Box::new(FalcoReceiver { config }))
    }
}

/// The built receiver.
pub struct FalcoReceiver {
    config: FalcoConfig,
}

#[async_trait]
impl Receiver for FalcoReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let config = self.config;
        let listener = harrier_core::http_server::bind(&config.endpoint).await?;
        let output = ctx.output.with_transport("http");
        tracing::info!(
            receiver = %output.id(),
            endpoint = %config.endpoint,
            path = %config.path,
            tetragon_path = %config.tetragon_path,
            "falco receiver listening"
        );
        let settings = receiver::Settings {
            path: config.path,
            tetragon_path: config.tetragon_path,
            max_body: config.max_request_body_size.as_usize(),
            max_concurrent_requests: config.max_concurrent_requests,
            backpressure_wait: config.backpressure_wait,
        };
        Ok(receiver::serve(listener, settings, output, ctx.shutdown).boxed())
    }
}

//! Receiver `fluent_forward`: the Fluentd Forward Protocol v1 server side, as spoken by
//! Fluent Bit's and Fluentd's `forward` outputs, the fluent-logger libraries and
//! Docker's fluentd logging driver. Logs only.
//!
//! - [`config`]: [`FluentForwardConfig`] (TCP `endpoint`, optional unix `socket_path`,
//!   size and connection caps, acknowledgement mode, `security`).
//! - `frame`: finds complete msgpack values in a byte stream without trusting lengths.
//! - `decode`: one value -> a message (Message, Forward, PackedForward,
//!   CompressedPackedForward; heartbeats; options).
//! - `mapping`: entries -> OTLP log records, Kubernetes metadata -> resources.
//! - `handshake`: HELO / PING / PONG with shared key and optional users.
//! - `server`: listeners, accept loops, the connection budget, shutdown.
//! - `connection`: one connection: backpressure by not reading, `{"ack": chunk}` only
//!   for data accepted (or delivered) by the pipelines.
//!
//! Long-form documentation: docs/components/fluent_forward.md.

pub mod config;
mod connection;
mod decode;
mod frame;
mod handshake;
mod mapping;
mod server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_mapping;
#[cfg(test)]
mod tests_server;

pub use config::{Acknowledgement, FluentForwardConfig, SecurityConfig, UserConfig};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::error::{ComponentError, ConfigError};
use server::{Listener, Shared};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Factory for `fluent_forward` (alias `fluentforward`, the OTel Collector's name).
pub struct FluentForwardFactory;

impl Factory for FluentForwardFactory {
    fn type_name(&self) -> &'static str {
        "fluent_forward"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["fluentforward"]
    }
    fn description(&self) -> &'static str {
        "Fluentd Forward Protocol v1 (Fluent Bit, Fluentd, fluent-logger) over TCP or a unix socket"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<FluentForwardConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<FluentForwardConfig>(config)
            .map(|c| c.listen_addresses())
            .unwrap_or_default()
    }
}

impl ReceiverFactory for FluentForwardFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: FluentForwardConfig = parse_config(config)?;
        config.validate().map_err(|mut e| e.remove(0))?;
        Ok(Box::new(FluentForwardReceiver { config }))
    }
}

/// The built receiver: binds in `start`, serves until shutdown.
pub struct FluentForwardReceiver {
    config: FluentForwardConfig,
}

#[async_trait]
impl Receiver for FluentForwardReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let config = Arc::new(self.config);
        let mut listeners = Vec::new();
        if !config.endpoint.is_empty() {
            let listener = harrier_core::http_server::bind(&config.endpoint)
                .await
                .map_err(|e| ComponentError::new(format!("tcp: {e}")))?;
            tracing::info!(endpoint = %config.endpoint, "fluent_forward listening on TCP");
            let shared = Shared::new(Arc::clone(&config), ctx.output.with_transport("tcp"));
            listeners.push((Listener::Tcp(listener), Arc::new(shared)));
        }
        if let Some(path) = &config.socket_path {
            let listener = server::bind_unix(path)?;
            tracing::info!(socket_path = %path, "fluent_forward listening on a unix socket");
            let shared = Shared::new(Arc::clone(&config), ctx.output.with_transport("unix"));
            listeners.push((
                Listener::Unix(listener, PathBuf::from(path)),
                Arc::new(shared),
            ));
        }
        drop(ctx.output);
        Ok(server::serve(listeners, config.max_connections, ctx.shutdown).boxed())
    }
}

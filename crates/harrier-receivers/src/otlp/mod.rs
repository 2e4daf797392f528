//! Receiver `otlp`: OTLP/gRPC and OTLP/HTTP (protobuf and JSON, gzip/zstd), all signals.
//!
//! Both transports share one admission path ([`Shared::accept`]): a request takes one
//! of `max_concurrent_requests` slots, invalid items are removed and reported through
//! `partial_success`, and the rest goes to [`Output::send`], which applies the
//! pipelines' memory limits and waits up to `backpressure_wait` for room. Refusals
//! become the protocol's retryable answer (gRPC `UNAVAILABLE`, HTTP 503 with
//! `Retry-After`); malformed payloads get gRPC `INVALID_ARGUMENT` / HTTP 400 with a
//! `Status` body. Services are offered only for signals that some pipeline takes.

mod config;
mod grpc;
mod http;
#[cfg(test)]
mod tests;
mod validate;

pub use config::{GrpcConfig, HttpConfig, OtlpConfig};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::envelope::{Envelope, Finalizers};
use harrier_core::error::{ComponentError, ConfigError};
use harrier_core::output::{Output, Refused};
use harrier_pdata::Batch;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use validate::Rejected;

/// Factory for `otlp`.
pub struct OtlpFactory;

impl Factory for OtlpFactory {
    fn type_name(&self) -> &'static str {
        "otlp"
    }
    fn description(&self) -> &'static str {
        "OTLP over gRPC and HTTP (protobuf, JSON; gzip, zstd)"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<OtlpConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<OtlpConfig>(config)
            .map(|c| c.listen_addresses())
            .unwrap_or_default()
    }
}

impl ReceiverFactory for OtlpFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        _ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: OtlpConfig = parse_config(config)?;
        config.validate().map_err(|mut e| e.remove(0))?;
        Ok(Box::new(OtlpReceiver { config }))
    }
}

/// The built receiver.
pub struct OtlpReceiver {
    config: OtlpConfig,
}

/// Why a request was not (fully) accepted.
#[derive(Debug)]
pub(crate) enum AcceptError {
    /// Retryable: memory limit, backpressure, shutting down.
    Refused(Refused),
}

/// State shared by both transports.
pub(crate) struct Shared {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Shared {
    /// Validates, then admits a decoded request. Returns the rejected items (for
    /// `partial_success`).
    pub(crate) async fn accept(
        &self,
        output: &Output,
        mut batch: Batch,
        wire_bytes: usize,
    ) -> Result<Rejected, AcceptError> {
        let signal = batch.signal();
        let rejected = validate::reject_invalid(&mut batch);
        if rejected.count > 0 {
            output.count_refused(signal, rejected.count);
            tracing::debug!(receiver = %output.id(), %signal, rejected = rejected.count, reason = %rejected.message, "rejected invalid items");
        }
        if batch.is_empty() {
            return Ok(rejected);
        }
        let envelope = Envelope::with_size(batch, Finalizers::none(), wire_bytes);
        output
            .send(envelope, Some(self.wait))
            .await
            .map_err(AcceptError::Refused)?;
        Ok(rejected)
    }

    /// Waits for a request slot up to the backpressure wait.
    pub(crate) async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let acquire = Arc::clone(&self.slots).acquire_owned();
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}

#[async_trait]
impl Receiver for OtlpReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let shared = Arc::new(Shared {
            slots: Arc::new(Semaphore::new(self.config.max_concurrent_requests)),
            wait: self.config.backpressure_wait,
        });
        let mut tasks: Vec<BoxFuture<'static, ()>> = Vec::new();
        if let Some(g) = &self.config.grpc {
            let listener = harrier_core::http_server::bind(&g.endpoint)
                .await
                .map_err(|e| ComponentError::new(format!("grpc: {e}")))?;
            tracing::info!(endpoint = %g.endpoint, "otlp gRPC listening");
            tasks.push(
                grpc::serve(
                    listener,
                    g.clone(),
                    ctx.output.with_transport("grpc"),
                    Arc::clone(&shared),
                    ctx.shutdown.clone(),
                )
                .boxed(),
            );
        }
        if let Some(h) = &self.config.http {
            let listener = harrier_core::http_server::bind(&h.endpoint)
                .await
                .map_err(|e| ComponentError::new(format!("http: {e}")))?;
            tracing::info!(endpoint = %h.endpoint, "otlp HTTP listening");
            tasks.push(
                http::serve(
                    listener,
                    h.clone(),
                    ctx.output.with_transport("http"),
                    Arc::clone(&shared),
                    ctx.shutdown.clone(),
                )
                .boxed(),
            );
        }
        drop(ctx.output);
        Ok(async move {
            futures::future::join_all(tasks).await;
        }
        .boxed())
    }
}

//! Receiver `k8s_audit`: Kubernetes API server audit events as OTLP logs.
//!
//! Two inputs, either or both: the audit **webhook** ([`webhook`]: kube-apiserver's
//! `--audit-webhook-config-file` backend posts `EventList`s) and the audit **log file**
//! ([`tail`], [`file_input`]: the `--audit-log-path` backend's JSON lines, followed
//! across rotation with a persisted offset). Both decode with [`event`] and map with
//! [`mapping::Mapper`]: one `LogRecord` per event at a kept stage, one `ResourceLogs`
//! per request or file batch. The webhook answers 200 only once the records were
//! admitted and 503 with `Retry-After` when refused, so the API server retries; the file
//! mode waits for the pipeline and moves its offset only after a batch was accepted.
//! Reference: `docs/components/k8s_audit.md`.

mod config;
mod event;
mod file_input;
mod mapping;
mod tail;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
mod webhook;

pub use config::{DEFAULT_ENDPOINT, K8sAuditConfig};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use harrier_core::Signal;
use harrier_core::component::{
    BuildContext, Factory, Receiver, ReceiverContext, ReceiverFactory, parse_config,
};
use harrier_core::error::{ComponentError, ConfigError};
use harrier_core::telemetry::{Counter, Telemetry};
use std::net::SocketAddr;
use std::sync::Arc;

/// Factory for `k8s_audit`.
pub struct K8sAuditFactory;

impl Factory for K8sAuditFactory {
    fn type_name(&self) -> &'static str {
        "k8s_audit"
    }
    fn description(&self) -> &'static str {
        "Kubernetes API server audit events (webhook backend and audit log file) as logs"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<K8sAuditConfig>(config)
            .map_err(|e| vec![e])?
            .validate()
    }
    fn listen_addresses(&self, config: &toml::Value) -> Vec<(String, SocketAddr)> {
        parse_config::<K8sAuditConfig>(config)
            .map(|c| c.listen_addresses())
            .unwrap_or_default()
    }
}

impl ReceiverFactory for K8sAuditFactory {
    fn signals(&self) -> &'static [Signal] {
        &[Signal::Logs]
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        let config: K8sAuditConfig = parse_config(config)?;
        config.validate().map_err(|mut e| e.remove(0))?;
        Ok(Box::new(K8sAuditReceiver {
            config,
            id: ctx.id.to_string(),
        }))
    }
}

/// The built receiver.
pub struct K8sAuditReceiver {
    config: K8sAuditConfig,
    id: String,
}

/// `harrier_k8s_audit_filtered_events{receiver, transport}`.
fn filtered_counter(telemetry: &Telemetry, receiver: &str, transport: &str) -> Counter {
    telemetry.counter(
        "harrier_k8s_audit_filtered_events",
        "Audit events dropped because their stage is not in `stages`.",
        &[("receiver", receiver), ("transport", transport)],
    )
}

fn file_counters(telemetry: &Telemetry, receiver: &str) -> file_input::FileCounters {
    let labels = [("receiver", receiver)];
    file_input::FileCounters {
        malformed_lines: telemetry.counter(
            "harrier_k8s_audit_malformed_lines",
            "Audit log lines skipped because they are not audit events (or too long).",
            &labels,
        ),
        filtered: filtered_counter(telemetry, receiver, "file"),
        rotations: telemetry.counter(
            "harrier_k8s_audit_file_rotations",
            "Rotations and truncations of the audit log file followed.",
            &labels,
        ),
        errors: telemetry.counter(
            "harrier_k8s_audit_file_errors",
            "Failures reading the audit log or persisting its offset.",
            &labels,
        ),
    }
}

#[async_trait]
impl Receiver for K8sAuditReceiver {
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError> {
        let K8sAuditReceiver { config, id } = *self;
        let mapper = Arc::new(mapping::Mapper::new(
            config.stage_filter(),
            config.include_objects,
            config.cluster_name.as_deref(),
        ));
        // Either task ending before shutdown ends both, so the supervisor restarts the
        // receiver as a whole instead of leaving half of it stopped.
        let stop = ctx.shutdown.child_token();
        let mut tasks: Vec<BoxFuture<'static, ()>> = Vec::new();
        if let Some(settings) = config.file_settings() {
            std::fs::create_dir_all(&settings.storage_dir).map_err(|e| {
                ComponentError::new(format!(
                    "file mode: cannot create storage_dir {}: {e}",
                    settings.storage_dir.display()
                ))
            })?;
            let store = tail::OffsetStore::new(&settings.storage_dir, &id);
            let output = ctx.output.with_transport("file");
            let counters = file_counters(output.telemetry(), &id);
            tasks.push(
                file_input::run(
                    settings,
                    store,
                    output,
                    Arc::clone(&mapper),
                    counters,
                    stop.clone(),
                )
                .boxed(),
            );
        }
        if let Some(endpoint) = config.webhook_endpoint() {
            let listener = harrier_core::http_server::bind(endpoint)
                .await
                .map_err(|e| ComponentError::new(format!("webhook: {e}")))?;
            tracing::info!(receiver = %id, %endpoint, path = %config.path, "k8s_audit webhook listening");
            let settings = webhook::WebhookSettings {
                path: config.path.clone(),
                max_body: config.max_request_body_size.as_usize(),
                max_concurrent_requests: config.max_concurrent_requests,
                backpressure_wait: config.backpressure_wait,
            };
            tasks.push(
                webhook::serve(
                    listener,
                    settings,
                    ctx.output.with_transport("http"),
                    Arc::clone(&mapper),
                    stop.clone(),
                )
                .boxed(),
            );
        }
        drop(ctx.output);
        if tasks.is_empty() {
            return Err(ComponentError::new(
                "neither the webhook nor the file mode is enabled",
            ));
        }
        Ok(async move {
            let (_, _, rest) = futures::future::select_all(tasks).await;
            stop.cancel();
            futures::future::join_all(rest).await;
        }
        .boxed())
    }
}

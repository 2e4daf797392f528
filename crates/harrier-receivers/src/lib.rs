//! Harrier's receivers, one module each, named after the protocol they speak.
//!
//! - [`otlp`]: OTLP over gRPC and HTTP (protobuf and JSON), all three signals.
//! - [`fluent_forward`]: the Fluentd Forward Protocol v1 (Fluent Bit, Fluentd), logs.
//! - [`host_metrics`]: metrics of the host the collector runs on (CPU, memory, ...).
//! - [`prometheus`]: scrapes Prometheus targets (text 0.0.4 and OpenMetrics), metrics.
//! - [`k8s_audit`]: Kubernetes API server audit events (webhook and log file), logs.

pub mod fluent_forward;
pub mod host_metrics;
pub mod k8s_audit;
pub mod otlp;
pub mod prometheus;

use harrier_core::component::Registry;

/// Registers every receiver of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_receiver(otlp::OtlpFactory);
    registry.add_receiver(fluent_forward::FluentForwardFactory);
    registry.add_receiver(k8s_audit::K8sAuditFactory);
    registry.add_receiver(host_metrics::HostMetricsFactory);
    registry.add_receiver(prometheus::PrometheusFactory);
}

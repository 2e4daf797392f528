//! Harrier's exporters: where telemetry leaves the collector.
//!
//! | type | aliases | sends to |
//! |---|---|---|
//! | [`debug`] | `logging` | standard output, for people |
//! | [`file`](mod@file) | | a local file, one OTLP/JSON request per line |
//! | [`nop`] | | nowhere (benchmarks) |
//! | [`otlp`] | `otlp_grpc` | an OTLP/gRPC endpoint |
//! | [`otlp_http`] | `otlphttp` | an OTLP/HTTP endpoint (protobuf or JSON) |
//! | [`prometheus`] | | scrapers of `/metrics` (metrics only) |
//! | [`prometheus_remote_write`] | `prometheusremotewrite` | a Prometheus remote-write endpoint (metrics only) |
//!
//! Every exporter but `prometheus` and `prometheus_remote_write` (metrics only) handles all three signals and makes exactly one delivery attempt per
//! `export` call, classifying its failure as retryable or permanent; the framework's
//! `ExporterRunner` owns queueing, retries and timeouts (`sending_queue`,
//! `retry_on_failure`, `timeout`). [`register_all`] is the one list of what this crate
//! provides. Long-form documentation: `docs/components/exporters.md`.

#![warn(missing_docs)]

pub mod debug;
pub mod file;
pub mod nop;
pub mod otlp;
pub mod otlp_http;
pub mod prometheus;
pub mod prometheus_remote_write;
mod shared;

use harrier_core::component::Registry;

/// Registers every exporter of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_exporter(debug::DebugExporterFactory);
    registry.add_exporter(file::FileExporterFactory);
    registry.add_exporter(nop::NopExporterFactory);
    registry.add_exporter(otlp::OtlpExporterFactory);
    registry.add_exporter(otlp_http::OtlpHttpExporterFactory);
    registry.add_exporter(prometheus::PrometheusExporterFactory);
    registry.add_exporter(prometheus_remote_write::PrometheusRemoteWriteExporterFactory);
}

#[cfg(test)]
mod tests;

//! `harrier-loadgen`: a load generator for OTLP, Fluent Forward and Kubernetes audit
//! receivers, like the OTel Collector's `telemetrygen`.
//!
//! The binary (`src/main.rs`) sends pre-built OTLP export requests over gRPC or HTTP,
//! Fluent Forward frames over TCP or audit `EventList`s over HTTP from a fixed number
//! of workers, at saturation or at a fixed rate, for a fixed time, and prints a
//! summary. This library holds its pure parts so they can be tested and
//! shared with the benchmarks:
//!
//! - [`payload`]: building the requests once ([`payload::Payload`], [`payload::Shape`]);
//! - [`forward`]: Fluent Forward frames (msgpack, all four modes) and their acks;
//! - [`audit`]: Kubernetes audit webhook bodies (`audit.k8s.io/v1` `EventList`);
//! - [`stats`]: counting results and latencies ([`stats::RunStats`],
//!   [`stats::LatencyHistogram`]).
#![warn(missing_docs)]

pub mod audit;
pub mod forward;
pub mod payload;
pub mod stats;

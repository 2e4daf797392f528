//! `harrier-loadgen`: a load generator for OTLP receivers, like the OTel Collector's
//! `telemetrygen`.
//!
//! The binary (`src/main.rs`) sends pre-built OTLP export requests over gRPC or HTTP
//! from a fixed number of workers, at saturation or at a fixed rate, for a fixed time,
//! and prints a summary. This library holds its pure parts so they can be tested and
//! shared with the benchmarks:
//!
//! - [`payload`]: building the requests once ([`payload::Payload`], [`payload::Shape`]);
//! - [`stats`]: counting results and latencies ([`stats::RunStats`],
//!   [`stats::LatencyHistogram`]).
#![warn(missing_docs)]

pub mod payload;
pub mod stats;

//! Shared set-up for the benches: criterion settings sized for a 2-core machine, and
//! the OTLP data every bench uses (built by `harrier-loadgen`'s payload builders, so a
//! bench and a load-generator run measure the same span shape).
#![allow(dead_code)]

use criterion::Criterion;
use harrier_loadgen::payload::{Shape, traces_request};
use harrier_pdata::Batch;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Attributes per span in every bench (the load generator's default too).
pub const ATTRIBUTES: usize = 5;

/// Short runs: the whole suite must finish in a few minutes on 2 cores.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
}

/// An export request of `spans` spans (one resource, one scope, one trace), each with
/// [`ATTRIBUTES`] attributes.
pub fn request(spans: usize) -> ExportTraceServiceRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    traces_request(
        Shape {
            items: spans,
            attributes: ATTRIBUTES,
        },
        now,
    )
}

/// The same as a [`Batch`].
pub fn batch(spans: usize) -> Batch {
    Batch::from(request(spans))
}

/// A loopback port that was free a moment ago, for in-process collectors.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

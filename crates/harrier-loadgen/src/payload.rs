//! Pre-built OTLP export requests.
//!
//! A load generator must measure the receiver, not itself, so every request is built
//! once before the measured loop ([`Payload::build`]) and reused for every send. A
//! small pool of requests ([`POOL_SIZE`]) gives distinct trace ids without building a
//! request per send. [`Shape`] says how big each request is: items per request
//! (spans, metric data points or log records) and attributes per item.
//!
//! The same builders feed the `harrier-benches` crate, so that the codec benchmarks and
//! a load-generator run measure the same span shape.

use crate::forward::{ForwardFrame, ForwardMode, RecordShape};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many distinct requests are pre-built; sends cycle through them.
pub const POOL_SIZE: usize = 16;

/// Data points per metric in a metrics request (the last metric may hold fewer).
pub const POINTS_PER_METRIC: usize = 10;

/// The telemetry signal to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Signal {
    /// Spans (`ExportTraceServiceRequest`).
    Traces,
    /// Metric data points (`ExportMetricsServiceRequest`), alternating gauges and sums.
    Metrics,
    /// Log records (`ExportLogsServiceRequest`).
    Logs,
}

impl Signal {
    /// The lower-case name, as in OTLP/HTTP paths (`/v1/traces`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// What one item of this signal is called in summaries.
    pub fn item_noun(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
            Signal::Logs => "log records",
        }
    }
}

/// The size of each generated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Spans, data points or log records per request.
    pub items: usize,
    /// Attributes on each span, data point or log record.
    pub attributes: usize,
}

/// Pre-built requests of one signal, typed (for gRPC clients).
#[derive(Debug, Clone, PartialEq)]
pub enum Requests {
    /// Trace export requests.
    Traces(Vec<ExportTraceServiceRequest>),
    /// Metrics export requests.
    Metrics(Vec<ExportMetricsServiceRequest>),
    /// Logs export requests.
    Logs(Vec<ExportLogsServiceRequest>),
    /// Fluent Forward frames (msgpack) with the acks they expect.
    Forward(Vec<ForwardFrame>),
    /// Kubernetes audit `EventList` bodies; the JSON is in [`Payload::bodies`].
    Audit,
}

impl Requests {
    /// Builds `pool` distinct requests of `signal` with the given shape.
    pub fn build(signal: Signal, shape: Shape, pool: usize) -> Requests {
        let pool = pool.max(1);
        let now = now_unix_nanos();
        match signal {
            Signal::Traces => {
                Requests::Traces((0..pool).map(|_| traces_request(shape, now)).collect())
            }
            Signal::Metrics => {
                Requests::Metrics((0..pool).map(|r| metrics_request(shape, now, r)).collect())
            }
            Signal::Logs => Requests::Logs((0..pool).map(|_| logs_request(shape, now)).collect()),
        }
    }

    /// Number of pre-built requests.
    pub fn len(&self) -> usize {
        match self {
            Requests::Traces(r) => r.len(),
            Requests::Metrics(r) => r.len(),
            Requests::Logs(r) => r.len(),
            Requests::Forward(f) => f.len(),
            Requests::Audit => 0,
        }
    }

    /// Whether there are no requests.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The protobuf encoding of each request (an OTLP/HTTP protobuf body); the frame
    /// bytes of forward requests; nothing for audit (its bodies are already built).
    pub fn encode_all(&self) -> Vec<Vec<u8>> {
        match self {
            Requests::Traces(r) => r.iter().map(Message::encode_to_vec).collect(),
            Requests::Metrics(r) => r.iter().map(Message::encode_to_vec).collect(),
            Requests::Logs(r) => r.iter().map(Message::encode_to_vec).collect(),
            Requests::Forward(f) => f.iter().map(|f| f.bytes.to_vec()).collect(),
            Requests::Audit => Vec::new(),
        }
    }
}

/// Everything the workers send: typed requests (gRPC) or ready bodies (HTTP).
#[derive(Debug, Clone)]
pub struct Payload {
    /// The typed requests; gRPC clients clone one per send.
    pub requests: Requests,
    /// The HTTP bodies, already gzip-compressed when asked; empty for gRPC.
    pub bodies: Vec<Bytes>,
    /// Items in every request.
    pub items_per_request: usize,
    /// Mean protobuf size of one request, uncompressed.
    pub encoded_bytes: usize,
}

impl Payload {
    /// Builds the pool of requests and, when `http_bodies` is set, their encoded (and,
    /// with `gzip`, compressed) bodies.
    ///
    /// # Errors
    /// Compression failed (writing into memory; not expected in practice).
    pub fn build(
        signal: Signal,
        shape: Shape,
        http_bodies: bool,
        gzip: bool,
    ) -> std::io::Result<Payload> {
        let requests = Requests::build(signal, shape, POOL_SIZE);
        let encoded = requests.encode_all();
        let encoded_bytes = encoded.iter().map(Vec::len).sum::<usize>() / encoded.len().max(1);
        let bodies = if http_bodies {
            encoded
                .into_iter()
                .map(|body| {
                    if gzip {
                        gzip_bytes(&body).map(Bytes::from)
                    } else {
                        Ok(Bytes::from(body))
                    }
                })
                .collect::<std::io::Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(Payload {
            requests,
            bodies,
            items_per_request: shape.items,
            encoded_bytes,
        })
    }

    /// [`POOL_SIZE`] Fluent Forward frames of `shape` in `mode`, each with a distinct
    /// `chunk` option when `chunk` is set.
    ///
    /// # Errors
    /// Encoding or compression failed (in memory; not expected in practice).
    pub fn forward(mode: ForwardMode, shape: RecordShape, chunk: bool) -> std::io::Result<Payload> {
        let frames = crate::forward::build_frames(mode, shape, chunk, POOL_SIZE)?;
        let encoded_bytes =
            frames.iter().map(|f| f.bytes.len()).sum::<usize>() / frames.len().max(1);
        Ok(Payload {
            requests: Requests::Forward(frames),
            bodies: Vec::new(),
            items_per_request: shape.records,
            encoded_bytes,
        })
    }

    /// [`POOL_SIZE`] Kubernetes audit `EventList` bodies of `events` events each.
    ///
    /// # Errors
    /// JSON serialisation failed (in memory; not expected in practice).
    pub fn audit(events: usize) -> serde_json::Result<Payload> {
        let bodies = crate::audit::build_bodies(events, POOL_SIZE)?;
        let encoded_bytes = bodies.iter().map(Bytes::len).sum::<usize>() / bodies.len().max(1);
        Ok(Payload {
            requests: Requests::Audit,
            bodies,
            items_per_request: events,
            encoded_bytes,
        })
    }

    /// Number of distinct requests to cycle through.
    pub fn pool_len(&self) -> usize {
        match self.requests {
            Requests::Audit => self.bodies.len(),
            _ => self.requests.len(),
        }
    }
}

/// Gzip-compresses `data`.
///
/// # Errors
/// The encoder failed (it writes to memory).
pub fn gzip_bytes(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), Compression::fast());
    encoder.write_all(data)?;
    encoder.finish()
}

/// One trace export request: one resource, one scope, `shape.items` spans of one trace.
pub fn traces_request(shape: Shape, now_nanos: u64) -> ExportTraceServiceRequest {
    let trace_id: [u8; 16] = non_zero_id();
    let root_id: [u8; 8] = non_zero_id();
    let spans = (0..shape.items)
        .map(|i| {
            let start = now_nanos + i as u64 * 1_000;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: if i == 0 {
                    root_id.to_vec()
                } else {
                    non_zero_id::<8>().to_vec()
                },
                parent_span_id: if i == 0 { Vec::new() } else { root_id.to_vec() },
                name: format!("loadgen-operation-{}", i % 10),
                kind: if i == 0 {
                    span::SpanKind::Server
                } else {
                    span::SpanKind::Internal
                } as i32,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 250_000,
                attributes: attributes(shape.attributes, i),
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// One metrics export request: `shape.items` data points spread over metrics of
/// [`POINTS_PER_METRIC`] points, alternating double gauges and cumulative int sums.
/// `request` makes attribute values differ between requests of the pool.
pub fn metrics_request(
    shape: Shape,
    now_nanos: u64,
    request: usize,
) -> ExportMetricsServiceRequest {
    let metric_count = shape.items.div_ceil(POINTS_PER_METRIC);
    let metrics = (0..metric_count)
        .map(|m| {
            let first = m * POINTS_PER_METRIC;
            let last = (first + POINTS_PER_METRIC).min(shape.items);
            let points: Vec<NumberDataPoint> = (first..last)
                .map(|i| {
                    let mut attrs = attributes(shape.attributes, i);
                    // Distinct series within a metric: make the first value unique.
                    if let Some(first_attr) = attrs.first_mut() {
                        first_attr.value = Some(string_value(format!("series-{request}-{i}")));
                    }
                    NumberDataPoint {
                        attributes: attrs,
                        start_time_unix_nano: now_nanos.saturating_sub(60_000_000_000),
                        time_unix_nano: now_nanos,
                        value: Some(if m % 2 == 0 {
                            number_data_point::Value::AsDouble(i as f64 * 0.5)
                        } else {
                            number_data_point::Value::AsInt(i as i64)
                        }),
                        ..Default::default()
                    }
                })
                .collect();
            let data = if m % 2 == 0 {
                metric::Data::Gauge(Gauge {
                    data_points: points,
                })
            } else {
                metric::Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                })
            };
            Metric {
                name: format!("loadgen.metric.{m}"),
                description: "generated by harrier-loadgen".into(),
                unit: "1".into(),
                data: Some(data),
                ..Default::default()
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// One logs export request: `shape.items` INFO log records with a string body,
/// correlated to one trace.
pub fn logs_request(shape: Shape, now_nanos: u64) -> ExportLogsServiceRequest {
    let trace_id: [u8; 16] = non_zero_id();
    let span_id: [u8; 8] = non_zero_id();
    let log_records = (0..shape.items)
        .map(|i| LogRecord {
            time_unix_nano: now_nanos + i as u64 * 1_000,
            observed_time_unix_nano: now_nanos + i as u64 * 1_000 + 500,
            severity_number: SeverityNumber::Info as i32,
            severity_text: "INFO".into(),
            body: Some(string_value(format!(
                "loadgen log message {i}: request handled"
            ))),
            attributes: attributes(shape.attributes, i),
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// `count` attributes for item `item`: even ones strings, odd ones integers.
fn attributes(count: usize, item: usize) -> Vec<KeyValue> {
    (0..count)
        .map(|k| {
            let value = if k % 2 == 0 {
                string_value(format!("value-{k}-{}", item % 100))
            } else {
                AnyValue {
                    value: Some(any_value::Value::IntValue((item * 31 + k) as i64)),
                }
            };
            key_value(format!("loadgen.attribute.{k}"), value)
        })
        .collect()
}

fn key_value(key: String, value: AnyValue) -> KeyValue {
    KeyValue {
        key,
        value: Some(value),
        ..Default::default()
    }
}

fn string_value(s: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    }
}

fn resource() -> Resource {
    Resource {
        attributes: vec![
            key_value(
                "service.name".into(),
                string_value("harrier-loadgen".into()),
            ),
            key_value("host.name".into(), string_value("loadgen-host".into())),
        ],
        ..Default::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "harrier-loadgen".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// A random id that is not all zeros (all-zero trace and span ids are invalid in OTLP).
fn non_zero_id<const N: usize>() -> [u8; N] {
    let mut id: [u8; N] = rand::random();
    if id.iter().all(|b| *b == 0) {
        id[N - 1] = 1;
    }
    id
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use flate2::read::GzDecoder;
    use std::collections::HashSet;
    use std::io::Read;

    const SHAPE: Shape = Shape {
        items: 100,
        attributes: 5,
    };

    fn span_count(r: &ExportTraceServiceRequest) -> usize {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    #[test]
    fn traces_have_the_asked_shape_and_valid_ids() {
        let Requests::Traces(reqs) = Requests::build(Signal::Traces, SHAPE, 4) else {
            panic!("wrong signal");
        };
        assert_eq!(reqs.len(), 4);
        let mut trace_ids = HashSet::new();
        for r in &reqs {
            assert_eq!(span_count(r), 100);
            let spans = &r.resource_spans[0].scope_spans[0].spans;
            assert!(spans.iter().all(|s| s.attributes.len() == 5));
            assert!(
                spans
                    .iter()
                    .all(|s| s.trace_id.len() == 16 && s.span_id.len() == 8)
            );
            assert!(
                spans[1..]
                    .iter()
                    .all(|s| s.parent_span_id == spans[0].span_id)
            );
            trace_ids.insert(spans[0].trace_id.clone());
        }
        assert_eq!(
            trace_ids.len(),
            4,
            "each request of the pool is its own trace"
        );
    }

    #[test]
    fn metrics_count_data_points_not_metrics() {
        let shape = Shape {
            items: 25,
            attributes: 3,
        };
        let Requests::Metrics(reqs) = Requests::build(Signal::Metrics, shape, 1) else {
            panic!("wrong signal");
        };
        let metrics = &reqs[0].resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 3);
        let points: Vec<&NumberDataPoint> = metrics
            .iter()
            .flat_map(|m| match &m.data {
                Some(metric::Data::Gauge(g)) => g.data_points.iter(),
                Some(metric::Data::Sum(s)) => s.data_points.iter(),
                _ => panic!("unexpected metric type"),
            })
            .collect();
        assert_eq!(points.len(), 25);
        assert!(points.iter().all(|p| p.attributes.len() == 3));
    }

    #[test]
    fn logs_have_the_asked_shape() {
        let Requests::Logs(reqs) = Requests::build(Signal::Logs, SHAPE, 2) else {
            panic!("wrong signal");
        };
        let records = &reqs[1].resource_logs[0].scope_logs[0].log_records;
        assert_eq!(records.len(), 100);
        assert!(records.iter().all(|l| l.attributes.len() == 5));
    }

    #[test]
    fn encoded_size_is_plausible_and_grows_with_attributes() {
        let small = Payload::build(
            Signal::Traces,
            Shape {
                items: 100,
                attributes: 0,
            },
            false,
            false,
        )
        .unwrap();
        let big = Payload::build(Signal::Traces, SHAPE, false, false).unwrap();
        // ~100 bytes of ids, name and times per span, plus ~25-30 per attribute.
        assert!(
            (8_000..14_000).contains(&small.encoded_bytes),
            "{}",
            small.encoded_bytes
        );
        assert!(
            (18_000..30_000).contains(&big.encoded_bytes),
            "{}",
            big.encoded_bytes
        );
        assert!(big.bodies.is_empty(), "no HTTP bodies asked for");
    }

    #[test]
    fn http_bodies_are_the_encoded_requests_gzipped_on_demand() {
        let plain = Payload::build(Signal::Logs, SHAPE, true, false).unwrap();
        let gzipped = Payload::build(Signal::Logs, SHAPE, true, true).unwrap();
        assert_eq!(plain.bodies.len(), POOL_SIZE);
        let decoded = ExportLogsServiceRequest::decode(plain.bodies[0].clone()).unwrap();
        let Requests::Logs(reqs) = &plain.requests else {
            panic!("wrong signal");
        };
        assert_eq!(decoded, reqs[0]);
        let mut unzipped = Vec::new();
        GzDecoder::new(&gzipped.bodies[3][..])
            .read_to_end(&mut unzipped)
            .unwrap();
        let Requests::Logs(zreqs) = &gzipped.requests else {
            panic!("wrong signal");
        };
        assert_eq!(unzipped, zreqs[3].encode_to_vec());
        assert!(gzipped.bodies[3].len() < unzipped.len());
    }
}

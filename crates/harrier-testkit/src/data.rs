//! Deterministic telemetry generators and item-level views for comparisons.

use harrier_pdata::Batch;
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::InstrumentationScope;
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![string_kv("service.name", service)],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "harrier-testkit".into(),
        version: "1".into(),
        ..Default::default()
    })
}

/// `n` spans numbered from `start`, with distinct ids and an `i` attribute.
pub fn spans(start: u64, n: u64) -> Batch {
    Batch::Traces(vec![ResourceSpans {
        resource: resource("testkit"),
        scope_spans: vec![ScopeSpans {
            scope: scope(),
            spans: (start..start + n)
                .map(|i| {
                    let mut trace_id = [0u8; 16];
                    trace_id[..8].copy_from_slice(&(i + 1).to_be_bytes());
                    trace_id[8] = 0xab;
                    Span {
                        trace_id: trace_id.to_vec(),
                        span_id: (i + 1).to_be_bytes().to_vec(),
                        name: format!("span-{i}"),
                        kind: 2,
                        start_time_unix_nano: 1_700_000_000_000_000_000 + i,
                        end_time_unix_nano: 1_700_000_000_000_001_000 + i,
                        attributes: vec![int_kv("i", i as i64)],
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// `n` log records numbered from `start`.
pub fn logs(start: u64, n: u64) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: resource("testkit"),
        scope_logs: vec![ScopeLogs {
            scope: scope(),
            log_records: (start..start + n)
                .map(|i| LogRecord {
                    time_unix_nano: 1_700_000_000_000_000_000 + i,
                    severity_number: 9,
                    severity_text: "INFO".into(),
                    body: Some(harrier_pdata::otlp::common::v1::AnyValue {
                        value: Some(
                            harrier_pdata::otlp::common::v1::any_value::Value::StringValue(
                                format!("log line {i}"),
                            ),
                        ),
                    }),
                    attributes: vec![int_kv("i", i as i64)],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// One gauge with `n` data points numbered from `start`.
pub fn gauge_points(start: u64, n: u64) -> Batch {
    Batch::Metrics(vec![ResourceMetrics {
        resource: resource("testkit"),
        scope_metrics: vec![ScopeMetrics {
            scope: scope(),
            metrics: vec![Metric {
                name: "testkit.gauge".into(),
                unit: "1".into(),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: (start..start + n)
                        .map(|i| NumberDataPoint {
                            time_unix_nano: 1_700_000_000_000_000_000 + i,
                            value: Some(number_data_point::Value::AsInt(i as i64)),
                            attributes: vec![int_kv("i", i as i64)],
                            ..Default::default()
                        })
                        .collect(),
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// All spans of some batches, in order.
pub fn all_spans(batches: &[Batch]) -> Vec<Span> {
    batches
        .iter()
        .filter_map(|b| match b {
            Batch::Traces(rs) => Some(rs),
            _ => None,
        })
        .flatten()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| s.spans.clone())
        .collect()
}

/// All log records of some batches, in order.
pub fn all_logs(batches: &[Batch]) -> Vec<LogRecord> {
    batches
        .iter()
        .filter_map(|b| match b {
            Batch::Logs(rl) => Some(rl),
            _ => None,
        })
        .flatten()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| s.log_records.clone())
        .collect()
}

/// All metrics (each with its points) of some batches, in order.
pub fn all_metrics(batches: &[Batch]) -> Vec<Metric> {
    batches
        .iter()
        .filter_map(|b| match b {
            Batch::Metrics(rm) => Some(rm),
            _ => None,
        })
        .flatten()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| s.metrics.clone())
        .collect()
}

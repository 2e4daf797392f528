//! Test helpers: build contexts, sample batches of every signal, TOML snippets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_core::component::BuildContext;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::Signal;
use harrier_pdata::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    Sum, metric, number_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

/// A build context for exporter `id` serving every signal.
pub(crate) fn ctx(id: &str) -> BuildContext {
    BuildContext {
        id: ComponentId::parse(id).unwrap(),
        pipeline: None,
        signals: Signal::ALL.to_vec(),
        telemetry: Telemetry::new(),
        shared: Default::default(),
    }
}

/// Parses a TOML snippet into a component section.
pub(crate) fn toml(text: &str) -> toml::Value {
    toml::Value::Table(toml::from_str(text).unwrap())
}

/// A string attribute.
pub(crate) fn attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![attr("service.name", service)],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "harrier.test".into(),
        version: "1.0".into(),
        ..Default::default()
    })
}

/// `n` spans of one resource; span names are `op-<i>`, `tag` goes into an attribute.
pub(crate) fn traces(n: usize, tag: &str) -> Batch {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![0x5b; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("op-{i}"),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: 1_581_452_772_000_000_000,
            end_time_unix_nano: 1_581_452_773_000_000_789,
            attributes: vec![attr("tag", tag)],
            status: Some(Status {
                code: status::StatusCode::Ok as i32,
                message: String::new(),
            }),
            ..Default::default()
        })
        .collect();
    Batch::Traces(vec![ResourceSpans {
        resource: resource("checkout"),
        scope_spans: vec![ScopeSpans {
            scope: scope(),
            spans,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// A gauge with one point and a histogram with two.
pub(crate) fn metrics() -> Batch {
    let gauge = Metric {
        name: "queue.depth".into(),
        unit: "1".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: 1_581_452_773_000_000_000,
                value: Some(number_data_point::Value::AsInt(42)),
                attributes: vec![attr("queue", "orders")],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let sum = Metric {
        name: "requests".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                value: Some(number_data_point::Value::AsDouble(1.5)),
                ..Default::default()
            }],
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    let histogram = Metric {
        name: "latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![
                HistogramDataPoint {
                    count: 3,
                    sum: Some(12.0),
                    bucket_counts: vec![1, 2, 0],
                    explicit_bounds: vec![5.0, 10.0],
                    ..Default::default()
                },
                HistogramDataPoint {
                    count: 1,
                    bucket_counts: vec![0, 0, 1],
                    explicit_bounds: vec![5.0, 10.0],
                    ..Default::default()
                },
            ],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    };
    Batch::Metrics(vec![ResourceMetrics {
        resource: resource("checkout"),
        scope_metrics: vec![ScopeMetrics {
            scope: scope(),
            metrics: vec![gauge, sum, histogram],
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// `n` log records with bodies `line <i> <tag>`.
pub(crate) fn logs(n: usize, tag: &str) -> Batch {
    let records = (0..n)
        .map(|i| LogRecord {
            time_unix_nano: 1_581_452_773_000_000_000,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("line {i} {tag}"))),
            }),
            attributes: vec![attr("tag", tag)],
            ..Default::default()
        })
        .collect();
    Batch::Logs(vec![ResourceLogs {
        resource: resource("checkout"),
        scope_logs: vec![ScopeLogs {
            scope: scope(),
            log_records: records,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// Installs rustls' ring provider once (reqwest with `rustls-no-provider` needs it).
pub(crate) fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

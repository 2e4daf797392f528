//! Fixtures shared by the processors' unit tests: one-item batches of every signal and
//! config helpers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_core::Signal;
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory};
use harrier_core::error::ConfigError;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

/// A string value.
pub fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

/// An attribute.
pub fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A resource with `service.name`.
pub fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv("service.name", s(service))],
        ..Default::default()
    })
}

/// A build context for `id` in a pipeline named after the signal.
pub fn ctx(id: &str, telemetry: &Telemetry) -> BuildContext {
    BuildContext {
        id: ComponentId::parse(id).unwrap(),
        pipeline: Some("p".into()),
        signals: Signal::ALL.to_vec(),
        telemetry: telemetry.clone(),
        shared: Default::default(),
    }
}

/// Parses a TOML section.
pub fn section(text: &str) -> toml::Value {
    toml::from_str(text).unwrap()
}

/// Builds a processor from a TOML section.
pub fn build<F: ProcessorFactory>(
    factory: &F,
    text: &str,
    telemetry: &Telemetry,
) -> Box<dyn Processor> {
    factory
        .build(&section(text), &ctx(factory.type_name(), telemetry))
        .unwrap()
}

/// The validation errors of a TOML section, as `path: message` strings.
pub fn errors<F: Factory>(factory: &F, text: &str) -> Vec<String> {
    factory
        .validate(&section(text))
        .err()
        .unwrap_or_default()
        .iter()
        .map(ConfigError::to_string)
        .collect()
}

/// One span per entry `(name, kind, status, attrs)` under one resource.
pub fn spans(service: &str, items: Vec<(&str, span::SpanKind, i32, Vec<KeyValue>)>) -> Batch {
    Batch::Traces(vec![ResourceSpans {
        resource: resource(service),
        scope_spans: vec![ScopeSpans {
            spans: items
                .into_iter()
                .map(|(name, kind, status, attributes)| Span {
                    name: name.into(),
                    kind: kind as i32,
                    status: Some(Status {
                        code: status,
                        ..Default::default()
                    }),
                    attributes,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// One log record per entry `(severity_number, severity_text, body, attrs)`.
pub fn logs(service: &str, items: Vec<(i32, &str, &str, Vec<KeyValue>)>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: resource(service),
        scope_logs: vec![ScopeLogs {
            log_records: items
                .into_iter()
                .map(|(severity_number, text, body, attributes)| LogRecord {
                    severity_number,
                    severity_text: text.into(),
                    body: Some(AnyValue {
                        value: Some(s(body)),
                    }),
                    attributes,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// One metric of every data point type, each with one point carrying `attrs`, named
/// `gauge`, `sum`, `histogram`, `exp_histogram`, `summary`.
pub fn metrics(service: &str, attrs: Vec<KeyValue>) -> Batch {
    let m = |name: &str, data| Metric {
        name: name.into(),
        data: Some(data),
        ..Default::default()
    };
    let a = attrs;
    Batch::Metrics(vec![ResourceMetrics {
        resource: resource(service),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                m(
                    "gauge",
                    metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            attributes: a.clone(),
                            ..Default::default()
                        }],
                    }),
                ),
                m(
                    "sum",
                    metric::Data::Sum(Sum {
                        data_points: vec![NumberDataPoint {
                            attributes: a.clone(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                ),
                m(
                    "histogram",
                    metric::Data::Histogram(Histogram {
                        data_points: vec![HistogramDataPoint {
                            attributes: a.clone(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                ),
                m(
                    "exp_histogram",
                    metric::Data::ExponentialHistogram(ExponentialHistogram {
                        data_points: vec![ExponentialHistogramDataPoint {
                            attributes: a.clone(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                ),
                m(
                    "summary",
                    metric::Data::Summary(Summary {
                        data_points: vec![SummaryDataPoint {
                            attributes: a,
                            ..Default::default()
                        }],
                    }),
                ),
            ],
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// The attribute lists of every item (span, log record, data point) in order.
pub fn item_attributes(batch: &Batch) -> Vec<Vec<KeyValue>> {
    let mut out = Vec::new();
    match batch {
        Batch::Traces(rs) => rs
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .for_each(|x| out.push(x.attributes.clone())),
        Batch::Logs(rl) => rl
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .for_each(|x| out.push(x.attributes.clone())),
        Batch::Metrics(rm) => {
            let mut batch = Batch::Metrics(rm.clone());
            if let Batch::Metrics(rm) = &mut batch {
                for m in rm
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_metrics)
                    .flat_map(|s| &mut s.metrics)
                {
                    crate::points::for_each_attributes_mut(m.data.as_mut(), |a| {
                        out.push(a.clone())
                    });
                }
            }
        }
    }
    out
}

/// Resource attribute lists of every resource group.
pub fn resource_attributes(batch: &Batch) -> Vec<Vec<KeyValue>> {
    let get = |r: &Option<Resource>| r.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
    match batch {
        Batch::Traces(rs) => rs.iter().map(|r| get(&r.resource)).collect(),
        Batch::Logs(rl) => rl.iter().map(|r| get(&r.resource)).collect(),
        Batch::Metrics(rm) => rm.iter().map(|r| get(&r.resource)).collect(),
    }
}

//! Tests of the walk: where redaction applies (nested values, bodies, events, links,
//! resources, every metric type), keys (blocked, allowed, ignored, k8s Secrets),
//! actions, summaries, metrics and validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::attrs::{get, get_str, int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, SummaryDataPoint, metric,
};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::span::{Event, Link};
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};

pub(super) const METRIC: &str = "harrier_processor_redaction_masked_values";

pub(super) fn build_with(config: RedactionConfig) -> (RedactionProcessor, Telemetry) {
    let telemetry = Telemetry::new();
    let ctx = BuildContext {
        id: ComponentId::parse("redaction").unwrap(),
        pipeline: Some("logs".into()),
        signals: vec![Signal::Logs],
        telemetry: telemetry.clone(),
        shared: Default::default(),
    };
    (RedactionProcessor::new(config, &ctx).unwrap(), telemetry)
}

pub(super) fn build(toml_text: &str) -> (RedactionProcessor, Telemetry) {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    RedactionFactory.validate(&value).unwrap();
    build_with(parse_config(&value).unwrap())
}

pub(super) fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

pub(super) fn map(entries: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: entries.into_iter().map(|(k, v)| kv(k, v)).collect(),
        })),
    }
}

pub(super) fn array(values: Vec<AnyValue>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
    }
}

pub(super) fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

pub(super) fn log(attributes: Vec<KeyValue>, body: Option<AnyValue>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![string_kv("service.name", "shop")],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: vec![LogRecord {
                attributes,
                body,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }])
}

pub(super) fn logs_with_attr(key: &str, value: &str) -> Batch {
    log(vec![string_kv(key, value)], None)
}

pub(super) fn record(batch: &Batch) -> &LogRecord {
    match batch {
        Batch::Logs(rl) => &rl[0].scope_logs[0].log_records[0],
        _ => panic!("not logs"),
    }
}

pub(super) fn log_attr(batch: &Batch, key: &str) -> Option<String> {
    get_str(&record(batch).attributes, key).map(str::to_string)
}

pub(super) fn body_str(batch: &Batch) -> &str {
    match record(batch).body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s,
        other => panic!("body is not a string: {other:?}"),
    }
}

pub(super) fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn nested_maps_and_arrays() {
    let (mut p, _) = build("");
    let mut batch = log(
        vec![kv(
            "user",
            map(vec![
                ("contact", s("mail alice@example.com")),
                ("tags", array(vec![s("vip"), s("ssn 123-45-6789")])),
                ("deep", map(vec![("db_password", s("hunter2"))])),
            ]),
        )],
        None,
    );
    p.redact(&mut batch);
    let expected = map(vec![
        ("contact", s("mail ****")),
        ("tags", array(vec![s("vip"), s("ssn ****")])),
        ("deep", map(vec![("db_password", s("****"))])),
    ]);
    assert_eq!(get(&record(&batch).attributes, "user"), Some(&expected));
}

#[test]
fn string_and_map_bodies() {
    let (mut p, _) = build("");
    let mut batch = log(
        vec![],
        Some(s("login by bob@example.com from card 4111111111111111")),
    );
    p.redact(&mut batch);
    assert_eq!(body_str(&batch), "login by **** from card ****");

    let body = map(vec![
        ("msg", s("ok bob@example.com")),
        ("password", s("x")),
        ("n", s("42")),
    ]);
    let mut batch = log(vec![], Some(body));
    p.redact(&mut batch);
    let expected = map(vec![
        ("msg", s("ok ****")),
        ("password", s("****")),
        ("n", s("42")),
    ]);
    assert_eq!(record(&batch).body.as_ref(), Some(&expected));
}

#[test]
fn spans_events_links_and_resources() {
    let (mut p, _) = build("summary = \"debug\"");
    let mut batch = Batch::Traces(vec![ResourceSpans {
        resource: Some(Resource {
            attributes: vec![string_kv("host.owner", "ops@example.com")],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                attributes: vec![
                    string_kv("http.request.header.authorization", "Bearer abc"),
                    string_kv("http.route", "/users/{id}"),
                ],
                events: vec![Event {
                    name: "exception".into(),
                    attributes: vec![string_kv("exception.message", "bad card 4111111111111111")],
                    ..Default::default()
                }],
                links: vec![Link {
                    attributes: vec![string_kv("peer.user", "eve@example.org")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    p.redact(&mut batch);
    let Batch::Traces(rs) = &batch else { panic!() };
    let resource = &rs[0].resource.as_ref().unwrap().attributes;
    assert_eq!(get_str(resource, "host.owner"), Some("****"));
    assert_eq!(
        get(resource, COUNT_KEY).unwrap().value,
        Some(any_value::Value::IntValue(1))
    );
    let span = &rs[0].scope_spans[0].spans[0];
    assert_eq!(
        get_str(&span.attributes, "http.request.header.authorization"),
        Some("****")
    );
    assert_eq!(get_str(&span.attributes, "http.route"), Some("/users/{id}"));
    assert_eq!(
        get_str(&span.events[0].attributes, "exception.message"),
        Some("bad card ****")
    );
    assert_eq!(
        get_str(&span.links[0].attributes, "peer.user"),
        Some("****")
    );
    // The span's summary covers its events and links.
    assert_eq!(
        get(&span.attributes, COUNT_KEY).unwrap().value,
        Some(any_value::Value::IntValue(3))
    );
    let touched = array(vec![
        s("exception.message"),
        s("http.request.header.authorization"),
        s("peer.user"),
    ]);
    assert_eq!(get(&span.attributes, KEYS_KEY), Some(&touched));
}

#[test]
fn every_metric_type() {
    let (mut p, telemetry) = build("");
    let attrs = || vec![string_kv("user", "a@example.com"), int_kv("n", 1)];
    let metric = |data| Metric {
        name: "m".into(),
        data: Some(data),
        ..Default::default()
    };
    let mut batch = Batch::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                metric(metric::Data::Gauge(
                    harrier_pdata::otlp::metrics::v1::Gauge {
                        data_points: vec![NumberDataPoint {
                            attributes: attrs(),
                            ..Default::default()
                        }],
                    },
                )),
                metric(metric::Data::Sum(harrier_pdata::otlp::metrics::v1::Sum {
                    data_points: vec![NumberDataPoint {
                        attributes: attrs(),
                        ..Default::default()
                    }],
                    ..Default::default()
                })),
                metric(metric::Data::Histogram(
                    harrier_pdata::otlp::metrics::v1::Histogram {
                        data_points: vec![HistogramDataPoint {
                            attributes: attrs(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                )),
                metric(metric::Data::ExponentialHistogram(
                    harrier_pdata::otlp::metrics::v1::ExponentialHistogram {
                        data_points: vec![ExponentialHistogramDataPoint {
                            attributes: attrs(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                )),
                metric(metric::Data::Summary(
                    harrier_pdata::otlp::metrics::v1::Summary {
                        data_points: vec![SummaryDataPoint {
                            attributes: attrs(),
                            ..Default::default()
                        }],
                    },
                )),
            ],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    p.redact(&mut batch);
    let metrics = point_users(&batch);
    assert_eq!(metrics, vec!["****".to_string(); 5]);
    assert_eq!(telemetry.counter_sum(METRIC, &[("detector", "email")]), 5);
}

/// The `user` attribute of every data point.
fn point_users(batch: &Batch) -> Vec<String> {
    let Batch::Metrics(rm) = batch else { panic!() };
    let mut out = Vec::new();
    for m in rm
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        let lists: Vec<&Vec<KeyValue>> = match m.data.as_ref().unwrap() {
            metric::Data::Gauge(g) => g.data_points.iter().map(|p| &p.attributes).collect(),
            metric::Data::Sum(g) => g.data_points.iter().map(|p| &p.attributes).collect(),
            metric::Data::Histogram(g) => g.data_points.iter().map(|p| &p.attributes).collect(),
            metric::Data::ExponentialHistogram(g) => {
                g.data_points.iter().map(|p| &p.attributes).collect()
            }
            metric::Data::Summary(g) => g.data_points.iter().map(|p| &p.attributes).collect(),
        };
        out.extend(
            lists
                .into_iter()
                .map(|a| get_str(a, "user").unwrap().to_string()),
        );
    }
    out
}

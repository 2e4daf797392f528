//! Hand-built batches of every signal with every field set (zero values, awkward
//! strings and every `AnyValue` kind included), shared by the round-trip tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::Batch;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

pub(super) fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        key_strindex: 0,
    }
}

pub(super) fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

/// One attribute of every `AnyValue` kind, zero values and awkward strings included.
pub(super) fn all_value_kinds() -> Vec<KeyValue> {
    use any_value::Value as V;
    vec![
        kv("str", s("plain")),
        kv("str.empty", s("")),
        kv(
            "str.escapes",
            s("q\" b\\ n\n r\r t\t nul\0 bell\x07 \u{1f} é 日本 🦅 \u{2028} </script>"),
        ),
        kv("bool.true", V::BoolValue(true)),
        kv("bool.false", V::BoolValue(false)),
        kv("int.zero", V::IntValue(0)),
        kv("int.neg", V::IntValue(-42)),
        kv("int.min", V::IntValue(i64::MIN)),
        kv("int.max", V::IntValue(i64::MAX)),
        kv("double.zero", V::DoubleValue(0.0)),
        kv("double", V::DoubleValue(-1.25e-7)),
        kv("double.big", V::DoubleValue(1e300)),
        kv("double.tiny", V::DoubleValue(5e-324)),
        kv("double.third", V::DoubleValue(1.0 / 3.0)),
        kv("bytes", V::BytesValue(vec![0, 1, 2, 0xfe, 0xff])),
        kv("bytes.empty", V::BytesValue(Vec::new())),
        kv("strindex", V::StringValueStrindex(7)),
        kv("array.empty", V::ArrayValue(ArrayValue::default())),
        kv(
            "array",
            V::ArrayValue(ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(s("a")),
                    },
                    AnyValue {
                        value: Some(V::IntValue(1)),
                    },
                    AnyValue { value: None },
                    AnyValue {
                        value: Some(V::ArrayValue(ArrayValue {
                            values: vec![AnyValue {
                                value: Some(V::BoolValue(false)),
                            }],
                        })),
                    },
                ],
            }),
        ),
        kv("kvlist.empty", V::KvlistValue(KeyValueList::default())),
        kv(
            "kvlist",
            V::KvlistValue(KeyValueList {
                values: vec![
                    kv("inner", V::DoubleValue(2.5)),
                    kv(
                        "nested",
                        V::KvlistValue(KeyValueList {
                            values: vec![kv("x", s("y"))],
                        }),
                    ),
                ],
            }),
        ),
        KeyValue {
            key: "no.value".into(),
            value: None,
            key_strindex: 0,
        },
        KeyValue {
            key: "unset.value".into(),
            value: Some(AnyValue { value: None }),
            key_strindex: 0,
        },
        KeyValue {
            key: String::new(),
            value: Some(AnyValue {
                value: Some(s("k")),
            }),
            key_strindex: 3,
        },
    ]
}

pub(super) fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: all_value_kinds(),
        dropped_attributes_count: 3,
        entity_refs: vec![EntityRef {
            schema_url: "https://opentelemetry.io/schemas/1.30.0".into(),
            r#type: "service".into(),
            id_keys: vec!["service.name".into(), "service.namespace".into()],
            description_keys: vec!["service.version".into()],
        }],
    })
}

pub(super) fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: vec![kv("scope.attr", s("v"))],
        dropped_attributes_count: 1,
    })
}

pub(super) const TRACE_ID: [u8; 16] = [
    0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb,
];
pub(super) const SPAN_ID: [u8; 8] = [0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10];

pub(super) fn rich_traces() -> Batch {
    let full = Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        trace_state: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into(),
        parent_span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
        flags: 0x301,
        name: "GET /api/\"quoted\"".into(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: 1_700_000_000_000_000_001,
        end_time_unix_nano: u64::MAX,
        attributes: all_value_kinds(),
        dropped_attributes_count: 5,
        events: vec![
            span::Event {
                time_unix_nano: 1_700_000_000_500_000_000,
                name: "exception".into(),
                attributes: vec![kv("exception.message", s("boom"))],
                dropped_attributes_count: 2,
            },
            span::Event::default(),
        ],
        dropped_events_count: 6,
        links: vec![
            span::Link {
                trace_id: vec![9; 16],
                span_id: vec![8; 8],
                trace_state: "a=b".into(),
                attributes: vec![kv("link.attr", any_value::Value::IntValue(-1))],
                dropped_attributes_count: 7,
                flags: 0x100,
            },
            span::Link::default(),
        ],
        dropped_links_count: 8,
        status: Some(Status {
            message: "failed".into(),
            code: 2,
        }),
    };
    let empty_status = Span {
        name: "empty status".into(),
        status: Some(Status::default()),
        ..Span::default()
    };
    Batch::Traces(vec![
        ResourceSpans {
            resource: resource(),
            scope_spans: vec![
                ScopeSpans {
                    scope: scope(),
                    spans: vec![full, empty_status, Span::default()],
                    schema_url: "https://scope.schema".into(),
                },
                ScopeSpans::default(),
            ],
            schema_url: "https://resource.schema".into(),
        },
        ResourceSpans {
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope::default()),
                spans: vec![Span {
                    kind: 1,
                    ..Span::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        },
        ResourceSpans::default(),
    ])
}

pub(super) fn exemplars() -> Vec<Exemplar> {
    vec![
        Exemplar {
            filtered_attributes: vec![kv("filtered", s("yes"))],
            time_unix_nano: 1_700_000_000_000_000_123,
            span_id: SPAN_ID.to_vec(),
            trace_id: TRACE_ID.to_vec(),
            value: Some(exemplar::Value::AsDouble(0.5)),
        },
        Exemplar {
            value: Some(exemplar::Value::AsInt(-9)),
            ..Exemplar::default()
        },
        Exemplar {
            value: Some(exemplar::Value::AsInt(0)),
            ..Exemplar::default()
        },
        Exemplar::default(),
    ]
}

pub(super) fn number_points() -> Vec<NumberDataPoint> {
    vec![
        NumberDataPoint {
            attributes: vec![kv("p", s("1"))],
            start_time_unix_nano: 1,
            time_unix_nano: 2,
            exemplars: exemplars(),
            flags: 1,
            value: Some(number_data_point::Value::AsInt(i64::MIN)),
        },
        NumberDataPoint {
            value: Some(number_data_point::Value::AsDouble(0.0)),
            ..NumberDataPoint::default()
        },
        NumberDataPoint {
            value: Some(number_data_point::Value::AsInt(0)),
            ..NumberDataPoint::default()
        },
        NumberDataPoint {
            value: Some(number_data_point::Value::AsDouble(-3.75)),
            time_unix_nano: u64::MAX,
            ..NumberDataPoint::default()
        },
        NumberDataPoint::default(),
    ]
}

pub(super) fn metric(name: &str, data: Option<metric::Data>) -> Metric {
    Metric {
        name: name.into(),
        description: format!("the {name} metric"),
        unit: "ms".into(),
        metadata: vec![kv("meta", s("data"))],
        data,
    }
}

pub(super) fn rich_metrics() -> Batch {
    let metrics = vec![
        metric(
            "gauge",
            Some(metric::Data::Gauge(Gauge {
                data_points: number_points(),
            })),
        ),
        metric(
            "sum",
            Some(metric::Data::Sum(Sum {
                data_points: number_points(),
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
        ),
        metric("sum.empty", Some(metric::Data::Sum(Sum::default()))),
        metric(
            "histogram",
            Some(metric::Data::Histogram(Histogram {
                data_points: vec![
                    HistogramDataPoint {
                        attributes: vec![kv("h", s("1"))],
                        start_time_unix_nano: 10,
                        time_unix_nano: 20,
                        count: u64::MAX,
                        sum: Some(12.5),
                        bucket_counts: vec![0, 1, u64::MAX, 3],
                        explicit_bounds: vec![-1.0, 0.0, 2.5],
                        exemplars: exemplars(),
                        flags: 1,
                        min: Some(-4.0),
                        max: Some(0.0),
                    },
                    HistogramDataPoint {
                        sum: Some(0.0),
                        ..HistogramDataPoint::default()
                    },
                    HistogramDataPoint::default(),
                ],
                aggregation_temporality: 1,
            })),
        ),
        metric(
            "exponential",
            Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![
                    ExponentialHistogramDataPoint {
                        attributes: vec![kv("e", s("1"))],
                        start_time_unix_nano: 30,
                        time_unix_nano: 40,
                        count: 17,
                        sum: Some(-0.125),
                        scale: -3,
                        zero_count: 2,
                        positive: Some(Buckets {
                            offset: -5,
                            bucket_counts: vec![1, 0, 4],
                        }),
                        negative: Some(Buckets {
                            offset: 3,
                            bucket_counts: vec![u64::MAX],
                        }),
                        flags: 1,
                        exemplars: exemplars(),
                        min: Some(-100.0),
                        max: Some(1e-9),
                        zero_threshold: 1e-12,
                    },
                    ExponentialHistogramDataPoint {
                        scale: 20,
                        positive: Some(Buckets::default()),
                        ..ExponentialHistogramDataPoint::default()
                    },
                ],
                aggregation_temporality: 2,
            })),
        ),
        metric(
            "summary",
            Some(metric::Data::Summary(Summary {
                data_points: vec![
                    SummaryDataPoint {
                        attributes: vec![kv("s", s("1"))],
                        start_time_unix_nano: 50,
                        time_unix_nano: 60,
                        count: 1000,
                        sum: 123.456,
                        quantile_values: vec![
                            ValueAtQuantile {
                                quantile: 0.0,
                                value: 0.1,
                            },
                            ValueAtQuantile {
                                quantile: 0.99,
                                value: 9.9,
                            },
                            ValueAtQuantile {
                                quantile: 1.0,
                                value: 0.0,
                            },
                        ],
                        flags: 1,
                    },
                    SummaryDataPoint::default(),
                ],
            })),
        ),
        metric("no.data", None),
        Metric::default(),
    ];
    Batch::Metrics(vec![
        ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics,
                schema_url: "https://scope.schema".into(),
            }],
            schema_url: "https://resource.schema".into(),
        },
        ResourceMetrics::default(),
    ])
}

pub(super) fn rich_logs() -> Batch {
    let full = LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000,
        observed_time_unix_nano: 1_700_000_000_000_000_999,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: all_value_kinds(),
            })),
        }),
        attributes: all_value_kinds(),
        dropped_attributes_count: 4,
        flags: 1,
        trace_id: TRACE_ID.to_vec(),
        span_id: SPAN_ID.to_vec(),
        event_name: "app.event".into(),
    };
    let empty_body = LogRecord {
        body: Some(AnyValue { value: None }),
        ..LogRecord::default()
    };
    let zero_body = LogRecord {
        body: Some(AnyValue {
            value: Some(any_value::Value::IntValue(0)),
        }),
        ..LogRecord::default()
    };
    Batch::Logs(vec![ResourceLogs {
        resource: resource(),
        scope_logs: vec![
            ScopeLogs {
                scope: scope(),
                log_records: vec![full, empty_body, zero_body, LogRecord::default()],
                schema_url: "https://scope.schema".into(),
            },
            ScopeLogs {
                scope: None,
                log_records: vec![LogRecord {
                    body: Some(AnyValue {
                        value: Some(s("second scope")),
                    }),
                    ..LogRecord::default()
                }],
                schema_url: String::new(),
            },
        ],
        schema_url: "https://resource.schema".into(),
    }])
}

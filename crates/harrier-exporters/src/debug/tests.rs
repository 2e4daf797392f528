//! Tests of the `debug` exporter: the renderings byte for byte, sampling, validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::Sampling;
use super::exporter::Sampler;
use super::*;
use crate::shared::test_support::{attr, ctx, logs, metrics, toml, traces};
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValueList, any_value};
use harrier_pdata::otlp::metrics::v1::exponential_histogram_data_point::Buckets;
use harrier_pdata::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
    Summary, SummaryDataPoint, metric, summary_data_point,
};
use harrier_pdata::otlp::trace::v1::span;
use std::time::{Duration, Instant};

fn render(batch: &Batch, verbosity: Verbosity) -> String {
    let mut out = Vec::new();
    format_batch(batch, verbosity, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn basic_is_one_line_per_batch() {
    assert_eq!(
        render(&traces(3, "a"), Verbosity::Basic),
        "traces: resource spans=1 spans=3\n"
    );
    assert_eq!(
        render(&metrics(), Verbosity::Basic),
        "metrics: resource metrics=1 metrics=3 data points=4\n"
    );
    assert_eq!(
        render(&logs(2, "b"), Verbosity::Basic),
        "logs: resource logs=1 log records=2\n"
    );
}

#[test]
fn normal_is_one_line_per_item() {
    assert_eq!(
        render(&traces(2, "a"), Verbosity::Normal),
        "ResourceSpans #0 service.name=checkout\n\
         ScopeSpans #0 harrier.test@1.0\n\
         op-0 5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b 0000000000000001 tag=a\n\
         op-1 5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b 0000000000000002 tag=a\n"
    );
    assert_eq!(
        render(&metrics(), Verbosity::Normal),
        "ResourceMetrics #0 service.name=checkout\n\
         ScopeMetrics #0 harrier.test@1.0\n\
         queue.depth Gauge points=1 unit=1\n\
         requests Sum points=1\n\
         latency Histogram points=2 unit=ms\n"
    );
    assert_eq!(
        render(&logs(1, "multi\nline"), Verbosity::Normal),
        "ResourceLogs #0 service.name=checkout\n\
         ScopeLogs #0 harrier.test@1.0\n\
         line 0 multi\\nline tag=multi\\nline\n"
    );
}

#[test]
fn detailed_traces_show_every_field() {
    let Batch::Traces(mut rs) = traces(1, "a") else {
        unreachable!()
    };
    let span0 = &mut rs[0].scope_spans[0].spans[0];
    span0.parent_span_id = vec![0xab; 8];
    span0.events.push(span::Event {
        time_unix_nano: 1_581_452_773_000_000_123,
        name: "retry".into(),
        attributes: vec![attr("attempt", "2")],
        dropped_attributes_count: 0,
    });
    span0.links.push(span::Link {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        ..Default::default()
    });
    let text = render(&Batch::Traces(rs), Verbosity::Detailed);
    assert_eq!(
        text,
        "ResourceSpans #0\n\
         Resource SchemaURL: \n\
         Resource attributes:\n     \
              -> service.name: Str(checkout)\n\
         ScopeSpans #0\n\
         ScopeSpans SchemaURL: \n\
         InstrumentationScope harrier.test 1.0\n\
         Span #0\n    \
             Trace ID       : 5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b\n    \
             Parent ID      : abababababababab\n    \
             ID             : 0000000000000001\n    \
             Name           : op-0\n    \
             Kind           : Server\n    \
             Start time     : 2020-02-11 20:26:12 +0000 UTC\n    \
             End time       : 2020-02-11 20:26:13.000000789 +0000 UTC\n    \
             Status code    : Ok\n    \
             Status message : \n\
         Attributes:\n     \
              -> tag: Str(a)\n\
         Events:\n\
         SpanEvent #0\n     \
              -> Name: retry\n     \
              -> Timestamp: 2020-02-11 20:26:13.000000123 +0000 UTC\n     \
              -> DroppedAttributesCount: 0\n     \
              -> Attributes:\n          \
                   -> attempt: Str(2)\n\
         Links:\n\
         SpanLink #0\n     \
              -> Trace ID: 01010101010101010101010101010101\n     \
              -> ID: 0202020202020202\n     \
              -> TraceState: \n     \
              -> DroppedAttributesCount: 0\n"
    );
}

#[test]
fn detailed_logs_show_every_field() {
    let Batch::Logs(mut rl) = logs(1, "b") else {
        unreachable!()
    };
    let record = &mut rl[0].scope_logs[0].log_records[0];
    record.severity_number = 10;
    record
        .attributes
        .push(harrier_pdata::otlp::common::v1::KeyValue {
            key: "nested".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: vec![attr("k", "v")],
                })),
            }),
            ..Default::default()
        });
    record
        .attributes
        .push(harrier_pdata::otlp::common::v1::KeyValue {
            key: "list".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(any_value::Value::IntValue(1)),
                        },
                        AnyValue {
                            value: Some(any_value::Value::BytesValue(vec![0xff])),
                        },
                    ],
                })),
            }),
            ..Default::default()
        });
    let text = render(&Batch::Logs(rl), Verbosity::Detailed);
    let expected_tail = "LogRecord #0\n\
         ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC\n\
         Timestamp: 2020-02-11 20:26:13 +0000 UTC\n\
         SeverityText: INFO\n\
         SeverityNumber: Info2(10)\n\
         Body: Str(line 0 b)\n\
         Attributes:\n     \
              -> tag: Str(b)\n     \
              -> nested: Map({\"k\":\"v\"})\n     \
              -> list: Slice([1,\"/w==\"])\n\
         Trace ID: \n\
         Span ID: \n\
         Flags: 0\n";
    assert!(text.starts_with("ResourceLog #0\n"), "{text}");
    assert!(text.ends_with(expected_tail), "{text}");
}

#[test]
fn detailed_metrics_show_every_point_type() {
    let text = render(&metrics(), Verbosity::Detailed);
    for expected in [
        "Metric #0\nDescriptor:\n     -> Name: queue.depth\n     -> Description: \n     -> Unit: 1\n     -> DataType: Gauge\n",
        "NumberDataPoints #0\nData point attributes:\n     -> queue: Str(orders)\nStartTimestamp: 1970-01-01 00:00:00 +0000 UTC\nTimestamp: 2020-02-11 20:26:13 +0000 UTC\nValue: 42\n",
        "     -> IsMonotonic: true\n     -> AggregationTemporality: Cumulative\n",
        "Value: 1.500000\n",
        "HistogramDataPoints #1\n",
        "Count: 3\nSum: 12.000000\nExplicitBounds #0: 5.000000\nExplicitBounds #1: 10.000000\nBuckets #0, Count: 1\nBuckets #1, Count: 2\nBuckets #2, Count: 0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }

    let exponential = Metric {
        name: "exp".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                count: 6,
                scale: 0,
                zero_count: 1,
                positive: Some(Buckets {
                    offset: 1,
                    bucket_counts: vec![2, 3],
                }),
                negative: Some(Buckets {
                    offset: 0,
                    bucket_counts: vec![0],
                }),
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    };
    let summary = Metric {
        name: "sum".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                count: 4,
                sum: 10.0,
                quantile_values: vec![summary_data_point::ValueAtQuantile {
                    quantile: 0.5,
                    value: 2.0,
                }],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let batch = Batch::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![exponential, summary],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    let text = render(&batch, Verbosity::Detailed);
    for expected in [
        "     -> DataType: ExponentialHistogram\n     -> AggregationTemporality: Delta\n",
        "Scale: 0\nBucket [-2.000000, -1.000000), Count: 0\nBucket [0, 0], Count: 1\nBucket (2.000000, 4.000000], Count: 2\nBucket (4.000000, 8.000000], Count: 3\n",
        "SummaryDataPoints #0\n",
        "Count: 4\nSum: 10.000000\nQuantileValue #0: Quantile 0.500000, Value 2.000000\n",
        "InstrumentationScope  \n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn sampling_passes_initial_then_every_nth_per_second() {
    let start = Instant::now();
    let sampler = Sampler::new(
        Sampling {
            initial: 2,
            thereafter: 3,
        },
        start,
    );
    let admitted: Vec<bool> = (0..8).map(|_| sampler.admit(start)).collect();
    assert_eq!(
        admitted,
        [true, true, false, false, true, false, false, true]
    );
    // A new second starts a new window.
    assert!(sampler.admit(start + Duration::from_secs(1)));
    let none_after = Sampler::new(
        Sampling {
            initial: 1,
            thereafter: 0,
        },
        start,
    );
    assert!(none_after.admit(start));
    assert!(!none_after.admit(start));
}

#[tokio::test]
async fn exports_every_signal_to_stdout() {
    let section = toml("verbosity = \"basic\"\nsampling_initial = 10");
    let exporter = DebugExporterFactory.build(&section, &ctx("debug")).unwrap();
    exporter.start().await.unwrap();
    for batch in [traces(1, "d"), metrics(), logs(1, "d")] {
        exporter.export(&batch).await.unwrap();
    }
}

#[test]
fn validation_reports_paths() {
    let errors = |text: &str| -> Vec<String> {
        DebugExporterFactory
            .validate(&toml(text))
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect()
    };
    assert_eq!(errors("verbosity = \"loud\""), ["verbosity"]);
    assert_eq!(errors("sampling_thereafter = 5"), ["sampling_thereafter"]);
    assert_eq!(errors("verbose = true"), ["verbose"]);
    assert_eq!(DebugExporterFactory.validate(&toml("")), Ok(()));
    assert_eq!(DebugConfig::default().verbosity, Verbosity::Basic);
}

//! Round-trip tests of the OTLP/JSON codec: hand-built batches with every field set go
//! through JSON and come back equal, including NaN and infinite doubles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::decode_request;
use super::tests::encode;
use super::tests_fixtures::{kv, metric, rich_logs, rich_metrics, rich_traces};
use crate::{Batch, Signal};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, NumberDataPoint, ResourceMetrics, ScopeMetrics, Summary,
    SummaryDataPoint, metric, number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

fn assert_round_trip(batch: &Batch) {
    let json = encode(batch);
    let decoded = decode_request(batch.signal(), json.as_bytes()).unwrap();
    assert_eq!(&decoded, batch, "JSON: {json}");
    // Same protobuf bytes as well, so nothing was lost anywhere.
    assert_eq!(decoded.encode_request(), batch.encode_request());
    // And JSON -> Batch -> JSON is stable.
    assert_eq!(encode(&decoded), json);
}

#[test]
fn rich_traces_round_trip() {
    assert_round_trip(&rich_traces());
}

#[test]
fn rich_metrics_round_trip() {
    assert_round_trip(&rich_metrics());
}

#[test]
fn rich_logs_round_trip() {
    assert_round_trip(&rich_logs());
}

#[test]
fn protobuf_to_json_to_protobuf() {
    for batch in [rich_traces(), rich_metrics(), rich_logs()] {
        let proto = batch.encode_request();
        let from_proto = Batch::decode_request(batch.signal(), &proto).unwrap();
        let json = encode(&from_proto);
        let back = decode_request(batch.signal(), json.as_bytes()).unwrap();
        assert_eq!(back.encode_request(), proto, "{}", batch.signal());
        assert_eq!(back.item_count(), batch.item_count());
    }
}

#[test]
fn empty_batches_round_trip() {
    for signal in Signal::ALL {
        let batch = Batch::empty(signal);
        let json = encode(&batch);
        let key = match signal {
            Signal::Traces => "resourceSpans",
            Signal::Metrics => "resourceMetrics",
            Signal::Logs => "resourceLogs",
        };
        assert_eq!(json, format!(r#"{{"{key}":[]}}"#));
        assert_eq!(decode_request(signal, json.as_bytes()).unwrap(), batch);
        assert_eq!(decode_request(signal, b"{}").unwrap(), batch);
    }
}

#[test]
fn rich_span_json_shape() {
    let json = encode(&rich_traces());
    assert!(json.contains(r#""traceId":"deadbeef000102030405060708090a0b","spanId":"fedcba9876543210","traceState":"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE","parentSpanId":"0102030405060708","flags":769,"name":"GET /api/\"quoted\"","kind":3,"startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"18446744073709551615""#), "{json}");
    assert!(json.contains(r#""status":{"message":"failed","code":2}"#));
    assert!(json.contains(r#"{"name":"empty status","status":{}}"#));
    assert!(json.contains(r#"{"key":"int.min","value":{"intValue":"-9223372036854775808"}}"#));
    assert!(json.contains(r#"{"key":"bool.false","value":{"boolValue":false}}"#));
    assert!(json.contains(r#"{"key":"str.empty","value":{"stringValue":""}}"#));
    assert!(json.contains(r#"{"key":"double.zero","value":{"doubleValue":0.0}}"#));
    assert!(json.contains(r#"{"key":"bytes","value":{"bytesValue":"AAEC/v8="}}"#));
    assert!(json.contains(r#"{"key":"array.empty","value":{"arrayValue":{}}}"#));
    assert!(json.contains(r#"{"key":"kvlist.empty","value":{"kvlistValue":{}}}"#));
    assert!(json.contains(r#"{"key":"no.value"}"#));
    assert!(json.contains(r#"{"key":"unset.value","value":{}}"#));
    assert!(json.contains(r#"{"value":{"stringValue":"k"},"keyStrindex":3}"#));
    assert!(
        json.contains(
            r#""stringValue":"q\" b\\ n\n r\r t\t nul\u0000 bell\u0007 \u001f é 日本 🦅 "#
        )
    );
}

#[test]
fn special_doubles_round_trip() {
    let point = |v: f64| NumberDataPoint {
        value: Some(number_data_point::Value::AsDouble(v)),
        ..NumberDataPoint::default()
    };
    let batch = Batch::Metrics(vec![ResourceMetrics {
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                metric(
                    "gauge",
                    Some(metric::Data::Gauge(Gauge {
                        data_points: vec![
                            point(f64::NAN),
                            point(f64::INFINITY),
                            point(f64::NEG_INFINITY),
                        ],
                    })),
                ),
                metric(
                    "histogram",
                    Some(metric::Data::Histogram(Histogram {
                        data_points: vec![HistogramDataPoint {
                            sum: Some(f64::NAN),
                            min: Some(f64::NEG_INFINITY),
                            max: Some(f64::INFINITY),
                            bucket_counts: vec![1, 2],
                            explicit_bounds: vec![f64::INFINITY],
                            ..HistogramDataPoint::default()
                        }],
                        aggregation_temporality: 2,
                    })),
                ),
                metric(
                    "summary",
                    Some(metric::Data::Summary(Summary {
                        data_points: vec![SummaryDataPoint {
                            sum: f64::INFINITY,
                            quantile_values: vec![ValueAtQuantile {
                                quantile: 0.5,
                                value: f64::NAN,
                            }],
                            ..SummaryDataPoint::default()
                        }],
                    })),
                ),
            ],
            ..ScopeMetrics::default()
        }],
        resource: Some(Resource {
            attributes: vec![kv("nan", any_value::Value::DoubleValue(f64::NAN))],
            ..Resource::default()
        }),
        ..ResourceMetrics::default()
    }]);
    let json = encode(&batch);
    assert!(
        json.contains(
            r#""dataPoints":[{"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"}]"#
        ),
        "{json}"
    );
    assert!(json.contains(r#""sum":"NaN","bucketCounts":["1","2"],"explicitBounds":["Infinity"],"min":"-Infinity","max":"Infinity""#), "{json}");
    assert!(
        json.contains(r#""quantileValues":[{"quantile":0.5,"value":"NaN"}]"#),
        "{json}"
    );
    assert!(json.contains(r#"{"doubleValue":"NaN"}"#), "{json}");

    let decoded = decode_request(Signal::Metrics, json.as_bytes()).unwrap();
    // NaN != NaN, so compare the protobuf encodings (bitwise) instead of the structs...
    assert_eq!(decoded.encode_request(), batch.encode_request());
    // ...and check the special values one by one.
    let Batch::Metrics(rm) = &decoded else {
        panic!("not metrics")
    };
    let metrics = &rm[0].scope_metrics[0].metrics;
    let Some(metric::Data::Gauge(g)) = &metrics[0].data else {
        panic!("not a gauge")
    };
    let values: Vec<f64> = g
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(values[0].is_nan());
    assert_eq!(values[1..], [f64::INFINITY, f64::NEG_INFINITY]);
    let Some(metric::Data::Histogram(h)) = &metrics[1].data else {
        panic!("not a histogram")
    };
    let p = &h.data_points[0];
    assert!(p.sum.unwrap().is_nan());
    assert_eq!(
        (p.min, p.max),
        (Some(f64::NEG_INFINITY), Some(f64::INFINITY))
    );
    assert_eq!(p.explicit_bounds, [f64::INFINITY]);
    let Some(metric::Data::Summary(s)) = &metrics[2].data else {
        panic!("not a summary")
    };
    assert_eq!(s.data_points[0].sum, f64::INFINITY);
    assert!(s.data_points[0].quantile_values[0].value.is_nan());
}

/// Renames every object member of `v` from lowerCamelCase to snake_case.
fn to_snake_case(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut snake = String::new();
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            snake.push('_');
                            snake.push(c.to_ascii_lowercase());
                        } else {
                            snake.push(c);
                        }
                    }
                    (snake, to_snake_case(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(to_snake_case).collect()),
        other => other,
    }
}

#[test]
fn rich_batches_decode_from_snake_case_names() {
    for batch in [rich_traces(), rich_metrics(), rich_logs()] {
        let camel: serde_json::Value = serde_json::from_str(&encode(&batch)).unwrap();
        let snake = to_snake_case(camel).to_string();
        assert!(snake.contains("_unix_nano") && !snake.contains("UnixNano"));
        let decoded = decode_request(batch.signal(), snake.as_bytes()).unwrap();
        assert_eq!(decoded, batch, "{snake}");
    }
}

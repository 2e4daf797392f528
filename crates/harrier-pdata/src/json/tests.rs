//! Tests of the OTLP/JSON codec against the example files of the OTLP specification
//! repository (`opentelemetry-proto/examples/*.json`, copied into `testdata/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{decode_request, encode_request};
use crate::{Batch, Signal};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, metric, number_data_point};
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

const TRACE_JSON: &str = include_str!("testdata/trace.json");
const METRICS_JSON: &str = include_str!("testdata/metrics.json");
const LOGS_JSON: &str = include_str!("testdata/logs.json");
const EVENTS_JSON: &str = include_str!("testdata/events.json");

const TRACE_ID: [u8; 16] = [
    0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c,
];
const SPAN_ID: [u8; 8] = [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74];

pub(super) fn traces(json: &str) -> Vec<ResourceSpans> {
    match decode_request(Signal::Traces, json.as_bytes()).unwrap() {
        Batch::Traces(rs) => rs,
        other => panic!("wrong signal: {other:?}"),
    }
}

pub(super) fn metrics(json: &str) -> Vec<ResourceMetrics> {
    match decode_request(Signal::Metrics, json.as_bytes()).unwrap() {
        Batch::Metrics(rm) => rm,
        other => panic!("wrong signal: {other:?}"),
    }
}

pub(super) fn logs(json: &str) -> Vec<ResourceLogs> {
    match decode_request(Signal::Logs, json.as_bytes()).unwrap() {
        Batch::Logs(rl) => rl,
        other => panic!("wrong signal: {other:?}"),
    }
}

pub(super) fn encode(batch: &Batch) -> String {
    let mut out = Vec::new();
    encode_request(batch, &mut out);
    String::from_utf8(out).unwrap()
}

fn value(kv: &KeyValue) -> &any_value::Value {
    kv.value.as_ref().unwrap().value.as_ref().unwrap()
}

fn str_value(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

fn assert_common_resource_and_scope(
    resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>,
    scope: Option<&opentelemetry_proto::tonic::common::v1::InstrumentationScope>,
) {
    let resource = resource.unwrap();
    assert_eq!(resource.attributes.len(), 1);
    assert_eq!(resource.attributes[0].key, "service.name");
    assert_eq!(resource.attributes[0].value, str_value("my.service"));
    let scope = scope.unwrap();
    assert_eq!(scope.name, "my.library");
    assert_eq!(scope.version, "1.0.0");
    assert_eq!(scope.attributes[0].key, "my.scope.attribute");
    assert_eq!(scope.attributes[0].value, str_value("some scope attribute"));
}

#[test]
fn example_trace_decodes() {
    let rs = traces(TRACE_JSON);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].scope_spans.len(), 1);
    let ss = &rs[0].scope_spans[0];
    assert_common_resource_and_scope(rs[0].resource.as_ref(), ss.scope.as_ref());
    assert_eq!(ss.spans.len(), 1);
    let span = &ss.spans[0];
    assert_eq!(span.trace_id, TRACE_ID);
    assert_eq!(span.span_id, SPAN_ID);
    assert_eq!(
        span.parent_span_id,
        [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73]
    );
    assert_eq!(span.name, "I'm a server span");
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(span.kind, 2);
    assert_eq!(span.attributes[0].key, "my.span.attr");
    assert_eq!(span.attributes[0].value, str_value("some value"));
    assert_eq!(span.status, None);
    assert!(span.events.is_empty() && span.links.is_empty());
}

#[test]
fn example_metrics_decode_every_metric_type() {
    let rm = metrics(METRICS_JSON);
    assert_eq!(rm.len(), 1);
    let sm = &rm[0].scope_metrics[0];
    assert_common_resource_and_scope(rm[0].resource.as_ref(), sm.scope.as_ref());
    assert_eq!(sm.metrics.len(), 4);
    const T: u64 = 1_544_712_660_300_000_000;

    let counter = &sm.metrics[0];
    assert_eq!(counter.name, "my.counter");
    assert_eq!(counter.unit, "1");
    assert_eq!(counter.description, "I am a Counter");
    let Some(metric::Data::Sum(sum)) = &counter.data else {
        panic!("not a sum: {counter:?}")
    };
    assert_eq!(sum.aggregation_temporality, 1);
    assert!(sum.is_monotonic);
    let p = &sum.data_points[0];
    assert_eq!(p.value, Some(number_data_point::Value::AsDouble(5.0)));
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (T, T));
    assert_eq!(p.attributes[0].key, "my.counter.attr");

    let Some(metric::Data::Gauge(gauge)) = &sm.metrics[1].data else {
        panic!("not a gauge")
    };
    assert_eq!(sm.metrics[1].name, "my.gauge");
    let p = &gauge.data_points[0];
    assert_eq!(p.value, Some(number_data_point::Value::AsDouble(10.0)));
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (0, T));
    assert_eq!(p.attributes[0].key, "my.gauge.attr");

    let Some(metric::Data::Histogram(h)) = &sm.metrics[2].data else {
        panic!("not a histogram")
    };
    assert_eq!(h.aggregation_temporality, 1);
    let p = &h.data_points[0];
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (T, T));
    assert_eq!(p.count, 2);
    assert_eq!(p.sum, Some(2.0));
    assert_eq!(p.bucket_counts, [1, 1]);
    assert_eq!(p.explicit_bounds, [1.0]);
    assert_eq!((p.min, p.max), (Some(0.0), Some(2.0)));
    assert_eq!(p.attributes[0].key, "my.histogram.attr");

    let Some(metric::Data::ExponentialHistogram(e)) = &sm.metrics[3].data else {
        panic!("not an exponential histogram")
    };
    assert_eq!(sm.metrics[3].name, "my.exponential.histogram");
    assert_eq!(e.aggregation_temporality, 1);
    let p = &e.data_points[0];
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (T, T));
    assert_eq!(p.count, 3);
    assert_eq!(p.sum, Some(10.0));
    assert_eq!(p.scale, 0);
    assert_eq!(p.zero_count, 1);
    let positive = p.positive.as_ref().unwrap();
    assert_eq!(positive.offset, 1);
    assert_eq!(positive.bucket_counts, [0, 2]);
    assert_eq!(p.negative, None);
    assert_eq!((p.min, p.max), (Some(0.0), Some(5.0)));
    assert_eq!(p.zero_threshold, 0.0);
    assert_eq!(p.attributes[0].key, "my.exponential.histogram.attr");
}

#[test]
fn example_logs_decode_every_attribute_type() {
    let rl = logs(LOGS_JSON);
    let sl = &rl[0].scope_logs[0];
    assert_common_resource_and_scope(rl[0].resource.as_ref(), sl.scope.as_ref());
    let log = &sl.log_records[0];
    assert_eq!(log.time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(log.observed_time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(log.severity_number, 10);
    assert_eq!(log.severity_text, "Information");
    assert_eq!(log.trace_id, TRACE_ID);
    assert_eq!(log.span_id, SPAN_ID);
    assert_eq!(log.body, str_value("Example log record"));

    let attrs = &log.attributes;
    assert_eq!(attrs.len(), 6);
    assert_eq!(attrs[0].key, "string.attribute");
    assert_eq!(
        value(&attrs[0]),
        &any_value::Value::StringValue("some string".into())
    );
    assert_eq!(value(&attrs[1]), &any_value::Value::BoolValue(true));
    assert_eq!(value(&attrs[2]), &any_value::Value::IntValue(10));
    assert_eq!(value(&attrs[3]), &any_value::Value::DoubleValue(637.704));
    let any_value::Value::ArrayValue(array) = value(&attrs[4]) else {
        panic!("not an array")
    };
    assert_eq!(
        array.values,
        [str_value("many").unwrap(), str_value("values").unwrap()]
    );
    let any_value::Value::KvlistValue(map) = value(&attrs[5]) else {
        panic!("not a kvlist")
    };
    assert_eq!(map.values.len(), 1);
    assert_eq!(map.values[0].key, "some.map.key");
    assert_eq!(map.values[0].value, str_value("some value"));
}

#[test]
fn example_events_decode() {
    let rl = logs(EVENTS_JSON);
    let log = &rl[0].scope_logs[0].log_records[0];
    assert_eq!(log.event_name, "browser.page_view");
    assert_eq!(log.severity_number, 9);
    assert_eq!(log.severity_text, "test severity text");
    assert!(log.trace_id.is_empty() && log.span_id.is_empty());
    let Some(any_value::Value::KvlistValue(body)) = log.body.as_ref().unwrap().value.as_ref()
    else {
        panic!("body is not a kvlist")
    };
    let keys: Vec<&str> = body.values.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["type", "url", "referrer", "title"]);
    assert_eq!(value(&body.values[0]), &any_value::Value::IntValue(0));
}

#[test]
fn examples_round_trip_through_encode() {
    for (signal, json) in [
        (Signal::Traces, TRACE_JSON),
        (Signal::Metrics, METRICS_JSON),
        (Signal::Logs, LOGS_JSON),
        (Signal::Logs, EVENTS_JSON),
    ] {
        let decoded = decode_request(signal, json.as_bytes()).unwrap();
        assert!(!decoded.is_empty(), "{signal}");
        let encoded = encode(&decoded);
        // The output is valid JSON and decodes to the same data.
        let _: serde_json::Value = serde_json::from_str(&encoded).unwrap();
        assert_eq!(
            decode_request(signal, encoded.as_bytes()).unwrap(),
            decoded,
            "{signal}"
        );
        // Encoding is deterministic: a second pass gives the same bytes.
        let again = decode_request(signal, encoded.as_bytes()).unwrap();
        assert_eq!(encode(&again), encoded, "{signal}");
    }
}

#[test]
fn example_trace_encodes_in_otlp_json_form() {
    let batch = decode_request(Signal::Traces, TRACE_JSON.as_bytes()).unwrap();
    let json = encode(&batch);
    assert!(json.starts_with(r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},"scopeSpans":"#));
    // Ids are lowercase hex, 64-bit integers are strings, enums are numbers.
    assert!(json.contains(r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173","name":"I'm a server span","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000""#), "{json}");
    assert!(!json.ends_with('\n'));
    // No defaults written: no status, no dropped counts, no flags.
    assert!(!json.contains("status") && !json.contains("dropped") && !json.contains("flags"));
}

#[test]
fn example_metrics_encode_in_otlp_json_form() {
    let batch = decode_request(Signal::Metrics, METRICS_JSON.as_bytes()).unwrap();
    let json = encode(&batch);
    assert!(json.contains(r#""sum":{"dataPoints":[{"attributes":[{"key":"my.counter.attr","value":{"stringValue":"some value"}}],"startTimeUnixNano":"1544712660300000000","timeUnixNano":"1544712660300000000","asDouble":5.0}],"aggregationTemporality":1,"isMonotonic":true}"#), "{json}");
    assert!(json.contains(r#""count":"2","sum":2.0,"bucketCounts":["1","1"],"explicitBounds":[1.0],"min":0.0,"max":2.0}"#), "{json}");
    assert!(json.contains(r#""count":"3","sum":10.0,"scale":0,"zeroCount":"1","positive":{"offset":1,"bucketCounts":["0","2"]},"min":0.0,"max":5.0}"#), "{json}");
}

#[test]
fn example_logs_encode_in_otlp_json_form() {
    let batch = decode_request(Signal::Logs, LOGS_JSON.as_bytes()).unwrap();
    let json = encode(&batch);
    assert!(json.contains(r#"{"timeUnixNano":"1544712660300000000","observedTimeUnixNano":"1544712660300000000","severityNumber":10,"severityText":"Information","body":{"stringValue":"Example log record"},"attributes":["#), "{json}");
    assert!(json.contains(r#"{"key":"int.attribute","value":{"intValue":"10"}}"#));
    assert!(json.contains(r#"{"key":"double.attribute","value":{"doubleValue":637.704}}"#));
    assert!(json.contains(r#"{"key":"boolean.attribute","value":{"boolValue":true}}"#));
    assert!(
        json.contains(
            r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}"#
        )
    );
}

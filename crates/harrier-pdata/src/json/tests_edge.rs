//! Edge-case tests of OTLP/JSON decoding: snake_case names, integer forms, enum names,
//! `null`, unknown fields, empty containers, and errors that name their JSON path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{encode, logs, metrics, traces};
use super::{JsonError, decode_request};
use crate::{Batch, Signal};
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValueList, any_value};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};

fn err(signal: Signal, json: &str) -> JsonError {
    match decode_request(signal, json.as_bytes()) {
        Ok(batch) => panic!("decoded {json} to {batch:?}"),
        Err(e) => e,
    }
}

/// Wraps `span` (a JSON object) into a request with one span.
fn span_request(span: &str) -> String {
    format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}"#)
}

/// Wraps `value` (a JSON AnyValue) into a log request as the body of one record.
fn body_request(value: &str) -> String {
    format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{value}}}]}}]}}]}}"#)
}

fn body(value: &str) -> Option<any_value::Value> {
    let rl = logs(&body_request(value));
    rl[0].scope_logs[0].log_records[0]
        .body
        .clone()
        .unwrap()
        .value
}

#[test]
fn snake_case_names_decode_the_same_data() {
    let camel = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"intValue":"5"}}],"droppedAttributesCount":1},"scopeSpans":[{"scope":{"name":"s","droppedAttributesCount":2},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","parentSpanId":"0807060504030201","traceState":"x=y","startTimeUnixNano":"1","endTimeUnixNano":"2","droppedAttributesCount":3,"droppedEventsCount":4,"droppedLinksCount":5,"events":[{"timeUnixNano":"6","droppedAttributesCount":7}],"links":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","traceState":"t","droppedAttributesCount":8}]}],"schemaUrl":"s1"}],"schemaUrl":"s2"}]}"#;
    let snake = r#"{"resource_spans":[{"resource":{"attributes":[{"key":"k","value":{"int_value":"5"}}],"dropped_attributes_count":1},"scope_spans":[{"scope":{"name":"s","dropped_attributes_count":2},"spans":[{"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","parent_span_id":"0807060504030201","trace_state":"x=y","start_time_unix_nano":"1","end_time_unix_nano":"2","dropped_attributes_count":3,"dropped_events_count":4,"dropped_links_count":5,"events":[{"time_unix_nano":"6","dropped_attributes_count":7}],"links":[{"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","trace_state":"t","dropped_attributes_count":8}]}],"schema_url":"s1"}],"schema_url":"s2"}]}"#;
    let from_snake = traces(snake);
    assert_eq!(from_snake, traces(camel));
    assert_eq!(Batch::Traces(from_snake.clone()).item_count(), 1);
    let span = &from_snake[0].scope_spans[0].spans[0];
    assert_eq!(span.parent_span_id, [8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(span.end_time_unix_nano, 2);
    assert_eq!(span.links[0].dropped_attributes_count, 8);

    let metrics_snake = r#"{"resource_metrics":[{"scope_metrics":[{"metrics":[{"name":"h","exponential_histogram":{"aggregation_temporality":2,"data_points":[{"start_time_unix_nano":"1","time_unix_nano":"2","zero_count":"3","zero_threshold":0.5,"positive":{"bucket_counts":["4"]},"exemplars":[{"filtered_attributes":[{"key":"a","value":{"bool_value":true}}],"as_int":"9","span_id":"0102030405060708","trace_id":"0102030405060708090a0b0c0d0e0f10"}]}]}},{"name":"s","summary":{"data_points":[{"quantile_values":[{"quantile":0.5,"value":1}]}]}},{"name":"n","sum":{"is_monotonic":true,"data_points":[{"as_double":1.5}]}},{"name":"g","histogram":{"data_points":[{"bucket_counts":["1"],"explicit_bounds":[]}]}}]}]}]}"#;
    let rm = metrics(metrics_snake);
    let m = &rm[0].scope_metrics[0].metrics;
    assert_eq!(Batch::Metrics(rm.clone()).item_count(), 4);
    let Some(metric::Data::ExponentialHistogram(e)) = &m[0].data else {
        panic!("{m:?}")
    };
    assert_eq!(e.aggregation_temporality, 2);
    let p = &e.data_points[0];
    assert_eq!(
        (p.start_time_unix_nano, p.time_unix_nano, p.zero_count),
        (1, 2, 3)
    );
    assert_eq!(p.zero_threshold, 0.5);
    assert_eq!(p.positive.as_ref().unwrap().bucket_counts, [4]);
    assert_eq!(p.exemplars[0].span_id, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(p.exemplars[0].filtered_attributes[0].key, "a");
    let Some(metric::Data::Summary(s)) = &m[1].data else {
        panic!("{m:?}")
    };
    assert_eq!(s.data_points[0].quantile_values[0].value, 1.0);
    let Some(metric::Data::Sum(s)) = &m[2].data else {
        panic!("{m:?}")
    };
    assert!(s.is_monotonic);
    assert_eq!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsDouble(1.5))
    );
    let Some(metric::Data::Histogram(h)) = &m[3].data else {
        panic!("{m:?}")
    };
    assert_eq!(h.data_points[0].bucket_counts, [1]);

    let logs_snake = r#"{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"1","observed_time_unix_nano":"2","severity_number":3,"severity_text":"t","dropped_attributes_count":4,"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","event_name":"e","body":{"kvlist_value":{"values":[{"key":"a","value":{"array_value":{"values":[{"double_value":1.5},{"bytes_value":"AQI="}]}}}]}}}]}]}]}"#;
    let rl = logs(logs_snake);
    let log = &rl[0].scope_logs[0].log_records[0];
    assert_eq!((log.time_unix_nano, log.observed_time_unix_nano), (1, 2));
    assert_eq!((log.severity_number, log.severity_text.as_str()), (3, "t"));
    assert_eq!(log.dropped_attributes_count, 4);
    assert_eq!(log.event_name, "e");
    assert_eq!(log.span_id, [1, 2, 3, 4, 5, 6, 7, 8]);
    let camel_body = body(
        r#"{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"doubleValue":1.5},{"bytesValue":"AQI="}]}}}]}}"#,
    );
    assert_eq!(log.body.clone().unwrap().value, camel_body);
}

#[test]
fn empty_array_and_kvlist_values() {
    let empty_array = Some(any_value::Value::ArrayValue(ArrayValue::default()));
    let empty_kvlist = Some(any_value::Value::KvlistValue(KeyValueList::default()));
    assert_eq!(body(r#"{"arrayValue":{"values":[]}}"#), empty_array);
    assert_eq!(body(r#"{"arrayValue":{}}"#), empty_array);
    assert_eq!(body(r#"{"arrayValue":{"values":null}}"#), empty_array);
    assert_eq!(body(r#"{"kvlistValue":{"values":[]}}"#), empty_kvlist);
    assert_eq!(body(r#"{"kvlistValue":{}}"#), empty_kvlist);
    // An AnyValue with nothing set, and one whose only member is null.
    assert_eq!(body("{}"), None);
    assert_eq!(body(r#"{"stringValue":null}"#), None);
    // They encode and decode back.
    let batch = Batch::Logs(logs(&body_request(r#"{"arrayValue":{}}"#)));
    let json = encode(&batch);
    assert!(json.contains(r#""body":{"arrayValue":{}}"#), "{json}");
    assert_eq!(
        decode_request(Signal::Logs, json.as_bytes()).unwrap(),
        batch
    );
}

#[test]
fn int64_as_string_or_number() {
    use any_value::Value::IntValue;
    assert_eq!(body(r#"{"intValue":"123"}"#), Some(IntValue(123)));
    assert_eq!(body(r#"{"intValue":123}"#), Some(IntValue(123)));
    assert_eq!(body(r#"{"intValue":-7}"#), Some(IntValue(-7)));
    assert_eq!(body(r#"{"intValue":"-7"}"#), Some(IntValue(-7)));
    assert_eq!(
        body(r#"{"intValue":"-9223372036854775808"}"#),
        Some(IntValue(i64::MIN))
    );
    assert_eq!(
        body(r#"{"intValue":9223372036854775807}"#),
        Some(IntValue(i64::MAX))
    );
    // Integral values in exponent or fraction form are accepted, as protobuf does.
    assert_eq!(body(r#"{"intValue":1e3}"#), Some(IntValue(1000)));
    assert_eq!(body(r#"{"intValue":"2.0"}"#), Some(IntValue(2)));
    assert_eq!(body(r#"{"intValue":"0"}"#), Some(IntValue(0)));

    // The older example files wrote timestamps as numbers.
    let rs = traces(&span_request(
        r#"{"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000"}"#,
    ));
    let span = &rs[0].scope_spans[0].spans[0];
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
}

#[test]
fn u64_max_and_out_of_range() {
    for ts in ["18446744073709551615", r#""18446744073709551615""#] {
        let rs = traces(&span_request(&format!(r#"{{"startTimeUnixNano":{ts}}}"#)));
        assert_eq!(rs[0].scope_spans[0].spans[0].start_time_unix_nano, u64::MAX);
    }
    let cases = [
        (
            r#"{"startTimeUnixNano":"18446744073709551616"}"#,
            "startTimeUnixNano: expected an unsigned 64-bit integer, found \"18446744073709551616\"",
        ),
        (
            r#"{"startTimeUnixNano":-1}"#,
            "startTimeUnixNano: expected an unsigned 64-bit integer, found -1",
        ),
        (
            r#"{"endTimeUnixNano":"1.5"}"#,
            "endTimeUnixNano: expected an unsigned 64-bit integer, found \"1.5\"",
        ),
        (
            r#"{"endTimeUnixNano":"abc"}"#,
            "endTimeUnixNano: expected an unsigned 64-bit integer, found \"abc\"",
        ),
        (
            r#"{"droppedAttributesCount":4294967296}"#,
            "droppedAttributesCount: expected an unsigned 32-bit integer, found 4294967296",
        ),
        (
            r#"{"kind":true}"#,
            "kind: expected an integer (number or string), found a boolean",
        ),
    ];
    for (span, message) in cases {
        let e = err(Signal::Traces, &span_request(span));
        let expected = format!("resourceSpans[0].scopeSpans[0].spans[0].{message}");
        assert_eq!(e.to_string(), expected);
    }
    let e = err(
        Signal::Logs,
        &body_request(r#"{"intValue":"9223372036854775808"}"#),
    );
    assert_eq!(
        e.to_string(),
        "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: expected a signed 64-bit integer, found \"9223372036854775808\""
    );
}

#[test]
fn invalid_ids_name_their_path() {
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[]},{"spans":[{},{},{},{"traceId":"5b8efff798038103d269b633813fc6"}]}]}]}"#;
    let e = err(Signal::Traces, json);
    assert_eq!(
        e.path(),
        Some("resourceSpans[0].scopeSpans[1].spans[3].traceId")
    );
    assert_eq!(
        e.to_string(),
        "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex characters, found 30"
    );
    assert!(matches!(e, JsonError::InvalidValue { .. }));

    let cases = [
        (
            r#"{"spanId":"eee19b7ec3c1b1740"}"#,
            "spanId: expected 16 hex characters, found 17",
        ),
        (
            r#"{"parentSpanId":"zzz19b7ec3c1b174"}"#,
            "parentSpanId: expected 16 hex characters, found a non-hex character",
        ),
        (
            r#"{"traceId":5}"#,
            "traceId: expected a hex string, found a number",
        ),
        (
            r#"{"links":[{"traceId":"01"}]}"#,
            "links[0].traceId: expected 32 hex characters, found 2",
        ),
    ];
    for (span, message) in cases {
        let e = err(Signal::Traces, &span_request(span));
        assert_eq!(
            e.to_string(),
            format!("resourceSpans[0].scopeSpans[0].spans[0].{message}")
        );
    }
    let e = err(
        Signal::Logs,
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"00"}]}]}]}"#,
    );
    assert_eq!(
        e.to_string(),
        "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex characters, found 2"
    );
    let e = err(
        Signal::Metrics,
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"exemplars":[{"traceId":"x"}]}]}}]}]}]}"#,
    );
    assert_eq!(
        e.to_string(),
        "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].exemplars[0].traceId: expected 32 hex characters, found 1"
    );

    // Empty ids are absent; uppercase hex is accepted.
    let rs = traces(&span_request(
        r#"{"traceId":"","spanId":"EEE19B7EC3C1B174","parentSpanId":null}"#,
    ));
    let span = &rs[0].scope_spans[0].spans[0];
    assert!(span.trace_id.is_empty() && span.parent_span_id.is_empty());
    assert_eq!(
        span.span_id,
        [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
    );
}

#[test]
fn body_that_is_not_an_object_is_an_error() {
    for (json, found) in [
        ("[]", "an array"),
        ("\"x\"", "a string"),
        ("null", "null"),
        ("42", "a number"),
    ] {
        let e = err(Signal::Traces, json);
        assert_eq!(
            e.to_string(),
            format!("request body: expected a JSON object, found {found}")
        );
        assert_eq!(e.path(), Some(""));
    }
    let e = err(Signal::Metrics, "{\"resourceMetrics\":[");
    assert!(matches!(e, JsonError::Syntax(_)));
    assert!(e.to_string().starts_with("invalid JSON: "), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
    assert!(matches!(err(Signal::Logs, ""), JsonError::Syntax(_)));
}

#[test]
fn wrong_json_types_name_their_path() {
    let cases = [
        (
            r#"{"resourceSpans":{}}"#,
            "resourceSpans: expected an array, found an object",
        ),
        (
            r#"{"resourceSpans":[5]}"#,
            "resourceSpans[0]: expected an object, found a number",
        ),
        (
            r#"{"resourceSpans":[{"resource":[]}]}"#,
            "resourceSpans[0].resource: expected an object, found an array",
        ),
        (
            r#"{"resource_spans":[{"scope_spans":[{"spans":[{"name":5}]}]}]}"#,
            "resource_spans[0].scope_spans[0].spans[0].name: expected a string, found a number",
        ),
        (
            r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"boolValue":"true"}}]}}]}"#,
            "resourceSpans[0].resource.attributes[0].value.boolValue: expected a boolean, found a string",
        ),
        (
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"STATUS_CODE_BOGUS"}}]}]}]}"#,
            "resourceSpans[0].scopeSpans[0].spans[0].status.code: unknown enum value name \"STATUS_CODE_BOGUS\"",
        ),
    ];
    for (json, message) in cases {
        assert_eq!(err(Signal::Traces, json).to_string(), message);
    }
    let e = err(
        Signal::Metrics,
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"asDouble":"fast"}]}}]}]}]}"#,
    );
    assert_eq!(
        e.to_string(),
        "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asDouble: expected a double, found \"fast\""
    );
    let e = err(
        Signal::Logs,
        &body_request(r#"{"bytesValue":"not base64!"}"#),
    );
    assert_eq!(
        e.to_string(),
        "resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue: expected base64"
    );
    let e = err(
        Signal::Metrics,
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"bucketCounts":["1",true]}]}}]}]}]}"#,
    );
    assert_eq!(
        e.to_string(),
        "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts[1]: expected an integer (number or string), found a boolean"
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let json = r#"{"future":{"a":[1,2]},"resourceSpans":[{"unknown":1,"scopeSpans":[{"spans":[{"name":"s","newField":{"x":"y"},"kind":1}],"extra":[]}]}],"resourceLogs":"not mine"}"#;
    let rs = traces(json);
    let span = &rs[0].scope_spans[0].spans[0];
    assert_eq!((span.name.as_str(), span.kind), ("s", 1));
    // A body for another signal decodes as an empty batch of this one.
    assert_eq!(
        decode_request(Signal::Metrics, json.as_bytes()).unwrap(),
        Batch::Metrics(vec![])
    );
    assert_eq!(body(r#"{"futureValue":1}"#), None);
}

#[test]
fn enum_names_are_accepted() {
    let rs = traces(&span_request(
        r#"{"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR"}}"#,
    ));
    let span = &rs[0].scope_spans[0].spans[0];
    assert_eq!(span.kind, 2);
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    let rs = traces(&span_request(r#"{"kind":"4","status":{"code":1}}"#));
    assert_eq!(rs[0].scope_spans[0].spans[0].kind, 4);
    let rl = logs(
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN"},{"severityNumber":21}]}]}]}"#,
    );
    let records = &rl[0].scope_logs[0].log_records;
    assert_eq!(
        (records[0].severity_number, records[1].severity_number),
        (13, 21)
    );
    let rm = metrics(
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE"}},{"histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA"}},{"exponentialHistogram":{"aggregationTemporality":2}}]}]}]}"#,
    );
    let m = &rm[0].scope_metrics[0].metrics;
    assert!(matches!(&m[0].data, Some(metric::Data::Sum(s)) if s.aggregation_temporality == 2));
    assert!(
        matches!(&m[1].data, Some(metric::Data::Histogram(h)) if h.aggregation_temporality == 1)
    );
    assert!(
        matches!(&m[2].data, Some(metric::Data::ExponentialHistogram(h)) if h.aggregation_temporality == 2)
    );
    // Unknown numeric values of open enums are kept.
    let rs = traces(&span_request(r#"{"kind":99}"#));
    assert_eq!(rs[0].scope_spans[0].spans[0].kind, 99);
}

#[test]
fn null_is_the_default() {
    let rs = traces(
        r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[{"name":null,"kind":null,"attributes":null,"status":null,"startTimeUnixNano":null,"traceId":null}]}],"schemaUrl":null}]}"#,
    );
    assert_eq!(rs[0].resource, None);
    assert_eq!(rs[0].scope_spans[0].scope, None);
    assert_eq!(rs[0].scope_spans[0].spans[0], Default::default());
    assert_eq!(traces(r#"{"resourceSpans":null}"#), vec![]);
    let rm = metrics(
        r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":null,"sum":{"dataPoints":[{"asInt":null,"asDouble":2}]}},{"histogram":{"dataPoints":[{"sum":null,"min":null,"max":1}]}}]}]}]}"#,
    );
    let m = &rm[0].scope_metrics[0].metrics;
    let Some(metric::Data::Sum(s)) = &m[0].data else {
        panic!("{m:?}")
    };
    assert_eq!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsDouble(2.0))
    );
    let Some(metric::Data::Histogram(h)) = &m[1].data else {
        panic!("{m:?}")
    };
    assert_eq!(
        (
            h.data_points[0].sum,
            h.data_points[0].min,
            h.data_points[0].max
        ),
        (None, None, Some(1.0))
    );
}

#[test]
fn special_and_string_doubles_decode() {
    use any_value::Value::DoubleValue;
    assert!(matches!(body(r#"{"doubleValue":"NaN"}"#), Some(DoubleValue(v)) if v.is_nan()));
    assert_eq!(
        body(r#"{"doubleValue":"Infinity"}"#),
        Some(DoubleValue(f64::INFINITY))
    );
    assert_eq!(
        body(r#"{"doubleValue":"-Infinity"}"#),
        Some(DoubleValue(f64::NEG_INFINITY))
    );
    assert_eq!(body(r#"{"doubleValue":"1.5"}"#), Some(DoubleValue(1.5)));
    assert_eq!(body(r#"{"doubleValue":-2}"#), Some(DoubleValue(-2.0)));
    assert_eq!(body(r#"{"doubleValue":1e300}"#), Some(DoubleValue(1e300)));
    assert!(matches!(
        err(Signal::Logs, &body_request(r#"{"doubleValue":"inf"}"#)),
        JsonError::InvalidValue { .. }
    ));
}

#[test]
fn bytes_and_strings_round_trip() {
    use any_value::Value::{BytesValue, StringValue};
    assert_eq!(
        body(r#"{"bytesValue":"AAEC/v8="}"#),
        Some(BytesValue(vec![0, 1, 2, 0xfe, 0xff]))
    );
    // URL-safe alphabet and missing padding are accepted.
    assert_eq!(
        body(r#"{"bytesValue":"AAEC_v8"}"#),
        Some(BytesValue(vec![0, 1, 2, 0xfe, 0xff]))
    );
    assert_eq!(body(r#"{"bytesValue":""}"#), Some(BytesValue(vec![])));
    assert_eq!(
        body(r#"{"stringValue":"a\"b\\c\n\u00e9\ud83e\udd85"}"#),
        Some(StringValue("a\"b\\c\né🦅".into()))
    );
    for s in [
        "",
        "plain",
        "\"\\/\u{0}\u{1f}\u{7f}\u{2028}",
        "日本語 🦅",
        "\r\n\t\x08\x0c",
    ] {
        let batch = Batch::Logs(logs(&body_request("{}")));
        let Batch::Logs(mut rl) = batch else {
            unreachable!()
        };
        rl[0].scope_logs[0].log_records[0].body = Some(AnyValue {
            value: Some(StringValue(s.into())),
        });
        let batch = Batch::Logs(rl);
        let json = encode(&batch);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["resourceLogs"][0]["scopeLogs"]
                [0]["logRecords"][0]["body"]["stringValue"],
            s
        );
        assert_eq!(
            decode_request(Signal::Logs, json.as_bytes()).unwrap(),
            batch
        );
    }
}

//! Unit tests of decoding (`EventList`, `Event`, invalid payloads), timestamps, JSON
//! conversion and the summary's edge cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::k8s_audit::mapping::{json_to_any, parse_timestamp, summary};
use crate::k8s_audit::test_support::*;
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue};

#[test]
fn parses_rfc3339() {
    assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_timestamp("2024-06-11T09:14:03.519874Z"),
        Some(1_718_097_243_519_874_000)
    );
    assert_eq!(
        parse_timestamp("2024-06-11T09:14:03.123456789Z"),
        Some(1_718_097_243_123_456_789)
    );
    assert_eq!(
        parse_timestamp("2024-06-11T09:14:03.5Z"),
        Some(1_718_097_243_500_000_000)
    );
    assert_eq!(
        parse_timestamp("2024-06-11T11:14:03+02:00"),
        Some(1_718_097_243_000_000_000)
    );
    assert_eq!(
        parse_timestamp("2024-06-11T04:44:03-04:30"),
        Some(1_718_097_243_000_000_000)
    );
    assert_eq!(
        parse_timestamp("2000-02-29T00:00:00Z"),
        Some(951_782_400_000_000_000)
    );
    for bad in [
        "",
        "2024-06-11",
        "2024-06-11T09:14:03",
        "2024-13-11T09:14:03Z",
        "2024-06-11T25:14:03Z",
        "2024-06-11T09:14:03.Z",
        "2024-06-11T09:14:03Zjunk",
        "1969-12-31T23:59:59Z",
        "2024/06/11T09:14:03Z",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad}");
    }
}

#[test]
fn converts_json_values() {
    let v = serde_json::json!({"a": null, "b": 1.5, "c": u64::MAX, "d": [true, "x"], "e": []});
    let any = json_to_any(v);
    let v = any.value.as_ref().unwrap();
    assert!(matches!(dig(v, &["b"]), Value::DoubleValue(d) if *d == 1.5));
    assert!(matches!(dig(v, &["c"]), Value::DoubleValue(_)));
    assert_eq!(dig(v, &["d", "0"]), &Value::BoolValue(true));
    assert_eq!(
        dig(v, &["e"]),
        &Value::ArrayValue(ArrayValue { values: vec![] })
    );
    let Value::KvlistValue(l) = v else { panic!() };
    assert_eq!(l.values[0].key, "a");
    assert_eq!(l.values[0].value, Some(AnyValue { value: None }));
}

#[test]
fn summary_leaves_out_empty_parts() {
    let mut e = fixture("reads")[1].clone();
    let r = e.object_ref.as_mut().unwrap();
    r.namespace.clear();
    r.resource = "namespaces".into();
    r.name = "kube-system".into();
    assert_eq!(
        summary(&e),
        "alice@example.com get namespaces kube-system -> 200"
    );
    e.object_ref.as_mut().unwrap().name.clear();
    e.verb = "list".into();
    e.response_status = None;
    assert_eq!(summary(&e), "alice@example.com list namespaces");
}

#[test]
fn invalid_payloads_are_errors() {
    let err = |body: &str| parse_payload(body.as_bytes()).unwrap_err();
    assert!(matches!(err("not json"), PayloadError::Json(_)));
    assert!(matches!(
        err("{\"kind\":\"EventList\""),
        PayloadError::Json(_)
    ));
    assert!(matches!(
        err(r#"{"kind":"PodList","apiVersion":"v1","items":[]}"#),
        PayloadError::Kind(k) if k == "PodList"
    ));
    assert!(matches!(err(r#"{"items":[]}"#), PayloadError::Kind(k) if k.is_empty()));
    assert!(matches!(
        err(r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v2","items":[]}"#),
        PayloadError::ApiVersion(_)
    ));
    assert!(matches!(
        err(r#"{"kind":"EventList","items":[]}"#),
        PayloadError::ApiVersion(_)
    ));
    assert!(matches!(
        err(r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1"}"#),
        PayloadError::MissingItems
    ));
    assert!(matches!(
        err(r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":null}"#),
        PayloadError::MissingItems
    ));
    assert!(matches!(
        err(r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"verb":7}]}"#),
        PayloadError::Json(_)
    ));
    assert!(matches!(err("[]"), PayloadError::Kind(_)));
    // Lines: one Event each.
    assert!(matches!(
        parse_line(br#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}"#),
        Err(PayloadError::Kind(_))
    ));
    assert!(matches!(
        parse_line(b"{\"kind\":\"Event\""),
        Err(PayloadError::Json(_))
    ));
}

#[test]
fn accepts_single_events_v1beta1_and_nulls() {
    let one = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"x","stage":"ResponseComplete","verb":"get","user":{"username":"u","groups":null},"sourceIPs":null,"annotations":null,"objectRef":null,"impersonatedUser":null,"timestamp":"2024-06-11T09:14:03Z"}"#;
    let events = parse_payload(one.as_bytes()).unwrap();
    assert_eq!(events.len(), 1);
    let r = map(&events[0]);
    assert_eq!(body(&r), "u get");
    assert_eq!(r.time_unix_nano, at(9, 14, 3, 0));
    let line = parse_line(one.as_bytes()).unwrap();
    assert_eq!(line, events[0]);
    let empty =
        r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1beta1","metadata":{},"items":[]}"#;
    assert!(parse_payload(empty.as_bytes()).unwrap().is_empty());
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::*;
use harrier_core::envelope::Envelope;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use harrier_pdata::otlp::trace::v1::span::SpanKind;

/// SHA-256 of "hello".
const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn run(config: &str, batch: Batch) -> Batch {
    let mut p = build(&AttributesFactory, config, &Telemetry::new());
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    assert_eq!(out.len(), 1);
    out.remove(0).batch
}

/// The same attributes on a span, a log record, and one data point of every metric type.
fn every_signal(attrs: &[KeyValue]) -> Vec<Batch> {
    vec![
        spans("svc", vec![("op", SpanKind::Server, 0, attrs.to_vec())]),
        logs("svc", vec![(9, "INFO", "body", attrs.to_vec())]),
        metrics("svc", attrs.to_vec()),
    ]
}

fn int(v: i64) -> Value {
    Value::IntValue(v)
}

#[test]
fn every_action_on_every_signal() {
    let cases: Vec<(&str, &str, Vec<KeyValue>, Vec<KeyValue>)> = vec![
        (
            "insert adds",
            r#"{ key = "k", value = "v", action = "insert" }"#,
            vec![],
            vec![kv("k", s("v"))],
        ),
        (
            "insert keeps existing",
            r#"{ key = "k", value = "v", action = "insert" }"#,
            vec![kv("k", s("old"))],
            vec![kv("k", s("old"))],
        ),
        (
            "insert int",
            r#"{ key = "k", value = 7, action = "insert" }"#,
            vec![],
            vec![kv("k", int(7))],
        ),
        (
            "insert bool",
            r#"{ key = "k", value = true, action = "insert" }"#,
            vec![],
            vec![kv("k", Value::BoolValue(true))],
        ),
        (
            "insert double",
            r#"{ key = "k", value = 1.5, action = "insert" }"#,
            vec![],
            vec![kv("k", Value::DoubleValue(1.5))],
        ),
        (
            "insert array",
            r#"{ key = "k", value = ["a", 1], action = "insert" }"#,
            vec![],
            vec![kv(
                "k",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(s("a")),
                        },
                        AnyValue {
                            value: Some(int(1)),
                        },
                    ],
                }),
            )],
        ),
        (
            "insert from_attribute",
            r#"{ key = "b", from_attribute = "a", action = "insert" }"#,
            vec![kv("a", int(1))],
            vec![kv("a", int(1)), kv("b", int(1))],
        ),
        (
            "insert from missing attribute",
            r#"{ key = "b", from_attribute = "x", action = "insert" }"#,
            vec![kv("a", int(1))],
            vec![kv("a", int(1))],
        ),
        (
            "update existing",
            r#"{ key = "k", value = "new", action = "update" }"#,
            vec![kv("k", s("old"))],
            vec![kv("k", s("new"))],
        ),
        (
            "update absent",
            r#"{ key = "k", value = "new", action = "update" }"#,
            vec![kv("j", s("old"))],
            vec![kv("j", s("old"))],
        ),
        (
            "update from_attribute",
            r#"{ key = "k", from_attribute = "a", action = "update" }"#,
            vec![kv("k", s("old")), kv("a", s("x"))],
            vec![kv("k", s("x")), kv("a", s("x"))],
        ),
        (
            "upsert existing",
            r#"{ key = "k", value = "new", action = "upsert" }"#,
            vec![kv("k", s("old"))],
            vec![kv("k", s("new"))],
        ),
        (
            "upsert absent",
            r#"{ key = "k", value = "new", action = "upsert" }"#,
            vec![],
            vec![kv("k", s("new"))],
        ),
        (
            "delete key",
            r#"{ key = "k", action = "delete" }"#,
            vec![kv("k", s("v")), kv("kk", s("v"))],
            vec![kv("kk", s("v"))],
        ),
        (
            "delete pattern",
            r#"{ pattern = "^secret\\.", action = "delete" }"#,
            vec![
                kv("secret.a", s("1")),
                kv("my.secret.b", s("2")),
                kv("secret.c", int(3)),
            ],
            vec![kv("my.secret.b", s("2"))],
        ),
        (
            "hash key",
            r#"{ key = "user", action = "hash" }"#,
            vec![kv("user", s("hello")), kv("other", s("hello"))],
            vec![kv("user", s(HELLO_SHA256)), kv("other", s("hello"))],
        ),
        (
            "hash pattern",
            r#"{ pattern = "^user", action = "hash" }"#,
            vec![kv("user.name", s("hello")), kv("the.user", s("hello"))],
            vec![kv("user.name", s(HELLO_SHA256)), kv("the.user", s("hello"))],
        ),
        (
            "hash absent key",
            r#"{ key = "user", action = "hash" }"#,
            vec![kv("x", s("hello"))],
            vec![kv("x", s("hello"))],
        ),
        (
            "extract named groups",
            r#"{ key = "url", pattern = "^/api/(?P<api_version>v\\d+)/users/(?P<user_id>\\d+)$", action = "extract" }"#,
            vec![kv("url", s("/api/v2/users/42")), kv("user_id", s("old"))],
            vec![
                kv("url", s("/api/v2/users/42")),
                kv("user_id", s("42")),
                kv("api_version", s("v2")),
            ],
        ),
        (
            "extract no match",
            r#"{ key = "url", pattern = "^/api/(?P<api_version>v\\d+)/", action = "extract" }"#,
            vec![kv("url", s("/health"))],
            vec![kv("url", s("/health"))],
        ),
        (
            "extract on a non-string",
            r#"{ key = "url", pattern = "(?P<n>\\d+)", action = "extract" }"#,
            vec![kv("url", int(5))],
            vec![kv("url", int(5))],
        ),
        (
            "convert string to int",
            r#"{ key = "n", converted_type = "int", action = "convert" }"#,
            vec![kv("n", s("42"))],
            vec![kv("n", int(42))],
        ),
        (
            "convert bad int stays",
            r#"{ key = "n", converted_type = "int", action = "convert" }"#,
            vec![kv("n", s("4x2"))],
            vec![kv("n", s("4x2"))],
        ),
        (
            "convert double to int truncates",
            r#"{ key = "n", converted_type = "int", action = "convert" }"#,
            vec![kv("n", Value::DoubleValue(3.9))],
            vec![kv("n", int(3))],
        ),
        (
            "convert bool to int",
            r#"{ key = "n", converted_type = "int", action = "convert" }"#,
            vec![kv("n", Value::BoolValue(true))],
            vec![kv("n", int(1))],
        ),
        (
            "convert string to double",
            r#"{ key = "n", converted_type = "double", action = "convert" }"#,
            vec![kv("n", s("2.5"))],
            vec![kv("n", Value::DoubleValue(2.5))],
        ),
        (
            "convert bad double stays",
            r#"{ key = "n", converted_type = "double", action = "convert" }"#,
            vec![kv("n", s("abc"))],
            vec![kv("n", s("abc"))],
        ),
        (
            "convert int to string",
            r#"{ key = "n", converted_type = "string", action = "convert" }"#,
            vec![kv("n", int(7))],
            vec![kv("n", s("7"))],
        ),
        (
            "convert string to bool",
            r#"{ key = "n", converted_type = "bool", action = "convert" }"#,
            vec![kv("n", s("TRUE"))],
            vec![kv("n", Value::BoolValue(true))],
        ),
        (
            "convert bad bool stays",
            r#"{ key = "n", converted_type = "bool", action = "convert" }"#,
            vec![kv("n", s("yes"))],
            vec![kv("n", s("yes"))],
        ),
        (
            "convert absent key",
            r#"{ key = "n", converted_type = "int", action = "convert" }"#,
            vec![kv("m", s("1"))],
            vec![kv("m", s("1"))],
        ),
    ];
    for (name, action, input, expected) in cases {
        let config = format!("actions = [{action}]");
        for batch in every_signal(&input) {
            let signal = batch.signal();
            let got = item_attributes(&run(&config, batch));
            assert!(!got.is_empty());
            for attrs in got {
                assert_eq!(attrs, expected, "{name} on {signal}");
            }
        }
    }
}

#[test]
fn actions_run_in_order() {
    let config = r#"actions = [
        { key = "user", from_attribute = "email", action = "upsert" },
        { key = "user", action = "hash" },
        { key = "email", action = "delete" },
    ]"#;
    let batch = spans(
        "svc",
        vec![("op", SpanKind::Server, 0, vec![kv("email", s("hello"))])],
    );
    assert_eq!(
        item_attributes(&run(config, batch)),
        vec![vec![kv("user", s(HELLO_SHA256))]]
    );
}

#[test]
fn hash_of_non_strings_uses_big_endian_bytes() {
    use sha2::{Digest, Sha256};
    let want = hex::encode(Sha256::digest(42i64.to_be_bytes()));
    let batch = logs("svc", vec![(9, "INFO", "b", vec![kv("n", int(42))])]);
    let got = item_attributes(&run(r#"actions = [{ key = "n", action = "hash" }]"#, batch));
    assert_eq!(got, vec![vec![kv("n", s(&want))]]);
}

#[test]
fn span_event_attributes_get_the_actions_of_their_selected_span() {
    use harrier_pdata::attrs::get_str;
    use harrier_pdata::otlp::trace::v1::span::Event;
    let batch = run(
        r#"actions = [{ key = "env", value = "prod", action = "insert" }, { key = "secret", action = "delete" }]"#,
        span_with_event(),
    );
    let Batch::Traces(rs) = &batch else { panic!() };
    let span = &rs[0].scope_spans[0].spans[0];
    assert_eq!(get_str(&span.attributes, "env"), Some("prod"));
    let event: &Event = &span.events[0];
    assert_eq!(get_str(&event.attributes, "env"), Some("prod"));
    assert_eq!(get_str(&event.attributes, "secret"), None);
    assert_eq!(get_str(&event.attributes, "kept"), Some("yes"));
}

fn span_with_event() -> Batch {
    use harrier_pdata::attrs::string_kv;
    use harrier_pdata::otlp::trace::v1::span::Event;
    use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
    Batch::Traces(vec![ResourceSpans {
        scope_spans: vec![ScopeSpans {
            spans: vec![Span {
                trace_id: vec![1; 16],
                span_id: vec![2; 8],
                name: "s".into(),
                events: vec![Event {
                    name: "e".into(),
                    attributes: vec![string_kv("secret", "x"), string_kv("kept", "yes")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }])
}

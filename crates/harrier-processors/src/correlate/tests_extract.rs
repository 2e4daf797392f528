//! Table-driven tests of every trace-context source form and its near misses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::extract::Extractor;
use harrier_pdata::attrs::string_kv;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};

pub(super) const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(super) const S: &str = "00f067aa0ba902b7";
const T_UPPER: &str = "4BF92F3577B34DA6A3CE929D0E0E4736";
const T2: &str = "0af7651916cd43dd8448eb211c80319c";
const S2: &str = "b7ad6b7169203331";

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::StringValue(s.to_string())),
    })
}

fn map(entries: Vec<KeyValue>) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::KvlistValue(KeyValueList { values: entries })),
    })
}

fn nested(key: &str, entries: Vec<KeyValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: map(entries),
        ..Default::default()
    }
}

type Expected = Option<(&'static str, Option<&'static str>, Option<u8>)>;

struct Case {
    name: &'static str,
    attributes: Vec<KeyValue>,
    body: Option<AnyValue>,
    expected: Expected,
}

fn case(
    name: &'static str,
    attributes: Vec<KeyValue>,
    body: Option<AnyValue>,
    expected: Expected,
) -> Case {
    Case {
        name,
        attributes,
        body,
        expected,
    }
}

fn tp(version: &str, trace: &str, span: &str, flags: &str) -> String {
    format!("{version}-{trace}-{span}-{flags}")
}

#[rustfmt::skip]
fn found_cases() -> Vec<Case> {
    let a = |k: &str, v: &str| string_kv(k, v);
    vec![
        case("attr trace_id/span_id", vec![a("trace_id", T), a("span_id", S)], None, Some((T, Some(S), None))),
        case("attr traceId/spanId", vec![a("traceId", T), a("spanId", S)], None, Some((T, Some(S), None))),
        case("attr trace.id/span.id", vec![a("trace.id", T), a("span.id", S)], None, Some((T, Some(S), None))),
        case("attr trace id only", vec![a("trace_id", T)], None, Some((T, None, None))),
        case("attr upper-case hex", vec![a("trace_id", T_UPPER)], None, Some((T, None, None))),
        case("attr traceparent", vec![a("traceparent", &tp("00", T, S, "01"))], None, Some((T, Some(S), Some(1)))),
        case("attr traceparent later version with more fields", vec![a("traceparent", &format!("{}-what", tp("01", T, S, "03")))], None, Some((T, Some(S), Some(3)))),
        case("attr explicit ids win over another trace's traceparent", vec![a("trace_id", T2), a("traceparent", &tp("00", T, S, "01"))], None, Some((T2, None, None))),
        case("attr traceparent fills span of same trace", vec![a("trace_id", T), a("traceparent", &tp("00", T, S, "01"))], None, Some((T, Some(S), Some(1)))),
        case("attributes win over the body", vec![a("trace_id", T)], text(&format!("trace_id={T2}")), Some((T, None, None))),
        case("json body", vec![], text(&format!(r#"{{"msg":"hi","trace_id":"{T}","span_id":"{S}","n":[1,{{"a":2}}]}}"#)), Some((T, Some(S), None))),
        case("json body camelCase", vec![], text(&format!(r#" {{"traceId":"{T}","spanId":"{S}"}}"#)), Some((T, Some(S), None))),
        case("json body nested one level", vec![], text(&format!(r#"{{"level":"info","ctx":{{"trace.id":"{T}","span.id":"{S}"}}}}"#)), Some((T, Some(S), None))),
        case("json body traceparent", vec![], text(&format!(r#"{{"traceparent":"{}"}}"#, tp("00", T, S, "00"))), Some((T, Some(S), Some(0)))),
        case("json body escaped value", vec![], text(&format!(r#"{{"trace_id":"\u0034{}"}}"#, &T[1..])), Some((T, None, None))),
        case("map body", vec![], map(vec![a("trace_id", T), a("span_id", S)]), Some((T, Some(S), None))),
        case("map body nested one level", vec![], map(vec![ a("msg", "x"), nested("otel", vec![a("traceId", T), a("spanId", S)]), ]), Some((T, Some(S), None))),
        case("map body traceparent", vec![], map(vec![a("traceparent", &tp("00", T, S, "01"))]), Some((T, Some(S), Some(1)))),
        case("text key=value", vec![], text(&format!("GET /a 200 trace_id={T} span_id={S} took 3ms")), Some((T, Some(S), None))),
        case("text camelCase colon", vec![], text(&format!("traceId: {T} spanId: {S}")), Some((T, Some(S), None))),
        case("text dotted", vec![], text(&format!("trace.id={T} span.id={S}")), Some((T, Some(S), None))),
        case("text quoted value", vec![], text(&format!("msg trace_id=\"{T}\"")), Some((T, None, None))),
        case("text upper-case hex", vec![], text(&format!("trace_id={T_UPPER}")), Some((T, None, None))),
        case("text traceparent colon", vec![], text(&format!("traceparent: {} done", tp("00", T, S, "01"))), Some((T, Some(S), Some(1)))),
        case("text traceparent equals", vec![], text(&format!("x traceparent={}", tp("00", T, S, "00"))), Some((T, Some(S), Some(0)))),
        case("broken json falls back to text", vec![], text(&format!(r#"{{"trace_id": "{T}", "span_id": "{S}""#)), Some((T, Some(S), None))),
        case("text first valid id wins", vec![], text(&format!("trace_id=abc trace_id={T} trace_id={T2} span_id={S2}")), Some((T, Some(S2), None))),
    ]
}

#[rustfmt::skip]
fn miss_cases() -> Vec<Case> {
    let a = |k: &str, v: &str| string_kv(k, v);
    vec![
        case("attr trace id too short", vec![a("trace_id", &T[1..])], None, None),
        case("attr trace id too long", vec![a("trace_id", &format!("{T}0"))], None, None),
        case("attr trace id all zero", vec![a("trace_id", &"0".repeat(32))], None, None),
        case("attr trace id not hex", vec![a("trace_id", &format!("g{}", &T[1..]))], None, None),
        case("attr span id only", vec![a("span_id", S)], None, None),
        case("attr other key", vec![a("request_id", T)], None, None),
        case("attr traceparent bad version ff", vec![a("traceparent", &tp("ff", T, S, "01"))], None, None),
        case("attr traceparent version 00 with extra field", vec![a("traceparent", &format!("{}-00", tp("00", T, S, "01")))], None, None),
        case("attr traceparent one-digit version", vec![a("traceparent", &tp("0", T, S, "01"))], None, None),
        case("attr traceparent short span", vec![a("traceparent", &tp("00", T, &S[1..], "01"))], None, None),
        case("attr traceparent zero trace", vec![a("traceparent", &tp("00", &"0".repeat(32), S, "01"))], None, None),
        case("attr traceparent zero span", vec![a("traceparent", &tp("00", T, &"0".repeat(16), "01"))], None, None),
        case("text bare 32-hex", vec![], text(&format!("request {T} failed (trace unknown)")), None),
        case("text trace id too long", vec![], text(&format!("trace_id={T}0")), None),
        case("text trace id too short", vec![], text(&format!("trace_id={}", &T[1..])), None),
        case("text key inside a word", vec![], text(&format!("xtrace_id={T}")), None),
        case("text span id only", vec![], text(&format!("trace span_id={S}")), None),
        case("text all-zero trace id", vec![], text(&format!("trace_id={}", "0".repeat(32))), None),
        case("text traceparent bad version", vec![], text(&format!("traceparent: {}", tp("ff", T, S, "01"))), None),
        case("text traceparent missing flags", vec![], text(&format!("traceparent: 00-{T}-{S}")), None),
        case("text without trace", vec![], text(&format!("span.id={S} {T}")), None),
        case("json id as number", vec![], text(r#"{"trace_id": 12345, "msg": "trace"}"#), None),
        case("map id wrong length", vec![], map(vec![a("trace_id", &T[2..])]), None),
        case("int body", vec![], Some(AnyValue { value: Some(Value::IntValue(7)), }), None),
        case("no body", vec![], None, None),
    ]
}

#[test]
fn every_source_form_is_found() {
    check(found_cases());
}

#[test]
fn near_misses_are_rejected() {
    check(miss_cases());
}

fn check(cases: Vec<Case>) {
    let extractor = Extractor::new().unwrap();
    let mut failures = Vec::new();
    for c in cases {
        let got = extractor
            .find(&c.attributes, c.body.as_ref())
            .map(|f| (hex::encode(f.trace_id), f.span_id.map(hex::encode), f.flags));
        let want = c
            .expected
            .map(|(t, s, f)| (t.to_string(), s.map(str::to_string), f));
        if got != want {
            failures.push(format!("{}: got {got:?}, want {want:?}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn attribute_sources_are_reported() {
    let extractor = Extractor::new().unwrap();
    let attributes = vec![
        string_kv("a", "b"),
        string_kv("span_id", S),
        string_kv("trace_id", T),
    ];
    let found = extractor.find(&attributes, None).unwrap();
    assert_eq!(found.attribute_sources, [Some(2), Some(1), None]);
    let found = extractor
        .find(&[string_kv("traceparent", tp("00", T, S, "01"))], None)
        .unwrap();
    assert_eq!(found.attribute_sources, [None, None, Some(0)]);
    let found = extractor
        .find(&[], text(&format!("trace_id={T}")).as_ref())
        .unwrap();
    assert_eq!(found.attribute_sources, [None, None, None]);
}

//! `include` / `exclude` selection and config validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::*;
use harrier_core::envelope::Envelope;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{KeyValue, any_value::Value};
use harrier_pdata::otlp::trace::v1::span::SpanKind;

fn run(config: &str, batch: Batch) -> Batch {
    let mut p = build(&AttributesFactory, config, &Telemetry::new());
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    out.remove(0).batch
}

fn int(v: i64) -> Value {
    Value::IntValue(v)
}

fn marked(batch: &Batch) -> Vec<bool> {
    item_attributes(batch)
        .iter()
        .map(|attrs| attrs.iter().any(|kv| kv.key == "marked"))
        .collect()
}

#[test]
fn include_and_exclude_select_items() {
    let server = |name: &str, attrs: Vec<KeyValue>| {
        spans("checkout", vec![(name, SpanKind::Server, 0, attrs)])
    };
    let client = |name: &str| spans("checkout", vec![(name, SpanKind::Client, 0, vec![])]);
    let log = |sev: i32, text: &str, body: &str| logs("checkout", vec![(sev, text, body, vec![])]);
    // (block, match properties, item, processed?)
    let cases: Vec<(&str, &str, Batch, bool)> = vec![
        (
            "include",
            r#"match_type = "strict", services = ["checkout"]"#,
            server("a", vec![]),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", services = ["check"]"#,
            server("a", vec![]),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", services = ["^check"]"#,
            server("a", vec![]),
            true,
        ),
        (
            "include",
            r#"match_type = "regexp", services = ["^out"]"#,
            server("a", vec![]),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", span_names = ["GET /"]"#,
            server("GET /", vec![]),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", span_names = ["GET /"]"#,
            server("GET /x", vec![]),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", span_names = ["^GET"]"#,
            server("GET /x", vec![]),
            true,
        ),
        (
            "include",
            r#"match_type = "regexp", span_names = ["^GET"]"#,
            server("POST /x", vec![]),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", span_kinds = ["server"]"#,
            server("a", vec![]),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", span_kinds = ["SPAN_KIND_SERVER"]"#,
            client("a"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", span_names = ["a"]"#,
            log(9, "INFO", "a"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", log_bodies = ["login ok"]"#,
            log(9, "INFO", "login ok"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", log_bodies = ["login"]"#,
            log(9, "INFO", "login ok"),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", log_bodies = ["^login"]"#,
            log(9, "INFO", "login ok"),
            true,
        ),
        (
            "include",
            r#"match_type = "regexp", log_bodies = ["^ok"]"#,
            log(9, "INFO", "login ok"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_texts = ["INFO"]"#,
            log(9, "INFO", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_texts = ["INFO"]"#,
            log(9, "info", "x"),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", log_severity_texts = ["(?i)^info$"]"#,
            log(9, "info", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_number = { min = "WARN" }"#,
            log(13, "", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_number = { min = "WARN" }"#,
            log(12, "", "x"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_number = { min = 13 }"#,
            log(0, "", "x"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", log_severity_number = { min = 13, match_undefined = true }"#,
            log(0, "", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", attributes = [{ key = "code", value = 200 }]"#,
            server("a", vec![kv("code", int(200))]),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", attributes = [{ key = "code", value = "200" }]"#,
            server("a", vec![kv("code", int(200))]),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", attributes = [{ key = "code" }]"#,
            server("a", vec![kv("code", int(1))]),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", attributes = [{ key = "code" }]"#,
            server("a", vec![kv("cod", int(1))]),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", attributes = [{ key = "a", value = 1 }, { key = "b", value = 2 }]"#,
            server("a", vec![kv("a", int(1))]),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", attributes = [{ key = "code", value = "^2" }]"#,
            server("a", vec![kv("code", int(204))]),
            true,
        ),
        (
            "include",
            r#"match_type = "regexp", attributes = [{ key = "code", value = "^2" }]"#,
            server("a", vec![kv("code", int(404))]),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", resources = [{ key = "service.name", value = "checkout" }]"#,
            log(9, "", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "strict", resources = [{ key = "service.name", value = "cart" }]"#,
            log(9, "", "x"),
            false,
        ),
        (
            "include",
            r#"match_type = "regexp", resources = [{ key = "service.name", value = "out$" }]"#,
            log(9, "", "x"),
            true,
        ),
        (
            "include",
            r#"match_type = "regexp", resources = [{ key = "service.name", value = "^out" }]"#,
            log(9, "", "x"),
            false,
        ),
        (
            "include",
            r#"match_type = "strict", services = ["checkout"], span_names = ["b"]"#,
            server("a", vec![]),
            false,
        ),
        (
            "exclude",
            r#"match_type = "strict", span_names = ["a"]"#,
            server("a", vec![]),
            false,
        ),
        (
            "exclude",
            r#"match_type = "strict", span_names = ["a"]"#,
            server("b", vec![]),
            true,
        ),
        (
            "exclude",
            r#"match_type = "regexp", log_bodies = ["health"]"#,
            log(9, "", "GET /healthz"),
            false,
        ),
        (
            "exclude",
            r#"match_type = "regexp", log_bodies = ["health"]"#,
            log(9, "", "GET /"),
            true,
        ),
        (
            "exclude",
            r#"match_type = "strict", span_names = ["a"]"#,
            log(9, "", "a"),
            true,
        ),
    ];
    for (block, props, batch, want) in cases {
        let config = format!(
            "actions = [{{ key = \"marked\", value = true, action = \"insert\" }}]\n{block} = {{ {props} }}"
        );
        let got = marked(&run(&config, batch));
        assert_eq!(got, vec![want], "{block}: {props}");
    }
}

#[test]
fn metric_names_select_data_points() {
    for (match_type, names, want) in [
        (
            "strict",
            r#"["sum"]"#,
            vec![false, true, false, false, false],
        ),
        (
            "regexp",
            r#"["hist"]"#,
            vec![false, false, true, true, false],
        ),
    ] {
        let config = format!(
            "actions = [{{ key = \"marked\", value = true, action = \"insert\" }}]\n[include]\nmatch_type = \"{match_type}\"\nmetric_names = {names}"
        );
        assert_eq!(
            marked(&run(&config, metrics("svc", vec![]))),
            want,
            "{match_type} {names}"
        );
    }
}

#[test]
fn include_and_exclude_combine() {
    let config = r#"
        actions = [{ key = "marked", value = true, action = "insert" }]
        [include]
        match_type = "regexp"
        span_names = ["^GET"]
        [exclude]
        match_type = "strict"
        span_names = ["GET /health"]
    "#;
    let batch = spans(
        "svc",
        vec![
            ("GET /users", SpanKind::Server, 0, vec![]),
            ("GET /health", SpanKind::Server, 0, vec![]),
            ("POST /users", SpanKind::Server, 0, vec![]),
        ],
    );
    assert_eq!(marked(&run(config, batch)), vec![true, false, false]);
}

#[test]
fn validation_reports_every_error_with_its_path() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("", vec!["actions: at least one action is required"]),
        (
            r#"actions = [
                { key = "a", value = 1, action = "insert" },
                { key = "b", action = "upsert" },
                { pattern = "([", action = "delete" },
                { action = "hash" },
                { key = "u", pattern = "(\\d+)", action = "extract" },
                { key = "n", action = "convert" },
                { key = "n", value = 1, converted_type = "int", action = "convert" },
            ]"#,
            vec![
                "actions[1].value: exactly one of value or from_attribute is required",
                "actions[2].pattern: invalid regex",
                "actions[3].key: key or pattern is required",
                "actions[4].pattern: must have at least one named group",
                "actions[5].converted_type: required for convert",
                "actions[6].value: not used by this action",
            ],
        ),
        (
            r#"actions = [{ key = "a", action = "rename" }]"#,
            vec!["actions[0].action: unknown variant `rename`"],
        ),
        (
            r#"actions = [{ key = "a", action = "delete", colour = 1 }]"#,
            vec!["actions[0].colour: unknown field `colour`"],
        ),
        (
            "actions = [{ key = \"a\", action = \"delete\" }]\n[include]\nmatch_type = \"regexp\"\nspan_names = [\"ok\", \"(\"]\nspan_kinds = [\"sideways\"]\nattributes = [{ key = \"k\", value = 1 }]\nlog_severity_number = { min = \"LOUD\" }",
            vec![
                "include.span_names[1]: invalid regex",
                "include.span_kinds[0]: unknown span kind",
                "include.log_severity_number.min: expected a severity",
                "include.attributes[0].value: with match_type = \"regexp\" the value must be a string",
            ],
        ),
        (
            "actions = [{ key = \"a\", action = \"delete\" }]\n[exclude]\nmatch_type = \"strict\"",
            vec!["exclude: at least one of services"],
        ),
        (
            "actions = [{ key = \"a\", action = \"delete\" }]\n[exclude]\nspan_names = [\"x\"]",
            vec!["exclude: missing field `match_type`"],
        ),
    ];
    for (config, want) in cases {
        let got = errors(&AttributesFactory, config);
        assert_eq!(got.len(), want.len(), "{config}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(g.starts_with(w), "{config}: got {g:?}, want {w:?}");
        }
    }
    assert!(
        errors(
            &AttributesFactory,
            r#"actions = [{ key = "a", action = "delete" }]"#
        )
        .is_empty()
    );
}

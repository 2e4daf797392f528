#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::*;
use harrier_core::envelope::Envelope;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::trace::v1::span::SpanKind;

fn run(config: &str, batch: Batch) -> Batch {
    let mut p = build(&ResourceFactory, config, &Telemetry::new());
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    out.remove(0).batch
}

fn every_signal(service: &str) -> Vec<Batch> {
    vec![
        spans(
            service,
            vec![("op", SpanKind::Server, 0, vec![kv("item", s("x"))])],
        ),
        logs(service, vec![(9, "INFO", "body", vec![kv("item", s("x"))])]),
        metrics(service, vec![kv("item", s("x"))]),
    ]
}

#[test]
fn actions_change_resource_attributes_of_every_signal() {
    let cases: Vec<(&str, &str, Vec<KeyValue>)> = vec![
        (
            "insert",
            r#"{ key = "env", value = "prod", action = "insert" }"#,
            vec![kv("service.name", s("api")), kv("env", s("prod"))],
        ),
        (
            "insert keeps",
            r#"{ key = "service.name", value = "x", action = "insert" }"#,
            vec![kv("service.name", s("api"))],
        ),
        (
            "update",
            r#"{ key = "service.name", value = "web", action = "update" }"#,
            vec![kv("service.name", s("web"))],
        ),
        (
            "update absent",
            r#"{ key = "env", value = "web", action = "update" }"#,
            vec![kv("service.name", s("api"))],
        ),
        (
            "upsert",
            r#"{ key = "env", value = "dev", action = "upsert" }"#,
            vec![kv("service.name", s("api")), kv("env", s("dev"))],
        ),
        (
            "copy",
            r#"{ key = "svc", from_attribute = "service.name", action = "insert" }"#,
            vec![kv("service.name", s("api")), kv("svc", s("api"))],
        ),
        (
            "delete",
            r#"{ key = "service.name", action = "delete" }"#,
            vec![],
        ),
        (
            "delete pattern near miss",
            r#"{ pattern = "^host", action = "delete" }"#,
            vec![kv("service.name", s("api"))],
        ),
        (
            "hash",
            r#"{ key = "service.name", action = "hash" }"#,
            vec![], /* computed below */
        ),
        (
            "extract",
            r#"{ key = "service.name", pattern = "^(?P<first>.)", action = "extract" }"#,
            vec![kv("service.name", s("api")), kv("first", s("a"))],
        ),
        (
            "convert bad int stays",
            r#"{ key = "service.name", converted_type = "int", action = "convert" }"#,
            vec![kv("service.name", s("api"))],
        ),
    ];
    for (name, action, want) in cases {
        let config = format!("attributes = [{action}]");
        for batch in every_signal("api") {
            let signal = batch.signal();
            let out = run(&config, batch);
            let mut want = want.clone();
            if name == "hash" {
                // The SHA-256 of "api", computed independently of the processor.
                use sha2::{Digest, Sha256};
                want = vec![kv("service.name", s(&hex::encode(Sha256::digest(b"api"))))];
            }
            assert_eq!(resource_attributes(&out), vec![want], "{name} on {signal}");
            // Item attributes are untouched.
            assert!(
                item_attributes(&out)
                    .iter()
                    .all(|a| *a == vec![kv("item", s("x"))]),
                "{name} on {signal}"
            );
        }
    }
}

#[test]
fn a_missing_resource_is_created_for_insert() {
    let mut batch = spans("api", vec![("op", SpanKind::Server, 0, vec![])]);
    if let Batch::Traces(rs) = &mut batch {
        rs[0].resource = None;
    }
    let out = run(
        r#"actions = [{ key = "env", value = "prod", action = "upsert" }]"#,
        batch,
    );
    assert_eq!(resource_attributes(&out), vec![vec![kv("env", s("prod"))]]);
}

#[test]
fn validation_reports_paths_under_attributes() {
    assert_eq!(
        errors(&ResourceFactory, ""),
        vec!["attributes: at least one action is required"]
    );
    let got = errors(
        &ResourceFactory,
        r#"attributes = [{ key = "a", value = 1, action = "insert" }, { pattern = "*", action = "delete" }]"#,
    );
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("attributes[1].pattern: invalid regex"),
        "{got:?}"
    );
    let got = errors(&ResourceFactory, "[include]\nmatch_type = \"strict\"");
    assert!(got[0].starts_with("include: unknown field"), "{got:?}");
}

//! Black-box: the real `harrier` binary with `otlp` (HTTP) -> `redaction` -> `file`.
//! Logs and spans carrying personal and secret data are posted as OTLP/HTTP protobuf;
//! the raw output file must hold none of those strings, while the rest of the data
//! (names, ordinary attributes, the clean parts of bodies) arrives intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Batch;
use harrier_pdata::attrs::string_kv;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValueList, any_value};
use harrier_pdata::{Signal, otlp::trace::v1::span::Event};
use harrier_testkit::data;

/// Every secret posted; none may appear in the output.
const SECRETS: [&str; 11] = [
    "jane.doe@example.com",
    "4111 1111 1111 1111",
    "123-45-6789",
    "DE89370400440532013000",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-1234567890-abcdefghij",
    "MIIEowIBAAKCAQEA7",
    "s3cr3t-pw",
    "hunter2-db",
    "dXNlcjpwYXNzd29yZA==",
];

fn string(v: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    }
}

/// Ten log records from the testkit with PII in bodies, attributes and nested maps.
fn logs_with_pii() -> Batch {
    let mut batch = data::logs(0, 10);
    let Batch::Logs(rl) = &mut batch else {
        unreachable!()
    };
    if let Some(resource) = rl[0].resource.as_mut() {
        resource
            .attributes
            .push(string_kv("owner.email", "jane.doe@example.com"));
    }
    for (i, record) in rl[0].scope_logs[0].log_records.iter_mut().enumerate() {
        let body = match i % 5 {
            0 => format!("log line {i} paid with 4111 1111 1111 1111"),
            1 => format!("log line {i} ssn 123-45-6789 iban DE89370400440532013000"),
            2 => format!(
                "log line {i} key -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"
            ),
            3 => format!("log line {i} dsn postgres://app:s3cr3t-pw@db:5432/shop"),
            _ => format!("log line {i} Authorization: Basic dXNlcjpwYXNzd29yZA=="),
        };
        record.body = Some(string(&body));
        record
            .attributes
            .push(string_kv("db_password", "hunter2-db"));
        record.attributes.push(string_kv("http.route", "/checkout"));
        record
            .attributes
            .push(harrier_pdata::otlp::common::v1::KeyValue {
                key: "cloud".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                        values: vec![string_kv("access_key", "AKIAIOSFODNN7EXAMPLE")],
                    })),
                }),
                ..Default::default()
            });
    }
    batch
}

/// Five testkit spans with tokens in attributes and span events.
fn spans_with_pii() -> Batch {
    let mut batch = data::spans(0, 5);
    let Batch::Traces(rs) = &mut batch else {
        unreachable!()
    };
    for span in &mut rs[0].scope_spans[0].spans {
        span.attributes.push(string_kv(
            "vcs.token.note",
            "pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ));
        span.attributes.push(string_kv("http.method", "POST"));
        span.events.push(Event {
            name: "notify".into(),
            attributes: vec![string_kv("slack", "xoxb-1234567890-abcdefghij")],
            ..Default::default()
        });
    }
    batch
}

#[test]
fn no_pii_reaches_the_file() {
    let port = common::free_port();
    let mut harrier = common::start(&format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{port}"
        [processors.redaction]
        summary = "info"
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["otlp"]
        processors = ["redaction"]
        exporters = ["file"]
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["redaction"]
        exporters = ["file"]
        "#
    ));
    assert_eq!(common::post_batch(port, &logs_with_pii()), 200);
    assert_eq!(common::post_batch(port, &spans_with_pii()), 200);
    let out = harrier.path("out.jsonl");
    common::wait_for(20, "10 logs and 5 spans in the file", || {
        common::file_items(&out, Signal::Logs) >= 10
            && common::file_items(&out, Signal::Traces) >= 5
    });
    let metrics = harrier.metrics();
    let (status, _) = harrier.terminate();
    assert!(status.success());

    let text = std::fs::read_to_string(&out).unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret:?} leaked into the output");
    }
    for kept in [
        "log line 7",
        "span-4",
        "/checkout",
        "POST",
        "testkit",
        "redaction.masked.count",
        "postgres://app:****@db:5432/shop",
        "pushed with ****",
    ] {
        assert!(text.contains(kept), "{kept:?} is missing from the output");
    }
    assert!(
        metrics.contains("harrier_processor_redaction_masked_values_total{"),
        "the redaction metric is exported"
    );
    let masked: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("harrier_processor_redaction_masked_values_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    // Per log: body 1 (or 2 for ssn + iban), db_password 1, access key 1; the resource
    // e-mail once per request; per span: token 1, slack 1.
    assert_eq!(masked, (10.0 * 3.0 + 2.0) + 1.0 + 5.0 * 2.0);
}

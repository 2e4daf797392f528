//! Black-box: `correlate` and `redaction` together, as in `configs/pii-and-correlation.toml`.
//! The real OpenTelemetry Rust SDK sends spans, then logs that carry those spans' trace
//! ids in their bodies (several formats) and PII in bodies, attributes and nested maps.
//! In the file exporter's output no PII string may appear (the raw file is grepped),
//! every log's trace id is set, and enrichment is present when the span was seen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::attrs::get_str;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Key, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use std::collections::HashMap;

const CONFIG: &str = r#"
[receivers.otlp.grpc]
endpoint = "127.0.0.1:{grpc}"
[processors.correlate]
[processors.redaction]
summary = "info"
blocked_values = ["(?i)customer-id-[0-9]+"]
[processors.batch]
timeout = "50ms"
[exporters.file]
path = "{dir}/out.jsonl"
[service]
extensions = ["health_check"]
[service.telemetry.metrics]
address = "127.0.0.1:{metrics}"
[service.pipelines.traces]
receivers = ["otlp"]
processors = ["correlate", "redaction", "batch"]
exporters = ["file"]
[service.pipelines.logs]
receivers = ["otlp"]
processors = ["correlate", "redaction", "batch"]
exporters = ["file"]
"#;

/// PII that must not survive, anywhere in the output file.
const PII: &[&str] = &[
    "alice@example.com",
    "4111 1111 1111 1111",
    "4111111111111111",
    "078-05-1120",
    "DE89370400440532013000",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "hunter2",
    "s3cr3t-token-value",
    "customer-id-42",
];

fn send_spans(endpoint: &str, n: usize) -> Vec<(String, String, String)> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("payments").build())
        .build();
    let tracer = provider.tracer("pii-e2e");
    let mut sent = Vec::new();
    for i in 0..n {
        let mut span = tracer.start(format!("charge-{i}"));
        // PII in a span attribute too.
        span.set_attribute(KeyValue::new("user.email", "alice@example.com"));
        let ctx = span.span_context().clone();
        sent.push((
            ctx.trace_id().to_string(),
            ctx.span_id().to_string(),
            format!("charge-{i}"),
        ));
        span.end();
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    sent
}

fn send_logs(endpoint: &str, sent: &[(String, String, String)]) {
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder_empty()
                .with_attribute(KeyValue::new("k8s.pod.name", "payments-5f"))
                .build(),
        )
        .build();
    let logger = provider.logger("pii-e2e");
    let bodies = [
        format!(
            "charging card 4111 1111 1111 1111 for alice@example.com trace_id={} span_id={}",
            sent[0].0, sent[0].1
        ),
        format!(
            "{{\"msg\":\"ssn 078-05-1120 seen\",\"traceId\":\"{}\",\"spanId\":\"{}\"}}",
            sent[1].0, sent[1].1
        ),
        format!(
            "traceparent: 00-{}-{}-01 iban DE89370400440532013000 customer-id-42",
            sent[2].0, sent[2].1
        ),
        "no trace here; token AKIAIOSFODNN7EXAMPLE".to_string(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::from(body.clone()));
        record.set_severity_number(Severity::Info);
        record.add_attribute("case", i as i64);
        record.add_attribute("password", "hunter2");
        record.add_attribute("github", "ghp_16C7e42F292c6912E7710c838347Ae178B4a");
        // A nested map with a JWT and a blocked key.
        let nested: HashMap<Key, AnyValue> = [
            (Key::new("authorization"), AnyValue::from("Bearer s3cr3t-token-value")),
            (
                Key::new("session"),
                AnyValue::from("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            ),
            (Key::new("region"), AnyValue::from("eu-west-1")),
        ]
        .into_iter()
        .collect();
        record.add_attribute("request", AnyValue::Map(Box::new(nested)));
        logger.emit(record);
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pii_leaves_and_logs_are_linked_to_their_traces() {
    let grpc = common::free_port();
    let mut harrier = common::start(&CONFIG.replace("{grpc}", &grpc.to_string()));
    let out = harrier.path("out.jsonl");
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let sent = send_spans(&endpoint, 3);
    common::wait_for(20, "3 spans in the file", || {
        common::file_items(&out, Signal::Traces) >= 3
    });
    send_logs(&endpoint, &sent);
    common::wait_for(20, "4 logs in the file", || {
        common::file_items(&out, Signal::Logs) >= 4
    });
    let (status, _) = harrier.terminate();
    assert!(status.success());

    let raw = std::fs::read_to_string(&out).unwrap();
    for pii in PII {
        assert!(!raw.contains(pii), "PII {pii:?} leaked into the output");
    }
    assert!(raw.contains("eu-west-1"), "non-PII content survives");

    let logs_batches = harrier_testkit::read_json_lines(&out, Signal::Logs).unwrap();
    let mut by_case = HashMap::new();
    for batch in &logs_batches {
        let harrier_pdata::Batch::Logs(rl) = batch else {
            continue;
        };
        for r in rl {
            let resource = r.resource.clone().unwrap_or_default();
            for l in r.scope_logs.iter().flat_map(|s| &s.log_records) {
                let case = match harrier_pdata::attrs::get(&l.attributes, "case")
                    .and_then(|v| v.value.clone())
                {
                    Some(harrier_pdata::otlp::common::v1::any_value::Value::IntValue(i)) => i,
                    other => panic!("no case attribute: {other:?}"),
                };
                by_case.insert(case, (l.clone(), resource.clone()));
            }
        }
    }
    assert_eq!(by_case.len(), 4);
    for (case, (trace, span, name)) in sent.iter().enumerate() {
        let (log, resource) = &by_case[&(case as i64)];
        assert_eq!(hex::encode(&log.trace_id), *trace, "case {case}");
        assert_eq!(hex::encode(&log.span_id), *span, "case {case}");
        assert_eq!(
            get_str(&log.attributes, "span.name"),
            Some(name.as_str()),
            "case {case}"
        );
        assert_eq!(
            get_str(&resource.attributes, "service.name"),
            Some("payments"),
            "case {case}"
        );
        assert_eq!(
            get_str(&resource.attributes, "k8s.pod.name"),
            Some("payments-5f"),
            "case {case}"
        );
        assert!(
            harrier_pdata::attrs::get(&log.attributes, "redaction.masked.count").is_some(),
            "case {case}"
        );
    }
    let (unlinked, _) = &by_case[&3];
    assert!(unlinked.trace_id.is_empty());
    assert_eq!(get_str(&unlinked.attributes, "span.name"), None);
}

//! Black-box: the real `harrier` binary with one `correlate` processor listed in a
//! traces and a logs pipeline. The real OpenTelemetry Rust SDK sends spans (service
//! set on the SDK resource), then logs without any trace context in the SDK records and
//! without `service.name` on their resource, carrying those spans' ids in their bodies
//! and attributes in several formats. The file exporter's output must show every log's
//! ids filled in, and `span.name`/`service.name` added exactly when the span was seen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::attrs::get_str;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use std::collections::{BTreeMap, HashMap};

const CONFIG: &str = r#"
[receivers.otlp.grpc]
endpoint = "127.0.0.1:{grpc}"
[processors.correlate]
ttl = "1m"
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
processors = ["correlate", "batch"]
exporters = ["file"]
[service.pipelines.logs]
receivers = ["otlp"]
processors = ["correlate", "batch"]
exporters = ["file"]
"#;

/// (trace id, root span id, child span id) of each sent trace, as hex.
type Sent = Vec<(String, String, String)>;

fn send_traces(endpoint: &str, n: usize) -> Sent {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    let resource = Resource::builder()
        .with_service_name("checkout")
        .with_attribute(KeyValue::new("k8s.pod.name", "checkout-7d9"))
        .build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("correlate-e2e");
    let mut sent = Vec::new();
    for i in 0..n {
        let mut root = tracer.start(format!("root-{i}"));
        let root_ctx = root.span_context().clone();
        let parent = Context::new().with_remote_span_context(root_ctx.clone());
        let mut child = tracer.start_with_context(format!("child-{i}"), &parent);
        sent.push((
            root_ctx.trace_id().to_string(),
            root_ctx.span_id().to_string(),
            child.span_context().span_id().to_string(),
        ));
        child.end();
        root.end();
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    sent
}

/// One log per format; `case` names it. Nothing sets the SDK record's trace context.
fn send_logs(endpoint: &str, sent: &Sent, unknown_trace: &str) {
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    // Like Fluent Bit: pod metadata, no service.
    let resource = Resource::builder_empty()
        .with_attribute(KeyValue::new("k8s.namespace.name", "shop"))
        .build();
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let logger = provider.logger("correlate-e2e");
    let emit = |case: &str, body: AnyValue, attributes: Vec<(&str, String)>| {
        let mut record = logger.create_log_record();
        record.set_body(body);
        record.set_severity_number(Severity::Info);
        record.add_attribute("case", case.to_string());
        for (k, v) in attributes {
            record.add_attribute(k.to_string(), v);
        }
        logger.emit(record);
    };
    let (t0, _, c0) = &sent[0];
    emit(
        "text",
        format!("GET /cart 200 trace_id={t0} span_id={c0}").into(),
        vec![],
    );
    let (t1, r1, _) = &sent[1];
    emit(
        "traceparent_attr",
        "charged".into(),
        vec![("traceparent", format!("00-{t1}-{r1}-01"))],
    );
    let (t2, _, c2) = &sent[2];
    emit(
        "json",
        format!(r#"{{"msg":"ok","traceId":"{t2}","spanId":"{c2}"}}"#).into(),
        vec![],
    );
    let (t3, r3, _) = &sent[3];
    let map = HashMap::from([
        (Key::from("trace.id"), AnyValue::from(t3.clone())),
        (Key::from("span.id"), AnyValue::from(r3.clone())),
    ]);
    emit("map", AnyValue::Map(Box::new(map)), vec![]);
    let (t4, _, c4) = &sent[4];
    emit(
        "text_traceparent",
        format!("done traceparent: 00-{t4}-{c4}-00").into(),
        vec![],
    );
    emit(
        "unknown",
        format!("trace_id={unknown_trace} span_id=0000000000000001").into(),
        vec![],
    );
    emit("none", "no context here".into(), vec![]);
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlate_links_sdk_logs_to_sdk_spans() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let grpc = common::free_port();
    let mut harrier = common::start(&CONFIG.replace("{grpc}", &grpc.to_string()));
    let out = harrier.path("out.jsonl");
    let endpoint = format!("http://127.0.0.1:{grpc}");

    let sent = send_traces(&endpoint, 5);
    // Spans in the file have passed the traces pipeline, so they are indexed.
    common::wait_for(20, "10 spans in the file", || {
        common::file_items(&out, Signal::Traces) >= 10
    });
    let unknown_trace = "0123456789abcdef0123456789abcdef";
    send_logs(&endpoint, &sent, unknown_trace);
    common::wait_for(20, "7 log records in the file", || {
        common::file_items(&out, Signal::Logs) >= 7
    });
    let labels = "{processor=\"correlate\",pipeline=\"logs\"}";
    assert_eq!(
        harrier.metric(&format!(
            "harrier_processor_correlate_logs_seen_total{labels}"
        )),
        7.0
    );
    assert_eq!(
        harrier.metric(&format!(
            "harrier_processor_correlate_logs_with_trace_context_total{labels}"
        )),
        6.0
    );
    assert_eq!(
        harrier.metric(&format!(
            "harrier_processor_correlate_logs_linked_total{labels}"
        )),
        5.0
    );
    assert_eq!(
        harrier.metric("harrier_processor_correlate_index_entries{processor=\"correlate\"}"),
        10.0
    );
    let (status, _) = harrier.terminate();
    assert!(status.success());

    // Spans pass through unchanged: still 10, with their service.
    let traces = harrier_testkit::data::all_spans(
        &harrier_testkit::read_json_lines(&out, Signal::Traces).unwrap(),
    );
    assert_eq!(traces.len(), 10);

    // case -> (trace id, span id, flags, span.name, service.name, k8s.pod.name, namespace)
    let mut got = BTreeMap::new();
    for batch in harrier_testkit::read_json_lines(&out, Signal::Logs).unwrap() {
        let harrier_pdata::Batch::Logs(rl) = batch else {
            continue;
        };
        for r in rl {
            let resource = r.resource.map(|r| r.attributes).unwrap_or_default();
            for l in r.scope_logs.iter().flat_map(|s| &s.log_records) {
                let case = get_str(&l.attributes, "case").unwrap().to_string();
                let row = (
                    hex::encode(&l.trace_id),
                    hex::encode(&l.span_id),
                    l.flags & 0xff,
                    get_str(&l.attributes, "span.name").map(str::to_string),
                    get_str(&resource, "service.name").map(str::to_string),
                    get_str(&resource, "k8s.pod.name").map(str::to_string),
                    get_str(&resource, "k8s.namespace.name").map(str::to_string),
                );
                assert!(got.insert(case.clone(), row).is_none(), "duplicate {case}");
            }
        }
    }
    let linked = |i: usize, span: &str, name: String, flags: u32| {
        (
            sent[i].0.clone(),
            span.to_string(),
            flags,
            Some(name),
            Some("checkout".to_string()),
            Some("checkout-7d9".to_string()),
            Some("shop".to_string()),
        )
    };
    let expected = BTreeMap::from([
        (
            "text".to_string(),
            linked(0, &sent[0].2, "child-0".into(), 0),
        ),
        (
            "traceparent_attr".to_string(),
            linked(1, &sent[1].1, "root-1".into(), 1),
        ),
        (
            "json".to_string(),
            linked(2, &sent[2].2, "child-2".into(), 0),
        ),
        ("map".to_string(), linked(3, &sent[3].1, "root-3".into(), 0)),
        (
            "text_traceparent".to_string(),
            linked(4, &sent[4].2, "child-4".into(), 0),
        ),
        (
            "unknown".to_string(),
            (
                unknown_trace.to_string(),
                "0000000000000001".to_string(),
                0,
                None,
                None,
                None,
                Some("shop".to_string()),
            ),
        ),
        (
            "none".to_string(),
            (
                String::new(),
                String::new(),
                0,
                None,
                None,
                None,
                Some("shop".to_string()),
            ),
        ),
    ]);
    assert_eq!(got, expected);
}

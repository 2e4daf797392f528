//! Black-box: the real `harrier` binary with otlp (HTTP) -> attributes -> resource ->
//! filter -> file, fed OTLP/HTTP protobuf; the file holds exactly the changed, filtered
//! data and the filter's drop counters are exported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use harrier_pdata::{Batch, Signal};
use harrier_testkit::data;

fn string(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn resources(batches: &[Batch]) -> Vec<Vec<KeyValue>> {
    batches
        .iter()
        .flat_map(|b| match b {
            Batch::Traces(rs) => rs
                .iter()
                .map(|r| r.resource.clone().unwrap_or_default().attributes)
                .collect(),
            Batch::Logs(rl) => rl
                .iter()
                .map(|r| r.resource.clone().unwrap_or_default().attributes)
                .collect(),
            Batch::Metrics(_) => Vec::new(),
        })
        .collect()
}

#[test]
fn attributes_resource_and_filter_in_one_pipeline() {
    let port = common::free_port();
    let mut harrier = common::start(&format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{port}"
        [processors.attributes]
        actions = [
            {{ key = "env", value = "test", action = "insert" }},
            {{ key = "i", converted_type = "string", action = "convert" }},
            {{ key = "copy", from_attribute = "i", action = "upsert" }},
        ]
        [processors.resource]
        attributes = [
            {{ key = "service.name", value = "renamed", action = "update" }},
            {{ key = "team", value = "core", action = "insert" }},
        ]
        [processors.filter]
        traces.span = {{ name_matches = "^span-[0-4]$" }}
        logs.log_record = {{ any = [{{ body_matches = "line [0-2]$" }}, {{ severity_below = "DEBUG" }}] }}
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["attributes", "resource", "filter"]
        exporters = ["file"]
        [service.pipelines.logs]
        receivers = ["otlp"]
        processors = ["attributes", "resource", "filter"]
        exporters = ["file"]
        "#
    ));
    assert_eq!(common::post_batch(port, &data::spans(0, 10)), 200);
    assert_eq!(common::post_batch(port, &data::logs(0, 10)), 200);
    // A request dropped whole is still answered with success.
    assert_eq!(common::post_batch(port, &data::spans(0, 3)), 200);
    let out = harrier.path("out.jsonl");
    let dropped = |metrics: &str, name: &str, pipeline: &str| {
        common::metric_value(
            metrics,
            &format!("{name}_total{{processor=\"filter\",pipeline=\"{pipeline}\"}}"),
        )
    };
    common::wait_for(
        20,
        "5 spans and 7 log records in the file, 11 drops counted",
        || {
            let metrics = harrier.metrics();
            common::file_items(&out, Signal::Traces) >= 5
                && common::file_items(&out, Signal::Logs) >= 7
                && dropped(&metrics, "harrier_processor_filter_dropped_spans", "traces") >= 8.0
                && dropped(
                    &metrics,
                    "harrier_processor_filter_dropped_log_records",
                    "logs",
                ) >= 3.0
        },
    );
    let metrics = harrier.metrics();
    let (status, _) = harrier.terminate();
    assert!(status.success());

    let traces = harrier_testkit::read_json_lines(&out, Signal::Traces).unwrap();
    let spans = data::all_spans(&traces);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["span-5", "span-6", "span-7", "span-8", "span-9"]
    );
    for (n, span) in (5..).zip(&spans) {
        let i = n.to_string();
        assert_eq!(
            span.attributes,
            vec![string("i", &i), string("env", "test"), string("copy", &i)]
        );
    }
    let logs = harrier_testkit::read_json_lines(&out, Signal::Logs).unwrap();
    let records = data::all_logs(&logs);
    let bodies: Vec<String> = records
        .iter()
        .map(|r| match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        (3..10).map(|i| format!("log line {i}")).collect::<Vec<_>>()
    );
    assert!(
        records
            .iter()
            .all(|r| r.attributes.contains(&string("env", "test")))
    );
    let want = vec![string("service.name", "renamed"), string("team", "core")];
    assert!(
        resources(&traces)
            .iter()
            .chain(&resources(&logs))
            .all(|r| *r == want)
    );

    assert_eq!(
        dropped(&metrics, "harrier_processor_filter_dropped_spans", "traces"),
        8.0
    );
    assert_eq!(
        dropped(
            &metrics,
            "harrier_processor_filter_dropped_log_records",
            "logs"
        ),
        3.0
    );
}

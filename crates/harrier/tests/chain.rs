//! Black-box: an agent -> gateway chain of two real `harrier` processes joined by the
//! `otlp` exporter, with the gateway down for a while (nothing lost, retries counted),
//! and a SIGTERM while data sits in the batch processor (flushed before exit).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_testkit::data;
use std::collections::BTreeSet;
use std::time::Duration;

fn span_names(path: &std::path::Path) -> Vec<String> {
    let batches = harrier_testkit::read_json_lines(path, Signal::Traces).unwrap();
    data::all_spans(&batches)
        .into_iter()
        .map(|s| s.name)
        .collect()
}

#[test]
fn agent_to_gateway_survives_gateway_outage() {
    let gateway_port = common::free_port();
    let agent_port = common::free_port();
    let mut agent = common::start(&format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{agent_port}"
        [processors.batch]
        timeout = "50ms"
        [exporters."otlp/gateway"]
        endpoint = "http://127.0.0.1:{gateway_port}"
        timeout = "2s"
        retry_on_failure = {{ initial_interval = "100ms", max_interval = "400ms", max_elapsed_time = "60s" }}
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["batch"]
        exporters = ["otlp/gateway"]
        "#
    ));
    for i in 0..10 {
        assert_eq!(
            common::post_batch(agent_port, &data::spans(i * 10, 10)),
            200
        );
    }
    common::wait_for(10, "the agent to retry", || {
        agent.metric("harrier_exporter_retries_total{exporter=\"otlp/gateway\"}") >= 2.0
    });
    // Keep the gateway down for a few seconds.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        agent.metric("otelcol_exporter_sent_spans_total{exporter=\"otlp/gateway\"}"),
        0.0
    );

    let mut gateway = common::start(&format!(
        r#"
        [receivers.otlp.grpc]
        endpoint = "127.0.0.1:{gateway_port}"
        [exporters.file]
        path = "{{dir}}/gateway.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.traces]
        receivers = ["otlp"]
        exporters = ["file"]
        "#
    ));
    let out = gateway.path("gateway.jsonl");
    common::wait_for(20, "100 spans at the gateway", || {
        common::file_items(&out, Signal::Traces) >= 100
    });
    assert_eq!(
        agent.metric("otelcol_exporter_sent_spans_total{exporter=\"otlp/gateway\"}"),
        100.0
    );
    assert_eq!(
        agent.metric("otelcol_exporter_send_failed_spans_total{exporter=\"otlp/gateway\"}"),
        0.0
    );
    assert_eq!(
        gateway
            .metric("otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"}"),
        100.0
    );
    let (status, _) = agent.terminate();
    assert!(status.success());
    let (status, _) = gateway.terminate();
    assert!(status.success());

    // Every span arrived exactly once and intact.
    let names = span_names(&out);
    assert_eq!(names.len(), 100);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), 100);
    let mut got = data::all_spans(&harrier_testkit::read_json_lines(&out, Signal::Traces).unwrap());
    got.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(got, data::all_spans(&[data::spans(0, 100)]));
}

#[test]
fn sigterm_flushes_data_held_in_flight() {
    let port = common::free_port();
    let mut harrier = common::start(&format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{port}"
        [processors.batch]
        timeout = "1h"
        send_batch_size = 1000000
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["batch"]
        exporters = ["file"]
        "#
    ));
    for i in 0..5 {
        assert_eq!(common::post_batch(port, &data::spans(i * 20, 20)), 200);
    }
    std::thread::sleep(Duration::from_millis(200));
    let out = harrier.path("out.jsonl");
    assert_eq!(
        common::file_items(&out, Signal::Traces),
        0,
        "the batch processor holds everything"
    );
    let (status, stderr) = harrier.terminate();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("clean=true"), "{stderr}");
    assert_eq!(
        span_names(&out),
        data::all_spans(&[data::spans(0, 100)])
            .into_iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
    );
}

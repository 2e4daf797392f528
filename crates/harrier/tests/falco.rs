//! Black-box: the real `harrier` binary with the `falco` receiver and the file exporter.
//! Falco alerts (as `http_output` and falcosidekick post them) and Tetragon export lines
//! are posted over HTTP; every event must come out once, as a runtime or flow record
//! with the attributes the anomaly processor reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::attrs::{get, get_str};
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::logs::v1::LogRecord;
use std::path::Path;
use std::time::Duration;

const FALCO: [&str; 4] = [
    include_str!("../../harrier-security/src/falco/testdata/falco_terminal_shell.json"),
    include_str!("../../harrier-security/src/falco/testdata/falco_write_below_etc.json"),
    include_str!("../../harrier-security/src/falco/testdata/falco_outbound_connection.json"),
    include_str!("../../harrier-security/src/falco/testdata/falcosidekick.json"),
];
const TETRAGON: &str = include_str!("../../harrier-security/src/falco/testdata/tetragon.jsonl");

fn config(port: u16) -> String {
    format!(
        r#"
        [receivers.falco]
        endpoint = "127.0.0.1:{port}"
        [processors.batch]
        timeout = "50ms"
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["falco"]
        processors = ["batch"]
        exporters = ["file"]
        "#
    )
}

/// Every record with its resource's `service.name`.
fn records(out: &Path) -> Vec<(String, LogRecord)> {
    let batches = harrier_testkit::read_json_lines(out, Signal::Logs).unwrap();
    let mut records = Vec::new();
    for batch in batches {
        let harrier_pdata::Batch::Logs(resource_logs) = batch else {
            unreachable!()
        };
        for rl in resource_logs {
            let service = get_str(&rl.resource.as_ref().unwrap().attributes, "service.name")
                .unwrap()
                .to_string();
            for scope in rl.scope_logs {
                for r in scope.log_records {
                    records.push((service.clone(), r));
                }
            }
        }
    }
    records
}

fn attr<'a>(r: &'a LogRecord, key: &str) -> Option<&'a str> {
    get_str(&r.attributes, key)
}

fn int(r: &LogRecord, key: &str) -> Option<i64> {
    match get(&r.attributes, key).and_then(|v| v.value.as_ref()) {
        Some(Value::IntValue(i)) => Some(*i),
        _ => None,
    }
}

#[test]
fn falco_alerts_and_tetragon_events_become_runtime_and_flow_records() {
    let port = common::free_port();
    let mut harrier = common::start(&config(port));
    let out = harrier.path("out.jsonl");
    for alert in FALCO {
        assert_eq!(
            common::post(port, "/", "application/json", alert.as_bytes()),
            200
        );
    }
    let array = format!("[{},{}]", FALCO[0].trim(), FALCO[2].trim());
    assert_eq!(
        common::post(port, "/", "application/json", array.as_bytes()),
        200
    );
    assert_eq!(
        common::post(
            port,
            "/tetragon",
            "application/x-ndjson",
            TETRAGON.as_bytes()
        ),
        200
    );
    // Not JSON, and a Tetragon body with a broken line: refused whole.
    assert_eq!(
        common::post(port, "/", "text/plain", b"09:12:44: Notice shell"),
        400
    );
    let broken = format!("{}{{\"process_exec\":\n", TETRAGON);
    assert_eq!(
        common::post(port, "/tetragon", "application/json", broken.as_bytes()),
        400
    );
    common::wait_for(10, "every record", || {
        common::file_items(&out, Signal::Logs) >= 10
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        harrier.metric(
            "otelcol_receiver_accepted_log_records_total{receiver=\"falco\",transport=\"http\"}"
        ),
        10.0
    );
    assert_eq!(
        harrier.metric(
            "harrier_receiver_malformed_requests_total{receiver=\"falco\",transport=\"http\"}"
        ),
        2.0
    );
    let (status, stderr) = harrier.terminate();
    assert!(status.success(), "{stderr}");

    let got = records(&out);
    assert_eq!(got.len(), 10, "each event exactly once");
    let falco: Vec<&LogRecord> = got
        .iter()
        .filter(|(s, _)| s == "falco")
        .map(|(_, r)| r)
        .collect();
    let tetragon: Vec<&LogRecord> = got
        .iter()
        .filter(|(s, _)| s == "tetragon")
        .map(|(_, r)| r)
        .collect();
    assert_eq!((falco.len(), tetragon.len()), (6, 4));

    for r in &falco {
        assert_eq!(attr(r, "event.domain"), Some("runtime"));
        assert!(attr(r, "process.executable.name").is_some());
        assert!(attr(r, "process.command_line").is_some());
        assert!(attr(r, "container.image.name").is_some());
        assert!(attr(r, "k8s.namespace.name").is_some());
        assert!(attr(r, "k8s.workload.name").is_some());
    }
    let shell = falco
        .iter()
        .find(|r| attr(r, "falco.rule") == Some("Terminal shell in container"))
        .unwrap();
    assert_eq!(shell.severity_number, 10);
    assert_eq!(shell.severity_text, "Notice");
    assert_eq!(
        attr(shell, "k8s.pod.name"),
        Some("checkout-5d9c7b8f4-x2x8k")
    );
    assert_eq!(attr(shell, "k8s.workload.name"), Some("checkout"));
    assert_eq!(
        attr(shell, "container.image.name"),
        Some("docker.io/library/nginx")
    );
    let etc = falco
        .iter()
        .find(|r| attr(r, "falco.rule") == Some("Write below etc"))
        .unwrap();
    assert_eq!(etc.severity_number, 17);
    assert_eq!(
        attr(etc, "falco.output_fields.fd.name"),
        Some("/etc/passwd")
    );
    let c2 = falco
        .iter()
        .find(|r| attr(r, "falco.rule") == Some("Outbound Connection to C2 Servers"))
        .unwrap();
    assert_eq!(attr(c2, "destination.address"), Some("203.0.113.50"));
    assert_eq!(int(c2, "destination.port"), Some(4444));
    let sidekick = falco
        .iter()
        .find(|r| attr(r, "falco.uuid").is_some())
        .unwrap();
    assert_eq!(attr(sidekick, "k8s.workload.name"), Some("postgres"));

    let flows: Vec<&&LogRecord> = tetragon
        .iter()
        .filter(|r| attr(r, "event.domain") == Some("network.flow"))
        .collect();
    assert_eq!(flows.len(), 1);
    let flow = flows[0];
    assert_eq!(attr(flow, "source.address"), Some("10.0.3.17"));
    assert_eq!(int(flow, "source.port"), Some(43122));
    assert_eq!(attr(flow, "destination.address"), Some("203.0.113.50"));
    assert_eq!(int(flow, "destination.port"), Some(443));
    assert_eq!(attr(flow, "network.transport"), Some("tcp"));
    assert_eq!(attr(flow, "source.k8s.namespace.name"), Some("payments"));
    assert_eq!(attr(flow, "source.k8s.workload.name"), Some("payments-api"));
    let exec = tetragon
        .iter()
        .find(|r| attr(r, "tetragon.event") == Some("process_exec"))
        .unwrap();
    assert_eq!(attr(exec, "event.domain"), Some("runtime"));
    assert_eq!(attr(exec, "process.executable.name"), Some("curl"));
    assert_eq!(attr(exec, "k8s.workload.name"), Some("payments-api"));
    assert_eq!(
        attr(exec, "container.image.name"),
        Some("ghcr.io/acme/payments")
    );
}

//! Black-box: the real `harrier` binary with the `k8s_audit` receiver and the file
//! exporter. Audit `EventList`s are posted to the webhook and audit log lines are
//! written to a file that is rotated mid-way; every kept event must come out once with
//! its attributes, and after a restart only lines appended since are read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::attrs::get_str;
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::logs::v1::LogRecord;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const FIXTURES: [&str; 8] = [
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/reads.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/write.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/forbidden.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/exec.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/impersonation.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/anonymous.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/panic.json"),
    include_str!("../../harrier-receivers/src/k8s_audit/testdata/nonresource.json"),
];

/// Every fixture event, in order.
fn events() -> Vec<serde_json::Value> {
    FIXTURES
        .iter()
        .flat_map(|text| {
            let list: serde_json::Value = serde_json::from_str(text).unwrap();
            list["items"].as_array().unwrap().clone()
        })
        .collect()
}

fn kept(event: &serde_json::Value) -> bool {
    event["stage"] == "ResponseComplete" || event["stage"] == "Panic"
}

/// The event as one audit log line (the log backend writes `kind` and `apiVersion` on
/// every event, list items carry neither), its auditID prefixed so file records can be
/// told from webhook records.
fn log_line(event: &serde_json::Value, prefix: &str) -> String {
    let mut event = event.clone();
    event["kind"] = "Event".into();
    event["apiVersion"] = "audit.k8s.io/v1".into();
    event["auditID"] = format!("{prefix}{}", event["auditID"].as_str().unwrap()).into();
    serde_json::to_string(&event).unwrap() + "\n"
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn records(out: &Path) -> Vec<LogRecord> {
    let batches = harrier_testkit::read_json_lines(out, Signal::Logs).unwrap();
    for b in &batches {
        let harrier_pdata::Batch::Logs(rl) = b else {
            unreachable!()
        };
        for r in rl {
            let attrs = &r.resource.as_ref().unwrap().attributes;
            assert_eq!(get_str(attrs, "service.name"), Some("kube-apiserver"));
            assert_eq!(get_str(attrs, "k8s.cluster.name"), Some("blackbox"));
        }
    }
    harrier_testkit::data::all_logs(&batches)
}

fn id(r: &LogRecord) -> &str {
    get_str(&r.attributes, "k8s.audit.id").unwrap()
}

fn by_id<'a>(records: &'a [LogRecord], wanted: &str) -> &'a LogRecord {
    records.iter().find(|r| id(r) == wanted).unwrap()
}

fn config(port: u16) -> String {
    format!(
        r#"
        [receivers.k8s_audit]
        endpoint = "127.0.0.1:{port}"
        log_path = "{{dir}}/audit/audit.log"
        storage_dir = "{{dir}}/state"
        poll_interval = "50ms"
        cluster_name = "blackbox"
        [processors.batch]
        timeout = "50ms"
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["k8s_audit"]
        processors = ["batch"]
        exporters = ["file"]
        "#
    )
}

#[test]
fn webhook_and_rotated_log_file_survive_a_restart() {
    let port = common::free_port();
    let mut harrier = common::start(&config(port));
    let out = harrier.path("out.jsonl");
    let audit_dir = harrier.path("audit");
    std::fs::create_dir_all(&audit_dir).unwrap();
    let log = audit_dir.join("audit.log");

    for fixture in FIXTURES {
        assert_eq!(
            common::post(port, "/audit", "application/json", fixture.as_bytes()),
            200
        );
    }
    let events = events();
    let kept_ids: Vec<String> = events
        .iter()
        .filter(|e| kept(e))
        .map(|e| e["auditID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept_ids.len(), 10);

    // The log file: five lines, then three more just before a rotation, then the rest in
    // the new file.
    let lines: Vec<String> = events.iter().map(|e| log_line(e, "file-")).collect();
    append(&log, &lines[..5].concat());
    let kept_first = events[..5].iter().filter(|e| kept(e)).count();
    common::wait_for(10, "the first log lines", || {
        common::file_items(&out, Signal::Logs) >= 10 + kept_first
    });
    append(&log, &lines[5..8].concat());
    std::fs::rename(&log, audit_dir.join("audit-2024-06-11T09-30-00.000.log")).unwrap();
    append(&log, &lines[8..].concat());
    common::wait_for(10, "every record", || {
        common::file_items(&out, Signal::Logs) >= 20
    });
    std::thread::sleep(Duration::from_millis(300));

    let got = records(&out);
    let got_ids: Vec<&str> = got.iter().map(id).collect();
    let mut expected: Vec<String> = kept_ids.clone();
    expected.extend(kept_ids.iter().map(|i| format!("file-{i}")));
    assert_eq!(
        got_ids.iter().copied().collect::<BTreeSet<_>>(),
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    assert_eq!(got_ids.len(), 20, "each kept event exactly once");
    for r in &got {
        assert_eq!(get_str(&r.attributes, "event.domain"), Some("k8s.audit"));
        let stage = get_str(&r.attributes, "k8s.audit.stage").unwrap();
        assert!(stage == "ResponseComplete" || stage == "Panic", "{stage}");
    }
    for prefix in ["", "file-"] {
        let forbidden = by_id(
            &got,
            &format!("{prefix}9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"),
        );
        assert_eq!(forbidden.severity_number, 13);
        assert_eq!(
            get_str(&forbidden.attributes, "k8s.audit.decision"),
            Some("forbid")
        );
        assert_eq!(
            get_str(&forbidden.attributes, "user.name"),
            Some("dev-intern")
        );
        let code = harrier_pdata::attrs::get(&forbidden.attributes, "http.response.status_code");
        assert_eq!(
            code.and_then(|v| v.value.clone()),
            Some(Value::IntValue(403))
        );
        let write = by_id(
            &got,
            &format!("{prefix}e7c1a9d3-0f2b-4c5d-9e8f-a1b2c3d4e5f6"),
        );
        let object = harrier_pdata::attrs::get(&write.attributes, "k8s.audit.request_object");
        assert!(
            matches!(
                object.and_then(|v| v.value.as_ref()),
                Some(Value::KvlistValue(_))
            ),
            "{object:?}"
        );
        let impersonation = by_id(
            &got,
            &format!("{prefix}2e4f6a8c-0b1d-4f3e-9a7c-5b3d1f9e7c5a"),
        );
        assert_eq!(
            get_str(&impersonation.attributes, "k8s.audit.impersonated_user"),
            Some("system:serviceaccount:shop:checkout")
        );
        let panic = by_id(
            &got,
            &format!("{prefix}c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"),
        );
        assert_eq!(panic.severity_text, "ERROR");
        let healthz = by_id(
            &got,
            &format!("{prefix}f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"),
        );
        assert_eq!(get_str(&healthz.attributes, "url.path"), Some("/healthz"));
    }
    assert_eq!(
        harrier.metric(
            "otelcol_receiver_accepted_log_records_total{receiver=\"k8s_audit\",transport=\"http\"}"
        ),
        10.0
    );
    assert_eq!(
        harrier.metric(
            "otelcol_receiver_accepted_log_records_total{receiver=\"k8s_audit\",transport=\"file\"}"
        ),
        10.0
    );
    let (status, stderr) = harrier.terminate();
    assert!(status.success(), "{stderr}");

    // Restart on the same directory: only lines appended since are read.
    let dir = std::mem::replace(&mut harrier.dir, tempfile::tempdir().unwrap());
    drop(harrier);
    let mut harrier = common::start_in(&config(port), dir);
    let new_lines: String = events
        .iter()
        .filter(|e| kept(e))
        .take(3)
        .map(|e| log_line(e, "restart-"))
        .collect();
    append(&log, &new_lines);
    common::wait_for(10, "the lines appended after the restart", || {
        common::file_items(&out, Signal::Logs) >= 23
    });
    std::thread::sleep(Duration::from_millis(300));
    let (status, stderr) = harrier.terminate();
    assert!(status.success(), "{stderr}");
    let got = records(&out);
    assert_eq!(got.len(), 23, "nothing read twice");
    let restarted: Vec<&str> = got[20..].iter().map(id).collect();
    assert_eq!(
        restarted,
        kept_ids[..3]
            .iter()
            .map(|i| format!("restart-{i}"))
            .collect::<Vec<_>>()
    );
}

//! In-process tests: the receiver in a real topology with the testkit `probe` exporter,
//! over a real webhook socket and real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::test_support::fixture;
use harrier_core::component::Registry;
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::{RunningTopology, Topology};
use harrier_pdata::attrs::get_str;
use harrier_pdata::otlp::logs::v1::LogRecord;
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const FIXTURES: [&str; 8] = [
    "reads",
    "write",
    "forbidden",
    "exec",
    "impersonation",
    "anonymous",
    "panic",
    "nonresource",
];

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/k8s_audit/testdata")
        .join(format!("{name}.json"));
    std::fs::read(path).unwrap()
}

/// An audit log line (as the log backend writes it) for a minimal event.
fn line(id: &str, stage: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"{stage}","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{{"username":"alice"}},"sourceIPs":["10.0.0.1"],"objectRef":{{"resource":"pods","namespace":"default","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2024-06-11T09:00:00.000001Z","stageTimestamp":"2024-06-11T09:00:00.000002Z"}}"#
    ) + "\n"
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

struct Harness {
    probe: Arc<Probe>,
    running: Option<RunningTopology>,
    telemetry: Telemetry,
    port: u16,
}

/// Starts `k8s_audit` with `receiver` settings (`{port}` is filled in) feeding a logs
/// pipeline with `processors`.
async fn start(receiver: &str, processors: &str) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let probe = Probe::new();
    let port = harrier_testkit::free_port();
    let receiver = receiver.replace("{port}", &port.to_string());
    let text = format!(
        r#"
        [receivers.k8s_audit]
        cluster_name = "prod-eu-1"
        max_request_body_size = "256KiB"
        poll_interval = "20ms"
        {receiver}
        [processors.memory_limiter]
        limit_mib = 1
        spike_limit_mib = 0
        [exporters.probe]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["k8s_audit"]
        processors = [{processors}]
        exporters = ["probe"]
        "#
    );
    let config = Config::from_toml(&text).unwrap();
    let telemetry = Telemetry::new();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    harrier_processors::register_all(&mut registry);
    register_probe(&mut registry, &probe);
    let topology = Topology::build(&config, &registry, &telemetry).unwrap();
    let running = topology.start().await.unwrap();
    Harness {
        probe,
        running: Some(running),
        telemetry,
        port,
    }
}

fn file_mode(dir: &Path) -> String {
    format!(
        "log_path = '{}'\nstorage_dir = '{}'\n",
        dir.join("audit.log").display(),
        dir.join("state").display()
    )
}

impl Harness {
    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}{path}", self.port))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }
    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
    fn records(&self) -> Vec<LogRecord> {
        data::all_logs(&self.probe.batches())
    }
    fn ids(&self) -> Vec<String> {
        self.records()
            .iter()
            .map(|r| get_str(&r.attributes, "k8s.audit.id").unwrap().to_string())
            .collect()
    }
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.telemetry.counter_value(name, labels).unwrap_or(0)
    }
    async fn wait_for_items(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.probe.items() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out: {} of {n} records arrived",
                self.probe.items()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn ids(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

fn lines(prefix: &str, range: std::ops::Range<usize>) -> String {
    range
        .map(|i| line(&format!("{prefix}-{i}"), "ResponseComplete"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_accepts_event_lists() {
    let mut h = start("endpoint = \"127.0.0.1:{port}\"", "").await;
    for name in FIXTURES {
        let r = h
            .post("/audit", "application/json", fixture_bytes(name))
            .await;
        assert_eq!(r.status(), 200, "{name}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "Success");
    }
    h.stop().await;
    let expected: Vec<String> = FIXTURES
        .iter()
        .flat_map(|f| fixture(f))
        .filter(|e| e.stage == "ResponseComplete" || e.stage == "Panic")
        .map(|e| e.audit_id)
        .collect();
    assert_eq!(expected.len(), 10);
    assert_eq!(h.ids(), expected);
    // One ResourceLogs per request, tagged with the cluster.
    let batches = h.probe.batches();
    for b in &batches {
        let harrier_pdata::Batch::Logs(rl) = b else {
            panic!()
        };
        for r in rl {
            let attrs = &r.resource.as_ref().unwrap().attributes;
            assert_eq!(get_str(attrs, "service.name"), Some("kube-apiserver"));
            assert_eq!(get_str(attrs, "k8s.cluster.name"), Some("prod-eu-1"));
        }
    }
    let receiver = [("receiver", "k8s_audit"), ("transport", "http")];
    assert_eq!(
        h.counter("otelcol_receiver_accepted_log_records", &receiver),
        10
    );
    assert_eq!(h.counter("harrier_k8s_audit_filtered_events", &receiver), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_refusal_is_503_with_retry_after() {
    let mut h = start("endpoint = \"127.0.0.1:{port}\"", "\"memory_limiter\"").await;
    let r = h
        .post("/audit", "application/json", fixture_bytes("reads"))
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 503);
    assert_eq!(body["reason"], "ServiceUnavailable");
    assert_eq!(body["details"]["retryAfterSeconds"], 1);
    assert!(
        body["message"].as_str().unwrap().contains("memory"),
        "{body}"
    );
    h.stop().await;
    assert_eq!(h.probe.items(), 0);
    let receiver = [("receiver", "k8s_audit"), ("transport", "http")];
    assert_eq!(
        h.counter("otelcol_receiver_refused_log_records", &receiver),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_rejects_bad_requests_and_keeps_serving() {
    let mut h = start("endpoint = \"127.0.0.1:{port}\"\npath = \"/k8s/audit\"", "").await;
    let json = "application/json";
    let bad = [
        ("{not json".as_bytes().to_vec(), 400, "invalid JSON"),
        (
            br#"{"kind":"PodList","apiVersion":"v1","items":[]}"#.to_vec(),
            400,
            "PodList",
        ),
        (
            br#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1"}"#.to_vec(),
            400,
            "no items",
        ),
        (vec![b' '; 300 << 10], 413, "exceeds"),
    ];
    for (body, code, message) in bad {
        let r = h.post("/k8s/audit", json, body).await;
        assert_eq!(r.status(), code);
        let status: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], code);
        assert!(
            status["message"].as_str().unwrap().contains(message),
            "{status}"
        );
    }
    let r = h
        .post("/k8s/audit", "application/x-protobuf", b"x".to_vec())
        .await;
    assert_eq!(r.status(), 415);
    assert_eq!(
        h.post("/audit", json, fixture_bytes("reads"))
            .await
            .status(),
        404
    );
    let r = reqwest::get(format!("http://127.0.0.1:{}/k8s/audit", h.port))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    // Events missing a required field are refused one by one; the rest is accepted.
    let mut list: serde_json::Value = serde_json::from_slice(&fixture_bytes("reads")).unwrap();
    list["items"][2]["auditID"] = "".into();
    let r = h
        .post("/k8s/audit", json, serde_json::to_vec(&list).unwrap())
        .await;
    assert_eq!(r.status(), 200);
    let status: serde_json::Value = r.json().await.unwrap();
    assert!(
        status["message"].as_str().unwrap().contains("auditID"),
        "{status}"
    );
    // Still serving.
    let r = h.post("/k8s/audit", json, fixture_bytes("panic")).await;
    assert_eq!(r.status(), 200);
    h.stop().await;
    assert_eq!(
        h.ids(),
        [
            "4d2f0b6e-8a7c-4f47-9e0b-2f1c3a5d7e91",
            "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
        ]
    );
    let receiver = [("receiver", "k8s_audit"), ("transport", "http")];
    assert_eq!(
        h.counter("harrier_receiver_malformed_requests", &receiver),
        5
    );
    assert_eq!(
        h.counter("otelcol_receiver_refused_log_records", &receiver),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mode_reads_appended_lines_and_skips_malformed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut h = start(&file_mode(dir.path()), "").await;
    append(&log, &lines("a", 0..3));
    h.wait_for_items(3).await;
    append(&log, "{not json}\n");
    append(&log, &line("dropped", "RequestReceived"));
    append(
        &log,
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"Panic"}"#,
    );
    append(&log, "\n");
    append(&log, &lines("a", 3..5));
    h.wait_for_items(5).await;
    h.stop().await;
    assert_eq!(h.ids(), ids("a", 0..5));
    let file = [("receiver", "k8s_audit"), ("transport", "file")];
    assert_eq!(h.counter("otelcol_receiver_accepted_log_records", &file), 5);
    assert_eq!(h.counter("otelcol_receiver_refused_log_records", &file), 1);
    assert_eq!(h.counter("harrier_k8s_audit_filtered_events", &file), 1);
    assert_eq!(
        h.counter(
            "harrier_k8s_audit_malformed_lines",
            &[("receiver", "k8s_audit")]
        ),
        1
    );
    let stored = std::fs::read_to_string(dir.path().join("state/k8s_audit.offset.json")).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["offset"], std::fs::metadata(&log).unwrap().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mode_follows_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut h = start(&file_mode(dir.path()), "").await;
    append(&log, &lines("r", 0..2));
    h.wait_for_items(2).await;
    // Lines land just before the rename, and the new file fills at once.
    append(&log, &lines("r", 2..4));
    std::fs::rename(&log, dir.path().join("audit-2024-06-11T09-30-00.000.log")).unwrap();
    append(&log, &lines("r", 4..6));
    h.wait_for_items(6).await;
    append(&log, &lines("r", 6..7));
    h.wait_for_items(7).await;
    h.stop().await;
    assert_eq!(h.ids(), ids("r", 0..7));
    assert_eq!(
        h.counter(
            "harrier_k8s_audit_file_rotations",
            &[("receiver", "k8s_audit")]
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mode_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut h = start(&file_mode(dir.path()), "").await;
    append(&log, &lines("s", 0..3));
    h.wait_for_items(3).await;
    h.stop().await;
    // Written while stopped, some before and some after a rotation.
    append(&log, &lines("s", 3..5));
    std::fs::rename(&log, dir.path().join("audit-old.log")).unwrap();
    append(&log, &lines("s", 5..6));
    let mut h2 = start(&file_mode(dir.path()), "").await;
    append(&log, &lines("s", 6..8));
    h2.wait_for_items(5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    h2.stop().await;
    assert_eq!(h.ids(), ids("s", 0..3));
    assert_eq!(h2.ids(), ids("s", 3..8), "nothing read twice or skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mode_reads_a_partial_line_once_complete() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut h = start(&file_mode(dir.path()), "").await;
    let full = line("p-0", "ResponseComplete");
    let (head, tail) = full.split_at(full.len() / 2);
    append(&log, head);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.probe.items(), 0, "an unfinished line is not read");
    append(&log, tail);
    h.wait_for_items(1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.stop().await;
    assert_eq!(h.ids(), ["p-0"]);
    assert_eq!(
        h.counter(
            "harrier_k8s_audit_malformed_lines",
            &[("receiver", "k8s_audit")]
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_mode_keeps_its_offset_while_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = start(&file_mode(dir.path()), "\"memory_limiter\"").await;
    append(&dir.path().join("audit.log"), &lines("m", 0..2));
    let refused = [("receiver", "k8s_audit"), ("transport", "file")];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.counter("otelcol_receiver_refused_log_records", &refused) < 4 {
        assert!(tokio::time::Instant::now() < deadline, "never retried");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.stop().await;
    assert_eq!(h.probe.items(), 0);
    let stored: PathBuf = dir.path().join("state/k8s_audit.offset.json");
    let offset = std::fs::read_to_string(&stored)
        .map(|s| serde_json::from_str::<serde_json::Value>(&s).unwrap()["offset"].clone());
    assert!(
        offset.is_err() || offset.as_ref().unwrap() == 0,
        "the offset did not move: {offset:?}"
    );
}

//! In-process tests: the receiver in a real topology with the testkit `probe` exporter,
//! over a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::test_support::{OUTBOUND, SIDEKICK, TERMINAL_SHELL, TETRAGON, WRITE_BELOW_ETC, s};
use harrier_core::component::Registry;
use harrier_core::config::Config;
use harrier_core::telemetry::Telemetry;
use harrier_core::topology::{RunningTopology, Topology};
use harrier_pdata::attrs::get_str;
use harrier_pdata::otlp::logs::v1::LogRecord;
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RECEIVER: [(&str, &str); 2] = [("receiver", "falco"), ("transport", "http")];

struct Harness {
    probe: Arc<Probe>,
    running: Option<RunningTopology>,
    telemetry: Telemetry,
    port: u16,
}

/// An answer: status, raw headers, JSON body.
struct Answer {
    status: u16,
    headers: String,
    json: serde_json::Value,
}

/// Starts `falco` with `receiver` settings feeding a logs pipeline with `processors`.
async fn start(receiver: &str, processors: &str) -> Harness {
    let probe = Probe::new();
    let port = harrier_testkit::free_port();
    let text = format!(
        r#"
        [receivers.falco]
        endpoint = "127.0.0.1:{port}"
        max_request_body_size = "64KiB"
        {receiver}
        [processors.memory_limiter]
        limit_mib = 1
        spike_limit_mib = 0
        [exporters.probe]
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.logs]
        receivers = ["falco"]
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

impl Harness {
    /// One HTTP/1.1 request on its own connection (the body is read to the end).
    async fn request(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) before reading everything.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let raw = String::from_utf8_lossy(&raw).to_string();
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = headers
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Answer {
            status,
            headers: headers.to_ascii_lowercase(),
            json: serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        }
    }

    async fn post(&self, path: &str, body: &str) -> Answer {
        self.request("POST", path, "application/json", body.as_bytes())
            .await
    }

    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    fn records(&self) -> Vec<LogRecord> {
        data::all_logs(&self.probe.batches())
    }

    fn counter(&self, name: &str) -> u64 {
        self.telemetry.counter_value(name, &RECEIVER).unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_falco_alerts_and_tetragon_lines() {
    let mut h = start("", "").await;
    for alert in [TERMINAL_SHELL, WRITE_BELOW_ETC, OUTBOUND, SIDEKICK] {
        let a = h.post("/", alert).await;
        assert_eq!(a.status, 200, "{}", a.json);
        assert_eq!(a.json["accepted"], 1);
        assert_eq!(a.json["rejected"], 0);
    }
    let array = format!("[{},{}]", TERMINAL_SHELL.trim(), OUTBOUND.trim());
    let a = h.post("/", &array).await;
    assert_eq!((a.status, a.json["accepted"].as_u64()), (200, Some(2)));
    let a = h
        .request(
            "POST",
            "/tetragon",
            "application/x-ndjson",
            TETRAGON.as_bytes(),
        )
        .await;
    assert_eq!((a.status, a.json["accepted"].as_u64()), (200, Some(4)));
    h.stop().await;

    // Exports may complete out of order: group the records by producer.
    let mut by_service: BTreeMap<String, Vec<LogRecord>> = BTreeMap::new();
    let mut batches = 0;
    for batch in h.probe.batches() {
        let harrier_pdata::Batch::Logs(resource_logs) = batch else {
            panic!("not logs")
        };
        for rl in resource_logs {
            batches += 1;
            let attrs = &rl.resource.as_ref().unwrap().attributes;
            let service = get_str(attrs, "service.name").unwrap().to_string();
            let records = rl.scope_logs.into_iter().flat_map(|s| s.log_records);
            by_service.entry(service).or_default().extend(records);
        }
    }
    assert_eq!(batches, 6, "one ResourceLogs per request");
    let mut rules: Vec<&str> = by_service["falco"]
        .iter()
        .map(|r| s(r, "falco.rule"))
        .collect();
    rules.sort_unstable();
    assert_eq!(
        rules,
        [
            "Outbound Connection to C2 Servers",
            "Outbound Connection to C2 Servers",
            "Read sensitive file untrusted",
            "Terminal shell in container",
            "Terminal shell in container",
            "Write below etc",
        ]
    );
    let domains: Vec<&str> = by_service["tetragon"]
        .iter()
        .map(|r| s(r, "event.domain"))
        .collect();
    assert_eq!(domains, ["runtime", "network.flow", "runtime", "runtime"]);
    assert_eq!(by_service.len(), 2);
    assert_eq!(h.records().len(), 10);
    assert_eq!(h.counter("otelcol_receiver_accepted_log_records"), 10);
    assert_eq!(h.counter("otelcol_receiver_refused_log_records"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_bad_requests_and_keeps_serving() {
    let mut h = start(
        "path = \"/falco\"\ntetragon_path = \"/tetragon/events\"",
        "",
    )
    .await;
    // One alert of two lacks its rule: the other is accepted.
    let mut no_rule: serde_json::Value = serde_json::from_str(WRITE_BELOW_ETC).unwrap();
    no_rule.as_object_mut().unwrap().remove("rule");
    let mixed = format!("[{},{no_rule}]", TERMINAL_SHELL.trim());
    let a = h.post("/falco", &mixed).await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        (a.json["accepted"].as_u64(), a.json["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(a.json["message"], "1 alert(s) rejected: missing rule");
    // Nothing usable: 400.
    let a = h.post("/falco", &no_rule.to_string()).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json["message"], "1 alert(s) rejected: missing rule");
    // A Tetragon line with no known event is refused; the others are accepted.
    let tetragon = format!("{{\"process_loader\":{{}}}}\n{TETRAGON}");
    let a = h.post("/tetragon/events", &tetragon).await;
    assert_eq!((a.status, a.json["accepted"].as_u64()), (200, Some(4)));
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("no known event")
    );

    let lines: Vec<&str> = TETRAGON.lines().collect();
    let broken = format!("{}\n{{\"process_exec\": {{\n{}\n", lines[0], lines[3]);
    let too_big = vec![b' '; 80 << 10];
    for (path, body, status, message) in [
        (
            "/falco",
            "09:12:44: Notice shell".as_bytes(),
            400,
            "not a Falco alert: invalid number at line 1",
        ),
        ("/falco", &b""[..], 400, "empty"),
        (
            "/tetragon/events",
            broken.as_bytes(),
            400,
            "line 2: not JSON",
        ),
        (
            "/tetragon/events",
            too_big.as_slice(),
            413,
            "exceeds the limit of 65536 bytes",
        ),
    ] {
        let a = h.request("POST", path, "application/json", body).await;
        assert_eq!(a.status, status, "{path}: {}", a.json);
        assert!(
            a.json["message"].as_str().unwrap().contains(message),
            "{path}: {}",
            a.json
        );
    }
    let a = h
        .request("POST", "/falco", "application/x-protobuf", b"x")
        .await;
    assert_eq!(a.status, 415);
    let a = h
        .request(
            "POST",
            "/falco",
            "application/json; charset=utf-8",
            TERMINAL_SHELL.as_bytes(),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(h.post("/", TERMINAL_SHELL).await.status, 404);
    let a = h.request("GET", "/falco", "application/json", b"").await;
    assert_eq!(a.status, 405);
    assert!(a.headers.contains("allow: post"), "{}", a.headers);
    h.stop().await;

    assert_eq!(h.records().len(), 1 + 4 + 1);
    assert_eq!(h.counter("otelcol_receiver_accepted_log_records"), 6);
    assert_eq!(h.counter("otelcol_receiver_refused_log_records"), 3);
    // 400 (nothing usable), 400 x3, 413, 415.
    assert_eq!(h.counter("harrier_receiver_malformed_requests"), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_is_503_with_retry_after() {
    let mut h = start("", "\"memory_limiter\"").await;
    let a = h.post("/tetragon", TETRAGON).await;
    assert_eq!(a.status, 503);
    assert!(a.headers.contains("retry-after: 1"), "{}", a.headers);
    assert!(
        a.json["message"].as_str().unwrap().contains("memory"),
        "{}",
        a.json
    );
    h.stop().await;
    assert_eq!(h.probe.items(), 0);
    assert_eq!(h.counter("otelcol_receiver_refused_log_records"), 4);
    assert_eq!(h.counter("otelcol_receiver_accepted_log_records"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_fails_start_up() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let text = format!(
        "[receivers.falco]\nendpoint = \"127.0.0.1:{port}\"\n[exporters.probe]\n[service.telemetry.metrics]\naddress = \"\"\n[service.pipelines.logs]\nreceivers = [\"falco\"]\nexporters = [\"probe\"]\n"
    );
    let probe = Probe::new();
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    register_probe(&mut registry, &probe);
    let telemetry = Telemetry::new();
    let topology =
        Topology::build(&Config::from_toml(&text).unwrap(), &registry, &telemetry).unwrap();
    let Err(error) = topology.start().await else {
        panic!("started on a port in use");
    };
    let error = error.to_string();
    assert!(
        error.contains("falco") && error.contains(&port.to_string()),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_slots_get_503() {
    let mut h = start(
        "max_concurrent_requests = 1\nbackpressure_wait = \"100ms\"",
        "",
    )
    .await;
    // A request whose body never completes holds the only slot.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", h.port))
        .await
        .unwrap();
    let head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    slow.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let a = h.post("/", TERMINAL_SHELL).await;
    assert_eq!(a.status, 503, "{}", a.json);
    assert!(a.headers.contains("retry-after: 1"), "{}", a.headers);
    assert_eq!(
        a.json["message"],
        "too many concurrent requests; retry later"
    );
    // Once the slot is free again, requests are served.
    drop(slow);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(h.post("/", TERMINAL_SHELL).await.status, 200);
    h.stop().await;
    assert_eq!(h.probe.items(), 1);
    assert_eq!(h.counter("harrier_receiver_refused_requests"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_are_decompressed_within_the_limit() {
    use std::io::Write as _;
    let gzip = |data: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    };
    let mut h = start("", "").await;
    // Falco's `http_output.compress_uploads` sends gzip.
    let a = h
        .request(
            "POST",
            "/",
            "application/json\r\nContent-Encoding: gzip",
            &gzip(TERMINAL_SHELL.as_bytes()),
        )
        .await;
    assert_eq!(
        (a.status, a.json["accepted"].as_u64()),
        (200, Some(1)),
        "{}",
        a.json
    );
    // A bomb: 1 MiB of spaces compresses to ~1 KiB but exceeds the 64 KiB limit.
    let a = h
        .request(
            "POST",
            "/",
            "application/json\r\nContent-Encoding: gzip",
            &gzip(&vec![b' '; 1 << 20]),
        )
        .await;
    assert_eq!(a.status, 413, "{}", a.json);
    let a = h
        .request(
            "POST",
            "/",
            "application/json\r\nContent-Encoding: br",
            b"x",
        )
        .await;
    assert_eq!(a.status, 415, "{}", a.json);
    h.stop().await;
    assert_eq!(h.records().len(), 1);
}

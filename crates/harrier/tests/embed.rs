//! The library facade: a collector started inside an existing tokio runtime, with an
//! application-registered exporter; graceful shutdown with a healthy and with a stuck
//! downstream (the deadline is honoured and the loss counted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_core::config::Config;
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};
use std::sync::Arc;
use std::time::Duration;

fn config(port: u16, health: u16, shutdown: &str) -> Config {
    Config::from_toml(&format!(
        r#"
        [extensions.health_check]
        endpoint = "127.0.0.1:{health}"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{port}"
        [processors.batch]
        timeout = "10ms"
        [exporters.probe]
        retry_on_failure = {{ initial_interval = "20ms", max_interval = "50ms" }}
        [service]
        extensions = ["health_check"]
        shutdown_timeout = "{shutdown}"
        [service.telemetry.metrics]
        address = ""
        [service.pipelines.traces]
        receivers = ["otlp"]
        processors = ["batch"]
        exporters = ["probe"]
        "#
    ))
    .unwrap()
}

async fn start(probe: &Arc<Probe>, shutdown: &str) -> (harrier::Collector, u16, u16) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = harrier_testkit::free_port();
    let health = harrier_testkit::free_port();
    let mut registry = harrier::registry();
    register_probe(&mut registry, probe);
    let collector = harrier::Collector::start_with(
        &config(port, health, shutdown),
        &registry,
        harrier::Telemetry::new(),
    )
    .await
    .unwrap();
    (collector, port, health)
}

async fn send(port: u16, start: u64, n: u64) -> u16 {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(data::spans(start, n).encode_request())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_collector_delivers_and_retries() {
    let probe = Probe::new();
    let (collector, port, health) = start(&probe, "10s").await;
    let status = reqwest::get(format!("http://127.0.0.1:{health}/"))
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    assert!(
        status
            .text()
            .await
            .unwrap()
            .contains("\"status\":\"ready\"")
    );
    assert_eq!(
        collector.health().get(),
        harrier_core::topology::Health::Ready
    );
    probe.fail_next(3);
    assert_eq!(send(port, 0, 25).await, 200);
    assert_eq!(send(port, 25, 25).await, 200);
    let telemetry = collector.telemetry().clone();
    let report = collector.shutdown().await;
    assert!(report.clean);
    assert_eq!(probe.items(), 50);
    assert_eq!(
        telemetry.counter_value("harrier_exporter_retries", &[("exporter", "probe")]),
        Some(3)
    );
    assert_eq!(
        telemetry.counter_value("otelcol_exporter_sent_spans", &[("exporter", "probe")]),
        Some(50)
    );
    let mut spans = data::all_spans(&probe.batches());
    spans.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(spans, data::all_spans(&[data::spans(0, 50)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_deadline_counts_what_could_not_be_delivered() {
    let probe = Probe::new();
    let (collector, port, health) = start(&probe, "300ms").await;
    probe.pause();
    for i in 0..4 {
        assert_eq!(send(port, i * 10, 10).await, 200);
    }
    // Let the batches reach the exporter queue.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let telemetry = collector.telemetry().clone();
    let started = std::time::Instant::now();
    let shutting_down = tokio::spawn(collector.shutdown());
    // While it drains, the health check says so (a readiness probe takes the pod out).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let status = reqwest::get(format!("http://127.0.0.1:{health}/"))
        .await
        .unwrap();
    assert_eq!(status.status(), 503);
    assert!(
        status
            .text()
            .await
            .unwrap()
            .contains("\"status\":\"stopping\"")
    );
    let report = shutting_down.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline was honoured"
    );
    assert!(!report.clean);
    let failed = telemetry
        .counter_value(
            "otelcol_exporter_send_failed_spans",
            &[("exporter", "probe")],
        )
        .unwrap();
    // Every accepted span is accounted for: none delivered, all counted as failed.
    assert_eq!(probe.items(), 0);
    assert_eq!(failed, 40);
    probe.resume();
}

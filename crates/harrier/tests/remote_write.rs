//! Black-box: the real `harrier` binary (OTLP/HTTP receiver -> `prometheus_remote_write`)
//! against a real Prometheus (`/usr/bin/prometheus`, Debian's 2.42, started with
//! `--web.enable-remote-write-receiver`). Metrics of every supported type are posted to
//! Harrier; Prometheus' query API must then return them with the expected names, labels
//! and values, and a `NO_RECORDED_VALUE` point must make a series stale.
//!
//! Without the binary the test is skipped loudly, unless `CI` is set: then it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric, number_data_point,
    summary_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where Debian installs Prometheus; `PROMETHEUS_BIN` overrides it.
const DEFAULT_PROMETHEUS: &str = "/usr/bin/prometheus";

/// A Prometheus server on a loopback port, killed when dropped.
struct PrometheusServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts `binary` with an empty scrape configuration and the remote-write receiver,
    /// and waits until it is ready.
    fn start(binary: &Path) -> PrometheusServer {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "scrape_configs: []\n").unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = PrometheusServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("prometheus exited with {status}:\n{}", server.log());
            }
            if common::http_get(port, "/-/ready").is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Prometheus binary, or `None` when the test may be skipped.
fn prometheus_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PROMETHEUS_BIN")
        .map_or_else(|| PathBuf::from(DEFAULT_PROMETHEUS), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing and CI is set: the remote-write test must run in CI",
        path.display()
    );
    eprintln!(
        "\n!!!!!!!!\n!!! SKIPPED remote_write black-box test: {} not found \
         (apt install prometheus, or set PROMETHEUS_BIN)\n!!!!!!!!\n",
        path.display()
    );
    None
}

/// Percent-encodes a query parameter (everything but RFC 3986 unreserved characters).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One instant-vector result: labels (with `__name__`) and value.
type Sample = (BTreeMap<String, String>, f64);

/// Runs an instant query against Prometheus' HTTP API.
fn query(runtime: &tokio::runtime::Runtime, port: u16, expr: &str) -> Vec<Sample> {
    let url = format!(
        "http://127.0.0.1:{port}/api/v1/query?query={}",
        url_encode(expr)
    );
    let body: serde_json::Value = runtime.block_on(async {
        let response = reqwest::get(&url).await.unwrap();
        assert!(
            response.status().is_success(),
            "{expr}: {}",
            response.status()
        );
        response.json().await.unwrap()
    });
    assert_eq!(body["status"], "success", "{body}");
    body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let labels = item["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let value = item["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

fn attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;

/// A gauge, a counter, a histogram and a summary at `time` (ns); `stale_gauge` flags the
/// gauge's point `NO_RECORDED_VALUE`.
fn batch(time: u64, stale_gauge: bool) -> Batch {
    let gauge = Metric {
        name: "queue.depth".into(),
        unit: "1".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsInt(42)),
                attributes: vec![attr("queue", "orders")],
                flags: u32::from(stale_gauge),
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let counter = Metric {
        name: "http.server.requests".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsDouble(17.0)),
                attributes: vec![attr("method", "GET")],
                ..Default::default()
            }],
            aggregation_temporality: CUMULATIVE,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    let histogram = Metric {
        name: "request.latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: time,
                count: 10,
                sum: Some(420.0),
                bucket_counts: vec![3, 5, 2],
                explicit_bounds: vec![10.0, 100.0],
                ..Default::default()
            }],
            aggregation_temporality: CUMULATIVE,
        })),
        ..Default::default()
    };
    let summary = Metric {
        name: "rpc.duration".into(),
        unit: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: time,
                count: 30,
                sum: 9.0,
                quantile_values: vec![summary_data_point::ValueAtQuantile {
                    quantile: 0.99,
                    value: 0.75,
                }],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    Batch::Metrics(vec![ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![
                attr("service.name", "api"),
                attr("service.namespace", "shop"),
                attr("service.instance.id", "pod-7"),
                attr("host.name", "node-1"),
            ],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "blackbox".into(),
                version: "2.0".into(),
                ..Default::default()
            }),
            metrics: vec![gauge, counter, histogram, summary],
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }])
}

/// The one result of `expr`, waited for.
fn single(runtime: &tokio::runtime::Runtime, port: u16, expr: &str) -> Sample {
    let mut results = Vec::new();
    common::wait_for(10, expr, || {
        results = query(runtime, port, expr);
        !results.is_empty()
    });
    assert_eq!(results.len(), 1, "{expr}: {results:?}");
    results.remove(0)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn prometheus_stores_what_harrier_writes() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let prometheus = PrometheusServer::start(&binary);
    let otlp_port = common::free_port();
    let harrier = common::start(&format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{otlp_port}"
        [exporters.prometheus_remote_write]
        endpoint = "http://127.0.0.1:{prom}/api/v1/write"
        external_labels = {{ cluster = "blackbox" }}
        retry_on_failure = {{ initial_interval = "100ms", max_interval = "500ms" }}
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.metrics]
        receivers = ["otlp"]
        exporters = ["prometheus_remote_write"]
        "#,
        prom = prometheus.port
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = now_nanos();
    assert_eq!(common::post_batch(otlp_port, &batch(first, false)), 200);

    let port = prometheus.port;
    let common_labels = [
        ("cluster", "blackbox"),
        ("instance", "pod-7"),
        ("job", "shop/api"),
        ("otel_scope_name", "blackbox"),
        ("otel_scope_version", "2.0"),
    ];
    let with = |name: &str, extra: &[(&str, &str)]| {
        let mut all = labels(&common_labels);
        all.insert("__name__".into(), name.into());
        all.extend(labels(extra));
        all
    };

    let gauge = single(&runtime, port, "queue_depth_ratio");
    assert_eq!(
        gauge,
        (with("queue_depth_ratio", &[("queue", "orders")]), 42.0)
    );

    let counter = single(&runtime, port, "http_server_requests_total");
    assert_eq!(
        counter,
        (
            with("http_server_requests_total", &[("method", "GET")]),
            17.0
        )
    );

    let bucket = single(
        &runtime,
        port,
        r#"request_latency_milliseconds_bucket{le="100"}"#,
    );
    assert_eq!(
        bucket,
        (
            with("request_latency_milliseconds_bucket", &[("le", "100")]),
            8.0
        )
    );
    let inf = single(
        &runtime,
        port,
        r#"request_latency_milliseconds_bucket{le="+Inf"}"#,
    );
    assert_eq!(inf.1, 10.0);
    assert_eq!(
        single(&runtime, port, "request_latency_milliseconds_sum").1,
        420.0
    );
    assert_eq!(
        single(&runtime, port, "request_latency_milliseconds_count").1,
        10.0
    );

    let quantile = single(&runtime, port, r#"rpc_duration_seconds{quantile="0.99"}"#);
    assert_eq!(
        quantile,
        (with("rpc_duration_seconds", &[("quantile", "0.99")]), 0.75)
    );

    let target_info = single(&runtime, port, "target_info");
    assert_eq!(
        target_info,
        (
            labels(&[
                ("__name__", "target_info"),
                ("cluster", "blackbox"),
                ("host_name", "node-1"),
                ("instance", "pod-7"),
                ("job", "shop/api"),
            ]),
            1.0
        )
    );

    // A NO_RECORDED_VALUE point is the staleness marker: the gauge disappears from
    // instant queries, the counter (a normal point) stays.
    let later = now_nanos().max(first + 1_000_000);
    assert_eq!(common::post_batch(otlp_port, &batch(later, true)), 200);
    common::wait_for(10, "the gauge to turn stale", || {
        query(&runtime, port, "queue_depth_ratio").is_empty()
    });
    assert_eq!(single(&runtime, port, "http_server_requests_total").1, 17.0);

    let sent = harrier
        .metric("otelcol_exporter_sent_metric_points_total{exporter=\"prometheus_remote_write\"}");
    assert!(sent >= 8.0, "{}", harrier.metrics());
    drop(harrier);
    drop(prometheus);
}

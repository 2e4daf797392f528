//! The `prometheus` receiver and exporter against real peers from Debian and PyPI,
//! all on loopback with ephemeral ports:
//! - Harrier scrapes `prometheus-node-exporter` and a Python `prometheus_client` app
//!   exposing every metric type (OpenMetrics, with `_created`);
//! - a real `prometheus` scrapes Harrier's `prometheus` exporter and is queried back.
//!
//! `scripts/test.sh` installs the peers; outside CI a missing one skips the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Peer, file_items, peer_binary, prometheus_query, spawn_peer, start, wait_for};
use harrier_pdata::attrs::{get_str, string_kv};
use harrier_pdata::otlp::common::v1::{KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::{Batch, Signal};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// The Python target: one registry with every metric type and fixed values.
const APP: &str = r#"
import sys, time
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, Info, Enum, start_http_server
reg = CollectorRegistry()
c = Counter("app_requests", "Requests served.", ["method"], registry=reg)
c.labels(method="get").inc(3)
c.labels(method="post").inc(1.5)
g = Gauge("app_temperature_celsius", "Temperature.", registry=reg)
g.set(42.5)
h = Histogram("app_latency_seconds", "Latency.", buckets=(0.1, 1, 10), registry=reg)
for v in (0.05, 0.5, 5, 50):
    h.observe(v)
s = Summary("app_payload_bytes", "Payload sizes.", registry=reg)
for v in (1, 2, 3):
    s.observe(v)
i = Info("app_build", "Build information.", registry=reg)
i.info({"version": "1.2.3", "quote": 'say "hi"\n'})
e = Enum("app_state", "State.", states=["starting", "running"], registry=reg)
e.state("running")
start_http_server(int(sys.argv[1]), addr="127.0.0.1", registry=reg)
print("ready", flush=True)
while True:
    time.sleep(60)
"#;

fn start_app() -> Peer {
    let python = common::python();
    let port = common::free_port();
    let child = Command::new(python)
        .args(["-c", APP, &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let peer = Peer {
        child,
        port,
        dir: tempfile::tempdir().unwrap(),
    };
    wait_for(20, "the prometheus_client app", || {
        common::http_get(port, "/metrics").is_ok_and(|r| r.starts_with("HTTP/1.0 200"))
    });
    peer
}

/// Every metric of a job, by name, from the file exporter's output (later scrapes
/// overwrite earlier ones), plus the resource attributes of the job.
fn scraped(
    batches: &[Batch],
    job: &str,
) -> (BTreeMap<String, Metric>, BTreeMap<String, String>, usize) {
    let mut out = BTreeMap::new();
    let mut resource = BTreeMap::new();
    let mut scrapes = 0;
    for b in batches {
        let Batch::Metrics(resources) = b else {
            continue;
        };
        for r in resources {
            let attributes = &r.resource.as_ref().unwrap().attributes;
            if get_str(attributes, "service.name") != Some(job) {
                continue;
            }
            resource = attr_map(attributes);
            for s in &r.scope_metrics {
                assert_eq!(s.scope.as_ref().unwrap().name, "harrier/prometheus");
                for m in &s.metrics {
                    if m.name == "up" {
                        scrapes += 1;
                    }
                    out.insert(m.name.clone(), m.clone());
                }
            }
        }
    }
    (out, resource, scrapes)
}

fn attr_map(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

fn value(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => f64::NAN,
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn scrapes_node_exporter_and_a_prometheus_client_app() {
    let Some(node_exporter) = peer_binary("/usr/bin/prometheus-node-exporter") else {
        return;
    };
    let node = spawn_peer(
        &node_exporter,
        &["--web.listen-address=127.0.0.1:{port}"],
        "/metrics",
    );
    let app = start_app();
    let started = now_nanos();
    let config = format!(
        r#"
        [receivers.prometheus.config.global]
        scrape_interval = "1s"
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "node"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{node}"]
        labels = {{ zone = "z1" }}
        [[receivers.prometheus.config.scrape_configs]]
        job_name = "app"
        [[receivers.prometheus.config.scrape_configs.static_configs]]
        targets = ["127.0.0.1:{app}"]
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.metrics]
        receivers = ["prometheus"]
        exporters = ["file"]
        "#,
        node = node.port,
        app = app.port,
    );
    let mut harrier = start(&config);
    let out = harrier.path("out.jsonl");
    wait_for(30, "two scrapes of each target", || {
        let batches = harrier_testkit::read_json_lines(&out, Signal::Metrics).unwrap_or_default();
        scraped(&batches, "node").2 >= 2 && scraped(&batches, "app").2 >= 2
    });
    harrier.terminate();
    assert!(file_items(&out, Signal::Metrics) > 100);
    let batches = harrier_testkit::read_json_lines(&out, Signal::Metrics).unwrap();

    // --- node exporter (text format) ---
    let (node_metrics, resource, _) = scraped(&batches, "node");
    assert_eq!(
        resource["service.instance.id"],
        format!("127.0.0.1:{}", node.port)
    );
    assert_eq!(resource["server.address"], "127.0.0.1");
    assert_eq!(resource["server.port"], node.port.to_string());
    let Some(metric::Data::Sum(cpu)) = &node_metrics["node_cpu_seconds_total"].data else {
        panic!("node_cpu_seconds_total is not a sum")
    };
    assert!(cpu.is_monotonic);
    assert_eq!(
        cpu.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    let modes: Vec<String> = cpu
        .data_points
        .iter()
        .map(|p| attr_map(&p.attributes)["mode"].clone())
        .collect();
    assert!(modes.contains(&"idle".to_string()) && modes.contains(&"user".to_string()));
    for p in &cpu.data_points {
        let a = attr_map(&p.attributes);
        assert!(a.contains_key("cpu"));
        assert_eq!(a["zone"], "z1");
        assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano <= p.time_unix_nano);
        assert!(value(p) >= 0.0);
    }
    let Some(metric::Data::Gauge(mem)) = &node_metrics["node_memory_MemTotal_bytes"].data else {
        panic!("node_memory_MemTotal_bytes is not a gauge")
    };
    assert!(value(&mem.data_points[0]) > 1e8);
    let Some(metric::Data::Summary(gc)) = &node_metrics["go_gc_duration_seconds"].data else {
        panic!("go_gc_duration_seconds is not a summary")
    };
    let quantiles: Vec<f64> = gc.data_points[0]
        .quantile_values
        .iter()
        .map(|q| q.quantile)
        .collect();
    assert_eq!(quantiles, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    let Some(metric::Data::Gauge(up)) = &node_metrics["up"].data else {
        panic!()
    };
    assert_eq!(value(&up.data_points[0]), 1.0);
    let Some(metric::Data::Gauge(scraped_n)) = &node_metrics["scrape_samples_scraped"].data else {
        panic!()
    };
    assert!(value(&scraped_n.data_points[0]) > 100.0);

    // --- prometheus_client app (OpenMetrics, every type) ---
    let (app_metrics, resource, _) = scraped(&batches, "app");
    assert_eq!(
        resource["service.instance.id"],
        format!("127.0.0.1:{}", app.port)
    );
    let Some(metric::Data::Sum(requests)) = &app_metrics["app_requests"].data else {
        panic!("app_requests: {:?}", app_metrics.get("app_requests"))
    };
    assert!(requests.is_monotonic);
    assert_eq!(app_metrics["app_requests"].description, "Requests served.");
    let by_method: BTreeMap<String, &NumberDataPoint> = requests
        .data_points
        .iter()
        .map(|p| (attr_map(&p.attributes)["method"].clone(), p))
        .collect();
    assert_eq!(value(by_method["get"]), 3.0);
    assert_eq!(value(by_method["post"]), 1.5);
    // The start time is the app's `_created`: before this test started scraping,
    // not the scrape time.
    let start = by_method["get"].start_time_unix_nano;
    assert!(
        start > started - 60_000_000_000 && start < started + 5_000_000_000,
        "{start}"
    );
    assert!(start < by_method["get"].time_unix_nano);

    let Some(metric::Data::Gauge(temp)) = &app_metrics["app_temperature_celsius"].data else {
        panic!()
    };
    assert_eq!(value(&temp.data_points[0]), 42.5);

    let Some(metric::Data::Histogram(h)) = &app_metrics["app_latency_seconds"].data else {
        panic!(
            "app_latency_seconds: {:?}",
            app_metrics.get("app_latency_seconds")
        )
    };
    let p = &h.data_points[0];
    assert_eq!(p.explicit_bounds, vec![0.1, 1.0, 10.0]);
    assert_eq!(p.bucket_counts, vec![1, 1, 1, 1]);
    assert_eq!(p.count, 4);
    assert!((p.sum.unwrap() - 55.55).abs() < 1e-9);
    assert!(p.start_time_unix_nano < p.time_unix_nano);

    let Some(metric::Data::Summary(s)) = &app_metrics["app_payload_bytes"].data else {
        panic!()
    };
    assert_eq!(s.data_points[0].count, 3);
    assert_eq!(s.data_points[0].sum, 6.0);

    let Some(metric::Data::Gauge(info)) = &app_metrics["app_build_info"].data else {
        panic!(
            "app_build_info: {:?}",
            app_metrics.keys().collect::<Vec<_>>()
        )
    };
    let a = attr_map(&info.data_points[0].attributes);
    assert_eq!(a["version"], "1.2.3");
    assert_eq!(a["quote"], "say \"hi\"\n", "escaping in label values");
    assert_eq!(value(&info.data_points[0]), 1.0);

    let Some(metric::Data::Gauge(state)) = &app_metrics["app_state"].data else {
        panic!()
    };
    let states: BTreeMap<String, f64> = state
        .data_points
        .iter()
        .map(|p| (attr_map(&p.attributes)["app_state"].clone(), value(p)))
        .collect();
    assert_eq!(states["running"], 1.0);
    assert_eq!(states["starting"], 0.0);
}

fn point(value: f64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    let now = now_nanos();
    NumberDataPoint {
        attributes,
        start_time_unix_nano: now - 60_000_000_000,
        time_unix_nano: now,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

#[test]
fn a_real_prometheus_scrapes_harriers_exporter() {
    let Some(prometheus) = peer_binary("/usr/bin/prometheus") else {
        return;
    };
    let exporter_port = common::free_port();
    let receiver_port = common::free_port();
    let config = format!(
        r#"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{receiver_port}"
        [exporters.prometheus]
        endpoint = "127.0.0.1:{exporter_port}"
        const_labels = {{ cluster = "test" }}
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.metrics]
        receivers = ["otlp"]
        exporters = ["prometheus"]
        "#
    );
    let _harrier = start(&config);
    let batch = Batch::Metrics(vec![ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![
                string_kv("service.name", "checkout"),
                string_kv("service.instance.id", "pod-1"),
                string_kv("k8s.namespace.name", "shop"),
            ],
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics: vec![
                Metric {
                    name: "http.server.requests".into(),
                    unit: "1".into(),
                    data: Some(metric::Data::Sum(Sum {
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                        data_points: vec![point(1234.0, vec![string_kv("http.route", "/pay")])],
                    })),
                    ..Default::default()
                },
                Metric {
                    name: "queue.depth".into(),
                    unit: "By".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![point(77.0, vec![])],
                    })),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    }]);
    assert_eq!(common::post_batch(receiver_port, &batch), 200);

    let scrape_config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: harrier\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, scrape_config).unwrap();
    let prom = spawn_peer(
        &prometheus,
        &[
            &format!("--config.file={}", config_path.display()),
            "--storage.tsdb.path={dir}",
            "--web.listen-address=127.0.0.1:{port}",
        ],
        "/-/ready",
    );
    wait_for(30, "prometheus to have scraped harrier", || {
        !prometheus_query(prom.port, "http_server_requests_total").is_empty()
    });
    let requests = prometheus_query(prom.port, "http_server_requests_total");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (labels, v) = &requests[0];
    assert_eq!(*v, 1234.0);
    assert_eq!(labels["job"], "checkout");
    assert_eq!(labels["instance"], "pod-1");
    assert_eq!(labels["http_route"], "/pay");
    assert_eq!(labels["cluster"], "test");
    let depth = prometheus_query(prom.port, "queue_depth_bytes");
    assert_eq!(depth.len(), 1, "{depth:?}");
    assert_eq!(depth[0].1, 77.0);
    let info = prometheus_query(prom.port, "target_info");
    assert!(
        info.iter()
            .any(|(l, _)| l.get("k8s_namespace_name").map(String::as_str) == Some("shop")),
        "{info:?}"
    );
    let up = prometheus_query(prom.port, "up{job=\"harrier\"}");
    assert_eq!(up.first().map(|u| u.1), Some(1.0), "{up:?}");
}

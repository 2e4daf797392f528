//! The processors compose in any order in one pipeline and work on every signal they
//! claim: the same input, run through `attributes`, `resource`, `filter`, `redaction`,
//! `correlate` and `batch` in several orders (correlate only where it applies), comes out
//! with the same items, each change applied and no PII left.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_core::config::Config;
use harrier_pdata::attrs::{get_str, string_kv};
use harrier_pdata::{Batch, Signal};
use harrier_testkit::data;
use harrier_testkit::exporters::{Probe, register_probe};

const PROCESSORS: &str = r#"
[processors.attributes]
actions = [{ key = "env", value = "prod", action = "insert" }]
[processors.resource]
attributes = [{ key = "cloud.region", value = "eu-west-1", action = "upsert" }]
[processors.filter]
traces.span = { name = "span-3" }
logs.log_record = { body_matches = "^log line 3$" }
metrics.data_point = { attribute = { key = "i", equals = 3 } }
[processors.redaction]
[processors.correlate]
[processors.batch]
timeout = "10ms"
"#;

fn orders() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "attributes",
            "resource",
            "filter",
            "redaction",
            "correlate",
            "batch",
        ],
        vec![
            "batch",
            "correlate",
            "redaction",
            "filter",
            "resource",
            "attributes",
        ],
        vec![
            "redaction",
            "batch",
            "attributes",
            "correlate",
            "filter",
            "resource",
        ],
        vec![
            "filter",
            "correlate",
            "batch",
            "resource",
            "redaction",
            "attributes",
        ],
    ]
}

/// Adds a PII attribute to every item of `batch`.
fn with_pii(mut batch: Batch) -> Batch {
    let pii = || string_kv("contact", "mail alice@example.com now");
    match &mut batch {
        Batch::Traces(rs) => rs
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans)
            .flat_map(|s| &mut s.spans)
            .for_each(|s| s.attributes.push(pii())),
        Batch::Logs(rl) => rl
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
            .flat_map(|s| &mut s.log_records)
            .for_each(|l| l.attributes.push(pii())),
        Batch::Metrics(rm) => {
            for m in rm
                .iter_mut()
                .flat_map(|r| &mut r.scope_metrics)
                .flat_map(|s| &mut s.metrics)
            {
                if let Some(harrier_pdata::otlp::metrics::v1::metric::Data::Gauge(g)) = &mut m.data
                {
                    g.data_points
                        .iter_mut()
                        .for_each(|p| p.attributes.push(pii()));
                }
            }
        }
    }
    batch
}

async fn post(port: u16, signal: Signal, batch: &Batch) {
    let status = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/{signal}"))
        .header("content-type", "application/x-protobuf")
        .body(batch.encode_request())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processors_compose_in_any_order_on_every_signal() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    for order in orders() {
        let without_correlate: Vec<&str> = order
            .iter()
            .copied()
            .filter(|p| *p != "correlate")
            .collect();
        let list = |ps: &[&str]| {
            ps.iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let port = harrier_testkit::free_port();
        let text = format!(
            r#"
            [receivers.otlp.http]
            endpoint = "127.0.0.1:{port}"
            {PROCESSORS}
            [exporters.probe]
            [service.telemetry.metrics]
            address = ""
            [service.pipelines.traces]
            receivers = ["otlp"]
            processors = [{all}]
            exporters = ["probe"]
            [service.pipelines.logs]
            receivers = ["otlp"]
            processors = [{all}]
            exporters = ["probe"]
            [service.pipelines.metrics]
            receivers = ["otlp"]
            processors = [{metrics}]
            exporters = ["probe"]
            "#,
            all = list(&order),
            metrics = list(&without_correlate),
        );
        let probe = Probe::new();
        let mut registry = harrier::registry();
        register_probe(&mut registry, &probe);
        let config = Config::from_toml(&text).unwrap();
        let collector =
            harrier::Collector::start_with(&config, &registry, harrier::Telemetry::new())
                .await
                .unwrap();
        post(port, Signal::Traces, &with_pii(data::spans(0, 10))).await;
        post(port, Signal::Logs, &with_pii(data::logs(0, 10))).await;
        post(port, Signal::Metrics, &with_pii(data::gauge_points(0, 10))).await;
        assert!(collector.shutdown().await.clean);

        let batches = probe.batches();
        let spans = data::all_spans(&batches);
        let logs = data::all_logs(&batches);
        let points: Vec<_> = data::all_metrics(&batches)
            .into_iter()
            .flat_map(|m| match m.data {
                Some(harrier_pdata::otlp::metrics::v1::metric::Data::Gauge(g)) => g.data_points,
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            (spans.len(), logs.len(), points.len()),
            (9, 9, 9),
            "order {order:?}"
        );
        for attrs in spans
            .iter()
            .map(|s| &s.attributes)
            .chain(logs.iter().map(|l| &l.attributes))
            .chain(points.iter().map(|p| &p.attributes))
        {
            assert_eq!(get_str(attrs, "env"), Some("prod"), "order {order:?}");
            let contact = get_str(attrs, "contact").unwrap_or_default();
            assert!(
                !contact.contains("alice@example.com") && contact.contains("****"),
                "order {order:?}: {contact}"
            );
        }
        for batch in &batches {
            let resources: Vec<_> = match batch {
                Batch::Traces(rs) => rs.iter().map(|r| r.resource.clone()).collect(),
                Batch::Logs(rl) => rl.iter().map(|r| r.resource.clone()).collect(),
                Batch::Metrics(rm) => rm.iter().map(|r| r.resource.clone()).collect(),
            };
            for r in resources {
                assert_eq!(
                    get_str(&r.unwrap_or_default().attributes, "cloud.region"),
                    Some("eu-west-1"),
                    "order {order:?}"
                );
            }
        }
        assert!(!spans.iter().any(|s| s.name == "span-3"));
    }
}

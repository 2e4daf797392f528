//! Black-box: the real `harrier` binary receives traces, metrics and logs from the real
//! OpenTelemetry Rust SDK (`opentelemetry-otlp`) over gRPC and HTTP (protobuf and JSON,
//! gzip), and the file exporter's output holds every span, data point and log record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::otlp::common::v1::any_value;
use harrier_pdata::otlp::metrics::v1::metric;
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use std::collections::BTreeSet;

const CONFIG: &str = r#"
[receivers.otlp.grpc]
endpoint = "127.0.0.1:{grpc}"
[receivers.otlp.http]
endpoint = "127.0.0.1:{http}"
[processors.batch]
timeout = "100ms"
[exporters.file]
path = "{dir}/out.jsonl"
[service]
extensions = ["health_check"]
[service.telemetry.metrics]
address = "127.0.0.1:{metrics}"
[service.pipelines.traces]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["file"]
[service.pipelines.metrics]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["file"]
[service.pipelines.logs]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["file"]
"#;

fn resource() -> Resource {
    Resource::builder().with_service_name("sdk-e2e").build()
}

/// Sends `n` spans named `{prefix}-{i}` and returns (trace id, span id, name) of each.
fn send_spans<E: opentelemetry_sdk::trace::SpanExporter + 'static>(
    exporter: E,
    prefix: &str,
    n: i64,
) -> BTreeSet<(String, String, String)> {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("e2e");
    let mut sent = BTreeSet::new();
    for i in 0..n {
        let mut span = tracer.start(format!("{prefix}-{i}"));
        span.set_attribute(KeyValue::new("i", i));
        span.set_attribute(KeyValue::new("transport", prefix.to_string()));
        let ctx = span.span_context().clone();
        span.end();
        sent.insert((
            ctx.trace_id().to_string(),
            ctx.span_id().to_string(),
            format!("{prefix}-{i}"),
        ));
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    sent
}

fn send_logs<E: opentelemetry_sdk::logs::LogExporter + 'static>(exporter: E, prefix: &str, n: i64) {
    let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let logger = provider.logger("e2e");
    for i in 0..n {
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::from(format!("{prefix} log {i}")));
        record.set_severity_number(Severity::Warn);
        record.set_severity_text("WARN");
        record.add_attribute("i", i);
        logger.emit(record);
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
}

fn send_metrics<E: opentelemetry_sdk::metrics::exporter::PushMetricExporter>(
    exporter: E,
    prefix: &str,
) {
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    let meter = provider.meter("e2e");
    let counter = meter.u64_counter(format!("{prefix}.requests")).build();
    counter.add(5, &[KeyValue::new("route", "/a")]);
    counter.add(7, &[KeyValue::new("route", "/b")]);
    let histogram = meter
        .f64_histogram(format!("{prefix}.latency"))
        .with_boundaries(vec![1.0, 10.0])
        .build();
    for v in [0.5, 2.0, 20.0, 30.0] {
        histogram.record(v, &[]);
    }
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_signals_arrive_intact_over_grpc_and_http() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let grpc = common::free_port();
    let http = common::free_port();
    let config = CONFIG
        .replace("{grpc}", &grpc.to_string())
        .replace("{http}", &http.to_string());
    let mut harrier = common::start(&config);
    let out = harrier.path("out.jsonl");

    // gRPC with gzip, from inside the runtime.
    let grpc_url = format!("http://127.0.0.1:{grpc}");
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(&grpc_url)
        .with_compression(opentelemetry_otlp::Compression::Gzip)
        .build()
        .unwrap();
    let mut expected = send_spans(exporter, "grpc", 50);
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_tonic()
        .with_endpoint(&grpc_url)
        .build()
        .unwrap();
    send_logs(exporter, "grpc", 20);
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .with_endpoint(&grpc_url)
        .build()
        .unwrap();
    send_metrics(exporter, "grpc");

    // HTTP protobuf and JSON use the SDK's blocking client: off the async threads.
    let http_sent = tokio::task::spawn_blocking(move || {
        let url = |s: &str| format!("http://127.0.0.1:{http}/v1/{s}");
        let mut sent = BTreeSet::new();
        for (protocol, name) in [
            (Protocol::HttpBinary, "proto"),
            (Protocol::HttpJson, "json"),
        ] {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(url("traces"))
                .build()
                .unwrap();
            sent.extend(send_spans(exporter, name, 30));
            let exporter = opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(url("logs"))
                .build()
                .unwrap();
            send_logs(exporter, name, 10);
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(url("metrics"))
                .build()
                .unwrap();
            send_metrics(exporter, name);
        }
        sent
    })
    .await
    .unwrap();
    expected.extend(http_sent);

    // A malformed request gets a clear error and the collector keeps serving.
    let bad = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(vec![0xffu8; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    common::wait_for(20, "110 spans and 40 log records in the file", || {
        common::file_items(&out, Signal::Traces) >= 110
            && common::file_items(&out, Signal::Logs) >= 40
    });
    common::wait_for(20, "metrics from 3 transports", || {
        let metrics = harrier_testkit::data::all_metrics(
            &harrier_testkit::read_json_lines(&out, Signal::Metrics).unwrap(),
        );
        ["grpc", "proto", "json"]
            .iter()
            .all(|p| metrics.iter().any(|m| m.name == format!("{p}.latency")))
    });
    assert_eq!(
        harrier
            .metric("otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"}"),
        50.0
    );
    assert_eq!(
        harrier
            .metric("otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"http\"}"),
        60.0
    );
    assert_eq!(
        harrier.metric("otelcol_exporter_sent_spans_total{exporter=\"file\"}"),
        110.0
    );
    let (status, _) = harrier.terminate();
    assert!(status.success());

    // Every span exactly once, with its ids, name, attributes and resource.
    let traces = harrier_testkit::read_json_lines(&out, Signal::Traces).unwrap();
    let mut got = BTreeSet::new();
    for batch in &traces {
        let harrier_pdata::Batch::Traces(rs) = batch else {
            continue;
        };
        for r in rs {
            let service = harrier_pdata::attrs::get_str(
                &r.resource.as_ref().unwrap().attributes,
                "service.name",
            );
            assert_eq!(service, Some("sdk-e2e"));
            for s in r.scope_spans.iter().flat_map(|s| &s.spans) {
                let i = harrier_pdata::attrs::get(&s.attributes, "i").and_then(|v| v.value.clone());
                let expected_i: i64 = s.name.rsplit('-').next().unwrap().parse().unwrap();
                assert_eq!(
                    i,
                    Some(any_value::Value::IntValue(expected_i)),
                    "span {}",
                    s.name
                );
                assert!(
                    s.end_time_unix_nano >= s.start_time_unix_nano && s.start_time_unix_nano > 0
                );
                assert!(
                    got.insert((
                        hex::encode(&s.trace_id),
                        hex::encode(&s.span_id),
                        s.name.clone()
                    )),
                    "duplicate span {}",
                    s.name
                );
            }
        }
    }
    assert_eq!(got, expected);

    // Every log record exactly once with body, severity and attribute.
    let logs = harrier_testkit::data::all_logs(
        &harrier_testkit::read_json_lines(&out, Signal::Logs).unwrap(),
    );
    let bodies: BTreeSet<String> = logs
        .iter()
        .map(|l| {
            assert_eq!(l.severity_number, 13);
            assert_eq!(l.severity_text, "WARN");
            match l.body.as_ref().and_then(|b| b.value.clone()) {
                Some(any_value::Value::StringValue(s)) => s,
                other => panic!("unexpected body {other:?}"),
            }
        })
        .collect();
    assert_eq!(logs.len(), 40);
    for (p, n) in [("grpc", 20), ("proto", 10), ("json", 10)] {
        for i in 0..n {
            assert!(
                bodies.contains(&format!("{p} log {i}")),
                "missing {p} log {i}"
            );
        }
    }

    // Metrics: counter points and the histogram's buckets, per transport.
    let metrics = harrier_testkit::data::all_metrics(
        &harrier_testkit::read_json_lines(&out, Signal::Metrics).unwrap(),
    );
    for p in ["grpc", "proto", "json"] {
        let counter = metrics
            .iter()
            .find(|m| m.name == format!("{p}.requests"))
            .unwrap();
        let Some(metric::Data::Sum(sum)) = &counter.data else {
            panic!("{p}.requests is not a sum")
        };
        assert!(sum.is_monotonic);
        let mut values: Vec<i64> = sum
            .data_points
            .iter()
            .map(|d| match d.value {
                Some(harrier_pdata::otlp::metrics::v1::number_data_point::Value::AsInt(v)) => v,
                other => panic!("{other:?}"),
            })
            .collect();
        values.sort();
        assert_eq!(values, vec![5, 7]);
        let hist = metrics
            .iter()
            .find(|m| m.name == format!("{p}.latency"))
            .unwrap();
        let Some(metric::Data::Histogram(h)) = &hist.data else {
            panic!("{p}.latency is not a histogram")
        };
        let point = &h.data_points[0];
        assert_eq!(point.count, 4);
        assert_eq!(point.sum, Some(52.5));
        assert_eq!(point.explicit_bounds, vec![1.0, 10.0]);
        assert_eq!(point.bucket_counts, vec![1, 1, 2]);
    }
}

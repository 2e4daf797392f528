//! Tests of the `prometheus_remote_write` exporter: the conversion on its own, then the
//! exporter against a small hyper server on 127.0.0.1:0 that decodes snappy + protobuf.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::config::ConversionSettings;
use super::convert::{Converted, convert};
use super::exporter::classify_failure;
use super::proto::{STALE_NAN_BITS, TimeSeries, WriteRequest};
use super::request::{DeliveredRequests, split_requests};
use super::*;
use crate::shared::test_support::{self, attr, ctx, toml};
use bytes::Bytes;
use harrier_core::error::{ErrorKind, ExportError};
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{InstrumentationScope, KeyValue};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, metric, number_data_point, summary_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prost::Message;
use reqwest::StatusCode;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// 2023-11-14T22:13:20Z in milliseconds.
const T: i64 = 1_700_000_000_000;

fn nanos(ms: i64) -> u64 {
    ms as u64 * 1_000_000
}

const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
const DELTA: i32 = AggregationTemporality::Delta as i32;

fn resource_metrics(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(Resource {
            attributes: resource,
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: "harrier.test".into(),
                version: "1.0".into(),
                ..Default::default()
            }),
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

fn service() -> Vec<KeyValue> {
    vec![
        attr("service.name", "checkout"),
        attr("service.namespace", "shop"),
        attr("service.instance.id", "pod-1"),
        attr("host.name", "node-a"),
    ]
}

fn number(ms: i64, value: f64, attributes: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        time_unix_nano: nanos(ms),
        value: Some(number_data_point::Value::AsDouble(value)),
        attributes,
        ..Default::default()
    }
}

fn gauge(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Default::default()
    }
}

fn sum(
    name: &str,
    unit: &str,
    monotonic: bool,
    temporality: i32,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("{name} help"),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn histogram(temporality: i32, flags: u32) -> Metric {
    Metric {
        name: "latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: nanos(T),
                count: 3,
                sum: Some(12.0),
                bucket_counts: vec![1, 2, 0],
                explicit_bounds: vec![5.0, 10.0],
                exemplars: vec![Exemplar {
                    time_unix_nano: nanos(T - 500),
                    value: Some(exemplar::Value::AsDouble(7.0)),
                    trace_id: vec![0xab; 16],
                    span_id: vec![0xcd; 8],
                    ..Default::default()
                }],
                flags,
                ..Default::default()
            }],
            aggregation_temporality: temporality,
        })),
        ..Default::default()
    }
}

fn summary() -> Metric {
    Metric {
        name: "rpc.duration".into(),
        unit: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: nanos(T),
                count: 30,
                sum: 9.0,
                quantile_values: vec![
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.1,
                    },
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.99,
                        value: 0.4,
                    },
                ],
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

fn exponential() -> Metric {
    Metric {
        name: "sizes".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint::default(); 2],
            aggregation_temporality: CUMULATIVE,
        })),
        ..Default::default()
    }
}

/// One metric of each supported type, one resource with job, instance and host.
fn every_type() -> Vec<ResourceMetrics> {
    vec![resource_metrics(
        service(),
        vec![
            gauge(
                "queue.depth",
                "1",
                vec![number(T, 42.0, vec![attr("queue", "orders")])],
            ),
            sum(
                "http.requests",
                "{request}",
                true,
                CUMULATIVE,
                vec![number(T, 7.5, vec![attr("method", "GET")])],
            ),
            sum(
                "temperature",
                "Cel",
                false,
                CUMULATIVE,
                vec![number(T - 1000, -3.0, vec![])],
            ),
            histogram(CUMULATIVE, 0),
            summary(),
        ],
    )]
}

fn settings() -> ConversionSettings {
    ConversionSettings {
        external_labels: vec![("cluster".into(), "eu1".into())],
        namespace: None,
        add_metric_suffixes: true,
        resource_to_telemetry: false,
        target_info: true,
        send_metadata: false,
    }
}

/// `name{k="v",...} value@ms ...`, labels in wire order, `__name__` shown as the name.
fn render(series: &TimeSeries) -> String {
    let name = series
        .labels
        .iter()
        .find(|l| l.name == "__name__")
        .map_or("", |l| l.value.as_str());
    let labels: Vec<String> = series
        .labels
        .iter()
        .filter(|l| l.name != "__name__")
        .map(|l| format!("{}=\"{}\"", l.name, l.value))
        .collect();
    let samples: Vec<String> = series
        .samples
        .iter()
        .map(|s| format!("{}@{}", s.value, s.timestamp))
        .collect();
    format!("{name}{{{}}} {}", labels.join(","), samples.join(" "))
}

fn render_all(series: &[TimeSeries]) -> Vec<String> {
    series.iter().map(render).collect()
}

/// The labels every point of [`every_type`] carries, plus `extra`, sorted.
fn common(extra: &[(&str, &str)]) -> String {
    let mut labels = vec![
        ("cluster", "eu1"),
        ("instance", "pod-1"),
        ("job", "shop/checkout"),
        ("otel_scope_name", "harrier.test"),
        ("otel_scope_version", "1.0"),
    ];
    labels.extend_from_slice(extra);
    labels.sort();
    let text: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    text.join(",")
}

fn assert_labels_sorted(series: &[TimeSeries]) {
    for s in series {
        let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "labels must be sorted and unique");
        assert!(s.labels.iter().all(|l| !l.value.is_empty()));
        let timestamps: Vec<i64> = s.samples.iter().map(|s| s.timestamp).collect();
        assert!(timestamps.is_sorted_by(|a, b| a < b), "{timestamps:?}");
    }
}

#[test]
fn converts_every_metric_type_per_the_compatibility_spec() {
    let converted = convert(&every_type(), &settings(), 0);
    assert_labels_sorted(&converted.series);
    let expected = vec![
        format!(
            "http_requests_total{{{}}} 7.5@{T}",
            common(&[("method", "GET")])
        ),
        format!(
            "latency_milliseconds_bucket{{{}}} 3@{T}",
            common(&[("le", "+Inf")])
        ),
        format!(
            "latency_milliseconds_bucket{{{}}} 3@{T}",
            common(&[("le", "10")])
        ),
        format!(
            "latency_milliseconds_bucket{{{}}} 1@{T}",
            common(&[("le", "5")])
        ),
        format!("latency_milliseconds_count{{{}}} 3@{T}", common(&[])),
        format!("latency_milliseconds_sum{{{}}} 12@{T}", common(&[])),
        format!(
            "queue_depth_ratio{{{}}} 42@{T}",
            common(&[("queue", "orders")])
        ),
        format!(
            "rpc_duration_seconds{{{}}} 0.1@{T}",
            common(&[("quantile", "0.5")])
        ),
        format!(
            "rpc_duration_seconds{{{}}} 0.4@{T}",
            common(&[("quantile", "0.99")])
        ),
        format!("rpc_duration_seconds_count{{{}}} 30@{T}", common(&[])),
        format!("rpc_duration_seconds_sum{{{}}} 9@{T}", common(&[])),
        format!(
            "target_info{{cluster=\"eu1\",host_name=\"node-a\",instance=\"pod-1\",job=\"shop/checkout\"}} 1@{T}"
        ),
        format!("temperature_celsius{{{}}} -3@{}", common(&[]), T - 1000),
    ];
    // Series come in first-seen order; compare as sets.
    let mut got = render_all(&converted.series);
    got.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(converted.dropped_delta_points, 0);
    assert!(converted.metadata.is_empty());

    // The exemplar sits on the bucket its value (7) falls in: le="10".
    let with_exemplars: Vec<&TimeSeries> = converted
        .series
        .iter()
        .filter(|s| !s.exemplars.is_empty())
        .collect();
    assert_eq!(with_exemplars.len(), 1);
    assert!(render(with_exemplars[0]).contains("le=\"10\""));
    let exemplar = &with_exemplars[0].exemplars[0];
    assert_eq!(exemplar.value, 7.0);
    assert_eq!(exemplar.timestamp, T - 500);
    let labels: Vec<(&str, &str)> = exemplar
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("span_id", "cdcdcdcdcdcdcdcd"),
            ("trace_id", "abababababababababababababababab")
        ]
    );
}

#[test]
fn drops_and_counts_delta_and_exponential_points() {
    let resources = vec![resource_metrics(
        vec![attr("service.name", "svc")],
        vec![
            sum(
                "hits",
                "",
                true,
                DELTA,
                vec![number(T, 1.0, vec![]), number(T + 1, 2.0, vec![])],
            ),
            sum("level", "", false, DELTA, vec![number(T, 1.0, vec![])]),
            histogram(DELTA, 0),
            exponential(),
            gauge("kept", "", vec![number(T, 5.0, vec![])]),
        ],
    )];
    let converted = convert(&resources, &ConversionSettings::default(), 0);
    assert_eq!(converted.dropped_delta_points, 4);
    assert_eq!(converted.dropped_exponential_points, 2);
    assert_eq!(
        render_all(&converted.series),
        [format!(
            "kept{{job=\"svc\",otel_scope_name=\"harrier.test\",otel_scope_version=\"1.0\"}} 5@{T}"
        )]
    );
}

#[test]
fn no_recorded_value_becomes_the_stale_marker() {
    let mut stale_gauge = number(T, 1.0, vec![]);
    stale_gauge.flags = 1;
    let resources = vec![resource_metrics(
        vec![],
        vec![gauge("g", "", vec![stale_gauge]), histogram(CUMULATIVE, 1)],
    )];
    let converted = convert(&resources, &ConversionSettings::default(), 0);
    // g, 3 buckets, _count, _sum: all stale.
    assert_eq!(converted.series.len(), 6);
    for series in &converted.series {
        assert_eq!(series.samples.len(), 1);
        assert_eq!(
            series.samples[0].value.to_bits(),
            STALE_NAN_BITS,
            "{}",
            render(series)
        );
        assert_eq!(series.samples[0].timestamp, T);
    }
}

#[test]
fn merges_a_series_and_orders_its_samples_by_time() {
    // The same series in two resources and out of order; a repeated timestamp keeps the
    // value given last.
    let points =
        |values: &[(i64, f64)]| values.iter().map(|(t, v)| number(*t, *v, vec![])).collect();
    let resources = vec![
        resource_metrics(
            vec![attr("service.name", "a")],
            vec![gauge("g", "", points(&[(T + 2000, 3.0), (T, 1.0)]))],
        ),
        resource_metrics(
            vec![attr("service.name", "a")],
            vec![gauge("g", "", points(&[(T + 1000, 2.0), (T, 9.0)]))],
        ),
    ];
    let converted = convert(&resources, &ConversionSettings::default(), 0);
    assert_eq!(
        render_all(&converted.series),
        [format!(
            "g{{job=\"a\",otel_scope_name=\"harrier.test\",otel_scope_version=\"1.0\"}} 9@{T} 2@{} 3@{}",
            T + 1000,
            T + 2000
        )]
    );
}

#[test]
fn naming_options_resource_labels_and_metadata() {
    let resources = vec![resource_metrics(
        vec![
            attr("service.name", "svc"),
            attr("host.name", "h1"),
            attr("cluster", "from-resource"),
        ],
        vec![sum(
            "http.requests",
            "{request}",
            true,
            CUMULATIVE,
            vec![number(T, 1.0, vec![attr("1code", "200")])],
        )],
    )];
    let options = ConversionSettings {
        external_labels: vec![
            ("cluster".into(), "external".into()),
            ("region".into(), "eu".into()),
        ],
        namespace: Some("app".into()),
        add_metric_suffixes: false,
        resource_to_telemetry: true,
        target_info: false,
        send_metadata: true,
    };
    let converted = convert(&resources, &options, 0);
    // External labels do not override what the series already has.
    assert_eq!(
        render_all(&converted.series),
        [format!(
            "app_http_requests{{_1code=\"200\",cluster=\"from-resource\",host_name=\"h1\",job=\"svc\",\
             otel_scope_name=\"harrier.test\",otel_scope_version=\"1.0\",region=\"eu\",service_name=\"svc\"}} 1@{T}"
        )]
    );
    assert_eq!(converted.metadata.len(), 1);
    let metadata = &converted.metadata[0];
    assert_eq!(metadata.metric_family_name, "app_http_requests");
    assert_eq!(metadata.r#type, super::proto::MetadataType::Counter as i32);
    assert_eq!(metadata.help, "http.requests help");
}

#[test]
fn a_point_without_timestamp_gets_the_export_time() {
    let resources = vec![resource_metrics(
        vec![],
        vec![gauge("g", "", vec![number(0, 1.0, vec![])])],
    )];
    let converted = convert(&resources, &ConversionSettings::default(), 1234);
    assert_eq!(converted.series[0].samples[0].timestamp, 1234);
}

fn many_series(n: usize) -> Converted {
    let points = (0..n)
        .map(|i| number(T, i as f64, vec![attr("index", &format!("{i:04}"))]))
        .collect();
    let resources = vec![resource_metrics(
        vec![attr("service.name", "svc")],
        vec![gauge("g", "", points)],
    )];
    convert(&resources, &ConversionSettings::default(), 0)
}

#[test]
fn splits_requests_by_encoded_size() {
    let converted = many_series(100);
    let all = render_all(&converted.series);
    let one = WriteRequest {
        timeseries: vec![converted.series[0].clone()],
        metadata: vec![],
    }
    .encoded_len();
    let max = one * 10 + one / 2;
    let requests = split_requests(converted.series, vec![], max);
    assert!(requests.len() >= 10, "{} requests", requests.len());
    for (request, next) in requests.iter().zip(requests.iter().skip(1)) {
        assert!(request.encoded_len() <= max);
        // Greedy: the next request's first series would not have fitted.
        let mut grown = request.clone();
        grown.timeseries.push(next.timeseries[0].clone());
        assert!(grown.encoded_len() > max);
    }
    let rejoined: Vec<String> = requests
        .iter()
        .flat_map(|r| render_all(&r.timeseries))
        .collect();
    assert_eq!(rejoined, all);

    // A series above the limit goes alone.
    let converted = many_series(3);
    let requests = split_requests(converted.series, vec![], 1);
    assert_eq!(
        requests
            .iter()
            .map(|r| r.timeseries.len())
            .collect::<Vec<_>>(),
        [1, 1, 1]
    );
}

#[test]
fn delivered_requests_are_remembered_until_their_batch_ends() {
    let delivered = DeliveredRequests::new();
    let a = delivered.digest(b"request a");
    let b = delivered.digest(b"request b");
    assert_ne!(a, b);
    assert_eq!(a, delivered.digest(b"request a"));
    delivered.remember(a);
    assert!(delivered.contains(a));
    assert!(!delivered.contains(b));
    delivered.forget(&[a, b]);
    assert!(!delivered.contains(a));
    // Bounded: the oldest go first.
    for i in 0..5000u32 {
        delivered.remember(delivered.digest(&i.to_be_bytes()));
    }
    assert!(!delivered.contains(delivered.digest(&0u32.to_be_bytes())));
    assert!(delivered.contains(delivered.digest(&4999u32.to_be_bytes())));
}

// ---- the exporter against a server ----

/// A request the server received, decoded.
struct Captured {
    headers: http::HeaderMap,
    request: WriteRequest,
}

/// What the server answers.
#[derive(Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
}

fn ok() -> Canned {
    Canned {
        status: 204,
        headers: vec![],
        body: "",
    }
}

/// A server answering with `replies` in turn, then 204s.
async fn serve(replies: Vec<Canned>) -> (SocketAddr, Arc<Mutex<Vec<Captured>>>) {
    serve_with(replies, None).await
}

/// Like [`serve`], over TLS when `tls` is given.
async fn serve_with(
    replies: Vec<Canned>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (SocketAddr, Arc<Mutex<Vec<Captured>>>) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let captured = Arc::new(Mutex::new(Vec::new()));
    let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
    let seen = Arc::clone(&captured);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen);
            let replies = Arc::clone(&replies);
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let seen = Arc::clone(&seen);
                let replies = Arc::clone(&replies);
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                    let request = WriteRequest::decode(raw.as_slice()).unwrap();
                    seen.lock().unwrap().push(Captured {
                        headers: parts.headers,
                        request,
                    });
                    let reply = replies.lock().unwrap().pop_front().unwrap_or_else(ok);
                    let mut response = hyper::Response::builder().status(reply.status);
                    for (name, value) in &reply.headers {
                        response = response.header(*name, *value);
                    }
                    Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                }
            });
            match &acceptor {
                None => {
                    tokio::spawn(
                        http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                    );
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // A client without an acceptable certificate fails here.
                        if let Ok(tls) = acceptor.accept(stream).await {
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(tls), service)
                                .await;
                        }
                    });
                }
            }
        }
    });
    (addr, captured)
}

async fn exporter(section: &str, build_ctx: &BuildContext) -> Arc<dyn Exporter> {
    test_support::install_crypto();
    let exporter = PrometheusRemoteWriteExporterFactory
        .build(&toml(section), build_ctx)
        .unwrap();
    exporter.start().await.unwrap();
    exporter
}

fn section(addr: SocketAddr, extra: &str) -> String {
    format!("endpoint = \"http://{addr}/api/v1/write\"\n{extra}")
}

#[tokio::test]
async fn posts_snappy_protobuf_with_the_protocol_headers() {
    let (addr, captured) = serve(vec![]).await;
    let extra = r#"
        headers = { "X-Scope-OrgID" = "blue" }
        external_labels = { cluster = "eu1" }
        send_metadata = true
    "#;
    let exporter = exporter(&section(addr, extra), &ctx("prometheus_remote_write")).await;
    exporter
        .export(&Batch::Metrics(every_type()))
        .await
        .unwrap();
    let captured = captured.lock().unwrap();
    assert_eq!(captured.len(), 1);
    let got = &captured[0];
    assert_eq!(got.headers["content-encoding"], "snappy");
    assert_eq!(got.headers["content-type"], "application/x-protobuf");
    assert_eq!(got.headers["x-prometheus-remote-write-version"], "0.1.0");
    assert_eq!(got.headers["x-scope-orgid"], "blue");
    let user_agent = got.headers["user-agent"].to_str().unwrap();
    assert!(user_agent.starts_with("harrier/"), "{user_agent}");
    let expected = convert(&every_type(), &settings(), 0);
    assert_eq!(
        render_all(&got.request.timeseries),
        render_all(&expected.series)
    );
    let families: Vec<&str> = got
        .request
        .metadata
        .iter()
        .map(|m| m.metric_family_name.as_str())
        .collect();
    assert_eq!(
        families,
        [
            "http_requests_total",
            "latency_milliseconds",
            "queue_depth_ratio",
            "rpc_duration_seconds",
            "temperature_celsius"
        ]
    );
}

#[tokio::test]
async fn splits_a_batch_without_losing_or_duplicating_series() {
    let (addr, captured) = serve(vec![]).await;
    let exporter = exporter(
        &section(
            addr,
            "max_batch_size_bytes = 2000\ntarget_info = { enabled = false }",
        ),
        &ctx("prometheus_remote_write"),
    )
    .await;
    let points = (0..200)
        .map(|i| number(T, i as f64, vec![attr("index", &format!("{i:04}"))]))
        .collect();
    let resources = vec![resource_metrics(
        vec![attr("service.name", "svc")],
        vec![gauge("g", "", points)],
    )];
    exporter.export(&Batch::Metrics(resources)).await.unwrap();
    let captured = captured.lock().unwrap();
    assert!(captured.len() > 5, "{} requests", captured.len());
    let mut indexes = Vec::new();
    for got in captured.iter() {
        assert!(got.request.encoded_len() <= 2000);
        for series in &got.request.timeseries {
            let index = series.labels.iter().find(|l| l.name == "index").unwrap();
            indexes.push(index.value.parse::<usize>().unwrap());
        }
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..200).collect::<Vec<_>>());
}

fn gauge_batch(n: usize) -> Batch {
    let points = (0..n)
        .map(|i| number(T, i as f64, vec![attr("index", &format!("{i:04}"))]))
        .collect();
    Batch::Metrics(vec![resource_metrics(vec![], vec![gauge("g", "", points)])])
}

async fn export_error(reply: Canned) -> ExportError {
    let (addr, _captured) = serve(vec![reply]).await;
    let exporter = exporter(&section(addr, ""), &ctx("prometheus_remote_write")).await;
    exporter.export(&gauge_batch(1)).await.unwrap_err()
}

#[tokio::test]
async fn classifies_failures_per_the_remote_write_spec() {
    let unavailable = export_error(Canned {
        status: 503,
        headers: vec![("retry-after", "7")],
        body: "",
    })
    .await;
    assert_eq!(
        unavailable.kind(),
        ErrorKind::Retryable {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    let throttled = export_error(Canned {
        status: 429,
        headers: vec![("retry-after", "2")],
        body: "slow down",
    })
    .await;
    assert_eq!(
        throttled.kind(),
        ErrorKind::Retryable {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    let internal = export_error(Canned {
        status: 500,
        headers: vec![],
        body: "",
    })
    .await;
    assert!(internal.is_retryable());
    let bad = export_error(Canned {
        status: 400,
        headers: vec![],
        body: "out of order sample\n",
    })
    .await;
    assert_eq!(bad.kind(), ErrorKind::Permanent);
    assert!(bad.to_string().contains("400"), "{bad}");
    assert!(bad.to_string().contains("out of order sample"), "{bad}");

    // The body is cut for the log.
    let long = "x".repeat(5000);
    let error = classify_failure(
        StatusCode::BAD_REQUEST,
        None,
        long.as_bytes(),
        SystemTime::now(),
    );
    assert!(error.to_string().len() < 700, "{}", error.to_string().len());
}

#[tokio::test]
async fn a_refused_request_does_not_stop_the_others() {
    let refused = Canned {
        status: 400,
        headers: vec![],
        body: "bad labels",
    };
    let (addr, captured) = serve(vec![ok(), refused]).await;
    let exporter = exporter(
        &section(addr, "max_batch_size_bytes = 1"),
        &ctx("prometheus_remote_write"),
    )
    .await;
    let error = exporter.export(&gauge_batch(4)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Permanent);
    assert!(
        error.to_string().contains("1 of 4 requests rejected"),
        "{error}"
    );
    assert!(error.to_string().contains("bad labels"), "{error}");
    assert_eq!(captured.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_retry_resends_only_what_was_not_delivered() {
    let unavailable = Canned {
        status: 503,
        headers: vec![],
        body: "",
    };
    let (addr, captured) = serve(vec![ok(), unavailable]).await;
    let exporter = exporter(
        &section(addr, "max_batch_size_bytes = 1"),
        &ctx("prometheus_remote_write"),
    )
    .await;
    let batch = gauge_batch(3);
    let error = exporter.export(&batch).await.unwrap_err();
    assert!(error.is_retryable());
    assert!(error.to_string().contains("request 2 of 3"), "{error}");
    exporter.export(&batch).await.unwrap();
    let captured = captured.lock().unwrap();
    let index_of = |c: &Captured| {
        c.request.timeseries[0]
            .labels
            .iter()
            .find(|l| l.name == "index")
            .unwrap()
            .value
            .clone()
    };
    let sent: Vec<String> = captured.iter().map(index_of).collect();
    // 0000 delivered, 0001 refused with 503; the retry sends 0001 and 0002 only.
    assert_eq!(sent, ["0000", "0001", "0001", "0002"]);
}

#[tokio::test]
async fn a_connection_failure_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let exporter = exporter(&section(addr, ""), &ctx("prometheus_remote_write")).await;
    let error = exporter.export(&gauge_batch(1)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test]
async fn counts_dropped_points_and_refuses_other_signals() {
    let (addr, captured) = serve(vec![]).await;
    let build_ctx = ctx("prometheus_remote_write/rw");
    let exporter = exporter(&section(addr, ""), &build_ctx).await;
    let resources = vec![resource_metrics(
        vec![],
        vec![exponential(), histogram(DELTA, 0)],
    )];
    exporter.export(&Batch::Metrics(resources)).await.unwrap();
    assert!(captured.lock().unwrap().is_empty(), "nothing to send");
    let count = |reason| {
        build_ctx
            .telemetry
            .counter_value(
                DROPPED_POINTS_METRIC,
                &[
                    ("exporter", "prometheus_remote_write/rw"),
                    ("reason", reason),
                ],
            )
            .unwrap()
    };
    assert_eq!(count("exponential_histogram"), 2);
    assert_eq!(count("delta_temporality"), 1);
    let error = exporter
        .export(&test_support::logs(1, "x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Permanent);
}

fn config_errors(text: &str) -> Vec<(String, String)> {
    match PrometheusRemoteWriteExporterFactory.validate(&toml(text)) {
        Ok(()) => vec![],
        Err(errors) => errors.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

fn error_paths(text: &str) -> Vec<String> {
    config_errors(text)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn config_errors_name_the_key() {
    assert_eq!(error_paths(""), ["endpoint"]);
    assert_eq!(error_paths("endpoint = \"ftp://host/write\""), ["endpoint"]);
    assert_eq!(error_paths("endpoint = \"not a url\""), ["endpoint"]);
    let base = "endpoint = \"http://127.0.0.1:9090/api/v1/write\"\n";
    assert!(error_paths(base).is_empty());
    assert_eq!(
        error_paths(&format!(
            "{base}headers = {{ \"Content-Encoding\" = \"gzip\", \"X-Prometheus-Remote-Write-Version\" = \"2\" }}"
        )),
        [
            "headers.Content-Encoding",
            "headers.X-Prometheus-Remote-Write-Version"
        ]
    );
    assert_eq!(
        error_paths(&format!(
            "{base}external_labels = {{ \"bad-name\" = \"x\", __reserved = \"y\", empty = \"\" }}"
        )),
        [
            "external_labels.__reserved",
            "external_labels.bad-name",
            "external_labels.empty"
        ]
    );
    assert_eq!(
        error_paths(&format!("{base}namespace = \"my-app\"")),
        ["namespace"]
    );
    assert_eq!(
        error_paths(&format!("{base}max_batch_size_bytes = 0")),
        ["max_batch_size_bytes"]
    );
    assert_eq!(
        error_paths(&format!("{base}tls = {{ ca_file = \"\" }}")),
        ["tls.ca_file"]
    );
    assert_eq!(
        error_paths(&format!("{base}target_info = {{ enable = true }}")),
        ["target_info.enable"]
    );
    let unknown = config_errors(&format!("{base}max_batch_size = 10"));
    assert!(unknown[0].1.contains("max_batch_size"), "{unknown:?}");
}

#[test]
fn defaults_are_the_collectors() {
    let config = PrometheusRemoteWriteConfig::default();
    assert_eq!(config.max_batch_size_bytes, 3_000_000);
    assert!(config.add_metric_suffixes);
    assert!(!config.resource_to_telemetry_conversion.enabled);
    assert!(config.target_info.enabled);
    assert!(!config.send_metadata);
    assert!(!config.tls.insecure_skip_verify);
}

#[tokio::test]
async fn mutual_tls_with_ca_file_and_client_certificate() {
    let tls = harrier_testkit::tls::server_config(true).unwrap();
    let (addr, captured) = serve_with(vec![], Some(tls)).await;
    let path = |name: &str| harrier_testkit::tls::path(name).display().to_string();
    let endpoint = format!(
        "endpoint = \"https://localhost:{}/api/v1/write\"\n",
        addr.port()
    );
    let section = format!(
        "{endpoint}tls = {{ ca_file = \"{}\", cert_file = \"{}\", key_file = \"{}\" }}",
        path("ca.pem"),
        path("client.pem"),
        path("client-key.pem")
    );
    let mutual = exporter(&section, &ctx("prometheus_remote_write")).await;
    mutual.export(&Batch::Metrics(every_type())).await.unwrap();
    assert_eq!(captured.lock().unwrap().len(), 1);

    // Without the client certificate the server refuses the handshake: retryable.
    let section = format!("{endpoint}tls = {{ ca_file = \"{}\" }}", path("ca.pem"));
    let no_client_cert = exporter(&section, &ctx("prometheus_remote_write")).await;
    let err = no_client_cert
        .export(&Batch::Metrics(every_type()))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    // Without the CA, the server's certificate is not trusted.
    let exporter = exporter(&endpoint, &ctx("prometheus_remote_write")).await;
    assert!(
        exporter
            .export(&Batch::Metrics(every_type()))
            .await
            .is_err()
    );
    assert_eq!(captured.lock().unwrap().len(), 1);
}

//! Tests of the `prometheus` exporter: naming, rendering of every metric type, delta
//! accumulation, expiration, target_info, const labels, escaping and a real scrape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::naming::{MetricType, label_name, metric_name};
use super::store::{Format, Store};
use super::text::{escape_label_value, format_float};
use super::*;
use crate::shared::test_support::{attr, ctx, metrics, toml, traces};
use harrier_pdata::otlp::common::v1::InstrumentationScope;
use harrier_pdata::otlp::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
    number_data_point, summary_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DELTA: i32 = 1;
const CUMULATIVE: i32 = 2;

fn resource_metrics(resource: Vec<(&str, &str)>, metrics: Vec<Metric>) -> Vec<ResourceMetrics> {
    vec![ResourceMetrics {
        resource: Some(Resource {
            attributes: resource.iter().map(|(k, v)| attr(k, v)).collect(),
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: None,
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }]
}

fn point(value: f64, attrs: &[(&str, &str)]) -> NumberDataPoint {
    NumberDataPoint {
        value: Some(number_data_point::Value::AsDouble(value)),
        attributes: attrs.iter().map(|(k, v)| attr(k, v)).collect(),
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

fn sum(name: &str, monotonic: bool, temporality: i32, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        description: format!("{name} help"),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn store() -> Store {
    Store::new(&BTreeMap::new(), Duration::from_secs(300))
}

fn render(metrics: Vec<Metric>) -> String {
    let store = store();
    store.update(&resource_metrics(vec![], metrics), Instant::now());
    store.render()
}

#[test]
fn names_are_sanitised_and_suffixed() {
    use MetricType::*;
    for (name, unit, metric_type, expected) in [
        (
            "http.server.duration",
            "s",
            Histogram,
            "http_server_duration_seconds",
        ),
        ("latency", "ms", Gauge, "latency_milliseconds"),
        ("rx", "By", Counter, "rx_bytes_total"),
        ("throughput", "By/s", Gauge, "throughput_bytes_per_second"),
        ("cpu.utilization", "1", Gauge, "cpu_utilization_ratio"),
        ("events", "1", Counter, "events_total"),
        ("requests", "{requests}", Counter, "requests_total"),
        ("packets", "{packets}/s", Gauge, "packets_per_second"),
        ("requests_total", "", Counter, "requests_total"),
        ("duration_seconds", "s", Gauge, "duration_seconds"),
        ("2xx.count", "", Gauge, "_2xx_count"),
        ("a..b--c", "", Gauge, "a_b_c"),
        ("ns:metric", "", Gauge, "ns:metric"),
        ("temp", "Cel", Gauge, "temp_celsius"),
    ] {
        assert_eq!(
            metric_name(name, unit, metric_type),
            expected,
            "{name} [{unit}]"
        );
    }
    for (name, expected) in [
        ("http.method", "http_method"),
        ("9lives", "_9lives"),
        ("a:b", "a_b"),
        ("a__b", "a_b"),
        ("ok_name", "ok_name"),
    ] {
        assert_eq!(label_name(name), expected);
    }
}

#[test]
fn floats_and_label_values_render_per_the_format() {
    for (value, expected) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (1.5, "1.5"),
        (42.0, "42"),
        (-0.25, "-0.25"),
    ] {
        assert_eq!(format_float(value), expected);
    }
    assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

#[test]
fn gauges_and_sums_render_exactly() {
    let text = render(vec![
        gauge(
            "queue.depth",
            "1",
            vec![
                point(3.0, &[("queue", "b")]),
                point(f64::NAN, &[("queue", "a")]),
            ],
        ),
        sum("requests", true, CUMULATIVE, vec![point(7.0, &[])]),
        sum("in.flight", false, CUMULATIVE, vec![point(-2.0, &[])]),
    ]);
    assert_eq!(
        text,
        "# HELP in_flight in.flight help\n\
         # TYPE in_flight gauge\n\
         in_flight -2\n\
         # TYPE queue_depth_ratio gauge\n\
         queue_depth_ratio{queue=\"a\"} NaN\n\
         queue_depth_ratio{queue=\"b\"} 3\n\
         # HELP requests_total requests help\n\
         # TYPE requests_total counter\n\
         requests_total 7\n"
    );
}

#[test]
fn histograms_render_cumulative_buckets() {
    let text = render(vec![Metric {
        name: "latency".into(),
        unit: "ms".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                count: 4,
                sum: Some(30.5),
                bucket_counts: vec![1, 2, 1],
                explicit_bounds: vec![5.0, 10.0],
                ..Default::default()
            }],
            aggregation_temporality: CUMULATIVE,
        })),
        ..Default::default()
    }]);
    assert_eq!(
        text,
        "# TYPE latency_milliseconds histogram\n\
         latency_milliseconds_bucket{le=\"5\"} 1\n\
         latency_milliseconds_bucket{le=\"10\"} 3\n\
         latency_milliseconds_bucket{le=\"+Inf\"} 4\n\
         latency_milliseconds_sum 30.5\n\
         latency_milliseconds_count 4\n"
    );
}

#[test]
fn summaries_render_quantiles() {
    let text = render(vec![Metric {
        name: "rpc.duration".into(),
        unit: "s".into(),
        data: Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                count: 10,
                sum: 2.5,
                quantile_values: vec![
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.2,
                    },
                    summary_data_point::ValueAtQuantile {
                        quantile: 0.99,
                        value: 0.9,
                    },
                ],
                attributes: vec![attr("method", "get")],
                ..Default::default()
            }],
        })),
        ..Default::default()
    }]);
    assert_eq!(
        text,
        "# TYPE rpc_duration_seconds summary\n\
         rpc_duration_seconds{method=\"get\",quantile=\"0.5\"} 0.2\n\
         rpc_duration_seconds{method=\"get\",quantile=\"0.99\"} 0.9\n\
         rpc_duration_seconds_sum{method=\"get\"} 2.5\n\
         rpc_duration_seconds_count{method=\"get\"} 10\n"
    );
}

#[test]
fn delta_monotonic_sums_accumulate_and_cumulative_ones_replace() {
    let store = store();
    let now = Instant::now();
    for value in [1.0, 2.0, 4.0] {
        store.update(
            &resource_metrics(
                vec![],
                vec![
                    sum("hits", true, DELTA, vec![point(value, &[])]),
                    sum("total.seen", true, CUMULATIVE, vec![point(value, &[])]),
                ],
            ),
            now,
        );
    }
    let text = store.render();
    assert!(text.contains("\nhits_total 7\n"), "{text}");
    assert!(text.contains("\ntotal_seen_total 4\n"), "{text}");
}

#[test]
fn series_expire_after_metric_expiration() {
    let store = Store::new(&BTreeMap::new(), Duration::from_millis(10));
    let start = Instant::now();
    store.update(
        &resource_metrics(vec![], vec![gauge("old", "", vec![point(1.0, &[])])]),
        start,
    );
    let later = start + Duration::from_millis(5);
    store.update(
        &resource_metrics(vec![], vec![gauge("new", "", vec![point(2.0, &[])])]),
        later,
    );
    assert_eq!(store.expire(start + Duration::from_millis(9)), 0);
    assert_eq!(store.expire(start + Duration::from_millis(12)), 1);
    assert_eq!(store.len(), 1);
    assert_eq!(store.render(), "# TYPE new gauge\nnew 2\n");
    assert_eq!(store.expire(start + Duration::from_millis(20)), 1);
    assert_eq!(store.render(), "");
}

#[test]
fn resource_becomes_job_instance_and_target_info() {
    for (resource, job_labels) in [
        (
            vec![
                ("service.name", "api"),
                ("service.namespace", "shop"),
                ("service.instance.id", "i-1"),
                ("host.name", "h"),
            ],
            "instance=\"i-1\",job=\"shop/api\"",
        ),
        (
            vec![("service.name", "api"), ("host.name", "h")],
            "job=\"api\"",
        ),
    ] {
        let store = store();
        let mut batch = resource_metrics(resource, vec![gauge("up", "", vec![point(1.0, &[])])]);
        batch[0].scope_metrics[0].scope = Some(InstrumentationScope {
            name: "lib".into(),
            version: "1.2".into(),
            ..Default::default()
        });
        store.update(&batch, Instant::now());
        assert_eq!(
            store.render(),
            format!(
                "# HELP target_info Target metadata\n\
                 # TYPE target_info gauge\n\
                 target_info{{host_name=\"h\",{job_labels}}} 1\n\
                 # TYPE up gauge\n\
                 up{{{job_labels},otel_scope_name=\"lib\",otel_scope_version=\"1.2\"}} 1\n"
            )
        );
    }
}

#[test]
fn const_labels_are_added_and_values_escaped() {
    let const_labels = BTreeMap::from([("env".to_string(), "prod".to_string())]);
    let store = Store::new(&const_labels, Duration::from_secs(60));
    store.update(
        &resource_metrics(
            vec![],
            vec![gauge(
                "g",
                "",
                vec![point(1.0, &[("path", "C:\\x \"y\"\nz")])],
            )],
        ),
        Instant::now(),
    );
    assert_eq!(
        store.render(),
        "# TYPE g gauge\ng{env=\"prod\",path=\"C:\\\\x \\\"y\\\"\\nz\"} 1\n"
    );
}

#[test]
fn exponential_histograms_are_skipped_and_counted() {
    let store = store();
    let outcome = store.update(
        &resource_metrics(
            vec![],
            vec![Metric {
                name: "exp".into(),
                data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![ExponentialHistogramDataPoint::default(); 2],
                    aggregation_temporality: CUMULATIVE,
                })),
                ..Default::default()
            }],
        ),
        Instant::now(),
    );
    assert_eq!(outcome.skipped_exponential_points, 2);
    assert_eq!(store.render(), "");
}

#[test]
fn validation_names_the_bad_keys() {
    let f = PrometheusExporterFactory;
    assert_eq!(f.validate(&toml("")), Ok(()));
    for (text, path) in [
        ("endpoint = \"nope\"", "endpoint"),
        ("metric_expiration = \"soon\"", "metric_expiration"),
        ("metric_expiration = \"0s\"", "metric_expiration"),
        (
            "const_labels = { \"bad-name\" = \"x\" }",
            "const_labels.bad-name",
        ),
        ("unknown = 1", "unknown"),
    ] {
        let errors = f.validate(&toml(text)).unwrap_err();
        assert_eq!(errors[0].path, path, "{text}");
    }
    assert_eq!(
        f.listen_addresses(&toml("")),
        vec![("endpoint".to_string(), "127.0.0.1:8889".parse().unwrap())]
    );
    assert_eq!(PrometheusConfig::default().metric_expiration, "5m");
}

#[tokio::test]
async fn serves_metrics_over_http_and_refuses_a_port_in_use() {
    crate::shared::test_support::install_crypto();
    let port = harrier_testkit::free_port();
    let config = toml(&format!(
        "endpoint = \"127.0.0.1:{port}\"\nconst_labels = {{ env = \"test\" }}"
    ));
    let exporter = PrometheusExporterFactory
        .build(&config, &ctx("prometheus"))
        .unwrap();
    exporter.start().await.unwrap();
    exporter.export(&metrics()).await.unwrap();
    assert!(exporter.export(&traces(1, "t")).await.is_err());

    let second = PrometheusExporterFactory
        .build(&config, &ctx("prometheus/2"))
        .unwrap();
    let error = second.start().await.unwrap_err();
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );

    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    let labels =
        "env=\"test\",job=\"checkout\",otel_scope_name=\"harrier.test\",otel_scope_version=\"1.0\"";
    for line in [
        format!("queue_depth_ratio{{{labels},queue=\"orders\"}} 42"),
        format!("requests_total{{{labels}}} 1.5"),
        // Two delta points of one series: accumulated.
        format!("latency_milliseconds_bucket{{{labels},le=\"+Inf\"}} 4"),
        "# TYPE latency_milliseconds histogram".to_string(),
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in\n{body}"
        );
    }
    let openmetrics = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text; version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        openmetrics.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = openmetrics.text().await.unwrap();
    assert!(body.contains("# TYPE requests counter\n"), "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    let missing = reqwest::get(format!("http://127.0.0.1:{port}/other"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    exporter.shutdown().await;
}

#[test]
fn openmetrics_names_families_without_total_and_ends_with_eof() {
    let store = store();
    store.update(
        &resource_metrics(
            vec![("service.name", "api"), ("host.name", "h")],
            vec![sum("hits", true, CUMULATIVE, vec![point(2.0, &[])])],
        ),
        Instant::now(),
    );
    assert_eq!(
        store.render_as(Format::OpenMetrics),
        "# HELP hits hits help\n\
         # TYPE hits counter\n\
         hits_total{job=\"api\"} 2\n\
         # HELP target Target metadata\n\
         # TYPE target info\n\
         target_info{host_name=\"h\",job=\"api\"} 1\n\
         # EOF\n"
    );
}

#[test]
fn staleness_markers_remove_the_series() {
    let store = store();
    let now = Instant::now();
    store.update(
        &resource_metrics(
            vec![],
            vec![gauge(
                "temp",
                "",
                vec![point(1.0, &[("room", "a")]), point(2.0, &[("room", "b")])],
            )],
        ),
        now,
    );
    let mut stale = point(f64::NAN, &[("room", "a")]);
    stale.flags = harrier_pdata::otlp::metrics::v1::DataPointFlags::NoRecordedValueMask as u32;
    store.update(
        &resource_metrics(vec![], vec![gauge("temp", "", vec![stale])]),
        now,
    );
    assert_eq!(store.render(), "# TYPE temp gauge\ntemp{room=\"b\"} 2\n");
}

//! Tests of the prometheus receiver: conversion, target population and config checks.
//! The whole receiver against HTTP targets is in `tests_scrape.rs`.

use super::config::PrometheusConfig;
use super::convert::{Options, TargetInfo, convert};
use super::discovery::TargetGroup;
use super::parse::{Exemplar, Family, MetricKind, Sample};
use super::relabel::Relabeler;
use super::series::{SeriesTracker, add_synthetic, all_stale};
use super::targets;
use harrier_pdata::otlp::common::v1::{KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::{
    DataPointFlags, Metric, ResourceMetrics, metric, number_data_point,
};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

fn target() -> TargetInfo {
    TargetInfo {
        job: "node".into(),
        instance: "10.0.0.1:9100".into(),
        host: "10.0.0.1".into(),
        port: Some(9100),
        scheme: "http",
        labels: vec![("env".into(), "prod".into())],
    }
}

fn sample<'a>(name: &'a str, labels: &[(&'a str, &'a str)], value: f64) -> Sample<'a> {
    Sample {
        name,
        labels: labels
            .iter()
            .map(|(k, v)| (*k, Cow::Borrowed(*v)))
            .collect(),
        value,
        timestamp_ms: None,
        exemplar: None,
    }
}

fn family<'a>(name: &'a str, kind: MetricKind, samples: Vec<Sample<'a>>) -> Family<'a> {
    Family {
        name,
        kind,
        help: Some(Cow::Borrowed("help text")),
        unit: None,
        samples,
    }
}

pub(super) fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
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

pub(super) fn metrics(resources: &[ResourceMetrics]) -> BTreeMap<String, Metric> {
    resources
        .iter()
        .flat_map(|r| r.scope_metrics.iter())
        .flat_map(|s| s.metrics.iter())
        .map(|m| (m.name.clone(), m.clone()))
        .collect()
}

pub(super) fn number(p: &harrier_pdata::otlp::metrics::v1::NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => f64::NAN,
    }
}

fn run(
    families: &[Family<'_>],
    tracker: &mut SeriesTracker,
    relabel: &Relabeler,
    honor_labels: bool,
    now_ms: i64,
) -> (Vec<ResourceMetrics>, super::Counts) {
    let options = Options {
        honor_labels,
        honor_timestamps: true,
        metric_relabel: relabel,
    };
    convert(families, &target(), &options, tracker, now_ms)
}

fn no_relabel() -> Relabeler {
    Relabeler::new(&[], "metric_relabel_configs").unwrap()
}

#[test]
fn counters_are_cumulative_sums_with_tracked_start_and_resets() {
    let relabel = no_relabel();
    let mut tracker = SeriesTracker::default();
    let fam = |v: f64| {
        vec![family(
            "requests_total",
            MetricKind::Counter,
            vec![sample("requests_total", &[("code", "200")], v)],
        )]
    };
    let (out, counts) = run(&fam(10.0), &mut tracker, &relabel, false, 1_000);
    assert_eq!(counts.scraped, 1);
    assert_eq!(counts.series_added, 1);
    let resource = attrs(&out[0].resource.as_ref().unwrap().attributes);
    assert_eq!(resource["service.name"], "node");
    assert_eq!(resource["service.instance.id"], "10.0.0.1:9100");
    assert_eq!(resource["server.address"], "10.0.0.1");
    assert_eq!(resource["server.port"], "9100");
    assert_eq!(resource["url.scheme"], "http");
    let m = &metrics(&out)["requests_total"];
    assert_eq!(m.description, "help text");
    let Some(metric::Data::Sum(sum)) = &m.data else {
        panic!("not a sum: {m:?}")
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2);
    let p = &sum.data_points[0];
    assert_eq!(number(p), 10.0);
    assert_eq!(p.start_time_unix_nano, 1_000_000_000);
    assert_eq!(p.time_unix_nano, 1_000_000_000);
    let a = attrs(&p.attributes);
    assert_eq!(a["code"], "200");
    assert_eq!(a["env"], "prod");
    assert!(!a.contains_key("job") && !a.contains_key("instance"));

    // Growing: same start. Dropping: a reset, new start just before the point.
    let (out, counts) = run(&fam(15.0), &mut tracker, &relabel, false, 2_000);
    assert_eq!(counts.series_added, 0);
    let Some(metric::Data::Sum(sum)) = &metrics(&out)["requests_total"].data else {
        panic!()
    };
    assert_eq!(sum.data_points[0].start_time_unix_nano, 1_000_000_000);
    let (out, _) = run(&fam(3.0), &mut tracker, &relabel, false, 3_000);
    let Some(metric::Data::Sum(sum)) = &metrics(&out)["requests_total"].data else {
        panic!()
    };
    assert_eq!(sum.data_points[0].start_time_unix_nano, 2_999_000_000);
    assert_eq!(number(&sum.data_points[0]), 3.0);
}

#[test]
fn created_gives_the_start_time_and_exemplars_carry_trace_ids() {
    let relabel = no_relabel();
    let mut tracker = SeriesTracker::default();
    let mut total = sample("rpc_total", &[], 7.0);
    total.exemplar = Some(Exemplar {
        labels: vec![
            (
                "trace_id",
                Cow::Borrowed("0102030405060708090a0b0c0d0e0f10"),
            ),
            ("span_id", Cow::Borrowed("0102030405060708")),
            ("user", Cow::Borrowed("x")),
        ],
        value: 1.0,
        timestamp_ms: Some(500),
    });
    let fams = vec![Family {
        unit: Some("seconds"),
        ..family(
            "rpc",
            MetricKind::Counter,
            vec![total, sample("rpc_created", &[], 100.5)],
        )
    }];
    let (out, counts) = run(&fams, &mut tracker, &relabel, false, 1_000_000);
    assert_eq!(counts.scraped, 2);
    let m = &metrics(&out)["rpc"];
    assert_eq!(m.unit, "seconds");
    let Some(metric::Data::Sum(sum)) = &m.data else {
        panic!()
    };
    assert_eq!(sum.data_points.len(), 1, "the _created sample is no point");
    let p = &sum.data_points[0];
    assert_eq!(p.start_time_unix_nano, 100_500_000_000);
    let e = &p.exemplars[0];
    assert_eq!(e.trace_id, (1..=16).collect::<Vec<u8>>());
    assert_eq!(e.span_id, (1..=8).collect::<Vec<u8>>());
    assert_eq!(e.time_unix_nano, 500_000_000);
    assert_eq!(attrs(&e.filtered_attributes)["user"], "x");
}

#[test]
fn histograms_and_summaries() {
    let relabel = no_relabel();
    let mut tracker = SeriesTracker::default();
    let fams = vec![
        family(
            "latency_seconds",
            MetricKind::Histogram,
            vec![
                sample(
                    "latency_seconds_bucket",
                    &[("path", "/a"), ("le", "0.1")],
                    2.0,
                ),
                sample(
                    "latency_seconds_bucket",
                    &[("path", "/a"), ("le", "1")],
                    5.0,
                ),
                sample(
                    "latency_seconds_bucket",
                    &[("path", "/a"), ("le", "+Inf")],
                    6.0,
                ),
                sample("latency_seconds_sum", &[("path", "/a")], 3.5),
                sample("latency_seconds_count", &[("path", "/a")], 6.0),
                sample(
                    "latency_seconds_bucket",
                    &[("path", "/b"), ("le", "0.1")],
                    0.0,
                ),
                sample(
                    "latency_seconds_bucket",
                    &[("path", "/b"), ("le", "+Inf")],
                    1.0,
                ),
                sample("latency_seconds_sum", &[("path", "/b")], 9.0),
                sample("latency_seconds_count", &[("path", "/b")], 1.0),
            ],
        ),
        family(
            "rpc_duration",
            MetricKind::Summary,
            vec![
                sample("rpc_duration", &[("quantile", "0.5")], 0.2),
                sample("rpc_duration", &[("quantile", "0.99")], 0.9),
                sample("rpc_duration_sum", &[], 12.0),
                sample("rpc_duration_count", &[], 40.0),
            ],
        ),
    ];
    let (out, counts) = run(&fams, &mut tracker, &relabel, false, 5_000);
    assert_eq!(counts.scraped, 13);
    assert_eq!(counts.series_added, 3);
    let all = metrics(&out);
    let Some(metric::Data::Histogram(h)) = &all["latency_seconds"].data else {
        panic!()
    };
    assert_eq!(h.aggregation_temporality, 2);
    assert_eq!(h.data_points.len(), 2);
    let a = &h.data_points[0];
    assert_eq!(attrs(&a.attributes)["path"], "/a");
    assert!(!attrs(&a.attributes).contains_key("le"));
    assert_eq!(a.explicit_bounds, vec![0.1, 1.0]);
    assert_eq!(a.bucket_counts, vec![2, 3, 1]);
    assert_eq!(a.count, 6);
    assert_eq!(a.sum, Some(3.5));
    assert_eq!(a.start_time_unix_nano, 5_000_000_000);
    let b = &h.data_points[1];
    assert_eq!(b.bucket_counts, vec![0, 1]);
    let Some(metric::Data::Summary(s)) = &all["rpc_duration"].data else {
        panic!()
    };
    let p = &s.data_points[0];
    assert_eq!(p.count, 40);
    assert_eq!(p.sum, 12.0);
    let q: Vec<(f64, f64)> = p
        .quantile_values
        .iter()
        .map(|q| (q.quantile, q.value))
        .collect();
    assert_eq!(q, vec![(0.5, 0.2), (0.99, 0.9)]);
}

#[test]
fn gauges_untyped_and_label_conflicts() {
    let relabel = no_relabel();
    let mut tracker = SeriesTracker::default();
    let fams = vec![
        family(
            "temperature",
            MetricKind::Gauge,
            vec![sample(
                "temperature",
                &[("job", "inner"), ("env", "dev"), ("room", "a")],
                21.5,
            )],
        ),
        family(
            "mystery",
            MetricKind::Unknown,
            vec![sample("mystery", &[], 1.0)],
        ),
    ];
    let (out, _) = run(&fams, &mut tracker, &relabel, false, 1_000);
    let all = metrics(&out);
    let Some(metric::Data::Gauge(g)) = &all["temperature"].data else {
        panic!()
    };
    let a = attrs(&g.data_points[0].attributes);
    assert_eq!(a["exported_job"], "inner");
    assert_eq!(a["exported_env"], "dev");
    assert_eq!(a["env"], "prod");
    assert_eq!(a["room"], "a");
    assert!(matches!(all["mystery"].data, Some(metric::Data::Gauge(_))));

    // honor_labels: the scraped values win; a scraped job makes its own resource.
    let mut tracker = SeriesTracker::default();
    let (out, _) = run(&fams, &mut tracker, &relabel, true, 1_000);
    assert_eq!(out.len(), 2);
    let inner = out
        .iter()
        .find(|r| attrs(&r.resource.as_ref().unwrap().attributes)["service.name"] == "inner")
        .unwrap();
    let Some(metric::Data::Gauge(g)) = &metrics(std::slice::from_ref(inner))["temperature"].data
    else {
        panic!()
    };
    assert_eq!(attrs(&g.data_points[0].attributes)["env"], "dev");
}

#[test]
fn vanished_series_and_down_targets_get_staleness_markers() {
    let relabel = no_relabel();
    let mut tracker = SeriesTracker::default();
    let both = vec![family(
        "g",
        MetricKind::Gauge,
        vec![
            sample("g", &[("k", "1")], 1.0),
            sample("g", &[("k", "2")], 2.0),
        ],
    )];
    let one = vec![family(
        "g",
        MetricKind::Gauge,
        vec![sample("g", &[("k", "1")], 1.0)],
    )];
    run(&both, &mut tracker, &relabel, false, 1_000);
    let (out, counts) = run(&one, &mut tracker, &relabel, false, 2_000);
    assert_eq!(counts.stale, 1);
    let Some(metric::Data::Gauge(g)) = &metrics(&out)["g"].data else {
        panic!()
    };
    assert_eq!(g.data_points.len(), 2);
    let stale = g
        .data_points
        .iter()
        .find(|p| attrs(&p.attributes)["k"] == "2")
        .unwrap();
    assert!(number(stale).is_nan());
    assert_eq!(stale.flags, DataPointFlags::NoRecordedValueMask as u32);
    assert_eq!(stale.time_unix_nano, 2_000_000_000);
    assert_eq!(tracker.len(), 1);

    // The target goes down: everything left is stale, and `up` says 0.
    let (mut out, n) = all_stale(&target(), &mut tracker, 3_000);
    assert_eq!(n, 1);
    assert!(tracker.is_empty());
    add_synthetic(&mut out, &target(), false, 0.25, &Default::default(), 3_000);
    let all = metrics(&out);
    let Some(metric::Data::Gauge(up)) = &all["up"].data else {
        panic!()
    };
    assert_eq!(number(&up.data_points[0]), 0.0);
    assert_eq!(attrs(&up.data_points[0].attributes)["env"], "prod");
    let Some(metric::Data::Gauge(d)) = &all["scrape_duration_seconds"].data else {
        panic!()
    };
    assert_eq!(number(&d.data_points[0]), 0.25);
    for name in [
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ] {
        assert!(all.contains_key(name), "{name} missing");
    }
}

fn job_of(toml_text: &str) -> super::config::Job {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    let config: PrometheusConfig = value.try_into().unwrap();
    config.jobs().unwrap().remove(0)
}

#[test]
fn targets_get_prometheus_default_labels_and_urls() {
    let job = job_of(
        r#"
        [[config.scrape_configs]]
        job_name = "blackbox"
        metrics_path = "/probe"
        scheme = "https"
        scrape_interval = "30s"
        params = { module = ["http_2xx"], target = ["a b"] }
        [[config.scrape_configs.static_configs]]
        targets = ["example:9115", "[::1]:9115"]
        labels = { team = "web" }
        "#,
    );
    assert_eq!(job.interval, Duration::from_secs(30));
    assert_eq!(job.timeout, Duration::from_secs(10));
    let groups = vec![TargetGroup {
        targets: job.config.static_configs[0].targets.clone(),
        labels: job.config.static_configs[0].labels.clone(),
        source: "static:0".into(),
    }];
    let (targets, errors) = targets::build(&job, &groups);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(targets.len(), 2);
    assert_eq!(
        targets[0].url,
        "https://example:9115/probe?module=http_2xx&target=a%20b"
    );
    assert_eq!(targets[0].info.job, "blackbox");
    assert_eq!(targets[0].info.instance, "example:9115");
    assert_eq!(targets[0].info.host, "example");
    assert_eq!(targets[0].info.port, Some(9115));
    assert_eq!(targets[0].info.labels, vec![("team".into(), "web".into())]);
    assert_eq!(targets[1].info.host, "::1");
    assert_ne!(targets[0].key, targets[1].key);
}

#[test]
fn bad_configs_name_their_keys() {
    let errors = |text: &str| -> Vec<String> {
        let value: toml::Value = toml::from_str(text).unwrap();
        match value.try_into::<PrometheusConfig>() {
            Ok(c) => match c.jobs() {
                Ok(_) => Vec::new(),
                Err(e) => e.iter().map(ToString::to_string).collect(),
            },
            Err(e) => vec![e.to_string()],
        }
    };
    let e = errors(
        r#"
        [[config.scrape_configs]]
        job_name = "a"
        scrape_interval = "5s"
        scrape_timeout = "10s"
        [[config.scrape_configs.static_configs]]
        targets = ["http://x:1/metrics"]
        [[config.scrape_configs]]
        job_name = "a"
        "#,
    );
    let all = e.join("\n");
    assert!(
        all.contains("config.scrape_configs[0].scrape_timeout"),
        "{all}"
    );
    assert!(
        all.contains("config.scrape_configs[0].static_configs[0].targets[0]"),
        "{all}"
    );
    assert!(all.contains("config.scrape_configs[1].job_name"), "{all}");
    assert!(
        all.contains("config.scrape_configs[1]: no targets"),
        "{all}"
    );
    assert!(!errors("[config]\nscrape_configs = []").is_empty());
    assert!(!errors("[config]\nbogus = 1").is_empty());
}

#[test]
fn relabel_configs_select_and_rewrite_targets() {
    let job = job_of(
        r#"
        [[config.scrape_configs]]
        job_name = "pods"
        [[config.scrape_configs.static_configs]]
        targets = ["10.0.0.1:8080", "10.0.0.2:8080"]
        labels = { __meta_pod_label_app = "web", __meta_keep = "yes" }
        [[config.scrape_configs.static_configs]]
        targets = ["10.0.0.3:8080"]
        labels = { __meta_pod_label_app = "db", __meta_keep = "no" }
        [[config.scrape_configs.relabel_configs]]
        source_labels = ["__meta_keep"]
        regex = "yes"
        action = "keep"
        [[config.scrape_configs.relabel_configs]]
        regex = "__meta_pod_label_(.+)"
        action = "labelmap"
        [[config.scrape_configs.relabel_configs]]
        source_labels = ["__address__"]
        regex = "(.+):8080"
        target_label = "__address__"
        replacement = "${1}:9090"
        [[config.scrape_configs.relabel_configs]]
        source_labels = ["app"]
        target_label = "__metrics_path__"
        replacement = "/$1/metrics"
        "#,
    );
    let groups = super::discovery::static_groups(&job.config.static_configs);
    let (targets, errors) = targets::build(&job, &groups);
    assert!(errors.is_empty(), "{errors:?}");
    let urls: Vec<&str> = targets.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "http://10.0.0.1:9090/web/metrics",
            "http://10.0.0.2:9090/web/metrics"
        ]
    );
    // instance defaults to the relabeled address; __meta_* labels are gone.
    assert_eq!(targets[0].info.instance, "10.0.0.1:9090");
    assert_eq!(targets[0].info.labels, vec![("app".into(), "web".into())]);
}

#[test]
fn metric_relabel_configs_drop_and_rename() {
    let job = job_of(
        r#"
        [[config.scrape_configs]]
        job_name = "node"
        [[config.scrape_configs.static_configs]]
        targets = ["10.0.0.1:9100"]
        [[config.scrape_configs.metric_relabel_configs]]
        source_labels = ["__name__"]
        regex = "go_.*"
        action = "drop"
        [[config.scrape_configs.metric_relabel_configs]]
        source_labels = ["device"]
        target_label = "disk"
        [[config.scrape_configs.metric_relabel_configs]]
        regex = "device"
        action = "labeldrop"
        "#,
    );
    let fams = vec![
        family(
            "go_goroutines",
            MetricKind::Gauge,
            vec![sample("go_goroutines", &[], 8.0)],
        ),
        family(
            "disk_reads_total",
            MetricKind::Counter,
            vec![sample("disk_reads_total", &[("device", "sda")], 5.0)],
        ),
    ];
    let mut tracker = SeriesTracker::default();
    let (out, counts) = run(&fams, &mut tracker, &job.metric_relabel, false, 1_000);
    assert_eq!(counts.scraped, 2);
    assert_eq!(counts.post_relabel, 1);
    let all = metrics(&out);
    assert!(!all.contains_key("go_goroutines"));
    let Some(metric::Data::Sum(sum)) = &all["disk_reads_total"].data else {
        panic!()
    };
    let a = attrs(&sum.data_points[0].attributes);
    assert_eq!(a["disk"], "sda");
    assert_eq!(a["env"], "prod");
    assert!(!a.contains_key("device"));
    let resource = attrs(&out[0].resource.as_ref().unwrap().attributes);
    assert_eq!(resource["service.name"], "node");
}

#[test]
fn targets_spread_over_the_interval() {
    let job = job_of(
        r#"
        [[config.scrape_configs]]
        job_name = "many"
        scrape_interval = "10s"
        [[config.scrape_configs.static_configs]]
        targets = []
        "#,
    );
    let targets: Vec<String> = (0..200)
        .map(|i| format!("10.0.{}.{}:9100", i / 250, i % 250))
        .collect();
    let groups = vec![TargetGroup {
        targets,
        labels: BTreeMap::new(),
        source: "static:0".into(),
    }];
    let (built, _) = targets::build(&job, &groups);
    assert_eq!(built.len(), 200);
    // Ten one-second slots: each gets some targets, none gets a crowd.
    let mut slots = [0usize; 10];
    for t in &built {
        let offset = super::scrape::offset_in_interval(t.key, job.interval);
        assert!(offset < job.interval);
        slots[offset.as_secs() as usize] += 1;
    }
    assert!(slots.iter().all(|n| (5..=40).contains(n)), "{slots:?}");
}

#[test]
fn exposed_timestamps_are_used_unless_honor_timestamps_is_off() {
    let relabel = no_relabel();
    let mut with_ts = sample("g", &[], 1.0);
    with_ts.timestamp_ms = Some(1_500);
    let fams = vec![family("g", MetricKind::Gauge, vec![with_ts])];
    let time = |honor: bool| {
        let options = Options {
            honor_labels: false,
            honor_timestamps: honor,
            metric_relabel: &relabel,
        };
        let (out, _) = convert(
            &fams,
            &target(),
            &options,
            &mut SeriesTracker::default(),
            9_000,
        );
        let Some(metric::Data::Gauge(g)) = &metrics(&out)["g"].data else {
            panic!()
        };
        g.data_points[0].time_unix_nano
    };
    assert_eq!(time(true), 1_500_000_000);
    assert_eq!(time(false), 9_000_000_000);
}

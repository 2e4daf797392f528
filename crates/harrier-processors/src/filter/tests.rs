#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::test_support::*;
use harrier_core::envelope::{DeliveryStatus, Envelope, Finalizers};
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_pdata::otlp::trace::v1::span::{Event, SpanKind};

fn run(config: &str, batch: Batch) -> (Vec<Envelope>, Telemetry) {
    let telemetry = Telemetry::new();
    let mut p = build(&FilterFactory, config, &telemetry);
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    (out, telemetry)
}

/// Names of the spans, or bodies of the log records, or names of the metrics kept.
fn kept(out: &[Envelope]) -> Vec<String> {
    let mut names = Vec::new();
    for e in out {
        match &e.batch {
            Batch::Traces(rs) => rs
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .for_each(|x| names.push(x.name.clone())),
            Batch::Logs(rl) => rl
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
                .for_each(|x| {
                    names.push(format!(
                        "{:?}",
                        x.body.as_ref().and_then(|b| b.value.as_ref())
                    ))
                }),
            Batch::Metrics(rm) => rm
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .filter(|m| harrier_pdata::metric_point_count(m.data.as_ref()) > 0)
                .for_each(|x| names.push(x.name.clone())),
        }
    }
    names
}

fn traffic() -> Batch {
    spans(
        "api",
        vec![
            (
                "GET /health",
                SpanKind::Server,
                0,
                vec![
                    kv("http.route", s("/health")),
                    kv("code", Value::IntValue(200)),
                ],
            ),
            (
                "GET /users",
                SpanKind::Server,
                2,
                vec![
                    kv("http.route", s("/users")),
                    kv("code", Value::IntValue(500)),
                ],
            ),
            ("db.query", SpanKind::Client, 1, vec![]),
            ("work", SpanKind::Internal, 0, vec![]),
        ],
    )
}

#[test]
fn span_conditions() {
    let all = ["GET /health", "GET /users", "db.query", "work"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (r#"{ name = "work" }"#, vec!["work"]),
        (
            r#"{ name = ["work", "db.query"] }"#,
            vec!["db.query", "work"],
        ),
        (r#"{ name = "wor" }"#, vec![]),
        (
            r#"{ name_matches = "^GET" }"#,
            vec!["GET /health", "GET /users"],
        ),
        (
            r#"{ name_matches = ["health$", "^db"] }"#,
            vec!["GET /health", "db.query"],
        ),
        (r#"{ kind = "internal" }"#, vec!["work"]),
        (
            r#"{ kind = ["SPAN_KIND_CLIENT", "server"] }"#,
            vec!["GET /health", "GET /users", "db.query"],
        ),
        (r#"{ status_code = "error" }"#, vec!["GET /users"]),
        (r#"{ status_code = "STATUS_CODE_OK" }"#, vec!["db.query"]),
        (
            r#"{ attribute = { key = "http.route", equals = "/health" } }"#,
            vec!["GET /health"],
        ),
        (
            r#"{ attribute = { key = "http.route", equals = "/healthz" } }"#,
            vec![],
        ),
        (
            r#"{ attribute = { key = "code", equals = 500 } }"#,
            vec!["GET /users"],
        ),
        (
            r#"{ attribute = { key = "code", equals = "500" } }"#,
            vec![],
        ),
        (
            r#"{ attribute = { key = "code", matches = "^[45]" } }"#,
            vec!["GET /users"],
        ),
        (
            r#"{ attribute = { key = "http.route" } }"#,
            vec!["GET /health", "GET /users"],
        ),
        (
            r#"{ resource_attribute = { key = "service.name", equals = "api" } }"#,
            all.to_vec(),
        ),
        (
            r#"{ resource_attribute = { key = "service.name", matches = "^web" } }"#,
            vec![],
        ),
        (
            r#"{ any = [{ kind = "internal" }, { status_code = "error" }] }"#,
            vec!["GET /users", "work"],
        ),
        (
            r#"{ all = [{ kind = "server" }, { status_code = "error" }] }"#,
            vec!["GET /users"],
        ),
        (
            r#"{ all = [{ kind = "client" }, { status_code = "error" }] }"#,
            vec![],
        ),
        (r#"{ not = { kind = "server" } }"#, vec!["db.query", "work"]),
    ];
    for (condition, dropped) in cases {
        let config = format!("traces.span = {condition}");
        let (out, telemetry) = run(&config, traffic());
        let want: Vec<String> = all
            .iter()
            .filter(|n| !dropped.contains(n))
            .map(|n| n.to_string())
            .collect();
        assert_eq!(kept(&out), want, "{condition}");
        let counted = telemetry.counter_value(
            "harrier_processor_filter_dropped_spans",
            &[("processor", "filter"), ("pipeline", "p")],
        );
        assert_eq!(counted, Some(dropped.len() as u64), "{condition}");
    }
}

#[test]
fn log_record_conditions() {
    let batch = || {
        logs(
            "api",
            vec![
                (5, "DEBUG", "cache miss", vec![]),
                (
                    9,
                    "INFO",
                    "GET /healthz 200",
                    vec![kv("path", s("/healthz"))],
                ),
                (13, "WARN", "slow request", vec![]),
                (0, "", "no severity", vec![]),
                (17, "ERROR", "failed", vec![kv("path", s("/pay"))]),
            ],
        )
    };
    let cases: Vec<(&str, usize)> = vec![
        (r#"{ severity_below = "INFO" }"#, 1),
        (r#"{ severity_below = "WARN" }"#, 2),
        (r#"{ severity_below = 17 }"#, 3),
        (r#"{ severity_below = "TRACE" }"#, 0),
        (r#"{ body_matches = "healthz" }"#, 1),
        (r#"{ body_matches = "^healthz" }"#, 0),
        (
            r#"{ any = [{ severity_below = "INFO" }, { body_matches = "healthz" }] }"#,
            2,
        ),
        (
            r#"{ all = [{ severity_below = "WARN" }, { body_matches = "healthz" }] }"#,
            1,
        ),
        (
            r#"{ attribute = { key = "path", matches = "^/health" } }"#,
            1,
        ),
        (
            r#"{ resource_attribute = { key = "service.name", equals = "api" } }"#,
            5,
        ),
    ];
    for (condition, dropped) in cases {
        let (out, telemetry) = run(&format!("logs.log_record = {condition}"), batch());
        let left = out.iter().map(|e| e.batch.item_count()).sum::<usize>();
        assert_eq!(left, 5 - dropped, "{condition}");
        assert_eq!(
            telemetry.counter_sum(
                "harrier_processor_filter_dropped_log_records",
                &[("processor", "filter")]
            ),
            dropped as u64,
            "{condition}"
        );
    }
}

#[test]
fn metric_names_include_and_exclude() {
    let every = ["gauge", "sum", "histogram", "exp_histogram", "summary"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Exclude by name.
        (
            r#"metrics.metric = { name = "sum" }"#,
            vec!["gauge", "histogram", "exp_histogram", "summary"],
        ),
        (
            r#"metrics.metric = { name_matches = "histogram$" }"#,
            vec!["gauge", "sum", "summary"],
        ),
        // Include (keep only) by name.
        (
            r#"metrics.metric = { not = { name_matches = ["^gauge$", "^sum$"] } }"#,
            vec!["gauge", "sum"],
        ),
        (
            r#"metrics.metric = { not = { name = "summary" } }"#,
            vec!["summary"],
        ),
        // Data points by attribute: every metric loses its only point and goes.
        (
            r#"metrics.data_point = { attribute = { key = "host", equals = "a" } }"#,
            vec![],
        ),
        (
            r#"metrics.data_point = { attribute = { key = "host", equals = "b" } }"#,
            every.to_vec(),
        ),
        (
            r#"metrics.data_point = { all = [{ name = "gauge" }, { attribute = { key = "host" } }] }"#,
            vec!["sum", "histogram", "exp_histogram", "summary"],
        ),
    ];
    for (config, want) in cases {
        let (out, telemetry) = run(config, metrics("api", vec![kv("host", s("a"))]));
        assert_eq!(kept(&out), want, "{config}");
        assert_eq!(
            telemetry.counter_sum("harrier_processor_filter_dropped_metric_points", &[]),
            (every.len() - want.len()) as u64,
            "{config}"
        );
    }
}

#[test]
fn span_events_are_dropped_from_kept_spans() {
    let mut batch = traffic();
    if let Batch::Traces(rs) = &mut batch {
        rs[0].scope_spans[0].spans[1].events = vec![
            Event {
                name: "exception".into(),
                ..Default::default()
            },
            Event {
                name: "retry".into(),
                attributes: vec![kv("n", Value::IntValue(1))],
                ..Default::default()
            },
        ];
    }
    let (out, telemetry) = run(
        r#"traces.span_event = { any = [{ name = "retry" }, { attribute = { key = "x" } }] }"#,
        batch,
    );
    let Batch::Traces(rs) = &out[0].batch else {
        panic!()
    };
    let events: Vec<&str> = rs[0].scope_spans[0].spans[1]
        .events
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(events, vec!["exception"]);
    assert_eq!(out[0].batch.item_count(), 4);
    assert_eq!(
        telemetry.counter_sum("harrier_processor_filter_dropped_span_events", &[]),
        1
    );
}

#[test]
fn empty_scope_and_resource_groups_are_removed() {
    let mut batch = traffic();
    let other = logs("web", vec![(9, "INFO", "keep", vec![])]);
    let mut logs_batch = logs("api", vec![(5, "DEBUG", "drop", vec![])]);
    logs_batch.append(other).unwrap();
    let (out, _) = run(
        r#"logs.log_record = { severity_below = "INFO" }"#,
        logs_batch,
    );
    let Batch::Logs(rl) = &out[0].batch else {
        panic!()
    };
    assert_eq!(rl.len(), 1, "the emptied resource group is gone");
    assert_eq!(
        resource_attributes(&out[0].batch),
        vec![vec![kv("service.name", s("web"))]]
    );
    // One scope of two emptied: only the other remains.
    if let Batch::Traces(rs) = &mut batch {
        let mut second = rs[0].scope_spans[0].clone();
        second.spans.truncate(1);
        rs[0].scope_spans.push(second);
    }
    let (out, _) = run(r#"traces.span = { name = "GET /health" }"#, batch);
    let Batch::Traces(rs) = &out[0].batch else {
        panic!()
    };
    assert_eq!(rs[0].scope_spans.len(), 1);
    assert_eq!(rs[0].scope_spans[0].spans.len(), 3);
}

#[tokio::test]
async fn an_envelope_dropped_whole_is_acknowledged() {
    let telemetry = Telemetry::new();
    let mut p = build(
        &FilterFactory,
        r#"traces.span = { resource_attribute = { key = "service.name", equals = "api" } }"#,
        &telemetry,
    );
    let (finalizers, receipt) = Finalizers::with_receipt();
    let mut out = Vec::new();
    p.process(Envelope::with_size(traffic(), finalizers, 100), &mut out);
    assert!(out.is_empty(), "nothing is passed on");
    assert_eq!(receipt.await.ok(), Some(DeliveryStatus::Delivered));
    assert_eq!(
        telemetry.counter_sum("harrier_processor_filter_dropped_spans", &[]),
        4
    );
}

#[tokio::test]
async fn a_partly_filtered_envelope_goes_on_with_its_finalizers() {
    let mut p = build(
        &FilterFactory,
        r#"traces.span = { kind = "internal" }"#,
        &Telemetry::new(),
    );
    let (finalizers, mut receipt) = Finalizers::with_receipt();
    let mut out = Vec::new();
    p.process(Envelope::with_size(traffic(), finalizers, 100), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].byte_size, 75,
        "the size estimate shrinks with the items"
    );
    assert!(
        receipt.try_recv().is_err(),
        "not acknowledged before delivery"
    );
    let envelope = out.remove(0);
    envelope.finalizers.update(DeliveryStatus::Delivered);
    drop(envelope);
    assert_eq!(receipt.await.ok(), Some(DeliveryStatus::Delivered));
}

#[test]
fn other_signals_and_unmatched_data_pass_untouched() {
    let (out, _) = run(r#"logs.log_record = { body_matches = "." }"#, traffic());
    assert_eq!(out[0].batch, traffic());
    let (out, _) = run("", metrics("api", vec![]));
    assert_eq!(out[0].batch, metrics("api", vec![]));
}

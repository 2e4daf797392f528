//! Processor tests: fields set, sources removed, spans passed on, the shared index,
//! enrichment rules and splitting (the helpers are shared with `tests_index`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests_extract::{S, T};
use super::*;
use harrier_core::component::SharedState;
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::attrs::{get_str, string_kv};
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::sync::Arc;

pub(super) const T_OTHER: &str = "0af7651916cd43dd8448eb211c80319c";
pub(super) const T_UNKNOWN: &str = "11111111111111111111111111111111";
pub(super) const S_ROOT: &str = "1111111111111111";
pub(super) const S_CHILD: &str = "2222222222222222";

pub(super) fn ctx(pipeline: &str, telemetry: &Telemetry, shared: &SharedState) -> BuildContext {
    BuildContext {
        id: ComponentId::parse("correlate").unwrap(),
        pipeline: Some(pipeline.into()),
        signals: Vec::new(),
        telemetry: telemetry.clone(),
        shared: shared.clone(),
    }
}

/// A traces instance and a logs instance sharing one index.
pub(super) fn pair(
    config: CorrelateConfig,
    telemetry: &Telemetry,
) -> (CorrelateProcessor, CorrelateProcessor) {
    let shared = SharedState::default();
    let traces = CorrelateProcessor::new(&config, &ctx("traces", telemetry, &shared)).unwrap();
    let logs = CorrelateProcessor::new(&config, &ctx("logs", telemetry, &shared)).unwrap();
    assert!(Arc::ptr_eq(traces.index(), logs.index()));
    (traces, logs)
}

fn resource(attributes: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes,
        ..Default::default()
    })
}

pub(super) fn span(trace: &str, span: &str, parent: &str, name: &str) -> Span {
    Span {
        trace_id: hex::decode(trace).unwrap(),
        span_id: hex::decode(span).unwrap(),
        parent_span_id: hex::decode(parent).unwrap(),
        name: name.into(),
        ..Default::default()
    }
}

pub(super) fn spans(resource_attributes: Vec<KeyValue>, spans: Vec<Span>) -> Batch {
    Batch::Traces(vec![ResourceSpans {
        resource: resource(resource_attributes),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }])
}

pub(super) fn record(attributes: Vec<KeyValue>, body: &str) -> LogRecord {
    LogRecord {
        attributes,
        body: Some(AnyValue {
            value: Some(Value::StringValue(body.into())),
        }),
        ..Default::default()
    }
}

pub(super) fn logs(resource_attributes: Vec<KeyValue>, records: Vec<LogRecord>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: resource(resource_attributes),
        scope_logs: vec![ScopeLogs {
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }])
}

pub(super) fn run(p: &mut CorrelateProcessor, batch: Batch) -> Batch {
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    assert_eq!(out.len(), 1);
    out.remove(0).batch
}

fn resource_logs(batch: Batch) -> Vec<ResourceLogs> {
    match batch {
        Batch::Logs(rl) => rl,
        other => panic!("not logs: {other:?}"),
    }
}

pub(super) fn only_record(batch: Batch) -> (Vec<KeyValue>, LogRecord) {
    let mut rl = resource_logs(batch);
    assert_eq!(rl.len(), 1);
    let r = rl.remove(0);
    let attrs = r.resource.map(|r| r.attributes).unwrap_or_default();
    (
        attrs,
        r.scope_logs
            .into_iter()
            .flat_map(|s| s.log_records)
            .next()
            .unwrap(),
    )
}

pub(super) fn checkout_spans() -> Batch {
    spans(
        vec![
            string_kv("service.name", "checkout"),
            string_kv("k8s.pod.name", "checkout-7d9"),
            string_kv("k8s.namespace.name", "shop"),
            string_kv("host.name", "node-1"),
        ],
        vec![
            span(T, S_ROOT, "", "GET /checkout"),
            span(T, S_CHILD, S_ROOT, "charge card"),
        ],
    )
}

#[test]
fn sets_ids_and_flags_and_keeps_existing_ids() {
    let (_, mut p) = pair(CorrelateConfig::default(), &Telemetry::new());
    let tp = format!("traceparent: 00-{T}-{S}-01");
    let (_, r) = only_record(run(&mut p, logs(vec![], vec![record(vec![], &tp)])));
    assert_eq!(
        (hex::encode(&r.trace_id), hex::encode(&r.span_id), r.flags),
        (T.into(), S.into(), 1)
    );
    // A record that has a trace id keeps it and its span id, whatever the body says.
    let mut existing = record(vec![string_kv("trace_id", T)], &tp);
    existing.trace_id = hex::decode(T_OTHER).unwrap();
    let (_, r) = only_record(run(&mut p, logs(vec![], vec![existing])));
    assert_eq!(hex::encode(&r.trace_id), T_OTHER);
    assert!(r.span_id.is_empty());
    assert_eq!(r.flags, 0);
    assert_eq!(get_str(&r.attributes, "trace_id"), Some(T));
}

#[test]
fn removes_source_attributes_only_when_asked() {
    let attributes = || {
        vec![
            string_kv("trace_id", T),
            string_kv("keep", "me"),
            string_kv("span_id", S),
            string_kv("traceparent", "00-ff-bad"),
        ]
    };
    let (_, mut keep) = pair(CorrelateConfig::default(), &Telemetry::new());
    let (_, r) = only_record(run(
        &mut keep,
        logs(vec![], vec![record(attributes(), "b")]),
    ));
    assert_eq!(r.attributes.len(), 4);
    let config = CorrelateConfig {
        remove_source_fields: true,
        ..CorrelateConfig::default()
    };
    let (_, mut remove) = pair(config, &Telemetry::new());
    let (_, r) = only_record(run(
        &mut remove,
        logs(vec![], vec![record(attributes(), "b")]),
    ));
    let keys: Vec<&str> = r.attributes.iter().map(|kv| kv.key.as_str()).collect();
    // The invalid traceparent was not a source: it stays.
    assert_eq!(keys, ["keep", "traceparent"]);
    assert_eq!(
        (hex::encode(&r.trace_id), hex::encode(&r.span_id)),
        (T.into(), S.into())
    );
    let tp = string_kv("traceparent", format!("00-{T}-{S}-01"));
    let body = format!("trace_id={T}");
    let (_, r) = only_record(run(
        &mut remove,
        logs(vec![], vec![record(vec![tp], &body)]),
    ));
    assert!(r.attributes.is_empty());
    let Some(Value::StringValue(kept)) = r.body.and_then(|b| b.value) else {
        panic!()
    };
    assert_eq!(kept, body, "bodies are never changed");
}

#[test]
fn spans_pass_through_unchanged_and_are_indexed() {
    let (mut traces, _) = pair(CorrelateConfig::default(), &Telemetry::new());
    let batch = checkout_spans();
    assert_eq!(run(&mut traces, batch.clone()), batch);
    assert_eq!(traces.index().len(), 2);
    // Invalid ids are not indexed.
    run(
        &mut traces,
        spans(vec![], vec![span(&"0".repeat(32), S, "", "zero")]),
    );
    assert_eq!(traces.index().len(), 2);
}

#[test]
fn shared_index_enriches_only_what_is_missing() {
    let (mut traces, mut p) = pair(CorrelateConfig::default(), &Telemetry::new());
    run(&mut traces, checkout_spans());
    // Fluent Bit style: pod metadata, no service. The log's own span is indexed.
    let fluent = vec![string_kv("k8s.namespace.name", "from-fluent-bit")];
    let (res, r) = only_record(run(
        &mut p,
        logs(
            fluent,
            vec![record(vec![], &format!("trace_id={T} span_id={S_CHILD}"))],
        ),
    ));
    assert_eq!(get_str(&r.attributes, "span.name"), Some("charge card"));
    assert_eq!(get_str(&res, "service.name"), Some("checkout"));
    assert_eq!(get_str(&res, "k8s.pod.name"), Some("checkout-7d9"));
    assert_eq!(get_str(&res, "k8s.namespace.name"), Some("from-fluent-bit"));
    assert_eq!(
        get_str(&res, "host.name"),
        None,
        "only service.name and k8s.*"
    );
    // Unknown span: the root's name; existing service and span.name are not overwritten.
    let own = vec![string_kv("service.name", "mine")];
    let attrs = vec![string_kv("span.name", "set by app")];
    let (res, r) = only_record(run(
        &mut p,
        logs(
            own,
            vec![record(attrs, &format!("trace_id={T} span_id={S}"))],
        ),
    ));
    assert_eq!(get_str(&r.attributes, "span.name"), Some("set by app"));
    assert_eq!(r.attributes.len(), 1);
    assert_eq!(get_str(&res, "service.name"), Some("mine"));
    assert_eq!(get_str(&res, "k8s.pod.name"), Some("checkout-7d9"));
    let (_, r) = only_record(run(
        &mut p,
        logs(vec![], vec![record(vec![], &format!("trace_id={T}"))]),
    ));
    assert_eq!(get_str(&r.attributes, "span.name"), Some("GET /checkout"));
    // Unknown trace: ids set, nothing added.
    let (res, r) = only_record(run(
        &mut p,
        logs(
            vec![],
            vec![record(vec![], &format!("trace_id={T_UNKNOWN}"))],
        ),
    ));
    assert_eq!(hex::encode(&r.trace_id), T_UNKNOWN);
    assert!(r.attributes.is_empty() && res.is_empty());
}

#[test]
fn unknown_span_of_a_multi_service_trace_gets_no_service() {
    let (mut traces, mut p) = pair(CorrelateConfig::default(), &Telemetry::new());
    run(&mut traces, checkout_spans());
    run(
        &mut traces,
        spans(
            vec![string_kv("service.name", "payments")],
            vec![span(T, S, S_CHILD, "authorize")],
        ),
    );
    let (res, r) = only_record(run(
        &mut p,
        logs(vec![], vec![record(vec![], &format!("trace_id={T}"))]),
    ));
    assert_eq!(get_str(&r.attributes, "span.name"), Some("GET /checkout"));
    assert!(res.is_empty());
    let (res, _) = only_record(run(
        &mut p,
        logs(
            vec![],
            vec![record(vec![], &format!("trace_id={T} span_id={S}"))],
        ),
    ));
    assert_eq!(get_str(&res, "service.name"), Some("payments"));
}

#[test]
fn records_of_different_services_split_their_resource() {
    let (mut traces, mut p) = pair(CorrelateConfig::default(), &Telemetry::new());
    run(&mut traces, checkout_spans());
    run(
        &mut traces,
        spans(
            vec![string_kv("service.name", "payments")],
            vec![span(T_OTHER, S, "", "authorize")],
        ),
    );
    let pod = vec![string_kv("k8s.node.name", "n1")];
    let batch = logs(
        pod,
        vec![
            record(vec![string_kv("n", "0")], &format!("trace_id={T_OTHER}")),
            record(vec![string_kv("n", "1")], "no context"),
            record(vec![string_kv("n", "2")], &format!("trace_id={T}")),
            record(vec![string_kv("n", "3")], &format!("trace_id={T_OTHER}")),
        ],
    );
    let rl = resource_logs(run(&mut p, batch));
    let summary: Vec<(Option<String>, Vec<String>)> = rl
        .iter()
        .map(|r| {
            let attrs = &r.resource.as_ref().unwrap().attributes;
            assert_eq!(get_str(attrs, "k8s.node.name"), Some("n1"));
            (
                get_str(attrs, "service.name").map(str::to_string),
                r.scope_logs
                    .iter()
                    .flat_map(|s| &s.log_records)
                    .map(|l| get_str(&l.attributes, "n").unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (None, vec!["1".to_string()]),
            (Some("payments".into()), vec!["0".into(), "3".into()]),
            (Some("checkout".into()), vec!["2".into()]),
        ]
    );
}

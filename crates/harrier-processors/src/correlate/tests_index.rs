//! Index bounds (TTL, `max_entries`), metrics, and the factory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::*;
use super::tests_extract::{S, T};
use super::*;
use harrier_core::component::SharedState;
use harrier_core::envelope::Envelope;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::attrs::{get_str, string_kv};
use std::time::Duration;

#[test]
fn ttl_expires_traces() {
    let config = CorrelateConfig {
        ttl: Duration::from_millis(50),
        ..CorrelateConfig::default()
    };
    let telemetry = Telemetry::new();
    let (mut traces, mut p) = pair(config, &telemetry);
    run(&mut traces, checkout_spans());
    std::thread::sleep(Duration::from_millis(80));
    let (_, r) = only_record(run(
        &mut p,
        logs(vec![], vec![record(vec![], &format!("trace_id={T}"))]),
    ));
    assert!(r.attributes.is_empty(), "expired trace must not link");
    assert!(p.index().is_empty());
    let gauge = telemetry.gauge(
        "harrier_processor_correlate_index_entries",
        "",
        &[("processor", "correlate")],
    );
    assert_eq!(gauge.get(), 0);
}

#[test]
fn max_entries_evicts_oldest_traces() {
    let config = CorrelateConfig {
        max_entries: 3,
        ..CorrelateConfig::default()
    };
    let telemetry = Telemetry::new();
    let (mut traces, mut p) = pair(config, &telemetry);
    run(&mut traces, checkout_spans()); // trace T: 2 spans
    run(
        &mut traces,
        spans(vec![], vec![span(T_OTHER, S, "", "other")]),
    );
    assert_eq!(traces.index().len(), 3);
    run(
        &mut traces,
        spans(vec![], vec![span(T_UNKNOWN, S, "", "newest")]),
    );
    // T (2 spans, oldest) is evicted whole.
    assert_eq!(traces.index().len(), 2);
    let gauge = telemetry.gauge(
        "harrier_processor_correlate_index_entries",
        "",
        &[("processor", "correlate")],
    );
    assert_eq!(gauge.get(), 2);
    let names: Vec<Option<String>> = [T, T_OTHER, T_UNKNOWN]
        .iter()
        .map(|t| {
            let (_, r) = only_record(run(
                &mut p,
                logs(vec![], vec![record(vec![], &format!("trace_id={t}"))]),
            ));
            get_str(&r.attributes, "span.name").map(str::to_string)
        })
        .collect();
    assert_eq!(
        names,
        vec![None, Some("other".into()), Some("newest".into())]
    );
    // Spans added to an existing trace count too.
    run(
        &mut traces,
        spans(
            vec![],
            vec![
                span(T_UNKNOWN, S_ROOT, "", "a"),
                span(T_UNKNOWN, S_CHILD, "", "b"),
            ],
        ),
    );
    assert_eq!(traces.index().len(), 3);
}

#[test]
fn counts_seen_with_context_and_linked() {
    let telemetry = Telemetry::new();
    let (mut traces, mut p) = pair(CorrelateConfig::default(), &telemetry);
    run(&mut traces, checkout_spans());
    let mut preset = record(vec![], "x");
    preset.trace_id = hex::decode(T).unwrap();
    run(
        &mut p,
        logs(
            vec![],
            vec![
                preset,
                record(vec![], &format!("trace_id={T_UNKNOWN}")),
                record(vec![], "nothing here"),
                record(vec![string_kv("traceId", T)], ""),
            ],
        ),
    );
    let value = |name: &str| {
        telemetry
            .counter_value(name, &[("processor", "correlate"), ("pipeline", "logs")])
            .unwrap()
    };
    assert_eq!(value("harrier_processor_correlate_logs_seen"), 4);
    assert_eq!(
        value("harrier_processor_correlate_logs_with_trace_context"),
        3
    );
    assert_eq!(value("harrier_processor_correlate_logs_linked"), 2);
    let text = telemetry.render();
    assert!(
        text.contains("harrier_processor_correlate_index_entries{processor=\"correlate\"} 2"),
        "{text}"
    );
}

#[test]
fn factory_validates_and_builds_for_traces_and_logs() {
    let errs = CorrelateFactory
        .validate(&toml::from_str("max_entries = 0\nttl = \"0s\"").unwrap())
        .unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["max_entries", "ttl"]);
    let errs = CorrelateFactory
        .validate(&toml::from_str("ttl = \"soon\"").unwrap())
        .unwrap_err();
    assert_eq!(errs[0].path, "ttl");
    let errs = CorrelateFactory
        .validate(&toml::from_str("max_entry = 5").unwrap())
        .unwrap_err();
    assert!(errs[0].message.contains("max_entry"), "{errs:?}");
    assert!(
        CorrelateFactory
            .validate(&toml::from_str("").unwrap())
            .is_ok()
    );
    assert_eq!(CorrelateFactory.signals(), &[Signal::Traces, Signal::Logs]);
    let config =
        toml::from_str("max_entries = 10\nttl = \"1m\"\nremove_source_fields = true").unwrap();
    let parsed: CorrelateConfig = parse_config(&config).unwrap();
    assert_eq!(
        parsed,
        CorrelateConfig {
            max_entries: 10,
            ttl: Duration::from_secs(60),
            remove_source_fields: true
        }
    );
    let shared = SharedState::default();
    let telemetry = Telemetry::new();
    let mut traces = CorrelateFactory
        .build(&config, &ctx("traces", &telemetry, &shared))
        .unwrap();
    let mut logs_p = CorrelateFactory
        .build(&config, &ctx("logs", &telemetry, &shared))
        .unwrap();
    let mut out = Vec::new();
    traces.process(Envelope::new(checkout_spans()), &mut out);
    logs_p.process(
        Envelope::new(logs(vec![], vec![record(vec![], &format!("trace_id={T}"))])),
        &mut out,
    );
    let (res, r) = only_record(out.remove(1).batch);
    assert_eq!(get_str(&r.attributes, "span.name"), Some("GET /checkout"));
    assert_eq!(get_str(&res, "service.name"), Some("checkout"));
}

#[test]
fn index_expiry_is_exact_with_explicit_instants() {
    let gauge = harrier_core::telemetry::Gauge::default();
    let index = SpanIndex::new(10, Duration::from_secs(5), gauge.clone());
    let t0 = std::time::Instant::now();
    let Batch::Traces(rs) = checkout_spans() else {
        panic!()
    };
    index.insert(&rs, t0);
    index.insert(&rs, t0); // the same spans again: not counted twice
    assert_eq!((index.len(), gauge.get()), (2, 2));
    let trace: TraceId = hex::decode(T).unwrap().try_into().unwrap();
    let name_at = |at| index.with_lookup(at, |lookup| lookup(&trace, None).map(|l| l.span_name));
    assert_eq!(
        name_at(t0 + Duration::from_millis(4999)),
        Some("GET /checkout".into())
    );
    assert_eq!(name_at(t0 + Duration::from_secs(5)), None);
    assert_eq!((index.len(), gauge.get()), (0, 0));
}

#[test]
fn spans_per_trace_are_capped_and_the_root_is_kept() {
    let index = SpanIndex::new(100_000, Duration::from_secs(60), Default::default());
    let now = std::time::Instant::now();
    let children: Vec<_> = (1..=index::MAX_SPANS_PER_TRACE + 10)
        .map(|i| span(T, &format!("{i:016x}"), S_ROOT, &format!("child-{i}")))
        .collect();
    let Batch::Traces(rs) = spans(vec![], children) else {
        panic!()
    };
    index.insert(&rs, now);
    assert_eq!(index.len(), index::MAX_SPANS_PER_TRACE);
    let trace: TraceId = hex::decode(T).unwrap().try_into().unwrap();
    let fallback = || index.with_lookup(now, |lookup| lookup(&trace, None).unwrap().span_name);
    assert_eq!(fallback(), "child-1", "no root yet: the first-seen span");
    let Batch::Traces(rs) = spans(vec![], vec![span(T, S_ROOT, "", "root")]) else {
        panic!()
    };
    index.insert(&rs, now);
    assert_eq!(index.len(), index::MAX_SPANS_PER_TRACE);
    assert_eq!(fallback(), "root");
}

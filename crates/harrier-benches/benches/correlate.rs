//! Bench `correlate`: the correlate processor on 1000-record log envelopes whose text
//! bodies carry a W3C `traceparent` (`traceparent_linked`: every trace indexed, so
//! records also get `span.name` and the resource `service.name`;
//! `traceparent_unknown`: ids set, nothing indexed), and records with no ids at all
//! (`no_ids`: the prefilter path).
//!
//! Throughput is in log records. Each iteration gets a fresh copy of the input, made
//! outside the timing (the processor fills the ids in place).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use harrier_core::component::{BuildContext, Processor, SharedState};
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::attrs::string_kv;
use harrier_pdata::otlp::common::v1::{AnyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span};
use harrier_processors::correlate::{CorrelateConfig, CorrelateProcessor};

const RECORDS: usize = 1000;

fn ids(i: usize) -> ([u8; 16], [u8; 8]) {
    let mut trace = [0xabu8; 16];
    trace[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    (trace, (i as u64 + 1).to_be_bytes())
}

fn logs(body: impl Fn(usize) -> String) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![string_kv("k8s.pod.name", "web-1")],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: (0..RECORDS)
                .map(|i| LogRecord {
                    time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                    severity_number: 9,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(body(i))),
                    }),
                    attributes: vec![string_kv("log.file.name", "app.log")],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

fn spans() -> Batch {
    Batch::Traces(vec![ResourceSpans {
        resource: Some(Resource {
            attributes: vec![string_kv("service.name", "web")],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: (0..RECORDS)
                .map(|i| Span {
                    trace_id: ids(i).0.to_vec(),
                    span_id: ids(i).1.to_vec(),
                    name: format!("GET /item/{i}"),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

fn pair() -> (CorrelateProcessor, CorrelateProcessor) {
    let shared = SharedState::default();
    let telemetry = Telemetry::new();
    let ctx = |pipeline: &str| BuildContext {
        id: ComponentId::parse("correlate").unwrap(),
        pipeline: Some(pipeline.into()),
        signals: Vec::new(),
        telemetry: telemetry.clone(),
        shared: shared.clone(),
    };
    let config = CorrelateConfig::default();
    (
        CorrelateProcessor::new(&config, &ctx("traces")).unwrap(),
        CorrelateProcessor::new(&config, &ctx("logs")).unwrap(),
    )
}

fn correlate(c: &mut Criterion) {
    let traceparent = |i: usize| {
        let (trace, span) = ids(i);
        format!(
            "2026-11-23T12:00:00Z INFO GET /item/{i} 200 in 3ms traceparent: 00-{}-{}-01",
            hex_string(&trace),
            hex_string(&span)
        )
    };
    let plain = |i: usize| format!("2026-11-23T12:00:00Z INFO GET /item/{i} 200 in 3ms user=42");
    let mut group = c.benchmark_group("correlate");
    group.throughput(Throughput::Elements(RECORDS as u64));
    for (name, input, index) in [
        ("traceparent_linked", logs(traceparent), true),
        ("traceparent_unknown", logs(traceparent), false),
        ("no_ids", logs(plain), false),
    ] {
        let (mut traces, mut processor) = pair();
        if index {
            let mut out = Vec::new();
            traces.process(Envelope::new(spans()), &mut out);
        }
        let byte_size = input.byte_size();
        group.bench_function(name, |b| {
            b.iter_batched(
                || Envelope::with_size(input.clone(), Default::default(), byte_size),
                |envelope| {
                    let mut out = Vec::with_capacity(1);
                    processor.process(envelope, &mut out);
                    out
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = correlate
}
criterion_main!(benches);

//! Bench `attributes`: the `attributes` processor (3 actions: insert, hash, delete by
//! pattern; with and without an `include` block) and the `filter` processor (a span
//! condition that keeps every span, and one that drops a tenth) on 1000-span batches.
//!
//! Throughput is in spans. Input batches are cloned outside the timed section.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use harrier_core::component::{BuildContext, Processor, ProcessorFactory};
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_processors::attributes::AttributesFactory;
use harrier_processors::filter::FilterFactory;

const SPANS: usize = 1000;

fn build(factory: &dyn ProcessorFactory, id: &str, config: &str) -> Box<dyn Processor> {
    let ctx = BuildContext::new(ComponentId::parse(id).unwrap(), Telemetry::new());
    factory
        .build(&toml::from_str(config).unwrap(), &ctx)
        .unwrap()
}

const ACTIONS: &str = r#"actions = [
    { key = "deployment.environment", value = "production", action = "insert" },
    { key = "loadgen.attribute.0", action = "hash" },
    { pattern = "^loadgen\\.attribute\\.[34]$", action = "delete" },
]"#;

fn attributes_and_filter(c: &mut Criterion) {
    let template = Envelope::new(common::batch(SPANS));
    let cases: Vec<(&str, &dyn ProcessorFactory, String)> = vec![
        ("attributes_3_actions", &AttributesFactory, ACTIONS.to_string()),
        (
            "attributes_3_actions_include",
            &AttributesFactory,
            format!("{ACTIONS}\ninclude = {{ match_type = \"regexp\", span_names = [\"operation-[0-4]$\"] }}"),
        ),
        (
            "filter_keep_all",
            &FilterFactory,
            r#"traces.span = { any = [{ kind = "client" }, { attribute = { key = "http.route", equals = "/health" } }] }"#.to_string(),
        ),
        (
            "filter_drop_tenth",
            &FilterFactory,
            r#"traces.span = { any = [{ name_matches = "operation-3$" }, { attribute = { key = "loadgen.attribute.1", equals = -1 } }] }"#.to_string(),
        ),
    ];
    let mut group = c.benchmark_group("attributes");
    group.throughput(Throughput::Elements(SPANS as u64));
    for (name, factory, config) in cases {
        let id = if name.starts_with("filter") {
            "filter"
        } else {
            "attributes"
        };
        let mut processor = build(factory, id, &config);
        let mut out = Vec::with_capacity(1);
        group.bench_function(name, |b| {
            b.iter_batched(
                || template.fork(),
                |envelope| {
                    processor.process(envelope, &mut out);
                    out.pop()
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = attributes_and_filter
}
criterion_main!(benches);

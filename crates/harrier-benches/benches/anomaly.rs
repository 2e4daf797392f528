//! Bench `anomaly`: the security `anomaly` processor (default detectors and rules) on
//! Kubernetes audit records shaped as the `k8s_audit` receiver maps them, 100 records
//! per envelope.
//!
//! - `steady_state`: 200 identities (kubelets, controller service accounts, people),
//!   past their learning period, making calls their baselines already hold: nothing is
//!   tagged, every record is looked up in the `novel_api_call` and `novel_source`
//!   baselines.
//! - `novel_and_denied`: the same with 1 record in 100 an identity's first call (a
//!   `get secrets` in a namespace never seen before) and 1 in 100 a 403 denial.
//! - `pod_creates`: `create pods` with the pod in `k8s.audit.request_object` (a
//!   realistic spec: containers, probes, env, volumes, security context); the stateless
//!   rules walk every spec, `novel_image` looks the images up; 2 pods in 100 break a
//!   rule (privileged, a `hostPath` of the container runtime socket).
//!
//! The processor is built through `AnomalyFactory` (the `ProcessorFactory` the topology
//! uses) from a TOML section, and learns every template batch at `T0`; the timed
//! batches are two days later. Each timed batch is a fresh copy of a template with new
//! `k8s.audit.id`s (the processor drops repeated `(id, stage)` pairs), new event times
//! and, for `novel_and_denied`, a new namespace in the novel call, all made outside the
//! timing. Throughput is in audit records. The identities, their calls and the records
//! are built in `anomaly_traffic/`.
//!
//! Before the timings, `baseline_memory` (not a criterion bench) prints how much resident
//! memory the baselines take for 100,000 identities, the entity counts the processor
//! reports in `harrier_processor_anomaly_entities`, and the size of the persisted
//! snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anomaly_traffic;
mod common;

use anomaly_traffic::{
    DAY, ID_INDEX, Identity, Kind, MS, NOVEL_AT, RECORDS, T0, audit_attributes, audit_id,
    audit_record, call, logs, pod_create_batches, records_mut, routine_batches, set_string,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use harrier_core::component::{BuildContext, Factory, Processor, ProcessorFactory};
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::any_value::Value;
use harrier_security::anomaly::store::snapshot_path;
use harrier_security::anomaly::{AnomalyFactory, STATEFUL, TYPES_ATTRIBUTE};

/// Identities for the memory measurement.
const MEMORY_IDENTITIES: usize = 100_000;

/// Hands out copies of the template batches with fresh audit ids and event times.
struct Feed {
    templates: Vec<Batch>,
    next: usize,
    clock: u64,
    audit_ids: u64,
    /// The record whose namespace is made new in every copy (the novel call).
    novel: Option<usize>,
}

impl Feed {
    fn new(templates: Vec<Batch>, novel: Option<usize>) -> Feed {
        Feed {
            templates,
            next: 0,
            clock: T0,
            audit_ids: 0,
            novel,
        }
    }

    /// The next copy, 1 ms of event time per record.
    fn batch(&mut self) -> Batch {
        let mut batch = self.templates[self.next % self.templates.len()].clone();
        self.next += 1;
        for (at, record) in records_mut(&mut batch).enumerate() {
            self.clock += MS;
            self.audit_ids += 1;
            record.time_unix_nano = self.clock;
            record.observed_time_unix_nano = self.clock + 2 * MS;
            set_string(&mut record.attributes[ID_INDEX], audit_id(self.audit_ids));
            if self.novel == Some(at)
                && let Some(ns) = record
                    .attributes
                    .iter_mut()
                    .find(|a| a.key == "k8s.namespace.name")
            {
                set_string(ns, format!("feature-{}", self.audit_ids));
            }
        }
        batch
    }

    /// One copy of every template, at the current event time (the learning pass).
    fn learn(&mut self, processor: &mut dyn Processor) {
        for _ in 0..self.templates.len() {
            let mut out = Vec::with_capacity(1);
            processor.process(Envelope::new(self.batch()), &mut out);
        }
    }
}

/// An `anomaly` processor built from `section` as the topology builds it.
fn processor(section: &str, telemetry: &Telemetry) -> Box<dyn Processor> {
    let config: toml::Value = toml::from_str(section).unwrap();
    AnomalyFactory.validate(&config).unwrap();
    let ctx = BuildContext::new(ComponentId::parse("anomaly").unwrap(), telemetry.clone());
    ProcessorFactory::build(&AnomalyFactory, &config, &ctx).unwrap()
}

/// `security.anomaly.types` of every tagged record of `batch`, counted.
fn tagged(batch: &Batch) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut types = Vec::new();
    if let Batch::Logs(resource_logs) = batch {
        for record in resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
        {
            let found = record.attributes.iter().find(|a| a.key == TYPES_ATTRIBUTE);
            if let Some(Value::ArrayValue(list)) = found
                .and_then(|a| a.value.as_ref())
                .and_then(|v| v.value.as_ref())
            {
                count += 1;
                for v in &list.values {
                    if let Some(Value::StringValue(t)) = &v.value
                        && !types.contains(t)
                    {
                        types.push(t.clone());
                    }
                }
            }
        }
    }
    (count, types)
}

fn anomaly(c: &mut Criterion) {
    let mut group = c.benchmark_group("anomaly");
    group.throughput(Throughput::Elements(RECORDS as u64));
    let cases = [
        ("steady_state", routine_batches(false), None),
        ("novel_and_denied", routine_batches(true), Some(NOVEL_AT)),
        ("pod_creates", pod_create_batches(), None),
    ];
    for (name, templates, novel) in cases {
        let telemetry = Telemetry::new();
        let mut processor = processor("", &telemetry);
        let mut feed = Feed::new(templates, novel);
        feed.learn(processor.as_mut());
        feed.clock = T0 + 2 * DAY;
        // What one timed batch looks like once the baselines have learned.
        let mut out = Vec::with_capacity(1);
        processor.process(Envelope::new(feed.batch()), &mut out);
        let (count, types) = tagged(&out[0].batch);
        println!("anomaly/{name}: {count} of {RECORDS} records tagged {types:?}");
        group.bench_function(name, |b| {
            b.iter_batched(
                || Envelope::new(feed.batch()),
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

// ---- memory per identity --------------------------------------------------------

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Feeds `identities` distinct service accounts, each from its own address and user
/// agent, each making 4 distinct calls, in envelopes of [`RECORDS`] records.
fn feed_identities(processor: &mut dyn Processor, identities: usize, audit_ids: &mut u64) {
    let mut records = Vec::with_capacity(RECORDS);
    let mut t = T0;
    for i in 0..identities {
        let ns = format!("tenant-{}", i % 1000);
        let who = Identity {
            name: format!("system:serviceaccount:{ns}:worker-{i}"),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:authenticated".into(),
            ],
            address: format!("10.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256),
            agent: format!("worker-{}/v2.4.0 (linux/amd64) kubernetes/$Format", i % 50),
            namespace: ns.clone(),
            kind: Kind::Controller,
        };
        let lease = format!("worker-{i}");
        for c in [
            call(
                "update",
                Some("coordination.k8s.io"),
                "leases",
                Some(&ns),
                Some(&lease),
            ),
            call("list", None, "configmaps", Some(&ns), None),
            call("watch", None, "pods", Some(&ns), None),
            call("create", None, "events", Some(&ns), None),
        ] {
            *audit_ids += 1;
            t += MS;
            let status = if c.verb == "create" { 201 } else { 200 };
            let mut record = audit_record(
                audit_attributes(&who, &c, status, *audit_ids),
                &who,
                &c,
                status,
            );
            record.time_unix_nano = t;
            records.push(record);
            if records.len() == RECORDS {
                let mut out = Vec::with_capacity(1);
                processor.process(Envelope::new(logs(std::mem::take(&mut records))), &mut out);
            }
        }
    }
    let mut out = Vec::with_capacity(1);
    processor.process(Envelope::new(logs(records)), &mut out);
}

/// The `harrier_processor_anomaly_entities` lines of the processor's metrics.
fn entity_gauges(telemetry: &Telemetry) -> Vec<String> {
    telemetry
        .render()
        .lines()
        .filter(|l| l.starts_with("harrier_processor_anomaly_entities{") && !l.ends_with(" 0"))
        .map(str::to_string)
        .collect()
}

/// Prints the resident memory the baselines of [`MEMORY_IDENTITIES`] identities take,
/// the entity counts the processor reports, the memory of a full dedupe set, and the
/// size of the persisted snapshot.
///
/// The baselines are measured on a processor whose dedupe set holds one pair, so only
/// they grow; the dedupe set is measured next on a processor with every stateful
/// detector off; the snapshot is written last, as serialising it frees memory the
/// allocator keeps (and would hand to anything measured after it).
fn baseline_memory() {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let n = MEMORY_IDENTITIES as f64;
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::new();
    let section = format!(
        "max_entities = 200000\ndedupe_capacity = 1\nstorage_dir = {:?}\n",
        dir.path().display().to_string()
    );
    let mut baselines = processor(&section, &telemetry);
    let mut audit_ids = 0;
    // Touch the code paths and the allocator first.
    feed_identities(baselines.as_mut(), 100, &mut audit_ids);
    let before = rss_kib();
    feed_identities(baselines.as_mut(), MEMORY_IDENTITIES, &mut audit_ids);
    let growth = rss_kib().saturating_sub(before);
    println!(
        "anomaly baselines: {MEMORY_IDENTITIES} identities, {:.1} MiB RSS growth, {:.2} KiB per \
         identity, {:.1} MiB per 10k identities",
        mib(growth),
        growth as f64 / n,
        mib(growth) * 10_000.0 / n
    );
    for line in entity_gauges(&telemetry) {
        println!("  {line}");
    }

    // A full dedupe set (default capacity 100000) and nothing else.
    let mut section = String::new();
    for name in STATEFUL {
        section.push_str(&format!("[detectors.{name}]\nenabled = false\n"));
    }
    let mut dedupe_only = processor(&section, &Telemetry::new());
    let before = rss_kib();
    feed_identities(dedupe_only.as_mut(), 25_000, &mut audit_ids);
    let growth = rss_kib().saturating_sub(before);
    println!(
        "anomaly dedupe: 100000 (id, stage) pairs, {:.1} MiB RSS growth",
        mib(growth)
    );

    let started = std::time::Instant::now();
    baselines.flush(&mut Vec::new());
    let took = started.elapsed();
    let bytes = std::fs::metadata(snapshot_path(dir.path(), "anomaly"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "anomaly snapshot: {:.1} MiB written in {took:.2?}, {:.0} bytes per identity, {:.1} MiB \
         per 10k identities",
        bytes as f64 / 1048576.0,
        bytes as f64 / n,
        bytes as f64 / 1048576.0 * 10_000.0 / n
    );
    drop((baselines, dedupe_only));
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = anomaly
}

fn main() {
    if !std::env::args().any(|a| a == "--list") {
        baseline_memory();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

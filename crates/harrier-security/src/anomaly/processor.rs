//! The per-pipeline processor: finds the items detectors look at, runs them under the
//! shared engine's lock (once per batch) and tags the items with findings in place.

use super::config::{AnomalyConfig, STATEFUL};
use super::engine::Engine;
use super::names::attr_str;
use super::store::SharedBaselines;
use super::verdicts::{Lookup, fingerprint};
use crate::audit::AuditView;
use crate::finding::{Finding, Severity};
use crate::rules::{self, RuleSet};
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::Envelope;
use harrier_core::error::ConfigError;
use harrier_core::telemetry::{Counter, Telemetry};
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs};
use harrier_pdata::otlp::trace::v1::{ResourceSpans, span::SpanKind};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// String array: the detector and rule names that fired, in order, each once.
pub const TYPES_ATTRIBUTE: &str = "security.anomaly.types";
/// String: the highest severity of the findings (`low` .. `critical`).
pub const SEVERITY_ATTRIBUTE: &str = "security.anomaly.severity";
/// String array: one sentence per finding, in the order of the findings.
pub const REASON_ATTRIBUTE: &str = "security.anomaly.reason";

/// One pipeline's instance of an `anomaly` processor; the baselines are shared.
pub struct AnomalyProcessor {
    shared: Arc<SharedBaselines>,
    /// This instance's index among the instances sharing `shared`.
    instance: u32,
    rules: RuleSet,
    snapshot_interval: Duration,
    next_snapshot: Option<Instant>,
    telemetry: Telemetry,
    id: String,
    findings: BTreeMap<&'static str, Counter>,
    duplicates: Counter,
    scratch: Vec<Finding>,
}

impl AnomalyProcessor {
    /// An instance for `ctx.pipeline`, sharing the baselines of every instance of
    /// `ctx.id` through `ctx.shared` (they are created, and loaded from `storage_dir`,
    /// by the first instance built).
    ///
    /// # Errors
    /// A [`ConfigError`] for an invalid config (normally caught by `validate`).
    pub fn new(config: &AnomalyConfig, ctx: &BuildContext) -> Result<Self, ConfigError> {
        let first = |errors: Vec<ConfigError>| {
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| ConfigError::new("", "invalid configuration"))
        };
        let settings = config.detector_settings().map_err(first)?;
        let rules = RuleSet::from_config(&config.detectors).map_err(first)?;
        let shared = ctx
            .shared
            .get_or_init(&ctx.id, || SharedBaselines::new(config, settings, ctx));
        let id = ctx.id.to_string();
        let findings = STATEFUL
            .iter()
            .chain(rules::NAMES)
            .map(|name| (*name, findings_counter(&ctx.telemetry, &id, name)))
            .collect();
        let next_snapshot = shared
            .file()
            .map(|_| Instant::now() + config.snapshot_interval);
        let instance = shared.register_instance();
        Ok(AnomalyProcessor {
            instance,
            duplicates: ctx.telemetry.counter(
                "harrier_processor_anomaly_duplicates",
                "Audit events skipped because their (k8s.audit.id, k8s.audit.stage) was already seen.",
                &[("processor", id.as_str())],
            ),
            shared,
            rules,
            snapshot_interval: config.snapshot_interval,
            next_snapshot,
            telemetry: ctx.telemetry.clone(),
            id,
            findings,
            scratch: Vec::new(),
        })
    }

    /// The shared baselines (for tests and tools).
    pub fn shared(&self) -> &Arc<SharedBaselines> {
        &self.shared
    }

    fn count(&mut self, findings: &[Finding]) {
        for finding in findings {
            let counter = self
                .findings
                .entry(finding.kind)
                .or_insert_with(|| findings_counter(&self.telemetry, &self.id, finding.kind));
            counter.inc();
        }
    }

    fn logs(&mut self, resource_logs: &mut [ResourceLogs]) {
        let shared = Arc::clone(&self.shared);
        let mut engine = shared.lock();
        // Several pipelines share this processor: tag each item once (see `verdicts`).
        let instances = shared.instances();
        let mut verdicts = (instances > 1 && self.instance < 64).then(|| shared.verdicts());
        let mut duplicates = 0;
        for record in resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
            .flat_map(|s| &mut s.log_records)
        {
            let mut findings = std::mem::take(&mut self.scratch);
            findings.clear();
            let key = verdicts.as_ref().map(|_| {
                fingerprint(
                    [record.time_unix_nano, record.observed_time_unix_nano],
                    record.body.as_ref(),
                    &record.attributes,
                )
            });
            let known = match (&mut verdicts, key) {
                (Some(v), Some(key)) => match v.lookup(key, self.instance, instances) {
                    Lookup::Evaluated(found) => Some(found),
                    Lookup::Evaluate => None,
                },
                _ => None,
            };
            if let Some(found) = known {
                if !found.is_empty() && !is_tagged(&record.attributes) {
                    tag(&mut record.attributes, &found);
                }
                self.scratch = findings;
                continue;
            }
            let outcome = evaluate_log(&mut engine, &self.rules, record, &mut findings);
            if outcome == Outcome::Duplicate {
                duplicates += 1;
            }
            if let (Some(v), Some(key), Outcome::Evaluated) = (&mut verdicts, key, &outcome) {
                v.record(key, self.instance, &findings);
            }
            if !findings.is_empty() {
                self.count(&findings);
                tag(&mut record.attributes, &findings);
            }
            self.scratch = findings;
        }
        drop(verdicts);
        shared.after_batch(&mut engine);
        drop(engine);
        self.duplicates.add(duplicates);
    }

    fn traces(&mut self, resource_spans: &mut [ResourceSpans]) {
        let shared = Arc::clone(&self.shared);
        let mut engine = shared.lock();
        for rs in resource_spans.iter_mut() {
            let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
            for span in rs.scope_spans.iter_mut().flat_map(|s| &mut s.spans) {
                if span.kind != SpanKind::Client as i32 || is_tagged(&span.attributes) {
                    continue;
                }
                let mut findings = std::mem::take(&mut self.scratch);
                findings.clear();
                let now = event_time(span.start_time_unix_nano, span.end_time_unix_nano);
                engine.client_span(resource, &span.attributes, now, &mut findings);
                if !findings.is_empty() {
                    self.count(&findings);
                    tag(&mut span.attributes, &findings);
                }
                self.scratch = findings;
            }
        }
        shared.after_batch(&mut engine);
    }
}

fn findings_counter(telemetry: &Telemetry, id: &str, detector: &str) -> Counter {
    telemetry.counter(
        "harrier_processor_anomaly_findings",
        "Findings tagged by the anomaly processor, per detector or rule.",
        &[("processor", id), ("detector", detector)],
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Evaluated,
    Duplicate,
    Skipped,
}

/// Runs the detectors that apply to `record` (by `event.domain`).
fn evaluate_log(
    engine: &mut Engine,
    rules: &RuleSet,
    record: &LogRecord,
    findings: &mut Vec<Finding>,
) -> Outcome {
    let attrs = &record.attributes;
    if is_tagged(attrs) {
        return Outcome::Skipped;
    }
    let now = event_time(record.time_unix_nano, record.observed_time_unix_nano);
    match attr_str(attrs, "event.domain") {
        Some("k8s.audit") => {
            let Some(view) = AuditView::new(attrs) else {
                return Outcome::Skipped;
            };
            if engine.is_duplicate(&view, now) {
                return Outcome::Duplicate;
            }
            rules.evaluate(&view, findings);
            engine.audit(&view, now, findings);
        }
        Some("runtime") => {
            engine.runtime(attrs, now, findings);
            engine.runtime_connection(attrs, now, findings);
        }
        Some("network.flow") => engine.flow(attrs, now, findings),
        _ => return Outcome::Skipped,
    }
    Outcome::Evaluated
}

/// The event time: the item's own timestamp, else the second one given (observed
/// time, or a span's end), else the wall clock.
fn event_time(primary: u64, fallback: u64) -> u64 {
    if primary != 0 {
        return primary;
    }
    if fallback != 0 {
        return fallback;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

/// Whether an item already carries findings (it passed an anomaly processor before).
fn is_tagged(attrs: &[KeyValue]) -> bool {
    attrs.iter().any(|kv| kv.key == TYPES_ATTRIBUTE)
}

fn string_array(values: impl IntoIterator<Item = String>) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(Value::ArrayValue(ArrayValue {
            values: values
                .into_iter()
                .map(|s| AnyValue {
                    value: Some(Value::StringValue(s)),
                })
                .collect(),
        })),
    })
}

/// Appends the three `security.anomaly.*` attributes for `findings` (not empty).
fn tag(attrs: &mut Vec<KeyValue>, findings: &[Finding]) {
    let mut types: Vec<&'static str> = Vec::with_capacity(findings.len());
    for f in findings {
        if !types.contains(&f.kind) {
            types.push(f.kind);
        }
    }
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Low);
    attrs.reserve(3);
    attrs.push(KeyValue {
        key: TYPES_ATTRIBUTE.into(),
        value: string_array(types.into_iter().map(str::to_string)),
        ..Default::default()
    });
    attrs.push(harrier_pdata::attrs::string_kv(
        SEVERITY_ATTRIBUTE,
        severity.as_str(),
    ));
    attrs.push(KeyValue {
        key: REASON_ATTRIBUTE.into(),
        value: string_array(findings.iter().map(|f| f.reason.clone())),
        ..Default::default()
    });
}

impl Processor for AnomalyProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        match &mut envelope.batch {
            Batch::Logs(resource_logs) => self.logs(resource_logs),
            Batch::Traces(resource_spans) => self.traces(resource_spans),
            Batch::Metrics(_) => {}
        }
        out.push(envelope);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.next_snapshot
    }

    fn on_deadline(&mut self, now: Instant, _out: &mut Vec<Envelope>) {
        self.shared.snapshot(false);
        if self.next_snapshot.is_some() {
            self.next_snapshot = Some(now + self.snapshot_interval);
        }
    }

    fn flush(&mut self, _out: &mut Vec<Envelope>) {
        self.shared.snapshot(false);
    }
}

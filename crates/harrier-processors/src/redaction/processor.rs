//! The walk over a batch: every attribute list of every resource and item (spans with
//! their events and links, log records with their bodies, metric data points of every
//! type with their exemplars), into kvlist maps and arrays at any depth.
//!
//! A string is only rewritten when something was found in it, so clean data is never
//! copied. [`Tally`] carries one item's counts (for the summary attributes) and the
//! reused buffer of findings.

use super::config::{Action, RedactionConfig, Summary};
use super::detect::{BLOCKED_KEY, Finding, LABELS, Scanner};
use super::hmac::HmacSha256;
use super::keys::{self, names_aws_secret, set, value_bytes};
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::Envelope;
use harrier_core::error::ConfigError;
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use harrier_pdata::otlp::metrics::v1::{Exemplar, metric};
use harrier_pdata::otlp::resource::v1::Resource;

/// What replaces a masked part, and a string body under `action = "remove"`.
pub const MASK: &str = "****";
/// Summary attribute: values redacted in the item.
pub const COUNT_KEY: &str = "redaction.masked.count";
/// Summary attribute (debug): the top-level keys touched (`body` for a log body).
pub const KEYS_KEY: &str = "redaction.masked.keys";
/// The attributes whose Kubernetes `Secret` objects have their `data` scrubbed.
const K8S_OBJECT_KEYS: [&str; 2] = ["k8s.audit.request_object", "k8s.audit.response_object"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Keep,
    Remove,
}

/// One item's bookkeeping, reused from item to item.
#[derive(Debug, Default)]
pub struct Tally {
    count: i64,
    keys: Vec<String>,
    findings: Vec<Finding>,
}

/// The processor: redacts each batch in place and passes it on.
pub struct RedactionProcessor {
    scanner: Scanner,
    action: Action,
    summary: Summary,
    hmac: Option<HmacSha256>,
    blocked_keys: Vec<String>,
    allowed_keys: Vec<String>,
    ignored_keys: Vec<String>,
    /// `harrier_processor_redaction_masked_values`, one series per [`LABELS`] entry.
    masked: Vec<Counter>,
    tally: Tally,
}

impl RedactionProcessor {
    /// Compiles the detectors and registers the metric.
    ///
    /// # Errors
    /// A `blocked_values` regex that does not compile, or `action = "hash"` without a
    /// `hash_key`.
    pub fn new(config: RedactionConfig, ctx: &BuildContext) -> Result<Self, ConfigError> {
        config.validate().map_err(|mut e| e.remove(0))?;
        let scanner = Scanner::new(&config)?;
        let id = ctx.id.to_string();
        let pipeline = ctx.pipeline.clone().unwrap_or_default();
        let masked = LABELS
            .iter()
            .map(|detector| {
                ctx.telemetry.counter(
                    "harrier_processor_redaction_masked_values",
                    "Values (or parts of values) redacted, by detector.",
                    &[
                        ("processor", id.as_str()),
                        ("pipeline", pipeline.as_str()),
                        ("detector", detector),
                    ],
                )
            })
            .collect();
        let hmac = match config.action {
            Action::Hash => config
                .hash_key
                .as_deref()
                .map(|k| HmacSha256::new(k.as_bytes())),
            _ => None,
        };
        Ok(RedactionProcessor {
            scanner,
            action: config.action,
            summary: config.summary,
            hmac,
            blocked_keys: config.blocked_keys,
            allowed_keys: config.allowed_keys,
            ignored_keys: config.ignored_keys,
            masked,
            tally: Tally::default(),
        })
    }

    /// Redacts `batch` in place.
    pub fn redact(&mut self, batch: &mut Batch) {
        let mut tally = std::mem::take(&mut self.tally);
        self.redact_batch(batch, &mut tally);
        self.tally = tally;
    }

    fn redact_batch(&self, batch: &mut Batch, t: &mut Tally) {
        match batch {
            Batch::Traces(resources) => {
                for r in resources {
                    self.resource(&mut r.resource, t);
                    for span in r.scope_spans.iter_mut().flat_map(|s| &mut s.spans) {
                        self.attributes(&mut span.attributes, true, t);
                        for event in &mut span.events {
                            self.attributes(&mut event.attributes, true, t);
                        }
                        for link in &mut span.links {
                            self.attributes(&mut link.attributes, true, t);
                        }
                        self.finish(&mut span.attributes, t);
                    }
                }
            }
            Batch::Logs(resources) => {
                for r in resources {
                    self.resource(&mut r.resource, t);
                    for log in r.scope_logs.iter_mut().flat_map(|s| &mut s.log_records) {
                        self.attributes(&mut log.attributes, true, t);
                        self.body(&mut log.body, t);
                        self.finish(&mut log.attributes, t);
                    }
                }
            }
            Batch::Metrics(resources) => {
                for r in resources {
                    self.resource(&mut r.resource, t);
                    for m in r.scope_metrics.iter_mut().flat_map(|s| &mut s.metrics) {
                        self.metric_points(m.data.as_mut(), t);
                    }
                }
            }
        }
    }

    fn metric_points(&self, data: Option<&mut metric::Data>, t: &mut Tally) {
        let mut point = |attrs: &mut Vec<KeyValue>, exemplars: &mut [Exemplar]| {
            self.attributes(attrs, true, t);
            for e in exemplars {
                self.attributes(&mut e.filtered_attributes, true, t);
            }
            self.finish(attrs, t);
        };
        match data {
            Some(metric::Data::Gauge(g)) => g
                .data_points
                .iter_mut()
                .for_each(|p| point(&mut p.attributes, &mut p.exemplars)),
            Some(metric::Data::Sum(s)) => s
                .data_points
                .iter_mut()
                .for_each(|p| point(&mut p.attributes, &mut p.exemplars)),
            Some(metric::Data::Histogram(h)) => h
                .data_points
                .iter_mut()
                .for_each(|p| point(&mut p.attributes, &mut p.exemplars)),
            Some(metric::Data::ExponentialHistogram(h)) => h
                .data_points
                .iter_mut()
                .for_each(|p| point(&mut p.attributes, &mut p.exemplars)),
            Some(metric::Data::Summary(s)) => s
                .data_points
                .iter_mut()
                .for_each(|p| point(&mut p.attributes, &mut [])),
            None => {}
        }
    }

    fn resource(&self, resource: &mut Option<Resource>, t: &mut Tally) {
        if let Some(resource) = resource {
            self.attributes(&mut resource.attributes, true, t);
            self.finish(&mut resource.attributes, t);
        }
    }

    /// Adds the summary attributes to an item that was changed, and resets the tally.
    fn finish(&self, attrs: &mut Vec<KeyValue>, t: &mut Tally) {
        if t.count == 0 {
            return;
        }
        if self.summary != Summary::Silent {
            set(attrs, COUNT_KEY, Value::IntValue(t.count));
        }
        if self.summary == Summary::Debug {
            t.keys.sort_unstable();
            t.keys.dedup();
            let values = t
                .keys
                .drain(..)
                .map(|k| AnyValue {
                    value: Some(Value::StringValue(k)),
                })
                .collect();
            set(attrs, KEYS_KEY, Value::ArrayValue(ArrayValue { values }));
        }
        t.count = 0;
        t.keys.clear();
    }

    fn note_key(&self, t: &mut Tally, key: &str) {
        if self.summary == Summary::Debug {
            t.keys.push(key.to_string());
        }
    }

    /// Redacts one attribute list; `top` marks an item's own list (allow-list and k8s
    /// rules apply, touched keys are noted), as opposed to a nested map.
    fn attributes(&self, attrs: &mut Vec<KeyValue>, top: bool, t: &mut Tally) {
        if top && !self.allowed_keys.is_empty() {
            attrs.retain(|kv| {
                let keep = self.allowed_keys.contains(&kv.key) || self.is_ignored(&kv.key);
                if !keep {
                    t.count += 1;
                    self.note_key(t, &kv.key);
                }
                keep
            });
        }
        let mut i = 0;
        while i < attrs.len() {
            let KeyValue { key, value, .. } = &mut attrs[i];
            let before = t.count;
            let outcome = match value {
                Some(_) if self.is_ignored(key) => Outcome::Keep,
                None => Outcome::Keep,
                Some(value) if self.is_blocked(key) => self.scrub(value, t),
                Some(value) => {
                    if top && K8S_OBJECT_KEYS.contains(&key.as_str()) {
                        self.k8s_secret(value, t);
                    }
                    self.value(value, key, t)
                }
            };
            if top && t.count > before {
                self.note_key(t, key);
            }
            match outcome {
                Outcome::Keep => i += 1,
                Outcome::Remove => {
                    attrs.remove(i);
                }
            }
        }
    }

    fn value(&self, value: &mut AnyValue, key: &str, t: &mut Tally) -> Outcome {
        match &mut value.value {
            Some(Value::StringValue(s)) => self.string(s, key, t),
            Some(Value::KvlistValue(list)) => {
                self.attributes(&mut list.values, false, t);
                Outcome::Keep
            }
            Some(Value::ArrayValue(array)) => {
                array
                    .values
                    .retain_mut(|v| self.value(v, key, t) == Outcome::Keep);
                Outcome::Keep
            }
            _ => Outcome::Keep,
        }
    }

    fn body(&self, body: &mut Option<AnyValue>, t: &mut Tally) {
        let Some(value) = body else {
            return;
        };
        let before = t.count;
        if let Some(Value::StringValue(s)) = &mut value.value {
            if self.string(s, "", t) == Outcome::Remove {
                *s = MASK.to_string();
            }
        } else {
            // A map body's keys are attributes of their own: blocked and ignored keys
            // apply inside it; `remove` drops entries.
            self.value(value, "", t);
        }
        if t.count > before {
            self.note_key(t, "body");
        }
    }

    /// Runs the detectors over one string and applies the action to what they found.
    fn string(&self, s: &mut String, key: &str, t: &mut Tally) -> Outcome {
        let mut findings = std::mem::take(&mut t.findings);
        self.scanner.find(s, names_aws_secret(key), &mut findings);
        let outcome = if findings.is_empty() {
            Outcome::Keep
        } else {
            for f in &findings {
                self.masked[f.label].inc();
            }
            t.count += findings.len() as i64;
            match self.action {
                Action::Remove => Outcome::Remove,
                Action::Mask | Action::Hash => {
                    *s = self.rewrite(s, &findings);
                    Outcome::Keep
                }
            }
        };
        t.findings = findings;
        outcome
    }

    /// `s` with every finding replaced by its mask or hash.
    fn rewrite(&self, s: &str, findings: &[Finding]) -> String {
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for f in findings {
            out.push_str(&s[last..f.start]);
            out.push_str(&self.replacement(&s.as_bytes()[f.start..f.end]));
            last = f.end;
        }
        out.push_str(&s[last..]);
        out
    }

    fn replacement(&self, secret: &[u8]) -> String {
        match &self.hmac {
            Some(hmac) => hmac.token(secret),
            None => MASK.to_string(),
        }
    }

    /// Redacts a whole value (its key is blocked).
    fn scrub(&self, value: &mut AnyValue, t: &mut Tally) -> Outcome {
        self.masked[BLOCKED_KEY].inc();
        t.count += 1;
        if self.action == Action::Remove {
            return Outcome::Remove;
        }
        let replacement = self.replacement(&value_bytes(value));
        value.value = Some(Value::StringValue(replacement));
        Outcome::Keep
    }

    /// Scrubs every entry of `data` / `stringData` in a Kubernetes `Secret` object.
    fn k8s_secret(&self, value: &mut AnyValue, t: &mut Tally) {
        let Some(Value::KvlistValue(object)) = &mut value.value else {
            return;
        };
        if harrier_pdata::attrs::get_str(&object.values, "kind") != Some("Secret") {
            return;
        }
        object.values.retain_mut(|kv| {
            if kv.key != "data" && kv.key != "stringData" {
                return true;
            }
            let Some(data) = kv.value.as_mut() else {
                return true;
            };
            if let Some(Value::KvlistValue(entries)) = &mut data.value {
                entries.values.retain_mut(|entry| {
                    entry
                        .value
                        .as_mut()
                        .is_none_or(|v| self.scrub(v, t) == Outcome::Keep)
                });
                true
            } else {
                self.scrub(data, t) == Outcome::Keep
            }
        });
    }

    fn is_ignored(&self, key: &str) -> bool {
        self.ignored_keys.iter().any(|k| k == key)
    }

    fn is_blocked(&self, key: &str) -> bool {
        keys::is_blocked(&self.blocked_keys, key)
    }
}

impl Processor for RedactionProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        self.redact(&mut envelope.batch);
        out.push(envelope);
    }
}

//! Tagging each item once when one `anomaly` processor serves several pipelines.
//!
//! A receiver feeding two pipelines gives each pipeline its own copy of a batch, and
//! both pipelines' instances share one engine. Evaluating the second copy would learn
//! nothing new (so drop every novelty tag), treat an audit event as a duplicate, and
//! count a denial twice in a burst window. Instead, the first instance to see an item
//! records its findings here under the item's fingerprint, and every other instance
//! applies those findings to its copy without evaluating it. An instance that meets a
//! fingerprint it has already consumed is seeing a real re-send, which is evaluated
//! (and deduplicated) normally. Entries leave when every instance has consumed them,
//! or when the bounded map is full (oldest first).

use crate::finding::Finding;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value};
use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Entries kept at most; at a few hundred bytes each this bounds the map to a few MiB.
pub const CAPACITY: usize = 16_384;

struct Entry {
    findings: Vec<Finding>,
    /// Bit `i`: instance `i` has consumed this entry.
    consumed: u64,
}

/// What a lookup found for an instance.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// Another instance evaluated this item: apply these findings (maybe none).
    Evaluated(Vec<Finding>),
    /// Unknown, or this instance saw it before (a re-send): evaluate it.
    Evaluate,
}

/// The bounded fingerprint -> findings map shared by a processor's instances.
#[derive(Default)]
pub struct Verdicts {
    entries: HashMap<u64, Entry>,
    order: VecDeque<u64>,
}

impl Verdicts {
    /// Looks `key` up for instance `instance` of `instances` (both below 64).
    pub fn lookup(&mut self, key: u64, instance: u32, instances: u32) -> Lookup {
        let bit = 1u64 << instance;
        let Some(entry) = self.entries.get_mut(&key) else {
            return Lookup::Evaluate;
        };
        if entry.consumed & bit != 0 {
            return Lookup::Evaluate;
        }
        entry.consumed |= bit;
        let findings = entry.findings.clone();
        if entry.consumed.count_ones() >= instances {
            self.entries.remove(&key);
        }
        Lookup::Evaluated(findings)
    }

    /// Records what instance `instance` found for `key`.
    pub fn record(&mut self, key: u64, instance: u32, findings: &[Finding]) {
        while self.entries.len() >= CAPACITY {
            match self.order.pop_front() {
                Some(old) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
        // Keys of entries already consumed by everyone linger in `order` until they
        // reach its front; keep it from growing past twice the capacity.
        if self.order.len() >= 2 * CAPACITY {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
        self.entries.insert(
            key,
            Entry {
                findings: findings.to_vec(),
                consumed: 1u64 << instance,
            },
        );
        self.order.push_back(key);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn hash_value(value: &AnyValue, h: &mut DefaultHasher) {
    match &value.value {
        None => 0u8.hash(h),
        Some(Value::StringValue(s)) => (1u8, s).hash(h),
        Some(Value::BoolValue(b)) => (2u8, b).hash(h),
        Some(Value::IntValue(i)) => (3u8, i).hash(h),
        Some(Value::DoubleValue(d)) => (4u8, d.to_bits()).hash(h),
        Some(Value::BytesValue(b)) => (5u8, b).hash(h),
        Some(Value::ArrayValue(a)) => {
            (6u8, a.values.len()).hash(h);
            for v in &a.values {
                hash_value(v, h);
            }
        }
        Some(Value::KvlistValue(kv)) => {
            (7u8, kv.values.len()).hash(h);
            hash_attributes(&kv.values, h);
        }
        Some(Value::StringValueStrindex(i)) => (8u8, i).hash(h),
    }
}

fn hash_attributes(attrs: &[KeyValue], h: &mut DefaultHasher) {
    for kv in attrs {
        kv.key.hash(h);
        match &kv.value {
            Some(v) => hash_value(v, h),
            None => 0u8.hash(h),
        }
    }
}

/// The fingerprint of an item: its timestamps, body and attributes (for audit events,
/// their `k8s.audit.id` and `k8s.audit.stage`, which identify them).
pub fn fingerprint(times: [u64; 2], body: Option<&AnyValue>, attrs: &[KeyValue]) -> u64 {
    let mut h = DefaultHasher::new();
    times.hash(&mut h);
    let audit_id = attrs.iter().find(|kv| kv.key == "k8s.audit.id");
    let stage = attrs.iter().find(|kv| kv.key == "k8s.audit.stage");
    match (audit_id, stage) {
        (Some(id), Some(stage)) => {
            hash_attributes(std::slice::from_ref(id), &mut h);
            hash_attributes(std::slice::from_ref(stage), &mut h);
        }
        _ => {
            if let Some(body) = body {
                hash_value(body, &mut h);
            }
            hash_attributes(attrs, &mut h);
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding() -> Finding {
        Finding {
            kind: "pod_exec",
            severity: Severity::Medium,
            reason: "r".into(),
        }
    }

    #[test]
    fn every_other_instance_gets_the_verdict_once() {
        let mut v = Verdicts::default();
        assert_eq!(v.lookup(7, 0, 3), Lookup::Evaluate);
        v.record(7, 0, &[finding()]);
        // The evaluating instance meeting it again: a re-send.
        assert_eq!(v.lookup(7, 0, 3), Lookup::Evaluate);
        assert_eq!(v.lookup(7, 1, 3), Lookup::Evaluated(vec![finding()]));
        assert_eq!(v.lookup(7, 1, 3), Lookup::Evaluate);
        assert_eq!(v.len(), 1);
        assert_eq!(v.lookup(7, 2, 3), Lookup::Evaluated(vec![finding()]));
        assert!(v.is_empty(), "consumed by all three: gone");
    }

    #[test]
    fn the_map_is_bounded() {
        let mut v = Verdicts::default();
        for key in 0..(CAPACITY as u64 * 3) {
            v.record(key, 0, &[]);
        }
        assert_eq!(v.len(), CAPACITY);
        assert!(v.order.len() <= 2 * CAPACITY);
        assert_eq!(v.lookup(0, 1, 2), Lookup::Evaluate, "oldest evicted");
    }

    #[test]
    fn fingerprints_use_audit_ids_or_everything() {
        let kv = |k: &str, v: &str| harrier_pdata::attrs::string_kv(k, v);
        let a = [
            kv("k8s.audit.id", "1"),
            kv("k8s.audit.stage", "ResponseComplete"),
            kv("x", "1"),
        ];
        let b = [
            kv("k8s.audit.id", "1"),
            kv("k8s.audit.stage", "ResponseComplete"),
            kv("x", "2"),
        ];
        assert_eq!(fingerprint([1, 0], None, &a), fingerprint([1, 0], None, &b));
        let c = [
            kv("event.domain", "runtime"),
            kv("process.executable.name", "sh"),
        ];
        let d = [
            kv("event.domain", "runtime"),
            kv("process.executable.name", "bash"),
        ];
        assert_ne!(fingerprint([1, 0], None, &c), fingerprint([1, 0], None, &d));
        assert_ne!(fingerprint([1, 0], None, &c), fingerprint([2, 0], None, &c));
    }
}

//! Scoring: output records matched back to their generated items by id, and their tags
//! compared with the ground truth (per tag, per attack, and alerts on benign activity).

use super::{Item, Kind};
use harrier_pdata::attrs::{get, get_str};
use harrier_pdata::otlp::common::v1::any_value;
use harrier_pdata::otlp::logs::v1::LogRecord;
use harrier_pdata::{Batch, Signal};
use std::collections::{BTreeMap, BTreeSet};

/// The generated id of an output record.
pub fn record_id(record: &LogRecord) -> Option<String> {
    let attrs = &record.attributes;
    if let Some(id) = get_str(attrs, "k8s.audit.id") {
        return Some(id.to_string());
    }
    if let Some(id) = get_str(attrs, "scenario.id") {
        return Some(id.to_string());
    }
    get_str(attrs, "process.command_line")
        .and_then(|c| c.split("--scenario-id=").nth(1))
        .map(|id| id.trim().to_string())
}

pub fn tags(record: &LogRecord) -> BTreeSet<String> {
    match get(&record.attributes, "security.anomaly.types").and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .filter_map(|v| match &v.value {
                Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The tags each generated item got, by id (first occurrence of an id wins).
pub fn tagged(path: &std::path::Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for batch in harrier_testkit::read_json_lines(path, Signal::Logs).unwrap() {
        let Batch::Logs(resources) = batch else {
            continue;
        };
        for r in resources {
            for s in r.scope_logs {
                for record in s.log_records {
                    if let Some(id) = record_id(&record) {
                        out.entry(id).or_insert_with(|| tags(&record));
                    }
                }
            }
        }
    }
    out
}

#[derive(Default, Debug)]
pub struct Score {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

impl Score {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

pub struct Evaluation {
    pub per_tag: BTreeMap<String, Score>,
    pub detected: BTreeMap<&'static str, BTreeSet<String>>,
    pub missed_attacks: Vec<&'static str>,
    pub benign_alerts: BTreeMap<String, u64>,
    pub benign_novelty_alerts: BTreeMap<String, u64>,
    pub missing: usize,
}

pub fn evaluate(items: &[Item], got: &BTreeMap<String, BTreeSet<String>>) -> Evaluation {
    let mut per_tag: BTreeMap<String, Score> = BTreeMap::new();
    let mut detected: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    let mut benign_alerts = BTreeMap::new();
    let mut benign_novelty_alerts = BTreeMap::new();
    let mut missing = 0;
    // The burst detector is scored per episode: an attack's burst is found when any of
    // its events carries the tag.
    let mut burst_episodes: BTreeMap<&'static str, bool> = BTreeMap::new();
    for item in items {
        let Some(tags) = got.get(&item.id) else {
            missing += 1;
            continue;
        };
        let in_episode = item.deserved.contains("rbac_burst_episode");
        if in_episode {
            let found = burst_episodes.entry(item.attack.unwrap_or("")).or_default();
            *found |= tags.contains("rbac_denied_burst");
        }
        let mut all: BTreeSet<String> = tags.clone();
        all.extend(item.deserved.iter().map(|t| t.to_string()));
        for tag in all {
            if tag == "rbac_burst_episode" || item.dont_care.contains(tag.as_str()) {
                continue;
            }
            if tag == "rbac_denied_burst" {
                if !in_episode {
                    per_tag.entry(tag).or_default().fp += 1;
                }
                continue;
            }
            let score = per_tag.entry(tag.clone()).or_default();
            match (tags.contains(&tag), item.deserved.contains(tag.as_str())) {
                (true, true) => score.tp += 1,
                (true, false) => score.fp += 1,
                (false, true) => score.fn_ += 1,
                (false, false) => {}
            }
        }
        if let Some(attack) = item.attack {
            let hits: BTreeSet<String> = tags
                .iter()
                .filter(|t| {
                    item.deserved.contains(t.as_str())
                        || (in_episode && t.as_str() == "rbac_denied_burst")
                })
                .cloned()
                .collect();
            detected.entry(attack).or_default().extend(hits);
        } else {
            for t in tags {
                let bucket = if item.benign_novelty {
                    &mut benign_novelty_alerts
                } else {
                    &mut benign_alerts
                };
                *bucket.entry(t.clone()).or_insert(0) += 1;
            }
        }
    }
    for (_, found) in burst_episodes {
        let score = per_tag.entry("rbac_denied_burst".to_string()).or_default();
        if found {
            score.tp += 1;
        } else {
            score.fn_ += 1;
        }
    }
    let missed_attacks = detected
        .iter()
        .filter(|(_, hits)| hits.is_empty())
        .map(|(a, _)| *a)
        .collect();
    Evaluation {
        per_tag,
        detected,
        missed_attacks,
        benign_alerts,
        benign_novelty_alerts,
        missing,
    }
}

pub fn print(e: &Evaluation, items: &[Item]) {
    println!(
        "items: {} (audit {}, runtime {}, flows {}); attacks: {}",
        items.len(),
        items.iter().filter(|i| i.kind == Kind::Audit).count(),
        items.iter().filter(|i| i.kind == Kind::Runtime).count(),
        items.iter().filter(|i| i.kind == Kind::Flow).count(),
        e.detected.len()
    );
    println!("| tag | TP | FP | FN | precision | recall |");
    println!("|---|---|---|---|---|---|");
    for (tag, s) in &e.per_tag {
        println!(
            "| `{tag}` | {} | {} | {} | {:.2} | {:.2} |",
            s.tp,
            s.fp,
            s.fn_,
            s.precision(),
            s.recall()
        );
    }
    println!("| attack | detected by |");
    println!("|---|---|");
    for (attack, hits) in &e.detected {
        let hits: Vec<&str> = hits.iter().map(String::as_str).collect();
        println!(
            "| {attack} | {} |",
            if hits.is_empty() {
                "**missed**".to_string()
            } else {
                hits.join(", ")
            }
        );
    }
    println!("benign alerts (routine traffic): {:?}", e.benign_alerts);
    println!("benign novelties tagged: {:?}", e.benign_novelty_alerts);
}

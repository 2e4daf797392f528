//! The security evaluation: a seeded simulated week of a small cluster (see
//! `scenario/mod.rs`) replayed through the real collector — audit events into the
//! `k8s_audit` webhook, Tetragon runtime events into the `falco` receiver, flow records
//! over OTLP/HTTP — through the `anomaly` processor into a file. Each output record is
//! matched to its generated item and scored against the generator's ground truth:
//! precision and recall per tag, detection per attack, and alerts on benign activity.
//! The figures are printed (`--nocapture`) and recorded in docs/security.md.
//!
//! A second test replays the week in two halves with a collector restart between them:
//! what was learned survives, and re-sent duplicates are not tagged twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod scenario;

use common::{free_port, post, post_batch, start};
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::{Batch, Signal};
use scenario::score::{evaluate, print, tagged};
use scenario::{Item, Kind, LEARNING_HOURS, NOVELTY_TAGS};
use std::collections::BTreeSet;

const SEED: u64 = 20_261_123;

fn config(audit: u16, falco: u16, otlp: u16) -> String {
    let learning = format!("{LEARNING_HOURS}h");
    let mut text = format!(
        r#"
        [receivers.k8s_audit]
        endpoint = "127.0.0.1:{audit}"
        log_path = "{{dir}}/audit.log"
        storage_dir = "{{dir}}/audit-offsets"
        [receivers.falco]
        endpoint = "127.0.0.1:{falco}"
        [receivers.otlp.http]
        endpoint = "127.0.0.1:{otlp}"
        [processors.anomaly]
        storage_dir = "{{dir}}/baselines"
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["k8s_audit", "falco", "otlp"]
        processors = ["anomaly"]
        exporters = ["file"]
        "#
    );
    for detector in NOVELTY_TAGS {
        text.push_str(&format!(
            "[processors.anomaly.detectors.{detector}]\nlearning_period = \"{learning}\"\n"
        ));
    }
    text
}

fn kv(key: &str, value: &serde_json::Value) -> KeyValue {
    let v = match value {
        serde_json::Value::Number(n) if n.is_i64() => {
            any_value::Value::IntValue(n.as_i64().unwrap())
        }
        serde_json::Value::String(s) => any_value::Value::StringValue(s.clone()),
        other => any_value::Value::StringValue(other.to_string()),
    };
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

/// Posts consecutive items of one kind together, in event-time order; every post is
/// answered only after admission, so the pipeline sees them in this order.
fn replay(items: &[Item], audit: u16, falco: u16, otlp: u16) {
    let mut i = 0;
    while i < items.len() {
        let kind = items[i].kind;
        let mut j = i;
        while j < items.len() && items[j].kind == kind && j - i < 200 {
            j += 1;
        }
        let chunk = &items[i..j];
        let status = match kind {
            Kind::Audit => {
                let list = serde_json::json!({
                    "kind": "EventList",
                    "apiVersion": "audit.k8s.io/v1",
                    "items": chunk.iter().map(|it| it.body.clone()).collect::<Vec<_>>(),
                });
                post(
                    audit,
                    "/audit",
                    "application/json",
                    list.to_string().as_bytes(),
                )
            }
            Kind::Runtime => {
                let lines: String = chunk.iter().map(|it| format!("{}\n", it.body)).collect();
                post(falco, "/tetragon", "application/json", lines.as_bytes())
            }
            Kind::Flow => {
                let records = chunk
                    .iter()
                    .map(|it| LogRecord {
                        time_unix_nano: u64::try_from(it.time).unwrap() * 1_000_000_000,
                        attributes: it
                            .body
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| kv(k, v))
                            .collect(),
                        ..Default::default()
                    })
                    .collect();
                post_batch(
                    otlp,
                    &Batch::Logs(vec![ResourceLogs {
                        scope_logs: vec![ScopeLogs {
                            log_records: records,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }]),
                )
            }
        };
        assert_eq!(status, 200, "posting {kind:?} items {i}..{j}");
        i = j;
    }
}

#[test]
fn a_simulated_week_scores_per_tag_and_per_attack() {
    let items = scenario::generate(SEED);
    let (audit, falco, otlp) = (free_port(), free_port(), free_port());
    let mut harrier = start(&config(audit, falco, otlp));
    replay(&items, audit, falco, otlp);
    let out = harrier.path("out.jsonl");
    common::wait_for(30, "every record in the output", || {
        common::file_items(&out, Signal::Logs) >= items.len()
    });
    harrier.terminate();
    let got = tagged(&out);
    let e = evaluate(&items, &got);
    print(&e, &items);
    assert_eq!(e.missing, 0, "records lost");
    assert!(
        e.missed_attacks.is_empty(),
        "missed attacks: {:?}",
        e.missed_attacks
    );
    for (tag, s) in &e.per_tag {
        let stateful = NOVELTY_TAGS.contains(&tag.as_str()) || tag == "rbac_denied_burst";
        let (min_precision, min_recall) = if stateful { (0.5, 0.75) } else { (1.0, 1.0) };
        assert!(
            s.precision() >= min_precision && s.recall() >= min_recall,
            "{tag}: {s:?}"
        );
    }
    let routine: u64 = e
        .benign_alerts
        .iter()
        .filter(|(t, _)| t.as_str() != "rbac_denied")
        .map(|(_, n)| n)
        .sum();
    assert!(
        routine <= 5,
        "alerts on routine traffic: {:?}",
        e.benign_alerts
    );
}

#[test]
fn baselines_survive_a_restart_and_duplicates_are_not_tagged_twice() {
    let items = scenario::generate(SEED);
    let split = items
        .iter()
        .position(|i| i.time >= scenario::T0 + (LEARNING_HOURS + 12) * 3600)
        .unwrap();
    let (audit, falco, otlp) = (free_port(), free_port(), free_port());
    let text = config(audit, falco, otlp);
    let mut first = start(&text);
    replay(&items[..split], audit, falco, otlp);
    let out = first.path("out.jsonl");
    common::wait_for(30, "the first half", || {
        common::file_items(&out, Signal::Logs) >= split
    });
    first.terminate();
    let dir = std::mem::replace(&mut first.dir, tempfile::tempdir().unwrap());
    let before = std::fs::read(dir.path().join("out.jsonl")).unwrap();
    std::fs::remove_file(dir.path().join("out.jsonl")).unwrap();

    // Second half, after a restart on the same storage, with the last 50 audit events
    // of the first half sent again (as kube-apiserver does after a lost answer). This
    // time the audit events come through the receiver's file mode (kube-apiserver's
    // log backend): appended to the log file it follows.
    let mut second = common::start_in(&text, dir);
    let mut resent: Vec<Item> = items[..split]
        .iter()
        .filter(|i| i.kind == Kind::Audit)
        .rev()
        .take(50)
        .cloned()
        .collect();
    resent.reverse();
    let log: String = resent
        .iter()
        .chain(items[split..].iter().filter(|i| i.kind == Kind::Audit))
        .map(|i| format!("{}\n", i.body))
        .collect();
    std::fs::write(second.path("audit.log"), log).unwrap();
    let others: Vec<Item> = items[split..]
        .iter()
        .filter(|i| i.kind != Kind::Audit)
        .cloned()
        .collect();
    replay(&others, audit, falco, otlp);
    let out = second.path("out.jsonl");
    let expected = items.len() - split + resent.len();
    common::wait_for(30, "the second half", || {
        common::file_items(&out, Signal::Logs) >= expected
    });
    second.terminate();
    // The resent events come first in the second output: none is tagged again.
    let second_half = tagged(&out);
    for item in &resent {
        let tags = &second_half[&item.id];
        assert!(
            tags.is_empty(),
            "duplicate {} tagged again: {tags:?}",
            item.id
        );
    }
    let mut got = second_half;
    let first_path = second.dir.path().join("first.jsonl");
    std::fs::write(&first_path, before).unwrap();
    for (id, tags) in tagged(&first_path) {
        got.insert(id, tags);
    }
    let e = evaluate(&items, &got);
    print(&e, &items);
    assert!(
        e.missed_attacks.is_empty(),
        "missed after restart: {:?}",
        e.missed_attacks
    );
    let routine: u64 = e
        .benign_alerts
        .iter()
        .filter(|(t, _)| t.as_str() != "rbac_denied")
        .map(|(_, n)| n)
        .sum();
    assert!(
        routine <= 5,
        "a restart made learned behaviour novel again: {:?}",
        e.benign_alerts
    );
}

#[test]
fn rbac_report_matches_the_scenarios_ground_truth() {
    let items = scenario::generate(SEED);
    let dir = tempfile::tempdir().unwrap();
    let rbac = dir.path().join("rbac.json");
    let audit = dir.path().join("audit.jsonl");
    std::fs::write(&rbac, scenario::rbac_objects().to_string()).unwrap();
    let lines: String = items
        .iter()
        .filter(|i| i.kind == Kind::Audit)
        .map(|i| format!("{}\n", i.body))
        .collect();
    std::fs::write(&audit, lines).unwrap();
    // Through the command line, as an operator would run it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harrier"))
        .args(["rbac-report", "--format", "json", "--rbac"])
        .arg(&rbac)
        .arg("--audit")
        .arg(&audit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subjects = report["subjects"].as_array().unwrap();
    let mut over_provisioned = 0;
    for (user, grants) in scenario::rbac_grants() {
        let subject = subjects
            .iter()
            .find(|s| s["name"] == user)
            .unwrap_or_else(|| {
                panic!(
                    "{user} missing from the report: {:?}",
                    subjects
                        .iter()
                        .map(|s| s["name"].clone())
                        .collect::<Vec<_>>()
                )
            });
        let atoms = |key: &str| -> BTreeSet<(String, String, String, Option<String>)> {
            subject[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    let a = if g["atom"].is_null() { g } else { &g["atom"] };
                    (
                        a["verb"].as_str().unwrap().to_string(),
                        a["api_group"].as_str().unwrap().to_string(),
                        a["resource"].as_str().unwrap().to_string(),
                        a["namespace"].as_str().map(str::to_string),
                    )
                })
                .collect()
        };
        let expected = |set: &mut dyn Iterator<Item = scenario::Grant>| {
            set.map(|g| {
                (
                    g.verb.to_string(),
                    g.group.to_string(),
                    g.resource.to_string(),
                    g.namespace.map(str::to_string),
                )
            })
            .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            atoms("granted"),
            expected(&mut grants.clone().into_iter()),
            "granted to {user}"
        );
        // A used wildcard grant is reported apart from the unused ones.
        let truth = scenario::unused_grants(&items, user);
        over_provisioned += truth.len();
        assert_eq!(
            atoms("unused"),
            expected(&mut truth.into_iter()),
            "granted but unused by {user}"
        );
    }
    assert!(
        over_provisioned >= 5,
        "the scenario over-provisions on purpose"
    );
}

/// The label text of one anomaly metric line for `detector`.
fn detector_metric(harrier: &common::Harrier, name: &str, detector: &str) -> f64 {
    harrier
        .metrics()
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(&format!("detector=\"{detector}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn ten_times_max_entities_identities_stay_within_the_bound() {
    let audit = free_port();
    let config = format!(
        r#"
        [receivers.k8s_audit]
        endpoint = "127.0.0.1:{audit}"
        [processors.anomaly]
        max_entities = 100
        [exporters.nop]
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["k8s_audit"]
        processors = ["anomaly"]
        exporters = ["nop"]
        "#
    );
    let mut harrier = start(&config);
    // 1,000 identities, each making two calls from its own address.
    for chunk in 0..10 {
        let events: Vec<serde_json::Value> = (0..100)
            .flat_map(|i| {
                let n = chunk * 100 + i;
                ["list", "get"].map(|verb| {
                    serde_json::json!({
                        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                        "auditID": format!("{n}-{verb}"), "stage": "ResponseComplete",
                        "requestURI": "/api/v1/namespaces/shop/pods", "verb": verb,
                        "user": {"username": format!("system:serviceaccount:load:sa-{n}")},
                        "sourceIPs": [format!("10.1.{}.{}", n / 250, n % 250)],
                        "userAgent": "client/1.0",
                        "objectRef": {"resource": "pods", "namespace": "shop", "apiVersion": "v1"},
                        "responseStatus": {"metadata": {}, "code": 200},
                        "stageTimestamp": "2026-11-01T00:00:00.000000Z",
                    })
                })
            })
            .collect();
        let list = serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events});
        assert_eq!(
            post(
                audit,
                "/audit",
                "application/json",
                list.to_string().as_bytes()
            ),
            200
        );
    }
    common::wait_for(20, "the evictions to be counted", || {
        detector_metric(
            &harrier,
            "harrier_processor_anomaly_evictions",
            "novel_api_call",
        ) >= 900.0
    });
    for detector in ["novel_api_call", "novel_source"] {
        let held = detector_metric(&harrier, "harrier_processor_anomaly_entities", detector);
        assert!(
            held > 0.0 && held <= 100.0,
            "{detector} holds {held} entities"
        );
        let evicted = detector_metric(&harrier, "harrier_processor_anomaly_evictions", detector);
        assert_eq!(evicted, 900.0, "{detector} evictions");
    }
    harrier.terminate();
}

#[test]
fn the_shipped_security_config_splits_events_and_alerts() {
    let audit = free_port();
    let falco = free_port();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../configs/security.toml"
    ))
    .unwrap()
    .replace(":8099", &format!(":{audit}"))
    .replace(":2801", &format!(":{falco}"))
    .replace("/tmp/harrier-security", "{dir}/state")
    .replace("${env:HARRIER_OUT:-/tmp}", "{dir}")
    // The test harness adds its own health check on a free port.
    .replace("[extensions.health_check]\n", "")
        + "\n[service.telemetry.metrics]\naddress = \"127.0.0.1:{metrics}\"\n";
    let mut harrier = start(&text);
    let event = |id: &str, verb: &str, resource: &str, request: serde_json::Value| {
        serde_json::json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": id, "stage": "ResponseComplete",
            "requestURI": format!("/api/v1/namespaces/shop/{resource}"), "verb": verb,
            "user": {"username": "alice@example.com", "groups": ["system:authenticated"]},
            "sourceIPs": ["192.168.10.15"], "userAgent": "kubectl/v1.30.2",
            "objectRef": {"resource": resource, "namespace": "shop", "name": "x", "apiVersion": "v1"},
            "responseStatus": {"metadata": {}, "code": 201},
            "requestObject": request,
            "stageTimestamp": "2026-11-23T10:00:00.000000Z",
        })
    };
    let privileged = serde_json::json!({"kind": "Pod", "apiVersion": "v1",
        "spec": {"containers": [{"name": "c", "image": "alpine:3.19", "securityContext": {"privileged": true}}]}});
    let list = serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [
        event("benign-1", "get", "configmaps", serde_json::Value::Null),
        event("attack-1", "create", "pods", privileged),
    ]});
    assert_eq!(
        post(
            audit,
            "/audit",
            "application/json",
            list.to_string().as_bytes()
        ),
        200
    );
    let (events, alerts) = (harrier.path("events.jsonl"), harrier.path("alerts.jsonl"));
    common::wait_for(20, "both files", || {
        common::file_items(&events, Signal::Logs) >= 2
            && common::file_items(&alerts, Signal::Logs) >= 1
    });
    harrier.terminate();
    let all = tagged(&events);
    let alerted = tagged(&alerts);
    assert_eq!(all.len(), 2);
    assert!(all["benign-1"].is_empty());
    assert!(all["attack-1"].contains("privileged_pod"), "{all:?}");
    // The alerts pipeline got the same verdict for its copy, and nothing else.
    assert_eq!(alerted.keys().collect::<Vec<_>>(), ["attack-1"]);
    assert_eq!(alerted["attack-1"], all["attack-1"]);
}

//! Processor-level tests: config, tagging in place, duplicates, sharing, persistence
//! and the memory bound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::store::{SNAPSHOT_VERSION, read_snapshot, snapshot_path};
use super::tests_support::*;
use super::{AnomalyFactory, NOVEL_API_CALL, NOVEL_SOURCE, TYPES_ATTRIBUTE};
use harrier_core::component::{Factory, Processor};
use harrier_core::error::ConfigError;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use prost::Message as _;

fn errors(text: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(text).unwrap();
    AnomalyFactory
        .validate(&value)
        .err()
        .unwrap_or_default()
        .iter()
        .map(ConfigError::to_string)
        .collect()
}

#[test]
fn config_defaults_and_errors() {
    assert!(errors("").is_empty());
    let full = r#"
        storage_dir = "/var/lib/harrier/anomaly"
        snapshot_interval = "30s"
        max_entities = 5000
        dedupe_window = "5m"
        dedupe_capacity = 1000
        [detectors.novel_api_call]
        learning_period = "7d"
        forget_after = "30d"
        severity = "high"
        [detectors.rbac_denied_burst]
        window = "1m"
        threshold = 20
        distinct_resources = 8
        [detectors.novel_source]
        fields = ["address"]
        [detectors.novel_process]
        group_by = "workload"
        image_identity = "reference"
        [detectors.privileged_pod]
        [detectors.rbac_denied]
        enabled = false
    "#;
    assert_eq!(errors(full), Vec::<String>::new());

    let e = errors("[detectors.novel_apicall]\nenabled = true");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("detectors.novel_apicall: unknown detector"),
        "{e:?}"
    );
    let e = errors("[detectors.novel_exec]\nthreshold = 3");
    assert!(
        e[0].starts_with("detectors.novel_exec.threshold: unknown key"),
        "{e:?}"
    );
    let e = errors("[detectors.novel_exec]\nlearning = \"1h\"");
    assert!(e[0].starts_with("detectors.novel_exec"), "{e:?}");
    let e = errors("[detectors.rbac_denied]\nlearning_period = \"1h\"");
    assert!(
        e[0].starts_with("detectors.rbac_denied.learning_period"),
        "{e:?}"
    );
    let e = errors("[detectors.novel_exec]\nseverity = \"urgent\"");
    assert!(e[0].starts_with("detectors.novel_exec.severity"), "{e:?}");
    let e = errors("[detectors.rbac_denied_burst]\nthreshold = 0");
    assert_eq!(
        e,
        ["detectors.rbac_denied_burst.threshold: must be at least 1"]
    );
    let e = errors("max_entities = 0\nsnapshot_interval = \"0s\"\nbogus = 1");
    assert!(e[0].contains("bogus"), "{e:?}");
    let e = errors("max_entities = 0\nsnapshot_interval = \"0s\"");
    assert_eq!(e.len(), 2, "{e:?}");
}

/// Builds baselines for `user` in the learning period so that later calls are judged.
fn learn(p: &mut super::AnomalyProcessor, user: &str) {
    one(p, audit(user, "get", "pods").ns("a").at(T0));
}

#[test]
fn untagged_items_pass_unchanged_and_tagged_ones_get_three_attributes() {
    let (mut p, _) = build("");
    learn(&mut p, "alice");
    let mut other = record(vec![kv("event.domain", "app"), kv("k", "v")], T0);
    other.severity_text = "INFO".into();
    let records = vec![
        other,
        audit("alice", "get", "pods")
            .ns("a")
            .id("known")
            .at(T0 + 2 * DAY),
        audit("alice", "list", "secrets")
            .ns("a")
            .id("new")
            .at(T0 + 2 * DAY),
        record(vec![kv("no.domain", "x")], 0),
    ];
    let input = logs(records.clone());
    let output = run(&mut p, input.clone());
    let Batch::Logs(out) = &output else {
        panic!("not logs")
    };
    let got = &out[0].scope_logs[0].log_records;
    for i in [0, 1, 3] {
        assert_eq!(
            got[i].encode_to_vec(),
            records[i].encode_to_vec(),
            "record {i}"
        );
    }
    assert_eq!(got[2].attributes.len(), records[2].attributes.len() + 3);
    assert_eq!(
        got[2].attributes[..records[2].attributes.len()],
        records[2].attributes[..]
    );
    let t = tags(&got[2].attributes).unwrap();
    assert_eq!(t.types, ["novel_api_call"]);
    assert_eq!(t.severity, "high");
    assert_eq!(t.reasons.len(), 1);
}

#[test]
fn several_findings_merge_into_one_tag_set() {
    let (mut p, _) = build("");
    learn(&mut p, "alice");
    let r = audit("alice", "list", "secrets")
        .source("203.0.113.9")
        .at(T0 + 2 * DAY);
    let t = one(&mut p, r).unwrap();
    assert_eq!(t.types, ["novel_api_call", "novel_source"]);
    assert_eq!(t.severity, "high");
    assert_eq!(t.reasons.len(), 2);
    assert!(t.reasons[1].contains("new address 203.0.113.9"), "{t:?}");
}

#[test]
fn already_tagged_items_are_not_tagged_again() {
    let (mut p, _) = build("");
    learn(&mut p, "alice");
    let r = audit("alice", "list", "secrets").at(T0 + 2 * DAY);
    let batch = run(&mut p, logs(vec![r]));
    // Through the same processor again (e.g. re-processing an exported file).
    let again = run(&mut p, batch.clone());
    assert_eq!(again, batch);
    assert_eq!(
        tags_of_batch(&again)[0].as_ref().unwrap().types,
        ["novel_api_call"]
    );
}

#[test]
fn duplicate_audit_events_are_not_evaluated_twice() {
    let (mut p, telemetry) = build("[detectors.rbac_denied]\n");
    learn(&mut p, "alice");
    let event = audit("alice", "list", "secrets").id("dup-1");
    let first = event.clone().at(T0 + 2 * DAY);
    // The same (id, stage) again, in the same batch and in a later one.
    let batch = run(&mut p, logs(vec![first.clone(), first.clone()]));
    let tags = tags_of_batch(&batch);
    assert!(tags[0].is_some());
    assert_eq!(tags[1], None);
    assert_eq!(one(&mut p, event.clone().at(T0 + 2 * DAY + 1)), None);
    let dupes = || {
        telemetry.counter_value(
            "harrier_processor_anomaly_duplicates",
            &[("processor", "anomaly")],
        )
    };
    assert_eq!(dupes(), Some(2));
    // Another stage of the same request is a different event.
    let mut other_stage = event.clone().at(T0 + 2 * DAY + 2);
    other_stage
        .attributes
        .retain(|kv| kv.key != "k8s.audit.stage");
    other_stage
        .attributes
        .push(kv("k8s.audit.stage", "ResponseStarted"));
    one(&mut p, other_stage);
    assert_eq!(dupes(), Some(2));
    // A denial repeated is tagged once.
    let denied = audit("bob", "get", "nodes").status(403).id("dup-2").at(T0);
    assert!(one(&mut p, denied.clone()).is_some());
    assert_eq!(one(&mut p, denied), None);
    // Past the dedupe window the id is evaluated again (but the call is known now).
    assert_eq!(
        one(&mut p, event.at(T0 + 2 * DAY + 11 * 60 * 1_000_000_000)),
        None
    );
    assert_eq!(dupes(), Some(3));
}

#[test]
fn one_processor_id_in_two_pipelines_shares_its_baselines() {
    let telemetry = Telemetry::new();
    let ctx = ctx(&telemetry);
    let mut audit_pipeline = build_in("", &ctx);
    let mut other_pipeline = build_in("", &ctx);
    assert!(std::sync::Arc::ptr_eq(
        audit_pipeline.shared(),
        other_pipeline.shared()
    ));
    learn(&mut audit_pipeline, "alice");
    let r = audit("alice", "list", "secrets").at(T0 + 2 * DAY);
    assert!(one(&mut other_pipeline, r).is_some());
    // The copy of the same event in the first pipeline gets the same tags without
    // being evaluated again; a later re-send is a duplicate in either pipeline.
    let r = audit("alice", "list", "nodes").id("both").at(T0 + 2 * DAY);
    let tags = one(&mut other_pipeline, r.clone());
    assert!(tags.is_some());
    assert_eq!(one(&mut audit_pipeline, r.clone()), tags);
    assert_eq!(one(&mut other_pipeline, r.clone()), None);
    assert_eq!(one(&mut audit_pipeline, r), None);
}

#[test]
fn baselines_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "storage_dir = {:?}\nsnapshot_interval = \"1s\"",
        dir.path().join("state").display().to_string()
    );
    let (mut p, _) = build(&section);
    learn(&mut p, "alice");
    one(&mut p, audit("alice", "list", "secrets").at(T0 + HOUR));
    // Learned after the learning period, it fires once, then is known.
    assert!(one(&mut p, audit("alice", "list", "nodes").at(T0 + 2 * DAY)).is_some());
    // A denial: tagged every time it happens, but not when it is read again.
    let denial = audit("bob", "get", "secrets").status(403).id("d-1");
    assert!(one(&mut p, denial.clone().at(T0 + 2 * DAY)).is_some());
    let mut out = Vec::new();
    p.flush(&mut out);
    assert!(out.is_empty());
    let file = snapshot_path(&dir.path().join("state"), "anomaly");
    let snapshot = read_snapshot(&file).unwrap().unwrap();
    assert_eq!(snapshot.version, SNAPSHOT_VERSION);
    assert_eq!(snapshot.detectors[NOVEL_API_CALL].len(), 1);
    assert_eq!(snapshot.detectors[NOVEL_API_CALL][0].key, "alice");
    assert_eq!(snapshot.detectors[NOVEL_API_CALL][0].entity.first_seen, T0);
    assert_eq!(snapshot.detectors[NOVEL_SOURCE][0].entity.values.len(), 2);
    // Only the events within the dedupe window (10m) of the latest one are kept.
    assert_eq!(snapshot.dedupe.len(), 2);
    drop(p);

    // A new processor (a restart) on the same directory.
    let (mut p, telemetry) = build(&section);
    // The denial read again after the restart (e.g. the audit log batch in flight).
    assert_eq!(one(&mut p, denial.at(T0 + 2 * DAY)), None);
    for (verb, resource) in [("list", "secrets"), ("list", "nodes"), ("get", "pods")] {
        let r = audit("alice", verb, resource).at(T0 + 3 * DAY);
        let r = if resource == "pods" {
            audit("alice", verb, resource).ns("a").at(T0 + 3 * DAY)
        } else {
            r
        };
        assert_eq!(one(&mut p, r), None, "{verb} {resource}");
    }
    // Still past the learning period (first seen before the restart): new calls fire.
    assert!(one(&mut p, audit("alice", "delete", "nodes").at(T0 + 3 * DAY)).is_some());
    assert_eq!(
        telemetry.counter_sum("harrier_processor_anomaly_snapshot_errors", &[]),
        0
    );
}

#[test]
fn snapshots_are_written_on_the_deadline_and_only_when_changed() {
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "storage_dir = {:?}\nsnapshot_interval = \"1m\"",
        dir.path().display().to_string()
    );
    let (mut p, _) = build(&section);
    let deadline = p.next_deadline().unwrap();
    let file = snapshot_path(dir.path(), "anomaly");
    let mut out = Vec::new();
    p.on_deadline(deadline, &mut out);
    assert!(!file.exists(), "nothing learned, nothing written");
    assert_eq!(
        p.next_deadline(),
        Some(deadline + std::time::Duration::from_secs(60))
    );
    learn(&mut p, "alice");
    p.on_deadline(deadline, &mut out);
    assert!(file.exists());
    assert!(out.is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(leftovers, ["anomaly.baselines.json"]);
    // Without storage_dir there is no deadline.
    let (p, _) = build("");
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn a_corrupt_snapshot_is_counted_set_aside_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = snapshot_path(dir.path(), "anomaly");
    std::fs::write(&file, b"{\"version\": 1, \"detec").unwrap();
    let section = format!("storage_dir = {:?}", dir.path().display().to_string());
    let (mut p, telemetry) = build(&section);
    assert_eq!(
        telemetry.counter_value(
            "harrier_processor_anomaly_snapshot_errors",
            &[("processor", "anomaly"), ("operation", "load")]
        ),
        Some(1)
    );
    assert!(file.with_extension("json.corrupt").exists());
    learn(&mut p, "alice");
    p.flush(&mut Vec::new());
    assert!(read_snapshot(&file).unwrap().is_some());

    // Another version is refused the same way.
    std::fs::write(
        &file,
        b"{\"version\": 99, \"watermark_unix_nano\": 0, \"detectors\": {}}",
    )
    .unwrap();
    let (_, telemetry) = build(&section);
    assert_eq!(
        telemetry.counter_sum("harrier_processor_anomaly_snapshot_errors", &[]),
        1
    );
}

#[test]
fn entities_stay_within_max_entities_and_evictions_are_counted() {
    let (mut p, telemetry) = build("max_entities = 10\n[detectors.novel_source]\nenabled = false");
    for i in 0..100 {
        let user = format!("user-{i}");
        one(&mut p, audit(&user, "get", "pods").ns("a").at(T0 + i));
    }
    let held = p.shared().lock().entities(NOVEL_API_CALL);
    assert_eq!(held, 10);
    let gauge = telemetry.render();
    assert!(
        gauge.contains(
            "harrier_processor_anomaly_entities{processor=\"anomaly\",detector=\"novel_api_call\"} 10"
        ),
        "{gauge}"
    );
    assert_eq!(
        telemetry.counter_value(
            "harrier_processor_anomaly_evictions",
            &[("processor", "anomaly"), ("detector", "novel_api_call")]
        ),
        Some(90)
    );
    // The most recent identities are the ones kept: user-99 is judged, user-0 learns.
    assert!(one(&mut p, audit("user-99", "list", "secrets").at(T0 + 2 * DAY)).is_some());
    assert_eq!(
        one(&mut p, audit("user-0", "list", "secrets").at(T0 + 2 * DAY)),
        None
    );
}

#[test]
fn burst_windows_are_bounded_too() {
    let (mut p, telemetry) = build("max_entities = 5");
    for i in 0..50 {
        let r = audit(&format!("u{i}"), "get", "secrets")
            .status(403)
            .at(T0 + i);
        one(&mut p, r);
    }
    assert_eq!(p.shared().lock().entities("rbac_denied_burst"), 5);
    assert_eq!(
        telemetry.counter_value(
            "harrier_processor_anomaly_evictions",
            &[("processor", "anomaly"), ("detector", "rbac_denied_burst")]
        ),
        Some(45)
    );
}

#[test]
fn metrics_and_other_signals_pass_through() {
    let (mut p, _) = build("");
    let batch = Batch::Metrics(Vec::new());
    assert_eq!(run(&mut p, batch.clone()), batch);
    let r = record(vec![kv(TYPES_ATTRIBUTE, "x")], T0);
    assert_eq!(run(&mut p, logs(vec![r.clone()])), logs(vec![r]));
}

#[test]
fn values_per_entity_are_bounded_dropping_the_oldest() {
    use super::baseline::{Baseline, Observation};
    let hour = std::time::Duration::from_secs(3600);
    let mut b = Baseline::new(hour, 100 * hour, 10, 3);
    assert_eq!(b.observe("e", "a", T0), Observation::Learning);
    b.observe("e", "b", T0 + 1);
    b.observe("e", "c", T0 + 2);
    b.observe("e", "a", T0 + 3); // refreshes `a`: `b` is now the oldest
    b.observe("e", "d", T0 + 4);
    let values = &b.entity("e").unwrap().values;
    assert_eq!(values.len(), 3);
    assert!(!values.contains_key("b"));
    assert!(matches!(
        b.observe("e", "b", T0 + 2 * HOUR),
        Observation::Novel { .. }
    ));
    assert_eq!(b.observe("e", "a", T0 + 2 * HOUR), Observation::Known);
}

#[test]
fn the_dedupe_set_is_bounded_by_capacity() {
    use super::dedupe::Dedupe;
    let mut d = Dedupe::new(std::time::Duration::from_secs(600), 3);
    for i in 0..10 {
        assert!(!d.check(&format!("id-{i}"), "ResponseComplete", T0 + i));
    }
    assert_eq!(d.len(), 3);
    assert!(d.check("id-9", "ResponseComplete", T0 + 10));
    // The oldest pairs were let go: seen again, they count as new.
    assert!(!d.check("id-0", "ResponseComplete", T0 + 11));
}

//! Unit tests of the Falco alert mapping, on alerts as Falco and falcosidekick send them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::falco::test_support::*;
use harrier_pdata::otlp::common::v1::any_value::Value as V;

fn map(text: &str) -> LogRecord {
    let mut alerts = parse_body(text.as_bytes()).unwrap();
    assert_eq!(alerts.len(), 1);
    map_alert(alerts.remove(0), OBSERVED).unwrap()
}

#[test]
fn terminal_shell_in_container() {
    let r = map(TERMINAL_SHELL);
    assert_eq!(r.time_unix_nano, at(12, 44, 128_536_782));
    assert_eq!(r.observed_time_unix_nano, OBSERVED);
    assert_eq!(r.severity_number, SeverityNumber::Info2 as i32);
    assert_eq!(r.severity_text, "Notice");
    assert!(body(&r).starts_with("09:12:44.128536782: Notice A shell was spawned"));
    assert_eq!(s(&r, "event.domain"), "runtime");
    assert_eq!(s(&r, "falco.rule"), "Terminal shell in container");
    assert_eq!(s(&r, "falco.priority"), "Notice");
    assert_eq!(s(&r, "falco.source"), "syscall");
    assert_eq!(
        strings(&r, "falco.tags"),
        [
            "T1059",
            "container",
            "maturity_stable",
            "mitre_execution",
            "shell"
        ]
    );
    assert_eq!(s(&r, "host.name"), "ip-10-0-1-23");
    assert_eq!(s(&r, "k8s.namespace.name"), "shop");
    assert_eq!(s(&r, "k8s.pod.name"), "checkout-5d9c7b8f4-x2x8k");
    assert_eq!(s(&r, "k8s.workload.name"), "checkout");
    assert_eq!(s(&r, "container.id"), "3f1c2a9b8d7e");
    assert_eq!(s(&r, "container.name"), "nginx");
    assert_eq!(s(&r, "container.image.name"), "docker.io/library/nginx");
    assert_eq!(strings(&r, "container.image.tags"), ["1.25.3"]);
    assert_eq!(s(&r, "process.executable.name"), "bash");
    assert_eq!(s(&r, "process.executable.path"), "/usr/bin/bash");
    assert_eq!(s(&r, "process.command_line"), "bash");
    assert_eq!(s(&r, "user.name"), "root");
    // Every other output field, under its own name and with its JSON type.
    assert_eq!(s(&r, "falco.output_fields.evt.type"), "execve");
    assert_eq!(s(&r, "falco.output_fields.proc.pname"), "runc");
    assert_eq!(int(&r, "falco.output_fields.proc.tty"), 34816);
    assert_eq!(int(&r, "falco.output_fields.user.loginuid"), -1);
    assert_eq!(int(&r, "falco.output_fields.user.uid"), 0);
    assert_eq!(
        int(&r, "falco.output_fields.evt.time"),
        1_718_097_164_128_536_782
    );
    // Renamed fields are not written twice.
    assert!(attr(&r, "falco.output_fields.k8s.ns.name").is_none());
    assert!(attr(&r, "falco.output_fields.proc.name").is_none());
    assert!(attr(&r, "falco.uuid").is_none());
}

#[test]
fn write_below_etc() {
    let r = map(WRITE_BELOW_ETC);
    assert_eq!(r.severity_number, SeverityNumber::Error as i32);
    assert_eq!(r.severity_text, "Error");
    assert_eq!(s(&r, "falco.rule"), "Write below etc");
    assert_eq!(s(&r, "process.executable.name"), "sed");
    assert_eq!(s(&r, "process.command_line"), "sed -i s/x/y/ /etc/passwd");
    assert_eq!(int(&r, "process.pid"), 48211);
    assert_eq!(s(&r, "falco.output_fields.fd.name"), "/etc/passwd");
    assert_eq!(
        s(&r, "falco.output_fields.proc.aname[3]"),
        "containerd-shim"
    );
    assert!(attr(&r, "source.address").is_none());
}

#[test]
fn outbound_connection_carries_both_ends() {
    let r = map(OUTBOUND);
    assert_eq!(r.severity_number, SeverityNumber::Warn as i32);
    assert_eq!(s(&r, "event.domain"), "runtime");
    assert_eq!(s(&r, "source.address"), "10.0.3.17");
    assert_eq!(int(&r, "source.port"), 43122);
    assert_eq!(s(&r, "destination.address"), "203.0.113.50");
    assert_eq!(int(&r, "destination.port"), 4444);
    assert_eq!(s(&r, "network.transport"), "tcp");
    assert_eq!(s(&r, "k8s.namespace.name"), "payments");
    assert_eq!(s(&r, "k8s.workload.name"), "payments-api");
    assert_eq!(s(&r, "container.image.name"), "ghcr.io/acme/payments");
    assert_eq!(s(&r, "process.executable.path"), "/usr/bin/python3.11");
    assert_eq!(s(&r, "user.name"), "www-data");
    assert_eq!(s(&r, "falco.output_fields.fd.type"), "ipv4");
}

#[test]
fn falcosidekick_body() {
    let r = map(SIDEKICK);
    // `+02:00`, fraction `.5`: as Go's RFC3339Nano writes it.
    assert_eq!(r.time_unix_nano, at(15, 0, 500_000_000));
    assert_eq!(s(&r, "falco.uuid"), "5b7e3f9c-2d4a-4c1e-9f6b-8a0d1c2e3f4a");
    assert_eq!(s(&r, "host.name"), "ip-10-0-2-7");
    assert_eq!(s(&r, "k8s.pod.name"), "postgres-0");
    assert_eq!(s(&r, "k8s.workload.name"), "postgres");
    // `null` output fields (Falco's `<NA>`) are left out.
    assert!(attr(&r, "falco.output_fields.proc.aname[3]").is_none());
    assert!(!keys(&r).iter().any(|k| k.is_empty()));
}

#[test]
fn arrays_and_concatenated_alerts() {
    let array = format!("[{},{}]", TERMINAL_SHELL.trim(), WRITE_BELOW_ETC.trim());
    assert_eq!(parse_body(array.as_bytes()).unwrap().len(), 2);
    let lines = format!("{TERMINAL_SHELL}{OUTBOUND}\n{array}");
    let alerts = parse_body(lines.as_bytes()).unwrap();
    let rules: Vec<String> = alerts
        .into_iter()
        .map(|a| s(&map_alert(a, 0).unwrap(), "falco.rule").to_string())
        .collect();
    assert_eq!(
        rules,
        [
            "Terminal shell in container",
            "Outbound Connection to C2 Servers",
            "Terminal shell in container",
            "Write below etc"
        ]
    );
}

#[test]
fn bodies_that_are_not_json() {
    for (body, message) in [
        ("", "empty"),
        ("   \n", "empty"),
        ("[]", "empty"),
        (
            "09:12:44: Notice A shell was spawned",
            "invalid number at line 1 column 2",
        ),
        (
            "Notice A shell was spawned",
            "expected value at line 1 column 1",
        ),
        (&format!("{}{{\"rule\":", TERMINAL_SHELL), "EOF"),
    ] {
        let err = parse_body(body.as_bytes()).unwrap_err();
        assert!(err.contains(message), "{body:?}: {err}");
    }
}

#[test]
fn alerts_missing_required_fields_are_rejected() {
    let full: Value = serde_json::from_str(TERMINAL_SHELL).unwrap();
    let mut no_rule = full.clone();
    no_rule.as_object_mut().unwrap().remove("rule");
    assert_eq!(map_alert(no_rule, 0), Err("missing rule"));
    let mut empty_rule = full.clone();
    empty_rule["rule"] = "".into();
    assert_eq!(map_alert(empty_rule, 0), Err("missing rule"));
    let mut no_output = full.clone();
    no_output.as_object_mut().unwrap().remove("output");
    assert_eq!(map_alert(no_output, 0), Err("missing output"));
    let mut number_output = full;
    number_output["output"] = 3.into();
    assert_eq!(map_alert(number_output, 0), Err("missing output"));
    assert_eq!(map_alert(Value::from("alert"), 0), Err("not a JSON object"));
}

#[test]
fn near_misses_are_kept() {
    // An unknown priority: severity unspecified, the text kept.
    let r = map_alert(
        serde_json::json!({"rule": "r", "output": "o", "priority": "Severe"}),
        7,
    )
    .unwrap();
    assert_eq!(r.severity_number, SeverityNumber::Unspecified as i32);
    assert_eq!(r.severity_text, "Severe");
    assert_eq!(s(&r, "falco.priority"), "Severe");
    // No time, no output fields: time 0, no k8s attributes.
    assert_eq!(r.time_unix_nano, 0);
    assert_eq!(keys(&r), ["event.domain", "falco.rule", "falco.priority"]);
    // No `time`, but `evt.time` in the output fields; ports as strings; only
    // `container.image`.
    let r = map_alert(
        serde_json::json!({"rule": "r", "output": "o", "priority": "critical",
            "output_fields": {"evt.time": 1_718_097_164_000_000_001_u64, "fd.sport": "8443",
                "fd.l4proto": "UDP", "container.image": "registry:5000/shop/cart:1.4",
                "k8s.pod.name": "xwing", "k8smeta.deployment.name": "fleet",
                "evt.arg.res": true, "evt.latency": 0.25}}),
        7,
    )
    .unwrap();
    assert_eq!(r.severity_number, SeverityNumber::Error3 as i32);
    assert_eq!(r.time_unix_nano, 1_718_097_164_000_000_001);
    assert_eq!(int(&r, "destination.port"), 8443);
    assert_eq!(s(&r, "network.transport"), "udp");
    assert_eq!(s(&r, "container.image.name"), "registry:5000/shop/cart");
    assert_eq!(strings(&r, "container.image.tags"), ["1.4"]);
    assert_eq!(s(&r, "k8s.workload.name"), "fleet");
    assert_eq!(
        attr(&r, "falco.output_fields.evt.arg.res"),
        Some(&V::BoolValue(true))
    );
    assert_eq!(
        attr(&r, "falco.output_fields.evt.latency"),
        Some(&V::DoubleValue(0.25))
    );
    // A bare pod: no workload.
    let r = map_alert(
        serde_json::json!({"rule": "r", "output": "o", "output_fields": {"k8s.pod.name": "xwing"}}),
        7,
    )
    .unwrap();
    assert!(attr(&r, "k8s.workload.name").is_none());
}

#[test]
fn severity_table() {
    for (priority, number) in [
        ("Emergency", SeverityNumber::Fatal),
        ("Alert", SeverityNumber::Error4),
        ("Critical", SeverityNumber::Error3),
        ("Error", SeverityNumber::Error),
        ("Warning", SeverityNumber::Warn),
        ("Notice", SeverityNumber::Info2),
        ("Informational", SeverityNumber::Info),
        ("Info", SeverityNumber::Info),
        ("DEBUG", SeverityNumber::Debug),
    ] {
        assert_eq!(severity(priority), Some(number), "{priority}");
    }
    assert_eq!(severity(""), None);
    assert_eq!(severity("Severe"), None);
}

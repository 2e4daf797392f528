//! Black-box: the real `harrier` binary with the `fluent_forward` receiver and a file
//! exporter, fed by the real Python `fluent-logger` client (plain emit = Message mode
//! with integer seconds; `nanosecond_precision` = EventTime; the buffered async
//! sender; the `logging` handler) and by frames hand-built with Python's msgpack
//! (Forward, PackedForward and CompressedPackedForward with a `chunk` option, whose
//! acks the script prints). Every record must arrive with its mapped body, attributes
//! and resource.
//!
//! The interpreter is `$HARRIER_TEST_PYTHON`, else `<workspace>/.venv/bin/python`
//! (scripts/test.sh creates that venv with `fluent-logger` and `msgpack`). Without it
//! the test fails: it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use harrier_pdata::Signal;
use harrier_pdata::attrs::{get, get_str};
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value::Value as V};
use harrier_pdata::otlp::logs::v1::LogRecord;
use std::collections::BTreeMap;
use std::process::Command;

const T0: u64 = 1_700_000_000;
const NANOS: u64 = 1_000_000_000;

const CLIENT: &str = r#"
import gzip, json, logging, socket, struct, sys
import msgpack
from fluent import asyncsender, handler, sender

HOST, PORT = "127.0.0.1", int(sys.argv[1])
T0 = 1700000000

# Message mode, integer seconds: fluent-logger's default.
s = sender.FluentSender("app", host=HOST, port=PORT)
for i in range(3):
    ok = s.emit("plain", {"message": f"plain {i}", "level": "warn", "user": "ada", "n": i,
                          "tags": ["a", "b"], "ctx": {"k": "v"}})
    assert ok, s.last_error
s.close()

# Message mode with EventTime (nanosecond precision).
s = sender.FluentSender("app", host=HOST, port=PORT, nanosecond_precision=True)
for i in range(3):
    assert s.emit_with_time("nano", T0 + i + 0.25, {"log": f"nano {i}", "stream": "stderr"}), s.last_error
s.close()

# The buffered asynchronous sender (a queue drained by a thread; close() flushes it).
a = asyncsender.FluentSender("app", host=HOST, port=PORT, nanosecond_precision=True)
for i in range(3):
    assert a.emit("async", {"msg": f"async {i}", "severity": "ERROR"})
a.close()

# The logging handler.
log = logging.getLogger("fluent-e2e")
h = handler.FluentHandler("app.logging", host=HOST, port=PORT)
h.setFormatter(handler.FluentRecordFormatter({"level": "%(levelname)s"}))
log.addHandler(h)
log.warning({"message": "via logging"})
h.close()

def event_time(sec, nsec):
    return msgpack.ExtType(0, struct.pack(">II", sec, nsec))

def send_and_read_ack(frame):
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(msgpack.packb(frame))
        unpacker = msgpack.Unpacker(raw=False)
        while True:
            data = sock.recv(4096)
            if not data:
                sys.exit("connection closed before the ack")
            unpacker.feed(data)
            for obj in unpacker:
                print("ack", json.dumps(obj), flush=True)
                return

# PackedForward: the entries as one msgpack stream (bin).
packed = b"".join(msgpack.packb([event_time(T0, i), {"log": f"packed {i}", "level": "debug"}])
                  for i in range(3))
send_and_read_ack(["app.packed", packed, {"chunk": "p1", "size": 3}])

# CompressedPackedForward: two gzip members of v1.5 entries with Kubernetes metadata.
def k8s(i):
    return msgpack.packb([[event_time(T0, 100 + i), {}], {
        "log": f"k8s {i}", "stream": "stdout",
        "kubernetes": {"pod_name": "cart-7d9", "namespace_name": "shop", "container_name": "app",
                       "pod_id": "uid-1", "host": "node-a", "labels": {"app": "cart"}}}])
members = gzip.compress(k8s(0) + k8s(1)) + gzip.compress(k8s(2) + k8s(3))
send_and_read_ack(["kube.var.log", members, {"chunk": "c1", "size": 4, "compressed": "gzip"}])

# Forward mode as Fluent Bit sends it: [[EventTime, {}], record] entries.
entries = [[[event_time(T0, 200 + i), {}], {"message": f"forward {i}", "lvl": "info"}] for i in range(2)]
send_and_read_ack(["fb.tag", entries, {"chunk": "f1"}])

# Message mode with a chunk option.
send_and_read_ack(["app.chunked", T0, {"msg": "with chunk"}, {"chunk": "m1"}])
print("done", flush=True)
"#;

fn value(attrs: &[KeyValue], key: &str) -> Option<V> {
    get(attrs, key).and_then(|v| v.value.clone())
}

fn body(log: &LogRecord) -> String {
    match log.body.as_ref().and_then(|b| b.value.clone()) {
        Some(V::StringValue(s)) => s,
        other => panic!("body is not a string: {other:?}"),
    }
}

#[test]
fn fluent_logger_and_hand_built_frames_arrive_mapped() {
    let python = common::python();
    let port = common::free_port();
    let mut harrier = common::start(&format!(
        r#"
        [receivers.fluent_forward]
        endpoint = "127.0.0.1:{port}"
        [exporters.file]
        path = "{{dir}}/out.jsonl"
        [service]
        extensions = ["health_check"]
        [service.telemetry.metrics]
        address = "127.0.0.1:{{metrics}}"
        [service.pipelines.logs]
        receivers = ["fluent_forward"]
        exporters = ["file"]
        "#
    ));
    let script = harrier.path("client.py");
    std::fs::write(&script, CLIENT).unwrap();
    let run = Command::new(&python)
        .arg(&script)
        .arg(port.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "client failed: {}\n{stdout}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let acks: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ack ")).collect();
    assert_eq!(
        acks,
        [
            r#"ack {"ack": "p1"}"#,
            r#"ack {"ack": "c1"}"#,
            r#"ack {"ack": "f1"}"#,
            r#"ack {"ack": "m1"}"#
        ]
    );
    const RECORDS: usize = 3 + 3 + 3 + 1 + 3 + 4 + 2 + 1;
    let out = harrier.path("out.jsonl");
    common::wait_for(10, "every record in the file", || {
        common::file_items(&out, Signal::Logs) >= RECORDS
    });
    assert_eq!(
        harrier.metric(
            "otelcol_receiver_accepted_log_records_total{receiver=\"fluent_forward\",transport=\"tcp\"}"
        ),
        RECORDS as f64
    );
    let (status, _) = harrier.terminate();
    assert!(status.success());

    // Every record, by body, with its resource attributes.
    let mut by_body: BTreeMap<String, (LogRecord, Vec<KeyValue>)> = BTreeMap::new();
    let mut k8s_groups = Vec::new();
    for batch in harrier_testkit::read_json_lines(&out, Signal::Logs).unwrap() {
        let harrier_pdata::Batch::Logs(resources) = batch else {
            unreachable!()
        };
        for rl in resources {
            let res = rl.resource.map(|r| r.attributes).unwrap_or_default();
            let logs: Vec<LogRecord> = rl
                .scope_logs
                .into_iter()
                .flat_map(|s| s.log_records)
                .collect();
            if get_str(&res, "k8s.pod.name").is_some() {
                k8s_groups.push(logs.len());
            }
            for log in logs {
                assert!(by_body.insert(body(&log), (log, res.clone())).is_none());
            }
        }
    }
    assert_eq!(by_body.len(), RECORDS, "{:?}", by_body.keys());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for i in 0..3u64 {
        let (log, res) = &by_body[&format!("plain {i}")];
        assert!(res.is_empty());
        assert_eq!(log.time_unix_nano % NANOS, 0, "integer seconds");
        assert!(log.time_unix_nano.abs_diff(now) < 120 * NANOS);
        assert!(log.observed_time_unix_nano >= log.time_unix_nano);
        assert_eq!(
            (log.severity_number, log.severity_text.as_str()),
            (13, "warn")
        );
        let a = &log.attributes;
        assert_eq!(get_str(a, "fluent.tag"), Some("app.plain"));
        assert_eq!(get_str(a, "user"), Some("ada"));
        assert_eq!(value(a, "n"), Some(V::IntValue(i as i64)));
        let Some(V::ArrayValue(tags)) = value(a, "tags") else {
            panic!()
        };
        assert_eq!(tags.values.len(), 2);
        let Some(V::KvlistValue(ctx)) = value(a, "ctx") else {
            panic!()
        };
        assert_eq!(get_str(&ctx.values, "k"), Some("v"));
        assert!(get(a, "message").is_none() && get(a, "level").is_none());

        let (log, _) = &by_body[&format!("nano {i}")];
        assert_eq!(
            log.time_unix_nano,
            (T0 + i) * NANOS + 250_000_000,
            "EventTime"
        );
        assert_eq!(get_str(&log.attributes, "log.iostream"), Some("stderr"));
        assert_eq!(get_str(&log.attributes, "fluent.tag"), Some("app.nano"));

        let (log, _) = &by_body[&format!("async {i}")];
        assert_eq!(
            (log.severity_number, log.severity_text.as_str()),
            (17, "ERROR")
        );
        assert!(log.time_unix_nano.abs_diff(now) < 120 * NANOS);

        let (log, _) = &by_body[&format!("packed {i}")];
        assert_eq!(log.time_unix_nano, T0 * NANOS + i);
        assert_eq!(
            (log.severity_number, log.severity_text.as_str()),
            (5, "debug")
        );
        assert_eq!(get_str(&log.attributes, "fluent.tag"), Some("app.packed"));
    }
    let (log, _) = &by_body["via logging"];
    assert_eq!(get_str(&log.attributes, "fluent.tag"), Some("app.logging"));
    assert_eq!(log.severity_number, 13);
    for i in 0..4u64 {
        let (log, res) = &by_body[&format!("k8s {i}")];
        assert_eq!(log.time_unix_nano, T0 * NANOS + 100 + i);
        for (key, expected) in [
            ("k8s.pod.name", "cart-7d9"),
            ("k8s.namespace.name", "shop"),
            ("k8s.container.name", "app"),
            ("k8s.pod.uid", "uid-1"),
            ("k8s.node.name", "node-a"),
            ("k8s.pod.label.app", "cart"),
        ] {
            assert_eq!(get_str(res, key), Some(expected), "{key}");
        }
        assert!(get(&log.attributes, "kubernetes").is_none());
        assert_eq!(get_str(&log.attributes, "log.iostream"), Some("stdout"));
        assert_eq!(get_str(&log.attributes, "fluent.tag"), Some("kube.var.log"));
    }
    assert_eq!(k8s_groups, [4], "one ResourceLogs for the pod's records");
    for i in 0..2u64 {
        let (log, _) = &by_body[&format!("forward {i}")];
        assert_eq!(log.time_unix_nano, T0 * NANOS + 200 + i);
        assert_eq!(log.severity_number, 9);
    }
    let (log, _) = &by_body["with chunk"];
    assert_eq!(log.time_unix_nano, T0 * NANOS);
    assert_eq!(
        get(&log.attributes, "fluent.tag"),
        Some(&AnyValue {
            value: Some(V::StringValue("app.chunked".into()))
        })
    );
}

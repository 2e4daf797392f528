//! Tetragon JSON export events -> OTLP `LogRecord`s, one per event.
//!
//! Tetragon's export (`export-stdout`, `--export-filename`) writes one JSON object per
//! line, keyed by the event type: `{"process_exec": {...}, "node_name": ..., "time":
//! ...}`. [`parse_body`] reads such lines (or a JSON array of events) and
//! [`map_event`] maps each:
//!
//! - `process_exec` / `process_exit`: a runtime record (`event.domain = "runtime"`) with
//!   the process, its container and its pod;
//! - `process_kprobe` with a `sock_arg` (`tcp_connect`, `tcp_sendmsg`, `udp_sendmsg`,
//!   `inet_csk_accept`, ...): a flow record (`event.domain = "network.flow"`), the pod
//!   as the `source.k8s.*` side (`destination.k8s.*` for an accept), plus the process;
//! - other `process_kprobe`, `process_tracepoint`, `process_uprobe`, `process_lsm`: a
//!   runtime record with `tetragon.function_name` and the arguments.
//!
//! The attribute tables are in `docs/components/falco.md`.

use super::attributes::{Attrs, as_int, parse_timestamp, text, workload_from_pod};
use harrier_pdata::otlp::common::v1::{AnyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, SeverityNumber};
use serde_json::{Map, Value};

/// The event keys handled, in the order they are looked for.
pub const EVENT_KEYS: [&str; 6] = [
    "process_exec",
    "process_exit",
    "process_kprobe",
    "process_tracepoint",
    "process_uprobe",
    "process_lsm",
];

/// Why a Tetragon body cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A line is not JSON.
    #[error("line {line}: not JSON: {message}")]
    Line {
        /// 1-based line number in the body.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A body starting with `[` is not a JSON array.
    #[error("not a JSON array of events: {0}")]
    Array(String),
    /// Nothing but whitespace.
    #[error("the body is empty: send Tetragon export lines (one JSON object per line)")]
    Empty,
}

/// Splits a body into events: JSON lines (blank lines skipped), or one JSON array.
///
/// # Errors
/// [`BodyError`] naming the first line that is not JSON. The whole body is refused then:
/// a broken line means the body was cut or framed wrongly, and accepting the rest would
/// make a retry duplicate it.
pub fn parse_body(body: &[u8]) -> Result<Vec<Value>, BodyError> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err(BodyError::Empty);
    };
    if body[start] == b'[' {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(items)) if items.is_empty() => Err(BodyError::Empty),
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err(BodyError::Array("expected an array".into())),
            Err(e) => Err(BodyError::Array(e.to_string())),
        };
    }
    let mut events = Vec::new();
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event = serde_json::from_slice(line).map_err(|e| BodyError::Line {
            line: index + 1,
            message: e.to_string(),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// Maps one event; `observed` is the arrival time.
///
/// # Errors
/// The reason the event is rejected: not an object, or none of [`EVENT_KEYS`].
pub fn map_event(event: Value, observed: u64) -> Result<LogRecord, &'static str> {
    let Value::Object(event) = event else {
        return Err("not a JSON object");
    };
    let Some((kind, inner)) = EVENT_KEYS
        .iter()
        .find_map(|key| Some((*key, event.get(*key)?.as_object()?)))
    else {
        return Err("no known event (process_exec, process_exit, process_kprobe, ...)");
    };
    let empty = Map::new();
    let process = inner
        .get("process")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let function = match kind {
        "process_tracepoint" => {
            format!("{}/{}", text(inner.get("subsys")), text(inner.get("event")))
        }
        "process_uprobe" => text(inner.get("symbol")).to_string(),
        _ => text(inner.get("function_name")).to_string(),
    };
    let socket = inner
        .get("args")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|arg| arg.get("sock_arg")?.as_object())
        .filter(|s| !text(s.get("daddr")).is_empty());

    let mut attrs = Attrs::with_capacity(32);
    let summary = match socket {
        Some(socket) if kind == "process_kprobe" => {
            flow_attributes(&function, socket, process, &mut attrs)
        }
        _ => {
            attrs.str("event.domain", "runtime");
            pod_attributes(process, "", &mut attrs);
            let mut summary = kind.to_string();
            if !function.is_empty() && kind != "process_exec" && kind != "process_exit" {
                summary = format!("{summary} {function}");
            }
            summary = format!(
                "{summary} {}{}",
                pod_label(process),
                command_line(process).unwrap_or_default()
            );
            if kind == "process_exit" {
                match (
                    text(inner.get("signal")),
                    as_int(inner.get("status").unwrap_or(&Value::Null)),
                ) {
                    ("", Some(status)) => summary = format!("{summary} -> {status}"),
                    ("", None) => {}
                    (signal, _) => summary = format!("{summary} -> {signal}"),
                }
            }
            summary
        }
    };
    attrs.str("tetragon.event", kind);
    process_attributes(process, &mut attrs);
    if let Some(parent) = inner.get("parent").and_then(Value::as_object) {
        attrs.port(
            "process.parent_pid",
            parent.get("pid").unwrap_or(&Value::Null),
        );
        attrs.str("tetragon.parent.binary", text(parent.get("binary")));
    }
    attrs.str("host.name", text(event.get("node_name")));
    attrs.str("k8s.cluster.name", text(event.get("cluster_name")));
    if kind == "process_exit" {
        attrs.port(
            "process.exit.code",
            inner.get("status").unwrap_or(&Value::Null),
        );
        attrs.str("tetragon.signal", text(inner.get("signal")));
    }
    if kind != "process_exec" && kind != "process_exit" {
        attrs.str("tetragon.function_name", &function);
        attrs.str("tetragon.policy_name", text(inner.get("policy_name")));
        attrs.str("tetragon.action", text(inner.get("action")));
        attrs.str("tetragon.message", text(inner.get("message")));
        if let Some(args) = inner
            .get("args")
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
        {
            attrs.json("tetragon.args", args);
        }
        let tags: Vec<&str> = inner
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        attrs.strings("tetragon.tags", &tags);
    }
    let time = parse_timestamp(text(event.get("time"))).unwrap_or(0);
    Ok(LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: observed,
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(summary)),
        }),
        attributes: attrs.0,
        ..Default::default()
    })
}

/// `<namespace>/<pod> ` or `""`.
fn pod_label(process: &Map<String, Value>) -> String {
    let pod = process.get("pod");
    let (ns, name) = (
        text(pod.and_then(|p| p.get("namespace"))),
        text(pod.and_then(|p| p.get("name"))),
    );
    if name.is_empty() {
        String::new()
    } else {
        format!("{ns}/{name} ")
    }
}

/// `binary arguments`, or `None` without a binary.
fn command_line(process: &Map<String, Value>) -> Option<String> {
    let binary = text(process.get("binary"));
    if binary.is_empty() {
        return None;
    }
    let arguments = text(process.get("arguments"));
    Some(if arguments.is_empty() {
        binary.to_string()
    } else {
        format!("{binary} {arguments}")
    })
}

/// The process itself: executable, command line, pid, user, working directory, and the
/// container it runs in.
fn process_attributes(process: &Map<String, Value>, attrs: &mut Attrs) {
    let binary = text(process.get("binary"));
    attrs.str("process.executable.path", binary);
    attrs.str(
        "process.executable.name",
        binary.rsplit('/').next().unwrap_or(binary),
    );
    if let Some(line) = command_line(process) {
        attrs.str("process.command_line", &line);
    }
    attrs.port("process.pid", process.get("pid").unwrap_or(&Value::Null));
    attrs.port(
        "process.user.id",
        process.get("uid").unwrap_or(&Value::Null),
    );
    attrs.str("process.working_directory", text(process.get("cwd")));
    attrs.str("tetragon.exec_id", text(process.get("exec_id")));
    let Some(container) = process
        .get("pod")
        .and_then(|p| p.get("container"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let id = text(container.get("id"));
    // `containerd://<id>`, `cri-o://<id>`: the runtime prefix is not part of the id.
    attrs.str("container.id", id.rsplit("://").next().unwrap_or(id));
    attrs.str("container.name", text(container.get("name")));
    if let Some(image) = container.get("image").and_then(Value::as_object) {
        attrs.image(text(image.get("name")));
        attrs.str("container.image.id", text(image.get("id")));
    }
}

/// The pod's namespace, name, workload and labels, with attribute names prefixed by
/// `prefix` (`""`, `"source."`, `"destination."`).
fn pod_attributes(process: &Map<String, Value>, prefix: &str, attrs: &mut Attrs) {
    let Some(pod) = process.get("pod").and_then(Value::as_object) else {
        return;
    };
    let name = text(pod.get("name"));
    attrs.str(
        format!("{prefix}k8s.namespace.name"),
        text(pod.get("namespace")),
    );
    attrs.str(format!("{prefix}k8s.pod.name"), name);
    let workload = Some(text(pod.get("workload")))
        .filter(|w| !w.is_empty())
        .or_else(|| workload_from_pod(name));
    if let Some(workload) = workload {
        attrs.str(format!("{prefix}k8s.workload.name"), workload);
    }
    attrs.str(
        format!("{prefix}k8s.workload.kind"),
        text(pod.get("workload_kind")),
    );
    if let Some(labels) = pod
        .get("pod_labels")
        .filter(|l| l.as_object().is_some_and(|l| !l.is_empty()))
    {
        attrs.json(format!("{prefix}k8s.pod.labels"), labels);
    }
}

/// `tcp` / `udp` / `sctp` from the socket's protocol, its type, or the function name.
fn transport(function: &str, socket: &Map<String, Value>) -> Option<&'static str> {
    let by_protocol = match text(socket.get("protocol")) {
        "IPPROTO_TCP" => Some("tcp"),
        "IPPROTO_UDP" | "IPPROTO_UDPLITE" => Some("udp"),
        "IPPROTO_SCTP" => Some("sctp"),
        _ => None,
    };
    let by_type = match text(socket.get("type")) {
        "SOCK_STREAM" => Some("tcp"),
        "SOCK_DGRAM" => Some("udp"),
        _ => None,
    };
    let by_function = if function.starts_with("tcp_") {
        Some("tcp")
    } else if function.starts_with("udp_") {
        Some("udp")
    } else {
        None
    };
    by_protocol.or(by_type).or(by_function)
}

/// The flow attributes of a socket kprobe; returns the record's body. The socket's
/// `saddr`/`sport` are the local end: the source of an outgoing flow, the destination
/// of an accepted one.
fn flow_attributes(
    function: &str,
    socket: &Map<String, Value>,
    process: &Map<String, Value>,
    attrs: &mut Attrs,
) -> String {
    attrs.str("event.domain", "network.flow");
    let inbound = function.contains("accept");
    let (local, remote) = if inbound {
        ("destination", "source")
    } else {
        ("source", "destination")
    };
    let null = Value::Null;
    attrs.str(format!("{local}.address"), text(socket.get("saddr")));
    attrs.port(
        format!("{local}.port"),
        socket.get("sport").unwrap_or(&null),
    );
    attrs.str(format!("{remote}.address"), text(socket.get("daddr")));
    attrs.port(
        format!("{remote}.port"),
        socket.get("dport").unwrap_or(&null),
    );
    let transport = transport(function, socket);
    if let Some(t) = transport {
        attrs.str("network.transport", t);
    }
    pod_attributes(process, &format!("{local}."), attrs);
    let end = |addr: &str, port: &str| {
        let port = as_int(socket.get(port).unwrap_or(&null)).map(|p| p.to_string());
        format!("{}:{}", text(socket.get(addr)), port.unwrap_or_default())
    };
    let (from, to) = if inbound {
        (end("daddr", "dport"), end("saddr", "sport"))
    } else {
        (end("saddr", "sport"), end("daddr", "dport"))
    };
    format!(
        "{function} {}{} {}{from} -> {to}",
        pod_label(process),
        text(process.get("binary")),
        transport.map(|t| format!("{t} ")).unwrap_or_default(),
    )
}

#[cfg(test)]
#[path = "tetragon_tests.rs"]
mod tests;

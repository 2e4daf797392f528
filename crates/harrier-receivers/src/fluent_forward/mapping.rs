//! Forward events -> OTLP logs: one `LogRecord` per entry.
//!
//! | fluent | OTLP |
//! |---|---|
//! | entry time | `time_unix_nano` (`observed_time_unix_nano` is the receive time) |
//! | `log`, `message` or `msg` (first that is a string) | `body` (string) |
//! | no such field | `body` = the remaining record as a kvlist |
//! | other record fields | attributes (maps as kvlist, arrays as array, bin as bytes) |
//! | tag | attribute `fluent.tag` |
//! | `stream` | attribute `log.iostream` |
//! | `level`, `severity` or `lvl` (string) | `severity_text`, `severity_number` |
//! | v1.5 metadata `{k: v}` | attribute `fluent.metadata.k` |
//! | `kubernetes: {...}` (Fluent Bit's filter) | resource attributes `k8s.*` |
//!
//! Records of the same Kubernetes pod and container share one `ResourceLogs`.

use super::decode::{Entry, text};
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use rmpv::Value;
use std::collections::HashMap;

/// The OTLP severity number for a level name (case-insensitive); 0 (unspecified)
/// for names it does not know.
pub(crate) fn severity_number(level: &str) -> i32 {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => 1,
        "debug" | "dbg" => 5,
        "info" | "information" | "informational" => 9,
        "notice" => 10,
        "warn" | "warning" => 13,
        "error" | "err" => 17,
        "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic" => 21,
        _ => 0,
    }
}

fn string_value(s: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    }
}

fn kv(key: impl Into<String>, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

/// A msgpack value as an OTLP value: maps become kvlists, arrays arrays, bin and ext
/// bytes, integers above `i64::MAX` decimal strings (no precision lost).
pub(crate) fn any_value(value: Value) -> AnyValue {
    use any_value::Value as V;
    let value = match value {
        Value::Nil => None,
        Value::Boolean(b) => Some(V::BoolValue(b)),
        Value::Integer(i) => Some(match i.as_i64() {
            Some(n) => V::IntValue(n),
            None => V::StringValue(i.to_string()),
        }),
        Value::F32(f) => Some(V::DoubleValue(f64::from(f))),
        Value::F64(f) => Some(V::DoubleValue(f)),
        // Invalid UTF-8 in a str is kept as it was sent, as bytes.
        // rmpv already checked the UTF-8: take the string without checking again.
        Value::String(s) if s.is_str() => Some(V::StringValue(s.into_str().unwrap_or_default())),
        Value::String(s) => Some(V::BytesValue(s.into_bytes())),
        Value::Binary(b) => Some(V::BytesValue(b)),
        Value::Array(items) => Some(V::ArrayValue(ArrayValue {
            values: items.into_iter().map(any_value).collect(),
        })),
        Value::Map(pairs) => Some(V::KvlistValue(KeyValueList {
            values: key_values(pairs, ""),
        })),
        Value::Ext(_, data) => Some(V::BytesValue(data)),
    };
    AnyValue { value }
}

fn key_string(key: &Value) -> String {
    text(key).unwrap_or_else(|| key.to_string())
}

/// Moves the text out of a str or bin value (no copy; lossy only for invalid UTF-8).
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) if s.is_str() => s.into_str(),
        Value::String(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Binary(b) => Some(
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        _ => None,
    }
}

fn key_values(pairs: Vec<(Value, Value)>, prefix: &str) -> Vec<KeyValue> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            let key = if prefix.is_empty() {
                match k {
                    Value::String(_) | Value::Binary(_) => into_text(k).unwrap_or_default(),
                    other => other.to_string(),
                }
            } else {
                format!("{prefix}{}", key_string(&k))
            };
            kv(key, any_value(v))
        })
        .collect()
}

fn is_text(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Binary(b) => std::str::from_utf8(b).is_ok(),
        _ => false,
    }
}

/// Splits `name:tag` and `name@digest` image references into semantic-convention
/// attributes.
fn image_attributes(image: &str, out: &mut Vec<KeyValue>) {
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match image.find('@') {
        Some(at) => (&image[..at], None),
        None => match image[last_slash..].rfind(':') {
            Some(colon) => (
                &image[..last_slash + colon],
                Some(&image[last_slash + colon + 1..]),
            ),
            None => (image, None),
        },
    };
    out.push(kv("container.image.name", string_value(name)));
    if let Some(tag) = tag {
        out.push(kv(
            "container.image.tags",
            AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![string_value(tag)],
                })),
            },
        ));
    }
}

/// Resource attributes from Fluent Bit's `kubernetes` metadata map.
fn kubernetes_resource(pairs: Vec<(Value, Value)>) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for (key, value) in pairs {
        let key = key_string(&key);
        let renamed = match key.as_str() {
            "pod_name" => Some("k8s.pod.name"),
            "namespace_name" => Some("k8s.namespace.name"),
            "container_name" => Some("k8s.container.name"),
            "pod_id" => Some("k8s.pod.uid"),
            "host" => Some("k8s.node.name"),
            "docker_id" => Some("container.id"),
            _ => None,
        };
        if let Some(name) = renamed {
            out.push(kv(name, any_value(value)));
            continue;
        }
        match key.as_str() {
            "labels" | "annotations" | "namespace_labels" => {
                let prefix = match key.as_str() {
                    "labels" => "k8s.pod.label.",
                    "annotations" => "k8s.pod.annotation.",
                    _ => "k8s.namespace.label.",
                };
                match value {
                    Value::Map(m) => out.extend(key_values(m, prefix)),
                    other => out.push(kv(format!("fluent.kubernetes.{key}"), any_value(other))),
                }
            }
            "container_image" => match text(&value) {
                Some(image) => image_attributes(&image, &mut out),
                None => out.push(kv("fluent.kubernetes.container_image", any_value(value))),
            },
            _ => out.push(kv(format!("fluent.kubernetes.{key}"), any_value(value))),
        }
    }
    out
}

/// The positions of the fields `log_record` lifts out of a record, found in one pass
/// (each key is compared once, by length first, instead of once per wanted field).
#[derive(Default)]
struct Special {
    kubernetes: Option<usize>,
    stream: Option<usize>,
    /// By preference: `level`, `severity`, `lvl`.
    severity: [Option<usize>; 3],
    /// By preference: `log`, `message`, `msg`.
    body: [Option<usize>; 3],
}

impl Special {
    fn find(record: &[(Value, Value)]) -> Special {
        let mut found = Special::default();
        for (i, (k, v)) in record.iter().enumerate() {
            let key: &[u8] = match k {
                Value::String(s) => s.as_bytes(),
                Value::Binary(b) => b,
                _ => continue,
            };
            let slot = match key {
                b"kubernetes" if matches!(v, Value::Map(_)) => &mut found.kubernetes,
                b"stream" if is_text(v) => &mut found.stream,
                b"level" if is_text(v) => &mut found.severity[0],
                b"severity" if is_text(v) => &mut found.severity[1],
                b"lvl" if is_text(v) => &mut found.severity[2],
                b"log" if is_text(v) => &mut found.body[0],
                b"message" if is_text(v) => &mut found.body[1],
                b"msg" if is_text(v) => &mut found.body[2],
                _ => continue,
            };
            // The first occurrence of a key wins, as a map lookup would give.
            slot.get_or_insert(i);
        }
        found
    }
}

/// Removes the values at `positions` (any order) from `record`, returning them by
/// position; other fields keep their order.
fn take_positions(
    record: &mut Vec<(Value, Value)>,
    positions: &[Option<usize>],
) -> Vec<Option<Value>> {
    let mut out: Vec<Option<Value>> = positions.iter().map(|_| None).collect();
    let mut order: Vec<(usize, usize)> = positions
        .iter()
        .enumerate()
        .filter_map(|(slot, p)| p.map(|at| (at, slot)))
        .collect();
    // Remove from the back so earlier positions stay valid.
    order.sort_unstable_by_key(|&(at, _)| std::cmp::Reverse(at));
    for (at, slot) in order {
        if at < record.len() {
            out[slot] = Some(record.remove(at).1);
        }
    }
    out
}

/// One entry as a log record plus its resource attributes.
fn log_record(tag: &str, entry: Entry, observed: u64) -> (Vec<KeyValue>, LogRecord) {
    let mut record = entry.record;
    let found = Special::find(&record);
    let severity_at = found.severity.iter().flatten().next().copied();
    let body_at = found.body.iter().flatten().next().copied();
    let mut taken = take_positions(
        &mut record,
        &[found.kubernetes, found.stream, severity_at, body_at],
    )
    .into_iter();
    let (kubernetes, stream, severity, body) = (
        taken.next().flatten(),
        taken.next().flatten(),
        taken.next().flatten(),
        taken.next().flatten(),
    );
    let resource = match kubernetes {
        Some(Value::Map(m)) => kubernetes_resource(m),
        _ => Vec::new(),
    };
    let severity = severity.and_then(into_text);
    let body = body.and_then(into_text);
    let (body, mut attributes) = match body {
        Some(text) => (string_value(text), key_values(record, "")),
        None => (any_value(Value::Map(record)), Vec::new()),
    };
    if let Some(stream) = stream.and_then(into_text) {
        attributes.push(kv("log.iostream", string_value(stream)));
    }
    attributes.extend(key_values(entry.metadata, "fluent.metadata."));
    attributes.push(kv("fluent.tag", string_value(tag)));
    let (severity_number, severity_text) = match severity {
        Some(s) => (severity_number(&s), s),
        None => (0, String::new()),
    };
    let log = LogRecord {
        time_unix_nano: entry.time_unix_nano,
        observed_time_unix_nano: observed,
        severity_number,
        severity_text,
        body: Some(body),
        attributes,
        ..Default::default()
    };
    (resource, log)
}

/// Maps the entries of one message to a logs batch, grouping records by resource
/// (Kubernetes pod and container) in order of first appearance.
pub(crate) fn to_batch(tag: &str, entries: Vec<Entry>, observed_unix_nano: u64) -> Batch {
    let mut groups: Vec<ResourceLogs> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut empty_group: Option<usize> = None;
    for entry in entries {
        let (resource, log) = log_record(tag, entry, observed_unix_nano);
        // Records without Kubernetes metadata (the common case) share one group found
        // without hashing; for the others, the Debug output of prost types is a
        // deterministic identity for grouping.
        let key = if resource.is_empty() {
            None
        } else {
            Some(format!("{resource:?}"))
        };
        let existing = match &key {
            None => empty_group,
            Some(k) => index.get(k).copied(),
        };
        let at = match existing {
            Some(at) => at,
            None => {
                groups.push(ResourceLogs {
                    resource: Some(Resource {
                        attributes: resource,
                        ..Default::default()
                    }),
                    scope_logs: vec![ScopeLogs::default()],
                    ..Default::default()
                });
                let at = groups.len() - 1;
                match key {
                    None => empty_group = Some(at),
                    Some(k) => {
                        index.insert(k, at);
                    }
                }
                at
            }
        };
        if let Some(scope) = groups.get_mut(at).and_then(|g| g.scope_logs.first_mut()) {
            scope.log_records.push(log);
        }
    }
    Batch::Logs(groups)
}

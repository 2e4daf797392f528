//! Falco alerts (`json_output: true`, as `http_output` and falcosidekick's webhook output
//! post them) -> OTLP `LogRecord`s, one per alert.
//!
//! An alert is a JSON object: `rule`, `output` (the rendered message), `priority`,
//! `time` (RFC 3339, nanoseconds), `source` (`syscall`, `k8s_audit`, a plugin's name),
//! `tags`, `hostname`, `output_fields` (the fields the rule's output names, typed) and,
//! from falcosidekick, `uuid`. A body holds one alert, a JSON array of alerts, or several
//! of either one after the other ([`parse_body`]).
//!
//! [`map_alert`] writes `event.domain = "runtime"`, the `falco.*` attributes, the output
//! fields with a semantic-convention name under that name ([`RENAMED`]) and every other
//! output field as `falco.output_fields.<key>`, keeping its JSON type. The table of
//! names is in `docs/components/falco.md`.

use super::attributes::{Attrs, as_int, parse_timestamp, text, workload_from_pod};
use harrier_pdata::otlp::common::v1::{AnyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, SeverityNumber};
use serde_json::{Map, Value};

/// Output fields written under a semantic-convention name instead of
/// `falco.output_fields.<key>`. Ports and pids become ints.
pub const RENAMED: [(&str, &str); 16] = [
    ("k8s.ns.name", "k8s.namespace.name"),
    ("k8s.pod.name", "k8s.pod.name"),
    ("container.id", "container.id"),
    ("container.name", "container.name"),
    ("container.image.repository", "container.image.name"),
    ("container.image.tag", "container.image.tags"),
    ("proc.name", "process.executable.name"),
    ("proc.exepath", "process.executable.path"),
    ("proc.cmdline", "process.command_line"),
    ("proc.pid", "process.pid"),
    ("user.name", "user.name"),
    ("fd.cip", "source.address"),
    ("fd.cport", "source.port"),
    ("fd.sip", "destination.address"),
    ("fd.sport", "destination.port"),
    ("fd.l4proto", "network.transport"),
];

/// Output fields naming the pod's workload, preferred to the pod-name heuristic.
const WORKLOAD_FIELDS: [&str; 3] = [
    "k8smeta.deployment.name",
    "k8s.deployment.name",
    "k8smeta.ds.name",
];

/// Splits a body into alerts: one JSON object, a JSON array of objects, or a sequence of
/// either (newline-separated, as a file of alerts would be). Elements that are not
/// objects are returned too; [`map_alert`] rejects them.
///
/// # Errors
/// The parser's message, with line and column, when the body is not JSON.
pub fn parse_body(body: &[u8]) -> Result<Vec<Value>, String> {
    let mut alerts = Vec::new();
    for value in serde_json::Deserializer::from_slice(body).into_iter::<Value>() {
        match value.map_err(|e| e.to_string())? {
            Value::Array(items) => alerts.extend(items),
            other => alerts.push(other),
        }
    }
    if alerts.is_empty() {
        return Err("the body is empty: send a Falco alert (a JSON object)".into());
    }
    Ok(alerts)
}

/// The OTel severity of a Falco priority (case-insensitive; Falco's syslog-like levels).
/// `None` for a priority Falco does not define.
pub fn severity(priority: &str) -> Option<SeverityNumber> {
    let severity = match priority.to_ascii_lowercase().as_str() {
        "emergency" => SeverityNumber::Fatal,
        "alert" => SeverityNumber::Error4,
        "critical" => SeverityNumber::Error3,
        "error" => SeverityNumber::Error,
        "warning" | "warn" => SeverityNumber::Warn,
        "notice" => SeverityNumber::Info2,
        "informational" | "info" => SeverityNumber::Info,
        "debug" => SeverityNumber::Debug,
        _ => return None,
    };
    Some(severity)
}

/// Maps one alert; `observed` is the arrival time.
///
/// # Errors
/// The reason the alert is rejected: not an object, or `rule` / `output` missing.
pub fn map_alert(alert: Value, observed: u64) -> Result<LogRecord, &'static str> {
    let Value::Object(mut alert) = alert else {
        return Err("not a JSON object");
    };
    let rule = text(alert.get("rule")).to_string();
    if rule.is_empty() {
        return Err("missing rule");
    }
    let Some(Value::String(output)) = alert.remove("output").filter(|o| o != "") else {
        return Err("missing output");
    };
    let fields = match alert.remove("output_fields") {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    let priority = text(alert.get("priority"));
    let time = parse_timestamp(text(alert.get("time")))
        .or_else(|| {
            fields
                .get("evt.time")
                .and_then(as_int)
                .and_then(|t| u64::try_from(t).ok())
        })
        .unwrap_or(0);

    let mut attrs = Attrs::with_capacity(16 + fields.len());
    attrs.str("event.domain", "runtime");
    attrs.str("falco.rule", &rule);
    attrs.str("falco.priority", priority);
    let tags: Vec<&str> = alert
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    attrs.strings("falco.tags", &tags);
    attrs.str("falco.source", text(alert.get("source")));
    attrs.str("falco.uuid", text(alert.get("uuid")));
    attrs.str("host.name", text(alert.get("hostname")));
    output_field_attributes(&fields, &mut attrs);

    let severity_number = severity(priority).unwrap_or(SeverityNumber::Unspecified);
    Ok(LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: observed,
        severity_number: severity_number as i32,
        severity_text: priority.to_string(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(output)),
        }),
        attributes: attrs.0,
        ..Default::default()
    })
}

/// The output fields as attributes: [`RENAMED`] ones under their new name, the rest as
/// `falco.output_fields.<key>`; `k8s.workload.name` from a workload field or the pod
/// name.
fn output_field_attributes(fields: &Map<String, Value>, attrs: &mut Attrs) {
    for (from, to) in RENAMED {
        let Some(value) = fields.get(from) else {
            continue;
        };
        match to {
            "source.port" | "destination.port" | "process.pid" => attrs.port(to, value),
            "container.image.tags" => {
                let tag = text(Some(value));
                if !tag.is_empty() {
                    attrs.strings(to, &[tag]);
                }
            }
            "network.transport" => attrs.str(to, &text(Some(value)).to_ascii_lowercase()),
            _ => attrs.str(to, text(Some(value))),
        }
    }
    // `container.image` is `repository:tag`; use it when the parts are not there.
    if !fields.contains_key("container.image.repository")
        && let Some(image) = fields.get("container.image").and_then(Value::as_str)
    {
        attrs.image(image);
    }
    let workload = WORKLOAD_FIELDS
        .iter()
        .map(|key| text(fields.get(*key)))
        .find(|name| !name.is_empty())
        .or_else(|| workload_from_pod(text(fields.get("k8s.pod.name"))));
    if let Some(workload) = workload {
        attrs.str("k8s.workload.name", workload);
    }
    for (key, value) in fields {
        if !RENAMED.iter().any(|(from, _)| from == key) {
            attrs.json(format!("falco.output_fields.{key}"), value);
        }
    }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;

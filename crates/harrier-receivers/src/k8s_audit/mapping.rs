//! Audit [`Event`] -> OTLP `LogRecord`, one record per event.
//!
//! [`Mapper`] applies the stage filter and the required-field check, then
//! [`log_record`] builds the record: the time is `stageTimestamp` (falling back to
//! `requestReceivedTimestamp`), the body a one-line [`summary`], the severity from the
//! response code and stage ([`severity`]), and the attributes listed in
//! `docs/components/k8s_audit.md`, whose names security processors rely on. Attributes
//! whose source is absent or empty are left out. [`Mapper::batch`] puts the records of
//! one request (or one file batch) into a single `ResourceLogs` carrying
//! `service.name = "kube-apiserver"` and, when configured, `k8s.cluster.name`.

use super::event::{Event, Stage};
use harrier_pdata::Batch;
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use harrier_pdata::otlp::resource::v1::Resource;

/// The annotation carrying the authorizer's decision (`allow`, `forbid`).
pub const DECISION_ANNOTATION: &str = "authorization.k8s.io/decision";
/// The annotation carrying the authorizer's reason.
pub const REASON_ANNOTATION: &str = "authorization.k8s.io/reason";
/// The instrumentation scope name of every record.
pub const SCOPE_NAME: &str = "harrier/receiver/k8s_audit";

/// What became of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Mapped.
    Record(LogRecord),
    /// Its stage is not kept.
    Filtered,
    /// A required field is missing (the field's name).
    Rejected(&'static str),
}

/// Filters and maps events for one receiver.
#[derive(Debug, Clone)]
pub struct Mapper {
    stages: Vec<Stage>,
    include_objects: bool,
    resource: Resource,
}

impl Mapper {
    /// A mapper keeping `stages`, with the objects as attributes if `include_objects`,
    /// tagging the resource with `cluster_name` if given.
    pub fn new(stages: Vec<Stage>, include_objects: bool, cluster_name: Option<&str>) -> Mapper {
        let mut attributes = vec![string_kv("service.name", "kube-apiserver")];
        if let Some(name) = cluster_name.filter(|n| !n.is_empty()) {
            attributes.push(string_kv("k8s.cluster.name", name));
        }
        Mapper {
            stages,
            include_objects,
            resource: Resource {
                attributes,
                ..Default::default()
            },
        }
    }

    /// Checks, filters and maps one event; `observed_unix_nano` is the arrival time.
    pub fn map(&self, event: Event, observed_unix_nano: u64) -> Outcome {
        if let Some(field) = event.missing_required() {
            return Outcome::Rejected(field);
        }
        match Stage::parse(&event.stage) {
            Some(stage) if self.stages.contains(&stage) => {
                Outcome::Record(log_record(event, self.include_objects, observed_unix_nano))
            }
            _ => Outcome::Filtered,
        }
    }

    /// One `ResourceLogs` holding `records`.
    pub fn batch(&self, records: Vec<LogRecord>) -> Batch {
        Batch::Logs(vec![ResourceLogs {
            resource: Some(self.resource.clone()),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }])
    }
}

/// The current time in nanoseconds since the Unix epoch.
pub fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The record's severity: `ERROR` for a 5xx answer or the `Panic` stage, `WARN` for 401
/// and 403, `INFO` otherwise.
pub fn severity(event: &Event) -> (SeverityNumber, &'static str) {
    let code = event.response_status.as_ref().map_or(0, |s| s.code);
    if event.stage == "Panic" || code >= 500 {
        (SeverityNumber::Error, "ERROR")
    } else if code == 401 || code == 403 {
        (SeverityNumber::Warn, "WARN")
    } else {
        (SeverityNumber::Info, "INFO")
    }
}

/// `<user> <verb> <resource>[/<subresource>] <namespace>/<name> -> <code>`; a
/// non-resource request shows its request URI instead of resource and name, and empty
/// parts are left out.
pub fn summary(event: &Event) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(4);
    if !event.user.username.is_empty() {
        parts.push(event.user.username.clone());
    }
    parts.push(event.verb.clone());
    match event.object_ref.as_ref().filter(|r| !r.resource.is_empty()) {
        Some(r) => {
            if r.subresource.is_empty() {
                parts.push(r.resource.clone());
            } else {
                parts.push(format!("{}/{}", r.resource, r.subresource));
            }
            match (r.namespace.is_empty(), r.name.is_empty()) {
                (false, false) => parts.push(format!("{}/{}", r.namespace, r.name)),
                (false, true) => parts.push(r.namespace.clone()),
                (true, false) => parts.push(r.name.clone()),
                (true, true) => {}
            }
        }
        None if !event.request_uri.is_empty() => parts.push(event.request_uri.clone()),
        None => {}
    }
    let mut text = parts.join(" ");
    if let Some(code) = event.response_status.as_ref().map(|s| s.code)
        && code != 0
    {
        text.push_str(&format!(" -> {code}"));
    }
    text
}

fn push_str(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    if !value.is_empty() {
        attrs.push(string_kv(key, value));
    }
}

fn push_array(attrs: &mut Vec<KeyValue>, key: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    let values = values
        .iter()
        .map(|v| AnyValue {
            value: Some(any_value::Value::StringValue(v.clone())),
        })
        .collect();
    attrs.push(KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
        }),
        ..Default::default()
    });
}

pub use harrier_pdata::attrs::json_to_any;

/// Builds the record for one event (no filtering; see [`Mapper::map`]).
pub fn log_record(event: Event, include_objects: bool, observed_unix_nano: u64) -> LogRecord {
    let time = [
        &event.stage_timestamp,
        &event.request_received_timestamp,
        &event.timestamp,
    ]
    .into_iter()
    .find_map(|t| parse_timestamp(t))
    .unwrap_or(0);
    let (severity_number, severity_text) = severity(&event);
    let body = summary(&event);
    let mut attrs = Vec::with_capacity(24);
    push_str(&mut attrs, "event.domain", "k8s.audit");
    push_str(&mut attrs, "k8s.audit.id", &event.audit_id);
    push_str(&mut attrs, "k8s.audit.stage", &event.stage);
    push_str(&mut attrs, "k8s.audit.level", &event.level);
    push_str(&mut attrs, "k8s.audit.verb", &event.verb);
    push_str(&mut attrs, "user.name", &event.user.username);
    push_array(&mut attrs, "k8s.audit.user.groups", &event.user.groups);
    if let Some(imp) = &event.impersonated_user {
        push_str(&mut attrs, "k8s.audit.impersonated_user", &imp.username);
    }
    if let Some(first) = event.source_ips.first() {
        push_str(&mut attrs, "source.address", first);
    }
    push_array(&mut attrs, "k8s.audit.source_ips", &event.source_ips);
    push_str(&mut attrs, "user_agent.original", &event.user_agent);
    if let Some(r) = &event.object_ref {
        push_str(&mut attrs, "k8s.namespace.name", &r.namespace);
        push_str(&mut attrs, "k8s.audit.resource", &r.resource);
        push_str(&mut attrs, "k8s.audit.subresource", &r.subresource);
        push_str(&mut attrs, "k8s.audit.api_group", &r.api_group);
        push_str(&mut attrs, "k8s.audit.api_version", &r.api_version);
        push_str(&mut attrs, "k8s.audit.object_name", &r.name);
    }
    push_str(&mut attrs, "url.path", &event.request_uri);
    if let Some(s) = &event.response_status {
        if s.code != 0 {
            attrs.push(int_kv("http.response.status_code", s.code));
        }
        push_str(&mut attrs, "k8s.audit.response.reason", &s.reason);
    }
    if let Some(d) = event.annotations.get(DECISION_ANNOTATION) {
        push_str(&mut attrs, "k8s.audit.decision", d);
    }
    if let Some(r) = event.annotations.get(REASON_ANNOTATION) {
        push_str(&mut attrs, "k8s.audit.reason", r);
    }
    if include_objects {
        for (key, object) in [
            ("k8s.audit.request_object", event.request_object),
            ("k8s.audit.response_object", event.response_object),
        ] {
            if let Some(object) = object.filter(|o| !o.is_null()) {
                attrs.push(KeyValue {
                    key: key.into(),
                    value: Some(json_to_any(object)),
                    ..Default::default()
                });
            }
        }
    }
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: observed_unix_nano,
        severity_number: severity_number as i32,
        severity_text: severity_text.into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body)),
        }),
        attributes: attrs,
        ..Default::default()
    }
}

/// Parses an RFC 3339 timestamp (`2024-05-01T10:00:00.123456Z`, any fraction up to
/// nanoseconds, `Z` or a `±hh:mm` offset) to nanoseconds since the Unix epoch. `None`
/// for anything else, or a time before 1970.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        if digits.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(digits).ok()?.parse().ok()
        } else {
            None
        }
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // A leap second (:60) is read as the last nanosecond-free instant of the minute.
    let second = second.min(59);
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        for pos in 0..9 {
            let digit = if start + pos < i {
                i64::from(b[start + pos] - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + digit;
        }
    }
    let offset_seconds = match b.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let offset = h * 3600 + m * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    seconds
        .checked_mul(1_000_000_000)?
        .checked_add(u64::try_from(nanos).ok()?)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;

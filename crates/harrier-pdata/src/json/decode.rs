//! OTLP/JSON decoding of export requests, common messages (resource, scope,
//! attributes), traces and logs. Metrics are in `decode_metrics`.
//!
//! Every message decoder walks the members of its JSON object once, matching both the
//! lowerCamelCase and the snake_case name of each field and skipping unknown members.

use super::decode_metrics::resource_metrics;
use super::read::{
    boolean, bytes, double, enumeration, id, int32, int64, list, message, object, string, uint32,
    uint64, wrong_type,
};
use super::{JsonError, Path};
use crate::{Batch, Signal};
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use serde_json::Value;

/// Length of a trace id in bytes.
pub(super) const TRACE_ID_LEN: usize = 16;
/// Length of a span id in bytes.
pub(super) const SPAN_ID_LEN: usize = 8;

/// Decodes a whole export request object of `signal`.
pub(super) fn request(signal: Signal, v: Value) -> Result<Batch, JsonError> {
    let root = Path::Root;
    if !v.is_object() {
        return Err(wrong_type(&root, "a JSON object", &v));
    }
    let mut batch = Batch::empty(signal);
    for (k, v) in object(v, &root)? {
        let p = root.key(&k);
        match (&mut batch, k.as_str()) {
            (Batch::Traces(rs), "resourceSpans" | "resource_spans") => {
                *rs = list(v, &p, resource_spans)?;
            }
            (Batch::Metrics(rm), "resourceMetrics" | "resource_metrics") => {
                *rm = list(v, &p, resource_metrics)?;
            }
            (Batch::Logs(rl), "resourceLogs" | "resource_logs") => {
                *rl = list(v, &p, resource_logs)?;
            }
            _ => {}
        }
    }
    Ok(batch)
}

// ---- common ----

/// Decodes a `Resource`.
pub(super) fn resource(v: Value, path: &Path<'_>) -> Result<Resource, JsonError> {
    let mut r = Resource::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "attributes" => r.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                r.dropped_attributes_count = uint32(v, &p)?;
            }
            "entityRefs" | "entity_refs" => r.entity_refs = list(v, &p, entity_ref)?,
            _ => {}
        }
    }
    Ok(r)
}

fn entity_ref(v: Value, path: &Path<'_>) -> Result<EntityRef, JsonError> {
    let mut e = EntityRef::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "schemaUrl" | "schema_url" => e.schema_url = string(v, &p)?,
            "type" => e.r#type = string(v, &p)?,
            "idKeys" | "id_keys" => e.id_keys = list(v, &p, string)?,
            "descriptionKeys" | "description_keys" => e.description_keys = list(v, &p, string)?,
            _ => {}
        }
    }
    Ok(e)
}

/// Decodes an `InstrumentationScope`.
pub(super) fn scope(v: Value, path: &Path<'_>) -> Result<InstrumentationScope, JsonError> {
    let mut s = InstrumentationScope::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "name" => s.name = string(v, &p)?,
            "version" => s.version = string(v, &p)?,
            "attributes" => s.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                s.dropped_attributes_count = uint32(v, &p)?;
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Decodes a `KeyValue` (attribute).
pub(super) fn key_value(v: Value, path: &Path<'_>) -> Result<KeyValue, JsonError> {
    let mut kv = KeyValue::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "key" => kv.key = string(v, &p)?,
            "value" => kv.value = message(v, &p, any_value)?,
            "keyStrindex" | "key_strindex" => kv.key_strindex = int32(v, &p)?,
            _ => {}
        }
    }
    Ok(kv)
}

/// Decodes an `AnyValue`. A member set to `null` leaves the value unset.
pub(super) fn any_value(v: Value, path: &Path<'_>) -> Result<AnyValue, JsonError> {
    use any_value::Value as V;
    let mut out = AnyValue::default();
    for (k, v) in object(v, path)? {
        if v.is_null() {
            continue;
        }
        let p = path.key(&k);
        out.value = Some(match k.as_str() {
            "stringValue" | "string_value" => V::StringValue(string(v, &p)?),
            "boolValue" | "bool_value" => V::BoolValue(boolean(v, &p)?),
            "intValue" | "int_value" => V::IntValue(int64(v, &p)?),
            "doubleValue" | "double_value" => V::DoubleValue(double(v, &p)?),
            "arrayValue" | "array_value" => V::ArrayValue(array_value(v, &p)?),
            "kvlistValue" | "kvlist_value" => V::KvlistValue(kvlist_value(v, &p)?),
            "bytesValue" | "bytes_value" => V::BytesValue(bytes(v, &p)?),
            "stringValueStrindex" | "string_value_strindex" => {
                V::StringValueStrindex(int32(v, &p)?)
            }
            _ => continue,
        });
    }
    Ok(out)
}

fn array_value(v: Value, path: &Path<'_>) -> Result<ArrayValue, JsonError> {
    let mut a = ArrayValue::default();
    for (k, v) in object(v, path)? {
        if k == "values" {
            a.values = list(v, &path.key(&k), any_value)?;
        }
    }
    Ok(a)
}

fn kvlist_value(v: Value, path: &Path<'_>) -> Result<KeyValueList, JsonError> {
    let mut l = KeyValueList::default();
    for (k, v) in object(v, path)? {
        if k == "values" {
            l.values = list(v, &path.key(&k), key_value)?;
        }
    }
    Ok(l)
}

// ---- traces ----

fn resource_spans(v: Value, path: &Path<'_>) -> Result<ResourceSpans, JsonError> {
    let mut r = ResourceSpans::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "resource" => r.resource = message(v, &p, resource)?,
            "scopeSpans" | "scope_spans" => r.scope_spans = list(v, &p, scope_spans)?,
            "schemaUrl" | "schema_url" => r.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(r)
}

fn scope_spans(v: Value, path: &Path<'_>) -> Result<ScopeSpans, JsonError> {
    let mut s = ScopeSpans::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "scope" => s.scope = message(v, &p, scope)?,
            "spans" => s.spans = list(v, &p, span)?,
            "schemaUrl" | "schema_url" => s.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(s)
}

fn span(v: Value, path: &Path<'_>) -> Result<Span, JsonError> {
    let mut s = Span::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "traceId" | "trace_id" => s.trace_id = id(v, &p, TRACE_ID_LEN)?,
            "spanId" | "span_id" => s.span_id = id(v, &p, SPAN_ID_LEN)?,
            "traceState" | "trace_state" => s.trace_state = string(v, &p)?,
            "parentSpanId" | "parent_span_id" => s.parent_span_id = id(v, &p, SPAN_ID_LEN)?,
            "flags" => s.flags = uint32(v, &p)?,
            "name" => s.name = string(v, &p)?,
            "kind" => s.kind = enumeration(v, &p, span_kind)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                s.start_time_unix_nano = uint64(v, &p)?;
            }
            "endTimeUnixNano" | "end_time_unix_nano" => s.end_time_unix_nano = uint64(v, &p)?,
            "attributes" => s.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                s.dropped_attributes_count = uint32(v, &p)?;
            }
            "events" => s.events = list(v, &p, event)?,
            "droppedEventsCount" | "dropped_events_count" => {
                s.dropped_events_count = uint32(v, &p)?;
            }
            "links" => s.links = list(v, &p, link)?,
            "droppedLinksCount" | "dropped_links_count" => {
                s.dropped_links_count = uint32(v, &p)?;
            }
            "status" => s.status = message(v, &p, status)?,
            _ => {}
        }
    }
    Ok(s)
}

fn span_kind(name: &str) -> Option<i32> {
    span::SpanKind::from_str_name(name).map(|k| k as i32)
}

fn event(v: Value, path: &Path<'_>) -> Result<span::Event, JsonError> {
    let mut e = span::Event::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "timeUnixNano" | "time_unix_nano" => e.time_unix_nano = uint64(v, &p)?,
            "name" => e.name = string(v, &p)?,
            "attributes" => e.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                e.dropped_attributes_count = uint32(v, &p)?;
            }
            _ => {}
        }
    }
    Ok(e)
}

fn link(v: Value, path: &Path<'_>) -> Result<span::Link, JsonError> {
    let mut l = span::Link::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "traceId" | "trace_id" => l.trace_id = id(v, &p, TRACE_ID_LEN)?,
            "spanId" | "span_id" => l.span_id = id(v, &p, SPAN_ID_LEN)?,
            "traceState" | "trace_state" => l.trace_state = string(v, &p)?,
            "attributes" => l.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                l.dropped_attributes_count = uint32(v, &p)?;
            }
            "flags" => l.flags = uint32(v, &p)?,
            _ => {}
        }
    }
    Ok(l)
}

fn status(v: Value, path: &Path<'_>) -> Result<Status, JsonError> {
    let mut s = Status::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "message" => s.message = string(v, &p)?,
            "code" => {
                s.code = enumeration(v, &p, |n| {
                    status::StatusCode::from_str_name(n).map(|c| c as i32)
                })?;
            }
            _ => {}
        }
    }
    Ok(s)
}

// ---- logs ----

fn resource_logs(v: Value, path: &Path<'_>) -> Result<ResourceLogs, JsonError> {
    let mut r = ResourceLogs::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "resource" => r.resource = message(v, &p, resource)?,
            "scopeLogs" | "scope_logs" => r.scope_logs = list(v, &p, scope_logs)?,
            "schemaUrl" | "schema_url" => r.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(r)
}

fn scope_logs(v: Value, path: &Path<'_>) -> Result<ScopeLogs, JsonError> {
    let mut s = ScopeLogs::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "scope" => s.scope = message(v, &p, scope)?,
            "logRecords" | "log_records" => s.log_records = list(v, &p, log_record)?,
            "schemaUrl" | "schema_url" => s.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(s)
}

fn log_record(v: Value, path: &Path<'_>) -> Result<LogRecord, JsonError> {
    let mut l = LogRecord::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "timeUnixNano" | "time_unix_nano" => l.time_unix_nano = uint64(v, &p)?,
            "observedTimeUnixNano" | "observed_time_unix_nano" => {
                l.observed_time_unix_nano = uint64(v, &p)?;
            }
            "severityNumber" | "severity_number" => {
                l.severity_number = enumeration(v, &p, |n| {
                    SeverityNumber::from_str_name(n).map(|s| s as i32)
                })?;
            }
            "severityText" | "severity_text" => l.severity_text = string(v, &p)?,
            "body" => l.body = message(v, &p, any_value)?,
            "attributes" => l.attributes = list(v, &p, key_value)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                l.dropped_attributes_count = uint32(v, &p)?;
            }
            "flags" => l.flags = uint32(v, &p)?,
            "traceId" | "trace_id" => l.trace_id = id(v, &p, TRACE_ID_LEN)?,
            "spanId" | "span_id" => l.span_id = id(v, &p, SPAN_ID_LEN)?,
            "eventName" | "event_name" => l.event_name = string(v, &p)?,
            _ => {}
        }
    }
    Ok(l)
}

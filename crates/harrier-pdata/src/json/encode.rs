//! OTLP/JSON encoding of export requests, common messages (resource, scope,
//! attributes), traces and logs. Metrics are in `encode_metrics`.
//!
//! Fields are written in the order the `.proto` files declare them, as the OTel
//! Collector does.

use super::encode_metrics::resource_metrics;
use super::write::{Obj, write_str};
use crate::Batch;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

/// Encodes a whole export request object. The top-level list is written even when
/// empty, so the signal of the body is always visible.
pub(super) fn request(batch: &Batch, out: &mut Vec<u8>) {
    let mut o = Obj::new(out);
    match batch {
        Batch::Traces(rs) => o.list_always("resourceSpans", rs, resource_spans),
        Batch::Metrics(rm) => o.list_always("resourceMetrics", rm, resource_metrics),
        Batch::Logs(rl) => o.list_always("resourceLogs", rl, resource_logs),
    }
    o.end();
}

// ---- common ----

/// Encodes a `Resource`.
pub(super) fn resource(out: &mut Vec<u8>, r: &Resource) {
    let mut o = Obj::new(out);
    o.list("attributes", &r.attributes, key_value);
    o.u32("droppedAttributesCount", r.dropped_attributes_count);
    o.list("entityRefs", &r.entity_refs, entity_ref);
    o.end();
}

fn entity_ref(out: &mut Vec<u8>, e: &EntityRef) {
    let mut o = Obj::new(out);
    o.str("schemaUrl", &e.schema_url);
    o.str("type", &e.r#type);
    o.str_list("idKeys", &e.id_keys);
    o.str_list("descriptionKeys", &e.description_keys);
    o.end();
}

/// Encodes an `InstrumentationScope`.
pub(super) fn scope(out: &mut Vec<u8>, s: &InstrumentationScope) {
    let mut o = Obj::new(out);
    o.str("name", &s.name);
    o.str("version", &s.version);
    o.list("attributes", &s.attributes, key_value);
    o.u32("droppedAttributesCount", s.dropped_attributes_count);
    o.end();
}

/// Encodes a `KeyValue` (attribute).
pub(super) fn key_value(out: &mut Vec<u8>, kv: &KeyValue) {
    let mut o = Obj::new(out);
    o.str("key", &kv.key);
    o.msg("value", kv.value.as_ref(), any_value);
    o.i32("keyStrindex", kv.key_strindex);
    o.end();
}

/// Encodes an `AnyValue`; its set case is written even when it holds a zero value.
pub(super) fn any_value(out: &mut Vec<u8>, v: &AnyValue) {
    let mut o = Obj::new(out);
    match &v.value {
        Some(any_value::Value::StringValue(s)) => write_str(o.key("stringValue"), s),
        Some(any_value::Value::BoolValue(b)) => {
            o.key("boolValue")
                .extend_from_slice(if *b { b"true" } else { b"false" })
        }
        Some(any_value::Value::IntValue(i)) => o.i64_always("intValue", *i),
        Some(any_value::Value::DoubleValue(d)) => o.f64_always("doubleValue", *d),
        Some(any_value::Value::ArrayValue(a)) => array_value(o.key("arrayValue"), a),
        Some(any_value::Value::KvlistValue(l)) => kvlist_value(o.key("kvlistValue"), l),
        Some(any_value::Value::BytesValue(b)) => o.base64_always("bytesValue", b),
        Some(any_value::Value::StringValueStrindex(i)) => {
            o.i32_always("stringValueStrindex", *i);
        }
        None => {}
    }
    o.end();
}

fn array_value(out: &mut Vec<u8>, a: &ArrayValue) {
    let mut o = Obj::new(out);
    o.list("values", &a.values, any_value);
    o.end();
}

fn kvlist_value(out: &mut Vec<u8>, l: &KeyValueList) {
    let mut o = Obj::new(out);
    o.list("values", &l.values, key_value);
    o.end();
}

// ---- traces ----

fn resource_spans(out: &mut Vec<u8>, r: &ResourceSpans) {
    let mut o = Obj::new(out);
    o.msg("resource", r.resource.as_ref(), resource);
    o.list("scopeSpans", &r.scope_spans, scope_spans);
    o.str("schemaUrl", &r.schema_url);
    o.end();
}

fn scope_spans(out: &mut Vec<u8>, s: &ScopeSpans) {
    let mut o = Obj::new(out);
    o.msg("scope", s.scope.as_ref(), scope);
    o.list("spans", &s.spans, span);
    o.str("schemaUrl", &s.schema_url);
    o.end();
}

fn span(out: &mut Vec<u8>, s: &Span) {
    let mut o = Obj::new(out);
    o.hex("traceId", &s.trace_id);
    o.hex("spanId", &s.span_id);
    o.str("traceState", &s.trace_state);
    o.hex("parentSpanId", &s.parent_span_id);
    o.u32("flags", s.flags);
    o.str("name", &s.name);
    o.i32("kind", s.kind);
    o.u64("startTimeUnixNano", s.start_time_unix_nano);
    o.u64("endTimeUnixNano", s.end_time_unix_nano);
    o.list("attributes", &s.attributes, key_value);
    o.u32("droppedAttributesCount", s.dropped_attributes_count);
    o.list("events", &s.events, event);
    o.u32("droppedEventsCount", s.dropped_events_count);
    o.list("links", &s.links, link);
    o.u32("droppedLinksCount", s.dropped_links_count);
    o.msg("status", s.status.as_ref(), status);
    o.end();
}

fn event(out: &mut Vec<u8>, e: &span::Event) {
    let mut o = Obj::new(out);
    o.u64("timeUnixNano", e.time_unix_nano);
    o.str("name", &e.name);
    o.list("attributes", &e.attributes, key_value);
    o.u32("droppedAttributesCount", e.dropped_attributes_count);
    o.end();
}

fn link(out: &mut Vec<u8>, l: &span::Link) {
    let mut o = Obj::new(out);
    o.hex("traceId", &l.trace_id);
    o.hex("spanId", &l.span_id);
    o.str("traceState", &l.trace_state);
    o.list("attributes", &l.attributes, key_value);
    o.u32("droppedAttributesCount", l.dropped_attributes_count);
    o.u32("flags", l.flags);
    o.end();
}

fn status(out: &mut Vec<u8>, s: &Status) {
    let mut o = Obj::new(out);
    o.str("message", &s.message);
    o.i32("code", s.code);
    o.end();
}

// ---- logs ----

fn resource_logs(out: &mut Vec<u8>, r: &ResourceLogs) {
    let mut o = Obj::new(out);
    o.msg("resource", r.resource.as_ref(), resource);
    o.list("scopeLogs", &r.scope_logs, scope_logs);
    o.str("schemaUrl", &r.schema_url);
    o.end();
}

fn scope_logs(out: &mut Vec<u8>, s: &ScopeLogs) {
    let mut o = Obj::new(out);
    o.msg("scope", s.scope.as_ref(), scope);
    o.list("logRecords", &s.log_records, log_record);
    o.str("schemaUrl", &s.schema_url);
    o.end();
}

fn log_record(out: &mut Vec<u8>, l: &LogRecord) {
    let mut o = Obj::new(out);
    o.u64("timeUnixNano", l.time_unix_nano);
    o.u64("observedTimeUnixNano", l.observed_time_unix_nano);
    o.i32("severityNumber", l.severity_number);
    o.str("severityText", &l.severity_text);
    o.msg("body", l.body.as_ref(), any_value);
    o.list("attributes", &l.attributes, key_value);
    o.u32("droppedAttributesCount", l.dropped_attributes_count);
    o.u32("flags", l.flags);
    o.hex("traceId", &l.trace_id);
    o.hex("spanId", &l.span_id);
    o.str("eventName", &l.event_name);
    o.end();
}

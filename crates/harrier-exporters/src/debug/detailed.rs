//! The `detailed` rendering: every field of every item, laid out like the OTel
//! Collector's debug exporter (`Span #0`, `    Trace ID       : ...`,
//! `     -> key: Str(value)`), so that people who know that output can read this one.
//! Metrics are in `detailed_metrics.rs`.

use super::detailed_metrics::metric;
use super::format::{put, typed_value};
use crate::shared::time::format_unix_nanos;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{InstrumentationScope, KeyValue};
use harrier_pdata::otlp::logs::v1::LogRecord;
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{Span, span, status};

/// Renders every field of `batch`.
pub(crate) fn detailed(batch: &Batch, out: &mut String) {
    match batch {
        Batch::Traces(rs) => {
            for (i, r) in rs.iter().enumerate() {
                put!(out, "ResourceSpans #{i}");
                resource(out, r.resource.as_ref(), &r.schema_url);
                for (j, s) in r.scope_spans.iter().enumerate() {
                    put!(out, "ScopeSpans #{j}");
                    scope(out, "ScopeSpans", s.scope.as_ref(), &s.schema_url);
                    for (k, item) in s.spans.iter().enumerate() {
                        span(out, k, item);
                    }
                }
            }
        }
        Batch::Metrics(rm) => {
            for (i, r) in rm.iter().enumerate() {
                put!(out, "ResourceMetrics #{i}");
                resource(out, r.resource.as_ref(), &r.schema_url);
                for (j, s) in r.scope_metrics.iter().enumerate() {
                    put!(out, "ScopeMetrics #{j}");
                    scope(out, "ScopeMetrics", s.scope.as_ref(), &s.schema_url);
                    for (k, item) in s.metrics.iter().enumerate() {
                        metric(out, k, item);
                    }
                }
            }
        }
        Batch::Logs(rl) => {
            for (i, r) in rl.iter().enumerate() {
                put!(out, "ResourceLog #{i}");
                resource(out, r.resource.as_ref(), &r.schema_url);
                for (j, s) in r.scope_logs.iter().enumerate() {
                    put!(out, "ScopeLogs #{j}");
                    scope(out, "ScopeLogs", s.scope.as_ref(), &s.schema_url);
                    for (k, item) in s.log_records.iter().enumerate() {
                        log_record(out, k, item);
                    }
                }
            }
        }
    }
}

fn resource(out: &mut String, resource: Option<&Resource>, schema_url: &str) {
    put!(out, "Resource SchemaURL: {schema_url}");
    if let Some(r) = resource {
        attributes(out, "Resource attributes:", &r.attributes, 5);
    }
}

fn scope(out: &mut String, kind: &str, scope: Option<&InstrumentationScope>, schema_url: &str) {
    put!(out, "{kind} SchemaURL: {schema_url}");
    let (name, version) = scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
    put!(out, "InstrumentationScope {name} {version}");
    if let Some(s) = scope {
        attributes(out, "InstrumentationScope attributes:", &s.attributes, 5);
    }
}

/// The `header` line and one `-> key: Type(value)` line per attribute, indented by
/// `indent`; nothing when there are no attributes.
pub(super) fn attributes(out: &mut String, header: &str, attributes: &[KeyValue], indent: usize) {
    if attributes.is_empty() {
        return;
    }
    put!(out, "{header}");
    for kv in attributes {
        put!(
            out,
            "{:indent$}-> {}: {}",
            "",
            kv.key,
            typed_value(kv.value.as_ref())
        );
    }
}

fn span_kind(kind: i32) -> &'static str {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Internal) => "Internal",
        Ok(span::SpanKind::Server) => "Server",
        Ok(span::SpanKind::Client) => "Client",
        Ok(span::SpanKind::Producer) => "Producer",
        Ok(span::SpanKind::Consumer) => "Consumer",
        _ => "Unspecified",
    }
}

fn status_code(code: i32) -> &'static str {
    match status::StatusCode::try_from(code) {
        Ok(status::StatusCode::Ok) => "Ok",
        Ok(status::StatusCode::Error) => "Error",
        _ => "Unset",
    }
}

fn span(out: &mut String, index: usize, s: &Span) {
    put!(out, "Span #{index}");
    put!(out, "    Trace ID       : {}", hex::encode(&s.trace_id));
    put!(
        out,
        "    Parent ID      : {}",
        hex::encode(&s.parent_span_id)
    );
    put!(out, "    ID             : {}", hex::encode(&s.span_id));
    put!(out, "    Name           : {}", s.name);
    put!(out, "    Kind           : {}", span_kind(s.kind));
    if !s.trace_state.is_empty() {
        put!(out, "    TraceState     : {}", s.trace_state);
    }
    put!(
        out,
        "    Start time     : {}",
        format_unix_nanos(s.start_time_unix_nano)
    );
    put!(
        out,
        "    End time       : {}",
        format_unix_nanos(s.end_time_unix_nano)
    );
    let (code, message) = s
        .status
        .as_ref()
        .map_or((0, ""), |st| (st.code, st.message.as_str()));
    put!(out, "    Status code    : {}", status_code(code));
    put!(out, "    Status message : {message}");
    if s.flags != 0 {
        put!(out, "    Flags          : {}", s.flags);
    }
    if s.dropped_attributes_count + s.dropped_events_count + s.dropped_links_count > 0 {
        put!(
            out,
            "    Dropped        : attributes={} events={} links={}",
            s.dropped_attributes_count,
            s.dropped_events_count,
            s.dropped_links_count
        );
    }
    attributes(out, "Attributes:", &s.attributes, 5);
    if !s.events.is_empty() {
        put!(out, "Events:");
        for (i, e) in s.events.iter().enumerate() {
            put!(out, "SpanEvent #{i}");
            put!(out, "     -> Name: {}", e.name);
            put!(
                out,
                "     -> Timestamp: {}",
                format_unix_nanos(e.time_unix_nano)
            );
            put!(
                out,
                "     -> DroppedAttributesCount: {}",
                e.dropped_attributes_count
            );
            attributes(out, "     -> Attributes:", &e.attributes, 10);
        }
    }
    if !s.links.is_empty() {
        put!(out, "Links:");
        for (i, l) in s.links.iter().enumerate() {
            put!(out, "SpanLink #{i}");
            put!(out, "     -> Trace ID: {}", hex::encode(&l.trace_id));
            put!(out, "     -> ID: {}", hex::encode(&l.span_id));
            put!(out, "     -> TraceState: {}", l.trace_state);
            put!(
                out,
                "     -> DroppedAttributesCount: {}",
                l.dropped_attributes_count
            );
            attributes(out, "     -> Attributes:", &l.attributes, 10);
        }
    }
}

/// Go's `SeverityNumber.String()`: `Info`, `Info2`, ... `Unspecified`.
fn severity_name(number: i32) -> String {
    const NAMES: [&str; 6] = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"];
    match usize::try_from(number) {
        Ok(n @ 1..=24) => {
            let name = NAMES[(n - 1) / 4];
            match (n - 1) % 4 {
                0 => name.to_string(),
                step => format!("{name}{}", step + 1),
            }
        }
        _ => "Unspecified".to_string(),
    }
}

fn log_record(out: &mut String, index: usize, r: &LogRecord) {
    put!(out, "LogRecord #{index}");
    put!(
        out,
        "ObservedTimestamp: {}",
        format_unix_nanos(r.observed_time_unix_nano)
    );
    put!(out, "Timestamp: {}", format_unix_nanos(r.time_unix_nano));
    put!(out, "SeverityText: {}", r.severity_text);
    put!(
        out,
        "SeverityNumber: {}({})",
        severity_name(r.severity_number),
        r.severity_number
    );
    if !r.event_name.is_empty() {
        put!(out, "EventName: {}", r.event_name);
    }
    put!(out, "Body: {}", typed_value(r.body.as_ref()));
    attributes(out, "Attributes:", &r.attributes, 5);
    put!(out, "Trace ID: {}", hex::encode(&r.trace_id));
    put!(out, "Span ID: {}", hex::encode(&r.span_id));
    put!(out, "Flags: {}", r.flags);
    if r.dropped_attributes_count > 0 {
        put!(
            out,
            "DroppedAttributesCount: {}",
            r.dropped_attributes_count
        );
    }
}

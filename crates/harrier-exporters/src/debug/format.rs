//! Text renderings of a batch for the debug exporter: `basic` and `normal` here,
//! `detailed` in `detailed.rs`, plus the value formatting they share. Every function
//! writes into a `String` and does nothing else, so the output is tested byte for byte.

use super::config::Verbosity;
use super::detailed;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::metric;
use harrier_pdata::otlp::resource::v1::Resource;

/// `writeln!` into a `String`, which cannot fail.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = ::std::fmt::Write::write_fmt($out, format_args!($($arg)*));
        $out.push('\n');
    }};
}
pub(crate) use put;

/// Renders `batch` at `verbosity`, appending to `out`.
pub fn format_batch(batch: &Batch, verbosity: Verbosity, out: &mut Vec<u8>) {
    let mut text = String::new();
    match verbosity {
        Verbosity::Basic => basic(batch, &mut text),
        Verbosity::Normal => normal(batch, &mut text),
        Verbosity::Detailed => detailed::detailed(batch, &mut text),
    }
    out.extend_from_slice(text.as_bytes());
}

/// One line: signal, resource count, item count.
fn basic(batch: &Batch, out: &mut String) {
    let items = batch.item_count();
    match batch {
        Batch::Traces(rs) => put!(out, "traces: resource spans={} spans={items}", rs.len()),
        Batch::Metrics(rm) => {
            let metrics: usize = rm
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .map(|s| s.metrics.len())
                .sum();
            put!(
                out,
                "metrics: resource metrics={} metrics={metrics} data points={items}",
                rm.len()
            );
        }
        Batch::Logs(rl) => put!(out, "logs: resource logs={} log records={items}", rl.len()),
    }
}

/// One line per resource, per scope and per item.
fn normal(batch: &Batch, out: &mut String) {
    match batch {
        Batch::Traces(rs) => {
            for (i, r) in rs.iter().enumerate() {
                resource_line(out, "ResourceSpans", i, r.resource.as_ref());
                for (j, s) in r.scope_spans.iter().enumerate() {
                    scope_line(out, "ScopeSpans", j, s.scope.as_ref());
                    for span in &s.spans {
                        put!(
                            out,
                            "{} {} {}{}",
                            span.name,
                            hex::encode(&span.trace_id),
                            hex::encode(&span.span_id),
                            attributes_suffix(&span.attributes)
                        );
                    }
                }
            }
        }
        Batch::Metrics(rm) => {
            for (i, r) in rm.iter().enumerate() {
                resource_line(out, "ResourceMetrics", i, r.resource.as_ref());
                for (j, s) in r.scope_metrics.iter().enumerate() {
                    scope_line(out, "ScopeMetrics", j, s.scope.as_ref());
                    for m in &s.metrics {
                        let points = harrier_pdata::metric_point_count(m.data.as_ref());
                        let unit = if m.unit.is_empty() {
                            String::new()
                        } else {
                            format!(" unit={}", m.unit)
                        };
                        put!(
                            out,
                            "{} {} points={points}{unit}",
                            m.name,
                            data_type(m.data.as_ref())
                        );
                    }
                }
            }
        }
        Batch::Logs(rl) => {
            for (i, r) in rl.iter().enumerate() {
                resource_line(out, "ResourceLogs", i, r.resource.as_ref());
                for (j, s) in r.scope_logs.iter().enumerate() {
                    scope_line(out, "ScopeLogs", j, s.scope.as_ref());
                    for record in &s.log_records {
                        let body = record
                            .body
                            .as_ref()
                            .map(value_as_string)
                            .unwrap_or_default();
                        put!(
                            out,
                            "{}{}",
                            single_line(&body),
                            attributes_suffix(&record.attributes)
                        );
                    }
                }
            }
        }
    }
}

fn resource_line(out: &mut String, kind: &str, index: usize, resource: Option<&Resource>) {
    let attrs = resource
        .map(|r| r.attributes.as_slice())
        .unwrap_or_default();
    put!(out, "{kind} #{index}{}", attributes_suffix(attrs));
}

fn scope_line(out: &mut String, kind: &str, index: usize, scope: Option<&InstrumentationScope>) {
    match scope {
        Some(s) if !s.version.is_empty() => put!(out, "{kind} #{index} {}@{}", s.name, s.version),
        Some(s) => put!(out, "{kind} #{index} {}", s.name),
        None => put!(out, "{kind} #{index}"),
    }
}

/// ` key=value key=value` (empty when there are none), on one line.
fn attributes_suffix(attributes: &[KeyValue]) -> String {
    let mut text = String::new();
    for kv in attributes {
        text.push(' ');
        text.push_str(&kv.key);
        text.push('=');
        text.push_str(&single_line(
            &kv.value.as_ref().map(value_as_string).unwrap_or_default(),
        ));
    }
    text
}

/// Escapes line breaks so that a value never breaks the one-line-per-item layout.
pub(crate) fn single_line(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// The metric's data type name (`Gauge`, `Sum`, ...; `Empty` without data).
pub(crate) fn data_type(data: Option<&metric::Data>) -> &'static str {
    match data {
        Some(metric::Data::Gauge(_)) => "Gauge",
        Some(metric::Data::Sum(_)) => "Sum",
        Some(metric::Data::Histogram(_)) => "Histogram",
        Some(metric::Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(metric::Data::Summary(_)) => "Summary",
        None => "Empty",
    }
}

/// A value as plain text, like pdata's `Value.AsString()`: strings raw, numbers and
/// booleans as written, bytes as base64, maps and arrays as JSON.
pub(crate) fn value_as_string(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::StringValueStrindex(i)) => format!("strindex:{i}"),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => BASE64.encode(b),
        Some(any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_)) => {
            value_as_json(value).to_string()
        }
        None => String::new(),
    }
}

/// A value with its type, like the OTel Collector's debug output: `Str(x)`, `Int(1)`,
/// `Double(1.5)`, `Bool(true)`, `Bytes(base64)`, `Map({...})`, `Slice([...])`, `Empty()`.
pub(crate) fn typed_value(value: Option<&AnyValue>) -> String {
    let text = value.map(value_as_string).unwrap_or_default();
    let kind = match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(_) | any_value::Value::StringValueStrindex(_)) => "Str",
        Some(any_value::Value::BoolValue(_)) => "Bool",
        Some(any_value::Value::IntValue(_)) => "Int",
        Some(any_value::Value::DoubleValue(_)) => "Double",
        Some(any_value::Value::BytesValue(_)) => "Bytes",
        Some(any_value::Value::ArrayValue(_)) => "Slice",
        Some(any_value::Value::KvlistValue(_)) => "Map",
        None => "Empty",
    };
    format!("{kind}({text})")
}

fn value_as_json(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value as J;
    match &value.value {
        Some(any_value::Value::StringValue(s)) => J::String(s.clone()),
        Some(any_value::Value::StringValueStrindex(i)) => J::String(format!("strindex:{i}")),
        Some(any_value::Value::BoolValue(b)) => J::Bool(*b),
        Some(any_value::Value::IntValue(i)) => J::from(*i),
        Some(any_value::Value::DoubleValue(d)) => {
            serde_json::Number::from_f64(*d).map_or_else(|| J::String(d.to_string()), J::Number)
        }
        Some(any_value::Value::BytesValue(b)) => J::String(BASE64.encode(b)),
        Some(any_value::Value::ArrayValue(a)) => {
            J::Array(a.values.iter().map(value_as_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => J::Object(
            kv.values
                .iter()
                .map(|kv| {
                    let v = kv.value.as_ref().map_or(J::Null, value_as_json);
                    (kv.key.clone(), v)
                })
                .collect(),
        ),
        None => J::Null,
    }
}

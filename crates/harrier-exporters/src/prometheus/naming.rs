//! Metric and label names per the OpenTelemetry "Prometheus and OpenMetrics
//! compatibility" specification: invalid characters become `_`, a leading digit gets a
//! `_` prefix, runs of `_` collapse, UCUM units become suffixes (`ms` ->
//! `_milliseconds`, `By/s` -> `_bytes_per_second`, `1` -> `_ratio` for gauges,
//! `{...}` annotations dropped) and monotonic counters end in `_total`; resource
//! attributes become `job`/`instance` and scopes `otel_scope_name`/`otel_scope_version`.
//!
//! Shared by the pull exporter (`prometheus`) and `prometheus_remote_write`.

use super::text::format_float;
use harrier_pdata::otlp::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};

/// What a metric becomes in Prometheus; decides which suffixes its name gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MetricType {
    /// `counter` (monotonic sums).
    Counter,
    /// `gauge` (gauges, non-monotonic sums, `target_info`).
    Gauge,
    /// `histogram`.
    Histogram,
    /// `summary`.
    Summary,
}

impl MetricType {
    /// The word on the `# TYPE` line.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
        }
    }
}

fn sanitize(name: &str, valid: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    for c in name.chars() {
        let c = if valid(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// A valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) for `name`.
pub(crate) fn metric_name_chars(name: &str) -> String {
    sanitize(name, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`) for `name`.
pub(crate) fn label_name(name: &str) -> String {
    sanitize(name, |c| c.is_ascii_alphanumeric() || c == '_')
}

fn unit_word(unit: &str) -> String {
    let word = match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        other => other,
    };
    word.to_string()
}

fn per_unit_word(unit: &str) -> String {
    match unit {
        "s" => "second".into(),
        "m" => "minute".into(),
        "h" => "hour".into(),
        "d" => "day".into(),
        "w" => "week".into(),
        "mo" => "month".into(),
        "y" => "year".into(),
        other => unit_word(other),
    }
}

/// Removes `{...}` annotations (`{requests}` -> ``, `{packets}/s` -> `/s`).
fn strip_annotations(unit: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The name suffix for a UCUM `unit`, if any (`By/s` -> `bytes_per_second`).
pub(crate) fn unit_suffix(unit: &str, metric_type: MetricType) -> Option<String> {
    let unit = strip_annotations(unit);
    if unit == "1" {
        return (metric_type == MetricType::Gauge).then(|| "ratio".to_string());
    }
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main.trim(), per.trim()),
        None => (unit.as_str(), ""),
    };
    let mut suffix = String::new();
    if !main.is_empty() && main != "1" {
        suffix.push_str(&unit_word(main));
    }
    if !per.is_empty() {
        if !suffix.is_empty() {
            suffix.push('_');
        }
        suffix.push_str("per_");
        suffix.push_str(&per_unit_word(per));
    }
    let suffix = metric_name_chars(&suffix);
    let suffix = suffix.trim_matches('_');
    (!suffix.is_empty()).then(|| suffix.to_string())
}

/// The Prometheus name of a metric: sanitised, with its unit suffix and, for
/// counters, `_total` (neither added twice).
pub(crate) fn metric_name(name: &str, unit: &str, metric_type: MetricType) -> String {
    let mut out = metric_name_chars(name);
    if let Some(suffix) = unit_suffix(unit, metric_type) {
        let bare = match metric_type {
            MetricType::Counter => out.strip_suffix("_total").unwrap_or(&out).to_string(),
            _ => out.clone(),
        };
        if !bare.ends_with(&format!("_{suffix}")) && bare != suffix {
            out = format!("{bare}_{suffix}");
        }
    }
    if metric_type == MetricType::Counter && !out.ends_with("_total") {
        out.push_str("_total");
    }
    metric_name_chars(&out)
}

// Resource attributes that become `job`/`instance` instead of `target_info` labels.
/// `service.name`: the `job` (after the namespace, if any).
pub(crate) const SERVICE_NAME: &str = "service.name";
/// `service.namespace`: the `job`'s prefix.
pub(crate) const SERVICE_NAMESPACE: &str = "service.namespace";
/// `service.instance.id`: the `instance`.
pub(crate) const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// `job` (`service.namespace/service.name`, or `service.name`) and `instance`
/// (`service.instance.id`) from a resource's attributes, the ones present.
pub(crate) fn target_labels(attributes: &[KeyValue]) -> Vec<(String, String)> {
    let get =
        |key: &str| harrier_pdata::attrs::get(attributes, key).map(|v| any_value_string(Some(v)));
    let mut labels = Vec::new();
    let job = match (get(SERVICE_NAMESPACE), get(SERVICE_NAME)) {
        (Some(ns), Some(name)) if !ns.is_empty() => Some(format!("{ns}/{name}")),
        (_, name) => name,
    };
    if let Some(job) = job {
        labels.push(("job".to_string(), job));
    }
    if let Some(instance) = get(SERVICE_INSTANCE_ID) {
        labels.push(("instance".to_string(), instance));
    }
    labels
}

/// `otel_scope_name` and `otel_scope_version` of a scope, the non-empty ones.
pub(crate) fn scope_labels(scope: Option<&InstrumentationScope>) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    if let Some(scope) = scope {
        if !scope.name.is_empty() {
            labels.push(("otel_scope_name".to_string(), scope.name.clone()));
        }
        if !scope.version.is_empty() {
            labels.push(("otel_scope_version".to_string(), scope.version.clone()));
        }
    }
    labels
}

/// An attribute value as label text (arrays and maps as JSON-like text).
pub(crate) fn any_value_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => format_float(*d),
        Some(any_value::Value::BytesValue(b)) => hex::encode(b),
        Some(any_value::Value::ArrayValue(array)) => {
            let items: Vec<String> = array
                .values
                .iter()
                .map(|v| any_value_string(Some(v)))
                .collect();
            format!("[{}]", items.join(","))
        }
        Some(any_value::Value::KvlistValue(list)) => {
            let items: Vec<String> = list
                .values
                .iter()
                .map(|kv| format!("{}:{}", kv.key, any_value_string(kv.value.as_ref())))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        // Dictionary references cannot be resolved here; profiles only.
        Some(_) | None => String::new(),
    }
}

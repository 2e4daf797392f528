//! Metric and label names per the OpenTelemetry "Prometheus and OpenMetrics
//! compatibility" specification: invalid characters become `_`, a leading digit gets a
//! `_` prefix, runs of `_` collapse, UCUM units become suffixes (`ms` ->
//! `_milliseconds`, `By/s` -> `_bytes_per_second`, `1` -> `_ratio` for gauges,
//! `{...}` annotations dropped) and monotonic counters end in `_total`.

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

//! Text-format primitives shared by the Prometheus and OpenMetrics renderings: number
//! spelling (`NaN`, `+Inf`, `-Inf`), escaping of label values and HELP text, and one
//! sample line.

use std::fmt::Write as _;

/// A sample value or `le`/`quantile` label: `NaN`, `+Inf`, `-Inf` or the shortest
/// decimal that round-trips.
pub(crate) fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        value.to_string()
    }
}

/// Escapes a label value: `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
pub(crate) fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

pub(crate) fn write_labels(
    out: &mut String,
    labels: &[(String, String)],
    extra: Option<(&str, &str)>,
) {
    if labels.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let extra = extra.map(|(k, v)| (k.to_string(), v.to_string()));
    for (i, (k, v)) in labels.iter().chain(extra.as_ref()).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
    }
    out.push('}');
}

pub(crate) fn write_sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(String, String)],
    extra: Option<(&str, &str)>,
    value: &str,
) {
    out.push_str(name);
    out.push_str(suffix);
    write_labels(out, labels, extra);
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

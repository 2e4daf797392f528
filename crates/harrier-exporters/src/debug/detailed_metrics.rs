//! The `detailed` rendering of metrics: descriptor, then every data point with its
//! attributes, timestamps, value or buckets, and exemplars, in the OTel Collector's
//! debug exporter layout.

use super::detailed::attributes;
use super::format::{data_type, put, typed_value};
use crate::shared::time::format_unix_nanos;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, SummaryDataPoint, exemplar, metric, number_data_point,
};

fn temporality(value: i32) -> &'static str {
    match AggregationTemporality::try_from(value) {
        Ok(AggregationTemporality::Delta) => "Delta",
        Ok(AggregationTemporality::Cumulative) => "Cumulative",
        _ => "Unspecified",
    }
}

/// `Metric #<index>`, its descriptor and every data point.
pub(super) fn metric(out: &mut String, index: usize, m: &Metric) {
    put!(out, "Metric #{index}");
    put!(out, "Descriptor:");
    put!(out, "     -> Name: {}", m.name);
    put!(out, "     -> Description: {}", m.description);
    put!(out, "     -> Unit: {}", m.unit);
    put!(out, "     -> DataType: {}", data_type(m.data.as_ref()));
    match &m.data {
        Some(metric::Data::Gauge(g)) => number_points(out, &g.data_points),
        Some(metric::Data::Sum(s)) => {
            put!(out, "     -> IsMonotonic: {}", s.is_monotonic);
            put!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(s.aggregation_temporality)
            );
            number_points(out, &s.data_points);
        }
        Some(metric::Data::Histogram(h)) => {
            put!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(h.aggregation_temporality)
            );
            for (i, p) in h.data_points.iter().enumerate() {
                histogram_point(out, i, p);
            }
        }
        Some(metric::Data::ExponentialHistogram(h)) => {
            put!(
                out,
                "     -> AggregationTemporality: {}",
                temporality(h.aggregation_temporality)
            );
            for (i, p) in h.data_points.iter().enumerate() {
                exponential_point(out, i, p);
            }
        }
        Some(metric::Data::Summary(s)) => {
            for (i, p) in s.data_points.iter().enumerate() {
                summary_point(out, i, p);
            }
        }
        None => {}
    }
    attributes(out, "Metadata:", &m.metadata, 5);
}

/// The common head of every data point.
fn point_head(
    out: &mut String,
    kind: &str,
    index: usize,
    attrs: &[KeyValue],
    start: u64,
    time: u64,
) {
    put!(out, "{kind} #{index}");
    put!(out, "Data point attributes:");
    for kv in attrs {
        put!(
            out,
            "     -> {}: {}",
            kv.key,
            typed_value(kv.value.as_ref())
        );
    }
    put!(out, "StartTimestamp: {}", format_unix_nanos(start));
    put!(out, "Timestamp: {}", format_unix_nanos(time));
}

fn number_points(out: &mut String, points: &[NumberDataPoint]) {
    for (i, p) in points.iter().enumerate() {
        point_head(
            out,
            "NumberDataPoints",
            i,
            &p.attributes,
            p.start_time_unix_nano,
            p.time_unix_nano,
        );
        match p.value {
            Some(number_data_point::Value::AsInt(v)) => put!(out, "Value: {v}"),
            Some(number_data_point::Value::AsDouble(v)) => put!(out, "Value: {v:.6}"),
            None => put!(out, "Value: (none)"),
        }
        if p.flags != 0 {
            put!(out, "Flags: {}", p.flags);
        }
        exemplars(out, &p.exemplars);
    }
}

fn optional_f64(out: &mut String, name: &str, value: Option<f64>) {
    if let Some(v) = value {
        put!(out, "{name}: {v:.6}");
    }
}

fn histogram_point(out: &mut String, index: usize, p: &HistogramDataPoint) {
    point_head(
        out,
        "HistogramDataPoints",
        index,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    put!(out, "Count: {}", p.count);
    optional_f64(out, "Sum", p.sum);
    optional_f64(out, "Min", p.min);
    optional_f64(out, "Max", p.max);
    for (i, bound) in p.explicit_bounds.iter().enumerate() {
        put!(out, "ExplicitBounds #{i}: {bound:.6}");
    }
    for (i, count) in p.bucket_counts.iter().enumerate() {
        put!(out, "Buckets #{i}, Count: {count}");
    }
    exemplars(out, &p.exemplars);
}

fn exponential_point(out: &mut String, index: usize, p: &ExponentialHistogramDataPoint) {
    point_head(
        out,
        "ExponentialHistogramDataPoints",
        index,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    put!(out, "Count: {}", p.count);
    optional_f64(out, "Sum", p.sum);
    optional_f64(out, "Min", p.min);
    optional_f64(out, "Max", p.max);
    put!(out, "Scale: {}", p.scale);
    // Bucket index i covers (base^i, base^(i+1)] with base = 2^(2^-scale).
    let base = 2f64.powf(2f64.powi(-p.scale));
    if let Some(negative) = &p.negative {
        for (k, count) in negative.bucket_counts.iter().enumerate().rev() {
            let i = f64::from(negative.offset) + k as f64;
            put!(
                out,
                "Bucket [{:.6}, {:.6}), Count: {count}",
                -base.powf(i + 1.0),
                -base.powf(i)
            );
        }
    }
    put!(out, "Bucket [0, 0], Count: {}", p.zero_count);
    if let Some(positive) = &p.positive {
        for (k, count) in positive.bucket_counts.iter().enumerate() {
            let i = f64::from(positive.offset) + k as f64;
            put!(
                out,
                "Bucket ({:.6}, {:.6}], Count: {count}",
                base.powf(i),
                base.powf(i + 1.0)
            );
        }
    }
    exemplars(out, &p.exemplars);
}

fn summary_point(out: &mut String, index: usize, p: &SummaryDataPoint) {
    point_head(
        out,
        "SummaryDataPoints",
        index,
        &p.attributes,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    put!(out, "Count: {}", p.count);
    put!(out, "Sum: {:.6}", p.sum);
    for (i, q) in p.quantile_values.iter().enumerate() {
        put!(
            out,
            "QuantileValue #{i}: Quantile {:.6}, Value {:.6}",
            q.quantile,
            q.value
        );
    }
}

fn exemplars(out: &mut String, exemplars: &[Exemplar]) {
    if exemplars.is_empty() {
        return;
    }
    put!(out, "Exemplars:");
    for (i, e) in exemplars.iter().enumerate() {
        put!(out, "Exemplar #{i}");
        put!(out, "     -> Trace ID: {}", hex::encode(&e.trace_id));
        put!(out, "     -> Span ID: {}", hex::encode(&e.span_id));
        put!(
            out,
            "     -> Timestamp: {}",
            format_unix_nanos(e.time_unix_nano)
        );
        match e.value {
            Some(exemplar::Value::AsInt(v)) => put!(out, "     -> Value: {v}"),
            Some(exemplar::Value::AsDouble(v)) => put!(out, "     -> Value: {v:.6}"),
            None => put!(out, "     -> Value: (none)"),
        }
        attributes(
            out,
            "     -> FilteredAttributes:",
            &e.filtered_attributes,
            10,
        );
    }
}

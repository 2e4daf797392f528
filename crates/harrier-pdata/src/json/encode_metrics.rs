//! OTLP/JSON encoding of metrics: every metric type, data point kind and exemplars.

use super::encode::{key_value, resource, scope};
use super::write::Obj;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};

/// Encodes a `ResourceMetrics`.
pub(super) fn resource_metrics(out: &mut Vec<u8>, r: &ResourceMetrics) {
    let mut o = Obj::new(out);
    o.msg("resource", r.resource.as_ref(), resource);
    o.list("scopeMetrics", &r.scope_metrics, scope_metrics);
    o.str("schemaUrl", &r.schema_url);
    o.end();
}

fn scope_metrics(out: &mut Vec<u8>, s: &ScopeMetrics) {
    let mut o = Obj::new(out);
    o.msg("scope", s.scope.as_ref(), scope);
    o.list("metrics", &s.metrics, metric);
    o.str("schemaUrl", &s.schema_url);
    o.end();
}

fn metric(out: &mut Vec<u8>, m: &Metric) {
    let mut o = Obj::new(out);
    o.str("name", &m.name);
    o.str("description", &m.description);
    o.str("unit", &m.unit);
    match &m.data {
        Some(metric::Data::Gauge(g)) => gauge(o.key("gauge"), g),
        Some(metric::Data::Sum(s)) => sum(o.key("sum"), s),
        Some(metric::Data::Histogram(h)) => histogram(o.key("histogram"), h),
        Some(metric::Data::ExponentialHistogram(h)) => {
            exponential_histogram(o.key("exponentialHistogram"), h);
        }
        Some(metric::Data::Summary(s)) => summary(o.key("summary"), s),
        None => {}
    }
    o.list("metadata", &m.metadata, key_value);
    o.end();
}

fn gauge(out: &mut Vec<u8>, g: &Gauge) {
    let mut o = Obj::new(out);
    o.list("dataPoints", &g.data_points, number_point);
    o.end();
}

fn sum(out: &mut Vec<u8>, s: &Sum) {
    let mut o = Obj::new(out);
    o.list("dataPoints", &s.data_points, number_point);
    o.i32("aggregationTemporality", s.aggregation_temporality);
    o.bool("isMonotonic", s.is_monotonic);
    o.end();
}

fn histogram(out: &mut Vec<u8>, h: &Histogram) {
    let mut o = Obj::new(out);
    o.list("dataPoints", &h.data_points, histogram_point);
    o.i32("aggregationTemporality", h.aggregation_temporality);
    o.end();
}

fn exponential_histogram(out: &mut Vec<u8>, h: &ExponentialHistogram) {
    let mut o = Obj::new(out);
    o.list("dataPoints", &h.data_points, exponential_point);
    o.i32("aggregationTemporality", h.aggregation_temporality);
    o.end();
}

fn summary(out: &mut Vec<u8>, s: &Summary) {
    let mut o = Obj::new(out);
    o.list("dataPoints", &s.data_points, summary_point);
    o.end();
}

fn number_point(out: &mut Vec<u8>, p: &NumberDataPoint) {
    let mut o = Obj::new(out);
    o.list("attributes", &p.attributes, key_value);
    o.u64("startTimeUnixNano", p.start_time_unix_nano);
    o.u64("timeUnixNano", p.time_unix_nano);
    match p.value {
        Some(number_data_point::Value::AsDouble(v)) => o.f64_always("asDouble", v),
        Some(number_data_point::Value::AsInt(v)) => o.i64_always("asInt", v),
        None => {}
    }
    o.list("exemplars", &p.exemplars, exemplar);
    o.u32("flags", p.flags);
    o.end();
}

fn histogram_point(out: &mut Vec<u8>, p: &HistogramDataPoint) {
    let mut o = Obj::new(out);
    o.list("attributes", &p.attributes, key_value);
    o.u64("startTimeUnixNano", p.start_time_unix_nano);
    o.u64("timeUnixNano", p.time_unix_nano);
    o.u64_always("count", p.count);
    o.f64_opt("sum", p.sum);
    o.u64_list_always("bucketCounts", &p.bucket_counts);
    o.f64_list_always("explicitBounds", &p.explicit_bounds);
    o.list("exemplars", &p.exemplars, exemplar);
    o.u32("flags", p.flags);
    o.f64_opt("min", p.min);
    o.f64_opt("max", p.max);
    o.end();
}

fn exponential_point(out: &mut Vec<u8>, p: &ExponentialHistogramDataPoint) {
    let mut o = Obj::new(out);
    o.list("attributes", &p.attributes, key_value);
    o.u64("startTimeUnixNano", p.start_time_unix_nano);
    o.u64("timeUnixNano", p.time_unix_nano);
    o.u64_always("count", p.count);
    o.f64_opt("sum", p.sum);
    o.i32_always("scale", p.scale);
    o.u64_always("zeroCount", p.zero_count);
    o.msg("positive", p.positive.as_ref(), buckets);
    o.msg("negative", p.negative.as_ref(), buckets);
    o.u32("flags", p.flags);
    o.list("exemplars", &p.exemplars, exemplar);
    o.f64_opt("min", p.min);
    o.f64_opt("max", p.max);
    o.f64("zeroThreshold", p.zero_threshold);
    o.end();
}

fn buckets(out: &mut Vec<u8>, b: &exponential_histogram_data_point::Buckets) {
    let mut o = Obj::new(out);
    o.i32("offset", b.offset);
    o.u64_list_always("bucketCounts", &b.bucket_counts);
    o.end();
}

fn summary_point(out: &mut Vec<u8>, p: &SummaryDataPoint) {
    let mut o = Obj::new(out);
    o.list("attributes", &p.attributes, key_value);
    o.u64("startTimeUnixNano", p.start_time_unix_nano);
    o.u64("timeUnixNano", p.time_unix_nano);
    o.u64_always("count", p.count);
    o.f64_always("sum", p.sum);
    o.list("quantileValues", &p.quantile_values, quantile);
    o.u32("flags", p.flags);
    o.end();
}

fn quantile(out: &mut Vec<u8>, q: &summary_data_point::ValueAtQuantile) {
    let mut o = Obj::new(out);
    o.f64_always("quantile", q.quantile);
    o.f64_always("value", q.value);
    o.end();
}

fn exemplar(out: &mut Vec<u8>, e: &Exemplar) {
    let mut o = Obj::new(out);
    o.list("filteredAttributes", &e.filtered_attributes, key_value);
    o.u64("timeUnixNano", e.time_unix_nano);
    match e.value {
        Some(exemplar::Value::AsDouble(v)) => o.f64_always("asDouble", v),
        Some(exemplar::Value::AsInt(v)) => o.i64_always("asInt", v),
        None => {}
    }
    o.hex("spanId", &e.span_id);
    o.hex("traceId", &e.trace_id);
    o.end();
}

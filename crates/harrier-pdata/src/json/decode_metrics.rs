//! OTLP/JSON decoding of metrics: every metric type, data point kind and exemplars.

use super::decode::{SPAN_ID_LEN, TRACE_ID_LEN, key_value, resource, scope};
use super::read::{
    boolean, double, enumeration, id, int32, int64, list, message, object, opt_double, string,
    uint32, uint64,
};
use super::{JsonError, Path};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point, metric,
    number_data_point, summary_data_point,
};
use serde_json::Value;

/// Decodes a `ResourceMetrics`.
pub(super) fn resource_metrics(v: Value, path: &Path<'_>) -> Result<ResourceMetrics, JsonError> {
    let mut r = ResourceMetrics::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "resource" => r.resource = message(v, &p, resource)?,
            "scopeMetrics" | "scope_metrics" => r.scope_metrics = list(v, &p, scope_metrics)?,
            "schemaUrl" | "schema_url" => r.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(r)
}

fn scope_metrics(v: Value, path: &Path<'_>) -> Result<ScopeMetrics, JsonError> {
    let mut s = ScopeMetrics::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "scope" => s.scope = message(v, &p, scope)?,
            "metrics" => s.metrics = list(v, &p, metric)?,
            "schemaUrl" | "schema_url" => s.schema_url = string(v, &p)?,
            _ => {}
        }
    }
    Ok(s)
}

fn metric(v: Value, path: &Path<'_>) -> Result<Metric, JsonError> {
    use metric::Data;
    let mut m = Metric::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "name" => m.name = string(v, &p)?,
            "description" => m.description = string(v, &p)?,
            "unit" => m.unit = string(v, &p)?,
            "metadata" => m.metadata = list(v, &p, key_value)?,
            "gauge" => m.data = message(v, &p, gauge)?.map(Data::Gauge).or(m.data),
            "sum" => m.data = message(v, &p, sum)?.map(Data::Sum).or(m.data),
            "histogram" => m.data = message(v, &p, histogram)?.map(Data::Histogram).or(m.data),
            "exponentialHistogram" | "exponential_histogram" => {
                m.data = message(v, &p, exponential_histogram)?
                    .map(Data::ExponentialHistogram)
                    .or(m.data);
            }
            "summary" => m.data = message(v, &p, summary)?.map(Data::Summary).or(m.data),
            _ => {}
        }
    }
    Ok(m)
}

fn temporality(v: Value, path: &Path<'_>) -> Result<i32, JsonError> {
    enumeration(v, path, |n| {
        AggregationTemporality::from_str_name(n).map(|t| t as i32)
    })
}

fn gauge(v: Value, path: &Path<'_>) -> Result<Gauge, JsonError> {
    let mut g = Gauge::default();
    for (k, v) in object(v, path)? {
        if let "dataPoints" | "data_points" = k.as_str() {
            g.data_points = list(v, &path.key(&k), number_point)?;
        }
    }
    Ok(g)
}

fn sum(v: Value, path: &Path<'_>) -> Result<Sum, JsonError> {
    let mut s = Sum::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => s.data_points = list(v, &p, number_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                s.aggregation_temporality = temporality(v, &p)?;
            }
            "isMonotonic" | "is_monotonic" => s.is_monotonic = boolean(v, &p)?,
            _ => {}
        }
    }
    Ok(s)
}

fn histogram(v: Value, path: &Path<'_>) -> Result<Histogram, JsonError> {
    let mut h = Histogram::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => h.data_points = list(v, &p, histogram_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(v, &p)?;
            }
            _ => {}
        }
    }
    Ok(h)
}

fn exponential_histogram(v: Value, path: &Path<'_>) -> Result<ExponentialHistogram, JsonError> {
    let mut h = ExponentialHistogram::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "dataPoints" | "data_points" => h.data_points = list(v, &p, exponential_point)?,
            "aggregationTemporality" | "aggregation_temporality" => {
                h.aggregation_temporality = temporality(v, &p)?;
            }
            _ => {}
        }
    }
    Ok(h)
}

fn summary(v: Value, path: &Path<'_>) -> Result<Summary, JsonError> {
    let mut s = Summary::default();
    for (k, v) in object(v, path)? {
        if let "dataPoints" | "data_points" = k.as_str() {
            s.data_points = list(v, &path.key(&k), summary_point)?;
        }
    }
    Ok(s)
}

fn number_point(v: Value, path: &Path<'_>) -> Result<NumberDataPoint, JsonError> {
    use number_data_point::Value as V;
    let mut d = NumberDataPoint::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "attributes" => d.attributes = list(v, &p, key_value)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                d.start_time_unix_nano = uint64(v, &p)?;
            }
            "timeUnixNano" | "time_unix_nano" => d.time_unix_nano = uint64(v, &p)?,
            "asDouble" | "as_double" if !v.is_null() => d.value = Some(V::AsDouble(double(v, &p)?)),
            "asInt" | "as_int" if !v.is_null() => d.value = Some(V::AsInt(int64(v, &p)?)),
            "exemplars" => d.exemplars = list(v, &p, exemplar)?,
            "flags" => d.flags = uint32(v, &p)?,
            _ => {}
        }
    }
    Ok(d)
}

fn histogram_point(v: Value, path: &Path<'_>) -> Result<HistogramDataPoint, JsonError> {
    let mut d = HistogramDataPoint::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "attributes" => d.attributes = list(v, &p, key_value)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                d.start_time_unix_nano = uint64(v, &p)?;
            }
            "timeUnixNano" | "time_unix_nano" => d.time_unix_nano = uint64(v, &p)?,
            "count" => d.count = uint64(v, &p)?,
            "sum" => d.sum = opt_double(v, &p)?,
            "bucketCounts" | "bucket_counts" => d.bucket_counts = list(v, &p, uint64)?,
            "explicitBounds" | "explicit_bounds" => d.explicit_bounds = list(v, &p, double)?,
            "exemplars" => d.exemplars = list(v, &p, exemplar)?,
            "flags" => d.flags = uint32(v, &p)?,
            "min" => d.min = opt_double(v, &p)?,
            "max" => d.max = opt_double(v, &p)?,
            _ => {}
        }
    }
    Ok(d)
}

fn exponential_point(
    v: Value,
    path: &Path<'_>,
) -> Result<ExponentialHistogramDataPoint, JsonError> {
    let mut d = ExponentialHistogramDataPoint::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "attributes" => d.attributes = list(v, &p, key_value)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                d.start_time_unix_nano = uint64(v, &p)?;
            }
            "timeUnixNano" | "time_unix_nano" => d.time_unix_nano = uint64(v, &p)?,
            "count" => d.count = uint64(v, &p)?,
            "sum" => d.sum = opt_double(v, &p)?,
            "scale" => d.scale = int32(v, &p)?,
            "zeroCount" | "zero_count" => d.zero_count = uint64(v, &p)?,
            "positive" => d.positive = message(v, &p, buckets)?,
            "negative" => d.negative = message(v, &p, buckets)?,
            "flags" => d.flags = uint32(v, &p)?,
            "exemplars" => d.exemplars = list(v, &p, exemplar)?,
            "min" => d.min = opt_double(v, &p)?,
            "max" => d.max = opt_double(v, &p)?,
            "zeroThreshold" | "zero_threshold" => d.zero_threshold = double(v, &p)?,
            _ => {}
        }
    }
    Ok(d)
}

fn buckets(
    v: Value,
    path: &Path<'_>,
) -> Result<exponential_histogram_data_point::Buckets, JsonError> {
    let mut b = exponential_histogram_data_point::Buckets::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "offset" => b.offset = int32(v, &p)?,
            "bucketCounts" | "bucket_counts" => b.bucket_counts = list(v, &p, uint64)?,
            _ => {}
        }
    }
    Ok(b)
}

fn summary_point(v: Value, path: &Path<'_>) -> Result<SummaryDataPoint, JsonError> {
    let mut d = SummaryDataPoint::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "attributes" => d.attributes = list(v, &p, key_value)?,
            "startTimeUnixNano" | "start_time_unix_nano" => {
                d.start_time_unix_nano = uint64(v, &p)?;
            }
            "timeUnixNano" | "time_unix_nano" => d.time_unix_nano = uint64(v, &p)?,
            "count" => d.count = uint64(v, &p)?,
            "sum" => d.sum = double(v, &p)?,
            "quantileValues" | "quantile_values" => d.quantile_values = list(v, &p, quantile)?,
            "flags" => d.flags = uint32(v, &p)?,
            _ => {}
        }
    }
    Ok(d)
}

fn quantile(v: Value, path: &Path<'_>) -> Result<summary_data_point::ValueAtQuantile, JsonError> {
    let mut q = summary_data_point::ValueAtQuantile::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "quantile" => q.quantile = double(v, &p)?,
            "value" => q.value = double(v, &p)?,
            _ => {}
        }
    }
    Ok(q)
}

fn exemplar(v: Value, path: &Path<'_>) -> Result<Exemplar, JsonError> {
    use exemplar::Value as V;
    let mut e = Exemplar::default();
    for (k, v) in object(v, path)? {
        let p = path.key(&k);
        match k.as_str() {
            "filteredAttributes" | "filtered_attributes" => {
                e.filtered_attributes = list(v, &p, key_value)?;
            }
            "timeUnixNano" | "time_unix_nano" => e.time_unix_nano = uint64(v, &p)?,
            "asDouble" | "as_double" if !v.is_null() => e.value = Some(V::AsDouble(double(v, &p)?)),
            "asInt" | "as_int" if !v.is_null() => e.value = Some(V::AsInt(int64(v, &p)?)),
            "spanId" | "span_id" => e.span_id = id(v, &p, SPAN_ID_LEN)?,
            "traceId" | "trace_id" => e.trace_id = id(v, &p, TRACE_ID_LEN)?,
            _ => {}
        }
    }
    Ok(e)
}

//! OTLP metrics -> remote-write series, per the OpenTelemetry "Prometheus and
//! OpenMetrics compatibility" specification, with the naming rules of the pull exporter
//! (`crate::prometheus::naming`) and the choices of the Collector's
//! `prometheusremotewrite` exporter:
//!
//! - gauges -> one series; sums -> one series, monotonic ones named `..._total`;
//! - histograms -> `_bucket{le}` (cumulative, `+Inf` included), `_sum`, `_count`;
//! - summaries -> `{quantile}` series, `_sum`, `_count`;
//! - sums and histograms whose temporality is not cumulative are dropped and counted
//!   (remote write stores cumulative counters; accumulating deltas would need state per
//!   series, which a stateless push exporter does not keep);
//! - exponential histograms are dropped and counted (no native histograms here);
//! - a point flagged `NO_RECORDED_VALUE` becomes the staleness marker [`STALE_NAN`];
//! - `job`/`instance` come from `service.namespace`/`service.name` and
//!   `service.instance.id`; the other resource attributes label one `target_info` series
//!   per resource (or every series with `resource_to_telemetry_conversion`);
//! - labels are sorted by name, `__name__` included; a series appears once, its samples
//!   merged and in timestamp order (one sample per timestamp, the last one given wins).

use super::config::ConversionSettings;
use super::proto::{Exemplar, Label, MetadataType, MetricMetadata, STALE_NAN, Sample, TimeSeries};
use crate::prometheus::naming::{
    MetricType, SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_NAMESPACE, any_value_string, label_name,
    metric_name, metric_name_chars, scope_labels, target_labels, unit_suffix,
};
use crate::prometheus::text::format_float;
use harrier_core::hash::U64Map;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, DataPointFlags, Metric, NumberDataPoint, ResourceMetrics, exemplar,
    metric, number_data_point,
};
use std::collections::BTreeMap;
use std::hash::BuildHasher as _;

/// A label set sorted by name.
type LabelSet = Vec<(String, String)>;

/// What one conversion produced.
#[derive(Debug, Default)]
pub(crate) struct Converted {
    /// Every series once, sorted by label set, samples in timestamp order.
    pub series: Vec<TimeSeries>,
    /// One entry per metric family (only with `send_metadata`), sorted by name.
    pub metadata: Vec<MetricMetadata>,
    /// Points of delta (or unspecified) temporality sums and histograms, dropped.
    pub dropped_delta_points: u64,
    /// Exponential histogram points, dropped.
    pub dropped_exponential_points: u64,
}

/// Converts `resources`; a point without a timestamp is stamped `now_ms`.
pub(crate) fn convert(
    resources: &[ResourceMetrics],
    settings: &ConversionSettings,
    now_ms: i64,
) -> Converted {
    let mut converter = Converter {
        settings,
        now_ms,
        series: SeriesMap::default(),
        metadata: BTreeMap::new(),
        dropped_delta_points: 0,
        dropped_exponential_points: 0,
    };
    for resource in resources {
        converter.add_resource(resource);
    }
    converter.finish()
}

#[derive(Default)]
struct Accumulator {
    samples: Vec<Sample>,
    exemplars: Vec<Exemplar>,
}

/// Series by label set, in first-seen order. A hash index over the entries avoids
/// both cloning each label set into a map key and the many deep comparisons an
/// ordered map needs (they dominated the exporter's CPU at 100k series per request).
#[derive(Default)]
struct SeriesMap {
    state: std::hash::RandomState,
    index: U64Map<Vec<usize>>,
    entries: Vec<(LabelSet, Accumulator)>,
}

impl SeriesMap {
    fn entry(&mut self, labels: LabelSet) -> &mut Accumulator {
        // Seeded SipHash: the label sets come from any sender, and a predictable hash
        // would let one craft colliding sets that make this map quadratic.
        let bucket = self.index.entry(self.state.hash_one(&labels)).or_default();
        let found = bucket
            .iter()
            .copied()
            .find(|&i| self.entries[i].0 == labels);
        let i = match found {
            Some(i) => i,
            None => {
                bucket.push(self.entries.len());
                self.entries.push((labels, Accumulator::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
}

struct Converter<'a> {
    settings: &'a ConversionSettings,
    now_ms: i64,
    series: SeriesMap,
    metadata: BTreeMap<String, MetricMetadata>,
    dropped_delta_points: u64,
    dropped_exponential_points: u64,
}

/// Labels every point of one resource and scope carries, by precedence (lowest
/// first): resource attributes (with `resource_to_telemetry_conversion`), then the
/// point's own attributes, then scope labels, then `job`/`instance`.
struct Context {
    resource: BTreeMap<String, String>,
    scope: LabelSet,
    target: LabelSet,
}

/// One point's identity and time: what every series made from it shares.
struct Point<'a> {
    attributes: &'a [KeyValue],
    timestamp: i64,
    stale: bool,
}

impl Point<'_> {
    /// `value`, or the staleness marker.
    fn value(&self, value: f64) -> f64 {
        if self.stale { STALE_NAN } else { value }
    }
}

fn is_stale(flags: u32) -> bool {
    flags & DataPointFlags::NoRecordedValueMask as u32 != 0
}

fn cumulative(temporality: i32) -> bool {
    temporality == AggregationTemporality::Cumulative as i32
}

/// Point attributes as labels; values of attributes whose sanitised names collide are
/// joined with `;` in key order (as the pull exporter does).
fn attribute_labels<'k>(
    attributes: impl IntoIterator<Item = &'k KeyValue>,
) -> BTreeMap<String, String> {
    let mut sorted: Vec<&KeyValue> = attributes.into_iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let value = any_value_string(kv.value.as_ref());
        labels
            .entry(label_name(&kv.key))
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    labels
}

/// Point attributes as a label set sorted by name, merged as [`attribute_labels`] does
/// (values of attributes whose sanitised names collide are joined with `;` in key
/// order), without building a map.
fn attribute_label_set(attributes: &[KeyValue]) -> LabelSet {
    let mut keyed: Vec<(String, &str, String)> = attributes
        .iter()
        .map(|kv| {
            (
                label_name(&kv.key),
                kv.key.as_str(),
                any_value_string(kv.value.as_ref()),
            )
        })
        .collect();
    // By sanitised name, then by original key within a name, so that joined values
    // come in key order.
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut out: LabelSet = Vec::with_capacity(keyed.len() + 6);
    for (name, _, value) in keyed {
        match out.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(';');
                joined.push_str(&value);
            }
            _ => out.push((name, value)),
        }
    }
    out
}

/// Sets `name` in a sorted label set: replaces an existing value when `replace`,
/// otherwise only adds a missing label.
fn upsert(labels: &mut LabelSet, name: &str, value: &str, replace: bool) {
    match labels.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
        Ok(i) if replace => value.clone_into(&mut labels[i].1),
        Ok(_) => {}
        Err(i) => labels.insert(i, (name.to_string(), value.to_string())),
    }
}

fn number_value(point: &NumberDataPoint) -> f64 {
    match point.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => 0.0,
    }
}

fn metadata_type(metric_type: MetricType) -> MetadataType {
    match metric_type {
        MetricType::Counter => MetadataType::Counter,
        MetricType::Gauge => MetadataType::Gauge,
        MetricType::Histogram => MetadataType::Histogram,
        MetricType::Summary => MetadataType::Summary,
    }
}

impl Converter<'_> {
    fn millis(&self, unix_nanos: u64) -> i64 {
        if unix_nanos == 0 {
            self.now_ms
        } else {
            // u64 nanoseconds / 10^6 always fits in i64.
            i64::try_from(unix_nanos / 1_000_000).unwrap_or(i64::MAX)
        }
    }

    fn add_resource(&mut self, resource: &ResourceMetrics) {
        let attributes = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let target = target_labels(attributes);
        let resource_labels = if self.settings.resource_to_telemetry {
            attribute_labels(attributes)
        } else {
            BTreeMap::new()
        };
        let mut latest: Option<i64> = None;
        for scope_metrics in &resource.scope_metrics {
            let ctx = Context {
                resource: resource_labels.clone(),
                scope: scope_labels(scope_metrics.scope.as_ref()),
                target: target.clone(),
            };
            for metric in &scope_metrics.metrics {
                if let Some(ts) = self.add_metric(&ctx, metric) {
                    latest = Some(latest.map_or(ts, |l| l.max(ts)));
                }
            }
        }
        if !self.settings.target_info {
            return;
        }
        let info_attributes = attributes.iter().filter(|kv| {
            ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID].contains(&kv.key.as_str())
        });
        let mut labels = attribute_labels(info_attributes);
        labels.retain(|_, v| !v.is_empty());
        // Only a resource that sent points, and has something to say beyond job/instance.
        let Some(timestamp) = latest else { return };
        if labels.is_empty() {
            return;
        }
        labels.extend(target);
        let mut base: LabelSet = labels.into_iter().collect();
        for (k, v) in &self.settings.external_labels {
            upsert(&mut base, k, v, false);
        }
        let labels = Self::series_labels(&base, "target_info", None);
        self.push(
            labels,
            Sample {
                value: 1.0,
                timestamp,
            },
        );
    }

    /// The family name of `metric` as `metric_type`, with suffixes and namespace as
    /// configured.
    fn family_name(&self, metric: &Metric, metric_type: MetricType) -> String {
        let name = if self.settings.add_metric_suffixes {
            metric_name(&metric.name, &metric.unit, metric_type)
        } else {
            metric_name_chars(&metric.name)
        };
        match &self.settings.namespace {
            Some(namespace) => metric_name_chars(&format!("{namespace}_{name}")),
            None => name,
        }
    }

    fn note_metadata(&mut self, metric: &Metric, family: &str, metric_type: MetricType) {
        if !self.settings.send_metadata || self.metadata.contains_key(family) {
            return;
        }
        let unit = unit_suffix(&metric.unit, metric_type).unwrap_or_default();
        self.metadata.insert(
            family.to_string(),
            MetricMetadata {
                r#type: metadata_type(metric_type) as i32,
                metric_family_name: family.to_string(),
                help: metric.description.clone(),
                unit,
            },
        );
    }

    /// Adds every point of `metric`; returns its latest timestamp, `None` when nothing
    /// was added.
    fn add_metric(&mut self, ctx: &Context, metric: &Metric) -> Option<i64> {
        let mut latest: Option<i64> = None;
        let mut seen = |ts: i64| latest = Some(latest.map_or(ts, |l: i64| l.max(ts)));
        match &metric.data {
            Some(metric::Data::Gauge(gauge)) => {
                self.add_numbers(
                    ctx,
                    metric,
                    MetricType::Gauge,
                    &gauge.data_points,
                    &mut seen,
                );
            }
            Some(metric::Data::Sum(sum)) => {
                if !cumulative(sum.aggregation_temporality) {
                    self.dropped_delta_points += sum.data_points.len() as u64;
                    return None;
                }
                let metric_type = if sum.is_monotonic {
                    MetricType::Counter
                } else {
                    MetricType::Gauge
                };
                self.add_numbers(ctx, metric, metric_type, &sum.data_points, &mut seen);
            }
            Some(metric::Data::Histogram(histogram)) => {
                if !cumulative(histogram.aggregation_temporality) {
                    self.dropped_delta_points += histogram.data_points.len() as u64;
                    return None;
                }
                let family = self.family_name(metric, MetricType::Histogram);
                self.note_metadata(metric, &family, MetricType::Histogram);
                for point in &histogram.data_points {
                    let p = Point {
                        attributes: &point.attributes,
                        timestamp: self.millis(point.time_unix_nano),
                        stale: is_stale(point.flags),
                    };
                    seen(p.timestamp);
                    self.add_histogram_point(ctx, &family, &p, point);
                }
            }
            Some(metric::Data::Summary(summary)) => {
                let family = self.family_name(metric, MetricType::Summary);
                self.note_metadata(metric, &family, MetricType::Summary);
                for point in &summary.data_points {
                    let p = Point {
                        attributes: &point.attributes,
                        timestamp: self.millis(point.time_unix_nano),
                        stale: is_stale(point.flags),
                    };
                    seen(p.timestamp);
                    let base = self.base_labels(ctx, &p);
                    for quantile in &point.quantile_values {
                        let q = format_float(quantile.quantile);
                        let labels = Self::series_labels(&base, &family, Some(("quantile", q)));
                        self.push_value(labels, &p, quantile.value);
                    }
                    let sum = Self::series_labels(&base, &format!("{family}_sum"), None);
                    self.push_value(sum, &p, point.sum);
                    let count = Self::series_labels(&base, &format!("{family}_count"), None);
                    self.push_value(count, &p, point.count as f64);
                }
            }
            Some(metric::Data::ExponentialHistogram(histogram)) => {
                self.dropped_exponential_points += histogram.data_points.len() as u64;
            }
            None => {}
        }
        latest
    }

    fn add_numbers(
        &mut self,
        ctx: &Context,
        metric: &Metric,
        metric_type: MetricType,
        points: &[NumberDataPoint],
        seen: &mut impl FnMut(i64),
    ) {
        let family = self.family_name(metric, metric_type);
        self.note_metadata(metric, &family, metric_type);
        for point in points {
            let p = Point {
                attributes: &point.attributes,
                timestamp: self.millis(point.time_unix_nano),
                stale: is_stale(point.flags),
            };
            seen(p.timestamp);
            // One series per point: the point's own labels plus its name, no copy.
            let mut labels = self.base_labels(ctx, &p);
            labels.retain(|(_, v)| !v.is_empty());
            upsert(&mut labels, "__name__", &family, true);
            self.push_value(labels, &p, number_value(point));
        }
    }

    fn add_histogram_point(
        &mut self,
        ctx: &Context,
        family: &str,
        p: &Point<'_>,
        point: &harrier_pdata::otlp::metrics::v1::HistogramDataPoint,
    ) {
        let bucket_name = format!("{family}_bucket");
        let base = self.base_labels(ctx, p);
        let mut bucket_labels = Vec::with_capacity(point.explicit_bounds.len() + 1);
        let mut cumulative_count = 0u64;
        for (i, bound) in point.explicit_bounds.iter().enumerate() {
            cumulative_count =
                cumulative_count.saturating_add(point.bucket_counts.get(i).copied().unwrap_or(0));
            let labels =
                Self::series_labels(&base, &bucket_name, Some(("le", format_float(*bound))));
            self.push_value(labels.clone(), p, cumulative_count as f64);
            bucket_labels.push(labels);
        }
        let inf = Self::series_labels(&base, &bucket_name, Some(("le", "+Inf".to_string())));
        self.push_value(inf.clone(), p, point.count as f64);
        bucket_labels.push(inf);
        // Each exemplar goes to the bucket its value falls in (the first bound >= value).
        for exemplar in &point.exemplars {
            let value = match exemplar.value {
                Some(exemplar::Value::AsDouble(v)) => v,
                Some(exemplar::Value::AsInt(v)) => v as f64,
                None => continue,
            };
            let index = point
                .explicit_bounds
                .iter()
                .position(|bound| value <= *bound)
                .unwrap_or(point.explicit_bounds.len());
            let Some(labels) = bucket_labels.get(index) else {
                continue;
            };
            let mut exemplar_labels = attribute_labels(&exemplar.filtered_attributes);
            if !exemplar.trace_id.is_empty() {
                exemplar_labels.insert("trace_id".into(), hex::encode(&exemplar.trace_id));
            }
            if !exemplar.span_id.is_empty() {
                exemplar_labels.insert("span_id".into(), hex::encode(&exemplar.span_id));
            }
            let converted = Exemplar {
                labels: exemplar_labels
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(name, value)| Label { name, value })
                    .collect(),
                value,
                timestamp: self.millis(exemplar.time_unix_nano),
            };
            self.series.entry(labels.clone()).exemplars.push(converted);
        }
        if point.sum.is_some() || p.stale {
            let sum = Self::series_labels(&base, &format!("{family}_sum"), None);
            self.push_value(sum, p, point.sum.unwrap_or(0.0));
        }
        let count = Self::series_labels(&base, &format!("{family}_count"), None);
        self.push_value(count, p, point.count as f64);
    }

    /// The labels every series of point `p` shares, sorted by name: point attributes
    /// over resource attributes (with `resource_to_telemetry_conversion`), then scope
    /// labels and `job`/`instance` over both, then external labels where absent.
    /// Computed once per point; a histogram point has many series.
    fn base_labels(&self, ctx: &Context, p: &Point<'_>) -> LabelSet {
        let mut labels = attribute_label_set(p.attributes);
        for (k, v) in &ctx.resource {
            upsert(&mut labels, k, v, false);
        }
        for (k, v) in ctx.scope.iter().chain(&ctx.target) {
            upsert(&mut labels, k, v, true);
        }
        for (k, v) in &self.settings.external_labels {
            upsert(&mut labels, k, v, false);
        }
        labels
    }

    /// One series' label set: `base` plus `__name__` and `extra` (both replacing a
    /// label of the same name), without empty values (an empty label is no label in
    /// Prometheus).
    fn series_labels(base: &LabelSet, name: &str, extra: Option<(&str, String)>) -> LabelSet {
        let mut labels: LabelSet = Vec::with_capacity(base.len() + 2);
        labels.extend(
            base.iter()
                .filter(|(k, v)| {
                    !v.is_empty() && k != "__name__" && extra.as_ref().is_none_or(|(e, _)| k != e)
                })
                .cloned(),
        );
        upsert(&mut labels, "__name__", name, true);
        if let Some((k, v)) = extra
            && !v.is_empty()
        {
            upsert(&mut labels, k, &v, true);
        }
        labels
    }

    fn push_value(&mut self, labels: LabelSet, p: &Point<'_>, value: f64) {
        self.push(
            labels,
            Sample {
                value: p.value(value),
                timestamp: p.timestamp,
            },
        );
    }

    fn push(&mut self, labels: LabelSet, sample: Sample) {
        self.series.entry(labels).samples.push(sample);
    }

    fn finish(self) -> Converted {
        let series = self
            .series
            .entries
            .into_iter()
            .filter(|(_, acc)| !acc.samples.is_empty())
            .map(|(labels, mut acc)| {
                // Stable: of samples with one timestamp, the last given is kept.
                acc.samples.sort_by_key(|s| s.timestamp);
                let mut samples: Vec<Sample> = Vec::with_capacity(acc.samples.len());
                for sample in acc.samples {
                    match samples.last_mut() {
                        Some(last) if last.timestamp == sample.timestamp => *last = sample,
                        _ => samples.push(sample),
                    }
                }
                acc.exemplars.sort_by_key(|e| e.timestamp);
                TimeSeries {
                    labels: labels
                        .into_iter()
                        .map(|(name, value)| Label { name, value })
                        .collect(),
                    samples,
                    exemplars: acc.exemplars,
                }
            })
            .collect();
        Converted {
            series,
            metadata: self.metadata.into_values().collect(),
            dropped_delta_points: self.dropped_delta_points,
            dropped_exponential_points: self.dropped_exponential_points,
        }
    }
}

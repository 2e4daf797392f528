//! The latest state of every series and its rendering in the Prometheus text format
//! 0.0.4 or OpenMetrics 1.0.
//!
//! [`Store::update`] folds a metrics batch in (delta monotonic sums and delta histograms
//! are accumulated into cumulative ones); [`Store::render`] first drops series not
//! updated within the expiration, then writes every series sorted by name and labels,
//! so the output is deterministic. Both take `now` so tests control the clock.

use super::naming::{
    MetricType, SERVICE_INSTANCE_ID, SERVICE_NAME, SERVICE_NAMESPACE, any_value_string, label_name,
    metric_name, scope_labels, target_labels,
};
use super::text::{escape_help, format_float, write_sample};
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, DataPointFlags, Metric, NumberDataPoint, ResourceMetrics, metric,
    number_data_point,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Identifies one series: its Prometheus family name and labels sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SeriesKey {
    name: String,
    labels: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum SeriesValue {
    Number(f64),
    Histogram {
        bounds: Vec<f64>,
        counts: Vec<u64>,
        sum: f64,
        count: u64,
    },
    Summary {
        quantiles: Vec<(f64, f64)>,
        sum: f64,
        count: u64,
    },
}

#[derive(Debug, Clone)]
struct Series {
    metric_type: MetricType,
    help: String,
    value: SeriesValue,
    updated: Instant,
}

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text (`# EOF`-terminated, families named without `_total`).
    OpenMetrics,
}

/// What one [`Store::update`] could not store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UpdateOutcome {
    /// Exponential histogram points skipped (not supported).
    pub(crate) skipped_exponential_points: u64,
}

/// Every series' latest state, shared by `export` and the HTTP handler.
pub(crate) struct Store {
    series: Mutex<HashMap<SeriesKey, Series>>,
    const_labels: Vec<(String, String)>,
    expiration: Duration,
}

/// Labels shared by every point of one resource and scope.
struct Context {
    target: Vec<(String, String)>,
    scope: Vec<(String, String)>,
}

impl Store {
    /// An empty store adding `const_labels` to every series and dropping series not
    /// updated for `expiration`.
    pub(crate) fn new(const_labels: &BTreeMap<String, String>, expiration: Duration) -> Store {
        Store {
            series: Mutex::new(HashMap::new()),
            const_labels: const_labels
                .iter()
                .map(|(k, v)| (label_name(k), v.clone()))
                .collect(),
            expiration,
        }
    }

    /// How many series are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesKey, Series>> {
        self.series.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds `resources` in, stamping updated series with `now`.
    pub(crate) fn update(&self, resources: &[ResourceMetrics], now: Instant) -> UpdateOutcome {
        let mut outcome = UpdateOutcome::default();
        let mut series = self.lock();
        for resource in resources {
            let attributes = resource
                .resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or_default();
            let target = target_labels(attributes);
            let info_labels: Vec<&KeyValue> = attributes
                .iter()
                .filter(|kv| {
                    ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID]
                        .contains(&kv.key.as_str())
                })
                .collect();
            if !info_labels.is_empty() {
                let key = self.key("target_info".into(), &target, &[], info_labels);
                series.insert(
                    key,
                    Series {
                        metric_type: MetricType::Gauge,
                        help: "Target metadata".into(),
                        value: SeriesValue::Number(1.0),
                        updated: now,
                    },
                );
            }
            for scope_metrics in &resource.scope_metrics {
                let ctx = Context {
                    target: target.clone(),
                    scope: scope_labels(scope_metrics.scope.as_ref()),
                };
                for metric in &scope_metrics.metrics {
                    outcome.skipped_exponential_points +=
                        self.update_metric(&mut series, &ctx, metric, now);
                }
            }
        }
        outcome
    }

    /// Returns the number of exponential histogram points skipped.
    fn update_metric(
        &self,
        series: &mut HashMap<SeriesKey, Series>,
        ctx: &Context,
        metric: &Metric,
        now: Instant,
    ) -> u64 {
        let delta = AggregationTemporality::Delta as i32;
        let mut put = |metric_type: MetricType,
                       attrs: &[KeyValue],
                       value: SeriesValue,
                       accumulate: bool,
                       flags: u32| {
            let name = metric_name(&metric.name, &metric.unit, metric_type);
            let key = self.key(name, &ctx.target, &ctx.scope, attrs.iter().collect());
            // A point with no recorded value is a staleness marker (the series
            // ended, e.g. a scraped target went away): stop serving the series, so
            // a Prometheus scraping this endpoint marks it stale in turn.
            if flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
                series.remove(&key);
                return;
            }
            let value = match (accumulate, series.get(&key)) {
                (true, Some(old)) if old.metric_type == metric_type => {
                    accumulated(&old.value, value)
                }
                _ => value,
            };
            series.insert(
                key,
                Series {
                    metric_type,
                    help: metric.description.clone(),
                    value,
                    updated: now,
                },
            );
        };
        match &metric.data {
            Some(metric::Data::Gauge(gauge)) => {
                for point in &gauge.data_points {
                    put(
                        MetricType::Gauge,
                        &point.attributes,
                        number(point),
                        false,
                        point.flags,
                    );
                }
            }
            Some(metric::Data::Sum(sum)) => {
                let (metric_type, accumulate) = if sum.is_monotonic {
                    (MetricType::Counter, sum.aggregation_temporality == delta)
                } else {
                    (MetricType::Gauge, false)
                };
                for point in &sum.data_points {
                    put(
                        metric_type,
                        &point.attributes,
                        number(point),
                        accumulate,
                        point.flags,
                    );
                }
            }
            Some(metric::Data::Histogram(histogram)) => {
                let accumulate = histogram.aggregation_temporality == delta;
                for point in &histogram.data_points {
                    let value = SeriesValue::Histogram {
                        bounds: point.explicit_bounds.clone(),
                        counts: point.bucket_counts.clone(),
                        sum: point.sum.unwrap_or(0.0),
                        count: point.count,
                    };
                    put(
                        MetricType::Histogram,
                        &point.attributes,
                        value,
                        accumulate,
                        point.flags,
                    );
                }
            }
            Some(metric::Data::Summary(summary)) => {
                for point in &summary.data_points {
                    let value = SeriesValue::Summary {
                        quantiles: point
                            .quantile_values
                            .iter()
                            .map(|q| (q.quantile, q.value))
                            .collect(),
                        sum: point.sum,
                        count: point.count,
                    };
                    put(
                        MetricType::Summary,
                        &point.attributes,
                        value,
                        false,
                        point.flags,
                    );
                }
            }
            Some(metric::Data::ExponentialHistogram(histogram)) => {
                return histogram.data_points.len() as u64;
            }
            None => {}
        }
        0
    }

    /// The key of one series: point attributes (values of attributes whose sanitised
    /// names collide are joined with `;`), then scope, job/instance and const labels,
    /// each overriding the one before.
    fn key(
        &self,
        name: String,
        target: &[(String, String)],
        scope: &[(String, String)],
        attrs: Vec<&KeyValue>,
    ) -> SeriesKey {
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut attrs = attrs;
        attrs.sort_by(|a, b| a.key.cmp(&b.key));
        for kv in attrs {
            let value = any_value_string(kv.value.as_ref());
            labels
                .entry(label_name(&kv.key))
                .and_modify(|v| {
                    v.push(';');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        for (k, v) in scope.iter().chain(target).chain(&self.const_labels) {
            labels.insert(k.clone(), v.clone());
        }
        SeriesKey {
            name,
            labels: labels.into_iter().collect(),
        }
    }

    /// Removes series not updated within the expiration; returns how many.
    pub(crate) fn expire(&self, now: Instant) -> usize {
        let mut series = self.lock();
        let before = series.len();
        series.retain(|_, s| now.saturating_duration_since(s.updated) < self.expiration);
        before - series.len()
    }

    /// Every series in the Prometheus text format 0.0.4, sorted by name and labels.
    #[cfg(test)]
    pub(crate) fn render(&self) -> String {
        self.render_as(Format::Text)
    }

    /// Every series in `format`, sorted by name and labels.
    pub(crate) fn render_as(&self, format: Format) -> String {
        let series = self.lock();
        let mut sorted: Vec<(&SeriesKey, &Series)> = series.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::new();
        let mut family: Option<&str> = None;
        for (key, s) in sorted {
            if family != Some(key.name.as_str()) {
                family = Some(key.name.as_str());
                let (family_name, type_word) = match format {
                    Format::Text => (key.name.as_str(), s.metric_type.as_str()),
                    // OpenMetrics names the family without the sample suffix.
                    Format::OpenMetrics if key.name == "target_info" => ("target", "info"),
                    Format::OpenMetrics if s.metric_type == MetricType::Counter => (
                        key.name.strip_suffix("_total").unwrap_or(&key.name),
                        s.metric_type.as_str(),
                    ),
                    Format::OpenMetrics => (key.name.as_str(), s.metric_type.as_str()),
                };
                if !s.help.is_empty() {
                    let _ = writeln!(out, "# HELP {family_name} {}", escape_help(&s.help));
                }
                let _ = writeln!(out, "# TYPE {family_name} {type_word}");
            }
            write_series(&mut out, key, &s.value);
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

fn accumulated(old: &SeriesValue, new: SeriesValue) -> SeriesValue {
    match (old, new) {
        (SeriesValue::Number(a), SeriesValue::Number(b)) => SeriesValue::Number(a + b),
        (
            SeriesValue::Histogram {
                bounds: old_bounds,
                counts: old_counts,
                sum: old_sum,
                count: old_count,
            },
            SeriesValue::Histogram {
                bounds,
                counts,
                sum,
                count,
            },
        ) if *old_bounds == bounds && old_counts.len() == counts.len() => SeriesValue::Histogram {
            counts: old_counts.iter().zip(&counts).map(|(a, b)| a + b).collect(),
            bounds,
            sum: old_sum + sum,
            count: old_count + count,
        },
        // Bounds changed: the new point starts the series afresh.
        (_, new) => new,
    }
}

fn number(point: &NumberDataPoint) -> SeriesValue {
    SeriesValue::Number(match point.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => 0.0,
    })
}

fn write_series(out: &mut String, key: &SeriesKey, value: &SeriesValue) {
    let (name, labels) = (key.name.as_str(), key.labels.as_slice());
    match value {
        SeriesValue::Number(v) => write_sample(out, name, "", labels, None, &format_float(*v)),
        SeriesValue::Histogram {
            bounds,
            counts,
            sum,
            count,
        } => {
            let mut cumulative = 0u64;
            for (i, bound) in bounds.iter().enumerate() {
                cumulative += counts.get(i).copied().unwrap_or(0);
                let le = format_float(*bound);
                let value = cumulative.to_string();
                write_sample(out, name, "_bucket", labels, Some(("le", &le)), &value);
            }
            let total = count.to_string();
            write_sample(out, name, "_bucket", labels, Some(("le", "+Inf")), &total);
            write_sample(out, name, "_sum", labels, None, &format_float(*sum));
            write_sample(out, name, "_count", labels, None, &total);
        }
        SeriesValue::Summary {
            quantiles,
            sum,
            count,
        } => {
            for (quantile, value) in quantiles {
                let q = format_float(*quantile);
                write_sample(
                    out,
                    name,
                    "",
                    labels,
                    Some(("quantile", &q)),
                    &format_float(*value),
                );
            }
            write_sample(out, name, "_sum", labels, None, &format_float(*sum));
            write_sample(out, name, "_count", labels, None, &count.to_string());
        }
    }
}

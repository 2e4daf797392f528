//! The per-target memory between scrapes and the output of one scrape.
//!
//! [`SeriesTracker`] gives cumulative series a start time (OpenMetrics `_created` when
//! exposed, else the time the series was first seen; on a reset, i.e. a value or count
//! going down, the reset point's time minus 1 ms) and emits staleness markers (a point
//! with the no-recorded-value flag and NaN) for series that disappear, or for every
//! series when the target goes down or away. `Builder` groups a scrape's points into
//! metrics by resource and name; `add_synthetic` adds `up` and the `scrape_*` series.

use super::convert::{Counts, Resolved, SCOPE_NAME, TargetInfo};
use harrier_core::hash::{FastHasher, U64Map};
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{InstrumentationScope, KeyValue};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, DataPointFlags, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
    number_data_point,
};
use harrier_pdata::otlp::resource::v1::Resource;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

/// The kind of OTLP point a series produces; a stale marker must have the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PointKind {
    Gauge,
    Sum,
    Histogram,
    Summary,
}

/// A series remembered between scrapes.
#[derive(Debug, Clone)]
struct Tracked {
    kind: PointKind,
    resource: ResourceKey,
    metric: String,
    attributes: Vec<KeyValue>,
    /// Start of the cumulative series, unix ms.
    start_ms: i64,
    /// Last value (sums) or count (histograms, summaries), to detect resets.
    last: f64,
    /// The scrape generation that last saw the series.
    generation: u64,
    /// The scrape generation that first saw it.
    born: u64,
}

/// `job` and `instance` of a resource when they differ from the target's (only with
/// `honor_labels` or relabeling); `None` is the target's own resource, which keeps the
/// common case free of per-sample string copies.
pub(super) type ResourceKey = Option<(String, String)>;

/// `Some((job, instance))` unless they are the target's own.
pub(super) fn resource_key(target: &TargetInfo, job: &str, instance: &str) -> ResourceKey {
    if job == target.job && instance == target.instance {
        None
    } else {
        Some((job.to_string(), instance.to_string()))
    }
}

/// Per-target state kept between scrapes.
#[derive(Debug, Default)]
pub struct SeriesTracker {
    series: U64Map<Tracked>,
    generation: u64,
}

impl SeriesTracker {
    /// How many series are remembered.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Starts a new scrape: returns its generation number.
    pub(super) fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    /// Forgets the series first seen by the latest conversion: used when that scrape
    /// fails after conversion (over `sample_limit`), so those series, never reported,
    /// get no staleness markers.
    pub fn forget_new(&mut self) {
        let generation = self.generation;
        self.series.retain(|_, t| t.born != generation);
    }
}

/// Builds the OTLP output of one scrape: metrics grouped by resource and name.
pub(super) struct Builder<'t> {
    target: &'t TargetInfo,
    resources: Vec<(ResourceKey, Vec<Metric>, HashMap<String, usize>)>,
    /// The (resource, metric) indexes of the last lookup: consecutive samples of a
    /// family go to the same metric, so most lookups end here.
    last: Option<(usize, usize)>,
}

impl<'t> Builder<'t> {
    pub(super) fn new(target: &'t TargetInfo) -> Builder<'t> {
        Builder {
            target,
            resources: Vec::new(),
            last: None,
        }
    }

    pub(super) fn metric(
        &mut self,
        resource: &ResourceKey,
        name: &str,
        help: &str,
        unit: &str,
        kind: PointKind,
    ) -> &mut Metric {
        if let Some((r, i)) = self.last
            && self.resources[r].0 == *resource
            && self.resources[r].1[i].name == name
        {
            return &mut self.resources[r].1[i];
        }
        let r = match self.resources.iter().position(|(k, _, _)| k == resource) {
            Some(r) => r,
            None => {
                self.resources
                    .push((resource.clone(), Vec::new(), HashMap::new()));
                self.resources.len() - 1
            }
        };
        let (_, metrics, index) = &mut self.resources[r];
        let i = match index.get(name) {
            Some(&i) => i,
            None => {
                let data = match kind {
                    PointKind::Gauge => metric::Data::Gauge(Gauge::default()),
                    PointKind::Sum => metric::Data::Sum(Sum {
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: true,
                        data_points: Vec::new(),
                    }),
                    PointKind::Histogram => metric::Data::Histogram(Histogram {
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        data_points: Vec::new(),
                    }),
                    PointKind::Summary => metric::Data::Summary(Summary::default()),
                };
                metrics.push(Metric {
                    name: name.to_string(),
                    description: help.to_string(),
                    unit: unit.to_string(),
                    data: Some(data),
                    ..Default::default()
                });
                index.insert(name.to_string(), metrics.len() - 1);
                metrics.len() - 1
            }
        };
        self.last = Some((r, i));
        &mut metrics[i]
    }

    pub(super) fn finish(self) -> Vec<ResourceMetrics> {
        let target = self.target;
        self.resources
            .into_iter()
            .filter(|(_, metrics, _)| !metrics.is_empty())
            .map(|(key, metrics, _)| {
                let (job, instance) =
                    key.unwrap_or_else(|| (target.job.clone(), target.instance.clone()));
                let mut attributes = vec![
                    string_kv("service.name", job),
                    string_kv("service.instance.id", instance),
                    string_kv("server.address", target.host.clone()),
                ];
                if let Some(port) = target.port {
                    attributes.push(int_kv("server.port", i64::from(port)));
                }
                attributes.push(string_kv("url.scheme", target.scheme));
                ResourceMetrics {
                    resource: Some(Resource {
                        attributes,
                        ..Default::default()
                    }),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(InstrumentationScope {
                            name: SCOPE_NAME.to_string(),
                            version: env!("CARGO_PKG_VERSION").to_string(),
                            ..Default::default()
                        }),
                        metrics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            })
            .collect()
    }
}

pub(super) fn ms_to_nanos(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

pub(super) fn series_hash(resource: &ResourceKey, metric: &str, attributes: &[KeyValue]) -> u64 {
    // Fast, not collision-resistant: series are tracked per target, so a collision
    // (crafted or not) can only merge two series of one target.
    let mut h = FastHasher::default();
    resource.hash(&mut h);
    metric.hash(&mut h);
    for kv in attributes {
        kv.key.hash(&mut h);
        if let Some(harrier_pdata::otlp::common::v1::AnyValue {
            value: Some(harrier_pdata::otlp::common::v1::any_value::Value::StringValue(s)),
        }) = &kv.value
        {
            s.hash(&mut h);
        }
    }
    h.finish()
}

/// Records a sighting of a series; returns its start time (unix ms).
#[allow(clippy::too_many_arguments)]
pub(super) fn track(
    tracker: &mut SeriesTracker,
    hash: u64,
    resolved: &Resolved,
    metric: &str,
    kind: PointKind,
    created_ms: Option<i64>,
    value: f64,
    time_ms: i64,
    generation: u64,
    counts: &mut Counts,
) -> i64 {
    match tracker.series.entry(hash) {
        Entry::Occupied(mut e) => {
            let t = e.get_mut();
            if t.generation != generation {
                t.generation = generation;
            }
            if let Some(created) = created_ms {
                t.start_ms = created;
            } else if value < t.last {
                // A reset: the series restarted between the two scrapes.
                t.start_ms = time_ms.saturating_sub(1);
            }
            t.last = value;
            t.start_ms
        }
        Entry::Vacant(v) => {
            counts.series_added += 1;
            let start_ms = created_ms.unwrap_or(time_ms);
            v.insert(Tracked {
                kind,
                resource: resolved.resource.clone(),
                metric: metric.to_string(),
                attributes: resolved.attributes.clone(),
                start_ms,
                last: value,
                generation,
                born: generation,
            });
            start_ms
        }
    }
}

/// Emits a staleness marker for every tracked series not seen in `generation` (all of
/// them with `None`) and forgets them. Returns how many.
pub(super) fn stale_markers(
    tracker: &mut SeriesTracker,
    builder: &mut Builder<'_>,
    generation: Option<u64>,
    now_ms: i64,
) -> u64 {
    let gone: Vec<u64> = tracker
        .series
        .iter()
        .filter(|(_, t)| Some(t.generation) != generation)
        .map(|(h, _)| *h)
        .collect();
    let flags = DataPointFlags::NoRecordedValueMask as u32;
    let time = ms_to_nanos(now_ms);
    for hash in &gone {
        let Some(t) = tracker.series.remove(hash) else {
            continue;
        };
        let metric = builder.metric(&t.resource, &t.metric, "", "", t.kind);
        match &mut metric.data {
            Some(metric::Data::Gauge(g)) => g.data_points.push(NumberDataPoint {
                attributes: t.attributes,
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsDouble(f64::NAN)),
                flags,
                ..Default::default()
            }),
            Some(metric::Data::Sum(s)) => s.data_points.push(NumberDataPoint {
                attributes: t.attributes,
                start_time_unix_nano: ms_to_nanos(t.start_ms),
                time_unix_nano: time,
                value: Some(number_data_point::Value::AsDouble(f64::NAN)),
                flags,
                ..Default::default()
            }),
            Some(metric::Data::Histogram(h)) => h.data_points.push(HistogramDataPoint {
                attributes: t.attributes,
                start_time_unix_nano: ms_to_nanos(t.start_ms),
                time_unix_nano: time,
                flags,
                ..Default::default()
            }),
            Some(metric::Data::Summary(s)) => s.data_points.push(SummaryDataPoint {
                attributes: t.attributes,
                start_time_unix_nano: ms_to_nanos(t.start_ms),
                time_unix_nano: time,
                flags,
                ..Default::default()
            }),
            _ => {}
        }
    }
    gone.len() as u64
}

/// Stale markers for every series of a target that failed or went away.
pub fn all_stale(
    target: &TargetInfo,
    tracker: &mut SeriesTracker,
    now_ms: i64,
) -> (Vec<ResourceMetrics>, u64) {
    let mut builder = Builder::new(target);
    let n = stale_markers(tracker, &mut builder, None, now_ms);
    (builder.finish(), n)
}

/// The synthetic per-scrape series (`up`, `scrape_duration_seconds`,
/// `scrape_samples_scraped`, `scrape_samples_post_metric_relabeling`,
/// `scrape_series_added`) appended to `resources` (to the target's own resource).
pub fn add_synthetic(
    resources: &mut Vec<ResourceMetrics>,
    target: &TargetInfo,
    up: bool,
    duration_seconds: f64,
    counts: &Counts,
    now_ms: i64,
) {
    let attributes: Vec<KeyValue> = target
        .labels
        .iter()
        .map(|(k, v)| string_kv(k.as_str(), v.as_str()))
        .collect();
    let gauge = |name: &str, help: &str, value: f64| Metric {
        name: name.to_string(),
        description: help.to_string(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: attributes.clone(),
                time_unix_nano: ms_to_nanos(now_ms),
                value: Some(number_data_point::Value::AsDouble(value)),
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let mut synthetic = vec![
        gauge(
            "up",
            "The scraping was successful",
            if up { 1.0 } else { 0.0 },
        ),
        gauge(
            "scrape_duration_seconds",
            "Duration of the scrape",
            duration_seconds,
        ),
        gauge(
            "scrape_samples_scraped",
            "The number of samples the target exposed",
            counts.scraped as f64,
        ),
        gauge(
            "scrape_samples_post_metric_relabeling",
            "The number of samples remaining after metric relabeling was applied",
            counts.post_relabel as f64,
        ),
        gauge(
            "scrape_series_added",
            "The approximate number of new series in this scrape",
            counts.series_added as f64,
        ),
    ];
    let own = resources.iter_mut().find(|r| {
        r.resource.as_ref().is_some_and(|res| {
            harrier_pdata::attrs::get_str(&res.attributes, "service.name") == Some(&target.job)
                && harrier_pdata::attrs::get_str(&res.attributes, "service.instance.id")
                    == Some(&target.instance)
        })
    });
    match own.and_then(|r| r.scope_metrics.first_mut()) {
        Some(scope) => scope.metrics.append(&mut synthetic),
        None => {
            let mut builder = Builder::new(target);
            builder.metric(&None, "up", "", "", PointKind::Gauge);
            let mut fresh = builder.finish();
            if let Some(scope) = fresh.first_mut().and_then(|r| r.scope_metrics.first_mut()) {
                scope.metrics = synthetic;
            }
            resources.extend(fresh);
        }
    }
}

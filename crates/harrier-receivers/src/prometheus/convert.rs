//! Parsed exposition -> OTLP metrics, as the OTel Collector's prometheus receiver maps
//! them: counters become cumulative monotonic sums, gauges and untyped metrics gauges,
//! histograms explicit-bucket histograms, summaries summaries. Gauge histograms, info
//! and stateset families become one gauge per sample name.
//!
//! [`SeriesTracker`] is the per-target memory between scrapes: it gives cumulative
//! series a start time (OpenMetrics `_created` when exposed, else the time the series
//! was first seen; on a reset, i.e. a value or count going down, the reset point's
//! time minus 1 ms) and emits staleness markers (a point with the no-recorded-value
//! flag and NaN) for series that disappear or for every series when the target goes
//! down or away.

use super::parse::{Exemplar as PromExemplar, Family, MetricKind, Sample};
use super::relabel::{Labels, Relabeler};
use harrier_core::hash::{FastHasher, U64Map};
use harrier_pdata::attrs::{int_kv, string_kv};
use harrier_pdata::otlp::common::v1::{InstrumentationScope, KeyValue};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, DataPointFlags, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar,
    metric, number_data_point, summary_data_point::ValueAtQuantile,
};
use harrier_pdata::otlp::resource::v1::Resource;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

/// The instrumentation scope of everything this receiver produces.
pub const SCOPE_NAME: &str = "harrier/prometheus";

/// What one scraped target is: its identity in the produced resource and the labels
/// added to every sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    /// `job` label: the resource's `service.name`.
    pub job: String,
    /// `instance` label: the resource's `service.instance.id`.
    pub instance: String,
    /// `server.address`.
    pub host: String,
    /// `server.port`, when the address has one.
    pub port: Option<u16>,
    /// `url.scheme`.
    pub scheme: &'static str,
    /// The target's labels other than `job` and `instance`, sorted by name.
    pub labels: Labels,
}

/// How scraped labels meet target labels.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Keep scraped labels on conflict (else they become `exported_<name>`).
    pub honor_labels: bool,
    /// Use exposed timestamps (else the scrape time).
    pub honor_timestamps: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel: &'a Relabeler,
}

/// Counts of one conversion.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Samples in the exposition.
    pub scraped: u64,
    /// Samples left after metric relabeling.
    pub post_relabel: u64,
    /// Series not present in the previous scrape.
    pub series_added: u64,
    /// Stale markers emitted.
    pub stale: u64,
}

/// The kind of OTLP point a series produces; a stale marker must have the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PointKind {
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
type ResourceKey = Option<(String, String)>;

/// `Some((job, instance))` unless they are the target's own.
fn resource_key(target: &TargetInfo, job: &str, instance: &str) -> ResourceKey {
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

    /// Forgets the series first seen by the latest conversion: used when that scrape
    /// fails after conversion (over `sample_limit`), so those series, never reported,
    /// get no staleness markers.
    pub fn forget_new(&mut self) {
        let generation = self.generation;
        self.series.retain(|_, t| t.born != generation);
    }
}

/// Builds the OTLP output of one scrape: metrics grouped by resource and name.
struct Builder<'t> {
    target: &'t TargetInfo,
    resources: Vec<(ResourceKey, Vec<Metric>, HashMap<String, usize>)>,
    /// The (resource, metric) indexes of the last lookup: consecutive samples of a
    /// family go to the same metric, so most lookups end here.
    last: Option<(usize, usize)>,
}

impl<'t> Builder<'t> {
    fn new(target: &'t TargetInfo) -> Builder<'t> {
        Builder {
            target,
            resources: Vec::new(),
            last: None,
        }
    }

    fn metric(
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

    fn finish(self) -> Vec<ResourceMetrics> {
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

fn ms_to_nanos(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// The suffix a sample has beyond its family name.
fn suffix<'s>(family: &str, sample: &'s str) -> &'s str {
    sample.strip_prefix(family).unwrap_or("")
}

/// One sample's labels resolved: resource, attributes (without `le`/`quantile`), the
/// special label's value and, when relabeling renamed the sample, its new name.
struct Resolved {
    resource: ResourceKey,
    attributes: Vec<KeyValue>,
    special: Option<String>,
    name: Option<String>,
}

/// Merges target and sample labels as Prometheus does, applies metric relabeling and
/// splits the result; `None` when relabeling drops the sample.
fn resolve(
    target: &TargetInfo,
    sample: &Sample<'_>,
    special: Option<&str>,
    options: &Options<'_>,
) -> Option<Resolved> {
    let mut job = target.job.as_str();
    let mut instance = target.instance.as_str();
    if options.metric_relabel.is_empty() {
        // Fast path: build the attributes straight from the borrowed labels.
        let mut attributes = Vec::with_capacity(sample.labels.len() + target.labels.len());
        let mut special_value = None;
        let mut own_job = None;
        let mut own_instance = None;
        for (name, value) in &sample.labels {
            if Some(*name) == special {
                special_value = Some(value.to_string());
                continue;
            }
            if value.is_empty() {
                continue;
            }
            let conflict = *name == "job"
                || *name == "instance"
                || target.labels.iter().any(|(k, _)| k == name);
            if conflict && options.honor_labels {
                match *name {
                    "job" => own_job = Some(value.as_ref()),
                    "instance" => own_instance = Some(value.as_ref()),
                    _ => attributes.push(string_kv(*name, value.as_ref())),
                }
            } else if conflict {
                attributes.push(string_kv(format!("exported_{name}"), value.as_ref()));
            } else {
                attributes.push(string_kv(*name, value.as_ref()));
            }
        }
        for (k, v) in &target.labels {
            if options.honor_labels && attributes.iter().any(|kv| &kv.key == k) {
                continue;
            }
            attributes.push(string_kv(k.as_str(), v.as_str()));
        }
        if let Some(j) = own_job {
            job = j;
        }
        if let Some(i) = own_instance {
            instance = i;
        }
        attributes.sort_by(|a, b| a.key.cmp(&b.key));
        return Some(Resolved {
            resource: resource_key(target, job, instance),
            attributes,
            special: special_value,
            name: None,
        });
    }
    // Relabeling path: the full Prometheus label set, with __name__.
    let mut labels: Labels = Vec::with_capacity(sample.labels.len() + target.labels.len() + 3);
    labels.push(("__name__".to_string(), sample.name.to_string()));
    for (name, value) in &sample.labels {
        labels.push(((*name).to_string(), value.to_string()));
    }
    let push_target = |name: &str, value: &str, labels: &mut Labels| match labels
        .iter()
        .position(|(k, _)| k == name)
    {
        Some(_) if options.honor_labels => {}
        Some(i) => {
            labels[i].0 = format!("exported_{name}");
            labels.push((name.to_string(), value.to_string()));
        }
        None => labels.push((name.to_string(), value.to_string())),
    };
    push_target("job", job, &mut labels);
    push_target("instance", instance, &mut labels);
    for (k, v) in &target.labels {
        push_target(k, v, &mut labels);
    }
    labels.retain(|(_, v)| !v.is_empty());
    labels.sort();
    if !options.metric_relabel.apply(&mut labels) {
        return None;
    }
    let mut name = None;
    let mut special_value = None;
    let mut attributes = Vec::with_capacity(labels.len());
    let mut job = None;
    let mut instance = None;
    for (k, v) in labels {
        match k.as_str() {
            "__name__" => name = Some(v),
            "job" => job = Some(v),
            "instance" => instance = Some(v),
            _ if Some(k.as_str()) == special => special_value = Some(v),
            _ if k.starts_with("__") => {}
            _ => attributes.push(KeyValue {
                key: k,
                value: Some(harrier_pdata::otlp::common::v1::AnyValue {
                    value: Some(harrier_pdata::otlp::common::v1::any_value::Value::StringValue(v)),
                }),
                ..Default::default()
            }),
        }
    }
    let name = name.filter(|n| !n.is_empty())?;
    Some(Resolved {
        resource: resource_key(
            target,
            job.as_deref().unwrap_or_default(),
            instance.as_deref().unwrap_or_default(),
        ),
        attributes,
        special: special_value,
        name: (name != sample.name).then_some(name),
    })
}

fn series_hash(resource: &ResourceKey, metric: &str, attributes: &[KeyValue]) -> u64 {
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

fn convert_exemplar(e: &PromExemplar<'_>, default_ms: i64) -> Exemplar {
    let mut out = Exemplar {
        time_unix_nano: ms_to_nanos(e.timestamp_ms.unwrap_or(default_ms)),
        value: Some(exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    };
    for (k, v) in &e.labels {
        match *k {
            "trace_id" if v.len() == 32 => match hex::decode(v.as_bytes()) {
                Ok(id) => out.trace_id = id,
                Err(_) => out.filtered_attributes.push(string_kv(*k, v.as_ref())),
            },
            "span_id" if v.len() == 16 => match hex::decode(v.as_bytes()) {
                Ok(id) => out.span_id = id,
                Err(_) => out.filtered_attributes.push(string_kv(*k, v.as_ref())),
            },
            _ => out.filtered_attributes.push(string_kv(*k, v.as_ref())),
        }
    }
    out
}

/// A histogram or summary series being assembled from its samples.
#[derive(Default)]
struct Compound {
    resource: ResourceKey,
    name: String,
    attributes: Vec<KeyValue>,
    buckets: Vec<(f64, f64)>,
    quantiles: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
    created_ms: Option<i64>,
    time_ms: i64,
    exemplars: Vec<Exemplar>,
}

/// Parses a Prometheus float label value (`le`, `quantile`).
fn parse_bound(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

/// Converts one scrape. `now_ms` is the scrape's time (unix ms). Returns the OTLP
/// resources (also carrying stale markers for series gone since the previous scrape)
/// and counts.
pub fn convert(
    families: &[Family<'_>],
    target: &TargetInfo,
    options: &Options<'_>,
    tracker: &mut SeriesTracker,
    now_ms: i64,
) -> (Vec<ResourceMetrics>, Counts) {
    tracker.generation += 1;
    let generation = tracker.generation;
    let mut builder = Builder::new(target);
    let mut counts = Counts::default();
    for family in families {
        counts.scraped += family.samples.len() as u64;
        let help = family.help.as_deref().unwrap_or("");
        let unit = family.unit.unwrap_or("");
        match family.kind {
            MetricKind::Counter | MetricKind::Gauge | MetricKind::Unknown => {
                let kind = if family.kind == MetricKind::Counter {
                    PointKind::Sum
                } else {
                    PointKind::Gauge
                };
                // `_created` samples give the start of the counter with the same labels.
                let mut created: U64Map<i64> = U64Map::default();
                if kind == PointKind::Sum {
                    for s in &family.samples {
                        if suffix(family.name, s.name) == "_created"
                            && let Some(r) = resolve(target, s, None, options)
                        {
                            created.insert(
                                series_hash(&r.resource, family.name, &r.attributes),
                                (s.value * 1000.0) as i64,
                            );
                        }
                    }
                }
                for s in &family.samples {
                    if kind == PointKind::Sum && suffix(family.name, s.name) == "_created" {
                        counts.post_relabel += 1;
                        continue;
                    }
                    let Some(r) = resolve(target, s, None, options) else {
                        continue;
                    };
                    counts.post_relabel += 1;
                    // The metric is named after the family; a sample renamed by
                    // relabeling keeps its new name.
                    let metric_name: &str = r.name.as_deref().unwrap_or(family.name);
                    let time_ms = point_time(s, options, now_ms);
                    let hash = series_hash(&r.resource, metric_name, &r.attributes);
                    let start_ms = match kind {
                        PointKind::Sum => track(
                            tracker,
                            hash,
                            &r,
                            metric_name,
                            kind,
                            created.get(&hash).copied(),
                            s.value,
                            time_ms,
                            generation,
                            &mut counts,
                        ),
                        _ => track(
                            tracker,
                            hash,
                            &r,
                            metric_name,
                            kind,
                            None,
                            0.0,
                            time_ms,
                            generation,
                            &mut counts,
                        ),
                    };
                    let mut point = NumberDataPoint {
                        attributes: r.attributes,
                        time_unix_nano: ms_to_nanos(time_ms),
                        value: Some(number_data_point::Value::AsDouble(s.value)),
                        ..Default::default()
                    };
                    if kind == PointKind::Sum {
                        point.start_time_unix_nano = ms_to_nanos(start_ms);
                    }
                    if let Some(e) = &s.exemplar {
                        point.exemplars.push(convert_exemplar(e, time_ms));
                    }
                    match &mut builder
                        .metric(&r.resource, metric_name, help, unit, kind)
                        .data
                    {
                        Some(metric::Data::Sum(sum)) => sum.data_points.push(point),
                        Some(metric::Data::Gauge(g)) => g.data_points.push(point),
                        _ => {}
                    }
                }
            }
            MetricKind::Histogram | MetricKind::Summary => {
                let is_histogram = family.kind == MetricKind::Histogram;
                let special = if is_histogram { "le" } else { "quantile" };
                let mut series: Vec<Compound> = Vec::new();
                let mut index: U64Map<usize> = U64Map::default();
                for s in &family.samples {
                    let sfx = suffix(family.name, s.name);
                    let wants_special = if is_histogram {
                        sfx == "_bucket"
                    } else {
                        sfx.is_empty()
                    };
                    let Some(r) = resolve(
                        target,
                        s,
                        if wants_special { Some(special) } else { None },
                        options,
                    ) else {
                        continue;
                    };
                    counts.post_relabel += 1;
                    let metric_name = match &r.name {
                        None => family.name.to_string(),
                        Some(name) => name.strip_suffix(sfx).unwrap_or(name).to_string(),
                    };
                    let hash = series_hash(&r.resource, &metric_name, &r.attributes);
                    let time_ms = point_time(s, options, now_ms);
                    let i = *index.entry(hash).or_insert_with(|| {
                        series.push(Compound {
                            resource: r.resource.clone(),
                            name: metric_name.clone(),
                            attributes: r.attributes.clone(),
                            time_ms,
                            ..Default::default()
                        });
                        series.len() - 1
                    });
                    let c = &mut series[i];
                    match sfx {
                        "_sum" => c.sum = Some(s.value),
                        "_count" => c.count = Some(s.value),
                        "_created" => c.created_ms = Some((s.value * 1000.0) as i64),
                        _ if wants_special => {
                            if let Some(bound) = r.special.as_deref().and_then(parse_bound) {
                                if is_histogram {
                                    c.buckets.push((bound, s.value));
                                    if let Some(e) = &s.exemplar {
                                        c.exemplars.push(convert_exemplar(e, time_ms));
                                    }
                                } else {
                                    c.quantiles.push((bound, s.value));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                let kind = if is_histogram {
                    PointKind::Histogram
                } else {
                    PointKind::Summary
                };
                for mut c in series {
                    let count = c.count.or_else(|| {
                        c.buckets
                            .iter()
                            .find(|(b, _)| b.is_infinite() && *b > 0.0)
                            .map(|(_, v)| *v)
                    });
                    let Some(count) = count else {
                        // Without a count there is no point (OTel drops these too).
                        continue;
                    };
                    let hash = series_hash(&c.resource, &c.name, &c.attributes);
                    let r = Resolved {
                        resource: c.resource.clone(),
                        attributes: c.attributes,
                        special: None,
                        name: None,
                    };
                    let start_ms = track(
                        tracker,
                        hash,
                        &r,
                        &c.name,
                        kind,
                        c.created_ms,
                        count,
                        c.time_ms,
                        generation,
                        &mut counts,
                    );
                    let count_u = count.max(0.0) as u64;
                    if is_histogram {
                        c.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                        let mut bounds = Vec::with_capacity(c.buckets.len());
                        let mut bucket_counts = Vec::with_capacity(c.buckets.len() + 1);
                        let mut previous = 0u64;
                        for (bound, cumulative) in &c.buckets {
                            let cumulative = cumulative.max(0.0) as u64;
                            if bound.is_infinite() && *bound > 0.0 {
                                break;
                            }
                            bounds.push(*bound);
                            bucket_counts.push(cumulative.saturating_sub(previous));
                            previous = previous.max(cumulative);
                        }
                        bucket_counts.push(count_u.saturating_sub(previous));
                        let point = HistogramDataPoint {
                            attributes: r.attributes,
                            start_time_unix_nano: ms_to_nanos(start_ms),
                            time_unix_nano: ms_to_nanos(c.time_ms),
                            count: count_u,
                            sum: c.sum,
                            bucket_counts,
                            explicit_bounds: bounds,
                            exemplars: c.exemplars,
                            ..Default::default()
                        };
                        if let Some(metric::Data::Histogram(h)) =
                            &mut builder.metric(&c.resource, &c.name, help, unit, kind).data
                        {
                            h.data_points.push(point);
                        }
                    } else {
                        c.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
                        let point = SummaryDataPoint {
                            attributes: r.attributes,
                            start_time_unix_nano: ms_to_nanos(start_ms),
                            time_unix_nano: ms_to_nanos(c.time_ms),
                            count: count_u,
                            sum: c.sum.unwrap_or(0.0),
                            quantile_values: c
                                .quantiles
                                .iter()
                                .map(|(q, v)| ValueAtQuantile {
                                    quantile: *q,
                                    value: *v,
                                })
                                .collect(),
                            ..Default::default()
                        };
                        if let Some(metric::Data::Summary(s)) =
                            &mut builder.metric(&c.resource, &c.name, help, unit, kind).data
                        {
                            s.data_points.push(point);
                        }
                    }
                }
            }
            MetricKind::GaugeHistogram | MetricKind::Info | MetricKind::StateSet => {
                for s in &family.samples {
                    let Some(r) = resolve(target, s, None, options) else {
                        continue;
                    };
                    counts.post_relabel += 1;
                    let time_ms = point_time(s, options, now_ms);
                    let name = r.name.clone().unwrap_or_else(|| s.name.to_string());
                    let hash = series_hash(&r.resource, &name, &r.attributes);
                    track(
                        tracker,
                        hash,
                        &r,
                        &name,
                        PointKind::Gauge,
                        None,
                        0.0,
                        time_ms,
                        generation,
                        &mut counts,
                    );
                    let point = NumberDataPoint {
                        attributes: r.attributes,
                        time_unix_nano: ms_to_nanos(time_ms),
                        value: Some(number_data_point::Value::AsDouble(s.value)),
                        ..Default::default()
                    };
                    if let Some(metric::Data::Gauge(g)) = &mut builder
                        .metric(&r.resource, &name, help, unit, PointKind::Gauge)
                        .data
                    {
                        g.data_points.push(point);
                    }
                }
            }
        }
    }
    // Series not seen in this scrape are stale.
    counts.stale = stale_markers(tracker, &mut builder, Some(generation), now_ms);
    (builder.finish(), counts)
}

fn point_time(sample: &Sample<'_>, options: &Options<'_>, now_ms: i64) -> i64 {
    match sample.timestamp_ms {
        Some(ts) if options.honor_timestamps => ts,
        _ => now_ms,
    }
}

/// Records a sighting of a series; returns its start time (unix ms).
#[allow(clippy::too_many_arguments)]
fn track(
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
fn stale_markers(
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

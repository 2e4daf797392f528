//! Parsed exposition -> OTLP metrics, as the OTel Collector's prometheus receiver maps
//! them: counters become cumulative monotonic sums, gauges and untyped metrics gauges,
//! histograms explicit-bucket histograms, summaries summaries. Gauge histograms, info
//! and stateset families become one gauge per sample name.
//!
//! Start times, staleness markers and the grouping of points into metrics are in
//! `series.rs`.

use super::parse::{Exemplar as PromExemplar, Family, MetricKind, Sample};
use super::relabel::{Labels, Relabeler};
use super::series::{
    Builder, PointKind, ResourceKey, SeriesTracker, ms_to_nanos, resource_key, series_hash,
    stale_markers, track,
};
use harrier_core::hash::U64Map;
use harrier_pdata::attrs::string_kv;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::metrics::v1::{
    Exemplar, HistogramDataPoint, NumberDataPoint, ResourceMetrics, SummaryDataPoint, exemplar,
    metric, number_data_point, summary_data_point::ValueAtQuantile,
};

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

/// The suffix a sample has beyond its family name.
fn suffix<'s>(family: &str, sample: &'s str) -> &'s str {
    sample.strip_prefix(family).unwrap_or("")
}

/// One sample's labels resolved: resource, attributes (without `le`/`quantile`), the
/// special label's value and, when relabeling renamed the sample, its new name.
pub(super) struct Resolved {
    pub(super) resource: ResourceKey,
    pub(super) attributes: Vec<KeyValue>,
    pub(super) special: Option<String>,
    pub(super) name: Option<String>,
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
    let generation = tracker.next_generation();
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

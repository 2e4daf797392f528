//! Splitting batches at item granularity.
//!
//! Items (spans, data points, log records) keep their resource and scope: a resource or
//! scope group cut in two is cloned without its children, and each half receives its own
//! share of them. Whole groups are moved, never copied.

use crate::metric_point_count;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics, metric};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

/// A node of the OTLP tree that holds a countable number of items and can give up its
/// first `n` of them.
trait Splittable: Sized {
    fn items(&self) -> usize;
    /// Removes the first `n` items (`0 < n < self.items()`) into a new node.
    fn split_front(&mut self, n: usize) -> Self;
}

fn take_front<T: Splittable>(nodes: &mut Vec<T>, max: usize) -> Vec<T> {
    let mut remaining = max;
    let mut whole = 0;
    for node in nodes.iter() {
        let count = node.items();
        if count > remaining {
            break;
        }
        remaining -= count;
        whole += 1;
    }
    let mut out: Vec<T> = nodes.drain(..whole).collect();
    if remaining > 0
        && let Some(first) = nodes.first_mut()
    {
        out.push(first.split_front(remaining));
    }
    out
}

fn take_leaves<T>(items: &mut Vec<T>, n: usize) -> Vec<T> {
    let n = n.min(items.len());
    items.drain(..n).collect()
}

pub(crate) fn take_spans(rs: &mut Vec<ResourceSpans>, max: usize) -> Vec<ResourceSpans> {
    take_front(rs, max)
}

pub(crate) fn take_points(rm: &mut Vec<ResourceMetrics>, max: usize) -> Vec<ResourceMetrics> {
    take_front(rm, max)
}

pub(crate) fn take_logs(rl: &mut Vec<ResourceLogs>, max: usize) -> Vec<ResourceLogs> {
    take_front(rl, max)
}

impl Splittable for ResourceSpans {
    fn items(&self) -> usize {
        self.scope_spans.iter().map(|s| s.spans.len()).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceSpans {
            resource: self.resource.clone(),
            scope_spans: take_front(&mut self.scope_spans, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeSpans {
    fn items(&self) -> usize {
        self.spans.len()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeSpans {
            scope: self.scope.clone(),
            spans: take_leaves(&mut self.spans, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ResourceLogs {
    fn items(&self) -> usize {
        self.scope_logs.iter().map(|s| s.log_records.len()).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceLogs {
            resource: self.resource.clone(),
            scope_logs: take_front(&mut self.scope_logs, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeLogs {
    fn items(&self) -> usize {
        self.log_records.len()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeLogs {
            scope: self.scope.clone(),
            log_records: take_leaves(&mut self.log_records, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ResourceMetrics {
    fn items(&self) -> usize {
        self.scope_metrics.iter().map(Splittable::items).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceMetrics {
            resource: self.resource.clone(),
            scope_metrics: take_front(&mut self.scope_metrics, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeMetrics {
    fn items(&self) -> usize {
        self.metrics.iter().map(Splittable::items).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeMetrics {
            scope: self.scope.clone(),
            metrics: take_front(&mut self.metrics, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for Metric {
    fn items(&self) -> usize {
        metric_point_count(self.data.as_ref())
    }
    fn split_front(&mut self, n: usize) -> Self {
        let data = self.data.as_mut().map(|data| match data {
            metric::Data::Gauge(g) => {
                metric::Data::Gauge(opentelemetry_proto::tonic::metrics::v1::Gauge {
                    data_points: take_leaves(&mut g.data_points, n),
                })
            }
            metric::Data::Sum(s) => {
                metric::Data::Sum(opentelemetry_proto::tonic::metrics::v1::Sum {
                    data_points: take_leaves(&mut s.data_points, n),
                    aggregation_temporality: s.aggregation_temporality,
                    is_monotonic: s.is_monotonic,
                })
            }
            metric::Data::Histogram(h) => {
                metric::Data::Histogram(opentelemetry_proto::tonic::metrics::v1::Histogram {
                    data_points: take_leaves(&mut h.data_points, n),
                    aggregation_temporality: h.aggregation_temporality,
                })
            }
            metric::Data::ExponentialHistogram(h) => metric::Data::ExponentialHistogram(
                opentelemetry_proto::tonic::metrics::v1::ExponentialHistogram {
                    data_points: take_leaves(&mut h.data_points, n),
                    aggregation_temporality: h.aggregation_temporality,
                },
            ),
            metric::Data::Summary(s) => {
                metric::Data::Summary(opentelemetry_proto::tonic::metrics::v1::Summary {
                    data_points: take_leaves(&mut s.data_points, n),
                })
            }
        });
        Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data,
        }
    }
}

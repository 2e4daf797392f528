//! Dropping matching items from a batch, counting them, and acknowledging envelopes
//! that end up empty.

use super::{CompiledFilter, Condition};
use crate::matching::{Item, ItemKind};
use crate::points;
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::{DeliveryStatus, Envelope};
use harrier_core::telemetry::Counter;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::{Batch, metric_point_count};

/// How many items one call dropped, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Spans.
    pub spans: usize,
    /// Span events (of kept spans).
    pub span_events: usize,
    /// Log records.
    pub log_records: usize,
    /// Metric data points (with dropped metrics, their points).
    pub metric_points: usize,
}

/// Drops matching items.
pub struct FilterProcessor {
    filter: CompiledFilter,
    dropped_spans: Counter,
    dropped_span_events: Counter,
    dropped_log_records: Counter,
    dropped_metric_points: Counter,
}

fn resource_attrs(r: Option<&harrier_pdata::otlp::resource::v1::Resource>) -> &[KeyValue] {
    r.map_or(&[][..], |r| &r.attributes)
}

fn hit(condition: Option<&Condition>, item: Item<'_>) -> bool {
    condition.is_some_and(|c| c.matches(&item))
}

impl FilterProcessor {
    /// A processor for compiled conditions, counting into `ctx.telemetry`.
    pub fn new(filter: CompiledFilter, ctx: &BuildContext) -> FilterProcessor {
        let id = ctx.id.to_string();
        let pipeline = ctx.pipeline.clone().unwrap_or_default();
        let labels = [("processor", id.as_str()), ("pipeline", pipeline.as_str())];
        let counter = |noun: &str| {
            ctx.telemetry.counter(
                &format!("harrier_processor_filter_dropped_{noun}"),
                &format!("{noun} dropped by the filter processor on purpose."),
                &labels,
            )
        };
        FilterProcessor {
            dropped_spans: counter("spans"),
            dropped_span_events: counter("span_events"),
            dropped_log_records: counter("log_records"),
            dropped_metric_points: counter("metric_points"),
            filter,
        }
    }

    /// Removes the matching items from `batch` (and groups left empty).
    pub fn apply(&self, batch: &mut Batch) -> Dropped {
        let f = &self.filter;
        let mut dropped = Dropped::default();
        match batch {
            Batch::Traces(rs) if f.span.is_some() || f.span_event.is_some() => {
                for r in rs.iter_mut() {
                    let resource = resource_attrs(r.resource.as_ref());
                    for scope in r.scope_spans.iter_mut() {
                        scope.spans.retain_mut(|span| {
                            let item = Item {
                                resource,
                                attributes: &span.attributes,
                                kind: ItemKind::Span {
                                    name: &span.name,
                                    kind: span.kind,
                                    status: span.status.as_ref().map_or(0, |s| s.code),
                                },
                            };
                            if hit(f.span.as_ref(), item) {
                                dropped.spans += 1;
                                return false;
                            }
                            if let Some(c) = &f.span_event {
                                let before = span.events.len();
                                span.events.retain(|e| {
                                    let item = Item {
                                        resource,
                                        attributes: &e.attributes,
                                        kind: ItemKind::SpanEvent { name: &e.name },
                                    };
                                    !c.matches(&item)
                                });
                                dropped.span_events += before - span.events.len();
                            }
                            true
                        });
                    }
                    r.scope_spans.retain(|s| !s.spans.is_empty());
                }
                rs.retain(|r| !r.scope_spans.is_empty());
            }
            Batch::Logs(rl) if f.log_record.is_some() => {
                for r in rl.iter_mut() {
                    let resource = resource_attrs(r.resource.as_ref());
                    for scope in r.scope_logs.iter_mut() {
                        let before = scope.log_records.len();
                        scope.log_records.retain(|log| {
                            let item = Item {
                                resource,
                                attributes: &log.attributes,
                                kind: ItemKind::Log {
                                    body: log.body.as_ref(),
                                    severity_text: &log.severity_text,
                                    severity_number: log.severity_number,
                                },
                            };
                            !hit(f.log_record.as_ref(), item)
                        });
                        dropped.log_records += before - scope.log_records.len();
                    }
                    r.scope_logs.retain(|s| !s.log_records.is_empty());
                }
                rl.retain(|r| !r.scope_logs.is_empty());
            }
            Batch::Metrics(rm) if f.metric.is_some() || f.data_point.is_some() => {
                for r in rm.iter_mut() {
                    let resource = resource_attrs(r.resource.as_ref());
                    for scope in r.scope_metrics.iter_mut() {
                        scope.metrics.retain_mut(|metric| {
                            let points = metric_point_count(metric.data.as_ref());
                            let name = metric.name.as_str();
                            let item = Item {
                                resource,
                                attributes: &[],
                                kind: ItemKind::Metric { name },
                            };
                            if hit(f.metric.as_ref(), item) {
                                dropped.metric_points += points;
                                return false;
                            }
                            let Some(c) = &f.data_point else {
                                return true;
                            };
                            let removed = points::retain(metric.data.as_mut(), |attributes| {
                                let item = Item {
                                    resource,
                                    attributes,
                                    kind: ItemKind::DataPoint { metric_name: name },
                                };
                                !c.matches(&item)
                            });
                            dropped.metric_points += removed;
                            // A metric emptied by the filter goes; one that came empty stays.
                            !(points > 0 && removed == points)
                        });
                    }
                    r.scope_metrics.retain(|s| !s.metrics.is_empty());
                }
                rm.retain(|r| !r.scope_metrics.is_empty());
            }
            _ => {}
        }
        dropped
    }
}

impl Processor for FilterProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        let before = envelope.batch.item_count();
        let dropped = self.apply(&mut envelope.batch);
        self.dropped_spans.add(dropped.spans as u64);
        self.dropped_span_events.add(dropped.span_events as u64);
        self.dropped_log_records.add(dropped.log_records as u64);
        self.dropped_metric_points.add(dropped.metric_points as u64);
        let removed = dropped.spans + dropped.log_records + dropped.metric_points;
        if removed == 0 && dropped.span_events == 0 {
            out.push(envelope);
            return;
        }
        let after = before.saturating_sub(removed);
        if after == 0 && removed > 0 {
            // Everything was dropped on purpose: acknowledge and pass nothing on.
            envelope.finalizers.update(DeliveryStatus::Delivered);
            return;
        }
        // Keep the size estimate roughly right for byte-bounded channels downstream.
        envelope.byte_size = envelope.byte_size.saturating_mul(after) / before.max(1);
        out.push(envelope);
    }
}

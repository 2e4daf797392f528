//! Applying the actions to every selected item of a batch.

use super::CompiledAttributes;
use crate::matching::{Item, ItemKind};
use crate::points;
use harrier_core::component::Processor;
use harrier_core::envelope::Envelope;
use harrier_pdata::Batch;

/// Runs the compiled actions on each selected span (and its events), log record and
/// data point.
pub struct AttributesProcessor {
    compiled: CompiledAttributes,
}

impl AttributesProcessor {
    /// A processor for already compiled settings.
    pub fn new(compiled: CompiledAttributes) -> AttributesProcessor {
        AttributesProcessor { compiled }
    }

    /// Applies the actions to every selected item of `batch`.
    pub fn apply(&self, batch: &mut Batch) {
        let CompiledAttributes { actions, selector } = &self.compiled;
        let all = selector.selects_everything();
        match batch {
            Batch::Traces(rs) => {
                for r in rs {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for span in r.scope_spans.iter_mut().flat_map(|s| &mut s.spans) {
                        let item = Item {
                            resource,
                            attributes: &span.attributes,
                            kind: ItemKind::Span {
                                name: &span.name,
                                kind: span.kind,
                                status: span.status.as_ref().map_or(0, |s| s.code),
                            },
                        };
                        if all || selector.selects(&item) {
                            actions.apply(&mut span.attributes);
                            // A selected span's events get the same actions.
                            for event in &mut span.events {
                                actions.apply(&mut event.attributes);
                            }
                        }
                    }
                }
            }
            Batch::Logs(rl) => {
                for r in rl {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for log in r.scope_logs.iter_mut().flat_map(|s| &mut s.log_records) {
                        let item = Item {
                            resource,
                            attributes: &log.attributes,
                            kind: ItemKind::Log {
                                body: log.body.as_ref(),
                                severity_text: &log.severity_text,
                                severity_number: log.severity_number,
                            },
                        };
                        if all || selector.selects(&item) {
                            actions.apply(&mut log.attributes);
                        }
                    }
                }
            }
            Batch::Metrics(rm) => {
                for r in rm {
                    let resource = r.resource.as_ref().map_or(&[][..], |r| &r.attributes);
                    for metric in r.scope_metrics.iter_mut().flat_map(|s| &mut s.metrics) {
                        let metric_name = metric.name.as_str();
                        points::for_each_attributes_mut(metric.data.as_mut(), |attrs| {
                            let item = Item {
                                resource,
                                attributes: attrs,
                                kind: ItemKind::DataPoint { metric_name },
                            };
                            if all || selector.selects(&item) {
                                actions.apply(attrs);
                            }
                        });
                    }
                }
            }
        }
    }
}

impl Processor for AttributesProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        self.apply(&mut envelope.batch);
        out.push(envelope);
    }
}

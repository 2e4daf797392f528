//! The batching logic.

use super::BatchConfig;
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::Envelope;
use harrier_core::telemetry::Counter;
use tokio::time::Instant;

/// Accumulates envelopes into batches.
pub struct BatchProcessor {
    config: BatchConfig,
    pending: Option<Envelope>,
    pending_items: usize,
    deadline: Option<Instant>,
    size_triggers: Counter,
    timeout_triggers: Counter,
}

impl BatchProcessor {
    /// A processor with the given settings, counting into `ctx.telemetry`.
    pub fn new(config: BatchConfig, ctx: &BuildContext) -> BatchProcessor {
        let id = ctx.id.to_string();
        let labels = [("processor", id.as_str())];
        BatchProcessor {
            config,
            pending: None,
            pending_items: 0,
            deadline: None,
            size_triggers: ctx.telemetry.counter(
                "otelcol_processor_batch_batch_size_trigger_send",
                "Batches sent because they reached send_batch_size.",
                &labels,
            ),
            timeout_triggers: ctx.telemetry.counter(
                "otelcol_processor_batch_timeout_trigger_send",
                "Batches sent because the timeout fired.",
                &labels,
            ),
        }
    }

    fn max_size(&self) -> usize {
        match self.config.send_batch_max_size {
            0 => usize::MAX,
            n => n,
        }
    }

    /// Takes up to `max` items off the front of the pending batch.
    fn take(&mut self, max: usize, out: &mut Vec<Envelope>) {
        let Some(mut pending) = self.pending.take() else {
            return;
        };
        if self.pending_items <= max {
            self.pending_items = 0;
            self.deadline = None;
            out.push(pending);
            return;
        }
        let batch = pending.batch.split_off_front(max);
        // Share the byte estimate in proportion to items.
        let bytes = pending.byte_size.saturating_mul(max) / self.pending_items.max(1);
        pending.byte_size -= bytes;
        self.pending_items -= max;
        out.push(Envelope::with_size(batch, pending.finalizers.fork(), bytes));
        self.pending = Some(pending);
    }

    fn emit_all(&mut self, out: &mut Vec<Envelope>) {
        let max = self.max_size();
        while self.pending.is_some() {
            self.take(max, out);
        }
    }
}

impl Processor for BatchProcessor {
    fn process(&mut self, envelope: Envelope, out: &mut Vec<Envelope>) {
        let items = envelope.batch.item_count();
        match &mut self.pending {
            None => {
                self.pending = Some(envelope);
                self.pending_items = items;
                self.deadline = Some(Instant::now() + self.config.timeout);
            }
            Some(pending) => {
                let Envelope {
                    batch,
                    finalizers,
                    byte_size,
                } = envelope;
                match pending.batch.append(batch) {
                    Ok(()) => {
                        pending.finalizers.merge(finalizers);
                        pending.byte_size += byte_size;
                        self.pending_items += items;
                    }
                    Err(batch) => {
                        // A pipeline carries one signal, so this cannot happen; pass the
                        // stranger on untouched rather than lose it.
                        out.push(Envelope::with_size(batch, finalizers, byte_size));
                    }
                }
            }
        }
        let max = self.max_size();
        while self.pending_items >= self.config.send_batch_size && self.pending.is_some() {
            self.size_triggers.inc();
            self.take(max, out);
        }
        if self.config.timeout.is_zero() {
            self.emit_all(out);
        } else if self.pending.is_some() && self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.config.timeout);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn on_deadline(&mut self, _now: Instant, out: &mut Vec<Envelope>) {
        if self.pending.is_some() {
            self.timeout_triggers.inc();
        }
        self.emit_all(out);
        self.deadline = None;
    }

    fn flush(&mut self, out: &mut Vec<Envelope>) {
        self.emit_all(out);
        self.deadline = None;
    }
}

//! The pipeline task: input channel -> processors (inline) -> fanout.
//!
//! One task per pipeline. Processors run synchronously in order; a processor's deadline
//! hook (the batch timeout, the memory_limiter's check interval) wakes the task even
//! when no data arrives. When every sender of the input channel is gone (all receivers
//! stopped), the task drains the channel, flushes every processor in order, and ends,
//! dropping its fanout senders so the exporters' queues close in turn.

use super::fanout::Fanout;
use crate::channel::Receiver;
use crate::component::Processor;
use crate::envelope::Envelope;
use crate::telemetry::Counter;
use tokio::time::Instant;

/// Counters for one processor in one pipeline.
pub(crate) struct ProcessorCounters {
    pub(crate) incoming: Counter,
    pub(crate) outgoing: Counter,
}

/// A built pipeline, ready to run.
pub(crate) struct Pipeline {
    pub(crate) name: String,
    pub(crate) input: Receiver<Envelope>,
    pub(crate) processors: Vec<(Box<dyn Processor>, ProcessorCounters)>,
    pub(crate) fanout: Fanout,
}

impl Pipeline {
    /// Runs until the input closes and everything held is flushed.
    pub(crate) async fn run(mut self) {
        loop {
            let deadline = self
                .processors
                .iter()
                .filter_map(|(p, _)| p.next_deadline())
                .min();
            tokio::select! {
                next = self.input.recv() => match next {
                    Some(envelope) => push(&mut self.processors, 0, envelope, &self.fanout).await,
                    None => break,
                },
                _ = sleep_until(deadline) => {
                    let now = Instant::now();
                    for i in 0..self.processors.len() {
                        if self.processors[i].0.next_deadline().is_some_and(|d| d <= now) {
                            let mut out = Vec::new();
                            self.processors[i].0.on_deadline(now, &mut out);
                            for envelope in out {
                                push(&mut self.processors, i + 1, envelope, &self.fanout).await;
                            }
                        }
                    }
                }
            }
        }
        for i in 0..self.processors.len() {
            let mut out = Vec::new();
            self.processors[i].0.flush(&mut out);
            for envelope in out {
                push(&mut self.processors, i + 1, envelope, &self.fanout).await;
            }
        }
        tracing::debug!(pipeline = %self.name, "pipeline drained");
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Runs `envelope` through processors `start..` and hands the result to the fanout.
async fn push(
    processors: &mut [(Box<dyn Processor>, ProcessorCounters)],
    start: usize,
    envelope: Envelope,
    fanout: &Fanout,
) {
    let mut current = vec![envelope];
    for (processor, counters) in processors.iter_mut().skip(start) {
        let mut next = Vec::with_capacity(current.len());
        for envelope in current.drain(..) {
            counters.incoming.add(envelope.batch.item_count() as u64);
            processor.process(envelope, &mut next);
        }
        counters
            .outgoing
            .add(next.iter().map(|e| e.batch.item_count() as u64).sum());
        if next.is_empty() {
            return;
        }
        current = next;
    }
    for envelope in current {
        fanout.send(envelope).await;
    }
}

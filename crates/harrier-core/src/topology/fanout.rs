//! The fanout at the end of a pipeline: one batch to every exporter.
//!
//! The batch is wrapped in an `Arc` once and shared by every exporter's queue (no deep
//! copy); each copy gets its own finalizers. The fanout awaits every destination in turn,
//! so a `block` exporter with a full queue slows the pipeline (backpressure), while a
//! `drop` exporter with a full queue refuses its copy (counted) without holding up the
//! others.

use super::runner::{ExportItem, ExporterCounters, WhenFull};
use crate::channel::{Sender, TrySendError};
use crate::envelope::{DeliveryStatus, Envelope};
use crate::id::ComponentId;
use std::sync::Arc;

/// One destination.
pub(crate) struct Target {
    pub(crate) id: ComponentId,
    pub(crate) sender: Sender<ExportItem>,
    pub(crate) when_full: WhenFull,
    pub(crate) counters: ExporterCounters,
}

/// Every exporter of one pipeline.
pub(crate) struct Fanout {
    pub(crate) targets: Vec<Target>,
}

impl Fanout {
    /// Hands `envelope` to every exporter.
    pub(crate) async fn send(&self, envelope: Envelope) {
        let Envelope {
            batch,
            finalizers,
            byte_size,
        } = envelope;
        let items = batch.item_count();
        if items == 0 {
            finalizers.update(DeliveryStatus::Delivered);
            return;
        }
        let signal = batch.signal();
        let batch = Arc::new(batch);
        for target in &self.targets {
            let item = ExportItem {
                batch: Arc::clone(&batch),
                finalizers: finalizers.fork(),
                items,
                bytes: byte_size,
            };
            let refused = match target.when_full {
                WhenFull::Block => target.sender.send(item).await.err().map(|c| c.0),
                WhenFull::Drop => match target.sender.try_send(item) {
                    Ok(()) => None,
                    Err(TrySendError::Full(item)) => {
                        item.finalizers.update(DeliveryStatus::Rejected);
                        Some(item)
                    }
                    Err(TrySendError::Closed(item)) => Some(item),
                },
            };
            if let Some(item) = refused {
                tracing::warn!(exporter = %target.id, %signal, items, "sending queue refused data");
                target.counters.enqueue_failed(signal, item.items);
            }
        }
        // The pipeline's own copy is done: the exporters' copies decide the outcome.
        finalizers.update(DeliveryStatus::Delivered);
    }
}

//! Envelopes and drop-based delivery acknowledgement.
//!
//! An [`Envelope`] carries a [`Batch`] through a pipeline together with its
//! [`Finalizers`]. A receiver that wants to answer only after delivery (end-to-end
//! acknowledgement) creates a [`BatchNotifier`] with [`Finalizers::with_receipt`] and
//! awaits the returned [`Receipt`]. Every copy of the data (fanout, split) holds its own
//! [`EventFinalizer`] pointing at the same notifier; when the last copy is dropped the
//! notifier resolves with the worst status any copy reported. A copy dropped without an
//! explicit status counts as [`DeliveryStatus::Errored`]: data that is lost by accident is
//! never acknowledged. A component that drops data *on purpose* (a filter) marks it
//! [`DeliveryStatus::Delivered`] first.

use harrier_pdata::Batch;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use tokio::sync::oneshot;

/// The outcome of delivering one copy of some data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum DeliveryStatus {
    /// Handed to every destination (or intentionally dropped).
    Delivered = 1,
    /// Failed permanently, timed out, or was lost before delivery.
    Errored = 2,
    /// Refused by a destination (e.g. its queue was full in `drop` mode).
    Rejected = 3,
}

const UNSET: u8 = 0;

impl DeliveryStatus {
    fn from_u8(v: u8) -> DeliveryStatus {
        match v {
            1 => DeliveryStatus::Delivered,
            3 => DeliveryStatus::Rejected,
            _ => DeliveryStatus::Errored,
        }
    }
}

/// Collects the statuses of every copy of one received request and reports the worst
/// when the last copy is gone.
#[derive(Debug)]
pub struct BatchNotifier {
    worst: AtomicU8,
    tx: Mutex<Option<oneshot::Sender<DeliveryStatus>>>,
}

impl BatchNotifier {
    fn update(&self, status: DeliveryStatus) {
        self.worst.fetch_max(status as u8, Ordering::AcqRel);
    }
}

impl Drop for BatchNotifier {
    fn drop(&mut self) {
        let status = DeliveryStatus::from_u8(self.worst.load(Ordering::Acquire));
        if let Ok(mut slot) = self.tx.lock()
            && let Some(tx) = slot.take()
        {
            // The receiver may have stopped waiting; that is fine.
            let _ = tx.send(status);
        }
    }
}

/// One copy's handle on a notifier. Reports its status to the notifier when dropped.
#[derive(Debug)]
pub struct EventFinalizer {
    status: AtomicU8,
    notifier: Arc<BatchNotifier>,
}

impl EventFinalizer {
    fn new(notifier: Arc<BatchNotifier>) -> EventFinalizer {
        EventFinalizer {
            status: AtomicU8::new(UNSET),
            notifier,
        }
    }
}

impl Drop for EventFinalizer {
    fn drop(&mut self) {
        let status = match self.status.load(Ordering::Acquire) {
            UNSET => DeliveryStatus::Errored,
            v => DeliveryStatus::from_u8(v),
        };
        self.notifier.update(status);
    }
}

/// Resolves with the delivery status of a request once every copy is finalized.
pub type Receipt = oneshot::Receiver<DeliveryStatus>;

/// The finalizers attached to one envelope (several after batches are merged).
#[derive(Debug, Default)]
pub struct Finalizers(Vec<EventFinalizer>);

impl Finalizers {
    /// No acknowledgement wanted.
    pub fn none() -> Finalizers {
        Finalizers(Vec::new())
    }

    /// A fresh notifier: the receipt resolves when every copy is finalized.
    pub fn with_receipt() -> (Finalizers, Receipt) {
        let (tx, rx) = oneshot::channel();
        let notifier = Arc::new(BatchNotifier {
            worst: AtomicU8::new(DeliveryStatus::Delivered as u8),
            tx: Mutex::new(Some(tx)),
        });
        (Finalizers(vec![EventFinalizer::new(notifier)]), rx)
    }

    /// Whether nothing waits for this data.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records the outcome for this copy (the worst status wins).
    pub fn update(&self, status: DeliveryStatus) {
        for f in &self.0 {
            f.status.fetch_max(status as u8, Ordering::AcqRel);
        }
    }

    /// A new, independent copy's finalizers for the same notifiers (fanout, split):
    /// each copy must be finalized for the notifier to resolve.
    pub fn fork(&self) -> Finalizers {
        Finalizers(
            self.0
                .iter()
                .map(|f| EventFinalizer::new(Arc::clone(&f.notifier)))
                .collect(),
        )
    }

    /// Takes over `other`'s finalizers (merging batches).
    pub fn merge(&mut self, mut other: Finalizers) {
        self.0.append(&mut other.0);
    }
}

/// A batch moving through a pipeline with its finalizers and a size hint.
#[derive(Debug)]
pub struct Envelope {
    /// The telemetry.
    pub batch: Batch,
    /// Delivery acknowledgement handles.
    pub finalizers: Finalizers,
    /// Approximate encoded size in bytes (the wire size for freshly received data).
    pub byte_size: usize,
}

impl Envelope {
    /// Wraps a batch without acknowledgement, measuring its encoded size.
    pub fn new(batch: Batch) -> Envelope {
        let byte_size = batch.byte_size();
        Envelope {
            batch,
            finalizers: Finalizers::none(),
            byte_size,
        }
    }

    /// Wraps a batch whose encoded size is already known (e.g. the request body length).
    pub fn with_size(batch: Batch, finalizers: Finalizers, byte_size: usize) -> Envelope {
        Envelope {
            batch,
            finalizers,
            byte_size,
        }
    }

    /// An independent deep copy (for a second pipeline, which may mutate its copy).
    pub fn fork(&self) -> Envelope {
        Envelope {
            batch: self.batch.clone(),
            finalizers: self.finalizers.fork(),
            byte_size: self.byte_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harrier_pdata::Signal;

    #[tokio::test]
    async fn receipt_waits_for_every_copy() {
        let (fin, mut receipt) = Finalizers::with_receipt();
        let copy = fin.fork();
        fin.update(DeliveryStatus::Delivered);
        drop(fin);
        assert!(receipt.try_recv().is_err(), "one copy is still in flight");
        copy.update(DeliveryStatus::Delivered);
        drop(copy);
        assert_eq!(receipt.await.ok(), Some(DeliveryStatus::Delivered));
    }

    #[tokio::test]
    async fn dropped_without_status_is_an_error() {
        let (fin, receipt) = Finalizers::with_receipt();
        let copy = fin.fork();
        fin.update(DeliveryStatus::Delivered);
        drop(fin);
        drop(copy);
        assert_eq!(receipt.await.ok(), Some(DeliveryStatus::Errored));
    }

    #[tokio::test]
    async fn worst_status_wins_across_merges() {
        let (a, ra) = Finalizers::with_receipt();
        let (b, rb) = Finalizers::with_receipt();
        let mut merged = Finalizers::none();
        merged.merge(a);
        merged.merge(b);
        let env = Envelope::with_size(Batch::empty(Signal::Logs), merged, 0);
        env.finalizers.update(DeliveryStatus::Rejected);
        env.finalizers.update(DeliveryStatus::Delivered);
        drop(env);
        assert_eq!(ra.await.ok(), Some(DeliveryStatus::Rejected));
        assert_eq!(rb.await.ok(), Some(DeliveryStatus::Rejected));
    }
}

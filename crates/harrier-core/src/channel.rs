//! Bounded channels that join Harrier's tasks.
//!
//! A channel is bounded three ways at once: in messages (batches), in items (spans, data
//! points, log records) and in bytes. A sender waits until every bound has room; the
//! room is given back the moment the receiver takes the message, so
//! [`ChannelStats::items`] is exactly what is queued. A single message larger than a
//! bound still passes when the channel is otherwise empty (it takes the whole bound),
//! so an oversize batch slows the flow instead of deadlocking it.

use crate::envelope::Envelope;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};

/// Something that can be measured in items and bytes.
pub trait Weighted {
    /// Items (spans, data points, log records).
    fn items(&self) -> usize;
    /// Approximate bytes.
    fn bytes(&self) -> usize;
}

impl Weighted for Envelope {
    fn items(&self) -> usize {
        self.batch.item_count()
    }
    fn bytes(&self) -> usize {
        self.byte_size
    }
}

/// The bounds of a channel. `None` means that dimension is bounded only by the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum messages queued.
    pub max_messages: usize,
    /// Maximum items queued.
    pub max_items: Option<usize>,
    /// Maximum bytes queued.
    pub max_bytes: Option<usize>,
}

/// The send half was used after the receiver went away.
#[derive(Debug, thiserror::Error)]
#[error("channel closed")]
pub struct Closed<T>(pub T);

/// Why [`Sender::try_send`] did not send.
#[derive(Debug, thiserror::Error)]
pub enum TrySendError<T> {
    /// No room now.
    #[error("channel full")]
    Full(T),
    /// The receiver is gone.
    #[error("channel closed")]
    Closed(T),
}

struct Bound {
    sem: Arc<Semaphore>,
    capacity: usize,
}

impl Bound {
    fn new(capacity: usize) -> Bound {
        let capacity = capacity.clamp(1, u32::MAX as usize);
        Bound {
            sem: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }
    fn cost(&self, weight: usize) -> u32 {
        // Bounded by `capacity`, which fits u32.
        weight.clamp(1, self.capacity) as u32
    }
    fn used(&self) -> usize {
        self.capacity.saturating_sub(self.sem.available_permits())
    }
}

struct Shared {
    items: Option<Bound>,
    bytes: Option<Bound>,
    max_messages: usize,
}

/// What a message holds of the channel's room; released when the receiver takes it.
struct Permits {
    _items: Option<OwnedSemaphorePermit>,
    _bytes: Option<OwnedSemaphorePermit>,
}

/// Current occupancy of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages queued.
    pub messages: usize,
    /// Items queued (exact when the channel is bounded in items).
    pub items: usize,
    /// Bytes queued (exact when bounded in bytes).
    pub bytes: usize,
}

/// The sending half. Cheap to clone.
pub struct Sender<T> {
    tx: mpsc::Sender<(T, Permits)>,
    shared: Arc<Shared>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The receiving half.
pub struct Receiver<T> {
    rx: mpsc::Receiver<(T, Permits)>,
    shared: Arc<Shared>,
}

/// Creates a bounded channel.
pub fn bounded<T: Weighted>(limits: Limits) -> (Sender<T>, Receiver<T>) {
    let max_messages = limits.max_messages.max(1);
    let (tx, rx) = mpsc::channel(max_messages);
    let shared = Arc::new(Shared {
        items: limits.max_items.map(Bound::new),
        bytes: limits.max_bytes.map(Bound::new),
        max_messages,
    });
    (
        Sender {
            tx,
            shared: Arc::clone(&shared),
        },
        Receiver { rx, shared },
    )
}

fn stats(shared: &Shared, queued_messages: usize) -> ChannelStats {
    ChannelStats {
        messages: queued_messages,
        items: shared.items.as_ref().map_or(0, Bound::used),
        bytes: shared.bytes.as_ref().map_or(0, Bound::used),
    }
}

impl<T: Weighted> Sender<T> {
    /// Sends, waiting for room in every bound.
    ///
    /// # Errors
    /// Returns the message back if the receiver is gone.
    pub async fn send(&self, msg: T) -> Result<(), Closed<T>> {
        let items = match &self.shared.items {
            Some(b) => match Arc::clone(&b.sem)
                .acquire_many_owned(b.cost(msg.items()))
                .await
            {
                Ok(p) => Some(p),
                Err(_) => return Err(Closed(msg)),
            },
            None => None,
        };
        let bytes = match &self.shared.bytes {
            Some(b) => match Arc::clone(&b.sem)
                .acquire_many_owned(b.cost(msg.bytes()))
                .await
            {
                Ok(p) => Some(p),
                Err(_) => return Err(Closed(msg)),
            },
            None => None,
        };
        let permits = Permits {
            _items: items,
            _bytes: bytes,
        };
        self.tx
            .send((msg, permits))
            .await
            .map_err(|e| Closed((e.0).0))
    }

    /// Sends only if every bound has room now.
    ///
    /// # Errors
    /// [`TrySendError::Full`] when a bound is reached, [`TrySendError::Closed`] when the
    /// receiver is gone; the message is returned either way.
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let items = match try_acquire(self.shared.items.as_ref(), msg.items()) {
            Ok(p) => p,
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(msg)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(msg)),
        };
        let bytes = match try_acquire(self.shared.bytes.as_ref(), msg.bytes()) {
            Ok(p) => p,
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(msg)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(msg)),
        };
        let permits = Permits {
            _items: items,
            _bytes: bytes,
        };
        self.tx.try_send((msg, permits)).map_err(|e| match e {
            mpsc::error::TrySendError::Full((m, _)) => TrySendError::Full(m),
            mpsc::error::TrySendError::Closed((m, _)) => TrySendError::Closed(m),
        })
    }

    /// Current occupancy.
    pub fn stats(&self) -> ChannelStats {
        let queued = self.shared.max_messages - self.tx.capacity();
        stats(&self.shared, queued)
    }

    /// The bounds this channel was made with.
    pub fn limits(&self) -> Limits {
        Limits {
            max_messages: self.shared.max_messages,
            max_items: self.shared.items.as_ref().map(|b| b.capacity),
            max_bytes: self.shared.bytes.as_ref().map(|b| b.capacity),
        }
    }

    /// A handle that reads occupancy without keeping the channel open (for gauges).
    pub fn stats_handle(&self) -> StatsHandle<T> {
        StatsHandle {
            tx: self.tx.downgrade(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Reads a channel's occupancy without keeping it open.
pub struct StatsHandle<T> {
    tx: mpsc::WeakSender<(T, Permits)>,
    shared: Arc<Shared>,
}

impl<T> StatsHandle<T> {
    /// Current occupancy (all zero once the channel is closed).
    pub fn stats(&self) -> ChannelStats {
        let queued = self
            .tx
            .upgrade()
            .map_or(0, |tx| self.shared.max_messages - tx.capacity());
        stats(&self.shared, queued)
    }
}

fn try_acquire(
    bound: Option<&Bound>,
    weight: usize,
) -> Result<Option<OwnedSemaphorePermit>, TryAcquireError> {
    match bound {
        Some(b) => Arc::clone(&b.sem)
            .try_acquire_many_owned(b.cost(weight))
            .map(Some),
        None => Ok(None),
    }
}

impl<T> Receiver<T> {
    /// Receives the next message; `None` once every sender is dropped and the channel
    /// is drained. Taking a message frees its room.
    pub async fn recv(&mut self) -> Option<T> {
        self.rx.recv().await.map(|(msg, _permits)| msg)
    }

    /// Receives a message if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        self.rx.try_recv().ok().map(|(msg, _permits)| msg)
    }

    /// Stops accepting new messages; queued ones can still be received.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Current occupancy.
    pub fn stats(&self) -> ChannelStats {
        stats(&self.shared, self.rx.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct Item(usize, usize);
    impl Weighted for Item {
        fn items(&self) -> usize {
            self.0
        }
        fn bytes(&self) -> usize {
            self.1
        }
    }

    fn limits(messages: usize, items: Option<usize>, bytes: Option<usize>) -> Limits {
        Limits {
            max_messages: messages,
            max_items: items,
            max_bytes: bytes,
        }
    }

    #[tokio::test]
    async fn bounded_in_items() {
        let (tx, mut rx) = bounded::<Item>(limits(100, Some(10), None));
        tx.try_send(Item(6, 0)).ok().unwrap();
        assert!(matches!(
            tx.try_send(Item(5, 0)),
            Err(TrySendError::Full(_))
        ));
        tx.try_send(Item(4, 0)).ok().unwrap();
        assert_eq!(tx.stats().items, 10);
        assert_eq!(tx.stats().messages, 2);
        // A blocked sender proceeds once the receiver frees room.
        let tx2 = tx.clone();
        let pending = tokio::spawn(async move { tx2.send(Item(5, 0)).await.is_ok() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!pending.is_finished());
        assert_eq!(rx.recv().await.map(|i| i.0), Some(6));
        assert!(pending.await.unwrap());
        assert_eq!(rx.stats().items, 9);
    }

    #[tokio::test]
    async fn bounded_in_bytes_and_messages() {
        let (tx, _rx) = bounded::<Item>(limits(2, None, Some(100)));
        tx.try_send(Item(1, 60)).ok().unwrap();
        assert!(matches!(
            tx.try_send(Item(1, 50)),
            Err(TrySendError::Full(_))
        ));
        tx.try_send(Item(1, 40)).ok().unwrap();
        let (tx, _rx) = bounded::<Item>(limits(2, None, None));
        tx.try_send(Item(1, 1)).ok().unwrap();
        tx.try_send(Item(1, 1)).ok().unwrap();
        assert!(matches!(
            tx.try_send(Item(1, 1)),
            Err(TrySendError::Full(_))
        ));
    }

    #[tokio::test]
    async fn oversize_message_passes_alone() {
        let (tx, mut rx) = bounded::<Item>(limits(10, Some(10), None));
        tx.send(Item(50, 0)).await.ok().unwrap();
        assert_eq!(tx.stats().items, 10);
        assert!(matches!(
            tx.try_send(Item(1, 0)),
            Err(TrySendError::Full(_))
        ));
        assert_eq!(rx.recv().await.map(|i| i.0), Some(50));
        assert_eq!(tx.stats().items, 0);
    }

    #[tokio::test]
    async fn closes_when_senders_drop() {
        let (tx, mut rx) = bounded::<Item>(limits(10, Some(10), None));
        tx.send(Item(1, 0)).await.ok().unwrap();
        drop(tx);
        assert!(rx.recv().await.is_some());
        assert!(rx.recv().await.is_none());
    }
}

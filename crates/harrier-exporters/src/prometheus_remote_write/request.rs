//! Cutting converted series into remote-write requests no larger than
//! `max_batch_size_bytes` (uncompressed), and remembering which requests of a
//! partly delivered batch already went through so that a retry does not resend them.
//!
//! A series is never split across requests (its samples must stay in timestamp order),
//! so a single series larger than the limit is sent alone.

use super::proto::{MetricMetadata, TimeSeries, WriteRequest};
use prost::Message;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

/// The encoded size of one length-delimited field holding `len` bytes (field numbers
/// 1 and 3 take a one-byte key).
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Packs `series` then `metadata` into requests whose encoding stays within
/// `max_bytes`, in order; an item larger than `max_bytes` gets a request of its own.
pub(crate) fn split_requests(
    series: Vec<TimeSeries>,
    metadata: Vec<MetricMetadata>,
    max_bytes: usize,
) -> Vec<WriteRequest> {
    let mut requests = Vec::new();
    let mut current = WriteRequest::default();
    let mut size = 0usize;
    let mut start_new_if_full = |current: &mut WriteRequest, size: &mut usize, item: usize| {
        if *size > 0 && size.saturating_add(item) > max_bytes {
            requests.push(std::mem::take(current));
            *size = 0;
        }
        *size += item;
    };
    for one in series {
        start_new_if_full(&mut current, &mut size, field_len(one.encoded_len()));
        current.timeseries.push(one);
    }
    for one in metadata {
        start_new_if_full(&mut current, &mut size, field_len(one.encoded_len()));
        current.metadata.push(one);
    }
    if size > 0 {
        requests.push(current);
    }
    requests
}

/// How many delivered request digests are remembered for retries.
const REMEMBERED_DIGESTS: usize = 4096;

/// Digests of the requests of batches still being delivered: a request is remembered as
/// soon as the server accepted it and forgotten when its batch's attempt ends with
/// success or a permanent failure. An attempt that fails retryably (or is cut by the
/// runner's timeout) leaves them, so the retry of the same batch skips what already went
/// through. This matters: Prometheus accepts an exact duplicate only of a series' latest
/// sample, so resending a delivered request can be refused as out of order.
///
/// Skipping by content is safe even across batches: a request with the same bytes holds
/// the same samples, which the server already has. The memory is bounded; the oldest
/// digests go first.
pub(crate) struct DeliveredRequests {
    hasher: RandomState,
    digests: Mutex<(VecDeque<u64>, HashSet<u64>)>,
}

impl DeliveredRequests {
    /// Remembers nothing yet.
    pub(crate) fn new() -> Self {
        DeliveredRequests {
            hasher: RandomState::new(),
            digests: Mutex::new((VecDeque::new(), HashSet::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (VecDeque<u64>, HashSet<u64>)> {
        self.digests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The digest of an encoded request.
    pub(crate) fn digest(&self, encoded: &[u8]) -> u64 {
        self.hasher.hash_one(encoded)
    }

    /// Whether a request with `digest` was delivered and its batch is not finished.
    pub(crate) fn contains(&self, digest: u64) -> bool {
        self.lock().1.contains(&digest)
    }

    /// Remembers a delivered request, forgetting the oldest beyond the bound.
    pub(crate) fn remember(&self, digest: u64) {
        let mut guard = self.lock();
        let (order, set) = &mut *guard;
        if set.insert(digest) {
            order.push_back(digest);
        }
        while order.len() > REMEMBERED_DIGESTS {
            if let Some(oldest) = order.pop_front() {
                set.remove(&oldest);
            }
        }
    }

    /// Forgets the requests of a finished batch.
    pub(crate) fn forget(&self, digests: &[u64]) {
        if digests.is_empty() {
            return;
        }
        let mut guard = self.lock();
        let (order, set) = &mut *guard;
        for digest in digests {
            set.remove(digest);
        }
        order.retain(|d| set.contains(d));
    }
}

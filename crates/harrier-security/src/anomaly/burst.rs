//! `rbac_denied_burst`: per identity, a sliding event-time window of denials.
//!
//! A burst is `threshold` denials, or `distinct` different denied (verb, resource)
//! pairs, by one identity within `window`. It fires once per window per identity: after
//! firing, the identity stays quiet until `window` has passed in event time. Each
//! identity keeps at most `max(threshold, distinct)` denials (the oldest go first),
//! which is enough to decide both conditions; identities are bounded by `max_entities`
//! with least-recently-used eviction.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

/// What a burst looked like when it fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// Denials in the window, this one included.
    pub denials: usize,
    /// Distinct denied (verb, resource) pairs in the window.
    pub distinct: usize,
}

#[derive(Debug, Default)]
struct Window {
    denials: VecDeque<(u64, String)>,
    last_fired: Option<u64>,
    tick: u64,
}

/// Denial windows of every identity.
#[derive(Debug)]
pub struct BurstTracker {
    window: u64,
    threshold: usize,
    distinct: usize,
    max_entities: usize,
    identities: HashMap<String, Window>,
    order: BTreeMap<u64, String>,
    next_tick: u64,
    evictions: u64,
}

impl BurstTracker {
    /// An empty tracker.
    pub fn new(
        window: Duration,
        threshold: usize,
        distinct: usize,
        max_entities: usize,
    ) -> BurstTracker {
        BurstTracker {
            window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            threshold: threshold.max(1),
            distinct: distinct.max(1),
            max_entities: max_entities.max(1),
            identities: HashMap::new(),
            order: BTreeMap::new(),
            next_tick: 0,
            evictions: 0,
        }
    }

    /// Identities held.
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Whether no identity is held.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// Identities evicted for room since the last call.
    pub fn take_evictions(&mut self) -> u64 {
        std::mem::take(&mut self.evictions)
    }

    /// Records a denial of `what` (verb and resource) by `identity` at `now`; returns
    /// the burst when this denial completes one.
    pub fn record(&mut self, identity: &str, what: &str, now: u64) -> Option<Burst> {
        let tick = self.next_tick;
        self.next_tick += 1;
        if !self.identities.contains_key(identity) {
            while self.identities.len() >= self.max_entities {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.identities.remove(&oldest);
                self.evictions += 1;
            }
            self.identities
                .insert(identity.to_string(), Window::default());
        } else if let Some(w) = self.identities.get(identity) {
            self.order.remove(&w.tick);
        }
        self.order.insert(tick, identity.to_string());
        let w = self.identities.get_mut(identity)?;
        w.tick = tick;
        let start = now.saturating_sub(self.window);
        w.denials.retain(|(t, _)| *t > start);
        let capacity = self.threshold.max(self.distinct);
        if w.denials.len() >= capacity {
            w.denials.pop_front();
        }
        w.denials.push_back((now, what.to_string()));
        let denials = w.denials.len();
        let mut kinds: Vec<&str> = w.denials.iter().map(|(_, k)| k.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let distinct = kinds.len();
        if denials < self.threshold && distinct < self.distinct {
            return None;
        }
        if w.last_fired
            .is_some_and(|t| now.saturating_sub(t) < self.window)
        {
            return None;
        }
        w.last_fired = Some(now);
        Some(Burst { denials, distinct })
    }
}

//! Drops repeated audit events: the same `(k8s.audit.id, k8s.audit.stage)` seen again
//! within `window` (event time) while fewer than `capacity` newer pairs were seen.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Joins id and stage in a key (a control character, never in either).
const SEPARATOR: char = '\u{1f}';

/// A bounded, time-windowed set of `(audit id, stage)` pairs.
#[derive(Debug)]
pub struct Dedupe {
    window: u64,
    capacity: usize,
    /// Key -> event time it was first seen.
    seen: HashMap<String, u64>,
    /// Keys in arrival order, for expiry and the capacity bound.
    arrival: VecDeque<(u64, String)>,
}

impl Dedupe {
    /// An empty set.
    pub fn new(window: Duration, capacity: usize) -> Dedupe {
        Dedupe {
            window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            capacity: capacity.max(1),
            seen: HashMap::new(),
            arrival: VecDeque::new(),
        }
    }

    /// Pairs held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no pair is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// `true` when `(id, stage)` was already seen (a duplicate); otherwise remembers it.
    pub fn check(&mut self, id: &str, stage: &str, now: u64) -> bool {
        let start = now.saturating_sub(self.window);
        while let Some((t, _)) = self.arrival.front() {
            if *t >= start && self.arrival.len() < self.capacity {
                break;
            }
            if let Some((_, key)) = self.arrival.pop_front() {
                self.seen.remove(&key);
            }
        }
        let key = format!("{id}{SEPARATOR}{stage}");
        if let Some(first) = self.seen.get(&key) {
            if now.saturating_sub(*first) < self.window {
                return true;
            }
            // Older than the window (events out of order): treat as new.
            self.seen.remove(&key);
            self.arrival.retain(|(_, k)| *k != key);
        }
        self.seen.insert(key.clone(), now);
        self.arrival.push_back((now, key));
        false
    }

    /// The remembered pairs, oldest first, as `(id, stage, event time)`.
    pub fn export(&self) -> Vec<(String, String, u64)> {
        self.arrival
            .iter()
            .filter_map(|(t, key)| {
                let (id, stage) = key.split_once(SEPARATOR)?;
                Some((id.to_string(), stage.to_string(), *t))
            })
            .collect()
    }

    /// Remembers pairs exported earlier (oldest first), within the capacity.
    pub fn import(&mut self, pairs: Vec<(String, String, u64)>) {
        let skip = pairs.len().saturating_sub(self.capacity);
        for (id, stage, t) in pairs.into_iter().skip(skip) {
            let key = format!("{id}{SEPARATOR}{stage}");
            if self.seen.insert(key.clone(), t).is_none() {
                self.arrival.push_back((t, key));
            }
        }
        while self.arrival.len() > self.capacity {
            if let Some((_, key)) = self.arrival.pop_front() {
                self.seen.remove(&key);
            }
        }
    }
}

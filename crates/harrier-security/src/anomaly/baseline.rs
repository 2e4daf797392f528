//! A "new value" baseline: per entity, the set of values seen, with a learning period
//! and forgetting, in event time (nanoseconds since the Unix epoch).
//!
//! The semantics follow the "new value" detection method of SIEMs such as Datadog's:
//! an entity's values are learned silently for `learning_period` after the entity is
//! first seen; afterwards a value not in the set is *new*. A value not seen for
//! `forget_after` is forgotten (seeing it again counts as new), and so is an entity not
//! seen for `forget_after` (its learning period starts over). The first value of a new
//! entity is always learned silently, even with a zero learning period.
//!
//! Memory is bounded: at most `max_entities` entities (the least recently touched one
//! is evicted, and counted) and `max_values` values per entity (the least recently
//! seen value is dropped).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A baseline's entities as exported for a snapshot: key and state, least recently
/// touched first.
pub type Exported = Vec<(String, Entity)>;

/// What [`Baseline::observe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The value is known (and was refreshed).
    Known,
    /// The value is new, but the entity is still learning (or was just created).
    Learning,
    /// The value is new after the learning period; `history` is how long the entity
    /// has been observed.
    Novel {
        /// Event time since the entity was first seen.
        history: Duration,
    },
}

/// One entity's learned values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Event time the entity was first seen (ns).
    pub first_seen: u64,
    /// Latest event time the entity was seen (ns).
    pub last_seen: u64,
    /// Value -> latest event time it was seen (ns).
    pub values: HashMap<String, u64>,
    #[serde(skip)]
    tick: u64,
}

/// One detector's baseline: entities by key, least recently touched evicted first.
#[derive(Debug)]
pub struct Baseline {
    learning_period: u64,
    forget_after: u64,
    max_entities: usize,
    max_values: usize,
    entities: HashMap<Arc<str>, Entity>,
    /// Touch order: tick -> entity key (the key shared with `entities`).
    order: BTreeMap<u64, Arc<str>>,
    next_tick: u64,
    evictions: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Baseline {
    /// An empty baseline.
    pub fn new(
        learning_period: Duration,
        forget_after: Duration,
        max_entities: usize,
        max_values: usize,
    ) -> Baseline {
        Baseline {
            learning_period: nanos(learning_period),
            forget_after: nanos(forget_after),
            max_entities: max_entities.max(1),
            max_values: max_values.max(1),
            entities: HashMap::new(),
            order: BTreeMap::new(),
            next_tick: 0,
            evictions: 0,
        }
    }

    /// Entities held.
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// Whether no entity is held.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Entities evicted for room since the last call (the caller counts them).
    pub fn take_evictions(&mut self) -> u64 {
        std::mem::take(&mut self.evictions)
    }

    /// The entity `key`, if held (for tests and tools).
    pub fn entity(&self, key: &str) -> Option<&Entity> {
        self.entities.get(key)
    }

    fn expired(&self, last_seen: u64, now: u64) -> bool {
        now.saturating_sub(last_seen) >= self.forget_after
    }

    /// Records `value` for `entity` at event time `now` and says whether it is new.
    pub fn observe(&mut self, entity: &str, value: &str, now: u64) -> Observation {
        self.observe_known_since(entity, value, now, None)
    }

    /// When `entity` was first seen, if it is held.
    pub fn first_seen(&self, entity: &str) -> Option<u64> {
        self.entities.get(entity).map(|e| e.first_seen)
    }

    /// Like [`Baseline::observe`], for an entity known elsewhere since `known_since`
    /// (e.g. an identity seen in other baselines): a first value of such an entity is
    /// judged against that history instead of being learned silently. So an identity
    /// active for days that execs into a pod for the first time is novel, even though
    /// it had no exec history.
    pub fn observe_known_since(
        &mut self,
        entity: &str,
        value: &str,
        now: u64,
        known_since: Option<u64>,
    ) -> Observation {
        let tick = self.next_tick;
        self.next_tick += 1;
        let forget_after = self.forget_after;
        let stale = self
            .entities
            .get(entity)
            .is_some_and(|e| now.saturating_sub(e.last_seen) >= forget_after);
        if stale {
            self.remove(entity);
        }
        let Some(state) = self.entities.get_mut(entity) else {
            self.insert(entity, value, now, tick);
            if let Some(since) = known_since.filter(|s| *s <= now) {
                if let Some(e) = self.entities.get_mut(entity) {
                    e.first_seen = since;
                }
                let history = now - since;
                if history >= self.learning_period {
                    return Observation::Novel {
                        history: Duration::from_nanos(history),
                    };
                }
            }
            return Observation::Learning;
        };
        let key = self
            .order
            .remove(&state.tick)
            .unwrap_or_else(|| Arc::from(entity));
        self.order.insert(tick, key);
        state.tick = tick;
        state.last_seen = state.last_seen.max(now);
        let first_seen = state.first_seen;
        if let Some(seen) = state.values.get_mut(value) {
            let forgotten = now.saturating_sub(*seen) >= forget_after;
            *seen = (*seen).max(now);
            if !forgotten {
                return Observation::Known;
            }
        } else {
            if state.values.len() >= self.max_values
                && let Some(oldest) = state
                    .values
                    .iter()
                    .min_by_key(|(_, t)| **t)
                    .map(|(v, _)| v.clone())
            {
                state.values.remove(&oldest);
            }
            state.values.insert(value.to_string(), now);
        }
        let history = now.saturating_sub(first_seen);
        if history >= self.learning_period {
            Observation::Novel {
                history: Duration::from_nanos(history),
            }
        } else {
            Observation::Learning
        }
    }

    fn insert(&mut self, key: &str, value: &str, now: u64, tick: u64) {
        while self.entities.len() >= self.max_entities {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entities.remove(&oldest);
            self.evictions += 1;
        }
        let mut values = HashMap::new();
        values.insert(value.to_string(), now);
        let key: Arc<str> = Arc::from(key);
        self.order.insert(tick, Arc::clone(&key));
        self.entities.insert(
            key,
            Entity {
                first_seen: now,
                last_seen: now,
                values,
                tick,
            },
        );
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entities.remove(key) {
            self.order.remove(&e.tick);
        }
    }

    /// Drops values and entities not seen for `forget_after` before `now`.
    pub fn forget_before(&mut self, now: u64) {
        let expired: Vec<Arc<str>> = self
            .entities
            .iter()
            .filter(|(_, e)| self.expired(e.last_seen, now))
            .map(|(k, _)| Arc::clone(k))
            .collect();
        for key in expired {
            self.remove(&key);
        }
        let forget_after = self.forget_after;
        for entity in self.entities.values_mut() {
            entity
                .values
                .retain(|_, seen| now.saturating_sub(*seen) < forget_after);
        }
    }

    /// The entities, least recently touched first (the snapshot order).
    pub fn export(&self) -> Exported {
        self.order
            .values()
            .filter_map(|k| self.entities.get(k).map(|e| (k.to_string(), e.clone())))
            .collect()
    }

    /// Replaces the content with `entities` (least recently touched first), keeping
    /// the bounds: extra entities (the oldest) and values are dropped.
    pub fn import(&mut self, entities: Exported) {
        self.entities.clear();
        self.order.clear();
        let skip = entities.len().saturating_sub(self.max_entities);
        for (key, mut entity) in entities.into_iter().skip(skip) {
            if entity.values.len() > self.max_values {
                let mut by_age: Vec<(String, u64)> = entity.values.drain().collect();
                by_age.sort_by_key(|e| std::cmp::Reverse(e.1));
                by_age.truncate(self.max_values);
                entity.values = by_age.into_iter().collect();
            }
            entity.tick = self.next_tick;
            self.next_tick += 1;
            let key: Arc<str> = Arc::from(key);
            self.order.insert(entity.tick, Arc::clone(&key));
            if let Some(old) = self.entities.insert(key, entity) {
                self.order.remove(&old.tick);
            }
        }
    }
}

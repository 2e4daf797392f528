//! The stateful detectors: every baseline of one `anomaly` processor id and the rules
//! that turn observations into [`Finding`]s.
//!
//! One [`Engine`] is shared (behind a mutex) by every pipeline the processor is listed
//! in. Its inputs are views of single items with their event time in nanoseconds:
//! [`Engine::audit`] (audit events), [`Engine::runtime`] (runtime events),
//! [`Engine::flow`] (flow records) and [`Engine::client_span`] (spans of kind CLIENT).
//!
//! The detectors themselves live in `engine/audit.rs` (audit events) and
//! `engine/traffic.rs` (runtime events, flows, client spans); this file holds the state
//! and its snapshot.

mod audit;
mod traffic;

use super::baseline::{Baseline, Exported, Observation};
use super::burst::BurstTracker;
use super::config::{
    AnomalyConfig, BASELINES, DetectorSettings, DetectorTable, NOVEL_API_CALL, NOVEL_SOURCE,
    RBAC_DENIED_BURST,
};
use super::dedupe::Dedupe;
use crate::audit::AuditView;
use crate::finding::Severity;
use std::collections::BTreeMap;

/// What [`Engine::export`] gives and [`Engine::import`] takes.
#[derive(Debug, Default)]
pub struct EngineState {
    /// The latest event time seen (ns).
    pub watermark: u64,
    /// Per detector, its entities least recently touched first.
    pub baselines: BTreeMap<String, Exported>,
    /// Remembered audit `(id, stage)` pairs with the event time they were seen.
    pub dedupe: Vec<(String, String, u64)>,
}

/// Every baseline and window of one processor id.
#[derive(Debug)]
pub struct Engine {
    settings: DetectorTable,
    baselines: BTreeMap<&'static str, Baseline>,
    burst: BurstTracker,
    dedupe: Dedupe,
    /// The latest event time seen, used to forget expired values at snapshot time.
    watermark: u64,
    /// Whether something changed since the last snapshot.
    dirty: bool,
}

impl Engine {
    /// Empty baselines for `config` (already validated: `settings` has every detector).
    pub fn new(config: &AnomalyConfig, settings: DetectorTable) -> Engine {
        let baselines = BASELINES
            .iter()
            .map(|name| {
                let s = settings.get(name).cloned().unwrap_or_default();
                (
                    *name,
                    Baseline::new(
                        s.learning_period,
                        s.forget_after,
                        config.max_entities,
                        config.max_values_per_entity,
                    ),
                )
            })
            .collect();
        let b = settings.get(RBAC_DENIED_BURST).cloned().unwrap_or_default();
        Engine {
            burst: BurstTracker::new(
                b.window,
                b.threshold,
                b.distinct_resources,
                config.max_entities,
            ),
            dedupe: Dedupe::new(config.dedupe_window, config.dedupe_capacity),
            settings,
            baselines,
            watermark: 0,
            dirty: false,
        }
    }

    fn settings(&self, name: &str) -> Option<&DetectorSettings> {
        self.settings.get(name).filter(|s| s.enabled)
    }

    fn enabled(&self, name: &str) -> bool {
        self.settings(name).is_some()
    }

    fn severity(&self, name: &str, default: Severity) -> Severity {
        self.settings(name)
            .and_then(|s| s.severity)
            .unwrap_or(default)
    }

    fn observe(&mut self, detector: &str, entity: &str, value: &str, now: u64) -> Observation {
        self.dirty = true;
        match self.baselines.get_mut(detector) {
            Some(baseline) => baseline.observe(entity, value, now),
            None => Observation::Known,
        }
    }

    /// Like `observe`, for an entity known elsewhere since `known_since`.
    fn observe_known_since(
        &mut self,
        detector: &str,
        entity: &str,
        value: &str,
        now: u64,
        known_since: Option<u64>,
    ) -> Observation {
        self.dirty = true;
        match self.baselines.get_mut(detector) {
            Some(baseline) => baseline.observe_known_since(entity, value, now, known_since),
            None => Observation::Known,
        }
    }

    /// When an identity was first seen by any audit baseline (API calls, sources).
    fn identity_since(&self, user: &str) -> Option<u64> {
        [NOVEL_API_CALL, NOVEL_SOURCE]
            .iter()
            .filter_map(|d| self.baselines.get(d).and_then(|b| b.first_seen(user)))
            .min()
    }

    fn tick(&mut self, now: u64) {
        self.watermark = self.watermark.max(now);
    }

    /// Whether this audit event's `(id, stage)` was already evaluated.
    pub fn is_duplicate(&mut self, event: &AuditView<'_>, now: u64) -> bool {
        match (event.audit_id(), event.stage()) {
            (Some(id), Some(stage)) => {
                let duplicate = self.dedupe.check(id, stage, now);
                // A new pair is state worth saving (a re-read batch must stay deduped).
                self.dirty |= !duplicate;
                duplicate
            }
            _ => false,
        }
    }

    /// Evictions since the last call, per detector.
    pub fn take_evictions(&mut self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<(&'static str, u64)> = self
            .baselines
            .iter_mut()
            .map(|(name, b)| (*name, b.take_evictions()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let burst = self.burst.take_evictions();
        if burst > 0 {
            out.push((RBAC_DENIED_BURST, burst));
        }
        out
    }

    /// Entities held by `detector` (for tests, tools and gauges).
    pub fn entities(&self, detector: &str) -> usize {
        if detector == RBAC_DENIED_BURST {
            return self.burst.len();
        }
        self.baselines.get(detector).map_or(0, Baseline::len)
    }

    /// Whether anything changed since [`Engine::mark_clean`].
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Marks the state as written.
    pub fn mark_clean(&mut self) {
        self.dirty = false;
    }

    /// Marks the state as not written (a snapshot failed).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Forgets expired values, then exports every baseline (least recently touched
    /// entity first), the remembered audit `(id, stage)` pairs and the watermark.
    pub fn export(&mut self) -> EngineState {
        let watermark = self.watermark;
        let mut baselines = BTreeMap::new();
        for (name, baseline) in &mut self.baselines {
            if watermark > 0 {
                baseline.forget_before(watermark);
            }
            baselines.insert(name.to_string(), baseline.export());
        }
        EngineState {
            watermark,
            baselines,
            dedupe: self.dedupe.export(),
        }
    }

    /// Loads state exported earlier (unknown detector names are ignored).
    pub fn import(&mut self, state: EngineState) {
        self.watermark = self.watermark.max(state.watermark);
        for (name, entities) in state.baselines {
            if let Some(baseline) = self.baselines.get_mut(name.as_str()) {
                baseline.import(entities);
            }
        }
        self.dedupe.import(state.dedupe);
    }
}

//! The state one `anomaly` processor id shares across pipelines, and its persistence.
//!
//! [`SharedBaselines`] holds the [`Engine`] behind a mutex. It is created once per
//! processor id per topology through `BuildContext::shared`, so an `anomaly` processor
//! listed in several pipelines (audit logs, runtime logs, traces) learns into, and
//! judges against, one baseline.
//!
//! With `storage_dir`, the baselines are written to
//! `<storage_dir>/<processor id>.baselines.json` (the id with characters other than
//! `[A-Za-z0-9._-]` replaced by `_`), atomically: a temporary file in the same
//! directory is written, fsynced and renamed over the old one, then the directory is
//! fsynced. The file is read once, when the first instance is built. A file that cannot
//! be read or parsed is logged, counted in `harrier_processor_anomaly_snapshot_errors`
//! (`operation="load"`), renamed to `*.corrupt` for inspection, and the processor starts
//! with empty baselines. The format is [`Snapshot`].

use super::baseline::Entity;
use super::config::{AnomalyConfig, BASELINES, DetectorTable, RBAC_DENIED, STATEFUL};
use super::engine::{Engine, EngineState};
use harrier_core::component::BuildContext;
use harrier_core::telemetry::{Counter, Gauge};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The snapshot format version written and accepted.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The persisted baselines.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// The latest event time (ns since the epoch) the processor had seen.
    pub watermark_unix_nano: u64,
    /// Per detector, its entities least recently touched first.
    pub detectors: BTreeMap<String, Vec<SnapshotEntity>>,
    /// Audit events already evaluated (so a batch read again after a restart is not
    /// tagged twice), oldest first.
    #[serde(default)]
    pub dedupe: Vec<DedupeEntry>,
}

/// One remembered audit event in a [`Snapshot`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeEntry {
    /// `k8s.audit.id`
    pub id: String,
    /// `k8s.audit.stage`
    pub stage: String,
    /// Event time it was first seen (ns).
    pub time_unix_nano: u64,
}

/// One entity of a baseline in a [`Snapshot`].
#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotEntity {
    /// The entity key (identity, `ns:<namespace>`, `image:<repository>`, ...).
    pub key: String,
    /// When it was first and last seen, and its values with their last-seen times.
    #[serde(flatten)]
    pub entity: Entity,
}

/// Why a snapshot could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a snapshot.
    #[error("{path}: not a baseline snapshot: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The snapshot has another format version.
    #[error("{path}: snapshot version {found} is not supported (expected {SNAPSHOT_VERSION})")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
}

/// The engine and its counters, shared by every pipeline instance of one processor id.
pub struct SharedBaselines {
    engine: Mutex<Engine>,
    /// Findings of items the pipelines' copies share (see `verdicts`).
    verdicts: Mutex<super::verdicts::Verdicts>,
    /// Instances built so far (one per pipeline using this processor id).
    instances: std::sync::atomic::AtomicU32,
    /// Serialises snapshot writes, so an older snapshot never overwrites a newer one.
    write_lock: Mutex<()>,
    file: Option<PathBuf>,
    evictions: BTreeMap<&'static str, Counter>,
    entities: BTreeMap<&'static str, Gauge>,
    load_errors: Counter,
    write_errors: Counter,
}

impl std::fmt::Debug for SharedBaselines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBaselines")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// The snapshot file of processor `id` under `dir`.
pub fn snapshot_path(dir: &Path, id: &str) -> PathBuf {
    let name: String = id
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    dir.join(format!("{name}.baselines.json"))
}

impl SharedBaselines {
    /// Builds the engine and loads the snapshot, if `storage_dir` has one.
    pub fn new(config: &AnomalyConfig, settings: DetectorTable, ctx: &BuildContext) -> Self {
        let id = ctx.id.to_string();
        let evictions = STATEFUL
            .iter()
            .map(|name| {
                (
                    *name,
                    ctx.telemetry.counter(
                        "harrier_processor_anomaly_evictions",
                        "Baseline entities evicted to stay within max_entities.",
                        &[("processor", id.as_str()), ("detector", name)],
                    ),
                )
            })
            .collect();
        let entities = STATEFUL
            .iter()
            .filter(|name| **name != RBAC_DENIED)
            .map(|name| {
                (
                    *name,
                    ctx.telemetry.gauge(
                        "harrier_processor_anomaly_entities",
                        "Entities (identities, namespaces, images, workloads) a detector holds.",
                        &[("processor", id.as_str()), ("detector", name)],
                    ),
                )
            })
            .collect();
        let errors = |operation| {
            ctx.telemetry.counter(
                "harrier_processor_anomaly_snapshot_errors",
                "Baseline snapshots that could not be loaded or written.",
                &[("processor", id.as_str()), ("operation", operation)],
            )
        };
        let shared = SharedBaselines {
            engine: Mutex::new(Engine::new(config, settings)),
            verdicts: Mutex::new(super::verdicts::Verdicts::default()),
            instances: std::sync::atomic::AtomicU32::new(0),
            write_lock: Mutex::new(()),
            file: config
                .storage_dir
                .as_deref()
                .map(|dir| snapshot_path(dir, &id)),
            evictions,
            entities,
            load_errors: errors("load"),
            write_errors: errors("write"),
        };
        shared.load();
        shared
    }

    /// The engine, locked. A panic while it was held leaves at worst a half-recorded
    /// observation, so a poisoned lock is used as is.
    pub fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers one more processor instance (pipeline); returns its index.
    pub fn register_instance(&self) -> u32 {
        self.instances
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// How many instances share these baselines.
    pub fn instances(&self) -> u32 {
        self.instances.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The verdicts shared between instances; lock after the engine, never before.
    pub fn verdicts(&self) -> MutexGuard<'_, super::verdicts::Verdicts> {
        self.verdicts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Updates the metrics after a batch: adds the engine's evictions to the counters
    /// and sets the entity gauges.
    pub fn after_batch(&self, engine: &mut Engine) {
        for (detector, n) in engine.take_evictions() {
            if let Some(counter) = self.evictions.get(detector) {
                counter.add(n);
            }
        }
        for (detector, gauge) in &self.entities {
            gauge.set(i64::try_from(engine.entities(detector)).unwrap_or(i64::MAX));
        }
    }

    /// The snapshot file, when persistence is on.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn load(&self) {
        let Some(path) = &self.file else {
            return;
        };
        match read_snapshot(path) {
            Ok(None) => {}
            Ok(Some(snapshot)) => {
                let state = EngineState {
                    watermark: snapshot.watermark_unix_nano,
                    baselines: snapshot
                        .detectors
                        .into_iter()
                        .filter(|(name, _)| BASELINES.contains(&name.as_str()))
                        .map(|(name, entities)| {
                            let entities =
                                entities.into_iter().map(|e| (e.key, e.entity)).collect();
                            (name, entities)
                        })
                        .collect(),
                    dedupe: snapshot
                        .dedupe
                        .into_iter()
                        .map(|e| (e.id, e.stage, e.time_unix_nano))
                        .collect(),
                };
                let mut engine = self.lock();
                engine.import(state);
                self.after_batch(&mut engine);
                tracing::info!(file = %path.display(), "anomaly: baselines loaded");
            }
            Err(error) => {
                self.load_errors.inc();
                let aside = path.with_extension("json.corrupt");
                let moved = std::fs::rename(path, &aside).is_ok();
                tracing::warn!(
                    %error,
                    moved_to = moved.then(|| aside.display().to_string()),
                    "anomaly: cannot load baselines, starting empty"
                );
            }
        }
    }

    /// Writes the baselines when something changed since the last write (or always,
    /// with `force`). Failures are logged and counted; the next call tries again.
    pub fn snapshot(&self, force: bool) {
        let Some(path) = &self.file else {
            return;
        };
        let _writing = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only the copy is taken under the engine lock; serialising (hundreds of
        // milliseconds at 100k identities) happens after it is released, so the
        // pipelines are not held up by a snapshot.
        let state = {
            let mut engine = self.lock();
            if !force && !engine.is_dirty() {
                return;
            }
            let state = engine.export();
            engine.mark_clean();
            state
        };
        let snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            watermark_unix_nano: state.watermark,
            detectors: state
                .baselines
                .into_iter()
                .map(|(name, entities)| {
                    let entities = entities
                        .into_iter()
                        .map(|(key, entity)| SnapshotEntity { key, entity })
                        .collect();
                    (name, entities)
                })
                .collect(),
            dedupe: state
                .dedupe
                .into_iter()
                .map(|(id, stage, time_unix_nano)| DedupeEntry {
                    id,
                    stage,
                    time_unix_nano,
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&snapshot);
        let result = match bytes {
            Ok(bytes) => write_atomically(path, &bytes),
            Err(source) => Err(StoreError::Format {
                path: path.clone(),
                source,
            }),
        };
        if let Err(error) = result {
            self.write_errors.inc();
            // Try again at the next interval even if nothing else changes.
            self.lock().mark_dirty();
            tracing::warn!(%error, "anomaly: cannot write baselines");
        }
    }
}

/// Reads a snapshot; `Ok(None)` when the file does not exist.
///
/// # Errors
/// A [`StoreError`] when it cannot be read, parsed, or has another version.
pub fn read_snapshot(path: &Path) -> Result<Option<Snapshot>, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let snapshot: Snapshot =
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Format {
            path: path.to_path_buf(),
            source,
        })?;
    if snapshot.version != SNAPSHOT_VERSION {
        return Err(StoreError::Version {
            path: path.to_path_buf(),
            found: snapshot.version,
        });
    }
    Ok(Some(snapshot))
}

/// Writes `bytes` to `path` through a fsynced temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("json.tmp");
    {
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

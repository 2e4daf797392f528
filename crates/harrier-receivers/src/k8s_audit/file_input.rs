//! The file mode's task: drives a [`Follower`] on the blocking pool, maps each batch
//! of lines and hands it on with backpressure.
//!
//! A batch goes to [`Output::send`] with no deadline: while the pipeline is full the
//! task simply waits, and the file is the buffer. Only after the send succeeded is the
//! offset committed and persisted; a refusal (memory limit) leaves it where it was, and
//! the same lines are read again after `poll_interval`. A malformed line (not JSON, not
//! an audit `Event`, longer than the limit) is counted and skipped, and the offset moves
//! past it. Counters are updated once a batch is committed, so a retried batch is not
//! counted twice. When shutdown interrupts a send, the batch is abandoned uncommitted
//! and read again after the restart.

use super::config::FileSettings;
use super::event::parse_line;
use super::mapping::{Mapper, Outcome, now_unix_nano};
use super::tail::{Chunk, Follower, Line, OffsetStore, Resume, Step, Switch};
use harrier_core::Signal;
use harrier_core::envelope::{Envelope, Finalizers};
use harrier_core::output::Output;
use harrier_core::telemetry::Counter;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The file mode's own counters.
pub(crate) struct FileCounters {
    /// Lines skipped as malformed.
    pub malformed_lines: Counter,
    /// Events dropped by the stage filter.
    pub filtered: Counter,
    /// Rotations and truncations followed.
    pub rotations: Counter,
    /// Read or offset-write failures.
    pub errors: Counter,
}

/// What a batch of lines became.
#[derive(Default)]
struct Mapped {
    records: Vec<harrier_pdata::otlp::logs::v1::LogRecord>,
    malformed: u64,
    rejected: usize,
    filtered: u64,
    first_error: Option<String>,
}

fn map_lines(mapper: &Mapper, lines: Vec<Line>) -> Mapped {
    let observed = now_unix_nano();
    let mut out = Mapped::default();
    for line in lines {
        let event = match line {
            Line::Complete(bytes) => parse_line(&bytes).map_err(|e| e.to_string()),
            Line::TooLong(len) => Err(format!("line of {len} bytes exceeds the limit")),
        };
        match event {
            Ok(event) => match mapper.map(event, observed) {
                Outcome::Record(r) => out.records.push(r),
                Outcome::Filtered => out.filtered += 1,
                Outcome::Rejected(_) => out.rejected += 1,
            },
            Err(e) => {
                out.malformed += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out
}

/// Runs `f` on the blocking pool; `None` if it panicked.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// Sleeps `d`; false if shutdown came first.
async fn pause(d: std::time::Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = shutdown.cancelled() => false,
    }
}

async fn persist(store: &OffsetStore, follower: &Follower, counters: &FileCounters, id: &str) {
    let Some(position) = follower.position() else {
        return;
    };
    let store = store.clone();
    match blocking(move || store.save(&position)).await {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            counters.errors.inc();
            tracing::warn!(receiver = %id, error = %e, "cannot persist the audit log offset; a restart may read some lines again");
        }
        None => counters.errors.inc(),
    }
}

/// Follows `settings.log_path` until `shutdown` is cancelled. Returns early only if the
/// blocking reader panicked (the supervisor then restarts the receiver).
pub(crate) async fn run(
    settings: FileSettings,
    store: OffsetStore,
    output: Output,
    mapper: Arc<Mapper>,
    counters: FileCounters,
    shutdown: CancellationToken,
) {
    let id = output.id().to_string();
    let load_store = store.clone();
    let stored = match blocking(move || load_store.load()).await {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            tracing::warn!(receiver = %id, file = %store.path().display(), error = %e, "unreadable audit log offset; reading the log from its start");
            None
        }
        None => None,
    };
    let poll = settings.poll_interval;
    let mut follower = loop {
        let (path, stored) = (settings.log_path.clone(), stored.clone());
        let (lines, bytes) = (settings.max_batch_lines, settings.max_batch_bytes);
        match blocking(move || Follower::resume(path, stored, lines, bytes)).await {
            Some(Ok((follower, how))) => {
                match how {
                    Resume::StoredFileGone => {
                        tracing::warn!(receiver = %id, path = %settings.log_path.display(), "the audit log file read before the restart is gone; reading the current file from its start (events may be lost)")
                    }
                    how => {
                        tracing::info!(receiver = %id, path = %settings.log_path.display(), resume = ?how, "following the audit log")
                    }
                }
                break follower;
            }
            Some(Err(e)) => {
                counters.errors.inc();
                tracing::warn!(receiver = %id, path = %settings.log_path.display(), error = %e, "cannot open the audit log; retrying");
                if !pause(poll, &shutdown).await {
                    return;
                }
            }
            None => return,
        }
    };
    while !shutdown.is_cancelled() {
        let Some((returned, step)) = blocking(move || {
            let step = follower.next();
            (follower, step)
        })
        .await
        else {
            tracing::error!(receiver = %id, "the audit log reader panicked");
            return;
        };
        follower = returned;
        match step {
            Err(e) => {
                counters.errors.inc();
                tracing::warn!(receiver = %id, path = %settings.log_path.display(), error = %e, "cannot read the audit log; retrying");
                if !pause(poll, &shutdown).await {
                    return;
                }
            }
            Ok(Step::Idle) => {
                if !pause(poll, &shutdown).await {
                    return;
                }
            }
            Ok(Step::Switched(switch)) => {
                if let Switch::Rotated { abandoned } = switch
                    && abandoned > 0
                {
                    counters.malformed_lines.inc();
                    tracing::warn!(receiver = %id, abandoned, "the rotated audit log ended in an unfinished line; skipped");
                }
                if switch != Switch::Opened {
                    counters.rotations.inc();
                }
                tracing::info!(receiver = %id, ?switch, "audit log file changed");
                persist(&store, &follower, &counters, &id).await;
            }
            Ok(Step::Chunk(chunk)) => {
                let Chunk { lines, end, bytes } = chunk;
                let mapped = map_lines(&mapper, lines);
                if !mapped.records.is_empty() {
                    let size = usize::try_from(bytes).unwrap_or(usize::MAX);
                    let envelope =
                        Envelope::with_size(mapper.batch(mapped.records), Finalizers::none(), size);
                    let sent = tokio::select! {
                        biased;
                        r = output.send(envelope, None) => r,
                        _ = shutdown.cancelled() => return,
                    };
                    if let Err(refused) = sent {
                        tracing::debug!(receiver = %id, reason = %refused, "audit log batch refused; retrying");
                        if !pause(poll, &shutdown).await {
                            return;
                        }
                        continue;
                    }
                }
                follower.commit(end);
                persist(&store, &follower, &counters, &id).await;
                counters.filtered.add(mapped.filtered);
                if mapped.rejected > 0 {
                    output.count_refused(Signal::Logs, mapped.rejected);
                }
                if mapped.malformed > 0 {
                    counters.malformed_lines.add(mapped.malformed);
                    tracing::warn!(receiver = %id, lines = mapped.malformed, first_error = mapped.first_error.as_deref().unwrap_or(""), "skipped malformed audit log lines");
                }
            }
        }
    }
}

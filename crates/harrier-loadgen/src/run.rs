//! The measured run: `--concurrency` workers, each with its own [`Client`], send until
//! the deadline (optionally paced to `--rate` overall) and count what happened.
//!
//! Pacing: with a rate, each worker ticks every `concurrency / rate` seconds, the
//! workers' first ticks spread evenly over one period; a tick missed because the server
//! was slow is skipped, not made up in a burst. A worker never starts a request after
//! the deadline; one in flight then is awaited (its client has a timeout). Without a
//! rate, a worker pauses [`FAILURE_PAUSE`] after a failed request so that a dead or
//! refusing server is not hammered in a tight loop.

use crate::cli::Args;
use crate::client::{Client, SetupError};
use harrier_loadgen::payload::Payload;
use harrier_loadgen::stats::RunStats;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// How long a saturating worker waits after a failed request.
pub const FAILURE_PAUSE: Duration = Duration::from_millis(10);

/// The outcome of a run.
pub struct Outcome {
    /// Everything the workers counted, merged.
    pub stats: RunStats,
    /// From the first send to the last answer.
    pub elapsed: Duration,
}

/// Connects every worker, then runs them until `args.duration` has passed.
///
/// # Errors
/// A worker could not connect; nothing was sent.
pub async fn run(args: &Args, payload: Arc<Payload>) -> Result<Outcome, SetupError> {
    let workers = args.concurrency as usize;
    let mut clients = Vec::with_capacity(workers);
    for _ in 0..workers {
        clients.push(Client::connect(args).await?);
    }
    let start = Instant::now();
    let deadline = start + args.duration;
    let period =
        (args.rate > 0).then(|| Duration::from_secs_f64(workers as f64 / args.rate as f64));
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(worker, client)| {
            let ticker = period.map(|p| {
                let offset = p.mul_f64(worker as f64 / workers as f64);
                let mut t = tokio::time::interval_at(start + offset, p);
                t.set_missed_tick_behavior(MissedTickBehavior::Skip);
                t
            });
            let plan = Plan {
                first_request: worker,
                stride: workers,
                deadline,
            };
            tokio::spawn(run_worker(client, Arc::clone(&payload), ticker, plan))
        })
        .collect();
    let mut stats = RunStats::default();
    for handle in handles {
        match handle.await {
            Ok(worker_stats) => stats.merge(&worker_stats),
            Err(e) => stats.record_failure(&format!("worker task failed: {e}")),
        }
    }
    Ok(Outcome {
        stats,
        elapsed: start.elapsed(),
    })
}

/// Which pre-built requests a worker sends and until when.
struct Plan {
    first_request: usize,
    stride: usize,
    deadline: Instant,
}

async fn run_worker(
    mut client: Client,
    payload: Arc<Payload>,
    mut ticker: Option<Interval>,
    plan: Plan,
) -> RunStats {
    let mut stats = RunStats::default();
    let items = payload.items_per_request as u64;
    let mut request = plan.first_request;
    loop {
        if let Some(ticker) = ticker.as_mut()
            && tokio::time::timeout_at(plan.deadline, ticker.tick())
                .await
                .is_err()
        {
            break;
        }
        let started = Instant::now();
        if started >= plan.deadline {
            break;
        }
        match client.send(&payload, request).await {
            Ok(rejected) => stats.record_ok(started.elapsed(), items, rejected),
            Err(message) => {
                stats.record_failure(&message);
                if ticker.is_none() {
                    tokio::time::sleep(FAILURE_PAUSE).await;
                }
            }
        }
        request = request.wrapping_add(plan.stride);
    }
    stats
}

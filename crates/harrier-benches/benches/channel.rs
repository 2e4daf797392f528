//! Bench `channel`: send/recv throughput of the bounded pipeline channel
//! (`harrier_core::channel::bounded::<Envelope>` with the pipeline's limits), one
//! producer and one consumer joined on a current-thread runtime.
//!
//! Envelopes carry 100 spans each and throughput is reported in spans. The envelopes
//! are built once and recycled between rounds, outside the timing, so only sending and
//! receiving (permits, queue, wake-ups) is measured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harrier_core::channel::bounded;
use harrier_core::envelope::Envelope;
use harrier_core::topology::PIPELINE_CHANNEL_LIMITS;
use std::time::{Duration, Instant};

const SPANS_PER_ENVELOPE: usize = 100;
/// Envelopes per timed round: more than the channel holds, so the producer waits.
const ROUND: usize = 256;

fn channel(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let batch = common::batch(SPANS_PER_ENVELOPE);
    let mut pool: Vec<Envelope> = (0..ROUND).map(|_| Envelope::new(batch.clone())).collect();
    let (tx, mut rx) = bounded::<Envelope>(PIPELINE_CHANNEL_LIMITS);

    let mut group = c.benchmark_group("channel");
    group.throughput(Throughput::Elements(SPANS_PER_ENVELOPE as u64));
    group.bench_function("send_recv_100_span_envelopes", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut measured = Duration::ZERO;
                let mut remaining = iters as usize;
                while remaining > 0 {
                    let n = remaining.min(pool.len());
                    let round: Vec<Envelope> = pool.drain(..n).collect();
                    let mut received = Vec::with_capacity(n);
                    let producer = async {
                        for envelope in round {
                            tx.send(envelope).await.unwrap();
                        }
                    };
                    let consumer = async {
                        for _ in 0..n {
                            received.push(rx.recv().await.unwrap());
                        }
                    };
                    let start = Instant::now();
                    tokio::join!(producer, consumer);
                    measured += start.elapsed();
                    pool.append(&mut received);
                    remaining -= n;
                }
                measured
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = channel
}
criterion_main!(benches);

//! Bench `batch`: the batch processor merging 100-span envelopes into batches of
//! `send_batch_size = 8192`, without a cap (`merge`) and with
//! `send_batch_max_size = 8192` (`merge_split`: every batch of 8200 is split).
//!
//! Throughput is in spans. The input envelopes are built once; after each timed round
//! the output is cut back into 100-span envelopes outside the timing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harrier_core::Signal;
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::{Envelope, Finalizers};
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_processors::batch::{BatchConfig, BatchProcessor};
use std::time::{Duration, Instant};

const SPANS_PER_ENVELOPE: usize = 100;
const SEND_BATCH_SIZE: usize = 8192;
/// Envelopes per round: one full batch (82 x 100 = 8200 spans).
const ROUND: usize = SEND_BATCH_SIZE.div_ceil(SPANS_PER_ENVELOPE);

fn processor(max_size: usize) -> BatchProcessor {
    let ctx = BuildContext {
        id: ComponentId::parse("batch").unwrap(),
        pipeline: Some("traces".into()),
        signals: vec![Signal::Traces],
        telemetry: Telemetry::new(),
        shared: Default::default(),
    };
    BatchProcessor::new(
        BatchConfig {
            send_batch_size: SEND_BATCH_SIZE,
            send_batch_max_size: max_size,
            ..BatchConfig::default()
        },
        &ctx,
    )
}

/// Cuts every output batch back into 100-span envelopes.
fn refill(pool: &mut Vec<Envelope>, out: &mut Vec<Envelope>, byte_size: usize) {
    let mut all = Batch::empty(Signal::Traces);
    for envelope in out.drain(..) {
        all.append(envelope.batch).unwrap();
    }
    while !all.is_empty() {
        let piece = all.split_off_front(SPANS_PER_ENVELOPE);
        pool.push(Envelope::with_size(piece, Finalizers::none(), byte_size));
    }
}

fn bench_rounds(
    processor: &mut BatchProcessor,
    pool: &mut Vec<Envelope>,
    byte_size: usize,
    iters: u64,
) -> Duration {
    let mut measured = Duration::ZERO;
    let mut out = Vec::new();
    let mut remaining = iters as usize;
    while remaining > 0 {
        let n = remaining.min(pool.len());
        let round: Vec<Envelope> = pool.drain(..n).collect();
        let start = Instant::now();
        for envelope in round {
            processor.process(envelope, &mut out);
        }
        measured += start.elapsed();
        remaining -= n;
        processor.flush(&mut out);
        refill(pool, &mut out, byte_size);
    }
    measured
}

fn batch(c: &mut Criterion) {
    let template = Envelope::new(common::batch(SPANS_PER_ENVELOPE));
    let byte_size = template.byte_size;

    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(SPANS_PER_ENVELOPE as u64));
    for (name, max_size) in [("merge", 0), ("merge_split", SEND_BATCH_SIZE)] {
        let mut pool: Vec<Envelope> = (0..ROUND).map(|_| template.fork()).collect();
        let mut processor = processor(max_size);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| bench_rounds(&mut processor, &mut pool, byte_size, iters))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = batch
}
criterion_main!(benches);

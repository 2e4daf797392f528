//! Bench `forward`: Fluent Forward records per second through the whole collector in
//! this process.
//!
//! The receiver's decoding (`decode::message`) and mapping (`mapping::to_batch`) are
//! crate-private in `harrier-receivers`, so they are measured through the real
//! collector, as `pipeline` does for OTLP: `harrier::Collector::start_from_toml` with a
//! `fluent_forward` receiver on a loopback port, the `batch` processor and the `nop`
//! exporter. [`CLIENTS`] TCP connections send pre-built frames of 100 records of 1 KiB
//! (`harrier_loadgen::forward`, the load generator's builders) with a `chunk` option,
//! one at a time, and await each `{"ack": chunk}`: the receiver acknowledges once the
//! batch is admitted into the pipeline, whose bounded channels push back, so the steady
//! state is framing + msgpack decoding + mapping to a logs `Batch` + the pipeline.
//!
//! - `forward_mode_100x1KiB`: Forward mode, `[tag, [[time, record], ...], option]`;
//! - `packed_forward_100x1KiB`: PackedForward, the entries as one msgpack `bin`.
//!
//! One element is one record. Clients and collector share this process and the cores;
//! the clients only write bytes and compare the ack bytes, so nearly all the time is
//! the collector's, but the result is still a lower bound of what it alone can take.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harrier_loadgen::forward::{ForwardFrame, ForwardMode, RecordShape, build_frames};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RECORDS_PER_FRAME: usize = 100;
const RECORD_SIZE: usize = 1024;
const CLIENTS: usize = 2;
const POOL: usize = 16;

fn config(port: u16) -> String {
    format!(
        r#"
[receivers.fluent_forward]
endpoint = "127.0.0.1:{port}"

[processors.batch]

[exporters.nop]

[service.pipelines.logs]
receivers = ["fluent_forward"]
processors = ["batch"]
exporters = ["nop"]

[service.telemetry.metrics]
address = ""
"#
    )
}

async fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => {
                stream.set_nodelay(true).unwrap();
                return stream;
            }
            Err(e) if Instant::now() > deadline => panic!("cannot connect: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Sends `count` frames, starting at `first` of the pool, each answered by its ack.
async fn send_all(
    mut stream: TcpStream,
    frames: Arc<Vec<ForwardFrame>>,
    first: usize,
    count: u64,
) -> TcpStream {
    let mut ack = Vec::new();
    for i in 0..count as usize {
        let frame = &frames[(first + i) % frames.len()];
        stream.write_all(&frame.bytes).await.unwrap();
        ack.resize(frame.acks.len(), 0);
        stream
            .read_exact(&mut ack)
            .await
            .expect("the collector closed the connection instead of acknowledging");
        assert_eq!(ack[..], frame.acks[..], "unexpected ack");
    }
    stream
}

fn forward(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = common::free_port();
    let collector = runtime
        .block_on(harrier::Collector::start_from_toml(&config(port)))
        .unwrap();
    let shape = RecordShape {
        records: RECORDS_PER_FRAME,
        record_size: RECORD_SIZE,
        kubernetes: false,
    };
    let mut streams: Vec<Option<TcpStream>> = runtime.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..CLIENTS {
            streams.push(Some(connect(port).await));
        }
        streams
    });

    let mut group = c.benchmark_group("forward");
    group.throughput(Throughput::Elements(RECORDS_PER_FRAME as u64));
    for (name, mode) in [
        ("forward_mode_100x1KiB", ForwardMode::Forward),
        ("packed_forward_100x1KiB", ForwardMode::Packed),
    ] {
        let frames = Arc::new(build_frames(mode, shape, true, POOL).unwrap());
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    let tasks: Vec<_> = streams
                        .iter_mut()
                        .enumerate()
                        .map(|(client, stream)| {
                            let share = iters / CLIENTS as u64
                                + u64::from((client as u64) < iters % CLIENTS as u64);
                            let stream = stream.take().unwrap();
                            tokio::spawn(send_all(stream, Arc::clone(&frames), client, share))
                        })
                        .collect();
                    for (slot, task) in streams.iter_mut().zip(tasks) {
                        *slot = Some(task.await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
    drop(streams);
    let report = runtime.block_on(collector.shutdown());
    assert!(report.clean, "the collector did not drain at shutdown");
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = forward
}
criterion_main!(benches);

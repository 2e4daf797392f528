//! Bench `pipeline`: spans per second through the whole collector in this process.
//!
//! Starts the real collector (`harrier::Collector::start_from_toml`) with an OTLP/gRPC
//! receiver on a loopback port, the `batch` processor and the `nop` exporter, then
//! sends pre-built 100-span `ExportTraceServiceRequest`s from 4 concurrent clients,
//! each with its own HTTP/2 connection. A request counts once the collector answered
//! it (the receiver answers after admission into the pipeline, whose bounded channels
//! push back, so the steady state is the pipeline's throughput).
//!
//! The clients send the protobuf bytes as they are (a pass-through tonic codec), so the
//! client side costs framing and HTTP/2 only, not a clone and an encode per request.
//! Client and collector still share this process and the machine's cores: the result
//! is a lower bound of what the collector alone can take.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use prost::bytes::{Buf, BufMut, Bytes};
use std::time::{Duration, Instant};
use tonic::Status;
use tonic::client::Grpc;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

const SPANS_PER_REQUEST: usize = 100;
const CLIENTS: usize = 4;
const POOL: usize = 16;
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Sends `Bytes` that already hold an encoded message; reads the response as bytes.
#[derive(Clone, Copy, Default)]
struct PassThroughCodec;

impl Codec for PassThroughCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = PassThroughCodec;
    type Decoder = PassThroughCodec;
    fn encoder(&mut self) -> Self::Encoder {
        PassThroughCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        PassThroughCodec
    }
}

impl Encoder for PassThroughCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for PassThroughCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

fn config(port: u16) -> String {
    format!(
        r#"
[receivers.otlp.grpc]
endpoint = "127.0.0.1:{port}"

[processors.batch]

[exporters.nop]

[service.pipelines.traces]
receivers = ["otlp"]
processors = ["batch"]
exporters = ["nop"]

[service.telemetry.metrics]
address = ""
"#
    )
}

async fn connect(port: u16) -> Channel {
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .tcp_nodelay(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match endpoint.connect().await {
            Ok(channel) => return channel,
            Err(e) if Instant::now() > deadline => panic!("cannot connect: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn send_all(channel: Channel, bodies: Vec<Bytes>, first: usize, count: u64) {
    let mut grpc = Grpc::new(channel);
    let path = http::uri::PathAndQuery::from_static(EXPORT_PATH);
    for i in 0..count as usize {
        grpc.ready().await.unwrap();
        let body = bodies[(first + i) % bodies.len()].clone();
        let response = grpc
            .unary(tonic::Request::new(body), path.clone(), PassThroughCodec)
            .await
            .unwrap_or_else(|status| panic!("export failed: {status}"));
        // An empty response: no partial success, nothing rejected.
        assert!(response.get_ref().is_empty(), "spans were rejected");
    }
}

fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = common::free_port();
    let collector = runtime
        .block_on(harrier::Collector::start_from_toml(&config(port)))
        .unwrap();
    let bodies: Vec<Bytes> = (0..POOL)
        .map(|_| Bytes::from(common::request(SPANS_PER_REQUEST).encode_to_vec()))
        .collect();
    let channels: Vec<Channel> = runtime.block_on(async {
        let mut channels = Vec::new();
        for _ in 0..CLIENTS {
            channels.push(connect(port).await);
        }
        channels
    });

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(SPANS_PER_REQUEST as u64));
    group.bench_function("otlp_grpc_batch_nop_100_span_requests", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = channels
                    .iter()
                    .enumerate()
                    .map(|(client, channel)| {
                        let share = iters / CLIENTS as u64
                            + u64::from((client as u64) < iters % CLIENTS as u64);
                        tokio::spawn(send_all(channel.clone(), bodies.clone(), client, share))
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    let report = runtime.block_on(collector.shutdown());
    assert!(report.clean, "the collector did not drain at shutdown");
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = pipeline
}
criterion_main!(benches);

//! Bench `codec`: OTLP protobuf and OTLP/JSON decoding and encoding of one
//! `ExportTraceServiceRequest` of 1000 spans with 5 attributes each.
//!
//! `protobuf_decode_encode` (one decode and one encode of the same bytes, freeing the
//! decoded data) is the reference the collector's per-span CPU cost is compared with
//! in `docs/benchmarks.md`. Every measured routine frees what it produced, as the
//! collector does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harrier_pdata::{Batch, Signal, json};
use prost::Message;
use std::hint::black_box;

const SPANS: usize = 1000;

fn codec(c: &mut Criterion) {
    let request = common::request(SPANS);
    let bytes = request.encode_to_vec();
    let batch = Batch::decode_request(Signal::Traces, &bytes).unwrap();
    assert_eq!(batch.item_count(), SPANS);
    let mut json_bytes = Vec::new();
    json::encode_request(&batch, &mut json_bytes);
    assert_eq!(
        json::decode_request(Signal::Traces, &json_bytes)
            .unwrap()
            .item_count(),
        SPANS
    );
    println!(
        "codec: {SPANS} spans, {} attributes each: {} bytes protobuf ({} per span), {} bytes OTLP/JSON",
        common::ATTRIBUTES,
        bytes.len(),
        bytes.len() / SPANS,
        json_bytes.len()
    );

    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(SPANS as u64));

    group.bench_function("protobuf_decode", |b| {
        b.iter(|| Batch::decode_request(Signal::Traces, black_box(&bytes)).unwrap())
    });
    let mut buf = Vec::with_capacity(bytes.len());
    group.bench_function("protobuf_encode", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&batch).encode_request_into(&mut buf);
            black_box(buf.len())
        })
    });
    group.bench_function("protobuf_decode_encode", |b| {
        b.iter(|| {
            let decoded = Batch::decode_request(Signal::Traces, black_box(&bytes)).unwrap();
            buf.clear();
            decoded.encode_request_into(&mut buf);
            black_box(buf.len())
        })
    });
    group.bench_function("protobuf_encoded_len", |b| {
        b.iter(|| black_box(&batch).byte_size())
    });
    let mut json_buf = Vec::with_capacity(json_bytes.len());
    group.bench_function("json_encode", |b| {
        b.iter(|| {
            json_buf.clear();
            json::encode_request(black_box(&batch), &mut json_buf);
            black_box(json_buf.len())
        })
    });
    group.bench_function("json_decode", |b| {
        b.iter(|| json::decode_request(Signal::Traces, black_box(&json_bytes)).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = codec
}
criterion_main!(benches);

//! Bench `redaction`: the redaction processor (default detectors) on log records whose
//! body is a realistic 1 KiB application log line.
//!
//! - `clean_lines`: no personal data; nothing is rewritten, so the same batch is reused
//!   (the processor leaves it unchanged).
//! - `pii_lines`: every line carries one finding (an e-mail, a card number, a bearer
//!   token, a URL password, ...); a fresh copy of the batch is made outside the timing.
//! - `scanner_clean_line`: the detectors alone on one clean line.
//!
//! Throughput is in lines (one element = one 1 KiB line).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use harrier_core::Signal;
use harrier_core::component::BuildContext;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{AnyValue, any_value};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_processors::redaction::detect::Scanner;
use harrier_processors::redaction::{RedactionConfig, RedactionProcessor};

const LINES: usize = 100;
const LINE_BYTES: usize = 1024;

/// A 1 KiB line in the shape of a busy service's structured text log.
fn clean_line(i: usize) -> String {
    let mut line = format!(
        "2026-11-23T11:{:02}:{:02}.{:03}Z INFO  [http-nio-8080-exec-{}] c.example.shop.order.OrderService - \
         completed request method=POST path=/api/v2/orders/{}/items status=201 duration_ms={} \
         bytes_in={} bytes_out={} trace_id=4bf92f3577b34da6a3ce929d0e0e{:04x} span_id=00f067aa0ba9{:04x} \
         user_agent=\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\" \
         region=eu-west-1 az=eu-west-1b pod=order-service-7d9f8b6c5-x2k4p node=ip-10-0-3-17 cache=hit ratio=0.{} \
         items=[sku-{} qty={}, sku-{} qty=1] currency=EUR total={}.{:02} feature_flags=checkout_v2,fast_path \
         retries=0 db.pool.active={} db.pool.idle={} queue.depth={} gc.pause_ms={} msg=\"order persisted and event published to topic orders.v2\"",
        i % 60,
        (i * 7) % 60,
        i % 1000,
        i % 32,
        100_000 + i,
        12 + i % 300,
        512 + i,
        2048 + i * 3,
        i,
        i,
        i % 100,
        40_000 + i,
        1 + i % 5,
        50_000 + i,
        10 + i % 90,
        i % 100,
        i % 20,
        20 - i % 20,
        i % 8,
        i % 40,
    );
    while line.len() < LINE_BYTES {
        line.push_str(" pad=ok");
    }
    line.truncate(LINE_BYTES);
    line
}

/// A clean line with one finding spliced into its middle.
fn pii_line(i: usize) -> String {
    let secrets = [
        "customer=jane.doe@example.com",
        "card=4111 1111 1111 1111",
        "auth=\"Bearer 8f2c1e9a7b6d5c4e3f2a1b0c\"",
        "dsn=postgres://app:s3cr3t@db:5432/shop",
        "ssn=123-45-6789",
    ];
    let mut line = clean_line(i);
    line.replace_range(400..400, &format!(" {} ", secrets[i % secrets.len()]));
    line.truncate(LINE_BYTES);
    line
}

fn batch(line: fn(usize) -> String) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: (0..LINES)
                .map(|i| LogRecord {
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(line(i))),
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

fn processor() -> RedactionProcessor {
    let ctx = BuildContext {
        id: ComponentId::parse("redaction").unwrap(),
        pipeline: Some("logs".into()),
        signals: vec![Signal::Logs],
        telemetry: Telemetry::new(),
        shared: Default::default(),
    };
    RedactionProcessor::new(RedactionConfig::default(), &ctx).unwrap()
}

fn redaction(c: &mut Criterion) {
    let mut group = c.benchmark_group("redaction");
    group.throughput(Throughput::Elements(LINES as u64));

    let mut p = processor();
    let mut clean = batch(clean_line);
    let reference = clean.clone();
    group.bench_function("clean_lines", |b| b.iter(|| p.redact(&mut clean)));
    assert_eq!(clean, reference, "clean lines must pass unchanged");

    let pii = batch(pii_line);
    group.bench_function("pii_lines", |b| {
        b.iter_batched_ref(
            || pii.clone(),
            |batch| p.redact(batch),
            BatchSize::LargeInput,
        )
    });

    group.throughput(Throughput::Elements(1));
    let scanner = Scanner::new(&RedactionConfig::default()).unwrap();
    let line = clean_line(7);
    let mut findings = Vec::new();
    group.bench_function("scanner_clean_line", |b| {
        b.iter(|| {
            scanner.find(std::hint::black_box(&line), false, &mut findings);
            findings.len()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = redaction
}
criterion_main!(benches);

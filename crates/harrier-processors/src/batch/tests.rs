#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use harrier_core::component::Processor;
use harrier_core::envelope::{DeliveryStatus, Envelope, Finalizers};
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use std::time::Duration;
use tokio::time::Instant;

fn ctx() -> BuildContext {
    BuildContext {
        id: ComponentId::parse("batch").unwrap(),
        pipeline: Some("logs".into()),
        signals: vec![Signal::Logs],
        telemetry: Telemetry::new(),
        shared: Default::default(),
    }
}

fn logs(n: usize, start: usize) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        scope_logs: vec![ScopeLogs {
            log_records: (start..start + n)
                .map(|i| LogRecord {
                    time_unix_nano: i as u64,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

fn times(envelopes: &[Envelope]) -> Vec<Vec<u64>> {
    envelopes
        .iter()
        .map(|e| match &e.batch {
            Batch::Logs(rl) => rl
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
                .map(|l| l.time_unix_nano)
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn processor(size: usize, max: usize, timeout_ms: u64) -> BatchProcessor {
    BatchProcessor::new(
        BatchConfig {
            send_batch_size: size,
            send_batch_max_size: max,
            timeout: Duration::from_millis(timeout_ms),
        },
        &ctx(),
    )
}

#[test]
fn sends_when_size_is_reached() {
    let mut p = processor(10, 0, 200);
    let mut out = Vec::new();
    p.process(Envelope::new(logs(4, 0)), &mut out);
    p.process(Envelope::new(logs(4, 4)), &mut out);
    assert!(out.is_empty());
    assert!(p.next_deadline().is_some());
    p.process(Envelope::new(logs(4, 8)), &mut out);
    // No cap: the whole 12 go out together, in order.
    assert_eq!(times(&out), vec![(0..12).collect::<Vec<u64>>()]);
    assert!(p.next_deadline().is_none());
}

#[test]
fn splits_above_max_size() {
    let mut p = processor(4, 5, 200);
    let mut out = Vec::new();
    p.process(Envelope::new(logs(13, 0)), &mut out);
    // 13 >= 4: send 5, 8 left >= 4: send 5, 3 left wait for the timeout.
    assert_eq!(
        times(&out),
        vec![(0..5).collect::<Vec<u64>>(), (5..10).collect()]
    );
    let mut rest = Vec::new();
    p.on_deadline(Instant::now(), &mut rest);
    assert_eq!(times(&rest), vec![vec![10, 11, 12]]);
}

#[tokio::test(start_paused = true)]
async fn timeout_sends_partial_batch() {
    let mut p = processor(100, 0, 200);
    let mut out = Vec::new();
    let before = Instant::now();
    p.process(Envelope::new(logs(3, 0)), &mut out);
    let deadline = p.next_deadline().unwrap();
    assert_eq!(deadline - before, Duration::from_millis(200));
    p.on_deadline(deadline, &mut out);
    assert_eq!(times(&out), vec![vec![0, 1, 2]]);
    assert!(p.next_deadline().is_none());
}

#[test]
fn zero_timeout_sends_immediately_but_splits() {
    let mut p = processor(1, 2, 0);
    let mut out = Vec::new();
    p.process(Envelope::new(logs(5, 0)), &mut out);
    assert_eq!(times(&out), vec![vec![0, 1], vec![2, 3], vec![4]]);
}

#[test]
fn flush_emits_everything() {
    let mut p = processor(100, 0, 200);
    let mut out = Vec::new();
    p.process(Envelope::new(logs(3, 0)), &mut out);
    p.flush(&mut out);
    assert_eq!(times(&out), vec![vec![0, 1, 2]]);
}

#[tokio::test]
async fn acknowledges_only_after_every_piece_is_handed_on() {
    let mut p = processor(4, 4, 200);
    let (fin_a, receipt_a) = Finalizers::with_receipt();
    let (fin_b, mut receipt_b) = Finalizers::with_receipt();
    let mut receipt_a = receipt_a;
    let mut out = Vec::new();
    p.process(Envelope::with_size(logs(3, 0), fin_a, 30), &mut out);
    p.process(Envelope::with_size(logs(3, 3), fin_b, 30), &mut out);
    // 6 items: one batch of 4 out, 2 held. Request b's items are in both.
    assert_eq!(times(&out), vec![vec![0, 1, 2, 3]]);
    assert_eq!(out[0].byte_size, 40);
    for e in out.drain(..) {
        e.finalizers.update(DeliveryStatus::Delivered);
    }
    // Finalizers are per request, not per item: both requests share the held remainder,
    // so neither is acknowledged yet.
    assert!(
        receipt_a.try_recv().is_err(),
        "a's merged batch still has items held"
    );
    assert!(
        receipt_b.try_recv().is_err(),
        "b still has items held by the batch processor"
    );
    p.flush(&mut out);
    assert_eq!(times(&out), vec![vec![4, 5]]);
    out.remove(0).finalizers.update(DeliveryStatus::Delivered);
    assert_eq!(receipt_a.await.ok(), Some(DeliveryStatus::Delivered));
    assert_eq!(receipt_b.await.ok(), Some(DeliveryStatus::Delivered));
}

#[test]
fn validates() {
    let errs = BatchFactory
        .validate(&toml::from_str("send_batch_size = 10\nsend_batch_max_size = 5").unwrap())
        .unwrap_err();
    assert_eq!(errs[0].path, "send_batch_max_size");
    let errs = BatchFactory
        .validate(&toml::from_str("timeout = \"fast\"").unwrap())
        .unwrap_err();
    assert_eq!(errs[0].path, "timeout");
    assert!(BatchFactory.validate(&toml::from_str("").unwrap()).is_ok());
}

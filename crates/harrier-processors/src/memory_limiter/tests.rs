#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use std::sync::atomic::AtomicU64;

const MIB: u64 = 1 << 20;

fn ctx() -> BuildContext {
    BuildContext {
        id: ComponentId::parse("memory_limiter").unwrap(),
        pipeline: Some("traces".into()),
        signals: vec![Signal::Traces],
        telemetry: Telemetry::new(),
        shared: Default::default(),
    }
}

fn config(text: &str) -> MemoryLimiterConfig {
    parse_config(&toml::from_str(text).unwrap()).unwrap()
}

#[test]
fn computes_limits() {
    assert_eq!(
        config("limit_mib = 100").limits(None),
        Ok((100 * MIB, 80 * MIB))
    );
    assert_eq!(
        config("limit_mib = 100\nspike_limit_mib = 30").limits(None),
        Ok((100 * MIB, 70 * MIB))
    );
    let total = 1000 * MIB;
    assert_eq!(
        config("limit_percentage = 50\nspike_limit_percentage = 10").limits(Some(total)),
        Ok((500 * MIB, 400 * MIB))
    );
    assert_eq!(
        config("limit_percentage = 50").limits(Some(total)),
        Ok((500 * MIB, 400 * MIB))
    );
}

#[test]
fn rejects_bad_limits() {
    let errs = config("").limits(Some(MIB)).unwrap_err();
    assert_eq!(errs[0].path, "limit_mib");
    let errs = config("limit_mib = 10\nspike_limit_mib = 10")
        .limits(None)
        .unwrap_err();
    assert_eq!(errs[0].path, "spike_limit_mib");
    let errs = config("limit_percentage = 150")
        .limits(Some(MIB))
        .unwrap_err();
    assert_eq!(errs[0].path, "limit_percentage");
    let errs = config("limit_mib = 1\ncheck_interval = \"0s\"")
        .limits(None)
        .unwrap_err();
    assert_eq!(errs[0].path, "check_interval");
}

#[test]
fn refuses_above_soft_limit_and_recovers() {
    let used = Arc::new(AtomicU64::new(50 * MIB));
    let reading = Arc::clone(&used);
    let source: MemorySource = Arc::new(move || Some(reading.load(Ordering::Relaxed)));
    let ctx = ctx();
    // check_interval 0: sample on every admission (deterministic for the test).
    let gate = MemoryGate::new(100 * MIB, 80 * MIB, Duration::ZERO, source, &ctx);
    assert!(gate.admit(10).is_ok());
    used.store(85 * MIB, Ordering::Relaxed);
    let err = gate.admit(10).unwrap_err();
    assert!(err.contains("above the soft limit"), "{err}");
    used.store(120 * MIB, Ordering::Relaxed);
    assert!(gate.admit(5).unwrap_err().contains("above the hard limit"));
    used.store(79 * MIB, Ordering::Relaxed);
    assert!(gate.admit(10).is_ok());
    assert_eq!(
        ctx.telemetry.counter_value(
            "harrier_memory_limiter_refused_items",
            &[("processor", "memory_limiter"), ("pipeline", "traces")]
        ),
        Some(15)
    );
}

#[test]
fn samples_at_most_once_per_interval() {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let source: MemorySource = Arc::new(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        Some(0)
    });
    let gate = MemoryGate::new(
        100 * MIB,
        80 * MIB,
        Duration::from_secs(3600),
        source,
        &ctx(),
    );
    for _ in 0..100 {
        assert!(gate.admit(1).is_ok());
    }
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[test]
fn passes_data_through_and_exposes_its_gate() {
    let p = MemoryLimiterFactory
        .build(&toml::from_str("limit_mib = 100000").unwrap(), &ctx())
        .unwrap();
    let gate = p.admission_gate().unwrap();
    assert!(gate.admit(1).is_ok());
}

//! Processor `memory_limiter`: refuses new data while the process uses too much memory.
//!
//! The soft limit is `limit - spike`; at or above it every pipeline that lists this
//! processor refuses new data with a retryable error, which the receiver turns into its
//! protocol's answer (gRPC `UNAVAILABLE`, HTTP 503 with `Retry-After`, a TCP receiver
//! stops reading). Above the hard limit it refuses too. It never drops data it already
//! accepted: the check runs at the pipeline's entry ([`AdmissionGate`]), not in the
//! data path. Memory is the process RSS from `/proc`, sampled at most once per
//! `check_interval`, lazily at admission time, so a stalled pipeline cannot delay it.

mod config;
#[cfg(test)]
mod tests;

pub use config::MemoryLimiterConfig;

use harrier_core::Signal;
use harrier_core::component::{
    AdmissionGate, BuildContext, Factory, Processor, ProcessorFactory, parse_config,
};
use harrier_core::envelope::Envelope;
use harrier_core::error::ConfigError;
use harrier_core::telemetry::{Counter, Gauge};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Reads the memory in use, in bytes.
pub type MemorySource = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// Factory for `memory_limiter`.
pub struct MemoryLimiterFactory;

impl Factory for MemoryLimiterFactory {
    fn type_name(&self) -> &'static str {
        "memory_limiter"
    }
    fn description(&self) -> &'static str {
        "refuses new data (retryably) while process memory is above a limit"
    }
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>> {
        parse_config::<MemoryLimiterConfig>(config)
            .map_err(|e| vec![e])?
            .limits(harrier_core::process::total_memory_bytes())
            .map(|_| ())
    }
}

impl ProcessorFactory for MemoryLimiterFactory {
    fn signals(&self) -> &'static [Signal] {
        &Signal::ALL
    }
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: MemoryLimiterConfig = parse_config(config)?;
        let (hard, soft) = config
            .limits(harrier_core::process::total_memory_bytes())
            .map_err(|mut e| e.remove(0))?;
        let source: MemorySource = Arc::new(harrier_core::process::rss_bytes);
        Ok(Box::new(MemoryLimiter {
            gate: Arc::new(MemoryGate::new(
                hard,
                soft,
                config.check_interval,
                source,
                ctx,
            )),
        }))
    }
}

/// The shared state behind the admission check.
pub struct MemoryGate {
    hard_limit: u64,
    soft_limit: u64,
    check_interval: Duration,
    source: MemorySource,
    epoch: Instant,
    /// Nanoseconds since `epoch` of the last sample (u64::MAX: never).
    last_check: AtomicU64,
    used: AtomicU64,
    refusing: AtomicBool,
    refused_items: Counter,
    usage_gauge: Gauge,
}

impl MemoryGate {
    /// A gate with limits in bytes.
    pub fn new(
        hard_limit: u64,
        soft_limit: u64,
        check_interval: Duration,
        source: MemorySource,
        ctx: &BuildContext,
    ) -> MemoryGate {
        let id = ctx.id.to_string();
        let pipeline = ctx.pipeline.clone().unwrap_or_default();
        let labels = [("processor", id.as_str()), ("pipeline", pipeline.as_str())];
        MemoryGate {
            hard_limit,
            soft_limit,
            check_interval,
            source,
            epoch: Instant::now(),
            last_check: AtomicU64::new(u64::MAX),
            used: AtomicU64::new(0),
            refusing: AtomicBool::new(false),
            refused_items: ctx.telemetry.counter(
                "harrier_memory_limiter_refused_items",
                "Items refused because memory was above the soft limit.",
                &labels,
            ),
            usage_gauge: ctx.telemetry.gauge(
                "harrier_memory_limiter_used_bytes",
                "Memory in use at the last check.",
                &labels,
            ),
        }
    }

    /// Samples memory if the last sample is older than `check_interval`.
    fn maybe_check(&self) {
        let now = self.epoch.elapsed().as_nanos() as u64;
        let last = self.last_check.load(Ordering::Acquire);
        let due =
            last == u64::MAX || now.saturating_sub(last) >= self.check_interval.as_nanos() as u64;
        if !due {
            return;
        }
        // One caller samples; the others use the previous decision.
        if self
            .last_check
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let Some(used) = (self.source)() else {
            return;
        };
        self.used.store(used, Ordering::Release);
        self.usage_gauge.set(used as i64);
        let was = self.refusing.load(Ordering::Acquire);
        let now_refusing = used >= self.soft_limit;
        if now_refusing != was {
            self.refusing.store(now_refusing, Ordering::Release);
            if now_refusing {
                tracing::warn!(
                    used_mib = used >> 20,
                    soft_limit_mib = self.soft_limit >> 20,
                    hard_limit_mib = self.hard_limit >> 20,
                    "memory above the soft limit: refusing data"
                );
            } else {
                tracing::info!(
                    used_mib = used >> 20,
                    "memory back below the soft limit: accepting data"
                );
            }
        }
    }
}

impl AdmissionGate for MemoryGate {
    fn admit(&self, items: usize) -> Result<(), String> {
        self.maybe_check();
        if self.refusing.load(Ordering::Acquire) {
            self.refused_items.add(items as u64);
            let used = self.used.load(Ordering::Acquire);
            let which = if used >= self.hard_limit {
                "hard"
            } else {
                "soft"
            };
            return Err(format!(
                "memory usage {} MiB is above the {which} limit ({} MiB soft, {} MiB hard)",
                used >> 20,
                self.soft_limit >> 20,
                self.hard_limit >> 20
            ));
        }
        Ok(())
    }
}

/// The processor: data passes untouched; the work is in the gate.
pub struct MemoryLimiter {
    gate: Arc<MemoryGate>,
}

impl Processor for MemoryLimiter {
    fn process(&mut self, envelope: Envelope, out: &mut Vec<Envelope>) {
        out.push(envelope);
    }
    fn admission_gate(&self) -> Option<Arc<dyn AdmissionGate>> {
        Some(Arc::clone(&self.gate) as Arc<dyn AdmissionGate>)
    }
}

//! Harrier's processors, one module each.
//!
//! - [`memory_limiter`]: refuses new data (retryably) above a memory limit;
//! - [`batch`]: groups data into batches by size and time, splitting oversize ones;
//! - [`correlate`]: links logs to traces (trace context from bodies, span enrichment).

pub mod batch;
pub mod correlate;
pub mod memory_limiter;

use harrier_core::component::Registry;

/// Registers every processor of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_processor(batch::BatchFactory);
    registry.add_processor(correlate::CorrelateFactory);
    registry.add_processor(memory_limiter::MemoryLimiterFactory);
}

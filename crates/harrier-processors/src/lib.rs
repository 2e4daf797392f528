//! Harrier's processors, one module each.
//!
//! - [`memory_limiter`]: refuses new data (retryably) above a memory limit;
//! - [`batch`]: groups data into batches by size and time, splitting oversize ones;
//! - [`attributes`]: changes span, log record and data point attributes;
//! - [`resource`]: changes resource attributes;
//! - [`filter`]: drops spans, span events, log records, metrics and data points;
//! - [`correlate`]: links logs to traces (trace context from bodies, span enrichment);
//! - [`redaction`]: scrubs personal and secret data (PII) from every signal.
//!
//! [`matching`] holds the item view and matchers that `attributes` and `filter` share;
//! [`points`] reaches the data points of every metric type.

pub mod attributes;
pub mod batch;
pub mod correlate;
pub mod filter;
pub mod matching;
pub mod memory_limiter;
pub mod points;
pub mod redaction;
pub mod resource;
#[cfg(test)]
mod test_support;

use harrier_core::component::Registry;

/// Registers every processor of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_processor(batch::BatchFactory);
    registry.add_processor(memory_limiter::MemoryLimiterFactory);
    registry.add_processor(attributes::AttributesFactory);
    registry.add_processor(resource::ResourceFactory);
    registry.add_processor(filter::FilterFactory);
    registry.add_processor(correlate::CorrelateFactory);
    registry.add_processor(redaction::RedactionFactory);
}

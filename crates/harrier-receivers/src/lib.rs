//! Harrier's receivers, one module each, named after the protocol they speak.
//!
//! - [`otlp`]: OTLP over gRPC and HTTP (protobuf and JSON), all three signals.

pub mod otlp;

use harrier_core::component::Registry;

/// Registers every receiver of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_receiver(otlp::OtlpFactory);
}

//! Built-in extensions.

pub mod health_check;

use crate::component::Registry;

/// Registers every extension of this crate.
pub fn register_all(registry: &mut Registry) {
    registry.add_extension(health_check::HealthCheckFactory);
}

//! Tests of the crate's registration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use harrier_pdata::Signal;

#[test]
fn registers_every_exporter_under_its_names_and_aliases() {
    let mut registry = Registry::new();
    register_all(&mut registry);
    for (name, canonical) in [
        ("otlp", "otlp"),
        ("otlp_grpc", "otlp"),
        ("otlp_http", "otlp_http"),
        ("otlphttp", "otlp_http"),
        ("file", "file"),
        ("debug", "debug"),
        ("logging", "debug"),
        ("nop", "nop"),
    ] {
        let factory = registry.exporter(name).unwrap();
        assert_eq!(factory.type_name(), canonical);
        assert_eq!(factory.signals(), Signal::ALL);
        assert!(!factory.description().is_empty());
    }
}

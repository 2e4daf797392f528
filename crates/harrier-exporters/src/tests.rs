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
    let prometheus = registry.exporter("prometheus").unwrap();
    assert_eq!(prometheus.signals(), [Signal::Metrics]);
    for name in ["prometheus_remote_write", "prometheusremotewrite"] {
        let remote_write = registry.exporter(name).unwrap();
        assert_eq!(remote_write.type_name(), "prometheus_remote_write");
        assert_eq!(remote_write.signals(), [Signal::Metrics]);
    }
}

/// Every `[exporters...]` example in `docs/components/exporters.md` must validate.
#[test]
fn documented_examples_validate() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/components/exporters.md"
    );
    let Ok(doc) = std::fs::read_to_string(path) else {
        // The crate may be built outside its workspace.
        return;
    };
    let mut registry = Registry::new();
    register_all(&mut registry);
    let mut checked = 0;
    for block in doc.split("```toml\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let document: toml::Table = toml::from_str(block).unwrap();
        let Some(exporters) = document.get("exporters").and_then(|e| e.as_table()) else {
            continue;
        };
        for (id, section) in exporters {
            let type_name = id.split('/').next().unwrap();
            let factory = registry.exporter(type_name).unwrap();
            let (_, own) = harrier_core::topology::runner::RunnerConfig::split(section).unwrap();
            assert_eq!(factory.validate(&own), Ok(()), "example {id}");
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} examples found");
}
